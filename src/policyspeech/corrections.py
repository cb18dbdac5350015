"""Corrections: amending records (one, or thousands in one commit) and retracting them.

A correction is a new commit with a reason. Each fragment that holds a corrected record
is copied with the record replaced (or removed), read with every Parquet page's checksum
verified, so that a damaged fragment is never copied into a new, validly hashed one.
Released fragments are never rewritten: every release loads byte for byte as it was.

:func:`amend_all` takes rows of ``id`` plus the fields to change (and a ``reason`` per
row, or one for all), as a JSONL or CSV file gives them (:func:`read_amendments`), and
commits them all or nothing: every bad row is listed with its label. A field given as
None (``null`` in JSON Lines) or an empty list is cleared (a required one cannot be). A
row that changes nothing is counted and left out, and a file whose every row matches the
corpus already commits nothing, so a file of corrections can be applied again; an
amended record that would become the same speech as another is refused.

Examples
--------
>>> import tempfile, pathlib
>>> from policyspeech.store import Corpus
>>> corpus = Corpus.init(pathlib.Path(tempfile.mkdtemp()) / "c")
>>> speech = {"title": "T", "speaker": "S", "country": "GB", "date": "2019", "language": "en"}
>>> ids = corpus.add_all([{**speech, "text": "One."}, {**speech, "text": "Two."}])
>>> result = amend_all(corpus.writer, [("row 1", {"id": ids[0], "themes": ["health"]}),
...                             ("row 2", {"id": ids[1], "themes": ["energy"]})],
...                    reason="CAP coding")
>>> result.amended, result.unchanged
(2, 0)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from policyspeech.commit import Writer, require_current_schema
from policyspeech.documents import Entry, FragmentInfo
from policyspeech.errors import (
    BatchError,
    DuplicateSpeechError,
    IntegrityError,
    InvalidSpeechError,
    RecordNotFoundError,
)
from policyspeech.identity import speech_key
from policyspeech.layout import fragment_file
from policyspeech.log import HeadState, new_entry
from policyspeech.schema import FIELDS_BY_NAME
from policyspeech.text import check_note
from policyspeech.tuning import DEFAULT_MAX_ERRORS
from policyspeech.validate import validate_speech

if TYPE_CHECKING:
    import pyarrow as pa


DERIVED = ("word_count", "text_sha256")
_Plan: TypeAlias = tuple[dict[str, dict[str, Any]],
                         list[tuple[FragmentInfo, "pa.Table", list[dict[str, Any]]]]]
"""What an amendment will commit: the amended records by id, and each fragment to copy
with its table and its new records."""


@dataclass
class Amendments:
    """What :func:`amend_all` did: the fields changed per id, and rows that changed nothing."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    unchanged: int = 0

    @property
    def amended(self) -> int:
        return len(self.fields)


def require_reason(reason: str | None) -> str:
    """The reason with its white space collapsed; raise when there is none."""
    if reason is None or not str(reason).strip():
        raise InvalidSpeechError("a correction needs a reason; give --reason TEXT (it is kept "
                                 "in the log and the changelog)")
    check_note(str(reason), "the reason")
    return " ".join(str(reason).split())


def amend_all(writer: Writer, rows: Iterable[tuple[str, Mapping[str, Any]]], *,
              reason: str | None = None, strict: bool = False, max_errors: int = DEFAULT_MAX_ERRORS,
              message: str | None = None) -> Amendments:
    """Amend the records that ``(label, row)`` pairs name, in one commit, all or nothing.

    Each row has the ``id`` and the fields to change; its ``reason`` (else ``reason``)
    says why. ``strict`` makes a row that changes nothing an error (one ``amend``).
    """
    check_note(message, "the log message")
    wanted, problems, order = _collect(rows, reason)
    if not wanted and not problems:
        raise InvalidSpeechError("no amendments given; give rows of id, the fields to change "
                                 "and a reason")
    result = Amendments()
    writer.check_writable()

    def plan(state: HeadState) -> _Plan:
        """The amended records and the fragments to copy, once every row checks."""
        result.fields, result.unchanged = {}, 0
        found = dict(problems)
        missing = {i for i in wanted if i not in state.hash_by_id}
        for record_id in missing:
            found[wanted[record_id][0]] = RecordNotFoundError(_not_found(state, record_id))
        records: dict[str, dict[str, Any]] = {}
        rewrites = []
        for info, table, olds in _holders(writer.path, state, set(wanted) - missing):
            replaced = []
            for old in olds:
                label, changes, why = wanted[old["id"]]
                try:
                    record = _amended(old, changes)
                except InvalidSpeechError as exc:
                    found[label] = exc
                    continue
                changed = [name for name in record if record[name] != old.get(name)]
                if not changed:
                    if strict:
                        found[label] = InvalidSpeechError(
                            f"'{old['id']}' already has these values; nothing to amend")
                    result.unchanged += 1
                    continue
                result.fields[old["id"]] = changed
                records[old["id"]] = {**record, "_reason": why, "_label": label}
                replaced.append(record)
            if replaced:
                rewrites.append((info, table, replaced))
        _check_keys(state, records, found)
        if found:  # listed in the order of the rows
            _raise(dict(sorted(found.items(), key=lambda item: order.get(item[0], 0))),
                   max_errors)
        if not records:
            if strict:
                raise InvalidSpeechError("nothing to amend: the record already has these values")
            raise _NothingChanged
        return records, rewrites

    planned: dict[int, _Plan] = {}

    def build(state: HeadState) -> Entry:
        if state.seq not in planned:  # another writer committed since the rows were checked
            planned.clear()
            planned[state.seq] = plan(state)
        records, rewrites = planned[state.seq]
        require_current_schema(state)
        added = [new for _info, table, replaced in rewrites
                 for new in _rewrite(writer.path, table, replaced)]
        removed = [info for info, _table, _replaced in rewrites]
        ids = list(records)
        reasons = {records[i]["_reason"] for i in ids}
        return new_entry(
            state, operation="amend",
            message=message or (f"amend {ids[0]}" if len(ids) == 1 else f"amend {len(ids)} "
                                "speeches"),
            added=added, removed=removed, ids=ids,
            text_sha256=[records[i]["text_sha256"] for i in ids],
            keys=[speech_key(records[i]) for i in ids], removed_ids=ids,
            removed_keys=[state.key_by_id.get(i) for i in ids],
            fields=sorted({f for i in ids for f in result.fields[i]}),
            reason=reasons.pop() if len(reasons) == 1 else None,
            amendments=[{"id": i, "fields": result.fields[i], "reason": records[i]["_reason"]}
                        for i in ids])

    head = writer.reader.head(writing=True)
    with contextlib.suppress(_NothingChanged):  # nothing to change: no commit
        planned[head.seq] = plan(head)  # checked before the lock: a refused amend writes nothing
        with writer.writing():
            writer.commit(build)
    return result


class _NothingChanged(Exception):
    """Raised by a commit's build when no record would change (caught: nothing to do)."""


def retract(writer: Writer, record_id: str, *, reason: str) -> None:
    """Remove a record from the head in a new commit; its id is never reused."""
    why = require_reason(reason)
    writer.check_writable()

    def check(state: HeadState) -> None:
        if record_id not in state.hash_by_id:
            raise RecordNotFoundError(_not_found(state, record_id))

    def build(state: HeadState) -> Entry:
        check(state)
        require_current_schema(state)
        [(info, table, _olds)] = _holders(writer.path, state, {record_id})
        return new_entry(state, operation="retract", message=f"retract {record_id}",
                         added=_rewrite(writer.path, table, [], drop={record_id}),
                         removed=[info], removed_ids=[record_id],
                         removed_keys=[state.key_by_id.get(record_id)], reason=why)

    check(writer.reader.head(writing=True))  # before the lock: a refused retract writes nothing
    with writer.writing():
        writer.commit(build)


def read_amendments(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """The rows of a JSONL or CSV file of amendments, labelled ``FILE:LINE``.

    CSV cells that are empty change nothing; ``themes`` and ``keywords`` are ``a; b``. In
    JSON Lines a field given as ``null``, ``""`` or ``[]`` is cleared.
    """
    from policyspeech.importing import ImportOptions, table_rows

    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".csv", ".tsv"):
        raise InvalidSpeechError(f"{path}: give amendments as a .jsonl or .csv file (id, the "
                                 "fields to change, and a reason column or --reason)")
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise InvalidSpeechError(f"{path}: cannot read ({exc.strerror})") from None
    if suffix == ".jsonl":
        with open(path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if raw.strip():
                    yield f"{path}:{number}", _json_row(raw)
    else:
        for label, row in table_rows(path, ImportOptions(), check=False):
            if isinstance(row, InvalidSpeechError):
                yield label, {"_error": str(row)}
                continue
            yield label, {k: v for k, v in row.items() if v not in ("", [])}


def _json_row(raw: bytes) -> dict[str, Any]:
    from policyspeech.ingest import json_record  # a key twice, deep nesting: refused

    try:
        row = json_record(raw)
    except InvalidSpeechError as exc:
        return {"_error": str(exc)}
    return row if isinstance(row, dict) else {"_error": "each line must be a JSON object"}


def _collect(rows: Iterable[tuple[str, Mapping[str, Any]]], reason: str | None
             ) -> tuple[dict[str, tuple[str, dict[str, Any], str]],
                        list[tuple[str, Exception]], dict[str, int]]:
    """The rows by id as (label, changes, reason), the rows that are bad already, and the
    position of each row by its label."""
    wanted: dict[str, tuple[str, dict[str, Any], str]] = {}
    problems: list[tuple[str, Exception]] = []
    order: dict[str, int] = {}
    rows = list(rows)
    if (reason is None or not reason.strip()) and rows and not any(
            str(row.get("reason") or "").strip() for _label, row in rows):
        require_reason(None)  # one error for the whole file, not one per row
    for label, row in rows:
        order.setdefault(label, len(order))
        changes = {k: (None if v in ("", [], ()) else v) for k, v in row.items()}
        try:
            if "_error" in changes:
                raise InvalidSpeechError(str(changes["_error"]))
            record_id = str(changes.pop("id", "") or "")
            if not record_id:
                raise InvalidSpeechError("no id; give the id of the speech to amend")
            why = require_reason(changes.pop("reason", None) or reason)
            for name in DERIVED:
                changes.pop(name, None)  # derived again from the (new) text
            if not changes:
                raise InvalidSpeechError(f"nothing to amend in '{record_id}'; give the fields "
                                         "to change (or --text FILE)")
            cleared = [k for k, v in changes.items() if v is None and k in FIELDS_BY_NAME
                       and FIELDS_BY_NAME[k].required]
            if cleared:
                raise InvalidSpeechError(f"'{cleared[0]}' is required and cannot be cleared; "
                                         f"give '{record_id}' another value")
            if record_id in wanted:
                raise InvalidSpeechError(f"'{record_id}' is amended twice (also at "
                                         f"{wanted[record_id][0]}); give one row per id")
        except InvalidSpeechError as exc:
            problems.append((label, exc))
            continue
        wanted[record_id] = (label, changes, why)
    return wanted, problems, order


def _amended(old: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``old`` with ``changes``, validated (derived fields derived again)."""
    if "id" in changes and changes["id"] != old["id"]:
        raise InvalidSpeechError("an id never changes; retract the record and add it again "
                                 "under the new id instead")
    merged = {k: v for k, v in old.items() if k not in DERIVED}
    merged.update(changes)
    if "date" in changes and "date_precision" not in changes:
        merged.pop("date_precision", None)
    try:
        record = validate_speech(merged)
    except InvalidSpeechError as exc:
        raise InvalidSpeechError(f"{old['id']}: {exc}") from None
    record["id"] = old["id"]
    return record


def _check_keys(state: HeadState, records: dict[str, dict[str, Any]],
                found: dict[str, Exception]) -> None:
    """An amended record may not become the same speech as another record: one of the
    head that keeps its key, or another record amended in the same commit."""
    owners: dict[str, str] = {}
    for record_id, record in records.items():
        key = speech_key(record)
        owner = owners.get(key)
        if owner is None:
            holder = state.id_by_key.get(key)
            if holder is not None and holder != record_id and holder not in records:
                owner = holder  # a record the amendment leaves as it is
        if owner is not None:
            found[record["_label"]] = DuplicateSpeechError(
                f"amended, '{record_id}' would be the same speech (same text, speaker, date "
                f"and source) as '{owner}'; nothing was changed")
            continue
        owners[key] = record_id


def _holders(corpus: Path, state: HeadState, ids: set[str]
             ) -> list[tuple[FragmentInfo, pa.Table, list[dict[str, Any]]]]:
    """Each fragment of the head that holds some of ``ids``: its log description, its
    table (checked against the log's SHA-256, every page's checksum verified) and those
    records."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from policyspeech.arrays import string_array
    from policyspeech.nofollow import read_fragment

    if not ids:
        return []
    wanted = string_array(sorted(ids))
    holders = []
    seen = 0
    for info in state.fragments.values():
        path = fragment_file(corpus, info)
        found = pq.read_table(path, columns=["id"], page_checksum_verification=True)["id"]
        if not pc.any(pc.is_in(found, value_set=wanted)).as_py():
            continue
        table = read_fragment(path, info["sha256"])
        rows = table.filter(pc.is_in(table["id"], value_set=wanted)).to_pylist()
        holders.append((info, table, rows))
        seen += len(rows)
    if seen < len(ids):
        raise IntegrityError("the log names records that no fragment of the head holds; run "
                             "`policyspeech verify`")
    return holders


def _rewrite(corpus: Path, table: pa.Table, replacements: list[dict[str, Any]],
             drop: set[str] | None = None) -> list[FragmentInfo]:
    """Copy-on-write: ``table`` without the replaced (or ``drop``ped) records, plus the
    replacements, as a new fragment; no fragment when nothing is left."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from policyspeech.arrays import string_array
    from policyspeech.fragments import records_to_table, write_fragment

    gone = string_array(sorted((drop or set()) | {r["id"] for r in replacements}))
    kept = table.filter(pc.invert(pc.is_in(table["id"], value_set=gone)))
    if replacements:
        kept = pa.concat_tables([kept, records_to_table(replacements)])
    if kept.num_rows == 0:
        return []
    ordered = kept.sort_by([("date", "ascending"), ("id", "ascending")])
    return [write_fragment(corpus, ordered)]


def _not_found(state: HeadState, record_id: str) -> str:
    retracted = record_id in state.ids_ever
    return (f"no speech with id '{record_id}' in the head"
            + ("; it was retracted" if retracted else "; list the ids with `policyspeech list`"))


def _raise(found: dict[str, Exception], max_errors: int) -> None:
    if len(found) == 1:
        [(label, exc)] = found.items()
        raise type(exc)(f"{label}: {exc}" if label else str(exc))
    problems = [f"{label}: {exc}" for label, exc in list(found.items())[:max_errors]]
    raise BatchError(problems, len(found), outcome="nothing was changed")
