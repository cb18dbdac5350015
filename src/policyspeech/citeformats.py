"""A release's citation in the formats that reference managers and LaTeX read: BibTeX, APA
7, RIS and CSL JSON.

:func:`work_of` gathers what a citation says (title, authors, version, date, DOI,
publisher or URL, the fingerprint and how to load the release); each ``render_*`` writes
it in one format. BibTeX escapes LaTeX's special characters (``& % # _ $ { } ~ ^ \\``) in
every field but the DOI and URL (verbatim fields; a DOI has none of them); CSL JSON is an
array of items with an ``id`` and ``type: dataset``, as citeproc-py and pandoc read it;
APA 7 ends a group author with a period and gives the publisher (the repository that
registered the DOI) or the URL, and the DOI as ``https://doi.org/...``; RIS has one ``AU``
per author. Every field is one line: white space, line breaks included, is collapsed.

Examples
--------
>>> manifest = {"version": "1.0.0", "date": "2026-11-28", "fingerprint": "ab" * 32,
...             "records": 2, "citation": {"title": "Speeches & Votes", "license": "CC0-1.0",
...             "authors": [{"name": "Policy Lab"}]}}
>>> work = work_of(manifest, doi="10.5281/zenodo.7", concept_doi=None)
>>> print(render_apa(work).splitlines()[0])
Policy Lab. (2026). Speeches & Votes (Version 1.0.0) [Data set]. Zenodo. https://doi.org/10.5281/zenodo.7
>>> render_bibtex(work).splitlines()[1]
'  title = {{Speeches \\\\& Votes}},'
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from policyspeech.pids import doi_publisher, doi_url

LATEX_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_",
                  "$": r"\$", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                  "^": r"\textasciicircum{}"}


@dataclass(frozen=True)
class Work:
    """What a citation of one release says, every string on one line."""

    key: str
    title: str
    authors: list[dict[str, Any]]
    version: str
    date: str
    license: str
    note: str
    doi: str | None = None
    concept_doi: str | None = None
    url: str | None = None
    publisher: str | None = None
    keywords: tuple[str, ...] = ()
    credits: tuple[str, ...] = ()
    fingerprint: str = ""
    records: int = 0
    load: str = ""


def load_hint(version: str, corpus: str | None = None) -> str:
    """How to load a release in one line; ``corpus`` names a corpus folder that is not
    the one bundled with the package.

    >>> load_hint("1.0.0"), load_hint("1.0.0", "uk-speeches")
    ('ps.read(version="1.0.0")', 'ps.read(version="1.0.0", corpus="uk-speeches")')
    """
    return f'ps.read(version="{version}"' + (f', corpus="{corpus}")' if corpus else ")")


def one_line(value: Any) -> Any:
    """``value`` with the white space of every string in it (line breaks included)
    collapsed, so that no field of a citation can add a line (an RIS tag, say) of its own.

    >>> one_line({"title": "Two\\nlines", "authors": [{"name": " A\\r\\nB "}]})
    {'title': 'Two lines', 'authors': [{'name': 'A B'}]}
    """
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, dict):
        return {key: one_line(item) for key, item in value.items()}
    if isinstance(value, list):
        return [one_line(item) for item in value]
    return value


def work_of(manifest: Mapping[str, Any], *, doi: str | None, concept_doi: str | None,
            credits: Sequence[str] = ()) -> Work:
    """The citation of the release ``manifest`` describes, with its own DOI and the
    concept DOI (every version), and the sources to credit beside it."""
    from anyascii import anyascii

    meta = one_line(dict(manifest["citation"]))
    version, records = str(manifest["version"]), int(manifest["records"])
    load = load_hint(version, meta.get("corpus"))
    note = (f"Corpus fingerprint sha256:{manifest['fingerprint']}; {records:,} "
            f"record{'' if records == 1 else 's'}; load with {load}")
    key = re.sub(r"[^a-z0-9]+", "_", anyascii(f"{meta['title']} {version}").lower()).strip("_")
    return Work(key=key or "corpus", title=meta["title"], authors=list(meta["authors"]),
                version=version, date=str(manifest["date"]), license=meta["license"],
                note=note, doi=doi, concept_doi=concept_doi, url=meta.get("url") or None,
                publisher=doi_publisher(doi), keywords=tuple(meta.get("keywords") or ()),
                credits=tuple(one_line(list(credits))), fingerprint=manifest["fingerprint"],
                records=records, load=load)


def _credit_line(work: Work) -> str:
    return f"Credit also: {'; '.join(work.credits)}" if work.credits else ""


# -- names -------------------------------------------------------------------------------


def family_name(author: Mapping[str, Any]) -> str:
    """The family name with its particle (``van Gogh``); an organisation's whole name."""
    if "name" in author:
        return str(author["name"])
    return " ".join(str(author[k]) for k in ("name-particle", "family-names") if author.get(k))


def display_name(author: Mapping[str, Any]) -> str:
    """``Family, Given`` for a person (``Family, Suffix, Given`` with a suffix), the name
    of an organisation.

    >>> display_name({"family-names": "Lovelace", "given-names": "Ada"})
    'Lovelace, Ada'
    """
    if "name" in author:
        return str(author["name"])
    parts = [family_name(author), author.get("name-suffix"), author.get("given-names")]
    return ", ".join(str(p) for p in parts if p)


def _initials(given: str) -> str:
    """APA initials: ``Ada Augusta`` gives ``A. A.``, ``Jean-Paul`` gives ``J.-P.``."""
    return " ".join("-".join(f"{part[0]}." for part in word.split("-") if part)
                    for word in given.split())


def _apa_name(author: Mapping[str, Any]) -> str:
    if "name" in author:
        return str(author["name"])
    initials = _initials(str(author.get("given-names", "")))
    suffix = f", {author['name-suffix']}" if author.get("name-suffix") else ""
    return f"{family_name(author)}, {initials}{suffix}".strip(", ")


def _apa_authors(authors: list[dict[str, Any]]) -> str:
    """APA 7: up to 20 authors, the last after ``&``; from 21, the first 19, an ellipsis
    and the last; a period after the list (a group author's name gets one too)."""
    names = [_apa_name(a) for a in authors]
    if len(names) > 20:
        text = ", ".join(names[:19]) + ", . . . " + names[-1]
    elif len(names) > 1:
        text = ", ".join(names[:-1]) + ", & " + names[-1]
    else:
        text = names[0] if names else "Anonymous"
    return text if text.endswith(".") else text + "."


# -- formats -----------------------------------------------------------------------------


def render_apa(work: Work) -> str:
    """APA 7 for a data set: author. (year). title (Version v) [Data set]. publisher. DOI or
    URL; then the fingerprint and how to load it, the concept DOI, the credits."""
    link = doi_url(work.doi) if work.doi else work.url
    source = "".join(f" {part}" + ("" if part == link else ".")
                     for part in (work.publisher, link) if part)
    lines = [f"{_apa_authors(work.authors)} ({work.date[:4]}). {work.title} (Version "
             f"{work.version}) [Data set].{source}", f"{work.note}."]
    if work.concept_doi:
        lines.append(f"Every version: {doi_url(work.concept_doi)}.")
    if work.credits:
        lines.append(f"{_credit_line(work)}.")
    return "\n".join(lines)


def render_ris(work: Work) -> str:
    """RIS (``TY  - DATA``): one ``AU`` per author, ``ET`` the version, ``PB`` the
    publisher when known, ``UR`` the URL (else the DOI's), ``DO`` the DOI."""
    lines = ["TY  - DATA", *(f"AU  - {display_name(a)}" for a in work.authors),
             f"TI  - {work.title}", f"PY  - {work.date[:4]}",
             f"DA  - {work.date.replace('-', '/')}", f"ET  - {work.version}"]
    if work.publisher:
        lines.append(f"PB  - {work.publisher}")
    url = work.url or (doi_url(work.doi) if work.doi else None)
    if url:
        lines.append(f"UR  - {url}")
    if work.doi:
        lines.append(f"DO  - {work.doi}")
    lines += [f"KW  - {keyword}" for keyword in work.keywords]
    lines.append(f"N1  - {work.note}")
    if work.concept_doi:
        lines.append(f"N1  - Every version: {doi_url(work.concept_doi)}")
    if work.credits:
        lines.append(f"N1  - {_credit_line(work)}")
    return "\n".join([*lines, "ER  - "])


def latex_escape(text: str) -> str:
    """``text`` with LaTeX's special characters escaped, for a BibTeX field.

    >>> print(latex_escape("R&D: 50% of #1_a {x} ~ ^ $ \\\\"))
    R\\&D: 50\\% of \\#1\\_a \\{x\\} \\textasciitilde{} \\textasciicircum{} \\$ \\textbackslash{}
    """
    return "".join(LATEX_SPECIALS.get(char, char) for char in text)


def _bibtex_name(author: Mapping[str, Any]) -> str:
    """An organisation in braces (BibTeX must not split it into names); a person as
    ``Family, Given`` (``von Family, Suffix, Given``)."""
    if "name" in author:
        return "{" + latex_escape(str(author["name"])) + "}"
    family = latex_escape(family_name(author))
    if " " in family:
        family = "{" + family + "}"  # a family name of several words stays one name
    rest = [latex_escape(str(author[k])) for k in ("name-suffix", "given-names")
            if author.get(k)]
    return ", ".join([family, *rest])


def render_bibtex(work: Work) -> str:
    """A ``@misc`` entry: text fields escaped for LaTeX, the title in double braces (its
    capitals kept), DOI and URL verbatim."""
    note = "; ".join(part for part in (work.note, _credit_line(work)) if part)
    if work.concept_doi:
        note += f"; every version: {doi_url(work.concept_doi)}"
    fields = {"title": "{" + latex_escape(work.title) + "}",
              "author": " and ".join(_bibtex_name(a) for a in work.authors),
              "year": work.date[:4], "month": str(int(work.date[5:7])),
              "version": latex_escape(work.version)}
    if work.publisher:
        fields["publisher"] = latex_escape(work.publisher)
    if work.doi:
        fields["doi"] = work.doi
    if work.url:
        fields["url"] = work.url
    fields["note"] = latex_escape(note)
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields.items())
    return f"@misc{{{work.key},\n{body}\n}}"


def _csl_name(author: Mapping[str, Any]) -> dict[str, str]:
    if "name" in author:
        return {"literal": str(author["name"])}
    name = {"family": str(author.get("family-names", "")),
            "given": str(author.get("given-names", ""))}
    for cff, csl in (("name-particle", "non-dropping-particle"), ("name-suffix", "suffix")):
        if author.get(cff):
            name[csl] = str(author[cff])
    return name


def render_csl(work: Work) -> str:
    """CSL JSON: an array of one ``dataset`` item with an ``id``; the fingerprint, how to
    load it, the licence, the concept DOI and the credits in ``note`` (only variables that
    CSL processors know: citeproc-py warns about any other)."""
    year, month, day = (int(part) for part in work.date.split("-"))
    item: dict[str, Any] = {
        "id": work.key, "type": "dataset", "title": work.title,
        "author": [_csl_name(a) for a in work.authors],
        "issued": {"date-parts": [[year, month, day]]}, "version": work.version,
    }
    if work.publisher:
        item["publisher"] = work.publisher
    if work.doi:
        item["DOI"] = work.doi
    if work.url or work.doi:
        item["URL"] = work.url or doi_url(work.doi or "")
    if work.keywords:
        item["keyword"] = ", ".join(work.keywords)
    concept = f"every version: {doi_url(work.concept_doi)}" if work.concept_doi else ""
    item["note"] = "; ".join(part for part in (work.note, f"licence {work.license}", concept,
                                               _credit_line(work)) if part)
    return json.dumps([item], indent=2, ensure_ascii=False)
