"""A reader's snapshot of the head, cached so that opening a large corpus stays instant.

Readers need only the fragments and the releases of the head, but finding them means
reading the whole log, and the entry of a bulk import lists the id and text hash of
every speech (about 15 MB for 100,000 speeches). After a reader has read the log it keeps
the light state in the user's cache folder (:func:`policyspeech.layout.cache_folder`),
with the identity of the newest entry it applied (number, hash, size, modification time
and inode). The next reader starts from the snapshot when that entry is still the same
file, and applies only the entries published since, checking that they chain to it.
Log entries are written once and never change; ``policyspeech verify`` still checks the
whole chain. A missing, stale or unreadable snapshot is simply ignored.

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
import json
import os
import secrets
from pathlib import Path
from typing import Any

from policyspeech.layout import HEADS_CACHE, cache_folder, entry_path
from policyspeech.log import HeadState

FORMAT = 3


def load(corpus: Path, *, full: bool = False) -> HeadState | None:
    """The cached state of ``corpus`` (light, or ``full`` with the id and hash indexes that
    writers need), if its newest entry is still the same file."""
    if full:
        from policyspeech import headindex

        state = headindex.read(_index_path(corpus), corpus,
                               stamp=lambda seq: _stamp(corpus, seq))
        return state if state is not None and _hash_checks(corpus, state) else None
    try:
        data: dict[str, Any] = json.loads(_path(corpus, full).read_bytes())
        if data.get("format") != FORMAT or data.get("corpus") != str(corpus.resolve()):
            return None
        state = HeadState.from_json(data["state"])
        if data["entry"] != _identity(corpus, state.seq):
            return None
        return state
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save(corpus: Path, state: HeadState) -> None:
    """Cache ``state`` of ``corpus``, light or full (best effort: a cache that cannot be
    written is only a slower next open)."""
    if not state.light:
        from policyspeech import headsave

        try:
            headsave.write(_index_path(corpus), state, stamp=_stamp(corpus, state.seq))
            _path(corpus, full=True).unlink(missing_ok=True)  # the full JSON of format 3
        except OSError:
            pass
        return
    path = _path(corpus)
    try:
        data = {"format": FORMAT, "corpus": str(corpus.resolve()),
                "entry": _identity(corpus, state.seq), "state": state.to_json()}
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(6)}.tmp")
        temp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(temp, path)
    except OSError:
        return


def _hash_checks(corpus: Path, state: HeadState) -> bool:
    """Whether the entry ``state`` was made for has the hash it records: checked by the
    next entry's parent when there is one (:func:`~policyspeech.log.advance` compares
    them), else here, since the next commit names it as its parent."""
    if os.path.lexists(entry_path(corpus, state.seq + 1)):
        return True
    try:
        with open(entry_path(corpus, state.seq), "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest() == state.entry_sha256
    except OSError:
        return False


def _identity(corpus: Path, seq: int) -> list[int]:
    info = os.stat(entry_path(corpus, seq), follow_symlinks=False)
    return [seq, info.st_size, info.st_mtime_ns, info.st_ino]


def _stamp(corpus: Path, seq: int) -> dict[str, Any]:
    return {"corpus": str(corpus.resolve()), "entry": _identity(corpus, seq)}


def _index_path(corpus: Path) -> Path:
    return _path(corpus).with_suffix(".index")


def _path(corpus: Path, full: bool = False) -> Path:
    key = hashlib.sha256(str(corpus.resolve()).encode()).hexdigest()[:32]
    return cache_folder() / HEADS_CACHE / f"{key}{'-full' if full else ''}.json"
