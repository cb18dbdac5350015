"""The schema is defined once in code; the published files and the card derive from it."""

from __future__ import annotations

import json

import jsonschema
import pytest

import policyspeech as ps
from policyspeech.output import jsonable
from policyspeech.schema import FIELDS, arrow_schema, card_features, export_schema_files, features
from policyspeech.themes import THEMES
from tests.helpers import REPO


@pytest.mark.parametrize("name", sorted(export_schema_files()))
def test_committed_schema_files_match_the_code(name: str) -> None:
    committed = (REPO / "schema" / name).read_text(encoding="utf-8")
    assert committed == export_schema_files()[name], (
        f"schema/{name} is stale: run `policyspeech schema export schema`")


def test_every_field_has_a_description_everywhere() -> None:
    schema = json.loads(export_schema_files()["speech.schema.json"])
    for field in FIELDS:
        assert field.description
        assert arrow_schema().field(field.name).metadata[b"description"].decode() == (
            field.description)
        assert schema["properties"][field.name]["description"] == field.description


def test_json_schema_is_valid_and_accepts_the_shipped_record() -> None:
    schema = json.loads(export_schema_files()["speech.schema.json"])
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    record = {k: jsonable(v) for k, v in ps.read(REPO / "corpus").to_dicts()[0].items()}
    validator.validate(record)
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({**record, "themes": ["crime"]})
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({**record, "id": "../x"})


def test_card_features_are_what_datasets_writes() -> None:
    assert card_features() == features()._to_yaml_list()
    assert features().arrow_schema.names == arrow_schema().names


def test_codebook() -> None:
    codes = [t.code for t in THEMES]
    assert codes == sorted(codes) and 11 not in codes and 22 not in codes and len(codes) == 21
    assert len({t.slug for t in THEMES}) == 21
