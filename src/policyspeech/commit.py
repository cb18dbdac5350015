"""The commit protocol, in one place: every write to a corpus goes through a :class:`Writer`.

A commit writes its new fragments (staged in ``.tmp/``, then linked under their hash in
the store ``fragments/``), then publishes the next log entry put-if-absent, then
regenerates the dataset card and brings the version folders current
(:mod:`policyspeech.viewsync`). The start of every write migrates a corpus of the legacy
layout (:mod:`policyspeech.migration`). A crash at any instant leaves the corpus at the
last published entry: a fragment that no entry names is invisible, and the card and the
version folders are only views of the log. A lock file
(``filelock``) keeps writers from racing; correctness does not depend on it, because two
writers can never publish the same entry number: the loser rebuilds its entry on the new
head (:meth:`Writer.commit`). Release manifests are published put-if-absent as well, and
never unlinked. The steps are marked with crash points (:mod:`policyspeech.hooks`).

Examples
--------
>>> import tempfile, pathlib
>>> from policyspeech.reader import Reader
>>> folder = create(pathlib.Path(tempfile.mkdtemp()) / "corpus")
>>> writer = Writer(Reader(folder))
>>> with writer.writing():
...     entry = writer.commit(lambda head: new_entry(head, operation="compact", message="no-op"))
>>> entry["seq"], writer.reader.head().seq
(1, 1)
"""

from __future__ import annotations

import errno
import hashlib
import os
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from policyspeech import hooks
from policyspeech.cardfiles import derived_texts
from policyspeech.datasheet import template
from policyspeech.deltawrite import catch_up as catch_up_delta
from policyspeech.deltawrite import sync as sync_delta
from policyspeech.documents import Entry, FragmentInfo
from policyspeech.errors import CorpusError, IntegrityError, ReadOnlyCorpusError
from policyspeech.fragments import StagedFragment, link_to_store, upgrade_fragment
from policyspeech.fsutil import (
    fsync_dir,
    publish_new,
    remove_stale_temporaries,
    replace_file,
)
from policyspeech.layout import (
    CARD,
    DATASHEET,
    ENTRIES_PER_FOLDER,
    FOLDERS,
    FRAGMENTS,
    IGNORE_FILE,
    LICENSE,
    LOCK,
    LOG,
    RELEASES,
    STAGING,
    entry_path,
    find_entry,
    fragment_file,
    manifest_name,
    store_file,
)
from policyspeech.locate import bundled_corpus_path
from policyspeech.log import HeadState, encode_entry, new_entry
from policyspeech.migration import migrate
from policyspeech.nofollow import read_no_follow
from policyspeech.reader import Reader
from policyspeech.schema import SCHEMA_VERSION, version_tuple
from policyspeech.uploads import gitignore_text
from policyspeech.viewsync import sync_views

Build = Callable[[HeadState], Entry]
"""Makes a commit's entry from the head (writing any new fragments first); called again
on the newer head when another writer published first."""


class UpgradeFirst(Exception):
    """Raised by a build on a head in an older schema (see :func:`require_current_schema`)."""


def require_current_schema(state: HeadState) -> None:
    """Called by a build once its checks have passed, before it writes: a head in an
    older schema is upgraded first (in a commit of its own), and the build runs again on
    the upgraded head. A refused command never upgrades."""
    if state.schema_version != SCHEMA_VERSION:
        raise UpgradeFirst


def create(folder: Path, *, from_bundled: bool = False) -> Path:
    """Make a new empty corpus in ``folder`` (or a writable copy of the bundled one)."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise CorpusError(f"'{folder}' already exists and is not empty; choose a new folder")
    folder.mkdir(parents=True, exist_ok=True)
    for name in FOLDERS:
        (folder / name).mkdir(exist_ok=True)
    fsync_dir(folder)
    fsync_dir(folder.parent)
    _write_user_files(folder, from_bundled)
    if from_bundled:
        _copy_corpus_files(bundled_corpus_path(), folder)
    else:
        entry = new_entry(HeadState(), operation="init", message="new empty corpus")
        if not publish_new(entry_target(folder, 0), encode_entry(entry), folder / STAGING):
            raise CorpusError(f"'{folder}' was initialised by another process meanwhile")
    catch_up_delta(folder)
    return folder


def entry_target(corpus: Path, seq: int) -> Path:
    """The path to publish entry ``seq`` at, its subfolder made first, and made durable by
    the writer of its first entry (whoever made the folder: another writer may have)."""
    path = entry_path(corpus, seq)
    if not path.parent.is_dir():
        path.parent.mkdir(exist_ok=True)
    if seq % ENTRIES_PER_FOLDER == 0:
        fsync_dir(path.parent.parent)
    return path


class Writer:
    """Commits to the corpus that ``reader`` reads (and keeps reading its head)."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.path = reader.path
        self.retries = 0
        """Commits that lost a race for their entry number and were rebuilt."""
        self._card_written_for: str | None = None

    def check_writable(self) -> None:
        """Raise :class:`ReadOnlyCorpusError` unless this corpus may be written: checked
        before anything is written, so that a refused command leaves every file as it was.

        Every place a command writes must be writable: the corpus folder itself (the card,
        the changelog, ``CITATION.cff`` and ``croissant.json`` are replaced there, and
        ``.tmp/`` or ``releases/`` made there), ``fragments/``, ``data/``, ``log/``,
        ``releases/``, ``.tmp/`` and ``_delta_log/``, and the lock file when it exists. The
        file size limit (``ulimit -f``) must leave room for the derived files, which are
        rewritten after the commit."""
        from policyspeech.layout import DATA, DELTA_LOG

        if self.reader.bundled:
            raise ReadOnlyCorpusError(
                f"the bundled corpus at '{self.path}' is read-only; make a writable copy with "
                "`policyspeech init DIR --from-bundled` and use --corpus DIR")
        folder_access = os.W_OK | os.X_OK
        for name in (FRAGMENTS, DATA, LOG, RELEASES, STAGING, DELTA_LOG):
            if (self.path / name).is_symlink():
                raise CorpusError(
                    f"'{self.path / name}' is a symbolic link; the corpus writes only inside "
                    f"its own folder (replace the link with the folder it points to)")
        for path, access in ((self.path, folder_access), (self.path / DATA, folder_access),
                             (self.path / FRAGMENTS, folder_access),
                             (self.path / LOG, folder_access),
                             (self.path / RELEASES, folder_access),
                             (self.path / DELTA_LOG, folder_access),
                             (self.path / STAGING, folder_access),
                             (self.path / LOCK, os.R_OK | os.W_OK)):
            if (path == self.path or os.path.lexists(path)) and not os.access(
                    path, access, effective_ids=os.access in os.supports_effective_ids):
                raise ReadOnlyCorpusError(
                    f"'{path}' is not writable, and this command writes there; make it "
                    f"writable (chmod u+w{'x' if access == folder_access else ''} '{path}') "
                    "or use a corpus folder you can write to")
        self._check_file_size_limit()

    def _check_file_size_limit(self, room: int = 64 * 1024) -> None:
        """Refuse to write when the file size limit (``ulimit -f``) is below twice the
        largest derived file plus ``room``: the derived files are rewritten after the
        commit, so such a limit would fail the command once its entry is published."""
        import resource

        from policyspeech.layout import CHANGELOG, CITATION, CROISSANT

        limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
        if limit == resource.RLIM_INFINITY:
            return
        sizes = [(self.path / name).stat().st_size
                 for name in (CARD, LICENSE, CHANGELOG, CITATION, CROISSANT)
                 if (self.path / name).is_file()]
        needed = 2 * max(sizes, default=0) + room
        if limit < needed:
            raise CorpusError(
                f"the file size limit (ulimit -f) of {limit:,} bytes leaves no room for the "
                f"files of '{self.path}' that a commit rewrites (they need {needed:,} "
                "bytes); raise it, e.g. `ulimit -f unlimited`, and try again")

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the corpus's writer lock (released by the OS if the process dies)."""
        from filelock import FileLock, Timeout

        path = self.path / LOCK
        linked = CorpusError(f"'{path}' is a symbolic link; the lock file must be a file of "
                             f"the corpus (remove the link, `rm {path}`, and run the command "
                             "again)")
        if path.is_symlink():  # filelock before 3.20.1 truncated a link's target
            raise linked
        if not hooks.lock_enabled():  # tests prove that correctness does not need the lock
            yield
            return
        timeout = self.reader.tuning.lock_timeout_seconds
        lock = FileLock(path, timeout=timeout)
        try:
            lock.acquire()
        except Timeout:
            raise CorpusError(
                f"another writer has held the lock of '{self.path}' for {timeout:g} s; wait "
                "for it to finish and try again") from None
        except OSError as exc:  # a link planted since the check: filelock opens no link
            if exc.errno == errno.ELOOP:
                raise linked from None
            raise
        try:
            yield
        finally:
            lock.release()

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Check the head the commit will chain onto (before anything, the lock file
        included, is written), then hold the writer lock and clean up what crashed writers
        left, and migrate a corpus of the legacy layout (which also brings the version
        folders current, :mod:`policyspeech.migration`). A release manifest recording an
        entry the log no longer has (entries were deleted) stops every write: a commit
        would bury the evidence."""
        from policyspeech.replay import lost_releases

        state = self.reader.head(writing=True)
        self.reader.latest_manifest(state)  # the card names it: a damaged one stops the write
        lost = lost_releases(self.path, state)
        if lost:
            raise IntegrityError(f"{lost[0]}; nothing was written; run `policyspeech verify`")
        with self.lock():
            remove_stale_temporaries(self.path / STAGING)
            migrate(self.reader)
            yield

    def commit(self, build: Build) -> Entry:
        """Publish the entry that ``build`` makes from the head, retrying on a lost race.

        The head is checked first (a damaged or missing newest entry stops the commit), and
        the card is brought up to the head only once ``build`` has passed its checks, so a
        refused command changes nothing."""
        attempts = self.reader.tuning.max_commit_attempts
        for attempt in range(attempts):
            state = self.reader.head(writing=True)
            try:
                entry = build(state)
            except UpgradeFirst:
                self.upgrade_schema()
                continue
            self.refresh_card()
            data = encode_entry(entry)
            if publish_new(entry_target(self.path, entry["seq"]), data, self.path / STAGING,
                           "entry"):
                digest = hashlib.sha256(data).hexdigest()
                state.apply(entry, digest)
                try:
                    self.write_card(self.reader.head())  # the newest head, if others committed
                    sync_views(self.reader)
                except OSError as exc:
                    raise CorpusError(
                        f"committed {entry_path(self.path, entry['seq'])}, but the dataset "
                        f"card or the version folders could not be rewritten "
                        f"({exc.strerror or exc}); free the space or fix the permission, then "
                        "run `policyspeech verify --repair`"
                    ) from None
                except CorpusError as exc:  # a damaged fragment: the card counts its records
                    raise CorpusError(f"committed {entry_path(self.path, entry['seq'])}, but "
                                      f"the dataset card could not be rewritten: {exc}") from None
                sync_delta(self.path, entry, digest)  # (the state may be newer by now)
                return entry
            self.retries += 1  # another writer published this number first: rebuild on top
            time.sleep(random.uniform(0, min(1.0, 0.005 * 2 ** min(attempt, 8))))
        raise CorpusError(f"could not commit after {attempts} attempts: other writers kept "
                          "publishing first; try again")

    def link(self, staged: Sequence[StagedFragment]) -> list[FragmentInfo]:
        """Link staged fragments to their names in the store (the staged files stay, for a
        rebuilt commit, until the caller removes them); return their infos."""
        link_to_store([(fragment.temp, store_file(self.path, fragment.info["sha256"]))
                       for fragment in staged])
        return [fragment.info for fragment in staged]

    def publish_manifest(self, version: str, data: bytes) -> str:
        """Publish a release manifest put-if-absent; return its path in the corpus.

        A manifest is never replaced or removed: when ``releases/VERSION.json`` is taken
        (a release interrupted before its entry, or one racing without the lock), this
        one is published under a name with its hash, which the release entry records."""
        (self.path / RELEASES).mkdir(exist_ok=True)
        for name in (manifest_name(version),
                     manifest_name(version, "-" + hashlib.sha256(data).hexdigest()[:16])):
            if publish_new(self.path / name, data, self.path / STAGING, "manifest"):
                return name
            if self._holds(name, data):  # the same bytes, published by an interrupted run
                fsync_dir(self.path / RELEASES)
                return name
        raise CorpusError(f"'{self.path / name}' exists with other content; run "
                          "`policyspeech verify`")

    def _holds(self, name: str, data: bytes) -> bool:
        """True when ``name`` is a regular file (not a link) of exactly ``data``, durably."""
        try:
            if read_no_follow(self.path / name) != data:
                return False
            fd = os.open(self.path / name, os.O_RDONLY | os.O_NOFOLLOW)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError:
            return False
        return True

    def replace_derived(self, path: Path, data: bytes, kind: str) -> None:
        """Atomically rewrite a file derived from the log (card, changelog, citation...).
        ``LICENSE.md`` found one commit behind after a crash is only a warning (the next
        commit rewrites it), so its folder is not synced: it saves a commit an fsync."""
        replace_file(path, data, self.path / STAGING, kind, sync_dir=kind != _KINDS[LICENSE])

    def refresh_card(self) -> None:
        """Rewrite the card and ``LICENSE.md`` if an interrupted writer left them behind the
        log, so that they are never more than one commit behind, even after repeated
        crashes."""
        state = self.reader.head()
        if self._card_written_for == state.entry_sha256:
            return  # this object wrote the card for this very head
        for name, text in derived_texts(self.path, state,
                                        self.reader.latest_manifest(state)).items():
            try:
                current = (self.path / name).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                current = None
            if current != text:
                self.replace_derived(self.path / name, text.encode(), _KINDS[name])
        self._card_written_for = state.entry_sha256

    def write_card(self, state: HeadState) -> None:
        """Write the card and ``LICENSE.md`` of ``state`` (and the ``.gitignore`` of a corpus
        made before there was one: it is never replaced)."""
        for name, text in derived_texts(self.path, state,
                                        self.reader.latest_manifest(state)).items():
            self.replace_derived(self.path / name, text.encode(), _KINDS[name])
        self._card_written_for = state.entry_sha256
        if not os.path.lexists(self.path / IGNORE_FILE):
            publish_new(self.path / IGNORE_FILE, gitignore_text().encode(), self.path / STAGING)

    def upgrade_schema(self) -> None:
        """Bring a head written in an older schema (of the same major version) to this
        one, in a commit of its own that changes no record: each fragment of the head that
        lacks the newer fields is copied with them empty, so that every file of the head
        has the same columns. Released fragments stay as they are in their releases."""
        state = self.reader.head()
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

        self.commit(build)


_KINDS = {CARD: "card", LICENSE: "license"}
"""The crash points' name of each file :meth:`Writer.write_card` writes."""


def _write_user_files(folder: Path, from_bundled: bool) -> None:
    """Write a new corpus's ``.gitignore`` and its ``DATASHEET.md``: a template, or the
    bundled corpus's own for a copy of it. Neither is ever written again."""
    datasheet = bundled_corpus_path() / DATASHEET if from_bundled else None
    text = datasheet.read_bytes() if datasheet and datasheet.is_file() else template().encode()
    publish_new(folder / DATASHEET, text, folder / STAGING)
    publish_new(folder / IGNORE_FILE, gitignore_text().encode(), folder / STAGING)


def _copy_corpus_files(source: Path, target: Path) -> None:
    """Copy the store, the log entries and the release manifests of ``source`` (in either
    layout) durably into ``target``, then make its version folders."""
    from policyspeech.replay import recorded_manifests

    seq = 0
    while (path := find_entry(source, seq)).is_file():
        publish_new(entry_target(target, seq), path.read_bytes(), target / STAGING)
        seq += 1
    state = Reader(target).view()
    for identity in sorted(state.fragments_ever):
        info = {"path": identity, "sha256": Path(identity).stem}
        if fragment_file(source, info).is_file():  # (else collected by gc)
            publish_new(store_file(target, info["sha256"]),
                        fragment_file(source, info).read_bytes(), target / STAGING)
    for manifest, _version, _seq, _sha256 in recorded_manifests(source):
        publish_new(target / RELEASES / manifest.name, manifest.read_bytes(), target / STAGING)
    sync_views(Reader(target))
