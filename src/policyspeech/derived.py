"""The files derived from the releases, checked against what the log generates.

``CHANGELOG.md``, ``CITATION.cff`` and ``croissant.json`` are written after each release
from the release manifests (:func:`policyspeech.releasing.write_release_files`).
:func:`check_derived` generates them again and compares. A file that is what the
previous release generated, or missing (a release interrupted before it wrote them), is
a warning: ``verify --repair`` rewrites it. Anything else contradicts the log (a
changed fragment SHA-256 in the Croissant file, a forged changelog section, another
version or fingerprint in the citation) and is an error. What legitimately varies: in
``CITATION.cff``, the fields its users edit for the next release (title, authors,
licence, DOI, URL, abstract, keywords); only the fields taken from the release are
compared. A ``CITATION.cff`` in the corpus's parent folder is compared only when it
cites one of this corpus's releases (else it describes something else).

Examples
--------
>>> from policyspeech.reader import Reader
>>> from policyspeech.replay import replay
>>> reader = Reader()
>>> state = replay(reader.path).state
>>> found = check_derived(reader.path, state, {"1.0.0": reader.manifest("1.0.0")})
>>> found.problems, found.warnings
([], [])
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from policyspeech.citation import citation_file, render_cff
from policyspeech.croissant import render_croissant
from policyspeech.documents import Manifest
from policyspeech.layout import CHANGELOG, CITATION, CROISSANT
from policyspeech.log import HeadState
from policyspeech.releases import changelog_markdown, parse_version

LIMIT = 16 << 20
"""Derived files larger than this are not read (they are named as changed)."""
CFF_FIELDS = ("cff-version", "type", "version", "date-released")
CFF_CITED = ("type", "version", "date-released", "notes")
REPAIR = "`policyspeech verify --repair` rewrites it"


@dataclass
class Derived:
    """What :func:`check_derived` found: files contradicting the log, and files behind it."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def check_derived(corpus: Path, state: HeadState, manifests: dict[str, Manifest]) -> Derived:
    """Compare the changelog, citation and Croissant files of ``corpus`` with what the
    manifests of ``state``'s releases (checked against the log) generate."""
    found = Derived()
    if not state.releases:
        return found
    ordered = [manifests[v] for v in sorted(state.releases, key=parse_version)]
    files: list[tuple[Path, Callable[[list[Manifest]], Any], Callable[[str], Any]]] = [
        (corpus / CHANGELOG, lambda ms: changelog_markdown(ms), lambda text: text),
        (corpus / CROISSANT, lambda ms: json.loads(render_croissant(ms[-1], ms[-1]["fragments"])),
         json.loads),
    ]
    citation = citation_file(corpus)
    if citation == corpus / CITATION or _cites(citation, ordered):
        files.append((citation, lambda ms: _cff_fields(yaml.safe_load(render_cff(ms[-1]))),
                      lambda text: _cff_fields(_load_yaml(text))))
    for path, generate, parse in files:
        _compare(found, path, ordered, generate, parse)
    return found


def _compare(found: Derived, path: Path, manifests: list[Manifest],
             generate: Callable[[list[Manifest]], Any], parse: Callable[[str], Any]) -> None:
    if not path.exists() and not path.is_symlink():
        found.warnings.append(f"{path}: missing (a release was interrupted before it wrote "
                              f"it); {REPAIR}")
        return
    try:
        if path.is_symlink() or path.stat().st_size > LIMIT:
            raise ValueError("not a regular file of a sensible size")
        actual = parse(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError) as exc:
        found.problems.append(f"{path}: unreadable ({exc}); {REPAIR}")
        return
    if actual == generate(manifests):
        return
    if len(manifests) > 1 and actual == generate(manifests[:-1]):
        found.warnings.append(f"{path}: one release behind the log (a release was "
                              f"interrupted before it rewrote it); {REPAIR}")
        return
    found.problems.append(f"{path}: differs from the file the log generates for release "
                          f"{manifests[-1]['version']} (it was edited or damaged, and "
                          f"contradicts the log); {REPAIR}")


def _cff_fields(data: Any) -> Any:
    """The fields of a citation file that come from the release (the rest is its users')."""
    if not isinstance(data, dict):
        return data
    cited = data.get("preferred-citation")
    return {**{k: data.get(k) for k in CFF_FIELDS},
            "preferred-citation": {k: cited.get(k) for k in CFF_CITED}
            if isinstance(cited, dict) else cited}


def _cites(path: Path, manifests: list[Manifest]) -> bool:
    """Whether the citation file at ``path`` cites one of these releases."""
    try:
        text = path.read_text(encoding="utf-8") if path.stat().st_size <= LIMIT else ""
    except (OSError, ValueError):
        return False
    return any(m["fingerprint"] in text for m in manifests)


class _NoAliases(yaml.SafeLoader):
    """A YAML loader that refuses aliases (a few bytes of them can expand to gigabytes)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.YAMLError("YAML aliases are not allowed in a citation file")
        return super().compose_node(parent, index)


def _load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_NoAliases)
