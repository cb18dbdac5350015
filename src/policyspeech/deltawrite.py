"""Writing the Delta log (:mod:`policyspeech.delta`) as the log grows.

Every Delta commit and checkpoint is published once, put-if-absent, like the log's own
entries (a name already taken is left alone: the same log generates the same bytes; its
folder is not fsynced, since the next writer writes a lost one again), and
dated by its entry's time (the file's modification time, which Delta readers take as the
commit's time). Only ``_last_checkpoint`` is replaced, and only by a newer checkpoint.

:func:`sync` runs after each commit (:meth:`policyspeech.commit.Writer.commit`): it writes
the new entry's Delta commit from the previous Delta commit's schema version, and at every
tenth version the checkpoint, from the previous checkpoint and the Delta commits since. When
the previous Delta commits are missing (a writer stopped between its entry and its Delta
commit, or a corpus made before the Delta log), it writes them first, from the first one
missing. :func:`catch_up` writes every missing Delta file from the whole log, as
``verify --repair`` and ``init`` do.

Examples
--------
>>> import tempfile, pathlib
>>> from policyspeech.commit import create
>>> from policyspeech.layout import delta_commit_path
>>> folder = create(pathlib.Path(tempfile.mkdtemp()) / "corpus")
>>> delta_commit_path(folder, 0).is_file()
True
"""

from __future__ import annotations

import os
from pathlib import Path

from policyspeech.delta import (
    Snapshot,
    commit_actions,
    committed_schema,
    decode_commit,
    encode_commit,
    generated,
    is_checkpoint,
    table_id,
)
from policyspeech.deltacheckpoint import Action, decode, encode, last_checkpoint
from policyspeech.documents import Entry
from policyspeech.errors import CorpusError, IntegrityError
from policyspeech.fsutil import fsync_dir, temporary_file, write_durably
from policyspeech.hooks import crash_point
from policyspeech.layout import (
    DELTA_LAST_CHECKPOINT,
    DELTA_LOG,
    STAGING,
    delta_checkpoint_path,
    delta_commit_path,
    entry_path,
)
from policyspeech.log import HeadState, advance, entry_sha256, read_entry
from policyspeech.nofollow import read_no_follow
from policyspeech.schema import SCHEMA_VERSION


def sync(corpus: Path, entry: Entry, sha256: str | None = None) -> None:
    """Write the Delta commit of ``entry`` (just published; ``sha256``: its hash), its
    checkpoint when one is due, and any Delta file missing before it."""
    try:
        _sync(corpus, entry, sha256 or entry_sha256(entry))
    except OSError as exc:
        raise CorpusError(
            f"committed {entry_path(corpus, entry['seq'])}, but the Delta log could not be "
            f"written ({exc.strerror or exc}); free the space or fix the permission, then run "
            "`policyspeech verify --repair`") from None


def catch_up(corpus: Path, until: int | None = None) -> None:
    """Write every Delta file of versions 0 to ``until`` (the head by default) that is
    missing, from the log, and point ``_last_checkpoint`` at the newest checkpoint."""
    if until is None:
        until = advance(corpus, HeadState(light=True)).seq
    staging = _folder(corpus)
    newest: tuple[int, list[Action]] | None = None
    for version, actions, snapshot in generated(corpus, until):
        when = actions[0]["commitInfo"]["timestamp"]
        _publish(delta_commit_path(corpus, version), encode_commit(actions), when, staging)
        if is_checkpoint(version):
            newest = (version, snapshot.checkpoint())
            if not os.path.lexists(delta_checkpoint_path(corpus, version)):
                _publish(delta_checkpoint_path(corpus, version), encode(newest[1]), when,
                         staging)
    if newest is not None:
        _point(corpus, *newest, staging, replace_any=True)


def _sync(corpus: Path, entry: Entry, sha256: str) -> None:
    """Write the Delta files of versions from the first missing one before ``entry``'s (a
    writer may have stopped before its Delta commit; none exist for a corpus made before
    the Delta log) up to ``entry``'s, each commit from its entry and the previous commit."""
    seq = entry["seq"]
    staging = _folder(corpus)
    first = seq
    while first > 0 and not os.path.lexists(delta_commit_path(corpus, first - 1)):
        first -= 1
    for version in range(first, seq + 1):
        found = (entry, sha256) if version == seq else read_entry(corpus, version)
        if found is None:
            raise IntegrityError(f"{entry_path(corpus, version)} is missing; run "
                                 "`policyspeech verify`")
        when = _publish_commit(corpus, *found, staging)
        if is_checkpoint(version) and not os.path.lexists(delta_checkpoint_path(corpus, version)):
            snapshot = _snapshot(corpus, version)
            if snapshot is None:  # a Delta file before it is missing or damaged
                catch_up(corpus, seq)
                return
            actions = snapshot.checkpoint()
            _publish(delta_checkpoint_path(corpus, version), encode(actions), when, staging)
            _point(corpus, version, actions, staging, replace_any=False)


def _publish_commit(corpus: Path, entry: Entry, sha256: str, staging: Path) -> int:
    """Publish the Delta commit of ``entry`` unless it exists (the previous one does);
    return its time."""
    seq = entry["seq"]
    before = None if seq == 0 else _schema_after(corpus, seq - 1)
    schema = entry.get("schema_version", before or SCHEMA_VERSION)
    table = None
    if before != schema:
        table = table_id(sha256) if seq == 0 else _table(corpus)
    actions = commit_actions(corpus, entry, sha256, table=table, schema_before=before)
    when: int = actions[0]["commitInfo"]["timestamp"]
    _publish(delta_commit_path(corpus, seq), encode_commit(actions), when, staging)
    return when


def _schema_after(corpus: Path, version: int) -> str:
    """The schema version after Delta version ``version``, as its commit records it (else
    as the log does); FileNotFoundError when that Delta commit is missing."""
    data = read_no_follow(delta_commit_path(corpus, version))
    try:
        recorded = committed_schema(decode_commit(data))
    except ValueError:
        recorded = None
    if recorded is not None:
        return recorded
    for seq in range(version, -1, -1):
        found = read_entry(corpus, seq)
        if found is not None and "schema_version" in found[0]:
            return found[0]["schema_version"]
    return SCHEMA_VERSION


def _table(corpus: Path) -> str:
    found = read_entry(corpus, 0)
    if found is None:
        raise IntegrityError(f"{entry_path(corpus, 0)} is missing; run `policyspeech verify`")
    return table_id(found[1])


def _snapshot(corpus: Path, version: int) -> Snapshot | None:
    """The table at ``version`` from the newest checkpoint before it and the Delta commits
    since (None when one of them is missing or unreadable)."""
    base = version - 10
    snapshot = Snapshot()
    while base > 0:
        try:
            snapshot = Snapshot.load(base, decode(read_no_follow(
                delta_checkpoint_path(corpus, base))))
            break
        except (OSError, ValueError):
            base -= 10
    for seq in range(snapshot.version + 1, version + 1):
        try:
            snapshot.apply(seq, decode_commit(read_no_follow(delta_commit_path(corpus, seq))))
        except (OSError, ValueError):
            return None
    return snapshot


def _point(corpus: Path, version: int, actions: list[Action], staging: Path, *,
           replace_any: bool) -> None:
    """Point ``_last_checkpoint`` at the checkpoint of ``version``: when it names an older
    one (or, ``replace_any``, any other content). Replaced atomically, without fsyncing the
    folder: a rename that a power failure loses leaves the older pointer, which readers
    accept (they list the versions after it)."""
    path = corpus / DELTA_LOG / DELTA_LAST_CHECKPOINT
    data = last_checkpoint(version, actions)
    try:
        current = read_no_follow(path)
    except FileNotFoundError:
        current = None
    if current == data:
        return
    if current is not None and not replace_any:
        import json

        try:
            if int(json.loads(current)["version"]) >= version:
                return
        except (ValueError, KeyError, TypeError):
            pass
    with temporary_file(staging) as (temp, handle):
        write_durably(handle, data, "delta-pointer")
        os.replace(temp, path)


def _publish(path: Path, data: bytes, when: int, staging: Path) -> bool:
    """Publish ``data`` as ``path`` put-if-absent, dated ``when`` (ms since the epoch): the
    bytes are fsynced before the name is linked (a name never shows a partial file), but
    the folder is not fsynced: a Delta file that a power failure loses is written again,
    from the log, by the next writer."""
    if os.path.lexists(path):
        return False
    with temporary_file(staging) as (temp, handle):
        write_durably(handle, data, "delta")
        os.utime(temp, ns=(when * 1_000_000, when * 1_000_000))
        try:
            os.link(temp, path)
        except FileExistsError:  # another writer published it meanwhile (the same bytes)
            return False
    crash_point("delta-linked")
    return True


def _folder(corpus: Path) -> Path:
    """Make ``_delta_log/`` if need be (never through a symbolic link); return the
    staging folder."""
    folder = corpus / DELTA_LOG
    if folder.is_symlink():
        raise IntegrityError(f"'{folder}' is a symbolic link; the Delta log must be a folder "
                             f"of the corpus (remove the link, `rm '{folder}'`, and run "
                             "`policyspeech verify --repair`)")
    if not folder.is_dir():
        folder.mkdir(exist_ok=True)  # another writer may make it meanwhile
        fsync_dir(corpus)
    return corpus / STAGING

