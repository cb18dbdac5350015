"""A corpus opened for reading: where it is, its head, its versions and their files.

The read path starts here and never imports the write path (:mod:`policyspeech.commit`
and what builds on it). :class:`Reader` finds the corpus (:mod:`policyspeech.locate`),
folds the log into the head (:mod:`policyspeech.log`, from a cached
:mod:`policyspeech.snapshot` when there is one), resolves version names and lists the
fragments and manifests of each version. :class:`policyspeech.store.Corpus` is a
:class:`Reader` that can also write.

Examples
--------
>>> reader = Reader()
>>> reader.resolve_version("latest"), len(reader.fragment_paths("1.0.0"))
('1.0.0', 1)
>>> reader.versions()[0]["records"]
1
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from policyspeech import snapshot
from policyspeech.delta import delta_version_of
from policyspeech.documents import FragmentInfo, Manifest
from policyspeech.errors import CorpusError, IntegrityError, UnknownVersionError
from policyspeech.headindex import fill_keys
from policyspeech.layout import FOLDERS, find_entry, fragment_file
from policyspeech.locate import locate_corpus
from policyspeech.log import (
    MOVED,
    HeadState,
    advance,
    read_recorded_head,
    tail_problem,
)
from policyspeech.nofollow import read_no_follow
from policyspeech.releases import latest_version, parse_version
from policyspeech.tuning import DEFAULT, Tuning


class Reader:
    """A policyspeech corpus folder, read-only.

    ``Reader()`` finds the corpus like the loaders do (explicit path, then
    ``$POLICYSPEECH_CORPUS``, then ``./corpus``, then the bundled, read-only corpus).
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *,
                 tuning: Tuning = DEFAULT) -> None:
        location = locate_corpus(path)
        self.path = location.path
        self.bundled = location.bundled
        self.tuning = tuning
        self._state: HeadState | None = None
        self._view: HeadState | None = None
        self._latest: tuple[tuple[str, str], Manifest] | None = None
        for name in FOLDERS:
            if (self.path / name).is_symlink():
                raise IntegrityError(
                    f"'{self.path / name}' is a symbolic link; a corpus's {name}/ folder must "
                    "be a real folder inside it (copy the files in instead)")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    def head(self, *, writing: bool = False) -> HeadState:
        """The state after the newest log entry, with the id and key indexes that writers
        need (re-read incrementally on every call).

        The first call starts from the cached full snapshot when there is a valid one
        (:mod:`policyspeech.snapshot`), and saves one after applying many ids itself. A
        log that ends before the entry the card records, or that misses an entry, raises
        :class:`IntegrityError` instead of serving an older state, as does a newest entry
        whose hash is not the one the card records for it; ``writing`` (a writer about to
        chain onto the head) also checks the hash of an older recorded entry
        (:func:`policyspeech.log.tail_problem`).
        """
        for _attempt in range(self.tuning.max_commit_attempts):
            state = self._full_head()
            problem = self._tail_problem(state, writing=writing)
            if problem is None:
                return state
            if problem != MOVED:
                raise IntegrityError(f"{problem}; " + ("nothing was written; " if writing else "")
                                     + "run `policyspeech verify`")
        return state  # other writers kept publishing: this head was whole when read

    def _full_head(self) -> HeadState:
        loaded = None
        if self._state is None:
            self._state = snapshot.load(self.path, full=True) or HeadState()
            loaded = (self._state.seq, len(self._state.hash_by_id))
        try:
            try:
                state = advance(self.path, self._state)
            except CorpusError:
                if loaded is None or loaded[0] < 0:
                    raise
                self._state, loaded = HeadState(), (-1, 0)  # the cached head does not chain
                state = advance(self.path, self._state)   # to the log: rebuild from the log
        except CorpusError:
            self._state = None  # half-applied: start again from the first entry next time
            raise
        filled = fill_keys(self.path, state) if state.keyless else 0
        tuning = self.tuning
        if loaded is not None and (
                state.seq - loaded[0] >= tuning.snapshot_after_entries
                or abs(len(state.hash_by_id) - loaded[1]) >= tuning.snapshot_after_ids
                or filled >= tuning.snapshot_after_ids):
            snapshot.save(self.path, state)
        return state

    def view(self) -> HeadState:
        """The head for reading: its fragments and releases, without the id indexes.

        Built from a cached snapshot plus the entries published since (see
        :mod:`policyspeech.snapshot`), so opening a large corpus does not parse its log.
        An object that has asked for :meth:`head` (a writer) uses the full head.
        """
        if self._state is not None:
            return self.head()
        if self._view is None:
            self._view = snapshot.load(self.path) or HeadState(light=True)
        before = self._view.seq
        for _attempt in range(self.tuning.max_commit_attempts):
            try:
                self._view = advance(self.path, self._view)
            except CorpusError:
                self._view = None
                raise
            problem = self._tail_problem(self._view)
            if problem is None:
                break
            if problem != MOVED:
                self._view = None
                raise IntegrityError(f"{problem}; run `policyspeech verify`")
        if self._view.seq != before:
            snapshot.save(self.path, self._view)
        return self._view

    def _tail_problem(self, state: HeadState, *, writing: bool = False) -> str | None:
        """:func:`policyspeech.log.tail_problem`; for a reader too, the newest entry must
        have the hash the card records when the card records that entry (else an edited
        newest entry, which no later entry chains, would be served)."""
        recorded = read_recorded_head(self.path)
        problem = tail_problem(self.path, state, recorded, writing=writing)
        if problem is None and recorded is not None and recorded[0] == state.seq \
                and recorded[1] != state.entry_sha256:
            problem = (f"{find_entry(self.path, state.seq)}: its SHA-256 differs from the one "
                       "the dataset card recorded when it was published; the log entry was "
                       "changed or damaged")
        return problem

    def resolve_version(self, version: str = "head") -> str:
        """The name of ``version``: ``head``, or the release that ``latest`` or a number names.

        >>> Reader().resolve_version("latest")
        '1.0.0'
        """
        state = self.view()
        if version == "head":
            return "head"
        if version == "latest":
            latest = latest_version(state)
            if latest is None:
                raise UnknownVersionError(
                    "this corpus has no releases yet; use version 'head' or make one with "
                    "`policyspeech release`")
            return latest
        parse_version(version)
        if version not in state.releases:
            known = ", ".join(sorted(state.releases, key=parse_version)) or "none yet"
            raise UnknownVersionError(
                f"version '{version}' does not exist; releases: {known} "
                "(or use 'latest' or 'head')")
        return version

    def fragments(self, version: str = "head") -> list[FragmentInfo]:
        """The fragments of ``version`` as the log or the release manifest records them."""
        name = self.resolve_version(version)
        if name == "head":
            return list(self.view().fragments.values())
        return list(self.manifest(name)["fragments"])

    def fragment_paths(self, version: str = "head") -> list[Path]:
        """Paths of the Parquet fragments that make up ``version``: their files in the
        store (:func:`~policyspeech.layout.fragment_file`), which no commit changes, unlike
        the version's folder (``data/`` for the head)."""
        name = self.resolve_version(version)
        state = self.view()
        listed = state.fragments if name == "head" else state.releases[name]["fragments"]
        paths = [fragment_file(self.path, {"path": rel}) for rel in listed]
        for path in paths:
            if path.is_symlink():
                raise IntegrityError(f"{path} is a symbolic link; fragments must be files "
                                     "inside the corpus (run `policyspeech verify`)")
        return paths

    def manifest(self, version: str) -> Manifest:
        """The manifest of release ``version`` (``releases/VERSION.json``)."""
        name = self.resolve_version(version)
        if name == "head":
            raise UnknownVersionError("the head is not a release; give a release version")
        release = self.view().releases[name]
        path = self.path / release["manifest"]
        try:
            data = read_no_follow(path)
            manifest: Manifest = json.loads(data)
        except (OSError, ValueError) as exc:
            raise IntegrityError(f"{path}: cannot read the release manifest ({exc}); "
                                 "run `policyspeech verify`") from None
        if hashlib.sha256(data).hexdigest() != release["sha256"]:
            raise IntegrityError(f"{path}: its SHA-256 differs from the one the log entry of "
                                 f"release {name} records; the manifest was changed or damaged "
                                 "(run `policyspeech verify`)")
        return manifest

    def latest_manifest(self, state: HeadState) -> Manifest | None:
        """The newest release's manifest in ``state`` (None before the first release); kept
        while the log names the same manifest bytes (the manifest of a large import lists
        every id it added, and re-reading it on every add would cost more than the add)."""
        latest = latest_version(state)
        if latest is None:
            return None
        key = (latest, state.releases[latest]["sha256"])
        if self._latest is None or self._latest[0] != key:
            self._latest = (key, self.manifest(latest))
        return self._latest[1]

    def versions(self) -> list[dict[str, Any]]:
        """Every release, oldest first: version, date, records, fingerprint, notes, DOI
        (None until ``policyspeech doi`` records one) and the Delta table version that
        reads it (:func:`policyspeech.delta.delta_version_of`)."""
        from policyspeech.citation import dois_for

        keys = ("version", "date", "records", "fingerprint", "notes")
        state = self.view()
        rows = []
        for version in sorted(state.releases, key=parse_version):
            manifest = self.manifest(version)
            rows.append({**{key: manifest[key] for key in keys},  # type: ignore[literal-required]
                         "doi": dois_for(state, manifest).release,
                         "delta_version": delta_version_of(state, version)})
        return rows

    def concept_doi(self) -> str | None:
        """The DOI of every version of the corpus, once ``policyspeech doi --concept``
        recorded one."""
        return self.view().concept_doi

    def _credits(self, version: str) -> list[str]:
        """The credit lines that the licences of release ``version``'s records ask for."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        from policyspeech.licensing import credits

        tables = [pq.read_table(path, columns=["license", "publisher", "source_url"])
                  for path in self.fragment_paths(version)]
        return credits(pa.concat_tables(tables)) if tables else []

    def cite(self, version: str = "latest", fmt: str = "bibtex", *,
             credits: Sequence[str] | None = None) -> str:
        """A citation of a release (``latest`` by default) in ``fmt``: bibtex, apa, ris, cff
        or json (CSL JSON), with the release's DOI and the concept DOI. The head can be
        cited only when it equals the newest release. ``credits``: the sources that must
        be credited beside the corpus (by default, but for cff, those whose licences in the
        release ask for it, :func:`policyspeech.licensing.credits`), which follow it."""
        from policyspeech.citation import cite, dois_for, read_citation
        from policyspeech.releases import required_bump

        name = self.resolve_version(version)
        if name == "head":
            state = self.head()
            if required_bump(state) is not None or latest_version(state) is None:
                raise CorpusError("the head has unreleased changes and cannot be cited; "
                                  "release it first with `policyspeech release`")
            name = str(latest_version(state))
        manifest = self.manifest(name)
        if credits is None:  # cff: as CITATION.cff is (whose users read LICENSE.md beside it)
            credits = [] if fmt == "cff" else self._credits(name)
        identity = {**manifest["citation"], **read_citation(self.path)} if fmt == "cff" else None
        return cite(manifest, fmt, dois_for(self.view(), manifest), identity=identity,
                    credits=credits)
