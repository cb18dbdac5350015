"""Croissant metadata (MLCommons Croissant 1.0, JSON-LD) of a release: ``croissant.json``.

It describes the release's fragments (one ``FileObject`` each, in the release's own
folder ``releases/VERSION/``, with its SHA-256, and a
``FileSet`` that includes exactly those files) and one ``RecordSet`` of speeches, read
from that file set, with every field of the schema and its type, so that Croissant-aware
tools (``mlcroissant``) can find, check and load the release.

Examples
--------
>>> manifest = {"version": "1.0.0", "date": "2026-11-28", "fingerprint": "ab" * 32,
...             "records": 1, "citation": {"title": "policyspeech corpus",
...             "license": "CC-BY-4.0", "abstract": "Speeches.", "url": None,
...             "authors": [{"name": "The policyspeech developers"}], "keywords": []}}
>>> fragments = [{"path": "data/x.parquet", "sha256": "cd" * 32, "bytes": 10, "rows": 1}]
>>> data = json.loads(render_croissant(manifest, fragments))
>>> data["version"], data["distribution"][0]["contentUrl"]
('1.0.0', 'releases/1.0.0/cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd.parquet')
"""

from __future__ import annotations

import json
from typing import Any

from policyspeech.citation import NO_DOIS, Dois
from policyspeech.documents import FragmentInfo, Manifest
from policyspeech.layout import release_folder
from policyspeech.pids import doi_url
from policyspeech.schema import fields_of

CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}
DATA_TYPES = {"string": "sc:Text", "list": "sc:Text", "date": "sc:Date", "int32": "sc:Integer"}
RECORD_SET = "speeches"
FILE_SET = "fragments"


def render_croissant(manifest: Manifest, fragments: list[FragmentInfo],
                     dois: Dois = NO_DOIS, *, legacy_places: bool = False) -> str:
    """The Croissant JSON-LD of the release described by ``manifest``, with its DOI
    (``identifier``) and the concept DOI of every version (``isPartOf``) when the log has
    them. ``legacy_places``: each file where policyspeech before the release folders
    placed it (``data/SHA.parquet``), to recognise a file that an older version wrote."""
    from policyspeech.citation import cite

    meta = manifest["citation"]
    folder = release_folder(manifest["version"])  # the release's own folder of its files
    places = {info["sha256"]: info["path"] if legacy_places else
              f"{folder}/{info['sha256']}.parquet" for info in fragments}
    files = [
        {
            "@type": "cr:FileObject",
            "@id": places[info["sha256"]],
            "name": places[info["sha256"]],
            "description": f"Parquet fragment of {info['rows']} records.",
            "contentUrl": places[info["sha256"]],
            "contentSize": f"{info['bytes']} B",
            "encodingFormat": "application/x-parquet",
            "sha256": info["sha256"],
        }
        for info in fragments
    ]
    files.append({
        "@type": "cr:FileSet",
        "@id": FILE_SET,
        "name": FILE_SET,
        "description": "The Parquet fragments of this release (and no others).",
        "encodingFormat": "application/x-parquet",
        "includes": list(places.values()),  # type: ignore[dict-item]
    })
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "name": meta["title"],
        "description": meta["abstract"],
        "conformsTo": "http://mlcommons.org/croissant/1.0",
        "license": f"https://spdx.org/licenses/{meta['license']}.html",
        "version": manifest["version"],
        "datePublished": manifest["date"],
        "citeAs": cite(manifest, "bibtex", dois),
        "creator": [{"@type": "sc:Organization" if "name" in a else "sc:Person",
                     "name": a.get("name") or f"{a.get('given-names', '')} "
                     f"{a.get('family-names', '')}".strip()} for a in meta["authors"]],
        "keywords": meta.get("keywords") or [],
        "distribution": files,
        "recordSet": [
            {
                "@type": "cr:RecordSet",
                "@id": RECORD_SET,
                "name": RECORD_SET,
                "description": f"One record per speech ({manifest['records']} records; "
                f"fingerprint sha256:{manifest['fingerprint']}).",
                "key": {"@id": f"{RECORD_SET}/id"},
                "field": [_field(f.name, f.kind, f.description)
                          for f in fields_of(manifest.get("schema_version", "1.0.0"))],
            }
        ],
    }
    if meta.get("url"):
        document["url"] = meta["url"]
    if dois.release:
        document["identifier"] = doi_url(dois.release)
    if dois.concept:
        document["isPartOf"] = {"@type": "sc:CreativeWork", "name": f"{meta['title']}, every "
                                "version", "identifier": doi_url(dois.concept)}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _field(name: str, kind: str, description: str) -> dict[str, Any]:
    field: dict[str, Any] = {
        "@type": "cr:Field",
        "@id": f"{RECORD_SET}/{name}",
        "name": name,
        "description": description,
        "dataType": DATA_TYPES[kind],
        "source": {"fileSet": {"@id": FILE_SET}, "extract": {"column": name}},
    }
    if kind == "list":
        field["repeated"] = True
    return field
