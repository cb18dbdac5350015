"""Tokens: how a speech's text becomes the words that ``compare`` counts.

Tokenising runs as polars expressions (Rust) over whole columns, in two steps:

1. :func:`split_tokens` cuts the text by these rules (the regex of :data:`TOKEN_PATTERN`):

   - a token is a run of Unicode word characters (letters and marks of any script, digits,
     underscore), joined by inner apostrophes or hyphens (``l'état``, ``co-operate``,
     ``covid-19``); an apostrophe or hyphen at either end is not part of it;
   - digits joined by ``.`` or ``,`` stay one number: ``1,000,000``, ``3.5``, ``3,5``
     (a trailing ``.`` or ``,`` ends it: ``2019.`` gives ``2019``);
   - two or more single letters each followed by a period are one abbreviation, with its
     periods: ``U.S.``, ``e.g.``, ``U.S.A.`` (a lone initial, ``J.``, gives ``j``).

2. :func:`normalize_words` makes equal what should count as one word: Unicode NFKC
   (ligatures, full-width and composed/decomposed forms), full case folding (Unicode
   CaseFolding, as Python's ``str.casefold``: ``Straße`` = ``STRASSE`` = ``strasse``,
   final ``ς`` = ``σ``), every apostrophe variant (``' ’ ‘ ʼ ′ ´ ＇``) as ``'``, the Unicode
   hyphens as ``-``, soft hyphens dropped, and with ``fold_accents`` the combining
   accents removed (``état`` = ``etat``, ``Ελλάδα`` = ``ελλαδα``, ``ёж`` = ``еж``).

:func:`token_lists` does both. Counting the tokens of :func:`split_tokens` and then
normalising the distinct words (summing the counts of words that become equal) gives the
same counts at a fraction of the cost, since a corpus has far fewer distinct words than
tokens: :func:`policyspeech.counting.canonical_counts` does that. :data:`TOKENS_VERSION`
names these rules: counts cached under one version are never read under another.

Limits:

- Scripts written without spaces between words (Chinese, Japanese, Thai, Lao, Khmer,
  Burmese) are not segmented: a run of their letters up to punctuation or a space is one
  token (``我们支持和平`` is one token), so counts there are of phrases, not words.
  Segment such texts before import (for example with jieba or PyThaiNLP).
- Accent folding removes only the combining diacritical marks of the Latin, Greek and
  Cyrillic scripts (after NFD); letters of their own stay (``ø``, ``ł``, ``đ``, ``æ``,
  ``ı``), and so do the vowel signs of Arabic, Hebrew and the Indic scripts.
- Case folding is not language-specific: Turkish ``I``/``ı`` and ``İ``/``i`` are folded
  as in other languages (``İ`` gives ``i`` with a combining dot, or ``i`` with
  ``fold_accents``).

>>> import polars as pl
>>> pl.select(token_lists(pl.lit("The U.S. paid $1,000,000 for L’ÉTAT’s Straße."))
...           ).item().to_list()
['the', 'u.s.', 'paid', '1,000,000', 'for', "l'état's", 'strasse']
>>> pl.select(token_lists(pl.lit("État, Ελλάδα"), fold_accents=True)).item().to_list()
['etat', 'ελλαδα']
"""

# ruff: noqa: RUF001, RUF002 (the look-alike letters and apostrophes here are the point)
from __future__ import annotations

import functools
import sys
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

APOSTROPHES = "'\u2019\u2018\u02bc\u2032\u00b4\uff07"
"""Apostrophe variants: ' ’ ‘ ʼ ′ ´ ＇ (all written ``'`` in tokens)."""
HYPHENS = "-\u2010\u2011"
"""Hyphen-minus and the Unicode hyphens (all written ``-`` in tokens)."""
SOFT_HYPHEN = "\u00ad"
_NUMBER = r"\d+(?:[.,]\d+)+"
_PART = rf"(?:{_NUMBER}|[\w{SOFT_HYPHEN}])+"
_JOINER = f"[{APOSTROPHES}\\{HYPHENS}]"
TOKEN_PATTERN = rf"(?:\p{{L}}\.){{2,}}|{_PART}(?:{_JOINER}{_PART})*"
"""An abbreviation (``U.S.``), or word parts (numbers or word characters) joined by
apostrophes or hyphens. The Rust ``regex`` crate matches alternatives leftmost-first, and
needs no look-around or ``\\b`` here (a Unicode ``\\b`` would make it leave its fast DFA on
non-ASCII text)."""
ACCENT_MARKS = r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+"
"""The Combining Diacritical Marks blocks: what ``fold_accents`` removes after NFD."""
TOKENS_VERSION = 2
"""The version of the tokenising rules (part of the key of cached counts)."""


def split_tokens(text: pl.Expr) -> pl.Expr:
    """A polars expression: the tokens of each text as written (a list of strings), before
    :func:`normalize_words`."""
    return text.str.extract_all(TOKEN_PATTERN)


def normalize_words(words: pl.Expr, *, fold_accents: bool = False) -> pl.Expr:
    """A polars expression: each word (a string) in its one canonical form.

    >>> import polars as pl
    >>> pl.select(normalize_words(pl.lit("ΟΔΟΣ"))).item()
    'οδοσ'
    """
    joiners, folds = _replacements()
    words = (words.str.replace_many(*joiners).str.normalize("NFKC").str.to_lowercase()
             .str.replace_many(*folds))
    if fold_accents:
        words = (words.str.normalize("NFD").str.replace_all(ACCENT_MARKS, "")
                 .str.normalize("NFC"))
    return words


def token_lists(text: pl.Expr, *, fold_accents: bool = False) -> pl.Expr:
    """A polars expression: the tokens of each text in ``text``, as a list of strings."""
    import polars as pl

    word = normalize_words(pl.element(), fold_accents=fold_accents)
    return split_tokens(text).list.eval(word.filter(word != ""))


@functools.cache
def _replacements() -> tuple[tuple[list[str], list[str]], tuple[list[str], list[str]]]:
    """What :func:`normalize_words` replaces: before NFKC (which would turn ``´`` into a
    space and an accent) the apostrophe, hyphen and soft hyphen variants; after NFKC and
    lower-casing, the characters whose full case folding is not their lower case (``ß`` →
    ``ss``, ``ς`` → ``σ``), read from Python's Unicode database."""
    joiners = {**dict.fromkeys(APOSTROPHES[1:], "'"), **dict.fromkeys(HYPHENS[1:], "-"),
               SOFT_HYPHEN: ""}
    folds = {}
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if (unicodedata.category(char) == "Cs" or char.lower() != char
                or unicodedata.normalize("NFKC", char) != char):
            continue
        folded = unicodedata.normalize("NFKC", char.casefold())
        if folded != char:
            folds[char] = folded
    return (list(joiners), list(joiners.values())), (list(folds), list(folds.values()))
