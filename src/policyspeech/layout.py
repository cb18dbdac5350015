"""Where everything is: every folder and file name of a corpus, and every environment
variable the package reads, defined once.

A corpus folder holds ``data/`` (the Parquet fragments, named by their SHA-256), ``log/``
(numbered log entries), ``releases/`` (one manifest per release), the dataset card
``README.md`` and, once released, ``CHANGELOG.md``, ``CITATION.cff`` and
``croissant.json``. Writers stage files in ``.tmp/`` and take the lock ``.lock``.

Examples
--------
>>> from pathlib import Path
>>> entry_path(Path("corpus"), 12).as_posix()
'corpus/log/00000012.json'
>>> fragment_name("ab" * 32)[:8], manifest_name("1.0.0")
('data/aba', 'releases/1.0.0.json')
"""

from __future__ import annotations

import os
from pathlib import Path

DATA = "data"
"""The Parquet fragments of every version, each named by the SHA-256 of its bytes."""
LOG = "log"
"""The commit log: ``00000000.json``, ``00000001.json``, ..."""
RELEASES = "releases"
"""One manifest per release: ``X.Y.Z.json``."""
FOLDERS = (DATA, LOG, RELEASES)
STAGING = ".tmp"
"""Where writers write files before they publish them (readers never look there)."""
LOCK = ".lock"
"""The writers' lock file."""
CARD = "README.md"
CHANGELOG = "CHANGELOG.md"
CITATION = "CITATION.cff"
CROISSANT = "croissant.json"

DEFAULT_CORPUS = "corpus"
"""The corpus used when none is given and ``$POLICYSPEECH_CORPUS`` is not set (if it is one)."""
ARROW_CACHE = "arrow"
"""The cache's folder of Arrow files for ``load_dataset`` (:mod:`policyspeech.arrowcache`)."""
HEADS_CACHE = "heads"
"""The cache's folder of head snapshots (:mod:`policyspeech.snapshot`)."""
CACHE_KEY = "key"
"""The cache's random key, which binds each cached file to its content (HMAC)."""

CORPUS_ENV = "POLICYSPEECH_CORPUS"
"""The corpus to use when none is given (see :mod:`policyspeech.locate`)."""
CACHE_ENV = "POLICYSPEECH_CACHE"
"""The cache folder (Arrow files for ``load_dataset``, head snapshots)."""
XDG_CACHE_ENV = "XDG_CACHE_HOME"


def entry_name(seq: int) -> str:
    """File name of log entry ``seq``.

    >>> entry_name(12)
    '00000012.json'
    """
    return f"{seq:08d}.json"


def entry_path(corpus: Path, seq: int) -> Path:
    """Path of log entry ``seq`` of ``corpus``."""
    return corpus / LOG / entry_name(seq)


def fragment_name(sha256: str) -> str:
    """The corpus-relative path of the fragment whose bytes have this SHA-256."""
    return f"{DATA}/{sha256}.parquet"


def manifest_name(version: str, suffix: str = "") -> str:
    """The corpus-relative path of the manifest of release ``version``."""
    return f"{RELEASES}/{version}{suffix}.json"


def corpus_from_environment() -> str | None:
    """``$POLICYSPEECH_CORPUS``, when it is set and not empty."""
    return os.environ.get(CORPUS_ENV) or None


def cache_folder() -> Path:
    """``$POLICYSPEECH_CACHE``, else ``$XDG_CACHE_HOME/policyspeech``, else
    ``~/.cache/policyspeech``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get(XDG_CACHE_ENV) or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "policyspeech"
