"""Commands that analyse a selection of speeches: stats, kwic, compare, trends and similar.

Each prints the table that the function of the same name in :mod:`policyspeech.analysis`
(or :mod:`policyspeech.similar`) returns, and can draw it (``--plot``, :mod:`policyspeech.charts`).
"""

import warnings
from typing import Annotated, Any

import typer

from policyspeech import analysis as library
from policyspeech.cli.options import (
    SELECTION_PARAMETERS,
    PlotOption,
    RawOption,
    TableFormatOption,
    check_format,
    corpus_path,
    library_defaults,
    user_errors,
    with_parameters,
)
from policyspeech.errors import CorpusError
from policyspeech.groups import GROUP_FIELDS, SmallGroupWarning, group_text
from policyspeech.similar import near_duplicates

STATS, KWIC, COMPARE, TRENDS, SIMILAR = (library_defaults(function) for function in (
    library.stats, library.kwic, library.compare, library.trends, near_duplicates))
"""The defaults of the library's functions, which the options take."""
TABLE_HITS = 100
"""The hits that kwic shows in the terminal table unless --limit says otherwise."""


def shown_number(value: float) -> float:
    """A number as the terminal table shows it: four decimals, or three significant
    digits when those would round it to 0 (a p-value of 2.3e-19 is not 0.0).

    >>> shown_number(81.076512), shown_number(2.3456e-19), shown_number(0.0)
    (81.0765, 2.35e-19, 0.0)
    """
    rounded = round(value, 4)
    return float(f"{value:.3g}") if rounded == 0 and value != 0 else rounded


def _show_frame(frame: Any, fmt: str, raw: bool) -> None:
    from policyspeech.output import render_rows

    check_format(fmt, ("table", "csv", "json"))
    rows = frame.to_dicts()
    if fmt == "table":
        rows = [{k: shown_number(v) if isinstance(v, float) else v for k, v in r.items()}
                for r in rows]
    typer.echo(render_rows(rows, fmt, raw=raw) if rows or fmt != "table" else "(no rows)")


@user_errors
@with_parameters(SELECTION_PARAMETERS)
def stats(
    ctx: typer.Context,
    by: Annotated[list[str], typer.Option("--by", help="speaker, country, party, organisation, "
                  "year, theme or language (repeat for two keys).")] = [STATS["by"]],  # noqa: B006
    fmt: TableFormatOption = "table",
    raw: RawOption = False,
    plot: PlotOption = None,
    **selection: Any,
) -> None:
    """Speeches, words, first and last date per group of one or two keys.

    Example: policyspeech stats --by country --by year --since 2019
    """
    table = library.stats(corpus_path(ctx), by=by, **selection)
    _show_frame(table, fmt, raw)
    if plot is not None:
        from policyspeech.charts import plot_stats

        typer.echo(f"chart: {plot_stats(table, plot)}", err=True)


@user_errors
@with_parameters(SELECTION_PARAMETERS)
def kwic(
    ctx: typer.Context,
    term: Annotated[str, typer.Argument(help="A word, a phrase, or with --regex a regular "
                    "expression.")],
    regex: Annotated[bool, typer.Option("--regex", help="TERM is a regular expression.")] = False,
    case_sensitive: Annotated[bool, typer.Option("--case-sensitive", help="Match case "
                              "exactly.")] = False,
    window: Annotated[int, typer.Option("--window", help="Words of context either "
                      "side.")] = KWIC["window"],
    limit: Annotated[int | None, typer.Option("--limit", help=f"Show at most this many hits "
                     f"(0: all; default {TABLE_HITS} in the table, all in csv and json).",
                     show_default=False)] = None,
    fmt: TableFormatOption = "table",
    raw: RawOption = False,
    **selection: Any,
) -> None:
    """Keyword in context: every hit of TERM with the words around it, date, id and speaker.

    Example: policyspeech kwic "organised crime" --window 4 --limit 20
    """
    if limit is None:
        limit = TABLE_HITS if fmt == "table" else 0
    hits, total = library.kwic_hits(term, corpus_path(ctx), regex=regex,
                                    case_sensitive=case_sensitive, window=window,
                                    limit=limit, **selection)
    hits = hits.with_columns(date=library.date_at_precision()).drop("date_precision")
    if fmt == "table":
        hits = hits.select("date", "id", "speaker", "left", "match", "right")
    _show_frame(hits, fmt, raw)
    if total > hits.height:
        left_out = total - hits.height
        typer.echo(f"note: {left_out:,} more hit{'' if left_out == 1 else 's'} of {total:,} "
                   "not shown; use --limit 0 to show all", err=True)


@user_errors
@with_parameters(SELECTION_PARAMETERS)
def compare(
    ctx: typer.Context,
    values: Annotated[list[str] | None, typer.Argument(metavar="[A B]", help="With --by: the "
                      "two values to compare.", show_default=False)] = None,
    a: Annotated[str | None, typer.Option("--a", help='Group a, as FIELD=VALUE[,VALUE][;...] '
                 '("country=US;until=1900", "party=Labour;year=1997-2010"); fields: '
                 f'{", ".join(GROUP_FIELDS)}.', show_default=False)] = None,
    b: Annotated[str | None, typer.Option("--b", help="Group b, likewise.",
                 show_default=False)] = None,
    by: Annotated[str | None, typer.Option("--by", help="Compare two values of this field "
                  "(give them as A B).", show_default=False)] = None,
    measure: Annotated[str, typer.Option("--measure", help="fightin (weighted log-odds), "
                       "chi2 or loglik (quanteda's keyness, a the target, b the "
                       "reference).")] = COMPARE["measure"],
    prior_scale: Annotated[float, typer.Option("--prior-scale", help="Strength of the prior "
                           "(times the selection's word counts).")] = COMPARE["prior_scale"],
    correction: Annotated[str, typer.Option("--correction", help="For chi2 and loglik: "
                          "default (Yates's where an expected count is below 5), williams "
                          "(loglik) or none.")] = COMPARE["correction"],
    min_count: Annotated[int, typer.Option("--min-count", help="Leave out rarer "
                         "words.")] = COMPARE["min_count"],
    top: Annotated[int, typer.Option("--top", help="Words to show for each "
                   "side.")] = COMPARE["top"],
    stopwords: Annotated[bool, typer.Option("--stopwords", help="Leave out each speech's "
                         "stopwords (function words of its language).")] = False,
    fold_accents: Annotated[bool, typer.Option("--fold-accents", help="Count words without "
                            "their accents (état as etat).")] = False,
    fmt: TableFormatOption = "table",
    raw: RawOption = False,
    plot: PlotOption = None,
    **selection: Any,
) -> None:
    """The words that most distinguish two groups of speeches (fightin' words, or
    quanteda's chi2 or log-likelihood keyness); a small group gets a warning on stderr.

    Example: policyspeech compare --a "country=US;until=1900" --b "country=US;since=1990"
    """
    if by is not None:
        if not values or len(values) != 2:
            raise CorpusError(f"--by {by} needs two values to compare, e.g. --by {by} A B")
        a, b = group_text({by: values[0]}), group_text({by: values[1]})  # quoted if need be
    elif a is None or b is None or values:
        raise CorpusError('give the groups as --a FIELD=VALUE --b FIELD=VALUE, or as '
                          '--by FIELD A B')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SmallGroupWarning)
        table = library.compare(corpus_path(ctx), a=a, b=b, measure=measure,
                                prior_scale=prior_scale, correction=correction,
                                min_count=min_count, top=top, stopwords=stopwords,
                                fold_accents=fold_accents, **selection)
    for warning in caught:
        if issubclass(warning.category, SmallGroupWarning):
            typer.echo(f"warning: {warning.message}", err=True)
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno)
    _show_frame(table, fmt, raw)
    if plot is not None:
        from policyspeech.charts import plot_compare

        typer.echo(f"chart: {plot_compare(table, plot, a=a, b=b)}", err=True)


@user_errors
@with_parameters(SELECTION_PARAMETERS)
def trends(
    ctx: typer.Context,
    by: Annotated[str | None, typer.Option("--by", help="Also per this field (country, "
                  "speaker, party, ...).", show_default=False)] = None,
    period: Annotated[str, typer.Option("--period", help="year or "
                      "month.")] = TRENDS["period"],
    fmt: TableFormatOption = "table",
    raw: RawOption = False,
    plot: PlotOption = None,
    **selection: Any,
) -> None:
    """Theme shares over time: per year (or month), the share of speeches and of words
    with each theme, optionally per group.

    Example: policyspeech trends --by country --since 2015
    """
    table = library.trends(corpus_path(ctx), by=by, period=period, **selection)
    _show_frame(table, fmt, raw)
    left_out = library.undated_in(period, corpus_path(ctx), **selection)
    if left_out:
        typer.echo(f"note: {left_out:,} speech{'' if left_out == 1 else 'es'} dated only to "
                   f"the year {'is' if left_out == 1 else 'are'} in no {period}; use "
                   "--period year to count them", err=True)
    if plot is not None:
        from policyspeech.charts import plot_trends

        typer.echo(f"chart: {plot_trends(table, plot)}", err=True)


@user_errors
@with_parameters(SELECTION_PARAMETERS)
def similar(
    ctx: typer.Context,
    threshold: Annotated[float, typer.Option("--threshold", help="Least Jaccard similarity of "
                         "two speeches' shingle sets (0 to 1).")] = SIMILAR["threshold"],
    shingle_size: Annotated[int, typer.Option("--shingle-size", help="Tokens per "
                            "shingle.")] = SIMILAR["shingle_size"],
    permutations: Annotated[int, typer.Option("--permutations", help="MinHash permutations "
                            "(more: a closer estimate, slower).")] = SIMILAR["num_perm"],
    fmt: TableFormatOption = "table",
    raw: RawOption = False,
    **selection: Any,
) -> None:
    """Pairs of speeches whose texts are nearly the same (MinHash and LSH, each pair
    confirmed with the exact Jaccard similarity of the two speeches' shingle sets).

    Example: policyspeech similar --country AT --threshold 0.9
    """
    pairs = near_duplicates(corpus_path(ctx), threshold=threshold, shingle_size=shingle_size,
                         num_perm=permutations, **selection)
    if pairs.is_empty() and fmt == "table":
        typer.echo(f"no two selected speeches have a Jaccard similarity of {threshold} or more")
        return
    _show_frame(pairs, fmt, raw)
