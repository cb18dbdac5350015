"""Normalisation of speech text (DESIGN.md, "Normalisation of text")."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, reject
from hypothesis import strategies as st

from policyspeech.errors import InvalidSpeechError
from policyspeech.text import normalise_and_count, normalise_text, text_sha256, word_count


@pytest.mark.parametrize(
    ("raw", "expected", "joined"),
    [
        ("a.\r\nb.\rc.", "a.\nb.\nc.", "a.\nb.\nc."),
        ("One.   \n\n\n\n   \nTwo.\t ", "One.\n\nTwo.", "One.\n\nTwo."),
        ("\n\n  Indented.\n", "  Indented.", "  Indented."),
        ("Although we are leaving\n\nthe EU, we stay.", "Although we are leaving\n\nthe EU, we stay.",
         "Although we are leaving the EU, we stay."),
        ("a b\n\nc d\n\ne f.", "a b\n\nc d\n\ne f.", "a b c d e f."),
        ("Dringliche Anfrage\n\nder Abgeordneten Dr. Gusenbauer",
         "Dringliche Anfrage\n\nder Abgeordneten Dr. Gusenbauer",
         "Dringliche Anfrage der Abgeordneten Dr. Gusenbauer"),
        ("Heading\n\nBody starts upper.", "Heading\n\nBody starts upper.",
         "Heading\n\nBody starts upper."),
        ("Ends well.\n\nlower case start.", "Ends well.\n\nlower case start.",
         "Ends well.\n\nlower case start."),
        ("He said “yes”\n\nand left.", "He said “yes”\n\nand left.", "He said “yes”\n\nand left."),
        ("Cafe\u0301 au lait.", "Café au lait.", "Café au lait."),
        ("Tabs\tstay.", "Tabs\tstay.", "Tabs\tstay."),
        ("Line one.\u2028Line two.\u2029Next.", "Line one.\nLine two.\n\nNext.",
         "Line one.\nLine two.\n\nNext."),
    ],
)
def test_normalise(raw: str, expected: str, joined: str) -> None:
    """Paragraphs stay as given; only ``join_lines`` (text and Markdown files) joins a
    sentence broken across paragraphs."""
    assert normalise_text(raw) == expected
    assert normalise_text(raw, join_lines=True) == joined


@pytest.mark.parametrize("raw", ["", "   ", "\n\n\t\n", "\r\n"])
def test_empty_text_is_rejected(raw: str) -> None:
    with pytest.raises(InvalidSpeechError, match="text is empty"):
        normalise_text(raw)


@pytest.mark.parametrize(("raw", "code"), [("a\x00b", "U+0000"), ("a\x1bb", "U+001B"),
                                           ("ok\nb\x85", "U+0085"), ("x\ud800", "U+D800")])
def test_control_characters_and_surrogates_are_rejected(raw: str, code: str) -> None:
    with pytest.raises(InvalidSpeechError, match=re.escape(code)):
        normalise_text(raw)


def test_error_names_line_and_column() -> None:
    with pytest.raises(InvalidSpeechError, match="line 2, column 3"):
        normalise_text("first\nse\x07cond")


def test_derived_values() -> None:
    assert word_count("a  b\n\nc-d e") == 4
    assert text_sha256("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert text_sha256("e\u0301") != text_sha256("é")  # hashing does not normalise
    assert text_sha256("é") == "4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c"


text_chars = st.characters(codec="utf-8", exclude_categories=("Cs",))


@given(st.text(text_chars, min_size=1, max_size=300))
def test_normalising_twice_changes_nothing(raw: str) -> None:
    try:
        once = normalise_text(raw)
    except InvalidSpeechError:
        reject()  # not a text (about half draw a control character); Hypothesis draws again
    assert normalise_text(once) == once
    assert unicodedata.is_normalized("NFC", once)
    assert "\r" not in once and "\n\n\n" not in once
    assert all(line == line.rstrip() for line in once.split("\n"))


@given(st.lists(st.from_regex(r"[A-Za-z][a-z]{0,8}", fullmatch=True), min_size=1, max_size=60))
def test_words_are_kept_in_order(words: list[str]) -> None:
    raw = "\n\n".join(" ".join(words[i : i + 5]) for i in range(0, len(words), 5))
    assert normalise_text(raw).split() == words


def _reference_normalise(text: str, join_lines: bool) -> str:
    """The rules applied literally to the whole text, with no fast path: the fast
    implementation must give exactly this result (or raise exactly when this raises)."""
    from policyspeech.text import CLOSING_PUNCTUATION, check_characters, check_mojibake

    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n\n")
    check_characters(text)
    check_mojibake(text)
    lines = [line.rstrip() for line in text.split("\n")]
    joined: list[str] = []
    for paragraph in re.split(r"\n{2,}", "\n".join(lines).strip("\n")):
        if not paragraph.strip():
            continue
        if (join_lines and joined and joined[-1][-1] not in CLOSING_PUNCTUATION
                and paragraph.lstrip()[0].islower()):
            joined[-1] = f"{joined[-1]} {paragraph.lstrip()}"
        else:
            joined.append(paragraph)
    if not joined:
        raise InvalidSpeechError("text is empty; give the speech's text")
    return "\n\n".join(joined)


TRICKY = st.text(
    alphabet=st.sampled_from(list("ab A.,\t \n\n\r\u2028\u2029\u0301\u0308e\u00e9\u00a0Ã©â€™\x00\x85"
                                  "\u200b\u00ad")) | st.characters(),
    max_size=60,
)


@given(TRICKY, st.booleans())
def test_fast_path_equals_the_reference_rules(raw: str, join_lines: bool) -> None:
    try:
        expected: str | type[Exception] = _reference_normalise(raw, join_lines)
    except InvalidSpeechError as exc:
        expected = type(exc)
        with pytest.raises(InvalidSpeechError) as caught:
            normalise_text(raw, join_lines=join_lines)
        assert str(caught.value) == str(exc)
        return
    assert normalise_text(raw, join_lines=join_lines) == expected
    assert normalise_and_count(raw, join_lines=join_lines) == (expected, word_count(expected))
