"""Making a release: the head, compacted, turned into an immutable, citable version.

A release compacts the unreleased fragments, writes the manifest (records, fingerprint,
fragments, changes since the previous release, citation metadata) put-if-absent to
``releases/VERSION.json``, publishes a ``release`` entry naming the manifest's SHA-256,
and regenerates the files derived from the releases: ``CHANGELOG.md``, ``CITATION.cff``
and ``croissant.json``. See :mod:`policyspeech.releases` for versions and fingerprints.

Examples
--------
>>> import tempfile, pathlib
>>> from policyspeech.store import Corpus
>>> corpus = Corpus.init(pathlib.Path(tempfile.mkdtemp()) / "c", title="Speeches",
...                      authors=["Doe, Jane"], license="CC0-1.0", description="Speeches.")
>>> _ = corpus.add({"title": "T", "speaker": "S", "country": "GB", "date": "2019",
...                 "language": "en", "text": "Words."})
>>> manifest = release(corpus.writer, notes="first")
>>> manifest["version"], manifest["records"]
('0.1.0', 1)
"""

from __future__ import annotations

import datetime
import hashlib
import json

from policyspeech.citation import (
    IDENTITY_FIELDS,
    citation_file,
    dois_for,
    read_citation,
    release_identity,
    render_cff,
)
from policyspeech.commit import Writer
from policyspeech.compaction import compact
from policyspeech.croissant import render_croissant
from policyspeech.deltawrite import catch_up as catch_up_delta
from policyspeech.documents import Entry, Manifest
from policyspeech.errors import CorpusError, IntegrityError
from policyspeech.layout import CARD, CHANGELOG, CROISSANT, ZENODO, fragment_file
from policyspeech.log import (
    HeadState,
    new_entry,
)
from policyspeech.migration import migrate
from policyspeech.nofollow import check_file
from policyspeech.releases import (
    FINGERPRINT_METHOD,
    changelog_markdown,
    check_bump,
    fingerprint_paths,
    latest_version,
    next_version,
    parse_version,
    pending_changes,
)
from policyspeech.text import check_note
from policyspeech.zenodo import zenodo_for


def release(writer: Writer, bump: str | None = None, *, notes: str = "") -> Manifest:
    """Turn the head into an immutable release; return its manifest. ``bump`` (``major``,
    ``minor`` or ``patch``) defaults to the smallest the changes allow."""
    reader = writer.reader
    check_note(notes, "the release notes")
    writer.check_writable()
    check_bump(reader.head(writing=True), bump)  # before the lock: a refused release writes
    release_identity(writer.path)  # nothing; nor does one of a corpus without an identity
    with writer.writing():
        chosen = check_bump(reader.head(), bump)
        version = next_version(latest_version(reader.head()), chosen)
        _check_version_unused(writer, version)  # before the first write
        writer.upgrade_schema()  # the release goes ahead: in this version's schema
        compact(writer)
        state = reader.head()
        for info in state.fragments.values():  # the fingerprint reads them: each as logged
            if info["path"] not in state.released_fragments:  # (released: checked then)
                check_file(fragment_file(writer.path, info), info["sha256"])
        manifest = _manifest(writer, state, version, chosen, notes)
        data = (json.dumps(manifest, indent=1, ensure_ascii=False) + "\n").encode()
        _check_version_unused(writer, version)
        path = writer.publish_manifest(version, data)

        def build(head: HeadState) -> Entry:
            if version in head.releases:
                raise CorpusError(f"version {version} was released by another writer during "
                                  "this release; nothing more was released")
            if head.seq != manifest["commit"]["seq"]:
                raise CorpusError("another writer changed the corpus during the release; "
                                  "run the release again")
            return new_entry(
                head, operation="release", message=f"release {version}",
                release={"version": version, "manifest": path,
                         "sha256": hashlib.sha256(data).hexdigest(),
                         "fragments": [info["path"] for info in manifest["fragments"]],
                         "schema_version": head.schema_version, "date": manifest["date"],
                         "records": manifest["records"], "commit": head.seq})

        writer.commit(build)
        write_release_files(writer)
        return reader.manifest(version)


def _check_version_unused(writer: Writer, version: str) -> None:
    """Refuse to publish ``version`` when the log has it already (another writer released
    it meanwhile). A manifest of ``version`` that an interrupted release left in
    ``releases/`` does not stop it: no entry published that one, nobody was told it
    succeeded, and this one is published beside it under a name with its hash. (A manifest
    whose entry the log has lost stops every write: :meth:`Writer.writing`.)"""
    if version in writer.reader.head().releases:
        raise CorpusError(f"version {version} was released by another writer during this "
                          "release; nothing more was released")


def write_release_files(writer: Writer) -> None:
    """Regenerate the files derived from the releases and their DOIs: the changelog, the
    citation (headed by the corpus's current identity), Croissant and ``.zenodo.json``."""
    reader = writer.reader
    state = reader.head()
    manifests = [reader.manifest(v) for v in sorted(state.releases, key=parse_version)]
    writer.replace_derived(writer.path / CHANGELOG, changelog_markdown(manifests).encode(),
                           "changelog")
    latest = manifests[-1]
    try:
        current = read_citation(writer.path)
    except CorpusError:  # a damaged file: the release's identity stands in
        current = {}
    identity = {**{k: v for k, v in latest["citation"].items() if k in IDENTITY_FIELDS and v},
                **current}
    writer.replace_derived(citation_file(writer.path), render_cff(
        latest, identity, dois_for(state, latest)).encode(), "citation")
    writer.replace_derived(writer.path / CROISSANT, render_croissant(
        latest, reader.fragments(latest["version"]), dois_for(state, latest)).encode(),
        "croissant")
    writer.replace_derived(writer.path / ZENODO, zenodo_for(
        manifests, lambda manifest: dois_for(state, manifest)).encode(), "zenodo")


def repair(writer: Writer) -> None:
    """Rewrite the files derived from the log (the card, the version folders, and at a
    release the changelog, CITATION.cff and croissant.json), as a commit would, from a log
    that verifies; a corpus of the legacy layout is migrated first.

    A log entry is never dropped, rewritten or renumbered: unless every problem that
    ``policyspeech verify`` finds is in a derived file (a missing entry, a broken chain, a
    newest entry that differs from the card's record of it, a changed manifest, lost
    releases or damaged data are not), :class:`IntegrityError` names the first, and
    nothing is written."""
    from policyspeech.verify import check

    writer.check_writable()
    report = check(writer.reader)
    if not report.repairable:  # the log or the data: nothing derived is rebuilt from them
        more = len(report.problems) - 1
        raise IntegrityError(
            f"{report.problems[0]}{f' (and {more} more problems)' if more else ''}; --repair "
            "rebuilds the derived files only from a log and data that verify, so it wrote "
            "nothing: restore what is lost from a backup (`policyspeech verify` lists every "
            f"problem; if the log is whole and only the dataset card was damaged, delete "
            f"{writer.path / CARD} and repair again)")
    state = writer.reader.head(writing=True)
    with writer.lock():
        migrate(writer.reader, thorough=True)  # the layout and the version folders
        writer.write_card(state)
        if state.releases:
            write_release_files(writer)
        catch_up_delta(writer.path, state.seq)


def _manifest(writer: Writer, state: HeadState, version: str, bump: str,
              notes: str) -> Manifest:
    return {
        "format": 1,
        "version": version,
        "date": datetime.datetime.now(datetime.UTC).date().isoformat(),
        "bump": bump,
        "notes": notes,
        "commit": {"seq": state.seq, "sha256": state.entry_sha256},
        "schema_version": state.schema_version,
        "records": state.rows,
        "fingerprint": fingerprint_paths(writer.reader.fragment_paths(), state.schema_version),
        "fingerprint_method": FINGERPRINT_METHOD,
        "fragments": [{"path": info["path"], "sha256": info["sha256"], "rows": info["rows"],
                       "bytes": info["bytes"]} for info in state.fragments.values()],
        "changes": pending_changes(state),
        "citation": release_identity(writer.path),
    }
