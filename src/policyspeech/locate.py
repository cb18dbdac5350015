"""Which corpus: an explicit path, else ``$POLICYSPEECH_CORPUS``, else ``./corpus`` when it
is a corpus, else the corpus bundled in the installed package (read-only).

Examples
--------
>>> import os, tempfile
>>> location = locate_corpus()  # the bundled corpus when nothing else is set up
>>> is_corpus(location.path)
True
>>> locate_corpus(tempfile.mkdtemp())
Traceback (most recent call last):
...
policyspeech.errors.NotACorpusError: '...' is not a policyspeech corpus (no log/00000/00000000.json); create one with `policyspeech init DIR`
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from policyspeech.errors import NotACorpusError
from policyspeech.layout import (
    CORPUS_ENV,
    DEFAULT_CORPUS,
    corpus_from_environment,
    entry_folder,
    entry_name,
    entry_path,
    legacy_entry_path,
)


@dataclass(frozen=True)
class CorpusLocation:
    """A corpus folder, and whether it is the read-only bundled corpus."""

    path: Path
    bundled: bool = False


def is_corpus(path: Path) -> bool:
    """True when ``path`` holds a policyspeech corpus (its first log entry)."""
    return entry_path(path, 0).is_file() or legacy_entry_path(path, 0).is_file()


def bundled_corpus_path() -> Path:
    """The corpus shipped with the package (in a source checkout: the top-level ``corpus/``)."""
    installed = Path(str(resources.files("policyspeech"))) / "bundled_corpus"
    if is_corpus(installed):
        return installed
    checkout = Path(__file__).resolve().parents[2] / "corpus"
    if is_corpus(checkout):
        return checkout
    raise NotACorpusError(
        "the bundled corpus is missing from this installation; reinstall policyspeech"
    )


def locate_corpus(path: str | os.PathLike[str] | None = None) -> CorpusLocation:
    """Resolve which corpus to use (see the module docstring for the order)."""
    from_environment = corpus_from_environment()
    if path is None and from_environment:
        path = from_environment
    if path is not None:
        folder = Path(path)
        if not is_corpus(folder):
            source = f" (from ${CORPUS_ENV})" if from_environment == str(path) else ""
            raise NotACorpusError(
                f"'{folder}'{source} is not a policyspeech corpus (no {entry_folder(0)}/"
                f"{entry_name(0)}); "
                "create one with `policyspeech init DIR`"
            )
        return CorpusLocation(folder)
    if is_corpus(Path(DEFAULT_CORPUS)):
        return CorpusLocation(Path(DEFAULT_CORPUS))
    return CorpusLocation(bundled_corpus_path(), bundled=True)
