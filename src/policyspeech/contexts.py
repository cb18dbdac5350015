"""Keyword in context, cut out by polars: every hit of a pattern with the words around it.

The texts of a chunk of speeches that hold a hit are split at every hit (the hits marked
by ``replace_all``, then ``split``), so that a hit's left context is the end of the
parts before it and its right context the start of the parts after it: no Python loop
runs over texts or hits (a context is joined across further parts, other hits between,
only while it holds fewer whole words than asked for). Context words are runs of
non-space characters, read within :data:`CONTEXT_CHARS` characters per word of context
on either side (longer runs are cut).

Examples
--------
>>> import polars as pl
>>> chunk = pl.DataFrame({"id": ["s1"], "text": ["Crime falls. Organised crime rises."]})
>>> contexts(chunk, r"(?i)\\bcrime\\b", window=1).select("left", "match", "right").rows()
[('', 'Crime', 'falls.'), ('Organised', 'crime', 'rises.')]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

CONTEXT_CHARS = 64
"""Characters read per word of context either side of a hit (words are shorter)."""
MARK = "\x00"
"""Marks the hits in a text (stored texts never hold a NUL: it is a control character)."""


def contexts(chunk: pl.DataFrame, pattern: str, *, window: int) -> pl.DataFrame:
    """One row per hit of ``pattern`` (a regular expression polars accepts) in the ``text``
    of ``chunk``: the other columns of its speech, then ``left``, ``match`` and ``right``
    (at most ``window`` words each side), in the order of the texts."""
    import polars as pl

    budget = CONTEXT_CHARS * (window + 1)
    others = [c for c in chunk.columns if c != "text"]
    found = chunk.filter(pl.col("text").str.contains(pattern))
    parts = (found.select(*others, part=pl.col("text").str.replace_all(
        pattern, f"{MARK}$0{MARK}").str.split(MARK))
        .with_columns(at=pl.int_ranges(pl.col("part").list.len()),
                      last=pl.col("part").list.len() - 1)
        .explode("part", "at"))
    near = parts.select(
        pl.col("part").str.tail(budget).alias("tail"),
        pl.col("part").str.head(budget).alias("head"), "at", "last")
    hits = parts.with_columns(
        left=_reach(near, budget, window, backwards=True),
        right=_reach(near, budget, window, backwards=False)).filter(pl.col("at") % 2 == 1)
    last, first = _words(window, budget)
    return hits.select(*others, left=last, match="part", right=first)


def _words(window: int, budget: int) -> tuple[pl.Expr, pl.Expr]:
    """The last ``window`` words of ``left`` and the first of ``right`` (within ``budget``
    characters), joined by single spaces. Each is one regex anchored at the text's end or
    start, which the regex engine searches from that end."""
    import polars as pl

    if not window:
        return pl.lit("").alias("left"), pl.lit("").alias("right")
    words = rf"\S+(?:\s+\S+){{0,{window - 1}}}"
    last = pl.col("left").str.tail(budget).str.extract(rf"({words})\s*$")
    first = pl.col("right").str.head(budget).str.extract(rf"^\s*({words})")
    return (last.fill_null("").str.replace_all(r"\s+", " ").alias("left"),
            first.fill_null("").str.replace_all(r"\s+", " ").alias("right"))


def _reach(near: pl.DataFrame, budget: int, window: int, *, backwards: bool) -> pl.Series:
    """For each hit (a part at an odd place), the text of the parts before it
    (``backwards``) or after it within its speech, as far as the text's end, ``budget``
    characters or ``window`` whole words, whichever comes first; for the other parts, the
    part next to them. Only the hits whose context is still short are extended, a part
    further at each step."""
    import numpy as np

    pieces = near["tail" if backwards else "head"]
    step = 1 if backwards else -1
    reach = pieces.shift(step).fill_null("")
    at, last = near["at"].to_numpy(), near["last"].to_numpy()
    whole_word = r"\s\S" if backwards else r"\S\s"  # a word with a space on its far side

    def short(text: pl.Series) -> np.ndarray[Any, Any]:
        return ((text.str.len_chars() < budget)
                & (text.str.count_matches(whole_word) < window)).to_numpy()

    rows = np.flatnonzero(at % 2 == 1)
    rows = rows[short(reach.gather(rows))]
    for distance in range(1, near.height):
        further = at[rows] - distance >= 1 if backwards else at[rows] + distance <= last[rows] - 1
        rows = rows[further]
        if not len(rows):
            break
        extra, current = pieces.gather(rows - step * (distance + 1)), reach.gather(rows)
        joined = extra + current if backwards else current + extra
        reach = reach.scatter(rows, joined)
        rows = rows[short(joined)]
    return reach.alias("reach")
