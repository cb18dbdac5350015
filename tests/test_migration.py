"""Migration of a corpus written before the store (tests/data/legacy-corpus, written by the
policyspeech of commit 309d458): read as it is, migrated by the first write, under the
lock, changing no byte of an entry, manifest or fragment and no fingerprint; a crash at
any step leaves a corpus that reads the same and that the next write finishes."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

import policyspeech as ps
from policyspeech import hooks
from policyspeech.releases import fingerprint_paths
from policyspeech.store import Corpus
from tests.harness.legacy import copy_legacy, to_legacy_layout
from tests.helpers import log_files, make_speech, tree_digest
from tests.hooked import CRASH_EXIT_CODE, REPO, command

VERSIONS = ("head", "0.1.0", "0.2.0")
STRAY = "f" * 64 + ".parquet"
"""A file in the legacy data/ that no entry names (what an interrupted older writer left)."""


def snapshot_of(folder: Path) -> dict[str, Any]:
    """What migration must keep: every entry's, manifest's and fragment's bytes (by name),
    each version's records, and each release's fingerprint recomputed from its files."""
    corpus = Corpus(folder)
    entries = sorted([*folder.glob("log/*.json"), *folder.glob("log/*/*.json")],
                     key=lambda p: p.name)
    stored = folder / ("fragments" if (folder / "fragments").is_dir() else "data")
    return {
        "entries": {p.name: p.read_bytes() for p in entries},
        "manifests": {p.name: p.read_bytes() for p in (folder / "releases").glob("*.json")},
        "fragments": {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                      for p in stored.iterdir() if p.name != STRAY},
        "records": {v: ps.read(folder, version=v).sort("id").to_dicts() for v in VERSIONS},
        "fingerprints": {v: fingerprint_paths(corpus.fragment_paths(v),
                                              corpus.manifest(v)["schema_version"],
                                              corpus.manifest(v).get("fingerprint_method", 1))
                         for v in VERSIONS[1:]},
        "manifest_fingerprints": {v: corpus.manifest(v)["fingerprint"] for v in VERSIONS[1:]},
    }


@pytest.fixture
def legacy(tmp_path: Path) -> Path:
    return copy_legacy(tmp_path / "legacy")


def test_a_legacy_corpus_is_read_as_it_is_and_never_changed_by_a_reader(legacy: Path) -> None:
    before = tree_digest(legacy)
    kept = snapshot_of(legacy)
    assert sorted(p.name for p in legacy.iterdir()) == [
        "CHANGELOG.md", "CITATION.cff", "README.md", "croissant.json", "data", "log", "releases"]
    assert kept["fingerprints"] == kept["manifest_fingerprints"]
    assert [len(kept["records"][v]) for v in VERSIONS] == [5, 5, 5]
    assert ps.load_dataset(legacy, version="0.1.0").num_rows == 5
    assert ps.read(legacy, version="head", verify=True).height == 5  # a verified read too
    report = Corpus(legacy).check()
    assert [p.split(":")[0] for p in report.problems] == [str(legacy / "fragments"),
                                                          str(legacy / "README.md")]
    assert "is in the layout of an older policyspeech" in report.problems[0]
    assert report.repairable
    assert tree_digest(legacy) == before


def test_the_first_write_migrates_and_changes_no_byte_and_no_fingerprint(legacy: Path) -> None:
    (legacy / "data" / STRAY).write_bytes(b"left by an interrupted writer")
    before = snapshot_of(legacy)
    inodes = {p.name: p.stat().st_ino for p in (legacy / "log").iterdir()}
    corpus = Corpus(legacy)
    corpus.add(make_speech(1))
    after = snapshot_of(legacy)
    assert after["entries"] == {**before["entries"], "00000013.json":
                                after["entries"]["00000013.json"]}
    assert after["manifests"] == before["manifests"]
    new = set(after["fragments"]) - set(before["fragments"])
    assert len(new) == 1 and {k: after["fragments"][k] for k in before["fragments"]} == \
        before["fragments"]
    assert after["fingerprints"] == before["fingerprints"] == before["manifest_fingerprints"]
    assert {v: after["records"][v] for v in VERSIONS[1:]} == \
        {v: before["records"][v] for v in VERSIONS[1:]}
    assert len(after["records"]["head"]) == 6
    # the layout: entries in their subfolder (the same files), the store, the version folders
    assert [p.relative_to(legacy).as_posix() for p in log_files(legacy)][:2] == [
        "log/00000/00000000.json", "log/00000/00000001.json"]
    assert not list((legacy / "log").glob("*.json"))
    assert {p.name: p.stat().st_ino for p in log_files(legacy)[:13]} == inodes
    assert (legacy / "fragments" / STRAY).read_bytes() == b"left by an interrupted writer"
    for version in VERSIONS:
        folder = legacy / ("data" if version == "head" else f"releases/{version}")
        files = sorted(folder.iterdir())
        assert [p.name for p in files] == sorted(p.name for p in corpus.fragment_paths(version))
        assert all(p.samefile(legacy / "fragments" / p.name) for p in files)
    assert not (legacy / ".tmp" / "store").exists()
    report = Corpus(legacy).check(deep=True)
    assert report.ok, report.problems
    assert [item.path.name for item in report.waiting] == [STRAY]


def test_verify_repair_migrates_too_and_migration_runs_once(legacy: Path) -> None:
    before = snapshot_of(legacy)
    assert Corpus(legacy).check(repair=True).ok
    assert snapshot_of(legacy) == before
    migrated = tree_digest(legacy)
    assert Corpus(legacy).check(repair=True).ok
    assert tree_digest(legacy) == migrated


def test_init_from_bundled_copies_a_corpus_of_either_layout(
        legacy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from policyspeech import commit

    monkeypatch.setattr(commit, "bundled_corpus_path", lambda: legacy)
    copy = Corpus.init(tmp_path / "copy", from_bundled=True)
    assert copy.check(deep=True).ok
    assert {v: ps.read(copy.path, version=v).sort("id").to_dicts() for v in VERSIONS} == \
        snapshot_of(legacy)["records"]
    assert sorted(p.name for p in (copy.path / "fragments").iterdir()) == \
        sorted(p.name for p in (legacy / "data").iterdir())


class Interrupted(BaseException):
    """Stops a write at a crash point, as a crash would (nothing catches it)."""


STEPS = ["migration-linked:1", "migration-linked:7", "migration-linked:13",
         "migration-fsynced:1", "migration-unlinked:1", "migration-unlinked:12",
         "migration-linked:14", "migration-linked:23", "migration-fsynced:2",
         "migration-renamed:1", "view-linked:1", "view-removed:1", "view-removed:5",
         "view-synced:1", "view-synced:3"]
"""Points inside the migration of the legacy corpus (13 entries, then 10 fragments) and
the version folders' first sync: the N-th time each is passed."""


def _stop_at(point: str) -> Any:
    name, _, nth = point.partition(":")
    seen = {"n": 0}

    def hook(passed: str) -> None:
        if passed == name:
            seen["n"] += 1
            if seen["n"] == int(nth):
                raise Interrupted(point)

    return hook


def _check_after_interruption(legacy: Path, before: dict[str, Any]) -> None:
    """Reads give every version as before; the next write finishes the migration."""
    assert {v: ps.read(legacy, version=v).sort("id").to_dicts() for v in VERSIONS} == \
        before["records"]
    Corpus(legacy).add(make_speech(2))
    after = snapshot_of(legacy)
    assert {k: v for k, v in after["entries"].items() if k in before["entries"]} == \
        before["entries"]
    assert after["manifests"] == before["manifests"]
    assert after["fingerprints"] == before["fingerprints"]
    report = Corpus(legacy).check()
    assert report.ok, report.problems
    assert not list((legacy / "log").glob("*.json")) and not (legacy / ".tmp" / "store").exists()


@pytest.mark.parametrize("point", STEPS)
def test_an_interrupted_migration_reads_the_same_and_the_next_write_finishes_it(
        legacy: Path, point: str) -> None:
    before = snapshot_of(legacy)
    with hooks.installed(crash=_stop_at(point)), pytest.raises(Interrupted):
        Corpus(legacy).add(make_speech(1))
    _check_after_interruption(legacy, before)


@pytest.mark.slow
@pytest.mark.parametrize("point", STEPS)
def test_a_process_killed_inside_the_migration(legacy: Path, point: str, tmp_path: Path) -> None:
    """The same, with the writer's process ending at the crash point (os._exit)."""
    before = snapshot_of(legacy)
    speech = tmp_path / "speech.txt"
    speech.write_text("A speech added to a corpus of the legacy layout.", encoding="utf-8")
    crashed = subprocess.run(
        command("--corpus", str(legacy), "add", str(speech), "--title", "T", "--speaker", "S",
                "--country", "GB", "--date", "2020", "--language", "en", crash=point),
        cwd=REPO, capture_output=True, text=True)
    assert crashed.returncode == CRASH_EXIT_CODE, crashed.stderr
    _check_after_interruption(legacy, before)


def test_a_migrated_corpus_moved_back_to_the_legacy_layout_migrates_again(
        corpus: Corpus) -> None:
    corpus.add_all([make_speech(1), make_speech(2)])
    corpus.release(notes="first")
    corpus.retract(corpus.head().ids_ever.copy().pop(), reason="withdrawn")
    digest = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
              for p in (corpus.path / "fragments").iterdir()}
    to_legacy_layout(corpus.path)
    assert not (corpus.path / "fragments").exists() and len(list(
        (corpus.path / "log").glob("*.json"))) == 4
    assert Corpus(corpus.path).check(repair=True).ok
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in (corpus.path / "fragments").iterdir()} == digest
    assert sorted(os.listdir(corpus.path / "data")) == sorted(
        p.name for p in Corpus(corpus.path).fragment_paths())
