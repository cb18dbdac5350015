"""Durable file publication: write-once files and atomically replaced pointer files.

Write-once files (fragments, log entries) are published put-if-absent: the bytes go to a
temporary file in the same folder, which is fsynced and then hard-linked to its final
name. ``os.link`` fails if the name exists, so a second writer can never overwrite the
first. The folder is fsynced before success is reported. Files that are derived views
by design (the dataset card) are replaced with ``os.replace``. An fsync error aborts
and is never retried: after a failed fsync the page cache cannot be trusted.

Temporary files start with ``.tmp-``; readers never list folders, so they never see them.

Examples
--------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> publish_new(folder / "a.json", b"{}")
True
>>> publish_new(folder / "a.json", b"[]")  # the name is taken: nothing is overwritten
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


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (new names) to stable storage."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def temporary_file(folder: Path) -> Iterator[tuple[Path, BinaryIO]]:
    """Yield a new temporary file in ``folder``; it is removed on exit unless renamed."""
    path = folder / f"{TEMP_PREFIX}{secrets.token_hex(8)}"
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


def publish_new(final: Path, data: bytes) -> bool:
    """Write ``data`` to ``final`` put-if-absent and durably; False if the name was taken."""
    with temporary_file(final.parent) as (temp, handle):
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
        return link_new(temp, final)


def replace_file(final: Path, data: bytes) -> None:
    """Atomically replace ``final`` with ``data`` (temp file, fsync, ``os.replace``)."""
    with temporary_file(final.parent) as (temp, handle):
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
        os.replace(temp, final)
    fsync_dir(final.parent)


def remove_stale_temporaries(folder: Path) -> int:
    """Remove leftover temporary files of crashed writers; return how many were removed.

    Call only while holding the writer lock, so that no live writer's file is removed.
    """
    removed = 0
    if not folder.is_dir():
        return removed
    for entry in os.scandir(folder):
        if entry.name.startswith(TEMP_PREFIX) and entry.is_file(follow_symlinks=False):
            Path(entry.path).unlink(missing_ok=True)
            removed += 1
    return removed
