"""The country codes a record may carry, with their names.

A speech's ``country`` is the state (or body) the speaker spoke for, as a two-letter code:

- every current ISO 3166-1 alpha-2 code (``GB``, ``DE``, ``US``);
- the withdrawn codes of former states, from ISO 3166-3 (pycountry's historic countries):
  ``YU`` Yugoslavia, ``DD`` the German Democratic Republic, ``SU`` the USSR, ``CS`` and
  the rest. Where a withdrawn code has been given to a current country since (``BY``,
  ``GE``, ``SK``...), the code means the current country;
- ``EU``, reserved by ISO 3166 for the European Union, and ``XK``, the user-assigned code
  that the EU, the UN and most data sets use for Kosovo.

``CS`` was used twice: for Czechoslovakia until 1993, and for Serbia and Montenegro from
2003 to 2006. A record's date tells which one it is (:func:`country_name`).

Examples
--------
>>> country_name("DD")
'German Democratic Republic'
>>> country_name("CS", datetime.date(1946, 1, 1)), country_name("CS", datetime.date(2005, 1, 1))
('Czechoslovakia', 'Serbia and Montenegro')
>>> check_country("YU")
'YU'
>>> check_country("UK")
Traceback (most recent call last):
...
policyspeech.errors.InvalidSpeechError: country 'UK' is not a country code; use 'GB' (United Kingdom)
"""

from __future__ import annotations

import datetime
import difflib
import functools
from dataclasses import dataclass
from functools import cache

from policyspeech.errors import CorpusError, InvalidSpeechError

HINTS = {"UK": "GB", "EN": "GB", "EL": "GR"}
"""Codes that people write for a country whose ISO code is another."""
CS_SPLIT = datetime.date(2003, 7, 23)
"""``CS`` before this day (when ISO gave it to Serbia and Montenegro) is Czechoslovakia."""
_SHORT_NAMES = {"CS": "Czechoslovakia or Serbia and Montenegro", "DD": "German Democratic "
                "Republic", "SU": "USSR", "YU": "Yugoslavia", "YD": "South Yemen",
                "VD": "North Vietnam", "BU": "Burma", "ZR": "Zaire", "HV": "Upper Volta",
                "DY": "Dahomey", "RH": "Southern Rhodesia", "TP": "East Timor",
                "FX": "Metropolitan France"}
"""Names of former states as the field writes them (pycountry's carry their full style)."""


STATUSES = ("current", "former", "reserved", "user-assigned")
"""The kinds of code (:attr:`Country.status`)."""


@dataclass(frozen=True)
class Country:
    """A code a record may carry: its name, what kind of code it is, and its alpha-3."""

    code: str
    name: str
    status: str
    """``current``, ``former`` (withdrawn, ISO 3166-3), ``reserved`` (EU) or
    ``user-assigned`` (XK)."""
    alpha_3: str
    withdrawn: str = ""
    """For a former state: when ISO withdrew the code."""


def listed(status: str | None = None) -> list[Country]:
    """The codes of ``status`` (every code when None), in the order of :func:`countries`.

    >>> [c.code for c in listed("user-assigned")]
    ['XK']
    """
    if status is not None and status not in STATUSES:
        raise CorpusError(f"status '{status}' is not known; use {', '.join(STATUSES)}")
    return [c for c in countries().values() if status in (None, c.status)]


@cache
def countries() -> dict[str, Country]:
    """Every code a record may carry, by code: current first, then former, EU and XK.

    >>> table = countries()
    >>> table["GB"].name, table["YU"].status, table["EU"].status, table["XK"].name
    ('United Kingdom', 'former', 'reserved', 'Kosovo')
    """
    import pycountry

    table = {c.alpha_2: Country(c.alpha_2, getattr(c, "common_name", None) or c.name,
                                "current", c.alpha_3)
             for c in sorted(pycountry.countries, key=lambda c: c.alpha_2)}
    former = sorted(pycountry.historic_countries, key=lambda c: (c.alpha_2, c.withdrawal_date))
    for c in former:
        if c.alpha_2 in table and table[c.alpha_2].status == "current":
            continue  # the code belongs to a current country now
        name = _SHORT_NAMES.get(c.alpha_2) or c.name.split(",")[0]
        earlier = table.get(c.alpha_2)
        alpha_3 = f"{earlier.alpha_3}, {c.alpha_3}" if earlier else c.alpha_3  # CS: CSK, SCG
        table[c.alpha_2] = Country(c.alpha_2, name, "former", alpha_3, c.withdrawal_date)
    table["EU"] = Country("EU", "European Union", "reserved", "EUR")
    table["XK"] = Country("XK", "Kosovo", "user-assigned", "XKX")
    return table


@cache
def _by_alpha_3() -> dict[str, str]:
    import pycountry

    codes = {c.alpha_3: c.alpha_2 for c in pycountry.historic_countries
             if c.alpha_2 not in countries() or countries()[c.alpha_2].status == "former"}
    codes.update({c.alpha_3: c.alpha_2 for c in pycountry.countries})
    codes.update({"EUR": "EU", "EU": "EU", "XKX": "XK", "RKS": "XK", "KSV": "XK"})
    return codes


def from_alpha_3(code: str) -> str | None:
    """The two-letter code of an ISO 3166 alpha-3 code, former states included.

    >>> from_alpha_3("CSK"), from_alpha_3("DDR"), from_alpha_3("GBR"), from_alpha_3("XXX")
    ('CS', 'DD', 'GB', None)
    """
    return _by_alpha_3().get(code.upper())


def country_name(code: str, date: datetime.date | None = None) -> str:
    """The name of ``code``; for ``CS``, the state it meant on ``date``.

    >>> country_name("GB")
    'United Kingdom'
    """
    if code == "CS" and date is not None:
        return "Czechoslovakia" if date < CS_SPLIT else "Serbia and Montenegro"
    found = countries().get(code)
    return found.name if found is not None else code


@functools.lru_cache(maxsize=1024)
def check_country(text: str) -> str:
    """Return ``text`` if it is a code a record may carry; else raise naming the nearest.

    >>> check_country("de")
    Traceback (most recent call last):
    ...
    policyspeech.errors.InvalidSpeechError: country 'de' must be upper case; use 'DE'
    >>> check_country("Yugoslavia")
    Traceback (most recent call last):
    ...
    policyspeech.errors.InvalidSpeechError: country 'Yugoslavia' is not a country code; use 'YU' (Yugoslavia)
    """
    table = countries()
    if text in table:
        return text
    if text.upper() in table and text.upper() not in HINTS:
        raise InvalidSpeechError(f"country '{text}' must be upper case; use '{text.upper()}'")
    raise InvalidSpeechError(f"country '{text}' is not a country code; {_suggest(text)}")


def _suggest(text: str) -> str:
    table = countries()
    upper = text.upper()
    code = HINTS.get(upper) or from_alpha_3(upper) if len(text) <= 3 else _by_name(text)
    if code is not None:
        return f"use '{code}' ({table[code].name})"
    near = [c for c in table if len(upper) == 2 and (c[0] == upper[0]) != (c[1] == upper[1])]
    near = sorted(near, key=lambda c: (c[0] != upper[0], c))[:4]
    choices = ", ".join(f"{c} ({table[c].name})" for c in near)
    listing = "see `policyspeech countries` for every code"
    return f"did you mean {choices}? {listing}" if choices else f"give a two-letter code; {listing}"


ALIASES = {"soviet union": "SU", "east germany": "DD", "west germany": "DE",
           "burma": "MM", "czechia": "CZ", "england": "GB", "great britain": "GB",
           "britain": "GB", "america": "US", "united states of america": "US",
           "european union": "EU"}


@cache
def _names() -> dict[str, str]:
    """Every name of every code (short, full and official), case-folded, to the code."""
    import pycountry

    names = {c.name.casefold(): c.code for c in countries().values()}
    for c in [*pycountry.historic_countries, *pycountry.countries]:
        code = from_alpha_3(c.alpha_3)
        for name in (c.name, getattr(c, "official_name", None)):
            if name and code:
                names.setdefault(name.casefold(), code)
    return {**names, **ALIASES}


def _by_name(text: str) -> str | None:
    """The code whose name is nearest to ``text``, if any is near."""
    names = _names()
    close = difflib.get_close_matches(" ".join(text.casefold().split()), list(names), n=1,
                                      cutoff=0.75)
    return names[close[0]] if close else None
