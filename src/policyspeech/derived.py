"""The files derived from the log, checked against what the log generates.

The dataset card (``README.md``) and ``LICENSE.md`` are rewritten after every commit
(:mod:`policyspeech.cardfiles`): :func:`check_card` compares them with what the log
generates (or generated one entry earlier, after an interrupted write), whatever
datasheet the card shows (``DATASHEET.md`` is its maintainers' to edit), and
:func:`check_newest_entry` compares the newest entry with the one the card recorded (its
number and SHA-256): a changed newest entry, or a missing one (deleted: the card records
a newer entry than the log has), is named.

``CHANGELOG.md``, ``CITATION.cff``, ``croissant.json`` and ``.zenodo.json`` are written
after each release and each ``doi`` entry from the release manifests and the DOIs the log
records (:func:`policyspeech.releasing.write_release_files`). :func:`check_derived`
generates them again and compares. A file that is what an earlier release generated, or
that lacks a DOI the log records (a ``doi`` interrupted before it rewrote the files), or
missing, is a warning: ``verify --repair`` rewrites it. Anything else contradicts the log
(a changed fragment SHA-256 in the Croissant file, a forged changelog section, another
version, fingerprint or DOI in the citation) and is an error; a DOI that the log does not
record is named, with the command that records it. What legitimately varies: in
``CITATION.cff``, the identity its users edit for the next release (title, authors,
licence, URL, abstract, keywords); only the fields taken from the release and the log are
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
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from policyspeech.citation import Dois, citation_file, parse_citation, render_cff
from policyspeech.croissant import render_croissant
from policyspeech.datasheet import LIMIT as DATASHEET_LIMIT
from policyspeech.datasheet import block_of, card_section, read_datasheet, sealed
from policyspeech.documents import Manifest
from policyspeech.errors import CorpusError
from policyspeech.layout import (
    CARD,
    CHANGELOG,
    CITATION,
    CROISSANT,
    DATASHEET,
    LICENSE,
    ZENODO,
    entry_name,
    entry_path,
)
from policyspeech.log import HeadState, advance, read_recorded_head
from policyspeech.reader import Reader
from policyspeech.releases import changelog_markdown, parse_version
from policyspeech.replay import LOST, gap
from policyspeech.zenodo import zenodo_for

LIMIT = 16 << 20
"""Derived files larger than this are not read (they are named as changed)."""
CFF_FIELDS = ("cff-version", "type", "version", "date-released", "doi", "identifiers")
CFF_CITED = ("type", "version", "date-released", "notes", "doi")
REPAIR = "`policyspeech verify --repair` rewrites it"


@dataclass
class Derived:
    """What :func:`check_derived` found: files contradicting the log, and files behind it."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


DoiLookup = Callable[[Manifest], Dois]
Generate = Callable[[list[Manifest], DoiLookup], Any]


def check_derived(corpus: Path, state: HeadState, manifests: dict[str, Manifest]) -> Derived:
    """Compare the changelog, citation, Croissant and Zenodo files of ``corpus`` with what
    the manifests of ``state``'s releases (checked against the log) and its DOIs generate."""
    found = Derived()
    if not state.releases:  # only a release writes these: one is evidence of a lost one
        found.problems += [f"{path}: exists, but the log has no release: {LOST} (those of "
                           "the releases it describes); restore them from a backup, or "
                           "delete it if no release was ever made"
                           for path in (corpus / CHANGELOG, corpus / CROISSANT, corpus / ZENODO)
                           if path.exists() or path.is_symlink()]
        return found
    ordered = [manifests[v] for v in sorted(state.releases, key=parse_version)]
    files: list[tuple[Path, Generate, Callable[[str], Any]]] = [
        (corpus / CHANGELOG, lambda ms, dois: changelog_markdown(ms), lambda text: text),
        (corpus / CROISSANT, lambda ms, dois: json.loads(render_croissant(
            ms[-1], ms[-1]["fragments"], dois(ms[-1]))), json.loads),
        (corpus / ZENODO, lambda ms, dois: json.loads(zenodo_for(ms, dois)), json.loads),
    ]
    citation = citation_file(corpus)
    if citation == corpus / CITATION or _cites(citation, ordered):
        files.append((citation, lambda ms, dois: _cff_fields(yaml.safe_load(
            render_cff(ms[-1], None, dois(ms[-1])))), lambda text: _cff_fields(
            parse_citation(text))))
    for path, generate, parse in files:
        if path == corpus / CROISSANT and _older_croissant(path, ordered[-1], state):
            found.warnings.append(f"{path}: written by an older policyspeech (its files "
                                  f"are placed in data/, not releases/VERSION/); {REPAIR}")
            continue
        _compare(found, path, ordered, generate, parse, _doi_states(state, ordered))
    return found


def _older_croissant(path: Path, manifest: Manifest, state: HeadState) -> bool:
    """True when ``path`` is the Croissant file that policyspeech wrote before release
    folders (each file placed at its log name) for ``manifest``: behind, not damaged."""
    try:
        if path.is_symlink() or path.stat().st_size > LIMIT:
            return False
        actual = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return any(actual == json.loads(render_croissant(
        manifest, manifest["fragments"], lookup(manifest), legacy_places=True))
        for lookup in _doi_states(state, [manifest]))


def _doi_states(state: HeadState, manifests: list[Manifest]) -> list[DoiLookup]:
    """The DOIs of ``state`` (first), then the same without one or more of those that the
    newest files show (the newest release's, the one before's, the concept DOI): what the
    files were before a ``doi`` entry whose rewrite of them was interrupted."""
    shown = [m["version"] for m in manifests[-2:]]
    lookups: list[DoiLookup] = []
    for dropped in range(8):
        gone = {version for n, version in enumerate(reversed(shown)) if dropped >> n & 1}
        dois = {v: d for v, d in state.dois.items() if v not in gone}
        concept = None if dropped & 4 else state.concept_doi

        def lookup(manifest: Manifest, dois: dict[str, str] = dois,
                   concept: str | None = concept) -> Dois:
            return Dois(dois.get(manifest["version"]) or manifest["citation"].get("doi")
                        or None, concept)

        lookups.append(lookup)
    return lookups


def _lost_versions(text: str, actual: Any, manifests: list[Manifest], expected: Any) -> str:
    """The versions that the file names and the log does not have (comma-separated; empty
    if none), when the file is what a later release, whose entries the log lost, wrote:
    each is newer than every logged release, and the changelog's sections from the log's
    newest release on are as generated (a lost release's section is above them), or the
    citation or Croissant file lacks the fingerprint of the log's newest release (an
    edited version keeps it)."""
    if isinstance(actual, str):
        named = re.findall(r"^## (\S+) \(", actual, re.MULTILINE)
    elif isinstance(actual, dict):
        cited = actual.get("preferred-citation")
        named = [str(v) for v in (actual.get("version"),
                                  cited.get("version") if isinstance(cited, dict) else None)
                 if isinstance(v, str | int | float)]
    else:
        return ""
    known = [m["version"] for m in manifests]
    unknown = sorted(set(named) - set(known))
    try:
        if not unknown or min(map(parse_version, unknown)) <= parse_version(known[-1]):
            return ""
    except CorpusError:
        return ""
    if isinstance(actual, str):
        at, start = actual.find(f"\n## {known[-1]} ("), expected.find("\n## ")
        return ", ".join(unknown) if at >= 0 and actual[at:] == expected[start:] else ""
    return "" if manifests[-1]["fingerprint"] in text else ", ".join(unknown)


def _read_derived(found: Derived, path: Path, missing: str) -> str | None:
    """The text of the derived file ``path``, or None: a warning when it is ``missing``
    (why it may be), a problem when it cannot be read."""
    if not path.exists() and not path.is_symlink():
        found.warnings.append(f"{path}: missing ({missing}); {REPAIR}")
        return None
    try:
        if path.is_symlink() or path.stat().st_size > LIMIT:
            raise ValueError("not a regular file of a sensible size")
        return path.read_bytes().decode("utf-8")  # as written: a CR is not a newline
    except (OSError, ValueError) as exc:
        found.problems.append(f"{path}: unreadable ({exc}); {REPAIR}")
        return None


def _compare(found: Derived, path: Path, manifests: list[Manifest], generate: Generate,
             parse: Callable[[str], Any], dois: list[DoiLookup]) -> None:
    text = _read_derived(found, path, "a release was interrupted before it wrote it, or an "
                         "older policyspeech made the release")
    if text is None:
        return
    try:
        actual = parse(text)
    except (ValueError, yaml.YAMLError) as exc:
        found.problems.append(f"{path}: unreadable ({exc}); {REPAIR}")
        return
    expected = generate(manifests, dois[0])
    if actual == expected:
        return
    if any(actual == generate(manifests, lookup) for lookup in dois[1:]):
        found.warnings.append(f"{path}: lacks a DOI that the log records (`policyspeech doi` "
                              f"was interrupted before it rewrote it); {REPAIR}")
        return
    for n in range(len(manifests) - 1, 0, -1):  # newest first: usually one release behind
        if any(actual == generate(manifests[:n], lookup) for lookup in dois):
            found.warnings.append(
                f"{path}: behind the log, as release {manifests[n - 1]['version']} wrote it "
                f"(a later release was interrupted before it rewrote it); {REPAIR}")
            return
    unknown = _lost_versions(text, actual, manifests, expected)
    if unknown:
        found.problems.append(
            f"{path}: names release {unknown}, which the log does not have: "
            f"{LOST} (those of that release); restore them from a backup "
            "(`verify --repair` cannot bring them back, and would erase this evidence)")
        return
    version = manifests[-1]["version"]
    doi = _other_doi(actual, expected)
    if doi is not None:
        found.problems.append(
            f"{path}: gives DOI {doi} for release {version}, which the log does not record; "
            f"record it with `policyspeech doi {version} {doi}` (else `verify --repair` "
            "rewrites the file without it)")
        return
    found.problems.append(f"{path}: differs from the file the log generates for release "
                          f"{version} (it was edited or damaged, and contradicts the log); "
                          f"{REPAIR}")


def _other_doi(actual: Any, expected: Any) -> str | None:
    """The DOI a citation file gives in place of the log's, when that is all it changed."""
    if not isinstance(actual, dict) or not isinstance(expected, dict):
        return None

    def without(data: dict[str, Any]) -> Any:
        cited = data.get("preferred-citation")
        return ({k: v for k, v in data.items()
                 if k not in ("doi", "identifiers", "preferred-citation")},
                {k: v for k, v in cited.items() if k != "doi"} if isinstance(cited, dict)
                else cited)

    doi = actual.get("doi")
    if isinstance(doi, str) and doi != expected.get("doi") and without(actual) == without(
            expected):
        return doi
    return None


def _cff_fields(data: Any) -> Any:
    """The fields of a citation file that come from the release (the rest is its users'),
    its identifiers in any order (a file written before the release's own DOI came first)."""
    if not isinstance(data, dict):
        return data
    cited = data.get("preferred-citation")
    identifiers = data.get("identifiers")
    if isinstance(identifiers, list):
        identifiers = sorted(identifiers, key=lambda i: json.dumps(i, sort_keys=True,
                                                                   default=str))
    return {**{k: data.get(k) for k in CFF_FIELDS}, "identifiers": identifiers,
            "preferred-citation": {k: cited.get(k) for k in CFF_CITED}
            if isinstance(cited, dict) else cited}


def _cites(path: Path, manifests: list[Manifest]) -> bool:
    """Whether the citation file at ``path`` cites one of these releases."""
    try:
        text = path.read_text(encoding="utf-8") if path.stat().st_size <= LIMIT else ""
    except (OSError, ValueError):
        return False
    return any(m["fingerprint"] in text for m in manifests)


# -- the dataset card ------------------------------------------------------------------


def check_card(corpus: Reader, state: HeadState) -> Derived:
    """The card and ``LICENSE.md`` are derived from the log (and the records): each must be
    what the log generates, or (after an interrupted write) what it generated one entry
    earlier; anything else was edited. The card's datasheet section may hold any text
    (``DATASHEET.md`` is its maintainers' to edit): a card built with an older
    ``DATASHEET.md`` is a warning, which the next commit or ``verify --repair`` resolves.
    A ``LICENSE.md`` that is missing (a corpus made before there was one) is a warning."""
    found = Derived()
    path = corpus.path / CARD
    try:
        actual = path.read_bytes().decode("utf-8")  # as written: a CR is not a newline
    except (OSError, UnicodeDecodeError) as exc:
        found.problems.append(f"{path}: unreadable ({exc}); {REPAIR}")
        return found
    block = block_of(actual)
    block = block if block is not None and len(block) <= 4 * DATASHEET_LIMIT else None
    if block is not None and not sealed(block):
        found.problems.append(f"{path}: its datasheet section was changed after it was "
                              f"written (edit {corpus.path / DATASHEET} instead, whose text "
                              f"the card shows); {REPAIR}")
        block = None
    try:
        expected = expected_files(corpus, state, block)
        if actual == expected[CARD] or _card_is_stale(corpus, state, actual, block):
            found.warnings += _datasheet_behind(corpus, block)
        elif _same_files(actual, expected[CARD]):
            found.problems.append(
                f"{path}: lists the right files, but its text is not what this policyspeech "
                "writes (an older policyspeech wrote it, or it was edited or damaged); "
                "`policyspeech verify --repair` rewrites it")
        else:
            found.problems.append(f"{path}: differs from the card the log generates (its "
                                  f"configs or text were changed); {REPAIR}")
        _check_license(found, corpus, state, expected[LICENSE])
    except (CorpusError, LookupError, TypeError, ValueError):
        return Derived()  # a damaged manifest or fragment: their own checks report it
    return found


def _datasheet_behind(corpus: Reader, block: str | None) -> list[str]:
    if block is None or block == card_section(read_datasheet(corpus.path)):
        return []
    return [f"{corpus.path / CARD}: its datasheet is not what {corpus.path / DATASHEET} says "
            f"now (it was edited since the last commit); {REPAIR}, as will the next commit"]


def _check_license(found: Derived, corpus: Reader, state: HeadState, expected: str) -> None:
    path = corpus.path / LICENSE
    actual = _read_derived(found, path, "a corpus made before policyspeech wrote it")
    if actual is None or actual == expected:
        return
    written_for = re.search(r"for log entry (\d+),", actual[:1000])
    if written_for and int(written_for.group(1)) > state.seq:
        found.problems.append(
            f"{path}: was written for log entry {written_for.group(1)}, which the log does not "
            f"have: {LOST}; restore them from a backup (`verify --repair` cannot bring them "
            "back, and would erase this evidence)")
        return
    if state.seq >= 1 and actual == expected_files(
            corpus, advance(corpus.path, HeadState(), until=state.seq - 1))[LICENSE]:
        found.warnings.append(f"{path}: one commit behind the log (a writer stopped before "
                              f"rewriting it); {REPAIR}, as will the next commit")
        return
    found.problems.append(f"{path}: differs from the licence file the log and the records "
                          f"generate (it was edited or damaged); {REPAIR}")


def _same_files(actual: str, expected: str) -> bool:
    """The two cards give the same configs (every file of every version) for the same
    newest log entry."""
    import yaml

    def header(card: str) -> Any:
        parts = card.split("---\n", 2)
        return yaml.safe_load(parts[1]) if len(parts) == 3 and not parts[0] else None

    try:
        found, wanted = header(actual), header(expected)
    except yaml.YAMLError:
        return False
    entry = re.search(r"log entry \d+ \(SHA-256 `[0-9a-f]{64}`\)", expected)
    return (isinstance(found, dict) and isinstance(wanted, dict) and entry is not None
            and found.get("configs") == wanted.get("configs") and entry.group() in actual)


def check_newest_entry(corpus: Reader, state: HeadState) -> list[str]:
    """No later entry chains to the newest one, so its hash is checked against the one the
    card recorded when the entry was published."""
    recorded = read_recorded_head(corpus.path)
    if recorded is not None and recorded[0] == state.seq and recorded[1] != state.entry_sha256:
        log_path = entry_path(corpus.path, state.seq)
        return [f"{log_path}: its SHA-256 `{state.entry_sha256}` differs from the one "
                f"{corpus.path / CARD} recorded when the entry was published (`{recorded[1]}`): "
                "the newest log entry was changed, or the card's record of it was damaged. "
                "Compare the entry with a backup: if they are the same, delete the card and "
                "run `policyspeech verify --repair`; else restore the entry"]
    if recorded is not None and recorded[0] > state.seq and not gap(corpus.path, state.seq):
        first, last = entry_path(corpus.path, state.seq + 1), entry_name(recorded[0])
        which = "it" if recorded[0] == state.seq + 1 else f"entries up to {last}"
        return [f"{first}: missing; the card records {last} (SHA-256 `{recorded[1]}`) as "
                f"the newest log entry, so {which} was deleted: every read and write refuses "
                f"the corpus (the log stops at entry {state.seq}), and the files that only the "
                "missing entries name are not safe to delete. Restore the missing entries from "
                "a backup (`verify --repair` cannot bring them back); if a backup shows that "
                f"no entry was deleted, the card's record of the newest entry in "
                f"{corpus.path / CARD} was damaged instead: delete the card and run "
                "`policyspeech verify --repair`"]
    return []


def entries_missing(corpus: Reader, state: HeadState) -> bool:
    """Whether the card records a newer entry than the log has (the card is not wrong)."""
    recorded = read_recorded_head(corpus.path)
    return recorded is not None and recorded[0] > state.seq


def expected_files(corpus: Reader, state: HeadState,
                   datasheet: str | None = None) -> dict[str, str]:
    """The card and ``LICENSE.md`` that the log generates for ``state`` (by file name), with
    the datasheet section ``datasheet`` (None: from ``DATASHEET.md``)."""
    from policyspeech.cardfiles import derived_texts
    from policyspeech.releases import latest_version

    latest = latest_version(state)
    return derived_texts(corpus.path, state, corpus.manifest(latest) if latest else None,
                         datasheet)


def expected_card(corpus: Reader, state: HeadState, datasheet: str | None = None) -> str:
    """The card that the log generates for ``state``."""
    return expected_files(corpus, state, datasheet)[CARD]


def _card_is_stale(corpus: Reader, state: HeadState, actual: str,
                   datasheet: str | None) -> bool:
    if state.seq < 1:
        return False
    previous = advance(corpus.path, HeadState(), until=state.seq - 1)
    return actual == expected_card(corpus, previous, datasheet)


def stale_card(corpus: Reader, state: HeadState | None = None) -> bool:
    """True when the card is one commit behind the log (a writer stopped before rewriting
    it); the next commit, or :meth:`policyspeech.store.Corpus.repair`, rewrites it."""
    state = state or advance(corpus.path, HeadState())
    path = corpus.path / CARD
    try:
        actual = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    block = block_of(actual)
    try:
        return actual != expected_card(corpus, state, block) and \
            _card_is_stale(corpus, state, actual, block)
    except (CorpusError, LookupError, TypeError, ValueError):
        return False
