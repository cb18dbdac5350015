"""Comparative analysis on the corpus: stats, keyword in context, distinctive words, trends.

Every function takes the loaders' filters (``version``, ``speaker``, ``country``,
``theme``, ``since``, ``until``) and returns a polars DataFrame.

**Tokens** are made by :mod:`policyspeech.tokens`, and groups read by
:mod:`policyspeech.groups`. ``compare`` sums the token counts of each speech, which
:mod:`policyspeech.counting` works out once per fragment and caches; ``kwic`` cuts its
hits out in polars (:mod:`policyspeech.contexts`). Both read the text a chunk of speeches
at a time, so memory follows the chunk, not the selection.

Examples
--------
>>> from policyspeech import analysis
>>> analysis.stats(by="speaker").select("speaker", "speeches").rows()
[('Brandon Lewis', 1)]
>>> hits = analysis.kwic("organised crime", window=3)
>>> hits.row(0, named=True)["right"]
'and how that'
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Unpack

from policyspeech.errors import CorpusError
from policyspeech.filters import SELECTION_NAMES, PathLike, Selection
from policyspeech.groups import (
    group_columns,
    group_condition,
    group_text,
    parse_group,
    warn_if_small,
)
from policyspeech.keyness import check_measure, score
from policyspeech.output import count
from policyspeech.stopwords import stopwords_for
from policyspeech.terms import term_pattern

if TYPE_CHECKING:
    import polars as pl

GROUP_KEYS = ("speaker", "country", "party", "organisation", "year", "theme", "language")
NO_VALUE = "(none)"
KWIC_ROWS = 4_000
"""Speeches that kwic searches at a time (their text is what it holds in memory)."""


def _filters(filters: Mapping[str, Any]) -> dict[str, Any]:
    allowed = SELECTION_NAMES
    unknown = set(filters) - allowed
    if unknown:
        raise CorpusError(f"unknown filter '{sorted(unknown)[0]}'; use "
                          f"{', '.join(sorted(allowed))}")
    return dict(filters)


def _check_keys(by: str | Sequence[str]) -> list[str]:
    keys = [by] if isinstance(by, str) else list(by)
    if not 1 <= len(keys) <= 2:
        raise CorpusError("group by one or two keys, for example --by country --by year")
    for key in keys:
        if key not in GROUP_KEYS:
            raise CorpusError(f"cannot group by '{key}'; use one of {', '.join(GROUP_KEYS)}")
    return keys


def _with_keys(frame: pl.LazyFrame, keys: Sequence[str]) -> pl.LazyFrame:
    """Add the ``year`` and ``theme`` keys (one row per theme), and name missing values."""
    import polars as pl

    if "year" in keys:
        frame = frame.with_columns(pl.col("date").dt.year().alias("year"))
    if "theme" in keys:
        frame = frame.with_columns(
            pl.when(pl.col("themes").list.len() > 0).then(pl.col("themes"))
            .otherwise(pl.lit([NO_VALUE])).alias("theme")).explode("theme")
    return frame.with_columns(
        pl.col(k).fill_null(NO_VALUE) for k in keys if k not in ("year", "theme"))


def stats(corpus: PathLike | None = None, *, by: str | Sequence[str] = "speaker",
          **filters: Unpack[Selection]) -> pl.DataFrame:
    """Speeches, words, first and last date per group of one or two keys.

    Groups come in time order when ``year`` is a key (sorted by the keys in the order
    given: ``by=["country", "year"]`` lists each country's years in order), otherwise
    the largest first. A speech with several themes counts once in each of its themes. ``first`` and
    ``last`` are dates at their precision (``2023``, ``2019-10``, ``2019-10-30``): the
    earliest start and the latest end of the group's speeches.
    """
    import polars as pl

    from policyspeech.loaders import scan

    keys = _check_keys(by)
    columns = sorted({"date", "date_precision", "word_count",
                      *(k for k in keys if k != "year"),
                      *(["themes"] if "theme" in keys else [])} - {"theme"})
    frame = _with_keys(scan(corpus, columns=columns, **_filters(filters)), keys)
    frame = frame.with_columns(shown=date_at_precision(), end=_period_end())
    order, descending = _stats_order(keys)
    return (frame.group_by(keys)
            .agg(speeches=pl.len(), words=pl.col("word_count").cast(pl.Int64).sum(),
                 first=pl.col("shown").sort_by("date").first(),
                 last=pl.col("shown").sort_by("end").last())
            .sort(order, descending=descending)
            .collect())


def _stats_order(keys: Sequence[str]) -> tuple[list[str], list[bool]]:
    """Groups in time order when a key is a time (the keys in the order given), else the
    largest first."""
    if "year" in keys:
        return list(keys), [False] * len(keys)
    return ["speeches", *keys], [True, *[False] * len(keys)]


def date_at_precision(date: str = "date", precision: str = "date_precision") -> pl.Expr:
    """A polars expression: ``date`` written at its precision (``2023``, ``2019-10``)."""
    import polars as pl

    column = pl.col(date)
    return (pl.when(pl.col(precision) == "year").then(column.dt.strftime("%Y"))
            .when(pl.col(precision) == "month").then(column.dt.strftime("%Y-%m"))
            .otherwise(column.dt.strftime("%Y-%m-%d")))


def _period_end() -> pl.Expr:
    import polars as pl

    column = pl.col("date")
    return (pl.when(pl.col("date_precision") == "year")
            .then(pl.date(column.dt.year(), 12, 31))
            .when(pl.col("date_precision") == "month").then(column.dt.month_end())
            .otherwise(column))


def kwic(term: str, corpus: PathLike | None = None, *, regex: bool = False,
         case_sensitive: bool = False, window: int = 5, limit: int | None = None,
         **filters: Unpack[Selection]) -> pl.DataFrame:
    """Keyword in context: every hit of ``term`` with ``window`` words either side (the
    first ``limit`` hits, when given; 0 or None: all).

    Hits are found by polars' regular expressions (Rust syntax) and their context cut out
    in polars (:mod:`policyspeech.contexts`), a chunk of speeches at a time. Columns: id,
    speaker, date, date_precision, left, match, right, in the order of the fragments.
    """
    return kwic_hits(term, corpus, regex=regex, case_sensitive=case_sensitive,
                     window=window, limit=limit, **filters)[0]


def kwic_hits(term: str, corpus: PathLike | None = None, *, regex: bool = False,
              case_sensitive: bool = False, window: int = 5, limit: int | None = None,
              **filters: Unpack[Selection]) -> tuple[pl.DataFrame, int]:
    """:func:`kwic`, and how many hits there are in all (those beyond ``limit`` are only
    counted, not cut out)."""
    import polars as pl

    from policyspeech.contexts import contexts

    if window < 0:
        raise CorpusError(f"window {window} is negative; give 0 or more words")
    if limit is not None and limit < 0:
        raise CorpusError(f"limit {limit} is negative; give 0 or more hits (0: all)")
    pattern = term_pattern(term, regex=regex, case_sensitive=case_sensitive)
    columns = ["id", "speaker", "date", "date_precision"]
    found: list[pl.DataFrame] = []
    shown = total = 0
    try:
        for chunk in _chunks(corpus, [*columns, "text"], filters):
            if limit is None or limit == 0 or shown < limit:
                hits = contexts(chunk, pattern, window=window)
                found.append(hits if not limit else hits.head(limit - shown))
                shown += found[-1].height
                total += hits.height
            else:
                total += int(chunk.select(pl.col("text").str.count_matches(pattern).sum())
                             .item())
    except pl.exceptions.ComputeError as exc:
        raise CorpusError(f"'{term}' is not a regular expression polars accepts ({exc})") \
            from None
    schema = {"id": pl.String, "speaker": pl.String, "date": pl.Date,
              "date_precision": pl.String, "left": pl.String, "match": pl.String,
              "right": pl.String}
    return pl.concat([pl.DataFrame(schema=schema), *found]), total


def _chunks(corpus: PathLike | None, columns: list[str], filters: Mapping[str, Any]
            ) -> Iterator[pl.DataFrame]:
    """The ``columns`` of the selected speeches, :data:`KWIC_ROWS` at a time, fragment by
    fragment: of the selection only its ids are held whole (when rows are filtered)."""
    from policyspeech.counting import prefetched, selected_chunks
    from policyspeech.filters import ROW_FILTERS
    from policyspeech.loaders import scan
    from policyspeech.scanning import version_files

    selected = None
    if any(filters.get(name) is not None for name in ROW_FILTERS):
        selected = scan(corpus, columns=["id"], **_filters(filters)).collect()["id"]
    files = version_files(corpus, _filters(filters).get("version", "head"), False)
    yield from prefetched(selected_chunks(files, selected, columns, KWIC_ROWS))


def word_counts(corpus: PathLike | None = None, *, a: str | Mapping[str, Any],
                b: str | Mapping[str, Any], fold_accents: bool = False,
                **filters: Unpack[Selection]) -> tuple[pl.DataFrame, dict[str, int]]:
    """Counts of every token in group a, group b and the whole selection (columns word,
    count_all, count_a, count_b, by word); speeches per group.

    The counts of each speech come from the per-fragment cache of
    :mod:`policyspeech.counting` (made on first use), the selection from the loaders'
    filters and the groups' conditions over its metadata.
    """

    from policyspeech.counting import group_counts
    from policyspeech.loaders import scan
    from policyspeech.scanning import version_files

    groups = {"a": parse_group(a), "b": parse_group(b)}
    columns = sorted({"id"}.union(*(group_columns(g) for g in groups.values())))
    flags = (scan(corpus, columns=columns, **_filters(filters))
             .select("id", in_a=group_condition(groups["a"]).fill_null(False),
                     in_b=group_condition(groups["b"]).fill_null(False))
             .collect())
    sizes = {"a": int(flags["in_a"].sum()), "b": int(flags["in_b"].sum()),
             "all": flags.height}
    files = version_files(corpus, filters.get("version", "head"), False)
    return group_counts(files, flags, fold_accents=fold_accents), sizes


def compare(corpus: PathLike | None = None, *, a: str | Mapping[str, Any], b: str | Mapping[str, Any],
            measure: str = "fightin", prior_scale: float = 0.1, correction: str = "default",
            min_count: int = 5, top: int = 20, stopwords: bool = False,
            fold_accents: bool = False, **filters: Unpack[Selection]) -> pl.DataFrame:
    """The words that most distinguish group ``a`` from group ``b``.

    Groups are written as in :mod:`policyspeech.groups` (``"country=US;until=1900"`` or
    ``{"country": "US", "year": "1990-1999"}``), within the speeches the filters select.
    ``measure`` (:mod:`policyspeech.keyness`): ``fightin`` (weighted log-odds, z; the
    prior is the token counts of the whole selection times ``prior_scale``), ``chi2`` or
    ``loglik`` (quanteda's χ² and G², a the target and b the reference; ``correction``).
    Words seen fewer than ``min_count`` times in the two groups together are left out.
    ``stopwords=True`` leaves out each record's own stopwords (those of its ``language``,
    :mod:`policyspeech.stopwords`) before scoring, as if they were not in the text;
    ``fold_accents=True`` counts ``état`` as ``etat``. Returns the ``top`` words of each
    side, by the size of the statistic: word, count_a, count_b, the measure's columns
    (delta, variance, z; chi2, p; G2, p) and side (``a`` or ``b``). A group of fewer than
    1,000 tokens or 5 speeches gets a :class:`~policyspeech.groups.SmallGroupWarning`.
    """
    import polars as pl

    statistic = check_measure(measure, correction)
    counts, sizes = _counts(corpus, a, b, stopwords=stopwords, fold_accents=fold_accents,
                            filters=filters)
    for name, spec in (("a", a), ("b", b)):
        tokens = int(counts[f"count_{name}"].sum())
        if sizes[name] == 0 or tokens == 0:
            raise CorpusError(f"group {name} ({group_text(spec)}) has no "
                              f"{'speeches' if sizes[name] == 0 else 'words'} in the "
                              "selection; check its value and the filters")
        warn_if_small(name, spec, sizes[name], tokens)
    scored = score(counts, measure, prior_scale=prior_scale, correction=correction).filter(
        (pl.col("count_a") + pl.col("count_b")) >= min_count)
    scored = scored.with_columns(side=pl.when(pl.col(statistic) >= 0).then(pl.lit("a"))
                                 .otherwise(pl.lit("b")))
    columns = ["word", "count_a", "count_b",
               *(["delta", "variance", "z"] if measure == "fightin" else [statistic, "p"]),
               "side"]
    top_a = (scored.filter(pl.col("side") == "a")
             .sort([statistic, "word"], descending=[True, False]).head(top))
    top_b = scored.filter(pl.col("side") == "b").sort([statistic, "word"]).head(top)
    return pl.concat([top_a, top_b]).select(columns)


def _counts(corpus: PathLike | None, a: str | Mapping[str, Any], b: str | Mapping[str, Any], *,
            stopwords: bool, fold_accents: bool, filters: Mapping[str, Any]
            ) -> tuple[pl.DataFrame, dict[str, int]]:
    """:func:`word_counts`, without each record's stopwords: counted language by language."""
    import polars as pl

    from policyspeech.loaders import scan

    if not stopwords:
        return word_counts(corpus, a=a, b=b, fold_accents=fold_accents, **filters)
    languages = (scan(corpus, columns=["language"], **_filters(filters))
                 .select(pl.col("language").unique().sort()).collect().to_series().to_list())
    parts, sizes = [], {"a": 0, "b": 0, "all": 0}
    for language in languages or [None]:
        counts, part_sizes = word_counts(corpus, a=a, b=b, fold_accents=fold_accents,
                                         **{**filters, "language": language})
        stop = sorted(stopwords_for(language or "", fold_accents=fold_accents))
        parts.append(counts.filter(~pl.col("word").is_in(stop)))
        sizes = {name: sizes[name] + part_sizes[name] for name in sizes}
    return pl.concat(parts).group_by("word").sum(), sizes


def trends(corpus: PathLike | None = None, *, by: str | None = None, period: str = "year",
           **filters: Unpack[Selection]) -> pl.DataFrame:
    """Theme shares over time: per period (and group), the share of speeches and of words
    that carry each theme. Shares of one period add up to more than 1 when speeches have
    several themes; speeches without a theme count in the denominators only. A speech
    dated less precisely than the period (only to the year, for months) is in no period:
    :func:`undated_in` counts them. A selection of speeches none of which has a theme is
    refused (:class:`~policyspeech.errors.CorpusError` saying how to add themes)."""
    import polars as pl

    from policyspeech.loaders import scan

    _check_period(period)
    keys = [] if by is None else _check_keys(by)
    if "theme" in keys:
        raise CorpusError("trends are per theme already; group by another key")
    columns = sorted({"date", "date_precision", "word_count", "themes",
                      *(k for k in keys if k != "year")})
    frame = scan(corpus, columns=columns, **_filters(filters))
    if period == "month":
        frame = frame.filter(pl.col("date_precision") != "year")
    frame = _with_keys(frame, keys).with_columns(
        (pl.col("date").dt.year().cast(pl.String) if period == "year"
         else pl.col("date").dt.strftime("%Y-%m")).alias("period"))
    group = ["period", *keys]
    totals = frame.group_by(group).agg(period_speeches=pl.len(),
                                       period_words=pl.col("word_count").cast(pl.Int64).sum())
    per_theme = (frame.explode("themes").drop_nulls("themes").rename({"themes": "theme"})
                 .group_by([*group, "theme"])
                 .agg(speeches=pl.len(), words=pl.col("word_count").cast(pl.Int64).sum()))
    table = (per_theme.join(totals, on=group)
             .with_columns(share_speeches=pl.col("speeches") / pl.col("period_speeches"),
                           share_words=pl.col("words") / pl.col("period_words"))
             .sort([*group, "theme"]).collect())
    if table.is_empty():
        _check_themes(scan(corpus, columns=["themes"], **_filters(filters)))
    return table


def _check_themes(frame: pl.LazyFrame) -> None:
    """Refuse a selection of speeches none of which has a theme: it has no theme shares."""
    import polars as pl

    speeches, themed = frame.select(pl.len(), (pl.col("themes").list.len() > 0).sum()
                                    ).collect().row(0)
    if speeches and not themed:
        raise CorpusError(
            f"none of the {count(speeches, 'selected speech', 'selected speeches')} has "
            "themes, and trends are theme shares; add themes (the slugs that `policyspeech "
            "themes` lists) with `policyspeech amend --from FILE.csv` (columns id, themes) "
            "or in the themes field of the records you import")


def undated_in(period: str, corpus: PathLike | None = None, **filters: Unpack[Selection]) -> int:
    """How many selected speeches are dated less precisely than ``period`` (and so are in
    no period of it): speeches known only to the year, for months."""
    import polars as pl

    from policyspeech.loaders import scan

    _check_period(period)
    if period == "year":
        return 0
    frame = scan(corpus, columns=["date_precision"], **_filters(filters))
    return int(frame.filter(pl.col("date_precision") == "year").select(pl.len()).collect()
               .item())


def _check_period(period: str) -> None:
    if period not in ("year", "month"):
        raise CorpusError(f"period '{period}' is not known; use year or month")
