"""Fixtures (an isolated environment, a fresh corpus, the real corpora) and ``--run-slow``.

Plain ``pytest`` runs the fast tests; ``pytest --run-slow`` runs the tests marked ``slow``
too (crash, corruption and concurrency trials, the benchmark suite, long properties).
An explicit ``-m`` expression chooses by itself (``pytest -m slow``). Shared helpers (the
speech factory, the CLI runner, ``tree_digest``) are in :mod:`tests.helpers`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from policyspeech.store import Corpus
from tests.helpers import IDENTITY, REALDATA


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", default=False,
                     help="also run the tests marked slow (the whole suite)")


def _slow_left_out(config: pytest.Config) -> bool:
    return not (config.getoption("--run-slow") or config.option.markexpr)


def pytest_report_header(config: pytest.Config) -> str:
    if _slow_left_out(config):
        return "slow tests: left out (run them with --run-slow)"
    return "slow tests: chosen by -m" if config.option.markexpr else "slow tests: included"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the tests marked ``slow`` unless ``--run-slow`` (or ``-m``) is given."""
    if not _slow_left_out(config):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]


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
    """A new, empty corpus in a temporary folder, with an identity (so that it can be
    released)."""
    return Corpus.init(tmp_path / "corpus", **IDENTITY)
