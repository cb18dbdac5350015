"""Loaders: polars, pyarrow and datasets, with filters pushed into the scan."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import datasets
import polars as pl
import pytest

import policyspeech as ps
from policyspeech.errors import InvalidSpeechError, UnknownVersionError
from policyspeech.schema import FIELD_NAMES, arrow_schema, features
from policyspeech.store import Corpus
from tests.helpers import make_speech


@pytest.fixture
def filled(corpus: Corpus) -> Corpus:
    corpus.add_all([
        make_speech(1, speaker="A", country="GB", date="2019-10-30", themes=["law_and_crime"]),
        make_speech(2, speaker="B", country="DE", date="2019-03", themes=["health", "energy"]),
        make_speech(3, speaker="A", country="FR", date="2018", themes=[]),
    ])
    corpus.add(make_speech(4, speaker="C", country="GB", date="2020-01-15", themes=["energy"]))
    return corpus


def ids(frame: pl.DataFrame) -> list[str]:
    return sorted(t.split("-")[-1] for t in frame["title"].to_list())


@pytest.mark.parametrize(("filters", "expected"), [
    ({}, ["1", "2", "3", "4"]),
    ({"speaker": "A"}, ["1", "3"]),
    ({"speaker": ["A", "C"]}, ["1", "3", "4"]),
    ({"country": "GB"}, ["1", "4"]),
    ({"theme": "energy"}, ["2", "4"]),
    ({"theme": ["energy", "law_and_crime"]}, ["1", "2", "4"]),
    ({"since": "2019"}, ["1", "2", "4"]),
    ({"until": "2019-03"}, ["2", "3"]),
    ({"since": "2019-04", "until": "2019"}, ["1"]),
    ({"since": datetime.date(2020, 1, 15)}, ["4"]),
    ({"country": "GB", "theme": "energy", "since": "2020"}, ["4"]),
    ({"country": "US"}, []),
])
def test_filters_agree_across_loaders(filled: Corpus, filters: dict, expected: list[str]) -> None:
    for frame in (
        ps.read(filled.path, **filters),
        ps.scan(filled.path, **filters).collect(),
        pl.from_arrow(ps.read_arrow(filled.path, **filters)),
        pl.from_arrow(ps.load_dataset(filled.path, **filters).data.table),
    ):
        assert isinstance(frame, pl.DataFrame)
        titles = [t.rsplit(" ", 1)[-1] for t in frame["title"].to_list()]
        assert sorted(titles) == expected


def test_columns_and_types(filled: Corpus) -> None:
    frame = ps.read(filled.path, columns=["id", "date", "themes"])
    assert frame.columns == ["id", "date", "themes"]
    assert frame.schema["date"] == pl.Date
    table = ps.read_arrow(filled.path)
    assert table.schema.equals(arrow_schema(), check_metadata=True)
    assert table.schema.field("speaker").metadata[b"description"].startswith(b"Display name")
    subset = ps.read_arrow(filled.path, columns=["country"], theme="energy")
    assert subset.column_names == ["country"] and subset.num_rows == 2
    dataset = ps.load_dataset(filled.path)
    assert dataset.features == features()
    assert dataset.num_rows == 4 and list(dataset.column_names) == list(FIELD_NAMES)


def test_metadata_filters_do_not_need_the_text_column(filled: Corpus) -> None:
    plan = ps.scan(filled.path, country="GB", columns=["id"]).explain()
    assert "PROJECT 2/25 COLUMNS" in plan  # id and country only: the text is never read
    assert 'SELECTION: col("country")' in plan  # the filter is pushed into the scan


def test_empty_corpus_loads_empty(corpus: Corpus) -> None:
    assert ps.read(corpus.path).shape == (0, len(FIELD_NAMES))
    assert ps.read_arrow(corpus.path).num_rows == 0
    assert ps.load_dataset(corpus.path).num_rows == 0


def test_load_dataset_is_never_stale(corpus: Corpus) -> None:
    corpus.add(make_speech(1))
    assert ps.load_dataset(corpus.path).num_rows == 1
    corpus.add(make_speech(2))
    assert ps.load_dataset(corpus.path).num_rows == 2


def test_plain_datasets_loads_the_corpus_offline(filled: Corpus) -> None:
    assert os.environ["HF_DATASETS_OFFLINE"] == "1"
    dataset = datasets.load_dataset(str(filled.path), split="train")
    assert dataset.num_rows == 4
    assert dataset.features == features()
    mine = ps.load_dataset(filled.path).sort("id")
    assert dataset.sort("id").to_list() == mine.to_list()


def test_plain_datasets_loads_the_shipped_corpus_offline(tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parents[1] / "corpus"
    folder = shipped
    dataset = datasets.load_dataset(str(folder), split="train")  # release 1.0.0
    assert dataset.num_rows == 1
    assert dataset[0]["speaker"] == "Brandon Lewis"


def test_bad_filters(filled: Corpus) -> None:
    with pytest.raises(InvalidSpeechError, match="theme 'crime' is not in the codebook"):
        ps.read(filled.path, theme="crime")
    with pytest.raises(InvalidSpeechError, match="column 'txt' is not a field"):
        ps.read(filled.path, columns=["txt"])
    with pytest.raises(InvalidSpeechError, match="since '2019/01' is not an ISO 8601 date"):
        ps.read(filled.path, since="2019/01")
    with pytest.raises(UnknownVersionError, match=r"version '9\.9\.9' does not exist"):
        ps.read(filled.path, version="9.9.9")


def test_which_corpus(filled: Corpus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # tmp_path/corpus is the filled corpus
    assert ps.read().height == 4
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert ps.read().height == 1  # the bundled corpus
    monkeypatch.setenv("POLICYSPEECH_CORPUS", str(filled.path))
    assert ps.read().height == 4
    monkeypatch.setenv("POLICYSPEECH_CORPUS", str(elsewhere))
    with pytest.raises(ps.NotACorpusError, match=r"\(from \$POLICYSPEECH_CORPUS\)"):
        ps.read()
