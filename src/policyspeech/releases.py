"""Releases: semantic versions, the corpus fingerprint, manifests, changes and the changelog.

A release names a commit with a version ``MAJOR.MINOR.PATCH``. A release that adds records
is at least minor, one that only amends or retracts may be a patch, and a change of the
schema's major version needs a major release. The fingerprint that a citation pins is a
SHA-256 over the schema version and the canonical JSON of every record in id order: it
does not depend on Parquet bytes, compression or library versions.

Fingerprint method 2 (releases made since version 0.2 of policyspeech; a manifest names
its ``fingerprint_method``, absent meaning 1) leaves each record's ``text`` out of its
canonical JSON: the record's ``text_sha256``, the SHA-256 of the text, stands for it, as
a file's hash stands for it in a Merkle tree. It pins the same records, and it needs no
text to be read, so a release of 100,000 speeches is fingerprinted in about a second
instead of a minute. Method 1 hashed the texts themselves; old manifests keep it.

Release notes and the reasons of corrections are user text: in generated Markdown
(``CHANGELOG.md``, the card) they are escaped by :func:`markdown_text`, so that no line of
theirs starts a heading, a list, a quote, an HTML block or a link definition.

Examples
--------
>>> next_version(None, "major"), next_version("1.2.3", "minor"), next_version("1.2.3", "patch")
('1.0.0', '1.3.0', '1.2.4')
>>> canonical_json({"b": [1], "a": "é", "d": datetime.date(2019, 10, 30)})
b'{"a":"\\xc3\\xa9","b":[1],"d":"2019-10-30"}'
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policyspeech.documents import Manifest
from policyspeech.errors import CorpusError, UnknownVersionError
from policyspeech.log import HeadState
from policyspeech.text import is_nfc

if TYPE_CHECKING:
    import pyarrow as pa

BUMPS = ("patch", "minor", "major")
VERSION_PATTERN = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
FINGERPRINT_PREFIX = "policyspeech-fingerprint/1"
FINGERPRINT_METHOD = 2
"""The method new releases use (see the module text)."""
_PREFIXES = {1: FINGERPRINT_PREFIX, 2: "policyspeech-fingerprint/2"}


def parse_version(text: str) -> tuple[int, int, int]:
    """``"1.2.3"`` -> ``(1, 2, 3)``; anything else is an :class:`UnknownVersionError`."""
    match = VERSION_PATTERN.match(text)
    if match is None:
        raise UnknownVersionError(
            f"version '{text}' is not a release number (MAJOR.MINOR.PATCH), 'latest' or 'head'"
        )
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def next_version(latest: str | None, bump: str) -> str:
    """The version after ``latest`` (``None``: no release yet) for ``bump``."""
    major, minor, patch = parse_version(latest) if latest else (0, 0, 0)
    if bump == "major":
        return f"{major + 1}.0.0"
    if bump == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def latest_version(state: HeadState) -> str | None:
    """The highest released version, or None."""
    return max(state.releases, key=parse_version) if state.releases else None


def required_bump(state: HeadState) -> str | None:
    """The smallest bump the head needs over the newest release; None if nothing changed."""
    latest = latest_version(state)
    if latest is not None:
        released_major = state.releases[latest]["schema_version"].split(".")[0]
        if released_major != state.schema_version.split(".")[0]:
            return "major"
    if not state.pending:
        return None
    return "minor" if any(c["operation"] == "add" for c in state.pending) else "patch"


def check_bump(state: HeadState, bump: str | None) -> str:
    """Return the bump to use, or raise naming the rule that ``bump`` breaks."""
    if bump is not None and bump not in BUMPS:
        raise CorpusError(f"bump '{bump}' is not known; use major, minor or patch")
    needed = required_bump(state)
    latest = latest_version(state)
    if needed is None and latest is None:
        raise CorpusError("nothing to release: the corpus has no records yet; add speeches "
                          "first")
    if needed is None:
        raise CorpusError(
            f"nothing changed since release {latest}; add, amend or retract speeches first"
        )
    if latest is None and needed == "patch":
        needed = "minor"
    if bump is None:
        return needed
    if BUMPS.index(bump) < BUMPS.index(needed):
        why = {"minor": "adds records", "major": "changes the schema's major version"}[needed]
        raise CorpusError(
            f"this release {why}, so it must be at least {needed}; "
            f"use `policyspeech release {needed}`"
        )
    return bump


def canonical_json(record: dict[str, Any]) -> bytes:
    """A record as canonical JSON: sorted keys, no white space, UTF-8, NFC, ISO dates."""
    text = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=_iso_date)
    return unicodedata.normalize("NFC", text).encode("utf-8")


def _iso_date(value: Any) -> str:
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise TypeError(f"cannot put {type(value).__name__} in a record")


def fingerprint_records(records: Iterable[dict[str, Any]], schema_version: str,
                        method: int = 1) -> str:
    """SHA-256 over the schema version and each record's canonical JSON, in id order
    (without the ``text`` field in ``method`` 2: its ``text_sha256`` stands for it)."""
    if method not in _PREFIXES:
        raise CorpusError(f"fingerprint method {method} is unknown to this policyspeech; "
                          "upgrade policyspeech (pip install -U policyspeech)")
    digest = hashlib.sha256(f"{_PREFIXES[method]}\nschema {schema_version}\n".encode())
    for record in sorted(records, key=lambda r: r["id"]):
        if method == 2:
            record = {k: v for k, v in record.items() if k != "text"}
        digest.update(canonical_json(record))
        digest.update(b"\n")
    return digest.hexdigest()


def fingerprint_table(table: pa.Table, schema_version: str, method: int = 1) -> str:
    """The fingerprint of the records in an Arrow table."""
    return fingerprint_records(_records(table, schema_version), schema_version, method)


def fingerprint_paths(paths: Sequence[Path], schema_version: str,
                      method: int = FINGERPRINT_METHOD) -> str:
    """The fingerprint of the records in Parquet fragments (method 2 reads every column
    but the text; every page's checksum is verified)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from policyspeech.schema import arrow_schema, fields_of

    columns = [f.name for f in fields_of(schema_version) if f.name != "text" or method == 1]
    schema = arrow_schema(schema_version)
    tables = [pq.read_table(path, columns=columns, page_checksum_verification=True)
              for path in paths]
    table = pa.concat_tables(tables) if tables else pa.schema(
        [schema.field(n) for n in columns]).empty_table()
    if method == 2:
        lines = _canonical_lines(table, schema_version)
        if lines is not None:
            digest = hashlib.sha256(f"{_PREFIXES[2]}\nschema {schema_version}\n".encode())
            digest.update(lines)
            return digest.hexdigest()
    return fingerprint_records(_records(table, schema_version), schema_version, method)


SAMPLE_ROWS = 200


def _canonical_lines(table: pa.Table, schema_version: str) -> bytes | None:
    """Every record's canonical JSON and a newline, in id order, written by polars's
    NDJSON writer (a hundred times faster than one ``json.dumps`` per record). Its bytes
    are those of :func:`canonical_json` (sorted keys, no white space, the same escapes,
    ISO dates): the first rows are checked against it, and None is returned, for the
    slow path, if they ever differ or the text is not NFC."""
    import io

    import polars as pl

    ordered = table.select(sorted(table.column_names)).sort_by("id")
    sink = io.BytesIO()
    frame = pl.from_arrow(ordered, rechunk=False)
    assert isinstance(frame, pl.DataFrame)
    frame.write_ndjson(sink)
    lines = sink.getvalue()
    sample = ordered.slice(0, SAMPLE_ROWS)
    expected = b"".join(canonical_json(record) + b"\n"
                        for record in _records(sample, schema_version))
    if not lines.startswith(expected) or not is_nfc(lines.decode("utf-8")):
        return None
    return lines


def _records(table: pa.Table, schema_version: str) -> list[dict[str, Any]]:
    """The records of ``table`` with the fields of ``schema_version`` (those it has)."""
    from policyspeech.schema import fields_of

    names = [f.name for f in fields_of(schema_version) if f.name in table.column_names]
    return [{name: row[name] for name in names} for row in table.to_pylist()]


def pending_changes(state: HeadState) -> dict[str, Any]:
    """What the changes since the newest release add up to, record by record."""
    added: list[str] = []
    amended: dict[str, dict[str, Any]] = {}
    retracted: dict[str, str | None] = {}
    for change in state.pending:
        for record_id in change["ids"]:
            if change["operation"] == "add":
                added.append(record_id)
            elif change["operation"] == "amend" and record_id not in added:
                entry = amended.setdefault(record_id, {"id": record_id, "fields": [],
                                                       "reasons": []})
                entry["fields"] = sorted(set(entry["fields"]) | set(change["fields"]))
                entry["reasons"].append(change["reason"])
            elif change["operation"] == "retract":
                if record_id in added:
                    added.remove(record_id)
                else:
                    amended.pop(record_id, None)
                    retracted[record_id] = change["reason"]
    return {
        "added": sorted(added),
        "amended": [amended[k] for k in sorted(amended)],
        "retracted": [{"id": k, "reason": retracted[k]} for k in sorted(retracted)],
    }


_INLINE_ESCAPES = str.maketrans({
    "\\": "\\\\", "`": "\\`", "*": "\\*", "_": "\\_", "[": "\\[", "]": "\\]", "|": "\\|",
    "~": "\\~", "&": "&amp;", "<": "&lt;", ">": "&gt;"})
"""Characters that make inline Markdown (code, emphasis, links, tables, strikethrough) or
HTML (tags, entities)."""
_BLOCK_START = re.compile(r"[#+=-]|\d+(?=[.)])")
"""What starts a block when it starts a line: a heading, a list item, a setext underline
or thematic break, an ordered list item (the number, then ``.`` or ``)``)."""
_LINE_BREAK = re.compile(r"\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")


def markdown_text(text: str) -> str:
    """``text`` as one line of Markdown that shows it literally: white space (line
    breaks included) collapsed, inline markup and HTML escaped, a block start escaped.

    >>> markdown_text("## 9.9.9\\n- forged <script>x</script> [x](javascript:y)")
    '\\\\## 9.9.9 - forged &lt;script&gt;x&lt;/script&gt; \\\\[x\\\\](javascript:y)'
    >>> markdown_text("1. first"), markdown_text("A plain note.")
    ('1\\\\. first', 'A plain note.')
    """
    line = " ".join(text.split()).translate(_INLINE_ESCAPES)
    start = _BLOCK_START.match(line)
    if start is None:
        return line
    if start.group().isdigit():  # "1." and "1)" start an ordered list
        return f"{start.group()}\\{line[start.end():]}"
    return "\\" + line


def markdown_lines(text: str) -> list[str]:
    """Multi-line ``text`` (release notes) as Markdown lines, each escaped by
    :func:`markdown_text`; runs of blank lines become one paragraph break.

    >>> markdown_lines("Fixes.\\n\\n\\n## 9.9.9\\n- forged")
    ['Fixes.', '', '\\\\## 9.9.9', '\\\\- forged']
    """
    lines: list[str] = []
    for raw in _LINE_BREAK.split(text):
        line = markdown_text(raw)
        if line or (lines and lines[-1]):
            lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def changelog_markdown(manifests: Sequence[Manifest]) -> str:
    """``CHANGELOG.md``: every release, newest first, record by record."""
    lines = ["# Changelog", "", "Generated by `policyspeech release`; one section per release, "
             "record by record.", ""]
    for manifest in sorted(manifests, key=lambda m: parse_version(m["version"]), reverse=True):
        changes = manifest["changes"]
        lines += [f"## {manifest['version']} ({manifest['date']})", ""]
        if manifest.get("notes"):
            lines += [*markdown_lines(manifest["notes"]), ""]
        lines += [f"{_count(manifest['records'], 'record')}; fingerprint "
                  f"`{manifest['fingerprint']}`.", ""]
        if changes["added"]:
            lines += [f"### Added ({len(changes['added'])})", ""]
            lines += [f"- `{record_id}`" for record_id in changes["added"]] + [""]
        if changes["amended"]:
            lines += [f"### Amended ({len(changes['amended'])})", ""]
            lines += [f"- `{a['id']}`: {', '.join(a['fields'])} "
                      f"({markdown_text('; '.join(map(str, a['reasons'])))})"
                      for a in changes["amended"]] + [""]
        if changes["retracted"]:
            lines += [f"### Retracted ({len(changes['retracted'])})", ""]
            lines += [f"- `{r['id']}`: {markdown_text(str(r['reason']))}" for r in changes["retracted"]] + [""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _count(number: int, noun: str) -> str:
    """``1 record``, ``2 records``."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"
