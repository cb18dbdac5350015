"""Stopwords: the function words of each language that ``compare --stopwords`` leaves out.

The lists are those of the ``stop-words`` package (python-stop-words, BSD-3-Clause), one
per language, chosen by a record's ``language`` (ISO 639-1): 33 languages, among them
English, German, French, Spanish, Italian, Dutch, Portuguese, the Scandinavian and Slavic
languages, Greek, Arabic, Hebrew, Persian, Turkish and Hindi (:data:`LANGUAGES`). Each
word of a list is made a token by the rules of :mod:`policyspeech.tokens`, so that it
matches the words counted (``daß`` is ``dass``; with ``fold_accents``, ``für`` is ``fur``).
A language without a list keeps all its words.

>>> "the" in stopwords_for("en"), "crime" in stopwords_for("en")
(True, False)
>>> "dass" in stopwords_for("de"), "fur" in stopwords_for("de", fold_accents=True)
(True, True)
>>> stopwords_for("mt")  # no list for Maltese
frozenset()
"""

from __future__ import annotations

import functools

ALIASES = {"no": "nb"}
"""ISO 639-1 codes the package knows by another code (Norwegian ``no`` is its ``nb``)."""


def _codes() -> dict[str, str]:
    from stop_words import LANGUAGE_MAPPING

    return dict(LANGUAGE_MAPPING)


LANGUAGES = frozenset(_codes()) | frozenset(ALIASES)
"""The ISO 639-1 codes that have a stopword list."""


@functools.cache
def stopwords_for(language: str, *, fold_accents: bool = False) -> frozenset[str]:
    """The stopwords of ``language`` (an ISO 639-1 code) as tokens; empty when the language
    has no list."""
    import polars as pl
    from stop_words import get_stop_words

    from policyspeech.tokens import token_lists

    code = ALIASES.get(language, language)
    if code not in LANGUAGES:
        return frozenset()
    words = pl.DataFrame({"word": sorted(get_stop_words(code))}, schema={"word": pl.String})
    tokens = words.select(token_lists(pl.col("word"), fold_accents=fold_accents)).to_series()
    return frozenset(tokens.explode().drop_nulls().to_list())
