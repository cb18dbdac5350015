"""The commit log: numbered, write-once JSON entries that chain by hash, and the head state.

Entry ``log/00000/00000012.json`` names its parent by the SHA-256 of the bytes of
``log/00000/00000011.json``; entry 0 (written by ``init``) has no parent. Entries are kept
a thousand to a subfolder; a corpus written before subfolders has them flat in ``log/``,
which readers accept (:func:`policyspeech.layout.find_entry`) until a writer migrates them. The head is the state
after the last entry: which fragments hold the records, which ids were ever used, and
the identity key of every record present (and of every retracted one), for the
duplicate check (:mod:`policyspeech.identity`). Entries written before keys existed list
ids and text hashes only; a writer fills in the keys of such records from the fragments
(:attr:`HeadState.keyless`). :class:`HeadState` is built by folding the entries and
kept up to date by reading only the entries that appeared since.

Examples
--------
>>> entry = new_entry(HeadState(), operation="init", message="new corpus")
>>> state = HeadState()
>>> state.apply(entry, entry_sha256(entry))
>>> state.seq, state.rows, state.fragments
(0, 0, {})
"""

from __future__ import annotations

import datetime
import errno
import hashlib
import json
import os
import re
from collections.abc import MutableMapping, MutableSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from policyspeech.documents import DoiRecord, Entry, FragmentInfo, ReleaseRecord
from policyspeech.errors import IntegrityError, NotACorpusError
from policyspeech.layout import (
    CARD,
    entry_exists,
    entry_folder,
    entry_name,
    entry_path,
    find_entry,
    legacy_entry_path,
)
from policyspeech.schema import SCHEMA_VERSION

LOG_FORMAT = 1
_NO_KEY = "-" * 32
"""Stands for an unknown key in a snapshot's key string (keys are 32 hex digits)."""
CHANGE_OPERATIONS = ("add", "amend", "retract")
"""Operations that change records (``init``, ``compact``, ``release``, ``upgrade`` and
``gc`` do not; a ``gc`` entry lists in ``collected`` the fragments it removed from the
store, which no version referenced)."""


def encode_entry(entry: Entry) -> bytes:
    """Serialise an entry exactly as it is written (and hashed)."""
    return (json.dumps(entry, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


def entry_sha256(entry: Entry) -> str:
    """SHA-256 of the bytes of an entry as written."""
    return hashlib.sha256(encode_entry(entry)).hexdigest()


def new_entry(
    state: HeadState,
    *,
    operation: str,
    message: str,
    added: list[FragmentInfo] | None = None,
    removed: list[FragmentInfo] | None = None,
    ids: list[str] | None = None,
    text_sha256: list[str] | None = None,
    **extra: Any,
) -> Entry:
    """The next entry after ``state``: the parent hash chains it to the head."""
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    return cast(Entry, {
        "format": LOG_FORMAT,
        "seq": state.seq + 1,
        "parent": state.entry_sha256,
        "time": now.isoformat().replace("+00:00", "Z"),
        "operation": operation,
        "message": message,
        "schema_version": SCHEMA_VERSION,
        "added": added or [],
        "removed": removed or [],
        "ids": ids or [],
        "text_sha256": text_sha256 or [],
        **extra,
    })


@dataclass
class HeadState:
    """The corpus after a given log entry.

    The id, key and hash maps and ``ids_ever`` are dictionaries and a set; in a state read
    from a writer's cached index they are mappings and a set that behave the same and look
    keys up in the index file (:mod:`policyspeech.headindex`).
    """

    seq: int = -1
    entry_sha256: str | None = None
    schema_version: str = SCHEMA_VERSION
    fragments: dict[str, FragmentInfo] = field(default_factory=dict)
    ids_ever: MutableSet[str] = field(default_factory=set)
    hash_by_id: MutableMapping[str, str] = field(default_factory=dict)
    """Text hash of every record in the head, by id."""
    key_by_id: MutableMapping[str, str] = field(default_factory=dict)
    id_by_key: MutableMapping[str, str] = field(default_factory=dict)
    """Speech key of every record in the head, and the record of each key."""
    retracted: MutableMapping[str, list[str]] = field(default_factory=dict)
    """``[id, reason]`` of every retracted record, by its speech key."""
    former: MutableMapping[str, str] = field(default_factory=dict)
    """The id of every amended record, by the speech key it had before the amendment (a
    source imported again still has the speech as it was)."""
    keyless: set[str] = field(default_factory=set)
    """Records in the head whose key the log does not record (entries made before keys)."""
    releases: dict[str, ReleaseRecord] = field(default_factory=dict)
    released_fragments: set[str] = field(default_factory=set)
    fragments_ever: set[str] = field(default_factory=set)
    """Every fragment any entry added (superseded ones stay on disk for the releases)."""
    pending: list[dict[str, Any]] = field(default_factory=list)
    """Record changes (add, amend, retract) since the newest release, oldest first."""
    dois: dict[str, str] = field(default_factory=dict)
    """The DOI of each release that has one (``doi`` entries), by version."""
    concept_doi: str | None = None
    """The DOI of every version of the corpus (the concept DOI), once a ``doi`` entry gave it."""
    light: bool = False
    """A reader's state: fragments and releases only, without the id and hash indexes
    and the pending changes (which writers need, and which cost time to build)."""

    @property
    def rows(self) -> int:
        """Number of records in the head."""
        return sum(info["rows"] for info in self.fragments.values())

    def apply(self, entry: Entry, sha256: str) -> None:
        """Advance the state by one entry."""
        for info in entry.get("removed", []):
            self.fragments.pop(info["path"], None)
        for info in entry.get("added", []):
            self.fragments[info["path"]] = info
            self.fragments_ever.add(info["path"])
        operation = entry.get("operation")
        if operation == "doi":
            self._apply_doi(entry["doi"])
        if self.light:
            if operation == "release":
                self._apply_release(entry["release"])
            self.seq, self.entry_sha256 = entry["seq"], sha256
            self.schema_version = entry.get("schema_version", self.schema_version)
            return
        removed_keys = entry.get("removed_keys") or []
        for n, record_id in enumerate(entry.get("removed_ids", [])):
            self.hash_by_id.pop(record_id)
            self.keyless.discard(record_id)
            key = self.key_by_id.pop(record_id, None) or (
                removed_keys[n] if n < len(removed_keys) else None)
            if key is not None:
                self.id_by_key.pop(key, None)
                if operation == "retract":
                    self.retracted[key] = [record_id, str(entry.get("reason") or "")]
                else:
                    self.former[key] = record_id
        ids, keys = entry.get("ids", []), entry.get("keys")
        for n, (record_id, digest) in enumerate(zip(ids, entry.get("text_sha256", []),
                                                    strict=True)):
            self.ids_ever.add(record_id)
            self.hash_by_id[record_id] = digest
            if keys is None:
                self.keyless.add(record_id)
            else:
                self.key_by_id[record_id] = keys[n]
                self.id_by_key[keys[n]] = record_id
        if keys is not None and len(keys) != len(ids):
            raise ValueError(f"{len(keys)} keys for {len(ids)} ids")
        if operation == "release":
            self._apply_release(entry["release"])
            self.pending = []
        elif operation in CHANGE_OPERATIONS and entry.get("amendments"):
            self.pending.extend({"operation": operation, "seq": entry["seq"], "ids": [a["id"]],
                                 "fields": a["fields"], "reason": a["reason"]}
                                for a in entry["amendments"])
        elif operation in CHANGE_OPERATIONS:
            self.pending.append({
                "operation": operation,
                "seq": entry["seq"],
                "ids": entry.get("ids") or entry.get("removed_ids", []),
                "fields": entry.get("fields", []),
                "reason": entry.get("reason"),
            })
        self.seq = entry["seq"]
        self.entry_sha256 = sha256
        self.schema_version = entry.get("schema_version", self.schema_version)


    def _apply_doi(self, record: DoiRecord) -> None:
        """Record a DOI: a release's (which must be one of the head's releases), or the
        concept DOI (``version`` null)."""
        version, doi = record["version"], record["doi"]
        if not isinstance(doi, str) or not doi.startswith("10."):
            raise ValueError(f"{doi!r} is not a DOI")
        if version is None:
            self.concept_doi = doi
        elif version in self.releases:
            self.dois[version] = doi
        else:
            raise ValueError(f"a DOI for release {version!r}, which the log does not have")

    def _apply_release(self, release: ReleaseRecord) -> None:
        self.releases[release["version"]] = release
        self.released_fragments.update(release["fragments"])

    def to_json(self) -> dict[str, Any]:
        """The state as JSON (see :mod:`policyspeech.snapshot`); the ids and hashes of a
        full state as long strings, which JSON reads far faster than lists."""
        data: dict[str, Any] = {
            "seq": self.seq, "entry_sha256": self.entry_sha256,
            "schema_version": self.schema_version, "fragments": self.fragments,
            "releases": self.releases, "released_fragments": sorted(self.released_fragments),
            "fragments_ever": sorted(self.fragments_ever), "light": self.light,
            "dois": self.dois, "concept_doi": self.concept_doi}
        if not self.light:
            data.update(ids="\n".join(self.hash_by_id),
                        hashes="".join(self.hash_by_id.values()),
                        keys="".join(self.key_by_id.get(i, _NO_KEY) for i in self.hash_by_id),
                        retracted=self.retracted, former=self.former,
                        retired="\n".join(i for i in self.ids_ever if i not in self.hash_by_id),
                        pending=[{**c, "ids": "\n".join(c["ids"])} for c in self.pending])
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HeadState:
        """The state that :meth:`to_json` wrote."""
        state = cls(seq=data["seq"], entry_sha256=data["entry_sha256"],
                    schema_version=data["schema_version"], fragments=data["fragments"],
                    releases=data["releases"], released_fragments=set(data["released_fragments"]),
                    fragments_ever=set(data["fragments_ever"]), light=data.get("light", True),
                    dois=data["dois"], concept_doi=data["concept_doi"])  # none: an old cache
        if not state.light:
            ids = data["ids"].split("\n") if data["ids"] else []
            hashes = data["hashes"]
            state.hash_by_id = {i: hashes[64 * n:64 * n + 64] for n, i in enumerate(ids)}
            keys, width = data["keys"], len(_NO_KEY)
            for n, record_id in enumerate(ids):
                key = keys[width * n:width * n + width]
                if key == _NO_KEY:
                    state.keyless.add(record_id)
                else:
                    state.key_by_id[record_id] = key
            state.id_by_key = {k: i for i, k in state.key_by_id.items()}
            state.retracted = data["retracted"]
            state.former = data["former"]
            ever = set(ids)
            if data["retired"]:
                ever.update(data["retired"].split("\n"))
            state.ids_ever = ever
            state.pending = [{**c, "ids": c["ids"].split("\n") if c["ids"] else []}
                             for c in data["pending"]]
        return state


def _open_entry(path: Path) -> int | None:
    """A descriptor of the entry file ``path`` (never a link followed), or None."""
    try:
        return os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise IntegrityError(f"{path} is a symbolic link; log entries must be files") from None
        raise


def read_entry(corpus: Path, seq: int) -> tuple[Entry, str] | None:
    """Read log entry ``seq`` (in its subfolder, else flat: a corpus not yet migrated) and
    its hash, or None when it does not exist (yet)."""
    path = entry_path(corpus, seq)
    fd = _open_entry(path)
    if fd is None:
        path = legacy_entry_path(corpus, seq)
        fd = _open_entry(path)
        if fd is None:
            return None
    with os.fdopen(fd, "rb") as handle:
        data = handle.read()
    try:
        entry = json.loads(data)
    except ValueError:
        raise IntegrityError(
            f"{path} is not valid JSON; the log is damaged (run `policyspeech verify`)"
        ) from None
    return entry, hashlib.sha256(data).hexdigest()


def advance(corpus: Path, state: HeadState, until: int | None = None) -> HeadState:
    """Apply every entry published after ``state`` (up to entry ``until``) and return it."""
    while (until is None or state.seq < until) and (
            found := read_entry(corpus, state.seq + 1)) is not None:
        entry, digest = found
        path = find_entry(corpus, state.seq + 1)
        if entry.get("seq") != state.seq + 1 or entry.get("parent") != state.entry_sha256:
            raise IntegrityError(
                f"{path} does not chain to {entry_name(state.seq)} "
                "(parent hash or number differs); "
                "the log was edited or damaged (run `policyspeech verify`)"
            )
        _check_schema_version(path, entry.get("schema_version", SCHEMA_VERSION))
        try:
            state.apply(entry, digest)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise IntegrityError(
                f"{path} is malformed ({type(exc).__name__}: {exc}); the log was edited or "
                "damaged (run `policyspeech verify`)"
            ) from None
    if state.seq < 0:
        raise NotACorpusError(
            f"'{corpus}' is not a policyspeech corpus (no {entry_folder(0)}/{entry_name(0)}); "
            "create one with `policyspeech init DIR`"
        )
    return state


def _check_schema_version(path: Path, version: str) -> None:
    if int(str(version).split(".")[0]) > int(SCHEMA_VERSION.split(".")[0]):
        raise NotACorpusError(
            f"{path} uses schema {version}, newer than this policyspeech ({SCHEMA_VERSION}); "
            "upgrade policyspeech (pip install -U policyspeech)"
        )


_RECORDED_HEAD = re.compile(rb"log entry (\d+) \(SHA-256 `([0-9a-f]{64})`\)")


def recorded_head(card: bytes) -> tuple[int, str] | None:
    """The newest entry's number and hash as the dataset card records them, if it does.

    >>> recorded_head(b"- head: 1 records, log entry 7 (SHA-256 `" + b"a" * 64 + b"`)")
    (7, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')
    """
    match = _RECORDED_HEAD.search(card)
    return (int(match.group(1)), match.group(2).decode()) if match else None


def read_recorded_head(corpus: Path) -> tuple[int, str] | None:
    """What the card of ``corpus`` records of the newest entry (None: no card, or none
    recorded)."""
    try:
        fd = os.open(corpus / CARD, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        return recorded_head(handle.read())


def tail_problem(corpus: Path, state: HeadState, recorded: tuple[int, str] | None, *,
                 writing: bool = False) -> str | None:
    """Why the head ``state`` (the log folded up to its first missing entry) cannot be
    trusted (naming the entry), or None. ``recorded``: the card's record of the newest entry
    (:func:`read_recorded_head`). Readers check that no entry follows a missing one and
    that the log reaches the entry the card records; a writer (``writing``), which
    chains onto the head, also checks that the entry the card records has the recorded
    hash. Entries are published in order and the card after them, so a later entry or
    card seen here means a missing entry, unless a writer published meanwhile: the
    caller advances again when :data:`MOVED` is returned."""
    after = find_entry(corpus, state.seq + 1)
    if entry_exists(corpus, state.seq + 2):
        if entry_exists(corpus, state.seq + 1):
            return MOVED
        return (f"{after} is missing: entry {state.seq + 2} and perhaps more follow it; the "
                "log was damaged")
    if recorded is None:
        return None
    seq, digest = recorded
    if seq > state.seq:
        if entry_exists(corpus, state.seq + 1):
            return MOVED
        return (f"the dataset card records log entry {seq}, but the log ends at entry "
                f"{state.seq}: {after} is missing (deleted or lost), "
                "so this is an older state")
    if not writing:
        return None
    if seq == state.seq:
        actual = state.entry_sha256
    else:
        found = read_entry(corpus, seq)
        actual = found[1] if found is not None else None
    if actual != digest:
        return (f"{find_entry(corpus, seq)}: its SHA-256 differs from the one the dataset card "
                "recorded when it was published; the log entry was changed or damaged")
    return None


MOVED = "moved"
"""Returned by :func:`tail_problem` when another writer published meanwhile."""
