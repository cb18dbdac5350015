"""Real corpora in (`../shared/realdata`): State of the Union, UN General Debate, ParlaMint-AT.

Skipped when the folder is absent; CI has it.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import policyspeech as ps
from policyspeech import analysis
from policyspeech.errors import BatchError, CorpusError
from policyspeech.store import Corpus
from tests.helpers import REALDATA, run, tree_digest

JSONL = ("sotu.jsonl", "ungdc.jsonl", "parlamint_at.jsonl")
RECORDS = 233 + 536 + 4_044


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    """One corpus holding the three real sets, imported in one go (read-only for the tests)."""
    if not (REALDATA / "README.md").is_file():
        pytest.skip(f"no real corpora at {REALDATA}")
    corpus = Corpus.init(tmp_path_factory.mktemp("real") / "corpus")
    batch = corpus.import_path([REALDATA / name for name in JSONL])
    assert batch.records == RECORDS
    return corpus


def source_records(name: str) -> dict[str, dict[str, Any]]:
    with open(REALDATA / name, encoding="utf-8") as handle:
        return {row["source_id"]: row for row in map(json.loads, handle)}


def minimal_normalisation(text: str) -> str:
    """What a structured source's text may lose: NFC, line ends, trailing white space, runs
    of blank lines, blank lines at either end. Nothing else (paragraphs stay as given)."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines).strip("\n"))


def test_the_three_sets_import_in_one_go_with_no_refusal(real: Corpus) -> None:
    assert real.head().rows == RECORDS and real.verify() == []
    frame = ps.read(real.path, columns=["country", "date_precision"])
    assert {"YU", "DD", "CS", "EU"} <= set(frame["country"].to_list())
    assert frame.filter(pl.col("date_precision") == "year").height == 233 + 536


@pytest.mark.slow
def test_importing_them_again_is_refused_naming_the_duplicates(real: Corpus) -> None:
    before = tree_digest(real.path)
    with pytest.raises(BatchError) as refused:
        real.import_path([REALDATA / name for name in JSONL], max_errors=3)
    assert refused.value.total == RECORDS
    assert re.search(r"sotu\.jsonl:1: this speech is already in the corpus as "
                     r"'us-1790-george-washington-state-of-the-union-address-1790-[0-9a-f]{8}'",
                     refused.value.problems[0])
    again = real.import_path([REALDATA / name for name in JSONL], skip_existing=True)
    assert (again.records, again.skipped) == (0, RECORDS)
    assert tree_digest(real.path) == before


def test_the_same_file_reversed_gives_the_same_ids(real: Corpus, tmp_path: Path) -> None:
    lines = (REALDATA / "parlamint_at.jsonl").read_bytes().splitlines(keepends=True)
    reversed_file = tmp_path / "reversed.jsonl"
    reversed_file.write_bytes(b"".join(reversed(lines)))
    other = Corpus.init(tmp_path / "other")
    other.import_path(reversed_file)
    ours = parlamint(ps.read(real.path, columns=["source_id", "id"], country="AT"))
    theirs = ps.read(other.path, columns=["source_id", "id"])
    assert theirs.height == 4_044 and dict(theirs.iter_rows()) == dict(ours.iter_rows())


def parlamint(frame: pl.DataFrame) -> pl.DataFrame:
    """The ParlaMint records of a frame (the Austrian UNGDC statements left out)."""
    return frame.filter(pl.col("source_id").str.starts_with("ParlaMint"))


def test_every_text_equals_its_source_after_minimal_normalisation(real: Corpus) -> None:
    stored = dict(ps.read(real.path, columns=["source_id", "text"]).iter_rows())
    compared = 0
    for name in JSONL:
        for source_id, row in source_records(name).items():
            assert stored[source_id] == minimal_normalisation(row["text"]), source_id
            compared += 1
    assert compared == RECORDS
    heading = [t for t in stored.values() if "Dringliche Anfrage\n\nder Abgeordneten" in t]
    assert heading  # a heading before a lower-case line stays a paragraph of its own


def test_the_ungdc_adapter_gives_the_shared_records(real: Corpus, tmp_path: Path) -> None:
    folder = tmp_path / "ungdc"
    added = run("init", str(folder))
    added = run("--corpus", str(folder), "import", "--from", "ungdc",
                str(REALDATA / "ungdc-txt"), "--retrieved", "2026-11-30")
    assert added.exit_code == 0, added.stderr
    assert added.stdout.startswith("imported 301 speeches")
    ours = ps.read(folder).drop("id").sort("source_id")
    shared = ps.read(real.path).filter(pl.col("source_id").is_in(ours["source_id"].to_list()))
    assert ours.equals(shared.drop("id").sort("source_id").select(ours.columns))


def test_the_parlamint_adapter_gives_the_shared_records(real: Corpus, tmp_path: Path) -> None:
    folder = tmp_path / "parlamint"
    run("init", str(folder))
    added = run("--corpus", str(folder), "import", "--from", "parlamint",
                str(REALDATA / "parlamint-at-tei"))
    assert added.exit_code == 0, added.stderr
    columns = ["source_id", "date", "text", "speaker_id", "country", "language", "title"]
    ours = ps.read(folder, columns=columns).sort("source_id")
    shared = parlamint(ps.read(real.path, columns=columns, country="AT"))
    assert ours.height == 4_044 and ours.equals(shared.sort("source_id"))


def test_queries_are_normalised_like_stored_values(real: Corpus) -> None:
    decomposed = unicodedata.normalize("NFD", "Günter Kößl")
    assert ps.read(real.path, speaker=decomposed).height == 3
    hits = analysis.kwic("STRASSE", real.path, window=1)
    assert hits.height > 0 and all("ß" in m or "SS" in m.upper() for m in hits["match"])
    assert any("ß" in m for m in hits["match"])
    for value, message in (("gb", "country 'gb' must be upper case; use 'GB'"),
                           ("UK", "country 'UK' is not a country code; use 'GB'")):
        listed = run("--corpus", str(real.path), "list", "--country", value)
        assert listed.exit_code == 1 and message in listed.stderr


def test_dates_known_only_to_the_year_stay_years(real: Corpus) -> None:
    listed = run("--corpus", str(real.path), "list", "--country", "US", "--until", "1790")
    assert listed.exit_code == 0 and "1790-01-01" not in listed.stdout
    assert re.search(r"\s1790\s+George Washington", listed.stdout)
    march = ps.read(real.path, until="2023-03", columns=["source_id", "date"])
    assert not [s for s in march["source_id"].to_list() if s.endswith("_2023")]
    assert ps.read(real.path, since="2023", until="2023").height == 192  # UNGDC session 78
    stats = analysis.stats(real.path, by="country", country="US")
    assert stats.row(0, named=True)["first"] == "1790"
    with pytest.raises(CorpusError, match=r"^none of the 238 selected speeches has themes"):
        analysis.trends(real.path, period="month", country="US")  # no source codes themes
    undated = analysis.undated_in("month", real.path, country="US")
    assert undated == 233 + 5  # every SOTU, 5 UN statements
