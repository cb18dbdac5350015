"""Fixtures: an isolated environment, a fresh corpus per test, the real corpora.

Shared helpers (the speech factory, the CLI runner, ``tree_digest``) are in
:mod:`tests.helpers`."""

from __future__ import annotations

from pathlib import Path

import pytest

from policyspeech.store import Corpus
from tests.helpers import REALDATA


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
