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
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

from policyspeech.dates import latest_starts, range_bound
from policyspeech.documents import FragmentInfo
from policyspeech.errors import CorpusError, InvalidSpeechError
from policyspeech.filters import ROW_FILTERS, Filters, PathLike, Values, check_filters
from policyspeech.schema import FIELD_NAMES, arrow_schema

if TYPE_CHECKING:
    import datasets
    import polars as pl
    import pyarrow as pa
    import pyarrow.dataset as pads



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
    files = _files(corpus, filters.get("version", "head"), filters.get("verify", False))
    # polars filters the rows itself: Arrow would skip row groups by their statistics
    frame = pl.scan_pyarrow_dataset(_dataset(files), allow_pyarrow_filter=False)
    for name, values in query.value_filters():
        frame = frame.filter(pl.col(name).is_in(values))
    if query.themes:
        frame = frame.filter(
            pl.any_horizontal(pl.col("themes").list.contains(t) for t in query.themes)
        )
    if query.since:
        frame = frame.filter(pl.col("date") >= query.since)
    if query.until:
        starts = latest_starts(query.until)
        frame = frame.filter((pl.col("date") <= query.until) & pl.any_horizontal(
            (pl.col("date_precision") == precision) & (pl.col("date") <= start)
            for precision, start in starts.items()))
    return frame.select(query.columns)


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

    files = _files(corpus, version, verify)
    conditions = []
    for name, values in query.value_filters():
        conditions.append(pc.field(name).isin(values))
    if query.since:
        conditions.append(pc.field("date") >= query.since)
    if query.until:  # the whole period before the bound: each precision has its own
        conditions.append(pc.field("date") <= query.until)
        within = [(pc.field("date_precision") == precision) & (pc.field("date") <= start)
                  for precision, start in latest_starts(query.until).items()]
        conditions.append(within[0] | within[1] | within[2])
    condition = None
    for item in conditions:
        condition = item if condition is None else condition & item
    wanted = list(query.columns)
    for name in [*(n for n, _ in query.value_filters()), *(["date"] if query.since else []),
                 *(["date", "date_precision"] if query.until else []),
                 *(["themes"] if query.themes else [])]:
        if name not in wanted:
            wanted.append(name)
    table = _dataset(files).to_table(columns=wanted)
    if condition is not None:  # in memory: the row groups' statistics never choose the rows
        table = table.filter(condition)
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
    paths = [path for path, _ in _files(corpus, filters.get("version", "head"),
                                        filters.get("verify", False))]
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


def _dataset(files: _Files) -> _Checked:
    """The fragments as one Arrow dataset in the canonical schema, whose scans verify every
    Parquet page's checksum: a damaged fragment raises instead of returning wrong text.

    Each fragment's footer must agree with the log (rows, schema). The last few datasets
    are kept with their files' footers read, for the next query in the same session, while
    the files are the same (path, size, change time, inode).
    """
    try:
        key = tuple((str(p), info and info["rows"], *_stamp(p)) for p, info in files)
        if key in _DATASETS:
            return _DATASETS[key]
        dataset = _Checked(_new_dataset(files), files)
    except (OSError, ValueError, _arrow_errors()) as exc:  # a footer that is not UTF-8
        raise damaged(files, exc) from None
    if len(_DATASETS) >= KEEP_DATASETS:
        _DATASETS.pop(next(iter(_DATASETS)))
    _DATASETS[key] = dataset
    return dataset


KEEP_DATASETS = 4
_Files = list[tuple[Path, FragmentInfo | None]]
"""Each fragment with what the log records of it (None: already verified against the log)."""
_DATASETS: dict[tuple[tuple[object, ...], ...], _Checked] = {}


def _stamp(path: Path) -> tuple[int, int, int]:
    found = os.stat(path, follow_symlinks=False)
    return found.st_size, found.st_ctime_ns, found.st_ino


def _arrow_errors() -> type[Exception]:
    import pyarrow as pa

    errors: type[Exception] = pa.ArrowException
    return errors


def _new_dataset(files: _Files) -> pads.Dataset:
    import pyarrow.dataset as pads

    if not files:
        return pads.dataset(arrow_schema().empty_table())
    checked = pads.ParquetFileFormat(default_fragment_scan_options=pads.ParquetFragmentScanOptions(
        page_checksum_verification=True))
    dataset = pads.dataset([str(p) for p, _ in files], schema=arrow_schema(), format=checked)
    for fragment, (path, info) in zip(dataset.get_fragments(), files, strict=True):
        fragment.ensure_complete_metadata()  # read each footer once, kept for later scans
        _check_footer(path, info, fragment)
    return dataset


def _check_footer(path: Path, info: FragmentInfo | None,
                  fragment: pads.ParquetFileFragment) -> None:
    """Raise :class:`IntegrityError` unless the footer of ``path`` has the log's row count
    and the canonical schema (of this or an older schema version): page checksums do not
    cover the footer."""
    from policyspeech.errors import IntegrityError

    rows = [fragment.metadata.num_rows, sum(g.num_rows for g in fragment.row_groups)]
    found = [(f.name, f.type, f.nullable) for f in fragment.physical_schema]
    names = {name for name, _, _ in found}
    canonical = [(f.name, f.type, f.nullable) for f in arrow_schema()]
    problem = None
    if info is not None and rows != [info["rows"]] * 2:
        problem = f"its footer counts {rows[0]} rows, the log records {info['rows']}"
    elif found != [f for f in canonical if f[0] in names] or not names >= _OLDEST:
        problem = "its footer's schema is not the corpus schema"
    if problem is not None:
        raise IntegrityError(f"{path}: {problem}; the fragment was changed or damaged "
                             "(run `policyspeech verify`)")


_OLDEST = frozenset(FIELD_NAMES) - {"source_id"}
"""The fields of every fragment (schema 1.0.0 lacks source_id)."""


class _Checked:
    """An Arrow dataset whose read errors name the damaged fragment (:func:`damaged`)."""

    def __init__(self, dataset: pads.Dataset, files: _Files) -> None:
        self.dataset, self.files, self.schema = dataset, files, dataset.schema

    def to_table(self, **options: Any) -> pa.Table:
        """:meth:`pyarrow.dataset.Dataset.to_table`."""
        try:
            return self.dataset.to_table(**options)
        except (OSError, _arrow_errors()) as exc:
            raise damaged(self.files, exc) from None

    def to_batches(self, **options: Any) -> Iterator[pa.RecordBatch]:
        """:meth:`pyarrow.dataset.Dataset.to_batches` (what polars scans)."""
        try:
            yield from self.dataset.to_batches(**options)
        except (OSError, _arrow_errors()) as exc:
            raise damaged(self.files, exc) from None


def damaged(files: _Files, exc: Exception) -> CorpusError:
    """The error for a read of ``files`` that failed with ``exc``: an
    :class:`IntegrityError` naming the first file that is missing or differs from the log's
    SHA-256 (found only now, on the error path)."""
    import hashlib

    from policyspeech.errors import IntegrityError

    for path, info in files:  # a verified fragment is named by its SHA-256
        expected = info["sha256"] if info is not None else path.stem
        try:
            with open(path, "rb") as handle:
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError as error:
            return IntegrityError(f"{path}: cannot be read ({error.strerror or error}); "
                                  "run `policyspeech verify`")
        if digest != expected:
            return IntegrityError(f"{path}: its SHA-256 differs from the one the log records; "
                                  "the fragment was changed or damaged (run `policyspeech "
                                  "verify`)")
    return IntegrityError(f"the fragments could not be read ({exc}); run `policyspeech verify`")


def _files(corpus: PathLike | None, version: str, verify: bool) -> _Files:
    """The fragments of ``version`` with what the log records of each."""
    from policyspeech.errors import IntegrityError
    from policyspeech.reader import Reader

    opened = Reader(corpus)
    if verify:
        from policyspeech.verify import verified_fragments

        verified, problems = verified_fragments(opened, version)
        if problems:
            more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
            raise IntegrityError(f"{problems[0]}{more}; run `policyspeech verify`")
        return [(Path(p), None) for p in verified]
    paths = opened.fragment_paths(version)
    infos = {opened.path / info["path"]: info for info in opened.fragments(version)}
    missing = [p for p in paths if p not in infos]
    if missing:
        raise IntegrityError(f"{missing[0]}: the log does not record it in version {version}; "
                             "run `policyspeech verify`")
    return [(p, infos[p]) for p in paths]


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
