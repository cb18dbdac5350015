"""``compare`` on real corpora (``../shared/realdata``, skipped when absent): the State of
the Union addresses of US Democrats against Republicans since 1977, and two party groups of
the Austrian Nationalrat (ParlaMint-AT), with each record's stopwords left out."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from policyspeech import analysis
from policyspeech.store import Corpus

_GERMAN = """
der die das des dem den ein eine einen einem einer eines und oder aber denn sondern dass
daß weil wenn als wie ob ich du er sie es wir ihr ihnen ihm ihn ihre ihren mich mir uns
euch sich man mein meine unser unsere dieser diese dieses jener nicht kein keine auch noch
nur so schon ja doch sehr mal einmal nichts etwas alle alles ist sind war waren bin bist
sein hat haben hatte habe wird werden wurde würde kann können muss müssen soll sollen will
wollen in im an am auf aus bei mit nach von vom vor zu zum zur für über unter durch
gegen um hier da dort dann jetzt heute wo was wer
"""
GERMAN_FUNCTION_WORDS = frozenset(_GERMAN.split())
"""The commonest German function words, listed here apart from the stopword lists, so that
the test also catches a list that misses them. Not ``möchte`` ("would like"): the list of
``stop-words`` counts it a word, and SPÖ speakers say it more ("Ich möchte ...")."""


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.helpers import REALDATA

    if not (REALDATA / "README.md").is_file():
        pytest.skip(f"no real corpora at {REALDATA}")
    corpus = Corpus.init(tmp_path_factory.mktemp("real") / "corpus")
    corpus.import_path([REALDATA / "sotu.jsonl", REALDATA / "parlamint_at.jsonl"])
    return corpus.path


def words(table: pl.DataFrame, side: str) -> list[str]:
    return table.filter(pl.col("side") == side)["word"].to_list()


def test_us_parties_since_1977_have_no_letter_or_digit_tokens_on_top(real: Path) -> None:
    table = analysis.compare(real, a="party=Democratic", b="party=Republican",
                             since="1977", stopwords=True, top=20)
    for side in "ab":
        top = words(table, side)
        assert len(top) == 20
        assert [w for w in top if len(w) == 1 or re.fullmatch(r"\d+", w)] == [], top
    counts, _ = analysis.word_counts(real, a="party=Democratic", b="party=Republican",
                                     since="1977")
    vocabulary = set(counts.filter((pl.col("count_a") + pl.col("count_b")) > 0)["word"])
    assert {"u.s.", "100,000", "1.5"} <= vocabulary and not {"000", "u"} & vocabulary
    plain = analysis.compare(real, a="party=Democratic", b="party=Republican",
                             since="1977", top=20)
    assert {"i", "to", "it"} & set(plain["word"])  # what the stopwords take out


def test_austrian_party_groups_have_no_german_stopword_on_top(real: Path) -> None:
    table = analysis.compare(real, a="party=SPÖ", b="party=FPÖ", stopwords=True, top=20)
    top = words(table, "a") + words(table, "b")
    assert len(top) == 40 and not GERMAN_FUNCTION_WORDS & set(top), top
    plain = analysis.compare(real, a="party=SPÖ", b="party=FPÖ", top=20)
    assert GERMAN_FUNCTION_WORDS & set(plain["word"])  # what the stopwords take out
