"""Benchmark: what keeping the Delta Lake log current costs an add.

On a synthetic corpus of 100,000 speeches (built with ``add_all`` in commits of 10,000, as
``benchmarks/append.py`` does), it measures:

- the time one ``Corpus.add`` spends writing the Delta log (``deltawrite.sync``, timed
  inside the add), over consecutive adds: the median, and the worst add that wrote a
  checkpoint (every tenth version; target at most 10 ms);
- the whole add with the Delta writer and without it (the call replaced by nothing), in
  the same run, in pairs whose order alternates; an add made without it is caught up,
  untimed, before the next pair, as the next writer would;
- writing the whole Delta log of the corpus from its log (the migration of a corpus made
  before the Delta log) and checking it (``verify``'s share).

Results go to ``benchmarks/RESULTS.md`` (the section between the ``delta`` markers) and
``benchmarks/results/delta.json``.

Usage::

    python benchmarks/delta.py                          # 100,000 speeches
    python benchmarks/delta.py --size 2000 --no-write   # a quick look
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.append import build, machine, median_ms, timed, write_results  # noqa: E402
from benchmarks.synthetic import speeches  # noqa: E402
from policyspeech import commit, deltawrite  # noqa: E402
from policyspeech.delta import check_delta, is_checkpoint  # noqa: E402
from policyspeech.documents import Entry  # noqa: E402
from policyspeech.layout import DELTA_LOG  # noqa: E402
from policyspeech.store import Corpus  # noqa: E402

RAW = REPO / "benchmarks" / "results" / "delta.json"
START, END = "<!-- delta:start -->", "<!-- delta:end -->"
TARGET_MS = 10.0


class Timed:
    """Stands for ``commit.sync_delta``: times each call, and the fsyncs in it (or skips
    it, ``enabled=False``)."""

    def __init__(self) -> None:
        self.enabled = True
        self.calls: list[tuple[int, float, float]] = []
        """Version, seconds, seconds of them in ``os.fsync``."""
        self.cpu: list[tuple[int, float]] = []
        """Version, CPU seconds of this process (what a busy machine does not inflate)."""
        self.skipped: list[tuple[Entry, str | None]] = []
        self.fsyncing = 0.0
        fsync = os.fsync

        def timed_fsync(fd: int) -> None:
            started = time.perf_counter()
            fsync(fd)
            self.fsyncing += time.perf_counter() - started

        os.fsync = timed_fsync

    def __call__(self, corpus: Path, entry: Entry, sha256: str | None = None) -> None:
        if not self.enabled:
            self.skipped.append((entry, sha256))
            return
        started, cpu, self.fsyncing = time.perf_counter(), time.process_time(), 0.0
        deltawrite.sync(corpus, entry, sha256)
        self.calls.append((entry["seq"], time.perf_counter() - started, self.fsyncing))
        self.cpu.append((entry["seq"], time.process_time() - cpu))

    def catch_up(self, corpus: Path) -> None:
        for entry, sha256 in self.skipped:
            deltawrite.sync(corpus, entry, sha256)
        self.skipped.clear()


def measure(size: int, repeat: int, work: Path) -> dict[str, Any]:
    folder = work / "corpus"
    corpus, build_seconds = build(folder, size)
    fresh: Iterator[dict[str, Any]] = speeches(10 * repeat + 200, seed=1, start=size + 1_000_000)
    timer = Timed()
    commit.sync_delta = timer  # type: ignore[assignment]
    corpus = Corpus(folder)
    corpus.head()
    for _ in range(3):  # warm up: caches, the head index
        corpus.add(next(fresh))
    timer.calls.clear()
    timer.cpu.clear()
    consecutive = max(repeat, 6 * 10)  # at least six checkpoints
    for _ in range(consecutive):
        corpus.add(next(fresh))
    syncs, cpu_times = list(timer.calls), list(timer.cpu)
    with_delta: list[float] = []
    without_delta: list[float] = []
    for n in range(repeat):
        for enabled in ((True, False) if n % 2 == 0 else (False, True)):
            timer.enabled = enabled
            seconds = timed(lambda: corpus.add(next(fresh)))
            (with_delta if enabled else without_delta).append(seconds)
            timer.enabled = True
            timer.catch_up(folder)  # untimed, before the next add, as the next writer would
    load = round(os.getloadavg()[1], 1)  # the machine is shared: how busy it was meanwhile
    state = corpus.head()
    checkpoints = [s for seq, s, _ in syncs if is_checkpoint(seq)]
    others = [s for seq, s, _ in syncs if not is_checkpoint(seq)]
    cpu = [s - f for seq, s, f in syncs if is_checkpoint(seq)]
    copy = work / "migrated"
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns(DELTA_LOG, ".lock", ".tmp"))
    migrate = timed(lambda: deltawrite.catch_up(copy))
    check = timed(lambda: check_delta(folder, state))
    return {
        "size": size,
        "build_seconds": round(build_seconds, 1),
        "parquet_mb": round(sum(p.stat().st_size for p in (folder / "data").iterdir()) / 1e6, 1),
        "log_entries": state.seq + 1,
        "head_fragments": len(state.fragments),
        "fragments_ever": len(state.fragments_ever),
        "delta_sync_ms_median": median_ms([s for _, s, _ in syncs]),
        "delta_sync_fsync_ms_median": median_ms([f for _, _, f in syncs]),
        "delta_sync_ms_with_checkpoint_without_fsync_max": round(max(cpu) * 1000, 2),
        "delta_sync_cpu_ms_median": median_ms([c for _, c in cpu_times]),
        "delta_sync_cpu_ms_with_checkpoint_max": round(
            max(c for seq, c in cpu_times if is_checkpoint(seq)) * 1000, 2),
        "delta_sync_ms_median_without_checkpoint": median_ms(others),
        "delta_sync_ms_with_checkpoint_median": median_ms(checkpoints),
        "delta_sync_ms_with_checkpoint_max": round(max(checkpoints) * 1000, 2),
        "delta_sync_ms_max": round(max(s for _, s, _ in syncs) * 1000, 2),
        "add_with_delta_ms": median_ms(with_delta),
        "add_without_delta_ms": median_ms(without_delta),
        "migrate_whole_delta_log_s": round(migrate, 2),
        "check_delta_log_s": round(check, 2),
        "load_average_5min": load,
        "runs": {"consecutive_adds": len(syncs), "checkpoints": len(checkpoints),
                 "pairs": repeat},
    }


def render(result: dict[str, Any], when: str) -> str:
    r = result
    worst = r["delta_sync_ms_with_checkpoint_max"]
    verdict = "met" if worst <= TARGET_MS else "NOT met"
    share = r["add_with_delta_ms"] - r["add_without_delta_ms"]
    return f"""{START}
## Delta Lake log: its cost per add (`benchmarks/delta.py`)

Measured {when} on {machine()}; deltalake not involved (the writer is policyspeech's own).
The machine is shared: its 5-minute load average at the end of the adds was
{r['load_average_5min']} (2 cores); fsyncs slow down most when others write.
A synthetic corpus of {r['size']:,} speeches ({r['parquet_mb']:,} MB of Parquet, built with
`add_all` in commits of 10,000, then single adds: {r['log_entries']:,} log entries,
{r['head_fragments']:,} fragments in the head, {r['fragments_ever']:,} ever). Times in
milliseconds.

| what | ms |
|---|---:|
| Delta log work of one add (`deltawrite.sync`), median of {r['runs']['consecutive_adds']} consecutive adds | {r['delta_sync_ms_median']} |
| the same, adds without a checkpoint | {r['delta_sync_ms_median_without_checkpoint']} |
| the same, adds that wrote a checkpoint (median of {r['runs']['checkpoints']}) | {r['delta_sync_ms_with_checkpoint_median']} |
| the same, worst add with a checkpoint | {worst} |
| the same, worst add of all | {r['delta_sync_ms_max']} |
| of the Delta log work, time in `fsync` (median) | {r['delta_sync_fsync_ms_median']} |
| worst add with a checkpoint, its time in `fsync` left out | {r['delta_sync_ms_with_checkpoint_without_fsync_max']} |
| CPU time of the Delta log work (this process's, which others' load does not inflate), median | {r['delta_sync_cpu_ms_median']} |
| CPU time, worst add with a checkpoint | {r['delta_sync_cpu_ms_with_checkpoint_max']} |
| one whole add with the Delta writer (median of {r['runs']['pairs']}) | {r['add_with_delta_ms']} |
| one whole add without it (median of {r['runs']['pairs']}, same run, pairs in alternating order) | {r['add_without_delta_ms']} |

- Worst add with a checkpoint: **{worst} ms** (target at most {TARGET_MS:g} ms: {verdict}).
- The Delta writer's share of a whole add, medians: **{share:.2f} ms** (a commit file
  written put-if-absent and fsynced, its folder not: a lost one is written again; every
  tenth version a Parquet checkpoint from the previous one and the ten commits since, and
  `_last_checkpoint`).
- Writing the whole Delta log from the log (a corpus made before it; `verify --repair`):
  {r['migrate_whole_delta_log_s']} s; checking it against the log (`verify`'s share):
  {r['check_delta_log_s']} s.
{END}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for option, default in (("--size", 100_000), ("--repeat", 31)):
        parser.add_argument(option, type=int, default=default)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args, when = parser.parse_args(), datetime.date.today().isoformat()
    with tempfile.TemporaryDirectory(prefix="policyspeech-bench-") as work:
        result = measure(args.size, args.repeat, Path(work))
    section = render(result, when)
    print(json.dumps(result, indent=2), section, sep="\n", flush=True)
    if args.no_write:
        return
    write_results(section, START, END)
    RAW.parent.mkdir(parents=True, exist_ok=True)
    RAW.write_text(json.dumps({"date": when, "machine": machine(), "result": result},
                              indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
