"""Charts of the analysis results, written to PNG or SVG with matplotlib.

matplotlib is an optional extra: ``pip install 'policyspeech[plot]'``. Without it, asking
for a chart raises :class:`~policyspeech.errors.CorpusError` saying which extra to install.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from policyspeech.errors import CorpusError

if TYPE_CHECKING:
    import polars as pl

FORMATS = (".png", ".svg")
TOP_LABELS = 10


def _pyplot(out: Path) -> Any:
    if out.suffix.lower() not in FORMATS:
        raise CorpusError(f"chart file '{out}' must end in .png or .svg")
    try:
        import matplotlib
    except ImportError:
        raise CorpusError("charts need matplotlib: pip install 'policyspeech[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure: Any, out: Path) -> Path:
    figure.tight_layout()
    figure.savefig(out, dpi=120)
    figure.clf()
    import matplotlib.pyplot as plt

    plt.close(figure)
    return out


def plot_stats(table: pl.DataFrame, out: Path, *, value: str = "speeches") -> Path:
    """Horizontal bars: ``value`` (speeches or words) per group, the largest first."""
    plt = _pyplot(out)
    keys = [c for c in table.columns if c not in ("speeches", "words", "first", "last")]
    shown = table.sort(value, descending=True).head(30)
    labels = [" / ".join(str(row[k]) for k in keys) for row in shown.iter_rows(named=True)]
    figure, axes = plt.subplots(figsize=(8, max(2.5, 0.3 * len(labels) + 1)))
    axes.barh(labels[::-1], shown[value].to_list()[::-1], color="#3b6ea5")
    axes.set_xlabel(value)
    axes.set_title(f"{value} by {' and '.join(keys)}")
    return _save(figure, out)


def plot_trends(table: pl.DataFrame, out: Path, *, share: str = "share_speeches") -> Path:
    """Lines: the share of each theme (or theme and group) per period."""
    plt = _pyplot(out)
    series = [c for c in table.columns if c not in (
        "period", "theme", "speeches", "words", "period_speeches", "period_words",
        "share_speeches", "share_words")]
    figure, axes = plt.subplots(figsize=(9, 5))
    names = ["theme", *series]
    for key, part in table.sort("period").group_by(names, maintain_order=True):
        label = " / ".join(str(k) for k in key)
        axes.plot(part["period"].to_list(), part[share].to_list(), marker="o", label=label)
    axes.set_ylabel(share.replace("_", " "))
    axes.set_xlabel("period")
    axes.set_title("theme shares over time")
    if table.height:
        axes.legend(fontsize="small", ncol=2)
    return _save(figure, out)


def plot_compare(table: pl.DataFrame, out: Path, *, a: str = "a", b: str = "b") -> Path:
    """The compare scatter: word frequency against the measure's statistic (z, chi2 or
    G2), the top words labelled."""
    score = next(name for name in ("z", "chi2", "G2") if name in table.columns)
    plt = _pyplot(out)
    figure, axes = plt.subplots(figsize=(8, 6))
    frequency = (table["count_a"] + table["count_b"]).to_list()
    colours = ["#c0392b" if side == "a" else "#2c7fb8" for side in table["side"].to_list()]
    axes.scatter(frequency, table[score].to_list(), c=colours, s=14)
    axes.set_xscale("log")
    axes.axhline(0, color="grey", linewidth=0.8)
    for side in ("a", "b"):
        part = table.filter(table["side"] == side).head(TOP_LABELS)
        for row in part.iter_rows(named=True):
            axes.annotate(row["word"], (row["count_a"] + row["count_b"], row[score]),
                          fontsize=8)
    axes.set_xlabel("frequency in the two groups (log scale)")
    axes.set_ylabel(f"{'z-score' if score == 'z' else score} (positive: {a}; negative: {b})")
    axes.set_title("fightin' words: weighted log-odds with an informative Dirichlet prior"
                   if score == "z" else f"keyness: signed {score}, {a} against {b}")
    return _save(figure, out)
