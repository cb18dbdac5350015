"""Export by extension (issue 13, part 7): .parquet, .csv, .jsonl and a folder of .txt
files with metadata.csv; written by polars from a lazy scan; unknown names refused."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import polars as pl
import pytest

import policyspeech as ps
from policyspeech.export import FORMULA_PATTERN
from policyspeech.output import FORMULA_STARTS, dates_at_precision, render_rows
from policyspeech.store import Corpus
from tests.helpers import make_speech, run, tree_digest


@pytest.fixture
def varied(corpus: Corpus) -> Corpus:
    """Records with every kind of cell: formulas, dates at each precision, empty lists,
    missing fields, quotes, commas, line breaks and non-ASCII text."""
    corpus.add_all([
        make_speech(1, title='=HYPERLINK("x","y")', speaker="+cmd|' /C calc'!A0",
                    notes="-2+3", event="-3.5"),
        make_speech(2, date="1790", themes=[], keywords=["a, b", 'say "hi"'],
                    text="Line one,\r\nline \"two\"\n\nthree — Größe ’quoted’"),
        make_speech(3, date="2001-09", country="FR", language="fr", location="@home",
                    title="Sécurité\tintérieure"),
    ])
    return corpus


def _csv_rows(text: str) -> dict[str, dict[str, str]]:
    return {row["id"]: row for row in csv.DictReader(io.StringIO(text))}


def test_each_extension_writes_its_format(varied: Corpus, tmp_path: Path) -> None:
    c = str(varied.path)
    for name, first in (("out.csv", "id,title,"), ("out.jsonl", '{"id":'),
                        ("out.ndjson", '{"id":')):
        result = run("--corpus", c, "export", str(tmp_path / name), "--version", "head")
        assert result.exit_code == 0, result.stderr
        assert result.stdout == f"wrote 3 records to {tmp_path / name}\n"
        assert (tmp_path / name).read_text(encoding="utf-8").startswith(first)
    assert run("--corpus", c, "export", str(tmp_path / "out.parquet"), "--version",
               "head").exit_code == 0
    assert (tmp_path / "out.parquet").read_bytes()[:4] == b"PAR1"


def test_csv_cells_equal_the_row_renderer(varied: Corpus, tmp_path: Path) -> None:
    """The polars CSV holds exactly the cells the Python renderer wrote (lists joined,
    dates at their precision, formulas neutralised, plain numbers left alone)."""
    out = tmp_path / "out.csv"
    assert run("--corpus", str(varied.path), "export", str(out), "--version",
               "head").exit_code == 0
    rows = dates_at_precision(ps.read_arrow(varied.path).to_pylist())
    expected = _csv_rows(render_rows(rows, "csv"))
    assert _csv_rows(out.read_text(encoding="utf-8")) == expected
    record = next(r for r in expected.values() if r["title"].startswith("'="))
    assert record["speaker"].startswith("'+") and record["notes"] == "'-2+3"
    assert record["event"] == "-3.5"  # a number, not a formula
    raw = tmp_path / "raw.csv"
    assert run("--corpus", str(varied.path), "export", str(raw), "--version", "head",
               "--raw").exit_code == 0
    assert _csv_rows(raw.read_text(encoding="utf-8")) == _csv_rows(
        render_rows(rows, "csv", raw=True))


def test_formula_pattern_is_the_renderers_list() -> None:
    import re

    for start in FORMULA_STARTS:
        assert re.match(FORMULA_PATTERN, start + "x")
    assert not re.match(FORMULA_PATTERN, "x=")


def test_jsonl_lines_equal_the_row_renderer(varied: Corpus, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    assert run("--corpus", str(varied.path), "export", str(out), "--version",
               "head").exit_code == 0
    got = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    rows = dates_at_precision(ps.read_arrow(varied.path).to_pylist())
    expected = [json.loads(line) for line in render_rows(rows, "jsonl").splitlines()]
    assert sorted(got, key=lambda r: r["id"]) == sorted(expected, key=lambda r: r["id"])
    assert {r["date"] for r in got} == {"2019-10-30", "1790", "2001-09"}


def test_parquet_and_jsonl_round_trip_through_import(varied: Corpus, tmp_path: Path) -> None:
    head = ps.read(varied.path).sort("id")
    for name in ("out.parquet", "out.jsonl"):
        assert run("--corpus", str(varied.path), "export", str(tmp_path / name), "--version",
                   "head").exit_code == 0
        copy = Corpus.init(tmp_path / f"copy-{name}")
        result = run("--corpus", str(copy.path), "import", str(tmp_path / name))
        assert result.exit_code == 0, result.stderr
        assert ps.read(copy.path).sort("id").equals(head)
    assert pl.read_parquet(tmp_path / "out.parquet").sort("id").equals(head)


def test_a_folder_of_texts_with_metadata_for_readtext(varied: Corpus, tmp_path: Path) -> None:
    out = tmp_path / "texts"
    result = run("--corpus", str(varied.path), "export", str(out), "--version", "head")
    assert result.exit_code == 0, result.stderr
    head = {r["id"]: r for r in ps.read_arrow(varied.path).to_pylist()}
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted([f"{i}.txt" for i in head] + ["metadata.csv"])
    for record_id, record in head.items():  # bytes as stored, \r\n included
        assert (out / f"{record_id}.txt").read_bytes() == record["text"].encode()
    metadata = list(csv.DictReader(io.StringIO((out / "metadata.csv").read_text("utf-8"))))
    assert [row["doc_id"] for row in metadata] == [f"{r['id']}.txt" for r in metadata]
    assert next(iter(metadata[0])) == "doc_id" and "text" not in metadata[0]
    assert {row["id"] for row in metadata} == set(head)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run("--corpus", str(varied.path), "export", str(empty), "--version",
               "head").exit_code == 0
    assert len(list(empty.iterdir())) == 4


@pytest.mark.parametrize(("name", "options", "message"), [
    ("out.xlsx", [], "cannot export to '{out}': the extension '.xlsx' is not one export "
     "writes; name the file .parquet, .csv or .jsonl, or give a name without an extension "
     "for a folder of .txt files"),
    ("out.csv", ["--format", "parquet"], "cannot export to '{out}' as parquet: its name says "
     "csv; name the file .parquet or leave out --format"),
    ("out.csv", ["--format", "xml"], "export format 'xml' is not known; use parquet, csv, "
     "jsonl or txt"),
    ("-", [], "export to '-' (standard output) needs --format csv or --format jsonl"),
])
def test_refused_names_write_nothing(varied: Corpus, tmp_path: Path, name: str,
                                    options: list[str], message: str) -> None:
    out = tmp_path / "out" / name if name != "-" else Path("-")
    (tmp_path / "out").mkdir()
    before = tree_digest(tmp_path)
    result = run("--corpus", str(varied.path), "export", str(out), *options)
    assert result.exit_code == 1
    assert result.stderr == f"error: {message.format(out=out)}\n"
    assert tree_digest(tmp_path) == before


def test_a_folder_that_holds_files_is_refused(varied: Corpus, tmp_path: Path) -> None:
    out = tmp_path / "texts"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    result = run("--corpus", str(varied.path), "export", str(out))
    assert result.exit_code == 1
    assert "it exists and is not an empty folder" in result.stderr
    assert [p.name for p in out.iterdir()] == ["mine.txt"]


def test_standard_output_with_a_format(varied: Corpus) -> None:
    result = run("--corpus", str(varied.path), "export", "-", "--format", "jsonl",
                 "--version", "head")
    assert result.exit_code == 0, result.stderr
    assert len([json.loads(line) for line in result.stdout.splitlines()]) == 3


def test_a_refused_export_leaves_no_file_behind(varied: Corpus, tmp_path: Path) -> None:
    """A damaged fragment stops the export before anything is written: no file and no
    temporary file beside it."""
    [fragment] = varied.fragment_paths("head")
    fragment.chmod(0o644)
    data = bytearray(fragment.read_bytes())
    data[len(data) // 2] ^= 0xFF
    fragment.write_bytes(bytes(data))
    out = tmp_path / "exports"
    out.mkdir()
    for name in ("a.csv", "b.parquet", "texts"):
        result = run("--corpus", str(varied.path), "export", str(out / name), "--version",
                     "head")
        assert result.exit_code == 1 and "error:" in result.stderr
    assert list(out.iterdir()) == []


def test_the_order_is_the_same_on_every_run(varied: Corpus, tmp_path: Path) -> None:
    for n in range(2):
        assert run("--corpus", str(varied.path), "export", str(tmp_path / f"{n}.csv"),
                   "--version", "head").exit_code == 0
    assert (tmp_path / "0.csv").read_bytes() == (tmp_path / "1.csv").read_bytes()


def test_real_corpus_exports_whole(realdata: Path, tmp_path: Path) -> None:
    """The State of the Union addresses: every format holds all 233 records, and each
    text file holds its address's text."""
    corpus = Corpus.init(tmp_path / "sotu")
    assert run("--corpus", str(corpus.path), "import",
               str(realdata / "sotu.jsonl")).exit_code == 0
    head = {r["id"]: r["text"] for r in ps.read_arrow(corpus.path).to_pylist()}
    assert len(head) == 233
    for name in ("s.csv", "s.jsonl", "s.parquet", "texts"):
        result = run("--corpus", str(corpus.path), "export", str(tmp_path / name),
                     "--version", "head")
        assert result.stdout == f"wrote 233 records to {tmp_path / name}\n", result.stderr
    csv.field_size_limit(2**31 - 1)
    assert len(_csv_rows((tmp_path / "s.csv").read_text(encoding="utf-8"))) == 233
    assert pl.read_parquet(tmp_path / "s.parquet").height == 233
    assert all((tmp_path / "texts" / f"{i}.txt").read_text(encoding="utf-8") == text
               for i, text in head.items())


@pytest.mark.parametrize("name", ["r.csv", "r.jsonl", "r.parquet", "texts"])
def test_a_release_in_an_older_schema_exports(tmp_path: Path, name: str) -> None:
    """Release 1.0.0 of the bundled corpus has schema 1.0.0 (no ``source_id``): each format
    holds the records as ``ps.read`` gives them (``source_id`` empty), in canonical types."""
    import pyarrow.parquet as pq

    out = tmp_path / name
    result = run("export", str(out), "--version", "1.0.0")
    assert result.exit_code == 0, result.stderr
    if name.endswith(".parquet"):
        schema = pq.read_schema(out)
        assert str(schema.field("title").type) == "string"
        assert pl.read_parquet(out).equals(ps.read(version="1.0.0"))


def test_standard_output_cut_short_by_a_pipe_ends_quietly(corpus: Corpus) -> None:
    """From a user trial: `export - --format jsonl | head -1` failed with a broken-pipe
    error; like every other command, it now stops quietly with status 0."""
    import subprocess
    import sys

    corpus.add_all([make_speech(n, text=f"Speech {n}. " + "word " * 40_000) for n in range(3)])
    for fmt in ("jsonl", "csv"):
        process = subprocess.Popen(
            [sys.executable, "-m", "policyspeech", "--corpus", str(corpus.path), "export", "-",
             "--format", fmt, "--version", "head"], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        assert process.stdout is not None and process.stderr is not None
        process.stdout.read(100)
        process.stdout.close()  # as `head` does once it has its line
        assert process.wait(timeout=60) == 0
        assert process.stderr.read() == b""


def test_exports_have_the_permissions_of_the_umask(varied: Corpus, tmp_path: Path) -> None:
    """From a user trial: exports were private (0600, folders 0700) whatever the umask."""
    import os
    import stat

    old = os.umask(0o022)
    try:
        for name in ("a.csv", "a.parquet", "texts"):
            assert run("--corpus", str(varied.path), "export", str(tmp_path / name),
                       "--version", "head").exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.csv").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "a.parquet").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "texts").stat().st_mode) == 0o755
