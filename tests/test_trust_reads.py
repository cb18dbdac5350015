"""Issue 12, the read side after the attack trial: a damaged or swapped fragment, a
damaged footer or an edited newest log entry is an error naming the file, never wrong rows."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path
from typing import Any

import pytest

import policyspeech as ps
from policyspeech import log, scanning
from policyspeech.errors import CorpusError
from policyspeech.store import Corpus
from tests.helpers import make_speech, run, tree_digest

# -- helpers ---------------------------------------------------------------------------

SPEECHES = [
    make_speech(1, speaker="George Washington", country="US", date="1790-01-08"),
    make_speech(2, speaker="George Washington", country="US", date="1792"),
    make_speech(3, speaker="George Washington", country="US", date="1793-12"),
    make_speech(4, speaker="George Washington", country="US", date="1796-12-07"),
    make_speech(5, speaker="Albert I", country="BE", date="1914-08-04", language="fr"),
    make_speech(6, speaker="Ada Lovelace", country="GB", date="2019-10-30"),
]
QUERIES: list[dict[str, Any]] = [
    {}, {"speaker": "George Washington"}, {"country": "BE"}, {"until": "1792"},
    {"since": "1900"},
]


def _fragments(corpus: Corpus) -> list[Path]:
    return [corpus.path / p for p in log.advance(corpus.path, log.HeadState()).fragments]


def _rows(corpus: Corpus, query: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(ps.read(corpus.path, **query).to_dicts(), key=lambda r: r["id"])


def _one_error(result: Any, named: Path) -> None:
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.exit_code == 1, result.stdout
    assert len(lines) == 1 and len(result.stderr.splitlines()) == 1, result.stderr
    assert named.name in lines[0] and "policyspeech verify" in lines[0], lines[0]
    assert "bug" not in result.stderr and "Traceback" not in result.stderr


def _released_twice(corpus: Corpus, second: int) -> tuple[Path, Path]:
    """Release 0.1.0 of four speeches, then 0.2.0 adding ``second`` more: (the first
    release's fragment, the second's)."""
    corpus.add_all([make_speech(n) for n in range(4)])
    corpus.release("minor")
    (first,) = _fragments(corpus)
    corpus.add_all([make_speech(n) for n in range(10, 10 + second)])
    corpus.release("minor")
    (added,) = set(_fragments(corpus)) - {first}
    return first, added


# -- 1. the footer ---------------------------------------------------------------------


@pytest.mark.parametrize("group_rows", [1000, 2])
def test_footer_bit_flips_never_change_what_reads_return(corpus: Corpus, monkeypatch: Any,
                                                         group_rows: int) -> None:
    """Single-bit flips across a fragment's Parquet footer (one fragment of one row group;
    two fragments of groups of two rows): every filtered and unfiltered read and scan
    raises CorpusError or returns exactly the original rows, in the version's order."""
    from policyspeech import fragments

    monkeypatch.setattr(fragments, "ROW_GROUP_SIZE", group_rows)
    corpus.add_all(SPEECHES[2:] if group_rows == 2 else SPEECHES)
    (fragment,) = _fragments(corpus)
    if group_rows == 2:
        corpus.add_all(SPEECHES[:2])
    everything = [r["id"] for r in ps.read(corpus.path).to_dicts()]
    ids = [r["id"] for r in ps.read(corpus.path, speaker="George Washington").to_dicts()]
    assert len(ids) == 4 and ids == [i for i in everything if i in ids]
    original = fragment.read_bytes()
    expected = [_rows(corpus, q) for q in QUERIES]
    assert [len(rows) for rows in expected] == [6, 4, 1, 2, 2]
    (length,) = struct.unpack("<I", original[-8:-4])
    start = len(original) - 8 - length
    flips = [(start + length * n // 200, n % 8) for n in range(200)]
    wrong, refused = [], 0
    for at, bit in flips:
        damaged = bytearray(original)
        damaged[at] ^= 1 << bit
        fragment.write_bytes(bytes(damaged))
        scanning._DATASETS.clear()  # footers read again, as by a new process
        for query, rows in zip(QUERIES, expected, strict=True):
            for read in (ps.read, lambda c, **q: ps.scan(c, **q).collect()):
                try:
                    if sorted(read(corpus.path, **query).to_dicts(),
                              key=lambda r: r["id"]) != rows:
                        wrong.append((at - start, bit, query))
                except CorpusError:
                    refused += 1
    fragment.write_bytes(original)
    assert wrong == []
    assert refused > 0


def test_footer_row_count_differing_from_the_log_is_refused(corpus: Corpus) -> None:
    """A fragment whose footer counts other rows than the log records is an error naming
    it (a valid fragment of the corpus swapped in under another's name)."""
    first, added = _released_twice(corpus, second=5)
    before = tree_digest(corpus.path)
    shutil.copyfile(first, added)
    with pytest.raises(CorpusError, match=f"{added.name}.*4 rows.*5"):
        ps.read(corpus.path)
    result = run("--corpus", str(corpus.path), "list")
    _one_error(result, added)
    result = run("--corpus", str(corpus.path), "list", "--speaker", "Ada Lovelace")
    _one_error(result, added)
    shutil.copyfile(first, added)
    assert tree_digest(corpus.path).keys() == before.keys()


# -- 2. export checks the files ----------------------------------------------------------


def test_export_of_a_release_with_a_swapped_fragment_is_refused(corpus: Corpus,
                                                                tmp_path: Path) -> None:
    """A fragment replaced by another valid fragment of the same row count: export
    checks every file's SHA-256 first and names it; --no-verify skips the check."""
    first, added = _released_twice(corpus, second=4)
    shutil.copyfile(first, added)
    before = tree_digest(corpus.path)
    out = tmp_path / "out.jsonl"
    result = run("--corpus", str(corpus.path), "export", str(out), "--version", "0.2.0",
                 "--format", "jsonl")
    _one_error(result, added)
    assert not out.exists()
    assert tree_digest(corpus.path) == before
    result = run("--corpus", str(corpus.path), "export", str(out), "--version", "0.2.0",
                 "--format", "jsonl", "--no-verify")
    assert result.exit_code == 0 and "wrote 8 records" in result.stdout


# -- 3. the newest log entry -------------------------------------------------------------


def test_edited_newest_entry_is_not_served_as_the_head(corpus: Corpus) -> None:
    """The newest entry edited to add back a superseded fragment (a retracted record):
    list and ps.read refuse, naming the entry, as the card records another hash."""
    corpus.add_all([make_speech(1), make_speech(2)])
    (superseded,) = _fragments(corpus)
    gone = ps.read(corpus.path)["id"][1]
    corpus.retract(gone, reason="withdrawn")
    state = log.advance(corpus.path, log.HeadState())
    newest = log.entry_path(corpus.path, state.seq)
    entry = json.loads(newest.read_text())
    assert entry["removed"][0]["path"] == str(superseded.relative_to(corpus.path))
    entry["added"] = [entry["removed"][0]]
    newest.write_text(json.dumps(entry, indent=1))
    before = tree_digest(corpus.path)
    result = run("--corpus", str(corpus.path), "list")
    assert result.exit_code == 1 and gone not in result.stdout
    assert result.stderr.startswith(f"error: {newest}: its SHA-256 differs")
    with pytest.raises(CorpusError, match=newest.name):
        ps.read(corpus.path)
    assert tree_digest(corpus.path) == before


# -- 4. read errors name the damaged fragment -------------------------------------------


def _zero(data: bytes) -> bytes:
    return b""


def _truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _flipped(data: bytes) -> bytes:
    """One bit flipped in the last page of the speaker column (which every command reads)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    metadata = pq.ParquetFile(pa.BufferReader(data)).metadata
    chunk = metadata.row_group(0).column(metadata.schema.names.index("speaker"))
    damaged = bytearray(data)
    start = chunk.dictionary_page_offset if chunk.has_dictionary_page else chunk.data_page_offset
    damaged[start + chunk.total_compressed_size - 3] ^= 0x10
    return bytes(damaged)


@pytest.mark.parametrize("damage", [_zero, _truncated, _flipped])
def test_read_errors_name_the_damaged_fragment(corpus: Corpus, damage: Any) -> None:
    """A 0-byte, truncated or bit-flipped fragment: list, show, export, stats and kwic
    print one error line naming the file (never a "bug"), exit 1."""
    corpus.add_all([make_speech(n, text=f"Speech {n} on the harbour. " * 400)
                    for n in range(40)])
    record_id = ps.read(corpus.path)["id"][0]
    (fragment,) = _fragments(corpus)
    fragment.write_bytes(damage(fragment.read_bytes()))
    before = tree_digest(corpus.path)
    out = corpus.path.parent / "out.parquet"
    for command in (["list"], ["show", record_id], ["export", str(out), "--version", "head"],
                    ["stats"], ["kwic", "harbour"]):
        result = run("--corpus", str(corpus.path), *command)
        _one_error(result, fragment)
    assert tree_digest(corpus.path) == before
    with pytest.raises(CorpusError, match=fragment.name):
        ps.read(corpus.path, speaker="Ada Lovelace")



def test_parquet_bytes_are_read_from_arrow_memory_only() -> None:
    """A Parquet reader over Python bytes lets Arrow's threads drop the last reference to
    them, which needs the GIL: at interpreter exit that aborted `policyspeech verify` with
    status 134 in about one run of 40. Every reader of bytes goes through
    ``nofollow.arrow_reader``, which copies them into Arrow's memory."""
    import re

    import pyarrow as pa

    from policyspeech.nofollow import arrow_reader

    source = Path(ps.__file__).parent
    wrapping = [f"{path.relative_to(source)}:{number}"
                for path in sorted(source.rglob("*.py")) if path.name != "nofollow.py"
                for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
                if re.search(r"\bBufferReader\(", line)]
    assert wrapping == []
    reader = arrow_reader(b"PAR1 and more")
    assert isinstance(reader, pa.BufferReader) and reader.read() == b"PAR1 and more"
