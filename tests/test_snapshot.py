"""The reader's cached snapshot of the head: used when valid, never stale, never trusted
when damaged."""

from __future__ import annotations

import json
import re

import pytest

import policyspeech as ps
import policyspeech.log as log
from policyspeech import snapshot
from policyspeech.errors import DuplicateSpeechError
from policyspeech.store import Corpus
from tests.helpers import make_speech


def test_a_reader_starts_from_the_snapshot_and_applies_newer_entries(
        corpus: Corpus, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus.add_all([make_speech(n) for n in range(3)])
    assert Corpus(corpus.path).view().seq == 1  # this reader saves the snapshot
    read: list[int] = []
    original = log.read_entry

    def counting(path, seq):  # type: ignore[no-untyped-def]
        read.append(seq)
        return original(path, seq)

    monkeypatch.setattr("policyspeech.log.read_entry", counting)
    assert ps.read(corpus.path).height == 3
    assert set(read) == {2}  # probes for a newer entry; entries 0 and 1 came from the cache
    corpus.add(make_speech(9))
    read.clear()
    assert ps.read(corpus.path).height == 4
    assert set(read) == {2, 3}


def test_a_damaged_or_foreign_snapshot_is_ignored(corpus: Corpus) -> None:
    corpus.add(make_speech(1))
    Corpus(corpus.path).view()
    path = snapshot._path(corpus.path)
    mac, _, payload = path.read_bytes().partition(b"\n")
    data = json.loads(payload)
    data["state"]["fragments"] = {}  # a lie about the head...
    data["entry"][2] += 1  # ...recorded for another file: ignored
    path.write_bytes(mac + b"\n" + json.dumps(data).encode())
    assert ps.read(corpus.path).height == 1
    path.write_text("{not json")
    assert ps.read(corpus.path).height == 1


def test_a_replaced_log_entry_invalidates_the_snapshot(corpus: Corpus) -> None:
    corpus.add(make_speech(1))
    Corpus(corpus.path).view()
    entry = log.entry_path(corpus.path, 1)
    data = entry.read_bytes()
    entry.unlink()
    entry.write_bytes(data)  # the same bytes in a new file: another identity
    assert snapshot.load(corpus.path) is None
    assert ps.read(corpus.path).height == 1
    assert snapshot.load(corpus.path) is not None  # the reader saved a fresh snapshot


def test_a_writer_caches_its_full_head_and_the_next_one_starts_from_it(
        corpus: Corpus, monkeypatch: pytest.MonkeyPatch) -> None:
    from policyspeech.log import HeadState, advance
    from policyspeech.tuning import Tuning

    ids = corpus.add_all([make_speech(n) for n in range(4)])
    corpus.retract(ids[0], reason="test")
    writer = Corpus(corpus.path, tuning=Tuning(snapshot_after_ids=3))
    writer.head()  # applies 4 ids: saves the full snapshot
    cached = snapshot.load(corpus.path, full=True)
    rebuilt = advance(corpus.path, HeadState())
    assert cached is not None and not cached.light
    for name in ("seq", "entry_sha256", "fragments", "ids_ever", "hash_by_id", "key_by_id",
                 "id_by_key", "retracted", "keyless", "releases", "released_fragments",
                 "fragments_ever", "pending"):
        assert getattr(cached, name) == getattr(rebuilt, name), name
    read: list[int] = []
    original = log.read_entry
    monkeypatch.setattr("policyspeech.log.read_entry",
                        lambda path, seq: read.append(seq) or original(path, seq))
    duplicate = f"this speech is already in the corpus as '{ids[1]}' (same text, speaker"
    with pytest.raises(DuplicateSpeechError, match=f"^{re.escape(duplicate)}"):
        Corpus(corpus.path).add(make_speech(1))  # the duplicate check works from the cache
    retracted = f"this speech was retracted from the corpus as '{ids[0]}' (reason: test)"
    with pytest.raises(DuplicateSpeechError, match=f"^{re.escape(retracted)}"):
        Corpus(corpus.path).add(make_speech(0))
    assert 0 not in read and 1 not in read
