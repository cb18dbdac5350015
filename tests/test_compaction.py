"""Compaction (issue 5): automatic past a threshold, small fragments only, sorted."""

from __future__ import annotations

import json

import pyarrow.parquet as pq

import policyspeech as ps
from policyspeech.store import Corpus
from policyspeech.tuning import Tuning
from tests.helpers import log_files, make_speech


def tuned(corpus: Corpus, **values: int) -> Corpus:
    """The same corpus, opened with other tuning values."""
    return Corpus(corpus.path, tuning=Tuning(**values))


def operations(corpus: Corpus) -> list[str]:
    return [json.loads(p.read_bytes())["operation"] for p in log_files(corpus.path)]


def test_adds_compact_by_themselves_past_the_fragment_threshold(
        corpus: Corpus) -> None:
    corpus = tuned(corpus, auto_compact_fragments=5)
    for n in range(5):
        corpus.add(make_speech(n, date=f"201{9 - n}-01-01"))
    assert len(corpus.head().fragments) == 5 and "compact" not in operations(corpus)
    corpus.add(make_speech(5, date="2000-01-01"))  # the sixth fragment passes the threshold
    assert operations(corpus)[-2:] == ["add", "compact"]
    [fragment] = corpus.fragment_paths()
    dates = pq.read_table(fragment, columns=["date"])["date"].to_pylist()
    assert dates == sorted(dates) and len(dates) == 6
    assert corpus.verify() == [] and ps.read(corpus.path).height == 6


def test_adds_compact_by_themselves_past_the_byte_threshold(
        corpus: Corpus) -> None:
    corpus.add(make_speech(0))
    one_fragment = next(iter(corpus.head().fragments.values()))["bytes"]
    corpus = tuned(corpus, auto_compact_bytes=3 * one_fragment)
    corpus.add(make_speech(1))
    assert "compact" not in operations(corpus)
    corpus.add(make_speech(2))
    assert operations(corpus)[-1] == "compact" and len(corpus.head().fragments) == 1


def test_large_and_released_fragments_are_never_rewritten(
        corpus: Corpus) -> None:
    corpus.add_all([make_speech(n, text=f"Speech {n}. " * 400) for n in range(20)])
    corpus.release("major")
    released = set(corpus.head().fragments)
    corpus.add_all([make_speech(n, text=f"Speech {n}. " * 400) for n in range(20, 40)])
    large = set(corpus.head().fragments) - released
    corpus = tuned(corpus, small_fragment_bytes=min(
        corpus.head().fragments[p]["bytes"] for p in large))
    for n in range(40, 43):
        corpus.add(make_speech(n))
    assert corpus.compact().merged == 3
    after = set(corpus.head().fragments)
    assert released <= after and large <= after and len(after) == len(released | large) + 1
    corpus.release()
    assert released | large <= set(corpus.head().releases["1.1.0"]["fragments"])
    assert ps.read(corpus.path, version="latest").height == 43
    assert ps.read(corpus.path, version="1.0.0").height == 20


def test_compact_with_nothing_to_merge_changes_nothing(corpus: Corpus) -> None:
    corpus.add(make_speech(1))
    before = operations(corpus)
    assert corpus.compact().merged == 0 and operations(corpus) == before


def test_large_fragments_do_not_make_every_add_compact(
        corpus: Corpus) -> None:
    for n in range(4):  # four "large" fragments (as a bulk import leaves them)
        corpus.add_all([make_speech(100 * n + k, text=f"Speech {n} {k}. " * 300)
                        for k in range(5)])
    corpus = tuned(corpus, auto_compact_fragments=3, small_fragment_bytes=min(
        info["bytes"] for info in corpus.head().fragments.values()))
    assert "compact" not in operations(corpus)
    for n in range(3):
        corpus.add(make_speech(1_000 + n))
    assert "compact" not in operations(corpus)  # 3 small ones: not past the threshold
    corpus.add(make_speech(2_000))
    assert operations(corpus)[-1] == "compact"
    corpus.add(make_speech(3_000))
    assert operations(corpus)[-1] == "add"  # the merged one and a new one: no compaction
    assert len(corpus.head().fragments) == 4 + 2
