"""Charts of the analysis results, written to PNG or SVG with matplotlib.

matplotlib is an optional extra: ``pip install 'policyspeech[plot]'``. Without it, asking
for a chart raises :class:`~policyspeech.errors.CorpusError` saying which extra to install.

Each ``plot_*`` function writes a file; the ``*_figure`` function beside it returns the
matplotlib figure, laid out, for a notebook or a check. Time runs left to right in order,
with every period between the first and the last (a period with no speech is 0); a
trends chart of more than :data:`MAX_LINES` series is drawn as small multiples, one panel
per series, and a smaller one has its legend outside the plot; the labels of a
``compare`` chart never overlap.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from policyspeech.errors import CorpusError

if TYPE_CHECKING:
    import polars as pl

FORMATS = (".png", ".svg")
TOP_LABELS = 10
MAX_LINES = 12
"""Most series drawn as lines in one plot; more are drawn as small multiples."""
PANEL_COLUMNS = 8
MAX_TICKS = 12
TRENDS_COLUMNS = ("period", "theme", "speeches", "words", "period_speeches", "period_words",
                  "share_speeches", "share_words")


def _pyplot(out: Path | None = None) -> Any:
    if out is not None and out.suffix.lower() not in FORMATS:
        raise CorpusError(f"chart file '{out}' must end in .png or .svg")
    try:
        import matplotlib
    except ImportError:
        raise CorpusError("charts need matplotlib: pip install 'policyspeech[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure: Any, out: Path) -> Path:
    figure.savefig(out, dpi=120)
    import matplotlib.pyplot as plt

    plt.close(figure)
    return out


def stats_figure(table: pl.DataFrame, *, value: str = "speeches") -> Any:
    """Horizontal bars: ``value`` (speeches or words) per group: the largest first, or
    in time order from the top when a key is the year (the last 30 groups)."""
    plt = _pyplot()
    keys = [c for c in table.columns if c not in ("speeches", "words", "first", "last")]
    if "year" in keys:
        shown = table.sort(keys).tail(30)
    else:
        shown = table.sort(value, descending=True).head(30)
    labels = [" / ".join(str(row[k]) for k in keys) for row in shown.iter_rows(named=True)]
    figure, axes = plt.subplots(figsize=(8, max(2.5, 0.3 * len(labels) + 1)))
    axes.barh(labels[::-1], shown[value].to_list()[::-1], color="#3b6ea5")
    axes.set_xlabel(value)
    axes.set_title(f"{value} by {' and '.join(keys)}")
    figure.tight_layout()
    return figure


def plot_stats(table: pl.DataFrame, out: Path, *, value: str = "speeches") -> Path:
    """Write :func:`stats_figure` to ``out`` (.png or .svg)."""
    _pyplot(out)
    return _save(stats_figure(table, value=value), out)


def all_periods(periods: list[str]) -> list[str]:
    """Every year (``YYYY``) or month (``YYYY-MM``) from the first of ``periods`` to the
    last, in order.

    >>> all_periods(["2021", "2019"]), all_periods(["2019-11", "2020-02"])
    (['2019', '2020', '2021'], ['2019-11', '2019-12', '2020-01', '2020-02'])
    """
    if not periods:
        return []
    first, last = min(periods), max(periods)
    if len(first) == 4:
        return [str(year) for year in range(int(first), int(last) + 1)]
    index = range(int(first[:4]) * 12 + int(first[5:]) - 1, int(last[:4]) * 12 + int(last[5:]))
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in index]


def _series(table: pl.DataFrame, share: str) -> tuple[list[str], dict[str, list[float]]]:
    """The periods in order, and each series' share per period (0 where it has none)."""
    periods = all_periods(table["period"].unique().to_list())
    groups = [c for c in table.columns if c not in TRENDS_COLUMNS]
    series: dict[str, list[float]] = {}
    for key, part in table.sort("theme", *groups).group_by(["theme", *groups],
                                                            maintain_order=True):
        values = dict(zip(part["period"].to_list(), part[share].to_list(), strict=True))
        series[" / ".join(str(k) for k in key)] = [values.get(p, 0.0) for p in periods]
    return periods, series


def _period_ticks(axes: Any, periods: list[str]) -> None:
    step = max(1, -(-len(periods) // MAX_TICKS))
    positions = list(range(0, len(periods), step))
    axes.set_xticks(positions, [periods[i] for i in positions], rotation=45, ha="right",
                    fontsize="small")


def trends_figure(table: pl.DataFrame, *, share: str = "share_speeches") -> Any:
    """Lines: the share of each theme (or theme and group) per period, in time order."""
    plt = _pyplot()
    periods, series = _series(table, share)
    label = share.replace("_", " ")
    if len(series) <= MAX_LINES:
        figure, axes = plt.subplots(figsize=(10, 5), layout="constrained")
        for name, values in series.items():
            axes.plot(range(len(periods)), values, marker="o", markersize=3, label=name)
        _period_ticks(axes, periods)
        axes.set_ylabel(label)
        axes.set_xlabel("period")
        axes.set_title("theme shares over time")
        if series:
            figure.legend(loc="outside right upper", fontsize="small")
        return figure
    columns = min(PANEL_COLUMNS, len(series))
    rows = -(-len(series) // columns)
    figure, grid = plt.subplots(rows, columns, figsize=(2.2 * columns, 1.7 * rows + 1),
                                sharex=True, sharey=True, squeeze=False, layout="constrained")
    panels = grid.ravel()
    for axes, (name, values) in zip(panels, series.items(), strict=False):
        axes.plot(range(len(periods)), values, linewidth=1)
        axes.set_title(name, fontsize="x-small")
        axes.tick_params(labelsize="x-small")
    for axes in panels[len(series):]:
        axes.set_visible(False)
    ends = [0, len(periods) - 1]
    for axes in grid[-1]:
        axes.set_xticks(ends, [periods[0], periods[-1]], fontsize="x-small")
    figure.suptitle(f"theme shares over time ({label}), one panel per series")
    return figure


def plot_trends(table: pl.DataFrame, out: Path, *, share: str = "share_speeches") -> Path:
    """Write :func:`trends_figure` to ``out`` (.png or .svg)."""
    _pyplot(out)
    return _save(trends_figure(table, share=share), out)


LABEL_STEP = 12
"""Points between the rows that a label may move to, up or down from its point."""


def _label_offsets() -> list[tuple[int, int]]:
    """Offsets in points from a point to try for its label, the nearest first: right and
    left of it, then ever farther above and below."""
    return list(dict.fromkeys((dx, sign * LABEL_STEP * step) for step in range(60)
                              for sign in (1, -1) for dx in (4, -4)))


def _place_labels(figure: Any, axes: Any, labels: list[tuple[str, float, float]]) -> None:
    """Annotate each point with its word where the label lies inside the plot and overlaps
    no label placed before: beside the point if there is room, else farther above or below
    it, with a line to the point."""
    from matplotlib.text import Text

    renderer = figure.canvas.get_renderer()
    inside = axes.get_window_extent(renderer)
    placed: list[Any] = []
    offsets = _label_offsets()
    for word, x, y in labels:
        for dx, dy in offsets:
            note = _label(axes, word, (x, y), (dx, dy))
            note.update_positions(renderer)
            box = Text.get_window_extent(note, renderer).expanded(1.05, 1.1)  # no line
            if (box.x0 >= inside.x0 and box.x1 <= inside.x1 and box.y0 >= inside.y0
                    and box.y1 <= inside.y1 and not any(box.overlaps(o) for o in placed)):
                placed.append(box)
                break
            note.remove()
        else:  # no free place in the plot (hundreds of labels): beside the point
            _label(axes, word, (x, y), offsets[0])


def _label(axes: Any, word: str, point: tuple[float, float], offset: tuple[int, int]) -> Any:
    dx, dy = offset
    return axes.annotate(word, point, xytext=(dx, dy - 3), textcoords="offset points",
                         fontsize=8, ha="left" if dx > 0 else "right",
                         arrowprops=None if abs(dy) <= LABEL_STEP else {
                             "arrowstyle": "-", "color": "#999999", "lw": 0.5})


def compare_figure(table: pl.DataFrame, *, a: str = "a", b: str = "b") -> Any:
    """The compare scatter: word frequency against the measure's statistic (z, chi2 or
    G2), the top words of each side labelled, no two labels overlapping."""
    score = next(name for name in ("z", "chi2", "G2") if name in table.columns)
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(8, 6))
    frequency = (table["count_a"] + table["count_b"]).to_list()
    colours = ["#c0392b" if side == "a" else "#2c7fb8" for side in table["side"].to_list()]
    axes.scatter(frequency, table[score].to_list(), c=colours, s=14)
    axes.set_xscale("log")
    axes.axhline(0, color="grey", linewidth=0.8)
    axes.set_xlabel("frequency in the two groups (log scale)")
    axes.set_ylabel(f"{'z-score' if score == 'z' else score} (positive: {a}; negative: {b})")
    axes.set_title("fightin' words: weighted log-odds with an informative Dirichlet prior"
                   if score == "z" else f"keyness: signed {score}, {a} against {b}")
    figure.tight_layout()  # before the labels: they are placed in the final coordinates
    labels = []
    for side in ("a", "b"):
        part = table.filter(table["side"] == side).head(TOP_LABELS)
        labels += [(row["word"], row["count_a"] + row["count_b"], row[score])
                   for row in part.iter_rows(named=True)]
    _place_labels(figure, axes, labels)
    return figure


def plot_compare(table: pl.DataFrame, out: Path, *, a: str = "a", b: str = "b") -> Path:
    """Write :func:`compare_figure` to ``out`` (.png or .svg)."""
    _pyplot(out)
    return _save(compare_figure(table, a=a, b=b), out)
