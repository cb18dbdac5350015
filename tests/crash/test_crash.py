"""Crash trials (bounded size for CI; `python tools/crash_trials.py` runs 1,000)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness.crash import run_trials

TRIALS = 50


@pytest.mark.slow
def test_crashed_writers_never_lose_or_corrupt_anything(tmp_path: Path) -> None:
    figures = run_trials(TRIALS, tmp_path, seed=20261128)
    assert figures["violations"] == []
    assert figures["trials"] == TRIALS
    # the trials really crashed writers, at named points and by SIGKILL
    assert figures["stopped_by_crash_point"] >= TRIALS // 4
    assert figures["sigkills"] >= 3  # a kill lands before the writer exits by wall-clock luck
    assert set(figures["by_operation"]) == {"add", "import", "parallel import", "release",
                                            "migrate"}
