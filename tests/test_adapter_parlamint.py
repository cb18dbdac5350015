"""The ParlaMint adapter: real ParlaMint-AT sittings, separate speaker lists, bad input."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from policyspeech.adapters.parlamint import records
from policyspeech.errors import InvalidSpeechError

TEI_NS = "http://www.tei-c.org/ns/1.0"
SMALL = "ParlaMint-AT_1996-01-15-020-XX-NRSITZ-00001.xml"  # 49 utterances
SAME = ("title", "speaker_role", "party", "country", "language", "license", "location",
        "event", "publisher", "source_url", "notes", "delivery")
"""Fields equal to the JSONL in every record (speaker differs where a name changed)."""


def normalise(text: str) -> str:
    """NFC, LF line ends, no trailing spaces, one blank line at most, no outer blank lines."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.rstrip(" ") for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def by_id(items: list[tuple[str, Any]]) -> dict[str, tuple[str, dict[str, Any]]]:
    assert all(isinstance(fields, dict) for _, fields in items), items[:3]
    return {fields["source_id"]: (label, fields) for label, fields in items}


def sitting(*utterances: str, people: str = "", date: str = "2001-05-02") -> str:
    """A small TEI sitting: ``utterances`` in a div; ``people`` in the back's listPerson."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<TEI xmlns="{TEI_NS}" xml:lang="de" xml:id="ParlaMint-AT_test">
 <teiHeader><fileDesc>
  <sourceDesc><bibl><title type="sub" xml:lang="de">Testsitzung</title></bibl></sourceDesc>
 </fileDesc><profileDesc><settingDesc><setting><name type="country" key="AT"/>
  <date when="{date}"/></setting></settingDesc></profileDesc></teiHeader>
 <text><body><div>
{chr(10).join(utterances)}
 </div></body><back><listPerson>{people}</listPerson></back></text>
</TEI>
"""


PERSON = """<person xml:id="P1"><persName><surname>Muster</surname><forename>Max</forename>
 <roleName>Dr.</roleName></persName></person>"""


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


# --- the real ParlaMint-AT sittings -------------------------------------------------------


def test_real_sittings_give_the_jsonl_records(realdata: Path) -> None:
    folder = realdata / "parlamint-at-tei"
    expected = {}
    with (realdata / "parlamint_at.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            expected[record["source_id"]] = record
    got = by_id(list(records([folder])))
    assert len(expected) == 4044
    assert got.keys() == expected.keys()
    file_lines: dict[str, list[str]] = {}
    renamed = 0
    for source_id, want in expected.items():
        label, fields = got[source_id]
        assert fields["date"] == want["date"], source_id
        assert fields["speaker_id"] == want["speaker_id"], source_id
        assert normalise(fields["text"]) == normalise(want["text"]), source_id
        assert {k: fields.get(k) for k in SAME} == {k: want.get(k) for k in SAME}, source_id
        if fields["speaker"] != want["speaker"]:  # the name on the day, as the note prints it
            renamed += 1
            assert fields["speaker"].split()[-1].split("-")[0] in fields["notes"], source_id
        file, line = label.rsplit(":", 1)
        if file not in file_lines:
            file_lines[file] = Path(file).read_text(encoding="utf-8").splitlines()
        assert f'xml:id="{source_id}"' in file_lines[file][int(line) - 1]
        assert file_lines[file][int(line) - 1].lstrip().startswith("<u ")
    assert renamed == 25


def split_lists(realdata: Path, into: Path) -> tuple[Path, Path, Path]:
    """The small sitting as ParlaMint ships it: no listPerson of its own, separate lists."""
    text = (realdata / "parlamint-at-tei" / SMALL).read_text(encoding="utf-8")
    match = re.search(r"<back>\s*<listPerson>(.*)</listPerson>\s*</back>", text, re.S)
    assert match is not None
    (into / "1996").mkdir(parents=True)
    tei = into / "1996" / SMALL
    tei.write_text(text[:match.start()] + text[match.end():], encoding="utf-8")
    people = into / "ParlaMint-AT-listPerson.xml"
    people.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n<listPerson xmlns="{TEI_NS}" '
                      f'xml:id="ParlaMint-AT-listPerson">{match.group(1)}</listPerson>\n',
                      encoding="utf-8")
    groups = sorted(set(re.findall(r'ref="#parliamentaryGroup\.([^"]+)"', match.group(1))))
    orgs = "".join(f'<org xml:id="parliamentaryGroup.{g}" role="parliamentaryGroup">'
                   f'<orgName full="yes" xml:lang="de">Klub {g}</orgName>'
                   f'<orgName full="abb">{g}</orgName></org>\n' for g in groups)
    org_file = into / "ParlaMint-AT-listOrg.xml"
    org_file.write_text(f'<listOrg xmlns="{TEI_NS}" xml:id="ParlaMint-AT-listOrg">\n'
                        f'<org xml:id="NR" role="parliament"><orgName full="yes">Nationalrat'
                        f'</orgName></org>\n{orgs}</listOrg>\n', encoding="utf-8")
    (into / "ParlaMint-AT.xml").write_text(  # the corpus root, skipped in a folder
        f'<teiCorpus xmlns="{TEI_NS}" xmlns:xi="http://www.w3.org/2001/XInclude">'
        f'<xi:include href="1996/{SMALL}"/></teiCorpus>', encoding="utf-8")
    return tei, people, org_file


def test_separate_list_files_give_the_same_records(realdata: Path, tmp_path: Path) -> None:
    own = by_id(list(records([realdata / "parlamint-at-tei" / SMALL])))
    tei, people, orgs = split_lists(realdata, tmp_path)
    with_lists = by_id(list(records([tei], lists=[people, orgs])))
    in_folder = by_id(list(records([tmp_path])))
    assert len(own) == 49
    for got in (with_lists, in_folder):
        assert {k: v[1] for k, v in got.items()} == {k: v[1] for k, v in own.items()}
        assert {k: v[0].rsplit(":")[-1] for k, v in got.items()} == {
            k: v[0].rsplit(":")[-1] for k, v in own.items()}
    # The group's abbreviation comes from listOrg when it has one.
    orgs.write_text(orgs.read_text(encoding="utf-8").replace(
        '<orgName full="abb">SPÖ</orgName>', '<orgName full="abb">SPÖ-Klub</orgName>'),
        encoding="utf-8")
    parties = {f.get("party") for _, f in records([tei], lists=[people, orgs])
               if isinstance(f, dict)}
    assert "SPÖ-Klub" in parties and "SPÖ" not in parties
    # Without the lists every utterance is an error item; nothing crashes.
    items = list(records([tei]))
    assert len(items) == 49
    assert all(isinstance(f, InvalidSpeechError) and "listPerson" in str(f) for _, f in items)


# --- bad input ---------------------------------------------------------------------------


def test_unknown_speaker_or_no_text_is_an_error_item(tmp_path: Path) -> None:
    text = sitting('<u who="#P1" xml:id="u1"><seg>Guten Tag.</seg></u>',
                   '<u who="#GHOST" xml:id="u2"><seg>Wer bin ich?</seg></u>',
                   '<u who="#P1" xml:id="u3"><seg> <note>Beifall.</note> </seg></u>',
                   people=PERSON)
    path = tmp_path / "s.xml"
    path.write_text(text, encoding="utf-8")
    items = list(records([path]))
    lines = [line_of(text, f'xml:id="u{n}"') for n in (1, 2, 3)]
    assert [label for label, _ in items] == [f"{path}:{line}" for line in lines]
    good, ghost, empty = (fields for _, fields in items)
    assert isinstance(good, dict) and good["text"] == "Guten Tag."
    assert isinstance(ghost, InvalidSpeechError) and isinstance(empty, InvalidSpeechError)
    assert "who='GHOST'" in str(ghost) and "ParlaMint-XX-listPerson.xml" in str(ghost)
    assert "u3" in str(empty) and "no text" in str(empty)


@pytest.mark.parametrize("content", [b"this is not XML", b"", b"\xff\xfe\x00<", b"<html/>",
                                     b'<TEI xmlns="http://www.tei-c.org/ns/1.0"><text>'])
def test_a_file_that_is_not_tei_raises_naming_it(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.xml"
    path.write_bytes(content)
    with pytest.raises(InvalidSpeechError, match=re.escape(str(path))):
        list(records([path]))
    with pytest.raises(InvalidSpeechError, match=re.escape(str(path))):
        list(records([tmp_path]))  # in a folder too


def test_missing_path_and_a_sitting_given_as_a_list_raise(tmp_path: Path) -> None:
    with pytest.raises(InvalidSpeechError, match="no such file"):
        list(records([tmp_path / "nowhere.xml"]))
    path = tmp_path / "s.xml"
    path.write_text(sitting(people=PERSON), encoding="utf-8")
    with pytest.raises(InvalidSpeechError, match="listPerson"):
        list(records([path], lists=[path]))


# --- text and metadata -------------------------------------------------------------------

GOLDEN = """<u who="#P1" xml:id="u1" ana="#regular">
 <seg>lesen Sie das Buch von Herrn Ischinger <note type="comment">das Buch in die
   Höhe haltend</note> ! Er hat</seg>
 <kinesic type="applause"><desc>Beifall bei der ÖVP.</desc></kinesic>
 <seg>gelöst werden können <note type="unauthorized_interruption">Abg. X: Ja!</note>, im
   besonderen</seg>
 <note type="comment">Zwischen den Absätzen.</note>
 <seg>Wir sind die glücklichste</seg>
 <pb n="67"/>
 <seg>Generation<vocal type="laughter"><desc>Heiterkeit.</desc></vocal> – und <gap
   reason="inaudible"/>weiter. <note type="time">Ende: <time when="10:03">10:03</time></note></seg>
 <seg>   </seg>
 <seg>Sehr <foreign xml:lang="en">fair <note>sic</note> play</foreign>, danke.</seg>
</u>"""
GOLDEN_TEXT = ("lesen Sie das Buch von Herrn Ischinger ! Er hat\n\n"
               "gelöst werden können , im besonderen\n\n"
               "Wir sind die glücklichste\n\n"
               "Generation – und weiter.\n\n"
               "Sehr fair play, danke.")
ANNOTATED = """<u who="#P1" xml:id="u2">
 <seg><s>
<name type="PER">
<w join="right">Winzig</w>
  </name>
<pc>,</pc>
<w>Julian</w>
<w join="right">Schmid</w>
<pc>.</pc>
<note type="comment">Beifall.</note>
<w>im<w norm="in"/><w norm="dem"/></w>
<w join="right">Saal</w><pc>!</pc>
<linkGrp type="UD-SYN"><link ana="ud-syn:root" target="#a #b"/></linkGrp>
 </s></seg>
</u>"""


def test_golden_text_of_segs_notes_and_tokens(tmp_path: Path) -> None:
    path = tmp_path / "s.xml"
    path.write_text(sitting('<note type="speaker">Abgeordneter Dr. Max Muster (ÖVP)</note>',
                            GOLDEN, ANNOTATED, people=PERSON), encoding="utf-8")
    (_, first), (_, second) = records([path])
    assert isinstance(first, dict) and isinstance(second, dict)
    assert first["text"] == GOLDEN_TEXT
    assert second["text"] == "Winzig, Julian Schmid. im Saal!"
    assert first["speaker"] == "Max Muster" and first["speaker_role"] == "Abgeordneter"
    assert first["notes"] == ("ParlaMint-AT utterance (who=P1, ana=regular); "
                              "speaker note: Abgeordneter Dr. Max Muster (ÖVP)")
    assert "speaker_role" not in second  # no speaker note before it
    assert first["title"] == "Testsitzung" and first["country"] == "AT"
    assert first["date"] == "2001-05-02" and first["language"] == "de"


def test_name_and_party_on_the_day(tmp_path: Path) -> None:
    person = """<person xml:id="P1">
 <persName to="2000-09-27"><surname>Aumayr</surname><forename>Anna</forename>
  <forename>Elisabeth</forename></persName>
 <persName from="2000-09-28"><surname>Achatz</surname><forename>Anna</forename>
  <forename>Elisabeth</forename></persName>
 <affiliation from="1994-11-07" to="2000-12" role="member" ref="#parliamentaryGroup.FPÖ"/>
 <affiliation from="2001" role="member" ref="#parliamentaryGroup.BZÖ"/>
 <affiliation role="member" ref="#politicalParty.FPÖ"/>
 <idno type="URI" subtype="wikidata">http://www.wikidata.org/entity/Q123</idno>
</person>"""
    found = {}
    for date in ("2000-01-26", "2000-12-31", "2001-01-01"):
        path = tmp_path / f"{date}.xml"
        path.write_text(sitting('<u who="#P1" xml:id="u1"><seg>Ja.</seg></u>', people=person,
                                date=date), encoding="utf-8")
        ((_, fields),) = records([path])
        assert isinstance(fields, dict)
        found[date] = (fields["speaker"], fields["party"], fields["speaker_id"])
    assert found == {"2000-01-26": ("Anna Elisabeth Aumayr", "FPÖ", "Q123"),
                     "2000-12-31": ("Anna Elisabeth Achatz", "FPÖ", "Q123"),
                     "2001-01-01": ("Anna Elisabeth Achatz", "BZÖ", "Q123")}
