"""Concurrency harness: several processes adding speeches to one corpus at once.

:func:`run` starts the writers (:mod:`tests.hooked`, with or without the lock file),
waits, and checks that every speech is present exactly once and that the log is
contiguous. ``python tools/concurrency.py --processes 8 --adds 25`` runs it at full size;
``tests/test_concurrency.py`` at a bounded one.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import policyspeech as ps
from policyspeech.store import Corpus
from tests.harness.crash import speech
from tests.hooked import REPO, command


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
                                        call="tests.harness.concurrency:worker",
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
    files = {p.name: p for p in corpus.path.glob("log/*/*.json")}
    entries = sorted(files)
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
        "add_entries": sum(json.loads(files[e].read_bytes())["operation"] == "add"
                           for e in entries),
        "verify_problems": Corpus(corpus.path).verify(),
    }

