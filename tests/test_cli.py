"""The command line: exit codes, exact messages, and an unchanged corpus on every error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from policyspeech.store import Corpus
from tests.helpers import META, SEED, cli_commands, log_files, run, tree_digest


def test_init_add_list_show(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    assert run("init", str(folder)).exit_code == 0
    speech = tmp_path / "s.txt"
    speech.write_text("We compute.\n\nAnd we publish.")
    added = run("--corpus", str(folder), "add", str(speech), *META, "--theme", "technology",
                "--keyword", "engines")
    assert added.exit_code == 0, added.stderr
    record_id = added.stdout.strip()
    assert record_id == "gb-2019-10-30-ada-lovelace-a-title-ec84d98b"  # the same on any machine
    listed = run("--corpus", str(folder), "list", "--format", "json")
    [row] = json.loads(listed.stdout)
    assert row["id"] == record_id and row["themes"] == ["technology"] and "text" not in row
    table = run("--corpus", str(folder), "list")
    assert table.stdout.splitlines()[0].split() == ["id", "date", "speaker", "country",
                                                    "word_count", "title"]
    assert record_id in table.stdout
    csv_out = run("--corpus", str(folder), "list", "--format", "csv", "--country", "GB")
    assert csv_out.stdout.splitlines()[1].startswith(f"{record_id},A title,Ada Lovelace")
    assert run("--corpus", str(folder), "list", "--format", "jsonl", "--country", "DE").stdout \
        .strip() == ""
    shown = run("--corpus", str(folder), "show", record_id)
    assert shown.exit_code == 0
    assert shown.stdout.endswith("We compute.\n\nAnd we publish.\n")
    assert "keywords        engines" in shown.stdout
    as_json = json.loads(run("--corpus", str(folder), "show", record_id, "--format", "json")
                         .stdout)
    assert as_json["word_count"] == 5 and as_json["date"] == "2019-10-30"
    as_csv = run("--corpus", str(folder), "show", record_id, "--format", "csv").stdout
    assert as_csv.splitlines()[0].startswith("id,title,speaker")


def test_add_from_stdin_with_meta_file(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    Corpus.init(folder)
    meta = tmp_path / "m.yaml"
    meta.write_text("title: T\nspeaker: S\ncountry: DE\ndate: 2020-02\nlanguage: de\n")
    result = run("--corpus", str(folder), "add", "-", "--meta", str(meta),
                 input=b"Wir handeln.")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "de-2020-02-s-t-c10878dc"


def test_add_several_files_is_one_commit_and_dry_run(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    Corpus.init(folder)
    files = []
    for n in range(3):
        path = tmp_path / f"s{n}.txt"
        path.write_text(f"Text {n}.")
        files.append(str(path))
    before = tree_digest(folder)
    dry = run("--corpus", str(folder), "add", *files, *META, "--dry-run")
    assert dry.exit_code == 0 and len(dry.stdout.split()) == 3
    assert "dry run" in dry.stderr and tree_digest(folder) == before
    result = run("--corpus", str(folder), "add", *files, *META)
    assert result.exit_code == 0
    assert len(log_files(folder)) == 2
    assert len(result.stdout.split()) == 3 and len(set(result.stdout.split())) == 3


BAD_INPUTS = [
    # (file bytes, extra options, expected message)
    ("Hello".encode("utf-16-le"), [], "is UTF-16, not UTF-8"),
    ("caf\u00e9".encode("latin-1"), [], "not valid UTF-8 at byte 3 (0xE9)"),
    (b"bad \x00 nul", [], "control character U+0000"),
    (b"bad \x1b escape", [], "control character U+001B"),
    (b"\xed\xa0\x80 surrogate", [], "not valid UTF-8 at byte 0"),
    (b" \n\t\n ", [], "text is empty"),
    (b"Text.", ["--date", "2019-02-30"], "date '2019-02-30' is not a real date"),
    (b"Text.", ["--date", "10/05/2019"], "date '10/05/2019' is not an ISO 8601 date"),
    (b"Text.", ["--date", "2999-01-01"], "date '2999-01-01' is in the future"),
    (b"Text.", ["--theme", "crime"], "theme 'crime' is not in the codebook"),
    (b"Text.", ["--theme", "Health"], "use 'health'"),
    (b"Text.", ["--country", "UK"], "country 'UK' is not a country code; use 'GB' (United Kingdom)"),
    (b"Text.", ["--language", "xx"], "language 'xx' is not an ISO 639-1 code"),
    (b"Text.", ["--source-url", "javascript:alert(1)"], "is not an http(s) URL"),
    (b"Text.", ["--id", "../x"], "id '../x' is not valid"),
    (b"Text.", ["--id", "a/b"], "id 'a/b' is not valid"),
    (b"Text.", ["--id", "x" * 300], "is not valid; use 3 to 128 characters"),
    (b"Text.", ["--id", ""], "id '' is empty; give an id or leave it out"),
    ("It\u00e2\u20ac\u2122s a test.".encode(), [], "looks like mojibake: '\u00e2\u20ac\u2122'"),
    ("Caf\u00c3\u00a9 society.".encode(), [], "(it should be '\u00e9')"),
    (b"---\ntitle: !!python/object/apply:os.system [ls]\n---\nText.", [],
     "python tags are not allowed"),
    (b"---\n- a list\n---\nText.", [], "metadata must be a YAML mapping"),
    (b"Text.", ["--max-bytes", "3"], "larger than the limit of 3 bytes"),
    (b"Text.", ["--speaker", ""], "missing required field 'speaker'; give --speaker"),
    (b"Text.", ["--date", ""], "missing required field 'date'; give --date"),
    (b"Text.", ["--country", "gb"], "country 'gb' must be upper case; use 'GB'"),
    (b"Text.", ["--language", "EN"], "language 'EN' must be lower case; use 'en'"),
    (b"Text.", ["--retrieved", "2019-02-29"], "retrieved '2019-02-29' is not a real date"),
    (b"Text.", ["--speaker-id", "Lewis"], "speaker_id 'Lewis' is not a Wikidata QID"),
    (b"Text.", ["--delivery", "shouted"], "delivery 'shouted' is not allowed"),
    (b"Text.", ["--license", "CC BY"], "license 'CC BY' is not an SPDX identifier"),
    (b"---\nspeker: x\n---\nText.", [], "unknown field 'speker'; did you mean 'speaker'?"),
]


@pytest.mark.parametrize(("data", "options", "message"), BAD_INPUTS)
def test_bad_input_exits_1_with_one_line_and_leaves_the_corpus_unchanged(
    tmp_path: Path, data: bytes, options: list[str], message: str
) -> None:
    folder = tmp_path / "c"
    Corpus.init(folder)
    run("--corpus", str(folder), "add", str(SEED))
    before = tree_digest(folder)
    path = tmp_path / "bad.txt"
    path.write_bytes(data)
    replaced = {o for o in options if o.startswith("--")}
    metadata = [v for i in range(0, len(META), 2) if META[i] not in replaced
                for v in META[i : i + 2]]
    result = run("--corpus", str(folder), "add", str(path), *metadata, *options)
    assert result.exit_code == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {path}") and message in line
    assert tree_digest(folder) == before


def test_without_an_id_one_is_derived(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    Corpus.init(folder)
    path = tmp_path / "s.txt"
    path.write_text("Text.")
    result = run("--corpus", str(folder), "add", str(path), *META)
    assert result.exit_code == 0
    assert result.stdout.strip() == "gb-2019-10-30-ada-lovelace-a-title-e62b88cc"


def test_duplicate_and_other_errors(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    Corpus.init(folder)
    first = run("--corpus", str(folder), "add", str(SEED))
    before = tree_digest(folder)
    again = run("--corpus", str(folder), "add", str(SEED), "--party", "Other")
    assert again.exit_code == 1
    assert f"this speech is already in the corpus as '{first.stdout.strip()}'" in again.stderr
    missing = run("--corpus", str(folder), "show", "no-such-id")
    assert missing.exit_code == 1 and missing.stderr.startswith("error: no speech with id")
    bad_format = run("--corpus", str(folder), "list", "--format", "xml")
    assert bad_format.exit_code == 1 and "format 'xml' is not known" in bad_format.stderr
    not_corpus = run("--corpus", str(tmp_path), "list")
    assert not_corpus.exit_code == 1
    assert not_corpus.stderr == (f"error: '{tmp_path}' is not a policyspeech corpus (no "
                                 "log/00000/00000000.json); create one with `policyspeech init DIR`\n")
    two_ids = run("--corpus", str(folder), "add", str(SEED), str(SEED), "--id", "abc")
    assert two_ids.exit_code == 1 and "--id names one speech" in two_ids.stderr
    assert tree_digest(folder) == before
    usage = run("--corpus", str(folder), "add")
    assert usage.exit_code == 2


def test_writing_to_the_bundled_corpus_says_how_to_copy_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("add", str(SEED))
    assert result.exit_code == 1
    assert "read-only; make a writable copy with `policyspeech init DIR --from-bundled`" in (
        result.stderr)
    copy = run("init", "mine", "--from-bundled")
    assert copy.exit_code == 0 and "with 1 record\n" in copy.stdout


def test_themes_and_schema_commands(tmp_path: Path) -> None:
    themes = run("themes", "--format", "csv")
    assert themes.stdout.splitlines()[11].startswith("12,law_and_crime,Law and Crime,")
    assert len(json.loads(run("themes", "--format", "json").stdout)) == 21
    exported = run("schema", "export", str(tmp_path / "out"))
    assert exported.exit_code == 0
    assert (tmp_path / "out" / "themes.csv").read_text() == themes.stdout
    assert "text_sha256" in run("schema", "fields").stdout


COMMANDS = cli_commands()


def test_the_cli_has_the_commands_of_the_design() -> None:
    assert {"init", "add", "list", "show", "themes"} <= {c[0] for c in COMMANDS}


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(command: tuple[str, ...]) -> None:
    result = run(*command, "--help")
    assert result.exit_code == 0
    assert f"Usage: policyspeech {' '.join(command)}" in result.stdout
    assert "Example: policyspeech" in result.stdout


def test_help_is_fast_and_imports_no_heavy_library() -> None:
    code = ("import sys; from policyspeech.cli import app; "
            "from typer.main import get_command; get_command(app); "
            "print(sorted(m for m in ('polars', 'datasets', 'pyarrow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_python_dash_m(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "policyspeech", "themes"], capture_output=True,
                         text=True, check=True, cwd=tmp_path)
    assert "law_and_crime" in out.stdout
