"""Replaying the log from its first entry, checking what the hash chain alone does not.

The chain proves that no entry was changed; it does not prove that the entries make
sense. :func:`replay` folds the whole log as a writer does and checks, at every entry:
no id added twice or added while it is in the head, no id reused after it was retracted
(or amended away), the head's rows equal to its ids, and at each ``release`` entry its
commit, fragment list and record count equal to the replayed head it names. It uses the
entries' id lists (already read to fold the log), never the fragments, so it costs about
what opening the log costs. It also finds entries that exist after a missing one (a gap:
readers stop at the gap and ignore them). ``stop_at_break=True`` (verify) records a broken
chain or a malformed entry as a problem and stops there, so that the rest can still be
checked. :func:`lost_releases` names the release manifests that record an entry the log
no longer has: evidence that entries were deleted. A ``gc`` entry may collect only
fragments that neither the head nor a release references; the replay keeps what the
collections removed (a fragment added again later is no longer collected), so that
:mod:`policyspeech.verify` tells a collected fragment from a lost one.

Examples
--------
>>> from policyspeech.reader import Reader
>>> found = replay(Reader().path)
>>> found.state.seq, found.problems, sorted(found.commits)
(2, [], ['1.0.0'])
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policyspeech.documents import Entry, FragmentInfo
from policyspeech.errors import IntegrityError, NotACorpusError
from policyspeech.layout import (
    ENTRIES_PER_FOLDER,
    LOG,
    RELEASES,
    entry_name,
    entry_path,
    find_entry,
)
from policyspeech.log import HeadState, advance, read_entry
from policyspeech.nofollow import read_no_follow
from policyspeech.schema import SCHEMA_VERSION

SHOWN = 5
"""Ids named per problem; the rest are counted."""
Recorded = tuple[Path, str, int, str]
"""A manifest file, the version it records, and the entry (number, SHA-256) it released."""
ADVICE = " (run `policyspeech verify`)"
"""The advice that ends a log error outside verify."""
LOST = "entries were deleted"
"""Every problem that is evidence of lost log entries says this (nothing repairs it)."""


@dataclass
class Replay:
    """The head after the whole log, what the replay found wrong, and, for each release,
    the entry it names (number and SHA-256) and the head's fragments there."""

    state: HeadState
    problems: list[str] = field(default_factory=list)
    commits: dict[str, tuple[int, str | None, dict[str, FragmentInfo]]] = field(
        default_factory=dict)
    broken: bool = False
    """The replay stopped at a broken chain or a malformed entry (``stop_at_break``)."""
    added: dict[str, FragmentInfo] = field(default_factory=dict)
    """Every fragment any entry added, as its entry records it, by the path that names it."""
    collected: set[str] = field(default_factory=set)
    """The fragments that ``gc`` entries removed from the store (and no later entry added)."""


def replay(corpus: Path, *, stop_at_break: bool = False) -> Replay:
    """Fold the log of ``corpus`` from entry 0, checking every entry (see the module text).
    A broken chain or a malformed entry raises :class:`IntegrityError` as
    :func:`~policyspeech.log.advance` does (``stop_at_break``: is a problem, and the
    replay stops there)."""
    found = Replay(HeadState())
    state = found.state
    while True:
        try:
            read = read_entry(corpus, state.seq + 1)
            if read is None:
                break
            entry, digest = read
            _check_entry(corpus, entry, state, found)
            _apply(find_entry(corpus, state.seq + 1), entry, digest, state)
        except IntegrityError as exc:
            if not stop_at_break or state.seq < 0:
                raise
            found.problems.append(str(exc).replace(ADVICE, ""))
            found.broken = True
            return found
        if state.rows != len(state.hash_by_id):
            found.problems.append(
                f"{find_entry(corpus, state.seq)}: after this entry the head's fragments hold "
                f"{state.rows} rows for {len(state.hash_by_id)} ids; the log lists other "
                "records than its fragments")
    if state.seq < 0:
        advance(corpus, state)  # raises: not a corpus
    found.problems += gap(corpus, state.seq)
    return found


def _check_entry(corpus: Path, entry: Entry, state: HeadState, found: Replay) -> None:
    """The checks of one entry that chains onto ``state`` (a malformed one: see _apply)."""
    path = find_entry(corpus, state.seq + 1)
    if entry.get("seq") == state.seq + 1 and entry.get("parent") == state.entry_sha256:
        try:
            found.problems += _check_ids(path, entry, state)
            if entry.get("operation") == "release":
                found.problems += _check_release_entry(path, entry, state, found)
            for info in entry.get("added", []):
                found.added[info["path"]] = info
                found.collected.discard(info["path"])
            if entry.get("operation") == "gc":
                found.problems += _check_collection(path, entry, state, found)
            if entry.get("operation") == "doi" and any(
                    entry.get(key) for key in ("added", "removed", "ids", "removed_ids")):
                found.problems.append(f"{path}: a doi entry that changes records or "
                                      "fragments; the log was edited")
        except (AttributeError, KeyError, TypeError, ValueError):
            pass  # malformed: _apply names it


def _check_collection(path: Path, entry: Entry, state: HeadState,
                      found: Replay) -> list[str]:
    """A ``gc`` entry collects only fragments that an entry added and that neither the head
    nor a release references."""
    collected: list[str] = list(entry["collected"])
    wrong = [p for p in collected if p in state.fragments or p in state.released_fragments
             or p not in state.fragments_ever]
    found.collected.update(collected)
    return [f"{path}: collects fragments that a version references or that no entry "
            f"added ({_named(wrong)}); gc removes only fragments of no version"] if wrong else []


def entry_numbers(corpus: Path, after: int = -1) -> list[int]:
    """The numbers of the log's entry files above ``after``, in their subfolders or flat."""
    numbered = re.compile(r"\d{8}\.json")
    try:
        top = os.listdir(corpus / LOG)
    except OSError:
        return []
    found = {int(name[:8]) for name in top if numbered.fullmatch(name)}
    for folder in top:
        if re.fullmatch(r"\d{5}", folder) and (int(folder) + 1) * ENTRIES_PER_FOLDER > after + 1:
            try:
                found.update(int(name[:8]) for name in os.listdir(corpus / LOG / folder)
                             if numbered.fullmatch(name))
            except OSError:
                continue
    return sorted(n for n in found if n > after)


def gap(corpus: Path, seq: int) -> list[str]:
    """Entries numbered after ``seq`` when entry ``seq + 1`` is missing."""
    later = entry_numbers(corpus, seq)
    if not later:
        return []
    names = ", ".join(entry_name(n) for n in later[:SHOWN]) + (
        f" and {len(later) - SHOWN} more" if len(later) > SHOWN else "")
    return [f"{entry_path(corpus, seq + 1)}: missing, and the log has entries after it "
            f"({names}): the commits from entry {seq + 1} on are lost, and every read and "
            "write of the corpus refuses, until the missing entry is restored from a backup "
            "(`verify --repair` cannot bring it back)"]


def lost_releases(corpus: Path, state: HeadState) -> list[str]:
    """Release manifests that no entry of ``state`` names and that record (in ``commit``)
    an entry the log no longer has, or has with another hash: entries were deleted. A
    manifest recording an entry the log has is what an interrupted release leaves."""
    named = {record["manifest"] for record in state.releases.values()}
    problems = []
    for path, version, seq, sha256 in recorded_manifests(corpus, skip=named):
        if seq <= state.seq:
            try:
                read = read_entry(corpus, seq)
            except IntegrityError:
                read = None
            if read is not None and read[1] == sha256:
                continue  # an interrupted release
            which = f"log entry {seq} with SHA-256 {sha256}, which the log has no longer " \
                    f"(its entry {seq} differs)"
        else:
            which = f"log entry {seq}, which the log no longer has (it ends at entry {state.seq})"
        problems.append(f"{path}: records release {version} of {which}: {LOST}; "
                        "restore them from a backup (`verify --repair` cannot bring them back)")
    return problems


def recorded_manifests(corpus: Path, skip: Collection[str] = ()) -> list[Recorded]:
    """Every release manifest file in ``releases/`` that reads as one (but those whose
    corpus-relative paths are in ``skip``, which are not read): its path, and the version
    and commit (entry number and SHA-256) it records."""
    try:
        paths = sorted((corpus / RELEASES).iterdir())
    except OSError:
        return []
    found = []
    for path in paths:
        if path.name.startswith(".") or path.suffix != ".json" or \
                f"{RELEASES}/{path.name}" in skip:
            continue
        try:
            manifest = json.loads(read_no_follow(path))
            version, commit = manifest["version"], manifest["commit"]
            seq, sha256 = commit["seq"], commit["sha256"]
        except (OSError, ValueError, TypeError, KeyError):
            continue
        if isinstance(version, str) and isinstance(seq, int) and isinstance(sha256, str):
            found.append((path, version, seq, sha256))
    return found


def _check_ids(path: Path, entry: Entry, state: HeadState) -> list[str]:
    """Ids the entry adds that are already in the head or were used before."""
    ids: list[str] = entry.get("ids", [])
    removed = set(entry.get("removed_ids", []))
    seen: set[str] = set()
    twice, present, reused = [], [], []
    for record_id in ids:
        if record_id in seen:
            twice.append(record_id)
        seen.add(record_id)
        if record_id in removed:
            continue  # an amendment: the same id, new values
        if record_id in state.hash_by_id:
            present.append(record_id)
        elif record_id in state.ids_ever:
            reused.append(record_id)
    return [f"{path}: {what} ({_named(found)}); ids are unique and never reused"
            for what, found in (("adds an id twice", twice),
                                ("adds ids already in the corpus", present),
                                ("reuses ids that were retracted or amended away", reused))
            if found]


def _check_release_entry(path: Path, entry: Entry, state: HeadState,
                         found: Replay) -> list[str]:
    """The release's commit, fragments and records against the head it names."""
    release: dict[str, Any] = dict(entry["release"])
    version = release["version"]
    problems = []
    if release.get("commit") != state.seq:
        problems.append(f"{path}: release {version} names entry {release.get('commit')}, "
                        f"but it follows entry {state.seq}")
    if sorted(release["fragments"]) != sorted(state.fragments):
        problems.append(f"{path}: release {version} lists other fragments than the head "
                        "that the log replays at its entry")
    if release["records"] != state.rows or release["records"] != len(state.hash_by_id):
        problems.append(f"{path}: release {version} records {release['records']} records; "
                        f"the replayed head has {len(state.hash_by_id)} ids in "
                        f"{state.rows} rows")
    found.commits[version] = (state.seq, state.entry_sha256, dict(state.fragments))
    return problems


def _named(ids: list[str]) -> str:
    shown = ", ".join(f"'{i}'" for i in ids[:SHOWN])
    return shown + (f" and {len(ids) - SHOWN} more" if len(ids) > SHOWN else "")


def _apply(path: Path, entry: Entry, digest: str, state: HeadState) -> None:
    """Apply ``entry`` as :func:`~policyspeech.log.advance` does, with its checks (the
    entry was read once, for the checks and the fold)."""
    if entry.get("seq") != state.seq + 1 or entry.get("parent") != state.entry_sha256:
        raise IntegrityError(
            f"{path} does not chain to {entry_name(state.seq)} (parent hash or number "
            "differs); the log was edited or damaged (run `policyspeech verify`)")
    version = str(entry.get("schema_version", SCHEMA_VERSION))
    if int(version.split(".")[0]) > int(SCHEMA_VERSION.split(".")[0]):
        raise NotACorpusError(
            f"{path} uses schema {version}, newer than this policyspeech ({SCHEMA_VERSION}); "
            "upgrade policyspeech (pip install -U policyspeech)")
    try:
        state.apply(entry, digest)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise IntegrityError(
            f"{path} is malformed ({type(exc).__name__}: {exc}); the log was edited or "
            "damaged (run `policyspeech verify`)") from None
