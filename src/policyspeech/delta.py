"""The corpus as a Delta Lake table: the Delta log that the commit log generates.

Delta table version N is log entry N, and ``_delta_log/000…N.json`` is generated from that
entry alone (with its parent's schema version): version 0 sets the protocol (reader 1,
writer 2) and the metadata (a table id derived from entry 0's SHA-256, the schema of the
canonical Arrow schema, no partitions); every entry adds the fragments it added and
removes those it removed (paths in the store, :func:`policyspeech.layout.store_file`;
sizes and row counts from the entry), an entry that changes the schema version sets
new metadata, and each commit ends with a ``commitInfo`` naming the operation, the message,
the entry's number and SHA-256 and, for a release, its version. Times come from the
entries, so the Delta log is a pure function of the log. Every tenth version has a
checkpoint (:mod:`policyspeech.deltacheckpoint`). Removed files stay tombstones for
100 years (``delta.deletedFileRetentionDuration``): a released fragment leaves the head
but not its release, so no engine's VACUUM may delete it.

A release is the Delta version of its release entry, which adds and removes nothing: the
same files as the commit it names (:func:`delta_version_of`). :func:`check_delta` compares
the Delta log on disk with the one the log generates (the writers live in
:mod:`policyspeech.deltawrite`).

Examples
--------
>>> from policyspeech.reader import Reader
>>> state = Reader().view()
>>> delta_version_of(state, "1.0.0"), delta_version_of(state, "head")
(2, 2)
>>> [f["type"] for f in json.loads(schema_string("1.0.0"))["fields"]][8:10]
['date', 'string']
"""

from __future__ import annotations

import datetime
import json
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from policyspeech.deltacheckpoint import Action, decode, last_checkpoint, ordered
from policyspeech.documents import Entry, FragmentInfo
from policyspeech.errors import UnknownVersionError
from policyspeech.layout import (
    DELTA_LAST_CHECKPOINT,
    DELTA_LOG,
    delta_checkpoint_path,
    delta_commit_path,
    entry_path,
    fragment_sha256,
    store_file,
)
from policyspeech.log import HeadState, read_entry, read_recorded_head
from policyspeech.nofollow import read_no_follow
from policyspeech.schema import SCHEMA_VERSION

PROTOCOL: Action = {"protocol": {"minReaderVersion": 1, "minWriterVersion": 2}}
CHECKPOINT_INTERVAL = 10
RETENTION = "interval 36500 days"
CONFIGURATION = {"delta.checkpointInterval": str(CHECKPOINT_INTERVAL),
                 "delta.deletedFileRetentionDuration": RETENTION,
                 "delta.logRetentionDuration": RETENTION}
"""Tombstones and log files are kept for 100 years: every version stays readable."""
DESCRIPTION = ("A policyspeech corpus. policyspeech writes this Delta log from its own "
               "commit log: read the table with any Delta reader, but never write to it, "
               "OPTIMIZE or VACUUM it with another engine.")
ENGINE = "policyspeech"
REWRITE = "delete it and run `policyspeech verify --repair`, which writes it again from the log"
NAMESPACE = uuid.UUID("6f1c0e4e-3d0b-5c1a-9b0e-7d3e2a1f0c55")
"""Table ids are UUID 5 of entry 0's SHA-256 in this namespace."""
_TYPES = {"string": "string", "date32[day]": "date", "int32": "integer"}


def delta_version_of(state: HeadState, version: str) -> int:
    """The Delta table version that reads exactly ``version`` (``head`` or a release).

    A release is the version of its release entry (the entry after the commit it names,
    adding and removing nothing: the same files)."""
    if version == "head":
        return state.seq
    try:
        return int(state.releases[version]["commit"]) + 1
    except KeyError:
        raise UnknownVersionError(f"no release '{version}'; list them with "
                                  "`policyspeech versions`") from None


def table_id(entry0_sha256: str) -> str:
    """The Delta table id of the corpus whose entry 0 has this SHA-256."""
    return str(uuid.uuid5(NAMESPACE, entry0_sha256))


def schema_string(schema_version: str) -> str:
    """The Delta ``schemaString`` of the canonical Arrow schema of ``schema_version``, each
    field's description as its ``comment``."""
    import pyarrow as pa

    from policyspeech.schema import arrow_schema

    def delta_type(kind: pa.DataType) -> Any:
        if isinstance(kind, pa.ListType):
            return {"type": "array", "elementType": delta_type(kind.value_type),
                    "containsNull": kind.value_field.nullable}
        return _TYPES[str(kind)]

    fields = [{"name": f.name, "type": delta_type(f.type), "nullable": f.nullable,
               "metadata": {"comment": (f.metadata or {}).get(b"description", b"").decode()}}
              for f in arrow_schema(schema_version)]
    return json.dumps({"type": "struct", "fields": fields}, separators=(",", ":"),
                      ensure_ascii=False)


def millis(time: str) -> int:
    """Milliseconds since the epoch of an entry's ``time`` (``2026-11-28T05:30:42Z``)."""
    when = datetime.datetime.fromisoformat(time.replace("Z", "+00:00"))
    return int(when.timestamp() * 1000)


def file_path(corpus: Path, info: FragmentInfo) -> str:
    """The Delta path of a fragment: its place in the store, relative to the corpus (a
    URI). Always the store: only writers write the Delta log, and a writer migrates a
    corpus of the legacy layout first, so the Delta log never depends on the layout."""
    return quote(store_file(corpus, fragment_sha256(info)).relative_to(corpus).as_posix())


def metadata_action(table: str, schema_version: str, created: int) -> Action:
    return {"metaData": {"id": table, "description": DESCRIPTION,
                         "format": {"provider": "parquet", "options": {}},
                         "schemaString": schema_string(schema_version), "partitionColumns": [],
                         "createdTime": created, "configuration": dict(CONFIGURATION)}}


def commit_actions(corpus: Path, entry: Entry, sha256: str, *, table: str | None,
                   schema_before: str | None) -> list[Action]:
    """The actions of Delta version ``entry["seq"]``. ``table``: the table id (needed only
    when the version sets metadata); ``schema_before``: the schema version after the
    parent entry (None for entry 0)."""
    when = millis(entry["time"])
    schema_version = entry.get("schema_version", schema_before or SCHEMA_VERSION)
    operation = entry["operation"]
    change = operation not in ("compact", "upgrade")  # these only rearrange records
    parameters = {"seq": str(entry["seq"]), "sha256": sha256, "message": entry["message"],
                  "schemaVersion": schema_version}
    if "release" in entry:
        parameters["release"] = entry["release"]["version"]
    added = {file_path(corpus, info): info for info in entry.get("added", [])}
    removed = {file_path(corpus, info): info for info in entry.get("removed", [])}
    actions: list[Action] = [{"commitInfo": {
        "timestamp": when, "operation": operation, "operationParameters": parameters,
        "engineInfo": ENGINE, "isBlindAppend": operation == "add" and not removed}}]
    if schema_before is None:
        actions.append(PROTOCOL)
    if schema_before != schema_version:
        if table is None:
            raise ValueError("a version that sets metadata needs the table id")
        actions.append(metadata_action(table, schema_version, when))
    actions += [{"remove": {"path": path, "deletionTimestamp": when, "dataChange": change,
                            "extendedFileMetadata": True, "partitionValues": {},
                            "size": info["bytes"]}}
                for path, info in removed.items() if path not in added]
    actions += [{"add": {"path": path, "partitionValues": {}, "size": info["bytes"],
                         "modificationTime": when, "dataChange": change,
                         "stats": json.dumps({"numRecords": info["rows"]},
                                            separators=(",", ":"))}}
                for path, info in added.items()]
    return actions


def encode_commit(actions: Sequence[Action]) -> bytes:
    """A Delta commit file: one action per line."""
    return "".join(json.dumps(a, separators=(",", ":"), ensure_ascii=False) + "\n"
                   for a in actions).encode()


def decode_commit(data: bytes) -> list[Action]:
    """The actions of a Delta commit file."""
    return [json.loads(line) for line in data.decode().splitlines() if line.strip()]


def committed_schema(actions: Sequence[Action]) -> str | None:
    """The schema version a commit's ``commitInfo`` records (None if it records none)."""
    for action in actions:
        if "commitInfo" in action:
            value = action["commitInfo"].get("operationParameters", {}).get("schemaVersion")
            return value if isinstance(value, str) else None
    return None


@dataclass
class Snapshot:
    """The Delta table at a version: protocol, metadata, files and tombstones."""

    version: int = -1
    schema_version: str | None = None
    other: dict[str, Action] = field(default_factory=dict)
    adds: dict[str, Action] = field(default_factory=dict)
    removes: dict[str, Action] = field(default_factory=dict)

    def apply(self, version: int, actions: Sequence[Action]) -> None:
        """Advance by the actions of ``version`` (the reconciliation rules of Delta)."""
        for action in actions:
            if "add" in action:
                self.adds[action["add"]["path"]] = action
                self.removes.pop(action["add"]["path"], None)
            elif "remove" in action:
                self.removes[action["remove"]["path"]] = action
                self.adds.pop(action["remove"]["path"], None)
            elif "protocol" in action or "metaData" in action:
                self.other.update(action)
        self.schema_version = committed_schema(actions) or self.schema_version
        self.version = version

    def checkpoint(self) -> list[Action]:
        """The checkpoint's actions: protocol, metadata, files and every tombstone."""
        kept: list[Action] = [{kind: self.other[kind]} for kind in ("protocol", "metaData")
                              if kind in self.other]
        return ordered([*kept, *self.adds.values(), *self.removes.values()])

    @classmethod
    def load(cls, version: int, actions: Sequence[Action]) -> Snapshot:
        """The snapshot a checkpoint of ``version`` holds."""
        snapshot = cls()
        snapshot.apply(version, actions)
        return snapshot


def is_checkpoint(version: int) -> bool:
    """Whether version ``version`` has a checkpoint (every tenth, from 10)."""
    return version > 0 and version % CHECKPOINT_INTERVAL == 0


def generated(corpus: Path, until: int) -> Iterator[tuple[int, list[Action], Snapshot]]:
    """Each version 0 to ``until`` that the log generates: its actions and the snapshot
    after it (one object, advanced in place)."""
    snapshot, table, schema = Snapshot(), None, None
    for seq in range(until + 1):
        found = read_entry(corpus, seq)
        if found is None:
            raise FileNotFoundError(entry_path(corpus, seq))
        entry, digest = found
        table = table or table_id(digest)
        actions = commit_actions(corpus, entry, digest, table=table, schema_before=schema)
        snapshot.apply(seq, actions)
        schema = snapshot.schema_version
        yield seq, actions, snapshot


def check_delta(corpus: Path, state: HeadState) -> tuple[list[str], list[str]]:
    """Problems (a Delta file that differs from what the log generates, or that names an
    entry the log does not have) and warnings (Delta files missing: the Delta log is
    behind, and ``verify --repair`` or the next commit writes them) of ``corpus``."""
    folder = corpus / DELTA_LOG
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        return [f"{folder}: not a folder of the corpus; {REWRITE}"], []
    if not folder.is_dir():
        return [], [f"{folder}: missing (made before policyspeech wrote a Delta log, or by a "
                    "write interrupted before it); `policyspeech verify --repair` or the next "
                    "commit writes it"]
    problems: list[str] = []
    missing: list[int] = []
    pointer: bytes | None = None
    try:
        for version, actions, snapshot in generated(corpus, state.seq):
            problems += _compare(delta_commit_path(corpus, version), version, missing,
                                 decode_commit, actions)
            if is_checkpoint(version):
                expected = snapshot.checkpoint()
                problems += _compare(delta_checkpoint_path(corpus, version), version, missing,
                                     decode, expected)
                pointer = last_checkpoint(version, expected)
    except (KeyError, TypeError, ValueError, OSError) as exc:  # an entry the replay accepted
        return [f"{folder}: cannot be generated from the log ({type(exc).__name__}: {exc}); "
                "run `policyspeech verify` and restore the log first"], []
    problems += _beyond(corpus, state.seq)
    warnings = [f"{folder}: {len(missing)} Delta files missing, of log entries "
                f"{_ranges(sorted(set(missing)))} (the Delta log is behind the log: a write was "
                "interrupted); `policyspeech verify --repair` or the next commit writes them"
                ] if missing else []
    problems += _check_pointer(folder / DELTA_LAST_CHECKPOINT, pointer, warnings)
    return problems, warnings


def _compare(path: Path, version: int, missing: list[int],
             decoder: Callable[[bytes], list[Action]], expected: list[Action]) -> list[str]:
    try:
        data = read_no_follow(path)
    except FileNotFoundError:
        missing.append(version)
        return []
    except OSError as exc:
        return [f"{path}: unreadable ({exc.strerror or exc}); {REWRITE}"]
    try:
        if decoder(data) == expected:
            return []
    except Exception:  # any unreadable JSON or Parquet is a finding
        pass
    return [f"{path}: differs from what log entry {version} generates (it was edited or "
            f"damaged, or another engine wrote to the table); {REWRITE}"]


def _beyond(corpus: Path, seq: int) -> list[str]:
    """Delta commits or checkpoints of versions the log does not have. Not a problem of
    the Delta log when the log itself shows lost entries (entries after a gap, or a card
    that records a newer entry: those checks name them), nor when a writer publishes
    meanwhile."""
    names = os.listdir(corpus / DELTA_LOG)
    later = sorted({int(name[:20]) for name in names
                    if name[:20].isdigit() and int(name[:20]) > seq})
    recorded = read_recorded_head(corpus)
    if not later or (recorded is not None and recorded[0] > seq) or any(
            os.path.lexists(entry_path(corpus, n)) for n in range(seq + 1, later[-1] + 1)):
        return []
    return [f"{delta_commit_path(corpus, later[0])}: Delta version {later[0]}, but the log "
            f"ends at entry {seq}: if log entries were lost, restore them from a backup; if "
            "another engine wrote to the table (only policyspeech may), delete the Delta files "
            f"after version {seq} and run `policyspeech verify --repair`"]


def _check_pointer(path: Path, expected: bytes | None, warnings: list[str]) -> list[str]:
    try:
        actual: bytes | None = read_no_follow(path)
    except FileNotFoundError:
        actual = None
    except OSError as exc:
        return [f"{path}: unreadable ({exc.strerror or exc}); {REWRITE}"]
    if actual == expected:
        return []
    if expected is None:
        return [f"{path}: names a checkpoint, but the log has fewer than "
                f"{CHECKPOINT_INTERVAL} entries after entry 0; {REWRITE}"]
    what = "missing" if actual is None else "does not name the newest checkpoint"
    warnings.append(f"{path}: {what} (a write was interrupted); `policyspeech verify --repair` "
                    "or the next commit rewrites it")
    return []


def _ranges(numbers: list[int]) -> str:
    """``[1, 2, 3, 7]`` -> ``'1-3, 7'``."""
    spans: list[list[int]] = []
    for number in numbers:
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in spans)
