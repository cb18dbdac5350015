"""Search terms: the regular expression that ``kwic`` looks for.

A term matches whole words, with full Unicode case folding unless ``case_sensitive``
(so that "STRASSE" finds "Straße"); ``regex`` takes the term as a regular expression.

>>> import re
>>> bool(re.search(term_pattern("crime"), "Crime falls."))
True
"""

from __future__ import annotations

import functools
import re
import unicodedata

from policyspeech.errors import CorpusError


def term_pattern(term: str, *, regex: bool = False, case_sensitive: bool = False) -> str:
    """The regular expression that ``kwic`` searches for.

    The term is NFC, like the stored texts. Without ``case_sensitive`` a word matches by
    full Unicode case folding, so that ``STRASSE`` finds ``Straße`` (and ``Straße``
    finds ``STRASSE``), which simple case-insensitive matching misses.

    >>> term_pattern("organised crime")
    '(?i)\\\\borganised\\\\s+crime\\\\b'
    >>> term_pattern("STRASSE")  # also the ligatures that fold to "st"
    '(?i)\\\\b(?:st|ﬅ|ﬆ)ra(?:ss|ß|ẞ)e\\\\b'
    """
    term = unicodedata.normalize("NFC", term)
    if not term.strip():
        raise CorpusError("give a word, a phrase or (with --regex) a regular expression")
    if regex:
        try:
            re.compile(term)
        except re.error as exc:
            raise CorpusError(f"'{term}' is not a valid regular expression ({exc})") from None
        body = term
    elif case_sensitive:
        body = r"\b" + r"\s+".join(re.escape(word) for word in term.split()) + r"\b"
    else:
        body = r"\b" + r"\s+".join(_folded(word) for word in term.split()) + r"\b"
    return body if case_sensitive else f"(?i){body}"


def _folded(word: str) -> str:
    """A pattern for ``word`` under full case folding: wherever the folded word holds the
    expansion of a character that folds to several (``ß`` -> ``ss``), that character
    matches too."""
    folded = word.casefold()
    expansions = _multi_folds()
    parts = []
    position = 0
    while position < len(folded):
        for size in (3, 2):
            piece = folded[position:position + size]
            if len(piece) == size and piece in expansions:
                choices = [re.escape(piece), *expansions[piece]]
                parts.append(f"(?:{'|'.join(choices)})")
                position += size
                break
        else:
            parts.append(re.escape(folded[position]))
            position += 1
    return "".join(parts)


@functools.cache
def _multi_folds() -> dict[str, list[str]]:
    """Every character whose case folding is several characters, by that folding."""
    table: dict[str, list[str]] = {}
    for code in range(0x80, 0x20000):
        char = chr(code)
        folded = char.casefold()
        if len(folded) > 1 and unicodedata.category(char) != "Cs":
            table.setdefault(folded, []).append(char)
    return table
