"""Keyword in context, cut out by polars: every hit of a pattern with the words around it.

The texts of a chunk of speeches that hold a hit are split at every hit (the hits marked
by ``replace_all``, then ``split``), so that a hit's left context is the end of the
parts before it and its right context the start of the parts after it: no Python loop
runs over texts or hits. Context words are runs of non-space characters, read within
:data:`CONTEXT_CHARS` characters per word of context on either side (longer runs are
cut).

Examples
--------
>>> import polars as pl
>>> chunk = pl.DataFrame({"id": ["s1"], "text": ["Crime falls. Organised crime rises."]})
>>> contexts(chunk, r"(?i)\\bcrime\\b", window=1).select("left", "match", "right").rows()
[('', 'Crime', 'falls.'), ('Organised', 'crime', 'rises.')]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
        left=_reach(near, budget, backwards=True),
        right=_reach(near, budget, backwards=False)).filter(pl.col("at") % 2 == 1)
    words = pl.col("left").str.tail(budget).str.extract_all(r"\S+")
    after = pl.col("right").str.head(budget).str.extract_all(r"\S+")
    return hits.select(
        *others,
        left=(words.list.tail(window) if window else words.list.head(0)).list.join(" "),
        match="part",
        right=after.list.head(window).list.join(" "))


def _reach(near: pl.DataFrame, budget: int, *, backwards: bool) -> pl.Series:
    """For each part, the text of the parts before it (``backwards``) or after it within
    its speech, as far as ``budget`` characters or the text's end."""
    import polars as pl

    column = "tail" if backwards else "head"
    step = 1 if backwards else -1
    reach = near[column].shift(step).fill_null("")
    for distance in range(1, near.height):
        if backwards:
            more = (near["at"] - distance >= 1)
        else:
            more = (near["at"] + distance <= near["last"] - 1)
        more = more & (near["at"] % 2 == 1) & (reach.str.len_chars() < budget)
        if not more.any():
            break
        extra = near[column].shift(step * (distance + 1)).fill_null("")
        joined = pl.select(pl.when(more).then(
            (extra + reach) if backwards else (reach + extra)).otherwise(reach)).to_series()
        reach = joined
    return reach.alias("reach")
