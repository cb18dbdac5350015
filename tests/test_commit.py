"""The commit protocol in one place (policyspeech.commit) and its private test hooks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import policyspeech as ps
from policyspeech import hooks
from policyspeech.errors import CorpusError
from policyspeech.store import Corpus
from policyspeech.tuning import Tuning
from tests.helpers import IDENTITY, SEED, make_speech

REPO = Path(__file__).resolve().parents[1]


def test_an_add_passes_the_crash_points_of_the_protocol_in_order(corpus: Corpus,
                                                                  ) -> None:
    passed: list[str] = []
    with hooks.installed(crash=passed.append):
        corpus.add(make_speech(1))
    assert passed == [
        "fragment-written", "fragment-fsynced",          # staged while the batch is checked
        "fragment-linked", "fragment-published",          # linked under its hash in the store
        "entry-written", "entry-fsynced", "entry-linked", "entry-published",
        "card-written", "card-fsynced", "card-replaced",
        "license-written", "license-fsynced", "license-replaced",
        "view-linked", "view-synced",                     # data/: the head's fragment
        "delta-written", "delta-fsynced", "delta-linked",  # its Delta commit
    ]


def test_environment_variables_of_old_test_hooks_change_nothing(
        corpus: Corpus, monkeypatch: pytest.MonkeyPatch) -> None:
    """A user's environment can neither crash a writer nor turn its lock off."""
    from filelock import FileLock

    monkeypatch.setenv("POLICYSPEECH_CRASH_AT", "entry-linked")
    monkeypatch.setenv("POLICYSPEECH_TEST_WITHOUT_LOCK", "1")
    added = subprocess.run(
        [sys.executable, "-m", "policyspeech", "--corpus", str(corpus.path), "add",
         str(SEED)],
        capture_output=True, text=True, cwd=REPO)
    assert added.returncode == 0 and added.stdout.startswith("gb-2019-10-30-brandon-lewis"), \
        added.stderr
    patient = Corpus(corpus.path, tuning=Tuning(lock_timeout_seconds=0.2))
    with FileLock(corpus.path / ".lock"), pytest.raises(CorpusError, match="held the lock"):
        patient.add(make_speech(2))
    assert ps.read(corpus.path).height == 1


def test_a_release_never_replaces_a_manifest_it_finds(corpus: Corpus) -> None:
    """A manifest left by a release that stopped before its entry (or written by a release
    racing without the lock) is never unlinked: the new one gets a name with its hash."""
    corpus.add(make_speech(1))
    leftover = corpus.path / "releases" / "0.1.0.json"
    leftover.write_text('{"left": "by an interrupted release"}\n', encoding="utf-8")
    manifest = corpus.release(notes="first")
    assert leftover.read_text(encoding="utf-8") == '{"left": "by an interrupted release"}\n'
    [path] = [r["manifest"] for r in corpus.head().releases.values()]
    assert path.startswith("releases/0.1.0-") and path.endswith(".json")
    assert json.loads((corpus.path / path).read_bytes())["fingerprint"] == manifest["fingerprint"]
    assert corpus.versions()[0]["version"] == "0.1.0"
    assert corpus.verify() == [] and corpus.unreferenced_files() == []  # it may be a writer's
    assert [item.path for item in corpus.check().waiting] == [leftover]
    hour_ago = time.time() - 3601
    os.utime(leftover, (hour_ago, hour_ago))
    assert corpus.verify() == [] and corpus.unreferenced_files() == [leftover]
    assert ps.read(corpus.path, version="0.1.0").height == 1


def test_a_release_publishes_the_same_manifest_bytes_once(corpus: Corpus) -> None:
    corpus.add(make_speech(1))
    corpus.release(notes="first")
    [path] = [r["manifest"] for r in corpus.head().releases.values()]
    assert path == "releases/0.1.0.json"
    assert sorted(p.name for p in (corpus.path / "releases").iterdir()) == ["0.1.0", "0.1.0.json"]


def test_the_reader_cannot_write(corpus: Corpus) -> None:
    from policyspeech.reader import Reader

    reader = Reader(corpus.path)
    assert not hasattr(reader, "add") and not hasattr(reader, "writer")
    assert reader.head().seq == corpus.head().seq


@pytest.mark.parametrize("target", ["missing.json", "same"])
def test_a_symbolic_link_where_the_manifest_goes_is_never_followed(corpus: Corpus,
                                                                   target: str) -> None:
    """A link at ``releases/X.Y.Z.json`` (dangling, or to another corpus's manifest of the
    same version) is neither followed nor reused: the release names a file of its own."""
    corpus.add(make_speech(1))
    link = corpus.path / "releases" / "0.1.0.json"
    elsewhere = corpus.path.parent / "elsewhere.json"
    link.symlink_to(elsewhere if target == "same" else corpus.path.parent / target)
    if target == "same":  # a manifest of the same release of the same speech, elsewhere
        twin = Corpus.init(corpus.path.parent / "twin", **IDENTITY)
        twin.add(make_speech(1))
        twin.release(notes="first")
        elsewhere.write_bytes((twin.path / "releases" / "0.1.0.json").read_bytes())
    corpus.release(notes="first")
    [path] = [r["manifest"] for r in corpus.head().releases.values()]
    assert path != "releases/0.1.0.json" and not (corpus.path / path).is_symlink()
    assert link.is_symlink() and corpus.verify() == []
    assert corpus.versions()[0]["version"] == "0.1.0"


def test_a_release_of_a_corpus_named_by_a_relative_path_writes_its_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The derived files (CITATION.cff among them, which may live beside the corpus) are
    written where the corpus is, whether its path is absolute or relative."""
    monkeypatch.chdir(tmp_path)
    corpus = Corpus.init("my", **IDENTITY)
    corpus.add(make_speech(1))
    corpus.release(notes="first")
    assert "version: 0.1.0" in (tmp_path / "my" / "CITATION.cff").read_text(encoding="utf-8")
    assert json.loads((tmp_path / "my" / "croissant.json").read_bytes())["version"] == "0.1.0"
    assert not (tmp_path / "my" / "my").exists()
    corpus.add(make_speech(2))
    corpus.release(notes="second")
    assert "version: 0.2.0" in (tmp_path / "my" / "CITATION.cff").read_text(encoding="utf-8")
    Corpus("my").repair()
    assert Corpus("my").verify() == []


def test_a_card_that_cannot_be_rewritten_after_the_commit_says_the_commit_happened(
        corpus: Corpus, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure after the entry is published names the entry and the repair, not a
    traceback; the speech is in the corpus once, and `verify --repair` brings the card up."""
    from policyspeech.commit import Writer

    def full_disk(self: Writer, state: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(Writer, "write_card", full_disk)
        with pytest.raises(CorpusError, match=r"committed .*00000001\.json, but the dataset "
                                              r"card or the version folders could not be rewritten \(No space"):
            Corpus(corpus.path).add(make_speech(1))
    assert len(ps.read(corpus.path)) == 1
    assert Corpus(corpus.path).stale_card()
    Corpus(corpus.path).repair()
    assert Corpus(corpus.path).verify() == [] and not Corpus(corpus.path).stale_card()
