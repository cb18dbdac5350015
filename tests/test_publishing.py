"""Ready to deposit and to publish (issue 13, part 5): `bundle` writes a valid BagIt bag of
a release; `publish --hub` plans (and with a stand-in client, sends) exactly its files."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import bagit
import polars as pl
import pytest

import policyspeech as ps
from policyspeech.hub import plan_hub_upload, publish_to_hub
from policyspeech.store import Corpus
from tests.helpers import make_speech, run, tree_digest


@pytest.fixture
def released(corpus: Corpus) -> Corpus:
    """Two releases, an amendment and a retraction between them, and an unreleased add."""
    ids = corpus.add_all([make_speech(n) for n in range(3)])
    _release(corpus, "minor", "first")
    corpus.amend(ids[0], {"title": "Amended"}, reason="typo")
    corpus.retract(ids[1], reason="duplicate")
    _release(corpus, "patch", "corrections")
    corpus.add(make_speech(9))
    return corpus


def _release(corpus: Corpus, bump: str, notes: str) -> None:
    result = run("--corpus", str(corpus.path), "release", bump, "-m", notes)
    assert result.exit_code == 0, result.stderr


def test_bundle_is_a_valid_bag_of_exactly_the_release(released: Corpus,
                                                      tmp_path: Path) -> None:
    out = tmp_path / "bag"
    before = tree_digest(released.path)
    result = run("--corpus", str(released.path), "bundle", "0.1.0", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"wrote release 0.1.0 to the bag {out} (")
    bag = bagit.Bag(str(out))
    bag.validate()  # every checksum, Payload-Oxum, the tag manifests
    assert set(bag.algorithms) == {"sha256", "sha512"}
    assert bag.info["Corpus-Version"] == "0.1.0"
    manifest = released.manifest("0.1.0")
    assert bag.info["Corpus-Fingerprint"] == f"sha256:{manifest['fingerprint']}"
    data = pl.read_parquet(out / "data" / "releases" / "0.1.0" / "*.parquet")
    assert data.sort("id").equals(ps.read(released.path, version="0.1.0").sort("id"))
    names = {p.relative_to(out / "data").as_posix() for p in (out / "data").rglob("*")
             if p.is_file()}
    assert {"CITATION.cff", "CHANGELOG.md", "croissant.json", "releases/0.1.0.json"} <= names
    assert "version: 0.1.0" in (out / "data" / "CITATION.cff").read_text()
    assert "0.1.1" not in (out / "data" / "CHANGELOG.md").read_text()
    assert tree_digest(released.path) == before  # the corpus is only read


def test_bundle_refuses_what_it_cannot_do(released: Corpus, tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "mine.txt").write_text("keep")
    cases = [
        (["bundle", "head", str(tmp_path / "a")], "error: bundle takes a release, not the head: "
         "release it first (`policyspeech release`) and bundle that version\n"),
        (["bundle", "7.0.0", str(tmp_path / "a")], None),
        (["bundle", "0.1.0", str(taken)], f"error: cannot bundle into '{taken}': it exists "
         "and is not an empty folder; give a new folder's name\n"),
    ]
    for args, message in cases:
        result = run("--corpus", str(released.path), *args)
        assert result.exit_code == 1
        assert message is None or result.stderr == message, result.stderr
        assert "7.0.0" not in args or "7.0.0" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus", "taken"]


def test_bundle_of_a_damaged_release_is_refused_and_leaves_nothing(released: Corpus,
                                                                   tmp_path: Path) -> None:
    [fragment] = released.fragment_paths("0.1.0")
    fragment.chmod(0o644)
    data = bytearray(fragment.read_bytes())
    data[100] ^= 0xFF
    fragment.write_bytes(bytes(data))
    result = run("--corpus", str(released.path), "bundle", "0.1.0", str(tmp_path / "bag"))
    assert result.exit_code == 1 and result.stderr.startswith("error: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus"]


def test_the_plan_lists_exactly_the_release_and_its_predecessors(released: Corpus) -> None:
    plan = plan_hub_upload(released.path, "lab/speeches", "0.1.1")
    paths = [u.path for u in plan.files]
    assert plan.tag == "v0.1.1"
    parquet = {p for p in paths if p.endswith(".parquet")}
    expected = {f"releases/{v}/{p.name}" for v in ("0.1.0", "0.1.1")
                for p in released.fragment_paths(v)}
    assert parquet == expected
    assert {"releases/0.1.0.json", "releases/0.1.1.json", "CITATION.cff"} <= set(paths)
    assert not [p for p in paths if p.startswith(("log/", "data/", "fragments/", ".")) ]
    for upload in plan.files:  # each size and hash is of the bytes sent
        data = upload.source.read_bytes() if isinstance(upload.source, Path) else upload.source
        assert (upload.size, upload.sha256) == (len(data), hashlib.sha256(data).hexdigest())


def test_dry_run_prints_the_plan_and_sends_nothing(released: Corpus,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "HfApi", _refuse)
    result = run("--corpus", str(released.path), "publish", "--hub", "lab/speeches",
                 "--version", "0.1.0", "--dry-run")
    assert result.exit_code == 0, result.stderr
    plan = plan_hub_upload(released.path, "lab/speeches", "0.1.0")
    assert result.stdout == plan.describe() + "\n"
    assert result.stdout.startswith("would upload to https://huggingface.co/datasets/"
                                    "lab/speeches (one commit, \"policyspeech release 0.1.0\", "
                                    "tagged v0.1.0):\n")
    for upload in plan.files:
        assert f"  {upload.path}  {upload.size:,} bytes  sha256:{upload.sha256}" in result.stdout


class Recorder:
    """A stand-in for ``huggingface_hub.HfApi`` that records each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any, dict[str, Any]]] = []

    def create_repo(self, repo_id: str, **options: Any) -> None:
        self.calls.append(("create_repo", repo_id, options))

    def create_commit(self, repo_id: str, operations: list[Any], **options: Any) -> Any:
        self.calls.append(("create_commit", repo_id, {"operations": operations, **options}))
        return type("Commit", (), {"oid": "abc123", "commit_url": "https://hub/commit/abc123"})

    def create_tag(self, repo_id: str, **options: Any) -> None:
        self.calls.append(("create_tag", repo_id, options))


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the dry run must not make a Hub client")


def test_publish_sends_the_plan_as_one_commit_and_a_tag(released: Corpus,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub

    recorder = Recorder()
    monkeypatch.setattr(huggingface_hub, "HfApi", lambda: recorder)
    result = run("--corpus", str(released.path), "publish", "--hub", "lab/speeches")
    assert result.exit_code == 0, result.stderr
    plan = plan_hub_upload(released.path, "lab/speeches", "latest")
    assert result.stdout == (f"published release 0.1.1 to lab/speeches ({len(plan.files)} "
                             "files), tagged v0.1.1: https://hub/commit/abc123\n")
    names = [call[0] for call in recorder.calls]
    assert names == ["create_repo", "create_commit", "create_tag"]
    commit = recorder.calls[1][2]
    assert commit["repo_type"] == "dataset"
    assert commit["commit_message"] == "policyspeech release 0.1.1"
    sent = {op.path_in_repo: op for op in commit["operations"]}
    assert sorted(sent) == sorted(u.path for u in plan.files)
    for upload in plan.files:
        op = sent[upload.path]
        assert op.upload_info.sha256.hex() == upload.sha256 and op.upload_info.size == upload.size
    assert recorder.calls[2][2] == {"tag": "v0.1.1", "revision": "abc123", "repo_type": "dataset"}


def test_a_failed_upload_is_one_line(released: Corpus) -> None:
    class Offline(Recorder):
        def create_repo(self, repo_id: str, **options: Any) -> None:
            raise ConnectionError("Failed to resolve 'huggingface.co'\nmore detail")

    plan = plan_hub_upload(released.path, "lab/speeches")
    with pytest.raises(ps.CorpusError) as caught:
        publish_to_hub(plan, Offline())
    assert str(caught.value) == (
        "the upload to the Hub (lab/speeches) failed: Failed to resolve 'huggingface.co'; "
        "check the network and your token (`huggingface-cli login` or HF_TOKEN), then run the "
        "command again (files already sent are stored once)")


@pytest.mark.parametrize("repo", ["speeches", "a/b/c", "lab//x", "-lab/x", "lab/x--y", "lab/ x"])
def test_a_repository_id_the_hub_refuses_is_refused(released: Corpus, repo: str) -> None:
    result = run("--corpus", str(released.path), "publish", "--hub", repo, "--dry-run")
    assert result.exit_code == 1
    assert result.stderr == (f"error: '{repo}' is not a Hub repository id; give it as "
                             "OWNER/NAME, e.g. --hub my-lab/policy-speeches\n")


def test_the_published_repository_loads_every_release_with_plain_datasets(
        released: Corpus, tmp_path: Path) -> None:
    """The files of the plan, laid out as the Hub repository would hold them: its card
    has the release (the default) and the earlier one as configs, no head, and each config
    loads with plain `datasets` as `ps.read` reads that version."""
    import datasets
    from huggingface_hub import DatasetCard

    plan = plan_hub_upload(released.path, "lab/speeches", "0.1.1")
    repo = tmp_path / "repo"
    for upload in plan.files:
        (repo / upload.path).parent.mkdir(parents=True, exist_ok=True)
        data = upload.source.read_bytes() if isinstance(upload.source, Path) else upload.source
        (repo / upload.path).write_bytes(data)
    card = DatasetCard.load(repo / "README.md")
    configs = card.data.to_dict()["configs"]
    assert [c["config_name"] for c in configs] == ["0.1.1", "0.1.0"]
    assert configs[0].get("default") is True
    assert "- head: " not in card.text and "head" not in [c["config_name"] for c in configs]
    for version in ("0.1.1", "0.1.0"):
        loaded = datasets.load_dataset(str(repo), version, split="train").to_polars()
        expected = ps.read(released.path, version=version)
        assert sorted(loaded["id"].to_list()) == sorted(expected["id"].to_list())
