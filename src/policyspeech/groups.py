"""Groups of speeches that ``compare`` sets against each other.

A group is written ``FIELD=VALUE[,VALUE][;FIELD=VALUE...]`` (``"country=GB,DE;year=2019"``)
or given as a mapping; :func:`parse_group` reads it, :func:`group_condition` makes it a
polars expression over the columns that :func:`group_columns` names.

>>> parse_group("country=GB,DE;year=2019")
{'country': ['GB', 'DE'], 'year': ['2019']}
>>> sorted(group_columns(parse_group("theme=crime;year=2019")))
['date', 'themes']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from policyspeech.errors import CorpusError

if TYPE_CHECKING:
    import polars as pl

GROUP_FIELDS = ("speaker", "country", "party", "organisation", "year", "theme", "language",
                "id")
"""The fields a group may name."""

Conditions = dict[str, list[str]]


def parse_group(spec: str | Mapping[str, Any]) -> Conditions:
    """``"speaker=Brandon Lewis"`` or ``"country=GB,DE;year=2019"`` as conditions."""
    if isinstance(spec, Mapping):
        return {k: [v] if isinstance(v, str) else [str(x) for x in v] for k, v in spec.items()}
    conditions: Conditions = {}
    for part in spec.split(";"):
        key, sep, values = part.partition("=")
        key = key.strip()
        if not sep or key not in GROUP_FIELDS:
            raise CorpusError(f"group '{spec}' is not FIELD=VALUE; use a field among "
                              f"{', '.join(GROUP_FIELDS)}, e.g. \"speaker=Brandon Lewis\"")
        conditions[key] = [v.strip() for v in values.split(",") if v.strip()]
    return conditions


def group_columns(conditions: Mapping[str, list[str]]) -> set[str]:
    """The columns that :func:`group_condition` reads."""
    renamed = {"year": "date", "theme": "themes"}
    return {renamed.get(key, key) for key in conditions}


def group_condition(conditions: Mapping[str, list[str]]) -> pl.Expr:
    """A boolean polars expression: whether a speech is in the group."""
    import polars as pl

    expr = pl.lit(True)
    for key, values in conditions.items():
        if key == "year":
            expr = expr & pl.col("date").dt.year().is_in([int(v) for v in values])
        elif key == "theme":
            expr = expr & pl.any_horizontal(pl.col("themes").list.contains(v) for v in values)
        else:
            expr = expr & pl.col(key).is_in(values)
    return expr
