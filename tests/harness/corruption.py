"""Damage harness: break a corpus the ways disks, users and attackers do, and check the evidence.

Each trial does one kind of damage to a corpus with two releases, corrections and
unreleased changes:

- flip 1 to 4 random bytes of a fragment in the store (of the head or a release: its
  version folders' hard links see the same bytes), a log entry, a release manifest, the
  dataset card, or a cache file (a reader snapshot, a writer's head index, an Arrow file of
  ``load_dataset``);
- delete a log entry (the newest or one in the middle), swap two log entries, delete a
  release manifest, swap two manifests, delete a superseded fragment from the store;
- damage a version folder (``data/`` or ``releases/<V>/``): delete a file, add a fragment of
  another version, or replace a file by a copy with a byte flipped (no longer the store's
  file);
- edit a cache so that it still parses: a reader snapshot pointed at an older release's
  fragments (with a retracted speech), or one Arrow cache file replaced by another.

Then it checks, on the damaged corpus:

- ``verify`` names the damage (for damage to the corpus itself; a cache is not the corpus);
- every read of every version (``read_arrow`` with and without ``verify=True``,
  ``load_dataset`` with and without ``verify=True``) raises or returns exactly the original
  records:
  a **wrong result served** is a read that returns anything else;
- ``repair`` either refuses, or leaves a corpus that verifies and reads exactly as before,
  without touching a fragment of the store, log entry or manifest (the version folders
  are derived: repairing them is its job): a **silent repair** is anything else;
- an ``add`` is refused, or leaves every original speech once and the new one once
  (a write over a damaged or missing newest entry must be refused);
- no error other than a :class:`~policyspeech.errors.CorpusError` escapes from any of these
  (a user would see a traceback): they are counted apart.

Every file of the corpus and the cache is put back as it was after each trial.
``python tools/corruption.py --trials 1000`` runs 1,000 trials; ``tests/test_corruption.py``
a bounded number.
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import policyspeech as ps
from policyspeech.documents import FragmentInfo
from policyspeech.errors import CorpusError
from policyspeech.layout import ARROW_CACHE, CACHE_ENV, HEADS_CACHE
from policyspeech.store import Corpus
from tests.harness.crash import speech
from tests.helpers import IDENTITY

FLIPS = ("fragment", "log entry", "manifest", "card", "cache")
STRUCTURE = ("delete newest entry", "delete middle entry", "swap entries", "delete manifest",
             "swap manifests", "delete superseded fragment")
VIEWS = ("delete view file", "extra view file", "replace view file")
EDITS = ("stale snapshot", "swap arrow files")
KINDS = FLIPS + STRUCTURE + VIEWS + EDITS
CORPUS_KINDS = frozenset(KINDS) - {"cache", *EDITS}
"""Damage to the corpus itself, which ``verify`` must name."""
NEWEST_ENTRY_KINDS = frozenset({"delete newest entry"})
"""Damage that must stop every write."""

Files = dict[Path, tuple[bytes, int] | None]
"""File contents (and modification times) by path; None for a file that must be absent."""


def build(folder: Path) -> Corpus:
    """A corpus with two releases, a correction between them and unreleased changes."""
    corpus = Corpus.init(folder, **IDENTITY)
    corpus.add_all([speech(n) for n in range(1, 6)])
    corpus.add(speech(6))
    corpus.release("minor", notes="first")
    first = sorted(ps.read(folder, columns=["id"])["id"].to_list())
    corpus.amend(first[0], {"party": "Corrected"}, reason="check")
    corpus.add(speech(7))
    corpus.release("minor", notes="second")
    corpus.retract(first[1], reason="withdrawn")
    corpus.add(speech(8))
    return corpus


class Trials:
    """Damage trials on one corpus, restored to its pristine files after each."""

    def __init__(self, work: Path, seed: int) -> None:
        self.cache = work / "cache"
        os.environ[CACHE_ENV] = str(self.cache)
        self.corpus = build(work / "corpus")
        self.path = self.corpus.path
        self.versions = ["head", *self.corpus.head().releases]
        self._warm()
        self.expected = {v: _rows(ps.read_arrow(self.path, version=v)) for v in self.versions}
        self.pristine = self._files()
        self.rng = random.Random(seed)
        self.speeches = 100
        self.tracebacks: list[str] = []
        """Errors other than :class:`CorpusError` (a user would see a traceback)."""

    # -- files ------------------------------------------------------------------------------

    def _files(self) -> Files:
        files: Files = {}
        for root in (self.path, self.cache):
            for path in sorted(root.rglob("*")):
                if path.is_file() and not path.is_symlink() and path.name != ".lock":
                    files[path] = (path.read_bytes(), path.stat().st_mtime_ns)
        return files

    def _set(self, files: Files) -> None:
        """Make every file in ``files`` as given, and remove every other file. A file of a
        version folder that is to differ from the store's is written anew (a copy, no
        longer the store's file); every other file is written in place, so that the store
        and its hard links see the same bytes, as they do on a damaged disk."""
        for path in set(self._files()) - set(files):
            path.unlink()
        for path, content in files.items():
            if content is None:
                path.unlink(missing_ok=True)
                continue
            data, mtime = content
            if not path.exists() or path.read_bytes() != data:
                path.parent.mkdir(parents=True, exist_ok=True)
                if _in_view(self.path, path) and path.exists():
                    path.unlink()
                path.write_bytes(data)
            os.utime(path, ns=(mtime, mtime))

    def _warm(self) -> None:
        """Make the caches that readers and writers keep (snapshots, Arrow files)."""
        Corpus(self.path).head()
        for version in self.versions:
            ps.read_arrow(self.path, version=version)
            ps.load_dataset(self.path, version=version)

    # -- damage -----------------------------------------------------------------------------

    def damage(self, kind: str) -> tuple[Files, list[str]]:
        """The damaged files for ``kind``, and the names of the files of which ``verify``
        must report one."""
        rng, state = self.rng, self.corpus.head()
        entries = _entries(self.path)
        manifests = sorted((self.path / "releases").glob("*.json"))
        if kind in FLIPS:
            path = rng.choice(self._targets(kind))
            data = bytearray(path.read_bytes())
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(len(data))] ^= rng.randint(1, 255)
            return {path: (bytes(data), path.stat().st_mtime_ns)}, [path.name]
        if kind == "delete newest entry":
            return {entries[-1]: None}, [entries[-1].name]
        if kind == "delete middle entry":
            path = rng.choice(entries[1:-1])
            return {path: None}, [path.name]
        if kind == "swap entries":
            a, b = rng.sample(entries, 2)
            return _swapped(a, b), [a.name, b.name]
        if kind == "delete manifest":
            path = rng.choice(manifests)
            return {path: None}, [path.name]
        if kind == "swap manifests":
            return _swapped(*manifests[:2]), [p.name for p in manifests[:2]]
        if kind == "delete superseded fragment":
            path = rng.choice(self._superseded())
            return {path: None}, [path.name]
        if kind in VIEWS:
            return self._damage_view(kind)
        if kind == "stale snapshot":
            older = self.corpus.fragments(min(state.releases))
            edited = {p: _edited_snapshot(p, older)
                      for p in self._cache_files(HEADS_CACHE, ".json")}
            return edited or self.damage("cache")[0], []
        if kind == "swap arrow files":
            arrows = self._cache_files(ARROW_CACHE)
            return _swapped(*rng.sample(arrows, 2)), []
        raise ValueError(kind)

    def _targets(self, kind: str) -> list[Path]:
        if kind == "fragment":
            return sorted({p for v in self.versions for p in self.corpus.fragment_paths(v)})
        if kind == "log entry":
            return _entries(self.path)
        if kind == "manifest":
            return sorted((self.path / "releases").glob("*.json"))
        if kind == "card":
            return [self.path / "README.md"]
        return [p for p in self.pristine if self.cache in p.parents]

    def _superseded(self) -> list[Path]:
        """Fragments of the store that no version references."""
        needed = {p.name for v in self.versions for p in self.corpus.fragment_paths(v)}
        return sorted(p for p in (self.path / "fragments").iterdir() if p.name not in needed)

    def _damage_view(self, kind: str) -> tuple[Files, list[str]]:
        version = self.rng.choice(self.versions)
        folder = self.path / ("data" if version == "head" else f"releases/{version}")
        files = sorted(folder.iterdir())
        path = self.rng.choice(files)
        if kind == "delete view file":
            return {path: None}, [str(folder)]
        if kind == "extra view file":
            other = self.rng.choice(self._superseded())
            return {folder / other.name: (other.read_bytes(), other.stat().st_mtime_ns)}, \
                [str(folder)]
        data = bytearray(path.read_bytes())
        data[self.rng.randrange(len(data))] ^= self.rng.randint(1, 255)
        return {path: (bytes(data), path.stat().st_mtime_ns)}, [str(folder)]

    def _cache_files(self, folder: str, suffix: str = "") -> list[Path]:
        return [p for p in self.pristine
                if (self.cache / folder) in p.parents and p.name.endswith(suffix)]

    # -- checks -----------------------------------------------------------------------------

    def trial(self) -> dict[str, Any]:
        kind = self.rng.choice(KINDS)
        damaged, names = self.damage(kind)
        result: dict[str, Any] = {"kind": kind, "file": "/".join(names), "wrong": [],
                                  "silent_repair": ""}
        tracebacks = len(self.tracebacks)
        try:
            self._set({**self.pristine, **damaged})
            problems = Corpus(self.path).verify()
            result["detected"] = bool(problems) and (
                not names or any(n in p for p in problems for n in names))
            result["wrong"] = self._wrong_reads()
            if kind in CORPUS_KINDS:  # repair does not read caches
                result["silent_repair"] = self._repair()
            self._set({**self.pristine, **damaged})
            result["write"] = self._write()
            if result["write"].startswith("WRONG") or (
                    kind in NEWEST_ENTRY_KINDS and result["write"] == "accepted"):
                result["wrong"].append(f"add: {result['write']}")
        finally:
            self._set(self.pristine)
            self._warm()  # a restored entry is a new file: snapshots of it are made again
            self.pristine = self._files()
            result["tracebacks"] = len(self.tracebacks) - tracebacks
        return result

    def _reads(self) -> list[tuple[str, Callable[[str], Any]]]:
        path = self.path
        return [
            ("read_arrow verify", lambda v: ps.read_arrow(path, version=v, verify=True)),
            ("read_arrow", lambda v: ps.read_arrow(path, version=v)),
            ("load_dataset verify",
             lambda v: ps.load_dataset(path, version=v, verify=True).data.table),
            ("load_dataset", lambda v: ps.load_dataset(path, version=v).data.table),
        ]

    def _wrong_reads(self) -> list[str]:
        """Every read, of every version, that returned records other than the original."""
        wrong = []
        for version in self.versions:
            for label, read in self._reads():
                try:
                    rows = _rows(read(version))
                except CorpusError:
                    continue
                except Exception as exc:  # the damage was caught, but not by our checks
                    self.tracebacks.append(f"{label} {version}: {type(exc).__name__}")
                    continue
                if rows != self.expected[version]:
                    wrong.append(f"{label} {version}")
        return wrong

    def _repair(self) -> str:
        """'' when repair refused or really repaired; else what it did wrong."""
        stored = {p: c for p, c in self._files().items() if _stored(self.path, p)}
        try:
            Corpus(self.path).repair()
        except CorpusError:
            return ""
        except Exception as exc:  # a bug: it may have written half of what it meant to
            self.tracebacks.append(f"repair: {type(exc).__name__}")
        after = {p: c for p, c in self._files().items() if p in stored or _stored(self.path, p)}
        if {p: c and c[0] for p, c in after.items()} != {p: c and c[0] for p, c in stored.items()}:
            return "rewrote a stored file"
        if not Corpus(self.path).verify() and self._wrong_reads():
            return "verify passes after the repair, but reads differ from the original"
        return ""

    def _write(self) -> str:
        """'refused', 'accepted', or 'WRONG: ...' when an accepted add broke the head."""
        self.speeches += 1
        fields = speech(self.speeches)
        try:
            Corpus(self.path).add(fields)
        except CorpusError:
            return "refused"
        except Exception as exc:  # refused, but by a bug rather than a check
            self.tracebacks.append(f"add: {type(exc).__name__}")
            return "refused"
        try:
            titles = Counter(ps.read(self.path, columns=["title"])["title"].to_list())
        except Exception:  # the damage is still there to be found
            return "accepted"
        head = Counter(r["title"] for r in self.expected["head"])
        head[fields["title"]] += 1
        return "accepted" if titles == head else "WRONG: the head after the add differs"


def _entries(corpus: Path) -> list[Path]:
    return sorted(corpus.glob("log/*/*.json"), key=lambda p: p.name)


def _in_view(corpus: Path, path: Path) -> bool:
    """Whether ``path`` is in a version folder (``data/`` or ``releases/<V>/``)."""
    if corpus not in path.parents:
        return False
    parts = path.relative_to(corpus).parts
    return len(parts) >= 2 and (parts[0] == "data" or (parts[0] == "releases" and len(parts) == 3))


def _stored(corpus: Path, path: Path) -> bool:
    """Whether ``path`` is one of the files that nothing may rewrite: a fragment of the
    store, a log entry, a release manifest."""
    if corpus not in path.parents:
        return False
    parts = path.relative_to(corpus).parts
    return parts[0] in ("fragments", "log") or (parts[0] == "releases" and len(parts) == 2)


def _rows(table: Any) -> list[dict[str, Any]]:
    return sorted(table.to_pylist(), key=lambda row: row["id"])


def _swapped(a: Path, b: Path) -> Files:
    return {a: (b.read_bytes(), a.stat().st_mtime_ns), b: (a.read_bytes(), b.stat().st_mtime_ns)}


def _edited_snapshot(path: Path, fragments: list[FragmentInfo]) -> tuple[bytes, int]:
    """A reader snapshot whose head is made to list ``fragments`` (still valid JSON)."""
    mtime = path.stat().st_mtime_ns
    try:
        data = json.loads(path.read_bytes())
        data["state"]["fragments"] = {info["path"]: info for info in fragments}
    except (ValueError, KeyError, TypeError):
        return (path.read_bytes()[::-1], mtime)
    return (json.dumps(data).encode(), mtime)


def run(trials: int, work: Path, seed: int = 0) -> dict[str, Any]:
    """Run ``trials`` trials on a corpus built in ``work``; return the figures."""
    saved = os.environ.get(CACHE_ENV)
    try:
        harness = Trials(work, seed)
        results = [harness.trial() for _ in range(trials)]
        intact = Corpus(harness.path).verify() == []
    finally:
        if saved is None:
            os.environ.pop(CACHE_ENV, None)
        else:
            os.environ[CACHE_ENV] = saved
    to_detect = [r for r in results if r["kind"] in CORPUS_KINDS]
    return {
        "trials": trials,
        "seed": seed,
        "by_kind": dict(sorted(Counter(r["kind"] for r in results).items())),
        "corpus_damage": len(to_detect),
        "detected_by_verify": sum(r["detected"] for r in to_detect),
        "missed_by_verify": [f"{r['kind']} {r['file']}" for r in to_detect if not r["detected"]],
        "trials_serving_wrong_results": sum(bool(r["wrong"]) for r in results),
        "trials_with_silent_repairs": sum(bool(r["silent_repair"]) for r in results),
        "trials_with_tracebacks": sum(r["tracebacks"] > 0 for r in results),
        "wrong_results_served": [f"{r['kind']} {r['file']}: {w}" for r in results
                                 for w in r["wrong"]],
        "silent_repairs": [f"{r['kind']} {r['file']}: {r['silent_repair']}" for r in results
                           if r["silent_repair"]],
        "writes": dict(Counter(r["write"] for r in results)),
        "tracebacks": dict(Counter(harness.tracebacks)),
        "corpus_intact_after": intact,
    }
