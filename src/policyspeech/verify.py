"""Verification: every file of a version is exactly what the log says it is.

:func:`verify_corpus` replays the whole log from its first entry (its hash chain, ids unique
and never reused, each release equal to the head it names, no missing entry:
:mod:`policyspeech.replay`), recomputes the SHA-256 and row count of every fragment,
checks each release manifest against the log entry that published it and the head the
replay found there (its hash, commit, fragments, rows and record count), checks that the
dataset card is exactly the card the log generates (so it lists the right files), and
compares the changelog, citation and Croissant files with what the log generates
(:mod:`policyspeech.derived`). A card that records a newer entry than the log has names
the missing entry: the files that only it names are then not called safe to delete; so
does a release manifest that no entry names and that records an entry the log no longer
has (:func:`policyspeech.replay.lost_releases`). A fragment that no version references
must still be in the store unless a ``gc`` entry collected it (else it was lost). The
version folders (``data/``, ``releases/<V>/``) must hold exactly their version's fragments
(:mod:`policyspeech.views`): a folder behind is a problem that ``verify --repair``
repairs, as is a corpus not yet migrated from the legacy layout. A broken chain does not
stop it: every Parquet file in the store is hashed against its name and every manifest
checked against its own fields. It returns one line per problem, each naming the file.
The fragments are hashed in one thread per CPU (hashing runs outside the GIL).

When every hash matches, each release holds byte for byte the records that were
fingerprinted when it was made: the chain of hashes protects the fingerprint. ``deep=True``
checks the records themselves as well: it recomputes every release's fingerprint from its
records, reads the ids of the head's fragments (unique, and the log's), and reads every
text, verifying each Parquet page's checksum, to check it against its ``text_sha256`` (on
which fingerprint method 2 stands).

Examples
--------
>>> from policyspeech.reader import Reader
>>> verify_corpus(Reader())
[]
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from policyspeech.delta import check_delta
from policyspeech.derived import (
    check_card,
    check_derived,
    check_newest_entry,
    entries_missing,
)
from policyspeech.derived import stale_card as stale_card
from policyspeech.documents import FragmentInfo, Manifest, ReleaseRecord
from policyspeech.errors import CorpusError, IntegrityError
from policyspeech.layout import (
    CARD,
    CHANGELOG,
    CROISSANT,
    DATA,
    FRAGMENTS,
    LICENSE,
    fragment_file,
    release_folder,
)
from policyspeech.log import HeadState
from policyspeech.reader import Reader
from policyspeech.releases import latest_version
from policyspeech.replay import LOST, Replay, gap, lost_releases, recorded_manifests, replay
from policyspeech.unreferenced import GRACE_SECONDS, Unreferenced, check_kept, plan
from policyspeech.views import is_layout_problem, is_legacy, layout_problems

Commit = tuple[int, str | None, dict[str, FragmentInfo]]
"""The entry a release names (number, SHA-256) and the head's fragments there."""


def verify_corpus(corpus: Reader, version: str | None = None, *,
                  check_card: bool = True, deep: bool = False) -> list[str]:
    """Problems found in ``version`` (every version when None); an empty list if none."""
    try:
        found = replay(corpus.path, stop_at_break=True)
    except CorpusError as exc:
        return [str(exc)]
    if found.broken:
        return _verify_broken(corpus.path, found)
    return _verify(corpus, version, found, with_derived=check_card, deep=deep)[0]


def verified_fragments(corpus: Reader, version: str = "head") -> tuple[list[Path], list[str]]:
    """The fragment paths of ``version`` as the log names them (replayed from its first
    entry: no cached snapshot is used), and the problems :func:`verify_corpus` finds in
    that version (the paths are safe to read only when there are none)."""
    try:
        found = replay(corpus.path)
    except CorpusError as exc:
        return [], [str(exc)]
    state = found.state
    name = _resolve(corpus, state, version)
    problems, _ = _verify(corpus, name, found, with_derived=False, deep=False)
    listed = state.fragments if name == "head" else state.releases[name]["fragments"]
    return [fragment_file(corpus.path, {"path": p}) for p in listed], problems


def _resolve(corpus: Reader, state: HeadState, version: str) -> str:
    """The name of ``version`` in the replayed ``state`` (not in a cached snapshot)."""
    latest = latest_version(state)
    if version == "head" or version in state.releases:
        return version
    if version == "latest" and latest is not None:
        return latest
    corpus.resolve_version(version)  # raises the usual error for an unknown version
    raise IntegrityError(f"{corpus.path}: version '{version}' is not in the log; run "
                         "`policyspeech verify`")


def _verify(corpus: Reader, version: str | None, found: Replay, *, with_derived: bool,
            deep: bool) -> tuple[list[str], list[str]]:
    """Problems and warnings in ``version`` of the log that ``found`` replayed."""
    state = found.state
    if version is None:
        releases = list(state.releases)
        fragments: dict[str, dict[str, Any]] = {
            p: cast(dict[str, Any], i) for p, i in state.fragments.items()}
        for name in releases:
            fragments.update({p: {"path": p} for p in state.releases[name]["fragments"]
                              if p not in fragments})
    else:
        name = _resolve(corpus, state, version)
        releases = [] if name == "head" else [name]
        fragments = {p: {"path": p} for p in
                     (state.fragments if name == "head" else state.releases[name]["fragments"])}
        fragments.update({p: cast(dict[str, Any], i) for p, i in state.fragments.items()
                          if p in fragments})
    import concurrent.futures
    import functools
    import os

    check = functools.partial(_check_fragment, corpus.path, deep=deep)
    kept = functools.partial(check_kept, corpus.path, deep=deep)
    superseded = [info for p, info in found.added.items()
                  if p not in fragments and p not in found.collected] if version is None else []
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        problems = [problem for found_here in pool.map(check, fragments.values())
                    for problem in found_here]
        problems += [problem for here in pool.map(kept, superseded) for problem in here]
    problems += found.problems
    bad_fragments = {p.split(":", 1)[0] for p in problems}
    manifests: dict[str, Manifest] = {}
    for name in releases:
        problems += _check_release(corpus.path, state.releases[name], bad_fragments, deep,
                                   found.commits.get(name), manifests)
    if deep and version in (None, "head") and not problems:
        problems += _check_head_ids(corpus.path, state)
    problems += check_newest_entry(corpus, state)
    problems += lost_releases(corpus.path, state)
    missing = entries_missing(corpus, state) or bool(gap(corpus.path, state.seq))
    if with_derived and not missing:  # (readers read the store, never the version folders;
        views = None if version is None else [  # and over lost entries they are newer)
            release_folder(releases[0]) if releases else DATA]
        problems += layout_problems(corpus.path, state, folders=views)
    warnings: list[str] = []
    if with_derived and version in (None, "head") and not entries_missing(corpus, state):
        card = check_card(corpus, state)
        problems, warnings = problems + card.problems, warnings + card.warnings
    if with_derived and version is None and len(manifests) == len(state.releases):
        derived = check_derived(corpus.path, state, manifests)
        problems += derived.problems
        warnings += derived.warnings
    if with_derived and version is None:  # the Delta log (policyspeech.delta)
        delta_problems, delta_warnings = check_delta(corpus.path, state)
        problems, warnings = problems + delta_problems, warnings + delta_warnings
    return problems, warnings


@dataclass
class VerifyReport:
    """What ``policyspeech verify`` found: problems (the corpus does not match its log),
    and warnings that change nothing a reader sees (a card one commit behind, files that
    no log entry names).

    >>> from policyspeech.reader import Reader
    >>> report = check(Reader())
    >>> report.ok, report.entries, report.releases
    (True, 3, 1)
    """

    corpus: Path
    version: str | None
    """The version checked; None: every version."""
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """Derived files behind the log (``verify --repair`` rewrites them)."""
    stale_card: bool = False
    unreferenced: list[Path] = field(default_factory=list)
    """The files ``gc`` would remove (see :mod:`policyspeech.unreferenced`)."""
    collectable: list[Unreferenced] = field(default_factory=list)
    """The same, with their sizes and what each is."""
    waiting: list[Unreferenced] = field(default_factory=list)
    """Files no entry names, which ``gc`` leaves until they are older than its grace."""
    entries: int = 0
    releases: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def repairable(self) -> bool:
        """Whether every problem is in a file derived from the log (the card, changelog,
        citation or Croissant file, a version folder, the layout of a corpus not yet
        migrated), which ``verify --repair`` rewrites from a log that verifies; any other
        problem is in the log or the data, which nothing rewrites."""
        from policyspeech.citation import citation_file

        derived = [self.corpus / CARD, self.corpus / LICENSE, self.corpus / CHANGELOG,
                   self.corpus / CROISSANT, citation_file(self.corpus)]
        return all((any(p.startswith(f"{path}:") for path in derived) or is_layout_problem(p))
                   and LOST not in p for p in self.problems)


def check(corpus: Reader, version: str | None = None, *, deep: bool = False,
          grace_seconds: float = GRACE_SECONDS) -> VerifyReport:
    """Check ``version`` (every version when None) and gather the warnings too, and what
    ``gc`` would collect (unnamed files older than ``grace_seconds``); the log is read
    once, from its first entry, for all of them."""
    try:
        replayed = replay(corpus.path, stop_at_break=True)
    except CorpusError as exc:
        return VerifyReport(corpus.path, version, [str(exc)])
    if replayed.broken:
        return VerifyReport(corpus.path, version, _verify_broken(corpus.path, replayed))
    state = replayed.state
    found = VerifyReport(corpus.path, version,
                         *_verify(corpus, version, replayed, with_derived=True, deep=deep))
    if found.ok:
        if version in (None, "head"):
            found.stale_card = stale_card(corpus, state)
        if version is None:
            unreferenced = plan(corpus.path, replayed, grace_seconds=grace_seconds)
            found.collectable, found.waiting = unreferenced.collect, unreferenced.waiting
            found.unreferenced = [item.path for item in unreferenced.collect]
        found.entries, found.releases = state.seq + 1, len(state.releases)
    return found


def _verify_broken(corpus: Path, found: Replay) -> list[str]:
    """Problems of a corpus whose log does not replay to its end (``found`` stopped at the
    break): every Parquet file in the store against its name (fragments are named by their
    SHA-256) and against the log's record where the log reaches it, and every release
    manifest against its own fields."""
    import concurrent.futures
    import functools
    import os

    state = found.state
    stored = corpus / (DATA if is_legacy(corpus) else FRAGMENTS)
    on_disk = {f"{DATA}/{p.name}" for p in _listing(stored) if p.suffix == ".parquet"}
    infos = [cast(dict[str, Any], state.fragments[p]) if p in state.fragments else {"path": p}
             for p in sorted(on_disk | state.fragments_ever)]
    check = functools.partial(_check_fragment, corpus)
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        problems = [problem for here in pool.map(check, infos) for problem in here]
    bad = {p.split(":", 1)[0] for p in problems}
    problems = found.problems + problems
    for record in state.releases.values():  # the releases the log still reaches
        problems += _check_release(corpus, record, bad)
    for path, version, _seq, _sha256 in recorded_manifests(corpus):
        problems += _check_manifest_alone(corpus, path, version, bad)
    return problems


def _check_manifest_alone(corpus: Path, path: Path, version: str, bad: set[str]) -> list[str]:
    """A manifest against its own fields: each fragment it lists is there, named by its
    SHA-256 and whole, and its rows add up to its records."""
    manifest = json.loads(path.read_bytes())
    try:
        fragments = manifest["fragments"]
        damaged = [info["path"] for info in fragments
                   if str(fragment_file(corpus, info)) in bad or not (fragment_file(corpus, info)).is_file()
                   or (fragment_file(corpus, info)).stem != info["sha256"]]
        adds_up = sum(info["rows"] for info in fragments) == manifest["records"]
    except (KeyError, TypeError):
        return [f"{path}: malformed (a field of release {version} is missing or of the wrong "
                "type)"]
    problems = [f"{path}: release {version} lists {', '.join(damaged[:5])}, which "
                f"{'is' if len(damaged) == 1 else 'are'} missing or damaged"] if damaged else []
    if not adds_up:
        problems.append(f"{path}: the record count does not add up over its fragments")
    return problems


def _listing(folder: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir())
    except OSError:
        return []


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _check_fragment(corpus: Path, info: dict[str, Any], *, deep: bool = False) -> list[str]:
    import pyarrow.parquet as pq

    path = fragment_file(corpus, info)
    if path.is_symlink() or not path.is_file():
        return [f"{path}: missing (or not a regular file)"]
    actual = _sha256(path)
    expected = info.get("sha256") or path.stem
    if actual != expected or path.stem != expected:
        says = "the log says" if "sha256" in info else "its name says"
        return [f"{path}: SHA-256 is {actual}, {says} {expected}; the file was changed "
                "or damaged"]
    if "rows" in info:
        try:
            rows = pq.ParquetFile(path).metadata.num_rows
        except Exception as exc:  # any unreadable footer is a finding
            return [f"{path}: not a readable Parquet file ({exc})"]
        if rows != info["rows"]:
            return [f"{path}: {rows} rows, the log says {info['rows']}"]
    return _check_texts(path) if deep else []


def _check_texts(path: Path) -> list[str]:
    """Every text of a fragment against its ``text_sha256`` (page checksums verified)."""
    import pyarrow.parquet as pq

    try:
        source = pq.ParquetFile(path, page_checksum_verification=True)
        for group in range(source.num_row_groups):
            table = source.read_row_group(group, columns=["id", "text", "text_sha256"])
            for record_id, text, digest in zip(*(table[n].to_pylist() for n in table.column_names),
                                               strict=True):
                if hashlib.sha256(text.encode("utf-8")).hexdigest() != digest:
                    return [f"{path}: the text of '{record_id}' does not match its "
                            "text_sha256; the fragment was damaged or forged"]
    except OSError as exc:
        return [f"{path}: unreadable ({exc})"]
    return []


def _check_release(corpus: Path, release: ReleaseRecord, bad_fragments: set[str],
                   deep: bool = False, commit: Commit | None = None,
                   manifests: dict[str, Manifest] | None = None) -> list[str]:
    """The manifest of ``release`` against its entry, and against the head the replay
    found at the entry it names (``commit``); a manifest that checks is kept in
    ``manifests``."""
    from policyspeech.releases import fingerprint_paths

    path = corpus / release["manifest"]
    if not path.is_file():
        return [f"{path}: missing; the log published release {release['version']} with it"]
    if path.is_symlink():
        return [f"{path}: is a symbolic link; release manifests must be files"]
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != release["sha256"]:
        return [f"{path}: SHA-256 differs from the log entry that published release "
                f"{release['version']}; the manifest was changed or damaged"]
    manifest = json.loads(data)
    listed = [info["path"] for info in manifest["fragments"]]
    if listed != release["fragments"]:
        return [f"{path}: lists other fragments than the log entry of release "
                f"{release['version']}"]
    if manifest["records"] != release["records"]:
        return [f"{path}: {manifest['records']} records, the log entry of release "
                f"{release['version']} says {release['records']}"]
    if commit is not None:
        seq, sha256, head = commit
        if manifest["commit"] != {"seq": seq, "sha256": sha256}:
            return [f"{path}: names commit {manifest['commit']}, but the log publishes "
                    f"release {release['version']} after entry {seq} (SHA-256 {sha256})"]
        logged = {p: (i["sha256"], i["rows"]) for p, i in head.items()}
        if any(logged.get(info["path"]) != (info["sha256"], info["rows"])
               for info in manifest["fragments"]):
            return [f"{path}: a fragment's SHA-256 or rows differ from the log at the "
                    f"entry of release {release['version']}"]
    if manifests is not None:
        manifests[release["version"]] = manifest
    problems = [f"{fragment_file(corpus, info)}: {info['rows']} rows in the manifest of "
                f"{release['version']}, {rows} in the file"
                for info in manifest["fragments"]
                if str(fragment_file(corpus, info)) not in bad_fragments
                and (rows := _rows(fragment_file(corpus, info))) not in (None, info["rows"])]
    if sum(info["rows"] for info in manifest["fragments"]) != manifest["records"]:
        problems.append(f"{path}: the record count does not add up over its fragments")
    if deep and not problems and not any(
            str(fragment_file(corpus, {"path": p})) in bad_fragments for p in listed):
        actual = fingerprint_paths([fragment_file(corpus, {"path": p}) for p in listed],
                                   manifest["schema_version"],
                                   manifest.get("fingerprint_method", 1))
        if actual != manifest["fingerprint"]:
            problems.append(f"{path}: fingerprint of the records is {actual}, the manifest "
                            f"says {manifest['fingerprint']}")
    return problems


def _rows(path: Path) -> int | None:
    import pyarrow.parquet as pq

    try:
        rows: int = pq.ParquetFile(path).metadata.num_rows
    except Exception:  # reported by the fragment check
        return None
    return rows


def _check_head_ids(corpus: Path, state: HeadState) -> list[str]:
    """``deep``: the ids in the head's fragments are unique and are the log's ids."""
    import pyarrow.parquet as pq

    ids: list[str] = []
    for info in state.fragments.values():
        path = fragment_file(corpus, info)
        try:
            ids += pq.read_table(path, columns=["id"])["id"].to_pylist()
        except (OSError, ValueError) as exc:
            return [f"{path}: unreadable ({exc})"]
    if len(ids) != len(set(ids)):
        return [f"{corpus}: the head's fragments hold an id more than once"]
    if set(ids) != set(state.hash_by_id):
        return [f"{corpus}: the head's fragments hold other ids than the log lists"]
    return []
