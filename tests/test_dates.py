"""One rule for partial dates in every loader and command, dates shown at their precision,
and filter values checked and normalised like stored values."""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import policyspeech as ps
from policyspeech import analysis
from policyspeech.store import Corpus
from tests.helpers import make_speech, run

KOESSL = "Günter Kößl"
SPEECHES: dict[str, dict[str, Any]] = {
    # name: the fields that differ from make_speech's
    "y2023": {"date": "2023", "themes": ["health"]},
    "m2023-03": {"date": "2023-03", "themes": ["health", "energy"]},
    "d2023-03-15": {"date": "2023-03-15", "themes": ["energy"]},
    "d2023-09-10": {"date": "2023-09-10", "themes": ["health"]},
    "y2022": {"date": "2022", "themes": ["energy"]},
    "m2021-05": {"date": "2021-05", "country": "DE", "language": "de", "speaker": KOESSL,
                 "themes": ["transportation"], "text": "Die Straße ist lang und breit."},
    "d2021-05-20": {"date": "2021-05-20", "country": "DE", "language": "de", "speaker": KOESSL,
                    "themes": ["transportation"], "text": "DIE STRASSE IST NASS."},
}
SHOWN = {"y2023": "2023", "m2023-03": "2023-03", "d2023-03-15": "2023-03-15",
         "d2023-09-10": "2023-09-10", "y2022": "2022", "m2021-05": "2021-05",
         "d2021-05-20": "2021-05-20"}
"""Each speech's date as every command must print it."""


@pytest.fixture(scope="module")
def dated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A corpus of speeches dated to the year, the month and the day; names by id."""
    corpus = Corpus.init(tmp_path_factory.mktemp("dates") / "corpus")
    ids = corpus.add_all([make_speech(n, title=f"Speech {name}", **fields)
                          for n, (name, fields) in enumerate(SPEECHES.items())])
    return corpus.path, dict(zip(ids, SPEECHES, strict=True))


def cli_options(filters: dict[str, Any]) -> list[str]:
    """``--name value`` for each filter (repeated for a list of values)."""
    return [item for name, value in filters.items()
            for one in (value if isinstance(value, list) else [value])
            for item in (f"--{name}", str(one))]


def by_read(path: Path, **filters: Any) -> list[str]:
    return list(ps.read(path, columns=["id"], **filters)["id"])


def by_scan(path: Path, **filters: Any) -> list[str]:
    return list(ps.scan(path, **filters).select("id").collect()["id"])


def by_read_arrow(path: Path, **filters: Any) -> list[str]:
    return ps.read_arrow(path, **filters)["id"].to_pylist()


def by_load_dataset(path: Path, **filters: Any) -> list[str]:
    return list(ps.load_dataset(path, **filters)["id"])


def by_cli_list(path: Path, **filters: Any) -> list[str]:
    result = run("--corpus", str(path), "list", "--format", "json", *cli_options(filters))
    assert result.exit_code == 0, result.stderr
    return [row["id"] for row in json.loads(result.stdout)]


LOADERS: list[Callable[..., list[str]]] = [by_read, by_scan, by_read_arrow, by_load_dataset,
                                           by_cli_list]

SELECTIONS = [
    # the issue: a speech dated only "2023" (September, say) is not within until=2023-03
    ({"until": "2023-03"}, {"y2022", "m2023-03", "d2023-03-15", "m2021-05", "d2021-05-20"}),
    ({"since": "2023-06"}, {"d2023-09-10"}),
    ({"since": "2023", "until": "2023"}, {"y2023", "m2023-03", "d2023-03-15", "d2023-09-10"}),
    ({"until": "2023-03-15"}, {"y2022", "d2023-03-15", "m2021-05", "d2021-05-20"}),
    ({"since": "2023-03"}, {"m2023-03", "d2023-03-15", "d2023-09-10"}),
    ({"since": "2021-05-10", "until": "2021-05-31"}, {"d2021-05-20"}),
    ({"since": "2021-05", "until": "2021-05"}, {"m2021-05", "d2021-05-20"}),
    ({"until": "2023-12"}, set(SPEECHES)),
    ({"until": "2023-11-30"}, set(SPEECHES) - {"y2023"}),
    ({"since": "2022", "until": "2022-12-31", "country": "GB"}, {"y2022"}),
    ({"until": "9999"}, set(SPEECHES)),  # the last day a date can have
    ({"since": "0001", "until": "9999-12-31"}, set(SPEECHES)),
]


@pytest.mark.parametrize(("filters", "expected"), SELECTIONS, ids=[repr(s[0]) for s in SELECTIONS])
@pytest.mark.parametrize("loader", LOADERS, ids=lambda f: f.__name__)
def test_a_speech_is_selected_when_the_whole_of_its_period_is_in_the_range(
        dated: tuple[Path, dict[str, str]], loader: Callable[..., list[str]],
        filters: dict[str, Any], expected: set[str]) -> None:
    path, names = dated
    found = loader(path, **filters)
    assert len(found) == len(set(found))
    assert {names[i] for i in found} == expected


def test_date_objects_are_bounds_of_one_day(dated: tuple[Path, dict[str, str]]) -> None:
    path, names = dated
    for loader in LOADERS[:4]:
        assert {names[i] for i in loader(path, until=datetime.date(2023, 3, 31))} == {
            "y2022", "m2023-03", "d2023-03-15", "m2021-05", "d2021-05-20"}
        assert {names[i] for i in loader(path, since=datetime.date(2023, 3, 2))} == {
            "d2023-03-15", "d2023-09-10"}


# -- display ------------------------------------------------------------------------------

def table_rows(output: str) -> list[list[str]]:
    """The cells of a table's rows (columns are at least two spaces apart)."""
    lines = output.splitlines()
    assert set(lines[1]) <= {"-", " "}
    return [re.split(r"\s{2,}", line.strip()) for line in lines[2:]]


def test_list_prints_dates_at_their_precision(dated: tuple[Path, dict[str, str]]) -> None:
    path, names = dated
    table = run("--corpus", str(path), "list")
    assert table.exit_code == 0
    assert table.stdout.splitlines()[0].split() == ["id", "date", "speaker", "country",
                                                    "word_count", "title"]
    assert {row[0]: row[1] for row in table_rows(table.stdout)} == {
        i: SHOWN[n] for i, n in names.items()}
    as_csv = run("--corpus", str(path), "list", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(as_csv)))
    assert {r["id"]: (r["date"], r["date_precision"]) for r in rows} == {
        i: (SHOWN[n], "year" if n[0] == "y" else "month" if n[0] == "m" else "day")
        for i, n in names.items()}
    as_json = json.loads(run("--corpus", str(path), "list", "--format", "json").stdout)
    assert {r["id"]: r["date"] for r in as_json} == {i: SHOWN[n] for i, n in names.items()}
    for output in (table.stdout, as_csv, json.dumps(as_json)):
        assert "2023-01-01" not in output and "2022-01-01" not in output
        assert "2023-03-01" not in output and "2021-05-01" not in output


@pytest.mark.parametrize("name", ["y2023", "m2023-03", "d2023-03-15"])
def test_show_prints_the_date_at_its_precision(dated: tuple[Path, dict[str, str]],
                                               name: str) -> None:
    path, names = dated
    [record_id] = [i for i, n in names.items() if n == name]
    shown = run("--corpus", str(path), "show", record_id)
    assert shown.exit_code == 0
    assert re.findall(r"^date +(.*)$", shown.stdout, re.MULTILINE) == [SHOWN[name]]
    as_json = json.loads(run("--corpus", str(path), "show", record_id, "--format", "json")
                         .stdout)
    assert as_json["date"] == SHOWN[name]


def test_kwic_prints_dates_at_their_precision(dated: tuple[Path, dict[str, str]]) -> None:
    path, _names = dated
    table = run("--corpus", str(path), "kwic", "number", "--window", "1")
    assert table.exit_code == 0
    assert table.stdout.splitlines()[0].split() == ["date", "id", "speaker", "left",
                                                  "match", "right"]
    assert sorted(row[0] for row in table_rows(table.stdout)) == sorted(
        SHOWN[n] for n in SPEECHES if SPEECHES[n].get("country") is None)
    as_json = json.loads(run("--corpus", str(path), "kwic", "Straße", "--format", "json").stdout)
    assert sorted((h["date"], h["match"]) for h in as_json) == [
        ("2021-05", "Straße"), ("2021-05-20", "STRASSE")]
    hits = analysis.kwic("number", path, until="2023-03")
    assert sorted(hits["date_precision"].to_list()) == ["day", "month", "year"]


def test_stats_first_and_last_at_their_precision(dated: tuple[Path, dict[str, str]]) -> None:
    path, _names = dated
    table = run("--corpus", str(path), "stats", "--by", "country")
    assert table.exit_code == 0
    assert table_rows(table.stdout) == [["GB", "5", "45", "2022", "2023"],
                                        ["DE", "2", "10", "2021-05", "2021-05"]]
    as_json = json.loads(run("--corpus", str(path), "stats", "--by", "country", "--format",
                             "json").stdout)
    assert [(r["country"], r["first"], r["last"]) for r in as_json] == [
        ("GB", "2022", "2023"), ("DE", "2021-05", "2021-05")]
    # the latest *end*: 2023 (to 31 December) ends after 2023-09-10
    in_2023 = analysis.stats(path, by="country", since="2023")
    assert in_2023.select("country", "speeches", "first", "last").rows() == [
        ("GB", 4, "2023", "2023")]
    without_year = analysis.stats(path, by="country", since="2023-02")
    assert without_year.select("first", "last").rows() == [("2023-03", "2023-09-10")]


def test_trends_by_month_leave_out_year_only_speeches_and_say_so(
        dated: tuple[Path, dict[str, str]]) -> None:
    path, _names = dated
    monthly = run("--corpus", str(path), "trends", "--period", "month", "--format", "json")
    assert monthly.exit_code == 0
    rows = json.loads(monthly.stdout)
    assert sorted({(r["period"], r["period_speeches"]) for r in rows}) == [
        ("2021-05", 2), ("2023-03", 2), ("2023-09", 1)]
    assert not [r for r in rows if r["period"].endswith("-01")]
    assert monthly.stderr == ("note: 2 speeches dated only to the year are in no month; use "
                              "--period year to count them\n")
    one = run("--corpus", str(path), "trends", "--period", "month", "--since", "2023")
    assert one.exit_code == 0
    assert one.stderr == ("note: 1 speech dated only to the year is in no month; use "
                          "--period year to count them\n")
    assert "2023-01" not in one.stdout
    yearly = run("--corpus", str(path), "trends", "--period", "year", "--format", "json")
    assert yearly.exit_code == 0 and yearly.stderr == ""
    assert sorted({(r["period"], r["period_speeches"]) for r in json.loads(yearly.stdout)}) == [
        ("2021", 2), ("2022", 1), ("2023", 4)]
    health = analysis.trends(path, period="year").filter(theme="health")
    assert health.select("period", "speeches", "share_speeches").rows() == [("2023", 3, 0.75)]
    assert analysis.undated_in("month", path) == 2
    assert analysis.undated_in("month", path, country="DE") == 0
    assert analysis.undated_in("year", path) == 0


# -- filter values ---------------------------------------------------------------------------

@pytest.mark.parametrize("loader", LOADERS, ids=lambda f: f.__name__)
def test_a_speaker_filter_is_normalised_like_stored_speakers(
        dated: tuple[Path, dict[str, str]], loader: Callable[..., list[str]]) -> None:
    path, names = dated
    decomposed = unicodedata.normalize("NFD", KOESSL)
    assert decomposed != KOESSL
    for speaker in (decomposed, "  Günter   Kößl "):
        assert {names[i] for i in loader(path, speaker=speaker)} == {"m2021-05", "d2021-05-20"}


def test_kwic_matches_by_full_case_folding(dated: tuple[Path, dict[str, str]]) -> None:
    path, _names = dated
    for term in ("STRASSE", "Straße", "strasse", "STRAẞE"):
        result = run("--corpus", str(path), "kwic", term, "--format", "json")
        assert result.exit_code == 0, result.stderr
        assert sorted(h["match"] for h in json.loads(result.stdout)) == ["STRASSE", "Straße"]
    exact = run("--corpus", str(path), "kwic", "Straße", "--case-sensitive", "--format", "json")
    assert [h["match"] for h in json.loads(exact.stdout)] == ["Straße"]


BAD_FILTERS = [
    ("country", "gb", "country 'gb' must be upper case; use 'GB'"),
    ("country", "UK", "country 'UK' is not a country code; use 'GB' (United Kingdom)"),
    ("language", "German", "language 'German' is not an ISO 639-1 code; use 'de'"),
    ("language", "EN", "language 'EN' must be lower case; use 'en'"),
    ("theme", "helth", "theme 'helth' is not in the codebook; did you mean 'health'?"),
    ("theme", "Health", "theme 'Health' is not in the codebook; use 'health' (theme slugs are "
     "lower case with underscores)"),
]


@pytest.mark.parametrize(("name", "value", "message"), BAD_FILTERS)
def test_a_filter_value_no_record_could_carry_is_an_error_naming_the_fix(
        dated: tuple[Path, dict[str, str]], tmp_path: Path, name: str, value: str,
        message: str) -> None:
    path, _names = dated
    listed = run("--corpus", str(path), "list", f"--{name}", value)
    assert listed.exit_code == 1 and listed.stdout == ""
    assert listed.stderr == f"error: {message}\n"
    for command in (["stats"], ["kwic", "speech"], ["trends"]):
        other = run("--corpus", str(path), *command, f"--{name}", value)
        assert (other.exit_code, other.stderr) == (1, f"error: {message}\n")
    for loader in (ps.read, ps.scan, ps.read_arrow, ps.load_dataset):
        with pytest.raises(ps.InvalidSpeechError) as caught:
            loader(path, **{name: value})
        assert str(caught.value) == message
    # the same message as `add` gives for the same value
    text = tmp_path / "speech.txt"
    text.write_text("A speech.", encoding="utf-8")
    fields = {"title": "T", "speaker": "S", "country": "GB", "date": "2020", "language": "en",
              name: value}
    added = run("--corpus", str(Corpus.init(tmp_path / "c").path), "add", str(text),
                *cli_options(fields))
    assert (added.exit_code, added.stderr) == (1, f"error: {text}: {message}\n")


def test_language_filter(dated: tuple[Path, dict[str, str]]) -> None:
    path, names = dated
    for loader in LOADERS:
        assert {names[i] for i in loader(path, language="de")} == {"m2021-05", "d2021-05-20"}
        assert {names[i] for i in loader(path, language=["de", "en"])} == set(SPEECHES)
    assert {names[i] for i in by_read(path, language="en", until="2023-03")} == {
        "y2022", "m2023-03", "d2023-03-15"}


def test_a_range_that_ends_before_it_starts_is_an_error(tmp_path: Path) -> None:
    corpus = Corpus.init(tmp_path / "c")
    with pytest.raises(ps.InvalidSpeechError, match="since '2021' is after until '2019'; swap"):
        ps.read(corpus.path, since="2021", until="2019")
    with pytest.raises(ps.InvalidSpeechError, match="theme 'crime' is not in the codebook; did "
                       "you mean 'law_and_crime'"):
        ps.read(corpus.path, theme="crime")


def test_the_ends_of_the_calendar_are_bounds_like_any_other(tmp_path: Path) -> None:
    corpus = Corpus.init(tmp_path / "c")
    corpus.add_all([make_speech(1, date="2019"), make_speech(2, date="2019-12-31")])
    for until in ("9999-12", "9999", "9999-12-31"):
        assert ps.read(corpus.path, until=until).height == 2
    assert ps.read(corpus.path, until="0001-01").height == 0
    assert ps.read(corpus.path, since="2019", until=datetime.datetime(2020, 1, 1)).height == 2
    listed = run("--corpus", str(corpus.path), "list", "--until", "9999-12")
    assert listed.exit_code == 0 and "2019-12-31" in listed.stdout
