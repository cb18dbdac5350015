"""Importing the sources researchers have: CSV as Excel and exports write it, delimiters,
bad rows named by file and line, column mapping, metadata defaults, paragraphs,
``--skip-existing``, and real corpora through a CSV round trip.

Every refused import leaves the corpus exactly as it was (``tree_digest``)."""

from __future__ import annotations

import csv
import datetime
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

import policyspeech as ps
from policyspeech.errors import InvalidSpeechError
from policyspeech.store import Corpus
from tests.helpers import log_files, make_speech, run, tree_digest, write_jsonl

HEADER = ["title", "speaker", "country", "date", "language", "text"]
SUMMARY_ONE = "error: 1 bad record; nothing was imported"
ICONV = ("the file looks like Latin-1 or Windows-1252: convert it to UTF-8 "
         "(iconv -f WINDOWS-1252 -t UTF-8)")
DRINGLICH = "Dringliche Anfrage\n\nder Abgeordneten Dr. Haider an den Bundeskanzler."
BROKEN = "We will not give up\n\nthe fight against crime."


def do_import(folder: Path, *args: str) -> Any:
    """``policyspeech --corpus FOLDER import ARGS...``, which must succeed."""
    result = run("--corpus", str(folder), "import", *args)
    assert result.exit_code == 0, result.stderr
    return result


def refused(folder: Path, *args: str) -> list[str]:
    """Run ``import ARGS`` expecting exit 1, nothing on stdout and an unchanged corpus; return
    the stderr lines."""
    before = tree_digest(folder)
    result = run("--corpus", str(folder), "import", *args)
    assert result.exit_code == 1, result.stdout
    assert result.stdout == ""
    assert tree_digest(folder) == before
    lines: list[str] = result.stderr.splitlines()
    return lines


def row(n: int = 0, **fields: Any) -> dict[str, Any]:
    """A speech as the flat columns of a table (no list fields)."""
    speech = {k: v for k, v in make_speech(n).items() if k in HEADER}
    speech.update(fields)
    return speech


def write_csv(path: Path, rows: Sequence[dict[str, Any]], *, delimiter: str = ",") -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_parquet(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    pq.write_table(pa.Table.from_pylist(list(rows)), path)
    return path


WRITERS = {"jsonl": write_jsonl, "csv": write_csv, "parquet": write_parquet}


def records(folder: Path) -> list[dict[str, Any]]:
    """The corpus's records, sorted by title."""
    rows: list[dict[str, Any]] = ps.read(folder).sort("title").to_dicts()
    return rows


def frame(folder: Path) -> pl.DataFrame:
    result: pl.DataFrame = ps.read(folder).sort("id")
    return result


def log_entries(folder: Path) -> int:
    return len(log_files(folder))


@pytest.fixture
def default_csv_limit() -> Iterator[None]:
    """Python's default CSV field limit (131,072), as a fresh process has it."""
    old = csv.field_size_limit(131_072)
    yield
    csv.field_size_limit(old)


# -- 1. long fields ------------------------------------------------------------------


def long_text(words: int = 30_000) -> str:
    return " ".join(f"word{n % 97}" for n in range(words)) + "."


@pytest.mark.usefixtures("default_csv_limit")
def test_a_csv_field_longer_than_131072_characters_imports(corpus: Corpus,
                                                           tmp_path: Path) -> None:
    text = long_text()
    assert len(text) > 131_072
    source = write_csv(tmp_path / "long.csv", [row(1, text=text), row(2)])
    do_import(corpus.path, str(source))
    long, short = records(corpus.path)
    assert long["text"] == text and long["word_count"] == 30_000
    assert short["text"] == make_speech(2)["text"]


@pytest.mark.usefixtures("default_csv_limit")
def test_an_exported_csv_with_a_long_speech_imports_back(corpus: Corpus,
                                                         tmp_path: Path) -> None:
    corpus.add_all([make_speech(1, text=long_text(), keywords=["a", "b c"], party="X"),
                    make_speech(2, themes=["health", "education"], date="1990-05")])
    out = tmp_path / "export.csv"
    exported = run("--corpus", str(corpus.path), "export", str(out), "--version", "head",
                   "--format", "csv")
    assert exported.exit_code == 0, exported.stderr
    assert max(len(line) for line in out.read_text(encoding="utf-8").splitlines()) > 131_072
    other = Corpus.init(tmp_path / "other")
    do_import(other.path, str(out))
    assert_frame_equal(frame(other.path), frame(corpus.path))


# -- 2. Excel's byte order mark --------------------------------------------------------


def test_a_csv_with_a_utf8_bom_from_excel_imports(corpus: Corpus, tmp_path: Path) -> None:
    source = tmp_path / "excel.csv"
    lines = [";".join(HEADER), "Über Europa;Jürgen Groß;DE;2019-10-30;de;Wir handeln, jetzt."]
    source.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    result = do_import(corpus.path, str(source))
    assert "unknown field" not in result.stderr
    [record] = records(corpus.path)
    assert record["title"] == "Über Europa" and record["speaker"] == "Jürgen Groß"
    assert record["text"] == "Wir handeln, jetzt."


def test_a_spreadsheets_empty_rows_are_skipped_and_unnamed_columns_named(
    corpus: Corpus, tmp_path: Path
) -> None:
    source = tmp_path / "sheet.csv"
    lines = [";".join([*HEADER, "", ""]), "T;S;GB;2019;en;Hello.;;", ";;;;;;;", " ; ;;;;;;"]
    source.write_bytes("\r\n".join(lines).encode() + b"\r\n")
    assert refused(corpus.path, str(source)) == [
        f"error: {source}: column 7 has no name in the header (an index that pandas wrote, "
        "or an empty column that a spreadsheet left); name it in the header, or leave it out "
        "with --ignore ''"]
    do_import(corpus.path, str(source), "--ignore", "")
    assert [(r["title"], r["text"]) for r in records(corpus.path)] == [("T", "Hello.")]


def test_a_pandas_index_column_can_be_left_out(corpus: Corpus, tmp_path: Path) -> None:
    source = tmp_path / "pandas.csv"
    source.write_text(",".join(["", *HEADER]) + "\n0,T,S,GB,2019,en,Hello.\n")
    [line] = refused(corpus.path, str(source))
    assert line.startswith(f"error: {source}: column 1 has no name in the header")
    do_import(corpus.path, str(source), "--ignore", "")
    assert [r["text"] for r in records(corpus.path)] == ["Hello."]


# -- 3. delimiters ---------------------------------------------------------------------


def test_a_semicolon_delimiter_is_found_from_the_header(corpus: Corpus,
                                                        tmp_path: Path) -> None:
    source = write_csv(tmp_path / "semi.csv", [row(1, text="Yes, we can, and, we will.")],
                       delimiter=";")
    do_import(corpus.path, str(source))
    [record] = records(corpus.path)
    assert record["text"] == "Yes, we can, and, we will." and record["country"] == "GB"


def test_a_tsv_file_imports(corpus: Corpus, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "s.tsv", [row(1, title="A, B; and C"), row(2)],
                       delimiter="\t")
    do_import(corpus.path, str(source))
    assert [r["title"] for r in records(corpus.path)] == ["A, B; and C", "Speech number 2"]


def test_an_explicit_delimiter_is_used(corpus: Corpus, tmp_path: Path) -> None:
    piped = write_csv(tmp_path / "piped.csv", [row(1, text="Commas, here; too.")],
                      delimiter="|")
    assert refused(corpus.path, str(piped)) == [
        f"error: {piped}: unknown field '{'|'.join(HEADER)}'; see `policyspeech schema "
        f"fields` (or name its field with --map FIELD={'|'.join(HEADER)}, or leave it out "
        f"with --ignore {'|'.join(HEADER)})"]
    do_import(corpus.path, str(piped), "--delimiter", "|")
    assert [r["text"] for r in records(corpus.path)] == ["Commas, here; too."]


def test_delimiter_tab_overrides_the_guess(corpus: Corpus, tmp_path: Path) -> None:
    odd = "x;x;x;x;x;x;x;x"  # more semicolons than the header has tabs
    source = write_csv(tmp_path / "tabs.csv", [{**row(1), odd: "1"}], delimiter="\t")
    first = "\t".join([*HEADER, "x"])  # the guess, ';', leaves the tabs in one column
    [guessed] = refused(corpus.path, str(source), "--ignore", odd)
    assert guessed.startswith(f"error: {source}: unknown field '{first}'; ")
    assert guessed.endswith(f"or leave it out with --ignore {first})")
    do_import(corpus.path, str(source), "--ignore", odd, "--delimiter", "tab")
    assert [r["title"] for r in records(corpus.path)] == ["Speech number 1"]
    assert refused(corpus.path, str(source), "--delimiter", "ab") == [
        "error: --delimiter 'ab' must be one character (or 'tab')"]


# -- 4. bad rows -----------------------------------------------------------------------


def test_a_row_with_extra_fields_is_named_by_file_and_line(corpus: Corpus,
                                                           tmp_path: Path) -> None:
    source = tmp_path / "extra.csv"
    source.write_text(",".join(HEADER) + "\nT1,S,GB,2019,en,Fine.\nT2,S,GB,2019,en,Hi,extra\n",
                      encoding="utf-8")
    assert refused(corpus.path, str(source)) == [
        f"error: {source}:3: row has 7 fields, the header has 6; check its quotes and "
        "delimiters (the delimiter is ',')", SUMMARY_ONE]
    assert ps.read(corpus.path).height == 0


def test_a_latin1_byte_is_named_by_line_with_the_fix(corpus: Corpus, tmp_path: Path) -> None:
    source = tmp_path / "latin1.csv"
    bad = "T2,S,GB,2019,en,Caf\u00e9 society.\n".encode("latin-1")
    source.write_bytes((",".join(HEADER) + "\nT1,S,GB,2019,en,Fine.\n").encode() + bad)
    column = bad.index(b"\xe9") + 1
    assert refused(corpus.path, str(source)) == [
        f"error: {source}:3: line 3 is not valid UTF-8 (byte 0xE9 at column {column}); "
        f"{ICONV}", SUMMARY_ONE]


def test_a_utf16_file_is_named_as_such(corpus: Corpus, tmp_path: Path) -> None:
    source = tmp_path / "unicode-text.tsv"
    source.write_bytes(("\t".join(HEADER) + "\nT\tS\tGB\t2019\ten\tHello.\n")
                       .encode("utf-16"))
    assert refused(corpus.path, str(source)) == [
        f"error: {source}:1: the file is UTF-16 (as Excel's 'Unicode Text' writes it), not "
        "UTF-8: convert it to UTF-8 (iconv -f UTF-16 -t UTF-8)", SUMMARY_ONE]


def test_a_row_spanning_lines_is_labelled_by_its_first_line(corpus: Corpus,
                                                            tmp_path: Path) -> None:
    source = tmp_path / "multi.csv"
    body = (",".join(HEADER) + '\nT1,S,GB,2019,en,"One.\n\nTwo."\n'
            + 'T2,S,GB,2019,en,"Three.\n\nFour.",extra\n')
    source.write_text(body, encoding="utf-8")
    assert refused(corpus.path, str(source)) == [
        f"error: {source}:5: row has 7 fields, the header has 6; check its quotes and "
        "delimiters (the delimiter is ',')", SUMMARY_ONE]
    latin = tmp_path / "multi-latin1.csv"
    latin.write_bytes(body.replace(",extra", "").encode().replace(b"Four", b"F\xfcr"))
    assert refused(corpus.path, str(latin)) == [
        f"error: {latin}:5: line 7 is not valid UTF-8 (byte 0xFC at column 2); {ICONV}",
        SUMMARY_ONE]
    latin.write_text(body.replace(",extra", ""), encoding="utf-8")
    do_import(corpus.path, str(latin))
    assert [r["text"] for r in records(corpus.path)] == ["One.\n\nTwo.", "Three.\n\nFour."]


# -- 5. column mapping -----------------------------------------------------------------


def renamed_rows() -> list[dict[str, Any]]:
    """Two speeches whose speaker and text columns are named ``name`` and ``speech``."""
    rows = []
    for n in (1, 2):
        speech = row(n)
        rows.append({"name": f"Speaker {n}", "speech": speech.pop("text"),
                     **{k: v for k, v in speech.items() if k != "speaker"}, "extra": f"x{n}"})
    return rows


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_map_and_ignore_columns(corpus: Corpus, tmp_path: Path, kind: str) -> None:
    source = WRITERS[kind](tmp_path / f"renamed.{kind}", renamed_rows())
    do_import(corpus.path, str(source), "--map", "speaker=name", "--map", "text=speech",
              "--ignore", "extra")
    got = [(r["speaker"], r["text"]) for r in records(corpus.path)]
    assert got == [("Speaker 1", make_speech(1)["text"]), ("Speaker 2", make_speech(2)["text"])]


def unknown_message(column: str, hint: str) -> str:
    return (f"unknown field '{column}'; {hint} (or name its field with --map FIELD={column}, "
            f"or leave it out with --ignore {column})")


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_an_unknown_column_is_named_once_per_table(corpus: Corpus, tmp_path: Path,
                                                   kind: str) -> None:
    source = WRITERS[kind](tmp_path / f"renamed.{kind}", renamed_rows())
    hint = "see `policyspeech schema fields`"
    assert refused(corpus.path, str(source), "--map", "text=speech", "--ignore", "extra") == [
        f"error: {source}: {unknown_message('name', hint)}"]
    extra = unknown_message("extra", "did you mean 'text'?")
    assert refused(corpus.path, str(source), "--map", "speaker=name", "--map",
                   "text=speech") == [f"error: {source}: {extra}"]


def test_an_unknown_jsonl_field_is_named_per_line(corpus: Corpus, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "renamed.jsonl", renamed_rows())
    message = unknown_message("extra", "did you mean 'text'?")
    assert refused(corpus.path, str(source), "--map", "speaker=name", "--map",
                   "text=speech") == [f"error: {source}:1: {message}",
                                      f"error: {source}:2: {message}",
                                      "error: 2 bad records; nothing was imported"]


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_a_misspelt_field_in_map_is_refused(corpus: Corpus, tmp_path: Path, kind: str) -> None:
    source = WRITERS[kind](tmp_path / f"renamed.{kind}", renamed_rows())
    assert refused(corpus.path, str(source), "--map", "speakr=name") == [
        "error: --map 'speakr=name': 'speakr' is not a field; did you mean 'speaker'?"]
    assert refused(corpus.path, str(source), "--map", "speaker") == [
        "error: --map 'speaker' is not FIELD=COLUMN; write for example --map speaker=name"]


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_map_naming_a_missing_column_is_refused(corpus: Corpus, tmp_path: Path,
                                                kind: str) -> None:
    rows = renamed_rows()
    source = WRITERS[kind](tmp_path / f"renamed.{kind}", rows)
    assert refused(corpus.path, str(source), "--map", "speaker=nmae", "--map", "text=speech",
                   "--ignore", "extra", "--ignore", "name") == [
        f"error: {source}: --map names the column 'nmae', which the file does not have; its "
        f"columns: {', '.join(rows[0])}"]


def test_add_all_maps_the_columns_of_a_dataset(corpus: Corpus) -> None:
    import datasets

    rows = [{k: v for k, v in r.items() if k != "extra"} for r in renamed_rows()]
    dataset = datasets.Dataset.from_list(rows)
    before = tree_digest(corpus.path)
    with pytest.raises(InvalidSpeechError, match="did you mean 'speaker'"):
        corpus.add_all(dataset, mapping={"speakr": "name", "text": "speech"})
    with pytest.raises(InvalidSpeechError, match="unknown field 'name'"):
        corpus.add_all(dataset)
    assert tree_digest(corpus.path) == before
    ids = corpus.add_all(dataset, mapping={"speaker": "name", "text": "speech"})
    assert len(ids) == 2
    got = {r["id"]: (r["speaker"], r["text"]) for r in ps.read(corpus.path).to_dicts()}
    assert got == {ids[0]: ("Speaker 1", rows[0]["speech"]),
                   ids[1]: ("Speaker 2", rows[1]["speech"])}


# -- 6. metadata defaults --------------------------------------------------------------

DEFAULTS = ["--country", "GB", "--language", "en", "--retrieved", "2026-01-01",
            "--theme", "health"]


def sparse_rows() -> list[dict[str, Any]]:
    """One speech that gives country, language, retrieved and themes; one that does not."""
    full = {**row(1, country="AT", language="de"), "retrieved": "2020-05-05",
            "themes": "education"}
    bare = {**row(2, country="", language=""), "retrieved": "", "themes": ""}
    return [full, bare]


@pytest.mark.parametrize("kind", ["jsonl", "csv"])
def test_metadata_options_fill_only_empty_fields(corpus: Corpus, tmp_path: Path,
                                                 kind: str) -> None:
    rows = sparse_rows()
    if kind == "jsonl":
        rows = [{k: v for k, v in r.items() if v != ""} for r in rows]
        rows[0]["themes"] = ["education"]
    source = WRITERS[kind](tmp_path / f"sparse.{kind}", rows)
    do_import(corpus.path, str(source), *DEFAULTS)
    got = [(r["country"], r["language"], r["retrieved"], r["themes"])
           for r in records(corpus.path)]
    assert got == [("AT", "de", datetime.date(2020, 5, 5), ["education"]),
                   ("GB", "en", datetime.date(2026, 1, 1), ["health"])]


def test_metadata_options_fill_a_folder_of_text_files(corpus: Corpus, tmp_path: Path) -> None:
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "a.txt").write_text("---\ntitle: A\nspeaker: S\ndate: 2019\ncountry: AT\n"
                                  "language: de\n---\nWir handeln.")
    (folder / "b.txt").write_text("---\ntitle: B\nspeaker: S\ndate: 2019\n---\nWe act.")
    do_import(corpus.path, str(folder), *DEFAULTS)
    got = [(r["country"], r["language"], r["retrieved"]) for r in records(corpus.path)]
    assert got == [("AT", "de", datetime.date(2026, 1, 1)),
                   ("GB", "en", datetime.date(2026, 1, 1))]


# -- 7. paragraphs ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["jsonl", "csv"])
def test_structured_sources_keep_paragraphs_as_given(corpus: Corpus, tmp_path: Path,
                                                     kind: str) -> None:
    source = WRITERS[kind](tmp_path / f"paras.{kind}", [row(1, text=DRINGLICH)])
    do_import(corpus.path, str(source))
    assert [r["text"] for r in records(corpus.path)] == [DRINGLICH]


def test_join_lines_joins_a_jsonl_source(corpus: Corpus, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "paras.jsonl", [row(1, text=BROKEN)])
    do_import(corpus.path, str(source), "--join-lines")
    assert [r["text"] for r in records(corpus.path)] == [BROKEN.replace("\n\n", " ")]


def text_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "s.txt").write_text(f"---\ntitle: T\nspeaker: S\ndate: 2019\ncountry: GB\n"
                                  f"language: en\n---\n{BROKEN}\n")
    return folder


@pytest.mark.parametrize(("options", "expected"), [
    ((), BROKEN.replace("\n\n", " ")),
    (("--join-lines",), BROKEN.replace("\n\n", " ")),
    (("--no-join-lines",), BROKEN),
])
def test_a_text_folder_joins_broken_sentences_unless_told(
    corpus: Corpus, tmp_path: Path, options: tuple[str, ...], expected: str
) -> None:
    do_import(corpus.path, str(text_folder(tmp_path)), *options)
    assert [r["text"] for r in records(corpus.path)] == [expected]


def test_add_no_join_lines_keeps_paragraphs(corpus: Corpus, tmp_path: Path) -> None:
    path = tmp_path / "s.txt"
    path.write_text(BROKEN)
    meta = ["--title", "T", "--speaker", "S", "--country", "GB", "--date", "2019",
            "--language", "en"]
    kept = run("--corpus", str(corpus.path), "add", str(path), *meta, "--no-join-lines")
    assert kept.exit_code == 0, kept.stderr
    path.write_text(BROKEN.replace("crime", "fraud"))
    joined = run("--corpus", str(corpus.path), "add", str(path), *meta)
    assert joined.exit_code == 0, joined.stderr
    assert {r["text"] for r in ps.read(corpus.path).to_dicts()} == {
        BROKEN, BROKEN.replace("\n\n", " ").replace("crime", "fraud")}


# -- 8 and 9. --skip-existing and --max-errors -----------------------------------------


def test_skip_existing_commits_nothing_and_without_it_the_import_is_refused(
    corpus: Corpus, tmp_path: Path
) -> None:
    source = write_jsonl(tmp_path / "two.jsonl", [row(1), row(2)])
    do_import(corpus.path, str(source))
    entries = log_entries(corpus.path)
    before = tree_digest(corpus.path)
    again = do_import(corpus.path, str(source), "--skip-existing")
    assert re.fullmatch(r"nothing to import: the corpus has all 2 speeches already "
                        r"\(\d+\.\d s\)\n", again.stdout), again.stdout
    assert log_entries(corpus.path) == entries and tree_digest(corpus.path) == before
    write_jsonl(source, [row(1), row(3), row(2)])
    more = do_import(corpus.path, str(source), "--skip-existing")
    assert re.fullmatch(r"imported 1 speech \(0\.0 MB of text, 9 words\) in one commit of 1 "
                        r"fragment, .*; skipped 2 already in the corpus\n", more.stdout)
    assert log_entries(corpus.path) == entries + 1
    assert [r["title"] for r in records(corpus.path)] == [f"Speech number {n}" for n in (1, 2, 3)]
    before = tree_digest(corpus.path)
    lines = refused(corpus.path, str(source))
    ids = {r["title"]: r["id"] for r in records(corpus.path)}
    assert lines[0] == (f"error: {source}:1: this speech is already in the corpus as "
                        f"'{ids['Speech number 1']}' (same text, speaker, date and source); "
                        "nothing was added (import --skip-existing leaves such speeches out)")
    for line, n in zip(lines[1:3], (3, 2), strict=True):
        assert f"this speech is already in the corpus as '{ids[f'Speech number {n}']}'" in line
    assert lines[3:] == ["error: 3 bad records; nothing was imported"]


def test_max_errors_zero_is_an_error(corpus: Corpus, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "one.jsonl", [row(1)])
    assert refused(corpus.path, str(source), "--max-errors", "0") == [
        "error: max errors 0 must be 1 or more (it is how many bad records are listed)"]
    assert ps.read(corpus.path).height == 0


# -- 10. real corpora through CSV ------------------------------------------------------


@pytest.mark.parametrize("name", ["sotu", "ungdc", "parlamint_at"])
def test_real_corpora_survive_a_csv_round_trip(realdata: Path, tmp_path: Path,
                                               name: str) -> None:
    first = Corpus.init(tmp_path / "first")
    do_import(first.path, str(realdata / f"{name}.jsonl"))
    out = tmp_path / f"{name}.csv"
    exported = run("--corpus", str(first.path), "export", str(out), "--version", "head",
                   "--format", "csv")
    assert exported.exit_code == 0, exported.stderr
    second = Corpus.init(tmp_path / "second")
    do_import(second.path, str(out))
    expected = frame(first.path)
    assert expected.height == len((realdata / f"{name}.jsonl").read_bytes().splitlines())
    assert_frame_equal(frame(second.path), expected)


def test_add_all_takes_the_rows_of_a_data_frame(tmp_path: Path) -> None:
    import pandas as pd  # installed with datasets

    speeches = [make_speech(n, speaker_id=None, themes=["health"] if n else []) for n in range(3)]
    frames = {"polars": pl.DataFrame(speeches), "pandas": pd.DataFrame(speeches),
              "arrow": pa.Table.from_pylist(speeches)}
    expected = Corpus.init(tmp_path / "list").add_all(speeches)
    for name, frame in frames.items():
        assert Corpus.init(tmp_path / name).add_all(frame) == expected, name
    with pytest.raises(InvalidSpeechError, match="a speech must be a mapping of field: value, "
                       "got Series"):
        Corpus.init(tmp_path / "series").add_all([frames["polars"]["title"]])


def test_empty_sources_and_wrong_formats_name_the_path(corpus: Corpus, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("title,speaker,country,date,language,text\n", encoding="utf-8")
    result = run("--corpus", str(corpus.path), "import", str(empty))
    assert result.exit_code == 1
    assert result.stderr == f"error: {empty}: no speeches found; check the path and the format\n"
    folder = tmp_path / "no-tei"
    folder.mkdir()
    result = run("--corpus", str(corpus.path), "import", "--from", "parlamint", str(folder))
    assert result.exit_code == 1 and str(folder) in result.stderr
    result = run("--corpus", str(corpus.path), "import", "--from", "ungdc", str(empty))
    assert result.exit_code == 1 and f"{empty}: is a file; give the UNGDC release folder" in \
        result.stderr


def test_a_stray_quote_is_an_error_not_a_merge_of_rows(corpus: Corpus, tmp_path: Path) -> None:
    source = tmp_path / "quote.csv"
    source.write_text("title,speaker,country,date,language,text\n"
                      'T,S,GB,2019,en,"He said ""no"" and left\n'
                      "T2,S,GB,2019,en,second speech\nT3,S,GB,2019,en,third speech\n",
                      encoding="utf-8")
    assert refused(corpus.path, str(source)) == [
        f"error: {source}:2: not a valid CSV row (unexpected end of data); check its quotes",
        SUMMARY_ONE]


def test_old_mac_line_ends_and_excels_sep_line_are_read(corpus: Corpus, tmp_path: Path) -> None:
    old_mac = tmp_path / "mac.csv"
    old_mac.write_bytes(b"title,speaker,country,date,language,text\rT,S,GB,2019,en,one\r"
                        b"T2,S,GB,2019,en,two\r")
    assert do_import(corpus.path, str(old_mac)).stdout.startswith("imported 2 speeches")
    hinted = tmp_path / "sep.csv"
    hinted.write_text("sep=;\ntitle;speaker;country;date;language;text\nT;S;GB;2019;en;three\n",
                      encoding="utf-8")
    assert do_import(corpus.path, str(hinted)).stdout.startswith("imported 1 speech ")


def test_a_skipped_speech_still_uses_its_id(corpus: Corpus, tmp_path: Path) -> None:
    first = row(1, text="First.")
    corpus.add_all([first])
    twice = write_jsonl(tmp_path / "b.jsonl", [{**first, "id": "ada-2019-1"},
                                               {**row(2, text="Second."), "id": "ada-2019-1"}])
    assert refused(corpus.path, str(twice), "--skip-existing")[0] == (
        f"error: {twice}:2: id 'ada-2019-1' was already used for {twice}:1 in this batch; give "
        "each speech its own id")
    mixed = write_jsonl(tmp_path / "c.jsonl", [first, row(3, text="Third.")])
    do_import(corpus.path, str(mixed), "--skip-existing")
    assert corpus.head().rows == 2 and corpus.verify() == []


def test_a_pandas_frame_with_list_columns_maps(tmp_path: Path) -> None:
    import pandas as pd

    rows = [{**make_speech(n), "name": f"Speaker {n}"} for n in range(2)]
    for one in rows:
        del one["speaker"]
    parquet = tmp_path / "rows.parquet"
    pq.write_table(pa.Table.from_pylist(rows), parquet)
    corpus = Corpus.init(tmp_path / "c")
    assert len(corpus.add_all(pd.read_parquet(parquet), mapping={"speaker": "name"})) == 2
