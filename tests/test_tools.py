"""The command lines of the harnesses in ``tools/`` run, at a tiny size, and print their figures."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.helpers import REPO


def tool(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python tools/ARGS...`` from a folder other than the checkout."""
    return subprocess.run([sys.executable, str(REPO / "tools" / args[0]), *args[1:]],
                          capture_output=True, text=True, cwd=REPO / "tests", timeout=300)


@pytest.mark.slow
def test_corruption_and_concurrency_scripts_print_their_figures() -> None:
    corruption = tool("corruption.py", "--trials", "4", "--seed", "3")
    assert corruption.returncode == 0, corruption.stderr
    figures = json.loads(corruption.stdout)
    assert figures["trials"] == 4 and figures["seed"] == 3
    assert figures["missed_by_verify"] == [] and figures["corpus_intact_after"]
    concurrency = tool("concurrency.py", "--processes", "2", "--adds", "2", "--without-lock")
    assert concurrency.returncode == 0, concurrency.stderr
    figures = json.loads(concurrency.stdout)
    assert (figures["processes"], figures["adds_each"], figures["lock"]) == (2, 2, False)
    assert figures["records"] == 4 and figures["errors"] == [] and figures["duplicates"] == 0


def test_every_script_has_its_options() -> None:
    """``--help`` of each script (``crash_trials.py`` records its figures in
    ``benchmarks/results``, so it is not run here; ``tests/crash`` runs its harness)."""
    for script, options in [("crash_trials.py", ["--trials", "--seed"]),
                            ("corruption.py", ["--trials", "--seed", "--record"]),
                            ("concurrency.py", ["--processes", "--adds", "--without-lock",
                                                "--record"])]:
        helped = tool(script, "--help")
        assert helped.returncode == 0, helped.stderr
        assert all(option in helped.stdout for option in options), helped.stdout


def test_the_comparison_reads_the_rows_of_the_scale_suite() -> None:
    from benchmarks.compare import ROW

    row = "| 10,000 | ps.read, full | 0.157 s | 0.124 (pl.read_parquet) | 1.27× | ≤ 1.2× | 92 |  |"
    found = ROW.match(row)
    assert found is not None and found.groups() == ("10,000", "ps.read, full", "0.157", "s")
    assert ROW.match("| speeches | measure | value | baseline |") is None
