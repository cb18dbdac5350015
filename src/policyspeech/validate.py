"""Validation of a speech's metadata and text against the rules of :mod:`policyspeech.schema`.

:func:`validate_speech` turns a mapping of fields (strings, dates, lists) into a
canonical record: every field present, text normalised, ``word_count`` and
``text_sha256`` derived. Any broken rule raises :class:`InvalidSpeechError` with one
line that names the field, the bad value and the fix.

Beyond each field's own rule, every metadata field (every field but ``text``):

- has the type its field needs: text for text fields (a number or ``true`` is refused),
  a list of text for ``themes`` and ``keywords`` (a bare text is refused: write a list),
  a whole number or digits for ``word_count`` (``true`` is refused, although Python
  counts it as 1);
- is at most :data:`FIELD_LIMITS` characters long (1,000 for most fields; 2,000 for
  ``source_url``; 10,000 for ``notes``), with at most :data:`MAX_LIST_ITEMS` items in a
  list;
- has no bidirectional control or zero-width character (see
  :func:`policyspeech.text.check_invisible`); Unicode's line and paragraph separators
  become a space.

Examples
--------
>>> record = validate_speech({"title": "On crime", "speaker": "Brandon Lewis",
...     "country": "GB", "date": "2019-10", "language": "en", "text": "We act."},
...     today=datetime.date(2026, 1, 1))
>>> record["date"], record["date_precision"], record["word_count"]
(datetime.date(2019, 10, 1), 'month', 2)
>>> validate_speech({**record, "country": "UK"})
Traceback (most recent call last):
...
policyspeech.errors.InvalidSpeechError: country 'UK' is not a country code; use 'GB' (United Kingdom)
"""

from __future__ import annotations

import datetime
import difflib
import functools
import numbers
import re
import unicodedata
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from policyspeech.countries import check_country
from policyspeech.dates import date_text, parse_date
from policyspeech.errors import InvalidSpeechError
from policyspeech.identity import check_id
from policyspeech.schema import (
    DERIVED_FIELDS,
    FIELD_NAMES,
    FIELDS,
    FIELDS_BY_NAME,
    Field,
)
from policyspeech.text import check_characters, check_invisible, normalise_and_count, text_sha256

Record = dict[str, Any]
"""A canonical record: every field of the schema, in schema order."""

_MULTILINE_FIELDS = frozenset({"notes"})
MAX_FIELD_CHARS = 1_000
"""Longest value of a metadata field (title, speaker, party...), in characters."""
FIELD_LIMITS = {"source_url": 2_000, "notes": 10_000}
"""Fields that may be longer than :data:`MAX_FIELD_CHARS`, with their limits."""
MAX_LIST_ITEMS = 1_000
"""Most items in a list field (``keywords``; ``themes`` has 21 slugs at most)."""
_NO_DAY = datetime.date.min
"""Stands for today in the checks of text fields, which never use it."""
_GIVEN = tuple((f.name, f, f.required and f.name != "id", f.kind) for f in FIELDS
               if not f.derived)
"""The fields a record gives (not derived): name, spec, required, kind."""


def validate_speech(fields: Mapping[str, Any], *, today: datetime.date | None = None,
                    join_lines: bool = False) -> Record:
    """Return the canonical record of ``fields``, or raise :class:`InvalidSpeechError`.

    ``id`` may be missing (``None`` in the result): the corpus derives it when the speech
    is added. Derived fields (``word_count``, ``text_sha256``) are recomputed; a given
    value that disagrees is an error. The text keeps its paragraphs as given;
    ``join_lines`` also joins sentences broken across paragraphs (what text and
    Markdown files need: see :func:`policyspeech.text.normalise_and_count`).
    """
    if not isinstance(fields, Mapping):
        raise InvalidSpeechError(
            f"a speech must be a mapping of field: value, got {type(fields).__name__}; give "
            "dicts (rows of a data frame: df.iter_rows(named=True) in polars, "
            "df.to_dict('records') in pandas)")
    unknown = [key for key in fields if key not in FIELDS_BY_NAME]
    if unknown:
        close = difflib.get_close_matches(unknown[0], FIELD_NAMES, n=1)
        hint = f"did you mean '{close[0]}'?" if close else "see `policyspeech schema fields`"
        raise InvalidSpeechError(f"unknown field '{unknown[0]}'; {hint}")
    today = today or datetime.date.today()
    given_id = fields.get("id")
    if isinstance(given_id, str) and not given_id.strip():
        raise InvalidSpeechError("id '' is empty; give an id or leave it out to derive one")
    record: Record = {}
    words = 0
    for name, spec, required, kind in _GIVEN:  # in schema order: the first problem is named
        value = fields.get(name)
        if value is None or _is_missing(value):
            if required:
                raise InvalidSpeechError(_missing_message(name))
            record[name] = [] if kind == "list" else spec.default
        elif name == "text":
            record["text"], words = _check_text(value, join_lines)
        elif kind == "string" and isinstance(value, str):
            record[name] = _checked_string(name, value)
        else:
            record[name] = _CHECKS.get(name, _check_string)(spec, value, today)
    _check_date_precision(fields, record)
    record["word_count"] = words
    record["text_sha256"] = text_sha256(record["text"])
    for name in DERIVED_FIELDS:
        given = fields.get(name)
        _check_derived_type(name, given)
        if isinstance(given, str) and name == "word_count" and given.strip().isdigit():
            given = int(given)  # as a CSV file gives it
        if given not in (None, "") and given != record[name]:
            raise InvalidSpeechError(
                f"{name} {given!r} does not match the text ({record[name]!r}); "
                f"{name} is derived, leave it out"
            )
    return {name: record[name] for name in FIELD_NAMES}


def _check_derived_type(name: str, given: Any) -> None:
    """Refuse a derived field of the wrong type (``"word_count": true`` equals 1)."""
    if given is None or _is_missing(given):
        return
    if name == "word_count":
        ok = (isinstance(given, numbers.Integral) and not isinstance(given, bool)) or (
            isinstance(given, str) and given.strip().isdigit())
        kind = "a whole number"
    else:
        ok, kind = isinstance(given, str), "text"
    if not ok:
        raise InvalidSpeechError(f"{name} must be {kind}, got {type(given).__name__} "
                                 f"{given!r}; {name} is derived, leave it out")


@functools.lru_cache(maxsize=1 << 14)
def _checked_string(name: str, value: str) -> str:
    """A text field checked (its checks depend on the value alone), remembered: a batch
    repeats its speakers, countries, publishers and licences many times."""
    spec = FIELDS_BY_NAME[name]
    return str(_CHECKS.get(name, _check_string)(spec, value, _NO_DAY))


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if (isinstance(value, float) and value != value) or type(value).__name__ == "NaTType":
        return True  # pandas' NaN and NaT for a missing value
    return isinstance(value, list | tuple) and not value


def _missing_message(name: str) -> str:
    option = {"speaker_role": "role"}.get(name, name).replace("_", "-")
    return f"missing required field '{name}'; give --{option} or put '{name}:' in the metadata"


def _as_text(spec: Field, value: Any) -> str:
    if not isinstance(value, str):
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise InvalidSpeechError(
            f"{spec.name} must be text, got {type(value).__name__} {shown}; quote it in YAML"
        )
    limit = FIELD_LIMITS.get(spec.name, MAX_FIELD_CHARS)
    if len(value) > limit:
        raise InvalidSpeechError(
            f"{spec.name} '{value[:40]}...' is {len(value):,} characters long, more than the "
            f"limit of {limit:,}; shorten it (long text belongs in text or notes)")
    if value.isprintable() and spec.name not in _MULTILINE_FIELDS and (
            value.isascii() or unicodedata.is_normalized("NFC", value)):
        return " ".join(value.split())  # nothing to check or compose (the common case)
    check_characters(value, spec.name)
    check_invisible(value, spec.name)
    value = unicodedata.normalize("NFC", value).strip()
    if spec.name in _MULTILINE_FIELDS:
        value = value.replace("\u2028", " ").replace("\u2029", " ")
        return "\n".join(line.rstrip() for line in value.replace("\r\n", "\n").split("\n"))
    return " ".join(value.split())


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _check_string(spec: Field, value: Any, today: datetime.date) -> str:
    text = _as_text(spec, value)
    if spec.enum and text not in spec.enum:
        raise InvalidSpeechError(
            f"{spec.name} '{text}' is not allowed; use one of {', '.join(spec.enum)}"
        )
    if spec.pattern and not _compiled(spec.pattern).match(text):
        raise InvalidSpeechError(f"{spec.name} '{text}' does not match {spec.pattern}")
    return text


def _check_id(spec: Field, value: Any, today: datetime.date) -> str:
    return check_id(_as_text(spec, value))


def _check_text(value: Any, join_lines: bool) -> tuple[str, int]:
    """The normalised text and its word count."""
    if not isinstance(value, str):
        raise InvalidSpeechError(f"text must be a string, got {type(value).__name__}")
    return normalise_and_count(value, join_lines=join_lines)


def _check_speaker_id(spec: Field, value: Any, today: datetime.date) -> str:
    text = _as_text(spec, value)
    if not re.fullmatch(spec.pattern or "", text):
        raise InvalidSpeechError(
            f"speaker_id '{text}' is not a Wikidata QID; use the form Q123456 "
            "(from the speaker's Wikidata page) or leave it out"
        )
    return text


def _check_country(spec: Field, value: Any, today: datetime.date) -> str:
    return check_country(_as_text(spec, value))


def _check_language(spec: Field, value: Any, today: datetime.date) -> str:
    return check_language(_as_text(spec, value))


@functools.lru_cache(maxsize=1024)
def check_language(text: str) -> str:
    """Return ``text`` if it is an ISO 639-1 code, else raise naming the fix.

    >>> check_language("German")
    Traceback (most recent call last):
    ...
    policyspeech.errors.InvalidSpeechError: language 'German' is not an ISO 639-1 code; use 'de'
    """
    import pycountry

    language = pycountry.languages.get(alpha_2=text.lower()) if len(text) == 2 else None
    if language is None:
        by_name = pycountry.languages.get(name=text.capitalize()) if len(text) > 3 else None
        if by_name is None and len(text) == 3:
            by_name = pycountry.languages.get(alpha_3=text.lower())
        code = getattr(by_name, "alpha_2", None)
        hint = f"use '{code}'" if code else "use a two-letter code such as en, de, fr or es"
        raise InvalidSpeechError(f"language '{text}' is not an ISO 639-1 code; {hint}")
    if text != language.alpha_2:
        raise InvalidSpeechError(f"language '{text}' must be lower case; use '{language.alpha_2}'")
    return text


def _check_date(spec: Field, value: Any, today: datetime.date) -> datetime.date:
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        parsed, precision = value, "day"
    else:
        parsed, precision = parse_date(_as_text(spec, value), spec.name)
    if spec.name == "retrieved" and precision != "day":
        raise InvalidSpeechError(f"retrieved '{value}' must be a full date YYYY-MM-DD")
    if parsed > today:
        raise InvalidSpeechError(
            f"{spec.name} '{value}' is in the future (today is {today.isoformat()}); "
            "check the year"
        )
    return parsed


def _check_date_precision(fields: Mapping[str, Any], record: Record) -> None:
    raw = fields.get("date")
    implied = "day"
    if isinstance(raw, str) and not isinstance(raw, datetime.date):
        implied = parse_date(raw.strip())[1]
    given = fields.get("date_precision")
    if _is_missing(given):
        record["date_precision"] = implied
    elif implied != "day" and given != implied:
        raise InvalidSpeechError(
            f"date_precision '{given}' contradicts date '{raw}' (a {implied}); "
            "leave date_precision out"
        )
    elif (given == "month" and record["date"].day != 1) or (
        given == "year" and (record["date"].month, record["date"].day) != (1, 1)
    ):
        raise InvalidSpeechError(
            f"date_precision '{given}' needs a date on the first day of its period; "
            f"write the date as {date_text(record['date'], str(given))}"
        )


def normalise_value(value: str, name: str) -> str:
    """A filter value normalised as stored values are: NFC, single spaces, no control
    characters.

    >>> normalise_value("Gu\u0308nter  Kößl ", "speaker")
    'Günter Kößl'
    """
    check_characters(value, name)
    return " ".join(unicodedata.normalize("NFC", value).split())


def check_theme(text: str) -> str:
    """Return ``text`` if it is a theme slug of the codebook, else raise naming the nearest.

    >>> check_theme("Health")
    Traceback (most recent call last):
    ...
    policyspeech.errors.InvalidSpeechError: theme 'Health' is not in the codebook; use 'health' (theme slugs are lower case with underscores)
    """
    slugs = FIELDS_BY_NAME["themes"].enum or ()
    if text not in slugs:
        raise InvalidSpeechError(_unknown_theme_message(text, slugs))
    return text


def _check_list(spec: Field, value: Any, today: datetime.date) -> list[str]:
    if hasattr(value, "tolist"):  # a numpy array (a pandas list column)
        value = value.tolist()
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        raise InvalidSpeechError(
            f"{spec.name} must be a list of text, got the text '{shown}'; write it as a "
            f"list ([{shown}] in YAML, [\"{shown}\"] in JSON, a; b in a CSV cell)")
    items = value
    if not isinstance(items, list | tuple):
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise InvalidSpeechError(
            f"{spec.name} must be a list of text, got {type(value).__name__} {shown}"
        )
    if len(items) > MAX_LIST_ITEMS:
        raise InvalidSpeechError(f"{spec.name} has {len(items):,} items, more than the limit "
                                 f"of {MAX_LIST_ITEMS:,}; keep the ones that matter")
    result: list[str] = []
    seen: set[str] = set()
    for item in items:
        text = _as_text(spec, item)
        if not text:
            continue
        if spec.enum is not None and text not in spec.enum:
            raise InvalidSpeechError(_unknown_theme_message(text, spec.enum))
        key = text.casefold()
        if key not in seen:
            seen.add(key)
            result.append(text)
    return result


def _unknown_theme_message(text: str, slugs: tuple[str, ...]) -> str:
    lowered = text.lower().replace(" ", "_").replace("-", "_")
    if lowered in slugs:
        hint = f"use '{lowered}' (theme slugs are lower case with underscores)"
    else:
        close = difflib.get_close_matches(lowered, slugs, n=1) or [
            slug for slug in slugs if lowered and lowered in slug][:1]
        hint = f"did you mean '{close[0]}'?" if close else "see `policyspeech themes`"
    return f"theme '{text}' is not in the codebook; {hint}"


def _check_url(spec: Field, value: Any, today: datetime.date) -> str:
    text = _as_text(spec, value)
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or " " in text:
        raise InvalidSpeechError(
            f"source_url '{text}' is not an http(s) URL; give an address starting with "
            "https:// or http://, or leave it out"
        )
    return text


def _check_license(spec: Field, value: Any, today: datetime.date) -> str:
    text = _as_text(spec, value)
    if not re.fullmatch(spec.pattern or "", text):
        raise InvalidSpeechError(
            f"license '{text}' is not an SPDX identifier; use one such as OGL-UK-3.0, "
            "CC-BY-4.0 or CC0-1.0 (or LicenseRef-... for another licence)"
        )
    return text


_CHECKS = {
    "id": _check_id,
    "speaker_id": _check_speaker_id,
    "country": _check_country,
    "language": _check_language,
    "date": _check_date,
    "retrieved": _check_date,
    "themes": _check_list,
    "keywords": _check_list,
    "source_url": _check_url,
    "license": _check_license,
}
