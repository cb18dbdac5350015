"""A writer's head index: the id, key and hash maps of the head on disk, checked page by page.

A writer needs, for the duplicate check, the id and text hash of every record, the speech
key of every record present, retracted or amended, and every id ever used
(:class:`~policyspeech.log.HeadState`). Parsing all of that on every open costs time in
proportion to the corpus. The head index keeps them in one file of sorted tables that a
writer does not parse: it checks the header, and looks a key up by searching a table of
fixed-width digests, reading only the few 4 KiB pages the search touches. The maps of the
state it gives are :class:`LayeredMap` objects: the table at the entry the file was
written for, plus the changes of the entries applied since (set and deleted keys).

Each table is sorted by a 16-byte BLAKE2b digest of its keys (uniform, so the search
interpolates), with the keys and values in a heap; a lookup compares the key it finds
with the key it was asked for. The header records the entry (its number and SHA-256, and
a ``stamp`` the caller checks: :mod:`policyspeech.snapshot` gives the corpus and the log
entry file's identity), the small parts of the state (fragments, releases, pending
changes), the counts, and a checksum of every page of the body (the first 8 bytes of its
SHA-256); the header carries a keyed SHA-256 of its own (an HMAC under the cache's key,
:func:`policyspeech.snapshot.cache_key`), which binds the whole file: the pages to their
digests, the state to its entry, whose hash the reader checks against the log. A page is checked the first time it
is read. A header that does not check, or counts that do not match the head's rows, make
the file ignored (the writer reads the log). A page that does not check makes the index
rebuild its maps from the log up to its entry (which is always right), delete the file,
and answer from the rebuilt maps. So a damaged, truncated or edited file costs time,
never a wrong answer; a file edited without the key does not check (one who can read
the key could make it lie, as he could edit the log: ``policyspeech verify`` replays the
log, and finds the duplicates such a lie would let in). Whatever iterates a whole map (``to_json``, a release) reads the
whole file once into plain dictionaries.

Rewriting the index costs time in proportion to the corpus, so while the changes since it
are few (:data:`DELTA_CHANGES`) a writer caches its head as a delta instead: the changed
keys and the small parts, in a JSON file beside the index with its own SHA-256.

Files are written under a temporary name and renamed over the old one, so a reader sees a
whole file, old or new; it reads through the descriptor it opened, so a file replaced or
deleted meanwhile stays readable to it.

Examples
--------
>>> import tempfile, pathlib
>>> from policyspeech.store import Corpus
>>> corpus = Corpus.init(pathlib.Path(tempfile.mkdtemp()) / "corpus")
>>> speech = {"title": "T", "speaker": "S", "country": "GB", "date": "2019",
...           "language": "en"}
>>> ids = corpus.add_all([{**speech, "text": f"Words {n}."} for n in range(3)])
>>> from policyspeech.headsave import write
>>> path = corpus.path.parent / "head.index"
>>> write(path, corpus.head(), stamp="v1")
>>> state = read(path, corpus.path, stamp=lambda seq: "v1")
>>> state.hash_by_id == corpus.head().hash_by_id, ids[0] in state.ids_ever, "x" in state.ids_ever
(True, True, False)
>>> read(path, corpus.path, stamp=lambda seq: "another corpus or entry") is None
True
"""


from __future__ import annotations

import hmac
import json
import os
import struct
import sys
from collections.abc import (
    Callable,
    Iterable,
)
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policyspeech.errors import IntegrityError
from policyspeech.indexfile import (
    DAMAGE,
    FORMAT,
    TABLE_OF,
    VIEWS,
    DamagedIndexError,
    IndexFile,
    Table,
    decode_text,
    encode_text,
    header_mac,
)
from policyspeech.layered import LayeredMap, LayeredSet, LazyIds, layered_maps
from policyspeech.layout import fragment_file

if TYPE_CHECKING:
    from policyspeech.log import HeadState

RETIRED, _HEX_KEYED, _HEX_KEYLESS, _TEXT = b"", 1, 2, 3


def id_value(digest: str | None, key: str | None) -> bytes:
    """The id table's value: empty for an id no longer present, else the text hash and
    the key (raw bytes when they are lowercase hex of the usual widths)."""
    if digest is None:
        return RETIRED
    try:
        raw = bytes.fromhex(digest)
        if raw.hex() == digest and len(raw) == 32:
            if key is None:
                return bytes([_HEX_KEYLESS]) + raw
            raw_key = bytes.fromhex(key)
            if raw_key.hex() == key and len(raw_key) == 16:
                return bytes([_HEX_KEYED]) + raw + raw_key
    except (ValueError, TypeError):
        pass
    return bytes([_TEXT]) + encode_text(json.dumps([digest, key]))


def id_fields(value: bytes) -> tuple[str, str | None] | None:
    """``(text hash, key)`` of an id table's value; None for an id no longer present."""
    if not value:
        return None
    kind = value[0]
    if kind == _HEX_KEYED and len(value) == 49:
        return value[1:33].hex(), value[33:].hex()
    if kind == _HEX_KEYLESS and len(value) == 33:
        return value[1:].hex(), None
    if kind == _TEXT:
        digest, key = json.loads(decode_text(value[1:]))
        if isinstance(digest, str) and (key is None or isinstance(key, str)):
            return digest, key
    raise DamagedIndexError("a value of the id table is malformed")


def view_value(view: str, value: bytes) -> Any:
    """What ``view`` maps a table value to (None: not in the view)."""
    if view in ("hash", "key", "ever"):
        fields = id_fields(value)
        if view == "ever":
            return True
        return None if fields is None else fields[0] if view == "hash" else fields[1]
    text = decode_text(value)
    if view == "retracted":
        pair = json.loads(text)
        if not isinstance(pair, list) or len(pair) != 2:
            raise DamagedIndexError("a value of the retracted table is malformed")
        return pair
    return text


# -- the tables of one entry, with their fallback --------------------------------------


class HeadIndex:
    """The maps of the head at one entry: looked up in the file, or, once the file turned
    out damaged (or a whole map was iterated), held as plain dictionaries."""

    def __init__(self, corpus: Path, file: IndexFile) -> None:
        self.corpus = corpus
        self.file: IndexFile | None = file
        header = file.header
        self.seq: int = header["state"]["seq"]
        self.entry_sha256: str = header["state"]["entry_sha256"]
        self._counts: dict[str, int] = header["counts"]
        self._tables = {name: Table(file, meta) for name, meta in header["tables"].items()}
        self._pending_refs: list[Any] = [c["ids"] for c in header["state"]["pending"]]
        self._dicts: dict[str, dict[str, Any]] | None = None
        self._pending: list[list[str]] | None = None
        self._lookups = 0
        self._budget = 1_000 + sum(table.count for table in self._tables.values()) // 8
        """Lookups after which the whole file is read (a lookup of a page not read yet
        costs about what reading eight entries of the whole file costs)."""
        self.rebuilt = False
        """True once the file turned out damaged and the maps were rebuilt from the log."""

    def get(self, view: str, key: str) -> Any:
        """The value of ``key`` in ``view`` (hash, key, ever, id, retracted, former), or None."""
        self._lookups += 1
        if self._lookups > self._budget and self._dicts is None:
            self.items(view)  # many lookups: reading the whole file once is faster
        if self._dicts is None:
            try:
                table = self._tables[TABLE_OF.get(view, "ids")]
                value = table.get(key)
                return None if value is None else view_value(view, value)
            except DAMAGE:
                self._fall_back()
        assert self._dicts is not None
        return self._dicts[view].get(key)

    def present(self, view: str, keys: set[str]) -> set[str]:
        """Those of ``keys`` that ``view`` has."""
        if self._dicts is None and self._lookups + len(keys) > self._budget:
            self.items(view)
        return {key for key in keys if self.get(view, key) is not None}

    def count(self, view: str) -> int:
        return len(self._dicts[view]) if self._dicts is not None else self._counts[view]

    def items(self, view: str) -> Iterable[tuple[str, Any]]:
        """Every ``(key, value)`` of ``view`` (reads the whole file into dictionaries)."""
        if self._dicts is None:
            try:
                self._dicts = self._read_all()
            except DAMAGE:
                self._fall_back()
        assert self._dicts is not None
        return self._dicts[view].items()

    def pending_ids(self, n: int) -> list[str]:
        """The ids of the ``n``-th pending change of the entry."""
        if self._pending is None:
            try:
                return self._read_ids(self._pending_refs[n])
            except DAMAGE:
                self._fall_back()
        assert self._pending is not None
        return self._pending[n]

    def _read_ids(self, ref: Any) -> list[str]:
        if isinstance(ref, list):
            return ref
        assert self.file is not None
        ids = json.loads(decode_text(self.file.read(ref["at"], ref["bytes"])))
        if not isinstance(ids, list) or len(ids) != ref["count"]:
            raise DamagedIndexError("pending ids do not match their count")
        return ids

    def _read_all(self) -> dict[str, dict[str, Any]]:
        dicts: dict[str, dict[str, Any]] = {view: {} for view in VIEWS}
        hashes, keys, ever = dicts["hash"], dicts["key"], dicts["ever"]
        for record_id, value in self._tables["ids"].items():
            ever[record_id] = True
            fields = id_fields(value)
            if fields is not None:
                hashes[record_id] = fields[0]
                if fields[1] is not None:
                    keys[record_id] = fields[1]
        for view, name in TABLE_OF.items():
            dicts[view] = {k: view_value(view, v) for k, v in self._tables[name].items()}
        if any(len(dicts[view]) != self._counts[view] for view in VIEWS):
            raise DamagedIndexError("a table does not have the count its header records")
        return dicts

    def _fall_back(self) -> None:
        """Rebuild the maps from the log up to this entry, and delete the damaged file."""
        from policyspeech.log import HeadState, advance

        state = advance(self.corpus, HeadState(), until=self.seq)
        if state.seq != self.seq or state.entry_sha256 != self.entry_sha256:
            raise IntegrityError(
                f"log entry {self.seq} of '{self.corpus}' is not the one the head index was "
                "made for; the log was replaced or edited (run `policyspeech verify`)")
        if state.keyless:
            fill_keys(self.corpus, state)
        self._dicts = {"hash": dict(state.hash_by_id), "key": dict(state.key_by_id),
                       "ever": dict.fromkeys(state.ids_ever, True),
                       "id": dict(state.id_by_key), "retracted": dict(state.retracted),
                       "former": dict(state.former)}
        self._pending = [list(change["ids"]) for change in state.pending]
        self.rebuilt = True
        self._discard_file()

    def _discard_file(self) -> None:
        file, self.file = self.file, None
        if file is None:
            return
        try:
            info = os.stat(file.path, follow_symlinks=False)
            if (info.st_dev, info.st_ino) == file.identity():  # not a newer file meanwhile
                file.path.unlink()
        except OSError:
            pass
        file.close()


def fill_keys(corpus: Path, state: HeadState) -> int:
    """Fill in the speech keys of the records of ``state`` whose entries (made before keys
    existed) do not record them, from the fragments of ``state``; return how many. The
    keys feed the duplicate check of writes: each fragment is checked against the log's
    SHA-256 and every page's checksum is verified."""
    import pyarrow.compute as pc

    from policyspeech.arrays import string_array
    from policyspeech.identity import speech_key
    from policyspeech.nofollow import read_fragment

    if not state.fragments or not state.keyless:
        return 0
    columns = ["id", "text_sha256", "speaker", "date", "date_precision", "source_id"]
    wanted = string_array(sorted(state.keyless))
    filled = 0
    for info in list(state.fragments.values()):
        table = read_fragment(fragment_file(corpus, info), info["sha256"], columns)
        for row in table.filter(pc.is_in(table["id"], value_set=wanted)).to_pylist():
            key = speech_key(row)
            state.key_by_id[row["id"]] = key
            state.id_by_key[key] = row["id"]
            state.keyless.discard(row["id"])
            filled += 1
    return filled


# -- the maps a loaded state uses ----------------------------------------------------------


def delta_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.delta")


def read(path: Path, corpus: Path, *, stamp: Callable[[int], Any],
         key: bytes = b"") -> HeadState | None:
    """The full state cached at ``path`` (the index, and its delta if there is a valid one),
    if the files check under ``key`` (the cache's key), their stamps equal ``stamp(seq)`` of
    the entries they were written for, and the counts match the head's rows; else None. The
    maps are read lazily (see the module text)."""
    state = _read_index(path, corpus, stamp, key)
    if state is None:
        return None
    try:
        data = delta_path(path).read_bytes()
    except OSError:
        return state
    checksum, _, payload = data.partition(b"\n")
    try:
        if not hmac.compare_digest(checksum, header_mac(key, payload).hex().encode()):
            return state
        delta = json.loads(payload)
        layers = layered_maps(state)
        index = layers[0].source if layers else None
        if not isinstance(index, HeadIndex) or index.file is None or (
                index.file.checksum != delta["base"]) or (
                delta["format"] != FORMAT or delta["stamp"] != stamp(delta["state"]["seq"])):
            return state
        return _with_delta(state, delta, index) or state
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
        return state


def _with_delta(base: HeadState, delta: dict[str, Any], index: HeadIndex
                ) -> HeadState | None:
    """The state of ``delta``: the maps of ``base`` (as read from ``index``) with its
    changes, and its small parts; None when its counts do not match."""
    small = delta["state"]
    state = _from_small(small, index)
    state.pending = [base.pending[change["ids"]["base"]] if isinstance(change["ids"], dict)
                     else change for change in small["pending"]]
    layers = layered_maps(state)
    assert layers is not None
    for layer, saved in zip(layers, delta["layers"], strict=True):
        over, gone, replaced = saved["over"], set(saved["gone"]), set(saved["replaced"])
        if (not isinstance(over, dict) or not replaced <= over.keys()
                or not gone.isdisjoint(replaced)):
            return None
        layer.over, layer.gone, layer.replaced = over, gone, replaced
    return state if _counts_match(state) else None


def _from_small(small: dict[str, Any], index: HeadIndex) -> HeadState:
    from policyspeech.log import HeadState

    state = HeadState(seq=small["seq"], entry_sha256=small["entry_sha256"],
                      schema_version=small["schema_version"], fragments=small["fragments"],
                      releases=small["releases"],
                      released_fragments=set(small["released_fragments"]),
                      fragments_ever=set(small["fragments_ever"]),
                      keyless=set(small["keyless"]), light=False,
                      dois=small["dois"], concept_doi=small["concept_doi"])
    state.hash_by_id = LayeredMap(index, "hash")
    state.key_by_id = LayeredMap(index, "key")
    state.id_by_key = LayeredMap(index, "id")
    state.retracted = LayeredMap(index, "retracted")
    state.former = LayeredMap(index, "former")
    state.ids_ever = LayeredSet(index, "ever")
    return state


def _counts_match(state: HeadState) -> bool:
    """Cheap checks against the head: one text hash per row of the fragments, one key per
    record whose key is known, every present id among the ids ever used."""
    present = len(state.hash_by_id)
    return (present == state.rows == len(state.key_by_id) + len(state.keyless)
            and len(state.ids_ever) >= present)


def _read_index(path: Path, corpus: Path, stamp: Callable[[int], Any],
                key: bytes) -> HeadState | None:
    try:
        file = IndexFile(path, key)
    except (OSError, ValueError, struct.error):
        return None
    try:
        header = file.header
        small = header["state"]
        if (header["format"] != FORMAT or header["byteorder"] != sys.byteorder
                or header["stamp"] != stamp(small["seq"])):
            raise DamagedIndexError("another corpus, entry or format")
        index = HeadIndex(corpus, file)
        if set(header["counts"]) != set(VIEWS) or set(index._tables) != {
                "ids", "keys", "retracted", "former"} or (
                index._tables["ids"].count != header["counts"]["ever"]):
            raise DamagedIndexError("tables missing")
        state = _from_small(small, index)
        state.pending = [{**change, "ids": LazyIds(index, n, change["ids"]["count"])
                          if isinstance(change["ids"], dict) else change["ids"]}
                         for n, change in enumerate(small["pending"])]
        if not _counts_match(state):
            raise DamagedIndexError("the counts do not match the head")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        file.close()
        return None
    return state

