"""Groups of speeches that ``compare`` sets against each other.

A group is the same selection as everywhere else (``speaker``, ``country``, ``language``,
``theme``, ``since``, ``until``: see :mod:`policyspeech.loaders`), plus the fields
``party``, ``organisation``, ``year`` and ``id``. It is written
``FIELD=VALUE[,VALUE][;FIELD=VALUE...]`` (``"country=US;until=1900"``; a value holding
``,`` or ``;`` in double quotes: ``speaker="Brown, Gordon"``) or given as a mapping
(``{"country": "US", "year": "1990-1999"}``). Several values of one field are
alternatives; several fields must all hold. ``year`` takes years and ranges of years
(``year=1990-1999,2005``); ``since`` and ``until`` take one date each (``YYYY``,
``YYYY-MM`` or ``YYYY-MM-DD``) and mean what they mean in the loaders: the whole of a
speech's date period lies on or after ``since`` and on or before the end of ``until``.

:func:`parse_group` reads and checks a group, :func:`group_condition` makes it a polars
expression over the columns that :func:`group_columns` names.

>>> parse_group("country=GB,DE;year=2019")
{'country': ['GB', 'DE'], 'year': ['2019']}
>>> parse_group('speaker="Brown, Gordon",Blair;country=GB')
{'speaker': ['Brown, Gordon', 'Blair'], 'country': ['GB']}
>>> group_text({"speaker": ["Brown, Gordon", "Blair"]})
'speaker="Brown, Gordon",Blair'
>>> parse_group({"country": "US", "until": 1900, "year": range(1890, 1893)})
{'country': ['US'], 'until': ['1900'], 'year': ['1890', '1891', '1892']}
>>> sorted(group_columns(parse_group("theme=law_and_crime;year=2019")))
['date', 'themes']
>>> parse_group("year=1999-1990")
Traceback (most recent call last):
...
policyspeech.errors.CorpusError: year range '1999-1990' runs backwards; write 1990-1999
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from policyspeech.errors import CorpusError
from policyspeech.filters import ROW_FILTERS

if TYPE_CHECKING:
    import polars as pl

GROUP_FIELDS = (*ROW_FILTERS, "party", "organisation", "year", "id")
"""The fields a group may name: the loaders' row filters, then the fields of groups only."""
ONE_VALUE = ("since", "until")
"""Fields that take a single value."""
COLUMNS = {"theme": ["themes"], "year": ["date"], "since": ["date"],
           "until": ["date", "date_precision"]}
"""The columns a field reads, where they differ from its name."""
_YEARS = re.compile(r"([0-9]{1,4})(?:\s*-\s*([0-9]{1,4}))?")

MIN_TOKENS = 1_000
MIN_SPEECHES = 5
"""A group with fewer tokens or fewer speeches than these gets a :class:`SmallGroupWarning`:
its distinctive words may be those of a few texts, and chance moves them a lot."""

Conditions = dict[str, list[str]]
"""A checked group: each field with its values as text."""


class SmallGroupWarning(UserWarning):
    """A group has fewer than :data:`MIN_TOKENS` tokens or :data:`MIN_SPEECHES` speeches."""


def warn_if_small(name: str, spec: str | Mapping[str, Any], speeches: int, tokens: int) -> None:
    """Warn (:class:`SmallGroupWarning`) when group ``name`` is small, in one line.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_if_small("a", "speaker=Grace Hopper", 1, 12)
    >>> print(caught[0].message)
    group a (speaker=Grace Hopper) has 12 tokens in 1 speech, fewer than 1,000 tokens and 5 speeches: its distinctive words rest on little text
    """
    limits = ((tokens, f"{MIN_TOKENS:,} tokens", MIN_TOKENS),
              (speeches, f"{MIN_SPEECHES} speeches", MIN_SPEECHES))
    short = [limit for size, limit, least in limits if size < least]
    if short:
        warnings.warn(f"group {name} ({group_text(spec)}) has {tokens:,} token"
                      f"{'' if tokens == 1 else 's'} in {speeches:,} speech"
                      f"{'' if speeches == 1 else 'es'}, fewer than {' and '.join(short)}: "
                      "its distinctive words rest on little text",
                      SmallGroupWarning, stacklevel=3)


def parse_group(spec: str | Mapping[str, Any]) -> Conditions:
    """``"speaker=Brandon Lewis"``, ``"country=US;until=1900"`` or a mapping, as checked
    conditions; a bad field or value raises :class:`CorpusError` naming it and the fix."""
    if isinstance(spec, Mapping):
        conditions = {str(key): _texts(key, value) for key, value in spec.items()}
        for key in conditions:
            _check_field(key, spec)
    else:
        conditions = _parse_text(spec)
    for key, values in conditions.items():
        if not values:
            raise CorpusError(f"group '{group_text(spec)}' gives no value for {key}; write "
                              f"{key}=VALUE")
        if key in ONE_VALUE and len(values) > 1:
            raise CorpusError(f"{key} takes one date, not {', '.join(values)}; write e.g. "
                              f"{key}={values[0]}")
        if key == "year":
            for value in values:
                _year_range(value)
    group_condition(conditions)  # checks the values as the loaders check them
    return conditions


def _parse_text(spec: str) -> Conditions:
    conditions: Conditions = {}
    for part in _split(spec, ";", spec):
        key, sep, values = part.partition("=")
        key = key.strip()
        if not sep:
            raise CorpusError(f"group '{spec}' is not FIELD=VALUE; use a field among "
                              f"{', '.join(GROUP_FIELDS)}, e.g. \"speaker=Brandon Lewis\"")
        _check_field(key, spec)
        if key in conditions:
            raise CorpusError(f"group '{spec}' names {key} twice; give its values once, "
                              f"separated by commas ({key}=A,B)")
        conditions[key] = [_unquoted(v.strip()) for v in _split(values, ",", spec)
                           if v.strip()]
    return conditions


def _split(text: str, separator: str, spec: str) -> list[str]:
    """``text`` cut at each ``separator`` outside double quotes (a value in quotes may
    hold ``,`` and ``;``; ``""`` in quotes is one ``"``)."""
    parts, start, quoted = [], 0, False
    for at, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append(text[start:at])
            start = at + 1
    if quoted:
        raise CorpusError(f"group '{spec}' opens a quote it does not close; write a value "
                          'with , or ; in double quotes: speaker="Brown, Gordon"')
    return [*parts, text[start:]]


def _unquoted(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('""', '"').strip()
    return value


def _quoted(value: str) -> str:
    """``value`` as :func:`parse_group` reads it back (in quotes if it needs them)."""
    if any(char in value for char in ',;"'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _check_field(key: str, spec: str | Mapping[str, Any]) -> None:
    if key not in GROUP_FIELDS:
        raise CorpusError(f"group '{group_text(spec)}' names '{key}', which is not a group field; "
                          f"use one of {', '.join(GROUP_FIELDS)}")


def _texts(key: str, value: Any) -> list[str]:
    """A mapping's value as a list of texts: one value (text, number, date) or several."""
    if isinstance(value, str) or not isinstance(value, Iterable):
        value = [value]
    texts = []
    for item in value:
        if item is None or isinstance(item, bool):
            raise CorpusError(f"{key} {item!r} is not a value a group can hold; give text, "
                              "a number or a date")
        texts.append(str(item).strip())
    return [text for text in texts if text]


def group_text(spec: str | Mapping[str, Any]) -> str:
    """A group as it would be written in the CLI."""
    if isinstance(spec, str):
        return spec
    return ";".join(f"{k}={','.join(map(_quoted, _texts(k, v))) if v is not None else v}"
                    for k, v in spec.items())


def _year_range(value: str) -> tuple[int, int]:
    """``"2019"`` as (2019, 2019), ``"1990-1999"`` as (1990, 1999)."""
    match = _YEARS.fullmatch(value)
    if match is None:
        raise CorpusError(f"year '{value}' is not a year or a range of years; write 2019 or "
                          "1990-1999")
    first = int(match.group(1))
    last = int(match.group(2) or first)
    if first > last:
        raise CorpusError(f"year range '{value}' runs backwards; write {last}-{first}")
    return first, last


def group_columns(conditions: Mapping[str, list[str]]) -> set[str]:
    """The columns that :func:`group_condition` reads."""
    return {column for key in conditions for column in COLUMNS.get(key, [key])}


def group_condition(conditions: Mapping[str, list[str]]) -> pl.Expr:
    """A boolean polars expression: whether a speech is in the group.

    The loaders' filters become the loaders' own expression
    (:func:`policyspeech.loaders.selection_condition`), so they select exactly what
    ``ps.read`` selects; ``party``, ``organisation`` and ``id`` match any of their values
    (normalised as stored values are), ``year`` any of its years or ranges.
    """
    import polars as pl

    from policyspeech.loaders import selection_condition
    from policyspeech.validate import normalise_value

    selection: dict[str, Any] = {k: v for k, v in conditions.items() if k in ROW_FILTERS}
    for key in ONE_VALUE:
        if key in selection:
            selection[key] = selection[key][0]
    parts = [selection_condition(**selection)]
    for key, values in conditions.items():
        if key == "year":
            years = pl.col("date").dt.year()
            parts.append(pl.any_horizontal(years.is_between(*_year_range(v)) for v in values))
        elif key not in ROW_FILTERS:
            parts.append(pl.col(key).is_in([normalise_value(v, key) for v in values]))
    return pl.all_horizontal(parts)
