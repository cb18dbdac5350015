"""Compaction: merging the head's small unreleased fragments into sorted ones.

Every add writes at least one fragment, and each fragment costs a reader about a
millisecond, so small fragments are merged: into fragments of at most
:attr:`~policyspeech.tuning.Tuning.compact_group_bytes`, sorted by date and id, with
1,000-row groups. Released fragments are never rewritten (a release loads its own files
for ever), and neither are large ones (a bulk import's chunks). Writers compact by
themselves when many small fragments have gathered (:func:`compact_if_due`), and a
release always does.

Examples
--------
>>> from policyspeech.log import HeadState
>>> small = {f"data/{n}.parquet": {"path": f"data/{n}.parquet", "bytes": 15 * 2**20}
...          for n in range(5)}
>>> [len(group) for group in compaction_groups(HeadState(fragments=small))]
[4]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from policyspeech.commit import Writer
from policyspeech.documents import Entry, FragmentInfo
from policyspeech.fragments import write_fragment
from policyspeech.layout import fragment_file
from policyspeech.log import HeadState, new_entry
from policyspeech.tuning import DEFAULT, Tuning

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class Compaction:
    """What a compaction did: ``merged`` fragments into ``written`` new ones."""

    merged: int
    written: int

    def __bool__(self) -> bool:
        """True when something was merged (as the count that ``compact`` returned was)."""
        return self.merged > 0


def compaction_groups(state: HeadState, tuning: Tuning = DEFAULT) -> list[list[FragmentInfo]]:
    """The small unreleased fragments, in groups that compaction merges into one fragment
    each (groups of one are left alone)."""
    groups: list[list[FragmentInfo]] = [[]]
    total = 0
    for path, info in state.fragments.items():
        if path in state.released_fragments or info["bytes"] >= tuning.small_fragment_bytes:
            continue
        if groups[-1] and total + info["bytes"] > tuning.compact_group_bytes:
            groups.append([])
            total = 0
        groups[-1].append(info)
        total += info["bytes"]
    return [group for group in groups if len(group) > 1]


def compact(writer: Writer) -> Compaction:
    """Merge the head's small unreleased fragments, group by group, in one commit (the
    caller holds the lock and has upgraded the schema)."""
    tuning = writer.reader.tuning

    def build(state: HeadState) -> Entry:
        added, removed = [], []
        for group in compaction_groups(state, tuning):
            table = _read_fragments(writer.path, group)
            added.append(write_fragment(writer.path, table.sort_by(
                [("date", "ascending"), ("id", "ascending")])))
            removed.extend(group)
        return new_entry(state, operation="compact", added=added, removed=removed,
                         message=f"compact {len(removed)} fragments into {len(added)}")

    if not compaction_groups(writer.reader.head(), tuning):
        return Compaction(0, 0)
    entry = writer.commit(build)
    return Compaction(len(entry["removed"]), len(entry["added"]))


def compact_if_due(writer: Writer) -> None:
    """Compact when many small fragments have gathered (called under the lock).

    Only small fragments count: they are what compaction merges (a bulk import's large
    fragments stay, and each costs a read little beside its size), so a head with many
    large fragments does not compact again after every add.
    """
    state, tuning = writer.reader.head(), writer.reader.tuning
    small = [info["bytes"] for path, info in state.fragments.items()
             if path not in state.released_fragments
             and info["bytes"] < tuning.small_fragment_bytes]
    if len(small) > tuning.auto_compact_fragments or sum(small) >= tuning.auto_compact_bytes:
        compact(writer)


def _read_fragments(corpus: Path, infos: list[FragmentInfo]) -> pa.Table:
    """The fragments' rows as one table, each fragment checked against the log's SHA-256
    and every page's checksum verified."""
    import pyarrow as pa

    from policyspeech.nofollow import read_fragment

    return pa.concat_tables(read_fragment(fragment_file(corpus, info), info["sha256"])
                            for info in infos)
