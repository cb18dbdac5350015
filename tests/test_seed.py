"""The seed record: its source bytes are kept, and the shipped corpus is rebuilt from them."""

from __future__ import annotations

import hashlib
from pathlib import Path

import policyspeech as ps
from policyspeech.store import Corpus
from tests.helpers import REPO, SEED, run

SEED_SHA256 = "5622fa73bfa93686db6c72325c771f828525907e83eea727eff9124da0aaecb7"


def test_seed_bytes_are_unchanged() -> None:
    data = SEED.read_bytes()
    assert len(data) == 10_429
    assert hashlib.sha256(data).hexdigest() == SEED_SHA256


def test_shipped_corpus_has_exactly_the_seed_record() -> None:
    frame = ps.read(REPO / "corpus")
    assert frame.height == 1
    record = frame.to_dicts()[0]
    assert record["title"] == "Security Minister's speech on security and crime after Brexit"
    assert (record["speaker"], record["country"], record["language"]) == ("Brandon Lewis", "GB",
                                                                          "en")
    assert str(record["date"]) == "2019-10-30" and record["date_precision"] == "day"
    assert record["party"] == "Conservative" and record["organisation"] == "Home Office"
    assert record["license"] == "OGL-UK-3.0" and record["source_url"] is None
    assert record["themes"] == ["law_and_crime", "defense", "international_affairs",
                                "technology", "immigration"]
    assert "National Crime Agency" in record["keywords"]
    text = record["text"]
    # every word of the body, in order; the title line is metadata, not body text
    body_words = SEED.read_text(encoding="utf-8").split()[len(record["title"].split()):]
    assert text.split() == body_words
    assert not text.startswith("Security Minister's speech")
    # the two broken paragraphs are joined
    assert "Although we are leaving the EU, we are not leaving Europe" in text
    assert "published a year ago, looking at the system" in text
    assert "\n\n\n" not in text and text.count("\n\n") == 33


def test_rebuilding_from_seeds_gives_the_shipped_record(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    assert run("init", str(folder)).exit_code == 0
    added = run("--corpus", str(folder), "add", str(REPO / "seeds" / SEED.name), "-m",
                "seed record")
    assert added.exit_code == 0, added.stderr
    rebuilt = ps.read(folder).to_dicts()
    shipped = ps.read(REPO / "corpus").to_dicts()
    assert rebuilt == shipped
    assert Corpus(folder).head().key_by_id == Corpus(REPO / "corpus").head().key_by_id
