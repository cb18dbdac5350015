"""Damage evidence: flipped bytes, deleted and swapped log entries and manifests, edited
caches. Every damage to the corpus is named by ``verify``; no read serves a wrong record;
no repair hides a loss; no write goes over a damaged newest entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness.corruption import KINDS, run


@pytest.mark.slow
def test_two_hundred_random_damages_are_all_caught(tmp_path: Path) -> None:
    figures = run(200, tmp_path, seed=20261128)
    assert set(figures["by_kind"]) == set(KINDS)
    assert figures["corpus_damage"] > 100
    assert figures["missed_by_verify"] == []
    assert figures["detected_by_verify"] == figures["corpus_damage"]
    assert figures["wrong_results_served"] == []
    assert figures["silent_repairs"] == []
    assert figures["writes"].get("refused", 0) > 0  # damage did stop writes
    assert figures["corpus_intact_after"]
