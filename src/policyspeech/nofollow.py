"""Reading a corpus's files without following symbolic links (a link planted in a corpus
folder must not make a reader serve another file), and reading a fragment that a write
copies only after checking it against the log.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "a.json"
>>> _ = path.write_bytes(b"{}")
>>> read_no_follow(path)
b'{}'
>>> read_checked(path, "0" * 64)
Traceback (most recent call last):
...
policyspeech.errors.IntegrityError: ...a.json: its SHA-256 is 44136fa3..., the log says 00000000...; the file was changed or damaged and nothing was written (run `policyspeech verify`)
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from policyspeech.errors import IntegrityError

if TYPE_CHECKING:
    import pyarrow as pa


def read_no_follow(path: Path) -> bytes:
    """Read a file of the corpus without following a symbolic link."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def arrow_reader(data: bytes) -> pa.BufferReader:
    """A reader over a copy of ``data`` in Arrow's own memory, for Parquet bytes read into
    Python. Over the Python bytes themselves, Arrow's threads may release the last
    reference to them, which needs the GIL: if that happens while the interpreter exits, the
    process aborts ("terminate called without an active exception", exit status 134).

    >>> arrow_reader(b"PAR1").read()
    b'PAR1'
    """
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    sink.write(data)
    return pa.BufferReader(sink.getvalue())


def read_checked(path: Path, sha256: str) -> bytes:
    """The bytes of ``path`` (not followed if a link), which must have the SHA-256 that
    the log records; else :class:`IntegrityError` naming the file."""
    try:
        data = read_no_follow(path)
    except OSError as exc:
        raise IntegrityError(f"{path}: cannot read it ({exc.strerror}); nothing was written "
                             "(run `policyspeech verify`)") from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise IntegrityError(
            f"{path}: its SHA-256 is {actual[:8]}..., the log says {sha256[:8]}...; the file "
            "was changed or damaged and nothing was written (run `policyspeech verify`)")
    return data


def check_file(path: Path, sha256: str) -> None:
    """Raise :class:`IntegrityError` naming ``path`` unless its bytes (read in blocks, a
    link not followed) have the SHA-256 that the log records."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as handle:
            actual = hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        raise IntegrityError(f"{path}: cannot read it ({exc.strerror}); nothing was written "
                             "(run `policyspeech verify`)") from None
    if actual != sha256:
        raise IntegrityError(
            f"{path}: its SHA-256 is {actual[:8]}..., the log says {sha256[:8]}...; the file "
            "was changed or damaged and nothing was written (run `policyspeech verify`)")


def read_fragment(path: Path, sha256: str, columns: list[str] | None = None) -> pa.Table:
    """A fragment that a write copies or reads from: its bytes checked against the
    SHA-256 the log records, then parsed with every Parquet page's checksum verified
    (``columns`` that a fragment of an older schema lacks are left out)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = read_checked(path, sha256)
    try:
        source = pq.ParquetFile(arrow_reader(data), page_checksum_verification=True)
        names = source.schema_arrow.names
        return source.read(columns=None if columns is None else
                           [name for name in columns if name in names])
    except (OSError, pa.ArrowException) as exc:
        raise IntegrityError(f"{path}: not a readable Parquet fragment ({exc}); nothing was "
                             "written (run `policyspeech verify`)") from None
