"""Reading a corpus's files without following symbolic links (a link planted in a corpus
folder must not make a reader serve another file).

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "a.json"
>>> _ = path.write_bytes(b"{}")
>>> read_no_follow(path)
b'{}'
"""

from __future__ import annotations

import os
from pathlib import Path


def read_no_follow(path: Path) -> bytes:
    """Read a file of the corpus without following a symbolic link."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as handle:
        return handle.read()
