"""Hostile input beyond single files: every case exits 1 with one line and changes nothing."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pyarrow.parquet as pq

import policyspeech as ps
from policyspeech.layout import entry_path
from policyspeech.log import encode_entry, read_entry
from policyspeech.store import Corpus
from tests.helpers import META, SEED, make_speech, run, tree_digest


def corpus_with_seed(tmp_path: Path) -> Path:
    folder = tmp_path / "c"
    Corpus.init(folder)
    assert run("--corpus", str(folder), "add", str(SEED)).exit_code == 0
    return folder


def one_error_line(result: object, message: str) -> None:
    assert result.exit_code == 1  # type: ignore[attr-defined]
    [line] = result.stderr.splitlines()  # type: ignore[attr-defined]
    assert line.startswith("error: ") and message in line, line


def test_a_file_over_the_default_size_limit(tmp_path: Path) -> None:
    folder = corpus_with_seed(tmp_path)
    before = tree_digest(folder)
    big = tmp_path / "big.txt"
    big.write_bytes(b"word " * 1_000_001)
    one_error_line(run("--corpus", str(folder), "add", str(big), *META),
                   "larger than the limit of 5,000,000 bytes; raise it with --max-bytes")
    assert tree_digest(folder) == before
    assert run("--corpus", str(folder), "add", str(big), *META, "--max-bytes",
               "6000000").exit_code == 0


def test_a_batch_of_a_thousand_whose_last_speech_is_bad(tmp_path: Path) -> None:
    folder = corpus_with_seed(tmp_path)
    before = tree_digest(folder)
    lines = [json.dumps({**make_speech(n), "date": "2019-10-30"}) for n in range(999)]
    lines.append(json.dumps({**make_speech(999), "country": "UK"}))
    batch = tmp_path / "batch.jsonl"
    batch.write_text("\n".join(lines) + "\n")
    result = run("--corpus", str(folder), "import", str(batch))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {batch}:1000: country 'UK' is not a country code; use 'GB' (United Kingdom)",
        "error: 1 bad record; nothing was imported"]
    assert tree_digest(folder) == before


def test_a_corpus_from_a_newer_schema_major_version(tmp_path: Path) -> None:
    folder = corpus_with_seed(tmp_path)
    last, digest = read_entry(folder, 1)  # type: ignore[misc]
    newer = {**last, "seq": 2, "parent": digest, "schema_version": "2.0.0", "added": [],
             "ids": [], "text_sha256": [], "operation": "migrate"}
    (entry_path(folder, 2)).write_bytes(encode_entry(newer))
    before = tree_digest(folder)
    speech = tmp_path / "s.txt"
    speech.write_text("Text.")
    one_error_line(run("--corpus", str(folder), "add", str(speech), *META),
                   "uses schema 2.0.0, newer than this policyspeech (1.1.0); upgrade policyspeech")
    one_error_line(run("--corpus", str(folder), "list"), "upgrade policyspeech")
    assert tree_digest(folder) == before


def test_not_a_corpus_and_symlinked_folders_are_refused(tmp_path: Path) -> None:
    one_error_line(run("--corpus", str(tmp_path), "list"), "is not a policyspeech corpus")
    folder = corpus_with_seed(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    (folder / "data").rename(elsewhere)
    os.symlink(elsewhere, folder / "data")
    before = tree_digest(folder)
    one_error_line(run("--corpus", str(folder), "list"), "is a symbolic link")
    speech = tmp_path / "s.txt"
    speech.write_text("Text.")
    one_error_line(run("--corpus", str(folder), "add", str(speech), *META), "symbolic link")
    assert tree_digest(folder) == before


def test_a_parquet_file_dropped_into_data_is_ignored_and_reported(tmp_path: Path) -> None:
    """data/ is the head's folder: a file dropped there is a repairable problem (a glob
    would read it), which `verify --repair` removes; readers never see it. A file dropped
    into the store is one that no entry names: gc removes it once it is an hour old."""
    folder = corpus_with_seed(tmp_path)
    stray = folder / "data" / "dropped-in.parquet"
    table = ps.read_arrow(folder)
    pq.write_table(table, stray)
    assert ps.read(folder).height == 1  # readers follow the log, not the folder
    result = run("--corpus", str(folder), "verify")
    assert result.exit_code == 1
    assert result.stderr == (f"error: {folder / 'data'}: holds files that are no fragment of "
                             "the head (dropped-in.parquet); the folder is derived from the "
                             "log: the next write, or `policyspeech verify --repair`, "
                             "rewrites it\n")
    assert run("--corpus", str(folder), "verify", "--repair").exit_code == 0
    assert not stray.exists() and Corpus(folder).verify() == []
    stored = folder / "fragments" / "dropped-in.parquet"
    pq.write_table(table, stored)
    result = run("--corpus", str(folder), "verify")
    assert result.exit_code == 0
    assert f"warning: {stored}: no log entry names this file" in result.stderr
    assert Corpus(folder).unreferenced_files() == []  # it may be a writer's, about to publish
    os.utime(stored, (time.time() - 3601, time.time() - 3601))
    assert Corpus(folder).unreferenced_files() == [stored]
