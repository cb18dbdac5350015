"""The UNGDC adapter: real sessions 1, 25 and 78 against the reference JSONL, and problems."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from policyspeech.adapters import ungdc
from policyspeech.errors import InvalidSpeechError

HEADER = ["Year", "Session", "ISO Code", "Country", "Name of Person Speaking", "Post"]


def layout(root: Path, files: dict[str, bytes], rows: list[list[Any]]) -> Path:
    """A tiny release layout: ``TXT/Session NN - YYYY/NAME`` files and a speaker table."""
    for name, data in files.items():
        session = root / "TXT" / "Session 25 - 1970"
        session.mkdir(parents=True, exist_ok=True)
        (session / name).write_bytes(data)
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [HEADER, *rows]:
        sheet.append(row)
    book.save(root / ungdc.TABLE_NAME)
    return root


def as_dict(items: list[tuple[str, Any]]) -> dict[str, Any]:
    return {Path(label).name: value for label, value in items}


def test_real_sessions_equal_the_reference_records(realdata: Path) -> None:
    reference = {}
    with open(realdata / "ungdc.jsonl", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            record.pop("retrieved")
            reference[record["source_id"]] = record
    items = list(ungdc.records(realdata / "ungdc-txt"))
    assert len(items) == 301
    countries = set()
    for label, fields in items:
        assert isinstance(fields, dict), f"{label}: {fields}"
        assert label.endswith(f"{fields['source_id']}.txt")
        assert fields == reference[fields["source_id"]], label
        countries.add(fields["country"])
    assert {"CS", "YU", "EU", "AR", "ZW"} <= countries
    assert {ref["source_id"][:3] for ref in reference.values()} >= {"CSK", "YUG", "DDR", "EU_"}


def test_former_states_and_the_eu(realdata: Path) -> None:
    txt = realdata / "ungdc-txt" / "TXT"
    first = as_dict(list(ungdc.records(txt / "Session 01 - 1946")))
    assert first["CSK_01_1946.txt"]["country"] == "CS"
    assert first["YUG_01_1946.txt"]["country"] == "YU"
    latest = as_dict(list(ungdc.records(txt / "Session 78 - 2023")))
    assert latest["EU_78_2023.txt"]["country"] == "EU"
    assert latest["EU_78_2023.txt"]["title"].startswith("Statement by European Union in")
    assert ungdc._country("DDR") == ("DD", "German Democratic Republic")
    assert ungdc._country("SUN")[0] == "SU"


def test_txt_folder_and_session_folder(realdata: Path, tmp_path: Path) -> None:
    txt = realdata / "ungdc-txt" / "TXT"
    assert len(list(ungdc.records(txt))) == 301
    session = list(ungdc.records(txt / "Session 25 - 1970"))
    assert len(session) == 70
    assert all(isinstance(fields, dict) and fields["date"] == "1970" for _, fields in session)
    # A session folder elsewhere, with the speaker table given explicitly.
    copy = tmp_path / "s25"
    copy.mkdir()
    (copy / "YUG_25_1970.txt").write_bytes((txt / "Session 25 - 1970/YUG_25_1970.txt")
                                           .read_bytes())
    table = realdata / "ungdc-txt" / ungdc.TABLE_NAME
    [(_, fields)] = ungdc.records(copy, speakers=table)
    assert isinstance(fields, dict) and fields["country"] == "YU"


def test_problems_are_labelled_items(tmp_path: Path) -> None:
    root = layout(tmp_path, {
        "ARG_25_1970.txt": "Buenos días.\n".encode(),
        "ARG-25-1970.txt": b"Bad name.\n",
        "XYZ_25_1970.txt": b"Unknown code.\n",
        "FRA_25_1970.txt": b"No row.\n",
        "DEU_25_1970.txt": "Stra\u00dfe.\n".encode("latin-1"),
        "ITA_25_1970.txt": b"Empty name.\n",
        "IND_25_1970.txt": b"Two rows.\n",
    }, [
        [1970, 25, "ARG", "Argentina", "Mr.  de  Pablo\nPardo", "  "],
        [1970, 25, "DEU", "Germany", "Mr. Scheel", "Minister"],
        [1970, 25, "ITA", "Italy", None, None],
        [1970, 25, "IND ", "India", "Mr. Singh", "Minister"],
        [1970, 25, "IND", "India", "Mr.  SINGH", None],
        [1970, 25, "IND", "India", "Mr. Sen", "Ambassador"],
    ])
    items = list(ungdc.records(root))
    by_name = as_dict(items)
    good = by_name["ARG_25_1970.txt"]
    assert good["speaker"] == "Mr. de Pablo Pardo" and "speaker_role" not in good
    assert good["title"] == ("Statement by Argentina in the General Debate of the 25th "
                             "session of the UN General Assembly")
    assert by_name["IND_25_1970.txt"]["speaker"] == "Mr. Singh; Mr. Sen"
    assert by_name["IND_25_1970.txt"]["speaker_role"] == "Minister; Ambassador"
    problems = {label: str(value) for label, value in items
                if isinstance(value, InvalidSpeechError)}
    assert len(problems) == 5
    messages = {Path(label).name: message for label, message in problems.items()}
    assert "is not ISO3_NN_YYYY.txt" in messages["ARG-25-1970.txt"]
    assert "unknown ISO 3166-1 alpha-3 code 'XYZ'" in messages["XYZ_25_1970.txt"]
    assert "no row for session 25 and ISO code FRA" in messages["FRA_25_1970.txt"]
    assert "not valid UTF-8 at byte 4 (0xDF)" in messages["DEU_25_1970.txt"]
    # An empty name is the table's problem: labelled with its row (header is row 1).
    assert "no Name of Person Speaking" in messages[f"{ungdc.TABLE_NAME}:4"]


def test_bom_is_dropped_and_text_kept_as_is(tmp_path: Path) -> None:
    root = layout(tmp_path, {"GBR_25_1970.txt": b"\xef\xbb\xbfLine one  \r\n\r\n\r\nTwo"},
                  [[1970, 25, "GBR", "UK", "Sir Alec", "Foreign Secretary"]])
    [(_, fields)] = ungdc.records(root)
    assert isinstance(fields, dict)
    assert fields["text"] == "Line one  \r\n\r\n\r\nTwo"
    assert fields["country"] == "GB" and fields["title"].startswith("Statement by United Kingdom")


def test_folder_without_the_layout_raises(tmp_path: Path) -> None:
    with pytest.raises(InvalidSpeechError, match="no UNGDC speech files"):
        list(ungdc.records(tmp_path))
    with pytest.raises(InvalidSpeechError, match="no such folder"):
        list(ungdc.records(tmp_path / "missing"))
    (tmp_path / "ARG_25_1970.txt").write_text("Words.\n", encoding="utf-8")
    with pytest.raises(InvalidSpeechError, match=r"no speaker table Speakers_by_session\.xlsx"):
        list(ungdc.records(tmp_path))
    (tmp_path / "table.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(InvalidSpeechError, match="cannot read the speaker table"):
        list(ungdc.records(tmp_path, speakers=tmp_path / "table.xlsx"))
    book = openpyxl.Workbook()
    book.save(tmp_path / "empty.xlsx")
    with pytest.raises(InvalidSpeechError, match="no 'Session' column"):
        list(ungdc.records(tmp_path, speakers=tmp_path / "empty.xlsx"))
