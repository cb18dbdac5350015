"""Benchmark: the cost of adding one speech as the corpus grows.

For synthetic corpora of 1,000, 10,000 and 100,000 speeches (built with ``add_all`` in
commits of 10,000, from :mod:`benchmarks.synthetic`), it measures:

- one ``Corpus.add`` in-process on an open corpus (the steady state of a script or notebook
  that adds speeches one after another);
- one ``Corpus.add`` on a freshly opened ``Corpus`` (starts from the writer's cached head
  index, :mod:`policyspeech.headindex`, and reads the log entries published since), and
  its ratio between the largest and the smallest size (target at most 1.5×);
- rewriting the head index of the whole corpus (what a writer pays, now and then, when
  the changes since the index have grown past :data:`policyspeech.headsave.DELTA_CHANGES`
  keys; until then it writes a small delta);
- one ``policyspeech add`` as a whole process, and ``policyspeech --help``;
- baselines in the same run: writing the one record as a new Parquet file with
  ``pq.write_table`` (the floor), and the naive append that rewrites the whole corpus file.

Each figure is the median of several runs. Results go to ``benchmarks/RESULTS.md`` (the
section between the ``append`` markers) and ``benchmarks/results/append.json``.

Usage::

    python benchmarks/append.py                      # 1,000, 10,000 and 100,000
    python benchmarks/append.py --sizes 1000 --repeat 5 --no-write   # a quick look
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
import yaml  # noqa: E402

from benchmarks.synthetic import speeches  # noqa: E402
from policyspeech import headsave  # noqa: E402
from policyspeech.fragments import records_to_table  # noqa: E402
from policyspeech.store import Corpus  # noqa: E402
from policyspeech.validate import validate_speech  # noqa: E402

CHUNK = 10_000
RESULTS = REPO / "benchmarks" / "RESULTS.md"
RAW = REPO / "benchmarks" / "results" / "append.json"
START, END = "<!-- append:start -->", "<!-- append:end -->"


def timed(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def cli_command() -> list[str]:
    script = Path(sys.executable).with_name("policyspeech")
    return [str(script)] if script.exists() else [sys.executable, "-m", "policyspeech"]


def build(folder: Path, size: int) -> tuple[Corpus, float]:
    corpus = Corpus.init(folder)
    started = time.perf_counter()
    for start in range(0, size, CHUNK):
        count = min(CHUNK, size - start)
        corpus.add_all(speeches(count, seed=1, start=start), message=f"synthetic {start}")
    elapsed = time.perf_counter() - started
    os.sync()  # flush the bulk write, so that it does not slow the fsyncs measured next
    return corpus, elapsed


def measure(sizes: list[int], repeat: int, work: Path) -> list[dict[str, Any]]:
    """Build every corpus first, then interleave the measured adds across sizes, so that
    drift in the machine's speed touches every size alike."""
    folders = {size: work / f"corpus-{size}" for size in sizes}
    results = {size: {"size": size} for size in sizes}
    for size in sizes:
        _, seconds = build(folders[size], size)
        results[size]["build_seconds"] = round(seconds, 1)
        results[size]["parquet_mb"] = round(
            sum(p.stat().st_size for p in (folders[size] / "data").iterdir()) / 1e6, 1)
    fresh = {size: speeches(10 * repeat, seed=1, start=size + 1_000_000) for size in sizes}
    open_corpora = {size: Corpus(folders[size]) for size in sizes}
    for corpus in open_corpora.values():
        corpus.head()
    record = validate_speech(next(fresh[sizes[0]]))
    record["id"] = "baseline-record"
    single = records_to_table([record])
    samples: dict[str, dict[int, list[float]]] = {
        name: {size: [] for size in sizes} for name in ("steady", "cold", "cli", "floor")}
    for n in range(repeat):
        for size in sizes:
            speech = next(fresh[size])
            samples["steady"][size].append(timed(lambda c=open_corpora[size], s=speech: c.add(s)))
            speech = next(fresh[size])
            samples["cold"][size].append(timed(lambda f=folders[size], s=speech: Corpus(f).add(s)))
            target = work / f"floor-{size}-{n}.parquet"
            samples["floor"][size].append(timed(lambda t=target: pq.write_table(
                single, t, compression="zstd", write_page_checksum=True)))
    cli_runs = max(5, repeat // 3)
    for n in range(cli_runs):
        for size in sizes:
            speech = next(fresh[size])
            path = work / f"cli-{size}-{n}.txt"
            path.write_text(speech.pop("text"), encoding="utf-8")
            Path(f"{path}.yaml").write_text(yaml.safe_dump(speech), encoding="utf-8")
            samples["cli"][size].append(timed(lambda f=folders[size], p=path: subprocess.run(
                [*cli_command(), "--corpus", str(f), "add", str(p)],
                check=True, capture_output=True)))
    for size in sizes:
        whole = work / f"whole-{size}.parquet"
        pq.write_table(pa.concat_tables(pq.read_table(p) for p in open_corpora[size]
                                        .fragment_paths()), whole,
                       compression="zstd", row_group_size=1_000)

        def naive_append(whole: Path = whole) -> None:
            table = pa.concat_tables([pq.read_table(whole), single])
            pq.write_table(table, whole, compression="zstd", row_group_size=1_000)

        rewrite = [timed(naive_append) for _ in range(3)]
        whole.unlink()
        index = work / f"index-{size}"
        index_rewrite = [timed(lambda f=folders[size], i=index: headsave.write_index(
            i, Corpus(f).head(), stamp=None)) for _ in range(3)]
        index_mb = round(index.stat().st_size / 1e6, 1)
        index.unlink()
        shutil.rmtree(folders[size])
        results[size].update({
            "add_in_process_ms": median_ms(samples["steady"][size]),
            "add_fresh_corpus_ms": median_ms(samples["cold"][size]),
            "cli_add_ms": median_ms(samples["cli"][size]),
            "raw_write_one_record_ms": median_ms(samples["floor"][size]),
            "naive_rewrite_ms": median_ms(rewrite),
            "head_index_rewrite_ms": median_ms(index_rewrite),
            "head_index_mb": index_mb,
            "runs": {"in_process": repeat, "fresh": repeat, "cli": cli_runs, "rewrite": 3},
        })
    return [results[size] for size in sizes]


def measure_help(repeat: int) -> float:
    subprocess.run([*cli_command(), "--help"], check=True, capture_output=True)
    return median_ms([timed(lambda: subprocess.run([*cli_command(), "--help"], check=True,
                                                  capture_output=True)) for _ in range(repeat)])


def machine() -> str:
    cpu = "unknown CPU"
    if Path("/proc/cpuinfo").exists():
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    libraries = ", ".join(f"{name} {version(name)}" for name in ("pyarrow", "polars", "datasets"))
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{platform.system()}; {libraries}")


def render(results: list[dict[str, Any]], help_ms: float, when: str) -> str:
    rows = "\n".join(
        f"| {r['size']:,} | {r['parquet_mb']:,} | {r['add_in_process_ms']} | "
        f"{r['add_fresh_corpus_ms']} | {r['cli_add_ms']} | {r['raw_write_one_record_ms']} | "
        f"{r['naive_rewrite_ms']:,} | {r['naive_rewrite_ms'] / r['add_in_process_ms']:,.0f}× |"
        for r in results
    )
    first, last = results[0], results[-1]
    ratio = last["add_in_process_ms"] / first["add_in_process_ms"]
    fresh = last["add_fresh_corpus_ms"] / first["add_fresh_corpus_ms"]
    index = ", ".join(f"{r['head_index_rewrite_ms']:,} ms at {r['size']:,} ({r['head_index_mb']} MB)"
                      for r in results)
    return f"""{START}
## Append: adding one speech (`benchmarks/append.py`)

Measured {when} on {machine()}.
Medians of {first['runs']['in_process']} adds in-process, {first['runs']['cli']} CLI adds and
3 naive rewrites per size, the adds interleaved across sizes; times in milliseconds.
Synthetic corpora of 500–5,000-word speeches built with `add_all` in commits of 10,000.

| speeches | Parquet MB | add, open corpus | add, fresh `Corpus` | `policyspeech add` (process) | baseline: `pq.write_table` of the record | baseline: naive rewrite | rewrite ÷ add |
|---:|---:|---:|---:|---:|---:|---:|---:|
{rows}

- One add in-process, {last['size']:,} ÷ {first['size']:,} speeches: **{ratio:.2f}×**
  (target at most 1.5×; target at most 10 ms at every size).
- One add on a fresh `Corpus`, {last['size']:,} ÷ {first['size']:,} speeches: **{fresh:.2f}×**
  (target at most 1.5×).
- `policyspeech --help` as a whole process: **{help_ms} ms** (target under 300 ms).
- "add, fresh `Corpus`" opens the corpus from the writer's cached head index (ids, keys and
  text hashes in sorted tables that a lookup reads a few checked pages of, without parsing
  the file; `policyspeech.headindex`) and applies the log entries published since; the
  CLI pays the same plus interpreter start-up and imports. The index is rewritten whole
  only after many changed keys (until then a small delta is written beside it), which
  costs, medians of 3: {index}.
{END}"""


def write_results(section: str, start: str = START, end: str = END) -> None:
    """Replace the section between ``start`` and ``end`` in RESULTS.md (or append it)."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    if start in text:
        before, rest = text.split(start, 1)
        text = before + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    when = datetime.date.today().isoformat()
    with tempfile.TemporaryDirectory(prefix="policyspeech-bench-") as work:
        results = measure(args.sizes, args.repeat, Path(work))
    for result in results:
        print(json.dumps(result), flush=True)
    help_ms = measure_help(args.repeat)
    print(f"--help: {help_ms} ms")
    section = render(results, help_ms, when)
    print(section)
    if not args.no_write:
        write_results(section)
        RAW.parent.mkdir(parents=True, exist_ok=True)
        RAW.write_text(json.dumps({"date": when, "machine": machine(), "help_ms": help_ms,
                                   "results": results}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
