"""Importing many speeches at once: a folder of text or Markdown files, a ``.jsonl`` file,
or a ``.csv`` file with a ``text`` column or a ``path`` column.

Each source is read lazily, one speech at a time, as ``(label, load)`` pairs: the label
names the file and line for error messages, and ``load()`` reads and validates the speech.
:meth:`policyspeech.store.Corpus.import_path` feeds them to a batch (all or nothing, with
bounded memory; see :mod:`policyspeech.batch`).

Examples
--------
>>> import tempfile, pathlib, json
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> row = {"title": "T", "speaker": "S", "country": "GB", "date": "2019", "language": "en"}
>>> _ = (folder / "s.jsonl").write_text(json.dumps({**row, "text": "Words."}) + "\\n")
>>> [(label.endswith("s.jsonl:1"), load()["text"]) for label, load in sources(folder / "s.jsonl")]
[(True, 'Words.')]
"""

from __future__ import annotations

import csv
import functools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from policyspeech.errors import InvalidSpeechError
from policyspeech.ingest import DEFAULT_MAX_BYTES, read_speech
from policyspeech.validate import Record, validate_speech

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
Loader = Callable[[], Record]


def sources(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[tuple[str, Loader]]:
    """Yield ``(label, load)`` for each speech in ``path``; ``load()`` reads and validates it."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in TEXT_SUFFIXES
                       and p.is_file() and not p.name.startswith("."))
        if not files:
            raise InvalidSpeechError(f"{path}: no .txt or .md files in this folder")
        for file in files:
            yield str(file), functools.partial(read_speech, file, max_bytes=max_bytes)
    elif path.suffix.lower() == ".jsonl":
        yield from _jsonl(path, max_bytes)
    elif path.suffix.lower() == ".csv":
        yield from _csv(path, max_bytes)
    elif not path.exists():
        raise InvalidSpeechError(f"{path}: no such file or folder; check the path")
    else:
        raise InvalidSpeechError(f"{path}: cannot import this kind of file; give a folder of "
                                 ".txt/.md files, a .jsonl file or a .csv file")


def _from_fields(fields: dict[str, Any], base: Path, max_bytes: int) -> Record:
    """A speech given as fields; a ``path`` field (relative to ``base``) supplies the text."""
    fields = {k: v for k, v in fields.items() if v not in (None, "")}
    text_path = fields.pop("path", None)
    if text_path is not None:
        if "text" in fields:
            raise InvalidSpeechError("give either text or path, not both")
        return read_speech(base / str(text_path), overrides=fields, max_bytes=max_bytes)
    return validate_speech(fields)


def _jsonl(path: Path, max_bytes: int) -> Iterator[tuple[str, Loader]]:
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if raw.strip():
                yield f"{path}:{number}", functools.partial(_json_line, raw, path.parent,
                                                            max_bytes)


def _json_line(raw: bytes, base: Path, max_bytes: int) -> Record:
    try:
        fields = json.loads(raw)
    except ValueError as exc:
        raise InvalidSpeechError(f"not valid JSON ({exc}); write one JSON object "
                                 "per line") from None
    if not isinstance(fields, dict):
        raise InvalidSpeechError("each line must be a JSON object of field: value")
    return _from_fields(fields, base, max_bytes)


def source_bytes(path: Path) -> int:
    """Bytes that importing ``path`` will read (the file, or the folder's text files)."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*")
                   if p.suffix.lower() in TEXT_SUFFIXES and p.is_file())
    return path.stat().st_size if path.is_file() else 0


def _csv(path: Path, max_bytes: int) -> Iterator[tuple[str, Loader]]:
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        if "text" not in columns and "path" not in columns:
            raise InvalidSpeechError(f"{path}: a CSV import needs a 'text' column or a 'path' "
                                     f"column; it has {', '.join(columns) or 'no header'}")
        for row in reader:
            fields: dict[str, Any] = dict(row)
            for name in ("themes", "keywords"):
                if isinstance(fields.get(name), str):
                    fields[name] = [v.strip() for v in fields[name].split(";") if v.strip()]
            yield (f"{path}:{reader.line_num}",
                   functools.partial(_from_fields, fields, path.parent, max_bytes))
