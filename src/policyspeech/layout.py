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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

FragmentInfoLike = Mapping[str, Any]

DATA = "data"
"""The Parquet fragments of every version, each named by the SHA-256 of its bytes.

Being changed (issue 13): ``data/`` becomes the head's folder (hard links to exactly the
head's fragments), the fragments themselves live in :data:`FRAGMENTS`, and each release has
its folder :func:`release_folder`. Log entries and manifests keep naming a fragment
``data/<sha256>.parquet``: that name identifies it; :func:`fragment_file` finds its bytes."""
FRAGMENTS = "fragments"
"""The content-addressed store: every fragment any entry added and ``gc`` has not removed,
named by the SHA-256 of its bytes (issue 13)."""
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
LICENSE = "LICENSE.md"
"""Generated: the records' licences (SPDX ids) and the attribution each source needs."""
DATASHEET = "DATASHEET.md"
"""Written by the corpus's maintainers (never generated): the datasheet sections of the
card (uses, collection, limitations, personal information)."""
ZENODO = ".zenodo.json"
"""Generated at each release: Zenodo's deposit metadata."""
IGNORE_FILE = ".gitignore"
"""Written at init and by the first commit of an older corpus, never replaced: what git
(and the Hub) leave out (:mod:`policyspeech.uploads`)."""
DELTA_LOG = "_delta_log"
"""The Delta Lake transaction log that makes the corpus a Delta table as well."""

DEFAULT_CORPUS = "corpus"
"""The corpus used when none is given and ``$POLICYSPEECH_CORPUS`` is not set (if it is one)."""
ARROW_CACHE = "arrow"
"""The cache's folder of Arrow files for ``load_dataset`` (:mod:`policyspeech.arrowcache`)."""
HEADS_CACHE = "heads"
"""The cache's folder of head snapshots (:mod:`policyspeech.snapshot`)."""
FACTS_CACHE = "facts"
"""The cache's folder of each fragment's facts for the card and ``LICENSE.md``
(:mod:`policyspeech.cardfiles`)."""
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


def fragment_file(corpus: Path, info: FragmentInfoLike) -> Path:
    """Where the bytes of the fragment ``info`` (an entry's or manifest's fragment record)
    are. Every read of a fragment goes through here (issue 13 moves the bytes)."""
    return corpus / str(info["path"])


def release_folder(version: str) -> str:
    """The corpus-relative folder whose Parquet files are exactly release ``version``.

    >>> release_folder("1.2.0")
    'releases/1.2.0'
    """
    return f"{RELEASES}/{version}"


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
