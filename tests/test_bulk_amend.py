"""Bulk amendments: many records corrected in one commit, all or nothing, each with its reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from policyspeech.corrections import Amendments
from policyspeech.errors import BatchError, DuplicateSpeechError, InvalidSpeechError
from policyspeech.loaders import read_arrow
from policyspeech.store import Corpus
from tests.helpers import log_files, make_speech, run, tree_digest, write_jsonl


def log_entries(corpus: Corpus) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in log_files(corpus.path)]


def themes_by_id(corpus: Corpus, version: str = "head") -> dict[str, list[str]]:
    table = read_arrow(corpus.path, version=version, columns=["id", "themes"])
    return dict(zip(table["id"].to_pylist(), table["themes"].to_pylist(), strict=True))


@pytest.fixture
def imported(corpus: Corpus) -> tuple[Corpus, list[str]]:
    """A corpus of 200 speeches without themes, added in one commit."""
    ids = corpus.add_all([make_speech(n, themes=[]) for n in range(200)])
    return corpus, ids


def test_csv_adds_themes_to_200_records_in_one_commit(imported: tuple[Corpus, list[str]],
                                                      tmp_path: Path) -> None:
    corpus, ids = imported
    own = ids[123]
    lines = ["id,themes,reason"]
    lines += [f"{i},health; energy," if i != own else f"{i},energy,Second coder" for i in ids]
    source = tmp_path / "themes.csv"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = log_entries(corpus)
    result = run("--corpus", str(corpus.path), "amend", "--from", str(source),
                 "--reason", "CAP coding")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "amended 200 speeches in one commit\n"
    assert result.stderr == ""
    after = log_entries(corpus)
    assert len(after) == len(before) + 1
    entry = after[-1]
    assert entry["operation"] == "amend" and entry["message"] == "amend 200 speeches"
    assert sorted(entry["ids"]) == sorted(ids)
    assert entry["fields"] == ["themes"]
    assert sorted(entry["amendments"], key=lambda a: a["id"]) == sorted(
        ({"id": i, "fields": ["themes"], "reason": "Second coder" if i == own else "CAP coding"}
         for i in ids), key=lambda a: a["id"])
    themes = themes_by_id(corpus)
    assert themes == {i: ["energy"] if i == own else ["health", "energy"] for i in ids}
    assert corpus.verify() == []


def test_jsonl_amends_several_fields_and_counts_rows_that_change_nothing(
        imported: tuple[Corpus, list[str]], tmp_path: Path) -> None:
    corpus, ids = imported
    corpus.amend(ids[3], {"party": "Labour"}, reason="Known party")
    source = write_jsonl(tmp_path / "fixes.jsonl", [
        {"id": ids[0], "party": "Whig", "reason": "From Hansard"},
        {"id": ids[1], "date": "2019-10", "themes": ["health"]},
        {"id": ids[2], "title": "A better title", "reason": "Typo"},
        {"id": ids[3], "party": "Labour"},  # already so: counted, left out
    ])
    result = run("--corpus", str(corpus.path), "amend", "--from", str(source),
                 "--reason", "Checked against the source")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "amended 3 speeches in one commit; 1 already had these values\n"
    entry = log_entries(corpus)[-1]
    assert entry["operation"] == "amend" and entry["message"] == "amend 3 speeches"
    assert sorted(entry["amendments"], key=lambda a: a["id"]) == sorted([
        {"id": ids[0], "fields": ["party"], "reason": "From Hansard"},
        {"id": ids[1], "fields": ["date", "date_precision", "themes"],
         "reason": "Checked against the source"},
        {"id": ids[2], "fields": ["title"], "reason": "Typo"},
    ], key=lambda a: a["id"])
    assert ids[3] not in entry["ids"]
    rows = {r["id"]: r for r in read_arrow(corpus.path).to_pylist()}
    assert rows[ids[0]]["party"] == "Whig"
    assert (str(rows[ids[1]]["date"]), rows[ids[1]]["date_precision"]) == ("2019-10-01", "month")
    assert rows[ids[1]]["themes"] == ["health"]
    assert rows[ids[2]]["title"] == "A better title"
    assert (rows[ids[4]]["party"], rows[ids[4]]["themes"]) == (None, [])  # untouched


def test_a_bad_file_is_refused_whole_with_every_bad_row_named(
        imported: tuple[Corpus, list[str]], tmp_path: Path) -> None:
    corpus, ids = imported
    before = tree_digest(corpus.path)
    source = write_jsonl(tmp_path / "bad.jsonl", [
        {"id": ids[0], "party": "Whig", "reason": "ok"},            # 1: fine
        {"id": "no-such-id", "party": "Whig", "reason": "ok"},      # 2: unknown id
        {"id": ids[1], "country": "UK", "reason": "ok"},            # 3: bad country
        {"party": "Whig", "reason": "ok"},                          # 4: no id
        {"id": ids[2], "party": "A", "reason": "ok"},               # 5: fine alone...
        {"id": ids[2], "party": "B", "reason": "ok"},               # 6: ...but twice
        {"id": ids[3], "party": "Whig"},                            # 7: no reason
    ])
    result = run("--corpus", str(corpus.path), "amend", "--from", str(source))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: {source}:2: no speech with id 'no-such-id' in the head; list the ids with "
        "`policyspeech list`",
        f"error: {source}:3: {ids[1]}: country 'UK' is not a country code; use 'GB' "
        "(United Kingdom)",
        f"error: {source}:4: no id; give the id of the speech to amend",
        f"error: {source}:6: '{ids[2]}' is amended twice (also at {source}:5); give one row "
        "per id",
        f"error: {source}:7: a correction needs a reason; give --reason TEXT (it is kept in "
        "the log and the changelog)",
        result.stderr.splitlines()[-1],
    ]
    assert result.stderr.splitlines()[-1].startswith("error: 5 bad records; ")
    assert tree_digest(corpus.path) == before


def test_a_bad_csv_names_its_lines(imported: tuple[Corpus, list[str]], tmp_path: Path) -> None:
    corpus, ids = imported
    before = tree_digest(corpus.path)
    source = tmp_path / "bad.csv"
    source.write_text(f"id,country,themes,reason\n{ids[0]},gb,,Fix\n{ids[1]},,health,Fix\n"
                      f"{ids[2]},,health; Energy,Fix\n,DE,,Fix\n", encoding="utf-8")
    result = run("--corpus", str(corpus.path), "amend", "--from", str(source))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[:-1] == [
        f"error: {source}:2: {ids[0]}: country 'gb' must be upper case; use 'GB'",
        f"error: {source}:4: {ids[2]}: theme 'Energy' is not in the codebook; use 'energy' "
        "(theme slugs are lower case with underscores)",
        f"error: {source}:5: no id; give the id of the speech to amend",
    ]
    assert lines[-1].startswith("error: 3 bad records; ")
    assert tree_digest(corpus.path) == before


def test_the_reason_option_covers_rows_without_one_and_a_file_without_any_is_refused(
        imported: tuple[Corpus, list[str]], tmp_path: Path) -> None:
    corpus, ids = imported
    source = tmp_path / "themes.csv"
    source.write_text(f"id,themes\n{ids[0]},health\n{ids[1]},energy\n", encoding="utf-8")
    before = tree_digest(corpus.path)
    refused = run("--corpus", str(corpus.path), "amend", "--from", str(source))
    assert refused.exit_code == 1  # one error for the file, not one per row
    assert refused.stderr == ("error: a correction needs a reason; give --reason TEXT (it is "
                              "kept in the log and the changelog)\n")
    assert tree_digest(corpus.path) == before
    done = run("--corpus", str(corpus.path), "amend", "--from", str(source), "--reason", "CAP")
    assert done.exit_code == 0 and done.stdout == "amended 2 speeches in one commit\n"
    assert [a["reason"] for a in log_entries(corpus)[-1]["amendments"]] == ["CAP", "CAP"]
    assert log_entries(corpus)[-1]["reason"] == "CAP"


def test_a_file_applied_again_changes_nothing_and_succeeds(
        imported: tuple[Corpus, list[str]], tmp_path: Path) -> None:
    corpus, ids = imported
    source = write_jsonl(tmp_path / "fixes.jsonl",
                         [{"id": ids[0], "themes": ["health"]}, {"id": ids[1], "party": "Whig"}])
    first = run("--corpus", str(corpus.path), "amend", "--from", str(source), "--reason", "r")
    assert first.exit_code == 0 and first.stdout == "amended 2 speeches in one commit\n"
    before = tree_digest(corpus.path)
    again = run("--corpus", str(corpus.path), "amend", "--from", str(source), "--reason", "r")
    assert again.exit_code == 0, again.stderr
    assert again.stdout == "nothing to amend: the 2 rows match the corpus already\n"
    assert tree_digest(corpus.path) == before  # no commit
    empty = write_jsonl(tmp_path / "empty.jsonl", [])
    nothing = run("--corpus", str(corpus.path), "amend", "--from", str(empty), "--reason", "r")
    assert nothing.exit_code == 1
    assert nothing.stderr == ("error: no amendments given; give rows of id, the fields to "
                              "change and a reason\n")
    assert tree_digest(corpus.path) == before


def test_an_amendment_may_not_make_two_records_the_same_speech(corpus: Corpus,
                                                              tmp_path: Path) -> None:
    a, b, c, d = corpus.add_all([make_speech(0, speaker="Ada Lovelace"),
                                 make_speech(0, speaker="Charles Babbage"),
                                 make_speech(1, speaker="Mary Somerville"),
                                 make_speech(2, speaker="Mary Somerville")])
    before = tree_digest(corpus.path)
    source = write_jsonl(tmp_path / "same.jsonl", [
        {"id": b, "speaker": "ada lovelace"}])  # the speaker is compared case-folded
    result = run("--corpus", str(corpus.path), "amend", "--from", str(source), "--reason", "r")
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {source}:1: amended, '{b}' would be the same speech (same text, speaker, "
        f"date and source) as '{a}'; nothing was changed\n")
    assert tree_digest(corpus.path) == before
    # two records of one file that would become the same speech as each other
    text = make_speech(9)["text"]
    with pytest.raises(DuplicateSpeechError) as caught:
        corpus.amend_all([{"id": c, "text": text}, {"id": d, "text": text}], reason="r")
    assert str(caught.value) == (
        f"row 2: amended, '{d}' would be the same speech (same text, speaker, date and "
        f"source) as '{c}'; nothing was changed")
    assert tree_digest(corpus.path) == before
    # ...but two records may swap their speakers, and a key freed in the same commit is free
    swapped = corpus.amend_all([{"id": a, "speaker": "Charles Babbage"},
                                {"id": b, "speaker": "Ada Lovelace"}], reason="swapped")
    assert swapped.fields == {a: ["speaker"], b: ["speaker"]}
    speakers = {r["id"]: r["speaker"]
                for r in read_arrow(corpus.path, columns=["id", "speaker"]).to_pylist()}
    assert speakers[a] == "Charles Babbage" and speakers[b] == "Ada Lovelace"
    assert corpus.verify() == []


def test_release_records_each_amended_record_with_its_reason(
        imported: tuple[Corpus, list[str]], tmp_path: Path) -> None:
    corpus, ids = imported
    first = corpus.release()
    assert first["version"] == "0.1.0"
    old_paths = corpus.fragment_paths("0.1.0")
    old_bytes = {p: p.read_bytes() for p in old_paths}
    old_table = read_arrow(corpus.path, version="0.1.0")
    source = write_jsonl(tmp_path / "fixes.jsonl", [
        {"id": ids[0], "themes": ["health"], "reason": "CAP coder 1"},
        {"id": ids[1], "party": "Whig", "reason": "From Hansard"},
        {"id": ids[2], "themes": ["energy"]},
    ])
    amended = run("--corpus", str(corpus.path), "amend", "--from", str(source),
                  "--reason", "CAP coder 2")
    assert amended.exit_code == 0, amended.stderr
    released = run("--corpus", str(corpus.path), "release")
    assert released.exit_code == 0, released.stderr
    assert released.stdout.startswith("released 0.1.1: 200 records, fingerprint ")
    manifest = corpus.manifest("0.1.1")
    assert manifest["changes"] == {"added": [], "retracted": [], "amended": [
        {"id": ids[0], "fields": ["themes"], "reasons": ["CAP coder 1"]},
        {"id": ids[1], "fields": ["party"], "reasons": ["From Hansard"]},
        {"id": ids[2], "fields": ["themes"], "reasons": ["CAP coder 2"]},
    ]}
    changelog = (corpus.path / "CHANGELOG.md").read_text(encoding="utf-8")
    section = changelog.split("## 0.1.1 ", 1)[1].split("## 0.1.0 ", 1)[0]
    assert "### Amended (3)\n\n" + "".join([
        f"- `{ids[0]}`: themes (CAP coder 1)\n",
        f"- `{ids[1]}`: party (From Hansard)\n",
        f"- `{ids[2]}`: themes (CAP coder 2)\n"]) in section
    diff = run("--corpus", str(corpus.path), "diff", "0.1.0", "0.1.1")
    assert diff.exit_code == 0
    assert diff.stdout.splitlines() == [
        "from 0.1.0 to 0.1.1: 0 added, 3 amended, 0 retracted",
        f"~ {ids[0]}: themes (CAP coder 1)",
        f"~ {ids[1]}: party (From Hansard)",
        f"~ {ids[2]}: themes (CAP coder 2)",
    ]
    as_json = corpus.diff("0.1.0", "0.1.1")
    assert as_json["amended"][1] == {"id": ids[1], "fields": ["party"],
                                     "reasons": ["From Hansard"]}
    # the previous release is unchanged, file for file and record for record
    assert corpus.fragment_paths("0.1.0") == old_paths
    assert {p: p.read_bytes() for p in old_paths} == old_bytes
    assert read_arrow(corpus.path, version="0.1.0").equals(old_table)
    assert themes_by_id(corpus, "0.1.0")[ids[0]] == []
    assert themes_by_id(corpus, "0.1.1")[ids[0]] == ["health"]
    verified = run("--corpus", str(corpus.path), "verify")
    assert verified.exit_code == 0, verified.stderr
    assert verified.stderr == "" and verified.stdout.startswith("ok: ")
    assert corpus.verify(deep=True) == []


def test_amend_all_from_python(imported: tuple[Corpus, list[str]], tmp_path: Path) -> None:
    corpus, ids = imported
    corpus.amend(ids[5], {"themes": ["health"]}, reason="earlier")
    entries = len(log_entries(corpus))
    result = corpus.amend_all([
        {"id": ids[0], "themes": ["health", "energy"]},
        {"id": ids[1], "party": "Whig", "country": "IE", "reason": "Own reason"},
        {"id": ids[5], "themes": ["health"]},
    ], reason="CAP coding")
    assert isinstance(result, Amendments)
    assert result.fields == {ids[0]: ["themes"], ids[1]: ["party", "country"]}
    assert (result.amended, result.unchanged) == (2, 1)
    assert len(log_entries(corpus)) == entries + 1
    assert sorted((a["id"], a["reason"]) for a in log_entries(corpus)[-1]["amendments"]) == [
        (ids[0], "CAP coding"), (ids[1], "Own reason")]
    from_file = corpus.amend_all(write_jsonl(tmp_path / "f.jsonl", [
        {"id": ids[2], "themes": ["energy"]}]), reason="From a file")
    assert (from_file.fields, from_file.unchanged) == ({ids[2]: ["themes"]}, 0)
    with pytest.raises(InvalidSpeechError) as no_reason:
        corpus.amend_all([{"id": ids[3], "party": "Whig"}])
    assert str(no_reason.value) == ("a correction needs a reason; give --reason TEXT (it is "
                                    "kept in the log and the changelog)")
    with pytest.raises(BatchError) as caught:
        corpus.amend_all([{"id": ids[3], "country": "UK"}, {"id": "nope", "party": "X"}],
                         reason="r")
    assert caught.value.problems == [
        f"row 1: {ids[3]}: country 'UK' is not a country code; use 'GB' (United Kingdom)",
        "row 2: no speech with id 'nope' in the head; list the ids with `policyspeech list`"]
    with pytest.raises(InvalidSpeechError, match=r"give amendments as a \.jsonl or \.csv file"):
        corpus.amend_all(tmp_path / "fixes.txt", reason="r")


def test_amend_takes_an_id_or_a_file_not_both_nor_neither(imported: tuple[Corpus, list[str]],
                                                          tmp_path: Path) -> None:
    corpus, ids = imported
    source = write_jsonl(tmp_path / "f.jsonl", [{"id": ids[0], "party": "Whig"}])
    before = tree_digest(corpus.path)
    both = run("--corpus", str(corpus.path), "amend", ids[0], "--from", str(source),
               "--reason", "r")
    assert both.exit_code == 1 and both.stdout == ""
    assert both.stderr == ("error: --from takes the ids and changes from the file; give no "
                           "ID, --text or field options with it\n")
    with_field = run("--corpus", str(corpus.path), "amend", "--from", str(source),
                     "--party", "Tory", "--reason", "r")
    assert with_field.exit_code == 1 and with_field.stderr == both.stderr
    neither = run("--corpus", str(corpus.path), "amend", "--party", "Whig", "--reason", "r")
    assert neither.exit_code == 1
    assert neither.stderr == ("error: give the ID of the speech to amend (or --from FILE for "
                              "many)\n")
    assert tree_digest(corpus.path) == before
    one = run("--corpus", str(corpus.path), "amend", ids[0], "--party", "Whig", "--reason", "r")
    assert one.exit_code == 0 and one.stdout == f"amended {ids[0]}: party\n"


def test_a_file_that_cannot_be_read_is_one_error_line(imported: tuple[Corpus, list[str]],
                                                      tmp_path: Path) -> None:
    corpus, _ids = imported
    before = tree_digest(corpus.path)
    (tmp_path / "folder.jsonl").mkdir()
    (tmp_path / "fixes.txt").write_text("id,party\n", encoding="utf-8")
    expected = {
        "missing.jsonl": "cannot read (No such file or directory)",
        "missing.csv": "cannot read (No such file or directory)",
        "folder.jsonl": "is a folder; give a .jsonl or .csv file of amendments",
        "fixes.txt": "give amendments as a .jsonl or .csv file (id, the fields to change, "
                     "and a reason column or --reason)",
    }
    for name, message in expected.items():
        result = run("--corpus", str(corpus.path), "amend", "--from", str(tmp_path / name),
                     "--reason", "r")
        assert (result.exit_code, result.stdout) == (1, "")
        assert result.stderr == f"error: {tmp_path / name}: {message}\n"
    assert tree_digest(corpus.path) == before


def test_a_field_can_be_cleared(imported: tuple[Corpus, list[str]], tmp_path: Path) -> None:
    corpus, ids = imported
    corpus.amend_all([{"id": ids[0], "themes": ["health"], "party": "Whig"}], reason="coded")
    source = write_jsonl(tmp_path / "clear.jsonl", [{"id": ids[0], "themes": [],
                                                    "party": None}])
    done = run("--corpus", str(corpus.path), "amend", "--from", str(source), "--reason",
               "Wrong code")
    assert done.exit_code == 0, done.stderr
    [row] = [r for r in read_arrow(corpus.path, columns=["id", "themes", "party"]).to_pylist()
             if r["id"] == ids[0]]
    assert (row["themes"], row["party"]) == ([], None)
    corpus.amend(ids[0], {"party": "Whig"}, reason="again")
    cleared = run("--corpus", str(corpus.path), "amend", ids[0], "--clear", "party",
                  "--reason", "Not known")
    assert cleared.exit_code == 0 and cleared.stdout == f"amended {ids[0]}: party\n"
    before = tree_digest(corpus.path)
    for args, message in ((["--clear", "title"], "'title' is required and cannot be cleared"),
                          (["--clear", "partey"], "--clear 'partey' is not a field")):
        refused = run("--corpus", str(corpus.path), "amend", ids[0], *args, "--reason", "r")
        assert refused.exit_code == 1 and message in refused.stderr, refused.stderr
    assert tree_digest(corpus.path) == before
