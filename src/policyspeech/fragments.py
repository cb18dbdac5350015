"""Parquet fragments: immutable files of records, named by the SHA-256 of their bytes.

A fragment is written with pyarrow from the canonical schema: zstd compression, page
checksums on, row groups of at most 1,000 rows, rows sorted by date then id. Its bytes go
to the store (``fragments/<sha256>.parquet``); log entries name it
``data/<sha256>.parquet``, its identity (:mod:`policyspeech.layout`).

Examples
--------
>>> import tempfile, pathlib, datetime
>>> from policyspeech.validate import validate_speech
>>> record = validate_speech({"id": "gb-test", "title": "T", "speaker": "S",
...     "country": "GB", "date": "2019-10-30", "language": "en", "text": "Words here."})
>>> corpus = pathlib.Path(tempfile.mkdtemp()); (corpus / "fragments").mkdir()
>>> info = write_fragment(corpus, records_to_table([record]))
>>> info["rows"], info["path"] == f"data/{info['sha256']}.parquet", info["languages"]
(1, True, ['en'])
>>> (corpus / "fragments" / f"{info['sha256']}.parquet").is_file()
True
"""

from __future__ import annotations

import datetime
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policyspeech.arrays import string_array
from policyspeech.documents import FragmentInfo
from policyspeech.fsutil import link_all, temporary_file, write_durably
from policyspeech.layout import STAGING, fragment_file, fragment_name, store_file
from policyspeech.schema import arrow_schema

if TYPE_CHECKING:
    import pyarrow as pa

ROW_GROUP_SIZE = 1_000
FEW_ROWS = 64
"""Chunks of more rows read the sizes of their texts off the Arrow column."""
UNIQUE_VALUED = frozenset({"id", "title", "text", "text_sha256", "source_url", "notes"})
"""Columns whose values rarely repeat: dictionary encoding would only cost space."""
NO_STATISTICS = frozenset({"title", "text", "text_sha256", "source_url", "notes"})
"""Long or random texts: no filter uses their minimum and maximum, which cost time."""
EPOCH = datetime.date(1970, 1, 1)
EPOCH_ORDINAL = EPOCH.toordinal()


@dataclass
class StagedFragment:
    """A fragment written to the staging folder, waiting for its commit: the ids, text
    hashes and speech keys of its records, for the log entry."""

    temp: Path
    info: FragmentInfo
    ids: list[str]
    hashes: list[str]
    keys: list[str]
"""What the log records of a fragment: path, sha256, rows, bytes, languages, licenses."""


def records_to_table(records: Sequence[dict[str, Any]]) -> pa.Table:
    """Build a canonical Arrow table of ``records``, sorted by date then id.

    Each column is built from its buffers with numpy (see :func:`column_array`): the same
    conversion as ``pa.array`` on Python lists, which imports pandas to check its input,
    costing a command-line add, and every import worker, about 0.3 s.

    >>> from policyspeech.validate import validate_speech
    >>> record = validate_speech({"id": "x-1", "title": "T", "speaker": "S", "country": "DE",
    ...     "date": "2019", "language": "de", "text": "Straße.", "themes": ["health"]})
    >>> table = records_to_table([record])
    >>> table["date"][0].as_py(), table["themes"][0].as_py(), table["party"][0].as_py()
    (datetime.date(2019, 1, 1), ['health'], None)
    """
    import pyarrow as pa

    ordered = sorted(records, key=lambda record: (record["date"], record["id"]))
    schema = arrow_schema()
    return pa.Table.from_arrays(
        [column_array(f.type, [record[f.name] for record in ordered]) for f in schema],
        schema=schema)


def column_array(kind: pa.DataType, values: list[Any]) -> pa.Array:
    """An Arrow array of ``kind`` (string, date32, int32 or list of string) built from its
    buffers; None is null."""
    import numpy as np
    import pyarrow as pa

    count = len(values)
    missing = [v is None for v in values]
    validity = (pa.py_buffer(np.packbits(~np.array(missing, dtype=bool), bitorder="little"))
                if any(missing) else None)
    if pa.types.is_string(kind):
        return string_array([v or "" for v in values], validity)
    if pa.types.is_date32(kind):
        days = np.array([0 if v is None else v.toordinal() - EPOCH_ORDINAL for v in values],
                        dtype=np.int32)
        return pa.Array.from_buffers(pa.date32(), count, [validity, pa.py_buffer(days)])
    if pa.types.is_int32(kind):
        numbers = np.array([v or 0 for v in values], dtype=np.int32)
        return pa.Array.from_buffers(pa.int32(), count, [validity, pa.py_buffer(numbers)])
    items = [v or [] for v in values]
    offsets = np.zeros(count + 1, dtype=np.int32)
    np.cumsum([len(v) for v in items], out=offsets[1:])
    child = string_array([item for v in items for item in v], None)
    return pa.ListArray.from_buffers(kind, count, [validity, pa.py_buffer(offsets)],
                                     children=[child])


def encode_fragment(table: pa.Table) -> tuple[memoryview, FragmentInfo]:
    """The Parquet bytes of ``table`` as a fragment, and the fragment's log description."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(
        table,
        sink,
        compression="zstd",
        write_page_checksum=True,
        row_group_size=ROW_GROUP_SIZE,
        write_statistics=[name for name in table.column_names if name not in NO_STATISTICS],
        use_dictionary=[name for name in table.column_names if name not in UNIQUE_VALUED],
    )
    data = memoryview(sink.getvalue())
    digest = hashlib.sha256(data).hexdigest()
    distinct = {name: sorted({str(v) for v in table[name].to_pylist() if v is not None})
                for name in ("language", "license")}
    return data, {
        "path": fragment_name(digest),
        "sha256": digest,
        "rows": table.num_rows,
        "bytes": len(data),
        "languages": distinct["language"],
        "licenses": distinct["license"],
    }


def write_fragment(corpus: Path, table: pa.Table) -> FragmentInfo:
    """Write ``table`` as a new fragment in the store of ``corpus``; return its log
    description.

    Writing the same bytes twice is harmless: the name is the content's hash.
    """
    data, info = encode_fragment(table)
    with temporary_file(corpus / STAGING) as (temp, handle):
        write_durably(handle, data, "fragment")
        link_to_store([(temp, store_file(corpus, info["sha256"]))])
    return info


def link_to_store(pairs: list[tuple[Path, Path]]) -> None:
    """Link each fsynced staged file to its name in the store. A name already there holds
    the same bytes (it is their hash); its modification time is set to now, so that
    ``gc``, which leaves a file that no entry names alone while it is young, does not
    remove it before this write's entry names it."""
    link_all(pairs, "fragment")
    for temp, final in pairs:
        if not os.path.samefile(temp, final):
            os.utime(final)


def upgrade_fragment(corpus: Path, info: FragmentInfo) -> FragmentInfo | None:
    """A copy of the fragment in the current schema (the fields its older schema lacks
    empty), or None when it has every field already. The fragment is checked against the
    log's SHA-256 and every page's checksum is verified."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from policyspeech.nofollow import read_fragment

    path = fragment_file(corpus, info)
    schema = arrow_schema()
    if pq.read_schema(path).names == schema.names:
        return None
    table = read_fragment(path, info["sha256"])
    columns = [table[f.name] if f.name in table.column_names
               else pa.nulls(table.num_rows, f.type) for f in schema]
    return write_fragment(corpus, pa.Table.from_arrays(columns, schema=schema))
