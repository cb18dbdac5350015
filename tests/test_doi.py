"""A DOI per release: `policyspeech doi VERSION DOI` and `--concept DOI` record it in a log
entry of its own, without changing any data, manifest or fingerprint; every citation file
shows a release's DOI for that release only; `.zenodo.json` follows; verify checks it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from policyspeech.errors import CorpusError
from policyspeech.reader import Reader
from policyspeech.replay import replay
from policyspeech.store import Corpus
from tests.helpers import IDENTITY_OPTIONS, SEED, log_files, make_speech, run, tree_digest

V1, V2, CONCEPT = "10.5281/zenodo.1001", "10.5281/zenodo.1002", "10.5281/zenodo.1000"


def one_error(result: object) -> str:
    assert result.exit_code == 1, result.stdout  # type: ignore[attr-defined]
    [line] = result.stderr.splitlines()  # type: ignore[attr-defined]
    assert line.startswith("error: ")
    return line


def digests(corpus: Path, *names: str) -> dict[str, str]:
    """SHA-256 of the data, manifests and log entries named (folders: every file in them)."""
    return {k: v for k, v in tree_digest(corpus).items() if k.split("/")[0] in names}


@pytest.fixture
def two_releases(tmp_path: Path) -> str:
    c = str(tmp_path / "c")
    assert run("init", c, *IDENTITY_OPTIONS).exit_code == 0
    assert run("--corpus", c, "add", str(SEED)).exit_code == 0
    assert run("--corpus", c, "release", "-m", "first").exit_code == 0
    Corpus(c).add(make_speech(2))
    assert run("--corpus", c, "release", "-m", "second").exit_code == 0
    return c


def test_the_whole_round_through_the_cli(two_releases: str) -> None:
    c, path = two_releases, Path(two_releases)
    fingerprints = [v["fingerprint"] for v in Corpus(c).versions()]
    data_before = digests(path, "fragments", "data", "releases", "log")
    recorded = run("--corpus", c, "doi", "0.1.0", f"https://doi.org/{V1}")
    assert recorded.exit_code == 0 and recorded.stdout == f"recorded DOI {V1} for release 0.1.0\n"
    assert run("--corpus", c, "doi", "--concept", CONCEPT).stdout == (
        f"recorded DOI {CONCEPT} for every version (the concept DOI)\n")
    after = digests(path, "fragments", "data", "releases", "log")
    assert {k: v for k, v in after.items() if k in data_before} == data_before  # nothing changed
    new = sorted(set(after) - set(data_before))
    assert new == ["log/00000/00000005.json", "log/00000/00000006.json"]
    entry = json.loads((path / new[0]).read_text())
    assert entry["operation"] == "doi" and entry["doi"] == {"version": "0.1.0", "doi": V1}
    assert entry["added"] == entry["removed"] == entry["ids"] == []
    assert [v["fingerprint"] for v in Corpus(c).versions()] == fingerprints
    verified = run("--corpus", c, "verify", "--deep")
    assert verified.exit_code == 0 and verified.stderr == "", verified.stdout

    # each release's own DOI, and no other version's
    first, second = (run("--corpus", c, "cite", "--version", v, "--format", "apa").stdout
                     for v in ("0.1.0", "0.2.0"))
    assert f"Zenodo. https://doi.org/{V1}\n" in first and V1 not in second
    assert f"Every version: https://doi.org/{CONCEPT}." in second
    for fmt in ("bibtex", "ris", "json", "cff"):
        assert V1 in run("--corpus", c, "cite", "--version", "0.1.0", "--format", fmt).stdout
        assert V1 not in run("--corpus", c, "cite", "--format", fmt).stdout
    versions = json.loads(run("--corpus", c, "versions", "--format", "json").stdout)
    assert [v["doi"] for v in versions] == [V1, None]

    # the files of the newest release (0.2.0): no DOI of its own yet, the concept DOI
    cff = yaml.safe_load((path / "CITATION.cff").read_text())
    assert "doi" not in cff and cff["identifiers"] == [
        {"type": "doi", "value": CONCEPT, "description": "Concept DOI: every version of the corpus"}]
    zenodo = json.loads((path / ".zenodo.json").read_text())
    assert zenodo["version"] == "0.2.0" and "doi" not in zenodo
    assert zenodo["related_identifiers"][:2] == [
        {"identifier": CONCEPT, "relation": "isVersionOf", "scheme": "doi",
         "resource_type": "dataset"},
        {"identifier": V1, "relation": "isNewVersionOf", "scheme": "doi",
         "resource_type": "dataset"}]
    assert len(zenodo["related_identifiers"]) == 2  # no --url: no page to supplement
    croissant = json.loads((path / "croissant.json").read_text())
    assert "identifier" not in croissant and CONCEPT in croissant["isPartOf"]["identifier"]

    assert run("--corpus", c, "doi", "latest", V2).exit_code == 0
    card = (path / "README.md").read_text()
    assert f"doi = {{{V2}}}" in card and "Zenodo. https://doi.org/10\\.5281/zenodo.1002" in card
    # another release's DOI only on that release's line of the versions
    assert [line for line in card.splitlines() if "zenodo.1001" in line] == [
        f"- 0.1.0 ({Corpus(c).versions()[0]['date']}): 1 records, DOI 10\\.5281/zenodo.1001"]
    assert next(line for line in card.splitlines() if line.startswith("- 0.2.0 (")).endswith(
        ", DOI 10\\.5281/zenodo.1002")
    assert json.loads((path / "croissant.json").read_text())["identifier"] == \
        f"https://doi.org/{V2}"
    assert json.loads((path / ".zenodo.json").read_text())["doi"] == V2
    assert yaml.safe_load((path / "CITATION.cff").read_text())["doi"] == V2
    assert run("--corpus", c, "verify").exit_code == 0


def test_errors_are_one_line_and_change_nothing(two_releases: str) -> None:
    c = two_releases
    run("--corpus", c, "doi", "0.1.0", V1)
    run("--corpus", c, "doi", "--concept", CONCEPT)
    before = tree_digest(Path(c))
    cases = [
        (["doi", "0.1.0", "zenodo.1234"], "DOI 'zenodo.1234' is not a DOI; give it as "
         "10.NNNN/suffix"),
        (["doi", "0.1.0", "10.5281/zen odo"], "is not a DOI"),
        (["doi", "9.9.9", V2], "version '9.9.9' is not a release of this corpus (releases: "
         "0.1.0, 0.2.0)"),
        (["doi", "head", V2], "version 'head' is not a release"),
        (["doi", "0.1.0", V2], f"release 0.1.0 has DOI {V1} already; give --replace to "
         f"record {V2} in its place"),
        (["doi", "0.2.0", V1], f"DOI {V1} is recorded for release 0.1.0 already"),
        (["doi", "0.2.0", CONCEPT], f"DOI {CONCEPT} is recorded for every version"),
        (["doi", "--concept", V1], f"DOI {V1} is recorded for release 0.1.0 already"),
        (["doi", "0.1.0"], "give the release and its DOI"),
        (["doi", "0.1.0", V2, "--concept", V2], "not both"),
    ]
    for args, message in cases:
        line = one_error(run("--corpus", c, *args))
        assert message in line, (args, line)
    assert tree_digest(Path(c)) == before
    again = run("--corpus", c, "doi", "0.1.0", f"doi:{V1}")
    assert again.stdout == "release 0.1.0 has this DOI already; nothing recorded\n"
    assert tree_digest(Path(c)) == before


def test_replace_records_a_new_doi_and_the_log_keeps_both(two_releases: str) -> None:
    corpus = Corpus(two_releases)
    corpus.set_doi("0.1.0", V1)
    assert corpus.set_doi("0.1.0", V2, replace=True) == V2
    entries = [json.loads(p.read_text()) for p in log_files(corpus.path)]
    assert [e["doi"] for e in entries if e["operation"] == "doi"] == [
        {"version": "0.1.0", "doi": V1}, {"version": "0.1.0", "doi": V2, "replaces": V1}]
    assert corpus.versions()[0]["doi"] == V2 and corpus.verify() == []
    assert replay(corpus.path).problems == []


def test_readers_and_cached_heads_see_the_dois(two_releases: str) -> None:
    corpus = Corpus(two_releases)
    corpus.set_doi("0.1.0", V1)
    corpus.set_concept_doi(CONCEPT)
    for _ in range(2):  # the second opens from the cached snapshot
        reader = Reader(two_releases)
        assert reader.view().dois == {"0.1.0": V1} and reader.concept_doi() == CONCEPT
        assert Corpus(two_releases).head().dois == {"0.1.0": V1}
    corpus.add(make_speech(3))  # a later commit keeps them
    assert Corpus(two_releases).head().concept_doi == CONCEPT


def test_verify_checks_zenodo_and_the_dois_of_the_citation_files(two_releases: str) -> None:
    corpus = Corpus(two_releases)
    path = corpus.path
    zenodo = path / ".zenodo.json"
    old = {name: (path / name).read_bytes()
           for name in ("CITATION.cff", "croissant.json", ".zenodo.json")}
    corpus.set_doi("0.2.0", V2)
    for name, data in old.items():  # as if the doi command stopped before the files
        (path / name).write_bytes(data)
    report = corpus.check()
    assert report.problems == [] and len(report.warnings) == 3
    assert all("lacks a DOI that the log records" in w for w in report.warnings)
    corpus.repair()
    assert corpus.check().warnings == [] and json.loads(zenodo.read_text())["doi"] == V2

    edited = json.loads(zenodo.read_text())
    edited["version"] = "9.0.0"
    zenodo.write_text(json.dumps(edited))
    [problem] = corpus.verify()
    assert problem.startswith(f"{zenodo}: names release 9.0.0, which the log does not have") \
        or "differs from the file the log generates" in problem
    zenodo.unlink()
    assert corpus.verify() == [] and "missing" in corpus.check().warnings[0]
    corpus.repair()
    assert corpus.check().warnings == []

    cff = path / "CITATION.cff"
    cff.write_text(cff.read_text().replace(V2, "10.1234/typed-by-hand"))
    [problem] = corpus.verify()
    assert "gives DOI 10.1234/typed-by-hand for release 0.2.0, which the log does not " \
        "record; record it with `policyspeech doi 0.2.0 10.1234/typed-by-hand`" in problem


def test_citation_cff_names_the_release_doi_first(two_releases: str) -> None:
    """cffconvert cites the first DOI of `identifiers` (over `doi`): the release's own comes
    first, the concept DOI after it; a file written with the concept DOI first verifies."""
    corpus = Corpus(two_releases)
    corpus.set_concept_doi(CONCEPT)
    corpus.set_doi("0.2.0", V2)
    cff = corpus.path / "CITATION.cff"
    data = yaml.safe_load(cff.read_text())
    assert data["doi"] == V2 and [i["value"] for i in data["identifiers"]] == [V2, CONCEPT]
    first, second = (f"- type: doi\n  value: {d}\n  description: {t}\n" for d, t in (
        (V2, "DOI of release 0.2.0"), (CONCEPT, "'Concept DOI: every version of the corpus'")))
    assert first + second in cff.read_text()
    cff.write_text(cff.read_text().replace(first + second, second + first))
    assert corpus.check().problems == [] and corpus.check().warnings == []


def test_a_doi_entry_changes_no_fingerprint_and_no_release(two_releases: str) -> None:
    corpus = Corpus(two_releases)
    manifests = {v: hashlib.sha256((corpus.path / corpus.head().releases[v]["manifest"])
                                   .read_bytes()).hexdigest() for v in ("0.1.0", "0.2.0")}
    corpus.set_doi("0.1.0", V1)
    assert corpus.check(deep=True).problems == []
    assert {v: hashlib.sha256((corpus.path / corpus.head().releases[v]["manifest"])
                              .read_bytes()).hexdigest() for v in manifests} == manifests
    with pytest.raises(CorpusError, match=r"nothing changed since release 0\.2\.0"):
        corpus.release()  # a DOI is not a change to release


def test_a_release_and_a_doi_of_a_corpus_in_an_older_schema_keep_its_schema(
        tmp_path: Path) -> None:
    """The doi entry records the head's schema version: it upgrades nothing."""
    copy = Corpus.init(tmp_path / "copy", from_bundled=True)
    schema = copy.head().schema_version
    copy.set_doi("1.0.0", V1)
    assert copy.head().schema_version == schema and copy.verify() == []
    assert f"https://doi.org/{V1}" in copy.cite("1.0.0", "apa")


def test_a_bag_of_a_release_carries_its_doi_and_its_zenodo_metadata(
        two_releases: str, tmp_path: Path) -> None:
    Corpus(two_releases).set_doi("0.1.0", V1)
    assert run("--corpus", two_releases, "bundle", "0.1.0", str(tmp_path / "bag")).exit_code == 0
    info = (tmp_path / "bag" / "bag-info.txt").read_text()
    assert f"External-Identifier: https://doi.org/{V1}" in info
    zenodo = json.loads((tmp_path / "bag" / "data" / ".zenodo.json").read_text())
    assert zenodo["version"] == "0.1.0" and zenodo["doi"] == V1
    assert yaml.safe_load((tmp_path / "bag" / "data" / "CITATION.cff").read_text())["doi"] == V1


def test_a_doi_before_any_release_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    """From a user trial: `doi --concept` on a corpus with no release wrote an entry and a
    changelog, then failed with a traceback, and verify then reported lost entries."""
    from tests.helpers import IDENTITY, run, tree_digest

    corpus = Corpus.init(tmp_path / "c", **IDENTITY)
    before = tree_digest(corpus.path)
    for args in (["doi", "--concept", "10.5281/zenodo.1"], ["doi", "latest", "10.5281/zenodo.2"]):
        result = run("--corpus", str(corpus.path), *args)
        assert result.exit_code == 1
        assert result.stderr.startswith("error: this corpus has no release yet"), result.stderr
    assert tree_digest(corpus.path) == before
    assert run("--corpus", str(corpus.path), "verify").exit_code == 0
