"""Corpora in the legacy layout (before the store): every fragment in ``data/``, the log flat.

``tests/data/legacy-corpus`` was written by the policyspeech of commit 309d458 (the last
one before the store), with :func:`build` run on that code::

    git archive 309d458 src | tar -x -C /tmp/old
    PYTHONPATH=/tmp/old/src python -c "from tests.harness.legacy import build; build(...)"

It has two releases, an amendment, two retractions, a compaction and unreleased changes.
:func:`to_legacy_layout` turns a corpus of this version back into that layout (what the
crash harness migrates again and again).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

LEGACY_CORPUS = Path(__file__).resolve().parents[1] / "data" / "legacy-corpus"


def speech(n: int) -> dict[str, Any]:
    return {"title": f"Legacy speech {n}", "speaker": f"Speaker {n % 3}",
            "country": ["GB", "FR", "DE"][n % 3], "date": f"20{10 + n}-0{1 + n % 9}-1{n}",
            "language": "en", "themes": ["health"],
            "text": f"Legacy speech {n}.\n\nIt was written by an older policyspeech."}


def build(folder: Path) -> None:
    """The history of ``tests/data/legacy-corpus`` (run it on the older code)."""
    from policyspeech.store import Corpus

    corpus = Corpus.init(folder)
    ids = corpus.add_all([speech(1), speech(2), speech(3)])
    corpus.add(speech(4))
    corpus.add(speech(5))
    corpus.release("minor", notes="first")
    corpus.amend(ids[0], {"party": "Corrected party"}, reason="party confirmed")
    corpus.retract(ids[1], reason="duplicate of another record")
    corpus.add(speech(6))
    corpus.compact()
    corpus.release("minor", notes="second")
    corpus.retract(ids[2], reason="withdrawn by the publisher")
    corpus.add(speech(7))


def copy_legacy(target: Path) -> Path:
    """A copy of ``tests/data/legacy-corpus`` at ``target``."""
    shutil.copytree(LEGACY_CORPUS, target)
    return target


def to_legacy_layout(folder: Path) -> None:
    """Move a corpus of this version back to the legacy layout: the store's files into
    ``data/`` (the version folders removed), the log's entries out of their subfolders. A
    corpus whose migration was interrupted is moved back as far as it had got."""
    store, data = folder / "fragments", folder / "data"
    if store.is_dir():
        for path in data.iterdir():
            path.unlink()
        for path in store.iterdir():
            os.replace(path, data / path.name)
        store.rmdir()
        for path in (folder / "releases").iterdir():
            if path.is_dir():
                shutil.rmtree(path)
    for sub in sorted(p for p in (folder / "log").iterdir() if p.is_dir()):
        for path in sub.iterdir():
            os.replace(path, folder / "log" / path.name)
        sub.rmdir()
