"""Run the crash harness at full size and record its figures.

Writers (add, import, parallel import, release, and an add that first migrates a corpus
moved back to the legacy layout) are stopped at every crash point of the commit protocol,
the version folders' sync and the migration, or killed at a random instant
(:mod:`tests.harness.crash`).

Usage::

    python tools/crash_trials.py                 # 1,000 trials
    python tools/crash_trials.py --trials 100    # a quicker look

Writes ``benchmarks/results/crash.json``; RELIABILITY.md quotes it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.harness.crash import run_trials  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="policyspeech-crash-") as work:
        figures = run_trials(args.trials, Path(work), seed=args.seed)
    figures["seconds"] = round(time.perf_counter() - started, 1)
    figures["date"] = datetime.date.today().isoformat()
    out = REPO / "benchmarks" / "results" / "crash.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in figures.items() if k != "violations"}, indent=2))
    print(f"violations: {len(figures['violations'])}")
    for line in figures["violations"][:50]:
        print("  " + line)
    sys.exit(1 if figures["violations"] else 0)


if __name__ == "__main__":
    main()
