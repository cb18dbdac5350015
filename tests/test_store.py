"""The append-only store: fragments, the hash-chained log, the card, all-or-nothing batches."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from policyspeech.errors import (
    CorpusError,
    DuplicateSpeechError,
    IntegrityError,
    InvalidSpeechError,
    NotACorpusError,
    ReadOnlyCorpusError,
)
from policyspeech.layout import entry_path
from policyspeech.schema import arrow_schema
from policyspeech.store import Corpus
from tests.helpers import REPO, log_files, make_speech, tree_digest


def read_log(corpus: Corpus) -> list[dict]:
    return [json.loads(p.read_text()) for p in log_files(corpus.path)]


def test_init_layout(corpus: Corpus) -> None:
    assert sorted(p.name for p in corpus.path.iterdir() if p.name not in (".lock", ".tmp")) == [
        ".gitignore", "CITATION.cff", "DATASHEET.md", "LICENSE.md", "README.md", "_delta_log",
        "data", "fragments", "log", "releases"]  # CITATION.cff: the identity
    assert [p.relative_to(corpus.path).as_posix() for p in log_files(corpus.path)] == [
        "log/00000/00000000.json"]
    [entry] = read_log(corpus)
    assert entry["seq"] == 0 and entry["parent"] is None and entry["operation"] == "init"
    assert corpus.head().rows == 0


def test_init_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "file").write_text("keep me")
    message = f"'{tmp_path / 'x'}' already exists and is not empty; choose a new folder"
    with pytest.raises(CorpusError, match=f"^{re.escape(message)}$"):
        Corpus.init(tmp_path / "x")
    assert (tmp_path / "x" / "file").read_text() == "keep me"


def test_add_writes_one_fragment_and_one_chained_entry(corpus: Corpus) -> None:
    first = corpus.add(make_speech(1))
    second = corpus.add(make_speech(2, date="2018-01-01"))
    log = read_log(corpus)
    assert [e["seq"] for e in log] == [0, 1, 2]
    for parent, child in itertools.pairwise(log):
        parent_bytes = entry_path(corpus.path, parent["seq"]).read_bytes()
        assert child["parent"] == hashlib.sha256(parent_bytes).hexdigest()
    assert log[1]["ids"] == [first] and log[2]["ids"] == [second]
    fragments = sorted((corpus.path / "fragments").iterdir())
    assert len(fragments) == 2
    for entry in log[1:]:
        [info] = entry["added"]  # named data/<sha256>.parquet; its bytes are in the store
        stored = corpus.path / "fragments" / f"{info['sha256']}.parquet"
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == info["sha256"]
        assert info["path"] == f"data/{info['sha256']}.parquet" and info["rows"] == 1
        assert (corpus.path / info["path"]).samefile(stored)  # data/: a hard link


def test_fragment_format(corpus: Corpus) -> None:
    speeches = [make_speech(n, date=f"20{10 + n % 5}-01-0{1 + n % 3}") for n in range(12)]
    corpus.add_all(speeches)
    [path] = corpus.fragment_paths()
    meta = pq.ParquetFile(path).metadata
    column = meta.row_group(0).column(0)
    assert column.compression == "ZSTD"
    assert pq.read_schema(path).equals(arrow_schema(), check_metadata=False)
    assert pq.read_schema(path).field("text").metadata[b"description"]
    table = pq.read_table(path)
    keys = list(zip(table["date"].to_pylist(), table["id"].to_pylist(), strict=True))
    assert keys == sorted(keys)
    # page checksums are written: a flipped byte in the text pages is detected on read
    data = bytearray(path.read_bytes())
    text_column = meta.row_group(0).column(16)
    assert text_column.path_in_schema == "text" and not text_column.has_dictionary_page
    data[text_column.data_page_offset + text_column.total_compressed_size - 8] ^= 0xFF
    broken = path.with_name("broken.parquet")
    broken.write_bytes(bytes(data))
    with pytest.raises(OSError):
        pq.read_table(broken, page_checksum_verification=True)


def test_row_groups_of_about_a_thousand_rows(corpus: Corpus) -> None:
    corpus.add_all(make_speech(n) for n in range(2_500))
    [path] = corpus.fragment_paths()
    meta = pq.ParquetFile(path).metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [1000, 1000, 500]


def test_the_same_speech_is_rejected_naming_the_existing_id(corpus: Corpus) -> None:
    existing = corpus.add(make_speech(1))
    before = tree_digest(corpus.path)
    with pytest.raises(DuplicateSpeechError, match=f"already in the corpus as '{existing}' "
                       r"\(same text, speaker, date and source\)"):
        corpus.add(make_speech(1, title="Another title", speaker="ADA LOVELACE"))
    assert tree_digest(corpus.path) == before


def test_the_same_words_by_another_speaker_on_another_day_or_source_are_other_speeches(
        corpus: Corpus) -> None:
    oath = make_speech(1, text="Ich gelobe.")
    ids = corpus.add_all([oath, {**oath, "speaker": "Someone Else"},
                          {**oath, "date": "2019-10-31"}, {**oath, "source_id": "u2"}])
    assert len(set(ids)) == 4 and corpus.head().rows == 4


def test_ids_are_unique_and_never_reused(corpus: Corpus) -> None:
    first = corpus.add(make_speech(1))
    second = corpus.add(make_speech(2, title="Speech number 1"))  # same stem, another speech
    assert second != first and second.rsplit("-", 1)[0] == first.rsplit("-", 1)[0]
    with pytest.raises(DuplicateSpeechError, match="id 'given-id' is already used"):
        corpus.add_all([make_speech(3, id="given-id")])
        corpus.add(make_speech(4, id="given-id"))


def test_add_all_is_all_or_nothing(corpus: Corpus) -> None:
    corpus.add(make_speech(0))
    before = tree_digest(corpus.path)
    batch = [make_speech(n) for n in range(1, 1_000)] + [make_speech(1_000, country="UK")]
    with pytest.raises(InvalidSpeechError, match="speech 1000: country 'UK'"):
        corpus.add_all(batch)
    with pytest.raises(DuplicateSpeechError, match=r"speech 3: is the same speech .* as speech 1"):
        corpus.add_all([make_speech(7), make_speech(8), make_speech(7)])
    with pytest.raises(DuplicateSpeechError, match="speech 2: this speech is already in"):
        corpus.add_all([make_speech(9), make_speech(0)])
    assert tree_digest(corpus.path) == before
    assert corpus.head().rows == 1


def test_dry_run_writes_nothing(corpus: Corpus) -> None:
    before = tree_digest(corpus.path)
    [new_id] = corpus.add_all([make_speech(1)], dry_run=True)
    assert new_id.startswith("gb-2019-10-30-ada-lovelace")
    assert tree_digest(corpus.path) == before


def test_card_lists_the_head(corpus: Corpus) -> None:
    corpus.add_all([make_speech(1), make_speech(2, language="de", license="CC-BY-4.0")])
    corpus.add(make_speech(3))
    text = (corpus.path / "README.md").read_text()
    header = yaml.safe_load(text.split("---\n")[1])
    assert header["configs"] == [{"config_name": "head", "default": True, "data_files": [
        {"split": "train", "path": "data/*.parquet"}]}]  # no release yet: the head
    [info] = header["dataset_info"]
    assert info["config_name"] == "head" and info["splits"][0]["num_examples"] == 3
    assert info["download_size"] == sum(p.stat().st_size for p in corpus.fragment_paths())
    assert header["language"] == ["de", "en"]
    assert (header["license"], header["license_name"], header["license_link"]) == (
        "other", "per-record", "LICENSE.md")  # two records have no licence
    assert "| `text_sha256` | string |" in text


def test_a_second_corpus_object_sees_new_commits(corpus: Corpus) -> None:
    other = Corpus(corpus.path)
    assert other.head().rows == 0
    corpus.add(make_speech(1))
    assert other.head().rows == 1
    with pytest.raises(DuplicateSpeechError):
        other.add(make_speech(1))


def test_leftover_temporary_files_are_ignored_and_cleaned(corpus: Corpus) -> None:
    staging = corpus.path / ".tmp"
    staging.mkdir(exist_ok=True)
    (staging / ".tmp-999999999-crashed-fragment").write_bytes(b"partial")  # no such process
    (staging / ".tmp-crashed-entry").write_bytes(b"{")
    live = staging / f".tmp-{os.getpid()}-a-live-writer"
    live.write_bytes(b"in progress")
    assert corpus.head().rows == 0
    assert ps_read_ids(corpus) == []
    corpus.add(make_speech(1))
    assert list(staging.iterdir()) == [live]  # a live writer's file is left alone
    assert [p.name for p in log_files(corpus.path)] == ["00000000.json",
                                                                       "00000001.json"]


def ps_read_ids(corpus: Corpus) -> list[str]:
    import policyspeech as ps

    return ps.read(corpus.path)["id"].to_list()


def test_an_edited_log_entry_breaks_the_chain(corpus: Corpus) -> None:
    corpus.add(make_speech(1))
    corpus.add(make_speech(2))
    path = entry_path(corpus.path, 1)
    entry = json.loads(path.read_text())
    entry["message"] = "edited by hand"
    path.write_text(json.dumps(entry))
    with pytest.raises(IntegrityError, match=r"00000002\.json does not chain to 00000001\.json"):
        Corpus(corpus.path).head()


def test_not_a_corpus(tmp_path: Path) -> None:
    with pytest.raises(NotACorpusError, match="is not a policyspeech corpus"):
        Corpus(tmp_path)


def test_bundled_corpus_is_read_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    bundled = Corpus()
    assert bundled.read_only and bundled.head().rows == 1
    before = tree_digest(bundled.path)
    with pytest.raises(ReadOnlyCorpusError, match="policyspeech init DIR --from-bundled"):
        bundled.add(make_speech(1))
    assert tree_digest(bundled.path) == before
    copy = Corpus.init(tmp_path / "copy", from_bundled=True)
    assert not copy.read_only and copy.head().rows == 1
    copy.add(make_speech(1))
    assert copy.head().rows == 2


def test_the_shipped_corpus_verifies_and_its_card_is_current() -> None:
    assert Corpus(REPO / "corpus").verify() == []  # hashes, chain, release 1.0.0, the card


def test_card_yaml_parses_to_the_header_mapping(corpus: Corpus) -> None:
    from policyspeech.card import card_header
    from policyspeech.cardfiles import all_facts, card_facts

    for n in range(3):
        corpus.add(make_speech(n))
        text = (corpus.path / "README.md").read_text()
        header = yaml.safe_load(text.split("---\n")[1])
        state = corpus.head()
        assert header == card_header(state, card_facts(state, all_facts(corpus.path, state)))


def test_a_held_lock_times_out_with_a_clear_error(corpus: Corpus,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from filelock import FileLock

    from policyspeech.tuning import Tuning

    corpus = Corpus(corpus.path, tuning=Tuning(lock_timeout_seconds=0.2))
    before = tree_digest(corpus.path)
    with FileLock(corpus.path / ".lock"), pytest.raises(CorpusError, match="held the lock"):
        corpus.add(make_speech(1))
    assert tree_digest(corpus.path) == before
    corpus.add(make_speech(1))  # once the lock is free, writing works again
