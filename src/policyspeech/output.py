"""Rendering records for the terminal and for files: table, csv, json and jsonl.

CSV is written for spreadsheets, which run a cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return as a formula (``=HYPERLINK(...)``, ``+cmd|...``). Such a
cell is neutralised with a leading ``'`` (the OWASP rule), except a plain number such as
``-3.5``, which is no formula; ``raw=True`` (``--raw``) writes every cell as it is.

Examples
--------
>>> import datetime
>>> rows = [{"id": "gb-1", "date": datetime.date(2019, 10, 30), "themes": ["health"]}]
>>> print(render_rows(rows, "jsonl"))
{"id": "gb-1", "date": "2019-10-30", "themes": ["health"]}
>>> print(render_rows(rows, "csv"))
id,date,themes
gb-1,2019-10-30,health
>>> print(render_rows([{"title": "=HYPERLINK(1)", "n": "-3"}], "csv"))
title,n
'=HYPERLINK(1),-3
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
from collections.abc import Sequence
from typing import Any

FORMATS = ("table", "csv", "json", "jsonl")
LIST_SEPARATOR = "; "
MIN_LAST_COLUMN = 30
"""The last column of a table (a title, say) keeps at least this width, overflowing if need be."""
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
"""A CSV cell starting with one of these is a formula to a spreadsheet (OWASP's list,
and a line feed)."""
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def dates_at_precision(rows: Sequence[dict[str, Any]], *, keep_precision: bool = True
                       ) -> list[dict[str, Any]]:
    """``rows`` with each ``date`` written at its ``date_precision`` (``2023``, never
    ``2023-01-01``); ``keep_precision=False`` drops the precision column afterwards.

    >>> dates_at_precision([{"date": datetime.date(1790, 1, 1), "date_precision": "year"}],
    ...                    keep_precision=False)
    [{'date': '1790'}]
    """
    from policyspeech.dates import date_text

    shown = []
    for row in rows:
        row = dict(row)
        if isinstance(row.get("date"), datetime.date) and "date_precision" in row:
            row["date"] = date_text(row["date"], row["date_precision"])
            if not keep_precision:
                del row["date_precision"]
        shown.append(row)
    return shown


def count(number: int, noun: str, plural: str | None = None) -> str:
    """``1 record``, ``4,813 speeches``.

    >>> count(1, "record"), count(4813, "speech", "speeches")
    ('1 record', '4,813 speeches')
    """
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"


def jsonable(value: Any) -> Any:
    """Turn dates into ISO text; leave other JSON values as they are."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def render_rows(rows: Sequence[dict[str, Any]], fmt: str, *, width: int | None = None,
                raw: bool = False) -> str:
    """Render ``rows`` (dicts with the same keys) in ``fmt`` (one of :data:`FORMATS`); CSV
    cells that a spreadsheet would run as formulas are neutralised unless ``raw``."""
    if fmt == "json":
        return json.dumps([{k: jsonable(v) for k, v in r.items()} for r in rows],
                          ensure_ascii=False, indent=2)
    if fmt == "jsonl":
        return "\n".join(json.dumps({k: jsonable(v) for k, v in r.items()}, ensure_ascii=False)
                         for r in rows)
    columns = list(rows[0]) if rows else []
    cells = [[_cell(r[c]) for c in columns] for r in rows]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(cells_of(columns, raw))
        writer.writerows(cells_of(row, raw) for row in cells)
        return buffer.getvalue().rstrip("\n")
    if width is None:
        import shutil

        width = max(shutil.get_terminal_size((120, 24)).columns, 80)
    return _table(columns, cells, width)


def cells_of(row: list[str], raw: bool = False) -> list[str]:
    """The cells of a CSV row, each neutralised (see :func:`safe_cell`) unless ``raw``."""
    return row if raw else [safe_cell(cell) for cell in row]


def safe_cell(cell: str) -> str:
    """``cell`` with a ``'`` in front when a spreadsheet would run it as a formula.

    >>> safe_cell("=1+1"), safe_cell("@SUM(A1)"), safe_cell("-12.5"), safe_cell("- item")
    ("'=1+1", "'@SUM(A1)", '-12.5', "'- item")
    """
    if cell.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return LIST_SEPARATOR.join(str(v) for v in value)
    return str(jsonable(value))


def _table(columns: list[str], cells: list[list[str]], width: int) -> str:
    if not columns:
        return "(no records)"
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    fixed = sum(widths[:-1]) + 2 * (len(columns) - 1)
    widths[-1] = max(len(columns[-1]), min(widths[-1], max(width - fixed, MIN_LAST_COLUMN)))

    def line(values: list[str]) -> str:
        clipped = [v if len(v) <= w else v[: w - 1] + "…" for v, w in zip(values, widths,
                                                                         strict=True)]
        return "  ".join(v.ljust(w) for v, w in zip(clipped, widths, strict=True)).rstrip()

    return "\n".join([line(columns), line(["-" * w for w in widths])] + [line(r) for r in cells])
