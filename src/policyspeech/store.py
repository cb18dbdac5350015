"""The writable corpus: adding speeches through the commit protocol.

A commit writes new fragments, then publishes the next log entry put-if-absent, then
regenerates the dataset card. A crash at any instant leaves the corpus at the last
published entry: a fragment that no entry names is invisible, and the card is only a
view of the log. A lock file (``filelock``) keeps writers from racing; correctness does
not depend on it, because two writers can never publish the same entry number.

Examples
--------
>>> import tempfile, pathlib, datetime
>>> corpus = Corpus.init(pathlib.Path(tempfile.mkdtemp()) / "corpus")
>>> corpus.add({"title": "On crime", "speaker": "Brandon Lewis", "country": "GB",
...             "date": "2019-10-30", "language": "en", "text": "We act."})
'gb-2019-10-30-brandon-lewis-on-crime-e68c0582'
>>> corpus.head().rows
1
"""

from __future__ import annotations

import hashlib
import itertools
import os
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from policyspeech import hooks
from policyspeech.batch import DEFAULT_MAX_ERRORS, Batch
from policyspeech.card import render_card
from policyspeech.errors import (
    CorpusError,
    IntegrityError,
    InvalidSpeechError,
    NoSpeechesError,
    ReadOnlyCorpusError,
    UnknownVersionError,
)
from policyspeech.fsutil import (
    STAGING,
    fsync_dir,
    publish_new,
    read_no_follow,
    remove_stale_temporaries,
    replace_file,
)
from policyspeech.importing import ImportOptions
from policyspeech.ingest import DEFAULT_MAX_BYTES
from policyspeech.locate import bundled_corpus_path, locate_corpus
from policyspeech.log import (
    Entry,
    HeadState,
    advance,
    encode_entry,
    entry_name,
    new_entry,
    read_entry,
)
from policyspeech.schema import SCHEMA_VERSION, version_tuple
from policyspeech.validate import Record

LOCK_TIMEOUT_SECONDS = 120
MAX_COMMIT_ATTEMPTS = 100
SMALL_FRAGMENT_BYTES = 16 * 2**20
"""Fragments smaller than this are merged by compaction; larger ones are left alone."""
COMPACT_GROUP_BYTES = 64 * 2**20
"""Compaction merges small fragments into fragments of about this size at most."""
AUTO_COMPACT_FRAGMENTS = 50
"""Writers compact by themselves past this many small unreleased fragments: each costs a read
about a millisecond (footer, scan set-up), so that a head just under the threshold
reads within about 1.3× of the same records compacted (`benchmarks/run.py`)."""
AUTO_COMPACT_BYTES = 64 * 2**20
"""...or when the small unreleased fragments reach this size together."""
PARALLEL_FROM_BYTES = 16 * 2**20
"""Imports of larger sources validate their speeches in one process per CPU (starting one
costs about 0.25 s: worth it from about this size)."""
SNAPSHOT_AFTER_ENTRIES = 50
SNAPSHOT_AFTER_IDS = 10_000
"""A writer that applied this many log entries or ids to open the corpus caches its head."""
CORPUS_FOLDERS = ("data", "log", "releases")


class Corpus:
    """A policyspeech corpus folder; the writable API that the CLI calls.

    ``Corpus()`` finds the corpus like the loaders do (explicit path, then
    ``$POLICYSPEECH_CORPUS``, then ``./corpus``, then the bundled, read-only corpus).
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        location = locate_corpus(path)
        self.path = location.path
        self.read_only = location.bundled
        self._state: HeadState | None = None
        self._view: HeadState | None = None
        self._card_manifest: tuple[tuple[str, str], dict[str, Any]] | None = None
        self.retries = 0
        """Commits that lost a race for their entry number and were rebuilt (see _commit)."""
        self._card_written_for: str | None = None
        for name in CORPUS_FOLDERS:
            if (self.path / name).is_symlink():
                raise IntegrityError(
                    f"'{self.path / name}' is a symbolic link; a corpus's {name}/ folder must "
                    "be a real folder inside it (copy the files in instead)")

    def __repr__(self) -> str:
        return f"Corpus({str(self.path)!r})"

    @classmethod
    def init(cls, path: str | os.PathLike[str], *, from_bundled: bool = False) -> Corpus:
        """Create a new empty corpus at ``path``, or a writable copy of the bundled one."""
        folder = Path(path)
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise CorpusError(
                f"'{folder}' already exists and is not empty; choose a new folder"
            )
        folder.mkdir(parents=True, exist_ok=True)
        for name in CORPUS_FOLDERS:
            (folder / name).mkdir(exist_ok=True)
        fsync_dir(folder)
        fsync_dir(folder.parent)
        if from_bundled:
            _copy_corpus_files(bundled_corpus_path(), folder)
        else:
            entry = new_entry(HeadState(), operation="init", message="new empty corpus")
            if not publish_new(folder / "log" / entry_name(0), encode_entry(entry),
                               folder / STAGING):
                raise CorpusError(f"'{folder}' was initialised by another process meanwhile")
        corpus = cls(folder)
        corpus._write_card(corpus.head())
        return corpus

    def head(self) -> HeadState:
        """The state after the newest log entry (re-read incrementally on every call).

        The first call starts from the cached full snapshot when there is a valid one
        (:mod:`policyspeech.snapshot`), and saves one after applying many ids itself.
        """
        from policyspeech import snapshot

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
        filled = _fill_keys(self.path, state) if state.keyless else 0
        if loaded is not None and (state.seq - loaded[0] >= SNAPSHOT_AFTER_ENTRIES or abs(
                len(state.hash_by_id) - loaded[1]) >= SNAPSHOT_AFTER_IDS
                or filled >= SNAPSHOT_AFTER_IDS):
            snapshot.save(self.path, state)
        return state

    def view(self) -> HeadState:
        """The head for reading: its fragments and releases, without the id indexes.

        Built from a cached snapshot plus the entries published since (see
        :mod:`policyspeech.snapshot`), so opening a large corpus does not parse its log.
        A corpus object that has written (or asked for :meth:`head`) uses the full head.
        """
        from policyspeech import snapshot

        if self._state is not None:
            return self.head()
        if self._view is None:
            self._view = snapshot.load(self.path) or HeadState(light=True)
        before = self._view.seq
        try:
            self._view = advance(self.path, self._view)
        except CorpusError:
            self._view = None
            raise
        if self._view.seq != before:
            snapshot.save(self.path, self._view)
        return self._view

    def resolve_version(self, version: str = "head") -> str:
        """The name of ``version``: ``head``, or the release that ``latest`` or a number names.

        >>> Corpus().resolve_version("latest")
        '1.0.0'
        """
        from policyspeech.releases import latest_version, parse_version

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

    def fragments(self, version: str = "head") -> list[dict[str, Any]]:
        """The fragments of ``version`` as the log or the release manifest records them."""
        name = self.resolve_version(version)
        if name == "head":
            return list(self.view().fragments.values())
        return list(self.manifest(name)["fragments"])

    def fragment_paths(self, version: str = "head") -> list[Path]:
        """Paths of the Parquet fragments that make up ``version``."""
        name = self.resolve_version(version)
        state = self.view()
        listed = state.fragments if name == "head" else state.releases[name]["fragments"]
        paths = [self.path / rel for rel in listed]
        for path in paths:
            if path.is_symlink():
                raise IntegrityError(f"{path} is a symbolic link; fragments must be files "
                                     "inside the corpus (run `policyspeech verify`)")
        return paths

    def manifest(self, version: str) -> dict[str, Any]:
        """The manifest of release ``version`` (``releases/VERSION.json``)."""
        import json

        name = self.resolve_version(version)
        if name == "head":
            raise UnknownVersionError("the head is not a release; give a release version")
        path = self.path / self.view().releases[name]["manifest"]
        try:
            manifest: dict[str, Any] = json.loads(read_no_follow(path))
        except (OSError, ValueError) as exc:
            raise IntegrityError(f"{path}: cannot read the release manifest ({exc}); "
                                 "run `policyspeech verify`") from None
        return manifest

    def versions(self) -> list[dict[str, Any]]:
        """Every release, oldest first: version, date, records, fingerprint and notes."""
        from policyspeech.releases import parse_version

        keys = ("version", "date", "records", "fingerprint", "notes")
        return [{key: self.manifest(v)[key] for key in keys}
                for v in sorted(self.view().releases, key=parse_version)]

    def add(self, speech: Mapping[str, Any], *, message: str | None = None,
            dry_run: bool = False, source: str | None = None) -> str:
        """Validate and add one speech; return its id. See :meth:`add_all`."""
        sources = [source] if source else None
        return self.add_all([speech], message=message, dry_run=dry_run, sources=sources)[0]

    def add_all(
        self,
        speeches: Iterable[Mapping[str, Any]],
        *,
        message: str | None = None,
        dry_run: bool = False,
        sources: Sequence[str] | None = None,
        max_errors: int = DEFAULT_MAX_ERRORS,
        skip_existing: bool = False,
        mapping: Mapping[str, str] | None = None,
    ) -> list[str]:
        """Validate and add speeches in one commit, all or nothing; return their ids.

        ``speeches`` are mappings of fields: a list, a generator, a ``datasets.Dataset``, or
        the rows of a polars or pandas DataFrame or a pyarrow Table; ``mapping`` names the column that holds a field when
        the names differ (``{"speaker": "name"}``). Every speech is validated and checked
        for duplicates (the same text, speaker, date and source, within the batch and
        against the corpus) before anything is committed; memory stays bounded (see
        :mod:`policyspeech.batch`). ``skip_existing`` leaves out, instead of refusing,
        speeches the corpus already has. ``dry_run`` stops after the checks. ``sources``
        labels each speech in error messages (file names, say). One bad speech raises its
        own error; several raise :class:`~policyspeech.errors.BatchError` listing up to
        ``max_errors`` of them.
        """
        from policyspeech.batch import validator
        from policyspeech.importing import parse_mapping, row_loader

        speeches = _rows(speeches)
        labels = iter(sources) if sources else (f"speech {n}" for n in itertools.count(1))
        if mapping:
            options = ImportOptions(mapping=parse_mapping(f"{k}={v}" for k, v in mapping.items()))
            items = ((next(labels), row_loader(speech, options)) for speech in speeches)
        else:
            items = ((next(labels), validator(speech)) for speech in speeches)
        batch = self.add_batch(items, message=message, dry_run=dry_run, max_errors=max_errors,
                               unlabelled=not sources, skip_existing=skip_existing)
        return batch.ids

    def import_path(self, path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], *,
                    source_format: str = "auto", options: ImportOptions | None = None,
                    skip_existing: bool = False, message: str | None = None,
                    dry_run: bool = False, max_errors: int = DEFAULT_MAX_ERRORS,
                    max_bytes: int = DEFAULT_MAX_BYTES,
                    progress: Callable[[int, int], None] | None = None,
                    workers: int | None = None) -> Batch:
        """Import a folder of text/Markdown files, ``.jsonl``, ``.csv``, ``.tsv`` or
        ``.parquet`` files, or a format of the field (``source_format``: ``parlamint``,
        ``ungdc``), in one commit, all or nothing; return the batch (ids, records, text
        bytes, words, skipped). See :mod:`policyspeech.importing` for ``options``.

        ``progress(records, text_bytes)`` is called after every chunk. Speeches are read
        and validated by ``workers`` processes (default: one per CPU when the sources have
        more than :data:`PARALLEL_FROM_BYTES`, else this process alone).
        """
        from policyspeech.importing import source_bytes, sources

        paths = [Path(path)] if isinstance(path, str | os.PathLike) else [Path(p) for p in path]
        if not paths:
            raise InvalidSpeechError("no source to import; give a file or a folder")
        from policyspeech.batch import chunk_size

        options = options or ImportOptions(max_bytes=max_bytes)
        total = source_bytes(paths)
        if workers is None:
            workers = (os.cpu_count() or 1) if total > PARALLEL_FROM_BYTES else 1
        chunk_bytes = chunk_size(total)
        items = sources(paths, source_format=source_format, options=options,
                        blocks=max(1, chunk_bytes // 4))
        name = paths[0].name if len(paths) == 1 else f"{len(paths)} sources"
        try:
            return self.add_batch(items, message=message or f"import {name}", dry_run=dry_run,
                                  max_errors=max_errors, progress=progress, always_list=True,
                                  workers=workers, skip_existing=skip_existing,
                                  chunk_bytes=chunk_bytes)
        except NoSpeechesError:
            where = ", ".join(str(p) for p in paths)
            hint = f" with --from {source_format}" if source_format != "auto" else ""
            raise NoSpeechesError(f"{where}: no speeches found{hint}; check the path and the "
                                  "format") from None

    def add_batch(self, items: Iterable[tuple[str, Callable[[], Record]]], *,
                  message: str | None = None, dry_run: bool = False,
                  max_errors: int = DEFAULT_MAX_ERRORS, skip_existing: bool = False,
                  unlabelled: bool = False, always_list: bool = False,
                  progress: Callable[[int, int], None] | None = None,
                  workers: int = 1, chunk_bytes: int | None = None) -> Batch:
        """Add the speeches that ``(label, load)`` pairs read, in one commit; see
        :mod:`policyspeech.batch`. The base of :meth:`add_all` and :meth:`import_path`.

        A bad batch raises the one problem's own error, or
        :class:`~policyspeech.errors.BatchError` when there are several (or always, with
        ``always_list``). A batch whose every speech was skipped commits nothing."""
        from policyspeech.batch import Stager, loaded_chunks

        if max_errors < 1:
            raise InvalidSpeechError(f"max errors {max_errors} must be 1 or more (it is how "
                                     "many bad records are listed)")
        if not dry_run:
            self.check_writable()
        stager = Stager(self.path, self.head(), max_errors=max_errors,
                        skip_existing=skip_existing, progress=progress)
        try:
            for chunk in loaded_chunks(items, self.path, workers=workers, write=not dry_run,
                                       chunk_bytes=chunk_bytes):
                stager.feed(chunk)
            batch = stager.finish(unlabelled=unlabelled, always_list=always_list)
            if dry_run or not batch.ids:
                return batch
            with self._writing():
                self._upgrade_schema()  # every speech is valid: the commit goes ahead
                self._commit_batch(batch, message)
                self._compact_if_due()
            return batch
        finally:
            stager.close()

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold the writer lock and clean up what crashed writers left."""
        with self._writer_lock():
            remove_stale_temporaries(self.path / STAGING)
            yield

    def _require_current_schema(self, state: HeadState) -> None:
        """Called by a commit's ``build`` once its checks have passed, before it writes:
        a head in an older schema is upgraded first (in a commit of its own), and the
        build runs again on the upgraded head. A refused command never upgrades."""
        if state.schema_version != SCHEMA_VERSION:
            raise _UpgradeFirst

    def _upgrade_schema(self) -> None:
        """Bring a head written in an older schema (of the same major version) to this
        one, in a commit of its own that changes no record: each fragment of the head that
        lacks the newer fields is copied with them empty, so that every file of the head
        has the same columns. Released fragments stay as they are in their releases."""
        from policyspeech.fragments import upgrade_fragment

        state = self.head()
        if state.schema_version == SCHEMA_VERSION:
            return
        if version_tuple(state.schema_version) > version_tuple(SCHEMA_VERSION):
            raise ReadOnlyCorpusError(
                f"'{self.path}' was written in schema {state.schema_version}, newer than this "
                f"policyspeech's ({SCHEMA_VERSION}); upgrade policyspeech to write to it")

        def build(head: HeadState) -> Entry:
            added, removed = [], []
            for info in head.fragments.values():
                upgraded = upgrade_fragment(self.path, info)
                if upgraded is not None:
                    added.append(upgraded)
                    removed.append(info)
            return new_entry(head, operation="upgrade", added=added, removed=removed,
                             message=f"upgrade the head from schema {head.schema_version} to "
                             f"{SCHEMA_VERSION} ({len(removed)} fragments copied with the new "
                             "fields empty)")

        self._commit(build)

    @contextmanager
    def _writer_lock(self) -> Iterator[None]:
        """Hold the corpus's writer lock (released by the OS if the process dies)."""
        from filelock import FileLock, Timeout

        if not hooks.lock_enabled():  # tests prove that correctness does not need the lock
            yield
            return
        try:
            with FileLock(self.path / ".lock", timeout=LOCK_TIMEOUT_SECONDS):
                yield
        except Timeout:
            raise CorpusError(
                f"another writer has held the lock of '{self.path}' for "
                f"{LOCK_TIMEOUT_SECONDS} s; wait for it to finish and try again"
            ) from None

    def _commit_batch(self, batch: Batch, message: str | None) -> Entry:
        def build(state: HeadState) -> Entry:
            if state.seq != batch.base_seq:
                batch.rebase(state)
            added = batch.publish(self.path)
            return new_entry(
                state,
                operation="add",
                message=message or _default_message(batch.ids),
                added=added,
                ids=[i for fragment in batch.staged for i in fragment.ids],
                text_sha256=[h for fragment in batch.staged for h in fragment.hashes],
                keys=[k for fragment in batch.staged for k in fragment.keys],
            )

        return self._commit(build)

    def _commit(self, build: Callable[[HeadState], Entry]) -> Entry:
        """Publish the entry that ``build`` makes from the head, retrying on a lost race.

        ``build`` writes any new fragments and returns the entry; it is called again with
        the newer head when another writer published first.
        """
        self._bring_card_up_to_date()
        for _attempt in range(MAX_COMMIT_ATTEMPTS):
            state = self.head()
            try:
                entry = build(state)
            except _UpgradeFirst:
                self._upgrade_schema()
                continue
            entry_path = self.path / "log" / entry_name(entry["seq"])
            data = encode_entry(entry)
            if publish_new(entry_path, data, self.path / STAGING, "entry"):
                state.apply(entry, hashlib.sha256(data).hexdigest())
                self._write_card(self.head())  # the newest head, if others committed since
                return entry
            self.retries += 1  # another writer published this number first: rebuild on top
            time.sleep(random.uniform(0, min(1.0, 0.005 * 2 ** min(_attempt, 8))))
        raise CorpusError(
            f"could not commit after {MAX_COMMIT_ATTEMPTS} attempts: other writers kept "
            "publishing first; try again"
        )

    def _bring_card_up_to_date(self) -> None:
        """Rewrite the card if an interrupted writer left it behind the log, so that it is
        never more than one commit behind, even after repeated crashes."""
        state = self.head()
        if self._card_written_for == state.entry_sha256:
            return  # this object wrote the card for this very head
        expected = render_card(state, self._latest_manifest(state))
        try:
            current = (self.path / "README.md").read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            current = None
        if current != expected:
            replace_file(self.path / "README.md", expected.encode(), self.path / STAGING,
                         "card")
        self._card_written_for = state.entry_sha256

    def _write_card(self, state: HeadState) -> None:
        replace_file(self.path / "README.md", render_card(state, self._latest_manifest(state))
                     .encode(), self.path / STAGING, "card")
        self._card_written_for = state.entry_sha256

    def _latest_manifest(self, state: HeadState) -> dict[str, Any] | None:
        """The newest release's manifest, for the card; kept while the log names the same
        manifest bytes (the manifest of a large import lists every id it added, and
        re-reading it on every add would cost more than the add)."""
        from policyspeech.releases import latest_version

        latest = latest_version(state)
        if latest is None:
            return None
        key = (latest, state.releases[latest]["sha256"])
        if self._card_manifest is None or self._card_manifest[0] != key:
            self._card_manifest = (key, self.manifest(latest))
        return self._card_manifest[1]

    # -- releases -------------------------------------------------------------------------

    def release(self, bump: str | None = None, *, notes: str = "") -> dict[str, Any]:
        """Turn the head into an immutable release; return its manifest.

        The unreleased fragments are compacted into one, the manifest is written to
        ``releases/VERSION.json``, and a ``release`` entry names it in the log. ``bump``
        (``major``, ``minor`` or ``patch``) defaults to the smallest the changes allow.
        """
        from policyspeech.releases import check_bump, latest_version, next_version

        self.check_writable()
        with self._writing():
            chosen = check_bump(self.head(), bump)
            self._upgrade_schema()  # the release goes ahead: in this version's schema
            version = next_version(latest_version(self.head()), chosen)
            self._compact_unreleased()
            manifest = self._write_manifest(version, chosen, notes)

            def build(head: HeadState) -> Entry:
                if head.seq != manifest["commit"]["seq"]:
                    raise CorpusError("another writer changed the corpus during the release; "
                                      "run the release again")
                return new_entry(
                    head, operation="release", message=f"release {version}",
                    release={"version": version, "manifest": f"releases/{version}.json",
                             "sha256": manifest["sha256"], "fragments": manifest["paths"],
                             "schema_version": head.schema_version, "date": manifest["date"],
                             "records": manifest["records"], "commit": head.seq})

            self._commit(build)
            self._write_release_files()
            return self.manifest(version)

    def compact(self) -> int:
        """Merge the head's small unreleased fragments into sorted fragments with 1,000-row
        groups, in one commit; return how many fragments were merged (0: nothing to do).

        Released fragments are never rewritten, and neither are large ones (a bulk
        import's chunks): see :func:`compaction_groups`. Writers also compact by
        themselves when the head passes :data:`AUTO_COMPACT_FRAGMENTS` fragments or
        :data:`AUTO_COMPACT_BYTES` of small ones, and a release always does.
        """
        self.check_writable()
        with self._writing():
            if compaction_groups(self.head()):
                self._upgrade_schema()
            return self._compact_unreleased()

    def _compact_unreleased(self) -> int:
        """Merge the head's small unreleased fragments, group by group (one commit)."""
        from policyspeech.fragments import write_fragment

        def build(state: HeadState) -> Entry:
            added, removed = [], []
            for group in compaction_groups(state):
                table = _read_fragments(self.path, group)
                added.append(write_fragment(self.path, table.sort_by(
                    [("date", "ascending"), ("id", "ascending")])))
                removed.extend(group)
            return new_entry(state, operation="compact", added=added, removed=removed,
                             message=f"compact {len(removed)} fragments into {len(added)}")

        if not compaction_groups(self.head()):
            return 0
        entry = self._commit(build)
        return len(entry["removed"])

    def _compact_if_due(self) -> None:
        """Compact when many small fragments have gathered (called under the lock).

        Only small fragments count: they are what compaction merges (a bulk import's
        large fragments stay, and each costs a read little beside its size), so a head
        with many large fragments does not compact again after every add.
        """
        state = self.head()
        small = [info["bytes"] for path, info in state.fragments.items()
                 if path not in state.released_fragments and info["bytes"] < SMALL_FRAGMENT_BYTES]
        if len(small) > AUTO_COMPACT_FRAGMENTS or sum(small) >= AUTO_COMPACT_BYTES:
            self._compact_unreleased()

    def _write_manifest(self, version: str, bump: str, notes: str) -> dict[str, Any]:
        import datetime
        import hashlib
        import json

        from policyspeech.citation import read_citation
        from policyspeech.releases import FINGERPRINT_METHOD, fingerprint_paths, pending_changes

        state = self.head()
        fragments = list(state.fragments.values())
        manifest = {
            "format": 1,
            "version": version,
            "date": datetime.datetime.now(datetime.UTC).date().isoformat(),
            "bump": bump,
            "notes": notes,
            "commit": {"seq": state.seq, "sha256": state.entry_sha256},
            "schema_version": state.schema_version,
            "records": state.rows,
            "fingerprint": fingerprint_paths(self.fragment_paths(), state.schema_version),
            "fingerprint_method": FINGERPRINT_METHOD,
            "fragments": [{key: info[key] for key in ("path", "sha256", "rows", "bytes")}
                          for info in fragments],
            "changes": pending_changes(state),
            "citation": read_citation(self.path),
        }
        data = (json.dumps(manifest, indent=1, ensure_ascii=False) + "\n").encode()
        path = self.path / "releases" / f"{version}.json"
        path.parent.mkdir(exist_ok=True)
        path.unlink(missing_ok=True)  # never published: no log entry names this version yet
        publish_new(path, data, self.path / STAGING, "manifest")
        return {**manifest, "sha256": hashlib.sha256(data).hexdigest(),
                "paths": [info["path"] for info in fragments]}

    def _write_release_files(self) -> None:
        """Regenerate the files derived from the releases: changelog, citation, Croissant."""
        from policyspeech.citation import citation_file, render_cff
        from policyspeech.croissant import render_croissant
        from policyspeech.releases import changelog_markdown, parse_version

        state = self.head()
        manifests = [self.manifest(v) for v in sorted(state.releases, key=parse_version)]
        staging = self.path / STAGING
        replace_file(self.path / "CHANGELOG.md", changelog_markdown(manifests).encode(), staging,
                     "changelog")
        latest = manifests[-1]
        replace_file(citation_file(self.path), render_cff(latest).encode(), staging, "citation")
        replace_file(self.path / "croissant.json",
                     render_croissant(latest, self.fragments(latest["version"])).encode(),
                     staging, "croissant")

    # -- corrections (see policyspeech.corrections) -------------------------------------

    def amend(self, record_id: str, changes: Mapping[str, Any] | None = None, *,
              text: str | None = None, reason: str) -> list[str]:
        """Correct a record's metadata (and/or text) in a new commit; return the changed fields.

        A field given as None (or an empty list) is cleared. The fragment holding the
        record is copied with the record replaced; earlier releases keep their fragments
        and load exactly as before.
        """
        from policyspeech.corrections import amend_all, require_reason

        changes = dict(changes or {})  # None or [] clears a field
        if "id" in changes:
            raise InvalidSpeechError("an id never changes; retract the record and add it "
                                     "again under the new id instead")
        if text is not None:
            changes["text"] = text
        result = amend_all(self, [("", {**changes, "id": record_id})],
                           reason=require_reason(reason), strict=True)
        return result.fields[record_id]

    def amend_all(self, rows: Iterable[Mapping[str, Any]] | str | os.PathLike[str], *,
                  reason: str | None = None, max_errors: int = DEFAULT_MAX_ERRORS,
                  message: str | None = None) -> Any:
        """Amend many records in one commit, all or nothing: ``rows`` of ``id``, the fields
        to change and a ``reason`` (else ``reason`` for all), or a JSONL/CSV file of them.
        Returns the :class:`~policyspeech.corrections.Amendments` (fields changed per id,
        rows that changed nothing). See :mod:`policyspeech.corrections`."""
        from policyspeech.corrections import amend_all, read_amendments

        labelled: list[tuple[str, Mapping[str, Any]]]
        if isinstance(rows, str | os.PathLike):
            labelled = list(read_amendments(Path(rows)))
        else:
            labelled = [(f"row {n}", row) for n, row in enumerate(rows, start=1)]
        return amend_all(self, labelled, reason=reason, max_errors=max_errors, message=message)

    def retract(self, record_id: str, *, reason: str) -> None:
        """Remove a record from the head in a new commit; its id is never reused."""
        from policyspeech.corrections import retract

        retract(self, record_id, reason=reason)

    # -- checking and citing -------------------------------------------------------------

    def verify(self, version: str | None = None, *, deep: bool = False) -> list[str]:
        """Problems in ``version`` (every version when None), one line each naming the file;
        an empty list when every file matches. ``deep`` also checks every text against its
        hash. See :mod:`policyspeech.verify`."""
        from policyspeech.verify import verify_corpus

        return verify_corpus(self, version, deep=deep)

    def repair(self) -> None:
        """Rewrite the files derived from the log (the card, and at a release the changelog,
        CITATION.cff and croissant.json), as a commit would."""
        self.check_writable()
        with self._writer_lock():
            state = self.head()
            self._write_card(state)
            if state.releases:
                self._write_release_files()

    def stale_card(self) -> bool:
        """True when the card is one commit behind the log (an interrupted write)."""
        from policyspeech.verify import stale_card

        return stale_card(self)

    def unreferenced_files(self) -> list[Path]:
        """Files in ``data/`` and ``releases/`` that no log entry names (readers ignore
        them; an interrupted write can leave one). Safe to delete."""
        from policyspeech.verify import unreferenced_files

        return unreferenced_files(self.path)

    def cite(self, version: str = "latest", fmt: str = "bibtex") -> str:
        """A citation of a release (``latest`` by default) in ``fmt``: bibtex, apa, ris, cff
        or json. The head can be cited only when it equals the newest release."""
        from policyspeech.citation import cite
        from policyspeech.releases import latest_version, required_bump

        name = self.resolve_version(version)
        if name == "head":
            state = self.head()
            if required_bump(state) is not None or latest_version(state) is None:
                raise CorpusError("the head has unreleased changes and cannot be cited; "
                                  "release it first with `policyspeech release`")
            name = str(latest_version(state))
        return cite(self.manifest(name), fmt)

    # -- comparing versions ---------------------------------------------------------------

    def diff(self, a: str, b: str) -> dict[str, Any]:
        """Records added, retracted and amended (with the fields) from version ``a`` to ``b``.

        Reasons come from the log entries between the two versions.
        """
        from policyspeech.loaders import read_arrow

        before = {r["id"]: r for r in read_arrow(self.path, version=a).to_pylist()}
        after = {r["id"]: r for r in read_arrow(self.path, version=b).to_pylist()}
        reasons = self._reasons_between(self._commit_of(a), self._commit_of(b))
        amended = []
        for record_id in sorted(before.keys() & after.keys()):
            fields = [k for k in after[record_id] if after[record_id][k] != before[record_id][k]]
            if fields:
                amended.append({"id": record_id, "fields": fields,
                                "reasons": reasons.get(record_id, [])})
        return {
            "from": self.resolve_version(a),
            "to": self.resolve_version(b),
            "added": sorted(after.keys() - before.keys()),
            "retracted": [{"id": i, "reasons": reasons.get(i, [])}
                          for i in sorted(before.keys() - after.keys())],
            "amended": amended,
        }

    def _commit_of(self, version: str) -> int:
        name = self.resolve_version(version)
        return self.head().seq if name == "head" else int(self.head().releases[name]["commit"])

    def _reasons_between(self, first: int, last: int) -> dict[str, list[str]]:
        reasons: dict[str, list[str]] = {}
        low, high = sorted((first, last))
        for seq in range(low + 1, high + 1):
            found = read_entry(self.path, seq)
            if found is None:
                continue
            for record_id, reason in _entry_reasons(found[0]):
                reasons.setdefault(record_id, []).append(reason)
        return reasons

    def check_writable(self) -> None:
        """Raise :class:`ReadOnlyCorpusError` unless this corpus may be written."""
        if self.read_only:
            raise ReadOnlyCorpusError(
                f"the bundled corpus at '{self.path}' is read-only; make a writable copy with "
                "`policyspeech init DIR --from-bundled` and use --corpus DIR"
            )
        if not os.access(self.path / "log", os.W_OK):
            raise ReadOnlyCorpusError(
                f"'{self.path}' is not writable; use a corpus folder you can write to"
            )


def compaction_groups(state: HeadState) -> list[list[dict[str, Any]]]:
    """The small unreleased fragments, in groups of at most :data:`COMPACT_GROUP_BYTES`
    that compaction merges into one fragment each (groups of one are left alone).

    >>> small = {f"data/{n}.parquet": {"path": f"data/{n}.parquet", "bytes": 15 * 2**20}
    ...          for n in range(5)}
    >>> [len(group) for group in compaction_groups(HeadState(fragments=small))]
    [4]
    """
    groups: list[list[dict[str, Any]]] = [[]]
    total = 0
    for path, info in state.fragments.items():
        if path in state.released_fragments or info["bytes"] >= SMALL_FRAGMENT_BYTES:
            continue
        if groups[-1] and total + info["bytes"] > COMPACT_GROUP_BYTES:
            groups.append([])
            total = 0
        groups[-1].append(info)
        total += info["bytes"]
    return [group for group in groups if len(group) > 1]


def _read_fragments(corpus: Path, infos: list[dict[str, Any]]) -> Any:
    """The fragments' rows as one table, every page's checksum verified."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    return pa.concat_tables(
        pq.read_table(corpus / info["path"], page_checksum_verification=True)
        for info in infos)


def _rows(speeches: Any) -> Iterable[Any]:
    """The rows of a polars or pandas DataFrame or a pyarrow Table as mappings; any other
    iterable as it is."""
    if hasattr(speeches, "iter_rows"):  # polars
        return speeches.iter_rows(named=True)  # type: ignore[no-any-return]
    if hasattr(speeches, "to_batches") and hasattr(speeches, "schema"):  # pyarrow
        return (row for batch in speeches.to_batches() for row in batch.to_pylist())
    if hasattr(speeches, "iterrows") and hasattr(speeches, "to_dict"):  # pandas
        return speeches.to_dict("records")  # type: ignore[no-any-return]
    return speeches  # type: ignore[no-any-return]


class _UpgradeFirst(Exception):
    """Raised by a commit's build on a head in an older schema (see
    :meth:`Corpus._require_current_schema`)."""


def _entry_reasons(entry: Entry) -> list[tuple[str, str]]:
    """``(id, reason)`` of each record an entry corrected (one reason per record for a
    bulk amendment)."""
    if entry.get("amendments"):
        return [(a["id"], a["reason"]) for a in entry["amendments"] if a.get("reason")]
    if entry.get("reason"):
        return [(record_id, entry["reason"]) for record_id in entry.get("removed_ids", [])]
    return []


def _fill_keys(corpus: Path, state: HeadState) -> int:
    """Fill in the speech keys of the head's records that log entries made before keys
    existed do not record, from the fragments; return how many."""
    import pyarrow.dataset as pads

    from policyspeech.fragments import string_array
    from policyspeech.identity import speech_key
    from policyspeech.schema import arrow_schema

    paths = [str(corpus / p) for p in state.fragments]
    if not paths:
        return 0
    columns = ["id", "text_sha256", "speaker", "date", "date_precision", "source_id"]
    # One thread: a threaded scan's background threads can outlive it into the
    # interpreter's shutdown and abort the process (apache/arrow#39162).
    table = pads.dataset(paths, schema=arrow_schema()).to_table(
        columns=columns, filter=pads.field("id").isin(string_array(sorted(state.keyless))),
        use_threads=False)
    for row in table.to_pylist():
        key = speech_key(row)
        state.key_by_id[row["id"]] = key
        state.id_by_key[key] = row["id"]
        state.keyless.discard(row["id"])
    return int(table.num_rows)


def _copy_corpus_files(source: Path, target: Path) -> None:
    """Copy the fragments, log entries and releases of ``source`` durably into ``target``."""
    for name in CORPUS_FOLDERS:
        if not (source / name).is_dir():
            continue
        for path in sorted((source / name).iterdir()):
            if path.is_file() and not path.name.startswith("."):
                publish_new(target / name / path.name, path.read_bytes(), target / STAGING)


def _default_message(ids: list[str]) -> str:
    return f"add {ids[0]}" if len(ids) == 1 else f"add {len(ids)} speeches"

