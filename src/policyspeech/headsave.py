"""Saving a writer's head: a new index file, or, while the changes since the index are
few, a delta beside it (the changed keys and the small parts, with its own SHA-256).

See :mod:`policyspeech.headindex` for the file and how it is checked.

>>> import tempfile, pathlib
>>> from policyspeech import headindex
>>> from policyspeech.store import Corpus
>>> corpus = Corpus.init(pathlib.Path(tempfile.mkdtemp()) / "corpus")
>>> write_index(corpus.path.parent / "head.index", corpus.head(), stamp="v1")
>>> headindex.read(corpus.path.parent / "head.index", corpus.path,
...                stamp=lambda seq: "v1").seq
0
"""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policyspeech.headindex import RETIRED, delta_path, id_value
from policyspeech.indexfile import (
    FORMAT,
    INLINE_IDS,
    MAGIC,
    PAGE_BYTES,
    PAGE_DIGEST_BYTES,
    PREFIX,
    Body,
    IndexFile,
    encode_text,
    header_mac,
    page_digest,
    replace_whole,
)
from policyspeech.layered import LazyIds, layered_maps

if TYPE_CHECKING:
    from policyspeech.log import HeadState

def write(path: Path, state: HeadState, *, stamp: Any, key: bytes = b"") -> None:
    """Cache the full ``state``: as a delta (see :func:`write_delta`) when it was read from
    the index at ``path`` and changed little since, else as a new index (see
    :func:`write_index`). ``stamp`` identifies the corpus and entry (see :func:`read`);
    ``key`` is the cache's key that the checksums of the headers are made with."""
    if not write_delta(path, state, stamp=stamp, key=key):
        write_index(path, state, stamp=stamp, key=key)


def write_index(path: Path, state: HeadState, *, stamp: Any, key: bytes = b"") -> None:
    """Write the index of the full ``state`` to ``path`` (a temporary file renamed over it),
    and remove the delta of the index it replaces."""
    body = Body()
    hashes, key_by_id = dict(state.hash_by_id.items()), dict(state.key_by_id.items())
    present = [(record_id, id_value(digest, key_by_id.get(record_id)))
               for record_id, digest in hashes.items()]
    retired = [(record_id, RETIRED) for record_id in set(state.ids_ever).difference(hashes)]
    tables = {"ids": body.table(present + retired),
              "keys": body.table((k, encode_text(v)) for k, v in state.id_by_key.items()),
              "retracted": body.table((k, encode_text(json.dumps(v)))
                                      for k, v in state.retracted.items()),
              "former": body.table((k, encode_text(v)) for k, v in state.former.items())}
    pending = []
    for change in state.pending:
        ids = list(change["ids"])
        if len(ids) > INLINE_IDS:
            data = encode_text(json.dumps(ids))
            pending.append({**change, "ids": {"at": body.add(data), "bytes": len(data),
                                              "count": len(ids)}})
        else:
            pending.append({**change, "ids": ids})
    counts = {"hash": len(present), "key": sum(1 for i, _ in present if i in key_by_id),
              "ever": len(present) + len(retired), "id": tables["keys"]["count"],
              "retracted": tables["retracted"]["count"], "former": tables["former"]["count"]}
    data = b"".join(body.parts)
    digests = b"".join(page_digest(data[at:at + PAGE_BYTES])
                       for at in range(0, len(data), PAGE_BYTES))
    header = encode_text(json.dumps({"format": FORMAT, "stamp": stamp, "byteorder": sys.byteorder,
                                 "body": len(data), "counts": counts, "tables": tables,
                                 "state": small_state(state, pending)}))
    checked = header + digests
    prefix = PREFIX.pack(MAGIC, len(header), len(digests) // PAGE_DIGEST_BYTES)
    replace_whole(path, [prefix, checked, header_mac(key, checked), data])
    delta_path(path).unlink(missing_ok=True)


DELTA_CHANGES = 4_096
"""A state whose maps changed at most this many keys since its index is cached as a delta."""


def write_delta(path: Path, state: HeadState, *, stamp: Any, key: bytes = b"") -> bool:
    """Cache ``state`` as the changes since the index it was read from, if that index is
    still the file at ``path`` and the changes are few (at most :data:`DELTA_CHANGES`):
    a small JSON file beside the index, with its own keyed SHA-256. Writing it costs time in
    proportion to the changes, where rewriting the index costs time in proportion to the
    corpus. Returns False (writing nothing) when the state does not qualify."""
    layers = layered_maps(state)
    if layers is None:
        return False
    index = layers[0].source
    if index.file is None or sum(len(layer.over) + len(layer.gone) for layer in layers) > DELTA_CHANGES:
        return False
    try:
        on_disk = IndexFile(path, key)
    except (OSError, ValueError, struct.error):
        return False
    try:
        if on_disk.checksum != index.file.checksum:
            return False  # another writer replaced the index meanwhile
    finally:
        on_disk.close()
    for layer in layers:
        layer.sort_out()
    pending = [{**change, "ids": {"base": change["ids"].number}}
               if isinstance(change["ids"], LazyIds) and change["ids"].source is index
               else {**change, "ids": list(change["ids"])} for change in state.pending]
    payload = encode_text(json.dumps({
        "format": FORMAT, "stamp": stamp, "base": index.file.checksum,
        "state": small_state(state, pending),
        "layers": [{"over": layer.over, "gone": sorted(layer.gone),
                    "replaced": sorted(layer.replaced)} for layer in layers]}))
    replace_whole(delta_path(path), [header_mac(key, payload).hex().encode(), b"\n", payload])
    return True


def small_state(state: HeadState, pending: list[dict[str, Any]]) -> dict[str, Any]:
    return {"seq": state.seq, "entry_sha256": state.entry_sha256,
            "schema_version": state.schema_version, "fragments": state.fragments,
            "releases": state.releases, "released_fragments": sorted(state.released_fragments),
            "fragments_ever": sorted(state.fragments_ever), "keyless": sorted(state.keyless),
            "pending": pending, "dois": state.dois, "concept_doi": state.concept_doi}


