"""Country codes: current ISO 3166-1, former states (ISO 3166-3), EU and XK."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from policyspeech.countries import check_country, countries, country_name, from_alpha_3
from policyspeech.errors import InvalidSpeechError
from policyspeech.store import Corpus
from tests.helpers import make_speech, run


@pytest.mark.parametrize(("code", "name", "status"), [
    ("GB", "United Kingdom", "current"), ("YU", "Yugoslavia", "former"),
    ("DD", "German Democratic Republic", "former"), ("SU", "USSR", "former"),
    ("CS", "Czechoslovakia or Serbia and Montenegro", "former"),
    ("EU", "European Union", "reserved"), ("XK", "Kosovo", "user-assigned"),
    ("BY", "Belarus", "current"),  # withdrawn for the Byelorussian SSR, given to Belarus
])
def test_every_code_has_its_name_and_kind(code: str, name: str, status: str) -> None:
    assert check_country(code) == code
    assert (countries()[code].name, countries()[code].status) == (name, status)


def test_cs_is_named_by_the_date() -> None:
    assert country_name("CS", datetime.date(1990, 9, 1)) == "Czechoslovakia"
    assert country_name("CS", datetime.date(2005, 9, 1)) == "Serbia and Montenegro"
    assert [from_alpha_3(c) for c in ("CSK", "SCG", "YUG", "DDR", "SUN", "EU")] == [
        "CS", "CS", "YU", "DD", "SU", "EU"]


@pytest.mark.parametrize(("given", "message"), [
    ("UK", "country 'UK' is not a country code; use 'GB' (United Kingdom)"),
    ("gb", "country 'gb' must be upper case; use 'GB'"),
    ("DEU", "country 'DEU' is not a country code; use 'DE' (Germany)"),
    ("Yugoslavia", "country 'Yugoslavia' is not a country code; use 'YU' (Yugoslavia)"),
    ("Soviet Union", "country 'Soviet Union' is not a country code; use 'SU' (USSR)"),
    ("GX", "country 'GX' is not a country code; did you mean GA (Gabon), GB (United "
           "Kingdom), GD (Grenada), GE (Georgia)? see `policyspeech countries` for every code"),
])
def test_an_unknown_code_names_the_nearest_choices(given: str, message: str) -> None:
    with pytest.raises(InvalidSpeechError) as raised:
        check_country(given)
    assert str(raised.value) == message


def test_former_states_and_the_eu_are_recorded(corpus: Corpus) -> None:
    ids = corpus.add_all([make_speech(n, country=code, date=year) for n, (code, year) in
                          enumerate([("YU", "1946"), ("DD", "1990"), ("CS", "1960"),
                                     ("SU", "1970"), ("EU", "2023"), ("XK", "2010")])])
    assert [i[:2] for i in ids] == ["yu", "dd", "cs", "su", "eu", "xk"]


def test_the_countries_command_lists_every_code(tmp_path: Path) -> None:
    everything = json.loads(run("countries", "--format", "json").stdout)
    assert len(everything) == len(countries()) and {"GB", "YU", "EU", "XK"} <= {
        row["code"] for row in everything}
    former = run("countries", "--status", "former").stdout
    assert "German Democratic Republic" in former and "United Kingdom" not in former
    wrong = run("countries", "--status", "gone")
    assert wrong.exit_code == 1 and "status 'gone' is not known" in wrong.stderr
