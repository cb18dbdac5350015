"""Schema evolution: a new nullable field (source_id, schema 1.1.0); old releases keep theirs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest

import policyspeech as ps
from policyspeech.releases import fingerprint_paths
from policyspeech.schema import SCHEMA_VERSION, arrow_schema, fields_of
from policyspeech.store import Corpus
from tests.helpers import IDENTITY, log_files, make_speech, tree_digest


def test_each_version_of_the_schema_is_known() -> None:
    assert SCHEMA_VERSION == "1.1.0"
    assert "source_id" not in [f.name for f in fields_of("1.0.0")]
    assert arrow_schema("1.0.0").names == [n for n in arrow_schema().names if n != "source_id"]
    assert arrow_schema().field("source_id").nullable


@pytest.fixture
def old(tmp_path: Path) -> Corpus:
    """A writable copy of the bundled corpus, whose release 1.0.0 is in schema 1.0.0."""
    return Corpus.init(tmp_path / "old", from_bundled=True, **IDENTITY)


def test_an_old_release_loads_the_same_records_and_keeps_its_fingerprint(old: Corpus) -> None:
    before = ps.read(old.path, version="1.0.0")
    manifest = old.manifest("1.0.0")
    files = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in old.fragment_paths("1.0.0")}
    assert manifest["schema_version"] == "1.0.0" and old.head().schema_version == "1.0.0"
    assert before["source_id"].to_list() == [None]  # read as null: the field is younger
    old.add(make_speech(1, source_id="hansard-123"))
    log = [json.loads(p.read_text()) for p in log_files(old.path)]
    assert [e["operation"] for e in log[-2:]] == ["upgrade", "add"]
    assert old.head().schema_version == SCHEMA_VERSION
    for path in old.fragment_paths():  # every file of the head has the new field
        assert "source_id" in pq.read_schema(path).names
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in old.fragment_paths("1.0.0")} == files  # 1.0.0's files never rewritten
    assert ps.read(old.path, version="1.0.0").equals(before)
    method = manifest.get("fingerprint_method", 1)  # the shipped 1.0.0 hashed the texts
    assert fingerprint_paths(old.fragment_paths("1.0.0"), "1.0.0", method) == \
        manifest["fingerprint"]
    assert old.verify(deep=True) == []
    released = old.release(notes="With a source id")
    assert (released["version"], released["schema_version"]) == ("1.1.0", SCHEMA_VERSION)
    assert ps.read(old.path, version="1.1.0").filter(
        ps.read(old.path, version="1.1.0")["source_id"].is_not_null()).height == 1
    assert old.verify(deep=True) == []


def test_plain_datasets_loads_each_release_in_its_own_schema(old: Corpus,
                                                            tmp_path: Path) -> None:
    old.add(make_speech(1, source_id="u-1"))
    old.release()
    folder = str(old.path)
    first = datasets.load_dataset(folder, "1.0.0", split="train")
    newest = datasets.load_dataset(folder, split="train")  # the default: the latest release
    head = datasets.load_dataset(folder, "head", split="train")
    assert "source_id" not in first.column_names and first.num_rows == 1
    assert "u-1" in newest["source_id"] and head.num_rows == newest.num_rows == 2
    loaded = ps.load_dataset(old.path, version="1.0.0")
    assert loaded["source_id"] == [None] and loaded.num_rows == 1


def test_a_refused_write_does_not_upgrade_the_head(old: Corpus) -> None:
    before = tree_digest(old.path)
    with pytest.raises(ps.InvalidSpeechError):
        old.add(make_speech(1, country="UK"))
    assert tree_digest(old.path) == before and old.head().schema_version == "1.0.0"


def test_a_refused_correction_or_release_does_not_upgrade_the_head(old: Corpus) -> None:
    before = tree_digest(old.path)
    with pytest.raises(ps.RecordNotFoundError):
        old.amend("no-such-id", {"party": "X"}, reason="r")
    with pytest.raises(ps.RecordNotFoundError):
        old.retract("no-such-id", reason="r")
    with pytest.raises(ps.CorpusError, match=r"nothing changed since release 1\.0\.0"):
        old.release()
    assert tree_digest(old.path) == before and old.head().schema_version == "1.0.0"
    shipped = old.head().hash_by_id.copy().popitem()[0]
    old.amend(shipped, {"party": "Conservative and Unionist"}, reason="Full name")
    assert old.head().schema_version == SCHEMA_VERSION and old.verify() == []


def test_a_record_from_before_keys_stays_retracted_in_every_process(old: Corpus) -> None:
    shipped = old.head().hash_by_id.copy().popitem()[0]
    record = {k: v for k, v in ps.read(old.path).to_dicts()[0].items() if k != "id"}
    old.retract(shipped, reason="Not a policy speech")
    for fresh in (Corpus(old.path), Corpus(old.path)):  # no snapshot: replays the log
        with pytest.raises(ps.DuplicateSpeechError, match=f"retracted from the corpus as "
                           f"'{shipped}' \\(reason: Not a policy speech\\)"):
            fresh.add(record)
