"""Tokens: how a speech's text becomes the words that ``compare`` counts.

:func:`token_lists` is a polars expression, so tokenising runs in Rust over whole
columns. A token is a maximal run of Unicode word characters (letters of any script,
digits, underscore), with inner apostrophes or hyphens kept (``l’état``, ``co-operate``),
lower-cased. :data:`TOKENS_VERSION` names these rules: counts cached under one version
are never read under another.

>>> import polars as pl
>>> pl.select(token_lists(pl.lit("Crime falls, l’état stays."))).item().to_list()
['crime', 'falls', 'l’état', 'stays']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

TOKEN_PATTERN = r"\w+(?:['’-]\w+)*"
"""A lower-cased Unicode word, with inner apostrophes and hyphens."""
TOKENS_VERSION = 1
"""The version of the tokenising rules (part of the key of cached counts)."""


def token_lists(text: pl.Expr, *, fold_accents: bool = False) -> pl.Expr:
    """A polars expression: the tokens of each text in ``text``, as a list of strings."""
    del fold_accents  # not yet: every token keeps its accents
    return text.str.to_lowercase().str.extract_all(TOKEN_PATTERN)
