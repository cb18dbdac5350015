"""Output fixes: time in order (stats by year, trends charts), empty periods filled,
charts readable at 64 series, compare labels that do not overlap, a clear refusal of
trends without themes, dates at their precision. Charts are checked by the figure's
properties (tick order, line data, legend and label boxes), not by pixels."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from policyspeech import analysis, charts
from policyspeech.errors import CorpusError
from policyspeech.store import Corpus
from tests.helpers import REALDATA, make_speech, run

NO_THEMES = ("none of the 3 selected speeches has themes, and trends are theme shares; add "
             "themes (the slugs that `policyspeech themes` lists) with `policyspeech amend "
             "--from FILE.csv` (columns id, themes) or in the themes field of the records you "
             "import")


@pytest.fixture
def years(corpus: Corpus) -> Corpus:
    """More speeches in the later years, so that an order by count is not time order; a
    gap (2021) between two years; dates of every precision."""
    corpus.add_all([
        make_speech(1, date="2019", themes=["health"]),
        make_speech(2, date="2023-05", themes=["health", "energy"]),
        make_speech(3, date="2023-06-01", themes=["energy"]),
        make_speech(4, date="2023-07-02", country="FR", themes=["energy"]),
        make_speech(5, date="2020-02-03", themes=["energy"]),
        make_speech(6, date="2020-02-04", themes=[]),
        make_speech(7, date="2022-12", themes=["health"]),
    ])
    return corpus


def test_stats_by_year_is_in_time_order_with_dates_at_their_precision(years: Corpus) -> None:
    table = analysis.stats(years.path, by="year")
    assert table.select("year", "speeches", "first", "last").rows() == [
        (2019, 1, "2019", "2019"), (2020, 2, "2020-02-03", "2020-02-04"),
        (2022, 1, "2022-12", "2022-12"), (2023, 3, "2023-05", "2023-07-02")]
    two = analysis.stats(years.path, by=["country", "year"]).select("country", "year").rows()
    assert two == [("FR", 2023), ("GB", 2019), ("GB", 2020), ("GB", 2022), ("GB", 2023)]
    assert analysis.stats(years.path, by="country")["country"].to_list() == ["GB", "FR"]
    shown = run("--corpus", str(years.path), "stats", "--by", "year", "--format", "json")
    assert [(r["year"], r["first"]) for r in json.loads(shown.stdout)] == [
        (2019, "2019"), (2020, "2020-02-03"), (2022, "2022-12"), (2023, "2023-05")]


def test_stats_chart_by_year_is_in_time_order(years: Corpus) -> None:
    figure = charts.stats_figure(analysis.stats(years.path, by="year"))
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert labels == ["2023", "2022", "2020", "2019"]  # from the top: the earliest first


def test_trends_without_themes_is_refused_saying_how_to_add_them(corpus: Corpus) -> None:
    corpus.add_all([make_speech(n, themes=[]) for n in range(3)])
    with pytest.raises(CorpusError) as raised:
        analysis.trends(corpus.path)
    assert str(raised.value) == NO_THEMES
    result = run("--corpus", str(corpus.path), "trends")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"error: {NO_THEMES}\n"
    nothing = run("--corpus", str(corpus.path), "trends", "--country", "FR")
    assert (nothing.exit_code, nothing.stdout) == (0, "(no rows)\n")  # no speech selected


def test_trends_chart_runs_in_time_order_and_fills_empty_periods(years: Corpus) -> None:
    table = analysis.trends(years.path)
    # energy starts in 2020 and health in 2019: the old chart's categorical axis ran
    # 2020, 2023, 2019, 2022 for this table
    figure = charts.trends_figure(table)
    axes = figure.axes[0]
    ticks = [t.get_text() for t in axes.get_xticklabels()]
    assert ticks == ["2019", "2020", "2021", "2022", "2023"]
    lines = {line.get_label(): list(line.get_ydata()) for line in axes.get_lines()}
    assert lines == {"energy": [0.0, 0.5, 0.0, 0.0, 1.0],
                     "health": [1.0, 0.0, 0.0, 1.0, 1 / 3]}
    legend = figure.legends[0].get_window_extent(figure.canvas.get_renderer())
    plot = axes.get_window_extent(figure.canvas.get_renderer())
    assert not legend.overlaps(plot) and legend.x0 >= plot.x1
    monthly = charts.trends_figure(analysis.trends(years.path, period="month"))
    months = [t.get_text() for t in monthly.axes[0].get_xticklabels()]
    assert months[0] == "2020-02" and months == sorted(months)
    assert all(len(m) == 7 for m in months)  # a month at its precision, never a day


def test_charts_of_small_figures_still_write_files(years: Corpus, tmp_path: Path) -> None:
    out = charts.plot_trends(analysis.trends(years.path), tmp_path / "t.svg")
    assert out.read_bytes()[:400].count(b"<svg") == 1


@pytest.fixture(scope="module")
def debate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The UN General Debate (sessions of 1946, 1960, 1970, 1990 and 2023), with themes
    given here by a rule (the source codes none): every speech international_affairs, and
    defense when it speaks of disarmament."""
    if not (REALDATA / "README.md").is_file():
        pytest.skip(f"no real corpora at {REALDATA}")
    folder = tmp_path_factory.mktemp("debate")
    lines = []
    for line in (REALDATA / "ungdc.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        record["themes"] = ["international_affairs"] + (
            ["defense"] if "disarmament" in record["text"].lower() else [])
        lines.append(json.dumps(record, ensure_ascii=False))
    (folder / "ungdc.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    corpus = Corpus.init(folder / "corpus")
    corpus.import_path([folder / "ungdc.jsonl"])
    return corpus.path


def test_real_trends_of_64_series_are_small_multiples_in_time_order(debate: Path) -> None:
    table = analysis.trends(debate, by="country")
    countries = (table.filter(pl.col("theme") == "defense")["country"].unique().sort()
                 .head(64).to_list())
    assert len(countries) == 64
    chosen = table.filter(pl.col("country").is_in(countries) & (pl.col("theme") == "defense"))
    figure = charts.trends_figure(chosen)
    panels = [axes for axes in figure.axes if axes.get_visible()]
    assert len(panels) == 64 and not figure.legends
    assert sorted(p.get_title() for p in panels) == [f"defense / {c}" for c in countries]
    every_year = [str(y) for y in range(1946, 2024)]
    for axes in panels:
        assert len(axes.get_lines()[0].get_ydata()) == len(every_year)
    assert [t.get_text() for t in panels[-1].get_xticklabels()] == ["1946", "2023"]
    renderer = figure.canvas.get_renderer()
    boxes = [p.get_window_extent(renderer) for p in panels]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def label_boxes(figure: object) -> list[object]:
    """The box of each label's text (without the line that leads to its point)."""
    from matplotlib.text import Text

    axes = figure.axes[0]  # type: ignore[attr-defined]
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    for text in axes.texts:
        text.update_positions(renderer)
    return [Text.get_window_extent(text, renderer) for text in axes.texts]


def test_compare_labels_do_not_overlap_even_when_the_points_do() -> None:
    crowded = pl.DataFrame({
        "word": [f"word{i}" for i in range(20)],
        "count_a": [50 + i % 2 for i in range(20)], "count_b": [1] * 20,
        "z": [3 + 0.01 * i if i < 10 else -3 - 0.01 * i for i in range(20)],
        "side": ["a"] * 10 + ["b"] * 10})
    figure = charts.compare_figure(crowded)
    boxes = label_boxes(figure)
    assert sorted(t.get_text() for t in figure.axes[0].texts) == sorted(crowded["word"])
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_real_compare_labels_do_not_overlap(debate: Path) -> None:
    table = analysis.compare(debate, a="country=US,GB,FR", b="country=CN,IN,BR", min_count=5,
                             stopwords=True)
    figure = charts.compare_figure(table, a="US, GB, FR", b="CN, IN, BR")
    boxes = label_boxes(figure)
    assert len(boxes) == 20
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
