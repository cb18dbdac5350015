"""Benchmark: ``export`` to each format, against hand-written polars and the old row path.

For synthetic corpora of ``--sizes`` speeches (5,000 and 20,000 by default, so that the
peak memory of the two shows whether it grows with the corpus; built with ``add_all``
from :mod:`benchmarks.synthetic`), it measures, each the median of ``--repeat`` runs:

- ``export_version`` to ``.csv``, ``.jsonl``, ``.parquet`` and a folder of ``.txt`` files;
- the baseline in the same run: a hand-written polars query over the same files
  (``pl.scan_parquet(files)``, lists joined, ``sink_csv``), which is what a
  careful user would write;
- the old path (until issue 13): ``read_arrow`` then Python rows through
  :func:`policyspeech.output.render_rows`;
- the peak memory (the process's VmHWM) of a process exporting the CSV, ours and the old path.

Results go to ``benchmarks/RESULTS.md`` (between the ``export`` markers) and
``benchmarks/results/export.json``.

Usage::

    python benchmarks/export.py                       # 5,000 and 20,000 speeches, 5 runs
    python benchmarks/export.py --sizes 2000 --repeat 3 --no-write  # a quick look
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.append import machine, write_results  # noqa: E402
from benchmarks.synthetic import speeches  # noqa: E402
from policyspeech.store import Corpus  # noqa: E402

RAW = REPO / "benchmarks" / "results" / "export.json"
START, END = "<!-- export:start -->", "<!-- export:end -->"
MEMORY_SCRIPT = """
import sys
from pathlib import Path
corpus, out, how = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
if how == "ours":
    from policyspeech.export import export_version
    export_version(corpus, out, version="head", verify=False)
else:
    from policyspeech.loaders import read_arrow
    from policyspeech.output import dates_at_precision, render_rows
    table = read_arrow(corpus, version="head")
    out.write_text(render_rows(dates_at_precision(table.to_pylist()), "csv") + "\\n")
status = Path("/proc/self/status").read_text().splitlines()
print(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
"""


def median_seconds(action: Callable[[], Any], repeat: int) -> float:
    action()  # a first run warms the caches and the libraries
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return round(statistics.median(samples), 4)


def old_csv(corpus: Path, out: Path) -> None:
    from policyspeech.loaders import read_arrow
    from policyspeech.output import dates_at_precision, render_rows

    table = read_arrow(corpus, version="head")
    out.write_text(render_rows(dates_at_precision(table.to_pylist()), "csv") + "\n",
                   encoding="utf-8")


def hand_written_csv(files: list[str], out: Path) -> None:
    import polars as pl

    frame = pl.scan_parquet(files)
    frame.with_columns(pl.col("themes", "keywords").list.join("; ")).sink_csv(out)


def peak_mb(corpus: Path, out: Path, how: str) -> float:
    done = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(corpus), str(out), how],
                          capture_output=True, text=True, check=True,
                          env={"PYTHONPATH": str(REPO / "src")})
    return round(int(done.stdout.strip()) / 1024, 1)


def run(size: int, repeat: int, work: Path) -> dict[str, Any]:
    from policyspeech.export import export_version

    corpus = Corpus.init(work / "corpus")
    for first in range(0, size, 10_000):
        corpus.add_all(speeches(min(10_000, size - first), start=first))
    files = [str(p) for p in corpus.fragment_paths("head")]
    text_mb = sum(Path(f).stat().st_size for f in files) / 2**20
    figures: dict[str, Any] = {"size": size, "parquet_mb": round(text_mb, 1)}
    out = work / "out"
    out.mkdir()
    for name in ("csv", "jsonl", "parquet"):
        figures[f"ours_{name}_s"] = median_seconds(
            lambda n=name: export_version(corpus.path, out / f"x.{n}", version="head",
                                          verify=False), repeat)
    counter = iter(range(repeat + 1))
    figures["ours_txt_folder_s"] = median_seconds(
        lambda: export_version(corpus.path, out / f"texts{next(counter)}", version="head",
                               verify=False), repeat)
    figures["ours_csv_verified_s"] = median_seconds(
        lambda: export_version(corpus.path, out / "v.csv", version="head"), repeat)
    figures["hand_written_polars_csv_s"] = median_seconds(
        lambda: hand_written_csv(files, out / "hand.csv"), repeat)
    figures["old_rows_csv_s"] = median_seconds(lambda: old_csv(corpus.path, out / "old.csv"),
                                               repeat)
    figures["ratio_ours_csv_to_hand_written"] = round(
        figures["ours_csv_s"] / figures["hand_written_polars_csv_s"], 2)
    figures["ratio_old_csv_to_ours"] = round(figures["old_rows_csv_s"] / figures["ours_csv_s"], 1)
    figures["peak_mb_ours_csv"] = peak_mb(corpus.path, out / "m1.csv", "ours")
    figures["peak_mb_old_csv"] = peak_mb(corpus.path, out / "m2.csv", "old")
    return figures


def render(figures: dict[str, Any], repeat: int) -> str:
    rows = [
        ("export to .csv", figures["ours_csv_s"], "s"),
        ("export to .csv, with the default verification", figures["ours_csv_verified_s"], "s"),
        ("export to .jsonl", figures["ours_jsonl_s"], "s"),
        ("export to .parquet", figures["ours_parquet_s"], "s"),
        ("export to a folder of .txt files + metadata.csv", figures["ours_txt_folder_s"], "s"),
        ("baseline: hand-written polars CSV (same files)", figures["hand_written_polars_csv_s"],
         "s"),
        ("before: read_arrow + Python rows (CSV)", figures["old_rows_csv_s"], "s"),
        ("ours ÷ hand-written polars (CSV)", figures["ratio_ours_csv_to_hand_written"], "×"),
        ("before ÷ ours (CSV)", figures["ratio_old_csv_to_ours"], "×"),
        ("peak memory, export to .csv (a process)", figures["peak_mb_ours_csv"], "MB"),
        ("peak memory, before (a process)", figures["peak_mb_old_csv"], "MB"),
    ]
    lines = [f"{figures['size']:,} synthetic speeches ({figures['parquet_mb']} MB of Parquet), "
             f"median of {repeat} runs each, verification off unless said:", "",
             "| measure | value |", "|---|---:|"]
    lines += [f"| {name} | {value:,} {unit} |" for name, value, unit in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5_000, 20_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    results = []
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as work:
            results.append(run(size, args.repeat, Path(work)))
    table = "\n\n".join(render(figures, args.repeat) for figures in results)
    print(table)
    if not args.no_write:
        RAW.write_text(json.dumps({"machine": machine(), "repeat": args.repeat,
                                   "results": results}, indent=2) + "\n")
        write_results(f"{START}\n## Export (`benchmarks/export.py`)\n\n{machine()}\n\n"
                      f"{table}\n{END}", START, END)


if __name__ == "__main__":
    main()
