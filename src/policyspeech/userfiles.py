"""Opening the files a user names: regular files only, read with a limit, confined.

Every file that a command reads on a user's word goes through here: ``add FILE``,
``import FILE`` (and the files of a folder), ``--meta``, a sidecar ``FILE.yaml``, ``amend
--text`` and ``--from``, ``--lists``, ``--speakers``, and the file that a record's
``path`` field names. The rules:

- only a regular file is read: a folder, a named pipe (FIFO), a device (``/dev/zero``) or
  a socket is refused before it is opened (``os.stat``), and the opened descriptor is
  checked again (``os.fstat``; opened with ``O_NONBLOCK``, so that a FIFO swapped in
  between cannot make the command wait for a writer that never comes);
- :func:`read_regular` reads at most ``limit + 1`` bytes, so that a file over the limit is
  refused without being read whole;
- :func:`confine` resolves a name that a record gives (symbolic links resolved) and
  refuses one outside the allowed folder: a downloaded JSONL or CSV file cannot make an
  import read ``/etc/passwd`` or ``../../.ssh/id_rsa`` into a published corpus.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "a.txt").write_bytes(b"Words.")
>>> read_regular(folder / "a.txt", limit=100)
b'Words.'
>>> read_regular(pathlib.Path("/dev/zero"), limit=100)
Traceback (most recent call last):
...
policyspeech.errors.InvalidSpeechError: /dev/zero: is a character device, not a regular file; give a regular file
>>> confine(folder, "../etc/passwd", None)
Traceback (most recent call last):
...
policyspeech.errors.InvalidSpeechError: path '../etc/passwd' is outside the source file's folder; put the text files in the source's folder (or below it), or allow their folder with --files-root DIR
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from policyspeech.errors import InvalidSpeechError

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _refuse(source: str, mode: int, folder_hint: str) -> InvalidSpeechError:
    if stat.S_ISDIR(mode):
        return InvalidSpeechError(f"{source}: is a folder; {folder_hint}")
    return InvalidSpeechError(f"{source}: is {_kind(mode)}, not a regular file; give a "
                              "regular file")


def check_regular(path: Path, *, folder_hint: str = "give a file") -> os.stat_result:
    """The status of ``path`` (links followed), or raise unless it is a regular file."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        raise InvalidSpeechError(f"{path}: no such file; check the path") from None
    except OSError as exc:
        raise InvalidSpeechError(f"{path}: cannot read ({exc.strerror})") from None
    if not stat.S_ISREG(status.st_mode):
        raise _refuse(str(path), status.st_mode, folder_hint)
    return status


def open_regular(path: Path, *, folder_hint: str = "give a file") -> BinaryIO:
    """``path`` opened for reading in binary, once it is known to be a regular file."""
    check_regular(path, folder_hint=folder_hint)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise InvalidSpeechError(f"{path}: cannot read ({exc.strerror})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):  # replaced between the check and the opening
        os.close(fd)
        raise _refuse(str(path), mode, folder_hint)
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def read_regular(path: Path, *, limit: int,
                 hint: str = "raise it with --max-bytes if this really is one speech",
                 folder_hint: str = "give a file") -> bytes:
    """The bytes of the regular file ``path``; raise when it has more than ``limit``
    (only ``limit + 1`` bytes are read)."""
    with open_regular(path, folder_hint=folder_hint) as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise InvalidSpeechError(f"{path}: cannot read ({exc.strerror})") from None
    if len(data) > limit:
        raise InvalidSpeechError(f"{path}: larger than the limit of {limit:,} bytes; {hint}")
    return data


def confine(base: Path, name: str, root: Path | None) -> Path:
    """The file that a record's ``path`` value ``name`` names: relative to ``base`` (the
    source file's folder), and inside ``root`` (default: ``base``) once every symbolic
    link is resolved; raise for a name outside it."""
    allowed = (root if root is not None else base).resolve()
    target = (base / name).resolve()
    if target != allowed and allowed not in target.parents:
        where = (f"--files-root {root}" if root is not None else "the source file's folder")
        fix = ("put the text files in the source's folder (or below it), or allow their "
               "folder with --files-root DIR") if root is None else \
            "put the text files below it, or name their folder with --files-root"
        raise InvalidSpeechError(f"path '{name}' is outside {where}; {fix}")
    return target
