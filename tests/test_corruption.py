"""Tamper and corruption evidence: every flipped byte is reported, naming its file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness.corruption import run


@pytest.mark.slow
def test_two_hundred_random_corruptions_are_all_caught(tmp_path: Path) -> None:
    figures = run(200, tmp_path, seed=20261128)
    assert set(figures["by_kind"]) == {"fragment", "log entry", "manifest", "card"}
    assert figures["files_changed"] == 200
    assert figures["missed_by_verify"] == []
    assert figures["detected_by_verify"] == 200
    assert figures["verified_reads_not_refused"] == []
    assert "WRONG" not in figures["plain_reads_of_damaged_fragments"]
    assert figures["corpus_intact_after"]
