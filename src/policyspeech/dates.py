"""Dates at their precision: parsing, showing, and the one rule for date ranges.

A speech's date may be known to the day, the month or the year. It is stored as the first
day of its period (``date``) with ``date_precision``, and it is always shown at its
precision: ``2023``, ``2019-10`` or ``2019-10-30``, never an invented day.

**Ranges** (``since``/``until`` in every loader, the CLI and the analysis commands): a
speech is selected when the whole of its period lies in the range. ``since`` is the first
day of its own period and ``until`` the last day of its own, so ``since="2023"`` and
``until="2023"`` select every speech of 2023, whatever its precision, while a speech
dated only "2023" is *not* selected by ``until="2023-03"`` or ``since="2023-06"``: it
might lie outside those months. A speech is never counted in a period narrower than
its date (grouping by month leaves out speeches dated only to the year).

Examples
--------
>>> parse_date("2019-10")
(datetime.date(2019, 10, 1), 'month')
>>> date_text(datetime.date(2023, 1, 1), "year"), period_end(datetime.date(2019, 10, 1), "month")
('2023', datetime.date(2019, 10, 31))
"""

from __future__ import annotations

import datetime
import re

from policyspeech.errors import InvalidSpeechError

PRECISIONS = ("day", "month", "year")
"""From the finest to the coarsest."""
_ISO_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")


def parse_date(text: str, name: str = "date") -> tuple[datetime.date, str]:
    """Parse an ISO 8601 date of precision ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``.

    Returns the first day of the period and its precision.

    >>> parse_date("2019-02-30")
    Traceback (most recent call last):
    ...
    policyspeech.errors.InvalidSpeechError: date '2019-02-30' is not a real date (day is out of range for month); check the day and month
    """
    match = _ISO_DATE.fullmatch(text)
    if match is None:
        raise InvalidSpeechError(
            f"{name} '{text}' is not an ISO 8601 date; write YYYY-MM-DD, YYYY-MM or YYYY "
            "(for example 2019-10-30)"
        )
    year, month, day = match.groups()
    precision = "day" if day else "month" if month else "year"
    try:
        parsed = datetime.date(int(year), int(month or 1), int(day or 1))
    except ValueError as exc:
        raise InvalidSpeechError(
            f"{name} '{text}' is not a real date ({exc}); check the day and month"
        ) from None
    return parsed, precision


def date_text(date: datetime.date, precision: str | None) -> str:
    """``date`` written at its precision.

    >>> date_text(datetime.date(2019, 10, 1), "month")
    '2019-10'
    """
    iso = date.isoformat()
    return {"year": iso[:4], "month": iso[:7]}.get(precision or "day", iso)


def period_end(start: datetime.date, precision: str) -> datetime.date:
    """The last day of the period that starts on ``start``.

    >>> period_end(datetime.date(2020, 2, 1), "month"), period_end(datetime.date(2023, 1, 1), "year")
    (datetime.date(2020, 2, 29), datetime.date(2023, 12, 31))
    """
    if precision == "year":
        return datetime.date(start.year, 12, 31)
    if precision == "month":
        if start.month == 12:
            return datetime.date(start.year, 12, 31)
        return datetime.date(start.year, start.month + 1, 1) - datetime.timedelta(days=1)
    return start


def range_bound(value: str | datetime.date | None, name: str, *, end: bool
                ) -> datetime.date | None:
    """The first day of ``since``'s period, or the last day of ``until``'s."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if value is None or isinstance(value, datetime.date):
        return value
    if not isinstance(value, str):
        raise InvalidSpeechError(f"{name} {value!r} is not a date; write YYYY, YYYY-MM or "
                                 "YYYY-MM-DD")
    start, precision = parse_date(value.strip(), name)
    return period_end(start, precision) if end else start


def latest_starts(until: datetime.date) -> dict[str, datetime.date]:
    """For each precision, the latest first day of a period that ends on or before ``until``.

    A speech lies wholly before ``until`` when its (first-day) ``date`` is on or before the
    bound of its precision; this is how ``until`` is pushed into Parquet scans.

    >>> latest_starts(datetime.date(2023, 3, 31))["year"], latest_starts(datetime.date(2023, 3, 31))["month"]
    (datetime.date(2022, 1, 1), datetime.date(2023, 3, 1))
    """
    if until == datetime.date.max:  # the last day there is: no day follows it
        return {"day": until, "month": until.replace(day=1), "year": until.replace(month=1, day=1)}
    following = until + datetime.timedelta(days=1)
    earliest = datetime.date.min  # the first day Python knows (year 1 is the limit)
    month = earliest if (following.year, following.month) == (1, 1) else datetime.date(
        following.year - (following.month == 1), (following.month - 2) % 12 + 1, 1)
    year = earliest if following.year == 1 else datetime.date(following.year - 1, 1, 1)
    return {"day": until, "month": month, "year": year}
