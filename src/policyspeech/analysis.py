"""Comparative analysis on the corpus: stats, keyword in context, distinctive words, trends.

Every function takes the loaders' filters (``version``, ``speaker``, ``country``,
``theme``, ``since``, ``until``) and returns a polars DataFrame.

**Tokens** are made by :mod:`policyspeech.tokens`, and groups read by
:mod:`policyspeech.groups`. Counting and tokenising run as polars expressions, in batches
of speeches.

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

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Unpack

from policyspeech.errors import CorpusError
from policyspeech.filters import SELECTION_NAMES, PathLike, Selection
from policyspeech.groups import group_columns, group_condition, parse_group
from policyspeech.output import count
from policyspeech.stopwords import STOPWORDS_EN
from policyspeech.terms import term_pattern
from policyspeech.tokens import token_lists

if TYPE_CHECKING:
    import polars as pl

GROUP_KEYS = ("speaker", "country", "party", "organisation", "year", "theme", "language")
NO_VALUE = "(none)"
BATCH_ROWS = 2_000
CONTEXT_CHARS = 64
"""Characters read per word of context either side of a hit (words are shorter)."""


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


def kwic(term: str, corpus: PathLike | None = None, *, regex: bool = False, case_sensitive: bool = False,
         window: int = 5, **filters: Unpack[Selection]) -> pl.DataFrame:
    """Keyword in context: every hit of ``term`` with ``window`` words either side.

    Speeches are selected with a polars regular-expression filter; the hits of the
    selected speeches are then cut out with Python's ``re`` (same syntax for simple
    patterns). Columns: id, speaker, date, date_precision, left, match, right.
    """
    import polars as pl

    from policyspeech.loaders import scan

    if window < 0:
        raise CorpusError(f"window {window} is negative; give 0 or more words")
    pattern = term_pattern(term, regex=regex, case_sensitive=case_sensitive)
    try:
        found = (scan(corpus, columns=["id", "speaker", "date", "date_precision", "text"],
                      **_filters(filters))
                 .filter(pl.col("text").str.contains(pattern)).collect())
    except pl.exceptions.ComputeError as exc:
        raise CorpusError(f"'{term}' is not a regular expression polars accepts ({exc})") \
            from None
    compiled = re.compile(pattern)
    rows = []
    for record in found.iter_rows(named=True):
        text = record["text"]
        for match in compiled.finditer(text):
            left = _words_before(text, match.start(), window)
            right = text[match.end():match.end() + CONTEXT_CHARS * (window + 1)].split()[:window]
            rows.append({"id": record["id"], "speaker": record["speaker"],
                         "date": record["date"], "date_precision": record["date_precision"],
                         "left": " ".join(left), "match": match.group(),
                         "right": " ".join(right)})
    schema = {"id": pl.String, "speaker": pl.String, "date": pl.Date,
              "date_precision": pl.String, "left": pl.String, "match": pl.String,
              "right": pl.String}
    return pl.DataFrame(rows, schema=schema)


def _words_before(text: str, end: int, window: int) -> list[str]:
    """The last ``window`` words before ``end``, reading only a bounded stretch of text."""
    if window == 0:
        return []
    start = max(0, end - CONTEXT_CHARS * (window + 1))
    words = text[start:end].split()
    if start > 0 and len(words) > window:
        words = words[1:]  # the first may be cut in half
    return words[-window:]


def _batches(corpus: PathLike | None, columns: list[str], filters: Mapping[str, Any]) -> Iterator[pl.DataFrame]:
    """The selected speeches in batches of :data:`BATCH_ROWS` rows."""
    import polars as pl

    from policyspeech.loaders import scan

    frame = scan(corpus, columns=columns, **_filters(filters)).collect()
    for start in range(0, max(frame.height, 1), BATCH_ROWS):
        yield frame.slice(start, BATCH_ROWS) if frame.height else pl.DataFrame(schema=frame.schema)


def word_counts(corpus: PathLike | None = None, *, a: str | Mapping[str, Any], b: str | Mapping[str, Any],
                **filters: Unpack[Selection]) -> tuple[pl.DataFrame, dict[str, int]]:
    """Counts of every token in group a, group b and the whole selection; speeches per group."""
    import polars as pl

    groups = {"a": parse_group(a), "b": parse_group(b)}
    columns = sorted({"text"}.union(*(group_columns(g) for g in groups.values())))
    partial = []
    sizes = {"a": 0, "b": 0, "all": 0}
    for batch in _batches(corpus, columns, filters):
        flagged = batch.with_columns(group_condition(groups["a"]).alias("in_a"),
                                     group_condition(groups["b"]).alias("in_b"))
        sizes["a"] += int(flagged["in_a"].sum())
        sizes["b"] += int(flagged["in_b"].sum())
        sizes["all"] += flagged.height
        partial.append(
            flagged.select(token_lists(pl.col("text")).alias("word"), "in_a", "in_b")
            .explode("word").drop_nulls("word")
            .group_by("word").agg(count_all=pl.len(),
                                  count_a=pl.col("in_a").sum(), count_b=pl.col("in_b").sum()))
    counts = (pl.concat(partial).group_by("word").sum() if partial else
              pl.DataFrame(schema={"word": pl.String, "count_all": pl.UInt32,
                                   "count_a": pl.UInt32, "count_b": pl.UInt32}))
    return counts, sizes


def fightin_words(counts: pl.DataFrame, *, prior_scale: float = 0.1) -> pl.DataFrame:
    """Weighted log-odds ratios with an informative Dirichlet prior (Monroe, Colaresi and
    Quinn 2008, "Fightin' Words", Political Analysis 16(4), equations 16, 18, 19, 22).

    For word w with counts y_a and y_b in the two groups (totals n_a, n_b), the prior
    a_w = prior_scale * (its count in the whole selection), and a_0 = sum of a_w:

    - delta_w = log((y_a + a_w) / (n_a + a_0 - y_a - a_w))
      - log((y_b + a_w) / (n_b + a_0 - y_b - a_w))
    - variance_w = 1 / (y_a + a_w) + 1 / (y_b + a_w)
    - z_w = delta_w / sqrt(variance_w); a positive z leans to group a.

    >>> import polars as pl
    >>> counts = pl.DataFrame({"word": ["x", "y"], "count_all": [4, 4],
    ...                        "count_a": [3, 1], "count_b": [1, 3]})
    >>> fightin_words(counts, prior_scale=1.0)["z"].round(4).to_list()
    [1.1493, -1.1493]
    """
    import polars as pl

    if prior_scale <= 0:
        raise CorpusError(f"prior scale {prior_scale} must be positive")
    alpha = pl.col("count_all") * prior_scale
    alpha_0 = pl.col("count_all").sum() * prior_scale
    n_a, n_b = pl.col("count_a").sum(), pl.col("count_b").sum()
    y_a, y_b = pl.col("count_a"), pl.col("count_b")
    log_odds_a = ((y_a + alpha) / (n_a + alpha_0 - y_a - alpha)).log()
    log_odds_b = ((y_b + alpha) / (n_b + alpha_0 - y_b - alpha)).log()
    return counts.with_columns(
        delta=log_odds_a - log_odds_b,
        variance=1 / (y_a + alpha) + 1 / (y_b + alpha),
    ).with_columns(z=pl.col("delta") / pl.col("variance").sqrt())


def compare(corpus: PathLike | None = None, *, a: str | Mapping[str, Any], b: str | Mapping[str, Any],
            prior_scale: float = 0.1, min_count: int = 5, top: int = 20,
            stopwords: bool = False, **filters: Unpack[Selection]) -> pl.DataFrame:
    """The words that most distinguish group ``a`` from group ``b`` (fightin' words).

    The prior is the token counts of the whole selection (the speeches the filters select,
    not only the two groups) times ``prior_scale``. Words seen fewer than ``min_count``
    times in the two groups together are left out; ``stopwords=True`` also leaves out
    common English function words. Returns the ``top`` words of each side: word, count_a,
    count_b, delta, variance, z and side (``a`` or ``b``), by |z|.
    """
    import polars as pl

    counts, sizes = word_counts(corpus, a=a, b=b, **filters)
    for name in ("a", "b"):
        if sizes[name] == 0:
            raise CorpusError(f"group {name} ({a if name == 'a' else b}) has no speeches in "
                              "the selection; check its value and the filters")
    scored = fightin_words(counts, prior_scale=prior_scale).filter(
        (pl.col("count_a") + pl.col("count_b")) >= min_count)
    if stopwords:
        scored = scored.filter(~pl.col("word").is_in(sorted(STOPWORDS_EN)))
    scored = scored.with_columns(side=pl.when(pl.col("z") >= 0).then(pl.lit("a"))
                                 .otherwise(pl.lit("b")))
    columns = ["word", "count_a", "count_b", "delta", "variance", "z", "side"]
    top_a = (scored.filter(pl.col("side") == "a")
             .sort(["z", "word"], descending=[True, False]).head(top))
    top_b = scored.filter(pl.col("side") == "b").sort(["z", "word"]).head(top)
    return pl.concat([top_a, top_b]).select(columns)


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
