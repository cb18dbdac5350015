"""What a corpus is published as: its identity (``policyspeech identity``) and the DOIs of
its releases (``policyspeech doi``).

The identity (title, authors, licence, description, keywords, URL) is written to the
corpus's own ``CITATION.cff`` (:func:`set_identity`); it is not in the log, and a release
snapshots it in its manifest. A DOI is minted after a release is deposited, so it cannot
be in the release's manifest: :func:`set_doi` records it as a log entry of its own
(operation ``doi``, no fragments), for one release or, as the concept DOI, for every
version. The release's data, manifest and fingerprint stay as they were; the citation
files (``CITATION.cff``, ``croissant.json``, ``.zenodo.json``) and the card are written
again with it. A release keeps its DOI: another one replaces it only when asked
(``replace``), and the log keeps both.

Examples
--------
>>> import tempfile, pathlib
>>> from policyspeech.store import Corpus
>>> corpus = Corpus.init(pathlib.Path(tempfile.mkdtemp()) / "c")
>>> set_identity(corpus.writer, title="Speeches", authors=["Policy Lab"],
...              license="cc0-1.0", description="Speeches.")["license"]
'CC0-1.0'
>>> corpus.add({"title": "T", "speaker": "S", "country": "GB", "date": "2019",
...             "language": "en", "text": "Words."}) and corpus.release()["version"]
'0.1.0'
>>> set_doi(corpus.writer, "0.1.0", "https://doi.org/10.5281/zenodo.42")
'10.5281/zenodo.42'
>>> corpus.head().dois
{'0.1.0': '10.5281/zenodo.42'}
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from policyspeech.citation import (
    NO_DOIS,
    citation_file,
    dois_for,
    make_identity,
    read_citation,
    render_cff,
)
from policyspeech.commit import Writer
from policyspeech.documents import DoiRecord, Entry
from policyspeech.errors import CorpusError, UnknownVersionError
from policyspeech.log import HeadState, new_entry
from policyspeech.pids import normalise_doi
from policyspeech.releases import parse_version
from policyspeech.releasing import write_release_files


def set_identity(writer: Writer, *, title: str | None = None,
                 authors: Sequence[str] | None = None, license: str | None = None,
                 description: str | None = None, keywords: Iterable[str] | None = None,
                 url: str | None = None) -> dict[str, Any]:
    """Set the values given of the corpus's identity (the others stay) in its own
    ``CITATION.cff``; return the whole identity. Each value is checked first (see
    :func:`policyspeech.citation.make_identity`); a bad one changes nothing."""
    writer.check_writable()
    identity = make_identity(title=title, authors=authors, license=license,
                             description=description, keywords=keywords, url=url,
                             base=read_citation(writer.path))
    with writer.lock():
        state = writer.reader.head()
        latest = writer.reader.latest_manifest(state)
        dois = dois_for(state, latest) if latest else NO_DOIS
        writer.replace_derived(citation_file(writer.path),
                               render_cff(latest, identity, dois).encode(), "citation")
    return identity


def set_doi(writer: Writer, version: str | None, doi: str, *, replace: bool = False
            ) -> str | None:
    """Record ``doi`` as the DOI of release ``version`` (None: the concept DOI, of every
    version) in a ``doi`` log entry; return the DOI as recorded, or None when the log had
    it already. A different DOI already recorded is refused unless ``replace``; a DOI that
    names another version is refused."""
    doi = normalise_doi(doi)
    writer.check_writable()
    reader = writer.reader
    releases = reader.view().releases
    if not releases:
        raise UnknownVersionError("this corpus has no release yet, and a DOI names a release "
                                  "(or, with --concept, all of them): release it first "
                                  "(`policyspeech release`), deposit it, then record the DOI")
    if version is not None and version != "latest" and version not in releases:
        known = ", ".join(sorted(releases, key=parse_version)) or "none yet"
        raise UnknownVersionError(f"version '{version}' is not a release of this corpus "
                                  f"(releases: {known}); a DOI names one release, or every "
                                  "version with --concept")
    name = None if version is None else reader.resolve_version(version)

    def current(head: HeadState) -> str | None:
        if name is None:
            return head.concept_doi
        return dois_for(head, reader.manifest(name)).release

    label = "every version (the concept DOI)" if name is None else f"release {name}"

    def check(head: HeadState) -> str | None:
        """The DOI this one replaces; raises when it may not be recorded."""
        holders = {f"release {v}": d for v, d in head.dois.items()}
        if head.concept_doi:
            holders["every version (the concept DOI)"] = head.concept_doi
        taken = [who for who, d in holders.items() if who != label and d.lower() == doi.lower()]
        if taken:
            raise CorpusError(f"DOI {doi} is recorded for {taken[0]} already; each release "
                              "has a DOI of its own, and the concept DOI is another one")
        before = current(head)
        if before and before != doi and not replace:
            raise CorpusError(f"{label} has DOI {before} already; give --replace to record "
                              f"{doi} in its place (the log keeps both)")
        return before

    with writer.writing():
        if (current(reader.head()) or "").lower() == doi.lower():
            return None

        def build(head: HeadState) -> Entry:
            before = check(head)
            record: DoiRecord = {"version": name, "doi": doi}
            if before:
                record["replaces"] = before
            return new_entry(head, operation="doi", message=f"DOI {doi} for {label}",
                             doi=record, schema_version=head.schema_version)

        check(reader.head())
        writer.commit(build)
        write_release_files(writer)
    return doi
