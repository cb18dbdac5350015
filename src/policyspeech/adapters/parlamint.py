"""ParlaMint TEI sittings as policyspeech records: one record per utterance ``<u>``.

Reads the TEI sitting files of a ParlaMint corpus (ParlaMint 4.x,
https://github.com/clarin-eric/ParlaMint), plain or linguistically annotated (``.ana``).
The utterance's ``who`` is looked up in the sitting's own ``<listPerson>`` (in ``<back>``
or the header) or in the corpus's ``ParlaMint-XX-listPerson.xml``, groups in its
``ParlaMint-XX-listOrg.xml``: give those in ``lists``, or put them in a folder of
``paths``. A folder is read recursively in sorted order by root element: ``TEI`` files
are sittings, ``listPerson``/``listOrg`` files lists, ``teiCorpus`` and ``taxonomy``
files are skipped.

================  ========================================================================
field             TEI source
================  ========================================================================
``title``         ``sourceDesc/bibl/title[@type="sub"]`` in the text's language
``speaker``       the ``persName`` valid on the sitting's date: forenames, then surname
``speaker_id``    the QID of ``person/idno[@subtype="wikidata"]``
``speaker_role``  the ``<note type="speaker">`` before the ``<u>``, up to the name
``party``         the parliamentary group of ``affiliation[@role="member"]`` on the day
``country``       ``settingDesc/setting/name[@type="country"]/@key``
``date``          ``settingDesc/setting/date/@when`` (else ``@from``)
``event``         the house, ``": "``, the ``titleStmt/meeting`` labels joined by ``", "``
``location``      ``setting/name[@type="city"]`` in the text's language
``language``      ``xml:lang`` of the ``TEI`` element
``delivery``      ``as_delivered`` (transcripts of what was said)
``source_url``    ``sourceDesc/bibl/idno[@subtype="parliament"]``
``publisher``     ``bibl/publisher; TEI by {corpus} {edition} ({repository})``
``license``       SPDX id of ``availability/licence`` (``CC-BY-4.0``)
``source_id``     the ``<u>``'s ``xml:id``
``notes``         ``{corpus} utterance (who=…, ana=…); speaker note: …``
``text``          one paragraph per ``<seg>``, joined by a blank line
================  ========================================================================

Choices (of the 4,044 utterances of 15 ParlaMint-AT 4.1 sittings, every field equals
what another converter made of them, but ``speaker`` in 25 records, see below):

- ``text`` is what was said: ``note``, ``kinesic``, ``vocal``, ``incident``, ``gap`` and
  ``pb`` elements, in or between segs, are left out with their content. Whitespace runs
  become one space, so a removed element leaves no double space; punctuation stays where
  the TEI has it (``können <note/>, im`` gives ``können , im``). A sentence that a page
  break cut into two segs stays two paragraphs. Annotated segs are their ``w``/``pc``
  tokens, spaced except after ``join="right"``.
- ``speaker`` is the name on the day, as the protocol prints it (ParlaMint dates
  ``persName`` when a name changes: ``Carmen Gartelgruber`` became ``Carmen Schimanek``),
  where the other converter took the first ``persName``; no academic ``roleName``.
- ``speaker_role`` is the speaker note up to the first academic title (a word with a dot
  or in the person's ``roleName``) or name: ``Bundesminister für Finanzen Dr. Johann Georg
  Schelling`` gives ``Bundesminister für Finanzen``. No speaker note, no role.
- ``party`` is the group's ``orgName[@full="abb"]`` in listOrg, else the reference after
  ``parliamentaryGroup.``; of two groups on the day, the one joined last. Ministers and
  guests without a group have none (empty fields are left out).
- ``event``'s house is the meetings' ``corresp``: ParlaMint-AT's ``NR``/``BR`` spelled
  ``Nationalrat``/``Bundesrat``, another by its listOrg abbreviation, else its id.
- ``publisher``'s repository is ``CLARIN.SI`` for a handle of its (``11356/``), else the
  English name in ``publicationStmt/publisher``.

A ``<u>`` whose ``who`` is in no list, or whose segs hold no text, is an
:class:`~policyspeech.errors.InvalidSpeechError` item labelled ``FILE:LINE`` (the line of
the ``<u>`` start tag). A file that is not XML or not TEI raises it. Files are parsed with
:mod:`xml.parsers.expat` into :mod:`xml.etree.ElementTree` elements, each utterance,
person and header dropped from the tree once read: memory is bounded by one file.

Examples
--------
>>> import tempfile, pathlib
>>> tei = '''<TEI xmlns="http://www.tei-c.org/ns/1.0" xml:lang="de"><teiHeader><fileDesc>
... <sourceDesc><bibl><title type="sub" xml:lang="de">1. Sitzung</title></bibl></sourceDesc>
... </fileDesc><profileDesc><settingDesc><setting><name type="country" key="AT"/>
... <date when="1996-01-15"/></setting></settingDesc></profileDesc></teiHeader>
... <text><body><div><note type="speaker">Präsident Dr. Heinz Fischer</note>
... <u who="#P1" xml:id="u1"><seg>Bitte <note>Beifall.</note> Platz!</seg><seg>Danke.</seg></u>
... </div></body><back><listPerson><person xml:id="P1"><persName><surname>Fischer</surname>
... <forename>Heinz</forename><roleName>Dr.</roleName></persName></person></listPerson>
... </back></text></TEI>'''
>>> path = pathlib.Path(tempfile.mkdtemp()) / "sitting.xml"
>>> _ = path.write_text(tei, encoding="utf-8")
>>> [(label.rsplit(":", 1)[1], fields["speaker"], fields["speaker_role"], fields["text"])
...  for label, fields in records([path])]
[('6', 'Heinz Fischer', 'Präsident', 'Bitte Platz!\\n\\nDanke.')]
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policyspeech.adapters.tei import TEI, parse_streaming, root_kind
from policyspeech.errors import InvalidSpeechError

XML = "{http://www.w3.org/XML/1998/namespace}"
LISTS = ("listPerson", "listOrg")
SKIPPED = ("teiCorpus", "taxonomy")
"""Root elements of the files of a corpus folder that hold no sitting and no list."""
HOUSES = {"NR": "Nationalrat", "BR": "Bundesrat"}
NOT_SPOKEN = frozenset(TEI + tag for tag in (
    "note", "kinesic", "vocal", "incident", "gap", "pb", "desc", "time", "linkGrp", "anchor"))
_SPACE = re.compile(r"[ \t\r\n]+")
_QID = re.compile(r"(Q[1-9][0-9]*)/?$")
_CC = re.compile(r"creativecommons\.org/(?:licenses/([a-z-]+)|publicdomain/(zero))/([0-9.]+)")
_NONE = ET.Element("none")
Orgs = dict[str, tuple[str, str | None]]  # org id: (role, abbreviation)
Item = tuple[str, dict[str, Any] | InvalidSpeechError]


@dataclass(frozen=True)
class _Person:
    names: tuple[tuple[str, str, str], ...]  # (from, to, display name)
    words: frozenset[str]  # names and title words: where a speaker note's role ends
    wikidata: str | None
    memberships: tuple[tuple[str, str, str], ...]  # (from, to, org id)


@dataclass
class _Lists:
    people: dict[str, _Person] = field(default_factory=dict)
    orgs: Orgs = field(default_factory=dict)


def records(paths: Sequence[Path], *, lists: Sequence[Path] = ()) -> Iterator[Item]:
    """Yield ``(label, fields)`` for each utterance of the ParlaMint TEI sittings in ``paths``.

    ``paths`` are sitting files or folders; ``lists`` are ``listPerson``/``listOrg`` files
    (those in a folder of ``paths`` are found without it).
    """
    sittings: list[Path] = []
    list_files: list[Path] = []
    for file in map(Path, lists):
        if root_kind(file) not in LISTS:
            raise InvalidSpeechError(f"{file}: not a <listPerson> or <listOrg> file; give "
                                     "ParlaMint-XX-listPerson.xml and ParlaMint-XX-listOrg.xml")
        list_files.append(file)
    for given in map(Path, paths):
        if not given.exists():
            raise InvalidSpeechError(f"{given}: no such file or folder; check the path")
        folder = given.is_dir()
        for file in sorted(p for p in given.rglob("*.xml") if p.is_file()) if folder else [given]:
            kind = root_kind(file)
            if kind == "TEI":
                sittings.append(file)
            elif kind in LISTS:
                list_files.append(file)
            elif not (folder and kind in SKIPPED):
                raise InvalidSpeechError(f"{file}: <{kind}> is not a TEI sitting; give sitting "
                                         "files or their folder")
    shared = _Lists()
    for file in dict.fromkeys(list_files):
        parse_streaming(file, lambda elem, parent, _line: _collect(elem, parent, shared))
    for file in dict.fromkeys(sittings):
        yield from _sitting(file, shared)


def _sitting(path: Path, shared: _Lists) -> Iterator[Item]:
    own = _Lists()
    header: dict[str, str] = {}
    pending: list[tuple[int, ET.Element, str | None]] = []  # line, <u> (its segs), note
    speaker_note: list[str | None] = [None]

    def on_end(elem: ET.Element, parent: ET.Element | None, line: int) -> bool:
        if _collect(elem, parent, own):
            return True
        if elem.tag == TEI + "teiHeader" and parent is not None:
            header.update(_header(elem, parent))
            return True
        if elem.tag == TEI + "note" and elem.get("type") == "speaker":
            speaker_note[0] = _text(elem)
        elif elem.tag == TEI + "u":
            for child in [c for c in elem if c.tag != TEI + "seg"]:
                elem.remove(child)  # keep only what the text is made of
            pending.append((line, elem, speaker_note[0]))
            speaker_note[0] = None
            return True
        return parent is not None and parent.tag in (TEI + "div", TEI + "body")

    parse_streaming(path, on_end)
    people, orgs = {**shared.people, **own.people}, {**shared.orgs, **own.orgs}
    for line, u, note in pending:
        yield f"{path}:{line}", _fields(u, note, header, people, orgs)


def _fields(u: ET.Element, note: str | None, header: dict[str, str],
            people: dict[str, _Person], orgs: Orgs) -> dict[str, Any] | InvalidSpeechError:
    uid = u.get(XML + "id", "")
    who = u.get("who", "").strip().split("#")[-1]
    person = people.get(who)
    if person is None:
        return InvalidSpeechError(f"utterance {uid or '?'}: speaker who={who!r} is in no "
                                  "listPerson; give the corpus's ParlaMint-XX-listPerson.xml "
                                  "in lists= or put it in the sittings' folder")
    paragraphs = [p for seg in u.iter(TEI + "seg") if (p := _seg_text(seg))]
    if not paragraphs:
        return InvalidSpeechError(f"utterance {uid or '?'}: no text in its <seg> elements; "
                                  "leave the utterance out or add its text")
    date = header.get("date", "")
    ana = " ".join(a.lstrip("#") for a in u.get("ana", "").split())
    notes = f"{header.get('corpus')} utterance (who={who}, ana={ana})"
    if note:
        notes += f"; speaker note: {note}"
    house = header.get("house", "")
    house = HOUSES.get(house) or orgs.get(house, ("", None))[1] or house
    fields: dict[str, Any] = {
        "title": header.get("title"), "speaker": _name_on(person, date),
        "speaker_id": person.wikidata, "speaker_role": _role(note, person),
        "party": _party(person, date, orgs), "country": header.get("country"), "date": date,
        "event": ": ".join(p for p in (house, header.get("meetings")) if p),
        "location": header.get("location"), "language": header.get("language"),
        "delivery": "as_delivered", "source_url": header.get("source_url"),
        "publisher": header.get("publisher"), "license": header.get("license"),
        "source_id": uid, "notes": notes, "text": "\n\n".join(paragraphs),
    }
    return {k: v for k, v in fields.items() if v}


# --- reading XML ------------------------------------------------------------------------


def _text(elem: ET.Element | None) -> str:
    return "" if elem is None else _SPACE.sub(" ", "".join(elem.itertext())).strip()


def _seg_text(seg: ET.Element) -> str:
    """What was said in a seg: its text without notes, incidents and page breaks; in a
    linguistically annotated seg, its tokens (``w``, ``pc``) spaced by their ``join``."""
    tokens = seg.find(f".//{TEI}w") is not None or seg.find(f".//{TEI}pc") is not None
    out = [] if tokens else [seg.text or ""]
    _spoken(seg, out, tokens)
    return _SPACE.sub(" ", "".join(out)).strip()


def _spoken(elem: ET.Element, out: list[str], tokens: bool) -> None:
    for child in elem:
        if child.tag in (TEI + "w", TEI + "pc"):  # a contraction's parts are its children
            out += [child.text or "", "" if child.get("join") == "right" else " "]
        elif child.tag not in NOT_SPOKEN:
            out.append("" if tokens else child.text or "")
            _spoken(child, out, tokens)
        out.append("" if tokens else child.tail or "")


def _in_lang(elems: list[ET.Element], lang: str) -> ET.Element | None:
    """The first of ``elems`` in ``lang``, else the first without a language, else the first."""
    ranked = sorted(elems, key=lambda e: {lang: 0, None: 1}.get(e.get(XML + "lang"), 2))
    return ranked[0] if ranked else None


def _one(elem: ET.Element, path: str) -> ET.Element:
    found = elem.find(TEI + path.replace("/", "/" + TEI))
    return _NONE if found is None else found


# --- lists ------------------------------------------------------------------------------


def _collect(elem: ET.Element, parent: ET.Element | None, into: _Lists) -> bool:
    """Keep a listPerson's person or a listOrg's org; True when ``elem`` was one."""
    key = elem.get(XML + "id")
    if parent is None or key is None:
        return False
    if elem.tag == TEI + "person" and parent.tag == TEI + "listPerson":
        into.people[key] = _person(elem)
        return True
    if elem.tag == TEI + "org" and parent.tag == TEI + "listOrg":
        abb = [_text(n) for n in elem.findall(TEI + "orgName") if n.get("full") == "abb"]
        into.orgs[key] = (elem.get("role", ""), abb[0] if abb else None)
        return True
    return False


def _person(elem: ET.Element) -> _Person:
    names: list[tuple[str, str, str]] = []
    words: set[str] = set()
    for pers in elem.findall(TEI + "persName"):
        given = [_text(n) for n in pers if n.tag == TEI + "forename"]
        family = [_text(n) for n in pers if n.tag in (TEI + "surname", TEI + "nameLink")]
        titles = [_text(n) for n in pers if n.tag == TEI + "roleName"]
        name = " ".join(n for n in given + family if n) or _text(pers)
        names.append((pers.get("from", ""), pers.get("to", ""), name))
        words.update(w.strip(".,") for n in given + family + titles for w in n.split())
    qids = [m.group(1) for idno in elem.findall(TEI + "idno")
            if idno.get("subtype") == "wikidata" and (m := _QID.search(_text(idno)))]
    memberships = tuple((a.get("from", ""), a.get("to", ""), a.get("ref", "").split("#")[-1])
                        for a in elem.findall(TEI + "affiliation")
                        if a.get("role") == "member" and a.get("ref"))
    return _Person(tuple(names), frozenset(words - {""}), qids[0] if qids else None,
                   memberships)


def _covers(start: str, end: str, date: str) -> bool:
    """Whether ``date`` lies in [start, end]; bounds may be years or months, or missing."""
    low = start[:10] + "-01-01"[len(start[:10]) - 4:] if len(start) >= 4 else ""
    high = end[:10] + "-12-31"[len(end[:10]) - 4:] if len(end) >= 4 else "9999"
    return bool(date) and low <= date <= high


def _name_on(person: _Person, date: str) -> str | None:
    dated = [name for start, end, name in person.names if _covers(start, end, date)]
    return next(iter(dated or [name for _, _, name in person.names]), None)


def _party(person: _Person, date: str, orgs: Orgs) -> str | None:
    groups = sorted((start, ref) for start, end, ref in person.memberships
                    if (orgs[ref][0] == "parliamentaryGroup" if ref in orgs
                        else ref.startswith("parliamentaryGroup.")) and _covers(start, end, date))
    if not groups:
        return None
    ref = groups[-1][1]
    return orgs.get(ref, ("", None))[1] or ref.split(".", 1)[-1]


def _role(note: str | None, person: _Person) -> str | None:
    words: list[str] = []
    for word in (note or "").split():
        if "." in word or word.strip("(),") in person.words:
            break
        words.append(word)
    return " ".join(words) or None


# --- header -----------------------------------------------------------------------------


def _header(header: ET.Element, root: ET.Element) -> dict[str, str]:
    lang = root.get(XML + "lang", "")
    corpus = root.get(XML + "id", "ParlaMint").split("_")[0]
    bibl = _one(header, "fileDesc/sourceDesc/bibl")
    setting = _one(header, "profileDesc/settingDesc/setting")
    publication = _one(header, "fileDesc/publicationStmt")
    subtitles = [t for t in bibl.findall(TEI + "title") if t.get("type") == "sub"]
    title = _in_lang(subtitles or header.findall(f"{TEI}fileDesc/{TEI}titleStmt/{TEI}title"),
                     lang)
    date = _one(setting, "date") if setting.find(TEI + "date") is not None else _one(bibl, "date")
    names = setting.findall(TEI + "name")
    country = [n.get("key", "") for n in names if n.get("type") == "country"]
    meetings = [m for m in header.findall(f"{TEI}fileDesc/{TEI}titleStmt/{TEI}meeting")
                if m.get(XML + "lang") in (lang, None)]
    urls = [_text(i) for i in bibl.findall(TEI + "idno") if _text(i).startswith("http")
            and i.get("subtype") in ("parliament", None)]
    licence = _one(publication, "availability/licence")
    handles = " ".join(_text(i) for i in publication.findall(TEI + "idno"))
    repository = "CLARIN.SI" if "11356/" in handles else _text(_in_lang(
        publication.findall(f"{TEI}publisher/{TEI}orgName"), "en"))
    edition = _text(_one(header, "fileDesc/editionStmt/edition"))
    tei_by = " ".join(w for w in ("TEI by", corpus, edition) if w)
    return {
        "language": lang, "corpus": corpus, "title": _text(title),
        "date": (date.get("when") or date.get("from") or "")[:10],
        "country": country[0] if country else "",
        "location": _text(_in_lang([n for n in names if n.get("type") == "city"], lang)),
        "house": meetings[0].get("corresp", "").lstrip("#") if meetings else "",
        "meetings": ", ".join(_text(m) for m in meetings),
        "source_url": urls[0] if urls else "",
        "publisher": "; ".join(p for p in (_text(bibl.find(TEI + "publisher")), tei_by + (
            f" ({repository})" if repository else "")) if p),
        "license": _spdx(licence.get("target") or _text(licence)),
    }


def _spdx(url: str) -> str:
    """``http://creativecommons.org/licenses/by/4.0/`` -> ``CC-BY-4.0``; else as given."""
    match = _CC.search(url)
    if match is None:
        return url if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.+-]*", url) else ""
    kind, zero, version = match.groups()
    return f"CC0-{version}" if zero else f"CC-{kind.upper()}-{version}"
