"""Fast paths of issue 5: metadata queries never read the text; sorted row groups."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

import policyspeech as ps
from policyspeech.errors import CorpusError
from policyspeech.store import Corpus
from tests.helpers import make_speech


def damage_the_text_pages(corpus: Corpus) -> None:
    """Flip bytes inside every fragment's `text` column chunks (and only there)."""
    for path in corpus.fragment_paths():
        metadata = pq.ParquetFile(path).metadata
        text = metadata.schema.names.index("text")
        data = bytearray(path.read_bytes())
        for group in range(metadata.num_row_groups):
            chunk = metadata.row_group(group).column(text)
            middle = chunk.data_page_offset + chunk.total_compressed_size // 2
            data[middle] ^= 0xFF
        path.chmod(0o644)
        path.write_bytes(bytes(data))


def test_metadata_queries_do_not_read_the_text_column(corpus: Corpus) -> None:
    corpus.add_all([make_speech(n, country="GB" if n % 2 else "FR",
                                text=f"Speech {n} says something. " * 50) for n in range(30)])
    damage_the_text_pages(corpus)
    for loader in (ps.read, ps.read_arrow):
        result = loader(corpus.path, country="GB", columns=["id", "date", "speaker"])
        assert len(result) == 15
    assert ps.read(corpus.path, theme="technology", columns=["id", "themes"]).height == 30
    with pytest.raises(CorpusError, match="SHA-256 differs"):  # the text pages fail their
        ps.read(corpus.path, columns=["id", "text"])            # checksums when read


def test_a_fragment_is_sorted_with_row_groups_that_date_filters_skip(corpus: Corpus) -> None:
    corpus.add_all([make_speech(n, date=f"{1990 + n % 30}-06-01") for n in range(2_500)])
    [path] = corpus.fragment_paths()
    metadata = pq.ParquetFile(path).metadata
    assert metadata.num_row_groups == 3
    date = metadata.schema.names.index("date")
    ranges = [(metadata.row_group(g).column(date).statistics.min,
               metadata.row_group(g).column(date).statistics.max) for g in range(3)]
    assert ranges == sorted(ranges) and ranges[0][1] <= ranges[1][0]
    dates = ps.read(corpus.path, since="2019", columns=["date"])["date"].to_list()
    assert len(dates) == 2_500 // 30 + (1 if 2_500 % 30 > 29 else 0) and all(
        d.year == 2019 for d in dates)
