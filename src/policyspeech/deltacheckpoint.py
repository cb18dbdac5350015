"""Delta Lake checkpoints: a table version's whole state as one Parquet file.

A checkpoint holds one row per action, each action in a struct column of its own
(``protocol``, ``metaData``, ``txn``, ``add``, ``remove``), as the Delta protocol's
classic V1 checkpoint specifies: the protocol, the metadata, every file in the table and
every tombstone (no ``commitInfo``). Rows are in a fixed order (protocol, metadata, adds
and removes by path), so the same state always gives the same rows. :func:`encode` writes
the Parquet bytes, :func:`decode` reads a checkpoint back into actions as they appear in
the JSON commits (maps as dicts, absent fields left out), and :func:`last_checkpoint` is
the ``_last_checkpoint`` pointer. Nothing here knows about the corpus: the actions come
from :mod:`policyspeech.delta`.

Examples
--------
>>> protocol = {"protocol": {"minReaderVersion": 1, "minWriterVersion": 2}}
>>> add = {"add": {"path": "a.parquet", "partitionValues": {}, "size": 9,
...                "modificationTime": 0, "dataChange": True}}
>>> decode(encode([protocol, add])) == [protocol, add]
True
>>> last_checkpoint(10, [protocol, add])
b'{"version":10,"size":2,"numOfAddFiles":1}'
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from policyspeech.nofollow import arrow_reader

if TYPE_CHECKING:
    import pyarrow as pa

Action = dict[str, Any]
"""One Delta action: ``{"add": {...}}``, ``{"metaData": {...}}``, ..."""
KINDS = ("protocol", "metaData", "txn", "add", "remove")
"""The checkpoint's columns, in the order its rows are written."""


@cache
def checkpoint_schema() -> pa.Schema:
    """The Arrow schema of a V1 checkpoint (no partition columns, statistics as JSON).

    >>> checkpoint_schema().names
    ['protocol', 'metaData', 'txn', 'add', 'remove']
    """
    import pyarrow as pa

    text, long, strings = pa.string(), pa.int64(), pa.map_(pa.string(), pa.string())
    return pa.schema([
        ("protocol", pa.struct([("minReaderVersion", pa.int32()),
                                ("minWriterVersion", pa.int32())])),
        ("metaData", pa.struct([
            ("id", text), ("name", text), ("description", text),
            ("format", pa.struct([("provider", text), ("options", strings)])),
            ("schemaString", text), ("partitionColumns", pa.list_(text)),
            ("createdTime", long), ("configuration", strings)])),
        ("txn", pa.struct([("appId", text), ("version", long), ("lastUpdated", long)])),
        ("add", pa.struct([
            ("path", text), ("partitionValues", strings), ("size", long),
            ("modificationTime", long), ("dataChange", pa.bool_()), ("stats", text),
            ("tags", strings)])),
        ("remove", pa.struct([
            ("path", text), ("deletionTimestamp", long), ("dataChange", pa.bool_()),
            ("extendedFileMetadata", pa.bool_()), ("partitionValues", strings),
            ("size", long)])),
    ])


def ordered(actions: Sequence[Action]) -> list[Action]:
    """``actions`` in checkpoint order: protocol, metadata, then adds and removes by path."""
    def key(action: Action) -> tuple[int, str]:
        kind = next(iter(action))
        return KINDS.index(kind), str(action[kind].get("path", ""))

    return sorted(actions, key=key)


def encode(actions: Sequence[Action]) -> bytes:
    """The Parquet bytes of a checkpoint holding ``actions`` (written in :func:`ordered`
    order). The columns are built from their buffers: ``pa.array`` of Python objects would
    import pandas, a quarter of a second for the writer that makes a checkpoint."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = checkpoint_schema()
    rows = ordered(actions)
    columns = [_column(schema.field(kind).type, [action.get(kind) for action in rows])
               for kind in KINDS]
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_arrays(columns, schema=schema), sink, compression="none",
                   use_dictionary=False, write_statistics=False)  # small, read whole
    return bytes(sink.getvalue().to_pybytes())


def decode(data: bytes) -> list[Action]:
    """The actions of a checkpoint, as the JSON commits write them (in its row order)."""
    import pyarrow.parquet as pq

    table = pq.ParquetFile(arrow_reader(data)).read()  # pq.read_table imports pandas
    found: list[tuple[int, Action]] = []
    for kind in table.column_names:
        plan = _plan(table.schema.field(kind).type)
        found += [(row, {kind: _from_arrow(value, plan)})
                  for row, value in enumerate(table.column(kind).to_pylist()) if value is not None]
    return [action for _, action in sorted(found, key=lambda pair: pair[0])]


def last_checkpoint(version: int, actions: Sequence[Action]) -> bytes:
    """The ``_last_checkpoint`` file naming the checkpoint of ``version`` (its optional
    byte size is left out: it depends on the Parquet writer, the rest on the log alone)."""
    adds = sum(1 for action in actions if "add" in action)
    return json.dumps({"version": version, "size": len(actions), "numOfAddFiles": adds},
                      separators=(",", ":")).encode()


def _column(kind: pa.DataType, values: list[Any]) -> pa.Array:
    """An Arrow array of ``kind`` (a struct, map, list, string, integer or boolean type)
    holding ``values`` (None is null; a struct's absent fields are null), built from its
    buffers."""
    import numpy as np
    import pyarrow as pa

    from policyspeech.arrays import string_array

    count = len(values)
    present = np.array([v is not None for v in values], dtype=bool)
    validity = None if present.all() else pa.py_buffer(np.packbits(present, bitorder="little"))
    if isinstance(kind, pa.StructType):
        children = [_column(kind.field(n).type, [None if v is None else v.get(kind.field(n).name)
                                                 for v in values])
                    for n in range(kind.num_fields)]
        return pa.Array.from_buffers(kind, count, [validity], children=children)
    if isinstance(kind, pa.MapType | pa.ListType):
        items = [[] if v is None else list(v.items() if isinstance(v, dict) else v)
                 for v in values]
        offsets = np.zeros(count + 1, dtype=np.int32)
        np.cumsum([len(v) for v in items], out=offsets[1:])
        flat = [item for v in items for item in v]
        if isinstance(kind, pa.MapType):
            entries = [{"key": k, "value": v} for k, v in flat]
            child = _column(pa.struct([kind.key_field, kind.item_field]), entries)
        else:
            child = _column(kind.value_type, flat)
        return pa.Array.from_buffers(kind, count, [validity, pa.py_buffer(offsets)],
                                     children=[child])
    if pa.types.is_string(kind):
        return string_array(["" if v is None else v for v in values], validity)
    if pa.types.is_boolean(kind):
        bits = np.packbits(np.array([bool(v) for v in values], dtype=bool), bitorder="little")
        return pa.Array.from_buffers(kind, count, [validity, pa.py_buffer(bits)])
    numbers = np.array([v or 0 for v in values], dtype=np.int32 if kind == pa.int32() else np.int64)
    return pa.Array.from_buffers(kind, count, [validity, pa.py_buffer(numbers)])


Plan = list[tuple[str, Any]] | str | None
"""How to turn a value of an Arrow type back into JSON's form: a struct's fields (each
with its own plan), ``"map"`` (a list of pairs to a dict), or None (as it is)."""


def _plan(kind: pa.DataType) -> Plan:
    import pyarrow as pa

    if isinstance(kind, pa.StructType):
        return [(child.name, _plan(child.type)) for child in kind]
    return "map" if isinstance(kind, pa.MapType) else None


def _from_arrow(value: Any, plan: Plan) -> Any:
    if plan is None:
        return value
    if isinstance(plan, str):  # "map"
        return dict(value)
    return {name: _from_arrow(value[name], inner) for name, inner in plan
            if value[name] is not None}
