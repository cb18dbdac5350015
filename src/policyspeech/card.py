"""The dataset card ``corpus/README.md``: YAML that the Hugging Face Hub and plain
``datasets`` read, and prose.

One config per version, each a folder glob, so the card's size does not grow with the
number of fragments: the latest release is the default config (its name is its version),
``head`` is every commit, released or not (``data/*.parquet``), and each release is a
config of its own (``releases/<version>/*.parquet``); with no release yet, ``head`` is the
default. ``dataset_info`` gives every config its features (those of its own schema
version) and its sizes as ``datasets`` computes them (:class:`ConfigFacts`). The licence
fields follow the Hub's rules (:func:`policyspeech.licensing.hub_license`); the datasheet
comes from ``DATASHEET.md`` (:mod:`policyspeech.datasheet`). The facts that need the
records themselves are gathered by :mod:`policyspeech.cardfacts`; this module only renders.

Examples
--------
>>> from policyspeech.log import HeadState
>>> card = render_card(HeadState(seq=0), None, CardFacts())
>>> card.startswith("---\\npretty_name: policyspeech corpus\\n")
True
>>> size_category(999), size_category(1_000), size_category(2 * 10**12)
('n<1K', '1K<n<10K', 'n>1T')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

import yaml

from policyspeech.datasheet import card_section
from policyspeech.documents import Manifest
from policyspeech.layout import DATA, DATASHEET, LICENSE, release_folder
from policyspeech.licensing import hub_license
from policyspeech.log import HeadState
from policyspeech.schema import SCHEMA_VERSION, card_features, fields_of

PRETTY_NAME = "policyspeech corpus"
HEAD = "head"
"""The config (and version name) of the head."""
TASK_CATEGORIES = ["text-classification", "text-generation"]
"""From the Hub's task list: classifying speeches (themes), modelling political language."""
TASK_IDS = ["topic-classification", "multi-label-classification", "language-modeling"]
TAGS = ["political-science", "speeches", "public-policy", "comparative-politics"]
SIZE_CATEGORIES = ("n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M", "10M<n<100M",
                   "100M<n<1B", "1B<n<10B", "10B<n<100B", "100B<n<1T", "n>1T")
"""The Hub's size buckets (by number of records), smallest first."""
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's emitter when available


@dataclass(frozen=True)
class ConfigFacts:
    """One config's sizes, as ``datasets`` computes them for a Parquet config."""

    rows: int
    """``num_examples``."""
    num_bytes: int
    """The split's ``num_bytes`` (and the config's ``dataset_size``): the Arrow size of the
    records as ``datasets`` writes them."""
    download_size: int
    """The size of the config's Parquet files."""


@dataclass
class CardFacts:
    """What the card says that the log alone does not give: each version's sizes (by
    config name; a version without facts has none in the card), and every record's licence
    and language counted over every version."""

    configs: dict[str, ConfigFacts] = field(default_factory=dict)
    licenses: set[str] = field(default_factory=set)
    """The SPDX ids of every version's records (:data:`~policyspeech.licensing.NONE` when
    some have none)."""
    languages: list[str] = field(default_factory=list)


def config_order(state: HeadState) -> list[str]:
    """The card's configs: the default (the latest release, else the head) first, then the
    head, then the other releases, newest first. A version with no records is left out
    (no file would match its folder)."""
    releases = [v for v in release_order(state) if state.releases[v]["fragments"]]
    head = [HEAD] if state.fragments else []
    return releases[:1] + head + releases[1:]


def release_order(state: HeadState) -> list[str]:
    """Released versions, newest first."""
    from policyspeech.releases import parse_version

    return sorted(state.releases, key=parse_version, reverse=True)


def config_glob(name: str) -> str:
    """The files of config ``name``: a glob of its version's folder.

    >>> config_glob("head"), config_glob("1.0.0")
    ('data/*.parquet', 'releases/1.0.0/*.parquet')
    """
    return f"{DATA if name == HEAD else release_folder(name)}/*.parquet"


def card_title(latest: Manifest | None) -> str:
    """The card's title: the newest release's (its identity), else the placeholder."""
    return str(latest["citation"].get("title") or PRETTY_NAME) if latest else PRETTY_NAME


def card_header(state: HeadState, facts: CardFacts, latest: Manifest | None = None
                ) -> dict[str, Any]:
    """The card's YAML metadata, as a mapping (``latest``: the newest release's manifest)."""
    header = _static_header(state, facts, card_title(latest))
    header["configs"] = _configs(state)
    header["dataset_info"] = _dataset_info(state, facts)
    return header


def _static_header(state: HeadState, facts: CardFacts, title: str) -> dict[str, Any]:
    names = config_order(state)
    default_rows = facts.configs[names[0]].rows if names and names[0] in facts.configs else 0
    header: dict[str, Any] = {"pretty_name": title, **hub_license(facts.licenses)}
    if facts.languages:
        header["language"] = facts.languages
    header.update({"task_categories": TASK_CATEGORIES, "task_ids": TASK_IDS, "tags": TAGS,
                   "size_categories": [size_category(default_rows)]})
    return header


def _configs(state: HeadState) -> list[dict[str, Any]]:
    names = config_order(state)
    return [{"config_name": name, **({"default": True} if n == 0 else {}),
             "data_files": [{"split": "train", "path": config_glob(name)}]}
            for n, name in enumerate(names)]


def _schema_of(state: HeadState, name: str) -> str:
    return state.schema_version if name == HEAD else state.releases[name]["schema_version"]


def _dataset_info(state: HeadState, facts: CardFacts) -> list[dict[str, Any]]:
    """One ``dataset_info`` per config: its features (of its own schema version: a release
    made before a field was added does not have it, and ``datasets`` refuses a file whose
    columns differ) and, when known, its sizes."""
    infos = []
    for name in config_order(state):
        info: dict[str, Any] = {"config_name": name,
                                "features": card_features(_schema_of(state, name))}
        sizes = facts.configs.get(name)
        if sizes is not None:
            info["splits"] = [{"name": "train", "num_bytes": sizes.num_bytes,
                               "num_examples": sizes.rows}]
            info["download_size"] = sizes.download_size
            info["dataset_size"] = sizes.num_bytes
        infos.append(info)
    return infos


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=100)


@cache
def _features_yaml(version: str) -> str:
    """The ``features`` list of schema ``version``, indented under a ``dataset_info`` item."""
    text = _dump({"features": card_features(version)})
    return "".join(f"  {line}\n" for line in text.splitlines())


def _quoted(name: str) -> str:
    return name if name == HEAD else f"'{name}'"


def _header_yaml(state: HeadState, facts: CardFacts, title: str) -> str:
    """The YAML metadata, written directly where it is long and regular (the configs and
    their ``dataset_info``: the features of a schema version are rendered once)."""
    lines = [_dump(_static_header(state, facts, title))]
    names = config_order(state)
    if names:
        lines.append("configs:\n")
        for n, name in enumerate(names):
            lines.append(f"- config_name: {_quoted(name)}\n" + ("  default: true\n" if n == 0
                                                                  else "")
                         + f"  data_files:\n  - split: train\n    path: {config_glob(name)}\n")
        lines.append("dataset_info:\n")
    for info in _dataset_info(state, facts):
        name = info["config_name"]
        lines.append(f"- config_name: {_quoted(name)}\n{_features_yaml(_schema_of(state, name))}")
        if "splits" in info:
            [split] = info["splits"]
            lines.append(f"  splits:\n  - name: train\n    num_bytes: {split['num_bytes']}\n"
                         f"    num_examples: {split['num_examples']}\n"
                         f"  download_size: {info['download_size']}\n"
                         f"  dataset_size: {info['dataset_size']}\n")
    return "".join(lines)


def render_card(state: HeadState, latest: Manifest | None, facts: CardFacts,
                datasheet: str | None = None) -> str:
    """The whole card for the head ``state``, the newest release's manifest, the facts
    gathered from the records, and the datasheet section (:func:`policyspeech.datasheet.
    card_section`; None: the section for a corpus without ``DATASHEET.md``)."""
    from policyspeech.releases import markdown_text

    version = latest["version"] if latest else HEAD
    return f"""---
{_header_yaml(state, facts, card_title(latest))}---

# {markdown_text(card_title(latest))}

A versioned, citable corpus of political and policy speeches: one record per speech, with
its full text and metadata (speaker, office, party, organisation, country, date, language,
and themes from the Comparative Agendas Project codebook). It is stored as immutable
Parquet fragments with a hash-chained commit log; every release is immutable and pinned by
a fingerprint of its records.

This card is generated by `policyspeech` after every commit, from the log and
`{DATASHEET}`: do not edit it by hand (write the datasheet in `{DATASHEET}`).

## Versions

{_versions_section(state, latest)}

## Loading

```python
import policyspeech as ps
df = ps.read("corpus", version="{version}")          # polars DataFrame
table = ps.read_arrow("corpus", version="{version}") # pyarrow Table
ds = ps.load_dataset("corpus", version="{version}")  # datasets.Dataset

import datasets
ds = datasets.load_dataset("corpus", split="train")            # {_default_comment(latest)}
ds = datasets.load_dataset("corpus", "head", split="train")    # every commit, released or not
{_plain_release_line(latest)}```

`version` takes a release number, `latest` (the newest release) or `head` (every commit,
released or not). Each version is also a config of this card (config name = version, or
`head`) and a folder of Parquet files that any engine can glob: `{config_glob(HEAD)}` is the
head and `{config_glob("X.Y.Z")}` release X.Y.Z (in DuckDB,
`SELECT * FROM 'corpus/{config_glob(version)}'`).

## Licences

Each speech keeps the licence of its source, as an SPDX identifier in the `license` field
({_licences(facts)}). [{LICENSE}]({LICENSE}) counts the records of each licence and lists
the credit that each source asks for. The compilation (the selection, metadata and
structure of the corpus) is licensed under {compilation_licence(latest)}.

## Citation

{_citation_section(state, latest)}

{datasheet if datasheet is not None else card_section(None)}
## Fields

{field_table(state.schema_version)}
## Themes

{theme_table()}"""


def _versions_section(state: HeadState, latest: Manifest | None) -> str:
    from policyspeech.releases import markdown_text

    lines = [f"- head: {state.rows:,} records in {len(state.fragments):,} fragments, "
             f"log entry {state.seq} (SHA-256 `{state.entry_sha256}`), schema "
             f"{state.schema_version}"]
    for version in release_order(state):
        release = state.releases[version]
        doi = state.dois.get(version)  # each release's own DOI, on its own line only
        lines.append(f"- {version} ({release['date']}): {release.get('records', 0):,} records"
                     + ("" if release["schema_version"] == state.schema_version else
                        f", schema {release['schema_version']}")
                     + (f", DOI {markdown_text(doi)}" if doi else ""))
    if latest:
        lines.append(f"\nThe newest release is {latest['version']}, fingerprint "
                     f"`{latest['fingerprint']}`. See CHANGELOG.md for every change.")
    return "\n".join(lines)


def _default_comment(latest: Manifest | None) -> str:
    return f"the latest release, {latest['version']}" if latest else \
        "the head (no release yet)"


def _plain_release_line(latest: Manifest | None) -> str:
    if not latest:
        return ""
    return (f'ds = datasets.load_dataset("corpus", "{latest["version"]}", split="train")  '
            "# a release\n")


def _licences(facts: CardFacts) -> str:
    from policyspeech.licensing import NONE

    named = sorted(facts.licenses - {NONE})
    listed = ", ".join(named) if named else "none yet"
    return f"in every version: {listed}" + (
        "; some records have none recorded" if NONE in facts.licenses else "")


def compilation_licence(latest: Manifest | None) -> str:
    if not latest:
        return "the licence in CITATION.cff"
    from policyspeech.releases import markdown_text

    return markdown_text(str(latest["citation"]["license"]))


def _citation_section(state: HeadState, latest: Manifest | None) -> str:
    """The APA citation (its title, authors, DOI and URL, from CITATION.cff, escaped as
    Markdown) and the BibTeX one in a code block that no backticks of theirs can close."""
    if not latest:
        return "No release yet: cite a release, made with `policyspeech release`."
    import re

    from policyspeech.citation import Dois, cite, dois_for
    from policyspeech.releases import markdown_text

    dois = dois_for(state, latest)  # the newest release's own DOI, and every version's
    meta = latest["citation"]
    escaped = {**meta, **{key: markdown_text(str(meta[key]))
                          for key in ("title", "doi", "url", "corpus")
                          if meta.get(key)},
               "authors": [{key: markdown_text(str(value)) for key, value in author.items()}
                           for author in meta["authors"]]}
    apa = cite({**latest, "citation": escaped}, "apa", Dois(*(
        markdown_text(d) if d else None for d in (dois.release, dois.concept))))
    bibtex = cite(latest, "bibtex", dois)
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall("`+", bibtex)), default=0))
    return (f"{apa}\n\n{fence}bibtex\n{bibtex}\n{fence}\n\n"
            "Other formats: `policyspeech cite --format ris|cff|json`.")


@cache
def theme_table() -> str:
    """The Markdown table of the theme codebook.

    >>> theme_table().splitlines()[2]
    '| 1 | `macroeconomics` | Macroeconomics |'
    """
    from policyspeech.themes import THEMES

    rows = [f"| {t.code} | `{t.slug}` | {t.label} |" for t in THEMES]
    return "\n".join(["| CAP code | slug | label |", "|---|---|---|", *rows, ""])


@cache
def field_table(version: str = SCHEMA_VERSION) -> str:
    """The Markdown table of the record's fields (in schema ``version``), generated from the
    schema.

    >>> field_table().splitlines()[2]
    '| `id` | string | yes | Stable unique identifier of the speech, never reused; unless given, derived from the record alone: country, date, speaker, the first words of the title and a short hash of the speech. |'
    """
    rows = [
        f"| `{f.name}` | {_type_name(f.kind)} | {'yes' if f.required else ''} | {f.description} |"
        for f in fields_of(version)
    ]
    return "\n".join(["| field | type | required | description |", "|---|---|---|---|", *rows, ""])


def _type_name(kind: str) -> str:
    return {"list": "list of string", "int32": "int32", "date": "date"}.get(kind, "string")


def size_category(rows: int) -> str:
    """The Hub's size bucket for ``rows`` records (``1K<n<10K`` holds 1,000 to 9,999)."""
    for n, name in enumerate(SIZE_CATEGORIES[:-1]):
        if rows < 10 ** (3 + n):
            return name
    return SIZE_CATEGORIES[-1]
