"""Releases, corrections, versions and diffs: history is never rewritten."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

import policyspeech as ps
from policyspeech.errors import (
    CorpusError,
    DuplicateSpeechError,
    InvalidSpeechError,
    RecordNotFoundError,
    UnknownVersionError,
)
from policyspeech.layout import entry_path
from policyspeech.releases import fingerprint_paths, fingerprint_table
from policyspeech.store import Corpus
from policyspeech.text import text_sha256
from tests.helpers import log_files, make_speech, run, tree_digest


def file_bytes(corpus: Corpus, version: str) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in corpus.fragment_paths(version)}


@pytest.fixture
def released(corpus: Corpus) -> Corpus:
    corpus.add_all([make_speech(1), make_speech(2, speaker="Grace Hopper", country="US")])
    corpus.add(make_speech(3, date="2018-05"))
    corpus.release("major", notes="First")
    return corpus


def test_release_compacts_and_writes_a_manifest(released: Corpus) -> None:
    manifest = released.manifest("1.0.0")
    assert manifest["version"] == "1.0.0" and manifest["records"] == 3
    assert manifest["notes"] == "First" and manifest["bump"] == "major"
    [fragment] = manifest["fragments"]  # the two small fragments were compacted into one
    path = released.path / fragment["path"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == fragment["sha256"]
    table = pq.read_table(path)
    keys = list(zip(table["date"].to_pylist(), table["id"].to_pylist(), strict=True))
    assert keys == sorted(keys)
    assert manifest["fingerprint"] == fingerprint_table(table, manifest["schema_version"],
                                                        manifest["fingerprint_method"])
    assert manifest["changes"]["added"] == sorted(table["id"].to_pylist())
    log = [json.loads(p.read_text()) for p in log_files(released.path)]
    assert [e["operation"] for e in log] == ["init", "add", "add", "compact", "release"]
    assert log[-1]["release"]["sha256"] == hashlib.sha256(
        (released.path / "releases" / "1.0.0.json").read_bytes()).hexdigest()
    assert released.resolve_version("latest") == "1.0.0"


def test_release_amend_retract_release_keeps_the_first_release(released: Corpus) -> None:
    before_bytes = file_bytes(released, "1.0.0")
    before = ps.read(released.path, version="1.0.0")
    first_fingerprint = released.manifest("1.0.0")["fingerprint"]
    by_title = dict(zip(before["title"].to_list(), before["id"].to_list(), strict=True))
    a, b, c = (by_title[f"Speech number {n}"] for n in (1, 2, 3))
    fields = released.amend(a, {"speaker": "Ada King", "date": "2019-10"}, reason="Name")
    assert fields == ["speaker", "date", "date_precision"]
    released.amend(b, text="A corrected text.\n\nWith care.", reason="Transcript fixed")
    released.retract(c, reason="Not a speech")
    patch = released.release("patch", notes="Corrections")
    assert patch["version"] == "1.0.1" and patch["records"] == 2
    amended = sorted([{"id": a, "fields": ["date", "date_precision", "speaker"],
                       "reasons": ["Name"]},
                      {"id": b, "fields": ["text", "text_sha256", "word_count"],
                       "reasons": ["Transcript fixed"]}], key=lambda item: item["id"])
    assert patch["changes"] == {
        "added": [],
        "amended": amended,
        "retracted": [{"id": c, "reason": "Not a speech"}],
    }
    # 1.0.0 is untouched: same files, same bytes, same records, same fingerprint
    assert file_bytes(released, "1.0.0") == before_bytes
    assert ps.read(released.path, version="1.0.0").equals(before)
    schema = released.manifest("1.0.0")["schema_version"]
    assert fingerprint_paths(released.fragment_paths("1.0.0"), schema) == first_fingerprint
    assert released.verify() == []
    now = {r["id"]: r for r in ps.read(released.path, version="1.0.1").to_dicts()}
    assert now[a]["speaker"] == "Ada King" and now[a]["date_precision"] == "month"
    assert now[b]["text"] == "A corrected text.\n\nWith care." and c not in now
    changelog = (released.path / "CHANGELOG.md").read_text()
    assert f"- `{c}`: Not a speech" in changelog and "## 1.0.1" in changelog
    assert "date, date_precision, speaker (Name)" in changelog


def test_versions_everywhere(released: Corpus) -> None:
    released.add(make_speech(9))
    released.release("minor", notes="More")
    for version, rows in (("1.0.0", 3), ("1.1.0", 4), ("latest", 4), ("head", 4)):
        assert ps.read(released.path, version=version).height == rows
        assert ps.scan(released.path, version=version).collect().height == rows
        assert ps.read_arrow(released.path, version=version).num_rows == rows
        assert ps.load_dataset(released.path, version=version).num_rows == rows
        assert ps.read(released.path, version=version, verify=True).height == rows
    assert [v["version"] for v in released.versions()] == ["1.0.0", "1.1.0"]
    assert released.versions()[1]["notes"] == "More"


def test_plain_datasets_loads_each_release_offline(released: Corpus, tmp_path: Path) -> None:
    released.add(make_speech(9))
    released.release(notes="More")
    folder = str(released.path)
    assert datasets.get_dataset_config_names(folder) == ["1.1.0", "head", "1.0.0"]
    old = datasets.load_dataset(folder, "1.0.0", split="train")
    mine = ps.load_dataset(released.path, version="1.0.0")
    assert old.num_rows == 3 and old.sort("id").to_list() == mine.sort("id").to_list()
    assert datasets.load_dataset(folder, "1.1.0", split="train").num_rows == 4


def test_diff_between_any_versions(released: Corpus) -> None:
    ids = sorted(ps.read(released.path)["id"].to_list())
    released.amend(ids[0], {"party": "Whig"}, reason="Party check")
    released.retract(ids[1], reason="Withdrawn")
    added = released.add(make_speech(7))
    change = released.diff("1.0.0", "head")
    assert change["added"] == [added]
    assert change["retracted"] == [{"id": ids[1], "reasons": ["Withdrawn"]}]
    assert change["amended"] == [{"id": ids[0], "fields": ["party"],
                                  "reasons": ["Party check"]}]
    released.release()
    assert released.diff("1.0.0", "1.1.0")["added"] == [added]
    assert released.diff("1.1.0", "1.0.0")["retracted"][0]["id"] == added
    assert released.diff("latest", "head") == {"from": "1.1.0", "to": "head", "added": [],
                                               "retracted": [], "amended": []}


def test_version_rules(released: Corpus) -> None:
    with pytest.raises(CorpusError, match=r"nothing changed since release 1\.0\.0"):
        released.release("patch")
    released.add(make_speech(5))
    before = tree_digest(released.path)
    with pytest.raises(CorpusError, match="adds records, so it must be at least minor; use "
                       "`policyspeech release minor`"):
        released.release("patch")
    with pytest.raises(CorpusError, match="bump 'huge' is not known"):
        released.release("huge")
    assert tree_digest(released.path) == before
    assert released.release()["version"] == "1.1.0"  # the smallest allowed bump
    released.retract(released.add(make_speech(6)), reason="Mistake")
    assert released.release()["version"] == "1.2.0"  # the add still counts, even retracted
    first_id = ps.read(released.path)["id"][0]
    released.amend(first_id, {"notes": "Checked"}, reason="Review")
    assert released.release()["version"] == "1.2.1"
    released.amend(first_id, {"notes": "Checked twice"}, reason="Review")
    assert released.release("major")["version"] == "2.0.0"


def test_first_release_of_a_new_corpus(corpus: Corpus) -> None:
    with pytest.raises(CorpusError, match="nothing to release: the corpus has no records yet"):
        corpus.release()
    corpus.add(make_speech(1))
    assert corpus.release()["version"] == "0.1.0"


def test_correction_errors_leave_the_corpus_unchanged(released: Corpus) -> None:
    ids = sorted(ps.read(released.path)["id"].to_list())
    head = ps.read(released.path)
    by_title = dict(zip(head["title"].to_list(), head["id"].to_list(), strict=True))
    before = tree_digest(released.path)
    cases = [
        (lambda: released.amend("no-such-id", {"party": "X"}, reason="r"), RecordNotFoundError,
         "no speech with id 'no-such-id' in the head"),
        (lambda: released.amend(ids[0], {"party": "X"}, reason="  "), InvalidSpeechError,
         "a correction needs a reason; give --reason TEXT"),
        (lambda: released.retract(ids[0], reason=""), InvalidSpeechError, "needs a reason"),
        (lambda: released.amend(ids[0], {}, reason="r"), InvalidSpeechError,
         "nothing to amend"),
        (lambda: released.amend(ids[0], {"speaker": "Ada Lovelace"}, reason="r"),
         InvalidSpeechError, "already has these values"),
        (lambda: released.amend(ids[0], {"country": "UK"}, reason="r"), InvalidSpeechError,
         "country 'UK' is not a country code"),
        (lambda: released.amend(ids[0], {"id": "new-id"}, reason="r"), InvalidSpeechError,
         "an id never changes"),
        (lambda: released.amend(by_title["Speech number 1"], {"speaker": "Grace Hopper"},
                                text=make_speech(2)["text"], reason="r"),
         DuplicateSpeechError, "would be the same speech (same text, speaker, date and source) "
         f"as '{by_title['Speech number 2']}'"),
        (lambda: ps.read(released.path, version="9.9.9"), UnknownVersionError,
         "version '9.9.9' does not exist; releases: 1.0.0"),
        (lambda: ps.read(released.path, version="v1"), UnknownVersionError,
         "is not a release number"),
    ]
    for action, error, message in cases:
        with pytest.raises(error) as raised:
            action()
        assert message in str(raised.value)
    assert tree_digest(released.path) == before
    released.retract(ids[0], reason="Gone")
    with pytest.raises(RecordNotFoundError, match="it was retracted"):
        released.retract(ids[0], reason="Again")
    with pytest.raises(DuplicateSpeechError, match="never reused"):
        released.add(make_speech(99, id=ids[0]))


def test_fingerprint_depends_on_content_not_bytes(released: Corpus, tmp_path: Path) -> None:
    [path] = released.fragment_paths("1.0.0")
    table = pq.read_table(path)
    expected = released.manifest("1.0.0")["fingerprint"]
    schema = released.manifest("1.0.0")["schema_version"]
    for n, options in enumerate([{"compression": "snappy", "row_group_size": 1},
                                 {"compression": "none", "use_dictionary": False}]):
        other = tmp_path / f"other-{n}.parquet"
        pq.write_table(table.sort_by("title"), other, **options)
        assert other.read_bytes() != path.read_bytes()
        assert fingerprint_paths([other], schema) == expected
    texts = table["text"].to_pylist()
    texts[0] = texts[0][:-1] + ("!" if texts[0][-1] != "!" else "?")
    edited = table.set_column(table.schema.get_field_index("text"), "text", pa.array(texts))
    hashes = pa.array([text_sha256(t) for t in texts])
    edited = edited.set_column(table.schema.get_field_index("text_sha256"), "text_sha256", hashes)
    assert fingerprint_table(table, schema, method=2) == expected
    assert fingerprint_table(edited, schema, method=2) != expected
    assert fingerprint_table(edited, schema, method=1) != fingerprint_table(table, schema, 1)


@pytest.mark.parametrize("target", ["fragment", "log entry", "manifest", "card"])
def test_verify_names_a_changed_file(released: Corpus, target: str) -> None:
    assert released.verify() == []
    path = {
        "fragment": released.fragment_paths("1.0.0")[0],
        "log entry": entry_path(released.path, 1),
        "manifest": released.path / "releases" / "1.0.0.json",
        "card": released.path / "README.md",
    }[target]
    data = bytearray(path.read_bytes())
    position = len(data) // 2
    data[position] = ord("x") if data[position] != ord("x") else ord("y")
    path.write_bytes(bytes(data))
    problems = released.verify()
    assert problems and any(str(path.name) in problem for problem in problems)
    if target in ("fragment", "manifest"):
        with pytest.raises(ps.IntegrityError):
            ps.read(released.path, version="1.0.0", verify=True)


def test_card_has_one_config_per_release_and_the_citation(released: Corpus) -> None:
    released.add(make_speech(9))
    released.release(notes="More")
    text = (released.path / "README.md").read_text()
    header = yaml.safe_load(text.split("---\n")[1])
    assert [c["config_name"] for c in header["configs"]] == ["1.1.0", "head", "1.0.0"]
    assert "@misc{test_speeches_1_1_0" in text
    assert 'ps.read("corpus", version="1.1.0")' in text
    assert "| 12 | `law_and_crime` | Law and Crime |" in text
    assert "compilation" in text and "licensed under CC-BY-4.0" in text


def test_the_fast_fingerprint_equals_the_record_by_record_definition(
        corpus: Corpus, monkeypatch: pytest.MonkeyPatch) -> None:
    import policyspeech.releases as releases

    tricky = ['Quote " and back\\slash', "Tab\tinside", "é, ß, 東京, emoji 🎤", "a/b <c> & d",
              "Line\u2028separator", "\u00a0no-break"]
    corpus.add_all([make_speech(n, title=f"{t} {n}", notes=t, keywords=[t, "x"],
                                themes=[] if n % 2 else ["health", "energy"])
                    for n, t in enumerate(tricky)] + [make_speech(99, notes=None, party="P")])
    paths = corpus.fragment_paths()
    fast = fingerprint_paths(paths, "1.0.0", method=2)
    table = pa.concat_tables(pq.read_table(p) for p in paths)
    assert fast == fingerprint_table(table, "1.0.0", method=2)
    monkeypatch.setattr(releases, "SAMPLE_ROWS", 0)  # no sample check: the bytes alone
    assert fingerprint_paths(paths, "1.0.0", method=2) == fast


def test_a_card_whose_text_alone_differs_is_named_as_such(released: Corpus) -> None:
    card = released.path / "README.md"
    card.write_text(card.read_text(encoding="utf-8").replace(
        "A versioned, citable corpus", "An older wording of a versioned, citable corpus"),
        encoding="utf-8")
    result = run("--corpus", str(released.path), "verify")
    assert result.exit_code == 1 and result.stderr == (
        f"error: {card}: lists the right files, but its text is not what this policyspeech "
        "writes (an older policyspeech wrote it, or it was edited or damaged); `policyspeech "
        "verify --repair` rewrites it\n")
    assert run("--corpus", str(released.path), "verify", "--repair").exit_code == 0
    assert released.verify() == []
