"""Loading the corpus: polars (``read``, ``scan``), pyarrow (``read_arrow``) and Hugging Face
``datasets`` (``load_dataset``).

All four take the same keyword-only filters: ``speaker``, ``country``, ``language`` and
``theme`` (one value or a list of values), ``since`` and ``until`` (``YYYY``, ``YYYY-MM``
or ``YYYY-MM-DD``), ``columns`` and ``version``. Only the columns asked for (and those
filtered on) are read, so metadata queries do not read the text; the rows are filtered in
memory, never by the row groups' statistics (which no checksum covers).

Filter values are checked and normalised like stored values: speakers are NFC with
single spaces, and a country, language or theme that a record could not carry is an
error with the same message as ``add`` gives (``country="UK"`` names ``GB``). A speech
is within ``since``/``until`` when the whole of its date's period is (see
:mod:`policyspeech.dates`): a speech dated only "2023" is selected by ``until="2023"``
but not by ``until="2023-03"``.

Examples
--------
>>> import policyspeech as ps
>>> ps.read(country="GB", columns=["id", "date"]).columns
['id', 'date']
>>> ps.read(theme="law_and_crime", since="2019", until="2019").height >= 1
True
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Unpack

from policyspeech.dates import latest_starts, range_bound
from policyspeech.errors import InvalidSpeechError
from policyspeech.filters import (
    ROW_FILTERS,
    SELECTION_NAMES,
    Filters,
    PathLike,
    Selection,
    Values,
    check_filters,
)
from policyspeech.scanning import checked_dataset, version_files
from policyspeech.schema import FIELD_NAMES, arrow_schema

if TYPE_CHECKING:
    import datasets
    import polars as pl
    import pyarrow as pa
    import pyarrow.compute as pc



def scan(corpus: PathLike | None = None, **filters: Unpack[Filters]) -> pl.LazyFrame:
    """Return a polars LazyFrame of the corpus, filtered (every Parquet page's checksum
    verified as it is read).

    ``verify=True`` first checks every file of the version against the log (SHA-256, row
    counts, the release manifest and its fingerprint) and raises
    :class:`~policyspeech.errors.IntegrityError` instead of returning data if one differs.
    """
    import polars as pl

    check_filters(filters, "scan")
    query = _Query.of(filters)
    files = version_files(corpus, filters.get("version", "head"), filters.get("verify", False))
    # polars filters the rows itself (Arrow would skip row groups by their statistics),
    # from the row groups whose data hold a match
    frame = pl.scan_pyarrow_dataset(checked_dataset(files).pruned(*query.condition()),
                                    allow_pyarrow_filter=False)
    return frame.filter(query.expression()).select(query.columns)


def selection_condition(**filters: Unpack[Selection]) -> pl.Expr:
    """The row filters (``speaker``, ``country``, ``language``, ``theme``, ``since``,
    ``until``) as one boolean polars expression, checked and normalised as :func:`scan`
    does (``version`` is ignored).

    >>> selection_condition(country="UK")
    Traceback (most recent call last):
    ...
    policyspeech.errors.InvalidSpeechError: country 'UK' is not a country code; use 'GB' (United Kingdom)
    """
    check_filters(filters, "selection_condition", SELECTION_NAMES)
    return _Query.of(Filters(**filters, columns=None, verify=False)).expression()


def read(corpus: PathLike | None = None, **filters: Unpack[Filters]) -> pl.DataFrame:
    """Return a polars DataFrame of the corpus; same filters as :func:`scan`.

    The rows are read by :func:`read_arrow` and handed to polars without a copy.
    """
    import polars as pl

    frame = pl.from_arrow(_read_table(corpus, **filters), rechunk=False)
    assert isinstance(frame, pl.DataFrame)
    return frame


def read_arrow(corpus: PathLike | None = None, **filters: Unpack[Filters]) -> pa.Table:
    """Return a pyarrow Table in the canonical schema (field descriptions kept).

    Parquet page checksums are verified as the pages are read.
    """
    import pyarrow as pa

    check_filters(filters, "read_arrow")
    query = _Query.of(filters)
    table = _scan_table(corpus, filters.get("version", "head"), filters.get("verify", False),
                        query)
    schema = arrow_schema()
    selected = pa.schema([schema.field(n) for n in query.columns], schema.metadata)
    if table.num_rows == 0:  # one empty chunk, not none: datasets needs a chunk
        return selected.empty_table()
    return table.cast(selected)


def _read_table(corpus: PathLike | None = None, **filters: Unpack[Filters]) -> pa.Table:
    """The selected rows as Arrow, without the schema's field descriptions (polars drops
    them anyway, and attaching them costs a pass over every column)."""
    check_filters(filters, "read")
    return _scan_table(corpus, filters.get("version", "head"), filters.get("verify", False),
                       _Query.of(filters))


def _scan_table(corpus: PathLike | None, version: str, verify: bool, query: _Query
                ) -> pa.Table:
    import pyarrow.compute as pc

    from policyspeech.arrays import string_array

    files = version_files(corpus, version, verify)
    condition, used = query.condition()
    wanted = list(query.columns)
    for name in [*used, *(["themes"] if query.themes else [])]:
        if name not in wanted:
            wanted.append(name)
    # in memory: the row groups' statistics (which no checksum covers) never choose rows
    table = checked_dataset(files).filtered(wanted, condition, used)
    if query.themes:
        themes = table["themes"].combine_chunks()
        hits = pc.is_in(pc.list_flatten(themes), value_set=string_array(query.themes))
        rows = pc.unique(pc.filter(pc.list_parent_indices(themes), hits))
        table = table.take(rows)  # parent indices ascend, so rows keep the table order
    return table.select(query.columns)


def load_dataset(corpus: PathLike | None = None, *, cache: PathLike | None = None,
                 **filters: Unpack[Filters]) -> datasets.Dataset:
    """Return a ``datasets.Dataset`` with the schema's Features; same filters as :func:`scan`.

    Without row filters, the dataset memory-maps one cached Arrow file per fragment
    (:mod:`policyspeech.arrowcache`; ``cache`` overrides the folder): the first load of
    a version converts its fragments, later loads, and loads of newer versions that
    share fragments, reuse them. With row filters the selected rows are built in memory.
    Either way the data are the version's current fragments, never a stale copy.
    """
    import hashlib

    import datasets
    from datasets.table import InMemoryTable

    from policyspeech.schema import features

    check_filters(filters, "load_dataset")
    if any(filters.get(name) is not None for name in ROW_FILTERS):
        table = read_arrow(corpus, **filters)
        selected = datasets.Features({name: features()[name] for name in table.column_names})
        fingerprint = hashlib.sha256(repr(sorted(filters.items())).encode()
                                     + str(table.num_rows).encode()).hexdigest()[:16]
        return datasets.Dataset(InMemoryTable(table), info=datasets.DatasetInfo(
            features=selected), fingerprint=fingerprint)
    from datasets.table import MemoryMappedTable, concat_tables

    from policyspeech.arrowcache import cached_arrow_files

    _Query.of({"columns": filters.get("columns")})  # the columns
    fragments = version_files(corpus, filters.get("version", "head"), filters.get("verify", False))
    checked_dataset(fragments)  # each footer agrees with the log (once a session)
    paths = [path for path, _ in fragments]
    files = cached_arrow_files(paths, Path(cache) if cache is not None else None,
                               verify=filters.get("verify", False))
    if files:
        table = concat_tables([MemoryMappedTable.from_file(str(f)) for f in files])
    else:
        table = InMemoryTable(arrow_schema().empty_table())
    fingerprint = hashlib.sha256("".join(Path(p).stem for p in paths).encode()).hexdigest()[:16]
    dataset = datasets.Dataset(table, info=datasets.DatasetInfo(features=features()),
                               fingerprint=fingerprint)
    columns = filters.get("columns")
    return dataset.select_columns(list(columns)) if columns is not None else dataset


class _Query:
    """Validated, normalised filter values shared by every loader."""

    def __init__(self) -> None:
        self.speakers: list[str] = []
        self.countries: list[str] = []
        self.languages: list[str] = []
        self.themes: list[str] = []
        self.since: datetime.date | None = None
        self.until: datetime.date | None = None
        self.columns: list[str] = list(FIELD_NAMES)

    @classmethod
    def of(cls, filters: Filters) -> _Query:
        """The checked, normalised values of ``filters``."""
        from policyspeech.countries import check_country
        from policyspeech.validate import check_language, check_theme, normalise_value

        speaker, country = filters.get("speaker"), filters.get("country")
        language, theme = filters.get("language"), filters.get("theme")
        since, until = filters.get("since"), filters.get("until")
        columns = filters.get("columns")
        query = cls()
        query.speakers = [normalise_value(v, "speaker") for v in _values(speaker, "speaker")]
        query.countries = [check_country(normalise_value(v, "country"))
                           for v in _values(country, "country")]
        query.languages = [check_language(normalise_value(v, "language"))
                           for v in _values(language, "language")]
        query.themes = [check_theme(normalise_value(v, "theme")) for v in _values(theme, "theme")]
        query.since = range_bound(since, "since", end=False)
        query.until = range_bound(until, "until", end=True)
        if query.since and query.until and query.since > query.until:
            raise InvalidSpeechError(f"since '{since}' is after until '{until}'; swap them")
        if columns is not None:
            unknown = [c for c in columns if c not in FIELD_NAMES]
            if unknown:
                raise InvalidSpeechError(
                    f"column '{unknown[0]}' is not a field; use one of {', '.join(FIELD_NAMES)}"
                )
            query.columns = list(columns)
        return query

    def condition(self) -> tuple[pc.Expression | None, list[str]]:
        """The row filters but themes as one Arrow expression, and the columns it reads."""
        import pyarrow.compute as pc

        conditions = [pc.field(name).isin(values) for name, values in self.value_filters()]
        used = [name for name, _ in self.value_filters()]
        if self.since:
            conditions.append(pc.field("date") >= self.since)
        if self.until:  # the whole period before the bound: each precision has its own
            conditions.append(pc.field("date") <= self.until)
            within = [(pc.field("date_precision") == precision) & (pc.field("date") <= start)
                      for precision, start in latest_starts(self.until).items()]
            conditions.append(within[0] | within[1] | within[2])
        if self.since or self.until:
            used += ["date", *(["date_precision"] if self.until else [])]
        condition = None
        for item in conditions:
            condition = item if condition is None else condition & item
        return condition, used

    def expression(self) -> pl.Expr:
        """The row filters as one polars expression (``True`` when there are none)."""
        import polars as pl

        conditions = [pl.col(name).is_in(values) for name, values in self.value_filters()]
        if self.themes:
            conditions.append(
                pl.any_horizontal(pl.col("themes").list.contains(t) for t in self.themes))
        if self.since:
            conditions.append(pl.col("date") >= self.since)
        if self.until:
            conditions.append((pl.col("date") <= self.until) & pl.any_horizontal(
                (pl.col("date_precision") == precision) & (pl.col("date") <= start)
                for precision, start in latest_starts(self.until).items()))
        return pl.all_horizontal(conditions) if conditions else pl.lit(True)

    def value_filters(self) -> list[tuple[str, list[str]]]:
        """``(field, values)`` of each field filtered to one of some values."""
        pairs = (("speaker", self.speakers), ("country", self.countries),
                 ("language", self.languages))
        return [(name, values) for name, values in pairs if values]


def _values(value: Values, name: str) -> list[str]:
    if value is None:
        return []
    values = [value] if isinstance(value, str) else list(value)
    for item in values:
        if not isinstance(item, str):
            raise InvalidSpeechError(f"{name} {item!r} must be text; give it as a string")
    return values
