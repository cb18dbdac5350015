"""policyspeech: a versioned, citable corpus of policy speeches.

Load the corpus in one line, add speeches without risk to what is there, and cite the
exact version you analysed.

Examples
--------
>>> import policyspeech as ps
>>> ps.THEMES[0].slug
'macroeconomics'
>>> df = ps.read(columns=["id", "speaker"])  # the corpus found by ps.locate_corpus()
>>> df.columns
['id', 'speaker']
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from policyspeech.errors import (
    CorpusError,
    DuplicateSpeechError,
    IntegrityError,
    InvalidSpeechError,
    NotACorpusError,
    ReadOnlyCorpusError,
    RecordNotFoundError,
    UnknownVersionError,
)
from policyspeech.themes import THEMES

# Public names served lazily, so that ``import policyspeech`` stays light.
_LAZY = {
    "read": "policyspeech.loaders",
    "scan": "policyspeech.loaders",
    "read_arrow": "policyspeech.loaders",
    "load_dataset": "policyspeech.loaders",
    "Corpus": "policyspeech.store",
    "Reader": "policyspeech.reader",
    "Tuning": "policyspeech.tuning",
    "Filters": "policyspeech.filters",
    "locate_corpus": "policyspeech.locate",
    "read_speech": "policyspeech.ingest",
    "near_duplicates": "policyspeech.similar",
    "SCHEMA": "policyspeech.schema",
    "FEATURES": "policyspeech.schema",
}

__all__ = [
    "FEATURES",
    "SCHEMA",
    "THEMES",
    "Corpus",
    "CorpusError",
    "DuplicateSpeechError",
    "Filters",
    "IntegrityError",
    "InvalidSpeechError",
    "NotACorpusError",
    "ReadOnlyCorpusError",
    "Reader",
    "RecordNotFoundError",
    "Tuning",
    "UnknownVersionError",
    "__version__",
    "load_dataset",
    "locate_corpus",
    "near_duplicates",
    "read",
    "read_arrow",
    "read_speech",
    "scan",
]


def __getattr__(name: str) -> Any:
    if name in ("analysis", "charts"):
        return import_module(f"policyspeech.{name}")
    if name == "__version__":
        from importlib.metadata import version

        return version("policyspeech")
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'policyspeech' has no attribute {name!r}")
