"""Where everything is: every folder and file name of a corpus, and every environment
variable the package reads, defined once.

A corpus folder holds ``fragments/`` (the store: every Parquet fragment, named by its
SHA-256), ``data/`` (the head's fragments: hard links into the store), ``log/`` (numbered
log entries, a thousand per subfolder), ``releases/`` (one manifest per release, and one
folder of hard links per release), the dataset card ``README.md`` and, once released,
``CHANGELOG.md``, ``CITATION.cff`` and ``croissant.json``. Writers stage files in
``.tmp/`` and take the lock ``.lock``.

Examples
--------
>>> from pathlib import Path
>>> entry_path(Path("corpus"), 12).as_posix()
'corpus/log/00000/00000012.json'
>>> fragment_name("ab" * 32)[:8], manifest_name("1.0.0")
('data/aba', 'releases/1.0.0.json')
>>> store_file(Path("corpus"), "ab" * 32).as_posix()[:21]
'corpus/fragments/abab'
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

FragmentInfoLike = Mapping[str, Any]

DATA = "data"
"""The head's folder: exactly the head's fragments, as hard links into :data:`FRAGMENTS`
(copies where a link is impossible), so that ``data/*.parquet`` is the head. Each release
has such a folder too (:func:`release_folder`). Log entries and manifests name a fragment
``data/<sha256>.parquet`` (:func:`fragment_name`): that name identifies it, it is not where
its bytes are; :func:`fragment_file` finds them. A corpus written before the store existed
holds every fragment here (the legacy layout, migrated by the next write)."""
FRAGMENTS = "fragments"
"""The content-addressed store: every fragment any entry added and ``gc`` has not removed,
named by the SHA-256 of its bytes. Write-once; readers read only here."""
LOG = "log"
"""The commit log: ``00000/00000000.json``, ``00000/00000001.json``, ... (a thousand
entries per subfolder; a corpus written before subfolders has them flat in ``log/``)."""
ENTRIES_PER_FOLDER = 1_000
RELEASES = "releases"
"""One manifest per release, ``X.Y.Z.json``, and one folder per release, ``X.Y.Z/``."""
FOLDERS = (FRAGMENTS, DATA, LOG, RELEASES)
MIGRATION = "store"
"""The store being filled by a migration from the legacy layout, in :data:`STAGING`; it
becomes :data:`FRAGMENTS` in one rename when it holds every fragment."""
PARQUET = ".parquet"
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
DELTA_LAST_CHECKPOINT = "_last_checkpoint"
"""In :data:`DELTA_LOG`: which Delta checkpoint is the newest (the one file there that is
replaced, not written once)."""

DEFAULT_CORPUS = "corpus"
"""The corpus used when none is given and ``$POLICYSPEECH_CORPUS`` is not set (if it is one)."""
ARROW_CACHE = "arrow"
"""The cache's folder of Arrow files for ``load_dataset`` (:mod:`policyspeech.arrowcache`)."""
HEADS_CACHE = "heads"
"""The cache's folder of head snapshots (:mod:`policyspeech.snapshot`)."""
FACTS_CACHE = "facts"
"""The cache's folder of each fragment's facts for the card and ``LICENSE.md``
(:mod:`policyspeech.cardfiles`)."""
COUNTS_CACHE = "counts"
"""The cache's folder of each fragment's token counts per speech (:mod:`policyspeech.counting`)."""
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


def entry_folder(seq: int) -> str:
    """The corpus-relative folder of log entry ``seq``: ``log/`` and the first five of the
    entry's eight digits, so that a folder holds at most a thousand entries.

    >>> entry_folder(12), entry_folder(12_345)
    ('log/00000', 'log/00012')
    """
    return f"{LOG}/{seq // ENTRIES_PER_FOLDER:05d}"


def entry_path(corpus: Path, seq: int) -> Path:
    """Path of log entry ``seq`` of ``corpus``."""
    return corpus / entry_folder(seq) / entry_name(seq)


def legacy_entry_path(corpus: Path, seq: int) -> Path:
    """Where a corpus written before log subfolders keeps entry ``seq`` (flat in ``log/``)."""
    return corpus / LOG / entry_name(seq)


def find_entry(corpus: Path, seq: int) -> Path:
    """The file of log entry ``seq``: in its subfolder, else (a corpus not yet migrated)
    flat in ``log/`` when it is there; the subfolder's path when neither exists."""
    path = entry_path(corpus, seq)
    if not os.path.lexists(path) and os.path.lexists(legacy := legacy_entry_path(corpus, seq)):
        return legacy
    return path


def entry_exists(corpus: Path, seq: int) -> bool:
    """Whether log entry ``seq`` exists, in its subfolder or flat (legacy)."""
    return os.path.lexists(entry_path(corpus, seq)) or os.path.lexists(
        legacy_entry_path(corpus, seq))


def legacy_entries(corpus: Path) -> list[Path]:
    """The entries kept flat in ``log/`` (a corpus written before subfolders), in order."""
    try:
        names = os.listdir(corpus / LOG)
    except OSError:
        return []
    return [corpus / LOG / name for name in sorted(names) if _FLAT.fullmatch(name)]


_FLAT = re.compile(r"\d{8}\.json")


def fragment_name(sha256: str) -> str:
    """The corpus-relative path that names (identifies) the fragment whose bytes have this
    SHA-256 in log entries and manifests."""
    return f"{DATA}/{sha256}{PARQUET}"


def store_file(corpus: Path, sha256: str) -> Path:
    """The fragment's file in the store, where every write puts it."""
    return corpus / FRAGMENTS / f"{sha256}{PARQUET}"


def fragment_sha256(info: FragmentInfoLike) -> str:
    """The SHA-256 of a fragment record (from its name when the record has no hash)."""
    return str(info.get("sha256") or PurePosixPath(str(info["path"])).stem)


def fragment_file(corpus: Path, info: FragmentInfoLike) -> Path:
    """Where the bytes of the fragment ``info`` (an entry's or manifest's fragment record)
    are: the store; in a corpus of the legacy layout (no store yet: it is migrated by its
    next write, and read as it is), the file that ``info["path"]`` names. Every read of a
    fragment goes through here."""
    store = store_file(corpus, fragment_sha256(info))
    if os.path.lexists(store) or os.path.isdir(corpus / FRAGMENTS):
        return store
    return corpus / str(info["path"])


def view_file(folder: str, identity: str) -> str:
    """The corpus-relative path of a fragment (named ``identity`` by the log) in the
    version folder ``folder``.

    >>> view_file(release_folder("1.0.0"), "data/ab.parquet")
    'releases/1.0.0/ab.parquet'
    """
    return f"{folder}/{PurePosixPath(identity).name}"


def delta_commit_path(corpus: Path, version: int) -> Path:
    """The Delta Lake commit of table version ``version`` (log entry ``version``).

    >>> delta_commit_path(Path("corpus"), 12).as_posix()
    'corpus/_delta_log/00000000000000000012.json'
    """
    return corpus / DELTA_LOG / f"{version:020d}.json"


def delta_checkpoint_path(corpus: Path, version: int) -> Path:
    """The Delta Lake checkpoint (Parquet) of table version ``version``."""
    return corpus / DELTA_LOG / f"{version:020d}.checkpoint.parquet"


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
