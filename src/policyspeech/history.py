"""Records across versions: one record of a version, and what changed between two.

Examples
--------
>>> from policyspeech.reader import Reader
>>> seed = "gb-2019-10-30-brandon-lewis-security-minister-s-speech-on-security-and-crime-after-brexit"
>>> get(Reader(), seed, "1.0.0")["speaker"]
'Brandon Lewis'
>>> diff(Reader(), "1.0.0", "head")["added"]
[]
"""

from __future__ import annotations

from typing import Any

from policyspeech.documents import Entry
from policyspeech.errors import RecordNotFoundError
from policyspeech.log import read_entry
from policyspeech.reader import Reader


def get(reader: Reader, record_id: str, version: str = "head") -> dict[str, Any]:
    """The record ``record_id`` of ``version``, as a dict of fields."""
    import polars as pl

    from policyspeech import loaders

    frame = loaders.scan(reader.path, version=version).filter(
        pl.col("id") == record_id).collect()
    if frame.height == 0:
        raise RecordNotFoundError(
            f"no speech with id '{record_id}' in version {version}; "
            "list the ids with `policyspeech list`")
    record: dict[str, Any] = frame.to_dicts()[0]
    return record


def diff(reader: Reader, a: str, b: str) -> dict[str, Any]:
    """Records added, retracted and amended (with the fields) from version ``a`` to ``b``;
    reasons come from the log entries between the two versions."""
    from policyspeech.loaders import read_arrow

    before = {r["id"]: r for r in read_arrow(reader.path, version=a).to_pylist()}
    after = {r["id"]: r for r in read_arrow(reader.path, version=b).to_pylist()}
    reasons = _reasons_between(reader, _commit_of(reader, a), _commit_of(reader, b))
    amended = []
    for record_id in sorted(before.keys() & after.keys()):
        fields = [k for k in after[record_id] if after[record_id][k] != before[record_id][k]]
        if fields:
            amended.append({"id": record_id, "fields": fields,
                            "reasons": reasons.get(record_id, [])})
    return {
        "from": reader.resolve_version(a),
        "to": reader.resolve_version(b),
        "added": sorted(after.keys() - before.keys()),
        "retracted": [{"id": i, "reasons": reasons.get(i, [])}
                      for i in sorted(before.keys() - after.keys())],
        "amended": amended,
    }


def _commit_of(reader: Reader, version: str) -> int:
    name = reader.resolve_version(version)
    state = reader.view()
    return state.seq if name == "head" else int(state.releases[name]["commit"])


def _reasons_between(reader: Reader, first: int, last: int) -> dict[str, list[str]]:
    reasons: dict[str, list[str]] = {}
    low, high = sorted((first, last))
    for seq in range(low + 1, high + 1):
        found = read_entry(reader.path, seq)
        if found is None:
            continue
        for record_id, reason in entry_reasons(found[0]):
            reasons.setdefault(record_id, []).append(reason)
    return reasons


def entry_reasons(entry: Entry) -> list[tuple[str, str]]:
    """``(id, reason)`` of each record an entry corrected (one reason per record for a
    bulk amendment)."""
    if entry.get("amendments"):
        return [(a["id"], a["reason"]) for a in entry["amendments"] if a.get("reason")]
    if entry.get("reason"):
        return [(record_id, entry["reason"]) for record_id in entry.get("removed_ids", [])]
    return []
