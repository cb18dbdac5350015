"""Metadata validation: each rule of the record schema, with its message."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from policyspeech.errors import InvalidSpeechError
from policyspeech.schema import FIELD_NAMES
from policyspeech.validate import validate_speech
from tests.helpers import make_speech

TODAY = datetime.date(2026, 11, 28)


def check(**fields: Any) -> dict[str, Any]:
    return validate_speech(make_speech(**fields), today=TODAY)


def test_valid_speech_gets_every_field_and_derived_values() -> None:
    record = check(keywords=[" Brexit ", "brexit", "", "crime"], delivery="as_delivered")
    assert list(record) == list(FIELD_NAMES)
    assert record["date"] == datetime.date(2019, 10, 30)
    assert record["date_precision"] == "day"
    assert record["keywords"] == ["Brexit", "crime"]
    assert record["word_count"] == 9
    assert len(record["text_sha256"]) == 64
    assert record["id"] is None and record["speaker_id"] is None


@pytest.mark.parametrize(("date", "stored", "precision"), [
    ("2019", datetime.date(2019, 1, 1), "year"),
    ("2019-10", datetime.date(2019, 10, 1), "month"),
    ("2019-10-30", datetime.date(2019, 10, 30), "day"),
    (datetime.date(2020, 2, 29), datetime.date(2020, 2, 29), "day"),
])
def test_date_precisions(date: Any, stored: datetime.date, precision: str) -> None:
    record = check(date=date)
    assert (record["date"], record["date_precision"]) == (stored, precision)


@pytest.mark.parametrize(("fields", "message"), [
    ({"title": None}, "missing required field 'title'; give --title"),
    ({"speaker": "  "}, "missing required field 'speaker'"),
    ({"country": None}, "missing required field 'country'"),
    ({"date": None}, "missing required field 'date'"),
    ({"language": None}, "missing required field 'language'"),
    ({"text": None}, "missing required field 'text'"),
    ({"country": "UK"}, "country 'UK' is not a country code; use 'GB' (United Kingdom)"),
    ({"country": "XQ"}, "country 'XQ' is not a country code; did you mean XK (Kosovo)"),
    ({"country": "gb"}, "country 'gb' must be upper case; use 'GB'"),
    ({"country": "GBR"}, "country 'GBR' is not a country code; use 'GB' (United Kingdom)"),
    ({"language": "english"}, "language 'english' is not an ISO 639-1 code; use 'en'"),
    ({"language": "xx"}, "language 'xx' is not an ISO 639-1 code"),
    ({"language": "EN"}, "language 'EN' must be lower case; use 'en'"),
    ({"date": "2019-02-30"}, "date '2019-02-30' is not a real date"),
    ({"date": "2019-13"}, "date '2019-13' is not a real date"),
    ({"date": "10/05/2019"}, "date '10/05/2019' is not an ISO 8601 date; write YYYY-MM-DD"),
    ({"date": "2027-01-01"}, "date '2027-01-01' is in the future"),
    ({"date": "2019-10", "date_precision": "day"}, "date_precision 'day' contradicts"),
    ({"date_precision": "week"}, "date_precision 'week' is not allowed"),
    ({"themes": ["crime"]}, "theme 'crime' is not in the codebook"),
    ({"themes": ["Law_and_Crime"]}, "use 'law_and_crime'"),
    ({"themes": ["helth"]}, "did you mean 'health'?"),
    ({"source_url": "javascript:alert(1)"}, "source_url 'javascript:alert(1)' is not an http(s)"),
    ({"source_url": "ftp://example.org/x"}, "is not an http(s) URL"),
    ({"id": "../x"}, "id '../x' is not valid"),
    ({"id": "a/b"}, "id 'a/b' is not valid"),
    ({"id": "Upper-Case"}, "id 'Upper-Case' is not valid"),
    ({"id": "x" * 300}, "is not valid; use 3 to 128 characters"),
    ({"id": "ab"}, "id 'ab' is not valid"),
    ({"speaker_id": "123"}, "speaker_id '123' is not a Wikidata QID"),
    ({"delivery": "live"}, "delivery 'live' is not allowed"),
    ({"license": "CC BY 4.0"}, "license 'CC BY 4.0' is not an SPDX identifier"),
    ({"retrieved": "2020"}, "retrieved '2020' must be a full date"),
    ({"speaker": ["a", "b"]}, "speaker must be text, got list"),
    ({"date": 2019}, "date must be text, got int"),
    ({"speker": "x"}, "unknown field 'speker'; did you mean 'speaker'?"),
    ({"word_count": 3}, "word_count 3 does not match the text"),
    ({"title": "Bad\x00title"}, "title has the control character U+0000"),
])
def test_rules(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidSpeechError) as raised:
        check(**fields)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_text_fields_are_cleaned() -> None:
    record = check(title="  A   title\nover lines ", speaker="Zo\u0308e", notes="one\r\ntwo  ")
    assert record["title"] == "A title over lines"
    assert record["speaker"] == "Zöe"
    assert record["notes"] == "one\ntwo"


def test_derived_values_that_match_are_accepted() -> None:
    record = check()
    assert validate_speech(record, today=TODAY) == record
