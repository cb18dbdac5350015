"""The writer's head index: lookups equal the dictionaries, damage costs a rebuild from
the log and never a wrong answer, a stale index is brought up to date, deltas."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import policyspeech as ps
import policyspeech.log as log
from policyspeech import headindex, headsave, indexfile, layered, snapshot
from policyspeech.log import HeadState, advance
from policyspeech.store import Corpus
from policyspeech.tuning import Tuning
from tests.helpers import make_speech

MAPS = ("hash_by_id", "key_by_id", "id_by_key", "retracted", "former")
FIELDS = ("seq", "entry_sha256", "fragments", "ids_ever", *MAPS, "keyless", "releases",
          "released_fragments", "fragments_ever", "pending")

ids = st.text("abcdefghij-0123456789é\u200b", min_size=1, max_size=12)
hexes = st.binary(min_size=32, max_size=32).map(bytes.hex)
keys = st.binary(min_size=16, max_size=16).map(bytes.hex)
odd = st.text(max_size=8)  # not hex: stored as text


@st.composite
def states(draw: st.DrawFn) -> HeadState:
    """A full state of random maps (with the invariants the log keeps)."""
    present = draw(st.lists(ids, unique=True, max_size=60))
    retired = draw(st.lists(ids.filter(lambda i: i not in present), unique=True, max_size=10))
    state = HeadState(seq=3, entry_sha256="e" * 64, light=False)
    for record_id in present:
        state.hash_by_id[record_id] = draw(st.one_of(hexes, hexes, odd))
        key = draw(st.one_of(keys, keys, st.none(), odd))
        if key is None or key in state.id_by_key:
            state.keyless.add(record_id)
        else:
            state.key_by_id[record_id] = key
            state.id_by_key[key] = record_id
    state.ids_ever = set(present) | set(retired)
    state.retracted = {draw(keys): [i, draw(st.text(max_size=20))] for i in retired[:5]}
    state.former = {draw(keys): i for i in retired[5:]}
    state.fragments = {"data/a.parquet": {"path": "data/a.parquet", "rows": len(present),
                                          "bytes": 1}}
    state.pending = [{"operation": "add", "seq": 1, "ids": present, "fields": [],
                      "reason": None}]
    return state


def _plain(state: HeadState) -> dict[str, Any]:
    return {name: dict(getattr(state, name)) for name in MAPS} | {
        "ids_ever": set(state.ids_ever), "keyless": set(state.keyless),
        "pending": [dict(c, ids=list(c["ids"])) for c in state.pending]}


def _assert_same(loaded: HeadState, expected: dict[str, Any], probes: list[str]) -> None:
    for name in MAPS:
        layered, plain = getattr(loaded, name), expected[name]
        for probe in [*plain, *probes]:
            assert layered.get(probe) == plain.get(probe), (name, probe)
            assert (probe in layered) == (probe in plain)
        assert len(layered) == len(plain)
        assert list(layered) == list(plain), name  # the order of the dictionary
        assert layered == plain
    for probe in [*expected["ids_ever"], *probes]:
        assert (probe in loaded.ids_ever) == (probe in expected["ids_ever"])
    assert len(loaded.ids_ever) == len(expected["ids_ever"])
    assert set(loaded.ids_ever) == expected["ids_ever"]
    assert loaded.pending == expected["pending"]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(state=states(), probes=st.lists(ids, max_size=10), data=st.data())
def test_lookups_equal_the_dictionaries_before_and_after_changes(
        state: HeadState, probes: list[str], data: st.DataObject) -> None:
    expected = _plain(state)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "head.index"
        headsave.write_index(path, state, stamp="s3")
        loaded = headindex.read(path, Path(folder), stamp=lambda seq: f"s{seq}")
        assert loaded is not None and not loaded.light
        _assert_same(loaded, expected, probes)
        # changes since the index, as entries make them: set, replace, delete, set again
        for name in MAPS:
            layered, plain = getattr(loaded, name), expected[name]
            for _ in range(data.draw(st.integers(0, 8))):
                key = data.draw(st.one_of(ids, st.sampled_from([*plain, "x"])))
                if data.draw(st.booleans()) and key in plain:
                    del layered[key], plain[key]
                else:
                    layered[key] = plain[key] = data.draw(hexes)
            with pytest.raises(KeyError):
                del layered["not a key \n"]
        loaded.ids_ever.add("new-id")
        expected["ids_ever"].add("new-id")
        _assert_same(loaded, expected, probes)
        # cached again: as a delta beside the same index, read back the same (random
        # changes do not keep the head's counts, which reading checks)
        loaded.seq = 4
        assert headsave.write_delta(path, loaded, stamp="s4")
        with mock.patch.object(headindex, "_counts_match", lambda state: True):
            again = headindex.read(path, Path(folder), stamp=lambda seq: f"s{seq}")
        assert again is not None and again.seq == 4
        _assert_same(again, expected, probes)


def _full_corpus(corpus: Corpus) -> Corpus:
    """A corpus with several entries, a retraction and an amendment, and its index."""
    corpus.add_all([make_speech(n) for n in range(20)])
    corpus.add(make_speech(20))
    retracted = corpus.add(make_speech(21))
    corpus.retract(retracted, reason="Not a speech")
    corpus.amend(corpus.add(make_speech(22)), text="Corrected text of speech 22.", reason="Typo")
    snapshot.save(corpus.path, Corpus(corpus.path).head())
    assert snapshot._index_path(corpus.path).exists()
    return corpus


def _rebuilt(corpus: Corpus) -> HeadState:
    return advance(corpus.path, HeadState())


def _assert_equal_to_the_log(state: HeadState, corpus: Corpus) -> None:
    rebuilt = _rebuilt(corpus)
    for name in FIELDS:
        assert getattr(state, name) == getattr(rebuilt, name), name


def test_a_fresh_writer_reads_the_index_and_gets_the_head_of_the_log(corpus: Corpus) -> None:
    _full_corpus(corpus)
    state = snapshot.load(corpus.path, full=True)
    assert state is not None and isinstance(state.hash_by_id, layered.LayeredMap)
    _assert_equal_to_the_log(state, corpus)
    with pytest.raises(ps.DuplicateSpeechError, match="already in the corpus"):
        Corpus(corpus.path).add(make_speech(3))
    with pytest.raises(ps.DuplicateSpeechError, match="was retracted from the corpus"):
        Corpus(corpus.path).add(make_speech(21))
    with pytest.raises(ps.DuplicateSpeechError, match="amended since"):
        Corpus(corpus.path).add(make_speech(22))
    Corpus(corpus.path).add(make_speech(23))
    assert not state.hash_by_id.source.rebuilt  # type: ignore[attr-defined]


def test_a_stale_index_is_brought_up_to_date_by_the_entries_since(
        corpus: Corpus, monkeypatch: pytest.MonkeyPatch) -> None:
    _full_corpus(corpus)
    indexed = Corpus(corpus.path).head().seq
    gone = corpus.add(make_speech(30))
    corpus.retract(gone, reason="Wrong")
    corpus.amend(corpus.add(make_speech(31)), {"title": "Again"}, reason="Typo")
    corpus.add_all([make_speech(n) for n in range(32, 40)])
    read: list[int] = []
    original = log.read_entry
    monkeypatch.setattr("policyspeech.log.read_entry",
                        lambda path, seq: read.append(seq) or original(path, seq))
    writer = Corpus(corpus.path)
    state = writer.head()
    assert min(read) == indexed + 1  # from the index, then the entries since
    _assert_equal_to_the_log(state, corpus)
    with pytest.raises(ps.DuplicateSpeechError, match="was retracted"):
        writer.add(make_speech(30))
    with pytest.raises(ps.DuplicateSpeechError, match="already in the corpus"):
        Corpus(corpus.path).add(make_speech(35))


def _flip(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def _damaged(corpus: Corpus, damage: Any, check: Any) -> None:
    """``check`` the full state that a writer loads from the index after ``damage``; the
    index is restored after."""
    path = snapshot._index_path(corpus.path)
    original = path.read_bytes()
    try:
        damage(path)
        check(snapshot.load(corpus.path, full=True))
    finally:
        path.unlink(missing_ok=True)
        path.write_bytes(original)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(where=st.floats(0, 1, exclude_max=True))
def test_any_damaged_byte_costs_a_rebuild_never_a_wrong_answer(
        tmp_path_factory: pytest.TempPathFactory, where: float) -> None:
    corpus = _damage_corpus(tmp_path_factory)
    size = snapshot._index_path(corpus.path).stat().st_size
    _damaged(corpus, lambda path: _flip(path, int(where * size)), _check_damaged)


def _check_damaged(state: HeadState | None) -> None:
    if state is None:  # the header: found out on opening
        return
    corpus = state.hash_by_id.source.corpus  # type: ignore[attr-defined]
    rebuilt = advance(corpus, HeadState())
    for record_id in [*rebuilt.ids_ever, "no-such-id"]:  # lookups read every page
        for name in ("hash_by_id", "key_by_id"):
            assert getattr(state, name).get(record_id) == getattr(rebuilt, name).get(
                record_id)
        assert (record_id in state.ids_ever) == (record_id in rebuilt.ids_ever)
    for name in ("id_by_key", "retracted", "former"):
        for key in [*rebuilt.key_by_id.values(), *rebuilt.retracted, *rebuilt.former]:
            assert getattr(state, name).get(key) == getattr(rebuilt, name).get(key)
    for name in FIELDS:
        assert getattr(state, name) == getattr(rebuilt, name), name
    assert state.hash_by_id.source.rebuilt  # type: ignore[attr-defined]


_CORPORA: dict[str, Corpus] = {}


def _damage_corpus(factory: pytest.TempPathFactory) -> Corpus:
    if "damage" not in _CORPORA:
        _CORPORA["damage"] = _full_corpus(Corpus.init(factory.mktemp("damage") / "c"))
    return _CORPORA["damage"]


def test_a_damaged_page_met_by_a_lookup_rebuilds_from_the_log_and_drops_the_file(
        corpus: Corpus) -> None:
    _full_corpus(corpus)
    path = snapshot._index_path(corpus.path)
    file = indexfile.IndexFile(path, snapshot.cache_key() or b"")
    start, body = file._start, file.body_bytes
    file.close()
    data = bytearray(path.read_bytes())
    for at in range(start, start + body, indexfile.PAGE_BYTES):
        data[at] ^= 0x80  # every page
    path.write_bytes(bytes(data))
    writer = Corpus(corpus.path)
    with pytest.raises(ps.DuplicateSpeechError, match="already in the corpus"):
        writer.add(make_speech(5))
    index = writer.head().hash_by_id.source  # type: ignore[attr-defined]
    assert index.rebuilt and not path.exists()
    writer.add(make_speech(40))  # a valid speech is still accepted
    _assert_equal_to_the_log(writer.head(), corpus)


@pytest.mark.parametrize("damage", ["truncated", "longer", "header", "empty", "foreign",
                                    "edited"])
def test_a_damaged_or_foreign_index_is_ignored(corpus: Corpus, tmp_path: Path,
                                               damage: str) -> None:
    _full_corpus(corpus)
    path = snapshot._index_path(corpus.path)
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[:-100])
    elif damage == "longer":
        path.write_bytes(data + b"\0")
    elif damage == "header":
        _flip(path, 40)
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "foreign":  # another corpus's index under this name
        other = Corpus.init(tmp_path / "other")
        other.add_all([make_speech(n) for n in range(20)])
        snapshot.save(other.path, Corpus(other.path).head())
        path.write_bytes(snapshot._index_path(other.path).read_bytes())
    else:  # an edit of the header that keeps it valid JSON: its checksum differs
        path.write_bytes(data.replace(b'"rows": 20', b'"rows": 21', 1))
        assert path.read_bytes() != data
    assert snapshot.load(corpus.path, full=True) is None
    with pytest.raises(ps.DuplicateSpeechError):
        Corpus(corpus.path).add(make_speech(7))
    Corpus(corpus.path).add(make_speech(41))


def test_an_index_whose_entry_hash_is_wrong_is_not_trusted(corpus: Corpus) -> None:
    """Stamped for the right file but made for other bytes: the writer checks the head
    entry's hash (or the next entry's parent) and reads the log instead."""
    _full_corpus(corpus)
    state = Corpus(corpus.path).head()
    state.entry_sha256 = "0" * 64
    headsave.write_index(snapshot._index_path(corpus.path), state,
                          stamp=snapshot._stamp(corpus.path, state.seq))
    assert snapshot.load(corpus.path, full=True) is None  # the head entry: hashed
    headsave.write_index(snapshot._index_path(corpus.path), state,
                          stamp=snapshot._stamp(corpus.path, state.seq))
    corpus.add(make_speech(42))  # now an entry follows: its parent does not match
    writer = Corpus(corpus.path)
    _assert_equal_to_the_log(writer.head(), corpus)
    writer.add(make_speech(43))
    assert Corpus(corpus.path).verify() == []


def test_deltas_are_written_while_the_changes_are_few(
        corpus: Corpus, monkeypatch: pytest.MonkeyPatch) -> None:
    _full_corpus(corpus)
    index = snapshot._index_path(corpus.path)
    delta = headindex.delta_path(index)
    before = index.read_bytes()
    for n in range(50, 56):
        Corpus(corpus.path, tuning=Tuning(snapshot_after_entries=2)).add(make_speech(n))
    assert delta.exists() and index.read_bytes() == before  # the index was not rewritten
    gone = Corpus(corpus.path, tuning=Tuning(snapshot_after_entries=2)).add(make_speech(56))
    Corpus(corpus.path, tuning=Tuning(snapshot_after_entries=2)).retract(gone, reason="Test")
    Corpus(corpus.path, tuning=Tuning(snapshot_after_entries=2)).head()
    state = snapshot.load(corpus.path, full=True)
    assert state is not None
    _assert_equal_to_the_log(state, corpus)
    with pytest.raises(ps.DuplicateSpeechError, match="retracted"):
        Corpus(corpus.path, tuning=Tuning(snapshot_after_entries=2)).add(make_speech(56))
    # an edited delta is ignored: the index alone, and the entries since
    text = delta.read_bytes()
    delta.write_bytes(text.replace(b'"over": {', b'"over": {"forged": "x", ', 1))
    state = Corpus(corpus.path, tuning=Tuning(snapshot_after_entries=2)).head()
    assert "forged" not in state.hash_by_id
    _assert_equal_to_the_log(state, corpus)
    # many changes: a new index, and no delta
    monkeypatch.setattr(headsave, "DELTA_CHANGES", 3)
    for n in range(60, 64):
        Corpus(corpus.path, tuning=Tuning(snapshot_after_entries=2)).add(make_speech(n))
    assert index.read_bytes() != before and not delta.exists()
    _assert_equal_to_the_log(Corpus(corpus.path, tuning=Tuning(snapshot_after_entries=2)).head(), corpus)


def test_keys_of_records_from_before_keys_survive_a_rebuild(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rebuild from the log fills in the keys that the log does not record, so a
    damaged index does not let a speech of the bundled corpus in twice."""
    corpus = Corpus.init(tmp_path / "c", from_bundled=True, tuning=Tuning(snapshot_after_ids=1))
    record = {k: v for k, v in ps.read(corpus.path).to_dicts()[0].items() if k != "id"}
    corpus.add_all([make_speech(n) for n in range(3)])
    Corpus(corpus.path, tuning=Tuning(snapshot_after_ids=1)).head()  # saves the index
    path = snapshot._index_path(corpus.path)
    data = bytearray(path.read_bytes())
    for at in range(len(data) - 1, len(data) - 20_000, -1000):
        if at > 0:
            data[at] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ps.DuplicateSpeechError, match="already in the corpus"):
        Corpus(corpus.path, tuning=Tuning(snapshot_after_ids=1)).add(record)


def test_two_writers_caching_at_once_leave_a_whole_file(corpus: Corpus) -> None:
    """Each writes a temporary file and renames it over the index: a reader meanwhile
    always finds a whole file, old or new, and no temporary file is left."""
    import threading

    _full_corpus(corpus)
    path = snapshot._index_path(corpus.path)
    state = Corpus(corpus.path, tuning=Tuning(snapshot_after_ids=1)).head()
    stamp = snapshot._stamp(corpus.path, state.seq)
    errors: list[BaseException] = []

    def cache() -> None:
        try:
            for _ in range(5):
                headsave.write_index(path, state, stamp=stamp, key=snapshot.cache_key() or b"")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    writers = [threading.Thread(target=cache) for _ in range(2)]
    for writer in writers:
        writer.start()
    while any(writer.is_alive() for writer in writers):
        loaded = snapshot.load(corpus.path, full=True)
        assert loaded is not None and len(loaded.hash_by_id) == state.rows
    for writer in writers:
        writer.join()
    assert not errors
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    loaded = snapshot.load(corpus.path, full=True)
    assert loaded is not None
    _assert_equal_to_the_log(loaded, corpus)


FREQUENT = Tuning(snapshot_after_entries=2, snapshot_after_ids=3)
"""Writers that cache their head after every two entries or three ids."""


class FreshWriters(RuleBasedStateMachine):
    """Every write by a freshly opened corpus, which caches its head after every two
    entries (as an index or a delta): the head it reads always equals the log's, and
    damage to the cache changes nothing but the time it takes."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp())
        self.corpus = Corpus.init(self.folder / "c")
        self.patches = [mock.patch.object(headsave, "DELTA_CHANGES", 12)]
        for patch in self.patches:
            patch.start()
        self.present: dict[int, str] = {}
        self.retracted: set[int] = set()
        self.counter = 0

    def teardown(self) -> None:
        for patch in self.patches:
            patch.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    @rule(count=st.integers(1, 4))
    def add(self, count: int) -> None:
        numbers = range(self.counter, self.counter + count)
        self.counter += count
        ids = Corpus(self.corpus.path, tuning=FREQUENT).add_all([make_speech(n) for n in numbers])
        self.present.update(zip(numbers, ids, strict=True))

    @precondition(lambda self: self.present)
    @rule(data=st.data())
    def add_again(self, data: st.DataObject) -> None:
        n = data.draw(st.sampled_from(sorted(self.present) + sorted(self.retracted)))
        with pytest.raises(ps.DuplicateSpeechError):
            Corpus(self.corpus.path, tuning=FREQUENT).add(make_speech(n))

    @precondition(lambda self: self.present)
    @rule(data=st.data(), text=st.booleans())
    def amend(self, data: st.DataObject, text: bool) -> None:
        n = data.draw(st.sampled_from(sorted(self.present)))
        self.counter += 1
        with contextlib.suppress(ps.CorpusError):  # nothing to change
            Corpus(self.corpus.path, tuning=FREQUENT).amend(
                self.present[n], None if text else {"title": "T"},
                text=f"Amended text {self.counter}." if text else None, reason="test")

    @precondition(lambda self: self.present)
    @rule(data=st.data())
    def retract(self, data: st.DataObject) -> None:
        n = data.draw(st.sampled_from(sorted(self.present)))
        Corpus(self.corpus.path, tuning=FREQUENT).retract(self.present.pop(n), reason="test")
        self.retracted.add(n)

    @rule()
    def release(self) -> None:
        with contextlib.suppress(ps.CorpusError):  # nothing to release
            Corpus(self.corpus.path, tuning=FREQUENT).release()

    @rule(where=st.floats(0, 1, exclude_max=True), delta=st.booleans())
    def damage(self, where: float, delta: bool) -> None:
        path = snapshot._index_path(self.corpus.path)
        if delta:
            path = headindex.delta_path(path)
        if path.exists() and path.stat().st_size:
            _flip(path, int(where * path.stat().st_size))

    @invariant()
    def a_fresh_head_equals_the_log(self) -> None:
        state = Corpus(self.corpus.path, tuning=FREQUENT).head()
        rebuilt = advance(self.corpus.path, HeadState())
        for name in FIELDS:
            assert getattr(state, name) == getattr(rebuilt, name), name


TestFreshWriters = FreshWriters.TestCase
TestFreshWriters.settings = settings(max_examples=15, stateful_step_count=12, deadline=None)
