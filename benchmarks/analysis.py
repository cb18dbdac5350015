"""Benchmark: the comparison functions on a synthetic corpus of 100,000 speeches.

Times ``stats`` (by speaker; by country and year), ``kwic`` (a word of middling
frequency), ``compare`` (two countries, every token of their speeches counted) and
``trends`` (per country), each the median of several runs, next to a baseline measured in
the same run: ``pl.read_parquet`` of the columns each one needs. Writes its section of
``benchmarks/RESULTS.md`` and ``benchmarks/results/analysis.json``.

    python benchmarks/analysis.py                  # 100,000 speeches
    python benchmarks/analysis.py --size 10000 --repeat 3 --no-write
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import polars as pl  # noqa: E402

from benchmarks.append import build, machine, write_results  # noqa: E402
from policyspeech import analysis  # noqa: E402
from policyspeech.store import Corpus  # noqa: E402

START, END = "<!-- analysis:start -->", "<!-- analysis:end -->"


def median_seconds(action: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    samples, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = action()
        samples.append(time.perf_counter() - started)
    return round(statistics.median(samples), 3), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="policyspeech-analysis-") as work:
        corpus, build_seconds = build(Path(work) / "corpus", args.size)
        folder = corpus.path
        paths = [str(p) for p in Corpus(folder).fragment_paths()]
        raw = lambda columns: lambda: pl.read_parquet(paths, columns=columns)  # noqa: E731
        cases = {
            "stats by speaker": (lambda: analysis.stats(folder, by="speaker"),
                                 raw(["speaker", "date", "word_count"])),
            "stats by country and year": (lambda: analysis.stats(folder, by=["country", "year"]),
                                          raw(["country", "date", "word_count"])),
            "kwic of a word (every hit)": (lambda: analysis.kwic("ansuwi", folder, window=5),
                                           raw(["id", "speaker", "date", "text"])),
            "compare two countries": (
                lambda: analysis.compare(folder, a="country=GB", b="country=DE", min_count=10),
                raw(["country", "date", "text"])),
            "trends per country": (lambda: analysis.trends(folder, by="country"),
                                   raw(["country", "date", "word_count", "themes"])),
        }
        results = []
        for name, (action, baseline) in cases.items():
            base_seconds, _ = median_seconds(baseline, args.repeat)
            seconds, output = median_seconds(action, args.repeat)
            results.append({"case": name, "seconds": seconds, "rows": output.height,
                            "baseline_read_seconds": base_seconds,
                            "ratio": round(seconds / base_seconds, 2)})
            print(json.dumps(results[-1]), flush=True)
    rows = "\n".join(f"| {r['case']} | {r['seconds']} | {r['rows']:,} | "
                     f"{r['baseline_read_seconds']} | {r['ratio']}× |" for r in results)
    section = f"""{START}
## Comparison: stats, kwic, compare, trends (`benchmarks/analysis.py`)

Measured {datetime.date.today().isoformat()} on {machine()}, on a synthetic corpus of
{args.size:,} speeches (500–5,000 words each, built in {build_seconds:.0f} s). Medians of
{args.repeat} runs, in seconds; the baseline is `pl.read_parquet` of the columns the
function needs, in the same run. `compare` tokenises every speech of the selection (its
counts are the prior), here about 275 million tokens; `kwic` cuts out every hit.

| function | seconds | rows out | baseline: read the columns | ratio |
|---|---:|---:|---:|---:|
{rows}
{END}"""
    print(section)
    if not args.no_write:
        write_results(section, START, END)
        out = REPO / "benchmarks" / "results" / "analysis.json"
        out.write_text(json.dumps({"size": args.size, "machine": machine(),
                                   "results": results}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
