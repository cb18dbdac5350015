"""One measured operation of the scale suite, in a process of its own (``benchmarks/run.py``
starts it), so that its peak memory is its own.

Usage: ``python benchmarks/worker.py OPERATION '{"json": "arguments"}'``. It prints one JSON
object: the seconds of each repetition, the resident memory after the imports and at its
peak (MB), and the values that the suite's correctness checks compare.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import polars as pl  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
import pyarrow.dataset  # noqa: E402, F401  (loaded here, not inside the measured memory)
import pyarrow.parquet as pq  # noqa: E402

import policyspeech as ps  # noqa: E402
import policyspeech.loaders  # noqa: E402
from policyspeech.store import Corpus  # noqa: E402

QUERIES: dict[str, dict[str, Any]] = {
    "speaker+date": {"speaker": "Speaker 0007", "since": "2000", "until": "2009",
                     "columns": ["id", "date", "speaker", "title"]},
    "country": {"country": "FR", "columns": ["id", "date", "country", "speaker"]},
    "theme, no text": {"theme": "health", "columns": ["id", "date", "themes", "speaker"]},
}


def peak_mb() -> float:
    """This process's peak resident memory (MB). Not ``ru_maxrss``: on Linux a child
    inherits its parent's high-water mark through fork and exec, so a large parent
    would hide the child's own peak; ``VmHWM`` belongs to the process's own memory."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_peak_mb() -> float:
    """The largest peak of the worker processes this process waited for (MB); they were
    started by this small process, so the inherited high-water mark does not matter."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def resident_mb() -> float:
    """Resident memory now (MB), from /proc (the high-water mark cannot go down)."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def repeat(action: Callable[[], Any], times: int, *, warm_up: bool = False
           ) -> tuple[list[float], Any]:
    """Run ``action`` ``times`` times (after one untimed run when ``warm_up``: first-use
    costs such as lazy imports are not what a figure measures)."""
    seconds: list[float] = []
    result = action() if warm_up else None
    for _ in range(times):
        result = None  # the previous result is freed first: one at a time in memory
        started = time.perf_counter()
        result = action()
        seconds.append(time.perf_counter() - started)
    return seconds, result


def op_import(args: dict[str, Any]) -> dict[str, Any]:
    corpus = Corpus.init(args["corpus"], title="Benchmark speeches", authors=["Benchmark"],
                         license="CC0-1.0", description="Synthetic speeches.")
    seconds, batch = repeat(lambda: corpus.import_path(args["source"]), 1)
    return {"seconds": seconds, "records": batch.records, "text_bytes": batch.text_bytes,
            "fragments": batch.fragments, "rows": corpus.head().rows}


def op_write_table(args: dict[str, Any]) -> dict[str, Any]:
    """The floor of an import: the same records, already an Arrow table, written once."""
    import pyarrow.json as pajson

    table = pajson.read_json(args["source"], read_options=pajson.ReadOptions(
        block_size=64 << 20))
    target = Path(args["target"])
    seconds, _ = repeat(lambda: pq.write_table(
        table, target, compression="zstd", write_page_checksum=True, row_group_size=1_000),
        args.get("times", 1))
    text_bytes = pc.sum(pc.binary_length(table["text"])).as_py()
    target.unlink()
    return {"seconds": seconds, "text_bytes": text_bytes}


def op_read(args: dict[str, Any]) -> dict[str, Any]:
    corpus, paths = args["corpus"], args["paths"]
    readers: dict[str, Callable[[], Any]] = {
        "ps.read": lambda: ps.read(corpus),
        "ps.read_arrow": lambda: ps.read_arrow(corpus),
        "pl.read_parquet": lambda: pl.read_parquet(paths),
        "pq.read_table": lambda: pq.read_table(paths),
    }
    seconds, result = repeat(readers[args["reader"]], args["times"], warm_up=True)
    rows = result.height if isinstance(result, pl.DataFrame) else result.num_rows
    text = result["text_sha256"]
    digests = sorted(text.to_list() if isinstance(text, pl.Series) else text.to_pylist())
    return {"seconds": seconds, "rows": rows, "digest": hash_of(digests)}


def op_query(args: dict[str, Any]) -> dict[str, Any]:
    query = QUERIES[args["query"]]
    seconds, frame = repeat(lambda: ps.read(args["corpus"], **query), args["times"],
                            warm_up=True)
    return {"seconds": seconds, "rows": frame.height, "ids": hash_of(sorted(frame["id"]))}


def op_expected_query(args: dict[str, Any]) -> dict[str, Any]:
    """The same query computed by hand with polars over the fragment files (a check)."""
    import datetime

    query = QUERIES[args["query"]]
    frame = pl.read_parquet(args["paths"], columns=["id", "speaker", "country", "date",
                                                     "themes"])
    if "speaker" in query:
        frame = frame.filter((pl.col("speaker") == query["speaker"])
                             & (pl.col("date") >= datetime.date(int(query["since"]), 1, 1))
                             & (pl.col("date") <= datetime.date(int(query["until"]), 12, 31)))
    if "country" in query:
        frame = frame.filter(pl.col("country") == query["country"])
    if "theme" in query:
        frame = frame.filter(pl.col("themes").list.contains(query["theme"]))
    return {"seconds": [0.0], "rows": frame.height, "ids": hash_of(sorted(frame["id"]))}


def op_load_dataset(args: dict[str, Any]) -> dict[str, Any]:
    os.environ["POLICYSPEECH_CACHE"] = args["cache"]
    os.environ["HF_DATASETS_CACHE"] = args["cache"]
    import datasets

    datasets.disable_progress_bars()
    if args["how"] == "policyspeech":
        seconds, dataset = repeat(lambda: ps.load_dataset(args["corpus"],
                                                          version=args["version"]), 1)
    else:
        seconds, dataset = repeat(lambda: datasets.load_dataset(
            "parquet", data_files=args["paths"], split="train"), 1)
    return {"seconds": seconds, "rows": dataset.num_rows,
            "digest": hash_of(sorted(dataset.data.table["text_sha256"].to_pylist()))}


def op_verify(args: dict[str, Any]) -> dict[str, Any]:
    corpus = Corpus(args["corpus"])
    seconds, problems = repeat(corpus.verify, args["times"], warm_up=True)
    return {"seconds": seconds, "problems": problems}


def op_fingerprint(args: dict[str, Any]) -> dict[str, Any]:
    from policyspeech.releases import fingerprint_paths

    corpus = Corpus(args["corpus"])
    manifest = corpus.manifest("latest")
    paths = corpus.fragment_paths("latest")
    seconds, value = repeat(lambda: fingerprint_paths(paths, manifest["schema_version"],
                                                      manifest["fingerprint_method"]),
                            args["times"], warm_up=True)
    return {"seconds": seconds, "fingerprint": value, "manifest": manifest["fingerprint"]}


def op_add(args: dict[str, Any]) -> dict[str, Any]:
    from benchmarks.synthetic import speeches

    corpus = Corpus(args["corpus"])
    corpus.head()
    fresh = list(speeches(args["times"], seed=2, start=args["start"]))
    seconds = []
    for speech in fresh:
        started = time.perf_counter()
        corpus.add(speech)
        seconds.append(time.perf_counter() - started)
    return {"seconds": seconds, "rows": corpus.head().rows}


def hash_of(values: list[Any]) -> str:
    import hashlib

    return hashlib.sha256("\n".join(map(str, values)).encode()).hexdigest()


OPERATIONS = {name[3:]: function for name, function in globals().items()
              if name.startswith("op_")}


def main() -> None:
    operation, arguments = sys.argv[1], json.loads(sys.argv[2])
    baseline = resident_mb()
    result = OPERATIONS[operation](arguments)
    result.update(baseline_mb=round(baseline, 1), peak_mb=round(peak_mb(), 1),
                  children_peak_mb=round(children_peak_mb(), 1))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
