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

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policyspeech.fsutil import STAGING, link_new, temporary_file
from policyspeech.schema import arrow_schema

if TYPE_CHECKING:
    import pyarrow as pa

ROW_GROUP_SIZE = 1_000
UNIQUE_VALUED = frozenset({"id", "title", "text", "text_sha256", "source_url", "notes"})
"""Columns whose values rarely repeat: dictionary encoding would only cost space."""
FragmentInfo = dict[str, Any]
"""What the log records of a fragment: path, sha256, rows, bytes, languages, licenses."""


def records_to_table(records: Sequence[dict[str, Any]]) -> pa.Table:
    """Build a canonical Arrow table of ``records``, sorted by date then id."""
    import pyarrow as pa

    table = pa.Table.from_pylist(list(records), schema=arrow_schema())
    return table.sort_by([("date", "ascending"), ("id", "ascending")])


def write_fragment(corpus: Path, table: pa.Table) -> FragmentInfo:
    """Write ``table`` as a new fragment under ``corpus/data``; return its log description.

    Writing the same bytes twice is harmless: the name is the content's hash.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(
        table,
        sink,
        compression="zstd",
        write_page_checksum=True,
        row_group_size=ROW_GROUP_SIZE,
        write_statistics=True,
        use_dictionary=[name for name in table.column_names if name not in UNIQUE_VALUED],
    )
    data = sink.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    folder = corpus / "data"
    with temporary_file(corpus / STAGING) as (temp, handle):
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
        link_new(temp, folder / f"{digest}.parquet")
    distinct = {
        name: sorted(str(v) for v in pc.unique(table[name]).to_pylist() if v is not None)
        for name in ("language", "license")
    }
    return {
        "path": f"data/{digest}.parquet",
        "sha256": digest,
        "rows": table.num_rows,
        "bytes": data.size,
        "languages": distinct["language"],
        "licenses": distinct["license"],
    }
