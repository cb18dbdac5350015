"""The release commands of the CLI: release, amend, retract, versions, diff, verify, cite,
export."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from policyspeech.store import Corpus
from tests.helpers import IDENTITY, IDENTITY_OPTIONS, META, SEED, run, tree_digest

SEED_ID = "gb-2019-10-30-brandon-lewis-security-minister-s-speech-on-security-and-crime-after-brexit"


def test_a_researchers_whole_round(tmp_path: Path) -> None:
    c = str(tmp_path / "c")
    assert run("init", c, *IDENTITY_OPTIONS).exit_code == 0
    assert run("--corpus", c, "add", str(SEED)).stdout.strip() == SEED_ID
    first = run("--corpus", c, "release", "major", "-m", "First")
    assert first.exit_code == 0 and first.stdout.startswith("released 1.0.0: 1 record, ")
    text = tmp_path / "fixed.txt"
    text.write_text("Good morning.\n\nA corrected transcript.")
    amended = run("--corpus", c, "amend", SEED_ID, "--date", "2019-10-29", "--text", str(text),
                  "--reason", "Checked against the video")
    assert amended.exit_code == 0, amended.stderr
    assert amended.stdout.strip() == f"amended {SEED_ID}: date, text, word_count, text_sha256"
    other = tmp_path / "other.txt"
    other.write_text("Another speech.")
    new_id = run("--corpus", c, "add", str(other), *META).stdout.strip()
    assert run("--corpus", c, "retract", new_id, "--reason", "Wrong speaker").stdout.strip() \
        == f"retracted {new_id}"
    patch = run("--corpus", c, "release", "patch")
    assert patch.exit_code == 1 and "must be at least minor" in patch.stderr
    assert run("--corpus", c, "release").stdout.startswith("released 1.1.0")
    listed = json.loads(run("--corpus", c, "versions", "--format", "json").stdout)
    assert [v["version"] for v in listed] == ["1.0.0", "1.1.0"]
    assert run("--corpus", c, "list", "--version", "1.0.0", "--format", "json").stdout \
        .count('"2019-10-30"') == 1
    shown = run("--corpus", c, "show", SEED_ID, "--version", "1.0.0")
    assert "date            2019-10-30" in shown.stdout
    changed = run("--corpus", c, "diff", "1.0.0", "1.1.0")
    assert changed.stdout.splitlines() == [
        "from 1.0.0 to 1.1.0: 0 added, 1 amended, 0 retracted",
        f"~ {SEED_ID}: date, text, word_count, text_sha256 (Checked against the video)"]
    verified = run("--corpus", c, "verify")
    assert verified.exit_code == 0 and "every file matches" in verified.stdout
    cited = run("--corpus", c, "cite", "--version", "1.0.0", "--format", "ris")
    assert "ET  - 1.0.0" in cited.stdout
    out = tmp_path / "export.parquet"
    exported = run("--corpus", c, "export", str(out), "--version", "1.0.0")
    assert exported.stdout.strip() == f"wrote 1 records to {out}"
    assert pq.read_table(out)["date"].to_pylist()[0].isoformat() == "2019-10-30"
    jsonl = tmp_path / "export.jsonl"
    run("--corpus", c, "export", str(jsonl), "--format", "jsonl")
    assert json.loads(jsonl.read_text())["date"] == "2019-10-29"


def test_errors_exit_1_with_one_line_and_change_nothing(tmp_path: Path) -> None:
    c = tmp_path / "c"
    Corpus.init(c, **IDENTITY)
    run("--corpus", str(c), "add", str(SEED))
    run("--corpus", str(c), "release")
    before = tree_digest(c)
    cases = [
        (["release"], "nothing changed since release 0.1.0"),
        (["release", "huge"], "bump 'huge' is not known"),
        (["amend", "nope", "--party", "X", "--reason", "r"], "no speech with id 'nope'"),
        (["amend", SEED_ID, "--party", "X", "--reason", " "], "a correction needs a reason"),
        (["retract", "nope", "--reason", "r"], "no speech with id 'nope'"),
        (["list", "--version", "2.0.0"], "version '2.0.0' does not exist; releases: 0.1.0"),
        (["cite", "--version", "head", "--format", "mla"], "citation format 'mla' is not known"),
        (["export", str(tmp_path / "x.xml"), "--format", "xml"], "export format 'xml'"),
        (["diff", "0.1.0", "9.0.0"], "version '9.0.0' does not exist"),
    ]
    for args, message in cases:
        result = run("--corpus", str(c), *args)
        assert result.exit_code == 1, args
        [line] = result.stderr.splitlines()
        assert line.startswith("error: ") and message in line, (args, line)
    assert tree_digest(c) == before
    no_reason = run("--corpus", str(c), "amend", SEED_ID, "--party", "X")
    assert no_reason.exit_code == 1 and "a correction needs a reason" in no_reason.stderr
    assert tree_digest(c) == before


def test_verify_exits_1_naming_the_damaged_file(tmp_path: Path) -> None:
    c = tmp_path / "c"
    Corpus.init(c, **IDENTITY)
    run("--corpus", str(c), "add", str(SEED))
    run("--corpus", str(c), "release")
    [fragment] = (c / "data").iterdir()
    data = bytearray(fragment.read_bytes())
    data[len(data) // 2] ^= 0x01
    fragment.write_bytes(bytes(data))
    result = run("--corpus", str(c), "verify")
    assert result.exit_code == 1
    assert all(line.startswith("error: ") for line in result.stderr.splitlines())
    assert fragment.name in result.stderr and "SHA-256" in result.stderr
