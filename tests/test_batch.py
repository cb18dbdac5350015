"""Bulk import (issue 5): bounded memory, all or nothing, parallel loading, races."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import policyspeech.workers as workers
from policyspeech.batch import validator
from policyspeech.errors import BatchError, DuplicateSpeechError
from policyspeech.store import Corpus
from tests.helpers import make_speech, run, tree_digest, write_jsonl


def many(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [make_speech(n, date=f"20{n % 20:02d}-01-{1 + n % 28:02d}",
                        text=f"Speech {n} has words. " * 40) for n in range(start, start + count)]


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of about 20 KB of text, so that a few hundred speeches make several."""
    monkeypatch.setattr(workers, "CHUNK_TEXT_BYTES", 20_000)


@pytest.mark.usefixtures("small_chunks")
def test_a_large_import_is_written_chunk_by_chunk_and_reads_back(corpus: Corpus,
                                                                  tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "s.jsonl", many(300))
    batch = corpus.import_path(source)
    assert batch.records == 300 and batch.fragments >= 10  # ~1 KB per speech, 20 KB chunks
    assert len(corpus.head().fragments) == batch.fragments
    assert not list((corpus.path / ".tmp").glob(".tmp-*"))  # nothing left in staging
    table = corpus.head()
    assert table.rows == 300 and corpus.verify() == []
    import policyspeech as ps

    frame = ps.read(corpus.path, columns=["id", "text", "date"])
    assert frame.height == 300 and frame["id"].n_unique() == 300
    texts = {s["text"].strip() for s in many(300)}
    assert set(frame["text"].to_list()) == texts


@pytest.mark.usefixtures("small_chunks")
def test_a_bad_record_after_staged_chunks_leaves_the_corpus_as_it_was(
        corpus: Corpus, tmp_path: Path) -> None:
    corpus.add(make_speech(10_000))
    speeches = [*many(200), make_speech(5, country="UK"), *many(50, start=200)]
    speeches.append(make_speech(10_000))  # already in the corpus
    source = write_jsonl(tmp_path / "s.jsonl", speeches)
    before = tree_digest(corpus.path)
    with pytest.raises(BatchError) as caught:
        corpus.import_path(source)
    assert caught.value.total == 2
    assert caught.value.problems[0].startswith(f"{source}:201: country 'UK'")
    assert f"{source}:252: this speech is already in the corpus" in caught.value.problems[1]
    assert tree_digest(corpus.path) == before


def test_parallel_loading_writes_the_same_fragments(tmp_path: Path,
                                                     small_chunks: None) -> None:
    source = write_jsonl(tmp_path / "s.jsonl", many(150))
    one = Corpus.init(tmp_path / "one")
    two = Corpus.init(tmp_path / "two")
    one.import_path(source, workers=1)
    two.import_path(source, workers=2)
    assert sorted(one.head().fragments) == sorted(two.head().fragments)


def test_errors_from_parallel_workers_name_file_and_line(corpus: Corpus,
                                                         tmp_path: Path) -> None:
    speeches = many(100)
    speeches[40] = {**speeches[40], "date": "2019-02-30"}
    speeches[90] = {**speeches[90], "language": "english"}
    source = write_jsonl(tmp_path / "s.jsonl", speeches)
    with pytest.raises(BatchError) as caught:
        corpus.import_path(source, workers=2, max_errors=5)
    assert [p.split(": ")[0] for p in caught.value.problems] == [f"{source}:41", f"{source}:91"]
    assert corpus.head().rows == 0


def test_a_writer_that_commits_during_a_batch_is_built_upon(corpus: Corpus) -> None:
    other = Corpus(corpus.path)

    def items() -> Any:
        yield "first", validator(make_speech(1))
        # another process adds a speech with the same title (another text) meanwhile
        other.add(make_speech(2, title="Speech number 1"))
        yield "second", validator(make_speech(3))

    batch = corpus.add_batch(items())
    assert corpus.head().rows == 3 and corpus.verify() == []
    # ids depend on the record alone: the same as without the other writer
    alone = Corpus.init(corpus.path.parent / "alone")
    assert alone.add_all([make_speech(1), make_speech(3)]) == batch.ids
    assert len(set(corpus.head().hash_by_id)) == 3


def test_a_speech_added_by_another_writer_during_a_batch_is_a_duplicate(corpus: Corpus) -> None:
    other = Corpus(corpus.path)

    def items() -> Any:
        yield "first", validator(make_speech(1))
        other.add(make_speech(1))

    with pytest.raises(DuplicateSpeechError, match="another writer added this speech"):
        corpus.add_batch(items())
    assert corpus.head().rows == 1
    assert not list((corpus.path / ".tmp").glob(".tmp-*"))


def test_a_given_id_that_an_earlier_speech_derived_is_refused(corpus: Corpus) -> None:
    derived = corpus.add_all([make_speech(1)], dry_run=True)[0]
    for speeches in (iter([make_speech(1), make_speech(2, id=derived)]),
                     [make_speech(1), make_speech(2, id=derived)]):
        with pytest.raises(DuplicateSpeechError, match=f"id '{derived}' was already used for "
                                                       "speech 1 in this batch"):
            corpus.add_all(speeches)
    assert corpus.head().rows == 0


def test_progress_is_reported_and_the_summary_printed(corpus: Corpus, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "s.jsonl", many(70))
    seen: list[tuple[int, int]] = []
    corpus.import_path(source, progress=lambda n, b: seen.append((n, b)))
    assert seen[-1][0] == 70 and seen[-1][1] == sum(len(s["text"].strip()) for s in many(70))
    result = run("init", str(tmp_path / "c2"))
    assert result.exit_code == 0, result.stderr
    source2 = write_jsonl(tmp_path / "t.jsonl", many(5))
    result = run("--corpus", str(tmp_path / "c2"), "import", str(source2))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("imported 5 speeches (")
    assert "checked" not in result.stderr  # no progress line when stderr is not a terminal


def test_a_dry_run_writes_nothing(corpus: Corpus, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "s.jsonl", many(40))
    before = tree_digest(corpus.path)
    batch = corpus.import_path(source, dry_run=True)
    assert batch.records == 40 and batch.fragments == 0
    assert tree_digest(corpus.path) == before
    assert os.listdir(corpus.path / "data") == []


@pytest.mark.parametrize("threads", [False, True])
def test_a_script_without_a_main_guard_imports_in_parallel(tmp_path: Path,
                                                           threads: bool) -> None:
    """Workers never run the caller's script again (which would break the pool): forked
    from a process of one thread, spawned with the main module hidden from a process with
    threads (pyarrow's, here)."""
    import subprocess
    import sys

    source = write_jsonl(tmp_path / "s.jsonl", many(40))
    script = tmp_path / "script.py"
    script.write_text(  # no `if __name__ == "__main__":`, as a researcher writes it
        ("import pyarrow.compute, threading\nthreading.Thread(target=lambda: None).start()\n"
         if threads else "") +
        "import policyspeech.workers as workers\nfrom policyspeech.store import Corpus\n"
        "print(workers._start_method().get_start_method())\n"
        f"corpus = Corpus.init({str(tmp_path / 'c')!r})\n"
        f"print(corpus.import_path({str(source)!r}, workers=2).records)\n", encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    method, records = done.stdout.split()
    assert records == "40"
    assert method == ("spawn" if threads or not sys.platform.startswith("linux") else "fork")


def test_a_process_with_threads_spawns_its_workers() -> None:
    import threading

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert workers._start_method().get_start_method() == "spawn"
    finally:
        stop.set()
        thread.join()


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_the_workers_of_a_killed_parallel_import_end_with_it(corpus: Corpus,
                                                             tmp_path: Path) -> None:
    """SIGKILL of an import while its worker processes stage chunks: the workers end too
    (the crash trials found them waiting forever for chunks that would never come)."""
    import json
    import signal
    import subprocess
    import time

    from tests.harness.crash import long_speech
    from tests.hooked import REPO, command

    source = tmp_path / "speeches.jsonl"
    source.write_text("".join(json.dumps(long_speech(n)) + "\n" for n in range(1, 3001)),
                      encoding="utf-8")
    process = subprocess.Popen(command(str(corpus.path), str(source),
                                       call="tests.harness.crash:parallel_import"), cwd=REPO)
    deadline = time.monotonic() + 60
    while len(started := _children(process.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(started) >= 2, "the import did not start its workers"
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in started) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in started)
