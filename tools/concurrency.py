"""Concurrent writers: several processes adding speeches to one corpus at once.

``python tools/concurrency.py --processes 8 --adds 25`` starts the writers, waits, and
checks that every speech is present exactly once and that the log is contiguous; with
``--without-lock`` the writers skip the lock file, so that only put-if-absent publication
keeps them apart. Prints the figures as JSON (``benchmarks/results/concurrency.json``
with ``--record``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import policyspeech as ps  # noqa: E402
from policyspeech.store import Corpus  # noqa: E402
from tests.hooked import command  # noqa: E402
from tools.crash_harness import speech  # noqa: E402


def worker(corpus: str, number: str, adds: str) -> None:
    """Add ``adds`` speeches, one commit each; print the ids and the retries as JSON."""
    opened = Corpus(corpus)
    ids = [opened.add(speech(int(number) * 1_000 + n)) for n in range(int(adds))]
    print(json.dumps({"ids": ids, "retries": opened.retries}))


def run(processes: int, adds: int, work: Path, *, without_lock: bool = False) -> dict[str, Any]:
    """Start the writers at once and check the corpus they leave."""
    corpus = Corpus.init(work / "corpus")
    started = time.perf_counter()
    running = [subprocess.Popen(command(str(corpus.path), str(n), str(adds),
                                        call="tools.concurrency:worker",
                                        without_lock=without_lock),
                                cwd=REPO, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
               for n in range(processes)]
    results = [p.communicate() for p in running]
    seconds = time.perf_counter() - started
    errors = [err.strip() for (out, err), p in zip(results, running, strict=True)
              if p.returncode != 0]
    reported = [json.loads(out) for (out, _err), p in zip(results, running, strict=True)
                if p.returncode == 0]
    ids = [i for r in reported for i in r["ids"]]
    frame = ps.read(corpus.path, columns=["id", "text_sha256"])
    counts = Counter(frame["text_sha256"].to_list())
    entries = sorted(p.name for p in (corpus.path / "log").glob("*.json"))
    return {
        "processes": processes,
        "adds_each": adds,
        "lock": not without_lock,
        "seconds": round(seconds, 2),
        "errors": errors,
        "reported_ids": len(ids),
        "records": frame.height,
        "duplicates": sum(n - 1 for n in counts.values() if n > 1),
        "lost": len(set(ids) - set(frame["id"].to_list())),
        "retries": sum(r["retries"] for r in reported),
        "log_contiguous": entries == [f"{n:08d}.json" for n in range(len(entries))],
        "log_entries": len(entries),
        "add_entries": sum(json.loads((corpus.path / "log" / e).read_bytes())["operation"]
                           == "add" for e in entries),
        "verify_problems": Corpus(corpus.path).verify(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--adds", type=int, default=25)
    parser.add_argument("--without-lock", action="store_true")
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="policyspeech-concurrency-") as work:
        figures = run(args.processes, args.adds, Path(work), without_lock=args.without_lock)
    print(json.dumps(figures, indent=2))
    if args.record:
        out = REPO / "benchmarks" / "results" / (
            "concurrency-without-lock.json" if args.without_lock else "concurrency.json")
        out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
