"""Version folders: what ``data/`` and each ``releases/<V>/`` must hold, and how they differ.

``data/`` holds exactly the head's fragments and ``releases/<V>/`` exactly release V's, each
file named ``<sha256>.parquet`` and a hard link to the fragment's file in the store
(``fragments/``; a copy where a link is impossible), so that a glob of a folder
(``data/*.parquet``) gives that version in any engine. The folders are derived from the
log: writers bring them current after every commit (:mod:`policyspeech.viewsync`), and a
folder left behind by an interrupted write is a repairable problem. Readers of this
package never read them: they read the store, which a commit never changes under them,
whereas a glob of ``data/`` during a commit may see a moment of mixture (the new
fragments beside the ones they replace).

This module only reads. A view file that is a hard link to the store's file is that file;
a copy is compared by size, and by its bytes when ``thorough`` (``verify`` always is). A
view file whose fragment the store lacks is never called different (the store's loss is
what ``verify`` reports, and the view's copy may be the one left).

Examples
--------
>>> from policyspeech.reader import Reader
>>> reader = Reader()
>>> sorted(expected_views(reader.view()))
['data', 'releases/1.0.0']
>>> layout_problems(reader.path, reader.view())
[]
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from policyspeech.layout import (
    DATA,
    FRAGMENTS,
    LOG,
    PARQUET,
    legacy_entries,
    release_folder,
    store_file,
)
from policyspeech.log import HeadState

ADVICE = "derived from the log: the next write, or `policyspeech verify --repair`, rewrites it"
"""How every repairable layout problem ends (:func:`is_layout_problem`)."""
SHOWN = 3
STORE_NAME = re.compile(r"[0-9a-f]{64}\.parquet")
"""The name of a fragment's file in the store and in a version folder."""


def expected_views(state: HeadState) -> dict[str, dict[str, str]]:
    """Each version folder (corpus-relative) of ``state``, with the SHA-256 of each file it
    must hold, by file name."""
    views = {DATA: _named(state.fragments)}
    for version, release in state.releases.items():
        views[release_folder(version)] = _named(release["fragments"])
    return views


def _named(identities: Iterable[str]) -> dict[str, str]:
    names = (p.rpartition("/")[2] for p in identities)
    return {name: name[:-len(PARQUET)] for name in names}


@dataclass
class Difference:
    """How a version folder differs from what it must hold (file names)."""

    folder: str
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    """Files (or links) that are no fragment of the version."""
    different: list[str] = field(default_factory=list)
    """Files of the right name that are not the store's fragment (not a regular file, or
    another size, or other bytes)."""
    folders: list[str] = field(default_factory=list)
    """Subfolders, which engines that read a folder read too (never removed)."""

    def __bool__(self) -> bool:
        return bool(self.missing or self.extra or self.different or self.folders)


def folder_difference(corpus: Path, folder: str, expected: dict[str, str], *,
                      thorough: bool) -> Difference:
    """Compare the version folder ``folder`` of ``corpus`` with ``expected``."""
    found = Difference(folder)
    try:
        entries = {entry.name: entry for entry in os.scandir(corpus / folder)}
    except OSError:
        entries = {}
    for name, entry in sorted(entries.items()):
        if entry.is_dir(follow_symlinks=False):
            found.folders.append(name)
        elif name not in expected:
            found.extra.append(name)
    for name, sha256 in sorted(expected.items()):
        if name not in entries:
            found.missing.append(name)
        elif name not in found.folders and not _same(Path(entries[name].path),
                                                    store_file(corpus, sha256), sha256,
                                                    thorough):
            found.different.append(name)
    return found


def _same(view: Path, store: Path, sha256: str, thorough: bool) -> bool:
    """Whether the view file ``view`` is the store's fragment ``store`` (see the module)."""
    try:
        mine = os.lstat(view)
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(mine.st_mode):
        return False
    try:
        theirs = os.lstat(store)
    except OSError:
        return True  # the store lacks it: that is the problem, and this may be its copy
    if (mine.st_ino, mine.st_dev) == (theirs.st_ino, theirs.st_dev):
        return True
    if mine.st_size != theirs.st_size:
        return False
    if not thorough:
        return True
    with open(view, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest() == sha256


def differences(corpus: Path, state: HeadState, *, thorough: bool,
                folders: Iterable[str] | None = None) -> list[Difference]:
    """The version folders of ``state`` (only ``folders`` when given) that differ."""
    views = expected_views(state)
    chosen = views if folders is None else [f for f in folders if f in views]
    return [found for folder in chosen
            if (found := folder_difference(corpus, folder, views[folder], thorough=thorough))]


def is_legacy(corpus: Path) -> bool:
    """Whether ``corpus`` is in the layout of a policyspeech from before the store (every
    fragment in ``data/``); readers read it as it is, its next write migrates it."""
    return not (corpus / FRAGMENTS).is_dir()


def layout_problems(corpus: Path, state: HeadState, *,
                    folders: Iterable[str] | None = None) -> list[str]:
    """Problems of the derived layout: a corpus not (wholly) migrated, version folders
    (only ``folders`` when given) that lack, have extra or have different files. Each names
    its folder; all but a subfolder inside a version folder are repairable
    (:func:`is_layout_problem`)."""
    if is_legacy(corpus):
        return [f"{corpus / FRAGMENTS}: missing: '{corpus}' is in the layout of an older "
                f"policyspeech (every fragment in {DATA}/, the log not in subfolders); it is "
                f"{ADVICE.replace('rewrites it', 'migrates it')}"]
    problems = []
    flat = legacy_entries(corpus)
    if flat:
        problems.append(f"{corpus / LOG}: {len(flat)} entries still outside their subfolders "
                        f"(a migration was interrupted), such as {flat[0].name}; it is {ADVICE}")
    for found in differences(corpus, state, thorough=True, folders=folders):
        what = "the head" if found.folder == DATA else \
            f"release {PurePosixPath(found.folder).name}"
        path = corpus / found.folder
        for names, says in ((found.missing, f"lacks fragments of {what}"),
                            (found.extra, f"holds files that are no fragment of {what}"),
                            (found.different, "holds files that differ from the store's "
                             "fragment of that name")):
            if names:
                problems.append(f"{path}: {says} ({_listed(names)}); the folder is {ADVICE}")
        problems += [f"{path / name}: a folder inside the folder of {what}, which engines "
                     "reading the folder read too; move it out of the corpus"
                     for name in found.folders]
    return problems


def is_layout_problem(problem: str) -> bool:
    """Whether ``problem`` (a line of :func:`layout_problems`) is repairable."""
    return problem.endswith(ADVICE) or problem.endswith(ADVICE.replace("rewrites it",
                                                                       "migrates it"))


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:SHOWN])
    return shown + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")
