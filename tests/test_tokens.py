"""Tokens and stopwords: each tokenising rule (numbers, abbreviations, apostrophes, hyphens,
case and accent folding, scripts), the stopwords of each language, and ``compare``
leaving out each record's own stopwords."""

# ruff: noqa: RUF001 (look-alike apostrophes and letters are what these tests are about)
from __future__ import annotations

import json

import polars as pl
import pytest

from policyspeech import analysis
from policyspeech.stopwords import stopwords_for
from policyspeech.store import Corpus
from policyspeech.tokens import normalize_words, split_tokens, token_lists
from tests.helpers import make_speech, run


def tokens(text: str, *, fold_accents: bool = False) -> list[str]:
    frame = pl.DataFrame({"text": [text]})
    result: list[str] = frame.select(token_lists(pl.col("text"), fold_accents=fold_accents)
                                     ).item().to_list()
    return result


@pytest.mark.parametrize(("text", "expected"), [
    ("It cost $1,000,000 in 2019.", ["it", "cost", "1,000,000", "in", "2019"]),
    ("3.5 per cent, 3,5 Prozent", ["3.5", "per", "cent", "3,5", "prozent"]),
    ("In 1999,the 1990s and the 21st century", ["in", "1999", "the", "1990s", "and", "the",
                                                 "21st", "century"]),
    ("v1.2.3 and 10.000.000", ["v1.2.3", "and", "10.000.000"]),
])
def test_numbers_stay_whole(text: str, expected: list[str]) -> None:
    assert tokens(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("The U.S. and the U.K., e.g. trade.", ["the", "u.s.", "and", "the", "u.k.", "e.g.",
                                            "trade"]),
    ("i.e. the U.S.A. now", ["i.e.", "the", "u.s.a.", "now"]),
    ("J. Smith said a.then", ["j", "smith", "said", "a", "then"]),
    ("us and U.S.", ["us", "and", "u.s."]),
])
def test_abbreviations_keep_their_periods(text: str, expected: list[str]) -> None:
    assert tokens(text) == expected


def test_apostrophe_variants_are_one_apostrophe() -> None:
    variants = ["don't", "don’t", "don‘t", "donʼt", "don′t", "don´t", "don＇t"]
    assert [tokens(v) for v in variants] == [["don't"]] * len(variants)
    assert tokens("L’État’s ‘quoted’ 'words' rock’n’roll") == [
        "l'état's", "quoted", "words", "rock'n'roll"]


def test_inner_hyphens_join_and_outer_ones_do_not() -> None:
    assert tokens("co-operate covid-19 19‐year‐old -dash- a--b") == [
        "co-operate", "covid-19", "19-year-old", "dash", "a", "b"]
    assert tokens("Ver\u00adsicherung") == ["versicherung"]  # a soft hyphen is invisible


@pytest.mark.parametrize(("variants", "folded"), [
    (["STRASSE", "Straße", "STRAẞE", "strasse"], "strasse"),
    (["ΟΔΟΣ", "οδοσ", "οδος"], "οδοσ"),  # final sigma is sigma
    (["ﬁnance", "FINANCE", "ｆｉｎａｎｃｅ"], "finance"),  # ligature, full-width letters
    (["Café", "CAFE\u0301", "cafe\u0301"], "café"),  # composed and decomposed accents
])
def test_full_case_folding(variants: list[str], folded: str) -> None:
    assert [tokens(v) for v in variants] == [[folded]] * len(variants)


def test_accent_folding_is_optional() -> None:
    text = "L'État et l'etat, Ελλάδα, ЁЛКА, Wałęsa, Løkke, naïve"
    assert tokens(text) == ["l'état", "et", "l'etat", "ελλάδα", "ёлка", "wałęsa", "løkke",
                            "naïve"]
    assert tokens(text, fold_accents=True) == ["l'etat", "et", "l'etat", "ελλαδα", "елка",
                                               "wałesa", "løkke", "naive"]


def test_greek_cyrillic_and_arabic_words() -> None:
    assert tokens("Η Ελλάδα ψηφίζει.") == ["η", "ελλάδα", "ψηφίζει"]
    assert tokens("Россия и Украина, 2022 год.") == ["россия", "и", "украина", "2022", "год"]
    assert tokens("السلام عليكم، والأمم المتحدة.") == ["السلام", "عليكم", "والأمم", "المتحدة"]


def test_scripts_without_spaces_give_one_token_per_run() -> None:
    """The documented limit: no word segmentation for Chinese, Japanese or Thai."""
    assert tokens("我们支持和平。日本語のテキスト ภาษาไทยไม่มีช่องว่าง") == [
        "我们支持和平", "日本語のテキスト", "ภาษาไทยไม่มีช่องว่าง"]


def test_counting_split_tokens_then_normalising_words_gives_the_same_counts() -> None:
    texts = pl.DataFrame({"text": ["The U.S. STRASSE Straße don’t don't", "État etat ÉTAT"]})
    direct = (texts.select(token_lists(pl.col("text"), fold_accents=True).alias("word"))
              .explode("word").group_by("word").len().sort("word"))
    by_vocabulary = (texts.select(split_tokens(pl.col("text")).alias("word")).explode("word")
                     .group_by("word").len()
                     .with_columns(normalize_words(pl.col("word"), fold_accents=True))
                     .group_by("word").agg(pl.col("len").sum()).sort("word"))
    assert direct.equals(by_vocabulary)
    assert dict(direct.iter_rows()) == {"don't": 2, "etat": 3, "strasse": 2, "the": 1,
                                        "u.s.": 1}


def test_stopwords_of_each_language_are_tokens() -> None:
    english, german = stopwords_for("en"), stopwords_for("de")
    assert {"the", "and", "don't"} <= english and "war" not in english
    assert {"der", "und", "war", "dass"} <= german  # daß is listed, folded to dass
    assert "für" in german and "fur" in stopwords_for("de", fold_accents=True)
    assert stopwords_for("no") == stopwords_for("nb") != frozenset()
    assert stopwords_for("mt") == frozenset()


@pytest.fixture
def mixed(corpus: Corpus) -> Corpus:
    """English speeches about war, German ones where "war" is a stopword ("was")."""
    corpus.add_all([
        make_speech(1, language="en", country="GB", text="War and war, the war of peace."),
        make_speech(2, language="en", country="GB", text="The war is over, the état stays."),
        make_speech(3, language="de", country="DE", speaker="Gaßner",
                    text="Es war einmal ein Krieg, der war lang. Der État war."),
        make_speech(4, language="de", country="DE", speaker="Gaßner",
                    text="Der Krieg war und der Frieden kommt, l'etat."),
    ])
    return corpus


def test_compare_leaves_out_each_records_own_stopwords(mixed: Corpus) -> None:
    plain = analysis.compare(mixed.path, a="language=en", b="language=de", min_count=1,
                             top=50)
    assert {"war", "the", "der"} <= set(plain["word"])
    table = analysis.compare(mixed.path, a="language=en", b="language=de", min_count=1,
                             top=50, stopwords=True)
    rows = {r["word"]: r for r in table.to_dicts()}
    assert (rows["war"]["count_a"], rows["war"]["count_b"]) == (4, 0)  # German "war" left out
    assert not {"the", "and", "der", "und", "es", "ein"} & set(rows)
    assert {"krieg", "peace", "frieden"} <= set(rows)


def test_compare_folds_accents_on_request(mixed: Corpus) -> None:
    c = str(mixed.path)
    plain = run("--corpus", c, "compare", "--by", "language", "en", "de", "--min-count", "1",
                "--top", "50", "--format", "json")
    folded = run("--corpus", c, "compare", "--by", "language", "en", "de", "--min-count",
                 "1", "--top", "50", "--format", "json", "--fold-accents", "--stopwords")
    assert plain.exit_code == 0 and folded.exit_code == 0, plain.stderr + folded.stderr
    plain_words = {r["word"]: r for r in json.loads(plain.stdout)}
    folded_words = {r["word"]: r for r in json.loads(folded.stdout)}
    assert {"état", "l'etat"} <= set(plain_words) and "etat" not in plain_words
    assert (folded_words["etat"]["count_a"], folded_words["etat"]["count_b"]) == (1, 1)
    assert "war" in folded_words and "der" not in folded_words
