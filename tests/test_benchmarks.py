"""The scale suite's correctness checks, in quick mode on a small corpus (CI runs them;
the timings are what `python benchmarks/run.py` is for, never asserted here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.run import render, run_suite


@pytest.mark.slow
def test_the_quick_suite_runs_and_every_check_passes(tmp_path: Path) -> None:
    results = run_suite([120], repeat=1, work=tmp_path)
    failed = [c for c in results["checks"] if not c["ok"]]
    assert failed == []
    assert len(results["checks"]) >= 9
    names = {f["name"] for f in results["figures"]}
    for wanted in ("import (MB/s of text)", "ps.read, full", "query: speaker+date",
                   "query: theme, no text", "ps.load_dataset, first load",
                   "ps.load_dataset after one append and release", "verify (MB/s of Parquet)",
                   "fingerprint", "add one speech, in-process",
                   "small-files head, full ps.read"):
        assert wanted in names
    assert all(f["value"] > 0 for f in results["figures"])
    section = render(results)
    assert section.count("\n| 120 |") == len(results["figures"])
