"""Concurrent writers: every speech exactly once, a contiguous log, no stuck lock."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from policyspeech.store import Corpus
from tests.harness.concurrency import run
from tests.helpers import REPO, SEED, make_speech
from tests.hooked import CRASH_EXIT_CODE, command


@pytest.mark.slow
def test_eight_writers_times_twenty_five_adds(tmp_path: Path) -> None:
    figures = run(8, 25, tmp_path)
    assert figures["errors"] == []
    assert figures["records"] == figures["reported_ids"] == 200
    assert figures["duplicates"] == 0 and figures["lost"] == 0
    assert figures["log_contiguous"] and figures["add_entries"] == 200
    assert figures["log_entries"] == 201 + 200 // 51  # and the automatic compactions
    assert figures["verify_problems"] == []


@pytest.mark.slow
def test_put_if_absent_alone_keeps_writers_apart(tmp_path: Path) -> None:
    figures = run(4, 10, tmp_path, without_lock=True)
    assert figures["errors"] == []
    assert figures["records"] == figures["reported_ids"] == 40
    assert figures["duplicates"] == 0 and figures["lost"] == 0
    assert figures["log_contiguous"] and figures["verify_problems"] == []


def test_a_writer_killed_holding_the_lock_does_not_block_the_next(corpus: Corpus) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from filelock import FileLock; "
         "lock = FileLock(sys.argv[1]); lock.acquire(); print('held', flush=True); "
         "time.sleep(600)", str(corpus.path / ".lock")], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    started = time.perf_counter()
    corpus.add(make_speech(1))
    assert time.perf_counter() - started < 5


def test_rerunning_an_add_that_crashed_after_link_reports_a_duplicate(corpus: Corpus) -> None:
    arguments = ["--corpus", str(corpus.path), "add", str(SEED)]
    crashed = subprocess.run(command(*arguments, crash="entry-linked"), capture_output=True,
                             text=True, cwd=REPO)
    assert crashed.returncode == CRASH_EXIT_CODE and crashed.stdout == ""
    again = subprocess.run(command(*arguments), capture_output=True, text=True, cwd=REPO)
    assert again.returncode == 1
    assert "this speech is already in the corpus as 'gb-2019-10-30-brandon-lewis" in again.stderr
    assert Corpus(corpus.path).head().rows == 1
    report = Corpus(corpus.path).check()  # the crash came before data/ had the fragment
    assert [p.split(":")[0] for p in report.problems] == [str(corpus.path / "data")]
    assert report.repairable
    assert Corpus(corpus.path).check(repair=True).ok
