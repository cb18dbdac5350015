"""Reading speeches from text and Markdown files with YAML metadata.

Metadata comes from, in rising order of precedence: YAML front matter in the file, a
sidecar ``FILE.yaml`` next to it, a ``--meta`` YAML file, and explicit values (the CLI's
options). YAML is read with a ``yaml.SafeLoader`` that resolves nothing but text, lists
and mappings, so ``date: 2019-10-30`` stays the text ``'2019-10-30'`` and ``country: NO``
stays ``'NO'`` (not ``False``). A first paragraph equal to the title is a heading, not
body text, and is dropped.

Examples
--------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "s.md").write_text("---\\nspeaker: Ada Byron\\ncountry: GB\\n"
...     "date: 2019-10-30\\nlanguage: en\\ntitle: On engines\\n---\\n# On engines\\n\\nWe compute.\\n")
>>> record = read_speech(folder / "s.md", today=datetime.date(2026, 1, 1))
>>> record["title"], record["text"], record["date"]
('On engines', 'We compute.', datetime.date(2019, 10, 30))
"""

from __future__ import annotations

import datetime
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from policyspeech.errors import InvalidSpeechError
from policyspeech.text import normalise_text
from policyspeech.tuning import DEFAULT_MAX_BYTES
from policyspeech.validate import Record, validate_speech


class _TextOnlyLoader(yaml.SafeLoader):
    """SafeLoader that resolves plain scalars to text only (no dates, numbers or booleans)."""


_TextOnlyLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag == "tag:yaml.org,2002:null"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_yaml_metadata(source: str, text: str) -> dict[str, Any]:
    """Parse YAML metadata text into a mapping, or raise naming ``source``.

    >>> parse_yaml_metadata("m.yaml", "date: 2019-10-30\\ncountry: NO\\nthemes: [health]")
    {'date': '2019-10-30', 'country': 'NO', 'themes': ['health']}
    >>> parse_yaml_metadata("m.yaml", "- a list")
    Traceback (most recent call last):
    ...
    policyspeech.errors.InvalidSpeechError: m.yaml: metadata must be a YAML mapping of field: value, got a list
    """
    try:
        data = yaml.load(text, Loader=_TextOnlyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InvalidSpeechError(
            f"{source}: metadata is not valid YAML{where} ({problem}); "
            "write plain 'field: value' lines (python tags are not allowed)"
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidSpeechError(
            f"{source}: metadata must be a YAML mapping of field: value, "
            f"got {'a list' if isinstance(data, list) else type(data).__name__}"
        )
    return {str(key): value for key, value in data.items()}


def decode_text(data: bytes, source: str) -> str:
    """Decode strict UTF-8 (a BOM is dropped); raise naming the byte offset and the fix.

    >>> decode_text(b"\\xef\\xbb\\xbfHello", "a.txt")
    'Hello'
    >>> decode_text(b"caf\\xe9", "a.txt")
    Traceback (most recent call last):
    ...
    policyspeech.errors.InvalidSpeechError: a.txt: not valid UTF-8 at byte 3 (0xE9); the file looks like Latin-1 or Windows-1252: convert it to UTF-8 (iconv -f WINDOWS-1252 -t UTF-8)
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(data):
        raise InvalidSpeechError(
            f"{source}: the file is UTF-16, not UTF-8; convert it (iconv -f UTF-16 -t UTF-8)"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        byte = data[exc.start]
        hint = (
            "the file looks like Latin-1 or Windows-1252: convert it to UTF-8 "
            "(iconv -f WINDOWS-1252 -t UTF-8)"
            if byte >= 0x80
            else "save the file as UTF-8"
        )
        raise InvalidSpeechError(
            f"{source}: not valid UTF-8 at byte {exc.start} (0x{byte:02X}); {hint}"
        ) from None


def _looks_utf16(data: bytes) -> bool:
    """UTF-16 text without a BOM: a NUL in (nearly) every other byte, as ASCII letters give."""
    sample = data[:2000]
    halves = (sample[0::2], sample[1::2])
    return len(sample) >= 4 and any(half.count(0) >= 0.4 * len(half) for half in halves)


def split_front_matter(source: str, text: str) -> tuple[dict[str, Any], str]:
    """Split YAML front matter (between ``---`` lines at the top) from the body."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip("\r ") != "---":
        return {}, text
    for number, line in enumerate(lines[1:], start=1):
        if line.rstrip("\r ") in ("---", "..."):
            meta = parse_yaml_metadata(f"{source} (front matter)", "\n".join(lines[1:number]))
            return meta, "\n".join(lines[number + 1 :])
    raise InvalidSpeechError(
        f"{source}: front matter starts with '---' but has no closing '---' line; add one"
    )


def read_speech(
    path: str | Path,
    *,
    meta: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    defaults: Mapping[str, Any] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    join_lines: bool = True,
    today: datetime.date | None = None,
) -> Record:
    """Read one speech file (``"-"`` for stdin) and its metadata into a validated record.

    ``defaults`` fill the fields that no metadata gives; ``overrides`` win over all.
    ``join_lines`` joins sentences broken across paragraphs (see
    :func:`policyspeech.text.normalise_text`). Errors are raised as
    :class:`InvalidSpeechError` whose message starts with the file.
    """
    source = "<stdin>" if str(path) == "-" else str(path)
    data = _read_bytes(path, source, max_bytes)
    front, body = split_front_matter(source, decode_text(data, source))
    fields = {k: v for k, v in (defaults or {}).items() if v not in (None, [], ())}
    fields.update(front)
    if str(path) != "-":
        sidecar = Path(f"{path}.yaml")
        if sidecar.is_file():
            fields.update(_read_yaml_file(sidecar))
    if meta is not None:
        fields.update(_read_yaml_file(Path(meta)))
    fields.update({k: v for k, v in (overrides or {}).items() if v not in (None, [], ())})
    try:
        fields["text"] = drop_title_heading(normalise_text(body, join_lines=join_lines),
                                            fields.get("title"))
        return validate_speech(fields, today=today)
    except InvalidSpeechError as exc:
        raise InvalidSpeechError(f"{source}: {exc}") from None


def drop_title_heading(text: str, title: Any) -> str:
    """Drop a first paragraph that only repeats the title (``# Title`` in Markdown too).

    >>> drop_title_heading("On crime\\n\\nWe act.", "On  crime")
    'We act.'
    """
    if not isinstance(title, str) or "\n\n" not in text:
        return text
    first, rest = text.split("\n\n", 1)
    if " ".join(first.lstrip("#").split()) == " ".join(title.split()):
        return rest
    return text


def _read_bytes(path: str | Path, source: str, max_bytes: int) -> bytes:
    try:
        if str(path) == "-":
            data = sys.stdin.buffer.read(max_bytes + 1)
        else:
            with open(path, "rb") as handle:
                data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise InvalidSpeechError(f"{source}: no such file; check the path") from None
    except IsADirectoryError:
        raise InvalidSpeechError(
            f"{source}: is a folder; give text files (or use `policyspeech import`)"
        ) from None
    except OSError as exc:
        raise InvalidSpeechError(f"{source}: cannot read ({exc.strerror})") from None
    if len(data) > max_bytes:
        raise InvalidSpeechError(
            f"{source}: larger than the limit of {max_bytes:,} bytes; "
            "raise it with --max-bytes if this really is one speech"
        )
    return data


def _read_yaml_file(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidSpeechError(f"{path}: cannot read the metadata file ({exc.strerror})") from None
    return parse_yaml_metadata(str(path), decode_text(raw, str(path)))
