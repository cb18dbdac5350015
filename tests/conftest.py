"""Shared fixtures: a fresh corpus per test, valid speeches, and a whole-tree fingerprint."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from policyspeech.store import Corpus

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "seeds" / "000_2cd032a15e885a1c.txt"
REALDATA = REPO.parent / "shared" / "realdata"
"""Real corpora this project did not write (``../shared/realdata`` beside the project);
tests that read them are skipped when the folder is absent."""


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    """No test touches the network, the user's caches or an ambient corpus."""
    cache = tmp_path_factory.getbasetemp() / "hf-cache"
    monkeypatch.setenv("HF_HOME", str(cache))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(cache / "datasets"))
    monkeypatch.setenv("POLICYSPEECH_CACHE", str(cache / "policyspeech"))
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("POLICYSPEECH_CORPUS", raising=False)


@pytest.fixture
def realdata() -> Path:
    """The folder of real corpora; the test is skipped when it is absent."""
    if not (REALDATA / "README.md").is_file():
        pytest.skip(f"no real corpora at {REALDATA}")
    return REALDATA


@pytest.fixture
def corpus(tmp_path: Path) -> Corpus:
    """A new, empty corpus in a temporary folder."""
    return Corpus.init(tmp_path / "corpus")


def make_speech(n: int = 0, **fields: Any) -> dict[str, Any]:
    """A valid speech; ``n`` makes its text unique."""
    speech: dict[str, Any] = {
        "title": f"Speech number {n}",
        "speaker": "Ada Lovelace",
        "country": "GB",
        "date": "2019-10-30",
        "language": "en",
        "themes": ["technology"],
        "text": f"This is speech number {n}.\n\nIt has two paragraphs.",
    }
    speech.update(fields)
    return speech


@pytest.fixture
def speech() -> Callable[..., dict[str, Any]]:
    return make_speech


def tree_digest(folder: Path) -> dict[str, str]:
    """SHA-256 of every file below ``folder`` (the writer lock file excluded), by path."""
    digests = {}
    for root, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(root) / name
            if name == ".lock":
                continue
            digests[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests
