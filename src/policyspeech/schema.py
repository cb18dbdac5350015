"""The record schema, defined once: fields, rules, Arrow schema, HF Features, JSON Schema.

Everything else (validation, the Parquet files, the dataset card, ``schema/``) is
derived from :data:`FIELDS`.

**Schema evolution.** Within a major version the schema only gains new nullable fields;
each field records the schema version that added it (``since``), every log entry and
release records the schema version it was written in, and the functions below give the
schema of any version (``arrow_schema("1.0.0")``). A release keeps its schema version
for ever: its fragments are never rewritten, it loads the same records (a field added
later reads as null) and it keeps its fingerprint, which covers the fields of its own
version only. Removing or retyping a field is a new major version.

Examples
--------
>>> from policyspeech.schema import FIELDS, SCHEMA_VERSION, arrow_schema
>>> [f.name for f in FIELDS][:4]
['id', 'title', 'speaker', 'speaker_id']
>>> arrow_schema().field("date").type
DataType(date32[day])
>>> arrow_schema().field("country").metadata[b"description"].decode()[:25]
'Country of the speaker or'
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from policyspeech.themes import THEMES

if TYPE_CHECKING:
    import datasets
    import pyarrow as pa

SCHEMA_VERSION = "1.1.0"
"""Version of the record schema; a change of its major number is a breaking change.

1.0.0: the first schema. 1.1.0: ``source_id`` (the record's identifier in its source)."""

ID_PATTERN = r"^[a-z0-9][a-z0-9-]{2,127}$"
WIKIDATA_PATTERN = r"^Q[1-9][0-9]*$"
DATE_PATTERN = r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"
DELIVERY_VALUES = (
    "as_delivered",
    "as_prepared",
    "speaking_notes",
    "oral_statement",
    "written_statement",
    "article",
    "unknown",
)
DATE_PRECISIONS = ("day", "month", "year")

Kind = Literal["string", "date", "int32", "list"]


@dataclass(frozen=True)
class Field:
    """One field of the record: its type, its description and its rules."""

    name: str
    kind: Kind
    description: str
    required: bool = False
    derived: bool = False
    pattern: str | None = None
    enum: tuple[str, ...] | None = None
    default: str | None = None
    since: str = "1.0.0"
    """The schema version that added the field."""


FIELDS: tuple[Field, ...] = (
    Field("id", "string", "Stable unique identifier of the speech, never reused; unless given, "
          "derived from the record alone: country, date, speaker, the first words of the title "
          "and a short hash of the speech.", required=True, pattern=ID_PATTERN),
    Field("title", "string", "Title of the speech as published.", required=True),
    Field("speaker", "string", "Display name of the person who gave the speech.", required=True),
    Field("speaker_id", "string", "Wikidata QID of the speaker (Q followed by digits).",
          pattern=WIKIDATA_PATTERN),
    Field("speaker_role", "string", "Office the speaker held at the time of the speech."),
    Field("party", "string", "Political party of the speaker at the time of the speech."),
    Field("organisation", "string",
          "Ministry, department or body the speaker spoke for."),
    Field("country", "string", "Country of the speaker or government: an ISO 3166-1 alpha-2 "
          "code in upper case (GB, DE, US), the withdrawn ISO 3166-3 code of a former state "
          "(YU, DD, SU, CS), EU or XK.", required=True, pattern=r"^[A-Z]{2}$"),
    Field("date", "date", "Date of the speech; a partial date is stored as its first day, "
          "with date_precision saying which parts are known.", required=True),
    Field("date_precision", "string", "Precision of date: day, month or year.",
          enum=DATE_PRECISIONS, default="day"),
    Field("event", "string", "Event, meeting or occasion at which the speech was given."),
    Field("location", "string", "Place where the speech was given."),
    Field("language", "string", "Language of the text, ISO 639-1 code in lower case (en, de).",
          required=True, pattern=r"^[a-z]{2}$"),
    Field("delivery", "string", "What the text is: as_delivered, as_prepared, speaking_notes, "
          "oral_statement, written_statement, article or unknown.",
          enum=DELIVERY_VALUES, default="unknown"),
    Field("themes", "list", "Policy themes: slugs of the Comparative Agendas Project major "
          "topics (see themes.csv).", enum=tuple(t.slug for t in THEMES)),
    Field("keywords", "list", "Free keywords, trimmed and de-duplicated."),
    Field("text", "string", "Full text, normalised: UTF-8, Unicode NFC, LF line ends, "
          "paragraphs separated by one blank line.", required=True),
    Field("word_count", "int32", "Number of whitespace-separated words in text (derived).",
          derived=True),
    Field("text_sha256", "string", "Hex SHA-256 of the UTF-8 bytes of text (derived); equal "
          "hashes mean the same words, which several speeches may share.", derived=True,
          pattern=r"^[0-9a-f]{64}$"),
    Field("source_id", "string", "Identifier of the record in its source (a ParlaMint "
          "utterance id, a UNGDC file stem, a Hansard id).", since="1.1.0"),
    Field("source_url", "string", "Where the text was obtained (http or https URL).",
          pattern=r"^https?://"),
    Field("publisher", "string", "Who published the source text."),
    Field("license", "string", "Licence of the text as an SPDX identifier (OGL-UK-3.0, "
          "CC-BY-4.0, ...).", pattern=r"^[A-Za-z0-9][A-Za-z0-9.+-]*$"),
    Field("retrieved", "date", "Date the source was obtained."),
    Field("notes", "string", "Free notes on the record: provenance, caveats, corrections."),
)

def version_tuple(version: str) -> tuple[int, ...]:
    """``"1.10.0"`` -> ``(1, 10, 0)``, for comparing schema versions."""
    return tuple(int(part) for part in version.split("."))


def fields_of(version: str = SCHEMA_VERSION) -> tuple[Field, ...]:
    """The fields of schema ``version``: those added in it or before.

    >>> "source_id" in [f.name for f in fields_of("1.0.0")]
    False
    """
    wanted = version_tuple(version)
    return tuple(f for f in FIELDS if version_tuple(f.since) <= wanted)


FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)
FIELDS_BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
REQUIRED_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.required)
DERIVED_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.derived)
NON_NULL_FIELDS: frozenset[str] = frozenset(
    [*REQUIRED_FIELDS, *DERIVED_FIELDS, "date_precision", "delivery", "themes", "keywords"]
)


@cache
def arrow_schema(version: str = SCHEMA_VERSION) -> pa.Schema:
    """Return the canonical Arrow schema (of ``version``), with a ``description`` on every
    field.

    >>> arrow_schema().metadata[b"policyspeech.schema_version"]
    b'1.1.0'
    >>> len(arrow_schema("1.0.0")) + 1 == len(arrow_schema())
    True
    """
    import pyarrow as pa

    types = {"string": pa.string(), "date": pa.date32(), "int32": pa.int32(),
             "list": pa.list_(pa.string())}
    return pa.schema(
        [
            pa.field(f.name, types[f.kind], nullable=f.name not in NON_NULL_FIELDS,
                     metadata={"description": f.description})
            for f in fields_of(version)
        ],
        metadata={"policyspeech.schema_version": version},
    )


@cache
def features(version: str = SCHEMA_VERSION) -> datasets.Features:
    """Return the Hugging Face ``datasets.Features`` of a record (of schema ``version``)."""
    import datasets

    def feature(kind: Kind) -> Any:
        if kind == "list":
            return datasets.List(datasets.Value("string"))
        return datasets.Value({"string": "string", "date": "date32", "int32": "int32"}[kind])

    return datasets.Features({f.name: feature(f.kind) for f in fields_of(version)})


def card_features(version: str = SCHEMA_VERSION) -> list[dict[str, str]]:
    """Return the ``dataset_info.features`` list of the dataset card (no ``datasets`` import).

    >>> card_features()[8]
    {'name': 'date', 'dtype': 'date32'}
    """
    dtypes = {"string": "string", "date": "date32", "int32": "int32"}
    return [
        {"name": f.name, "list": "string"} if f.kind == "list"
        else {"name": f.name, "dtype": dtypes[f.kind]}
        for f in fields_of(version)
    ]


def json_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of one record in its JSON form.

    >>> json_schema()["properties"]["date"]["format"]
    'date'
    """
    properties: dict[str, Any] = {}
    for f in FIELDS:
        prop: dict[str, Any] = {"description": f.description}
        if f.kind == "list":
            item: dict[str, Any] = {"type": "string"}
            if f.enum:
                item["enum"] = list(f.enum)
            prop.update(type="array", items=item, uniqueItems=True)
        elif f.kind == "int32":
            prop.update(type="integer", minimum=0, maximum=2**31 - 1)
        else:
            prop["type"] = "string" if f.name in NON_NULL_FIELDS else ["string", "null"]
            if f.kind == "date":
                prop["format"] = "date"
            if f.pattern:
                prop["pattern"] = f.pattern
            if f.enum:
                prop["enum"] = list(f.enum)
            if f.name in ("title", "speaker", "text"):
                prop["minLength"] = 1
        properties[f.name] = prop
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:policyspeech:schema:{SCHEMA_VERSION}:speech",
        "title": "policyspeech speech record",
        "description": f"One speech of the policyspeech corpus, schema version {SCHEMA_VERSION}.",
        "type": "object",
        "properties": properties,
        "required": sorted(NON_NULL_FIELDS, key=FIELD_NAMES.index),
        "additionalProperties": False,
    }


def write_schema_files(directory: Path) -> list[Path]:
    """Write :func:`export_schema_files` into ``directory`` (made if missing); return the
    paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, content in export_schema_files().items():
        (directory / name).write_text(content, encoding="utf-8")
        paths.append(directory / name)
    return paths


def export_schema_files() -> dict[str, str]:
    """Return the published schema files by name: ``speech.schema.json`` and ``themes.csv``.

    >>> sorted(export_schema_files())
    ['speech.schema.json', 'themes.csv']
    """
    from policyspeech.themes import themes_csv

    return {
        "speech.schema.json": json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n",
        "themes.csv": themes_csv(),
    }


def __getattr__(name: str) -> Any:
    if name == "SCHEMA":
        return arrow_schema()
    if name == "FEATURES":
        return features()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
