"""The datasheet: the sections of Gebru et al.'s "Datasheets for Datasets" in the card.

A corpus's maintainers write ``DATASHEET.md`` (``policyspeech init`` writes a template
with what to write under each heading, in HTML comments that the card leaves out):
motivation, composition, collection process, uses, limitations, personal and sensitive
information, and maintenance. policyspeech never writes it again; the dataset card shows
its sections (in the card's prose, never in its YAML), each that is missing or empty with
what to write and how.

What could break the card is neutralised: front matter is dropped, a ``---`` line becomes
``***`` (the same rule; YAML ends at a ``---``), headings go one level down, a code fence
left open is closed, and HTML that would hide the rest of the card (a comment, ``<pre>``,
``<script>``...) is escaped, as are the card's own markers. At most :data:`LIMIT` bytes
are read; a longer file is cut at a line, and the card says so. The section sits between
two markers, so that ``verify`` can accept the card whatever the datasheet said when the
card was written (:func:`block_of`).

Examples
--------
>>> block = card_section("## Uses\\nTeaching.\\n---\\n")
>>> "### Uses\\n\\nTeaching.\\n***" in block, "### Motivation" in block
(True, True)
>>> block_of("card text\\n" + block + "\\nmore") == block
True
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from policyspeech.layout import DATASHEET

LIMIT = 64 * 1024
"""The most bytes of ``DATASHEET.md`` the card shows (the rest is cut, with a note)."""
BEGIN = "<!-- datasheet: from DATASHEET.md -->"
END = "<!-- datasheet: end"
"""The start of the section's last line, which ends with the SHA-256 of the section above
it (``<!-- datasheet: end sha256:HEX -->``): a section changed after it was written is told
from one written from an older ``DATASHEET.md`` (:func:`sealed`)."""
TITLE = "Datasheet"


@dataclass(frozen=True)
class Section:
    """A section of the datasheet: its heading, the words its heading is found by, and
    what to write there."""

    title: str
    keys: tuple[str, ...]
    guidance: str


SECTIONS = (
    Section("Motivation", ("motivation",),
            "Why was the corpus made, by whom, and who funded it? Which research questions "
            "is it meant to answer?"),
    Section("Composition", ("composition",),
            "What is one record (one speech, as delivered or as prepared)? Which countries, "
            "years, speakers, offices, languages and kinds of text does the corpus cover, "
            "and what is missing from them?"),
    Section("Collection process", ("collection",),
            "Where do the texts come from (archives, sites, other corpora), how were they "
            "obtained and selected, over what period, and how were they cleaned and coded "
            "(who assigned the themes, by which rules)?"),
    Section("Uses", ("uses", "use", "usage"),
            "What is the corpus for, what has it been used for, and which uses would be "
            "inappropriate?"),
    Section("Limitations", ("limitations", "limitation", "bias", "biases"),
            "Known gaps and biases (whose speeches are published and kept), transcription "
            "and metadata errors, and how they could mislead an analysis."),
    Section("Personal and sensitive information", ("personal", "sensitive"),
            "Does the corpus name private persons, or hold special categories of personal "
            "data (the political opinions of identifiable people are such data under the "
            "GDPR)? On what basis are they published, and how can someone ask for a "
            "record to be corrected or retracted?"),
    Section("Maintenance", ("maintenance", "maintainers"),
            "Who maintains the corpus and how are they reached? How are errors corrected "
            "(`policyspeech amend`, `retract`) and how often are releases made?"),
)

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n.*?\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_RULE = re.compile(r"^[ \t]{0,3}-{3,}[ \t]*$", re.MULTILINE)
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t#]*$")
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")
_RAW_BLOCK = re.compile(r"<((?:script|pre|style|textarea)\b)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def template() -> str:
    """The ``DATASHEET.md`` that ``policyspeech init`` writes: every section, with what to
    write there in a comment."""
    parts = ["# Datasheet\n\n<!-- The sections below become the datasheet of the dataset card "
             "(README.md), after Gebru et al., \"Datasheets for Datasets\", Communications of "
             "the ACM 64(12), 2021. Write under each heading; text inside comment marks like "
             "these is not shown. policyspeech never changes this file: the card takes it "
             "up at the next commit, or at `policyspeech verify --repair`. -->\n"]
    parts += [f"\n## {s.title}\n\n<!-- {s.guidance} -->\n" for s in SECTIONS]
    return "".join(parts)


def read_datasheet(corpus: Path) -> str | None:
    """The text of the corpus's ``DATASHEET.md`` (up to :data:`LIMIT` bytes and one more,
    so that a longer file is known to be cut; bytes that are not UTF-8 replaced), or None
    when there is none, or it is not a regular file (a link is not followed)."""
    try:
        fd = os.open(corpus / DATASHEET, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        data = handle.read(LIMIT + 1)
    return data.decode("utf-8", errors="replace")


@lru_cache(maxsize=8)
def card_section(text: str | None) -> str:
    """The card's datasheet section for the text of ``DATASHEET.md`` (None: no file),
    between :data:`BEGIN` and :data:`END`."""
    cut = text is not None and len(text.encode("utf-8")) > LIMIT
    found = _sections(_clean(text or "", cut))
    blocks = [BEGIN + f"\n## {TITLE}"]
    if text is None:
        blocks.append("This corpus has no `DATASHEET.md` yet: its maintainers write one "
                      "(`policyspeech init` writes a template), and the card shows it here.")
    if found.get(""):
        blocks.append(found.pop(""))
    for section in SECTIONS:
        body = found.pop(section.title, "")
        blocks.append(f"### {section.title}\n\n" + (
            body or f"*Not written yet.* What to write: {section.guidance} (In "
                    f"`DATASHEET.md`, under `## {section.title}`.)"))
    blocks += [f"### {title}\n\n{body}" for title, body in found.items()]
    if cut:
        blocks.append(f"*`DATASHEET.md` is longer than the {LIMIT // 1024} KiB that the card "
                      "shows; read it in full in the corpus folder.*")
    body = "\n\n".join(blocks) + "\n\n"
    return f"{body}{END} sha256:{hashlib.sha256(body.encode()).hexdigest()} -->\n"


def block_of(card: str) -> str | None:
    """The datasheet section of a card (markers included), or None when it has none."""
    start = card.find(BEGIN)
    end = card.find(END, start)
    close = card.find("-->", end)
    if start < 0 or end < 0 or close < 0:
        return None
    return card[start:close + 3] + "\n"


def sealed(block: str) -> bool:
    """True when the datasheet section ``block`` (:func:`block_of`) is as it was written:
    its last line holds the SHA-256 of the text above it.

    >>> block = card_section("## Uses\\n\\nTeaching.")
    >>> sealed(block), sealed(block.replace("Teaching", "Teachinf"))
    (True, False)
    """
    body, _, last = block.rstrip("\n").rpartition("\n")
    return last == f"{END} sha256:{hashlib.sha256((body + chr(10)).encode()).hexdigest()} -->"


def _clean(text: str, cut: bool) -> str:
    """``text`` with what would break the card neutralised (see the module's description)."""
    if cut:
        text = text.encode("utf-8")[:LIMIT].decode("utf-8", errors="ignore")
        text = text[:text.rfind("\n") + 1]
    text = unicodedata.normalize("NFC", text.removeprefix("\ufeff"))
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _FRONT_MATTER.sub("", text, count=1)
    text = _COMMENT.sub("", text)
    text = text.replace("<!--", "&lt;!--").replace("-->", "--&gt;")
    text = _RAW_BLOCK.sub(r"&lt;\1", text)  # HTML that only its closing tag would end
    text = text.replace("log entry", "log&#32;entry")  # the card records the newest entry so
    return _RULE.sub("***", text)


def _sections(text: str) -> dict[str, str]:
    """The text under each heading of level 2 (the standard sections under their standard
    titles; the text before the first heading under ``""``), the title (level 1) left out,
    deeper headings one level down, a code fence left open closed."""
    found: dict[str, list[str]] = {"": []}
    current, fence = "", ""
    for line in text.split("\n"):
        opening = _FENCE.match(line)
        if fence:
            if opening and opening.group(1)[0] == fence[0] and \
                    len(opening.group(1)) >= len(fence) and not line.strip(" `~"):
                fence = ""
            found[current].append(line)
            continue
        heading = _HEADING.match(line)
        if opening:
            fence = opening.group(1)
        elif heading and len(heading.group(1)) <= 2:
            if len(heading.group(1)) == 2:
                current = _standard(heading.group(2))
                found.setdefault(current, [])
            continue
        elif heading:
            line = f"{'#' * min(6, len(heading.group(1)) + 1)} {heading.group(2)}"
        found[current].append(line)
    if fence:
        found[current].append(fence)
    bodies = {title: "\n".join(lines).strip("\n") for title, lines in found.items()}
    return {title: body for title, body in bodies.items() if body.strip()}


def _standard(title: str) -> str:
    """The standard section a heading names (by its words), else the heading itself."""
    words = re.findall(r"[a-z]+", title.lower())
    for section in reversed(SECTIONS):  # "personal data" before "uses", "maintenance" first
        if any(key in words for key in section.keys):
            return section.title
    return " ".join(title.split()) or "Notes"
