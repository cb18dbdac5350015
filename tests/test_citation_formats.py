"""Citations that the real tools accept: BibTeX that pybtex parses (LaTeX specials escaped),
CSL JSON that citeproc-py renders, APA 7, complete RIS, CFF against its schema, the load
hint naming the corpus, and the sources to credit after the citation."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import jsonschema
import pytest
import yaml

from policyspeech.citation import Dois, cite
from policyspeech.citeformats import LATEX_SPECIALS
from policyspeech.store import Corpus
from tests.helpers import REPO, make_speech

CFF_SCHEMA = json.loads((Path(__file__).parent / "data" / "cff-1.2.0.schema.json").read_text())
SPECIALS = "& % # _ $ { } ~ ^ \\"
NASTY_TITLE = "R&D: 50% of #1_speeches cost $5 {or} ~more^ \\ less"


def manifest(authors: list[dict], title: str = "Speeches", **citation: object) -> dict:
    return {"version": "1.2.0", "date": "2026-03-04", "fingerprint": "ab" * 32, "records": 3,
            "citation": {"title": title, "authors": authors, "license": "CC-BY-4.0",
                         "abstract": "Speeches.", "corpus": "uk_speeches", **citation}}


PEOPLE = [{"family-names": "Lovelace", "given-names": "Ada Augusta"},
          {"family-names": "O'Neill & Sons_%", "given-names": "Jean-Paul"},
          {"name": "Analytical Engine Society #1"}]


def unescape(text: str) -> str:
    """The inverse of the BibTeX escaping, for the round trip."""
    inverse = {value: key for key, value in LATEX_SPECIALS.items()}
    return re.sub("|".join(re.escape(v) for v in sorted(inverse, key=len, reverse=True)),
                  lambda m: inverse[m.group()], text)


def test_bibtex_escapes_every_latex_special_and_pybtex_parses_it() -> None:
    from pybtex.database import parse_string

    text = cite(manifest(PEOPLE, NASTY_TITLE), "bibtex", Dois("10.5281/zenodo.77"))
    entry = parse_string(text, "bibtex").entries["r_d_50_of_1_speeches_cost_5_or_more_less_1_2_0"]
    title = entry.fields["title"]
    assert title.startswith("{") and unescape(title[1:-1]) == NASTY_TITLE
    for char in SPECIALS.split():  # no special is left bare in the field
        bare = re.sub(r"\\(?:textbackslash|textasciitilde|textasciicircum)\{\}|\\[&%#_${}]",
                      "", title[1:-1])
        assert char not in bare
    persons = [str(p) for p in entry.persons["author"]]
    assert persons[0] == "Lovelace, Ada Augusta"
    assert unescape(persons[1]) == "{O'Neill & Sons_%}, Jean-Paul"  # one family name
    assert persons[2] == r"{Analytical Engine Society \#1}"
    assert entry.fields["doi"] == "10.5281/zenodo.77" and entry.fields["publisher"] == "Zenodo"
    assert entry.fields["version"] == "1.2.0" and entry.fields["year"] == "2026"
    assert r'corpus="uk\_speeches"' in entry.fields["note"]


def test_bibtex_of_a_real_release_parses(corpus: Corpus) -> None:
    from pybtex.database import parse_string

    corpus.set_identity(title=NASTY_TITLE, authors=["Lovelace, Ada <0000-0002-1825-0097>",
                                                    "Policy & Data Lab"])
    corpus.add(make_speech(1))
    corpus.release()
    [entry] = parse_string(corpus.cite("latest", "bibtex"), "bibtex").entries.values()
    assert unescape(entry.fields["title"][1:-1]) == NASTY_TITLE
    assert [str(p) for p in entry.persons["author"]] == ["Lovelace, Ada", r"{Policy \& Data Lab}"]


def test_csl_json_is_an_array_of_items_with_ids_that_citeproc_renders() -> None:
    from citeproc import (
        Citation,
        CitationItem,
        CitationStylesBibliography,
        CitationStylesStyle,
        formatter,
    )
    from citeproc.source.json import CiteProcJSON

    items = json.loads(cite(manifest(PEOPLE), "json", Dois("10.5281/zenodo.9", "10.5281/zenodo.8")))
    assert isinstance(items, list) and len(items) == 1
    [item] = items
    assert item["id"] == "speeches_1_2_0" and item["type"] == "dataset"
    assert item["DOI"] == "10.5281/zenodo.9" and item["version"] == "1.2.0"
    assert item["author"][2] == {"literal": "Analytical Engine Society #1"}
    assert "https://doi.org/10.5281/zenodo.8" in item["note"]  # the concept DOI
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # citeproc-py warns about variables it does not know
        source = CiteProcJSON(items)
    style = CitationStylesStyle("harvard-cite-them-right", validate=False)
    bibliography = CitationStylesBibliography(style, source, formatter.plain)
    bibliography.register(Citation([CitationItem(item["id"])]))
    [rendered] = [str(entry) for entry in bibliography.bibliography()]
    assert "Lovelace, A.A." in rendered and "Analytical Engine Society #1" in rendered
    assert "(2026)" in rendered and "Speeches" in rendered
    assert "https://doi.org/10.5281/zenodo.9" in rendered


def test_apa_7_group_author_version_publisher_and_doi() -> None:
    apa = cite(manifest([{"name": "Policy Lab"}]), "apa", Dois("10.5281/zenodo.5"))
    assert apa.splitlines()[0] == ("Policy Lab. (2026). Speeches (Version 1.2.0) [Data set]. "
                                   "Zenodo. https://doi.org/10.5281/zenodo.5")
    people = cite(manifest(PEOPLE[:2]), "apa").splitlines()[0]
    assert people.startswith("Lovelace, A. A., & O'Neill & Sons_%, J.-P. (2026).")
    with_url = cite(manifest(PEOPLE[:1], url="https://example.org/speeches"), "apa")
    assert with_url.splitlines()[0].endswith("[Data set]. https://example.org/speeches")
    many = [{"family-names": f"Author{n}", "given-names": "A"} for n in range(1, 23)]
    listed = cite(manifest(many), "apa").splitlines()[0]
    assert "Author19, A., . . . Author22, A. (2026)." in listed and "Author20" not in listed


def test_ris_is_complete() -> None:
    ris = cite(manifest(PEOPLE, keywords=["speeches"]), "ris",
               Dois("10.5281/zenodo.5", "10.5281/zenodo.4")).splitlines()
    tags = [line[:2] for line in ris]
    assert ris[0] == "TY  - DATA" and ris[-1] == "ER  - "
    assert all(re.fullmatch(r"[A-Z][A-Z0-9]  - .*", line) for line in ris)
    assert tags.count("AU") == 3 and "AU  - Lovelace, Ada Augusta" in ris
    assert {"TI", "PY", "DA", "ET", "PB", "UR", "DO", "N1", "KW"} <= set(tags)
    assert "DA  - 2026/03/04" in ris and "ET  - 1.2.0" in ris and "PB  - Zenodo" in ris
    assert "DO  - 10.5281/zenodo.5" in ris and "UR  - https://doi.org/10.5281/zenodo.5" in ris


def test_no_field_can_add_a_line() -> None:
    ris = cite(manifest(PEOPLE, "Two\nlines\rTY  - JOUR"), "ris")
    assert "TI  - Two lines TY - JOUR" in ris.splitlines()


def test_the_load_hint_names_a_corpus_that_is_not_the_bundled_one() -> None:
    assert 'ps.read(version="1.2.0", corpus="uk_speeches")' in cite(manifest(PEOPLE), "apa")
    bundled = Corpus(REPO / "corpus")  # released before corpora had names: the bundled one
    assert 'load with ps.read(version="1.0.0").' in bundled.cite("1.0.0", "apa")


def test_credits_follow_the_citation_in_every_format() -> None:
    credits = ["Hansard (UK Parliament), CC-BY-4.0 & OGL", "ParlaMint, CC-BY-4.0"]
    for fmt in ("bibtex", "apa", "ris", "json", "cff"):
        text = cite(manifest(PEOPLE), fmt, credits=credits)
        shown = unescape(text) if fmt == "bibtex" else text
        assert "Credit also: Hansard (UK Parliament), CC-BY-4.0 & OGL; ParlaMint, CC-BY-4.0" \
            in shown, fmt
    assert cite(manifest(PEOPLE), "apa").count("Credit also") == 0


def test_cff_with_dois_follows_the_schema() -> None:
    text = cite(manifest(PEOPLE, url="https://example.org/s"), "cff",
                Dois("10.5281/zenodo.5", "10.5281/zenodo.4"))
    data = yaml.safe_load(text)
    validator = jsonschema.Draft7Validator(
        CFF_SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    assert [e.message for e in validator.iter_errors(data)] == []
    assert data["doi"] == "10.5281/zenodo.5" and data["preferred-citation"]["doi"] == \
        "10.5281/zenodo.5"
    # the release's own DOI first: cffconvert (`cffconvert -f apalike|bibtex|...`) cites the
    # first DOI among the identifiers, over `doi`
    assert [i["value"] for i in data["identifiers"]] == ["10.5281/zenodo.5", "10.5281/zenodo.4"]
    assert data["preferred-citation"]["publisher"] == {"name": "Zenodo"}


@pytest.mark.parametrize("fmt", ["bibtex", "apa", "ris", "json", "cff"])
def test_a_release_without_a_doi_cites_none(fmt: str) -> None:
    text = cite(manifest(PEOPLE), fmt)
    assert "doi.org" not in text and "10.5281" not in text


def test_cite_credits_the_sources_whose_licences_ask_for_it() -> None:
    """The bundled release's one record is under the Open Government Licence, which asks
    for credit: every format names its source after the citation, and BibTeX still
    parses."""
    from pybtex.database import parse_string

    from tests.helpers import run

    credit = "GOV.UK (Home Office), OGL-UK-3.0: 1 record"
    for fmt in ("apa", "bibtex", "ris", "json"):
        result = run("cite", "--version", "1.0.0", "--format", fmt)
        assert result.exit_code == 0 and credit in result.stdout, (fmt, result.stdout)
    bibtex = run("cite", "--format", "bibtex").stdout
    [entry] = parse_string(bibtex, "bibtex").entries.values()
    assert credit in entry.fields["note"]
