"""The UN General Debate Corpus (UNGDC) release layout, one record per speech file.

The UNGDC (Jankin, Baturo, Dasandi; Harvard Dataverse, doi:10.7910/DVN/0TJX8Y) ships as::

    DIR/TXT/Session NN - YYYY/ISO3_NN_YYYY.txt    one speech, UTF-8 plain text
    DIR/Speakers_by_session.xlsx                  Year, Session, ISO Code, Country,
                                                  Name of Person Speaking, Post

``path`` may be ``DIR``, its ``TXT`` folder or one session folder; the speaker table is
looked for in the folder given and up to two folders above it, or given as ``speakers``.
Only the file name is read for the session and year (the session folder's name is not).

Notes
-----
The fields of a record:

=============  ===========================================================================
field          value
=============  ===========================================================================
title          ``Statement by {country} in the General Debate of the {1st} session of the
               UN General Assembly``; the name is pycountry's ``common_name`` (else
               ``name``), a former state's ``name``, ``European Union`` for ``EU``
speaker        ``Name of Person Speaking``, white space collapsed
speaker_role   ``Post``, white space collapsed; absent when empty
country        alpha-2 of the file's alpha-3 code: current countries first, then former
               ones (``CSK`` CS, ``YUG`` YU, ``DDR`` DD, ``SUN`` SU); ``EU`` stays ``EU``
date           the year of the file name (year precision)
language       ``en``; delivery ``as_delivered``; license ``CC0-1.0``
event          ``UN General Assembly, {1st} session, General Debate``
keywords       ``["UN General Debate"]``
source_url     ``https://doi.org/10.7910/DVN/0TJX8Y``; publisher: Harvard Dataverse, v12
source_id      the file stem (``ARG_01_1946``); notes name the file and the conversion
text           the file, strict UTF-8, a BOM dropped, otherwise as it is
=============  ===========================================================================

Choices made:

- Speaker rows are keyed by (session, ISO code), the code stripped and upper-cased. Some
  keys repeat (two delegates of one session, or the same row twice): the record's speaker
  is the names joined with ``"; "`` in table order, a name equal to an earlier one but for
  case or spacing left out; its role joins the distinct non-empty posts the same way.
- A file without a speaker row is an error (the schema requires a speaker; inventing one
  would be wrong). Rows whose name is empty are skipped; when every row of a key is empty
  the error is labelled with the table's ``FILE:ROW``. Rows that match no file are ignored.
- Hidden files (``.*``, as macOS leaves) are skipped; ``retrieved`` is left out.

Examples
--------
>>> import tempfile, pathlib, openpyxl
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> session = folder / "TXT" / "Session 25 - 1970"
>>> session.mkdir(parents=True)
>>> _ = (session / "YUG_25_1970.txt").write_text("Peace.\\n", encoding="utf-8")
>>> book = openpyxl.Workbook()
>>> book.active.append(["Year", "Session", "ISO Code", "Country", "Name of Person Speaking",
...                     "Post"])
>>> book.active.append([1970, 25, "YUG", "Yugoslavia", "Mr.  Tepavac", None])
>>> book.save(folder / "Speakers_by_session.xlsx")
>>> [(label.endswith("YUG_25_1970.txt"), fields["country"], fields["speaker"], fields["text"])
...  for label, fields in records(session)]
[(True, 'YU', 'Mr. Tepavac', 'Peace.\\n')]
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pycountry

from policyspeech.countries import from_alpha_3
from policyspeech.errors import InvalidSpeechError
from policyspeech.ingest import decode_text
from policyspeech.tuning import DEFAULT_MAX_BYTES
from policyspeech.userfiles import check_regular, read_regular

TABLE_NAME = "Speakers_by_session.xlsx"
SOURCE_URL = "https://doi.org/10.7910/DVN/0TJX8Y"
PUBLISHER = ("Harvard Dataverse: United Nations General Debate Corpus "
             "(Jankin, Baturo, Dasandi), v12")
KEYWORDS = ("UN General Debate",)
_FILE_NAME = re.compile(r"([A-Z]{2,3})_(\d{1,3})_(\d{4})")
_COLUMNS = {"session": "Session", "iso": "ISO Code", "name": "Name of Person Speaking",
            "post": "Post"}

Speakers = dict[tuple[int, str], list[tuple[int, str, str]]]
"""Rows of the speaker table by (session, ISO code): (row number, name, post)."""


def records(
    path: Path, *, speakers: Path | None = None
) -> Iterator[tuple[str, dict[str, Any] | InvalidSpeechError]]:
    """Yield ``(label, fields)`` for each speech file of a UNGDC layout at ``path``.

    Raises :class:`InvalidSpeechError` when ``path`` has no speech files or no speaker
    table can be found; a file that cannot be converted is an error item instead.
    """
    path = Path(path)
    files = _speech_files(path)
    table = Path(speakers) if speakers is not None else _find_table(path)
    rows = _read_table(table)
    for file in files:
        label = str(file)
        try:
            yield label, _record(file, rows, table)
        except _TableProblem as problem:
            yield problem.label, InvalidSpeechError(str(problem))
        except InvalidSpeechError as exc:
            yield label, exc


class _TableProblem(InvalidSpeechError):
    """A problem of the speaker table, labelled with its ``FILE:ROW``."""

    def __init__(self, label: str, message: str) -> None:
        super().__init__(message)
        self.label = label


def _speech_files(path: Path) -> list[Path]:
    root = path / "TXT" if (path / "TXT").is_dir() else path
    if not root.is_dir():
        what = "is a file" if root.is_file() else "no such folder"
        raise InvalidSpeechError(f"{path}: {what}; give the UNGDC release folder, its TXT "
                                 "folder or one of its session folders")
    files = sorted(p for p in [*root.glob("*.txt"), *root.glob("*/*.txt")]
                   if p.is_file() and not p.name.startswith("."))
    if not files:
        raise InvalidSpeechError(
            f"{path}: no UNGDC speech files here; expected TXT/Session NN - YYYY/"
            "ISO3_NN_YYYY.txt below the release folder (or give the TXT or a session folder)")
    return files


def _find_table(path: Path) -> Path:
    folders = [path, *list(path.resolve().parents)[:2]]
    for folder in folders:
        if (folder / TABLE_NAME).is_file():
            return folder / TABLE_NAME
    looked = ", ".join(str(f) for f in folders)
    raise InvalidSpeechError(f"{path}: no speaker table {TABLE_NAME} found (looked in "
                             f"{looked}); put it in the release folder or pass speakers=PATH")


def _read_table(table: Path) -> Speakers:
    """Load the speaker table (read-only, first sheet) as rows by (session, ISO code)."""
    check_regular(table)
    try:
        book = openpyxl.load_workbook(table, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zip, key and its own errors
        raise InvalidSpeechError(f"{table}: cannot read the speaker table as an .xlsx "
                                 f"workbook ({type(exc).__name__}: {exc})") from None
    try:
        lines = book.worksheets[0].iter_rows(values_only=True)
        header = [_clean(cell).casefold() for cell in next(lines, ())]
        where = {}
        for key, title in _COLUMNS.items():
            if title.casefold() not in header:
                raise InvalidSpeechError(
                    f"{table}: the first sheet has no '{title}' column; the speaker table "
                    f"needs the columns {', '.join(_COLUMNS.values())} in its first row")
            where[key] = header.index(title.casefold())
        rows: Speakers = {}
        for number, line in enumerate(lines, start=2):
            cells = [_clean(line[i]) if i < len(line) else "" for i in range(len(header))]
            session, iso = cells[where["session"]], cells[where["iso"]].upper()
            if session.isdigit() and iso:
                entry = (number, cells[where["name"]], cells[where["post"]])
                rows.setdefault((int(session), iso), []).append(entry)
        return rows
    finally:
        book.close()


def _clean(value: object) -> str:
    """A cell as text with white space collapsed (``1.0`` from a number cell is ``1``)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def _record(file: Path, rows: Speakers, table: Path) -> dict[str, Any]:
    match = _FILE_NAME.fullmatch(file.stem) if file.suffix == ".txt" else None
    if match is None:
        raise InvalidSpeechError(
            f"file name '{file.name}' is not ISO3_NN_YYYY.txt (alpha-3 code, session, "
            "year, as ARG_01_1946.txt); rename the file or move it out of the folder")
    alpha_3, session, year = match[1], int(match[2]), match[3]
    country, name = _country(alpha_3)
    speaker, role = _speaker(file, rows.get((session, alpha_3), []), table, session, alpha_3)
    text = decode_text(read_regular(file, limit=DEFAULT_MAX_BYTES), file.name)
    nth = _ordinal(session)
    fields: dict[str, Any] = {
        "title": (f"Statement by {name} in the General Debate of the {nth} session "
                  "of the UN General Assembly"),
        "speaker": speaker,
        "speaker_role": role,
        "country": country,
        "date": year,
        "language": "en",
        "delivery": "as_delivered",
        "event": f"UN General Assembly, {nth} session, General Debate",
        "keywords": list(KEYWORDS),
        "source_url": SOURCE_URL,
        "publisher": PUBLISHER,
        "license": "CC0-1.0",
        "source_id": file.stem,
        "notes": (f"UNGDC file {file.name} ({alpha_3}); English text of the UN verbatim "
                  f"record; speaker and post as in {TABLE_NAME}; title built by the converter."),
        "text": text,
    }
    if not role:
        del fields["speaker_role"]
    return fields


def _country(alpha_3: str) -> tuple[str, str]:
    """The alpha-2 code and the name used in titles for an alpha-3 code of a file name."""
    code = from_alpha_3(alpha_3)
    if code == "EU":
        return "EU", "European Union"
    current = pycountry.countries.get(alpha_3=alpha_3)
    if current is not None:  # the name the UNGDC titles use: pycountry's, in full
        return str(code), str(getattr(current, "common_name", None) or current.name)
    former = pycountry.historic_countries.get(alpha_3=alpha_3)
    if code is not None and former is not None:
        return code, str(former.name)
    raise InvalidSpeechError(
        f"unknown ISO 3166-1 alpha-3 code '{alpha_3}' in the file name; rename the file with "
        "the country's alpha-3 code (former states keep theirs: CSK, YUG, DDR, SUN; the EU is EU)")


def _speaker(file: Path, found: list[tuple[int, str, str]], table: Path, session: int,
             alpha_3: str) -> tuple[str, str]:
    """The speaker and role of a file from its rows of the speaker table."""
    if not found:
        raise InvalidSpeechError(
            f"no row for session {session} and ISO code {alpha_3} in the speaker table "
            f"{table}; add one with the Name of Person Speaking (and Post)")
    names: list[str] = []
    posts: list[str] = []
    for _number, name, post in found:
        if name and name.casefold() not in (n.casefold() for n in names):
            names.append(name)
        if post and post not in posts:
            posts.append(post)
    if not names:
        raise _TableProblem(
            f"{table}:{found[0][0]}",
            f"no Name of Person Speaking for session {session}, {alpha_3} (file {file}); "
            "fill in the speaker's name in this row")
    return "; ".join(names), "; ".join(posts)


def _ordinal(number: int) -> str:
    """English ordinal of a session number.

    >>> [_ordinal(n) for n in (1, 2, 3, 11, 12, 13, 21, 22, 78, 101)]
    ['1st', '2nd', '3rd', '11th', '12th', '13th', '21st', '22nd', '78th', '101st']
    """
    suffix = "th" if number % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(
        number % 10, "th")
    return f"{number}{suffix}"
