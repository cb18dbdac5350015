"""``ps.load_dataset``'s per-fragment Arrow cache (issue 5): correct, reused, atomic."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

import policyspeech as ps
import policyspeech.arrowcache as arrowcache
from policyspeech.store import Corpus
from tests.helpers import make_speech, run


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache for this test alone (equal fragments of other tests share names)."""
    monkeypatch.setenv("POLICYSPEECH_CACHE", str(tmp_path / "own-cache"))


@pytest.fixture
def released(corpus: Corpus) -> Corpus:
    corpus.add_all([make_speech(n, date=f"201{n}-01-01") for n in range(5)])
    corpus.release("major")
    return corpus


@pytest.fixture
def conversions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The fragments converted to Arrow files, by name."""
    seen: list[str] = []
    convert = arrowcache._convert

    def counting(fragment: Path, folder: Path, prefix: str) -> Path:
        seen.append(fragment.stem)
        return convert(fragment, folder, prefix)

    monkeypatch.setattr(arrowcache, "_convert", counting)
    return seen


def test_the_dataset_is_the_version_row_for_row(released: Corpus) -> None:
    released.add(make_speech(9, date="2001-05-05"))
    for version in ("1.0.0", "head"):
        dataset = ps.load_dataset(released.path, version=version)
        expected = ps.read_arrow(released.path, version=version)
        assert dataset.data.table.equals(expected.cast(dataset.data.table.schema))
        assert dataset.features == ps.schema.features()
    assert ps.load_dataset(released.path, version="1.0.0").num_rows == 5
    assert ps.load_dataset(released.path, columns=["id", "date"]).column_names == ["id", "date"]


def test_a_new_release_converts_only_its_new_fragment(released: Corpus,
                                                      conversions: list[str]) -> None:
    ps.load_dataset(released.path, version="1.0.0")
    first = list(conversions)
    assert first == [Path(p).stem for p in released.fragment_paths("1.0.0")]
    ps.load_dataset(released.path, version="1.0.0")
    assert conversions == first  # the second load converts nothing
    released.add(make_speech(7))
    released.release()
    dataset = ps.load_dataset(released.path, version="latest")
    new = set(Path(p).stem for p in released.fragment_paths("latest")) - set(first)
    assert conversions[len(first):] == sorted(new) and len(new) == 1
    assert dataset.num_rows == 6


def test_the_files_are_memory_mapped_not_copied(released: Corpus) -> None:
    dataset = ps.load_dataset(released.path)
    assert dataset.cache_files and all(
        Path(f["filename"]).parent == arrowcache.cache_folder() / "arrow"
        for f in dataset.cache_files)
    assert pa.total_allocated_bytes() < 10_000_000


def test_a_crashed_conversion_leaves_no_file_under_a_final_name(
        released: Corpus, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def failing(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
        raise OSError("disk full")

    monkeypatch.setattr(arrowcache, "_canonical", failing)
    cache = tmp_path / "cache"
    with pytest.raises(OSError, match="disk full"):
        ps.load_dataset(released.path, cache=cache)
    assert list((cache / "arrow").iterdir()) == []
    monkeypatch.undo()
    assert ps.load_dataset(released.path, cache=cache).num_rows == 5


def test_row_filters_still_work_without_the_cache(released: Corpus) -> None:
    dataset = ps.load_dataset(released.path, since="2012", columns=["id", "date"])
    assert dataset.num_rows == 3 and dataset.column_names == ["id", "date"]
    with pytest.raises(TypeError, match="unexpected keyword argument 'speakers'"):
        ps.load_dataset(released.path, speakers="x")


def test_the_cache_command_shows_and_clears_the_cache(released: Corpus) -> None:
    ps.load_dataset(released.path)
    ps.read(released.path)
    shown = run("cache")
    assert shown.exit_code == 0, shown.stderr
    assert f"cache: {arrowcache.cache_folder()}" in shown.stdout
    assert "Arrow files (load_dataset): 1 files" in shown.stdout
    assert "head snapshots: 1 files" in shown.stdout
    cleared = run("cache", "--clear")
    assert cleared.exit_code == 0 and cleared.stdout.startswith("cleared ")
    assert arrowcache.cache_usage() == {"arrow": (0, 0), "heads": (0, 0), "counts": (0, 0)}
    assert ps.load_dataset(released.path).num_rows == 5  # rebuilt on use


def test_cache_entries_replaced_by_folders_are_rebuilt_and_cleared(released: Corpus,
                                                                  tmp_path: Path) -> None:
    """An Arrow cache file replaced by a folder (or a link) is rebuilt, not a traceback,
    and `cache --clear` removes whatever the entries have become."""
    import shutil

    cache = tmp_path / "cache"
    first = ps.load_dataset(released.path, cache=cache)
    for path in (cache / "arrow").glob("*.arrow"):
        path.unlink()
        (path / "inside").mkdir(parents=True)
    again = ps.load_dataset(released.path, cache=cache)
    assert again.data.table.equals(first.data.table)
    (cache / "arrow" / "stray").mkdir()
    (cache / "arrow" / "link.arrow").symlink_to(tmp_path)
    arrowcache.clear_cache(cache)
    assert list((cache / "arrow").iterdir()) == []
    assert tmp_path.is_dir()
    shutil.rmtree(cache)
