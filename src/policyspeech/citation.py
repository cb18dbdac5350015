"""Citations of releases: ``CITATION.cff`` and ``cite`` in BibTeX, APA, RIS, CFF and JSON.

The citation's title, authors, licence of the compilation and DOI come from the corpus's
``CITATION.cff`` (:func:`citation_source`): ``corpus/CITATION.cff`` if there is one, else
the ``CITATION.cff`` of the folder holding the corpus, but only when that file describes
*this* corpus: a dataset (``type: dataset``) whose notes cite the fingerprint of one of
this corpus's releases, as ``policyspeech`` writes it. So the policyspeech repository's
own file, written for its bundled corpus with ``policyspeech --corpus corpus cite --format
cff > CITATION.cff``, is read; a ``CITATION.cff`` of another dataset that happens to sit
beside a corpus is not, and its DOI and identifiers are never attached to these speeches.

``release`` writes ``corpus/CITATION.cff`` (:func:`citation_file`) with the new version and
date, never a file outside the corpus folder, and snapshots the citation in the release
manifest, so that an old release is always cited as it was released.

Examples
--------
>>> manifest = {"version": "1.0.0", "date": "2026-11-28", "fingerprint": "ab" * 32,
...             "records": 1, "citation": DEFAULT_CITATION}
>>> print(cite(manifest, "bibtex").splitlines()[0])
@misc{policyspeech_corpus_1_0_0,
>>> "Version 1.0.0" in cite(manifest, "apa")
True
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from policyspeech.documents import Manifest
from policyspeech.errors import CorpusError
from policyspeech.layout import CITATION, RELEASES

FORMATS = ("bibtex", "apa", "ris", "cff", "json")
DEFAULT_CITATION: dict[str, Any] = {
    "title": "policyspeech corpus",
    "authors": [{"name": "The policyspeech developers"}],
    "license": "CC-BY-4.0",
    "doi": None,
    "url": None,
    "abstract": "A versioned, citable corpus of political and policy speeches, one record "
    "per speech with its full text and metadata (speaker, office, party, organisation, "
    "country, date, language, themes from the Comparative Agendas Project codebook).",
    "keywords": ["political science", "speeches", "public policy", "comparative politics"],
}
CFF_MESSAGE = ("If you use this corpus, please cite the release you analysed, as below; "
               "the fingerprint identifies its exact records.")


_FINGERPRINT = re.compile(r"sha256:([0-9a-f]{64})")


def citation_file(corpus: Path) -> Path:
    """The ``CITATION.cff`` that ``release`` writes: the corpus's own, inside its folder."""
    return corpus / CITATION


def citation_source(corpus: Path) -> Path | None:
    """The ``CITATION.cff`` that describes ``corpus``: its own, else its parent folder's
    when that one cites a release of this corpus by fingerprint; None if neither."""
    own = corpus / CITATION
    if own.is_file():
        return own
    parent = corpus.resolve().parent / CITATION
    if not parent.is_file():
        return None
    data = _load(parent)
    preferred = data.get("preferred-citation")
    notes = " ".join(str(part.get("notes", "")) for part in (data, preferred)
                     if isinstance(part, dict))
    cited = set(_FINGERPRINT.findall(notes))
    if data.get("type") == "dataset" and cited & _release_fingerprints(corpus):
        return parent
    return None


def _release_fingerprints(corpus: Path) -> set[str]:
    """The fingerprints that the release manifests of ``corpus`` record."""
    found = set()
    for path in (corpus / RELEASES).glob("*.json"):
        try:
            manifest = json.loads(path.read_bytes())
        except (OSError, ValueError):
            continue
        if isinstance(manifest, dict) and isinstance(manifest.get("fingerprint"), str):
            found.add(manifest["fingerprint"])
    return found


def read_citation(corpus: Path) -> dict[str, Any]:
    """Title, authors, licence, DOI, URL, abstract and keywords of the corpus."""
    path = citation_source(corpus)
    meta = dict(DEFAULT_CITATION)
    if path is not None:
        data = _load(path)
        for key in ("title", "authors", "license", "doi", "url", "abstract", "keywords"):
            if data.get(key):
                meta[key] = data[key]
    return meta


MAX_CITATION_BYTES = 1_000_000
"""The largest ``CITATION.cff`` read (a real one is a few kilobytes)."""


class _NoAliasLoader(yaml.SafeLoader):
    """Refuses YAML aliases: a few bytes of them expand to gigabytes (and would be copied
    into every release manifest)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event: Any = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.YAMLError(
                f"line {event.start_mark.line + 1} is a YAML alias (*{event.anchor}); write "
                "the value out in full (aliases are refused)")
        return super().compose_node(parent, index)


def parse_citation(text: str) -> Any:
    """The YAML of a citation file, aliases refused (:class:`yaml.YAMLError`).

    >>> parse_citation("{title: T, keywords: [a]}")
    {'title': 'T', 'keywords': ['a']}
    """
    loader = _NoAliasLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _load(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CITATION_BYTES + 1)
        if len(raw) > MAX_CITATION_BYTES:
            raise CorpusError(f"{path}: a citation file is at most {MAX_CITATION_BYTES:,} "
                              "bytes; this one is larger")
        data = parse_citation(raw.decode("utf-8"))
    except yaml.MarkedYAMLError as exc:
        where = f"line {exc.problem_mark.line + 1}: " if exc.problem_mark else ""
        raise CorpusError(f"{path}: {where}{exc.problem or exc.context} (not valid YAML); "
                          "correct the citation file") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CorpusError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise CorpusError(f"{path}: a citation file must be a YAML mapping")
    return data


def render_cff(manifest: Manifest) -> str:
    """The ``CITATION.cff`` (CFF 1.2.0, ``type: dataset``) of a release."""
    meta = manifest["citation"]
    common: dict[str, Any] = {
        "title": meta["title"],
        "authors": meta["authors"],
        "version": manifest["version"],
        "date-released": manifest["date"],
        "license": meta["license"],
    }
    if meta.get("doi"):
        common["doi"] = meta["doi"]
    if meta.get("url"):
        common["url"] = meta["url"]
    cff: dict[str, Any] = {"cff-version": "1.2.0", "message": CFF_MESSAGE, "type": "dataset",
                           **common, "abstract": meta["abstract"], "keywords": meta["keywords"]}
    cff["preferred-citation"] = {
        "type": "data",
        **common,
        "notes": f"Corpus fingerprint sha256:{manifest['fingerprint']} "
        f"({manifest['records']} record{'' if manifest['records'] == 1 else 's'}). "
        f"Load it with {load_hint(manifest['version'])}.",
    }
    text = yaml.dump(cff, Dumper=_NoAliasDumper, sort_keys=False, allow_unicode=True, width=100)
    return "# Written by `policyspeech release`; edit authors, title, licence or DOI here.\n" + text


class _NoAliasDumper(yaml.SafeDumper):
    """Writes repeated values (the authors) in full, not as YAML anchors and aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def load_hint(version: str) -> str:
    """How to load a release in one line."""
    return f'ps.read(version="{version}")'


def cite(manifest: Manifest, fmt: str) -> str:
    """A citation of the release described by ``manifest`` in ``fmt`` (see :data:`FORMATS`)."""
    if fmt not in FORMATS:
        raise CorpusError(f"citation format '{fmt}' is not known; use one of {', '.join(FORMATS)}")
    meta, version, date = _one_line(manifest["citation"]), manifest["version"], manifest["date"]
    records = manifest["records"]
    note = (f"Corpus fingerprint sha256:{manifest['fingerprint']}; {records} "
            f"record{'' if records == 1 else 's'}; load with {load_hint(version)}")
    doi = meta.get("doi")
    if fmt == "cff":
        return render_cff(manifest)
    if fmt == "json":
        return json.dumps({
            "type": "dataset", "title": meta["title"],
            "author": [_csl_name(a) for a in meta["authors"]],
            "issued": {"date-parts": [[int(part) for part in date.split("-")]]},
            "version": version, "DOI": doi, "URL": meta.get("url"),
            "license": meta["license"], "fingerprint": manifest["fingerprint"],
            "records": manifest["records"], "load": load_hint(version), "note": note,
        }, indent=2, ensure_ascii=False)
    names = [_display_name(a) for a in meta["authors"]]
    if fmt == "apa":
        link = f" https://doi.org/{doi}" if doi else (f" {meta['url']}" if meta.get("url") else "")
        return (f"{_apa_authors(meta['authors'])} ({date[:4]}). {meta['title']} "
                f"(Version {version}) [Data set].{link}\n{note}.")
    if fmt == "ris":
        lines = ["TY  - DATA", f"TI  - {meta['title']}"]
        lines += [f"AU  - {name}" for name in names]
        lines += [f"PY  - {date[:4]}", f"DA  - {date.replace('-', '/')}", f"ET  - {version}",
                  f"N1  - {note}"]
        if doi:
            lines.append(f"DO  - {doi}")
        if meta.get("url"):
            lines.append(f"UR  - {meta['url']}")
        return "\n".join([*lines, "ER  - "])
    key = re.sub(r"[^a-z0-9]+", "_", f"{meta['title']} {version}".lower()).strip("_")
    fields = {
        "title": f"{{{meta['title']}}}",
        "author": " and ".join(_bibtex_name(a) for a in meta["authors"]),
        "year": date[:4],
        "month": str(int(date[5:7])),
        "version": version,
        "note": note.replace("_", r"\_"),
    }
    if doi:
        fields["doi"] = doi
    if meta.get("url"):
        fields["url"] = meta["url"]
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields.items())
    return f"@misc{{{key},\n{body}\n}}"


def _one_line(value: Any) -> Any:
    """``value`` with the white space of every string in it (line breaks included)
    collapsed, so that no field of a citation can add a line (an RIS tag, say) of its own.

    >>> _one_line({"title": "Two\\nlines", "authors": [{"name": " A\\r\\nB "}]})
    {'title': 'Two lines', 'authors': [{'name': 'A B'}]}
    """
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, dict):
        return {key: _one_line(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_one_line(item) for item in value]
    return value


def _display_name(author: dict[str, Any]) -> str:
    if "name" in author:
        return str(author["name"])
    return f"{author.get('family-names', '')}, {author.get('given-names', '')}".strip(", ")


def _bibtex_name(author: dict[str, Any]) -> str:
    return f"{{{author['name']}}}" if "name" in author else _display_name(author)


def _apa_authors(authors: list[dict[str, Any]]) -> str:
    def one(author: dict[str, Any]) -> str:
        if "name" in author:
            return str(author["name"])
        initials = " ".join(f"{part[0]}." for part in str(author.get("given-names", "")).split())
        return f"{author.get('family-names', '')}, {initials}".strip(", ")

    names = [one(a) for a in authors]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + ", & " + names[-1]


def _csl_name(author: dict[str, Any]) -> dict[str, str]:
    if "name" in author:
        return {"literal": str(author["name"])}
    return {"family": str(author.get("family-names", "")),
            "given": str(author.get("given-names", ""))}
