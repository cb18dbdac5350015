"""Exporting a version of the corpus to one file: Parquet, JSON Lines or CSV.

Examples
--------
>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp()) / "speeches.jsonl"
>>> export_version(None, out, version="1.0.0", fmt="jsonl")
1
"""

from __future__ import annotations

import os
from pathlib import Path

from policyspeech.errors import CorpusError

EXPORT_FORMATS = ("parquet", "jsonl", "csv")


def export_version(corpus: str | os.PathLike[str] | None, out: Path, *, version: str = "latest",
                   fmt: str = "parquet", raw: bool = False, verify: bool = True) -> int:
    """Write every record of ``version`` to ``out``; return the number of records.

    CSV joins list fields (themes, keywords) with ``"; "``. CSV and JSON Lines write each
    date at its precision (``1790``, not ``1790-01-01``), as ``import`` reads it back.
    CSV is for spreadsheets: a cell that one would run as a formula (``=...``, ``+...``,
    ``-...``, ``@...``) starts with ``'``, unless ``raw`` (for ``import``, which takes
    every cell as it is; see :func:`policyspeech.output.safe_cell`).

    An export is a publication: unless ``verify`` is False, every file of the version is
    first checked against the log (SHA-256, rows, the release manifest), and a file that
    differs is an :class:`~policyspeech.errors.IntegrityError` naming it.
    """
    from policyspeech.loaders import read_arrow

    if fmt not in EXPORT_FORMATS:
        raise CorpusError(f"export format '{fmt}' is not known; use parquet, jsonl or csv")
    table = read_arrow(corpus, version=version, verify=verify).sort_by("id")
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, out, compression="zstd", row_group_size=1_000)
    else:
        from policyspeech.output import dates_at_precision, render_rows

        rows = dates_at_precision(table.to_pylist())
        out.write_text(render_rows(rows, fmt, raw=raw) + "\n", encoding="utf-8")
    return int(table.num_rows)
