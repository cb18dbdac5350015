"""Publishing a release to the Hugging Face Hub: a plan first, then one commit and a tag.

:func:`plan_hub_upload` lists exactly what would be sent for release ``V`` (each file's
path in the repository, size and SHA-256): the Parquet files of ``V`` and of every earlier
release (each in ``releases/VERSION/``, so that every config of the card loads; the Hub
stores a file already there only once), their manifests, and the card, citation,
changelog and Croissant made for ``V``. Never the head, the log, the store of fragments,
the lock or the staging folder. :func:`publish_to_hub` sends the plan as one commit with
``huggingface_hub`` and tags it ``vV``.

Examples
--------
>>> plan = plan_hub_upload(None, "someone/policy-speeches", "1.0.0")
>>> plan.tag, sorted(upload.path for upload in plan.files)[:2]
('v1.0.0', ['CHANGELOG.md', 'CITATION.cff'])
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policyspeech.deposit import release_payload
from policyspeech.errors import CorpusError
from policyspeech.reader import Reader

REPO_TYPE = "dataset"
_PART = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?"
_REPO_ID = re.compile(f"{_PART}/{_PART}")
"""The Hub's rule for ``owner/name``: letters, digits, ``.``, ``_``, ``-``, at most 96
characters each, starting and ending with a letter or digit, no ``--`` or ``..``."""


@dataclass(frozen=True)
class Upload:
    """One file of the plan: its path in the repository, where its bytes come from."""

    path: str
    source: Path | bytes
    size: int
    sha256: str


@dataclass(frozen=True)
class HubPlan:
    """What :func:`publish_to_hub` sends: one commit of ``files`` to ``repo_id``, tagged."""

    repo_id: str
    version: str
    files: tuple[Upload, ...]

    @property
    def tag(self) -> str:
        return f"v{self.version}"

    @property
    def message(self) -> str:
        return f"policyspeech release {self.version}"

    def describe(self) -> str:
        """The plan as ``--dry-run`` prints it: one line per file, then the totals."""
        lines = [f"would upload to https://huggingface.co/datasets/{self.repo_id} "
                 f"(one commit, \"{self.message}\", tagged {self.tag}):"]
        lines += [f"  {u.path}  {u.size:,} bytes  sha256:{u.sha256}" for u in self.files]
        total = sum(u.size for u in self.files)
        lines.append(f"{len(self.files)} files, {total:,} bytes")
        return "\n".join(lines)


def check_repo_id(repo_id: str) -> str:
    """``repo_id`` when it names a Hub repository (``owner/name``).

    >>> check_repo_id("a b")
    Traceback (most recent call last):
    ...
    policyspeech.errors.CorpusError: 'a b' is not a Hub repository id; give it as OWNER/NAME, e.g. --hub my-lab/policy-speeches
    """
    valid = _REPO_ID.fullmatch(repo_id) and "--" not in repo_id and ".." not in repo_id
    if not valid:
        raise CorpusError(f"'{repo_id}' is not a Hub repository id; give it as OWNER/NAME, e.g. "
                          "--hub my-lab/policy-speeches")
    return repo_id


def plan_hub_upload(corpus: str | os.PathLike[str] | None, repo_id: str,
                    version: str = "latest") -> HubPlan:
    """The exact upload of release ``version`` to ``repo_id``, after checking every file of
    the releases it sends against the log."""
    from policyspeech.layout import RELEASES
    from policyspeech.releases import parse_version
    from policyspeech.scanning import version_files

    check_repo_id(repo_id)
    reader = Reader(corpus)
    version = reader.resolve_version(version)
    if version == "head":
        raise CorpusError("publish takes a release, not the head: release it first "
                          "(`policyspeech release`) and publish that version")
    files: dict[str, Path | bytes] = {}
    for earlier in sorted(reader.head().releases, key=parse_version):
        if parse_version(earlier) < parse_version(version):
            version_files(reader.path, earlier, True)
            files.update((name, source) for name, source in
                         release_payload(reader, earlier).items()
                         if name.startswith(f"{RELEASES}/"))  # its data and manifest
    version_files(reader.path, version, True)
    files.update(release_payload(reader, version))
    return HubPlan(repo_id, version, tuple(_upload(name, source)
                                           for name, source in sorted(files.items())))


def _upload(path: str, source: Path | bytes) -> Upload:
    data = source.read_bytes() if isinstance(source, Path) else source
    return Upload(path, source, len(data), hashlib.sha256(data).hexdigest())


def publish_to_hub(plan: HubPlan, client: Any | None = None) -> str:
    """Send ``plan``: create the dataset repository if needed, upload its files in one
    commit, tag it; return the commit's URL. ``client`` stands in for
    ``huggingface_hub.HfApi()`` (which reads the token of ``huggingface-cli login`` or
    ``HF_TOKEN``)."""
    from huggingface_hub import CommitOperationAdd, HfApi

    api = client if client is not None else HfApi()
    operations = [CommitOperationAdd(path_in_repo=u.path, path_or_fileobj=(
        str(u.source) if isinstance(u.source, Path) else u.source)) for u in plan.files]
    try:
        api.create_repo(plan.repo_id, repo_type=REPO_TYPE, exist_ok=True)
        commit = api.create_commit(plan.repo_id, operations, commit_message=plan.message,
                                   repo_type=REPO_TYPE)
        api.create_tag(plan.repo_id, tag=plan.tag, revision=commit.oid, repo_type=REPO_TYPE)
    except CorpusError:
        raise
    except Exception as exc:  # network, authentication, the Hub's refusals
        raise CorpusError(
            f"the upload to the Hub ({plan.repo_id}) failed: {_first_line(exc)}; check the "
            "network and your token (`huggingface-cli login` or HF_TOKEN), then run the "
            "command again (files already sent are stored once)") from None
    return str(getattr(commit, "commit_url", commit))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
