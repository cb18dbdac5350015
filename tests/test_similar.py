"""Near-duplicate speeches (`similar`): MinHash/LSH candidates confirmed by exact Jaccard, on
speeches made here with known similarities and on the real sets (ParlaMint-AT's repeated
oath, State of the Union addresses of different years)."""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl
import pytest

import policyspeech as ps
from policyspeech import similar
from policyspeech.errors import CorpusError
from policyspeech.store import Corpus
from tests.helpers import REALDATA, make_speech, run

BASE = [f"w{i}" for i in range(40)]


def word_shingles(text: str, size: int = 5) -> set[tuple[str, ...]]:
    """The shingles of a text of plain lower-case words, made here without the library."""
    words = text.split()
    if len(words) < size:
        return {tuple(words)}
    return {tuple(words[i:i + size]) for i in range(len(words) - size + 1)}


def exact(a: str, b: str, size: int = 5) -> float:
    first, second = word_shingles(a, size), word_shingles(b, size)
    return len(first & second) / len(first | second)


def replaced(position: int, word: str) -> str:
    return " ".join(word if i == position else w for i, w in enumerate(BASE))


@pytest.fixture
def texts(corpus: Corpus) -> Corpus:
    corpus.add_all([
        make_speech(1, text=" ".join(BASE), date="2019-10-30"),
        make_speech(2, text=" ".join(BASE), speaker="Grace Hopper", date="2020-03",
                    country="US"),
        make_speech(3, text=replaced(39, "zz"), speaker="Mary Somerville", date="1834"),
        make_speech(4, text=replaced(20, "zz"), date="2021-01-01"),
        make_speech(5, text="An unrelated speech about ships and harbours, nothing alike."),
    ])
    return corpus


def test_pairs_with_their_exact_jaccard_sorted_and_dated_at_precision(texts: Corpus) -> None:
    ids = dict(ps.read(texts.path, columns=["text", "id"]).select("text", "id").rows())
    one, two, three = ids[" ".join(BASE)], ids[replaced(39, "zz")], ids[replaced(20, "zz")]
    del three
    pairs = ps.near_duplicates(texts.path)
    assert pairs.columns == ["id_a", "id_b", "jaccard", "estimate", "speaker_a", "date_a",
                             "speaker_b", "date_b"]
    # 1 and 2 are the same text; 3 differs in its last word (35 of 37 shingles shared);
    # 4 differs in a middle word (31 of 41: 0.756, under the threshold of 0.8)
    assert exact(" ".join(BASE), replaced(39, "zz")) == 35 / 37
    assert exact(" ".join(BASE), replaced(20, "zz")) == 31 / 41
    rows = pairs.select("jaccard", "speaker_a", "date_a", "speaker_b", "date_b").rows()
    assert [round(r[0], 6) for r in rows] == [1.0, round(35 / 37, 6), round(35 / 37, 6)]
    assert all(a < b for a, b in pairs.select("id_a", "id_b").rows())
    assert one in pairs["id_a"].to_list() + pairs["id_b"].to_list()
    assert two in pairs["id_a"].to_list() + pairs["id_b"].to_list()
    dated = {(r[1], r[2]) for r in rows} | {(r[3], r[4]) for r in rows}
    assert dated == {("Ada Lovelace", "2019-10-30"), ("Grace Hopper", "2020-03"),
                     ("Mary Somerville", "1834")}
    lower = ps.near_duplicates(texts.path, threshold=0.75)
    assert lower.height == 3 + 2  # 4 now pairs with 1 and with 2, not with 3 (27 of 45)
    assert ps.near_duplicates(texts.path, country="US").height == 0  # filters select first


def test_no_pair_below_the_threshold_is_returned_though_lsh_proposes_some(corpus: Corpus
                                                                           ) -> None:
    """With few permutations LSH proposes pairs under the threshold; the exact check drops
    them, and every pair returned is at or above it."""
    rng = random.Random(7)
    vocabulary = [f"v{i}" for i in range(60)]
    base = [rng.choice(vocabulary) for _ in range(60)]
    made = []
    for n in range(30):
        words = list(base)
        for position in rng.sample(range(60), rng.randint(0, 12)):
            words[position] = f"x{n}y{position}"
        made.append(" ".join(words))
    corpus.add_all([make_speech(n, text=text, date=f"{1990 + n}") for n, text in
                    enumerate(made)])
    by_id = dict(ps.read(corpus.path, columns=["id", "text"]).rows())
    frame = ps.read(corpus.path, columns=["id", "text"]).sort("id")
    proposed, _ = similar._candidates(frame, 0.6, 5, 16)
    texts = frame["text"].to_list()
    below = [(a, b) for a, b in proposed if exact(texts[a], texts[b]) < 0.6]
    assert below, "the test needs LSH to propose pairs under the threshold"
    pairs = ps.near_duplicates(corpus.path, threshold=0.6, num_perm=16)
    for id_a, id_b, jaccard in pairs.select("id_a", "id_b", "jaccard").rows():
        assert jaccard == pytest.approx(exact(by_id[id_a], by_id[id_b]))
        assert jaccard >= 0.6
    assert {(texts[a], texts[b]) for a, b in below}.isdisjoint(
        {(by_id[a], by_id[b]) for a, b in pairs.select("id_a", "id_b").rows()})


def test_shingles_of_short_texts_and_bad_options() -> None:
    assert similar.shingles("Ich gelobe.", size=5) == {"ich gelobe"}
    assert similar.shingles("One, two; THREE.", size=2) == {"one two", "two three"}
    with pytest.raises(CorpusError, match=r"^threshold 1.5 is not a Jaccard similarity; give"):
        ps.near_duplicates(threshold=1.5)
    with pytest.raises(CorpusError, match=r"^shingle size 0 must be 1 or more tokens$"):
        ps.near_duplicates(shingle_size=0)
    with pytest.raises(CorpusError, match=r"^unknown filter 'colour'"):
        ps.near_duplicates(colour="red")  # type: ignore[call-arg]


def test_cli(texts: Corpus) -> None:
    corpus = str(texts.path)
    table = run("--corpus", corpus, "similar")
    assert table.exit_code == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["id_a", "id_b", "jaccard", "estimate", "speaker_a", "date_a",
                                "speaker_b", "date_b"]
    assert len(lines) == 2 + 3 and lines[2].split()[2] == "1.0"
    csv = run("--corpus", corpus, "similar", "--format", "csv", "--threshold", "0.99")
    assert csv.exit_code == 0 and len(csv.stdout.splitlines()) == 2
    none = run("--corpus", corpus, "similar", "--country", "FR")
    assert (none.exit_code, none.stdout) == (
        0, "no two selected speeches have a Jaccard similarity of 0.8 or more\n")
    bad = run("--corpus", corpus, "similar", "--threshold", "0")
    assert bad.exit_code == 1
    assert bad.stderr.startswith("error: threshold 0.0 is not a Jaccard similarity")


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ParlaMint-AT, the UN General Debate and the State of the Union in one corpus."""
    if not (REALDATA / "README.md").is_file():
        pytest.skip(f"no real corpora at {REALDATA}")
    corpus = Corpus.init(tmp_path_factory.mktemp("real") / "corpus")
    corpus.import_path([REALDATA / name for name in
                        ("parlamint_at.jsonl", "ungdc.jsonl", "sotu.jsonl")])
    return corpus.path


OATH = ("„Sie werden geloben unverbrüchliche Treue der Republik Österreich, stete und volle "
        "Beobachtung der Verfassungsgesetze und aller anderen Gesetze und gewissenhafte "
        "Erfüllung Ihrer Pflichten.“")


def test_parlamint_repeated_oath_and_formulas_are_found(real: Path) -> None:
    pairs = ps.near_duplicates(real, country="AT")
    records = ps.read(real, country="AT", columns=["id", "text"])
    oath = records.filter(pl.col("text") == OATH)["id"].sort().to_list()
    assert len(oath) == 5  # read by five secretaries at five sittings, 2002 to 2022
    found = {(a, b): j for a, b, j in pairs.select("id_a", "id_b", "jaccard").rows()}
    assert all(found[(a, b)] == 1.0 for i, a in enumerate(oath) for b in oath[i + 1:])
    # every set of speeches with the same words is found whole (the chair's formulas too)
    same = (records.with_columns(words=pl.col("text").str.to_lowercase()
                                 .str.extract_all(r"\w+").list.join(" "))
            .filter(pl.col("words") != "").group_by("words").agg(pl.col("id").sort())
            .filter(pl.col("id").list.len() > 1))
    expected = {(a, b) for ids in same["id"].to_list() for i, a in enumerate(ids)
                for b in ids[i + 1:]}
    assert len(expected) >= 100 and expected <= set(found)
    by_id = dict(records.rows())
    for (a, b), jaccard in found.items():
        shingled = similar.shingles(by_id[a]), similar.shingles(by_id[b])
        assert jaccard == similar.jaccard(*shingled) >= 0.8


@pytest.mark.slow
def test_state_of_the_union_and_general_debate_have_no_false_pairs(real: Path) -> None:
    """Addresses of different years share their formulas, not their texts: no pair, even
    at a Jaccard of 0.3; nor among the speeches of the UN General Debate."""
    assert ps.near_duplicates(real, country="US", threshold=0.3).height == 0
    assert ps.read(real, language="en", columns=["id"]).height == 233 + 536
    assert ps.near_duplicates(real, language="en", threshold=0.5).height == 0
