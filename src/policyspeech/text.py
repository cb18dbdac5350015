"""Normalisation of speech text, and the values derived from it.

The rules (DESIGN.md): Unicode NFC, CRLF and CR to LF, trailing white space removed,
paragraphs separated by exactly one blank line; control characters other than tab and
newline, and empty text, are errors. That is all that structured sources (JSONL, CSV,
Parquet, the adapters) get: their paragraphs stay as the source has them. Text and
Markdown files, which PDF and web extraction fill with sentences broken across lines,
also get ``join_lines``: a paragraph that ends without closing punctuation and is
followed by one that starts in lower case is joined to it.

Text keeps every format character as the source has it: left-to-right and right-to-left
marks (U+200E, U+200F), zero-width joiners and non-joiners (U+200C, U+200D: Persian,
Arabic and Indic words need them), bidirectional embeddings and isolates, which
right-to-left writing uses, and the zero-width characters that web pages leave; a speech
is kept as given, and its hash stays that of the source's words. Unicode's line and
paragraph separators (U+2028, U+2029) become a line break and a paragraph break.
Metadata fields are stricter (:func:`check_invisible`).

Examples
--------
>>> normalise_text("Although we are leaving\\r\\n\\r\\n\\r\\nthe EU, we stay.  \\nNext line.")
'Although we are leaving\\n\\nthe EU, we stay.\\nNext line.'
>>> normalise_text("Although we are leaving\\r\\n\\r\\nthe EU, we stay.", join_lines=True)
'Although we are leaving the EU, we stay.'
>>> word_count("One two\\n\\nthree")
3
>>> text_sha256("abc")[:16]
'ba7816bf8f01cfea'
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from policyspeech.errors import InvalidSpeechError

CLOSING_PUNCTUATION = frozenset(".!?…:;\"'”’»)]}。！？")
"""A paragraph ending in one of these is complete and is never joined to the next."""

_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_MOJIBAKE = re.compile("â€[\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
                       "\u02c6\u02dc\u2013-\u2026\u2030\u2039\u203a\u2122]?|Ã[\u00a0-\u00bf]"
                       "|Â[\u00a0-\u00bf]")
"""UTF-8 read as Windows-1252 and saved again: ``â€™`` for ``’``, ``Ã©`` for ``é``."""


def check_characters(text: str, what: str = "text") -> None:
    """Raise :class:`InvalidSpeechError` naming the first control character or lone surrogate.

    >>> check_characters("fine\\ttext\\n")
    >>> check_characters("bad\\x00")
    Traceback (most recent call last):
    ...
    policyspeech.errors.InvalidSpeechError: text has the control character U+0000 at line 1, column 4; remove it (only tab and newline are allowed)
    """
    match = _FORBIDDEN.search(text)
    if match is None:
        return
    char = match.group()
    line = text.count("\n", 0, match.start()) + 1
    column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
    code = f"U+{ord(char):04X}"
    if 0xD800 <= ord(char) <= 0xDFFF:
        raise InvalidSpeechError(
            f"{what} has the lone surrogate {code} at line {line}, column {column}; "
            "the text is not valid Unicode, re-export it as UTF-8"
        )
    raise InvalidSpeechError(
        f"{what} has the control character {code} at line {line}, column {column}; "
        "remove it (only tab and newline are allowed)"
    )


def check_note(value: str | None, what: str) -> None:
    """Raise :class:`InvalidSpeechError` when a note, reason or log message has a control
    character (tab and newline aside; a carriage return too) or an invisible bidirectional
    or zero-width character: such text reaches terminals (``diff``, ``versions``) and the
    generated Markdown, where an escape sequence could rewrite the screen.

    >>> check_note("Corrected the date. See the source.", "--reason")
    >>> check_note("ok" + chr(27) + "[2J", "--reason")
    Traceback (most recent call last):
    ...
    policyspeech.errors.InvalidSpeechError: --reason has the control character U+001B at line 1, column 3; remove it (only tab and newline are allowed)
    """
    if value is None:
        return
    check_characters(value, what)
    if "\r" in value:
        at = value.index("\r")
        raise InvalidSpeechError(
            f"{what} has the control character U+000D at line {value.count(chr(10), 0, at) + 1}, "
            f"column {at - value.rfind(chr(10), 0, at)}; remove it (only tab and newline are "
            "allowed)")
    check_invisible(value, what)


_INVISIBLE = re.compile("[\u200b-\u200d\u2060\ufeff\u202a-\u202e\u2066-\u2069]")
"""Bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) and
zero-width characters (U+200B-U+200D, U+2060, U+FEFF): invisible, they make a metadata
value show differently from what is stored (a speaker's name reversed on screen, two
names that look alike and differ)."""
_JOINING_SCRIPTS = frozenset({
    "ARABIC", "SYRIAC", "NKO", "MANDAIC", "MONGOLIAN", "DEVANAGARI", "BENGALI", "GURMUKHI",
    "GUJARATI", "ORIYA", "TAMIL", "TELUGU", "KANNADA", "MALAYALAM", "SINHALA", "MYANMAR",
    "KHMER", "TIBETAN"})
"""Scripts whose words use ZWJ and ZWNJ to choose a letter's form (Persian ``می‌شود``)."""


def check_invisible(value: str, what: str) -> None:
    """Raise :class:`InvalidSpeechError` when the metadata ``value`` has an invisible
    bidirectional control or zero-width character. A zero-width joiner or non-joiner
    between two letters of a script that shapes its letters by them (Arabic, Persian,
    the Indic scripts...) is allowed; left-to-right and right-to-left marks are too.

    >>> check_invisible("\u0645\u06cc\u200c\u0634\u0648\u062f", "title")
    >>> check_invisible("Ada \u202eecalevol", "speaker")
    Traceback (most recent call last):
    ...
    policyspeech.errors.InvalidSpeechError: speaker 'Ada <U+202E>ecalevol' has the invisible character U+202E (RIGHT-TO-LEFT OVERRIDE) at column 5; remove it (bidirectional controls and zero-width characters are not allowed in metadata)
    """
    for match in _INVISIBLE.finditer(value):
        char, at = match.group(), match.start()
        if char in "\u200c\u200d" and _joins(value, at):
            continue
        shown = _INVISIBLE.sub(lambda m: f"<U+{ord(m.group()):04X}>", value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        raise InvalidSpeechError(
            f"{what} '{shown}' has the invisible character U+{ord(char):04X} "
            f"({unicodedata.name(char, 'format character')}) at column {at + 1}; remove it "
            "(bidirectional controls and zero-width characters are not allowed in metadata)")


def _joins(value: str, at: int) -> bool:
    """True when the joiner at ``at`` stands between two letters of one joining script."""
    if at == 0 or at + 1 >= len(value):
        return False
    scripts = {unicodedata.name(c, "").split(" ")[0] for c in (value[at - 1], value[at + 1])}
    return len(scripts) == 1 and scripts <= _JOINING_SCRIPTS


def check_mojibake(text: str, what: str = "text") -> None:
    """Raise when ``text`` shows UTF-8 that was decoded as Windows-1252 (mojibake).

    >>> check_mojibake("It’s fine")
    >>> check_mojibake("Itâ€™s broken")
    Traceback (most recent call last):
    ...
    policyspeech.errors.InvalidSpeechError: text looks like mojibake: 'â€™' at line 1, column 3 is UTF-8 that was read as Windows-1252 (it should be '’'); re-export the source as UTF-8 or repair it (for example with ftfy)
    """
    match = _MOJIBAKE.search(text)
    if match is None:
        return
    found = match.group()
    try:
        meant = found.encode("cp1252").decode("utf-8")
        hint = f" (it should be '{meant}')"
    except UnicodeError:
        hint = ""
    line = text.count("\n", 0, match.start()) + 1
    column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
    raise InvalidSpeechError(
        f"{what} looks like mojibake: '{found}' at line {line}, column {column} is UTF-8 that "
        f"was read as Windows-1252{hint}; re-export the source as UTF-8 or repair it "
        "(for example with ftfy)"
    )


def normalise_text(text: str, *, join_lines: bool = False) -> str:
    """Return ``text`` normalised by the corpus rules; raise on control characters or emptiness.

    Normalising twice gives the same result as normalising once.

    >>> normalise_text("e\\u0301te\\u0301\\r\\n")
    'été'
    >>> normalise_text("Title\\n\\n\\n\\nThe review, looking\\n\\nat the system.", join_lines=True)
    'Title\\n\\nThe review, looking at the system.'
    """
    return normalise_and_count(text, join_lines=join_lines)[0]


def normalise_and_count(text: str, *, join_lines: bool = False) -> tuple[str, int]:
    """The normalised text and its :func:`word_count`, computed in the same pass.

    >>> normalise_and_count("One  two\\n\\nthree four.", join_lines=True)
    ('One  two three four.', 4)

    The work is done line by line and skipped where it is not needed: NFC is computed only
    for lines that fail Unicode's quick check (a line break never takes part in
    composition, so this equals normalising the whole text), the control-character and
    mojibake scans run only when a cheap test says they could match, and a printable line
    (whose only white space is U+0020) with single spaces has ``spaces + 1`` words. Clean
    text therefore costs a few passes of C string methods. Text that keeps its paragraphs
    and is printable, NFC and free of carriage returns (most of a structured source) is
    done on the whole text at once, by regular expressions.
    """
    if not join_lines:
        done = _clean_whole(text)
        if done is not None:
            return done
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\u2028" in text or "\u2029" in text:  # Unicode line and paragraph separators
        text = text.replace("\u2028", "\n").replace("\u2029", "\n\n")
    lines = text.split("\n")
    printable = True
    if not text.isascii():
        lines = [line if unicodedata.is_normalized("NFC", line)
                 else unicodedata.normalize("NFC", line) for line in lines]
    for line in lines:
        if not line.isprintable():  # tabs and no-break spaces too: look closer below
            printable = False
            break
    if not printable:
        check_characters("\n".join(lines))
    if "Ã" in text or "Â" in text or "â€" in text:
        check_mojibake("\n".join(lines))
    paragraphs: list[str] = []
    current: list[str] = []
    words = 0
    for line in lines:
        line = line.rstrip()
        if line:
            current.append(line)
            if printable and line[0] != " " and "  " not in line:
                words += line.count(" ") + 1
            else:
                words += len(line.split())
        elif current:
            paragraphs.append("\n".join(current))
            current = []
    if current:
        paragraphs.append("\n".join(current))
    if not join_lines:
        if not paragraphs:
            raise InvalidSpeechError("text is empty; give the speech's text")
        return "\n\n".join(paragraphs), words
    joined: list[str] = []
    for paragraph in paragraphs:
        if joined and _continues(joined[-1], paragraph):
            joined[-1] = f"{joined[-1]} {paragraph.lstrip()}"
        else:
            joined.append(paragraph)
    if not joined:
        raise InvalidSpeechError("text is empty; give the speech's text")
    return "\n\n".join(joined), words


_TRAILING_SPACES = re.compile(r"[ \t]+\n")
_BLANK_LINES = re.compile(r"\n{3,}")


def _clean_whole(text: str) -> tuple[str, int] | None:
    """The normalised text (paragraphs kept) and its word count, computed on the whole
    text; None when the text needs the line-by-line rules (carriage returns, Unicode line
    separators, white space other than spaces and newlines, characters that are not
    printable, or possible mojibake). Lines that are not NFC are composed, line by line."""
    body = text.replace("\n", "")
    if "\t" in body:
        body = body.replace("\t", "")
    if "\r" in text or "\u2028" in text or "\u2029" in text or "Ã" in text or "Â" in text \
            or ("€" in text and "â€" in text) or not body.isprintable():
        return None
    if not text.isascii():
        lines = text.split("\n")
        composed = [line if unicodedata.is_normalized("NFC", line)
                    else unicodedata.normalize("NFC", line) for line in lines]
        if composed != lines:
            text = "\n".join(composed)
    if " \n" in text or "\t\n" in text:  # the only white space is spaces, tabs, newlines
        text = _TRAILING_SPACES.sub("\n", text)
    text = text.rstrip(" \t").strip("\n")
    if "\n\n\n" in text:
        text = _BLANK_LINES.sub("\n\n", text)
    if not text.strip():
        raise InvalidSpeechError("text is empty; give the speech's text")
    return text, _count_words(text) if len(text) > 4096 else len(text.split())


def is_nfc(text: str) -> bool:
    """True when ``text`` is in Unicode NFC, checked line by line: CPython normalises a
    long string that its quick check cannot settle in more than linear time (a 20,000
    character text with decomposed accents took 100 times as long as its lines did).

    >>> is_nfc("\u00e9\\nok"), is_nfc("e\\u0301")
    (True, False)
    """
    return text.isascii() or all(unicodedata.is_normalized("NFC", line)
                                 for line in text.split("\n"))


def _count_words(text: str) -> int:
    """Words in a text whose only white space is spaces, tabs and newlines, counted on
    its UTF-8 bytes (none of them occurs inside a multi-byte character) without making a
    string of every word: the starts of runs of other bytes."""
    import numpy as np

    data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    space = (data == 32) | (data == 10) | (data == 9)
    return int(np.count_nonzero(space[:-1] & ~space[1:])) + int(not space[0])


def _continues(previous: str, paragraph: str) -> bool:
    """True when ``paragraph`` continues a sentence that ``previous`` broke off."""
    return previous[-1] not in CLOSING_PUNCTUATION and paragraph.lstrip()[0].islower()


def word_count(text: str) -> int:
    """Number of whitespace-separated words."""
    return len(text.split())


def text_sha256(text: str) -> str:
    """Hex SHA-256 of the UTF-8 bytes of ``text``."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
