"""Compare the scale suite of two versions of the code, run by turns on this machine.

A refactoring must not make anything slower: this runs ``benchmarks/run.py`` (every
operation in a process of its own, each the median of ``--repeat`` runs) on a checkout of
``--before`` (a git revision, checked out into a temporary worktree) and on this working
tree, alternating them ``--rounds`` times so that the machine's load falls on both alike,
and writes the mean of the rounds and the ratio, after ÷ before, to ``RESULTS.md``.

Usage::

    python benchmarks/compare.py --before 4969205 --sizes 1000 10000 --rounds 2
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.append import machine, write_results  # noqa: E402

RAW = REPO / "benchmarks" / "results" / "compare.json"
START, END = "<!-- compare:start -->", "<!-- compare:end -->"
ROW = re.compile(r"^\| ([\d,]+) \| ([^|]+?) \| ([\d,.]+) ?([^|]*?) \|")


def suite(checkout: Path, sizes: list[int], repeat: int, cache: Path) -> dict[str, float]:
    """``run.py --no-write`` of ``checkout``: ``{"SIZE | measure": value}``."""
    env = {**os.environ, "PYTHONPATH": str(checkout / "src"), "POLICYSPEECH_CACHE": str(cache)}
    done = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--sizes", *map(str, sizes), "--repeat",
         str(repeat), "--no-write"], cwd=checkout, env=env, capture_output=True, text=True,
        check=True)
    values = {}
    for line in done.stdout.splitlines():
        found = ROW.match(line)
        if found:
            size, measure, value, unit = found.groups()
            values[f"{size} | {measure.strip()} ({unit.strip() or 'value'})"] = float(
                value.replace(",", ""))
    if not values:
        raise SystemExit(f"no figures from {checkout}:\n{done.stdout[-2000:]}")
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="git revision to compare with")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory(prefix="policyspeech-compare-") as work:
        before = Path(work) / "before"
        subprocess.run(["git", "worktree", "add", "--detach", str(before), args.before],
                       cwd=REPO, check=True, capture_output=True)
        try:
            sources = REPO / "benchmarks" / "_work" / "sources"  # generated once, shared
            (before / "benchmarks" / "_work" / "sources").mkdir(parents=True, exist_ok=True)
            for source in sources.glob("*.jsonl"):
                os.link(source, before / "benchmarks" / "_work" / "sources" / source.name)
            for _ in range(args.rounds):
                for side, checkout in (("before", before), ("after", REPO)):
                    runs[side].append(suite(checkout, args.sizes, args.repeat,
                                            Path(work) / f"cache-{side}"))
                    print(f"{side}: {len(runs[side][-1])} figures", flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(before)], cwd=REPO,
                           check=False, capture_output=True)
    rows = []
    for key in runs["before"][0]:
        if all(key in run for run in runs["before"] + runs["after"]):
            old = statistics.mean(run[key] for run in runs["before"])
            new = statistics.mean(run[key] for run in runs["after"])
            rows.append((key, old, new))
    when = datetime.date.today().isoformat()
    RAW.parent.mkdir(parents=True, exist_ok=True)
    RAW.write_text(json.dumps({"date": when, "before": args.before, "runs": runs}, indent=1)
                   + "\n", encoding="utf-8")
    lines = [START, "## Before and after a change: the scale suite (`benchmarks/compare.py`)",
             "", f"Measured {when} on {machine()}. `benchmarks/run.py` at "
             f"{', '.join(f'{s:,}' for s in args.sizes)} speeches (medians of {args.repeat} "
             f"runs each), on revision `{args.before}` (before) and on this tree (after), "
             f"alternated {args.rounds} times; the mean of the rounds. Rates (MB/s) are "
             "better higher, everything else lower.", "",
             "| speeches | measure | before | after | after ÷ before |", "|---:|---|---:|---:|---:|"]
    for key, old, new in rows:
        size, measure = key.split(" | ", 1)
        lines.append(f"| {size} | {measure} | {old:,.4g} | {new:,.4g} | {new / old:.2f} |")
    lines.append(END)
    section = "\n".join(lines)
    print(section)
    if not args.no_write:
        write_results(section, START, END)


if __name__ == "__main__":
    main()
