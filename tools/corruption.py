"""Corruption trials: flip random bytes in random files of a corpus and check the evidence.

Each trial damages one file that the corpus relies on (a fragment of the head or of a
release, a log entry, a release manifest, or the dataset card) by flipping 1 to 4 random
bytes, then checks that ``verify`` reports a problem naming that file, that
``read(version, verify=True)`` of an affected version raises ``IntegrityError``, and that a
plain read of a damaged fragment raises or returns exactly the original records (Parquet
page checksums), never silently wrong text. The file is restored after each trial.

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
