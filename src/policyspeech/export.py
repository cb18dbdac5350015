"""Exporting a version of the corpus: one Parquet, CSV or JSON Lines file, or a folder of
``.txt`` files with a metadata CSV (for R's readtext and quanteda).

The format follows the name: ``.parquet``, ``.csv``, ``.jsonl`` (or ``.ndjson``), and a
name without an extension is a folder. The version's files are read one row group at a
time (:func:`chunks`) and polars writes each chunk, so memory is bounded by a chunk, not by
the corpus. Each output appears whole or not at all: it is written under a temporary name
beside its place and renamed into it.

Examples
--------
>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp()) / "speeches.jsonl"
>>> export_version(None, out, version="1.0.0")
1
>>> export_format(pathlib.Path("speeches.csv")), export_format(pathlib.Path("texts"))
('csv', 'txt')
"""

from __future__ import annotations

import io
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from policyspeech.errors import CorpusError
from policyspeech.output import LIST_SEPARATOR

if TYPE_CHECKING:
    import polars as pl
    import pyarrow as pa

EXPORT_FORMATS = ("parquet", "csv", "jsonl", "txt")
SUFFIXES = {".parquet": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
"""The file extensions ``export`` knows, and the format each one means."""
METADATA_CSV = "metadata.csv"
"""In a folder export: every field but the text, one row per ``.txt`` file (``doc_id``)."""
STDOUT = "-"
CHUNK_ROWS = 1_000
"""Records per chunk when writing ``.txt`` files (and per Parquet row group)."""
FORMULA_PATTERN = r"^[=+\-@\t\r\n]"
"""A cell that starts with one of :data:`policyspeech.output.FORMULA_STARTS`."""
_PLAIN_NUMBER = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"


def export_format(out: Path, fmt: str | None = None) -> str:
    """The format ``out`` is written in: its extension's, a folder of ``.txt`` files for a
    name without one; ``fmt``, when given, must agree (and is needed for ``-``, stdout).

    >>> export_format(Path("a.xlsx"))
    Traceback (most recent call last):
    ...
    policyspeech.errors.CorpusError: cannot export to 'a.xlsx': the extension '.xlsx' is not one export writes; name the file .parquet, .csv or .jsonl, or give a name without an extension for a folder of .txt files
    """
    if fmt is not None and fmt not in EXPORT_FORMATS:
        raise CorpusError(f"export format '{fmt}' is not known; use parquet, csv, jsonl or txt")
    if str(out) == STDOUT:
        if fmt not in ("csv", "jsonl"):
            raise CorpusError("export to '-' (standard output) needs --format csv or --format "
                              "jsonl")
        return fmt
    suffix = out.suffix.lower()
    implied = SUFFIXES.get(suffix) if suffix else "txt"
    if implied is None:
        raise CorpusError(
            f"cannot export to '{out}': the extension '{out.suffix}' is not one export writes; "
            "name the file .parquet, .csv or .jsonl, or give a name without an extension for "
            "a folder of .txt files")
    if fmt is not None and fmt != implied:
        raise CorpusError(
            f"cannot export to '{out}' as {fmt}: its name says {implied}; name the file "
            f"{'a folder without an extension' if fmt == 'txt' else '.' + fmt} or leave out "
            "--format")
    return implied


def export_version(corpus: str | os.PathLike[str] | None, out: Path, *, version: str = "latest",
                   fmt: str | None = None, raw: bool = False, verify: bool = True) -> int:
    """Write every record of ``version`` to ``out``; return the number of records.

    Records come in the order of the version's files (each sorted by date, then id), the
    same on every run: a sort by id would hold the whole version in memory.

    CSV joins list fields (themes, keywords) with ``"; "``. CSV and JSON Lines write each
    date at its precision (``1790``, not ``1790-01-01``), as ``import`` reads it back.
    CSV is for spreadsheets: a cell that one would run as a formula (``=...``, ``+...``,
    ``-...``, ``@...``) starts with ``'``, unless ``raw`` (for ``import``, which takes
    every cell as it is; see :func:`policyspeech.output.safe_cell`). A folder export holds
    ``<id>.txt`` for each record and ``metadata.csv``, whose ``doc_id`` is the file's name,
    as readtext names documents.

    An export is a publication: unless ``verify`` is False, every file of the version is
    first checked against the log (SHA-256, rows, the release manifest), and a file that
    differs is an :class:`~policyspeech.errors.IntegrityError` naming it.
    """
    fmt = export_format(out, fmt)
    if fmt == "txt":
        _check_folder(out)
    files = _version_files(corpus, version, verify)
    if fmt == "txt":
        return _write_folder(files, out, raw)
    if str(out) == STDOUT:  # through Python, chunk by chunk: a closed pipe is BrokenPipeError
        return _write_file(files, _ChunkedStdout(), fmt, raw)
    with _temporary_beside(out) as temp:
        with temp.open("wb") as handle:
            rows = _write_file(files, handle, fmt, raw)
        as_umask_allows(temp, 0o666)
        os.replace(temp, out)
    return rows


def _version_files(corpus: str | os.PathLike[str] | None, version: str,
                   verify: bool) -> list[Path]:
    """The files of ``version``, checked first: against the log's SHA-256 with
    ``verify``, else their footers (rows, schema)."""
    from policyspeech.scanning import checked_dataset, version_files

    files = version_files(corpus, version, verify)
    if not verify:
        checked_dataset(files)
    return [path for path, _ in files]


def chunks(files: list[Path]) -> Iterator[pa.Table]:
    """The records of ``files`` as Arrow tables of at most :data:`CHUNK_ROWS` rows in the
    canonical schema (a field that an older schema lacks is empty, as ``ps.read`` gives
    it), in file order, each Parquet page's checksum verified as it is read: memory holds
    one chunk."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from policyspeech.schema import arrow_schema

    schema = arrow_schema()
    for path in files:
        parquet = pq.ParquetFile(path, page_checksum_verification=True)
        for batch in parquet.iter_batches(batch_size=CHUNK_ROWS):
            yield _canonical(pa.Table.from_batches([batch]))
    if not files:
        yield schema.empty_table()


def _canonical(table: pa.Table) -> pa.Table:
    """``table`` with every field of the schema, in order; absent ones empty."""
    import pyarrow as pa

    from policyspeech.schema import arrow_schema

    schema = arrow_schema()
    columns = [table.column(field.name).cast(field.type) if field.name in table.column_names
               else pa.nulls(table.num_rows, field.type) for field in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def _write_file(files: list[Path], handle: BinaryIO, fmt: str, raw: bool) -> int:
    """Write the records chunk by chunk to ``handle`` in ``fmt``; return their number."""
    import polars as pl
    import pyarrow.parquet as pq

    rows = 0
    writer = None
    for n, table in enumerate(chunks(files)):
        rows += table.num_rows
        if fmt == "parquet":
            writer = writer or pq.ParquetWriter(handle, table.schema, compression="zstd")
            writer.write_table(table, row_group_size=CHUNK_ROWS)
            continue
        chunk = pl.from_arrow(table)
        assert isinstance(chunk, pl.DataFrame)
        if fmt == "csv":
            text_cells(chunk.lazy(), raw).collect().write_csv(handle, include_header=n == 0)
        else:
            chunk.with_columns(_date_at_precision()).write_ndjson(handle)
    if writer is not None:
        writer.close()
    return rows


def text_cells(frame: pl.LazyFrame, raw: bool = False) -> pl.LazyFrame:
    """``frame`` as CSV cells: lists joined with ``"; "``, dates at their precision, and
    (unless ``raw``) formula cells neutralised with a leading ``'``, as
    :func:`policyspeech.output.safe_cell` does.

    >>> import polars as pl
    >>> frame = pl.LazyFrame({"title": ["=1+1", "-3", "ok"], "themes": [["a", "b"], [], None]})
    >>> text_cells(frame).collect().rows()
    [("'=1+1", 'a; b'), ('-3', ''), ('ok', None)]
    """
    import polars as pl

    schema = frame.collect_schema()
    cells = []
    for name, dtype in schema.items():
        column = pl.col(name)
        if isinstance(dtype, pl.List):
            column = column.list.join(LIST_SEPARATOR)
        elif name == "date" and "date_precision" in schema:
            column = _date_at_precision()
        elif dtype != pl.String:
            column = column.cast(pl.String)
        if not raw:
            column = (pl.when(column.str.contains(FORMULA_PATTERN)
                              & ~column.str.contains(_PLAIN_NUMBER))
                      .then(pl.lit("'") + column).otherwise(column))
        cells.append(column.alias(name))
    return frame.select(cells)


def _date_at_precision() -> pl.Expr:
    """The ``date`` column as text at its ``date_precision`` (see :func:`dates.date_text`)."""
    import polars as pl

    iso = pl.col("date").dt.strftime("%Y-%m-%d")
    precision = pl.col("date_precision")
    return (pl.when(precision == "year").then(iso.str.slice(0, 4))
            .when(precision == "month").then(iso.str.slice(0, 7))
            .otherwise(iso).alias("date"))


def _check_folder(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise CorpusError(
            f"cannot export to the folder '{out}': it exists and is not an empty folder; give "
            "a new folder's name (or a file name ending .parquet, .csv or .jsonl)")


def _write_folder(files: list[Path], out: Path, raw: bool) -> int:
    """``<id>.txt`` per record and ``metadata.csv``, chunk by chunk; the folder is built
    under a temporary name and renamed into place. Returns the number of records."""
    import polars as pl

    try:
        temp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    except OSError as exc:  # name the folder asked for, not the temporary one
        raise OSError(exc.errno, exc.strerror, str(out)) from None
    rows = 0
    try:
        with (temp / METADATA_CSV).open("wb") as metadata:
            for n, table in enumerate(chunks(files)):
                chunk = pl.from_arrow(table)
                assert isinstance(chunk, pl.DataFrame)
                rows += chunk.height
                for record_id, text in chunk.select("id", "text").iter_rows():
                    (temp / f"{record_id}.txt").write_text(text, encoding="utf-8", newline="")
                cells = text_cells(chunk.drop("text").lazy(), raw).collect()
                cells.insert_column(0, (chunk["id"] + ".txt").alias("doc_id")).write_csv(
                    metadata, include_header=n == 0)
        as_umask_allows(temp, 0o777)
        if out.exists():
            out.rmdir()  # empty (checked first); rename cannot replace a folder
        os.replace(temp, out)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return rows


class _ChunkedStdout(io.BytesIO):
    """Standard output for polars' writers: each chunk is gathered, then written by Python
    (polars writing to a closed pipe reports an error of its own, not BrokenPipeError)."""

    def write(self, data: Any) -> int:
        sys.stdout.buffer.write(data)
        return len(data)


def as_umask_allows(path: Path, mode: int) -> None:
    """Give ``path`` (made private by ``mkstemp``/``mkdtemp``) the permissions a new file
    or folder gets under the user's umask, as any other file they write would."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, mode & ~umask)


@contextmanager
def _temporary_beside(out: Path) -> Iterator[Path]:
    """A temporary file name beside ``out`` (same file system, so the rename is atomic),
    removed on the way out unless it was renamed into place."""
    try:
        fd, name = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    except OSError as exc:  # name the file asked for, not the temporary one
        raise OSError(exc.errno, exc.strerror, str(out)) from None
    os.close(fd)
    try:
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)
