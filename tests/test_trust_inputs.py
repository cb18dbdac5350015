"""Issue 12, confined inputs and limits (findings 4, 9, 10, 11 input side, 13): every
refusal exits 1 with one ``error:`` line naming the value, and the corpus is unchanged.

An import lists its bad records one line each and then counts them; for a one-record
source that is the line naming the value and the line ``error: 1 bad record; ...``.
The tests that hand a command a FIFO or a device run it in a child process with a
timeout and a memory limit, so that a command that would wait or read forever fails
the test instead of hanging it.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import policyspeech as ps
from policyspeech.errors import CorpusError
from policyspeech.store import Corpus
from tests.helpers import META, make_speech, run, tree_digest

SUMMARY_ONE = "error: 1 bad record; nothing was imported"
REQUIRED = {"speaker": "Ada Lovelace", "country": "GB", "date": "2019-10-30",
            "language": "en"}


def refused(result: Any, value: str) -> None:
    """Exit 1; stderr is one ``error:`` line naming ``value`` (and, for an import, the
    count of bad records)."""
    lines = result.stderr.splitlines()
    assert result.exit_code == 1, result.stderr or result.stdout
    named = [line for line in lines if value in line]
    assert len(named) == 1 and named[0].startswith("error: "), lines
    assert [line for line in lines if line != named[0]] in ([], [SUMMARY_ONE]), lines


class _Child:
    def __init__(self, done: subprocess.CompletedProcess[str]) -> None:
        self.exit_code, self.stdout, self.stderr = done.returncode, done.stdout, done.stderr


def _memory_limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def child(*args: str) -> _Child:
    """``policyspeech ARGS`` in a child process: 20 s and 1 GiB at most."""
    done = subprocess.run([sys.executable, "-m", "policyspeech", *args], capture_output=True,
                          text=True, timeout=20, preexec_fn=_memory_limit)
    return _Child(done)


@pytest.fixture
def seeded(tmp_path: Path) -> tuple[Path, str]:
    """A corpus with one speech, and its id."""
    corpus = Corpus.init(tmp_path / "corpus")
    return corpus.path, corpus.add(make_speech(1))


def jsonl(path: Path, *rows: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


# -- finding 4: --max-errors below 1 --------------------------------------------------------

@pytest.mark.parametrize("value", ["0", "-1"])
def test_finding_04_amend_from_refuses_max_errors_below_one(seeded: tuple[Path, str],
                                                            tmp_path: Path, value: str) -> None:
    """amend --from --max-errors 0 or -1 is one error line, not a traceback or a cut list."""
    folder, record_id = seeded
    before = tree_digest(folder)
    rows = jsonl(tmp_path / "fix.jsonl", {"id": record_id, "country": "UK"},
                 {"id": "nope-0000", "party": "X"})
    refused(run("--corpus", str(folder), "amend", "--from", str(rows), "--reason", "r",
                "--max-errors", value), f"max errors {value} must be 1 or more")
    assert tree_digest(folder) == before


def test_finding_04_library_refuses_max_errors_below_one(seeded: tuple[Path, str]) -> None:
    """Corpus.amend_all(max_errors=0) raises a CorpusError and commits nothing."""
    folder, record_id = seeded
    before = tree_digest(folder)
    with pytest.raises(CorpusError, match="max errors 0 must be 1 or more"):
        Corpus(folder).amend_all([{"id": record_id, "party": "X"}], reason="r", max_errors=0)
    assert tree_digest(folder) == before


# -- finding 9: a path field reads only inside the source's folder --------------------------

@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A private file outside the source's folder."""
    (tmp_path / "private").mkdir()
    secret = tmp_path / "private" / "secret.txt"
    secret.write_text("The importer's private words.", encoding="utf-8")
    (tmp_path / "src").mkdir()
    return secret


@pytest.mark.parametrize("kind", ["jsonl-absolute", "jsonl-relative", "csv-relative",
                                  "symlink"])
def test_finding_09_path_outside_the_source_folder_is_refused(
        corpus: Corpus, tmp_path: Path, outside: Path, kind: str) -> None:
    """A path field naming a file outside the source's folder (or a link out) is refused."""
    before = tree_digest(corpus.path)
    name = {"jsonl-absolute": str(outside), "symlink": "link.txt"}.get(
        kind, "../private/secret.txt")
    if kind == "symlink":
        (tmp_path / "src" / "link.txt").symlink_to(outside)
    row = {"title": "T", **REQUIRED, "path": name}
    if kind.startswith("csv"):
        source = tmp_path / "src" / "s.csv"
        source.write_text(",".join(row) + "\n" + ",".join(row.values()) + "\n", "utf-8")
    else:
        source = jsonl(tmp_path / "src" / "s.jsonl", row)
    refused(run("--corpus", str(corpus.path), "import", str(source)),
            f"path '{name}' is outside the source file's folder")
    assert tree_digest(corpus.path) == before


def test_finding_09_files_root_allows_another_folder(corpus: Corpus, tmp_path: Path,
                                                     outside: Path) -> None:
    """--files-root DIR lets path fields name files in DIR, and only there."""
    source = jsonl(tmp_path / "src" / "s.jsonl",
                   {"title": "T", **REQUIRED, "path": "../private/secret.txt"})
    before = tree_digest(corpus.path)
    refused(run("--corpus", str(corpus.path), "import", str(source), "--files-root",
                str(tmp_path / "src")), "is outside --files-root")
    assert tree_digest(corpus.path) == before
    result = run("--corpus", str(corpus.path), "import", str(source), "--files-root",
                 str(outside.parent))
    assert result.exit_code == 0, result.stderr
    assert Corpus(corpus.path).head().rows == 1


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


FILE_ARGUMENTS = ["add", "add-sidecar", "meta", "import-jsonl", "import-csv",
                  "import-parquet", "import-folder", "path-field", "amend-text", "amend-from",
                  "parlamint", "parlamint-lists", "ungdc-speakers"]


@pytest.mark.parametrize("case", FILE_ARGUMENTS)
def test_finding_09_a_fifo_is_refused_for_every_file_argument(
        seeded: tuple[Path, str], tmp_path: Path, case: str) -> None:
    """A named pipe given (or named) as any input file is refused at once, never read."""
    folder, record_id = seeded
    before = tree_digest(folder)
    text = tmp_path / "speech.txt"
    text.write_text("Words of a speech.", encoding="utf-8")
    corpus = ("--corpus", str(folder))
    fifo_name = {"import-jsonl": "in.jsonl", "import-csv": "in.csv",
                 "import-parquet": "in.parquet", "amend-from": "fix.jsonl",
                 "parlamint": "s.xml", "parlamint-lists": "list.xml",
                 "ungdc-speakers": "speakers.xlsx", "import-folder": "b.txt",
                 "add-sidecar": "speech.txt.yaml"}.get(case, "pipe")
    (tmp_path / "dir").mkdir()
    fifo = _fifo((tmp_path / "dir" if case == "import-folder" else tmp_path) / fifo_name)
    (tmp_path / "dir" / "a.txt").write_text("Other words.", encoding="utf-8")
    meta = [*META, "--retrieved", "2020-01-01"]
    args = {
        "add": ("add", str(fifo), *META),
        "add-sidecar": ("add", str(text), *META),
        "meta": ("add", str(text), "--meta", str(fifo), *META),
        "import-jsonl": ("import", str(fifo)),
        "import-csv": ("import", str(fifo)),
        "import-parquet": ("import", str(fifo)),
        "import-folder": ("import", str(tmp_path / "dir"), *meta),
        "path-field": ("import", str(jsonl(tmp_path / "p.jsonl",
                                           {"title": "T", **REQUIRED, "path": "pipe"}))),
        "amend-text": ("amend", record_id, "--text", str(fifo), "--reason", "r"),
        "amend-from": ("amend", "--from", str(fifo), "--reason", "r"),
        "parlamint": ("import", "--from", "parlamint", str(fifo)),
        "parlamint-lists": ("import", "--from", "parlamint", str(text), "--lists", str(fifo)),
        "ungdc-speakers": ("import", "--from", "ungdc", str(tmp_path / "dir"),
                           "--speakers", str(fifo)),
    }[case]
    result = child(*corpus, *args)
    refused(result, "is a named pipe (FIFO), not a regular file")
    assert tree_digest(folder) == before


# -- finding 10: limits on metadata and on every file read ----------------------------------

def _front(meta: str, body: str = "Words of a speech.") -> str:
    return f"---\n{meta}\n---\n{body}\n"


def with_metadata(tmp_path: Path, where: str, yaml_text: str) -> list[str]:
    """The arguments of ``add`` for a speech whose metadata ``yaml_text`` is its front
    matter, its sidecar or a ``--meta`` file (``m.yaml``)."""
    speech = tmp_path / "s.md"
    if where == "front-matter":
        speech.write_text(_front(yaml_text), encoding="utf-8")
        return [str(speech)]
    speech.write_text("Words of a speech.\n", encoding="utf-8")
    meta = tmp_path / ("s.md.yaml" if where == "sidecar" else "m.yaml")
    meta.write_text(yaml_text + "\n", encoding="utf-8")
    return [str(speech)] + (["--meta", str(meta)] if where == "meta" else [])


@pytest.mark.parametrize("where", ["front-matter", "meta", "sidecar"])
def test_finding_10_yaml_aliases_are_refused(corpus: Corpus, tmp_path: Path,
                                             where: str) -> None:
    """YAML anchors and aliases (what makes a billion laughs) are refused in metadata."""
    args = with_metadata(tmp_path, where, "speaker: &who Ada Lovelace\ntitle: *who\n"
                         "country: GB\ndate: 2019-10-30\nlanguage: en")
    before = tree_digest(corpus.path)
    refused(run("--corpus", str(corpus.path), "add", *args),
            "YAML aliases and anchors (&name, *name) are not allowed")
    assert tree_digest(corpus.path) == before


def test_finding_10_yaml_merge_keys_are_refused(corpus: Corpus, tmp_path: Path) -> None:
    """A YAML merge key (<<), which copies a mapping into another, is refused too."""
    args = with_metadata(tmp_path, "meta", "!!merge <<: {title: T, speaker: S}\ncountry: GB\n"
                         "date: 2019-10-30\nlanguage: en")
    before = tree_digest(corpus.path)
    refused(run("--corpus", str(corpus.path), "add", *args),
            "YAML merge keys (<<) are not allowed")
    assert tree_digest(corpus.path) == before


@pytest.mark.parametrize("where", ["front-matter", "meta"])
def test_finding_10_metadata_over_the_limit_is_refused(corpus: Corpus, tmp_path: Path,
                                                       where: str) -> None:
    """Front matter or a metadata file over 64 KiB is refused before YAML parses it."""
    args = with_metadata(tmp_path, where, "\n".join(
        ["# a comment line of padding, many times over"] * 2_000
        + [f"{k}: {v}" for k, v in {"title": "T", **REQUIRED}.items()]))
    before = tree_digest(corpus.path)
    refused(run("--corpus", str(corpus.path), "add", *args), "than the limit of 65,536")
    assert tree_digest(corpus.path) == before


@pytest.mark.parametrize("case", ["meta", "amend-text", "add"])
def test_finding_10_dev_zero_is_refused(seeded: tuple[Path, str], tmp_path: Path,
                                        case: str) -> None:
    """--meta /dev/zero and amend --text /dev/zero are refused, not read without end."""
    folder, record_id = seeded
    before = tree_digest(folder)
    text = tmp_path / "speech.txt"
    text.write_text("Words of a speech.", encoding="utf-8")
    args = {"meta": ("add", str(text), "--meta", "/dev/zero", *META),
            "amend-text": ("amend", record_id, "--text", "/dev/zero", "--reason", "r"),
            "add": ("add", "/dev/zero", *META)}[case]
    refused(child("--corpus", str(folder), *args),
            "/dev/zero: is a character device, not a regular file")
    assert tree_digest(folder) == before


def test_finding_10_amend_text_has_the_size_limit(seeded: tuple[Path, str],
                                                  tmp_path: Path) -> None:
    """amend --text refuses a file over --max-bytes, as add does."""
    folder, record_id = seeded
    before = tree_digest(folder)
    big = tmp_path / "big.txt"
    big.write_bytes(b"word " * 1_000_001)
    refused(run("--corpus", str(folder), "amend", record_id, "--text", str(big), "--reason",
                "r"), "larger than the limit of 5,000,000 bytes")
    assert tree_digest(folder) == before


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_finding_10_a_record_text_has_the_size_limit(seeded: tuple[Path, str], tmp_path: Path,
                                                     suffix: str) -> None:
    """A text given inside a JSONL or CSV record has the size limit of a text file."""
    folder, _record_id = seeded
    before = tree_digest(folder)
    record = make_speech(7, text="word " * 200_001)
    source = tmp_path / f"big{suffix}"
    if suffix == ".jsonl":
        source.write_text(json.dumps(record) + "\n", encoding="utf-8")
    else:
        names = ["title", "speaker", "country", "date", "language", "text"]
        source.write_text(",".join(names) + "\n" + ",".join(
            f'"{record[n]}"' for n in names) + "\n", encoding="utf-8")
    refused(run("--corpus", str(folder), "import", str(source), "--max-bytes", "1000000"),
            "larger than the limit of 1,000,000 bytes")
    assert tree_digest(folder) == before


# -- finding 11 (input side): deep nesting is one error line --------------------------------

@pytest.mark.parametrize("case", ["import", "amend-from"])
def test_finding_11_deep_json_is_one_error_line(seeded: tuple[Path, str], tmp_path: Path,
                                                case: str) -> None:
    """JSON nested too deeply for Python's reader is one error line, not a RecursionError."""
    folder, _record_id = seeded
    before = tree_digest(folder)
    source = tmp_path / "deep.jsonl"
    source.write_text('{"title": ' + "[" * 100_000 + "]" * 100_000 + "}\n", encoding="utf-8")
    args = ("import", str(source)) if case == "import" else (
        "amend", "--from", str(source), "--reason", "r")
    refused(run("--corpus", str(folder), *args), f"{source}:1: not valid JSON (nested too "
            "deeply)")
    assert tree_digest(folder) == before


@pytest.mark.parametrize("where", ["front-matter", "meta"])
def test_finding_11_deep_yaml_is_one_error_line(corpus: Corpus, tmp_path: Path,
                                                where: str) -> None:
    """YAML nested thousands deep is one error line naming the line, not a RecursionError."""
    args = with_metadata(tmp_path, where, "title: " + "[" * 5_000 + "]" * 5_000)
    source = (f"{tmp_path / 's.md'} (front matter) at line 2" if where == "front-matter"
              else f"{tmp_path / 'm.yaml'} at line 1")
    before = tree_digest(corpus.path)
    refused(run("--corpus", str(corpus.path), "add", *args, *META),
            f"{source}: metadata is nested deeper than 4 levels")
    assert tree_digest(corpus.path) == before


# -- finding 13: duplicates, wrong types, invisible characters, long fields -----------------

DUPLICATES = {
    "front-matter": "the key 'title' is given twice",
    "meta": "the key 'title' is given twice",
    "jsonl": "the key 'title' is given twice in one object",
    "csv": "the header names the column 'title' twice",
    "amend-jsonl": "the key 'party' is given twice in one object",
    "amend-csv": "the header names the column 'party' twice",
}


@pytest.mark.parametrize("case", DUPLICATES)
def test_finding_13_duplicate_keys_and_columns_are_refused(seeded: tuple[Path, str],
                                                           tmp_path: Path, case: str) -> None:
    """A key or column given twice is refused (the last one used to win silently)."""
    folder, record_id = seeded
    before = tree_digest(folder)
    fields = "title: First\n" + "".join(f"{k}: {v}\n" for k, v in REQUIRED.items())
    args: tuple[str, ...]
    if case in ("front-matter", "meta"):
        args = ("add", *with_metadata(tmp_path, case, fields + "title: Second"))
    elif case == "jsonl":
        source = tmp_path / "d.jsonl"
        source.write_text('{"title": "A", "title": "B", "speaker": "S", "country": "GB", '
                          '"date": "2019", "language": "en", "text": "Words."}\n', "utf-8")
        args = ("import", str(source))
    elif case == "csv":
        source = tmp_path / "d.csv"
        source.write_text("title,speaker,title,country,date,language,text\n"
                          "A,S,B,GB,2019,en,Words.\n", "utf-8")
        args = ("import", str(source))
    elif case == "amend-jsonl":
        source = tmp_path / "fix.jsonl"
        source.write_text(f'{{"id": "{record_id}", "party": "A", "party": "B"}}\n', "utf-8")
        args = ("amend", "--from", str(source), "--reason", "r")
    else:
        source = tmp_path / "fix.csv"
        source.write_text(f"id,party,party\n{record_id},A,B\n", "utf-8")
        args = ("amend", "--from", str(source), "--reason", "r")
    refused(run("--corpus", str(folder), *args), DUPLICATES[case])
    assert tree_digest(folder) == before


WRONG_TYPES = {
    "word-count-true": ({"word_count": True}, "word_count must be a whole number, got bool"),
    "themes-text": ({"themes": "health"}, "themes must be a list of text, got the text"),
    "keywords-text": ({"keywords": "crime"}, "keywords must be a list of text, got the text"),
}


@pytest.mark.parametrize("case", WRONG_TYPES)
def test_finding_13_wrong_types_are_refused(corpus: Corpus, tmp_path: Path,
                                            case: str) -> None:
    """true for a number (Python counts it as 1) and a bare text for a list are refused."""
    fields, message = WRONG_TYPES[case]
    source = jsonl(tmp_path / "t.jsonl", {"title": "T", **REQUIRED, "text": "Word.",
                                          **fields})
    before = tree_digest(corpus.path)
    refused(run("--corpus", str(corpus.path), "import", str(source)), message)
    assert tree_digest(corpus.path) == before


INVISIBLE = {
    "rlo-speaker": ("--speaker", "Ada \u202eecalevoL", "U+202E"),
    "zwj-title": ("--title", "On\u200dcrime", "U+200D"),
    "zwsp-party": ("--party", "Labour\u200b", "U+200B"),
    "isolate-title": ("--title", "\u2066On crime\u2069", "U+2066"),
    "bom-speaker": ("--speaker", "Ada\ufeffLovelace", "U+FEFF"),
    "word-joiner-event": ("--event", "Con\u2060ference", "U+2060"),
}


@pytest.mark.parametrize("case", INVISIBLE)
def test_finding_13_invisible_characters_in_metadata_are_refused(
        corpus: Corpus, tmp_path: Path, case: str) -> None:
    """Bidi controls and zero-width characters in a metadata field are refused."""
    option, value, code = INVISIBLE[case]
    speech = tmp_path / "s.txt"
    speech.write_text("Words of a speech.\n", encoding="utf-8")
    before = tree_digest(corpus.path)
    refused(run("--corpus", str(corpus.path), "add", str(speech), *META, option, value),
            f"has the invisible character {code}")
    assert tree_digest(corpus.path) == before


def test_rtl_marks_and_joiners_are_kept(corpus: Corpus) -> None:
    """Text keeps RLM and ZWNJ; a Persian title keeps the ZWNJ between its letters."""
    title = "\u0633\u06cc\u0627\u0633\u062a\u200c\u0647\u0627"  # Persian "policies"
    text = "\u200f\u0645\u0627 \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u06cc\u0645.\u200e"  # "we want."
    corpus.add({**make_speech(1), "title": title, "text": text, "language": "fa"})
    stored = ps.read(corpus.path).to_dicts()[0]
    assert (stored["title"], stored["text"]) == (title, text)


def test_finding_13_line_separators_in_notes_become_spaces(corpus: Corpus) -> None:
    """U+2028/U+2029 in notes are stored as spaces (text gets line and paragraph breaks)."""
    corpus.add({**make_speech(1), "notes": "First\u2028second\u2029third",
                "text": "One\u2028two\u2029three"})
    stored = ps.read(corpus.path).to_dicts()[0]
    assert (stored["notes"], stored["text"]) == ("First second third", "One\ntwo\n\nthree")


LONG = {
    "title": ("--title", "x" * 4_000_000),
    "speaker": ("--speaker", "y" * 1_001),
    "notes": ("--notes", "z" * 10_001),
    "keyword": ("--keyword", "k" * 1_001),
}


@pytest.mark.parametrize("case", LONG)
def test_finding_13_over_long_fields_are_refused(corpus: Corpus, tmp_path: Path,
                                                 case: str) -> None:
    """A 4 MB title, or any field over its limit, is refused naming the field and limit."""
    option, value = LONG[case]
    speech = tmp_path / "s.txt"
    speech.write_text("Words of a speech.\n", encoding="utf-8")
    field = {"keyword": "keywords"}.get(case, case)
    limit = "10,000" if case == "notes" else "1,000"
    before = tree_digest(corpus.path)
    refused(run("--corpus", str(corpus.path), "add", str(speech), *META, option, value),
            f"{field} '{value[:40]}...' is {len(value):,} characters long, more than the "
            f"limit of {limit}")
    assert tree_digest(corpus.path) == before
