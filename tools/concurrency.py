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
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.harness.concurrency import run  # noqa: E402


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
