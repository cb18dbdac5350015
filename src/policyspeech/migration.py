"""Migrating a corpus of the legacy layout to the store, the version folders and the log's
subfolders; then bringing the version folders current.

A corpus written before the store holds every fragment any entry added in ``data/`` and
its log entries flat in ``log/``. Readers read it as it is
(:func:`policyspeech.layout.fragment_file`, :func:`policyspeech.layout.find_entry`); the
start of every write migrates it, under the writer lock (:meth:`Writer.writing
<policyspeech.commit.Writer.writing>`), and so does ``verify --repair``. The steps can each
be interrupted at any instant and run again:

1. each flat entry ``log/NNNNNNNN.json`` is linked to ``log/NNNNN/NNNNNNNN.json``, the
   folders are fsynced, then the flat name is unlinked (an entry is found under one name
   or the other at every instant);
2. each file of ``data/`` is linked into ``.tmp/store/``, which is fsynced and then renamed
   to ``fragments/`` in one step (readers read ``data/`` until then, the store after);
3. the version folders are brought current (:mod:`policyspeech.viewsync`): ``data/`` loses
   the files that are not the head's (the store has them), each release gets its folder.

Links keep each file's inode: no byte of an entry, manifest or fragment changes (nor its
modification time), so no hash and no fingerprint does. Files of ``data/`` that no entry
names (what an interrupted write of an older policyspeech left) go to the store too,
where ``gc`` finds them.

Examples
--------
>>> import tempfile, pathlib
>>> from policyspeech.reader import Reader
>>> from policyspeech.store import Corpus
>>> folder = Corpus.init(pathlib.Path(tempfile.mkdtemp()) / "c").path
>>> migrate(Reader(folder))  # a corpus of this version: nothing to migrate
False
"""

from __future__ import annotations

import contextlib
import os

from policyspeech.errors import IntegrityError
from policyspeech.fsutil import fsync_dir
from policyspeech.hooks import crash_point
from policyspeech.layout import (
    DATA,
    FRAGMENTS,
    LOG,
    MIGRATION,
    STAGING,
    entry_path,
    legacy_entries,
)
from policyspeech.nofollow import read_no_follow
from policyspeech.reader import Reader
from policyspeech.viewsync import sync_views


def migrate(reader: Reader, *, thorough: bool = False) -> bool:
    """Migrate the corpus that ``reader`` reads if it is in the legacy layout, and bring its
    version folders current (``thorough``: see :func:`~policyspeech.viewsync.sync_views`);
    return True when anything was migrated. Call it holding the writer lock."""
    moved = _migrate_log(reader) | _migrate_store(reader)
    sync_views(reader, thorough=thorough or moved)
    return moved


def _migrate_log(reader: Reader) -> bool:
    corpus = reader.path
    flat = legacy_entries(corpus)
    if not flat:
        return False
    folders = set()
    for path in flat:
        target = entry_path(corpus, int(path.stem))
        if not target.parent.is_dir():
            target.parent.mkdir(exist_ok=True)
        folders.add(target.parent)
        try:
            os.link(path, target, follow_symlinks=False)
        except FileExistsError:
            if read_no_follow(target) != read_no_follow(path):
                raise IntegrityError(
                    f"{path} and {target} are both log entry {int(path.stem)}, with other "
                    "bytes; the log was edited or damaged: nothing was written (run "
                    "`policyspeech verify`)") from None
        crash_point("migration-linked")
    for folder in sorted(folders):
        fsync_dir(folder)
    fsync_dir(corpus / LOG)
    crash_point("migration-fsynced")
    for path in flat:
        path.unlink(missing_ok=True)
        crash_point("migration-unlinked")
    fsync_dir(corpus / LOG)
    return True


def _migrate_store(reader: Reader) -> bool:
    corpus = reader.path
    if (corpus / FRAGMENTS).is_dir():
        return False
    building = corpus / STAGING / MIGRATION
    building.mkdir(parents=True, exist_ok=True)
    try:
        files = [entry for entry in os.scandir(corpus / DATA)
                 if entry.is_file(follow_symlinks=False)]
    except FileNotFoundError:
        files = []
    for entry in sorted(files, key=lambda e: e.name):
        with contextlib.suppress(FileExistsError):  # linked by an interrupted migration
            os.link(entry.path, building / entry.name, follow_symlinks=False)
        crash_point("migration-linked")
    fsync_dir(building)
    crash_point("migration-fsynced")
    os.rename(building, corpus / FRAGMENTS)
    crash_point("migration-renamed")
    fsync_dir(corpus / STAGING)
    fsync_dir(corpus)
    return True
