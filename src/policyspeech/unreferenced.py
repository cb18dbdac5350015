"""What ``gc`` would collect: stored files that no version needs.

Three kinds of file are unreferenced, from a log that replays (:mod:`policyspeech.replay`):

- **superseded** fragments of the store, which an entry added and which neither the head
  nor any release references (the pre-amendment copy of a fragment, the small fragments a
  compaction merged); a fragment a ``gc`` entry collected whose file is still there (a gc
  was interrupted) is one too;
- **unnamed** files of the store, which no entry names: a writer interrupted before it
  published its entry leaves one; so does a writer that has linked its fragment and is
  about to publish, which is why an unnamed file is collected only once it is older than
  a grace period (an hour by default; a writer that links a fragment already there makes
  the file young again);
- **unnamed manifests**: files in ``releases/`` that no release entry names (a release
  interrupted before its entry), with the same grace period.

A released fragment, a fragment of the head and a manifest that an entry names are never
unreferenced. A superseded fragment stays in the store (the history of the commits) until
a ``gc`` entry collects it: :func:`check_kept` tells one that is missing without such an
entry, which was lost. Only for a corpus whose log verifies is the plan safe to carry out: over lost
entries, an unnamed file may be all that is left of them (:mod:`policyspeech.verify`
lists it then only when the corpus verifies).

Examples
--------
>>> from policyspeech.reader import Reader
>>> from policyspeech.replay import replay
>>> reader = Reader()
>>> found = plan(reader.path, replay(reader.path))
>>> found.collect, found.waiting
([], [])
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from policyspeech.documents import FragmentInfo
from policyspeech.layout import FRAGMENTS, RELEASES, fragment_file, fragment_name
from policyspeech.replay import Replay
from policyspeech.views import STORE_NAME

GRACE_SECONDS = 3600.0
"""How old a file that no entry names must be before ``gc`` removes it."""
WHY = {"superseded": "a fragment of no version (superseded)",
       "collected": "a fragment that a gc entry collected (an interrupted gc left it)",
       "unnamed": "no log entry names this file (an interrupted write leaves one)",
       "manifest": "no log entry names this manifest (an interrupted release leaves one)"}
"""What each kind of unreferenced file is, as ``gc`` and ``verify`` say it."""


@dataclass(frozen=True)
class Unreferenced:
    """A file that no version needs: where it is, its size, which kind (a key of
    :data:`WHY`), and for a file of the store named as a fragment, the path that would name
    it in the log."""

    path: Path
    size: int
    kind: str
    identity: str | None = None

    @property
    def why(self) -> str:
        return WHY[self.kind]


@dataclass
class Plan:
    """The files ``gc`` collects, and the unnamed ones it leaves until they are older than
    the grace period."""

    collect: list[Unreferenced] = field(default_factory=list)
    waiting: list[Unreferenced] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(item.size for item in self.collect)


def plan(corpus: Path, found: Replay, *, grace_seconds: float = GRACE_SECONDS,
         now: float | None = None) -> Plan:
    """What ``gc`` would collect in ``corpus``, whose log ``found`` replayed."""
    now = time.time() if now is None else now
    state = found.state
    referenced = set(state.fragments) | state.released_fragments
    named_manifests = {record["manifest"] for record in state.releases.values()}
    result = Plan()
    for entry in _files(corpus / FRAGMENTS):
        identity = fragment_name(entry.name[:64]) if STORE_NAME.fullmatch(entry.name) else None
        if identity in referenced:
            continue
        info = entry.stat(follow_symlinks=False)
        if identity is not None and identity in state.fragments_ever:
            kind = "collected" if identity in found.collected else "superseded"
            result.collect.append(Unreferenced(Path(entry.path), info.st_size, kind, identity))
        else:
            _young_or_old(result, Unreferenced(Path(entry.path), info.st_size, "unnamed",
                                               identity), now - info.st_mtime, grace_seconds)
    for entry in _files(corpus / RELEASES):
        if f"{RELEASES}/{entry.name}" not in named_manifests:
            info = entry.stat(follow_symlinks=False)
            _young_or_old(result, Unreferenced(Path(entry.path), info.st_size, "manifest"),
                          now - info.st_mtime, grace_seconds)
    return result


def _young_or_old(result: Plan, item: Unreferenced, age: float, grace: float) -> None:
    (result.collect if age >= grace else result.waiting).append(item)


def _files(folder: Path) -> list[os.DirEntry[str]]:
    """The files (and links) directly in ``folder``, by name; not its subfolders."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    return sorted((e for e in entries if not e.is_dir(follow_symlinks=False)),
                  key=lambda e: e.name)


def check_kept(corpus: Path, info: FragmentInfo, *, deep: bool = False) -> list[str]:
    """A fragment of no version that no ``gc`` entry collected (``info``, as the entry that
    added it records it): still in the store, of the size the entry records (``deep``: and
    of its SHA-256)."""
    path = fragment_file(corpus, info)
    try:
        found = path.lstat()
    except OSError:
        found = None
    if found is None or not stat.S_ISREG(found.st_mode):
        return [f"{path}: missing; an entry added this fragment and no gc entry collected it, "
                "so it was deleted or lost (no version reads it, but the history does)"]
    if found.st_size != info["bytes"]:
        return [f"{path}: {found.st_size} bytes, the log says {info['bytes']}; the file was "
                "changed or damaged"]
    if deep:
        with open(path, "rb") as handle:
            actual = hashlib.file_digest(handle, "sha256").hexdigest()
        if actual != info["sha256"]:
            return [f"{path}: SHA-256 is {actual}, the log says {info['sha256']}; the file "
                    "was changed or damaged"]
    return []
