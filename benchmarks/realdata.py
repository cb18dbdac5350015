"""Benchmark: importing the real corpora of ``../shared/realdata`` (issue 10).

The three JSONL files (State of the Union, UN General Debate, ParlaMint-AT: 4,813 speeches,
about 30 MB of text) are imported into a fresh corpus, and compared with a baseline
measured in the same run: ``json.loads`` of every line, NFC and SHA-256 of every text,
and one ``pq.write_table`` of all the records (what any import must do at least). The
adapters are timed on the raw sources too: ``--from parlamint`` on the 15 TEI sittings
and ``--from ungdc`` on the UNGDC release layout.

Every measurement runs in a process of its own (modules imported before the clock
starts), the runs of each measurement interleaved with the others; each figure is the
median of ``--repeat`` runs. Results go to ``benchmarks/RESULTS.md`` (the section between
the ``realdata`` markers) and ``benchmarks/results/realdata.json``.

Usage::

    python benchmarks/realdata.py                 # 7 runs of each
    python benchmarks/realdata.py --repeat 3 --no-write
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.append import machine, write_results  # noqa: E402

REALDATA = REPO.parent / "shared" / "realdata"
JSONL = ["sotu.jsonl", "ungdc.jsonl", "parlamint_at.jsonl"]
RAW = REPO / "benchmarks" / "results" / "realdata.json"
START, END = "<!-- realdata:start -->", "<!-- realdata:end -->"
TARGET_RATIO = 1.5

BASELINE = """
import hashlib, json, sys, time, unicodedata
import pyarrow as pa, pyarrow.parquet as pq
paths, out = sys.argv[1:-1], sys.argv[-1]
started = time.perf_counter()
rows, size = [], 0
for path in paths:
    with open(path, "rb") as handle:
        for line in handle:
            row = json.loads(line)
            row["text"] = unicodedata.normalize("NFC", row["text"])
            encoded = row["text"].encode("utf-8")
            size += len(encoded)
            row["text_sha256"] = hashlib.sha256(encoded).hexdigest()
            rows.append(row)
pq.write_table(pa.Table.from_pylist(rows), out, compression="zstd")
print(json.dumps({"seconds": time.perf_counter() - started, "records": len(rows),
                  "text_bytes": size}))
"""

IMPORT = """
import json, sys, time
from policyspeech.store import Corpus  # what `policyspeech import` has imported by then
source_format, folder, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
corpus = Corpus.init(folder)
started = time.perf_counter()
batch = corpus.import_path(paths, source_format=source_format)
print(json.dumps({"seconds": time.perf_counter() - started, "records": batch.records,
                  "text_bytes": batch.text_bytes, "fragments": batch.fragments}))
"""


CLI = """
import json, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True, check=True)
print(json.dumps({"seconds": time.perf_counter() - started, "records": 0, "text_bytes": 0,
                  "said": done.stdout.strip()}))
"""


def run(script: str, *args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True,
                          text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure(repeat: int, work: Path) -> dict[str, list[dict[str, Any]]]:
    paths = [str(REALDATA / name) for name in JSONL]
    runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "import": [], "cli": [],
                                             "parlamint": [], "ungdc": []}
    command = str(Path(sys.executable).with_name("policyspeech"))
    for n in range(repeat):
        runs["baseline"].append(run(BASELINE, *paths, str(work / f"baseline-{n}.parquet")))
        runs["import"].append(run(IMPORT, "auto", str(work / f"import-{n}"), *paths))
        subprocess.run([command, "init", str(work / f"cli-{n}")], check=True,
                       capture_output=True)
        runs["cli"].append(run(CLI, command, "--corpus", str(work / f"cli-{n}"), "import",
                               *paths))
        runs["parlamint"].append(run(IMPORT, "parlamint", str(work / f"parlamint-{n}"),
                                     str(REALDATA / "parlamint-at-tei")))
        runs["ungdc"].append(run(IMPORT, "ungdc", str(work / f"ungdc-{n}"),
                                 str(REALDATA / "ungdc-txt")))
        print(f"run {n + 1}/{repeat}: " + ", ".join(
            f"{name} {values[-1]['seconds']:.3f} s" for name, values in runs.items()),
            file=sys.stderr)
    return runs


def summary(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    medians = {name: statistics.median(r["seconds"] for r in values)
               for name, values in runs.items()}
    megabytes = runs["import"][0]["text_bytes"] / 1e6
    return {
        "medians": medians,
        "records": runs["import"][0]["records"],
        "text_mb": megabytes,
        "ratio": medians["import"] / medians["baseline"],
        "adapters": {name: {"records": runs[name][0]["records"],
                            "text_mb": runs[name][0]["text_bytes"] / 1e6}
                     for name in ("parlamint", "ungdc")},
    }


def render(result: dict[str, Any], repeat: int, when: str) -> str:
    m, mb = result["medians"], result["text_mb"]
    met = "met" if result["ratio"] <= TARGET_RATIO else "**missed**"
    lines = [
        "## Real corpora: import (`benchmarks/realdata.py`)",
        "",
        f"Measured {when} on {machine()}.",
        f"The three JSONL files of `../shared/realdata` ({result['records']:,} speeches, "
        f"{mb:.1f} MB of text), imported into a fresh corpus in one commit; each figure is the "
        f"median of {repeat} runs, every run in a process of its own, the measurements "
        "interleaved. The baseline, in the same run: `json.loads`, NFC and SHA-256 of every "
        "text, one `pq.write_table`.",
        "",
        "| measure | seconds | MB/s of text | ratio to the baseline | target |",
        "|---|---:|---:|---:|---|",
        f"| baseline (json.loads + NFC + SHA-256 + pq.write_table) | {m['baseline']:.3f} | "
        f"{mb / m['baseline']:.1f} | 1.00× | |",
        f"| `Corpus.import_path` of the three JSONL files | {m['import']:.3f} | "
        f"{mb / m['import']:.1f} | {result['ratio']:.2f}× | ≤ {TARGET_RATIO}× {met} |",
        f"| `policyspeech import` of the same, the whole process (start-up and imports "
        f"included) | {m['cli']:.3f} | {mb / m['cli']:.1f} | | |",
    ]
    for name, label in (("parlamint", "`--from parlamint` (15 TEI sittings)"),
                        ("ungdc", "`--from ungdc` (3 sessions of the release layout)")):
        info = result["adapters"][name]
        lines.append(f"| {label}: {info['records']:,} speeches | {m[name]:.3f} | "
                     f"{info['text_mb'] / m[name]:.1f} | | |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    if not (REALDATA / "README.md").is_file():
        sys.exit(f"no real corpora at {REALDATA}")
    with tempfile.TemporaryDirectory() as folder:
        runs = measure(args.repeat, Path(folder))
    result = summary(runs)
    when = datetime.date.today().isoformat()
    section = f"{START}\n{render(result, args.repeat, when).rstrip()}\n{END}"
    print(section)
    if not args.no_write:
        RAW.write_text(json.dumps({"date": when, "machine": machine(), "runs": runs,
                                   **result}, indent=1) + "\n", encoding="utf-8")
        write_results(section, START, END)


if __name__ == "__main__":
    main()
