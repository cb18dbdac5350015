"""What makes a speech itself: its identity key, its derived id, and ASCII slugs.

**Duplicates.** Two records are the same speech when they have the same text, the same
speaker, the same date and the same source: the same words said by another person, on
another day, or under another ``source_id`` are another speech (an oath sworn by every
member, a chair's "Bitte um den Schlußsatz!" in one sitting after another).
:func:`speech_key` condenses those four into one hash; the corpus refuses a second record
with the key of a record it holds, and names the one it holds.

**Derived ids** (when no id is given) depend on the record alone, never on the rest of
the corpus or on the import order: country, date at its precision, the speaker, the first
words of the title, and the first 8 hex digits of the speech's key, every script
transliterated to ASCII by ``anyascii`` (Chinese and Japanese characters as separate
syllables). Two speeches that share country, date, speaker and title differ in their key;
the same speech always gets the same id. Ids already in a corpus never change.

Examples
--------
>>> record = {"country": "DE", "date": datetime.date(2020, 1, 1), "date_precision": "year",
...           "speaker": "Olaf Schölz", "title": "Zur Lage der Nation", "text_sha256": "ab" * 32,
...           "source_id": None}
>>> derive_id(record)
'de-2020-olaf-scholz-zur-lage-der-nation-731da9e5'
>>> slugify("Gaßner"), slugify("Wałęsa"), slugify("Løkke"), slugify("习近平")
('gassner', 'walesa', 'lokke', 'xi-jin-ping')
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from policyspeech.dates import date_text
from policyspeech.errors import InvalidSpeechError
from policyspeech.schema import ID_PATTERN

KEY_HEX = 32
"""Hex digits of a speech key kept in the log (128 bits)."""
ID_HASH_HEX = 8
"""Hex digits of the key at the end of a derived id."""
SPEAKER_CHARS = 32
TITLE_CHARS = 32
"""Longest slug of the speaker and of the title in a derived id (cut between words)."""
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_ID = re.compile(ID_PATTERN)


def speech_key(record: Mapping[str, Any]) -> str:
    """The identity of a speech: a hash of its text, speaker, date and source.

    The speaker is compared case-folded (and, like every stored value, NFC with single
    spaces); the date at its precision; a missing ``source_id`` is the empty string.

    >>> a = {"text_sha256": "0" * 64, "speaker": "Ada", "date": datetime.date(2019, 1, 1),
    ...      "date_precision": "day", "source_id": None}
    >>> speech_key(a) == speech_key({**a, "speaker": "ADA"}), speech_key(a) == speech_key(
    ...     {**a, "source_id": "u2"})
    (True, False)
    """
    date = record["date"]
    when = date_text(date, record.get("date_precision")) if isinstance(date, datetime.date) \
        else str(date)
    parts = (record["text_sha256"], str(record["speaker"]).casefold(), when,
             record.get("source_id") or "")
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:KEY_HEX]


def derive_id(record: Mapping[str, Any], key: str | None = None) -> str:
    """The id of a record that has none: see the module text. ``key`` is its
    :func:`speech_key`, when already computed."""
    key = key or speech_key(record)
    when = date_text(record["date"], record.get("date_precision"))
    parts = [record["country"].lower(), when, _cut(slugify(record["speaker"]), SPEAKER_CHARS),
             _cut(slugify(record["title"]), TITLE_CHARS), key[:ID_HASH_HEX]]
    return "-".join(part for part in parts if part)


_WIDE = re.compile("[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f"
                   "\U00020000-\U0003fffd]")
"""Wide (East Asian) characters: each is a syllable of its own."""


def transliterate(text: str) -> str:
    """``text`` in ASCII (anyascii, after NFKC), with a space around each Chinese, Japanese
    or Korean syllable.

    >>> transliterate("Κυριάκος Μητσοτάκης"), transliterate("Владимир")
    ('Kyriakos Mitsotakis', 'Vladimir')
    >>> transliterate("\uff26\uff55\uff4c\uff4c")  # fullwidth Latin
    'Full'
    """
    if text.isascii():
        return text
    from anyascii import anyascii

    text = unicodedata.normalize("NFKC", text)  # fullwidth Latin, ligatures: plain letters
    if _WIDE.search(text) is None:
        return str(anyascii(text))
    return "".join(f" {anyascii(c)} " if _WIDE.match(c) else anyascii(c) for c in text)


@functools.lru_cache(maxsize=1 << 16)
def slugify(text: str) -> str:
    """Lower-case ASCII slug of ``text``: every script transliterated, other characters
    become hyphens.

    >>> slugify("Security Minister's speech: after Brexit!")
    'security-minister-s-speech-after-brexit'
    """
    return _NOT_SLUG.sub("-", transliterate(text).lower()).strip("-")


def _cut(slug: str, limit: int) -> str:
    """``slug`` cut to at most ``limit`` characters between words (a first word longer than
    the limit is cut inside).

    >>> _cut("stenographisches-protokoll-1-sitzung", 24)
    'stenographisches'
    """
    if len(slug) <= limit:
        return slug
    cut = slug[: limit + 1]
    return cut[: cut.rfind("-")] if "-" in cut else slug[:limit]


def check_id(value: str) -> str:
    """Return ``value`` if it is a valid id, else raise with the rule and a fix."""
    if not _ID.fullmatch(value):
        shown = value if len(value) <= 40 else value[:37] + "..."
        raise InvalidSpeechError(
            f"id '{shown}' is not valid; use 3 to 128 characters: lower-case letters, digits "
            f"and hyphens, starting with a letter or digit (or leave the id out to derive it)"
        )
    return value
