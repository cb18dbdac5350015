"""gc: removing the stored files that no version needs, never a released fragment, recorded
in the log so that verify tells a collected fragment from a lost one."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

import policyspeech as ps
from policyspeech.errors import IntegrityError
from policyspeech.fragments import link_to_store
from policyspeech.log import new_entry
from policyspeech.store import Corpus
from tests.helpers import log_files, make_speech, run, stored, tree_digest

HOUR = 3600


def versions(corpus: Corpus) -> dict[str, list[dict[str, Any]]]:
    names = ["head", *sorted(corpus.head().releases)]
    return {v: ps.read(corpus.path, version=v).sort("id").to_dicts() for v in names}


@pytest.fixture
def history(corpus: Corpus) -> Corpus:
    """Two releases, an amendment, two retractions and a compaction."""
    ids = corpus.add_all([make_speech(1), make_speech(2), make_speech(3)])
    corpus.add(make_speech(4))
    corpus.release(notes="first")
    corpus.amend(ids[0], {"party": "Corrected"}, reason="checked")
    corpus.retract(ids[1], reason="duplicate")
    corpus.add(make_speech(5))
    corpus.compact()
    corpus.release(notes="second")
    corpus.retract(ids[2], reason="withdrawn")
    corpus.add(make_speech(6))
    return corpus


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_dry_run_changes_no_byte(history: Corpus) -> None:
    before = tree_digest(history.path)
    planned = history.gc(dry_run=True)
    assert planned.dry_run and planned.entry is None and len(planned.files) >= 4
    assert {item.kind for item in planned.files} == {"superseded"}
    assert tree_digest(history.path) == before
    assert [item.path for item in planned.files] == history.unreferenced_files()


def test_gc_removes_superseded_fragments_only_and_every_version_reads_the_same(
        history: Corpus) -> None:
    state = history.head()
    needed = {stored(history.path, p) for p in state.fragments} | {
        stored(history.path, p) for p in state.released_fragments}
    before = versions(history)
    fingerprints = [v["fingerprint"] for v in history.versions()]
    planned = history.gc(dry_run=True)
    done = history.gc()
    assert [item.path for item in done.files] == [item.path for item in planned.files]
    assert not any(item.path in needed for item in done.files)
    assert all(path.is_file() for path in needed)
    assert not any(item.path.exists() for item in done.files)
    assert sorted((history.path / "fragments").iterdir()) == sorted(needed)
    assert versions(history) == before
    assert [v["fingerprint"] for v in history.versions()] == fingerprints
    assert history.verify(deep=True) == [] and history.unreferenced_files() == []
    entry = json.loads(log_files(history.path)[-1].read_bytes())
    assert (entry["seq"], entry["operation"]) == (done.entry, "gc")
    assert sorted(entry["collected"]) == sorted(item.identity for item in done.files)
    again = history.gc()
    assert again.files == [] and again.entry is None
    assert len(log_files(history.path)) == done.entry + 1  # nothing to collect: no entry


def test_verify_tells_a_collected_fragment_from_a_lost_one(history: Corpus) -> None:
    [lost, *collected] = history.gc(dry_run=True).files
    lost.path.unlink()  # by hand: no gc entry records it
    [problem] = history.verify()
    assert problem == (f"{lost.path}: missing; an entry added this fragment and no gc entry "
                       "collected it, so it was deleted or lost (no version reads it, but the "
                       "history does)")
    with pytest.raises(IntegrityError, match="gc removes nothing from a corpus that does not "
                                             "verify"):
        history.gc()
    assert all(item.path.exists() for item in collected)


def test_files_no_entry_names_are_collected_once_older_than_the_grace_period(
        history: Corpus) -> None:
    leftover = history.path / "fragments" / ("ab" * 32 + ".parquet")
    leftover.write_bytes(b"a fragment an interrupted writer linked")
    manifest = history.path / "releases" / "9.9.9.json"
    manifest.write_text("{}\n", encoding="utf-8")
    done = history.gc()
    assert {item.path for item in done.waiting} == {leftover, manifest}
    assert leftover.exists() and manifest.exists()
    age(leftover, HOUR + 1)
    age(manifest, HOUR + 1)
    assert set(history.unreferenced_files()) == {leftover, manifest}
    done = history.gc()
    assert {item.path: item.kind for item in done.files} == {leftover: "unnamed",
                                                            manifest: "manifest"}
    assert done.entry is None  # no fragment of the log was removed
    assert not leftover.exists() and not manifest.exists() and history.verify() == []


def test_a_writer_linking_a_fragment_already_stored_makes_it_young_again(
        corpus: Corpus, tmp_path: Path) -> None:
    final = corpus.path / "fragments" / ("cd" * 32 + ".parquet")
    final.write_bytes(b"the same bytes")
    age(final, 2 * HOUR)
    temp = corpus.path / ".tmp" / "staged"
    temp.parent.mkdir(exist_ok=True)
    temp.write_bytes(b"the same bytes")
    link_to_store([(temp, final)])
    assert time.time() - final.stat().st_mtime < 60
    assert corpus.gc().files == []


def test_a_collected_fragment_added_again_is_needed_again(corpus: Corpus) -> None:
    """A fragment that a gc entry collected and that a later entry adds again (the same
    bytes, by its name) is no longer collected: verify requires it."""
    corpus.add(make_speech(1))
    corpus.add(make_speech(2))
    small = dict(corpus.head().fragments)
    saved = {p: stored(corpus.path, p).read_bytes() for p in small}
    corpus.compact()
    [merged] = corpus.head().fragments.values()
    assert sorted(item.identity for item in corpus.gc().files) == sorted(small)
    with corpus.writer.writing():  # undo the compaction: the small fragments come back
        corpus.writer.commit(lambda head: new_entry(
            head, operation="compact", message="back", added=list(small.values()),
            removed=[merged]))
    assert sorted(p.split(":")[0] for p in corpus.verify()) == sorted(
        [str(corpus.path / "data"), *(str(stored(corpus.path, p)) for p in small)])
    for path, data in saved.items():
        stored(corpus.path, path).write_bytes(data)
    corpus.repair()  # data/ could not link what the store lacked
    assert corpus.verify(deep=True) == []
    assert [item.identity for item in corpus.gc(dry_run=True).files] == [merged["path"]]


def test_a_gc_entry_that_collects_a_released_fragment_fails_verify(history: Corpus) -> None:
    released = sorted(history.head().released_fragments)[0]
    with history.writer.writing():
        history.writer.commit(lambda head: new_entry(head, operation="gc", message="forged",
                                                     collected=[released]))
    [problem] = [p for p in history.verify() if "collects" in p]
    assert problem.endswith(f"collects fragments that a version references or that no entry "
                            f"added ('{released}'); gc removes only fragments of no version")


def test_the_command_prints_each_file_with_its_size(history: Corpus) -> None:
    planned = history.gc(dry_run=True)
    dry = run("--corpus", str(history.path), "gc", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert lines[:-1] == [f"would remove {item.path} ({item.size:,} bytes): a fragment of no "
                          "version (superseded)" for item in planned.files]
    assert lines[-1] == (f"would remove {len(planned.files)} files, {planned.size:,} bytes; "
                         "dry run: nothing was removed")
    done = run("--corpus", str(history.path), "gc")
    assert done.exit_code == 0, done.stderr
    seq = len(log_files(history.path)) - 1
    assert done.stdout.splitlines()[-1] == (f"removed {len(planned.files)} files, "
                                            f"{planned.size:,} bytes, recorded in log entry {seq}")
    assert run("--corpus", str(history.path), "gc").stdout == (
        "nothing to remove: every stored file is in a version\n")
    verified = run("--corpus", str(history.path), "verify")
    assert verified.exit_code == 0 and verified.stderr == ""


def test_verify_counts_what_gc_would_remove(history: Corpus) -> None:
    """Superseded fragments are the history of the commits, not a problem: verify counts
    them in its ok line (no warning per file)."""
    result = run("--corpus", str(history.path), "verify")
    assert result.exit_code == 0 and result.stderr == ""
    planned = history.gc(dry_run=True)
    size = sum(item.size for item in planned.files)
    assert result.stdout.rstrip().endswith(
        f"every file matches; {len(planned.files)} superseded fragments of no version "
        f"({size:,} bytes), which `policyspeech gc` removes")


def test_gc_on_the_bundled_corpus_is_refused_as_any_write(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./corpus: the bundled one
    result = run("gc")
    assert result.exit_code == 1 and "is read-only" in result.stderr
