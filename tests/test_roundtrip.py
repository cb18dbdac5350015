"""Property: any valid speech, once added, reads back equal through polars, pyarrow, datasets."""

from __future__ import annotations

import datetime
import tempfile
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import policyspeech as ps
from policyspeech.errors import InvalidSpeechError
from policyspeech.store import Corpus
from policyspeech.themes import THEME_SLUGS
from policyspeech.validate import validate_speech

letters = st.characters(codec="utf-8", categories=("L", "N", "P", "Zs", "M", "S"))
line_text = st.text(letters, min_size=1, max_size=40).filter(lambda s: s.strip())
words = st.lists(st.text(letters, min_size=1, max_size=12).filter(lambda s: s.strip()),
                 min_size=1, max_size=20)
paragraphs = st.lists(words.map(" ".join), min_size=1, max_size=5).map("\n\n".join)

speeches = st.fixed_dictionaries(
    {
        "title": line_text,
        "speaker": line_text,
        "country": st.sampled_from(["GB", "DE", "FR", "US", "BR", "JP", "ZA"]),
        "date": st.dates(datetime.date(1900, 1, 1), datetime.date(2025, 12, 31)),
        "language": st.sampled_from(["en", "de", "fr", "pt", "ja", "zu"]),
        "text": paragraphs,
    },
    optional={
        "party": line_text,
        "themes": st.lists(st.sampled_from(sorted(THEME_SLUGS)), max_size=4, unique=True),
        "keywords": st.lists(line_text, max_size=4),
        "delivery": st.sampled_from(["as_delivered", "as_prepared", "unknown"]),
        "source_url": st.just("https://www.gov.uk/speeches/x"),
        "retrieved": st.dates(datetime.date(2000, 1, 1), datetime.date(2025, 1, 1)),
        "notes": line_text,
    },
)


def is_valid(speech: dict[str, Any]) -> bool:
    """Whether the schema accepts ``speech`` (random text may look like mojibake)."""
    try:
        validate_speech(speech)
    except InvalidSpeechError:
        return False
    return True


valid_speeches = speeches.filter(is_valid)
"""Only speeches the schema accepts: Hypothesis fails the test (a health check) rather
than let it pass on batches that add nothing."""


def text_hash(speech: dict[str, Any]) -> str:
    """The hash of the normalised text: speeches of one batch differ by it."""
    return str(validate_speech(speech)["text_sha256"])


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(valid_speeches, min_size=1, max_size=4, unique_by=text_hash))
def test_added_speeches_read_back_equal_everywhere(batch: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        corpus = Corpus.init(Path(folder) / "c")
        expected = {}
        for speech in batch:
            record = validate_speech(speech)
            record["id"] = corpus.add(speech)
            expected[record["id"]] = record
        assert len(expected) == len(batch) >= 1  # every generated speech was added
        from_polars = {r["id"]: r for r in ps.read(corpus.path).to_dicts()}
        from_arrow = {r["id"]: r for r in ps.read_arrow(corpus.path).to_pylist()}
        from_datasets = {r["id"]: r for r in ps.load_dataset(corpus.path).to_list()}
        assert from_polars == expected
        assert from_arrow == expected
        assert from_datasets == expected
        assert pl.from_arrow(ps.read_arrow(corpus.path)).height == len(expected)
