"""Groups by any filter: the loaders' filters (with since/until meaning exactly what they
mean in ``ps.read``), party, organisation, years and ranges of years, ids; in Python and
in the CLI; bad specs; the warning for a small group."""

from __future__ import annotations

import datetime
import warnings
from pathlib import Path

import polars as pl
import pytest

import policyspeech as ps
from policyspeech import analysis
from policyspeech.errors import CorpusError
from policyspeech.groups import (
    SmallGroupWarning,
    group_columns,
    group_condition,
    parse_group,
)
from policyspeech.store import Corpus
from tests.helpers import make_speech, run

OLD = "Liberty union commerce tariff gold. " * 3
NEW = "Jobs climate internet families security. " * 3


@pytest.fixture
def eras(corpus: Corpus) -> Corpus:
    """US speeches around 1900 and 1990 at every precision, and two GB ones."""
    rows = [  # n, country, date, party, speaker, era, last word of the text
        (1, "US", "1899", "Republican", "William McKinley", OLD, "one"),
        (2, "US", "1900-03", "Republican", "William McKinley", OLD, "two"),
        (3, "US", "1900-12-31", "Republican", "William McKinley", OLD, "three"),
        (4, "US", "1900", "Democratic", "William Jennings Bryan", OLD, "four"),
        (5, "US", "1901-01-01", "Republican", "Theodore Roosevelt", OLD, "five"),
        (6, "US", "1989-12", "Republican", "George Bush", NEW, "six"),
        (7, "US", "1990", "Republican", "George Bush", NEW, "seven"),
        (8, "US", "1995-06-01", "Democratic", "Bill Clinton", NEW, "eight"),
        (9, "US", "2005-02-02", "Republican", "George W. Bush", NEW, "nine"),
        (10, "GB", "1995-01-01", "Labour", "Tony Blair", NEW, "ten"),
        (11, "GB", "1899-05-05", "Liberal", "Henry Campbell-Bannerman", OLD, "eleven"),
    ]
    precision = {4: "year", 7: "month", 10: "day"}
    corpus.add_all([
        make_speech(n, country=country, date=date, date_precision=precision[len(date)],
                    party=party, speaker=speaker, text=era + last,
                    themes=["health"] if n == 10 else ["technology"],
                    **({"organisation": "White House"} if n == 8 else {}))
        for n, country, date, party, speaker, era, last in rows])
    return corpus


def ids_in(corpus: Corpus, spec: str | dict[str, object]) -> list[str]:
    conditions = parse_group(spec)
    frame = ps.read(corpus.path, columns=sorted({"id", "text"} | group_columns(conditions)))
    return sorted(frame.filter(group_condition(conditions))["text"].str.extract(r"(\w+)$")
                  .to_list())


def test_group_specs_are_read_and_checked() -> None:
    assert parse_group("country=US;until=1900") == {"country": ["US"], "until": ["1900"]}
    assert parse_group(" party = Labour , Liberal ; year=1990-1999,2005") == {
        "party": ["Labour", "Liberal"], "year": ["1990-1999", "2005"]}
    assert parse_group({"country": ["US", "GB"], "since": datetime.date(1990, 1, 1),
                        "year": range(1990, 1992)}) == {
        "country": ["US", "GB"], "since": ["1990-01-01"], "year": ["1990", "1991"]}
    assert sorted(group_columns(parse_group("until=1900;theme=health;year=2000"))) == [
        "date", "date_precision", "themes"]
    for spec, message in [
        ("GB", "group 'GB' is not FIELD=VALUE; use a field among speaker, country, "
               "language, theme, since, until, party, organisation, year, id, "
               "e.g. \"speaker=Brandon Lewis\""),
        ("mood=grim", "group 'mood=grim' names 'mood', which is not a group field; use one "
                      "of speaker, country, language, theme, since, until, party, "
                      "organisation, year, id"),
        ("country=", "group 'country=' gives no value for country; write country=VALUE"),
        ("country=US;country=GB", "group 'country=US;country=GB' names country twice; give "
                                  "its values once, separated by commas (country=A,B)"),
        ("since=1990,2000", "since takes one date, not 1990, 2000; write e.g. since=1990"),
        ("year=19x0", "year '19x0' is not a year or a range of years; write 2019 or "
                      "1990-1999"),
        ("year=1999-1990", "year range '1999-1990' runs backwards; write 1990-1999"),
        ("country=UK", "country 'UK' is not a country code; use 'GB' (United Kingdom)"),
        ("until=1900-13", "until '1900-13' is not a real date (month must be in 1..12); "
                          "check the day and month"),
        ("since=2000;until=1990", "since '2000' is after until '1990'; swap them"),
        ("theme=Health", "theme 'Health' is not in the codebook; use 'health' (theme slugs "
                         "are lower case with underscores)"),
    ]:
        with pytest.raises(CorpusError) as caught:
            parse_group(spec)
        assert str(caught.value) == message
    with pytest.raises(CorpusError, match=r"group 'versio=1.0.0' names 'versio'"):
        parse_group({"versio": "1.0.0"})
    with pytest.raises(CorpusError, match=r"^year None is not a value a group can hold"):
        parse_group({"year": None})


def test_since_and_until_select_what_the_loaders_select(eras: Corpus) -> None:
    assert ids_in(eras, "country=US;until=1900") == ["four", "one", "three", "two"]
    assert ids_in(eras, "country=US;since=1990") == ["eight", "nine", "seven"]
    # a speech dated only to 1900 lies within until=1900 but not until=1900-06
    assert ids_in(eras, "country=US;until=1900-06") == ["one", "two"]
    # nor within since=1900-03
    assert ids_in(eras, {"since": "1900-03", "until": "1900"}) == ["three", "two"]
    bounds = ["1899", "1900", "1900-03", "1900-12", "1900-12-31", "1901", "1989-12", "1990",
              "1995-06-01"]
    for since in [None, *bounds]:
        for until in [None, *bounds]:
            spec = {k: v for k, v in (("since", since), ("until", until)) if v}
            if since and until and since > until:
                continue
            loaded = ps.read(eras.path, columns=["text"], **spec)
            expected = sorted(loaded["text"].str.extract(r"(\w+)$").to_list())
            assert ids_in(eras, {"country": ["US", "GB"], **spec}) == expected, spec


def test_fields_only_groups_have(eras: Corpus) -> None:
    assert ids_in(eras, "year=1990-1999") == ["eight", "seven", "ten"]
    assert ids_in(eras, "year=1899,1990-1995;country=US") == ["eight", "one", "seven"]
    assert ids_in(eras, "party=Democratic") == ["eight", "four"]
    assert ids_in(eras, "organisation=White House") == ["eight"]
    assert ids_in(eras, "theme=health;party=Labour") == ["ten"]
    assert ids_in(eras, "speaker=George  Bush") == ["seven", "six"]  # normalised as stored
    one = ps.read(eras.path, columns=["id", "text"]).filter(pl.col("text").str.ends_with("nine"))
    assert ids_in(eras, {"id": one["id"].to_list()}) == ["nine"]


def test_compare_eras_in_python_and_the_cli(eras: Corpus) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallGroupWarning)
        table = analysis.compare(eras.path, a={"country": "US", "until": "1900"},
                                 b={"country": "US", "since": "1990"}, min_count=1)
    sides = {row["word"]: (row["side"], row["count_a"], row["count_b"])
             for row in table.to_dicts()}
    assert sides["tariff"] == ("a", 12, 0) and sides["climate"] == ("b", 0, 9)
    result = run("--corpus", str(eras.path), "compare", "--a", "country=US;until=1900",
                 "--b", "country=US;since=1990", "--country", "US", "--min-count", "1",
                 "--format", "csv")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "word,count_a,count_b,delta,variance,z,side"
    assert {line.split(",")[0] for line in result.stdout.splitlines()[1:]} >= {"tariff",
                                                                               "climate"}
    eras_by = run("--corpus", str(eras.path), "compare", "--by", "year", "1899-1900",
                  "1990-2010", "--country", "US", "--min-count", "1", "--format", "csv")
    assert eras_by.exit_code == 0 and eras_by.stdout == result.stdout
    bad = run("--corpus", str(eras.path), "compare", "--a", "country=US;until=1900",
              "--b", "year=1990-198")
    assert bad.exit_code == 1
    assert bad.stderr == ("error: year range '1990-198' runs backwards; write "
                          "198-1990\n")
    empty = run("--corpus", str(eras.path), "compare", "--a", "country=US;until=1800",
                "--b", "country=US")
    assert empty.exit_code == 1 and empty.stderr == (
        "error: group a (country=US;until=1800) has no speeches in the selection; check "
        "its value and the filters\n")


def test_a_small_group_is_warned_of(eras: Corpus) -> None:
    with pytest.warns(SmallGroupWarning) as caught:
        analysis.compare(eras.path, a="party=Democratic", b="party=Republican", min_count=1)
    assert [str(w.message) for w in caught] == [
        "group a (party=Democratic) has 32 tokens in 2 speeches, fewer than 1,000 tokens and "
        "5 speeches: its distinctive words rest on little text",
        "group b (party=Republican) has 112 tokens in 7 speeches, fewer than 1,000 tokens: "
        "its distinctive words rest on little text"]
    result = run("--corpus", str(eras.path), "compare", "--a", "party=Democratic", "--b",
                 "party=Republican", "--min-count", "1", "--format", "json")
    assert result.exit_code == 0 and result.stdout.startswith("[")
    assert result.stderr.splitlines() == [f"warning: {w.message}" for w in caught]


def test_no_warning_for_groups_of_enough_words(corpus: Corpus) -> None:
    words = " ".join(f"word{n % 50}" for n in range(199))
    corpus.add_all([make_speech(n, speaker="A" if n < 5 else "B",
                                text=f"{words} end{'abcdefghij'[n]}.") for n in range(10)])
    with warnings.catch_warnings():  # 5 speeches of 1,000 tokens: just enough
        warnings.simplefilter("error", SmallGroupWarning)
        table = analysis.compare(corpus.path, a="speaker=A", b="speaker=B", min_count=0)
    assert table.height > 0
    result = run("--corpus", str(corpus.path), "compare", "--a", "speaker=A", "--b",
                 "speaker=B")
    assert result.exit_code == 0 and result.stderr == ""
    four = ps.read(corpus.path, speaker="A", columns=["id"])["id"].to_list()[:4]
    with pytest.warns(SmallGroupWarning) as caught:
        analysis.compare(corpus.path, a={"id": four}, b="speaker=B", min_count=0)
    [message] = [str(w.message) for w in caught]
    assert message == (f"group a (id={','.join(four)}) has 800 tokens in 4 speeches, fewer "
                       "than 1,000 tokens and 5 speeches: its distinctive words rest on "
                       "little text")


def test_eras_of_the_state_of_the_union(realdata: Path, corpus: Corpus) -> None:
    """The issue's own example on the real addresses: until 1900 against since 1990."""
    corpus.import_path([realdata / "sotu.jsonl"])
    old, new = {"country": "US", "until": "1900"}, {"country": "US", "since": "1990"}
    _, sizes = analysis.word_counts(corpus.path, a=old, b=new)
    assert sizes["a"] == ps.read(corpus.path, columns=["id"], **old).height > 100
    assert sizes["b"] == ps.read(corpus.path, columns=["id"], **new).height > 30
    with warnings.catch_warnings():
        warnings.simplefilter("error", SmallGroupWarning)  # hundreds of speeches each
        table = analysis.compare(corpus.path, a=old, b=new, measure="loglik", top=20,
                                 stopwords=True)
    recent = table.filter(pl.col("side") == "b")["word"].to_list()
    assert {"tonight", "jobs"} <= set(recent) and table["p"].max() < 1e-6


def test_a_group_given_as_a_mapping_is_named_as_the_cli_writes_it(eras: Corpus) -> None:
    with pytest.raises(CorpusError) as caught:
        analysis.compare(eras.path, a={"country": ["US", "GB"], "until": 1800}, b="country=US")
    assert str(caught.value) == ("group a (country=US,GB;until=1800) has no speeches in the "
                                 "selection; check its value and the filters")


def test_a_value_with_a_comma_or_semicolon_is_given_in_quotes(corpus: Corpus) -> None:
    """Names such as "Brown, Gordon" in a string group, with --by, and in messages."""
    corpus.add_all([make_speech(n, speaker=speaker, text=f"{words} {n}")
                    for n, (speaker, words) in enumerate([
                        ("Brown, Gordon", OLD), ("Brown, Gordon", OLD), ("Blair; Tony", NEW),
                        ("Blair; Tony", NEW), ('Say "Hi"', NEW)])])
    assert parse_group('speaker="Brown, Gordon";country=GB') == {
        "speaker": ["Brown, Gordon"], "country": ["GB"]}
    assert parse_group('speaker="Blair; Tony","Say ""Hi"""') == {
        "speaker": ["Blair; Tony", 'Say "Hi"']}
    assert ids_in(corpus, 'speaker="Brown, Gordon"') == ["0", "1"]
    assert ids_in(corpus, {"speaker": "Blair; Tony"}) == ["2", "3"]
    with pytest.raises(CorpusError, match=r"""opens a quote it does not close; write a value """
                                          r"""with , or ; in double quotes: speaker="Brown, """):
        parse_group('speaker="Brown, Gordon')
    quoted = run("--corpus", str(corpus.path), "compare", "--a", 'speaker="Brown, Gordon"',
                 "--b", 'speaker="Blair; Tony"', "--min-count", "1", "--format", "csv")
    by = run("--corpus", str(corpus.path), "compare", "--by", "speaker", "Brown, Gordon",
             "Blair; Tony", "--min-count", "1", "--format", "csv")
    assert quoted.exit_code == 0 and by.exit_code == 0 and by.stdout == quoted.stdout
    assert "tariff" in quoted.stdout and "climate" in quoted.stdout
    assert 'group a (speaker="Brown, Gordon") has' in by.stderr  # the small-group warning
