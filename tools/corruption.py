"""Damage trials: break a corpus as disks, users and attackers do, and check the evidence.

Each trial flips bytes in a fragment of the store, log entry, manifest, the card or a
cache file; deletes or swaps log entries or manifests; deletes a superseded fragment from
the store; damages a version folder (a file deleted, added, or replaced by a damaged
copy); or edits a cache so that it still parses. It
checks that ``verify`` names the damage, that no read serves a wrong record, that
``repair`` never hides a loss, and that no write goes over a damaged newest entry
(:mod:`tests.harness.corruption`). Every file is restored after each trial.

    python tools/corruption.py --trials 1000 --record
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.harness.corruption import run  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="policyspeech-corruption-") as work:
        figures = run(args.trials, Path(work), args.seed)
    print(json.dumps(figures, indent=2))
    if args.record:
        out = REPO / "benchmarks" / "results" / "corruption.json"
        out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
