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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

TEMP_PREFIX = ".tmp-"
STAGING = ".tmp"
"""Folder of a corpus where files are written before they are published."""


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (new names) to stable storage."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def temporary_file(staging: Path) -> Iterator[tuple[Path, BinaryIO]]:
    """Yield a new temporary file in ``staging`` (created if need be); removed on exit."""
    staging.mkdir(exist_ok=True)
    path = staging / f"{TEMP_PREFIX}{secrets.token_hex(8)}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield path, handle
    finally:
        path.unlink(missing_ok=True)


def link_new(temp: Path, final: Path) -> bool:
    """Publish an fsynced ``temp`` as ``final`` if that name is free; fsync the folder.

    Returns False, publishing nothing, when ``final`` already exists.
    """
    try:
        os.link(temp, final)
    except FileExistsError:
        return False
    fsync_dir(final.parent)
    return True


def publish_new(final: Path, data: bytes, staging: Path) -> bool:
    """Write ``data`` to ``final`` put-if-absent and durably; False if the name was taken."""
    with temporary_file(staging) as (temp, handle):
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
        return link_new(temp, final)


def replace_file(final: Path, data: bytes, staging: Path) -> None:
    """Atomically replace ``final`` with ``data`` (temp file, fsync, ``os.replace``)."""
    with temporary_file(staging) as (temp, handle):
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
        os.replace(temp, final)
    fsync_dir(final.parent)


def remove_stale_temporaries(staging: Path) -> int:
    """Remove leftover temporary files of crashed writers; return how many were removed.

    Call only while holding the writer lock, so that no live writer's file is removed.
    """
    removed = 0
    if not staging.is_dir():
        return removed
    for entry in os.scandir(staging):
        if entry.name.startswith(TEMP_PREFIX) and entry.is_file(follow_symlinks=False):
            Path(entry.path).unlink(missing_ok=True)
            removed += 1
    return removed
