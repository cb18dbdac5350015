"""Version folders: data/ is exactly the head and releases/<V>/ exactly release V, for every
engine that globs a folder (DuckDB, polars, pandas, pyarrow.dataset, datasets), on a corpus
with two releases, an amendment, two retractions and a compaction; derived, so a folder
behind or damaged is a repairable problem that readers never see."""

from __future__ import annotations

import datetime
import errno
import os
from pathlib import Path
from typing import Any

import pytest

import policyspeech as ps
from policyspeech.errors import IntegrityError
from policyspeech.store import Corpus
from tests.helpers import IDENTITY, make_speech, run

VERSIONS = ("head", "0.1.0", "0.2.0")


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two releases, an amendment, two retractions and a compaction, and unreleased
    changes: 12 fragments in the store, few of them in any one version."""
    corpus = Corpus.init(tmp_path_factory.mktemp("views") / "corpus", **IDENTITY)
    ids = corpus.add_all([make_speech(n, date=f"201{n}-0{n}-0{n}") for n in range(1, 5)])
    for n in range(5, 8):
        corpus.add(make_speech(n, party=f"Party {n}"))
    corpus.release("minor", notes="first")
    corpus.amend(ids[0], {"party": "Corrected"}, reason="checked")
    corpus.retract(ids[1], reason="duplicate")
    corpus.add(make_speech(8))
    corpus.add(make_speech(9))
    assert corpus.compact().merged >= 2
    corpus.release("minor", notes="second")
    corpus.retract(ids[2], reason="withdrawn")
    corpus.add(make_speech(10, themes=["health", "energy"]))
    assert len(list((corpus.path / "fragments").iterdir())) >= 10
    return corpus.path


def folder_of(corpus: Path, version: str) -> Path:
    return corpus / ("data" if version == "head" else f"releases/{version}")


def canonical(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows as plain values, whatever the engine: dates as ISO text, lists as lists."""
    def plain(value: Any) -> Any:
        if hasattr(value, "tolist"):
            value = value.tolist()
        if isinstance(value, datetime.datetime):
            value = value.date()
        if isinstance(value, datetime.date):
            return value.isoformat()
        if isinstance(value, list):
            return [plain(v) for v in value]
        if isinstance(value, float) and value != value:  # pandas' NaN for a missing value
            return None
        return value

    return sorted(({k: plain(v) for k, v in row.items()} for row in rows),
                  key=lambda row: row["id"])


def expected(corpus: Path, version: str) -> list[dict[str, Any]]:
    return canonical(ps.read(corpus, version=version).to_dicts())


def duckdb_rows(folder: Path) -> list[dict[str, Any]]:
    import duckdb

    relation = duckdb.sql(f"SELECT * FROM read_parquet('{folder}/*.parquet')")
    return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def polars_rows(folder: Path) -> list[dict[str, Any]]:
    import polars as pl

    return pl.read_parquet(f"{folder}/*.parquet").to_dicts()


def pandas_rows(folder: Path) -> list[dict[str, Any]]:
    import pandas as pd

    frame = pd.read_parquet(folder)
    return [dict(row) for row in frame.astype(object).where(frame.notna(), None)
            .to_dict("records")]


def pyarrow_rows(folder: Path) -> list[dict[str, Any]]:
    import pyarrow.dataset as pads

    return list(pads.dataset(folder).to_table().to_pylist())


def datasets_rows(folder: Path) -> list[dict[str, Any]]:
    import datasets

    loaded = datasets.load_dataset("parquet", data_files=f"{folder}/*.parquet", split="train")
    return list(loaded.to_list())


ENGINES = {"duckdb": duckdb_rows, "polars": polars_rows, "pandas": pandas_rows,
           "pyarrow.dataset": pyarrow_rows, "datasets": datasets_rows}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("version", VERSIONS)
def test_every_engine_reads_exactly_the_version_from_its_folder(
        history: Path, engine: str, version: str) -> None:
    rows = canonical(ENGINES[engine](folder_of(history, version)))
    want = expected(history, version)
    assert [r["id"] for r in rows] == [r["id"] for r in want]
    assert rows == want


def test_the_store_holds_every_fragment_and_each_folder_only_its_version(history: Path) -> None:
    corpus = Corpus(history)
    store = {p.name for p in (history / "fragments").iterdir()}
    everything = sum(len(canonical(pyarrow_rows_of(p))) for p in (history / "fragments").iterdir())
    assert everything > ps.read(history).height + ps.read(history, version="0.2.0").height
    for version in VERSIONS:
        files = sorted(folder_of(history, version).iterdir())
        assert [p.name for p in files] == sorted(p.name for p in corpus.fragment_paths(version))
        assert {p.name for p in files} <= store
        assert all(p.samefile(history / "fragments" / p.name) for p in files)  # hard links
    assert sorted(p.name for p in (history / "releases").iterdir()) == [
        "0.1.0", "0.1.0.json", "0.2.0", "0.2.0.json"]


def pyarrow_rows_of(path: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    return list(pq.read_table(path).to_pylist())


def test_readers_read_the_store_never_the_folders(history: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(history, copy)
    for path in (copy / "data").iterdir():
        path.unlink()
    (copy / "data" / "stray.parquet").write_bytes(b"not parquet")
    assert canonical(ps.read(copy).to_dicts()) == expected(history, "head")
    assert all("/fragments/" in str(p) for p in Corpus(copy).fragment_paths())


@pytest.fixture
def small(corpus: Corpus) -> Corpus:
    corpus.add_all([make_speech(1), make_speech(2)])
    corpus.release(notes="first")
    corpus.amend(ps.read(corpus.path)["id"][0], {"party": "P"}, reason="checked")
    return corpus


def test_a_folder_that_lacks_has_extra_or_different_files_is_a_repairable_problem(
        small: Corpus) -> None:
    data, release = small.path / "data", small.path / "releases" / "0.1.0"
    [head_file] = list(data.iterdir())
    [released_file] = list(release.iterdir())
    head_file.unlink()
    (data / "extra.parquet").write_bytes(released_file.read_bytes())
    released_bytes = released_file.read_bytes()
    released_file.unlink()  # a copy of another size: no longer the store's file
    released_file.write_bytes(released_bytes + b"\0")
    result = run("--corpus", str(small.path), "verify")
    assert result.exit_code == 1
    advice = ("the folder is derived from the log: the next write, or `policyspeech verify "
              "--repair`, rewrites it")
    assert result.stderr.splitlines() == [
        f"error: {data}: lacks fragments of the head ({head_file.name}); {advice}",
        f"error: {data}: holds files that are no fragment of the head (extra.parquet); {advice}",
        f"error: {release}: holds files that differ from the store's fragment of that name "
        f"({released_file.name}); {advice}"]
    assert ps.read(small.path).height == 2  # readers never see the folders
    repaired = run("--corpus", str(small.path), "verify", "--repair")
    assert repaired.exit_code == 0, repaired.stderr
    assert [p.name for p in data.iterdir()] == [head_file.name]
    assert released_file.samefile(small.path / "fragments" / released_file.name)


def test_a_copy_with_the_same_size_and_other_bytes_is_named(small: Corpus) -> None:
    [released_file] = list((small.path / "releases" / "0.1.0").iterdir())
    data = bytearray(released_file.read_bytes())
    data[100] ^= 0xFF
    released_file.unlink()
    released_file.write_bytes(bytes(data))
    [problem] = small.verify()
    assert problem.startswith(f"{released_file.parent}: holds files that differ")
    assert ps.read(small.path, version="0.1.0").height == 2
    small.repair()
    assert small.verify() == []


def test_the_next_writer_brings_folders_that_are_behind_current(small: Corpus) -> None:
    for path in (small.path / "data").iterdir():
        path.unlink()
    (small.path / "releases" / "0.1.0" / "x").write_bytes(b"")
    small.add(make_speech(3))
    assert small.verify() == []
    assert len(list((small.path / "data").iterdir())) == len(small.fragment_paths())


@pytest.mark.parametrize("code", [errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP])
def test_where_a_link_is_impossible_the_folders_hold_copies(
        corpus: Corpus, monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    link = os.link

    def no_link_into_folders(source: Any, target: Any, **kwargs: Any) -> None:
        folder = Path(target).parent
        if folder.name == "data" or folder.parent.name == "releases":  # the version folders
            raise OSError(code, os.strerror(code))
        link(source, target, **kwargs)

    monkeypatch.setattr(os, "link", no_link_into_folders)
    corpus.add_all([make_speech(1), make_speech(2)])
    corpus.release(notes="first")
    for version in ("head", "0.1.0"):
        [copied] = list(folder_of(corpus.path, version).iterdir())
        stored = corpus.path / "fragments" / copied.name
        assert not copied.samefile(stored) and copied.read_bytes() == stored.read_bytes()
        assert canonical(polars_rows(copied.parent)) == expected(corpus.path, version)
    assert corpus.verify() == []
    assert not [p for p in (corpus.path / ".tmp").iterdir()]


def test_a_subfolder_inside_a_version_folder_is_named_and_left_alone(small: Corpus) -> None:
    (small.path / "data" / "mine").mkdir()
    report = small.check()
    assert report.problems == [
        f"{small.path / 'data' / 'mine'}: a folder inside the folder of the head, which "
        "engines reading the folder read too; move it out of the corpus"]
    assert not report.repairable
    with pytest.raises(IntegrityError, match="a folder inside the folder of the head"):
        small.repair()
    small.add(make_speech(3))  # a writer leaves it alone too
    assert (small.path / "data" / "mine").is_dir()
