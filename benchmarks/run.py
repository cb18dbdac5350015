"""The scale benchmark suite: one entry point for every figure of issue 5.

For synthetic corpora of 1,000, 10,000 and 100,000 speeches (:mod:`benchmarks.synthetic`:
Zipf vocabulary, 500–5,000 words, accented and decomposed characters, paragraphs; the
JSON-lines sources are generated once and kept in the work folder) it measures, each as
the median of ``--repeat`` runs (at least 3) with its baseline measured in the same run:

- import (``Corpus.import_path`` of the JSON lines), MB/s of text, against a raw
  ``pq.write_table`` of the same records already in memory;
- full reads with ``ps.read`` and ``ps.read_arrow``, against ``pl.read_parquet`` and
  ``pq.read_table`` of the same files;
- filtered reads (speaker and date, country, theme without the text) against a full read;
- the small-files overhead: a head of 49 fragments (just under the automatic compaction
  threshold) against the same records compacted;
- ``ps.load_dataset`` first load, cached load, and load after appending one speech and
  releasing, against plain ``datasets.load_dataset("parquet")`` of the same files;
- ``verify`` (MB/s of Parquet) and the release fingerprint;
- adding one speech, in-process and as a ``policyspeech add`` process;

and the peak memory of each (every operation runs in a process of its own,
:mod:`benchmarks.worker`). Each figure is compared with its target; every run also makes
correctness checks (the same rows, the same texts, clean ``verify``...), which CI runs
in quick mode on a small corpus (not its timings).

Usage::

    python benchmarks/run.py                   # 1,000, 10,000 and 100,000; RESULTS.md
    python benchmarks/run.py --quick           # 1,000 speeches, in under 2 minutes
    python benchmarks/run.py --sizes 10000 --repeat 5 --no-write
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.append import cli_command, machine, write_results  # noqa: E402
from benchmarks.synthetic import speeches, write_jsonl  # noqa: E402

WORKER = REPO / "benchmarks" / "worker.py"
WORK = REPO / "benchmarks" / "_work"
RAW = REPO / "benchmarks" / "results" / "scale.json"
START, END = "<!-- scale:start -->", "<!-- scale:end -->"
SEED = 1
TARGET_SIZE = 100_000
"""The issue's targets hold at this size; smaller sizes show them for reference only."""
SMALL_FILES = 49
"""Fragments of the small-files head: just under the automatic compaction threshold."""
SMALL_FILES_MAX_SPEECHES = 9_000
"""...and under its 64 MB of small fragments."""


class Suite:
    """Runs the measurements of one size and keeps figures and checks."""

    def __init__(self, size: int, repeat: int, work: Path) -> None:
        self.size, self.repeat, self.work = size, repeat, work
        self.figures: list[dict[str, Any]] = []
        self.checks: list[dict[str, Any]] = []
        self.folder = work / f"size-{size}"
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.source = source_file(work, size)
        self.corpus = self.folder / "corpus"

    def worker(self, operation: str, **arguments: Any) -> dict[str, Any]:
        done = subprocess.run([sys.executable, str(WORKER), operation, json.dumps(arguments)],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{operation} failed:\n{done.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        result["memory_mb"] = round(result["peak_mb"] - result["baseline_mb"], 1)
        return result

    def runs(self, operation: str, processes: int | None = None, **arguments: Any
             ) -> tuple[float, dict[str, Any]]:
        """Median seconds over the runs of ``processes`` fresh processes (default: one per
        repetition, each running the operation ``times`` times; the largest memory kept)."""
        arguments.setdefault("times", 1)
        results = [self.worker(operation, **arguments)
                   for _ in range(processes or self.repeat)]
        last = results[-1]
        last["memory_mb"] = max(r["memory_mb"] for r in results)
        last["children_peak_mb"] = max(r["children_peak_mb"] for r in results)
        return statistics.median(s for r in results for s in r["seconds"]), last

    def figure(self, name: str, value: float, unit: str, *, baseline: float | None = None,
               baseline_name: str = "", target: str = "", met: bool | None = None,
               memory_mb: float | None = None, note: str = "") -> None:
        ratio = value / baseline if baseline else None
        self.figures.append({
            "size": self.size, "name": name, "value": round(value, 4), "unit": unit,
            "baseline": None if baseline is None else round(baseline, 4),
            "baseline_name": baseline_name, "ratio": None if ratio is None else round(ratio, 3),
            "target": target, "met": met, "memory_mb": memory_mb, "note": note})
        shown = f"{value:,.3f} {unit}" + (f" (baseline {baseline:,.3f}, ×{ratio:.2f})"
                                          if ratio is not None else "")
        print(f"  {name}: {shown}{'' if met is None else ' met' if met else ' MISSED'}",
              flush=True)

    def check(self, name: str, ok: bool, detail: str = "") -> None:
        self.checks.append({"size": self.size, "name": name, "ok": bool(ok), "detail": detail})
        if not ok:
            print(f"  CHECK FAILED: {name} {detail}", flush=True)

    # -- the measurements -------------------------------------------------------------

    def measure(self) -> None:
        text_mb = self.measure_import()
        paths = self.paths("head")
        self.measure_reads(paths, text_mb)
        self.measure_queries(paths)
        self.measure_small_files()
        self.measure_release_and_verify()
        self.measure_load_dataset()
        self.measure_add()

    def measure_import(self) -> float:
        seconds, speeds, last = [], [], {}
        for n in range(self.repeat):
            target = self.folder / f"import-{n}"
            last = self.worker("import", corpus=str(target), source=str(self.source))
            seconds.append(last["seconds"][0])
            speeds.append(last["text_bytes"] / 1e6 / last["seconds"][0])
            if n < self.repeat - 1:
                shutil.rmtree(target)
        (self.folder / f"import-{self.repeat - 1}").rename(self.corpus)
        text_mb = last["text_bytes"] / 1e6
        self.check("import: every record in the head", last["rows"] == self.size,
                   f"{last['rows']} rows")
        floor_seconds, floor = self.runs("write_table", source=str(self.source),
                                         target=str(self.folder / "floor.parquet"))
        rate = statistics.median(speeds)
        self.figure("import (MB/s of text)", rate, "MB/s",
                    baseline=floor["text_bytes"] / 1e6 / floor_seconds,
                    baseline_name="pq.write_table of the records", target="≥ 50 MB/s",
                    met=rate >= 50, memory_mb=last["memory_mb"],
                    note=f"{last['fragments']} fragment{'s' if last['fragments'] > 1 else ''}"
                         + (f"; worker processes' peak {last['children_peak_mb']:.0f} MB each"
                            if last["children_peak_mb"] > 1 else "; checked in this process"))
        return text_mb

    def paths(self, version: str) -> list[str]:
        from policyspeech.store import Corpus

        return [str(p) for p in Corpus(self.corpus).fragment_paths(version)]

    def measure_reads(self, paths: list[str], text_mb: float) -> None:
        results = {}
        for reader in ("pq.read_table", "pl.read_parquet", "ps.read_arrow", "ps.read"):
            results[reader] = self.runs("read", processes=1, corpus=str(self.corpus),
                                        paths=paths, reader=reader, times=self.repeat)
        digests = {r: v[1]["digest"] for r, v in results.items()}
        self.check("full reads: the same texts by every reader", len(set(digests.values())) == 1)
        polars_s, pyarrow_s = results["pl.read_parquet"][0], results["pq.read_table"][0]
        read_s, read = results["ps.read"]
        self.figure("ps.read, full", read_s, "s", baseline=polars_s,
                    baseline_name="pl.read_parquet", target="≤ 1.2× pl.read_parquet",
                    met=read_s <= 1.2 * polars_s, memory_mb=read["memory_mb"])
        arrow_s, arrow = results["ps.read_arrow"]
        self.figure("ps.read_arrow, full", arrow_s, "s", baseline=pyarrow_s,
                    baseline_name="pq.read_table", memory_mb=arrow["memory_mb"])
        self.figure("peak memory of ps.read ÷ text size", read["memory_mb"] / text_mb, "×",
                    target="≤ 2×", met=read["memory_mb"] <= 2 * text_mb,
                    memory_mb=read["memory_mb"], note=f"text {text_mb:,.0f} MB")
        self.full_read = read_s

    def measure_queries(self, paths: list[str]) -> None:
        for query in ("speaker+date", "country", "theme, no text"):
            seconds, result = self.runs("query", processes=1, corpus=str(self.corpus),
                                        query=query, times=self.repeat)
            expected = self.worker("expected_query", paths=paths, query=query)
            self.check(f"query {query}: the rows polars finds by hand",
                       (result["rows"], result["ids"]) == (expected["rows"], expected["ids"]),
                       f"{result['rows']} vs {expected['rows']} rows")
            target = {"speaker+date": "≤ 100 ms", "theme, no text": "≤ 100 ms"}.get(query, "")
            self.figure(f"query: {query}", seconds * 1000, "ms",
                        baseline=self.full_read * 1000, baseline_name="ps.read, full",
                        target=target, met=seconds <= 0.1 if target else None,
                        memory_mb=result["memory_mb"],
                        note=f"{result['rows']:,} rows; median of {self.repeat} in one "
                             "process")

    def measure_small_files(self) -> None:
        """A head of 99 small fragments against the same records compacted into one."""
        from policyspeech.store import Corpus

        count = min(self.size, SMALL_FILES_MAX_SPEECHES)
        folder = self.folder / "small-files"
        corpus = Corpus.init(folder)
        batch = max(1, count // SMALL_FILES)
        records = list(speeches(count, seed=SEED))
        for start in range(0, count, batch):
            corpus.add_all(records[start:start + batch])
        fragments = len(corpus.head().fragments)
        small_s, small = self.runs("read", processes=1, corpus=str(folder),
                                   paths=self.paths_of(folder), reader="ps.read",
                                   times=self.repeat)
        corpus.compact()
        compact_s, compacted = self.runs("read", processes=1, corpus=str(folder),
                                         paths=self.paths_of(folder), reader="ps.read",
                                         times=self.repeat)
        self.check("small files: the same texts before and after compaction",
                   small["digest"] == compacted["digest"])
        self.figure("small-files head, full ps.read", small_s, "s", baseline=compact_s,
                    baseline_name="the same records compacted", target="≤ 1.3×",
                    met=small_s <= 1.3 * compact_s, memory_mb=small["memory_mb"],
                    note=f"{count:,} speeches in {fragments} fragments")
        shutil.rmtree(folder)

    @staticmethod
    def paths_of(folder: Path) -> list[str]:
        from policyspeech.store import Corpus

        return [str(p) for p in Corpus(folder).fragment_paths()]

    def measure_release_and_verify(self) -> None:
        from policyspeech.store import Corpus

        started = time.perf_counter()
        Corpus(self.corpus).release("major", notes="benchmark")
        release_s = time.perf_counter() - started
        self.figure("release (compaction, manifest, fingerprint, files)", release_s, "s",
                    note="one run")
        parquet_mb = sum(Path(p).stat().st_size for p in self.paths("latest")) / 1e6
        verify_s, verified = self.runs("verify", processes=1, corpus=str(self.corpus),
                                       times=self.repeat)
        self.check("verify: no problems", verified["problems"] == [],
                   "; ".join(verified["problems"][:3]))
        self.figure("verify (MB/s of Parquet)", parquet_mb / verify_s, "MB/s",
                    target="≥ 500 MB/s", met=parquet_mb / verify_s >= 500,
                    memory_mb=verified["memory_mb"], note=f"{parquet_mb:,.0f} MB")
        fingerprint_s, fingerprint = self.runs("fingerprint", processes=1,
                                               corpus=str(self.corpus), times=self.repeat)
        self.check("fingerprint: equals the manifest's",
                   fingerprint["fingerprint"] == fingerprint["manifest"])
        self.figure("fingerprint", fingerprint_s, "s", target="≤ 3 s",
                    met=fingerprint_s <= 3, memory_mb=fingerprint["memory_mb"],
                    note=f"{parquet_mb / fingerprint_s:,.0f} MB/s of Parquet")

    def measure_load_dataset(self) -> None:
        paths = self.paths("latest")
        first, cached, plain_first, plain_cached, after, plain_after = [], [], [], [], [], []
        memory, rows_ok = 0.0, True
        for n in range(self.repeat):
            paths = self.paths("latest")
            cache = self.folder / f"cache-{n}"
            run = self.worker("load_dataset", how="policyspeech", corpus=str(self.corpus),
                              version="latest", cache=str(cache))
            first.append(run["seconds"][0])
            memory = max(memory, run["memory_mb"])
            again = self.worker("load_dataset", how="policyspeech", corpus=str(self.corpus),
                                version="latest", cache=str(cache))
            cached.append(again["seconds"][0])
            plain = self.worker("load_dataset", how="datasets", paths=paths,
                                cache=str(self.folder / f"hf-{n}"))
            plain_first.append(plain["seconds"][0])
            plain_again = self.worker("load_dataset", how="datasets", paths=paths,
                                      cache=str(self.folder / f"hf-{n}"))
            plain_cached.append(plain_again["seconds"][0])
            rows_ok &= run["rows"] == again["rows"] == plain["rows"] == self.size + n
            rows_ok &= run["digest"] == again["digest"] == plain["digest"]
            # one more speech, a new release; then both loaders load the new version
            from policyspeech.store import Corpus

            corpus = Corpus(self.corpus)
            corpus.add(next(speeches(1, seed=3, start=n)))
            corpus.release()
            new = self.worker("load_dataset", how="policyspeech", corpus=str(self.corpus),
                              version="latest", cache=str(cache))
            after.append(new["seconds"][0])
            plain_new = self.worker("load_dataset", how="datasets",
                                    paths=self.paths("latest"),
                                    cache=str(self.folder / f"hf-{n}"))
            plain_after.append(plain_new["seconds"][0])
            rows_ok &= new["rows"] == plain_new["rows"] == self.size + n + 1
            shutil.rmtree(cache)
            shutil.rmtree(self.folder / f"hf-{n}")
        self.check("load_dataset: every row, the same texts as plain datasets", rows_ok)
        pyarrow_s = self.runs("read", processes=1, corpus=str(self.corpus), paths=paths,
                              reader="pq.read_table", times=self.repeat)[0]
        median = statistics.median
        self.figure("ps.load_dataset, first load", median(first), "s", baseline=pyarrow_s,
                    baseline_name="pq.read_table", target="≤ 1.5× pq.read_table",
                    met=median(first) <= 1.5 * pyarrow_s, memory_mb=memory,
                    note=f"plain datasets first load {median(plain_first):.3f} s")
        self.figure("ps.load_dataset, cached", median(cached), "s",
                    baseline=median(plain_cached), baseline_name="datasets, cached")
        self.figure("ps.load_dataset after one append and release", median(after), "s",
                    baseline=median(plain_after),
                    baseline_name="datasets, new files (rebuilds its cache)",
                    target="≤ 0.5 s", met=median(after) <= 0.5)
        self.figure("plain datasets.load_dataset, first load", median(plain_first), "s",
                    baseline=pyarrow_s, baseline_name="pq.read_table")

    def measure_add(self) -> None:
        times = max(11, self.repeat)
        result = self.worker("add", corpus=str(self.corpus), times=times, start=10_000_000)
        in_process = statistics.median(result["seconds"])
        self.check("add: every speech counted", result["rows"] == self.size + self.repeat + times)
        self.figure("add one speech, in-process", in_process * 1000, "ms", target="≤ 10 ms",
                    met=in_process <= 0.010, memory_mb=result["memory_mb"],
                    note=f"median of {times}")
        cli = []
        for n in range(self.repeat):
            speech = next(speeches(1, seed=4, start=n))
            text = self.folder / f"cli-{n}.txt"
            text.write_text(speech.pop("text"), encoding="utf-8")
            Path(f"{text}.yaml").write_text(json.dumps(speech), encoding="utf-8")
            started = time.perf_counter()
            subprocess.run([*cli_command(), "--corpus", str(self.corpus), "add", str(text)],
                           check=True, capture_output=True)
            cli.append(time.perf_counter() - started)
        self.figure("policyspeech add (a whole process)", statistics.median(cli) * 1000, "ms",
                    target="< 1,000 ms", met=statistics.median(cli) < 1.0)


def source_file(work: Path, size: int) -> Path:
    """The JSON-lines source of ``size`` speeches (generated once, then reused)."""
    path = work / "sources" / f"speeches-{SEED}-{size}.jsonl"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        write_jsonl(path, size, seed=SEED)
        print(f"generated {path.name} in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def run_suite(sizes: list[int], repeat: int, work: Path) -> dict[str, Any]:
    figures, checks = [], []
    for size in sizes:
        print(f"== {size:,} speeches", flush=True)
        suite = Suite(size, repeat, work)
        suite.measure()
        figures += suite.figures
        checks += suite.checks
        shutil.rmtree(suite.folder)
    return {"date": datetime.date.today().isoformat(), "machine": machine(),
            "repeat": repeat, "sizes": sizes, "figures": figures, "checks": checks}


def render(results: dict[str, Any]) -> str:
    def number(value: float | None) -> str:
        if value is None:
            return ""
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"

    rows = []
    for f in results["figures"]:
        met = "" if f["met"] is None else "met" if f["met"] else "**missed**"
        if f["size"] != TARGET_SIZE and f["target"]:
            met = f"(at {TARGET_SIZE:,})"
        baseline = (f"{number(f['baseline'])} ({f['baseline_name']})"
                    if f["baseline"] is not None else "")
        ratio = f"{f['ratio']:.2f}×" if f["ratio"] is not None else ""
        memory = number(f["memory_mb"]) if f["memory_mb"] is not None else ""
        rows.append(f"| {f['size']:,} | {f['name']} | {number(f['value'])} {f['unit']} | "
                    f"{baseline} | {ratio} | {f['target']} {met} | {memory} | {f['note']} |")
    failed = [c for c in results["checks"] if not c["ok"]]
    checks = (f"All {len(results['checks'])} correctness checks passed." if not failed else
              "Failed checks: " + "; ".join(f"{c['size']}: {c['name']}" for c in failed))
    table = "\n".join(rows)
    return f"""{START}
## Scale: import, reads, queries, `load_dataset`, verify (`benchmarks/run.py`)

Measured {results['date']} on {results['machine']}.
Synthetic speeches (`benchmarks/synthetic.py`, seed {SEED}). Every operation ran in a
process of its own; each figure is the median of {results['repeat']} runs, with its
baseline measured in the same run. Memory is the peak resident memory the operation added
to its process (MB). The targets of issue 5 hold at {TARGET_SIZE:,} speeches; the smaller
sizes show how each figure grows. {checks}

| speeches | measure | value | baseline | ratio | target | peak MB | notes |
|---:|---|---:|---:|---:|---|---:|---|
{table}
{END}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true",
                        help="1,000 speeches only (under 2 minutes); nothing written")
    parser.add_argument("--work", type=Path, default=WORK,
                        help="folder for the sources and corpora (default benchmarks/_work)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--render", action="store_true",
                        help="only rewrite RESULTS.md from benchmarks/results/scale.json")
    args = parser.parse_args()
    if args.render:
        write_results(render(json.loads(RAW.read_text(encoding="utf-8"))), START, END)
        return
    if args.quick:
        args.sizes, args.no_write = [1_000], True
    if args.repeat < 3 and not args.quick:
        parser.error("--repeat must be at least 3: every figure is a median")
    results = run_suite(args.sizes, args.repeat, args.work)
    section = render(results)
    print(section)
    if not args.no_write:
        write_results(section, START, END)
        RAW.parent.mkdir(parents=True, exist_ok=True)
        RAW.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    if any(not c["ok"] for c in results["checks"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
