"""The head index's file format: sorted tables in 4 KiB pages, each checked when first read.

A file is a prefix (magic, header size, page count), a JSON header with the SHA-256 of
each page of the body and a keyed SHA-256 (HMAC, :func:`header_mac`) of its own, then the
body: tables of fixed-width
16-byte BLAKE2b digests of their keys, sorted (uniform, so a search interpolates), with
the keys and values in a heap. It is read with ``pread`` (a truncated file gives a short
read, never a crash) and written whole under a temporary name renamed over the old one.
See :mod:`policyspeech.headindex`.

>>> len(key_digest(b"gb-2019-s-t-d323ac9d")), len(page_digest(b"x" * PAGE_BYTES))
(16, 8)
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import secrets
import struct
import sys
from array import array
from collections.abc import (
    Iterable,
)
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    pass

MAGIC = b"PSHINDEX"
FORMAT = 1
PAGE_BYTES = 4096
PAGE_DIGEST_BYTES = 8
INLINE_IDS = 16
"""Pending changes with more ids than this keep them in the body (read when needed)."""
PREFIX = struct.Struct("<8sII")  # magic, header bytes, pages
TRIPLE = struct.Struct("=QQQ")
VIEWS = ("hash", "key", "ever", "id", "retracted", "former")
TABLE_OF = {"id": "keys", "retracted": "retracted", "former": "former"}
DAMAGE = (OSError, ValueError, KeyError, IndexError, TypeError, struct.error)
"""What a damaged file can raise while it is read (UnicodeDecodeError is a ValueError)."""
V = TypeVar("V")


class DamagedIndexError(ValueError):
    """A page or the header of an index file does not match its checksum."""


def key_digest(key: bytes) -> bytes:
    return hashlib.blake2b(key, digest_size=16).digest()


def header_mac(key: bytes, header: bytes) -> bytes:
    """The header's checksum: an HMAC-SHA256 under the cache's key, so that an index edited
    without the key (by hand, by a tool, copied from another cache) does not check."""
    return hmac.new(key, header, hashlib.sha256).digest()


def page_digest(page: bytes) -> bytes:
    return hashlib.sha256(page).digest()[:PAGE_DIGEST_BYTES]


def encode_text(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def decode_text(data: bytes) -> str:
    return data.decode("utf-8", "surrogatepass")


# -- reading -----------------------------------------------------------------------------


class IndexFile:
    """An open index file: its header checked, its pages checked when first read."""

    def __init__(self, path: Path, key: bytes = b"") -> None:
        self.path = path
        self._handle = open(path, "rb", buffering=0,  # noqa: SIM115 (kept open: lazy reads)
                            opener=lambda p, flags: os.open(p, flags | os.O_NOFOLLOW))
        try:
            fd = self._handle.fileno()
            magic, header_bytes, pages = PREFIX.unpack(os.pread(fd, PREFIX.size, 0))
            if magic != MAGIC:
                raise DamagedIndexError("not a head index")
            size = header_bytes + pages * PAGE_DIGEST_BYTES + 32
            blob = os.pread(fd, size, PREFIX.size)
            if len(blob) != size or not hmac.compare_digest(header_mac(key, blob[:-32]),
                                                            blob[-32:]):
                raise DamagedIndexError("the header does not match its checksum")
            self.header: dict[str, Any] = json.loads(blob[:header_bytes])
            self.checksum = blob[-32:].hex()
            self._digests = blob[header_bytes:-32]
            self._start = PREFIX.size + size
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
        if page_digest(page) != self._digests[n * PAGE_DIGEST_BYTES:(n + 1) * PAGE_DIGEST_BYTES]:
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
        encoded = encode_text(key)
        target = key_digest(encoded)
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
        key_at, value_at, end = TRIPLE.unpack(self.file.read(self._offsets + 16 * n, 24))
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
            items.append((decode_text(heap[key_at:value_at]), heap[value_at:end]))
        return items


# -- values of the id table ----------------------------------------------------------------

# -- writing -------------------------------------------------------------------------------


class Body:
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
        pairs = [(text.encode("utf-8", "surrogatepass"), value) for text, value in entries]
        digests = [hashlib.blake2b(key, digest_size=16).digest() for key, _value in pairs]
        order = sorted(range(len(pairs)), key=digests.__getitem__)
        parts = list(itertools.chain.from_iterable(pairs))  # key, value, key, value...
        # where each key and each value starts in the heap, then the heap's end
        offsets = array("Q", itertools.chain((0,), itertools.accumulate(map(len, parts))))
        positions = array("I", order)  # in this machine's byte order, as the header says
        heap = b"".join(parts)
        return {"count": len(pairs), "digests": self.add(b"".join(digests[n] for n in order)),
                "positions": self.add(positions.tobytes()), "offsets": self.add(offsets.tobytes()),
                "heap": self.add(heap), "bytes": len(heap)}


def replace_whole(path: Path, parts: list[bytes]) -> None:
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


