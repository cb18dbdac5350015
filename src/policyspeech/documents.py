"""The shapes of the JSON documents a corpus stores: log entries, the fragment and
release records inside them, and release manifests.

They are :class:`typing.TypedDict` s: plain dicts as :func:`json.loads` returns them, so
that reading a document costs nothing beyond parsing, while the type checker knows every
key. Keys that only some entries have are optional (``NotRequired``).

>>> info: FragmentInfo = {"path": "data/ab.parquet", "sha256": "ab", "rows": 1, "bytes": 9}
>>> info["rows"]
1
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class FragmentInfo(TypedDict):
    """A Parquet fragment as the log records it: its path (named by its SHA-256), rows,
    bytes, and the languages and licences of its records."""

    path: str
    sha256: str
    rows: int
    bytes: int
    languages: NotRequired[list[str]]
    licenses: NotRequired[list[str]]


class ReleaseRecord(TypedDict):
    """A release as its log entry records it (the manifest holds the rest)."""

    version: str
    manifest: str
    """The manifest's path in the corpus."""
    sha256: str
    """The SHA-256 of the manifest's bytes."""
    fragments: list[str]
    schema_version: str
    date: str
    records: int
    commit: int
    """The number of the entry whose head was released."""


class DoiRecord(TypedDict):
    """A DOI as a ``doi`` entry records it: a release's, or (``version`` null) the concept
    DOI of every version; ``replaces`` the DOI it supersedes, if any."""

    version: str | None
    doi: str
    replaces: NotRequired[str]


class Amendment(TypedDict):
    """One record's correction in a bulk ``amend`` entry."""

    id: str
    fields: list[str]
    reason: str


class Entry(TypedDict):
    """A log entry: ``log/NNNNNNNN.json``."""

    format: int
    seq: int
    parent: str | None
    """The SHA-256 of the previous entry's bytes (None for entry 0)."""
    time: str
    operation: str
    """init, add, amend, retract, compact, release, upgrade, doi or gc."""
    message: str
    schema_version: str
    added: list[FragmentInfo]
    removed: list[FragmentInfo]
    ids: list[str]
    """Records added (or written again, amended), with their text hashes and speech keys."""
    text_sha256: list[str]
    keys: NotRequired[list[str]]
    removed_ids: NotRequired[list[str]]
    removed_keys: NotRequired[list[str | None]]
    reason: NotRequired[str]
    fields: NotRequired[list[str]]
    amendments: NotRequired[list[Amendment]]
    release: NotRequired[ReleaseRecord]
    doi: NotRequired[DoiRecord]
    collected: NotRequired[list[str]]
    """``gc``: the fragments (paths as entries name them) removed from the store."""


class ManifestCommit(TypedDict):
    seq: int
    sha256: str | None


class Manifest(TypedDict):
    """A release manifest: ``releases/X.Y.Z.json`` (or ``X.Y.Z-<hash>.json`` when that
    name was taken; the release entry names the path)."""

    format: int
    version: str
    date: str
    bump: str
    notes: str
    commit: ManifestCommit
    schema_version: str
    records: int
    fingerprint: str
    fingerprint_method: int
    fragments: list[FragmentInfo]
    changes: dict[str, Any]
    """Records added, retracted and amended since the previous release."""
    citation: dict[str, Any]
