"""Keyness measures: chi2 and log-likelihood (G2) as quanteda's textstat_keyness computes
them, beside fightin' words; each against 2x2 tables worked by hand here and against
published worked examples; compare(measure=...) and compare --measure."""

from __future__ import annotations

import json
import math
from pathlib import Path

import polars as pl
import pytest

from policyspeech import analysis, keyness
from policyspeech.errors import CorpusError
from policyspeech.store import Corpus
from tests.helpers import make_speech, run


def table(*rows: tuple[str, int, int]) -> pl.DataFrame:
    """Counts of words in groups a and b (the whole selection: the two groups)."""
    return pl.DataFrame({"word": [r[0] for r in rows], "count_all": [r[1] + r[2] for r in rows],
                         "count_a": [r[1] for r in rows], "count_b": [r[2] for r in rows]})


def stat(frame: pl.DataFrame, word: str, column: str) -> float:
    return float(frame.filter(pl.col("word") == word)[column].item())


# "tax" 30 times in 1,000 tokens of a, 10 times in 1,000 of b:
# a=30, b=10, c=970, d=990, N=2000; expected counts 20, 20, 980, 980 (none below 5, so the
# default correction does nothing).
LARGE = table(("tax", 30, 10), ("other", 970, 990))


def test_chi2_by_hand() -> None:
    # ad - bc = 30*990 - 10*970 = 20,000; (a+b)(c+d)(a+c)(b+d) = 40*1960*1000*1000
    # chi2 = 2000 * 20,000^2 / 7.84e10 = 10.204082; p = erfc(sqrt(10.204082 / 2)) = 0.001401
    scored = keyness.chi2(LARGE)
    assert stat(scored, "tax", "chi2") == pytest.approx(10.204082, abs=1e-6)
    assert stat(scored, "tax", "p") == pytest.approx(0.0014013, abs=1e-7)
    assert stat(scored, "other", "chi2") == pytest.approx(-10.204082, abs=1e-6)  # leans to b
    assert keyness.chi2(LARGE, correction="none").equals(scored)
    # quanteda's own test (quanteda.textstats, test-textstat_keyness.R, checked there with R's
    # chisq.test): target "b b b b b b b a a a", reference "a a a a a a a b b".
    # For b: a=7, b=2, c=3, d=7, N=19, ad - bc = 43 >= N/2, expected (a+b)(a+c)/N = 4.74 < 5:
    # Yates: 19 * (43 - 9.5)^2 / (9*10*10*9) = 2.632438; without: 19 * 43^2 / 8100 = 4.337160
    small = table(("b", 7, 2), ("a", 3, 7))
    assert stat(keyness.chi2(small), "b", "chi2") == pytest.approx(2.632438, abs=1e-6)
    assert stat(keyness.chi2(small, correction="yates"), "b", "chi2") == pytest.approx(
        2.632438, abs=1e-6)
    assert stat(keyness.chi2(small, correction="none"), "b", "chi2") == pytest.approx(
        4.337160, abs=1e-6)
    assert stat(keyness.chi2(small), "a", "chi2") == pytest.approx(-2.632438, abs=1e-6)
    # |ad - bc| < N/2: no correction even though expected counts are below 5
    # a=1, b=1, c=9, d=9: ad - bc = 0, chi2 = 0 both ways
    even = table(("w", 1, 1), ("x", 9, 9))
    assert stat(keyness.chi2(even), "w", "chi2") == 0
    assert stat(keyness.chi2(even), "w", "p") == 1


def test_loglik_by_hand() -> None:
    # G2 = 2 (30 ln(30/20) + 10 ln(10/20) + 970 ln(970/980) + 990 ln(990/980))
    #    = 2 (12.163953 - 6.931472 - 9.948787 + 10.050830) = 10.669048, plus quanteda's
    # 1e-9 inside each logarithm: about 2 * 1e-9 * Σ E = 2 * 1e-9 * 2000 = 0.000004
    scored = keyness.loglik(LARGE)
    assert stat(scored, "tax", "G2") == pytest.approx(10.669052, abs=1e-6)
    assert stat(scored, "tax", "p") == pytest.approx(math.erfc(math.sqrt(10.669052 / 2)))
    assert stat(scored, "other", "G2") == pytest.approx(-10.669052, abs=1e-6)
    small = table(("b", 7, 2), ("a", 3, 7))
    # no correction: 2 Σ O ln(O/E), E = 90/19, 81/19, 100/19, 90/19 ... = 4.534939 (quanteda's
    # test: Deducer's likelihood.test gives the same)
    assert stat(keyness.loglik(small, correction="none"), "b", "G2") == pytest.approx(
        4.534939, abs=1e-6)
    # Williams: q = 1 + (19/9 + 19/10 - 1)^2 / (6*19) = 1.079533; 4.534939 / q = 4.200833
    assert stat(keyness.loglik(small, correction="williams"), "b", "G2") == pytest.approx(
        4.200833, abs=1e-6)
    # default: the cells move 0.5 towards independence (6.5, 2.5, 3.5, 6.5; the margins
    # stay 9, 10, 10, 9): 2 (2 * 6.5 ln(6.5/(90/19)) + 2.5 ln(2.5/(81/19))
    #                        + 3.5 ln(3.5/(100/19))) = 2.702844
    assert stat(keyness.loglik(small), "b", "G2") == pytest.approx(2.702844, abs=1e-6)
    # an empty cell counts 0 (quanteda adds 1e-9 inside the logarithm)
    alone = keyness.loglik(table(("only", 20, 0), ("rest", 980, 1000)), correction="none")
    # 2 (20 ln(20/10) + 980 ln(980/990) + 1000 ln(1000/990)), and the 1e-9 of the three
    # other cells (their expected counts add up to 2000 - 10)
    by_hand = 2 * (20 * math.log(2) + 980 * math.log(980 / 990) + 1000 * math.log(1000 / 990)
                   + 1e-9 * (2000 - 10))
    assert stat(alone, "only", "G2") == pytest.approx(by_hand, abs=1e-6)


def test_published_log_likelihood_example() -> None:
    # UCREL's log-likelihood calculator (Rayson and Garside 2000): 52 in 50,000 tokens
    # against 57 in 75,000 gives LL +2.65
    scored = keyness.loglik(table(("word", 52, 57), ("other", 49_948, 74_943)))
    assert round(stat(scored, "word", "G2"), 2) == 2.65


def test_measures_are_checked() -> None:
    assert keyness.check_measure("fightin") == "z"
    for measure, correction, message in [
        ("tfidf", "default", "measure 'tfidf' is not known; use fightin, chi2, loglik"),
        ("chi2", "williams", "correction 'williams' is not one chi2 takes; use default, "
                             "yates, none"),
        ("loglik", "yate", "correction 'yate' is not one loglik takes; use default, yates, "
                           "williams, none"),
    ]:
        with pytest.raises(CorpusError) as caught:
            keyness.check_measure(measure, correction)
        assert str(caught.value) == message


@pytest.fixture
def worked(corpus: Corpus) -> Corpus:
    corpus.add_all([
        make_speech(1, speaker="A", text="Tax tax tax cut."),
        make_speech(2, speaker="B", text="Tax cut cut cut."),
        make_speech(3, speaker="C", text="Cut spending."),
    ])
    return corpus


@pytest.mark.filterwarnings("ignore::policyspeech.groups.SmallGroupWarning")
def test_compare_by_each_measure(worked: Corpus) -> None:
    # groups A and B only: tax a=3, b=1, c=1, d=3, N=8; ad - bc = 8 >= 4 and the expected
    # counts are 2 (< 5), so Yates: chi2 = 8 (8 - 4)^2 / 4^4 = 0.5; G2 with cells 2.5, 1.5,
    # 1.5, 2.5 against 2 each: 2 (5 ln 1.25 + 3 ln 0.75) = 0.505343. "spending" is in neither
    # group: no row.
    chi2 = analysis.compare(worked.path, a="speaker=A", b="speaker=B", measure="chi2",
                            min_count=0)
    assert chi2.columns == ["word", "count_a", "count_b", "chi2", "p", "side"]
    assert chi2.select("word", "side").rows() == [("tax", "a"), ("cut", "b")]
    assert chi2["chi2"].to_list() == pytest.approx([0.5, -0.5])
    loglik = analysis.compare(worked.path, a="speaker=A", b="speaker=B", measure="loglik",
                              min_count=0)
    assert loglik.columns == ["word", "count_a", "count_b", "G2", "p", "side"]
    assert loglik["G2"].to_list() == pytest.approx([0.505343, -0.505343], abs=1e-6)
    fightin = analysis.compare(worked.path, a="speaker=A", b="speaker=B", min_count=0,
                               prior_scale=0.5)
    assert fightin.filter(pl.col("word") == "tax")["z"].item() == pytest.approx(1.254683,
                                                                                abs=1e-6)
    with pytest.raises(CorpusError, match="measure 'tfidf' is not known"):
        analysis.compare(worked.path, a="speaker=A", b="speaker=B", measure="tfidf")


def test_the_table_shows_small_p_values_in_significant_digits(corpus: Corpus) -> None:
    """A p-value below 0.00005 is shown as 1.23e-45, not rounded to 0.0."""
    corpus.add_all([make_speech(n, speaker="A" if n % 2 else "B", text=(
        "tax " * 40 + "cut " * 2 if n % 2 else "cut " * 40 + "tax " * 2) + f"speech{n}")
        for n in range(8)])
    shown = run("--corpus", str(corpus.path), "compare", "--a", "speaker=A", "--b",
                "speaker=B", "--measure", "loglik", "--min-count", "0")
    assert shown.exit_code == 0
    lines = {line.split()[0]: line.split() for line in shown.stdout.splitlines()[2:]}
    assert {"tax", "cut"} <= set(lines)
    p = lines["tax"][4]
    assert "e-" in p and 0 < float(p) < 1e-10, shown.stdout


def test_compare_measure_in_the_cli(worked: Corpus, tmp_path: Path) -> None:
    c = str(worked.path)
    result = run("--corpus", c, "compare", "--a", "speaker=A", "--b", "speaker=B",
                 "--measure", "loglik", "--correction", "none", "--min-count", "0",
                 "--format", "json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert [(r["word"], r["side"]) for r in rows] == [("tax", "a"), ("cut", "b")]
    # no correction: 2 (3 ln 1.5 + 1 ln 0.5 + 1 ln 0.5 + 3 ln 1.5) = 2 (6 ln 1.5 - 2 ln 2)
    assert rows[0]["G2"] == pytest.approx(2 * (6 * math.log(1.5) - 2 * math.log(2)))
    assert len(result.stderr.splitlines()) == 2  # both groups are small
    chart = tmp_path / "chi2.png"
    drawn = run("--corpus", c, "compare", "--a", "speaker=A", "--b", "speaker=B",
                "--measure", "chi2", "--min-count", "0", "--plot", str(chart))
    assert drawn.exit_code == 0 and chart.read_bytes().startswith(b"\x89PNG")
    for args, message in [
        (["--measure", "tfidf"], "error: measure 'tfidf' is not known; use fightin, chi2, "
                                 "loglik\n"),
        (["--measure", "chi2", "--correction", "williams"],
         "error: correction 'williams' is not one chi2 takes; use default, yates, none\n"),
    ]:
        bad = run("--corpus", c, "compare", "--a", "speaker=A", "--b", "speaker=B", *args)
        assert bad.exit_code == 1 and bad.stderr == message
