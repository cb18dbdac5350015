"""Lost log entries leave evidence (release manifests, derived files) that verify names and
that every writer respects; verify goes on past a broken chain and names every damaged
fragment."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from policyspeech import hooks, log
from policyspeech.cardfiles import derived_texts
from policyspeech.errors import CorpusError
from policyspeech.store import Corpus
from tests.helpers import log_files, make_speech, run, stored, tree_digest


def _two_releases(corpus: Corpus) -> None:
    """Releases 0.1.0 and 0.2.0, the second released at entry 7 (entries up to 8)."""
    corpus.add(make_speech(1))
    corpus.add(make_speech(2))
    corpus.release(notes="first")
    corpus.add(make_speech(3))
    corpus.add(make_speech(4))
    corpus.release(notes="second")
    assert max(p.name for p in log_files(corpus.path)) == log.entry_name(8)


def _lose_entries(corpus: Corpus, *, whole_card: bool = False) -> None:
    """Delete entries 7 and 8 and make the card record entry 6 (its line, or all of it)."""
    for seq in (7, 8):
        log.entry_path(corpus.path, seq).unlink()
    card = corpus.path / "README.md"
    if whole_card:
        state = log.advance(corpus.path, log.HeadState())
        manifest = json.loads((corpus.path / "releases" / "0.1.0.json").read_bytes())
        text = derived_texts(corpus.path, state, manifest)["README.md"]
        card.write_text(text, encoding="utf-8")
        return
    digest = hashlib.sha256(log.entry_path(corpus.path, 6).read_bytes()).hexdigest()
    text, edits = re.subn(r"log entry 8 \(SHA-256 `[0-9a-f]{64}`\)",
                          f"log entry 6 (SHA-256 `{digest}`)", card.read_text(encoding="utf-8"))
    assert edits == 1
    card.write_text(text, encoding="utf-8")


def _verify(corpus: Corpus, *args: str) -> object:
    return run("--corpus", str(corpus.path), "verify", *args)


LOST_LINE = ("releases/0.2.0.json: records release 0.2.0 of log entry 7, which the log no "
             "longer has (it ends at entry 6): entries were deleted; restore them from a backup")


def test_lost_entries_named_by_their_release_manifest(corpus: Corpus) -> None:
    """Entries deleted and the card edited to match: verify names the orphaned manifest as
    evidence of lost entries, and calls no file safe to delete."""
    _two_releases(corpus)
    _lose_entries(corpus)
    result = _verify(corpus)
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert f"error: {corpus.path}/{LOST_LINE}" in result.stderr  # type: ignore[attr-defined]
    assert "names release 0.2.0, which the log does not have" in result.stderr  # type: ignore[attr-defined]
    assert "safe to delete" not in result.stderr  # type: ignore[attr-defined]
    assert Corpus(corpus.path).unreferenced_files() == []  # nor does the library


def test_lost_entries_stop_every_writer(corpus: Corpus) -> None:
    """With a manifest of a lost entry in releases/, add and release refuse (one error line
    naming it and `verify`), and the corpus is byte for byte unchanged."""
    _two_releases(corpus)
    _lose_entries(corpus)
    before = tree_digest(corpus.path)
    with pytest.raises(CorpusError, match=r"records release 0\.2\.0 of log entry 7.*verify"):
        Corpus(corpus.path).add(make_speech(9))
    result = run("--corpus", str(corpus.path), "release", "-m", "again")
    assert result.exit_code == 1
    assert result.stderr.count("error:") == 1 and LOST_LINE in result.stderr
    assert tree_digest(corpus.path) == before


def test_lost_entries_repair_refuses_over_a_regenerated_card(corpus: Corpus) -> None:
    """The whole card regenerated for entry 6: verify --repair refuses (it rewrote the
    changelog, citation and Croissant file back to 0.1.0), naming the manifest."""
    _two_releases(corpus)
    _lose_entries(corpus, whole_card=True)
    before = tree_digest(corpus.path)
    result = _verify(corpus, "--repair")
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert LOST_LINE in result.stderr  # type: ignore[attr-defined]
    assert "nothing was repaired" in result.stderr  # type: ignore[attr-defined]
    assert tree_digest(corpus.path) == before


def test_derived_files_naming_a_lost_release_are_evidence(corpus: Corpus) -> None:
    """The manifest deleted too: the changelog, citation and Croissant files that name
    0.2.0 are reported as evidence of lost entries, not as edited, and repair refuses."""
    _two_releases(corpus)
    _lose_entries(corpus, whole_card=True)
    (corpus.path / "releases" / "0.2.0.json").unlink()
    before = tree_digest(corpus.path)
    result = _verify(corpus, "--repair")
    assert result.exit_code == 1  # type: ignore[attr-defined]
    for name in ("CHANGELOG.md", "croissant.json", "CITATION.cff"):
        assert (f"error: {corpus.path / name}: names release 0.2.0, which the log does not "
                "have: entries were deleted") in result.stderr  # type: ignore[attr-defined]
    assert "edited" not in result.stderr  # type: ignore[attr-defined]
    assert tree_digest(corpus.path) == before


def test_a_release_after_an_interrupted_one_publishes_beside_its_manifest(corpus: Corpus) -> None:
    """A release interrupted after its manifest, then an add: the next release of 0.2.0
    goes ahead (nobody was told the first one succeeded), publishes its manifest beside the
    leftover under a name with its hash, and the corpus verifies (the leftover is named)."""
    corpus.add(make_speech(1))
    corpus.release()
    corpus.add(make_speech(2))

    def stop(name: str) -> None:
        if name == "manifest-published":
            raise KeyboardInterrupt

    with hooks.installed(crash=stop), pytest.raises(KeyboardInterrupt):
        Corpus(corpus.path).release(notes="interrupted")
    leftover = (corpus.path / "releases" / "0.2.0.json").read_bytes()
    Corpus(corpus.path).add(make_speech(3))
    result = run("--corpus", str(corpus.path), "release", "-m", "again")
    assert result.exit_code == 0, result.stderr
    reopened = Corpus(corpus.path)
    assert reopened.head().releases["0.2.0"]["manifest"].startswith("releases/0.2.0-")
    assert reopened.manifest("0.2.0")["records"] == 3
    assert (corpus.path / "releases" / "0.2.0.json").read_bytes() == leftover
    report = reopened.check()
    assert report.ok and corpus.path / "releases" / "0.2.0.json" in [
        item.path for item in report.waiting]  # gc removes it once it is an hour old


def _damage(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_verify_goes_on_past_a_broken_chain(corpus: Corpus) -> None:
    """Two damaged fragments and an edited entry 6: verify names the break (without telling
    to run verify), both fragments, and the release manifest that lists a damaged one."""
    _two_releases(corpus)
    older = stored(corpus.path, Corpus(corpus.path).manifest("0.1.0")["fragments"][0]["path"])
    head = next(stored(corpus.path, info["path"])
                for info in Corpus(corpus.path).manifest("0.2.0")["fragments"]
                if stored(corpus.path, info["path"]) != older)
    _damage(head)
    _damage(older)
    entry = log.entry_path(corpus.path, 6)
    entry.write_bytes(entry.read_bytes().replace(b'"add"', b'"add" '))
    result = _verify(corpus)
    assert result.exit_code == 1  # type: ignore[attr-defined]
    lines = result.stderr.splitlines()  # type: ignore[attr-defined]
    assert lines[0].startswith(f"error: {log.entry_path(corpus.path, 7)} does not "
                               f"chain to {log.entry_name(6)}")
    assert "run `policyspeech verify`" not in result.stderr  # type: ignore[attr-defined]
    for path in (head, older):
        assert any(line.startswith(f"error: {path}: SHA-256 is ") for line in lines), lines
    assert any(line.startswith(f"error: {corpus.path}/releases/0.2.0.json: release 0.2.0 "
                               "lists ") and f"data/{head.name}" in line
               and line.endswith("missing or damaged") for line in lines), lines


def test_derived_files_of_a_lost_first_release_are_evidence(corpus: Corpus) -> None:
    """Every entry from the first release on deleted, with its manifest, and the card
    regenerated: the changelog and Croissant file that only a release writes fail verify,
    and nothing is called safe to delete."""
    corpus.add(make_speech(1))
    corpus.add(make_speech(2))
    corpus.release()
    for path in log_files(corpus.path)[3:]:
        path.unlink()
    (corpus.path / "releases" / "0.1.0.json").unlink()
    state = log.advance(corpus.path, log.HeadState())
    (corpus.path / "README.md").write_text(derived_texts(corpus.path, state, None)["README.md"],
                                          encoding="utf-8")
    result = _verify(corpus)
    assert result.exit_code == 1  # type: ignore[attr-defined]
    for name in ("CHANGELOG.md", "croissant.json"):
        assert (f"error: {corpus.path / name}: exists, but the log has no release: entries "
                "were deleted") in result.stderr  # type: ignore[attr-defined]
    assert "safe to delete" not in result.stderr  # type: ignore[attr-defined]
