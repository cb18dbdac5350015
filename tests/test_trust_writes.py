"""Trust on the write path: a write never builds on damaged data, and a refused command
changes nothing (issue 12: findings 1, 2, 3, 6, 7 and 15)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from policyspeech import hooks
from policyspeech.errors import CorpusError
from policyspeech.layout import entry_path
from policyspeech.store import Corpus
from tests.helpers import IDENTITY, log_files, make_speech, run, stored, tree_digest
from tests.hooked import REPO, command


def _two_in_one(corpus: Corpus) -> tuple[list[str], Path]:
    """Two speeches added in one commit (one fragment); their ids and the fragment."""
    ids = corpus.add_all([make_speech(1), make_speech(2)])
    [info] = corpus.head().fragments.values()
    return ids, stored(corpus.path, info["path"])


def _silent_flip(path: Path) -> None:
    """Flip one bit of ``path`` that a page-checksummed read does not notice."""
    original = path.read_bytes()
    for offset in range(4, len(original) - 8):
        data = bytearray(original)
        data[offset] ^= 0x01
        path.write_bytes(bytes(data))
        try:
            pq.read_table(path, page_checksum_verification=True)
        except Exception:  # the damage is caught there: try another bit
            continue
        return
    raise AssertionError("every bit flip was caught by the page checksums")


def _error_line(result: object) -> str:
    lines = result.stderr.strip().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


def _entries(corpus: Corpus) -> list[Path]:
    return log_files(corpus.path)


def test_finding_01_amend_refuses_a_damaged_fragment(corpus: Corpus) -> None:
    """Amending a record of a fragment with one flipped bit fails naming it; nothing is written."""
    ids, fragment = _two_in_one(corpus)
    _silent_flip(fragment)
    before = tree_digest(corpus.path)
    result = run("--corpus", str(corpus.path), "amend", ids[0], "--party", "Whig",
                 "--reason", "checked")
    assert result.exit_code == 1
    assert fragment.name in _error_line(result)
    assert tree_digest(corpus.path) == before


def test_finding_01_retract_and_compaction_refuse_a_damaged_fragment(corpus: Corpus) -> None:
    """Retract and compaction copy no damaged fragment either (IntegrityError naming it)."""
    ids, fragment = _two_in_one(corpus)
    for n in range(3, 6):
        corpus.add(make_speech(n))
    _silent_flip(fragment)
    before = tree_digest(corpus.path)
    with pytest.raises(CorpusError, match=fragment.name):
        Corpus(corpus.path).retract(ids[1], reason="withdrawn")
    with pytest.raises(CorpusError, match=fragment.name):
        Corpus(corpus.path).compact()
    assert tree_digest(corpus.path) == before


def _damage_entry(path: Path) -> None:
    """Change a log entry into other valid JSON (its hash changes)."""
    entry = json.loads(path.read_bytes())
    entry["message"] += " (edited)"
    path.write_text(json.dumps(entry, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _speech_file(folder: Path, n: int) -> Path:
    path = folder / f"speech-{n}.jsonl"
    path.write_text(json.dumps(make_speech(n)) + "\n", encoding="utf-8")
    return path


def test_finding_02_damaged_newest_entry_stops_every_write(corpus: Corpus,
                                                           tmp_path: Path) -> None:
    """A newest entry whose hash differs from the card's record stops add: nothing written."""
    first = corpus.add(make_speech(1))
    corpus.add(make_speech(2))
    newest = _entries(corpus)[-1]
    _damage_entry(newest)
    before = tree_digest(corpus.path)
    for args in (["import", str(_speech_file(tmp_path, 3))],
                 ["release"], ["retract", first, "--reason", "r"],
                 ["amend", first, "--party", "X", "--reason", "r"], ["compact"]):
        result = run("--corpus", str(corpus.path), *args)
        assert result.exit_code == 1, args
        line = _error_line(result)
        assert newest.name in line and "policyspeech verify" in line
        assert tree_digest(corpus.path) == before, args


def test_finding_02_a_card_behind_the_log_is_normal(corpus: Corpus, tmp_path: Path) -> None:
    """A card one commit behind (a crash before its refresh) does not stop the next add."""
    corpus.add(make_speech(1))
    card = (corpus.path / "README.md").read_bytes()
    corpus.add(make_speech(2))
    (corpus.path / "README.md").write_bytes(card)  # as a crash before the refresh leaves it
    result = run("--corpus", str(corpus.path), "import", str(_speech_file(tmp_path, 3)))
    assert result.exit_code == 0, result.stderr
    assert Corpus(corpus.path).verify() == []


def test_finding_02_a_damaged_entry_behind_the_card_stops_writes(corpus: Corpus,
                                                                 tmp_path: Path) -> None:
    """With the card one commit behind, the entry it records must still have its hash."""
    corpus.add(make_speech(1))
    card = (corpus.path / "README.md").read_bytes()
    corpus.add(make_speech(2))
    (corpus.path / "README.md").write_bytes(card)
    recorded = _entries(corpus)[-2]
    _damage_entry(recorded)
    # the newest entry edited to chain onto the changed one, as a forger would
    entry = json.loads(_entries(corpus)[-1].read_bytes())
    entry["parent"] = hashlib.sha256(recorded.read_bytes()).hexdigest()
    _entries(corpus)[-1].write_text(json.dumps(entry, indent=1, sort_keys=True) + "\n")
    before = tree_digest(corpus.path)
    result = run("--corpus", str(corpus.path), "import", str(_speech_file(tmp_path, 3)))
    assert result.exit_code == 1
    assert recorded.name in _error_line(result)
    assert tree_digest(corpus.path) == before


def test_finding_03_deleted_newest_entry_is_not_served(corpus: Corpus) -> None:
    """Deleting the newest entry: readers and writers refuse, naming it; --repair writes nothing."""
    import policyspeech as ps

    ids = corpus.add_all([make_speech(1), make_speech(2)])
    corpus.release()
    corpus.retract(ids[0], reason="withdrawn")
    newest = _entries(corpus)[-1]
    newest.unlink()
    before = tree_digest(corpus.path)
    for args in (["list"], ["verify", "--repair"],
                 ["import", str(_speech_file(corpus.path.parent, 3))]):
        result = run("--corpus", str(corpus.path), *args)
        assert result.exit_code == 1, args
        assert newest.name in _error_line(result), args
    with pytest.raises(CorpusError, match=newest.name):
        ps.read(corpus.path)
    assert tree_digest(corpus.path) == before


def test_finding_03_deleted_middle_entry_is_not_skipped(corpus: Corpus) -> None:
    """Deleting a middle entry: readers refuse; --repair names what it would lose, writes nothing."""
    for n in range(1, 10):
        corpus.add(make_speech(n))  # entries 1-9
    missing = entry_path(corpus.path, 7)
    missing.unlink()
    before = tree_digest(corpus.path)
    result = run("--corpus", str(corpus.path), "list")
    assert result.exit_code == 1
    assert missing.name in _error_line(result)
    result = run("--corpus", str(corpus.path), "verify", "--repair")
    assert result.exit_code == 1
    line = _error_line(result)
    assert "00000007.json: missing" in line and "00000008.json, 00000009.json" in line
    assert "nothing was repaired" in line
    assert tree_digest(corpus.path) == before


def test_finding_03_repair_still_rebuilds_derived_files(corpus: Corpus) -> None:
    """On a whole log, --repair rewrites an edited card and changelog as before."""
    corpus.add(make_speech(1))
    corpus.release()
    (corpus.path / "README.md").write_text("edited\n", encoding="utf-8")
    (corpus.path / "CHANGELOG.md").write_text("edited\n", encoding="utf-8")
    result = run("--corpus", str(corpus.path), "verify", "--repair")
    assert result.exit_code == 0, result.stderr
    assert Corpus(corpus.path).verify() == []
    assert (corpus.path / "CHANGELOG.md").read_text(encoding="utf-8") != "edited\n"


def _release_entries(corpus: Path, version: str) -> list[dict[str, object]]:
    entries = [json.loads(p.read_bytes()) for p in log_files(corpus)]
    return [e for e in entries if e["operation"] == "release"
            and e["release"]["version"] == version]


def test_finding_06_racing_releases_without_the_lock(corpus: Corpus) -> None:
    """Two processes releasing 0.2.0 at once without the lock: one release, the other refused."""
    corpus.add(make_speech(1))
    corpus.release()
    corpus.add(make_speech(2))
    running = [subprocess.Popen(command("--corpus", str(corpus.path), "release", "-m", note,
                                        without_lock=True),
                                cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for note in ("first", "second")]
    results = [(p.wait(), *p.communicate()) for p in running]
    assert sorted(code for code, _out, _err in results) == [0, 1], results
    [(_code, out, _err)] = [r for r in results if r[0] == 0]
    assert "0.2.0" in out
    assert len(_release_entries(corpus.path, "0.2.0")) == 1
    assert Corpus(corpus.path).manifest("0.2.0")["notes"] in ("first", "second")
    assert Corpus(corpus.path).verify() == []


def test_finding_06_deleted_lock_lets_no_conflicting_release(corpus: Corpus) -> None:
    """.lock deleted while a release holds it: a second release gets in, but exactly one 0.2.0
    is published, the other is refused and nothing is overwritten."""
    corpus.add(make_speech(1))
    corpus.release()
    corpus.add(make_speech(2))
    other: dict[str, object] = {}

    def meanwhile(name: str) -> None:
        if name == "manifest-written" and not other:
            (corpus.path / ".lock").unlink()
            other["run"] = subprocess.run(command("--corpus", str(corpus.path), "release",
                                                  "-m", "second"),
                                          cwd=REPO, capture_output=True, text=True)
            other["manifest"] = (corpus.path / "releases" / "0.2.0.json").read_bytes()

    with hooks.installed(crash=meanwhile), pytest.raises(CorpusError, match=r"0\.2\.0 was released"):
        Corpus(corpus.path).release(notes="first")
    assert other["run"].returncode == 0, other["run"].stderr  # type: ignore[attr-defined]
    assert len(_release_entries(corpus.path, "0.2.0")) == 1
    assert (corpus.path / "releases" / "0.2.0.json").read_bytes() == other["manifest"]
    assert Corpus(corpus.path).manifest("0.2.0")["notes"] == "second"
    assert Corpus(corpus.path).verify() == []


def test_finding_07_lock_as_a_symbolic_link_is_refused(corpus: Corpus, tmp_path: Path) -> None:
    """A .lock linked to the newest log entry: refused, naming it; the entry intact."""
    corpus.add(make_speech(1))
    newest = _entries(corpus)[-1]
    lock = corpus.path / ".lock"
    lock.unlink(missing_ok=True)
    lock.symlink_to(newest)
    before = tree_digest(corpus.path)
    entry = newest.read_bytes()
    result = run("--corpus", str(corpus.path), "import", str(_speech_file(tmp_path, 2)))
    assert result.exit_code == 1
    line = _error_line(result)
    assert ".lock" in line and "symbolic link" in line
    assert newest.read_bytes() == entry and lock.is_symlink()
    assert tree_digest(corpus.path) == before


def _stale_card_corpus(corpus: Corpus) -> list[str]:
    """A corpus whose card is one commit behind, without a lock file; its ids."""
    ids = corpus.add_all([make_speech(1), make_speech(2)])
    corpus.release()
    card = (corpus.path / "README.md").read_bytes()
    corpus.add(make_speech(3))
    (corpus.path / "README.md").write_bytes(card)
    (corpus.path / ".lock").unlink()
    return ids


def test_finding_15_rejected_commands_change_nothing(corpus: Corpus, tmp_path: Path) -> None:
    """Refused amend, retract, release, add, import: every file as it was, no .lock made."""
    ids = _stale_card_corpus(corpus)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(make_speech(9, country="UK")) + "\n", encoding="utf-8")
    refused = [["amend", ids[0], "--country", "UK", "--reason", "r"],
               ["amend", "no-such-speech", "--party", "X", "--reason", "r"],
               ["retract", "no-such-speech", "--reason", "r"],
               ["release", "patch", "-m", "an addition is no patch"],
               ["import", str(bad)],
               ["add", str(bad)]]
    before = tree_digest(corpus.path)
    for args in refused:
        result = run("--corpus", str(corpus.path), *args)
        assert result.exit_code == 1, (args, result.stdout)
        assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
        assert tree_digest(corpus.path) == before, args
        assert not os.path.lexists(corpus.path / ".lock"), args
        assert not any((corpus.path / ".tmp").iterdir()), args


def test_finding_01_release_refuses_a_damaged_fragment(tmp_path: Path) -> None:
    """A release does not fingerprint an unreleased fragment that differs from its log hash."""
    from policyspeech.tuning import Tuning

    tuning = Tuning(small_fragment_bytes=1)  # no compaction: the fragment is read as it is
    corpus = Corpus.init(tmp_path / "corpus", tuning=tuning, **IDENTITY)
    _ids, fragment = _two_in_one(corpus)
    _silent_flip(fragment)
    before = tree_digest(corpus.path)
    with pytest.raises(CorpusError, match=fragment.name):
        Corpus(corpus.path, tuning=tuning).release(notes="first")
    assert tree_digest(corpus.path) == before


def test_a_changed_release_manifest_stops_writes_and_reads_of_it(corpus: Corpus,
                                                                  tmp_path: Path) -> None:
    """A release manifest edited so that it is still valid JSON (the damage trials found
    one that made `add` raise a KeyError after writing its fragment) is checked against
    the hash its release entry records: writes and reads that need it refuse, naming it,
    and nothing is written."""
    corpus.add(make_speech(1))
    corpus.release(notes="first")
    [manifest] = (corpus.path / "releases").glob("*.json")
    data = json.loads(manifest.read_bytes())
    data["vursion"] = data.pop("version")
    manifest.write_text(json.dumps(data), encoding="utf-8")
    before = tree_digest(corpus.path)
    for args in (["import", str(_speech_file(tmp_path, 2))], ["cite"], ["versions"]):
        line = _error_line(run("--corpus", str(corpus.path), *args))
        assert f"{manifest.name}: its SHA-256 differs" in line, args
    assert tree_digest(corpus.path) == before


@pytest.mark.parametrize("command", ["amend", "retract", "release", "import"])
def test_control_characters_in_reasons_notes_and_messages_are_refused(
        corpus: Corpus, tmp_path: Path, command: str) -> None:
    """An escape sequence in a reason, release notes or a log message would reach the
    terminal (`diff`, `versions`) and CHANGELOG.md raw: refused, nothing written."""
    [first] = corpus.add_all([make_speech(1)])
    escape = "\x1b]0;pwned\x07\x1b[2Jok"
    args = {"amend": ["amend", first, "--speaker", "Someone Else", "--reason", escape],
            "retract": ["retract", first, "--reason", escape],
            "release": ["release", "-m", escape],
            "import": ["import", str(_speech_file(tmp_path, 2)), "-m", escape]}[command]
    before = tree_digest(corpus.path)
    line = _error_line(run("--corpus", str(corpus.path), *args))
    assert "control character U+001B" in line
    assert tree_digest(corpus.path) == before


def test_a_staging_folder_linked_outside_the_corpus_is_refused(corpus: Corpus,
                                                               tmp_path: Path) -> None:
    """`.tmp` made a symbolic link to a folder outside: the write is refused and nothing is
    made or removed there (temporary files live only inside the corpus)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine", encoding="utf-8")
    staging = corpus.path / ".tmp"
    if staging.exists():
        staging.rmdir()
    staging.symlink_to(outside)
    before = tree_digest(corpus.path)
    line = _error_line(run("--corpus", str(corpus.path), "import", str(_speech_file(tmp_path, 1))))
    assert ".tmp' is a symbolic link" in line
    assert sorted(p.name for p in outside.iterdir()) == ["keep.txt"]
    assert tree_digest(corpus.path) == before
    with pytest.raises(CorpusError, match="symbolic link"):
        corpus.add(make_speech(2))
