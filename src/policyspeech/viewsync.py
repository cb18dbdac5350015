"""Bringing the version folders current: ``data/`` to the head, ``releases/<V>/`` to release V.

A writer calls :func:`sync_views` after every commit (and at the start of every write, in
case an interrupted one left them behind); ``verify --repair`` calls it with
``thorough=True``. Each missing or wrong file becomes a hard link to the store's fragment
(a copy, written to the staging folder, fsynced and renamed into place, where a link is
impossible: another file system, a file system without links, a link count at its
limit, a permission), then the files that are no fragment of the version are removed.
New files go in before old ones go out, so that a glob during the change sees the new
version's files beside the old ones, never fewer. A view file whose fragment the store
lacks is left alone (it may be the copy left of a lost store file). The folders are not
fsynced: they are derived, and a folder that a power failure leaves behind is what any
interrupted write leaves, which the next write brings current.

The folders are derived, so correctness does not need the lock: each pass ends by
reading the head again, and passes again if another writer committed meanwhile.

Examples
--------
>>> import tempfile, pathlib
>>> from policyspeech.store import Corpus
>>> corpus = Corpus.init(pathlib.Path(tempfile.mkdtemp()) / "c")
>>> _ = corpus.add({"title": "T", "speaker": "S", "country": "GB", "date": "2019",
...                 "language": "en", "text": "Words."})
>>> [path] = (corpus.path / "data").iterdir()
>>> path.samefile(corpus.fragment_paths()[0]), sync_views(corpus)
(True, 0)
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from policyspeech.fsutil import temporary_file, write_durably
from policyspeech.hooks import crash_point
from policyspeech.layout import DATA, STAGING, fragment_name, store_file
from policyspeech.log import HeadState
from policyspeech.reader import Reader
from policyspeech.views import (
    STORE_NAME,
    Difference,
    differences,
    expected_views,
    is_legacy,
)

NO_LINK = frozenset({errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP,
                     errno.EOPNOTSUPP, errno.ENOSYS, errno.EACCES})
"""Errors of ``os.link`` after which the file is copied instead."""
COPY_BLOCK = 1 << 20


def sync_views(reader: Reader, *, thorough: bool = False) -> int:
    """Bring every version folder of the corpus that ``reader`` reads to its newest head;
    return the number of files placed or removed. Not ``thorough``: a release's folder
    whose file names are right is taken as current (they are written once, and ``verify``
    checks them), and copies are compared by size."""
    if is_legacy(reader.path):
        return 0  # migrated first (policyspeech.migration)
    changed = 0
    for _attempt in range(reader.tuning.max_commit_attempts):
        state = reader.view()
        changed += _sync(reader.path, state, thorough)
        if reader.view().entry_sha256 == state.entry_sha256:
            break  # else another writer committed meanwhile: its head, too
    return changed


def _sync(corpus: Path, state: HeadState, thorough: bool) -> int:
    views = expected_views(state)
    chosen = [folder for folder, files in views.items()
              if thorough or folder == DATA or not _names_match(corpus / folder, files)]
    changed = 0
    for found in differences(corpus, state, thorough=thorough, folders=chosen):
        changed += _bring(corpus, found, views[found.folder], state)
    return changed


def _names_match(folder: Path, files: dict[str, str]) -> bool:
    try:
        return sorted(os.listdir(folder)) == sorted(files)
    except OSError:
        return False


def _bring(corpus: Path, found: Difference, files: dict[str, str], state: HeadState) -> int:
    """Place the missing and wrong files of one folder, then remove its extra ones."""
    folder = corpus / found.folder
    folder.mkdir(exist_ok=True)
    changed = 0
    for name in found.missing + found.different:
        changed += _place(corpus, store_file(corpus, files[name]), folder / name)
        crash_point("view-linked")
    for name in found.extra:
        kept = STORE_NAME.fullmatch(name) and fragment_name(name[:64]) in state.fragments_ever \
            and not os.path.lexists(store_file(corpus, name[:64]))
        if not kept:  # (else the store lost it, and this may be the copy that is left)
            (folder / name).unlink(missing_ok=True)
            changed += 1
            crash_point("view-removed")
    crash_point("view-synced")
    return changed


def _place(corpus: Path, store: Path, final: Path) -> int:
    """Make ``final`` the store's file ``store``: a hard link, else a copy."""
    if not os.path.isfile(store):
        return 0  # nothing to place: verify names the store's loss
    if os.path.lexists(final):
        if os.path.isdir(final) and not os.path.islink(final):
            return 0  # a folder of someone's: reported, never removed
        final.unlink(missing_ok=True)
    try:
        os.link(store, final)
    except FileExistsError:
        pass  # another writer placed it meanwhile
    except OSError as exc:
        if exc.errno not in NO_LINK:
            raise
        _copy(corpus, store, final)
    return 1


def _copy(corpus: Path, store: Path, final: Path) -> None:
    """Copy ``store`` to ``final`` durably: a temporary file, fsynced, renamed into place
    (in the staging folder; in ``final``'s own folder when that is another file system)."""
    for staging in (corpus / STAGING, final.parent):
        with temporary_file(staging) as (temp, handle), open(store, "rb") as source:
            while block := source.read(COPY_BLOCK):
                handle.write(block)
            write_durably(handle, b"", "view")
            try:
                os.replace(temp, final)
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
                continue
            return
