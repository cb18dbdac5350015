"""The corpus is also a Delta Lake table: the `deltalake` package and `polars.scan_delta`
read the head and every release exactly as `ps.read` does, the Delta log is kept current by
every commit (a writer stopped between its entry and its Delta commit is caught up), and
`verify` checks it against the log."""

from __future__ import annotations

import datetime
import json
import os
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import policyspeech as ps
from policyspeech import hooks
from policyspeech.delta import check_delta, delta_version_of, table_id
from policyspeech.errors import CorpusError, UnknownVersionError
from policyspeech.layout import (
    DELTA_LAST_CHECKPOINT,
    DELTA_LOG,
    delta_checkpoint_path,
    delta_commit_path,
    fragment_file,
)
from policyspeech.log import read_entry
from policyspeech.reader import Reader
from policyspeech.store import Corpus
from tests.helpers import IDENTITY, make_speech, run

deltalake = pytest.importorskip("deltalake")


def _delta_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((folder / DELTA_LOG).iterdir())}


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the bundled corpus (release 1.0.0 in schema 1.0.0), then adds (which
    upgrade the schema first), a release, an amend, retractions, a compaction and another
    release, more adds: over 20 log entries, so two checkpoints."""
    folder = tmp_path_factory.mktemp("delta") / "corpus"
    corpus = Corpus.init(folder, from_bundled=True, **IDENTITY)
    ids = [corpus.add(make_speech(n)) for n in range(4)]
    corpus.release("minor", notes="four speeches")
    corpus.amend(ids[0], {"title": "An amended title"}, reason="the title was wrong")
    corpus.retract(ids[1], reason="a duplicate")
    ids += [corpus.add(make_speech(n)) for n in range(4, 9)]
    assert corpus.compact()
    corpus.release(notes="more speeches")
    corpus.retract(ids[2], reason="withdrawn by its source")
    ids += [corpus.add(make_speech(n)) for n in range(9, 13)]
    assert corpus.head().seq > 20
    return folder


def _files(table: Any) -> list[str]:
    import pyarrow as pa

    return sorted(pa.table(table.get_add_actions(flatten=True))["path"].to_pylist())


def _versions(folder: Path) -> list[tuple[str, int]]:
    reader = Reader(folder)
    state = reader.view()
    return [(v["version"], v["delta_version"]) for v in reader.versions()] + [
        ("head", delta_version_of(state, "head"))]


def _same_records(delta: pl.DataFrame, folder: Path, version: str) -> None:
    ours = ps.read(folder, version=version)
    assert sorted(delta["id"].to_list()) == sorted(ours["id"].to_list())
    assert delta.sort("id").equals(ours.select(delta.columns).sort("id"))


def test_deltalake_reads_the_head_and_every_release_as_ps_read(history: Path) -> None:
    versions = _versions(history)
    assert [v for v, _ in versions] == ["1.0.0", "1.1.0", "1.2.0", "head"]
    for version, number in versions:
        table = deltalake.DeltaTable(str(history), version=number).to_pyarrow_table()
        _same_records(pl.from_arrow(table), history, version)  # type: ignore[arg-type]
    assert deltalake.DeltaTable(str(history)).version() == Reader(history).view().seq


def test_polars_scan_delta_reads_the_head_and_every_release_as_ps_read(history: Path) -> None:
    for version, number in _versions(history):
        _same_records(pl.scan_delta(str(history), version=number).collect(), history, version)


def test_a_release_is_the_version_of_its_release_entry_with_the_files_it_names(
        history: Path) -> None:
    """The release entry adds and removes nothing: it has exactly the files of the commit
    the manifest names, and it is the version whose commitInfo names the release."""
    reader = Reader(history)
    latest = deltalake.DeltaTable(str(history))
    for row in reader.versions():
        number = row["delta_version"]
        entry, _ = read_entry(history, number) or ({}, "")
        assert entry["operation"] == "release" and entry["release"]["version"] == row["version"]
        wanted = sorted(fragment_file(history, info).relative_to(history).as_posix()
                        for info in reader.manifest(row["version"])["fragments"])
        table = deltalake.DeltaTable(str(history), version=number)
        assert _files(table) == wanted
        assert _files(deltalake.DeltaTable(str(history), version=number - 1)) == wanted
        [info] = [h for h in latest.history() if h["version"] == number]
        assert info["operationParameters"]["release"] == row["version"]


def test_an_old_release_keeps_its_schema_and_the_upgrade_sets_new_metadata(
        history: Path) -> None:
    old = deltalake.DeltaTable(str(history), version=2).schema().to_arrow()
    head = deltalake.DeltaTable(str(history)).schema().to_arrow()
    assert "source_id" not in old.names and "source_id" in head.names
    metadata = [json.loads(line) for p in sorted((history / DELTA_LOG).glob("*.json"))
                for line in p.read_text().splitlines() if '"metaData"' in line]
    assert len(metadata) == 2  # version 0, and the entry that upgraded the schema
    first = read_entry(history, 0)
    assert first is not None
    assert {m["metaData"]["id"] for m in metadata} == {table_id(first[1])}


def test_checkpoints_every_ten_versions_are_what_readers_start_from(
        history: Path, tmp_path: Path) -> None:
    assert delta_checkpoint_path(history, 10).is_file()
    assert delta_checkpoint_path(history, 20).is_file()
    assert json.loads((history / DELTA_LOG / DELTA_LAST_CHECKPOINT).read_text())["version"] == 20
    copy = tmp_path / "corpus"
    shutil.copytree(history, copy)
    for version in range(20):  # readers must now take the state from the checkpoint of 20
        delta_commit_path(copy, version).unlink()
    for version, number in _versions(history):
        if number >= 20:
            table = deltalake.DeltaTable(str(copy), version=number).to_pyarrow_table()
            _same_records(pl.from_arrow(table), history, version)  # type: ignore[arg-type]
            _same_records(pl.scan_delta(str(copy), version=number).collect(), history, version)


def test_the_delta_log_is_a_pure_function_of_the_log(history: Path, tmp_path: Path) -> None:
    """Migration: a corpus without a Delta log gets the whole of it from the next write
    (or `verify --repair`), byte for byte the one written commit by commit, dated by the
    log's entries."""
    copy = tmp_path / "corpus"
    shutil.copytree(history, copy)
    written = _delta_files(history)
    shutil.rmtree(copy / DELTA_LOG)
    report = Corpus(copy).check()
    assert report.ok and len(report.warnings) == 1 and "_delta_log: missing" in report.warnings[0]
    result = run("--corpus", str(copy), "verify", "--repair")
    assert result.exit_code == 0, result.stderr
    assert _delta_files(copy) == written
    entry = read_entry(copy, 7)
    assert entry is not None
    when = datetime.datetime.fromisoformat(entry[0]["time"].replace("Z", "+00:00"))
    assert delta_commit_path(copy, 7).stat().st_mtime == when.timestamp()


def test_a_writer_stopped_before_its_delta_commit_is_caught_up(tmp_path: Path) -> None:
    """Entry 10 is published, its Delta commit and checkpoint are not (the writer stopped
    there); the next add writes them, then its own."""
    corpus = Corpus.init(tmp_path / "corpus", **IDENTITY)
    for n in range(9):
        corpus.add(make_speech(n))

    class Stop(Exception):
        pass

    def stop(point: str) -> None:
        if point == "delta-written":
            raise Stop

    with hooks.installed(crash=stop), pytest.raises(Stop):
        corpus.add(make_speech(9))  # entry 10
    assert read_entry(corpus.path, 10) is not None
    assert not delta_commit_path(corpus.path, 10).exists()
    report = corpus.check()
    assert report.ok
    assert report.warnings == [f"{corpus.path / DELTA_LOG}: 2 Delta files missing, of log "
                               "entries 10 (the Delta log is behind the log: a write was "
                               "interrupted); `policyspeech verify --repair` or the next commit "
                               "writes them",
                               f"{corpus.path / DELTA_LOG / DELTA_LAST_CHECKPOINT}: missing (a "
                               "write was interrupted); `policyspeech verify --repair` or the "
                               "next commit rewrites it"]
    corpus.add(make_speech(10))
    assert delta_checkpoint_path(corpus.path, 10).is_file()
    assert check_delta(corpus.path, corpus.head()) == ([], [])
    assert deltalake.DeltaTable(str(corpus.path)).to_pyarrow_table().num_rows == 11


def test_verify_repair_writes_a_missing_commit_and_checkpoint_pointer(
        history: Path, tmp_path: Path) -> None:
    copy = tmp_path / "corpus"
    shutil.copytree(history, copy)
    written = _delta_files(copy)
    delta_commit_path(copy, 12).unlink()
    (copy / DELTA_LOG / DELTA_LAST_CHECKPOINT).unlink()
    result = run("--corpus", str(copy), "verify")
    assert result.exit_code == 0
    assert "warning: " + str(copy / DELTA_LOG) + ": 1 Delta files missing, of log entries 12" \
        in result.stderr
    assert f"warning: {copy / DELTA_LOG / DELTA_LAST_CHECKPOINT}: missing" in result.stderr
    assert run("--corpus", str(copy), "verify", "--repair").exit_code == 0
    assert _delta_files(copy) == written
    assert run("--corpus", str(copy), "verify").stderr == ""


@pytest.mark.parametrize("damage", ["commit", "checkpoint", "beyond"])
def test_damage_to_the_delta_log_is_an_error_that_repair_leaves_alone(
        history: Path, tmp_path: Path, damage: str) -> None:
    copy = tmp_path / "corpus"
    shutil.copytree(history, copy)
    if damage == "commit":
        path = delta_commit_path(copy, 5)
        path.write_bytes(path.read_bytes().replace(b'"dataChange":true', b'"dataChange":false'))
    elif damage == "checkpoint":
        path = delta_checkpoint_path(copy, 10)
        path.write_bytes(delta_checkpoint_path(copy, 20).read_bytes())
    else:  # another engine appended a version
        seq = Reader(copy).view().seq
        path = delta_commit_path(copy, seq + 1)
        path.write_bytes(delta_commit_path(copy, seq).read_bytes())
    before = _delta_files(copy)
    result = run("--corpus", str(copy), "verify")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {path}: ")
    assert "delete " in result.stderr and "run `policyspeech verify --repair`" in result.stderr
    assert run("--corpus", str(copy), "verify", "--repair").exit_code == 1
    assert _delta_files(copy) == before  # a published Delta file is never rewritten
    path.unlink()  # what the message says to do
    assert run("--corpus", str(copy), "verify", "--repair").exit_code == 0
    assert check_delta(copy, Reader(copy).view()) == ([], [])


def test_no_vacuum_may_delete_a_file_of_any_version(history: Path) -> None:
    """Tombstones are kept for 100 years: VACUUM with the table's retention finds nothing
    to delete (superseded fragments still belong to releases)."""
    table = deltalake.DeltaTable(str(history))
    assert table.metadata().configuration["delta.deletedFileRetentionDuration"] == \
        "interval 36500 days"
    assert table.vacuum(dry_run=True) == []


def test_the_bundled_corpus_has_its_delta_log() -> None:
    reader = Reader()
    assert check_delta(reader.path, reader.view()) == ([], [])
    table = deltalake.DeltaTable(str(reader.path))
    assert table.version() == 2
    _same_records(pl.from_arrow(table.to_pyarrow_table()), reader.path,  # type: ignore[arg-type]
                  "1.0.0")


def test_versions_shows_the_delta_version_of_each_release(history: Path) -> None:
    result = run("--corpus", str(history), "versions", "--format", "json")
    assert result.exit_code == 0
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    assert [(r["version"], r["delta_version"]) for r in rows] == _versions(history)[:-1]
    assert "delta_version" in run("--corpus", str(history), "versions").stdout
    with pytest.raises(UnknownVersionError, match=r"no release '9\.9\.9'"):
        delta_version_of(Reader(history).view(), "9.9.9")


def test_a_delta_log_that_is_a_link_stops_a_write_before_anything_is_written(
        tmp_path: Path) -> None:
    corpus = Corpus.init(tmp_path / "corpus", **IDENTITY)
    shutil.move(corpus.path / DELTA_LOG, tmp_path / "elsewhere")
    os.symlink(tmp_path / "elsewhere", corpus.path / DELTA_LOG)
    with pytest.raises(CorpusError, match="_delta_log' is a symbolic link"):
        corpus.add(make_speech(1))
    assert read_entry(corpus.path, 1) is None
