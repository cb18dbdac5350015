"""The dataset card ``corpus/README.md``: YAML that plain ``datasets`` reads, and prose.

The YAML lists the fragments of the head as the ``default`` config, so that
``datasets.load_dataset("corpus")`` loads exactly the head, offline, with no code of
ours. The field table is generated from :data:`policyspeech.schema.FIELDS`.

Examples
--------
>>> from policyspeech.log import HeadState
>>> card = render_card(HeadState(seq=0))
>>> card.startswith("---\\npretty_name: policyspeech corpus\\n")
True
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

import yaml

from policyspeech.log import HeadState
from policyspeech.schema import FIELDS, SCHEMA_VERSION, card_features

PRETTY_NAME = "policyspeech corpus"
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's emitter when available


def card_header(state: HeadState) -> dict[str, Any]:
    """The YAML metadata of the card for the head ``state``, as a mapping."""
    header = _static_header(state)
    header["configs"] = _configs(state)
    header["dataset_info"] = _dataset_info(state)
    return header


def _static_header(state: HeadState) -> dict[str, Any]:
    fragments = list(state.fragments.values())
    languages = sorted({lang for info in fragments for lang in info.get("languages", [])})
    licenses = sorted({lic for info in fragments for lic in info.get("licenses", [])})
    return {
        "pretty_name": PRETTY_NAME,
        "license": "other",
        "license_name": "per-record",
        "license_details": "Each record carries its own licence (SPDX identifier) in the "
        f"`license` field. Licences in this version: {', '.join(licenses) or 'none'}.",
        "language": languages or ["en"],
        "tags": ["political-science", "speeches", "public-policy", "comparative-politics"],
        "size_categories": [_size_category(state.rows)],
    }


def _configs(state: HeadState) -> list[dict[str, Any]]:
    configs = []
    if state.fragments:
        configs.append({"config_name": "default", "default": True,
                        "data_files": [{"split": "train", "path": list(state.fragments)}]})
    for version in _release_order(state):
        configs.append({"config_name": version, "data_files": [
            {"split": "train", "path": list(state.releases[version]["fragments"])}]})
    return configs


def _release_order(state: HeadState) -> list[str]:
    """Released versions, newest first."""
    from policyspeech.releases import parse_version

    return sorted(state.releases, key=parse_version, reverse=True)


def _dataset_info(state: HeadState) -> dict[str, Any]:
    return {
        "features": card_features(),
        "splits": [{"name": "train",
                    "num_bytes": sum(info["bytes"] for info in state.fragments.values()),
                    "num_examples": state.rows}],
    }


def _dump(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=100)


@cache
def _features_yaml() -> str:
    """The constant ``features`` list, indented under ``dataset_info``."""
    text = _dump({"features": card_features()})
    return "".join(f"  {line}\n" for line in text.splitlines())


def _dataset_info_yaml(state: HeadState) -> str:
    """The ``dataset_info`` block: the schema's features (rendered once) and the split."""
    [split] = _dataset_info(state)["splits"]
    return (f"dataset_info:\n{_features_yaml()}  splits:\n  - name: train\n"
            f"    num_bytes: {split['num_bytes']}\n    num_examples: {split['num_examples']}\n")


def _configs_yaml(state: HeadState) -> str:
    """The ``configs`` block, written directly: it lists every fragment of the head, and
    fragment paths (``data/<hex>.parquet``) are plain YAML scalars."""
    blocks = []
    if state.fragments:
        blocks.append("- config_name: default\n  default: true\n"
                      + _data_files_yaml(state.fragments))
    for version in _release_order(state):
        blocks.append(f"- config_name: '{version}'\n"
                      + _data_files_yaml(state.releases[version]["fragments"]))
    return "configs:\n" + "".join(blocks) if blocks else ""


def _data_files_yaml(paths: Iterable[str]) -> str:
    listed = "".join(f"    - {path}\n" for path in paths)
    return f"  data_files:\n  - split: train\n    path:\n{listed}"


def render_card(state: HeadState, latest: dict[str, Any] | None = None) -> str:
    """The whole card text for the head ``state`` and the newest release's manifest."""
    header = _dump(_static_header(state)) + _configs_yaml(state) + _dataset_info_yaml(state)
    return f"""---
{header}---

# {PRETTY_NAME}

A versioned, citable corpus of political and policy speeches: one record per speech, with
its full text and metadata (speaker, office, party, organisation, country, date, language,
and themes from the Comparative Agendas Project codebook). It is stored as immutable
Parquet fragments with a hash-chained commit log; every release is immutable and pinned by
a fingerprint of its records.

This card is generated by `policyspeech` after every commit: do not edit it by hand.

## Versions

{_versions_section(state, latest)}

## Loading

```python
import policyspeech as ps
df = ps.read("corpus", version="{latest['version'] if latest else 'head'}")          # polars DataFrame
table = ps.read_arrow("corpus", version="{latest['version'] if latest else 'head'}") # pyarrow Table
ds = ps.load_dataset("corpus", version="{latest['version'] if latest else 'head'}")  # datasets.Dataset

import datasets
ds = datasets.load_dataset("corpus", split="train")            # the head, plain datasets
{_plain_release_line(latest)}```

`version` takes a release number, `latest` (the newest release) or `head` (every commit,
released or not). Each release is also a config of this card (config name = version).

## Licences

Each speech keeps the licence of its source, as an SPDX identifier in the `license` field
({_licences(state)}). The compilation (the selection, metadata and structure of the
corpus) is licensed under {latest['citation']['license'] if latest else 'the licence in CITATION.cff'}.

## Citation

{_citation_section(latest)}

## Fields

{field_table()}
## Themes

{theme_table()}"""


def _versions_section(state: HeadState, latest: dict[str, Any] | None) -> str:
    lines = [f"- head: {state.rows:,} records in {len(state.fragments):,} fragments, "
             f"log entry {state.seq} (SHA-256 `{state.entry_sha256}`), schema {SCHEMA_VERSION}"]
    for version in _release_order(state):
        release = state.releases[version]
        lines.append(f"- {version} ({release['date']}): {release.get('records', 0):,} records")
    if latest:
        lines.append(f"\nThe newest release is {latest['version']}, fingerprint "
                     f"`{latest['fingerprint']}`. See CHANGELOG.md for every change.")
    return "\n".join(lines)


def _plain_release_line(latest: dict[str, Any] | None) -> str:
    if not latest:
        return ""
    return (f'ds = datasets.load_dataset("corpus", "{latest["version"]}", split="train")  '
            "# a release\n")


def _licences(state: HeadState) -> str:
    licences = sorted({lic for info in state.fragments.values()
                       for lic in info.get("licenses", [])})
    return "in the head: " + (", ".join(licences) if licences else "none yet")


def _citation_section(latest: dict[str, Any] | None) -> str:
    if not latest:
        return "No release yet: cite a release, made with `policyspeech release`."
    from policyspeech.citation import cite

    return (f"{cite(latest, 'apa')}\n\n```bibtex\n{cite(latest, 'bibtex')}\n```\n\n"
            "Other formats: `policyspeech cite --format ris|cff|json`.")


def theme_table() -> str:
    """The Markdown table of the theme codebook.

    >>> theme_table().splitlines()[2]
    '| 1 | `macroeconomics` | Macroeconomics |'
    """
    from policyspeech.themes import THEMES

    rows = [f"| {t.code} | `{t.slug}` | {t.label} |" for t in THEMES]
    return "\n".join(["| CAP code | slug | label |", "|---|---|---|", *rows, ""])


def field_table() -> str:
    """The Markdown table of the record's fields, generated from the schema.

    >>> field_table().splitlines()[2]
    '| `id` | string | yes | Stable unique identifier of the speech, never reused; derived from country, date, speaker and title unless given. |'
    """
    rows = [
        f"| `{f.name}` | {_type_name(f.kind)} | {'yes' if f.required else ''} | {f.description} |"
        for f in FIELDS
    ]
    return "\n".join(["| field | type | required | description |", "|---|---|---|---|", *rows, ""])


def _type_name(kind: str) -> str:
    return {"list": "list of string", "int32": "int32", "date": "date"}.get(kind, "string")


def _size_category(rows: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                        (1_000_000, "100K<n<1M")):
        if rows < limit:
            return name
    return "1M<n<10M"
