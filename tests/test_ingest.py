"""Reading speech files: encodings, front matter, sidecars, --meta and overrides."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from policyspeech.errors import InvalidSpeechError
from policyspeech.ingest import parse_yaml_metadata, read_speech

TODAY = datetime.date(2026, 11, 28)
META = "title: A title\nspeaker: Ada Lovelace\ncountry: GB\ndate: 2019-10-30\nlanguage: en\n"


def write(folder: Path, name: str, data: bytes | str) -> Path:
    path = folder / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def test_front_matter(tmp_path: Path) -> None:
    path = write(tmp_path, "s.md", f"---\n{META}themes: [health]\n---\n\nWe heal.\n")
    record = read_speech(path, today=TODAY)
    assert record["title"] == "A title" and record["themes"] == ["health"]
    assert record["text"] == "We heal."


def test_precedence_front_matter_sidecar_meta_options(tmp_path: Path) -> None:
    path = write(tmp_path, "s.txt", f"---\n{META}party: A\nevent: E1\n---\nText.")
    write(tmp_path, "s.txt.yaml", "party: B\nlocation: L2\nevent: E2\n")
    meta = write(tmp_path, "meta.yaml", "party: C\nlocation: L3\n")
    record = read_speech(path, meta=meta, overrides={"party": "D", "event": None}, today=TODAY)
    assert (record["party"], record["location"], record["event"]) == ("D", "L3", "E2")


def test_title_heading_is_dropped(tmp_path: Path) -> None:
    path = write(tmp_path, "s.md", f"---\n{META}---\n# A title\n\nBody here.")
    assert read_speech(path, today=TODAY)["text"] == "Body here."
    other = write(tmp_path, "t.txt", f"---\n{META}---\nAnother heading\n\nBody here.")
    assert read_speech(other, today=TODAY)["text"] == "Another heading\n\nBody here."


def test_yaml_values_stay_text(tmp_path: Path) -> None:
    data = parse_yaml_metadata("m", "country: NO\ndate: 2019-10-30\nnotes: 1.5\nspeaker: yes")
    assert data == {"country": "NO", "date": "2019-10-30", "notes": "1.5", "speaker": "yes"}


@pytest.mark.parametrize(("content", "message"), [
    ("!!python/object/apply:os.system ['echo hacked']", "metadata is not valid YAML"),
    ("title: !!python/object:builtins.dict {}", "python tags are not allowed"),
    ("- a\n- b", "metadata must be a YAML mapping of field: value, got a list"),
    ("just a string", "metadata must be a YAML mapping of field: value, got str"),
    ("title: [unclosed", "metadata is not valid YAML at line"),
])
def test_hostile_or_malformed_yaml(tmp_path: Path, content: str, message: str) -> None:
    meta = write(tmp_path, "m.yaml", content)
    path = write(tmp_path, "s.txt", "Text.")
    with pytest.raises(InvalidSpeechError, match=r"m\.yaml") as raised:
        read_speech(path, meta=meta, today=TODAY)
    assert message in str(raised.value)


@pytest.mark.parametrize(("data", "message"), [
    ("Hello".encode("utf-16-le"), "is UTF-16, not UTF-8"),
    ("Hello".encode("utf-16"), "is UTF-16, not UTF-8"),
    ("caf\u00e9 cr\u00e8me".encode("latin-1"), "not valid UTF-8 at byte 3 (0xE9)"),
    (b"abc\xff", "not valid UTF-8 at byte 3 (0xFF)"),
    (b"bad\x00nul", "control character U+0000"),
    (b"   \n\n  ", "text is empty"),
])
def test_bad_text_files(tmp_path: Path, data: bytes, message: str) -> None:
    path = write(tmp_path, "s.txt", data)
    write(tmp_path, "s.txt.yaml", META)
    with pytest.raises(InvalidSpeechError) as raised:
        read_speech(path, today=TODAY)
    assert str(raised.value).startswith(f"{path}: ")
    assert message in str(raised.value)


def test_bom_is_dropped_and_size_limit(tmp_path: Path) -> None:
    path = write(tmp_path, "s.txt", b"\xef\xbb\xbfText body.")
    write(tmp_path, "s.txt.yaml", META)
    assert read_speech(path, today=TODAY)["text"] == "Text body."
    with pytest.raises(InvalidSpeechError, match="larger than the limit of 5 bytes"):
        read_speech(path, max_bytes=5, today=TODAY)


def test_missing_file_and_unclosed_front_matter(tmp_path: Path) -> None:
    with pytest.raises(InvalidSpeechError, match="no such file"):
        read_speech(tmp_path / "nope.txt")
    path = write(tmp_path, "s.txt", "---\ntitle: x\nText.")
    with pytest.raises(InvalidSpeechError, match="no closing '---'"):
        read_speech(path)
