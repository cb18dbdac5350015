"""Durable file publication: write-once files and atomically replaced pointer files.

Write-once files (fragments, log entries) are published put-if-absent: the bytes go to a
temporary file in a staging folder on the same file system (the corpus's ``.tmp/``),
which is fsynced and then hard-linked to its final name. ``os.link`` fails if the name exists, so a second writer can never overwrite the
first. The folder is fsynced before success is reported. Files that are derived views
by design (the dataset card) are replaced with ``os.replace``. An fsync error aborts
and is never retried: after a failed fsync the page cache cannot be trusted.

Temporary files live only in the staging folder, so readers never see them, and the
next writer removes what a crashed one left there without listing the data folders.

Examples
--------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> staging = folder / ".tmp"
>>> publish_new(folder / "a.json", b"{}", staging)
True
>>> publish_new(folder / "a.json", b"[]", staging)  # the name is taken: nothing is overwritten
False
>>> (folder / "a.json").read_bytes()
b'{}'
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from policyspeech.errors import IntegrityError
from policyspeech.hooks import crash_point

TEMP_PREFIX = ".tmp-"
STALE_SECONDS = 24 * 3600


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (new names) to stable storage."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def temporary_file(staging: Path, owner: int | None = None) -> Iterator[tuple[Path, BinaryIO]]:
    """Yield a new temporary file in ``staging`` (created if need be), named after the
    ``owner`` process (this one by default); removed on exit. A ``staging`` that is a
    symbolic link is refused: temporary files are made and removed only inside the corpus."""
    staging.mkdir(exist_ok=True)
    if staging.is_symlink():
        raise IntegrityError(f"'{staging}' is a symbolic link; the corpus's folder of "
                             f"temporary files must be a folder of the corpus (remove the "
                             f"link, `rm '{staging}'`, and run the command again)")
    path = staging / f"{TEMP_PREFIX}{owner or os.getpid()}-{secrets.token_hex(8)}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield path, handle
    finally:
        path.unlink(missing_ok=True)


def write_staged(staging: Path, data: bytes | memoryview, kind: str,
                 owner: int | None = None) -> Path:
    """Write ``data`` durably to a new temporary file in ``staging`` that is kept (the
    caller links it to its final name, or removes it); return its path."""
    with temporary_file(staging, owner) as (temp, handle):
        write_durably(handle, data, kind)
        kept = temp.with_name(temp.name + "-staged")
        os.rename(temp, kept)  # out of the way of the context's clean-up
    return kept


def link_new(temp: Path, final: Path, kind: str = "file") -> bool:
    """Publish an fsynced ``temp`` as ``final`` if that name is free; fsync the folder.

    Returns False, publishing nothing, when ``final`` already exists.
    """
    try:
        os.link(temp, final)
    except FileExistsError:
        return False
    crash_point(f"{kind}-linked")
    fsync_dir(final.parent)
    crash_point(f"{kind}-published")
    return True


def link_all(pairs: list[tuple[Path, Path]], kind: str = "file") -> None:
    """Link each fsynced temporary file to its final name (a name already taken holds the
    same bytes: content-addressed files), then fsync their folders once."""
    for temp, final in pairs:
        try:
            os.link(temp, final)
        except FileExistsError:  # the same bytes (the name is their hash)
            continue
        crash_point(f"{kind}-linked")
    for folder in sorted({final.parent for _temp, final in pairs}):
        fsync_dir(folder)
    if pairs:
        crash_point(f"{kind}-published")


def write_durably(handle: BinaryIO, data: bytes | memoryview, kind: str) -> None:
    """Write ``data`` to an open temporary file and fsync it (an fsync error propagates:
    it is never retried, since the page cache can no longer be trusted)."""
    handle.write(data)
    handle.flush()
    crash_point(f"{kind}-written")
    os.fsync(handle.fileno())
    crash_point(f"{kind}-fsynced")


def publish_new(final: Path, data: bytes, staging: Path, kind: str = "file") -> bool:
    """Write ``data`` to ``final`` put-if-absent and durably; False if the name was taken."""
    with temporary_file(staging) as (temp, handle):
        write_durably(handle, data, kind)
        return link_new(temp, final, kind)


def replace_file(final: Path, data: bytes, staging: Path, kind: str = "file", *,
                 sync_dir: bool = True) -> None:
    """Atomically replace ``final`` with ``data`` (temp file, fsync, ``os.replace``), then
    make the replacement durable (``sync_dir=False`` for a file that may be found one
    version behind after a crash: it is then the old file or the new one, whole)."""
    with temporary_file(staging) as (temp, handle):
        write_durably(handle, data, kind)
        os.replace(temp, final)
    crash_point(f"{kind}-replaced")
    if sync_dir:
        fsync_dir(final.parent)


def remove_stale_temporaries(staging: Path) -> int:
    """Remove temporary files left by writers that died; return how many were removed.

    A temporary file's name holds its writer's process id: it is removed when no process
    of that id is alive (or when it is more than a day old), so a live writer's file is
    never touched, with or without the lock.
    """
    removed = 0
    if not staging.is_dir():
        return removed
    for entry in os.scandir(staging):
        if not entry.name.startswith(TEMP_PREFIX):
            continue
        try:
            stale = not _writer_alive(entry.name) or (
                time.time() - entry.stat(follow_symlinks=False).st_mtime > STALE_SECONDS)
        except FileNotFoundError:  # its writer finished with it meanwhile
            continue
        if stale:
            Path(entry.path).unlink(missing_ok=True)
            removed += 1
    return removed


def _writer_alive(name: str) -> bool:
    pid_text = name[len(TEMP_PREFIX):].split("-", 1)[0]
    if not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        return True
    return True
