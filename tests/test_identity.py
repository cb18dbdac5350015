"""What makes a speech itself: derived ids from the record alone, and the duplicate rule."""

from __future__ import annotations

import datetime
import random
from typing import Any

import pytest

from policyspeech.errors import DuplicateSpeechError
from policyspeech.identity import derive_id, slugify, speech_key
from policyspeech.store import Corpus
from tests.helpers import make_speech

DAY = datetime.date(2019, 12, 4)


def record(country: str, speaker: str, title: str, **fields: Any) -> dict[str, Any]:
    return {"country": country, "date": DAY, "date_precision": "day", "speaker": speaker,
            "title": title, "text_sha256": "0" * 64, "source_id": None, **fields}


@pytest.mark.parametrize(("country", "speaker", "title", "expected"), [
    ("GR", "Κυριάκος Μητσοτάκης", "Ομιλία για την οικονομία",  # noqa: RUF001 (Greek)
     "gr-2019-12-04-kyriakos-mitsotakis-omilia-gia-tin-oikonomia-b848e24d"),
    ("RU", "Владимир Путин", "Послание Федеральному собранию",
     "ru-2019-12-04-vladimir-putin-poslanie-federal-nomu-sobraniyu-30482d89"),
    ("CN", "习近平", "在联合国大会上的讲话",
     "cn-2019-12-04-xi-jin-ping-zai-lian-he-guo-da-hui-shang-de-49efebf5"),
    ("PL", "Lech Wałęsa", "Przemówienie w Sejmie",
     "pl-2019-12-04-lech-walesa-przemowienie-w-sejmie-360c32fc"),
    ("DE", "Kurt Gaßner", "Rede zur Lage der Nation",
     "de-2019-12-04-kurt-gassner-rede-zur-lage-der-nation-9472b85b"),
    ("NO", "Lars Løkke Rasmussen", "Tale på Stortinget",
     "no-2019-12-04-lars-lokke-rasmussen-tale-pa-stortinget-8cee9b6c"),
])
def test_every_script_is_transliterated_into_a_readable_id(country: str, speaker: str,
                                                           title: str, expected: str) -> None:
    assert derive_id(record(country, speaker, title)) == expected


def test_slugs_keep_every_name() -> None:
    assert slugify("Gaßner") == "gassner"
    assert slugify("Wałęsa") == "walesa"
    assert slugify("Løkke") == "lokke"
    assert slugify("Κυριάκος") == "kyriakos"
    assert slugify("東京 会議") == "dong-jing-hui-yi"
    assert slugify("!!!") == ""


def test_ids_are_short_and_valid_whatever_the_title() -> None:
    long = record("AT", "Präsidentin Mag. Barbara Prammer " * 4, "Stenographisches Protokoll "
                  "der 57. Sitzung des Nationalrates der Republik Österreich " * 5)
    derived = derive_id(long)
    assert len(derived) <= 100 and not derived.endswith("-") and "--" not in derived
    assert derive_id(record("GB", "???", "...")) == f"gb-2019-12-04-{speech_key(record('GB', '???', '...'))[:8]}"


def test_the_key_is_the_same_speech_not_the_same_words() -> None:
    oath = record("AT", "Ada", "Sitzung")
    assert speech_key(oath) == speech_key({**oath, "speaker": "ADA", "title": "other"})
    for change in ({"speaker": "Bea"}, {"date": datetime.date(2019, 12, 5)},
                   {"source_id": "u2"}, {"text_sha256": "1" * 64},
                   {"date_precision": "month"}):
        assert speech_key({**oath, **change}) != speech_key(oath), change


def test_ids_do_not_depend_on_the_import_order_or_the_corpus(tmp_path: Any) -> None:
    speeches = [make_speech(n % 7, text=f"Bitte um den Schlußsatz! {n % 3}",
                            source_id=f"u{n}") for n in range(40)]
    forward = Corpus.init(tmp_path / "a").add_all(speeches)
    shuffled = speeches[:]
    random.Random(5).shuffle(shuffled)
    other = Corpus.init(tmp_path / "b")
    other.add(make_speech(999))  # another corpus, with something in it already
    backward = other.add_all(shuffled)
    assert dict(zip(map(str, speeches), forward, strict=True)) == dict(
        zip(map(str, shuffled), backward, strict=True))
    assert len(set(forward)) == 40 and not any(i.endswith(("-2", "-3")) for i in forward)


def test_a_retracted_speech_added_again_is_named_with_its_reason(corpus: Corpus) -> None:
    gone = corpus.add(make_speech(1))
    corpus.retract(gone, reason="Duplicate of an official transcript")
    with pytest.raises(DuplicateSpeechError, match=(
            f"this speech was retracted from the corpus as '{gone}' \\(reason: Duplicate of an "
            "official transcript\\); it is not added again: to bring it back, give it a new id "
            "explicitly")):
        corpus.add(make_speech(1))
    added = corpus.add_all([make_speech(1), make_speech(2)], skip_existing=True)
    assert len(added) == 1 and corpus.head().rows == 1
    assert corpus.add(make_speech(1, id="brought-back")) == "brought-back"


def test_ids_already_in_a_corpus_never_change(tmp_path: Any) -> None:
    shipped = "gb-2019-10-30-brandon-lewis-security-minister-s-speech-on-security-and-crime-after-brexit"
    corpus = Corpus.init(tmp_path / "c", from_bundled=True)
    corpus.add(make_speech(1))  # upgrades the head to the new schema
    corpus.amend(shipped, {"party": "Conservative and Unionist"}, reason="Full name")
    assert shipped in corpus.head().hash_by_id
    with pytest.raises(DuplicateSpeechError, match=f"already in the corpus as '{shipped}'"):
        corpus.add_all([{k: v for k, v in row.items() if k not in ("id", "party")}
                        for row in _rows(corpus, shipped)])


def _rows(corpus: Corpus, record_id: str) -> list[dict[str, Any]]:
    import policyspeech as ps

    frame = ps.read(corpus.path)
    return [row for row in frame.to_dicts() if row["id"] == record_id]


def test_a_source_imported_again_after_an_amendment_is_recognised(corpus: Corpus) -> None:
    original = make_speech(1, speaker="Ada Byron")
    record_id = corpus.add(original)
    corpus.amend(record_id, {"speaker": "Ada Lovelace"}, reason="Name after marriage")
    with pytest.raises(DuplicateSpeechError, match=f"already in the corpus as '{record_id}', "
                       "amended since"):
        corpus.add(original)
    assert corpus.add_all([original, make_speech(2)], skip_existing=True) != []
    assert corpus.head().rows == 2
