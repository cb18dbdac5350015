"""Property: after any sequence of add, amend, retract, release and read, the head equals a
simple in-memory model, and every release still loads with its recorded fingerprint."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import policyspeech as ps
from policyspeech.releases import fingerprint_paths
from policyspeech.schema import SCHEMA_VERSION
from policyspeech.store import Corpus
from tests.helpers import IDENTITY, make_speech

Model = dict[str, tuple[str, str | None]]  # id -> (text, party)


class CorpusMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp())
        self.corpus = Corpus.init(self.folder / "c", **IDENTITY)
        self.model: Model = {}
        self.releases: dict[str, tuple[str, Model]] = {}
        self.counter = 0
        self.changed = False

    def teardown(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    @rule(party=st.sampled_from([None, "Labour", "Conservative"]))
    def add(self, party: str | None) -> None:
        self.counter += 1
        speech = make_speech(self.counter, party=party)
        record_id = self.corpus.add(speech)
        self.model[record_id] = (speech["text"], party)
        self.changed = True

    @precondition(lambda self: self.model)
    @rule(data=st.data(), party=st.sampled_from(["Green", "Liberal", "Whig"]))
    def amend(self, data: st.DataObject, party: str) -> None:
        record_id = data.draw(st.sampled_from(sorted(self.model)))
        text, old_party = self.model[record_id]
        if old_party == party:
            return
        self.corpus.amend(record_id, {"party": party}, reason="property test")
        self.model[record_id] = (text, party)
        self.changed = True

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def retract(self, data: st.DataObject) -> None:
        record_id = data.draw(st.sampled_from(sorted(self.model)))
        self.corpus.retract(record_id, reason="property test")
        del self.model[record_id]
        self.changed = True

    @precondition(lambda self: self.changed)
    @rule()
    def release(self) -> None:
        manifest = self.corpus.release(notes="property test")
        self.releases[manifest["version"]] = (manifest["fingerprint"], dict(self.model))
        self.changed = False

    @invariant()
    def head_equals_the_model(self) -> None:
        frame = ps.read(self.corpus.path, columns=["id", "text", "party"])
        assert {r["id"]: (r["text"], r["party"]) for r in frame.to_dicts()} == self.model

    @invariant()
    def releases_are_unchanged(self) -> None:
        for version, (fingerprint, model) in self.releases.items():
            paths = self.corpus.fragment_paths(version)
            assert fingerprint_paths(paths, SCHEMA_VERSION) == fingerprint
            frame = ps.read(self.corpus.path, version=version, columns=["id", "text", "party"])
            assert {r["id"]: (r["text"], r["party"]) for r in frame.to_dicts()} == model


CorpusMachine.TestCase.settings = settings(max_examples=20, stateful_step_count=10,
                                           deadline=None)
TestCorpusMachine = pytest.mark.slow(CorpusMachine.TestCase)
