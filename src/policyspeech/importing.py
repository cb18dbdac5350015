"""Importing many speeches at once, from the formats researchers have.

- a folder of ``.txt``/``.md`` files with YAML front matter or sidecars;
- ``.jsonl``: one JSON object of fields per line, with ``text`` (or ``path``, a text file);
  a key given twice in one object is an error (JSON readers would keep the last);
- ``.csv`` and ``.tsv``: a header row of field names, the delimiter (comma, semicolon or
  tab) found from the header unless given, fields of any length, a UTF-8 BOM (as Excel
  writes it) dropped; ``themes`` and ``keywords`` as ``a; b``;
- ``.parquet``: one row per speech (a file that ``policyspeech export`` wrote, say);
- the field's own formats, through :mod:`policyspeech.adapters`: ParlaMint TEI
  (``source_format="parlamint"``) and the UN General Debate Corpus (``"ungdc"``).

A source whose columns are named differently imports without a conversion script:
:class:`ImportOptions` maps fields to columns (``--map speaker=name``), leaves columns out
(``--ignore``), and fills fields that the records leave empty (``defaults``: the CLI's
metadata options). Text from structured sources keeps its paragraphs; only text and
Markdown files get the join of sentences broken across paragraphs (``join_lines``
changes either).

A ``path`` field (JSONL, CSV, Parquet) names a text file relative to the source file's
folder, and must stay inside that folder once symbolic links are resolved (or inside
``files_root``, ``--files-root DIR``, when one is given): a downloaded source cannot make
the import read the importer's own files. The files of a folder source must resolve
inside the folder too. Every file is read as :mod:`policyspeech.userfiles` reads them:
regular files only, with the size limit.

Each source is read lazily, one speech at a time, as ``(label, load)`` pairs: the label
names the file and line for error messages, and ``load()`` reads and validates the speech.
:meth:`policyspeech.store.Corpus.import_path` feeds them to a batch (all or nothing, with
bounded memory; see :mod:`policyspeech.batch`).

Examples
--------
>>> import tempfile, pathlib, json
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> row = {"name": "S", "country": "GB", "date": "2019", "language": "en", "title": "T"}
>>> _ = (folder / "s.jsonl").write_text(json.dumps({**row, "text": "Words."}) + "\\n")
>>> options = ImportOptions(mapping=parse_mapping(["speaker=name"]))
>>> [(label.endswith("s.jsonl:1"), load()["speaker"])
...  for label, load in sources([folder / "s.jsonl"], options=options)]
[(True, 'S')]
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policyspeech import tables
from policyspeech.errors import InvalidSpeechError
from policyspeech.ingest import json_record, read_speech
from policyspeech.schema import FIELD_NAMES, FIELDS_BY_NAME
from policyspeech.tuning import DEFAULT_MAX_BYTES
from policyspeech.userfiles import check_regular, confine, open_regular
from policyspeech.validate import Record, validate_speech

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
SOURCE_FORMATS = ("auto", "parlamint", "ungdc")
LIST_FIELDS = ("themes", "keywords")
Loader = Callable[[], Record]


@dataclass(frozen=True)
class ImportOptions:
    """How to read a source's records (picklable: worker processes receive it)."""

    mapping: Mapping[str, str] = field(default_factory=dict)
    """Field name -> the source's column that holds it."""
    ignore: frozenset[str] = frozenset()
    """Columns to leave out."""
    defaults: Mapping[str, Any] = field(default_factory=dict)
    """Values for fields that a record leaves empty."""
    join_lines: bool | None = None
    """Join sentences broken across paragraphs; None: for text and Markdown files only."""
    delimiter: str | None = None
    """CSV delimiter; None: found from the header (a ``.tsv`` file: tab)."""
    max_bytes: int = DEFAULT_MAX_BYTES
    lists: tuple[Path, ...] = ()
    """ParlaMint: the corpus's listPerson and listOrg files."""
    speakers: Path | None = None
    """UNGDC: the speaker table (default: found beside the TXT folder)."""
    files_root: Path | None = None
    """The folder that ``path`` fields may name files in (default: the source file's)."""

    def fields(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """A source row as record fields: columns renamed, ignored ones left out, empty
        values dropped, defaults filled in."""
        if not (self.mapping or self.ignore or self.defaults):  # the common case
            return {k: v for k, v in row.items()
                    if v is not None and (v.__class__ not in _SIZED or v)}
        renamed = {column: name for name, column in self.mapping.items()}
        fields = {renamed.get(k, k): v for k, v in row.items()
                  if k not in self.ignore and (k in renamed or k not in self.mapping)
                  and v is not None and (v.__class__ not in _SIZED or v)}
        for name, value in self.defaults.items():
            if name not in fields and value not in (None, "", [], ()):
                fields[name] = value
        return fields


_SIZED = (str, list, tuple)
"""Values that are empty when they have no length (an array's emptiness is checked later,
by the validation, which turns it into a list)."""


def check_max_errors(max_errors: int) -> None:
    """Refuse a ``max_errors`` below 1 (it is how many bad records a refusal lists).

    >>> check_max_errors(0)
    Traceback (most recent call last):
    ...
    policyspeech.errors.InvalidSpeechError: max errors 0 must be 1 or more (it is how many bad records are listed)
    """
    if isinstance(max_errors, bool) or not isinstance(max_errors, int) or max_errors < 1:
        raise InvalidSpeechError(f"max errors {max_errors!r} must be 1 or more (it is how "
                                 "many bad records are listed)")


def parse_delimiter(text: str) -> str:
    """The CSV delimiter that ``--delimiter`` names: one character, or ``tab``.

    >>> parse_delimiter("tab"), parse_delimiter(";")
    ('\\t', ';')
    """
    delimiter = {"tab": "\t", "\\t": "\t"}.get(text, text)
    if len(delimiter) != 1:
        raise InvalidSpeechError(f"--delimiter '{delimiter}' must be one character (or 'tab')")
    return delimiter


def parse_mapping(pairs: Iterable[str]) -> dict[str, str]:
    """``["speaker=name"]`` -> ``{"speaker": "name"}``, each field checked.

    >>> parse_mapping(["speakr=name"])
    Traceback (most recent call last):
    ...
    policyspeech.errors.InvalidSpeechError: --map 'speakr=name': 'speakr' is not a field; did you mean 'speaker'?
    """
    mapping: dict[str, str] = {}
    for pair in pairs:
        name, sep, column = (part.strip() for part in pair.partition("="))
        if not sep or not name or not column:
            raise InvalidSpeechError(f"--map '{pair}' is not FIELD=COLUMN; write for example "
                                     "--map speaker=name")
        if name not in FIELDS_BY_NAME and name != "path":
            raise InvalidSpeechError(f"--map '{pair}': '{name}' is not a field; "
                                     f"{_field_hint(name)}")
        mapping[name] = column
    return mapping


def sources(paths: Sequence[Path], *, source_format: str = "auto",
            options: ImportOptions = ImportOptions(),
            blocks: int = 0) -> Iterator[tuple[str, Loader]]:
    """Yield ``(label, load)`` for each speech in ``paths``; ``load()`` reads and validates
    it. With ``blocks`` (bytes), a JSON Lines file comes as :class:`LineBlock` items of
    about that many bytes of whole lines, expanded where they are loaded (see
    :mod:`policyspeech.batch`)."""
    if source_format not in SOURCE_FORMATS:
        raise InvalidSpeechError(f"source format '{source_format}' is not known; use "
                                 f"{', '.join(SOURCE_FORMATS)}")
    if source_format == "parlamint":
        from policyspeech.adapters import parlamint

        yield from _adapted(parlamint.records(paths, lists=options.lists), options)
        return
    for path in paths:
        if source_format == "ungdc":
            from policyspeech.adapters import ungdc

            yield from _adapted(ungdc.records(path, speakers=options.speakers), options)
        else:
            yield from _one_source(path, options, blocks)


def _one_source(path: Path, options: ImportOptions, blocks: int = 0
                ) -> Iterator[tuple[str, Loader]]:
    suffix = path.suffix.lower()
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in TEXT_SUFFIXES
                       and not p.is_dir() and not p.name.startswith("."))
        if not files:
            raise InvalidSpeechError(f"{path}: no .txt or .md files in this folder")
        join = True if options.join_lines is None else options.join_lines
        for file in files:
            yield str(file), functools.partial(
                read_speech, file, defaults=options.defaults or None,
                max_bytes=options.max_bytes, join_lines=join, root=path)
        return
    if not path.exists():
        raise InvalidSpeechError(f"{path}: no such file or folder; check the path")
    check_regular(path)
    if suffix == ".jsonl" and blocks:
        for block in _jsonl_blocks(path, options, blocks):  # a block stands for its lines
            yield f"{path}:{block.first}", block  # type: ignore[misc]
    elif suffix == ".jsonl":
        yield from _jsonl(path, options)
    elif suffix in (".csv", ".tsv"):
        yield from _csv(path, options)
    elif suffix == ".parquet":
        yield from _parquet(path, options)
    else:
        raise InvalidSpeechError(
            f"{path}: cannot import this kind of file; give a folder of .txt/.md files, a "
            ".jsonl, .csv, .tsv or .parquet file (or --from parlamint / ungdc)")


def row_loader(row: Mapping[str, Any], options: ImportOptions) -> Loader:
    """A loader for one row of fields named as ``options`` maps them (a ``datasets``
    row, say)."""
    return functools.partial(_from_fields, dict(row), None, options)


def _adapted(items: Iterable[tuple[str, dict[str, Any] | InvalidSpeechError]],
             options: ImportOptions) -> Iterator[tuple[str, Loader]]:
    for label, fields in items:
        if isinstance(fields, InvalidSpeechError):
            yield label, functools.partial(_fail, str(fields))
        else:
            yield label, functools.partial(_from_fields, fields, None, options)


def _fail(message: str) -> Record:
    raise InvalidSpeechError(message)


def _from_fields(row: Mapping[str, Any], base: Path | None, options: ImportOptions) -> Record:
    """A speech given as columns; a ``path`` column (relative to ``base``) gives the text."""
    fields = options.fields(row)
    unknown = [k for k in fields if k not in FIELDS_BY_NAME and k != "path"]
    if unknown:
        raise InvalidSpeechError(_unknown_column_message(unknown[0]))
    text_path = fields.pop("path", None)
    if text_path is not None and base is not None:
        if "text" in fields:
            raise InvalidSpeechError("give either text or path, not both")
        if not isinstance(text_path, str):
            raise InvalidSpeechError(f"path must be text, got {type(text_path).__name__} "
                                     f"{text_path!r}; give the text file's name")
        file = confine(base, text_path, options.files_root)
        join = True if options.join_lines is None else options.join_lines
        return read_speech(file, overrides=fields,
                           max_bytes=options.max_bytes, join_lines=join)
    _check_text_size(fields.get("text"), options.max_bytes)
    return validate_speech(fields, join_lines=bool(options.join_lines))


def _check_text_size(text: Any, max_bytes: int) -> None:
    """Refuse a record's text over the size limit of a text file (``--max-bytes``)."""
    if isinstance(text, str) and len(text) * 4 > max_bytes and (
            len(text) > max_bytes or len(text.encode("utf-8", "surrogatepass")) > max_bytes):
        raise InvalidSpeechError(
            f"text is larger than the limit of {max_bytes:,} bytes; split the speech or "
            "raise the limit with --max-bytes")


def _unknown_column_message(column: str) -> str:
    return (f"unknown field '{column}'; {_field_hint(column)} (or name its field with "
            f"--map FIELD={column}, or leave it out with --ignore {column})")


def _field_hint(name: str) -> str:
    close = difflib.get_close_matches(name, FIELD_NAMES, n=1)
    return f"did you mean '{close[0]}'?" if close else "see `policyspeech schema fields`"


def _check_columns(path: Path, columns: Sequence[str], options: ImportOptions) -> None:
    """Refuse a table whose columns do not name fields, once for the whole file."""
    renamed = set(options.mapping.values())
    named = [c for c in columns if c not in options.ignore]
    if "" in named:
        raise InvalidSpeechError(
            f"{path}: column {columns.index('') + 1} has no name in the header (an index that "
            "pandas wrote, or an empty column that a spreadsheet left); name it in the header, "
            "or leave it out with --ignore ''")
    unknown = [c for c in named if c not in renamed and c not in FIELDS_BY_NAME and c != "path"]
    if unknown:
        raise InvalidSpeechError(f"{path}: {_unknown_column_message(unknown[0])}")
    missing = [c for c in options.mapping.values() if c not in columns]
    if missing:
        raise InvalidSpeechError(f"{path}: --map names the column '{missing[0]}', which the "
                                 f"file does not have; its columns: {', '.join(columns)}")
    fields = {name for name, column in options.mapping.items()} | (set(named) - renamed)
    if "text" not in fields and "path" not in fields:
        raise InvalidSpeechError(f"{path}: needs a 'text' column or a 'path' column (or "
                                 f"--map text=COLUMN); it has {', '.join(columns) or 'none'}")


def _jsonl(path: Path, options: ImportOptions) -> Iterator[tuple[str, Loader]]:
    for block in _jsonl_blocks(path, options, 1 << 20):
        yield from block.expand()


@dataclass(frozen=True)
class LineBlock:
    """Whole lines of a JSON Lines file, from line ``first``, read as one piece: a bulk
    import passes blocks to its workers, which split them into speeches, so that the
    process that reads the file only finds where lines end."""

    path: Path
    first: int
    data: bytes
    options: ImportOptions

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def rows(self) -> int:
        return self.data.count(b"\n") + (not self.data.endswith(b"\n"))

    def expand(self) -> list[tuple[str, Loader]]:
        """``(label, load)`` of each speech of the block, as :func:`sources` gives them."""
        base = self.path.parent
        return [(f"{self.path}:{number}", functools.partial(_json_line, raw, base,
                                                            self.options))
                for number, raw in enumerate(self.data.split(b"\n"), start=self.first)
                if raw.strip()]


def _jsonl_blocks(path: Path, options: ImportOptions, size: int) -> Iterator[LineBlock]:
    """The file in blocks of about ``size`` bytes of whole lines."""
    first = 1
    with open_regular(path) as handle:
        while data := handle.read(size):
            if not data.endswith(b"\n"):
                data += handle.readline()
            yield LineBlock(path, first, data, options)
            first += data.count(b"\n")


def _json_line(raw: bytes, base: Path, options: ImportOptions) -> Record:
    fields = json_record(raw)
    if not isinstance(fields, dict):
        raise InvalidSpeechError("each line must be a JSON object of field: value")
    return _from_fields(fields, base, options)


def source_bytes(paths: Sequence[Path]) -> int:
    """Bytes that importing ``paths`` will read (the files, or the folders' files)."""
    total = 0
    for path in paths:
        if path.is_dir():
            total += sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        elif path.is_file():
            total += path.stat().st_size
    return total


def _csv(path: Path, options: ImportOptions) -> Iterator[tuple[str, Loader]]:
    for label, row in table_rows(path, options):
        if isinstance(row, InvalidSpeechError):
            yield label, functools.partial(_fail, str(row))
        else:
            yield label, functools.partial(_from_fields, row, path.parent, options)


def table_rows(path: Path, options: ImportOptions, *, check: bool = True
               ) -> Iterator[tuple[str, dict[str, Any] | InvalidSpeechError]]:
    """The rows of a CSV or TSV file (see :func:`policyspeech.tables.table_rows`), with
    the ``themes`` and ``keywords`` columns (as mapped) split at ``;``; ``check`` refuses,
    once, columns that name no field."""
    return tables.table_rows(
        path, delimiter=options.delimiter,
        lists=[options.mapping.get(name, name) for name in LIST_FIELDS],
        check_columns=(lambda columns: _check_columns(path, columns, options)) if check
        else None)


def _parquet(path: Path, options: ImportOptions) -> Iterator[tuple[str, Loader]]:
    import pyarrow.parquet as pq

    with open_regular(path) as handle:
        try:
            source = pq.ParquetFile(handle)
        except Exception as exc:  # pyarrow raises several kinds for a file not Parquet
            raise InvalidSpeechError(f"{path}: not a readable Parquet file ({exc})") from None
        _check_columns(path, source.schema_arrow.names, options)
        number = 0
        for batch in source.iter_batches(batch_size=1_000):
            for row in batch.to_pylist():
                number += 1
                yield f"{path}:row {number}", functools.partial(_from_fields, row,
                                                                path.parent, options)
