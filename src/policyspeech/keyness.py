"""Keyness: how much more (or less) often a word occurs in group a than in group b.

Three measures over a table of token counts (``word``, ``count_all``, ``count_a``,
``count_b``, as :func:`policyspeech.analysis.word_counts` makes it):

- ``fightin``: weighted log-odds with an informative Dirichlet prior (Monroe, Colaresi
  and Quinn 2008), the column ``z``;
- ``chi2``: Pearson's χ² of each word's 2×2 table, the column ``chi2``;
- ``loglik``: the likelihood-ratio statistic G² of the same table, the column ``G2``.

χ² and G² are computed as quanteda's ``textstat_keyness`` computes them (quanteda.textstats
0.97, ``src/keyness.cpp``), group a the target and group b the reference: for a word,
a and b are its counts in the two groups, c and d the other tokens of each, N = a+b+c+d.
Each statistic is signed: positive when a exceeds its expected count (a+b)(a+c)/N, that
is when the word leans to group a. ``p`` is the probability of a larger |statistic| under
χ² with one degree of freedom. Counts of the whole selection (``count_all``) serve only
the fightin' words prior; χ² and G² leave out words found in neither group.

Corrections (``correction``) as quanteda's code applies them:

- ``default`` (or ``yates``): Yates's continuity correction of 0.5, applied only where
  it matters, when |ad - bc| >= N/2 and some expected cell count is below 5; for G² the
  four cells are moved 0.5 towards independence. quanteda's documentation says the
  default for G² is Williams's correction; its code applies Yates's, as here.
- ``williams`` (G² only): G² divided by q = 1 + (N/(a+b) + N/(c+d) - 1)(N/(a+c) +
  N/(b+d) - 1) / (6N), or by 1 when a cell is 0.
- ``none``.

>>> import polars as pl
>>> counts = pl.DataFrame({"word": ["b", "a"], "count_all": [9, 10],
...                        "count_a": [7, 3], "count_b": [2, 7]})
>>> chi2(counts)["chi2"].round(4).to_list()
[2.6324, -2.6324]
>>> loglik(counts, correction="none")["G2"].round(4).to_list()
[4.5349, -4.5349]
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from policyspeech.errors import CorpusError

if TYPE_CHECKING:
    import polars as pl

MEASURES = {"fightin": "z", "chi2": "chi2", "loglik": "G2"}
"""Each measure and the column of its statistic."""
CORRECTIONS = ("default", "yates", "williams", "none")
CHI2_CORRECTIONS = ("default", "yates", "none")
"""quanteda's code multiplies χ² by Williams's q (src/keyness.cpp) where G² is divided by
it; rather than copy either reading, χ² takes no Williams correction here."""
EPSILON = 1e-9
"""Added inside G²'s logarithms, as quanteda does, so that an empty cell counts 0."""


def check_measure(measure: str, correction: str = "default") -> str:
    """The column of ``measure``'s statistic, once ``measure`` and ``correction`` are
    known to go together.

    >>> check_measure("loglik")
    'G2'
    >>> check_measure("chi2", "williams")
    Traceback (most recent call last):
    ...
    policyspeech.errors.CorpusError: correction 'williams' is not one chi2 takes; use default, yates, none
    """
    if measure not in MEASURES:
        raise CorpusError(f"measure '{measure}' is not known; use {', '.join(MEASURES)}")
    allowed = {"fightin": CORRECTIONS, "chi2": CHI2_CORRECTIONS}.get(measure, CORRECTIONS)
    if correction not in allowed:
        raise CorpusError(f"correction '{correction}' is not one {measure} takes; use "
                          f"{', '.join(allowed)}")
    return MEASURES[measure]


def score(counts: pl.DataFrame, measure: str, *, prior_scale: float = 0.1,
          correction: str = "default") -> pl.DataFrame:
    """``counts`` scored by ``measure`` (``fightin``, ``chi2`` or ``loglik``);
    ``prior_scale`` is for fightin' words, ``correction`` for χ² and G²."""
    check_measure(measure, correction)
    if measure == "fightin":
        return fightin_words(counts, prior_scale=prior_scale)
    return chi2(counts, correction=correction) if measure == "chi2" else loglik(
        counts, correction=correction)


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


def chi2(counts: pl.DataFrame, *, correction: str = "default") -> pl.DataFrame:
    """Signed χ² of each word, group a against group b, with its p-value (columns
    ``chi2``, ``p``): N (|ad - bc| - N·δ)² / ((a+b)(c+d)(a+c)(b+d)), δ Yates's 0.5 where
    the ``default`` correction applies it, else 0.

    Worked example (quanteda.textstats, tests/testthat/test-textstat_keyness.R, "chi2
    computation is correct", checked there against R's ``stats::chisq.test``): target "b b
    b b b b b a a a", reference "a a a a a a a b b"; for b, a=7, b=2, c=3, d=7, N=19:
    χ² = 19 (43 - 9.5)² / 8100 = 2.6324 with the correction, 19 · 43² / 8100 = 4.3372
    without.
    """
    import polars as pl

    check_measure("chi2", correction)
    a, b, c, d, n = _cells()
    delta = _yates() if correction != "none" else pl.lit(0.0)
    statistic = (n * ((a * d - b * c).abs() - n * delta) ** 2
                 / ((a + b) * (c + d) * (a + c) * (b + d)))
    return _signed(counts, statistic, "chi2")


def loglik(counts: pl.DataFrame, *, correction: str = "default") -> pl.DataFrame:
    """Signed likelihood-ratio G² of each word, group a against group b, with its p-value
    (columns ``G2``, ``p``): 2 Σ O ln(O / E + ε) over the four cells (Dunning 1993), the
    cells first moved 0.5 towards independence where the ``default`` correction applies.

    Worked example (Rayson and Garside 2000; UCREL's log-likelihood calculator,
    ucrel.lancs.ac.uk/llwizard.html): a word seen 52 times in 50,000 tokens and 57 times
    in 75,000 has log-likelihood +2.65 (its two word cells give 2.652, the four cells
    2.654; no expected count is below 5, so no correction).
    """
    import polars as pl

    check_measure("loglik", correction)
    a, b, c, d, n = _cells()
    delta = _yates() if correction in ("default", "yates") else pl.lit(0.0)
    towards = pl.when(a * d - b * c > 0).then(-delta).otherwise(delta)
    aa, bb, cc, dd = a + towards, b - towards, c - towards, d + towards
    terms = [(aa, aa + bb, aa + cc), (bb, aa + bb, bb + dd), (cc, aa + cc, cc + dd),
             (dd, bb + dd, cc + dd)]
    statistic = 2 * pl.sum_horizontal(
        observed * (observed / (row * column / n) + EPSILON).log()
        for observed, row, column in terms)
    if correction == "williams":
        q = 1 + (n / (a + b) + n / (c + d) - 1) * (n / (a + c) + n / (b + d) - 1) / (6 * n)
        statistic = statistic / pl.when(a * b * c * d == 0).then(1.0).otherwise(q)
    return _signed(counts, statistic, "G2")


def _cells() -> tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr, pl.Expr]:
    """a, b, c, d and N of each word's 2×2 table, as floats."""
    import polars as pl

    a = pl.col("count_a").cast(pl.Float64)
    b = pl.col("count_b").cast(pl.Float64)
    c, d = a.sum() - a, b.sum() - b
    return a, b, c, d, a.sum() + b.sum()


def _yates() -> pl.Expr:
    """0.5 where quanteda applies Yates's correction to a word's table, else 0."""
    import polars as pl

    a, b, c, d, n = _cells()
    smallest = pl.min_horizontal((a + b) * (a + c), (a + b) * (b + d), (a + c) * (c + d),
                                 (c + d) * (b + d)) / n
    return (pl.when(((a * d - b * c).abs() >= n / 2) & (smallest < 5))
            .then(0.5).otherwise(0.0))


def _signed(counts: pl.DataFrame, statistic: pl.Expr, name: str) -> pl.DataFrame:
    """``counts`` with the statistic, positive where a exceeds its expected count, and p."""
    import polars as pl

    a, b, c, _, n = _cells()
    counts = counts.filter((pl.col("count_a") + pl.col("count_b")) > 0)  # 0/0: no evidence
    sign = pl.when(a > (a + b) * (a + c) / n).then(1.0).otherwise(-1.0)
    scored = counts.with_columns((statistic * sign).alias(name))
    p = [math.erfc(math.sqrt(abs(x) / 2)) if x is not None and not math.isnan(x) else None
         for x in scored[name].to_list()]
    return scored.with_columns(p=pl.Series(p, dtype=pl.Float64))
