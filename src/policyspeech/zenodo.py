"""``.zenodo.json``: the newest release as Zenodo's deposit metadata.

Zenodo reads this file (its legacy deposit format, which its GitHub integration and
deposit API take) when the corpus folder is deposited, and ignores ``CITATION.cff``'s
``type: dataset`` without it. It is derived from the log and the release manifests
alone: ``release`` and ``doi`` write it, ``verify`` compares it, ``verify --repair``
rewrites it. Following Zenodo's rules: ``upload_type`` ``dataset``; creators named
``Family, Given`` with a bare ORCID iD and an affiliation only when known (never empty);
the licence as Zenodo's vocabulary spells SPDX identifiers (lower case: ``cc-by-4.0``);
``related_identifiers`` with the concept DOI (``isVersionOf``), the previous release's DOI
(``isNewVersionOf``) and the corpus's page (``isSupplementTo``, as Zenodo links a GitHub
release); the fingerprint and how to load the release in ``notes``. The identity is the
one the release was made with (its manifest's); a new one applies from the next release.

Examples
--------
>>> manifest = {"version": "1.1.0", "date": "2026-11-28", "fingerprint": "ab" * 32,
...             "records": 3, "notes": "More", "citation": {"title": "Speeches",
...             "license": "CC-BY-4.0", "abstract": "Policy speeches.",
...             "authors": [{"family-names": "Doe", "given-names": "Jane",
...                          "orcid": "https://orcid.org/0000-0002-1825-0097"}]}}
>>> data = json.loads(render_zenodo(manifest, concept_doi="10.5281/zenodo.1"))
>>> data["upload_type"], data["license"], data["creators"]
('dataset', 'cc-by-4.0', [{'name': 'Doe, Jane', 'orcid': '0000-0002-1825-0097'}])
>>> data["related_identifiers"][0]["relation"]
'isVersionOf'
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from policyspeech.citation import Dois
from policyspeech.citeformats import display_name, load_hint
from policyspeech.documents import Manifest
from policyspeech.pids import ORCID_URL


def creator(author: Mapping[str, Any]) -> dict[str, str]:
    """A ``CITATION.cff`` author as a Zenodo creator.

    >>> creator({"name": "Policy Lab"})
    {'name': 'Policy Lab'}
    """
    found = {"name": display_name(author)}
    if author.get("orcid"):
        found["orcid"] = str(author["orcid"]).removeprefix(ORCID_URL)
    if author.get("affiliation"):
        found["affiliation"] = str(author["affiliation"])
    return found


def _related(identifier: str, relation: str, scheme: str) -> dict[str, str]:
    found = {"identifier": identifier, "relation": relation, "scheme": scheme}
    if scheme == "doi":
        found["resource_type"] = "dataset"
    return found


def render_zenodo(manifest: Manifest, *, doi: str | None = None,
                  concept_doi: str | None = None, previous_doi: str | None = None) -> str:
    """The ``.zenodo.json`` of the release ``manifest`` describes: ``doi`` its own (once
    minted), ``concept_doi`` every version's, ``previous_doi`` the release before it."""
    meta = manifest["citation"]
    version, records = manifest["version"], manifest["records"]
    notes = (f"Corpus fingerprint sha256:{manifest['fingerprint']} ({records:,} "
             f"record{'' if records == 1 else 's'}). Load it with "
             f"{load_hint(version, meta.get('corpus'))} (pip install policyspeech).")
    if manifest.get("notes"):
        text = " ".join(str(manifest["notes"]).split())
        notes = f"Release notes: {text}{'' if text[-1] in '.!?' else '.'} {notes}"
    related = []
    if concept_doi:
        related.append(_related(concept_doi, "isVersionOf", "doi"))
    if previous_doi:
        related.append(_related(previous_doi, "isNewVersionOf", "doi"))
    if meta.get("url"):
        related.append(_related(meta["url"], "isSupplementTo", "url"))
    document: dict[str, Any] = {
        "upload_type": "dataset",
        "title": meta["title"],
        "creators": [creator(a) for a in meta["authors"]],
        "description": meta.get("abstract") or meta["title"],
        "version": version,
        "publication_date": manifest["date"],
        "access_right": "open",
        "license": str(meta["license"]).lower(),
        "notes": notes,
    }
    if doi:
        document["doi"] = doi
    if meta.get("keywords"):
        document["keywords"] = list(meta["keywords"])
    if related:
        document["related_identifiers"] = related
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def zenodo_for(manifests: list[Manifest], dois: Callable[[Manifest], Dois]) -> str:
    """The ``.zenodo.json`` of the newest of ``manifests`` (oldest first), with the DOIs
    that ``dois`` gives each release (:func:`policyspeech.citation.dois_for`)."""
    latest = dois(manifests[-1])
    previous = dois(manifests[-2]).release if len(manifests) > 1 else None
    return render_zenodo(manifests[-1], doi=latest.release, concept_doi=latest.concept,
                         previous_doi=previous)
