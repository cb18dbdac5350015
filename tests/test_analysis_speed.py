"""The speed work of kwic and compare: per-speech token counts cached per fragment (the
same counts with and without the cache, a damaged or foreign cache file never used, the
cache keyed by the tokens' version), chunked work equal to the whole, and kwic's limit
and id column."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pytest

from policyspeech import analysis, contexts, counting
from policyspeech.errors import CorpusError
from policyspeech.layout import COUNTS_CACHE, cache_folder
from policyspeech.scanning import version_files
from policyspeech.store import Corpus
from policyspeech.tokens import token_lists
from tests.helpers import make_speech, run

TEXTS = [
    "Engines compute. Engines weave patterns, as looms weave flowers.",
    "The engine may compose music. Engines are not clever; engines obey.",
    "L’État doit soutenir la science. La science éclaire l’État.",
    "Ships in harbour are safe; that is not what ships are for. Engines!",
    "Crime falls, crime rises: engines of crime and of reform.",
]


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache folder for each test (the suite's is shared by all tests)."""
    monkeypatch.setenv("POLICYSPEECH_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def speeches(corpus: Corpus) -> Corpus:
    """Ten speeches in three fragments (three commits), in GB, FR and US."""
    countries = ["GB", "FR", "US"]
    numbered = [make_speech(n, country=countries[n % 3], date=f"{2015 + n}-01-01",
                            text=f"{TEXTS[n % len(TEXTS)]} Number {n}.") for n in range(10)]
    for part in (numbered[:4], numbered[4:7], numbered[7:]):
        corpus.add_all(part)
    return corpus


def reference(path: Path, a: str, b: str, **filters: Any) -> pl.DataFrame:
    """The counts by hand: every selected text tokenised at once, counted by group."""
    frame = _read(path, **filters)
    tokens = frame.select(token_lists(pl.col("text")).alias("word"),
                          in_a=pl.col("country") == a, in_b=pl.col("country") == b
                          ).explode("word").drop_nulls("word")
    return (tokens.group_by("word").agg(count_all=pl.len(), count_a=pl.col("in_a").sum(),
                                        count_b=pl.col("in_b").sum())
            .sort("word").cast({c: pl.UInt32 for c in counting.COUNT_COLUMNS}))


def _read(path: Path, **filters: Any) -> pl.DataFrame:
    from policyspeech.loaders import read

    return read(path, columns=["country", "text"], **filters)


def counts(path: Path, **filters: Any) -> pl.DataFrame:
    return analysis.word_counts(path, a="country=GB", b="country=FR", **filters)[0]


def cache_files() -> list[Path]:
    return sorted((cache_folder() / COUNTS_CACHE).glob("*.parquet"))


def test_counts_are_the_same_without_cache_cold_and_warm(speeches: Corpus) -> None:
    expected = reference(speeches.path, "GB", "FR")
    assert expected.filter(pl.col("word") == "engines").row(0)[1:] == (12, 6, 3)
    files = version_files(speeches.path, "head", False)
    assert cache_files() == []
    cold = counts(speeches.path)
    assert len(cache_files()) == 3  # one file per fragment
    stamps = [os.stat(p).st_mtime_ns for p in cache_files()]
    warm = counts(speeches.path)
    assert [os.stat(p).st_mtime_ns for p in cache_files()] == stamps  # read, not rewritten
    selection = _read_flags(speeches.path)
    uncached = counting.group_counts(files, selection, use_cache=False)
    assert cold.equals(expected) and warm.equals(expected) and uncached.equals(expected)
    assert len(cache_files()) == 3
    filtered = counts(speeches.path, since="2019")
    assert filtered.equals(reference(speeches.path, "GB", "FR", since="2019"))
    assert len(cache_files()) == 3  # a fragment's counts serve every selection


SPELLINGS = ["Straße STRASSE strasse. État etat ÉTAT l’État l'état", "\u00ad the THE The",
             "", "\uff26\uff55\uff4c\uff4c full ﬁne fine Ελλάδα ΕΛΛΆΔΑ",
             "don\u00b4t don't DON’T 1,000 u.s. U.S."]


@pytest.mark.parametrize("fold_accents", [False, True])
def test_counts_of_spellings_that_become_one_word_match_token_lists(
        corpus: Corpus, fold_accents: bool) -> None:
    """Written words are normalised once per batch and merged within each speech: the
    counts per speech are those of normalising every token (and a word that becomes empty,
    a lone soft hyphen, is dropped)."""
    corpus.add_all([make_speech(n, text=f"{text} Number {n}.") for n, text in
                    enumerate(SPELLINGS)])
    files = version_files(corpus.path, "head", False)
    (fragment,) = counting.fragments(files)
    vocabulary, table = counting.count_fragment(fragment, fold_accents=fold_accents)
    texts = pl.Series("text", counting.read_column(fragment, "text"))
    expected = (texts.to_frame().select(token_lists(pl.col("text"), fold_accents=fold_accents))
                .to_series().to_list())
    for ids, numbers, tokens in zip(table.column("ids").to_pylist(),
                                    table.column("counts").to_pylist(), expected, strict=True):
        found = {vocabulary[i]: n for i, n in zip(ids, numbers, strict=True)}
        assert found == {word: tokens.count(word) for word in tokens}
        assert sorted(ids) == ids and "" not in found
    assert len(set(vocabulary)) == len(vocabulary)
    assert ("état" in vocabulary) is not fold_accents and "strasse" in vocabulary


def _read_flags(path: Path) -> pl.DataFrame:
    from policyspeech.loaders import read

    return read(path, columns=["id", "country"]).select(
        "id", in_a=pl.col("country") == "GB", in_b=pl.col("country") == "FR")


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "empty", "foreign",
                                    "other key", "edited counts", "folder"])
def test_a_damaged_or_foreign_cache_file_is_ignored_and_made_again(
        speeches: Corpus, damage: str) -> None:
    expected = reference(speeches.path, "GB", "FR")
    counts(speeches.path)
    first, second = cache_files()[:2]
    if damage == "flipped byte":
        _flip(first, first.stat().st_size // 2)
    elif damage == "truncated":
        first.write_bytes(first.read_bytes()[:-100])
    elif damage == "empty":
        first.write_bytes(b"")
    elif damage == "foreign":  # another fragment's (valid) file under this fragment's name
        name = first.name.split("-", 1)[0] + "-" + second.name.split("-", 1)[1]
        first.unlink()
        shutil.copy(second, first.with_name(name))
    elif damage == "other key":  # a file bound to another cache's key
        key = cache_folder() / "key"
        key.write_bytes(os.urandom(32))
        # every file was bound to the old key: all are made again, none is used
    elif damage == "edited counts":  # a well-formed file, its counts doubled, not bound
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        table = pq.read_table(first)
        doubled = pc.multiply(table["counts"].combine_chunks().values, 2)
        table = table.set_column(1, "counts", pa.ListArray.from_arrays(
            table["counts"].combine_chunks().offsets, doubled))
        pq.write_table(table, first)
        size = first.stem.rsplit("-", 2)[1]
        first.rename(first.with_name(first.name.replace(f"-{size}-",
                                                        f"-{first.stat().st_size}-")))
    elif damage == "folder":
        first.unlink()
        first.mkdir()
    assert counts(speeches.path).equals(expected)
    assert len([p for p in cache_files() if p.is_file()]) >= 3
    assert counts(speeches.path).equals(expected)


def test_a_cache_file_is_used_only_under_its_tokens_version(
        speeches: Corpus, monkeypatch: pytest.MonkeyPatch) -> None:
    counts(speeches.path)
    before, version = cache_files(), counting.TOKENS_VERSION
    assert all(f"-t{version}f{counting.FORMAT}-" in p.name for p in before)

    def upper(text: pl.Expr) -> pl.Expr:
        return text.str.to_uppercase().str.extract_all(r"\w+")

    def as_written(words: pl.Expr, *, fold_accents: bool = False) -> pl.Expr:
        return words

    monkeypatch.setattr(counting, "split_tokens", upper)
    monkeypatch.setattr(counting, "normalize_words", as_written)
    monkeypatch.setattr(counting, "TOKENS_VERSION", 99)
    words = counts(speeches.path)["word"].to_list()
    assert "ENGINES" in words and "engines" not in words
    assert len(cache_files()) == 6 and set(before) < set(cache_files())
    # a file that names version 99 but was made under another is not read either
    for path in cache_files():
        if "-t99f" in path.name:
            path.unlink()
    for path in before:
        shutil.copy(path, path.with_name(path.name.replace(f"-t{version}f", "-t99f")))
    assert "ENGINES" in counts(speeches.path)["word"].to_list()


def test_chunks_of_a_few_rows_give_the_counts_and_hits_of_the_whole(
        speeches: Corpus, monkeypatch: pytest.MonkeyPatch) -> None:
    whole_counts = counts(speeches.path)
    whole_hits = analysis.kwic("engines", speeches.path, window=2)
    shutil.rmtree(cache_folder() / COUNTS_CACHE)
    seen: list[int] = []
    batches = counting.Fragment.batches

    def recorded(self: counting.Fragment, *args: Any, **options: Any) -> Any:
        for batch in batches(self, *args, **options):
            if "text" in batch.schema.names:  # the ids are read whole: a few bytes each
                seen.append(batch.num_rows)
            yield batch

    cut = contexts.contexts
    chunk_rows: list[int] = []

    def recorded_chunk(chunk: pl.DataFrame, pattern: str, *, window: int) -> pl.DataFrame:
        chunk_rows.append(chunk.height)
        return cut(chunk, pattern, window=window)

    monkeypatch.setattr(counting, "BATCH_ROWS", 2)
    monkeypatch.setattr(analysis, "KWIC_ROWS", 2)
    monkeypatch.setattr(counting.Fragment, "batches", recorded)
    monkeypatch.setattr(contexts, "contexts", recorded_chunk)
    assert counts(speeches.path).equals(whole_counts)
    assert seen and max(seen) == 2  # the text is read two speeches at a time
    assert analysis.kwic("engines", speeches.path, window=2).equals(whole_hits)
    assert chunk_rows and max(chunk_rows) == 2
    counting_warm = counts(speeches.path)
    assert counting_warm.equals(whole_counts)
    since = analysis.kwic("engines", speeches.path, window=2, since="2020")
    assert since.equals(whole_hits.filter(pl.col("date") >= pl.date(2020, 1, 1)))


def test_kwic_context_reaches_across_other_hits() -> None:
    chunk = pl.DataFrame({"id": ["a", "b"], "text": [
        "x y crime crime crime z", "no hit here"]})
    hits = contexts.contexts(chunk, r"(?i)\bcrime\b", window=2)
    assert hits.select("id", "left", "match", "right").rows() == [
        ("a", "x y", "crime", "crime crime"), ("a", "y crime", "crime", "crime z"),
        ("a", "crime crime", "crime", "z")]
    assert contexts.contexts(chunk, r"\bhit\b", window=0).select(
        "left", "match", "right").rows() == [("", "hit", "")]


@pytest.mark.parametrize("window", [0, 1, 3, 12])
def test_kwic_contexts_match_a_plain_python_reading(window: int) -> None:
    """Random texts with clustered hits, runs of mixed white space and words longer than
    the reading budget: every context is the words Python's ``re`` and ``str.split`` find
    within :data:`contexts.CONTEXT_CHARS` characters a word either side."""
    import random
    import re

    chance = random.Random(window)
    vocabulary = ["crime", "Crime", "x", "policy", "war-time", "é", "y" * 300, "crimes"]
    spaces = [" ", "  ", "\n", "\t ", " \n\n "]
    texts = ["".join(chance.choice(vocabulary) + chance.choice(spaces)
                     for _ in range(chance.randrange(0, 60))).strip() for _ in range(40)]
    chunk = pl.DataFrame({"id": [f"s{n}" for n in range(len(texts))], "text": texts})
    budget = contexts.CONTEXT_CHARS * (window + 1)
    expected = []
    for speech, text in zip(chunk["id"], texts, strict=True):
        for hit in re.finditer(r"(?i)\bcrime\b", text):
            left = text[:hit.start()][-budget:].split()
            right = text[hit.end():][:budget].split()
            expected.append((speech, " ".join(left[max(0, len(left) - window):] if window else []),
                             hit.group(), " ".join(right[:window])))
    found = contexts.contexts(chunk, r"(?i)\bcrime\b", window=window)
    assert len(expected) > 100
    assert found.rows() == expected


def test_kwic_limit_and_total(speeches: Corpus) -> None:
    every = analysis.kwic("engines", speeches.path, window=1)
    assert every.height == 12
    first, total = analysis.kwic_hits("engines", speeches.path, window=1, limit=3)
    assert total == 12 and first.equals(every.head(3))
    assert analysis.kwic("engines", speeches.path, limit=0).height == 12
    with pytest.raises(CorpusError, match="limit -1 is negative"):
        analysis.kwic("engines", speeches.path, limit=-1)


def test_kwic_table_shows_the_id_and_at_most_the_limit(
        speeches: Corpus, monkeypatch: pytest.MonkeyPatch) -> None:
    path = str(speeches.path)
    shown = run("--corpus", path, "kwic", "engines", "--window", "1", "--limit", "2")
    assert shown.exit_code == 0
    lines = shown.stdout.splitlines()
    assert lines[0].split() == ["date", "id", "speaker", "left", "match", "right"]
    ids = set(analysis.kwic("engines", speeches.path)["id"].to_list())
    assert len(lines) == 4 and all(line.split()[1] in ids for line in lines[2:])
    assert shown.stderr == "note: 10 more hits of 12 not shown; use --limit 0 to show all\n"
    everything = run("--corpus", path, "kwic", "engines", "--limit", "0")
    assert everything.exit_code == 0 and everything.stderr == ""
    assert len(everything.stdout.splitlines()) == 2 + 12
    monkeypatch.setattr("policyspeech.cli.analysis.TABLE_HITS", 5)
    default = run("--corpus", path, "kwic", "engines")
    assert len(default.stdout.splitlines()) == 2 + 5
    assert default.stderr == "note: 7 more hits of 12 not shown; use --limit 0 to show all\n"
    as_csv = run("--corpus", path, "kwic", "engines", "--format", "csv")
    assert as_csv.exit_code == 0 and as_csv.stderr == ""
    assert len(as_csv.stdout.splitlines()) == 1 + 12
    one = run("--corpus", path, "kwic", "engines", "--format", "csv", "--limit", "11")
    assert one.stderr == "note: 1 more hit of 12 not shown; use --limit 0 to show all\n"


def test_the_cache_command_shows_and_clears_the_counts(speeches: Corpus) -> None:
    counts(speeches.path)
    shown = run("cache")
    assert shown.exit_code == 0
    assert "token counts (compare): 3 files" in shown.stdout
    assert run("cache", "--clear").exit_code == 0
    assert cache_files() == []
    assert counts(speeches.path).equals(reference(speeches.path, "GB", "FR"))


def test_kwic_reads_only_row_groups_with_a_selected_speech(
        corpus: Corpus, monkeypatch: pytest.MonkeyPatch) -> None:
    from policyspeech import fragments

    monkeypatch.setattr(fragments, "ROW_GROUP_SIZE", 2)
    corpus.add_all([make_speech(n, country=["GB", "FR"][n // 4], date=f"{2010 + n}-01-01",
                                text=f"{TEXTS[n % len(TEXTS)]} Number {n}.")
                    for n in range(8)])
    every = analysis.kwic("engines", corpus.path, window=1)
    read: list[list[int] | None] = []
    batches = counting.Fragment.batches

    def recorded(self: counting.Fragment, columns: list[str], *args: Any,
                 **options: Any) -> Any:
        if "text" in columns:
            read.append(options.get("row_groups"))
        return batches(self, columns, *args, **options)

    monkeypatch.setattr(counting.Fragment, "batches", recorded)
    french = analysis.kwic("engines", corpus.path, window=1, country="FR")
    assert french.equals(every.filter(pl.col("date").dt.year() >= 2014))  # FR: n = 4 to 7
    assert french.height == 5 and read == [[2, 3]]  # rows 4 to 7 of the fragment
    since = analysis.kwic("engines", corpus.path, window=1, since="2013", until="2014")
    assert since.equals(every.filter(pl.col("date").dt.year().is_in([2013, 2014])))
    assert read[-1] == [1, 2]
