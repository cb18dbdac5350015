"""The corpus's own identity: `init` and `identity` take title, authors with ORCID iDs,
licence and description into its CITATION.cff; `release` refuses a corpus without one."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from policyspeech.citation import make_identity
from policyspeech.errors import CorpusError
from policyspeech.pids import normalise_orcid, orcid_check_digit
from policyspeech.store import Corpus
from tests.helpers import IDENTITY, REPO, SEED, run, tree_digest

CFF_SCHEMA = json.loads((Path(__file__).parent / "data" / "cff-1.2.0.schema.json").read_text())
JANE = "Doe, Jane <0000-0002-1825-0097> (University of Oslo)"
OPTIONS = ["--title", "UK policy speeches", "--author", JANE, "--author", "Policy Lab",
           "--license", "cc-by-4.0", "--description", "Speeches of UK ministers.",
           "--keyword", "speeches", "--url", "https://example.org/uk-speeches"]


def one_error(result: object) -> str:
    assert result.exit_code == 1, result.stdout  # type: ignore[attr-defined]
    [line] = result.stderr.splitlines()  # type: ignore[attr-defined]
    assert line.startswith("error: ")
    return line


def test_init_writes_the_identity_to_the_corpus_citation_file(tmp_path: Path) -> None:
    created = run("init", str(tmp_path / "c"), *OPTIONS)
    assert created.exit_code == 0, created.stderr
    assert created.stderr == ""  # a complete identity: no hint
    data = yaml.safe_load((tmp_path / "c" / "CITATION.cff").read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(
        CFF_SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    assert [e.message for e in validator.iter_errors(data)] == []
    assert data["title"] == "UK policy speeches" and data["license"] == "CC-BY-4.0"
    assert data["authors"] == [
        {"family-names": "Doe", "given-names": "Jane",
         "orcid": "https://orcid.org/0000-0002-1825-0097", "affiliation": "University of Oslo"},
        {"name": "Policy Lab"}]
    assert data["abstract"] == "Speeches of UK ministers." and data["keywords"] == ["speeches"]
    assert "version" not in data and "preferred-citation" not in data  # no release yet
    shown = run("--corpus", str(tmp_path / "c"), "identity")
    assert shown.stdout.splitlines() == [
        "title: UK policy speeches", f"author: {JANE}", "author: Policy Lab",
        "license: CC-BY-4.0", "description: Speeches of UK ministers.", "keyword: speeches",
        "url: https://example.org/uk-speeches"]


def test_identity_sets_what_it_is_given_and_keeps_the_rest(tmp_path: Path) -> None:
    assert run("init", str(tmp_path / "c")).stderr.startswith(
        "before its first release, give it an identity with `policyspeech identity")
    c = str(tmp_path / "c")
    partial = run("--corpus", c, "identity", "--title", "Speeches", "--author", "Policy Lab")
    assert partial.stdout.splitlines()[-1].startswith(
        "a release needs a licence (--license), a description (--description): set them")
    done = run("--corpus", c, "identity", "--license", "CC0-1.0", "--description", "Text.")
    assert done.stdout.splitlines() == ["title: Speeches", "author: Policy Lab",
                                        "license: CC0-1.0", "description: Text."]
    assert Corpus(c).identity()["title"] == "Speeches"


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--author", "Doe, Jane <0000-0002-1825-0098>",
     "ORCID '0000-0002-1825-0098' has a wrong check digit (a valid iD with these digits "
     "ends in 7)"),
    ("--author", "Doe, Jane <1234>", "ORCID '1234' is not an ORCID iD"),
    ("--author", "Policy Lab <0000-0002-1825-0097>", "an ORCID iD identifies a person"),
    ("--author", "Doe, Jane, Jr, x", "author 'Doe, Jane, Jr, x' cannot be read"),
    ("--license", "CC-BY-4", "licence 'CC-BY-4' is not an SPDX licence identifier"),
    ("--license", "CC-BY-4.0 OR MIT", "is not one SPDX licence identifier"),
    ("--title", " ", "--title is empty"),
    ("--url", "ftp://example.org", "--url 'ftp://example.org' is not an http(s) URL"),
])
def test_a_bad_value_is_one_error_line_and_creates_nothing(
        tmp_path: Path, option: str, value: str, message: str) -> None:
    line = one_error(run("init", str(tmp_path / "c"), option, value))
    assert message in line
    assert not (tmp_path / "c").exists()
    corpus = Corpus.init(tmp_path / "d", **IDENTITY)
    before = tree_digest(corpus.path)
    assert message in one_error(run("--corpus", str(corpus.path), "identity", option, value))
    assert tree_digest(corpus.path) == before


def test_orcid_check_digits() -> None:
    """ISO 7064 mod 11-2 on ORCID's own examples, an X included."""
    for orcid in ("0000-0002-1825-0097", "0000-0001-5109-3700", "0000-0002-1694-233X"):
        digits = orcid.replace("-", "")
        assert orcid_check_digit(digits[:15]) == digits[15]
        assert normalise_orcid(f"https://orcid.org/{orcid.lower()}") == orcid
    with pytest.raises(CorpusError, match="ends in X"):
        normalise_orcid("0000-0002-1694-2331")


def test_release_refuses_a_corpus_without_an_identity(tmp_path: Path) -> None:
    c = str(tmp_path / "c")
    run("init", c)
    run("--corpus", c, "add", str(SEED))
    before = tree_digest(tmp_path / "c")
    line = one_error(run("--corpus", c, "release", "-m", "first"))
    assert "this corpus has no identity of its own" in line
    assert "set it with `policyspeech identity --title TEXT --author" in line
    assert line.endswith("nothing was released")
    assert tree_digest(tmp_path / "c") == before
    run("--corpus", c, "identity", "--title", "T", "--author", "Lab")
    line = one_error(run("--corpus", c, "release"))
    assert "it lacks a licence (--license), a description (--description)" in line
    run("--corpus", c, "identity", "--license", "CC0-1.0", "--description", "D.")
    assert run("--corpus", c, "release").stdout.startswith("released 0.1.0")


def test_the_placeholder_credit_is_not_an_identity(tmp_path: Path) -> None:
    """A writable copy of the bundled corpus keeps the bundled release's citation, but its
    own next release needs an identity of its own (not "The policyspeech developers")."""
    copy = Corpus.init(tmp_path / "copy", from_bundled=True)
    assert copy.check().problems == [] and copy.check().warnings == []
    assert copy.identity()["authors"] == [{"name": "The policyspeech developers"}]
    copy.add({"title": "T", "speaker": "S", "country": "GB", "date": "2020", "language": "en",
              "text": "New words."})
    with pytest.raises(CorpusError, match="no identity of its own"):
        copy.release()
    copy.set_identity(title="My speeches", authors=["Doe, Jane"])
    assert copy.release()["citation"]["title"] == "My speeches"
    assert copy.manifest("1.0.0")["citation"]["title"] == "policyspeech corpus"


def test_identity_of_a_copy_of_the_bundled_corpus_says_it_is_not_its_own(tmp_path: Path
                                                                          ) -> None:
    """The copy shows the bundled title, author, licence and description, so the line
    after them says they are the bundled corpus's, not that a title and the rest lack."""
    c = str(tmp_path / "copy")
    assert run("init", c, "--from-bundled").exit_code == 0
    shown = run("--corpus", c, "identity")
    assert shown.exit_code == 0
    assert shown.stdout.splitlines()[:2] == ["title: policyspeech corpus",
                                             "author: The policyspeech developers"]
    assert shown.stdout.splitlines()[-1] == (
        "a release needs an identity of its own, not the bundled corpus's title and author: "
        'set it with `policyspeech identity --title TEXT --author "Family, Given <ORCID>" '
        "--license SPDX-ID --description TEXT`")


def test_a_new_identity_applies_from_the_next_release(corpus: Corpus) -> None:
    corpus.add({"title": "T", "speaker": "S", "country": "GB", "date": "2020",
                "language": "en", "text": "Words."})
    corpus.release()
    first = corpus.cite("0.1.0", "apa")
    corpus.set_identity(authors=["Doe, Jane <0000-0002-1825-0097>"])
    assert corpus.cite("0.1.0", "apa") == first  # the release keeps its own
    assert corpus.verify() == [] and corpus.check().warnings == []
    cff = yaml.safe_load((corpus.path / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["authors"][0]["family-names"] == "Doe"  # the next release's
    assert cff["preferred-citation"]["authors"] == [
        {"family-names": "Lovelace", "given-names": "Ada"}]
    corpus.add({"title": "U", "speaker": "S", "country": "GB", "date": "2021",
                "language": "en", "text": "More words."})
    corpus.release()
    assert corpus.cite("0.2.0", "apa").startswith("Doe, J. (")
    zenodo = json.loads((corpus.path / ".zenodo.json").read_text(encoding="utf-8"))
    assert zenodo["creators"] == [{"name": "Doe, Jane", "orcid": "0000-0002-1825-0097"}]


def test_python_api_mirrors_the_cli(tmp_path: Path) -> None:
    corpus = Corpus.init(tmp_path / "c", title="T", authors=[JANE], license="cc0-1.0",
                         description="D.", keywords=["a", "a", "b"])
    assert corpus.identity() == make_identity(title="T", authors=[JANE], license="CC0-1.0",
                                              description="D.", keywords=["a", "b"])
    with pytest.raises(CorpusError, match="give at least one --author"):
        corpus.set_identity(authors=[])


def test_the_bundled_corpus_keeps_its_own_identity() -> None:
    """The repository's CITATION.cff is the bundled corpus's own, byte for byte."""
    own = (REPO / "corpus" / "CITATION.cff").read_bytes()
    assert own == (REPO / "CITATION.cff").read_bytes()
    bundled = Corpus(REPO / "corpus")
    assert bundled.identity()["title"] == "policyspeech corpus"
    assert bundled.check().problems == [] and bundled.check().warnings == []
