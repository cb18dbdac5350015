"""Near-duplicate speeches: MinHash signatures in an LSH index, confirmed by exact Jaccard.

For data cleaning across sources: the same oath, formula or press release recorded twice.
A speech's **shingles** are the runs of ``shingle_size`` consecutive tokens
(:mod:`policyspeech.tokens`: lower-cased words, punctuation and spacing ignored); a
speech with fewer tokens is one shingle, all of them. Two speeches are similar when the
Jaccard similarity of their shingle sets (shared shingles over all shingles) is at least
``threshold``. datasketch's MinHash signatures go into its LSH index, which proposes
candidate pairs in about linear time; every candidate is then checked with the exact
Jaccard of the two shingle sets, so no pair below the threshold is ever returned. LSH may
miss a pair near the threshold (the index is tuned to miss few: it weighs a missed pair
four times a false candidate), never invent one.

Examples
--------
>>> sorted(shingles("Ich gelobe. Ich gelobe!", size=2))
['gelobe ich', 'ich gelobe']
>>> sorted(shingles("Ich gelobe.", size=5))
['ich gelobe']
>>> jaccard({"a", "b", "c"}, {"b", "c", "d"})
0.5
>>> near_duplicates().height  # the bundled corpus has no two speeches alike
0
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Unpack

from policyspeech.errors import CorpusError
from policyspeech.filters import SELECTION_NAMES, PathLike, Selection
from policyspeech.tokens import token_lists

if TYPE_CHECKING:
    import polars as pl

THRESHOLD = 0.8
SHINGLE_SIZE = 5
NUM_PERM = 128
"""MinHash permutations: the estimate's standard error is about 0.04 at Jaccard 0.8."""
LSH_WEIGHTS = (0.2, 0.8)
"""datasketch's (false positive, false negative) weights when it picks bands and rows:
false candidates cost only an exact check, missed pairs are lost."""
BATCH_ROWS = 2_000
COLUMNS = ("id_a", "id_b", "jaccard", "estimate", "speaker_a", "date_a", "speaker_b",
           "date_b")


def _shingle_frame(texts: pl.DataFrame, size: int) -> pl.DataFrame:
    """One row per (row, shingle) of the ``text`` column of ``texts``, as polars strings."""
    import polars as pl

    words = (texts.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("row"),
                          token_lists(pl.col("text")).alias("word"))
             .explode("word").drop_nulls("word")
             .with_columns(position=pl.int_range(pl.len()).over("row"),
                           tokens=pl.len().over("row").cast(pl.Int64)))
    gram = pl.concat_str([pl.col("word").shift(-i).over("row") for i in range(size)],
                         separator=" ", ignore_nulls=True)
    whole = pl.col("position") <= pl.col("tokens") - size
    first_of_short = (pl.col("tokens") < size) & (pl.col("position") == 0)
    return (words.with_columns(gram.alias("shingle")).filter(whole | first_of_short)
            .select("row", "shingle"))


def shingles(text: str, *, size: int = SHINGLE_SIZE) -> set[str]:
    """The set of shingles of ``text``: runs of ``size`` tokens joined by a space."""
    import polars as pl

    return set(_shingle_frame(pl.DataFrame({"text": [text]}), size)["shingle"].to_list())


def jaccard(a: set[str], b: set[str]) -> float:
    """Shared members over all members of the two sets (0 when both are empty)."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def _shingle_sets(texts: pl.DataFrame, rows: list[int], size: int) -> dict[int, set[str]]:
    """The shingle set of each of ``rows`` of ``texts``, made in batches."""
    import polars as pl

    sets: dict[int, set[str]] = {}
    for start in range(0, len(rows), BATCH_ROWS):
        chosen = rows[start:start + BATCH_ROWS]
        grouped = (_shingle_frame(texts[chosen], size).group_by("row")
                   .agg(pl.col("shingle").unique()))
        sets.update((chosen[row], set(values)) for row, values in grouped.iter_rows())
    return sets


def _check(threshold: float, shingle_size: int, num_perm: int) -> None:
    if not 0 < threshold <= 1:
        raise CorpusError(f"threshold {threshold} is not a Jaccard similarity; give a number "
                          "above 0 and at most 1, such as 0.8")
    if shingle_size < 1:
        raise CorpusError(f"shingle size {shingle_size} must be 1 or more tokens")
    if num_perm < 16:
        raise CorpusError(f"{num_perm} permutations are too few for LSH; give 16 or more")


def _signatures(texts: pl.DataFrame, size: int, num_perm: int) -> Iterator[tuple[int, Any]]:
    """(row, MinHash) for each row of ``texts`` that has at least one token."""
    import polars as pl
    from datasketch import MinHash

    template = MinHash(num_perm=num_perm, scheme="affine64", hashfunc=int)
    for start in range(0, texts.height, BATCH_ROWS):
        hashed = (_shingle_frame(texts.slice(start, BATCH_ROWS), size)
                  .group_by("row").agg(pl.col("shingle").hash().unique()).sort("row"))
        for row, values in hashed.iter_rows():
            minhash = MinHash(num_perm=num_perm, scheme="affine64", hashfunc=int,
                              permutations=template.permutations)
            minhash.update_batch(values)
            yield start + row, minhash


def _candidates(texts: pl.DataFrame, threshold: float, size: int, num_perm: int
                ) -> tuple[set[tuple[int, int]], dict[int, Any]]:
    """Pairs of rows (smaller first) that share an LSH bucket, and every row's MinHash."""
    from datasketch import MinHashLSH

    index = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=LSH_WEIGHTS)
    minhashes: dict[int, Any] = {}
    pairs: set[tuple[int, int]] = set()
    for row, minhash in _signatures(texts, size, num_perm):
        pairs.update((other, row) for other in index.query(minhash))
        index.insert(row, minhash, check_duplication=False)
        minhashes[row] = minhash
    return pairs, minhashes


def near_duplicates(corpus: PathLike | None = None, *, threshold: float = THRESHOLD,
            shingle_size: int = SHINGLE_SIZE, num_perm: int = NUM_PERM,
            **filters: Unpack[Selection]) -> pl.DataFrame:
    """Pairs of selected speeches whose shingle sets have a Jaccard similarity of at least
    ``threshold``, the most similar first (then by ids).

    Columns: ``id_a`` and ``id_b`` (``id_a`` < ``id_b``), ``jaccard`` (exact, of the
    shingle sets), ``estimate`` (MinHash's estimate of it), and the speaker and date of
    each (the date at its precision). Speeches without a single word are left out.
    """
    import polars as pl

    from policyspeech.analysis import date_at_precision
    from policyspeech.loaders import scan

    _check(threshold, shingle_size, num_perm)
    unknown = set(filters) - SELECTION_NAMES
    if unknown:
        raise CorpusError(f"unknown filter '{sorted(unknown)[0]}'; use "
                          f"{', '.join(sorted(SELECTION_NAMES))}")
    texts = (scan(corpus, columns=["id", "speaker", "date", "date_precision", "text"],
                  **filters).with_columns(date=date_at_precision())
             .drop("date_precision").sort("id").collect())
    pairs, minhashes = _candidates(texts, threshold, shingle_size, num_perm)
    sets = _shingle_sets(texts, sorted({row for pair in pairs for row in pair}), shingle_size)
    found = []
    for a, b in pairs:
        exact = jaccard(sets[a], sets[b])
        if exact >= threshold:
            first, second = texts.row(a, named=True), texts.row(b, named=True)
            found.append((first["id"], second["id"], exact, minhashes[a].jaccard(minhashes[b]),
                          first["speaker"], first["date"], second["speaker"], second["date"]))
    schema = dict(zip(COLUMNS, (pl.String, pl.String, pl.Float64, pl.Float64, pl.String,
                                pl.String, pl.String, pl.String), strict=True))
    return (pl.DataFrame(found, schema=schema, orient="row")
            .sort(["jaccard", "id_a", "id_b"], descending=[True, False, False]))
