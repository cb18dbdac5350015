"""Citations: cite in five formats, CITATION.cff against the official schema, Croissant.
(Formats in depth: test_citation_formats.py; DOIs: test_doi.py; identity: test_identity_cli.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from policyspeech.errors import CorpusError
from policyspeech.store import Corpus
from tests.helpers import REPO, make_speech

CFF_SCHEMA = json.loads((Path(__file__).parent / "data" / "cff-1.2.0.schema.json").read_text())


def validate_cff(text: str) -> dict:
    data = yaml.safe_load(text)
    validator = jsonschema.Draft7Validator(
        CFF_SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    errors = [e.message for e in validator.iter_errors(data)]
    assert errors == []
    return data


@pytest.fixture
def released(corpus: Corpus) -> Corpus:
    (corpus.path / "CITATION.cff").write_text(
        "cff-version: 1.2.0\nmessage: Cite us.\ntype: dataset\ntitle: Speeches of Europe\n"
        "authors:\n  - family-names: Lovelace\n    given-names: Ada Augusta\n"
        "  - name: Analytical Engine Society\nlicense: CC0-1.0\nabstract: Speeches.\n")
    corpus.add(make_speech(1))
    corpus.release(notes="First")
    corpus.set_doi("0.1.0", "10.5281/zenodo.1234")
    return corpus


def test_every_format(released: Corpus) -> None:
    fingerprint = released.manifest("0.1.0")["fingerprint"]
    bibtex = released.cite("0.1.0", "bibtex")
    assert bibtex.startswith("@misc{speeches_of_europe_0_1_0,")
    assert "author = {Lovelace, Ada Augusta and {Analytical Engine Society}}" in bibtex
    assert "doi = {10.5281/zenodo.1234}" in bibtex and fingerprint in bibtex
    apa = released.cite("latest", "apa")
    assert apa.startswith("Lovelace, A. A., & Analytical Engine Society. (2") and (
        "Speeches of Europe (Version 0.1.0) [Data set]. Zenodo. "
        "https://doi.org/10.5281/zenodo.1234") in apa
    ris = released.cite("0.1.0", "ris").splitlines()
    assert ris[0] == "TY  - DATA" and "ET  - 0.1.0" in ris and ris[-1] == "ER  - "
    assert "DO  - 10.5281/zenodo.1234" in ris
    [as_json] = json.loads(released.cite("0.1.0", "json"))
    assert as_json["version"] == "0.1.0" and fingerprint in as_json["note"]
    assert 'ps.read(version="0.1.0", corpus="corpus")' in as_json["note"]
    cff = validate_cff(released.cite("0.1.0", "cff"))
    assert cff["version"] == "0.1.0" and cff["doi"] == "10.5281/zenodo.1234"
    with pytest.raises(CorpusError, match="citation format 'mla' is not known"):
        released.cite("0.1.0", "mla")


def test_citing_an_unreleased_head_is_refused(released: Corpus) -> None:
    assert released.cite("head", "apa") == released.cite("0.1.0", "apa")
    released.add(make_speech(2))
    with pytest.raises(CorpusError, match="unreleased changes and cannot be cited; release "
                       "it first"):
        released.cite("head", "bibtex")


def test_release_rewrites_citation_cff_and_keeps_old_citations(released: Corpus) -> None:
    first = released.cite("0.1.0", "bibtex")
    path = released.path / "CITATION.cff"
    data = validate_cff(path.read_text())
    assert data["version"] == "0.1.0" and data["type"] == "dataset"
    assert data["authors"][0]["family-names"] == "Lovelace"
    assert data["preferred-citation"]["type"] == "data"
    path.write_text(path.read_text().replace("Speeches of Europe", "European Speeches"))
    released.add(make_speech(2))
    released.release()
    data = validate_cff(path.read_text())
    assert (data["version"], data["title"]) == ("0.2.0", "European Speeches")
    assert released.cite("0.1.0", "bibtex") == first  # the snapshot in the manifest


def test_the_shipped_citation_file_is_valid_and_current() -> None:
    data = validate_cff((REPO / "CITATION.cff").read_text())
    shipped = Corpus(REPO / "corpus")
    latest = shipped.manifest("latest")
    assert data["version"] == latest["version"] and data["date-released"] == latest["date"]
    assert data["type"] == "dataset" and "preferred-citation" in data


def test_croissant_is_valid_and_reads_back(released: Corpus) -> None:
    import mlcroissant as mlc

    released.add(make_speech(2, title="Zweite Rede", language="de", country="DE"))
    released.release()
    path = released.path / "croissant.json"
    document = json.loads(path.read_text())
    assert document["version"] == "0.2.0"
    manifest = released.manifest("0.2.0")
    files = {d["@id"]: d for d in document["distribution"] if d["@type"] == "cr:FileObject"}
    assert {f"releases/0.2.0/{f['sha256']}.parquet": f["sha256"]  # the release's folder
            for f in manifest["fragments"]} == {k: v["sha256"] for k, v in files.items()}
    assert all((released.path / name).is_file() for name in files)
    fields = document["recordSet"][0]["field"]
    assert [f["name"] for f in fields][:3] == ["id", "title", "speaker"]
    released.add(make_speech(3))  # unreleased: not part of the release's file set
    released.set_doi("0.2.0", "10.5281/zenodo.1235")
    released.set_concept_doi("10.5281/zenodo.1233")
    document = json.loads(path.read_text())
    assert document["identifier"] == "https://doi.org/10.5281/zenodo.1235"
    assert document["isPartOf"]["identifier"] == "https://doi.org/10.5281/zenodo.1233"
    dataset = mlc.Dataset(jsonld=str(path))  # validates on load
    assert not dataset.metadata.ctx.issues.errors
    assert not dataset.metadata.ctx.issues.warnings
    records = list(dataset.records(record_set="speeches"))
    assert len(records) == 2
    titles = sorted(r["speeches/title"].decode() for r in records)
    assert titles == ["Speech number 1", "Zweite Rede"]
