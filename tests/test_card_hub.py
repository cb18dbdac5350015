"""The dataset card follows the Hugging Face Hub's rules: one config per version (the latest
release the default), folder globs, ``dataset_info`` as ``datasets`` computes it, the Hub's
licence fields and ``LICENSE.md``, the Hub's task and size lists, the datasheet from
``DATASHEET.md``, and what an upload leaves out."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import datasets
import polars as pl
import pytest
import yaml

import policyspeech as ps
from policyspeech import datasheet
from policyspeech.card import (
    SIZE_CATEGORIES,
    CardFacts,
    ConfigFacts,
    config_glob,
    render_card,
    size_category,
)
from policyspeech.licensing import credits, hub_id, hub_license
from policyspeech.log import HeadState
from policyspeech.store import Corpus
from policyspeech.uploads import UPLOAD_IGNORE, gitignore_text
from tests.helpers import IDENTITY, make_speech, run, tree_digest

A = {"license": "CC-BY-4.0", "publisher": "Parliament A"}
OGL = {"license": "OGL-UK-3.0", "publisher": "GOV.UK", "source_url": "https://www.gov.uk/s/1"}


@pytest.fixture
def hub(tmp_path: Path) -> Corpus:
    """Two releases, an amend, a retraction and an unreleased add; records under CC-BY-4.0
    (two addresses of one site), CC0-1.0, OGL-UK-3.0, CC-BY-SA-4.0 and none."""
    corpus = Corpus.init(tmp_path / "corpus", **IDENTITY)
    ids = corpus.add_all([
        make_speech(1, **A, source_url="https://a.example/debates/1"),
        make_speech(2, **A, source_url="https://a.example/debates/2"),
        make_speech(3, license="CC0-1.0", publisher="Archive"),
        make_speech(4, **OGL)])
    corpus.release(notes="first")
    corpus.amend(ids[0], {"title": "Amended"}, reason="Title checked")
    corpus.retract(ids[3], reason="Withdrawn")
    corpus.add(make_speech(5, license="CC-BY-SA-4.0", publisher="B",
                           source_url="https://b.example/x"))
    corpus.release(notes="second")
    corpus.add(make_speech(6))
    return corpus


def _header(corpus: Corpus) -> dict[str, Any]:
    return dict(yaml.safe_load((corpus.path / "README.md").read_text().split("---\n")[1]))


def _frame(table: Any) -> pl.DataFrame:
    return pl.from_arrow(table).sort("id")  # type: ignore[return-value]


def test_huggingface_hub_reads_the_configs_and_the_default_is_the_latest_release(
        hub: Corpus) -> None:
    from datasets.info import DatasetInfosDict
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCard

    card = DatasetCard.load(hub.path / "README.md")
    configs = MetadataConfigs.from_dataset_card_data(card.data)
    assert list(configs) == ["0.2.0", "head", "0.1.0"]
    assert configs["0.2.0"] == {"default": True, "data_files": [
        {"split": "train", "path": "releases/0.2.0/*.parquet"}]}
    assert configs["head"]["data_files"] == [{"split": "train", "path": "data/*.parquet"}]
    assert "default" not in configs["head"] and "default" not in configs["0.1.0"]
    assert (card.data.license, card.data.license_name, card.data.license_link) == (
        "other", "per-record", "LICENSE.md")
    assert card.data.task_categories == ["text-classification", "text-generation"]
    assert card.data.size_categories == ["n<1K"]
    infos = DatasetInfosDict.from_dataset_card_data(card.data)
    assert sorted(infos) == ["0.1.0", "0.2.0", "head"]
    assert infos["head"].splits["train"].num_examples == 5
    assert infos["0.2.0"].splits["train"].num_examples == 4


def test_the_card_is_titled_as_the_newest_release_is_cited(tmp_path: Path) -> None:
    """pretty_name and the heading are the corpus's own title (as its newest release
    snapshots it), never the placeholder; before any release, the placeholder."""
    from huggingface_hub import DatasetCard

    corpus = Corpus.init(tmp_path / "c", **{**IDENTITY, "title": "Speeches & Votes: #1"})
    corpus.add(make_speech(1))
    assert DatasetCard.load(corpus.path / "README.md").data.pretty_name == "policyspeech corpus"
    corpus.release()
    corpus.set_identity(title="A later title")  # applies from the next release
    corpus.add(make_speech(2))
    card = DatasetCard.load(corpus.path / "README.md")
    assert card.data.pretty_name == "Speeches & Votes: #1"
    assert "\n# Speeches &amp; Votes: #1\n" in card.content
    assert corpus.check().problems == []


def test_every_config_loads_with_plain_datasets_and_equals_ps_read(hub: Corpus,
                                                                   tmp_path: Path) -> None:
    folder = str(hub.path)
    assert datasets.get_dataset_config_names(folder) == ["0.2.0", "head", "0.1.0"]
    default = datasets.load_dataset(folder, split="train")
    assert _frame(default.data.table).equals(_frame(ps.read_arrow(hub.path, version="0.2.0")))
    for version in ("0.2.0", "head", "0.1.0"):
        loaded = datasets.load_dataset(folder, version, split="train")
        mine = ps.read(hub.path, version=version).sort("id")
        assert _frame(loaded.data.table).select(mine.columns).equals(mine), version
    assert datasets.load_dataset(folder, "0.1.0", split="train").num_rows == 4
    assert datasets.load_dataset(folder, "head", split="train").num_rows == 5


def test_dataset_info_has_the_sizes_that_datasets_computes(hub: Corpus, tmp_path: Path) -> None:
    """Every config's ``num_examples``, ``num_bytes``, ``download_size`` and
    ``dataset_size`` are what ``datasets`` reports, and what its Parquet builder computes
    for the same files without the card."""
    folder = hub.path
    infos = {info["config_name"]: info for info in _header(hub)["dataset_info"]}
    for name, info in infos.items():
        [split] = info["splits"]
        loaded = datasets.load_dataset(str(folder), name, split="train")
        plain = datasets.load_dataset("parquet", data_files=str(folder / config_glob(name)),
                                      split="train")
        for reported in (loaded.info, plain.info):
            assert reported.splits["train"].num_examples == split["num_examples"], name
            assert reported.splits["train"].num_bytes == split["num_bytes"], name
            assert reported.download_size == info["download_size"], name
            assert reported.dataset_size == info["dataset_size"], name
        files = list((folder / config_glob(name)).parent.glob("*.parquet"))
        assert info["download_size"] == sum(p.stat().st_size for p in files)
    assert infos["0.1.0"]["features"] == infos["head"]["features"]


def test_the_card_size_does_not_grow_with_the_fragments() -> None:
    """2,000 fragments and 20 releases make a card of the same size as 20 fragments do
    (listing every fragment made it 1.94 MB)."""
    def card(fragments: int) -> str:
        paths = [f"data/{n:064x}.parquet" for n in range(fragments)]
        state = HeadState(seq=5_000, entry_sha256="a" * 64, fragments={
            p: {"path": p, "sha256": p[5:69], "rows": 50, "bytes": 9_000} for p in paths})
        versions = [f"1.{n}.0" for n in range(20)]
        state.releases = {v: {"version": v, "manifest": f"releases/{v}.json", "sha256": "b" * 64,
                              "fragments": paths, "schema_version": state.schema_version,
                              "date": "2026-01-01", "records": 50 * fragments, "commit": 1}
                          for v in versions}
        sizes = ConfigFacts(50 * fragments, 123_456 * fragments, 9_000 * fragments)
        return render_card(state, None, CardFacts({v: sizes for v in [*versions, "head"]},
                                                  {"CC-BY-4.0"}, ["en"]))

    small, large = card(20), card(2_000)
    assert abs(len(large) - len(small)) < 400  # the numbers only
    assert len(large.split("\n---\n", 1)[0].encode()) < 40_000  # the YAML
    assert len(large.encode()) < 64_000


@pytest.mark.parametrize(("rows", "bucket"), [
    (0, "n<1K"), (999, "n<1K"), (1_000, "1K<n<10K"), (99_999, "10K<n<100K"),
    (10**6, "1M<n<10M"), (10**8, "100M<n<1B"), (10**12 - 1, "100B<n<1T"), (10**12, "n>1T")])
def test_size_buckets_reach_the_hubs_largest(rows: int, bucket: str) -> None:
    assert size_category(rows) == bucket


def test_the_size_buckets_are_the_hubs_list() -> None:
    listed = Path(datasets.__file__).parent / "utils" / "resources" / "size_categories.json"
    assert list(SIZE_CATEGORIES) == [c for c in json.loads(listed.read_text()) if c != "unknown"]


def test_licence_fields_follow_the_hubs_rules(tmp_path: Path) -> None:
    assert (hub_id("CC-BY-4.0"), hub_id("ODC-By-1.0"), hub_id("OGL-UK-3.0")) == (
        "cc-by-4.0", "odc-by", None)
    assert hub_license({"CC-BY-4.0"}) == {"license": "cc-by-4.0"}
    one = Corpus.init(tmp_path / "one", **IDENTITY)
    one.add_all([make_speech(n, **A) for n in range(3)])
    header = _header(one)
    assert header["license"] == "cc-by-4.0" and "license_name" not in header
    one.add(make_speech(9, **OGL))  # two licences: other, with the generated file
    assert {k: _header(one)[k] for k in ("license", "license_name", "license_link")} == {
        "license": "other", "license_name": "per-record", "license_link": "LICENSE.md"}
    ogl = Corpus.init(tmp_path / "ogl", **IDENTITY)
    ogl.add(make_speech(1, **OGL))
    assert (_header(ogl)["license"], _header(ogl)["license_name"]) == ("other", "ogl-uk-3.0")


def test_license_file_counts_each_licence_and_credits_each_source(hub: Corpus) -> None:
    text = (hub.path / "LICENSE.md").read_text(encoding="utf-8")
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert table == [
        "| licence | head | 0.2.0 (latest release) |",
        "| [CC-BY-4.0](https://spdx.org/licenses/CC-BY-4.0.html) | 2 | 2 |",
        "| [CC-BY-SA-4.0](https://spdx.org/licenses/CC-BY-SA-4.0.html) | 1 | 1 |",
        "| [CC0-1.0](https://spdx.org/licenses/CC0-1.0.html) | 1 | 1 |",
        "| none recorded | 1 | 0 |",
        "| source | address | licence | records, head | records, 0.2.0 (latest release) |",
        "| Parliament A | https://a.example/debates/ | CC-BY-4.0 | 2 | 2 |",
        "| B | https://b.example/x | CC-BY-SA-4.0 | 1 | 1 |"]
    assert "Earlier releases: 0.1.0: CC-BY-4.0, CC0-1.0, OGL-UK-3.0." in text
    assert credits(ps.read_arrow(hub.path, version="0.1.0")) == [
        "Parliament A, https://a.example/debates/, CC-BY-4.0: 2 records",
        "GOV.UK, https://www.gov.uk/s/1, OGL-UK-3.0: 1 record"]
    first = Corpus.init(hub.path.parent / "first", **IDENTITY)
    first.add(make_speech(1, **OGL))
    assert "Contains public sector information licensed under the Open Government Licence " \
           "v3.0." in (first.path / "LICENSE.md").read_text(encoding="utf-8")


def test_license_file_is_checked_and_repaired(hub: Corpus) -> None:
    path = hub.path / "LICENSE.md"
    good = path.read_bytes()
    path.write_bytes(good.replace(b"| 2 | 2 |", b"| 3 | 2 |", 1))
    result = run("--corpus", str(hub.path), "verify")
    assert result.exit_code == 1 and result.stderr == (
        f"error: {path}: differs from the licence file the log and the records generate (it "
        "was edited or damaged); `policyspeech verify --repair` rewrites it\n")
    assert run("--corpus", str(hub.path), "verify", "--repair").exit_code == 0
    assert path.read_bytes() == good and hub.verify() == []
    path.unlink()  # a corpus made before LICENSE.md: a warning, and repair writes it
    report = hub.check()
    assert report.ok and report.warnings == [
        f"{path}: missing (a corpus made before policyspeech wrote it); `policyspeech verify "
        "--repair` rewrites it"]
    hub.repair()
    assert path.read_bytes() == good


def test_without_a_datasheet_the_card_says_what_to_write(tmp_path: Path) -> None:
    corpus = Corpus.init(tmp_path / "c", **IDENTITY)
    (corpus.path / "DATASHEET.md").unlink()
    corpus.add(make_speech(1))
    card = (corpus.path / "README.md").read_text(encoding="utf-8")
    for section in datasheet.SECTIONS:
        assert f"### {section.title}\n\n*Not written yet.* What to write: " \
               f"{section.guidance}" in card
    assert "has no `DATASHEET.md` yet" in card and corpus.verify() == []


def test_init_writes_a_template_that_the_card_shows_as_guidance(corpus: Corpus) -> None:
    assert (corpus.path / "DATASHEET.md").read_text(encoding="utf-8") == datasheet.template()
    card = (corpus.path / "README.md").read_text(encoding="utf-8")
    assert card.count("*Not written yet.*") == len(datasheet.SECTIONS)
    assert "Gebru" not in card  # the template's comments stay out of the card


def test_datasheet_round_trip_and_verify_accepts_any_edit(corpus: Corpus) -> None:
    path = corpus.path / "DATASHEET.md"
    corpus.add(make_speech(1))
    path.write_text("# Datasheet\n\n## Uses\n\nTeaching *comparative politics*.\n\n"
                    "## Personal and sensitive information\n\nPublic office holders only.\n\n"
                    "## Funding\n\nNone.\n", encoding="utf-8")
    report = corpus.check()  # edited after the commit: the card lags, which is no error
    assert report.ok and report.warnings == [
        f"{corpus.path / 'README.md'}: its datasheet is not what {path} says now (it was "
        "edited since the last commit); `policyspeech verify --repair` rewrites it, as will "
        "the next commit"]
    corpus.add(make_speech(2))
    card = (corpus.path / "README.md").read_text(encoding="utf-8")
    assert "### Uses\n\nTeaching *comparative politics*.\n" in card
    assert "### Personal and sensitive information\n\nPublic office holders only.\n" in card
    assert "### Funding\n\nNone.\n" in card
    assert card.count("*Not written yet.*") == len(datasheet.SECTIONS) - 2
    assert corpus.check().warnings == [] and corpus.verify() == []
    edited = path.read_bytes()
    corpus.repair()
    assert path.read_bytes() == edited  # never written by policyspeech


def test_what_would_break_the_card_is_neutralised(corpus: Corpus) -> None:
    hostile = ("---\nlicense: mit\n---\n## Uses\nOne\n---\n<pre>\n" + datasheet.END +
               "\n## Limitations\n```\nlog entry 99 (SHA-256 `" + "a" * 64 + "`)\n"
               "two <!-- never closed\n")
    (corpus.path / "DATASHEET.md").write_text(hostile + "x" * (70 * 1024), encoding="utf-8")
    corpus.add(make_speech(1))
    text = (corpus.path / "README.md").read_text(encoding="utf-8")
    head, body = text.split("\n---\n", 1)
    assert yaml.safe_load(head[4:])["configs"][0]["config_name"] == "head"
    assert "license: mit" not in text and "\n---\n" not in body
    assert text.count(datasheet.END) == 1 and "log entry 99" not in text
    assert "&lt;pre>" in text and "two &lt;!-- never closed" in text
    assert "longer than the 64 KiB that the card shows" in text
    assert "## Fields\n" in text.split(datasheet.END, 1)[1]
    assert len(text.encode()) < 100_000 and corpus.verify() == []


def test_a_datasheet_that_is_a_link_is_not_followed(corpus: Corpus, tmp_path: Path) -> None:
    secret = tmp_path / "secret.md"
    secret.write_text("## Uses\n\nSECRET\n", encoding="utf-8")
    (corpus.path / "DATASHEET.md").unlink()
    (corpus.path / "DATASHEET.md").symlink_to(secret)
    corpus.add(make_speech(1))
    assert "SECRET" not in (corpus.path / "README.md").read_text(encoding="utf-8")


def test_init_writes_the_ignore_file_and_no_write_replaces_it(corpus: Corpus) -> None:
    path = corpus.path / ".gitignore"
    assert path.read_text(encoding="utf-8") == gitignore_text()
    path.write_text(gitignore_text() + "notes/\n", encoding="utf-8")
    corpus.add(make_speech(1))
    corpus.repair()
    assert path.read_text(encoding="utf-8").endswith("notes/\n")
    path.unlink()  # a corpus made before it: its next commit writes it
    corpus.add(make_speech(2))
    assert path.read_text(encoding="utf-8") == gitignore_text()


def test_an_upload_leaves_out_the_lock_the_staging_folder_caches_and_the_store(
        corpus: Corpus) -> None:
    """The patterns as ``HfApi.upload_folder(ignore_patterns=...)`` applies them."""
    from huggingface_hub.utils import filter_repo_objects

    files = [".lock", ".tmp/ps-1.tmp", "fragments/ab.parquet", ".cache/x", "a/__pycache__/m.pyc",
             ".DS_Store", "README.md", "LICENSE.md", "DATASHEET.md", ".gitignore",
             "data/ab.parquet", "releases/1.0.0/ab.parquet", "releases/1.0.0.json",
             "log/00000000.json"]
    kept = list(filter_repo_objects(files, ignore_patterns=UPLOAD_IGNORE))
    assert kept == ["README.md", "LICENSE.md", "DATASHEET.md", ".gitignore", "data/ab.parquet",
                    "releases/1.0.0/ab.parquet", "releases/1.0.0.json", "log/00000000.json"]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_ignores_the_lock_staging_and_caches_but_not_the_store(corpus: Corpus) -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull}
    subprocess.run(["git", "init", "-q", str(corpus.path)], check=True, env=env)
    names = [".lock", ".tmp/x.tmp", ".cache/y", "fragments/ab.parquet", "data/ab.parquet",
             "README.md"]
    found = subprocess.run(["git", "-C", str(corpus.path), "check-ignore", "--no-index", *names],
                           capture_output=True, text=True, env=env)
    assert found.stdout.split() == [".lock", ".tmp/x.tmp", ".cache/y"]


def test_a_refused_add_leaves_every_card_file_as_it_was(hub: Corpus) -> None:
    before = tree_digest(hub.path)
    with pytest.raises(ps.InvalidSpeechError):
        hub.add(make_speech(7, country="UK"))
    assert tree_digest(hub.path) == before


@pytest.mark.parametrize("groups", [[3, 3, 2], [2, 5, 1]])
def test_the_arrow_size_is_what_datasets_computes_for_any_row_groups(tmp_path: Path,
                                                                      groups: list[int]) -> None:
    """Nulls in some batches only, lists, dates; and a row group larger than the first,
    which ``datasets`` reads in several batches."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from policyspeech.cardfiles import parquet_facts

    rows = sum(groups)
    table = pa.table({"language": ["en" if n % 4 else None for n in range(rows)],
                      "themes": [["a", "b"][: n % 3] or None for n in range(rows)],
                      "text": ["é" * n for n in range(rows)],
                      "date": pa.array(list(range(rows)), pa.date32())})
    path = tmp_path / "x.parquet"
    with pq.ParquetWriter(path, table.schema) as writer:
        start = 0
        for size in groups:
            writer.write_table(table.slice(start, size))
            start += size
    assert [pq.ParquetFile(path).metadata.row_group(n).num_rows for n in range(3)] == groups
    plain = datasets.load_dataset("parquet", data_files=str(path), split="train")
    facts = parquet_facts(path.read_bytes())
    assert (facts.rows, facts.num_bytes) == (rows, plain.info.splits["train"].num_bytes)


def test_a_datasheet_section_changed_in_the_card_is_told_from_an_edited_datasheet(
        tmp_path: Path) -> None:
    """From the damage trials: a byte changed inside the card's datasheet section passed
    `verify` as a datasheet edit. The section is sealed with its SHA-256: editing
    DATASHEET.md is a warning until the next commit, changing the card is a problem."""
    corpus = Corpus.init(tmp_path / "c", **IDENTITY)
    corpus.add(make_speech(1))
    (corpus.path / "DATASHEET.md").write_text("## Uses\n\nTeaching and research.\n")
    edited = run("--corpus", str(corpus.path), "verify")
    assert edited.exit_code == 0 and "its datasheet is not what" in edited.stderr
    assert run("--corpus", str(corpus.path), "verify", "--repair").exit_code == 0
    card = corpus.path / "README.md"
    text = card.read_text(encoding="utf-8")
    assert "Teaching and research." in text
    card.write_text(text.replace("Teaching and research.", "Teaching and rescarch."))
    damaged = run("--corpus", str(corpus.path), "verify")
    assert damaged.exit_code == 1
    assert "its datasheet section was changed after it was written" in damaged.stderr


@pytest.mark.parametrize("name", ["README.md", "LICENSE.md"])
def test_a_line_feed_changed_to_a_carriage_return_is_damage(tmp_path: Path, name: str) -> None:
    """From the damage trials: the card and LICENSE.md were read with newline translation,
    so a byte that turned a line feed into a carriage return passed `verify`."""
    corpus = Corpus.init(tmp_path / "c", **IDENTITY)
    corpus.add(make_speech(1))
    path = corpus.path / name
    data = path.read_bytes()
    at = data.index(b"\n", len(data) // 2)
    path.write_bytes(data[:at] + b"\r" + data[at + 1:])
    result = run("--corpus", str(corpus.path), "verify")
    assert result.exit_code == 1 and str(path) in result.stderr
