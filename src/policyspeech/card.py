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

from policyspeech.documents import Manifest
from policyspeech.layout import release_folder, view_file
from policyspeech.log import HeadState
from policyspeech.schema import SCHEMA_VERSION, card_features, fields_of

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


def _dataset_info(state: HeadState) -> dict[str, Any] | list[dict[str, Any]]:
    """One ``dataset_info`` when every config has the head's schema; else one per config,
    each with the features of its own schema version (a release made before a field was
    added does not have it: ``datasets`` refuses a file whose columns differ)."""
    head = {"features": card_features(state.schema_version),
            "splits": [{"name": "train",
                        "num_bytes": sum(info["bytes"] for info in state.fragments.values()),
                        "num_examples": state.rows}]}
    if all(r["schema_version"] == state.schema_version for r in state.releases.values()):
        return head
    infos = [{"config_name": "default", **head}] if state.fragments else []
    for version in _release_order(state):
        release = state.releases[version]
        infos.append({"config_name": version,
                      "features": card_features(release["schema_version"])})
    return infos


def _dump(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=100)


@cache
def _features_yaml(version: str) -> str:
    """The ``features`` list of schema ``version``, indented under ``dataset_info``."""
    text = _dump({"features": card_features(version)})
    return "".join(f"  {line}\n" for line in text.splitlines())


def _dataset_info_yaml(state: HeadState) -> str:
    """The ``dataset_info`` block: the schema's features (rendered once) and the split."""
    info = _dataset_info(state)
    if isinstance(info, list):  # configs of several schema versions: rare, rendered plainly
        return _dump({"dataset_info": info})
    [split] = info["splits"]
    return (f"dataset_info:\n{_features_yaml(state.schema_version)}  splits:\n"
            f"  - name: train\n    num_bytes: {split['num_bytes']}\n"
            f"    num_examples: {split['num_examples']}\n")


def _configs_yaml(state: HeadState) -> str:
    """The ``configs`` block, written directly: it lists every fragment of the head, and
    fragment paths (``data/<hex>.parquet``) are plain YAML scalars."""
    blocks = []
    if state.fragments:
        blocks.append("- config_name: default\n  default: true\n"
                      + _data_files_yaml(state.fragments))
    for version in _release_order(state):  # each release's files in its own folder
        blocks.append(f"- config_name: '{version}'\n" + _data_files_yaml(
            view_file(release_folder(version), p) for p in state.releases[version]["fragments"]))
    return "configs:\n" + "".join(blocks) if blocks else ""


def _data_files_yaml(paths: Iterable[str]) -> str:
    listed = "".join(f"    - {path}\n" for path in paths)
    return f"  data_files:\n  - split: train\n    path:\n{listed}"


def render_card(state: HeadState, latest: Manifest | None = None) -> str:
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
corpus) is licensed under {_compilation_licence(latest)}.

## Citation

{_citation_section(state, latest)}

## Fields

{field_table(state.schema_version)}
## Themes

{theme_table()}"""


def _versions_section(state: HeadState, latest: Manifest | None) -> str:
    lines = [f"- head: {state.rows:,} records in {len(state.fragments):,} fragments, "
             f"log entry {state.seq} (SHA-256 `{state.entry_sha256}`), schema "
             f"{state.schema_version}"]
    for version in _release_order(state):
        release = state.releases[version]
        lines.append(f"- {version} ({release['date']}): {release.get('records', 0):,} records"
                     + ("" if release["schema_version"] == state.schema_version else
                        f", schema {release['schema_version']}"))
    if latest:
        lines.append(f"\nThe newest release is {latest['version']}, fingerprint "
                     f"`{latest['fingerprint']}`. See CHANGELOG.md for every change.")
    return "\n".join(lines)


def _plain_release_line(latest: Manifest | None) -> str:
    if not latest:
        return ""
    return (f'ds = datasets.load_dataset("corpus", "{latest["version"]}", split="train")  '
            "# a release\n")


def _licences(state: HeadState) -> str:
    licences = sorted({lic for info in state.fragments.values()
                       for lic in info.get("licenses", [])})
    return "in the head: " + (", ".join(licences) if licences else "none yet")


def _compilation_licence(latest: Manifest | None) -> str:
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


def theme_table() -> str:
    """The Markdown table of the theme codebook.

    >>> theme_table().splitlines()[2]
    '| 1 | `macroeconomics` | Macroeconomics |'
    """
    from policyspeech.themes import THEMES

    rows = [f"| {t.code} | `{t.slug}` | {t.label} |" for t in THEMES]
    return "\n".join(["| CAP code | slug | label |", "|---|---|---|", *rows, ""])


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


def _size_category(rows: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                        (1_000_000, "100K<n<1M")):
        if rows < limit:
            return name
    return "1M<n<10M"
