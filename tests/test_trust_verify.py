"""Issue 12, the verify side: ``verify`` replays the whole log and checks the derived files;
cached heads and Arrow files are bound to their content and never served unchecked."""

from __future__ import annotations

import hashlib
import json
import re
import struct
from pathlib import Path
from typing import Any

import policyspeech as ps
from policyspeech import log, snapshot
from policyspeech.store import Corpus
from policyspeech.tuning import Tuning
from tests.helpers import log_files, make_speech, run, stored, tree_digest

# -- helpers ---------------------------------------------------------------------------


def _retracted_corpus(corpus: Corpus) -> tuple[str, str, str]:
    """Two speeches in one fragment, then one retracted: (kept id, retracted id, the
    superseded fragment that still holds both)."""
    kept, gone = corpus.add_all([make_speech(1), make_speech(2)])
    before = set(log.advance(corpus.path, log.HeadState()).fragments)
    corpus.retract(gone, reason="withdrawn")
    after = set(log.advance(corpus.path, log.HeadState()).fragments)
    (superseded,) = before - after
    return kept, gone, superseded


def _forge_snapshot(path: Path, edit: Any) -> None:
    """Edit a reader snapshot as one without the cache's key can: its JSON, with a plain
    SHA-256 in place of the checksum line when the file has one."""
    data = path.read_bytes()
    try:
        snap = json.loads(data)
        edit(snap)
        path.write_text(json.dumps(snap))
    except ValueError:
        _, _, payload = data.partition(b"\n")
        snap = json.loads(payload)
        edit(snap)
        payload = json.dumps(snap).encode()
        path.write_bytes(hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload)


def _forge_index(path: Path, edit: Any) -> None:
    """Edit the header of a writer's head index and recompute its checksum with SHA-256
    (what the file format documented before the checksums were keyed)."""
    from policyspeech.indexfile import PAGE_DIGEST_BYTES, PREFIX

    data = path.read_bytes()
    magic, header_bytes, pages = PREFIX.unpack(data[:PREFIX.size])
    at = PREFIX.size
    header = json.loads(data[at:at + header_bytes])
    digests = data[at + header_bytes:at + header_bytes + pages * PAGE_DIGEST_BYTES]
    body = data[at + header_bytes + pages * PAGE_DIGEST_BYTES + 32:]
    edit(header)
    new = json.dumps(header).encode()
    checked = new + digests
    path.write_bytes(struct.pack("<8sII", magic, len(new), pages) + checked
                     + hashlib.sha256(checked).digest() + body)


# -- finding 5: caches -----------------------------------------------------------------


def test_finding_05_edited_reader_snapshot_is_not_served(corpus: Corpus) -> None:
    """A reader snapshot edited to list a superseded fragment is rejected: no retracted speech."""
    kept, gone, superseded = _retracted_corpus(corpus)
    Corpus(corpus.path).view()  # saves the reader's snapshot
    path = snapshot._path(corpus.path)
    info = {"path": superseded, "sha256": Path(superseded).stem, "rows": 2,
            "bytes": stored(corpus.path, superseded).stat().st_size}

    def point_at_superseded(snap: dict[str, Any]) -> None:
        snap["state"]["fragments"] = {superseded: info}

    _forge_snapshot(path, point_at_superseded)
    assert sorted(ps.read(corpus.path)["id"].to_list()) == [kept]
    listed = run("--corpus", str(corpus.path), "list", "--format", "jsonl")
    assert listed.exit_code == 0, listed.stderr
    assert gone not in listed.stdout and kept in listed.stdout
    _forge_snapshot(path, point_at_superseded)
    assert sorted(ps.read(corpus.path, verify=True)["id"].to_list()) == [kept]


def test_finding_05_verified_read_does_not_use_the_snapshot(corpus: Corpus) -> None:
    """read(verify=True) takes the head from the log, even over a snapshot that checks."""
    kept, _gone, superseded = _retracted_corpus(corpus)
    state = log.advance(corpus.path, log.HeadState(light=True))
    state.fragments = {superseded: {"path": superseded, "sha256": Path(superseded).stem,
                                    "rows": 2, "bytes": 0}}
    snapshot.save(corpus.path, state)  # a lie written with the cache's own key
    assert sorted(ps.read(corpus.path, verify=True)["id"].to_list()) == [kept]
    assert sorted(ps.load_dataset(corpus.path, verify=True)["id"]) == [kept]


def test_finding_05_edited_writer_index_commits_no_duplicates(corpus: Corpus) -> None:
    """A head index edited to list a superseded fragment is ignored: the release has no
    duplicate and no retracted speech, and verify passes."""
    kept, _gone, superseded = _retracted_corpus(corpus)
    Corpus(corpus.path, tuning=Tuning(snapshot_after_ids=1)).head()  # writes the index
    path = snapshot._index_path(corpus.path)
    assert path.is_file()

    def add_superseded(header: dict[str, Any]) -> None:
        header["state"]["fragments"][superseded] = {
            "path": superseded, "sha256": Path(superseded).stem, "rows": 0,
            "bytes": stored(corpus.path, superseded).stat().st_size}

    _forge_index(path, add_superseded)
    manifest = Corpus(corpus.path).release("minor", notes="first")
    ids = ps.read(corpus.path, version=manifest["version"])["id"].to_list()
    assert ids == [kept] and manifest["records"] == 1
    assert Corpus(corpus.path).verify() == []


def test_finding_05_edited_arrow_cache_is_rebuilt_not_served(corpus: Corpus,
                                                            tmp_path: Path) -> None:
    """An Arrow cache file edited in place (same size) is not returned by verify=True."""
    corpus.add(make_speech(1, text="The original words of the speech."))
    cache = tmp_path / "cache"
    text = ["The original words of the speech."]
    assert ps.load_dataset(corpus.path, cache=cache)["text"] == text
    (cached,) = [p for p in (cache / "arrow").iterdir() if p.suffix == ".arrow"]
    data = cached.read_bytes()
    assert data.count(b"original") == 1
    cached.write_bytes(data.replace(b"original", b"FORGED!!"))
    assert ps.load_dataset(corpus.path, cache=cache, verify=True)["text"] == text
    cached = next(p for p in (cache / "arrow").iterdir() if p.suffix == ".arrow")
    cached.write_bytes(cached.read_bytes()[:-8])  # truncated: checked on every use
    assert ps.load_dataset(corpus.path, cache=cache)["text"] == text


# -- finding 14 (verify side): derived files ---------------------------------------------


def _released(corpus: Corpus) -> Corpus:
    corpus.add_all([make_speech(1), make_speech(2)])
    corpus.release("minor", notes="first")
    corpus.add(make_speech(3))
    corpus.release("minor", notes="second")
    assert Corpus(corpus.path).verify() == []
    return corpus


def _verify(corpus: Corpus) -> Any:
    return run("--corpus", str(corpus.path), "verify")


def test_finding_14_tampered_croissant_sha256_fails_verify(corpus: Corpus) -> None:
    """A fragment's sha256 changed in croissant.json: verify exits 1 naming the file."""
    _released(corpus)
    path = corpus.path / "croissant.json"
    data = json.loads(path.read_text())
    (entry,) = [d for d in data["distribution"] if "sha256" in d][:1]
    entry["sha256"] = "0" * 64
    path.write_text(json.dumps(data, indent=2))
    result = _verify(corpus)
    assert result.exit_code == 1
    assert f"error: {path}: differs from the file the log generates" in result.stderr


def test_finding_14_edited_changelog_and_citation_are_named(corpus: Corpus) -> None:
    """A forged CHANGELOG.md section or another version in CITATION.cff fails verify,
    naming the file; an edited author (a user's field) and a file one release behind do not."""
    _released(corpus)
    changelog, citation = corpus.path / "CHANGELOG.md", corpus.path / "CITATION.cff"
    original = changelog.read_text()
    changelog.write_text(original + "\n## 9.9.9 (2030-01-01)\n\nForged.\n")
    result = _verify(corpus)
    assert result.exit_code == 1 and f"error: {changelog}: differs" in result.stderr
    changelog.write_text(original)
    cff = citation.read_text()
    citation.write_text(cff.replace("version: 0.2.0", "version: 9.9.9"))
    result = _verify(corpus)
    assert result.exit_code == 1 and f"error: {citation}: differs" in result.stderr
    citation.write_text(cff.replace("family-names: policyspeech contributors",
                                    "family-names: Lovelace"))
    assert _verify(corpus).exit_code == 0, _verify(corpus).stderr
    from policyspeech.citation import render_cff

    first = Corpus(corpus.path).manifest("0.1.0")
    citation.write_text(render_cff(first))  # what the first release wrote: behind
    result = _verify(corpus)
    assert result.exit_code == 0
    assert f"warning: {citation}: behind the log, as release 0.1.0 wrote it" in result.stderr
    assert "--repair" in result.stderr


# -- finding 3 (verify side): missing log entries ----------------------------------------


def test_finding_03_deleted_newest_entry_is_named_not_safe_to_delete(corpus: Corpus) -> None:
    """The newest entry deleted: verify names it, and calls no fragment safe to delete."""
    _retracted_corpus(corpus)
    newest = log_files(corpus.path)[-1]
    newest.unlink()
    result = _verify(corpus)
    assert result.exit_code == 1
    assert f"error: {newest}: missing; the card records {newest.name}" in result.stderr
    assert "it is safe to delete" not in result.stderr
    # the retraction's fragment is named by no entry left, but it is not offered either
    assert Corpus(corpus.path).unreferenced_files() == []


def test_finding_03_repair_rebuilds_nothing_over_a_missing_entry(corpus: Corpus) -> None:
    """verify --repair with the newest entry deleted: exit 1 naming it, the corpus unchanged."""
    _retracted_corpus(corpus)
    newest = log_files(corpus.path)[-1]
    newest.unlink()
    before = tree_digest(corpus.path)
    result = run("--corpus", str(corpus.path), "verify", "--repair")
    assert result.exit_code == 1
    assert f"error: {newest}: missing" in result.stderr
    assert tree_digest(corpus.path) == before


def test_card_record_of_newest_entry_damaged_names_the_card_and_the_entry(
        corpus: Corpus) -> None:
    """A hex digit of the card's record of the newest entry's SHA-256 damaged into another:
    verify names both the entry and the card (which was damaged cannot be told without a
    backup) and says what to do; deleting the card and repairing, as it says, restores it."""
    corpus.add(make_speech(1))
    card = corpus.path / "README.md"
    pristine = card.read_bytes()
    recorded = re.search(rb"log entry \d+ \(SHA-256 `", pristine)
    assert recorded is not None
    damaged = bytearray(pristine)
    damaged[recorded.end()] = ord("0") if damaged[recorded.end()] != ord("0") else ord("1")
    card.write_bytes(bytes(damaged))
    result = _verify(corpus)
    assert result.exit_code == 1
    newest = log_files(corpus.path)[-1]
    assert f"error: {newest}: its SHA-256 `" in result.stderr
    assert f"differs from the one {card} recorded" in result.stderr
    assert "delete the card and run `policyspeech verify --repair`" in result.stderr
    card.unlink()
    assert run("--corpus", str(corpus.path), "verify", "--repair").exit_code == 0
    assert card.read_bytes() == pristine
    assert _verify(corpus).exit_code == 0


def test_finding_03_deleted_middle_entry_is_named(corpus: Corpus) -> None:
    """A middle entry deleted: verify names it and the entries after it."""
    corpus.add(make_speech(1))
    corpus.add(make_speech(2))
    corpus.add(make_speech(3))
    middle = log.entry_path(corpus.path, 2)
    middle.unlink()
    result = _verify(corpus)
    assert result.exit_code == 1
    assert f"error: {middle}: missing, and the log has entries after it " \
           f"({log.entry_name(3)})" in result.stderr
    assert "it is safe to delete" not in result.stderr


# -- finding 5 (verify side): the replay ---------------------------------------------------


def _rewrite_log(corpus: Corpus, edit: Any) -> None:
    """Edit the entries and rewrite the hash chain and the derived files consistently."""
    parent = None
    for path in log_files(corpus.path):
        entry = json.loads(path.read_bytes())
        edit(entry)
        entry["parent"] = parent
        data = log.encode_entry(entry)
        path.write_bytes(data)
        parent = hashlib.sha256(data).hexdigest()
    from policyspeech.cardfiles import derived_texts

    state = log.advance(corpus.path, log.HeadState())
    for name, text in derived_texts(corpus.path, state, None).items():
        (corpus.path / name).write_text(text, encoding="utf-8")


def test_finding_05_duplicate_ids_in_the_log_fail_verify(corpus: Corpus) -> None:
    """A forged log that adds an id already in the corpus (chain rewritten) fails verify."""
    first = corpus.add(make_speech(1))
    corpus.add(make_speech(2))
    corpus.add(make_speech(3))

    def reuse(entry: dict[str, Any]) -> None:
        if entry["seq"] == 2:
            entry["ids"] = [first]

    _rewrite_log(corpus, reuse)
    result = run("--corpus", str(corpus.path), "verify", "--deep")
    assert result.exit_code == 1
    assert f"error: {log.entry_path(corpus.path, 2)}: adds ids already in the " \
           f"corpus ('{first}')" in result.stderr


def test_finding_05_retracted_id_reused_in_the_log_fails_verify(corpus: Corpus) -> None:
    """A forged log that brings a retracted id back (chain rewritten) fails verify."""
    _, gone, _ = _retracted_corpus(corpus)
    corpus.add(make_speech(3))
    newest = max(int(p.stem) for p in log_files(corpus.path))

    def reuse(entry: dict[str, Any]) -> None:
        if entry["seq"] == newest:
            entry["ids"] = [gone]

    _rewrite_log(corpus, reuse)
    result = _verify(corpus)
    assert result.exit_code == 1
    assert f"reuses ids that were retracted or amended away ('{gone}')" in result.stderr


def test_finding_05_duplicates_from_a_forged_cache_fail_verify(corpus: Corpus) -> None:
    """An index forged with the cache's own key misleads a release: verify's replay finds it."""
    _, _, superseded = _retracted_corpus(corpus)
    state = Corpus(corpus.path).head()
    state.fragments[superseded] = {"path": superseded, "sha256": Path(superseded).stem,
                                   "rows": 0, "bytes": stored(corpus.path, superseded).stat().st_size}
    snapshot.save(corpus.path, state)  # written with the key: it checks
    Corpus(corpus.path).release("minor", notes="misled")
    result = _verify(corpus)
    assert result.exit_code == 1
    assert "rows for 1 ids; the log lists other records than its fragments" in result.stderr
