"""Parquet fragments: immutable files of records, named by the SHA-256 of their bytes.

A fragment is written with pyarrow from the canonical schema: zstd compression, page
checksums on, row groups of at most 1,000 rows, rows sorted by date then id.

Examples
--------
>>> import tempfile, pathlib, datetime
>>> from policyspeech.validate import validate_speech
>>> record = validate_speech({"id": "gb-test", "title": "T", "speaker": "S",
...     "country": "GB", "date": "2019-10-30", "language": "en", "text": "Words here."})
>>> corpus = pathlib.Path(tempfile.mkdtemp()); (corpus / "data").mkdir()
>>> info = write_fragment(corpus, records_to_table([record]))
>>> info["rows"], info["path"] == f"data/{info['sha256']}.parquet", info["languages"]
(1, True, ['en'])
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policyspeech.fsutil import STAGING, link_new, temporary_file, write_durably
from policyspeech.schema import FIELDS, arrow_schema

if TYPE_CHECKING:
    import pyarrow as pa

ROW_GROUP_SIZE = 1_000
FEW_ROWS = 64
"""Tables of more rows are built column by column (see :func:`records_to_table`)."""
UNIQUE_VALUED = frozenset({"id", "title", "text", "text_sha256", "source_url", "notes"})
"""Columns whose values rarely repeat: dictionary encoding would only cost space."""
NO_STATISTICS = frozenset({"title", "text", "text_sha256", "source_url", "notes"})
"""Long or random texts: no filter uses their minimum and maximum, which cost time."""
DATE_FIELDS = tuple(f.name for f in FIELDS if f.kind == "date")
EPOCH = datetime.date(1970, 1, 1)
FragmentInfo = dict[str, Any]
"""What the log records of a fragment: path, sha256, rows, bytes, languages, licenses."""


def records_to_table(records: Sequence[dict[str, Any]], *,
                     bulk: bool | None = None) -> pa.Table:
    """Build a canonical Arrow table of ``records``, sorted by date then id.

    A few rows go through Arrow's JSON reader with the canonical schema as its explicit
    schema: a C++ conversion that, unlike ``pa.array`` on Python lists, does not import
    pandas, which would cost a command-line add about 0.3 s. Many rows (a bulk import)
    are converted column by column (``bulk``, by default above :data:`FEW_ROWS` rows),
    which is ten times faster per megabyte.
    """
    import pyarrow as pa
    import pyarrow.json as pajson

    ordered = sorted(records, key=lambda record: (record["date"], record["id"]))
    schema = arrow_schema()
    if bulk or (bulk is None and len(ordered) > FEW_ROWS):
        return pa.Table.from_pydict(
            {f.name: [record[f.name] for record in ordered] for f in schema}, schema=schema)
    lines = [json.dumps(_json_row(record), ensure_ascii=False).encode() for record in ordered]
    if not lines:
        return schema.empty_table()
    parsed = pajson.read_json(
        io.BytesIO(b"\n".join(lines)),
        read_options=pajson.ReadOptions(block_size=max(1 << 22, max(map(len, lines)) + 1024)),
        parse_options=pajson.ParseOptions(explicit_schema=schema,
                                          unexpected_field_behavior="error"),
    )
    return pa.Table.from_arrays(parsed.columns, schema=schema)


def _json_row(record: dict[str, Any]) -> dict[str, Any]:
    """A record with its dates as days since 1970-01-01, as Arrow's JSON reader wants them."""
    row = dict(record)
    for name in DATE_FIELDS:
        if row[name] is not None:
            row[name] = (row[name] - EPOCH).days
    return row


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
        "path": f"data/{digest}.parquet",
        "sha256": digest,
        "rows": table.num_rows,
        "bytes": len(data),
        "languages": distinct["language"],
        "licenses": distinct["license"],
    }


def write_fragment(corpus: Path, table: pa.Table) -> FragmentInfo:
    """Write ``table`` as a new fragment under ``corpus/data``; return its log description.

    Writing the same bytes twice is harmless: the name is the content's hash.
    """
    data, info = encode_fragment(table)
    with temporary_file(corpus / STAGING) as (temp, handle):
        write_durably(handle, data, "fragment")
        link_new(temp, corpus / info["path"], "fragment")
    return info


def upgrade_fragment(corpus: Path, info: FragmentInfo) -> FragmentInfo | None:
    """A copy of the fragment in the current schema (the fields its older schema lacks
    empty), or None when it has every field already. Every page's checksum is verified."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = corpus / info["path"]
    schema = arrow_schema()
    if pq.read_schema(path).names == schema.names:
        return None
    table = pq.read_table(path, page_checksum_verification=True)
    columns = [table[f.name] if f.name in table.column_names
               else pa.nulls(table.num_rows, f.type) for f in schema]
    return write_fragment(corpus, pa.Table.from_arrays(columns, schema=schema))
