"""Other engines read exactly a version through `policyspeech files`; compaction."""

from __future__ import annotations

import json

import datasets
import duckdb
import pyarrow.parquet as pq

import policyspeech as ps
from policyspeech.store import Corpus
from tests.helpers import make_speech, run


def test_files_lists_a_version_for_duckdb_and_datasets_streaming(corpus: Corpus) -> None:
    corpus.add_all([make_speech(1, country="GB"), make_speech(2, country="FR")])
    corpus.release()
    corpus.add(make_speech(3, country="GB"))
    c = str(corpus.path)
    released = run("--corpus", c, "files", "--version", "0.1.0").stdout.split()
    head = json.loads(run("--corpus", c, "files", "--format", "json").stdout)
    assert len(head) == 2 and set(released) < set(head)
    rows = duckdb.sql(f"SELECT country, count(*) AS n FROM read_parquet({released!r}) "
                      "GROUP BY country ORDER BY country").fetchall()
    assert rows == [("FR", 1), ("GB", 1)]
    assert duckdb.sql(f"SELECT count(*) FROM read_parquet({head!r})").fetchall() == [(3,)]
    stream = datasets.load_dataset("parquet", data_files=released, split="train",
                                   streaming=True)
    assert sorted(r["id"] for r in stream) == sorted(ps.read(c, version="0.1.0")["id"])


def test_compact_merges_unreleased_fragments_only(corpus: Corpus) -> None:
    corpus.add(make_speech(1))
    corpus.release()
    released = set(corpus.fragment_paths("0.1.0"))
    for n in range(2, 6):
        corpus.add(make_speech(n, date=f"201{n}-01-01"))
    before = ps.read(corpus.path).sort("id")
    result = run("--corpus", str(corpus.path), "compact")
    assert result.stdout.strip() == "merged 4 fragments into one"
    paths = set(corpus.fragment_paths())
    assert released < paths and len(paths) == 2
    [merged] = paths - released
    table = pq.read_table(merged)
    keys = list(zip(table["date"].to_pylist(), table["id"].to_pylist(), strict=True))
    assert keys == sorted(keys) and table.num_rows == 4
    assert ps.read(corpus.path).sort("id").equals(before)
    assert corpus.verify() == []
    again = run("--corpus", str(corpus.path), "compact")
    assert again.stdout.strip().startswith("nothing to compact")
