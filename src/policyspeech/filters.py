"""The selection every loader and every analysis takes, declared once.

``ps.read``, ``ps.scan``, ``ps.read_arrow``, ``ps.load_dataset`` and the analysis
functions take these keyword arguments (``**filters: Unpack[Filters]``); a name that is
not one of them is a :class:`TypeError`, as for any Python function.

>>> check_filters({"speaker": "Brandon Lewis", "since": "2019"}, "read")
>>> check_filters({"speakers": "Brandon Lewis"}, "read")
Traceback (most recent call last):
TypeError: read() got an unexpected keyword argument 'speakers'
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypedDict

PathLike = str | os.PathLike[str]
Values = str | Sequence[str] | None
"""One value or several (any of them matches)."""
DateBound = str | datetime.date | None
"""``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (or a date)."""


class Selection(TypedDict, total=False):
    """Which records, of which version: what an analysis reads."""

    version: str
    """A release (``"1.0.0"``), ``"latest"`` or ``"head"`` (the default)."""
    speaker: Values
    country: Values
    language: Values
    theme: Values
    """Records with any of these themes."""
    since: DateBound
    """Records whose whole date period is on or after this date."""
    until: DateBound
    """Records whose whole date period is on or before the end of this one."""


class Filters(Selection, total=False):
    """A :class:`Selection`, with which columns, and whether to verify the files first."""

    columns: Sequence[str] | None
    verify: bool
    """Check every file of the version against the log first."""


FILTER_NAMES = Filters.__optional_keys__
SELECTION_NAMES = Selection.__optional_keys__
ROW_FILTERS = ("speaker", "country", "language", "theme", "since", "until")
"""The filters that select rows (the others choose the version and the columns)."""


def check_filters(given: Mapping[str, Any], function: str,
                  allowed: Iterable[str] = FILTER_NAMES) -> None:
    """Raise :class:`TypeError` naming the first argument that is not a filter."""
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise TypeError(f"{function}() got an unexpected keyword argument '{unknown[0]}'")
