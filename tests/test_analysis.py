"""Comparative analysis: stats, kwic, compare (fightin' words), trends and their charts,
on a small multi-speaker, multi-country fixture corpus built here."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from policyspeech import analysis
from policyspeech.errors import CorpusError
from policyspeech.store import Corpus
from tests.helpers import make_speech, run


@pytest.fixture
def fixture(corpus: Corpus) -> Corpus:
    corpus.add_all([
        make_speech(1, speaker="Ada Lovelace", country="GB", date="2019-03-01",
                    party="Whig", themes=["technology", "education"],
                    text="Engines compute. Engines weave patterns, as looms weave flowers."),
        make_speech(2, speaker="Ada Lovelace", country="GB", date="2020-05-01",
                    party="Whig", themes=["technology"],
                    text="The engine may compose music. Engines are not clever."),
        make_speech(3, speaker="Émilie du Châtelet", country="FR", date="2019-07-14",
                    language="fr", themes=["education"],
                    text="L’État doit soutenir la science. La science éclaire l’État."),
        make_speech(4, speaker="Grace Hopper", country="US", date="2020-01-01",
                    themes=[], text="Ships in harbour are safe; that is not what ships are for."),
    ])
    return corpus


def test_stats_by_one_and_two_keys(fixture: Corpus) -> None:
    by_speaker = analysis.stats(fixture.path, by="speaker")
    assert by_speaker.columns == ["speaker", "speeches", "words", "first", "last"]
    ada = by_speaker.filter(pl.col("speaker") == "Ada Lovelace").row(0, named=True)
    assert (ada["speeches"], ada["first"], ada["last"]) == (2, "2019-03-01", "2020-05-01")
    assert ada["words"] == 9 + 9
    by_two = analysis.stats(fixture.path, by=["country", "year"])
    assert sorted(by_two.select("country", "year", "speeches").rows()) == [
        ("FR", 2019, 1), ("GB", 2019, 1), ("GB", 2020, 1), ("US", 2020, 1)]
    themes = dict(analysis.stats(fixture.path, by="theme").select("theme", "speeches").rows())
    assert themes == {"technology": 2, "education": 2, "(none)": 1}
    parties = dict(analysis.stats(fixture.path, by="party").select("party", "speeches").rows())
    assert parties == {"Whig": 2, "(none)": 2}
    assert analysis.stats(fixture.path, by="country", country="DE").height == 0
    with pytest.raises(CorpusError, match="cannot group by 'mood'"):
        analysis.stats(fixture.path, by="mood")


def test_kwic(fixture: Corpus) -> None:
    hits = analysis.kwic("engines", fixture.path, window=2)
    assert hits.columns == ["id", "speaker", "date", "date_precision", "left", "match", "right"]
    assert hits.select("left", "match", "right").rows() == [
        ("", "Engines", "compute. Engines"), ("Engines compute.", "Engines", "weave patterns,"),
        ("compose music.", "Engines", "are not")]
    assert analysis.kwic("engine", fixture.path).height == 1  # whole words only
    assert analysis.kwic("Engines", fixture.path, case_sensitive=True).height == 3
    assert analysis.kwic("weave patterns", fixture.path).row(0, named=True)["match"] == \
        "weave patterns"
    assert analysis.kwic(r"engines?\b", fixture.path, regex=True).height == 4
    accents = analysis.kwic("l’état", fixture.path, window=1)
    assert accents.select("match", "right").rows() == [("L’État", "doit"), ("l’État", ".")]
    assert analysis.kwic("steam", fixture.path).height == 0
    assert analysis.kwic("engines", fixture.path, since="2020").height == 1
    with pytest.raises(CorpusError, match="not a valid regular expression"):
        analysis.kwic("(unclosed", fixture.path, regex=True)


def test_compare_worked_example(corpus: Corpus) -> None:
    corpus.add_all([
        make_speech(1, speaker="A", text="Tax tax tax cut."),
        make_speech(2, speaker="B", text="Tax cut cut cut."),
        make_speech(3, speaker="C", text="Cut spending."),
    ])
    # By hand, from Monroe, Colaresi and Quinn (2008), with prior scale 0.5 over the whole
    # selection (tax 4, cut 5, spending 1): a_tax = 2, a_cut = 2.5, a_spending = 0.5, a_0 = 5;
    # n_a = n_b = 4.
    #   tax: delta = ln((3+2)/(4+5-3-2)) - ln((1+2)/(4+5-1-2)) = ln(1.25) - ln(0.5) = 0.916291
    #        variance = 1/5 + 1/3 = 0.533333, z = 0.916291 / 0.730297 = 1.254683
    #   cut: delta = ln(3.5/5.5) - ln(5.5/3.5) = -0.903970
    #        variance = 1/3.5 + 1/5.5 = 0.467532, z = -1.322051
    #   spending: delta 0, variance 1/0.5 + 1/0.5 = 4, z 0
    result = analysis.compare(corpus.path, a="speaker=A", b="speaker=B", prior_scale=0.5,
                              min_count=0)
    rows = {r["word"]: r for r in result.to_dicts()}
    assert (rows["tax"]["count_a"], rows["tax"]["count_b"]) == (3, 1)
    assert rows["tax"]["delta"] == pytest.approx(0.916291, abs=1e-6)
    assert rows["tax"]["variance"] == pytest.approx(0.533333, abs=1e-6)
    assert rows["tax"]["z"] == pytest.approx(1.254683, abs=1e-6)
    assert rows["cut"]["delta"] == pytest.approx(-0.903970, abs=1e-6)
    assert rows["cut"]["variance"] == pytest.approx(0.467532, abs=1e-6)
    assert rows["cut"]["z"] == pytest.approx(-1.322051, abs=1e-6)
    assert rows["spending"]["z"] == pytest.approx(0.0) and rows["spending"]["variance"] == 4
    assert (rows["tax"]["side"], rows["cut"]["side"]) == ("a", "b")


def test_compare_groups(fixture: Corpus) -> None:
    by_country = analysis.compare(fixture.path, a="country=GB", b="country=FR", min_count=1)
    top_gb = by_country.filter(pl.col("side") == "a")["word"].to_list()
    top_fr = by_country.filter(pl.col("side") == "b")["word"].to_list()
    assert top_gb[0] == "engines" and "science" in top_fr and "l'état" in top_fr
    one_speech = analysis.compare(fixture.path, a="speaker=Grace Hopper",
                                  b="speaker=Ada Lovelace", min_count=2, top=3)
    assert one_speech.filter(pl.col("side") == "a")["word"].to_list()[0] == "ships"
    no_stop = analysis.compare(fixture.path, a="country=GB", b="country=US,FR", min_count=1,
                               stopwords=True, top=50)
    assert "the" not in no_stop["word"].to_list()
    with pytest.raises(CorpusError, match=r"group b .* has no speeches"):
        analysis.compare(fixture.path, a="country=GB", b="country=DE")
    with pytest.raises(CorpusError, match="is not FIELD=VALUE"):
        analysis.compare(fixture.path, a="GB", b="country=FR")


def test_trends(fixture: Corpus) -> None:
    table = analysis.trends(fixture.path)
    rows = {(r["period"], r["theme"]): r for r in table.to_dicts()}
    assert rows[("2019", "education")]["share_speeches"] == 1.0  # both 2019 speeches
    assert rows[("2019", "technology")]["share_speeches"] == 0.5
    assert rows[("2020", "technology")]["share_speeches"] == 0.5  # 1 of 2 (one has no theme)
    words_2020 = 9 + 12
    assert rows[("2020", "technology")]["share_words"] == pytest.approx(9 / words_2020)
    grouped = analysis.trends(fixture.path, by="country", period="month")
    assert ("2019-07", "FR", "education") in {(r["period"], r["country"], r["theme"])
                                              for r in grouped.to_dicts()}
    assert analysis.trends(fixture.path, country="DE").height == 0


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_charts_render(fixture: Corpus, tmp_path: Path, suffix: str) -> None:
    from policyspeech import charts

    made = [
        charts.plot_stats(analysis.stats(fixture.path, by="speaker"), tmp_path / f"s{suffix}"),
        charts.plot_trends(analysis.trends(fixture.path), tmp_path / f"t{suffix}"),
        charts.plot_compare(analysis.compare(fixture.path, a="country=GB", b="country=FR",
                                             min_count=1), tmp_path / f"c{suffix}"),
    ]
    for path in made:
        data = path.read_bytes()
        assert 5_000 < len(data) < 2_000_000
        if suffix == ".png":
            assert data.startswith(b"\x89PNG\r\n\x1a\n")
            width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
            assert 400 <= width <= 2_000 and 200 <= height <= 2_000
        else:
            assert b"<svg" in data[:500]
    with pytest.raises(CorpusError, match=r"must end in \.png or \.svg"):
        charts.plot_stats(analysis.stats(fixture.path, by="speaker"), tmp_path / "x.pdf")


def test_cli_commands(fixture: Corpus, tmp_path: Path) -> None:
    import json

    c = str(fixture.path)
    table = run("--corpus", c, "stats", "--by", "country", "--by", "year")
    assert table.exit_code == 0 and table.stdout.splitlines()[0].split() == [
        "country", "year", "speeches", "words", "first", "last"]
    as_json = json.loads(run("--corpus", c, "stats", "--by", "theme", "--format", "json").stdout)
    assert {r["theme"] for r in as_json} == {"technology", "education", "(none)"}
    hits = run("--corpus", c, "kwic", "engines", "--window", "1", "--format", "csv")
    assert hits.stdout.splitlines()[0] == "id,speaker,date,left,match,right"
    assert len(hits.stdout.splitlines()) == 4
    words = run("--corpus", c, "compare", "--by", "country", "GB", "FR", "--min-count", "1",
                "--format", "json")
    assert json.loads(words.stdout)[0]["word"] == "engines"
    explicit = run("--corpus", c, "compare", "--a", "country=GB", "--b", "country=FR",
                   "--min-count", "1", "--top", "2")
    assert explicit.exit_code == 0 and "engines" in explicit.stdout
    shares = run("--corpus", c, "trends", "--by", "country", "--format", "csv")
    assert shares.stdout.splitlines()[0].startswith("period,country,theme,speeches")
    chart = tmp_path / "trends.png"
    drawn = run("--corpus", c, "trends", "--plot", str(chart))
    assert drawn.exit_code == 0 and chart.read_bytes().startswith(b"\x89PNG")
    for args, message in [
        (["compare", "--by", "country", "GB"], "needs two values to compare"),
        (["compare", "GB", "FR"], "give the groups as --a FIELD=VALUE"),
        (["stats", "--by", "mood"], "cannot group by 'mood'"),
        (["kwic", "(", "--regex"], "not a valid regular expression"),
        (["trends", "--period", "week"], "period 'week' is not known"),
        (["stats", "--version", "9.9.9"], "version '9.9.9' does not exist"),
    ]:
        result = run("--corpus", c, *args)
        assert result.exit_code == 1 and message in result.stderr, (args, result.stderr)


def test_charts_without_matplotlib_name_the_extra(fixture: Corpus, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from policyspeech import charts

    real_import = builtins.__import__

    def no_matplotlib(name: str, *args: object, **kwargs: object) -> object:
        if name.startswith("matplotlib"):
            raise ImportError("no matplotlib")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(CorpusError, match=r"pip install 'policyspeech\[plot\]'"):
        charts.plot_stats(analysis.stats(fixture.path, by="speaker"), tmp_path / "s.png")
