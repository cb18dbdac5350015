"""Reading speeches from text and Markdown files with YAML metadata.

Metadata comes from, in rising order of precedence: YAML front matter in the file, a
sidecar ``FILE.yaml`` next to it, a ``--meta`` YAML file, and explicit values (the CLI's
options). YAML is read with a ``yaml.SafeLoader`` that resolves nothing but text, lists
and mappings, so ``date: 2019-10-30`` stays the text ``'2019-10-30'`` and ``country: NO``
stays ``'NO'`` (not ``False``). Metadata that could grow or hide something is refused,
each with one error naming the file and line: aliases and anchors (``&a``/``*a``: a few
hundred bytes of them expand to gigabytes) and merge keys (``<<``), nesting deeper than
:data:`~policyspeech.tuning.MAX_METADATA_DEPTH`, a key given twice (YAML would keep the
last silently), and front matter or a metadata file over
:data:`~policyspeech.tuning.MAX_METADATA_BYTES`. JSON records are read as strictly
(:func:`json_record`: a key twice, or nesting too deep for the reader, is an error). Files are read through
:mod:`policyspeech.userfiles` (regular files only, at most the limit). A first paragraph
equal to the title is a heading, not body text, and is dropped.

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
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from policyspeech.errors import InvalidSpeechError
from policyspeech.text import normalise_text
from policyspeech.tuning import DEFAULT_MAX_BYTES, MAX_METADATA_BYTES, MAX_METADATA_DEPTH
from policyspeech.userfiles import confine, read_regular
from policyspeech.validate import Record, validate_speech


class _Refused(yaml.MarkedYAMLError):
    """YAML that is valid but not accepted as metadata (an alias, a repeated key...)."""


class _TextOnlyLoader(yaml.SafeLoader):
    """SafeLoader that resolves plain scalars to text only (no dates, numbers or
    booleans), and refuses aliases, anchors, deep nesting and repeated keys."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused(problem="YAML aliases and anchors (&name, *name) are not allowed in "
                           "metadata; write each value out", problem_mark=event.start_mark)
        if self._depth >= MAX_METADATA_DEPTH:
            raise _Refused(problem=f"metadata is nested deeper than {MAX_METADATA_DEPTH} "
                           "levels; give field: value lines (a list of text at most)",
                           problem_mark=event.start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[str] = set()
        for key_node, _value in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _Refused(problem="YAML merge keys (<<) are not allowed in metadata; "
                               "write each field out", problem_mark=key_node.start_mark)
            if isinstance(key_node, yaml.ScalarNode):
                if key_node.value in seen:
                    raise _Refused(problem=f"the key '{key_node.value}' is given twice; keep "
                                   "one (YAML would keep the last silently)",
                                   problem_mark=key_node.start_mark)
                seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)


_TextOnlyLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag == "tag:yaml.org,2002:null"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_yaml_metadata(source: str, text: str, first_line: int = 1) -> dict[str, Any]:
    """Parse YAML metadata text into a mapping, or raise naming ``source`` and the line
    (``first_line``: the line of the file that the text starts on).

    >>> parse_yaml_metadata("m.yaml", "date: 2019-10-30\\ncountry: NO\\nthemes: [health]")
    {'date': '2019-10-30', 'country': 'NO', 'themes': ['health']}
    >>> parse_yaml_metadata("m.yaml", "- a list")
    Traceback (most recent call last):
    ...
    policyspeech.errors.InvalidSpeechError: m.yaml: metadata must be a YAML mapping of field: value, got a list
    """
    try:
        data = yaml.load(text, Loader=_TextOnlyLoader)
    except _Refused as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + first_line}" if mark is not None else ""
        raise InvalidSpeechError(f"{source}{where}: {exc.problem}") from None
    except RecursionError:
        raise InvalidSpeechError(f"{source}: metadata is nested too deeply; give field: "
                                 "value lines") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + first_line}" if mark is not None else ""
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


def json_record(raw: bytes | str) -> Any:
    """One JSON value, with an object that gives a key twice refused (Python's reader
    keeps the last silently) and nesting too deep for the reader refused; raise
    :class:`InvalidSpeechError` naming the problem.

    >>> json_record(b'{"title": "a", "title": "b"}')
    Traceback (most recent call last):
    ...
    policyspeech.errors.InvalidSpeechError: the key 'title' is given twice in one object; keep one
    """
    try:
        return json.loads(raw, object_pairs_hook=_unique_keys)
    except InvalidSpeechError:
        raise
    except RecursionError:
        raise InvalidSpeechError("not valid JSON (nested too deeply); write one JSON object "
                                 "of field: value per line") from None
    except ValueError as exc:
        raise InvalidSpeechError(f"not valid JSON ({exc}); write one JSON object "
                                 "per line") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise InvalidSpeechError(f"the key '{key}' is given twice in one object; "
                                         "keep one")
            seen.add(key)
    return result


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
            _check_metadata_size(f"{source} (front matter)",
                                 sum(len(x.encode("utf-8")) + 1 for x in lines[1:number]))
            meta = parse_yaml_metadata(f"{source} (front matter)", "\n".join(lines[1:number]),
                                       first_line=2)
            return meta, "\n".join(lines[number + 1 :])
    raise InvalidSpeechError(
        f"{source}: front matter starts with '---' but has no closing '---' line; add one"
    )


def _check_metadata_size(source: str, size: int) -> None:
    if size > MAX_METADATA_BYTES:
        raise InvalidSpeechError(
            f"{source}: metadata of {size:,} bytes is larger than the limit of "
            f"{MAX_METADATA_BYTES:,}; give short field: value lines (the text goes in the body)")


def read_speech(
    path: str | Path,
    *,
    meta: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    defaults: Mapping[str, Any] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    join_lines: bool = True,
    today: datetime.date | None = None,
    root: Path | None = None,
) -> Record:
    """Read one speech file (``"-"`` for stdin) and its metadata into a validated record.

    ``defaults`` fill the fields that no metadata gives; ``overrides`` win over all.
    ``root`` (a folder import's folder) confines the file and its sidecar to that folder
    once symbolic links are resolved.
    ``join_lines`` joins sentences broken across paragraphs (see
    :func:`policyspeech.text.normalise_text`). Errors are raised as
    :class:`InvalidSpeechError` whose message starts with the file.
    """
    source = "<stdin>" if str(path) == "-" else str(path)
    if root is not None:
        _confined(Path(path), root)
    data = _read_bytes(path, source, max_bytes)
    front, body = split_front_matter(source, decode_text(data, source))
    fields = {k: v for k, v in (defaults or {}).items() if v not in (None, [], ())}
    fields.update(front)
    if str(path) != "-":
        sidecar = Path(f"{path}.yaml")
        if sidecar.exists():
            if root is not None:
                _confined(sidecar, root)
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


def read_text_file(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES,
                   join_lines: bool = True) -> str:
    """The normalised text of a text file (``amend --text``): the rules and the size
    limit of :func:`read_speech`, without metadata.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.txt"
    >>> _ = path.write_bytes(b"We act\\n\\nat once.\\r\\n")
    >>> read_text_file(path)
    'We act at once.'
    """
    source = str(path)
    try:
        return normalise_text(decode_text(_read_bytes(path, source, max_bytes), source),
                              join_lines=join_lines)
    except InvalidSpeechError as exc:
        message = str(exc)
        raise InvalidSpeechError(message if message.startswith(source) else
                                 f"{source}: {message}") from None


def _confined(path: Path, root: Path) -> None:
    """Refuse a file of a folder source that resolves outside the folder (a link)."""
    try:
        confine(root, str(path.relative_to(root)), None)
    except InvalidSpeechError:
        raise InvalidSpeechError(
            f"{path}: resolves outside the folder {root} (a symbolic link); copy the file "
            "into the folder, or import it by name") from None


def _read_bytes(path: str | Path, source: str, max_bytes: int) -> bytes:
    if str(path) == "-":
        data = sys.stdin.buffer.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise InvalidSpeechError(
                f"{source}: larger than the limit of {max_bytes:,} bytes; "
                "raise it with --max-bytes if this really is one speech")
        return data
    return read_regular(Path(path), limit=max_bytes, folder_hint=(
        "give text files (or use `policyspeech import`)"))


def _read_yaml_file(path: Path) -> dict[str, Any]:
    raw = read_regular(path, limit=MAX_METADATA_BYTES, hint="give short field: value lines (check that this is the "
                       "metadata file)")
    return parse_yaml_metadata(str(path), decode_text(raw, str(path)))
