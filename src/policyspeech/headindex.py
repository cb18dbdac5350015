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
SHA-256); the header carries a SHA-256 of its own. A page is checked the first time it
is read. A header that does not check, or counts that do not match the head's rows, make
the file ignored (the writer reads the log). A page that does not check makes the index
rebuild its maps from the log up to its entry (which is always right), delete the file,
and answer from the rebuilt maps. So a damaged, truncated or edited file costs time,
never a wrong answer (a forger who recomputed every checksum could make it lie, as he
could edit the log). Whatever iterates a whole map (``to_json``, a release) reads the
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
>>> path = corpus.path.parent / "head.index"
>>> write(path, corpus.head(), stamp="v1")
>>> state = read(path, corpus.path, stamp=lambda seq: "v1")
>>> state.hash_by_id == corpus.head().hash_by_id, ids[0] in state.ids_ever, "x" in state.ids_ever
(True, True, False)
>>> read(path, corpus.path, stamp=lambda seq: "another corpus or entry") is None
True
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import secrets
import struct
import sys
from array import array
from collections.abc import (
    Callable,
    ItemsView,
    Iterable,
    Iterator,
    MutableMapping,
    MutableSet,
    Sequence,
    ValuesView,
)
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from policyspeech.errors import IntegrityError

if TYPE_CHECKING:
    from policyspeech.log import HeadState

MAGIC = b"PSHINDEX"
FORMAT = 1
PAGE_BYTES = 4096
PAGE_DIGEST_BYTES = 8
INLINE_IDS = 16
"""Pending changes with more ids than this keep them in the body (read when needed)."""
_PREFIX = struct.Struct("<8sII")  # magic, header bytes, pages
_TRIPLE = struct.Struct("=QQQ")
_VIEWS = ("hash", "key", "ever", "id", "retracted", "former")
_TABLE_OF = {"id": "keys", "retracted": "retracted", "former": "former"}
_DAMAGE = (OSError, ValueError, KeyError, IndexError, TypeError, struct.error)
"""What a damaged file can raise while it is read (UnicodeDecodeError is a ValueError)."""
V = TypeVar("V")


class DamagedIndexError(ValueError):
    """A page or the header of an index file does not match its checksum."""


def _digest(key: bytes) -> bytes:
    return hashlib.blake2b(key, digest_size=16).digest()


def _page_digest(page: bytes) -> bytes:
    return hashlib.sha256(page).digest()[:PAGE_DIGEST_BYTES]


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogatepass")


# -- reading -----------------------------------------------------------------------------


class IndexFile:
    """An open index file: its header checked, its pages checked when first read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle = open(path, "rb", buffering=0,  # noqa: SIM115 (kept open: lazy reads)
                            opener=lambda p, flags: os.open(p, flags | os.O_NOFOLLOW))
        try:
            fd = self._handle.fileno()
            magic, header_bytes, pages = _PREFIX.unpack(os.pread(fd, _PREFIX.size, 0))
            if magic != MAGIC:
                raise DamagedIndexError("not a head index")
            size = header_bytes + pages * PAGE_DIGEST_BYTES + 32
            blob = os.pread(fd, size, _PREFIX.size)
            if len(blob) != size or hashlib.sha256(blob[:-32]).digest() != blob[-32:]:
                raise DamagedIndexError("the header does not match its checksum")
            self.header: dict[str, Any] = json.loads(blob[:header_bytes])
            self.checksum = blob[-32:].hex()
            self._digests = blob[header_bytes:-32]
            self._start = _PREFIX.size + size
            self.body_bytes: int = self.header["body"]
            if pages != -(-self.body_bytes // PAGE_BYTES) or (
                    os.fstat(fd).st_size != self._start + self.body_bytes):
                raise DamagedIndexError("the file does not have the size its header records")
        except BaseException:
            self._handle.close()
            raise
        self._pages: dict[int, bytes] = {}

    def close(self) -> None:
        self._handle.close()

    def identity(self) -> tuple[int, int]:
        info = os.fstat(self._handle.fileno())
        return info.st_dev, info.st_ino

    def read(self, start: int, length: int) -> bytes:
        """``length`` bytes of the body from ``start``, every page they touch checked."""
        if start < 0 or length < 0 or start + length > self.body_bytes:
            raise DamagedIndexError("a read past the end of the body")
        if length == 0:
            return b""
        first, last = start // PAGE_BYTES, (start + length - 1) // PAGE_BYTES
        if first == last:
            at = start - first * PAGE_BYTES
            return (self._pages.get(first) or self._page(first))[at:at + length]
        if last - first > 8:  # a whole section: read at once, keep no pages
            data = self._pread(first * PAGE_BYTES, (last + 1) * PAGE_BYTES)
            for n in range(first, last + 1):
                at = (n - first) * PAGE_BYTES
                self._check(n, data[at:at + PAGE_BYTES])
        else:
            data = b"".join(self._page(n) for n in range(first, last + 1))
        at = start - first * PAGE_BYTES
        return data[at:at + length]

    def _page(self, n: int) -> bytes:
        page = self._pages.get(n)
        if page is None:
            page = self._pread(n * PAGE_BYTES, (n + 1) * PAGE_BYTES)
            self._check(n, page)
            self._pages[n] = page
        return page

    def _pread(self, start: int, end: int) -> bytes:
        end = min(end, self.body_bytes)
        data = os.pread(self._handle.fileno(), end - start, self._start + start)
        if len(data) != end - start:
            raise DamagedIndexError("the file is shorter than its header records")
        return data

    def _check(self, n: int, page: bytes) -> None:
        if _page_digest(page) != self._digests[n * PAGE_DIGEST_BYTES:(n + 1) * PAGE_DIGEST_BYTES]:
            raise DamagedIndexError(f"page {n} does not match its checksum")


class Table:
    """A table of ``str -> bytes`` in an index file, looked up by searching its digests.

    Sections: the keys' digests in sorted order, for each the position of its entry, the
    offsets of the entries (key start, value start; in the order they were written) and
    the heap of keys and values.
    """

    def __init__(self, file: IndexFile, meta: dict[str, int]) -> None:
        self.file = file
        self.count = meta["count"]
        self._digests, self._positions = meta["digests"], meta["positions"]
        self._offsets, self._heap, self._heap_bytes = meta["offsets"], meta["heap"], meta["bytes"]

    def get(self, key: str) -> bytes | None:
        """The value of ``key``, or None."""
        encoded = _encode(key)
        target = _digest(encoded)
        goal = int.from_bytes(target[:8], "big")
        low, high = 0, self.count
        below, above = 0, 1 << 64  # bounds of the digests' first 8 bytes in [low, high)
        read, start = self.file.read, self._digests
        for step in itertools.count():
            if low >= high:
                break
            if step < 4 and above > below:  # digests are uniform: interpolate, then halve
                middle = min(max(low + (goal - below) * (high - low) // (above - below), low),
                             high - 1)
            else:
                middle = (low + high) // 2
            found = read(start + 16 * middle, 16)
            if found < target:
                low, below = middle + 1, int.from_bytes(found[:8], "big")
            else:
                high, above = middle, int.from_bytes(found[:8], "big")
        if low < self.count and read(start + 16 * low, 16) == target:
            found_key, value = self._entry(int.from_bytes(
                self.file.read(self._positions + 4 * low, 4), sys.byteorder))
            if found_key != encoded:  # 128-bit digests do not collide: a damaged file
                raise DamagedIndexError("a key is not where its digest says")
            return value
        return None

    def _entry(self, n: int) -> tuple[bytes, bytes]:
        if not 0 <= n < self.count:
            raise DamagedIndexError("an entry position out of range")
        key_at, value_at, end = _TRIPLE.unpack(self.file.read(self._offsets + 16 * n, 24))
        if not key_at <= value_at <= end <= self._heap_bytes:
            raise DamagedIndexError("entry offsets out of order")
        data = self.file.read(self._heap + key_at, end - key_at)
        return data[:value_at - key_at], data[value_at - key_at:]

    def items(self) -> list[tuple[str, bytes]]:
        """Every entry, in the order they were written (reads the whole table)."""
        offsets = array("Q")
        offsets.frombytes(self.file.read(self._offsets, 8 * (2 * self.count + 1)))
        heap = self.file.read(self._heap, self._heap_bytes)
        items = []
        for n in range(self.count):
            key_at, value_at, end = offsets[2 * n], offsets[2 * n + 1], offsets[2 * n + 2]
            if not key_at <= value_at <= end <= self._heap_bytes:
                raise DamagedIndexError("entry offsets out of order")
            items.append((_decode(heap[key_at:value_at]), heap[value_at:end]))
        return items


# -- values of the id table ----------------------------------------------------------------

_RETIRED, _HEX_KEYED, _HEX_KEYLESS, _TEXT = b"", 1, 2, 3


def _id_value(digest: str | None, key: str | None) -> bytes:
    """The id table's value: empty for an id no longer present, else the text hash and
    the key (raw bytes when they are lowercase hex of the usual widths)."""
    if digest is None:
        return _RETIRED
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
    return bytes([_TEXT]) + _encode(json.dumps([digest, key]))


def _id_fields(value: bytes) -> tuple[str, str | None] | None:
    """``(text hash, key)`` of an id table's value; None for an id no longer present."""
    if not value:
        return None
    kind = value[0]
    if kind == _HEX_KEYED and len(value) == 49:
        return value[1:33].hex(), value[33:].hex()
    if kind == _HEX_KEYLESS and len(value) == 33:
        return value[1:].hex(), None
    if kind == _TEXT:
        digest, key = json.loads(_decode(value[1:]))
        if isinstance(digest, str) and (key is None or isinstance(key, str)):
            return digest, key
    raise DamagedIndexError("a value of the id table is malformed")


def _view_value(view: str, value: bytes) -> Any:
    """What ``view`` maps a table value to (None: not in the view)."""
    if view in ("hash", "key", "ever"):
        fields = _id_fields(value)
        if view == "ever":
            return True
        return None if fields is None else fields[0] if view == "hash" else fields[1]
    text = _decode(value)
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
                table = self._tables[_TABLE_OF.get(view, "ids")]
                value = table.get(key)
                return None if value is None else _view_value(view, value)
            except _DAMAGE:
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
            except _DAMAGE:
                self._fall_back()
        assert self._dicts is not None
        return self._dicts[view].items()

    def pending_ids(self, n: int) -> list[str]:
        """The ids of the ``n``-th pending change of the entry."""
        if self._pending is None:
            try:
                return self._read_ids(self._pending_refs[n])
            except _DAMAGE:
                self._fall_back()
        assert self._pending is not None
        return self._pending[n]

    def _read_ids(self, ref: Any) -> list[str]:
        if isinstance(ref, list):
            return ref
        assert self.file is not None
        ids = json.loads(_decode(self.file.read(ref["at"], ref["bytes"])))
        if not isinstance(ids, list) or len(ids) != ref["count"]:
            raise DamagedIndexError("pending ids do not match their count")
        return ids

    def _read_all(self) -> dict[str, dict[str, Any]]:
        dicts: dict[str, dict[str, Any]] = {view: {} for view in _VIEWS}
        hashes, keys, ever = dicts["hash"], dicts["key"], dicts["ever"]
        for record_id, value in self._tables["ids"].items():
            ever[record_id] = True
            fields = _id_fields(value)
            if fields is not None:
                hashes[record_id] = fields[0]
                if fields[1] is not None:
                    keys[record_id] = fields[1]
        for view, name in _TABLE_OF.items():
            dicts[view] = {k: _view_value(view, v) for k, v in self._tables[name].items()}
        if any(len(dicts[view]) != self._counts[view] for view in _VIEWS):
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
    existed) do not record them, from the fragments of ``state``; return how many."""
    import pyarrow.dataset as pads

    from policyspeech.fragments import string_array
    from policyspeech.identity import speech_key
    from policyspeech.schema import arrow_schema

    paths = [str(corpus / p) for p in state.fragments]
    if not paths or not state.keyless:
        return 0
    columns = ["id", "text_sha256", "speaker", "date", "date_precision", "source_id"]
    table = pads.dataset(paths, schema=arrow_schema()).to_table(  # one thread: see store
        columns=columns, filter=pads.field("id").isin(string_array(sorted(state.keyless))),
        use_threads=False)
    for row in table.to_pylist():
        key = speech_key(row)
        state.key_by_id[row["id"]] = key
        state.id_by_key[key] = row["id"]
        state.keyless.discard(row["id"])
    return int(table.num_rows)


# -- the maps a loaded state uses ----------------------------------------------------------


class LayeredMap(MutableMapping[str, V]):
    """A map of the head: a view of a :class:`HeadIndex`, with the keys set and deleted
    since its entry in memory. Iterates like the dictionary it stands for would (the
    entries of the index in their order, then the newer ones). Setting a key looks
    nothing up; whether it replaced one of the index is found out when the length is
    asked for."""

    def __init__(self, index: HeadIndex, view: str) -> None:
        self._index, self._view = index, view
        self._over: dict[str, V] = {}
        self._gone: set[str] = set()
        """Keys of the index deleted since."""
        self._replaced: set[str] = set()
        """Keys of ``_over`` that the index has too (and that were not deleted)."""
        self._unsorted: set[str] = set()
        """Keys of ``_over`` not yet known to be in ``_replaced`` or not."""

    def _base(self, key: object) -> V | None:
        if not isinstance(key, str) or key in self._gone:
            return None
        value: V | None = self._index.get(self._view, key)
        return value

    def _sort_out(self) -> None:
        if self._unsorted:
            self._replaced |= self._index.present(self._view, self._unsorted)
            self._unsorted.clear()

    def __getitem__(self, key: str) -> V:
        if key in self._over:
            return self._over[key]
        value = self._base(key)
        if value is None:
            raise KeyError(key)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        if key in self._over:
            return self._over[key]
        value = self._base(key)
        return default if value is None else value

    def __contains__(self, key: object) -> bool:
        return key in self._over or self._base(key) is not None

    def __setitem__(self, key: str, value: V) -> None:
        if key not in self._over and key not in self._gone:
            self._unsorted.add(key)
        self._over[key] = value

    def __delitem__(self, key: str) -> None:
        if key in self._over:
            del self._over[key]
            if key in self._unsorted:
                self._unsorted.discard(key)
                if self._base(key) is not None:
                    self._gone.add(key)
            elif key in self._replaced:
                self._replaced.discard(key)
                self._gone.add(key)
            return
        if self._base(key) is None:
            raise KeyError(key)
        self._gone.add(key)

    def __len__(self) -> int:
        self._sort_out()
        return (self._index.count(self._view) - len(self._gone) + len(self._over)
                - len(self._replaced))

    def __iter__(self) -> Iterator[str]:
        return iter(self.copy())

    def items(self) -> ItemsView[str, V]:
        return self.copy().items()

    def values(self) -> ValuesView[V]:
        return self.copy().values()

    def copy(self) -> dict[str, V]:
        """A plain dictionary of the same items, in the same order (reads the whole index)."""
        items = self._index.items(self._view)
        gone = self._gone
        merged: dict[str, V] = {k: v for k, v in items if k not in gone} if gone else dict(items)
        merged.update(self._over)  # a replaced key keeps its place, as in a dictionary
        return merged

    def __repr__(self) -> str:
        return f"LayeredMap({self.copy()!r})"


class LayeredSet(MutableSet[str]):
    """A set of the head (the ids ever used): a view of a :class:`HeadIndex`, with the
    members added and removed since its entry in memory."""

    def __init__(self, index: HeadIndex, view: str) -> None:
        self._map: LayeredMap[bool] = LayeredMap(index, view)

    def __contains__(self, item: object) -> bool:
        return item in self._map

    def __iter__(self) -> Iterator[str]:
        return iter(self._map)

    def __len__(self) -> int:
        return len(self._map)

    def add(self, value: str) -> None:
        self._map[value] = True

    def discard(self, value: str) -> None:
        self._map.pop(value, None)

    def __repr__(self) -> str:
        return f"LayeredSet({set(self)!r})"


class LazyIds(Sequence[str]):
    """The ids of a pending change, read from the index when first needed."""

    def __init__(self, index: HeadIndex, n: int, count: int) -> None:
        self._index, self._n, self._count = index, n, count
        self._ids: list[str] | None = None

    def _list(self) -> list[str]:
        if self._ids is None:
            self._ids = self._index.pending_ids(self._n)
        return self._ids

    def __len__(self) -> int:
        return self._count if self._ids is None else len(self._ids)

    def __getitem__(self, item: Any) -> Any:
        return self._list()[item]

    def __iter__(self) -> Iterator[str]:
        return iter(self._list())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyIds):
            other = other._list()
        return isinstance(other, list) and self._list() == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self._list())


# -- writing -------------------------------------------------------------------------------


class _Body:
    """The body of an index file as it is assembled."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def add(self, data: bytes) -> int:
        at = self.size
        self.parts.append(data)
        self.size += len(data)
        return at

    def table(self, entries: Iterable[tuple[str, bytes]]) -> dict[str, int]:
        keys: list[bytes] = []
        values: list[bytes] = []
        for text, value in entries:
            keys.append(_encode(text))
            values.append(value)
        digests = [_digest(key) for key in keys]
        order = sorted(range(len(keys)), key=digests.__getitem__)
        offsets = array("Q")
        at = 0
        for key, value in zip(keys, values, strict=True):
            offsets.append(at)
            offsets.append(at + len(key))
            at += len(key) + len(value)
        offsets.append(at)
        positions = array("I", order)  # in this machine's byte order, as the header says
        heap = b"".join(part for pair in zip(keys, values, strict=True) for part in pair)
        return {"count": len(keys), "digests": self.add(b"".join(digests[n] for n in order)),
                "positions": self.add(positions.tobytes()), "offsets": self.add(offsets.tobytes()),
                "heap": self.add(heap), "bytes": len(heap)}


def write(path: Path, state: HeadState, *, stamp: Any) -> None:
    """Cache the full ``state``: as a delta (see :func:`write_delta`) when it was read from
    the index at ``path`` and changed little since, else as a new index (see
    :func:`write_index`). ``stamp`` identifies the corpus and entry (see :func:`read`)."""
    if not write_delta(path, state, stamp=stamp):
        write_index(path, state, stamp=stamp)


def write_index(path: Path, state: HeadState, *, stamp: Any) -> None:
    """Write the index of the full ``state`` to ``path`` (a temporary file renamed over it),
    and remove the delta of the index it replaces."""
    body = _Body()
    hashes, key_by_id = dict(state.hash_by_id.items()), dict(state.key_by_id.items())
    present = [(record_id, _id_value(digest, key_by_id.get(record_id)))
               for record_id, digest in hashes.items()]
    retired = [(record_id, _RETIRED) for record_id in set(state.ids_ever).difference(hashes)]
    tables = {"ids": body.table(present + retired),
              "keys": body.table((k, _encode(v)) for k, v in state.id_by_key.items()),
              "retracted": body.table((k, _encode(json.dumps(v)))
                                      for k, v in state.retracted.items()),
              "former": body.table((k, _encode(v)) for k, v in state.former.items())}
    pending = []
    for change in state.pending:
        ids = list(change["ids"])
        if len(ids) > INLINE_IDS:
            data = _encode(json.dumps(ids))
            pending.append({**change, "ids": {"at": body.add(data), "bytes": len(data),
                                              "count": len(ids)}})
        else:
            pending.append({**change, "ids": ids})
    counts = {"hash": len(present), "key": sum(1 for i, _ in present if i in key_by_id),
              "ever": len(present) + len(retired), "id": tables["keys"]["count"],
              "retracted": tables["retracted"]["count"], "former": tables["former"]["count"]}
    data = b"".join(body.parts)
    digests = b"".join(_page_digest(data[at:at + PAGE_BYTES])
                       for at in range(0, len(data), PAGE_BYTES))
    header = _encode(json.dumps({"format": FORMAT, "stamp": stamp, "byteorder": sys.byteorder,
                                 "body": len(data), "counts": counts, "tables": tables,
                                 "state": _small_state(state, pending)}))
    checked = header + digests
    prefix = _PREFIX.pack(MAGIC, len(header), len(digests) // PAGE_DIGEST_BYTES)
    _replace(path, [prefix, checked, hashlib.sha256(checked).digest(), data])
    _delta_path(path).unlink(missing_ok=True)


DELTA_CHANGES = 4_096
"""A state whose maps changed at most this many keys since its index is cached as a delta."""
_MAPS = ("hash_by_id", "key_by_id", "id_by_key", "retracted", "former")


def write_delta(path: Path, state: HeadState, *, stamp: Any) -> bool:
    """Cache ``state`` as the changes since the index it was read from, if that index is
    still the file at ``path`` and the changes are few (at most :data:`DELTA_CHANGES`):
    a small JSON file beside the index, with its own SHA-256. Writing it costs time in
    proportion to the changes, where rewriting the index costs time in proportion to the
    corpus. Returns False (writing nothing) when the state does not qualify."""
    layers = _layers(state)
    if layers is None:
        return False
    index = layers[0]._index
    if index.file is None or sum(len(layer._over) + len(layer._gone) for layer in layers) > DELTA_CHANGES:
        return False
    try:
        on_disk = IndexFile(path)
    except (OSError, ValueError, struct.error):
        return False
    try:
        if on_disk.checksum != index.file.checksum:
            return False  # another writer replaced the index meanwhile
    finally:
        on_disk.close()
    for layer in layers:
        layer._sort_out()
    pending = [{**change, "ids": {"base": change["ids"]._n}}
               if isinstance(change["ids"], LazyIds) and change["ids"]._index is index
               else {**change, "ids": list(change["ids"])} for change in state.pending]
    payload = _encode(json.dumps({
        "format": FORMAT, "stamp": stamp, "base": index.file.checksum,
        "state": _small_state(state, pending),
        "layers": [{"over": layer._over, "gone": sorted(layer._gone),
                    "replaced": sorted(layer._replaced)} for layer in layers]}))
    _replace(_delta_path(path), [hashlib.sha256(payload).hexdigest().encode(), b"\n", payload])
    return True


def _layers(state: HeadState) -> list[LayeredMap[Any]] | None:
    """The maps of ``state`` and the map of its ``ids_ever``, when all are layered on the
    same index."""
    maps = [getattr(state, name) for name in _MAPS]
    ever = state.ids_ever
    if not (all(isinstance(m, LayeredMap) for m in maps) and isinstance(ever, LayeredSet)):
        return None
    layers: list[LayeredMap[Any]] = [*maps, ever._map]
    if any(layer._index is not layers[0]._index for layer in layers):
        return None
    return layers


def _small_state(state: HeadState, pending: list[dict[str, Any]]) -> dict[str, Any]:
    return {"seq": state.seq, "entry_sha256": state.entry_sha256,
            "schema_version": state.schema_version, "fragments": state.fragments,
            "releases": state.releases, "released_fragments": sorted(state.released_fragments),
            "fragments_ever": sorted(state.fragments_ever), "keyless": sorted(state.keyless),
            "pending": pending}


def _replace(path: Path, parts: list[bytes]) -> None:
    """Write ``parts`` to ``path`` through a temporary file renamed over it (readers see
    the old file or the new one, whole)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(6)}.tmp")
    try:
        with open(temp, "wb") as handle:
            for part in parts:
                handle.write(part)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _delta_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.delta")


def read(path: Path, corpus: Path, *, stamp: Callable[[int], Any]) -> HeadState | None:
    """The full state cached at ``path`` (the index, and its delta if there is a valid one),
    if the files check, their stamps equal ``stamp(seq)`` of the entries they were written
    for, and the counts match the head's rows; else None. The maps are read lazily (see
    the module text)."""
    state = _read_index(path, corpus, stamp)
    if state is None:
        return None
    try:
        data = _delta_path(path).read_bytes()
    except OSError:
        return state
    checksum, _, payload = data.partition(b"\n")
    try:
        if checksum.decode() != hashlib.sha256(payload).hexdigest():
            return state
        delta = json.loads(payload)
        layers = _layers(state)
        index = layers[0]._index if layers else None
        if index is None or index.file is None or index.file.checksum != delta["base"] or (
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
    layers = _layers(state)
    assert layers is not None
    for layer, saved in zip(layers, delta["layers"], strict=True):
        over, gone, replaced = saved["over"], set(saved["gone"]), set(saved["replaced"])
        if (not isinstance(over, dict) or not replaced <= over.keys()
                or not gone.isdisjoint(replaced)):
            return None
        layer._over, layer._gone, layer._replaced = over, gone, replaced
    return state if _counts_match(state) else None


def _from_small(small: dict[str, Any], index: HeadIndex) -> HeadState:
    from policyspeech.log import HeadState

    state = HeadState(seq=small["seq"], entry_sha256=small["entry_sha256"],
                      schema_version=small["schema_version"], fragments=small["fragments"],
                      releases=small["releases"],
                      released_fragments=set(small["released_fragments"]),
                      fragments_ever=set(small["fragments_ever"]),
                      keyless=set(small["keyless"]), light=False)
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


def _read_index(path: Path, corpus: Path, stamp: Callable[[int], Any]) -> HeadState | None:
    try:
        file = IndexFile(path)
    except (OSError, ValueError, struct.error):
        return None
    try:
        header = file.header
        small = header["state"]
        if (header["format"] != FORMAT or header["byteorder"] != sys.byteorder
                or header["stamp"] != stamp(small["seq"])):
            raise DamagedIndexError("another corpus, entry or format")
        index = HeadIndex(corpus, file)
        if set(header["counts"]) != set(_VIEWS) or set(index._tables) != {
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
