"""The corpus's own identity and its citations: ``CITATION.cff`` and ``cite``.

A corpus's identity (title, authors with their ORCID iDs, licence of the compilation,
description, keywords, URL) lives in its own ``CITATION.cff`` (:func:`citation_file`):
``policyspeech init`` and ``policyspeech identity`` write it (:func:`make_identity` checks
each value), and a user may edit it by hand. ``release`` refuses a corpus without a
complete identity (:func:`release_identity`), then snapshots it in the release manifest,
so that a release is always cited as it was released. A ``CITATION.cff`` in the folder
that holds the corpus is read only when it describes *this* corpus: a dataset whose notes
cite the fingerprint of one of its releases (:func:`citation_source`; the policyspeech
repository's own file is such a copy). It is never written.

DOIs are not part of the identity: a DOI is minted after a release is deposited, so
``policyspeech doi`` records it in the log (:class:`Dois`, :func:`dois_for`), and every
citation of a release shows that release's DOI only, and the concept DOI (all versions)
where all versions are meant. The formats themselves are in :mod:`policyspeech.citeformats`.

Examples
--------
>>> identity = make_identity(title="Speeches", authors=["Doe, Jane <0000-0002-1825-0097>"],
...                          license="cc-by-4.0", description="Policy speeches.")
>>> identity["authors"], identity["license"]
([{'family-names': 'Doe', 'given-names': 'Jane', 'orcid': 'https://orcid.org/0000-0002-1825-0097'}], 'CC-BY-4.0')
>>> manifest = {"version": "1.0.0", "date": "2026-11-28", "fingerprint": "ab" * 32,
...             "records": 1, "citation": identity}
>>> print(cite(manifest, "bibtex", Dois("10.5281/zenodo.2")).splitlines()[0])
@misc{speeches_1_0_0,
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from policyspeech.citeformats import (
    display_name,
    load_hint,
    one_line,
    render_apa,
    render_bibtex,
    render_csl,
    render_ris,
    work_of,
)
from policyspeech.documents import Manifest
from policyspeech.errors import CorpusError
from policyspeech.layout import CITATION, RELEASES
from policyspeech.log import HeadState
from policyspeech.pids import ORCID_URL, normalise_license, normalise_orcid

FORMATS = ("bibtex", "apa", "ris", "cff", "json")
IDENTITY_FIELDS = ("title", "authors", "license", "abstract", "keywords", "url")
REQUIRED = {"title": "a title (--title)", "authors": "authors (--author)",
            "license": "a licence (--license)", "abstract": "a description (--description)"}
PLACEHOLDER = {"title": "policyspeech corpus",
               "authors": [{"name": "The policyspeech developers"}]}
"""What releases credited before a corpus had an identity of its own: not an identity."""
SET_IDENTITY = ('`policyspeech identity --title TEXT --author "Family, Given <ORCID>" '
                '--license SPDX-ID --description TEXT`')
CFF_MESSAGE = ("If you use this corpus, please cite the release you analysed, as below; "
               "the fingerprint identifies its exact records.")
CFF_HEADER = ("# Written by policyspeech. Set the title, authors, licence and description with "
              "`policyspeech identity`\n# (or here); record DOIs with `policyspeech doi`.\n")
MAX_TEXT = {"title": 1_000, "abstract": 10_000, "url": 2_000}
MAX_CITATION_BYTES = 1_000_000
"""The largest ``CITATION.cff`` read (a real one is a few kilobytes)."""
_FINGERPRINT = re.compile(r"sha256:([0-9a-f]{64})")
_AUTHOR = re.compile(r"(?P<name>[^<>()]*?)\s*(?:<(?P<orcid>[^<>]*)>)?\s*"
                     r"(?:\((?P<affiliation>[^()]*)\))?")


@dataclass(frozen=True)
class Dois:
    """The DOIs of one release: its own, and the concept DOI of every version."""

    release: str | None = None
    concept: str | None = None


NO_DOIS = Dois()
"""A release without DOIs."""


def dois_for(state: HeadState, manifest: Manifest) -> Dois:
    """The DOIs of the release ``manifest`` describes, as the log records them (a DOI that
    an older policyspeech snapshotted in the manifest counts until the log records one)."""
    version = manifest["version"]
    legacy = manifest["citation"].get("doi") or None
    return Dois(state.dois.get(version) or legacy, state.concept_doi)


# -- the identity ------------------------------------------------------------------------


def parse_author(spec: str) -> dict[str, Any]:
    """An author given as ``Family, Given [<ORCID>] [(Affiliation)]`` (a person) or
    ``Name`` (an organisation, a group author), as a ``CITATION.cff`` author.

    >>> parse_author("Lovelace, Ada (Analytical Society)")
    {'family-names': 'Lovelace', 'given-names': 'Ada', 'affiliation': 'Analytical Society'}
    >>> parse_author("Policy Lab")
    {'name': 'Policy Lab'}
    """
    match = _AUTHOR.fullmatch(" ".join(spec.split()))
    name = match.group("name").strip() if match else ""
    fix = ('write a person as "Family, Given", optionally followed by <ORCID> and '
           '(Affiliation), or an organisation as its name')
    if not match or not name or name.count(",") > 1:
        raise CorpusError(f"author '{spec}' cannot be read; {fix}")
    author: dict[str, Any]
    if "," in name:
        family, given = (part.strip() for part in name.split(",", 1))
        if not family or not given:
            raise CorpusError(f"author '{spec}' lacks a family or a given name; {fix}")
        author = {"family-names": family, "given-names": given}
    else:
        author = {"name": name}
    if match.group("orcid") is not None:
        if "name" in author:
            raise CorpusError(f"author '{spec}': an ORCID iD identifies a person; write the "
                              'person as "Family, Given <ORCID>"')
        author["orcid"] = ORCID_URL + normalise_orcid(match.group("orcid"))
    if match.group("affiliation"):
        if "name" in author:
            raise CorpusError(f"author '{spec}': an organisation has no affiliation in "
                              'CITATION.cff; give a person as "Family, Given (Affiliation)"')
        author["affiliation"] = match.group("affiliation").strip()
    return author


def author_spec(author: Mapping[str, Any]) -> str:
    """How ``author`` is written on the command line (the inverse of :func:`parse_author`).

    >>> author_spec({"family-names": "Doe", "given-names": "Jane",
    ...              "orcid": "https://orcid.org/0000-0002-1825-0097"})
    'Doe, Jane <0000-0002-1825-0097>'
    """
    text = display_name(author)
    if author.get("orcid"):
        text += f" <{str(author['orcid']).removeprefix(ORCID_URL)}>"
    if author.get("affiliation"):
        text += f" ({author['affiliation']})"
    return text


def _text(name: str, value: str, option: str) -> str:
    text = value.strip() if name == "abstract" else " ".join(value.split())
    if not text:
        raise CorpusError(f"{option} is empty; give it a value")
    if len(text) > MAX_TEXT[name]:
        raise CorpusError(f"{option} has {len(text):,} characters; at most "
                          f"{MAX_TEXT[name]:,} are allowed")
    return text


def _url(value: str) -> str:
    text = _text("url", value, "--url")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or re.search(r'[\s"{}\\]', text):
        raise CorpusError(f"--url '{value}' is not an http(s) URL; give the address of the "
                          "corpus's page, starting with https://")
    return text


def make_identity(*, title: str | None = None, authors: Sequence[str] | None = None,
                  license: str | None = None, description: str | None = None,
                  keywords: Iterable[str] | None = None, url: str | None = None,
                  base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The identity ``base`` with the values given replaced, each checked (an ORCID's check
    digit, the SPDX licence list, an http(s) URL); ``authors`` as :func:`parse_author` reads
    them replace all the authors. Raises :class:`CorpusError` naming a bad value."""
    identity = {key: value for key, value in (base or {}).items() if key in IDENTITY_FIELDS}
    if title is not None:
        identity["title"] = _text("title", title, "--title")
    if authors is not None:
        if not authors:
            raise CorpusError("give at least one --author")
        identity["authors"] = [parse_author(spec) for spec in authors]
    if license is not None:
        identity["license"] = normalise_license(license)
    if description is not None:
        identity["abstract"] = _text("abstract", description, "--description")
    if keywords is not None:
        found = [" ".join(k.split()) for k in keywords]
        identity["keywords"] = list(dict.fromkeys(k for k in found if k))
    if url is not None:
        identity["url"] = _url(url)
    return {key: identity[key] for key in IDENTITY_FIELDS if identity.get(key)}


def missing_fields(identity: Mapping[str, Any]) -> list[str]:
    """What :data:`REQUIRED` part of an identity ``identity`` lacks (all of it for the
    placeholder that releases credited before corpora had identities)."""
    if all(identity.get(k) == v for k, v in PLACEHOLDER.items()):
        return list(REQUIRED)
    return [key for key in REQUIRED if not identity.get(key)]


def release_identity(corpus: Path) -> dict[str, Any]:
    """The identity a release of ``corpus`` snapshots, checked complete (else one
    :class:`CorpusError` naming what is missing and the command that sets it), with the
    corpus folder's name for the load hint."""
    path = citation_source(corpus)
    identity = read_citation(corpus)
    missing = missing_fields(identity)
    if missing:
        what = "no identity of its own" if len(missing) == len(REQUIRED) else \
            "an incomplete identity: it lacks " + ", ".join(REQUIRED[m] for m in missing)
        raise CorpusError(f"this corpus has {what} ({path or citation_file(corpus)}); set it "
                          f"with {SET_IDENTITY}; nothing was released")
    where = f"{path}: "
    try:
        identity["license"] = normalise_license(str(identity["license"]))
        authors = identity["authors"]
        if not isinstance(authors, list) or not all(isinstance(a, dict) for a in authors):
            raise CorpusError("authors must be a list of persons and organisations")
        for author in authors:
            if author.get("orcid"):
                author["orcid"] = ORCID_URL + normalise_orcid(str(author["orcid"]))
    except CorpusError as exc:
        raise CorpusError(f"{where}{exc}; correct it with {SET_IDENTITY}") from None
    return {**identity, "corpus": corpus.resolve().name}


# -- CITATION.cff ------------------------------------------------------------------------


def citation_file(corpus: Path) -> Path:
    """The corpus's own ``CITATION.cff``, inside its folder: the one policyspeech writes."""
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
    """The identity fields that the ``CITATION.cff`` describing ``corpus`` gives (an empty
    dict when there is none)."""
    path = citation_source(corpus)
    if path is None:
        return {}
    data = _load(path)
    return {key: data[key] for key in IDENTITY_FIELDS if data.get(key)}


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


def render_cff(manifest: Manifest | None, identity: Mapping[str, Any] | None = None,
               dois: Dois = NO_DOIS) -> str:
    """The ``CITATION.cff`` (CFF 1.2.0, ``type: dataset``): ``identity`` (default: the
    release's) at the top, and the release ``manifest`` describes (None before the first
    release) with its DOIs, its fingerprint and how to load it as the preferred citation."""
    meta = dict(identity if identity is not None else manifest["citation"] if manifest else {})
    cff: dict[str, Any] = {"cff-version": "1.2.0", "message": CFF_MESSAGE, "type": "dataset",
                           "title": meta.get("title"), "authors": meta.get("authors")}
    if manifest is not None:
        cff.update({"version": manifest["version"], "date-released": manifest["date"]})
        if dois.release:
            cff["doi"] = dois.release
        # the release's own DOI first: cffconvert cites the first DOI of ``identifiers``
        described = [(dois.release, f"DOI of release {manifest['version']}"),
                     (dois.concept, "Concept DOI: every version of the corpus")]
        identifiers = [{"type": "doi", "value": doi, "description": text}
                       for doi, text in described if doi]
        if identifiers:
            cff["identifiers"] = identifiers
    cff.update({key: meta[key] for key in ("license", "url", "abstract", "keywords")
                if meta.get(key)})
    if manifest is not None:
        cff["preferred-citation"] = _preferred(manifest, dois)
    text = yaml.dump({k: v for k, v in cff.items() if v is not None}, Dumper=_NoAliasDumper,
                     sort_keys=False, allow_unicode=True, width=100)
    return CFF_HEADER + text


def _preferred(manifest: Manifest, dois: Dois) -> dict[str, Any]:
    """The release as CFF's preferred citation (the identity it was released with)."""
    from policyspeech.pids import doi_publisher

    meta, records = manifest["citation"], manifest["records"]
    cited: dict[str, Any] = {"type": "data", "title": meta["title"], "authors": meta["authors"],
                             "version": manifest["version"],
                             "date-released": manifest["date"], "license": meta["license"]}
    if dois.release:
        cited["doi"] = dois.release
    publisher = doi_publisher(dois.release)
    if publisher:
        cited["publisher"] = {"name": publisher}
    if meta.get("url"):
        cited["url"] = meta["url"]
    cited["notes"] = (f"Corpus fingerprint sha256:{manifest['fingerprint']} ({records} "
                      f"record{'' if records == 1 else 's'}). Load it with "
                      f"{load_hint(manifest['version'], meta.get('corpus'))}.")
    return cited


class _NoAliasDumper(yaml.SafeDumper):
    """Writes repeated values (the authors) in full, not as YAML anchors and aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def cite(manifest: Manifest, fmt: str, dois: Dois = NO_DOIS, *,
         identity: Mapping[str, Any] | None = None, credits: Sequence[str] = ()) -> str:
    """A citation of the release ``manifest`` describes, in ``fmt`` (see :data:`FORMATS`;
    ``json`` is CSL JSON), with its ``dois``. ``credits`` (the sources that must be
    credited beside the corpus, such as the publishers of CC-BY records) follow the
    citation ("Credit also: ..."); ``identity`` heads a ``cff`` citation (default: the
    release's own)."""
    if fmt not in FORMATS:
        raise CorpusError(f"citation format '{fmt}' is not known; use one of {', '.join(FORMATS)}")
    if fmt == "cff":
        text = render_cff(manifest, identity, dois)
        if credits:
            text += "# Credit also: " + "; ".join(one_line(list(credits))) + "\n"
        return text
    work = work_of(manifest, doi=dois.release, concept_doi=dois.concept, credits=credits)
    render = {"bibtex": render_bibtex, "apa": render_apa, "ris": render_ris,
              "json": render_csl}[fmt]
    return render(work)
