"""A reader's snapshot of the head, cached so that opening a large corpus stays instant.

Readers need only the fragments and the releases of the head, but finding them means
reading the whole log, and the entry of a bulk import lists the id and text hash of
every speech (about 15 MB for 100,000 speeches). After a reader has read the log it keeps
the light state in the user's cache folder (:func:`policyspeech.layout.cache_folder`),
with the identity of the newest entry it applied (number, hash, size, modification time
and inode). The next reader starts from the snapshot when that entry is still the same
file and still has the SHA-256 the snapshot was built from (the next entry's parent
checks it, else the entry file is hashed), and applies only the entries published since,
checking that they chain to it. A missing, stale or unreadable snapshot is simply ignored.

Every cached head is bound to its content: the snapshot carries a keyed SHA-256 (HMAC) of
its bytes, with a random key kept in the cache folder (:func:`cache_key`), and the head
index and its delta carry one of their headers. A snapshot edited by hand or by another
tool, copied from another cache, or damaged, is ignored (a rebuild from the log), never
served. Readers that ask for ``verify=True`` do not use it at all, and
``policyspeech verify`` replays the whole log.

Writers need more: the id and text hash of every record (for the duplicate check). A
writer that had to apply many ids or entries to build its head keeps a full snapshot too:
a head index (:mod:`policyspeech.headindex`), which the next writer opens without parsing
it and looks ids and keys up in, so that opening a corpus to add one speech costs the
same at 100,000 speeches as at 1,000. The index is verified page by page as it is read;
a damaged one costs a rebuild from the log, never a wrong answer.

Examples
--------
>>> from policyspeech.store import Corpus
>>> corpus = Corpus()
>>> view = corpus.view()
>>> view.light, sorted(view.releases)
(True, ['1.0.0'])
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Any

from policyspeech.layout import CACHE_KEY, HEADS_CACHE, cache_folder, entry_exists, find_entry
from policyspeech.log import HeadState

FORMAT = 4
KEY_BYTES = 32


def load(corpus: Path, *, full: bool = False) -> HeadState | None:
    """The cached state of ``corpus`` (light, or ``full`` with the id and hash indexes that
    writers need), if its newest entry is still the same file."""
    key = cache_key()
    if key is None:
        return None
    if full:
        from policyspeech import headindex

        state = headindex.read(_index_path(corpus), corpus,
                               stamp=lambda seq: _stamp(corpus, seq), key=key)
        return state if state is not None and _hash_checks(corpus, state) else None
    try:
        payload = read_bound(_path(corpus, full), key)
        if payload is None:
            return None
        data: dict[str, Any] = json.loads(payload)
        if data.get("format") != FORMAT or data.get("corpus") != str(corpus.resolve()):
            return None
        state = HeadState.from_json(data["state"])
        if data["entry"] != _identity(corpus, state.seq) or not _hash_checks(corpus, state):
            return None
        return state
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save(corpus: Path, state: HeadState) -> None:
    """Cache ``state`` of ``corpus``, light or full (best effort: a cache that cannot be
    written is only a slower next open)."""
    key = cache_key()
    if key is None:
        return
    if not state.light:
        from policyspeech import headsave

        try:
            headsave.write(_index_path(corpus), state, stamp=_stamp(corpus, state.seq),
                           key=key)
            _path(corpus, full=True).unlink(missing_ok=True)  # the full JSON of format 3
        except OSError:
            pass
        return
    path = _path(corpus)
    try:
        payload = json.dumps({"format": FORMAT, "corpus": str(corpus.resolve()),
                              "entry": _identity(corpus, state.seq),
                              "state": state.to_json()}).encode()
        write_bound(path, payload, key)
    except OSError:
        return


def write_bound(path: Path, payload: bytes, key: bytes) -> None:
    """Replace the cache file ``path`` with ``payload``, bound to it by its HMAC under
    ``key`` (:func:`read_bound` reads it back)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(6)}.tmp")
    temp.write_bytes(_mac(key, payload) + b"\n" + payload)
    os.replace(temp, path)


def read_bound(path: Path, key: bytes) -> bytes | None:
    """The payload of the cache file ``path`` if its HMAC under ``key`` checks, else None
    (an OSError when it cannot be read)."""
    mac, _, payload = path.read_bytes().partition(b"\n")
    return payload if hmac.compare_digest(mac, _mac(key, payload)) else None


def cache_key() -> bytes | None:
    """The random key that binds the cached heads of this cache folder to their content
    (made on first use, readable by its owner only); None when it cannot be made (then
    nothing is cached)."""
    path = cache_folder() / CACHE_KEY
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{CACHE_KEY}.{os.getpid()}-{secrets.token_hex(6)}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(KEY_BYTES))
        try:
            os.link(temp, path)  # put-if-absent: a key made meanwhile by another process wins
        except FileExistsError:
            pass
        finally:
            temp.unlink(missing_ok=True)
        return _read_key(path)
    except OSError:
        return None


def _read_key(path: Path) -> bytes | None:
    with open(path, "rb", opener=_no_follow) as handle:
        key = handle.read(KEY_BYTES + 1)
    return key if len(key) == KEY_BYTES else None  # else not a key this module made


def _no_follow(path: str, flags: int) -> int:
    return os.open(path, flags | os.O_NOFOLLOW)


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).hexdigest().encode()


def _hash_checks(corpus: Path, state: HeadState) -> bool:
    """Whether the entry ``state`` was made for has the hash it records: checked by the
    next entry's parent when there is one (:func:`~policyspeech.log.advance` compares
    them), else here, since the next commit names it as its parent."""
    if entry_exists(corpus, state.seq + 1):
        return True
    try:
        with open(find_entry(corpus, state.seq), "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest() == state.entry_sha256
    except OSError:
        return False


def _identity(corpus: Path, seq: int) -> list[int]:
    info = os.stat(find_entry(corpus, seq), follow_symlinks=False)
    return [seq, info.st_size, info.st_mtime_ns, info.st_ino]


def _stamp(corpus: Path, seq: int) -> dict[str, Any]:
    return {"corpus": str(corpus.resolve()), "entry": _identity(corpus, seq)}


def _index_path(corpus: Path) -> Path:
    return _path(corpus).with_suffix(".index")


def _path(corpus: Path, full: bool = False) -> Path:
    key = hashlib.sha256(str(corpus.resolve()).encode()).hexdigest()[:32]
    return cache_folder() / HEADS_CACHE / f"{key}{'-full' if full else ''}.json"
