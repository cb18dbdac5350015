"""Reading CSV and TSV files as spreadsheets write them: strict, with clear errors.

Rows are read strictly (a stray quote is an error, not two rows merged), line by line as
strict UTF-8 (a Latin-1 or UTF-16 file is an error that says how to convert it), with a
byte-order mark, Excel's ``sep=;`` hint line and old Mac line ends (a lone CR) handled,
and the delimiter sniffed from the header when it is not given. A column named twice in
the header is an error (a reader of rows as mappings would keep the last), and so is a NUL
byte (a binary or UTF-16 file); only a regular file is read
(:mod:`policyspeech.userfiles`).

Examples
--------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "s.csv"
>>> _ = path.write_text("title,themes\\nOn crime,a; b\\n", encoding="utf-8")
>>> list(table_rows(path, lists=["themes"]))
[('...s.csv:2', {'title': 'On crime', 'themes': ['a', 'b']})]
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from policyspeech.errors import InvalidSpeechError
from policyspeech.userfiles import open_regular

DELIMITERS = (",", ";", "\t")


def table_rows(path: Path, *, delimiter: str | None = None, lists: Sequence[str] = (),
               check_columns: Callable[[list[str]], None] | None = None
               ) -> Iterator[tuple[str, dict[str, Any] | InvalidSpeechError]]:
    """The rows of a CSV or TSV file as ``(FILE:LINE, {column: value})``, the ``lists``
    columns split at ``;``; a bad row (its field count, its bytes) as an error in place of
    the mapping. ``check_columns`` is called once with the header's columns."""
    csv.field_size_limit(2**31 - 1)  # a speech may be longer than the default 131,072
    with open_regular(path) as handle:
        lines = _DecodedLines(handle, path)
        try:
            header_line = next(lines, "")
        except InvalidSpeechError as exc:
            yield f"{path}:1", exc
            return
        header_line = header_line.removeprefix("\ufeff")
        given = delimiter
        if re.fullmatch(r"sep=.\r?\n?", header_line):  # Excel's hint line: sep=;
            given = given or header_line[4]
            header_line = next(lines, "")
        delimiter = given or sniff(header_line, path)
        try:
            columns = [c.strip() for c in next(csv.reader([header_line], delimiter=delimiter,
                                                          strict=True), [])]
        except csv.Error as exc:
            raise InvalidSpeechError(f"{path}:{lines.number}: the header row is not valid CSV "
                                     f"({exc}); {_fix(exc)}") from None
        if check_columns is not None:
            check_columns(columns)
        _check_unique(path, columns)
        reader = csv.reader(lines, delimiter=delimiter, strict=True)  # a stray quote is an
        while True:                                                   # error, not a merge
            label = f"{path}:{lines.number + 1}"
            try:
                values = next(reader, None)
            except InvalidSpeechError as exc:
                yield label, exc
                return
            except csv.Error as exc:
                yield label, InvalidSpeechError(f"not a valid CSV row ({exc}); {_fix(exc)}")
                return
            if values is None:
                return
            if not any(v.strip() for v in values):  # a blank line, or a spreadsheet's ;;;;
                continue
            if len(values) != len(columns):
                yield label, InvalidSpeechError(
                    f"row has {len(values)} fields, the header has {len(columns)}; check its "
                    f"quotes and delimiters (the delimiter is {delimiter!r})")
                continue
            row: dict[str, Any] = dict(zip(columns, values, strict=True))
            for column in lists:
                if isinstance(row.get(column), str):
                    row[column] = [v.strip() for v in row[column].split(";") if v.strip()]
            yield label, row


def _fix(exc: csv.Error) -> str:
    if "NUL" in str(exc):
        return ("remove the NUL bytes (a binary file, or UTF-16 text: convert it with "
                "iconv -f UTF-16 -t UTF-8)")
    if "field limit" in str(exc):
        return "a field is larger than a speech can be; check the file's quotes"
    return "check its quotes"


def _check_unique(path: Path, columns: Sequence[str]) -> None:
    """Refuse a header that names a column twice."""
    seen: dict[str, int] = {}
    for number, column in enumerate(columns, start=1):
        if column in seen and column:
            raise InvalidSpeechError(
                f"{path}: the header names the column '{column}' twice (columns "
                f"{seen[column]} and {number}); rename or remove one")
        seen.setdefault(column, number)


def sniff(header: str, path: Path) -> str:
    """The delimiter of a header row: tab for ``.tsv``, else the most frequent of comma,
    semicolon and tab outside quotes."""
    if path.suffix.lower() == ".tsv":
        return "\t"
    outside = "".join(part for n, part in enumerate(header.split('"')) if n % 2 == 0)
    counts = {d: outside.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


class _DecodedLines:
    """The lines of a file as text, decoded one by one as strict UTF-8, counting them, so
    that a line that is not UTF-8 is an error naming its line number."""

    def __init__(self, handle: IO[bytes], path: Path) -> None:
        self.handle, self.path, self.number = handle, path, 0
        self.pending: list[str] = []
        """The rest of a line that ended in a lone CR (old Mac Excel writes those)."""

    def __iter__(self) -> _DecodedLines:
        return self

    def __next__(self) -> str:
        if self.pending:
            self.number += 1
            return self.pending.pop(0)
        raw = self.handle.readline()
        if not raw:
            raise StopIteration
        self.number += 1
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            if self.number == 1 and raw.startswith((b"\xff\xfe", b"\xfe\xff")):
                raise InvalidSpeechError(
                    "the file is UTF-16 (as Excel's 'Unicode Text' writes it), not UTF-8: "
                    "convert it to UTF-8 (iconv -f UTF-16 -t UTF-8)") from None
            raise InvalidSpeechError(
                f"line {self.number} is not valid UTF-8 (byte 0x{raw[exc.start]:02X} at column "
                f"{exc.start + 1}); the file looks like Latin-1 or Windows-1252: convert it "
                "to UTF-8 (iconv -f WINDOWS-1252 -t UTF-8)") from None
        if "\r" in text.removesuffix("\r\n"):
            first, *self.pending = _LONE_CR.split(text)
            self.pending = [part for part in self.pending if part]
            return first
        return text


_LONE_CR = re.compile(r"(?<=\r)(?!\n)")
"""Between a carriage return that ends a line on its own and what follows it."""
