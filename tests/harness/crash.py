"""Crash harness: stop writers at every step of the commit protocol, and check what is left.

Each trial runs ``policyspeech add``, ``import`` or ``release`` in a subprocess, or a
parallel import (several worker processes staging chunks, :func:`parallel_import`), or an
``add`` to the corpus moved back to the legacy layout (``migrate``: the add migrates it
first), and stops it either at a named crash point (:mod:`tests.hooked`: the process exits
at once right after writing a file, after its fsync, after its link, inside the migration
or the version folders' sync, before the success message) or with SIGKILL after a random
delay. After every trial it checks that:

- ``verify`` finds no problem (a card one commit behind is allowed: the next commit
  rewrites it; so are version folders behind, or a migration not finished, after a
  command that did not report success: they are derived, and the next write brings them
  current, which the next trial's checks see);
- an add or import that reported success is present, each speech exactly once;
- any other add or import is wholly present or wholly absent;
- every release still has its recorded fingerprint;
- readers see no temporary file, and read exactly the records of the head;
- re-running the same add reports a duplicate when the first one was committed.

``python tools/crash_trials.py`` runs 1,000 trials; ``tests/crash/test_crash.py`` a bounded
number.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

import policyspeech as ps
from policyspeech.errors import DuplicateSpeechError
from policyspeech.releases import fingerprint_paths
from policyspeech.store import Corpus
from policyspeech.validate import validate_speech
from policyspeech.views import is_layout_problem
from tests.harness.legacy import to_legacy_layout
from tests.helpers import IDENTITY, make_speech
from tests.hooked import CRASH_EXIT_CODE, REPO, command

WRITE_POINTS = [f"{kind}-{step}" for kind in ("fragment", "entry", "card", "license")
                for step in ("written", "fsynced", "linked", "published", "replaced")
                if not (kind in ("card", "license") and step in ("linked", "published"))
                and not (kind not in ("card", "license") and step == "replaced")]
RELEASE_POINTS = WRITE_POINTS + [f"{kind}-{step}" for kind in ("manifest",)
                                 for step in ("written", "fsynced", "linked", "published")] + [
    f"{kind}-{step}" for kind in ("changelog", "citation", "croissant")
    for step in ("written", "fsynced", "replaced")]
VIEW_POINTS = [f"view-{step}" for step in ("linked", "removed", "synced")]
MIGRATION_POINTS = [*(f"migration-linked:{n}" for n in (1, 2, 5, 9, 14, 20)),
                    "migration-fsynced:1", "migration-fsynced:2", "migration-unlinked:1",
                    "migration-unlinked:4", "migration-renamed", *VIEW_POINTS]
"""Inside the migration: the N-th link (entries first, then fragments), each fsync, an
unlink of a flat entry, the store's rename, and the version folders' first sync."""
WRITE_POINTS += VIEW_POINTS
RELEASE_POINTS += VIEW_POINTS
POINTS = {"add": [*WRITE_POINTS, "before-success"], "import": [*WRITE_POINTS, "before-success"],
          "migrate": [*MIGRATION_POINTS, *WRITE_POINTS, "before-success"],
          "parallel import": [*(f"{p}:{n}" for p in WRITE_POINTS if p.startswith("fragment")
                                for n in (1, 2)),
                              *(p for p in WRITE_POINTS if not p.startswith("fragment")),
                              "before-success"],
          "release": [*RELEASE_POINTS, "before-success"]}
PARALLEL_BATCH = 6
PARALLEL_CHUNK_BYTES = 1024
"""A parallel import's chunk size in the trials: its six speeches make three chunks."""


def speech(n: int) -> dict[str, Any]:
    """A small, unique, valid speech, of one of seven speakers, on a date that ``n`` varies."""
    return make_speech(n, title=f"Crash trial speech {n}", speaker=f"Speaker {n % 7}",
                       date=f"20{10 + n % 15}-0{1 + n % 9}-1{n % 10}", themes=["law_and_crime"],
                       text=f"Speech {n} of the crash trials.\n\nIt ends.")


def long_speech(n: int) -> dict[str, Any]:
    """A speech of about 600 bytes, so that a few make several chunks of a parallel import."""
    fields = speech(n)
    fields["text"] += "\n\n" + " ".join(f"Paragraph of speech {n}." for _ in range(25))
    return fields


def parallel_import(corpus: str, source: str) -> None:
    """Import ``source`` with two worker processes and small chunks (run by
    :mod:`tests.hooked` ``--call``, so that crash points reach the forked workers)."""
    from policyspeech import hooks, workers
    from policyspeech.tuning import Tuning

    workers.MIN_CHUNK_BYTES = PARALLEL_CHUNK_BYTES
    Corpus(corpus, tuning=Tuning(parallel_from_bytes=0)).import_path(source, workers=2)
    hooks.crash_point("before-success")


def text_hash(fields: dict[str, Any]) -> str:
    return str(validate_speech(fields)["text_sha256"])


def write_speech_file(folder: Path, fields: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{fields['title'].replace(' ', '-')}.txt"
    meta = {k: v for k, v in fields.items() if k != "text"}
    path.write_text(fields["text"], encoding="utf-8")
    Path(f"{path}.yaml").write_text(yaml.safe_dump(meta), encoding="utf-8")
    return path


@dataclass
class Outcome:
    """What the harness saw in one trial."""

    number: int
    operation: str
    mode: str
    returncode: int
    reported_success: bool
    committed: bool
    violations: list[str] = field(default_factory=list)
    behind: bool = False
    """Version folders (or the migration) left behind by the interrupted command."""


class Harness:
    """Trials against one corpus, with a model of what must be in it."""

    def __init__(self, work: Path, seed: int = 0) -> None:
        self.work = work
        self.rng = random.Random(seed)
        self.corpus = Corpus.init(work / "corpus", **IDENTITY)
        self.present: set[str] = set()  # text hashes that must be in the head
        self.counter = 0
        for _ in range(3):
            self._add_cleanly()
        self.corpus.release("minor", notes="baseline")
        self.fingerprints = self._fingerprints()

    def _next(self) -> dict[str, Any]:
        self.counter += 1
        return speech(self.counter)

    def _add_cleanly(self) -> None:
        fields = self._next()
        self.corpus.add(fields)
        self.present.add(text_hash(fields))

    def _fingerprints(self) -> dict[str, str]:
        return {v["version"]: v["fingerprint"] for v in self.corpus.versions()}

    def trial(self, number: int) -> Outcome:
        operation = self.rng.choice(["add", "add", "import", "parallel import", "release",
                                     "migrate"])
        if operation == "migrate":
            to_legacy_layout(self.corpus.path)
        if operation == "release":
            self._add_cleanly()  # a release needs a change
        folder = self.work / "inputs" / f"trial-{number}"
        if operation == "parallel import":
            self.counter += PARALLEL_BATCH
            batch = [long_speech(n) for n in range(self.counter - PARALLEL_BATCH + 1,
                                                   self.counter + 1)]
            folder.mkdir(parents=True)
            source = folder / "speeches.jsonl"
            source.write_text("".join(json.dumps(f) + "\n" for f in batch), encoding="utf-8")
            args = [str(self.corpus.path), str(source)]
        else:
            batch = [self._next() for _ in range(3 if operation == "import" else 1)]
            paths = [write_speech_file(folder, f) for f in batch]
            args = {"add": ["add", str(paths[0])], "migrate": ["add", str(paths[0])],
                    "import": ["import", str(folder)],
                    "release": ["release", "-m", f"trial {number}"]}[operation]
            args = ["--corpus", str(self.corpus.path), *args]
        call = "tests.harness.crash:parallel_import" if operation == "parallel import" else None
        point = None
        if self.rng.random() < 0.5:
            point = self.rng.choice(POINTS[operation])
            mode, delay = f"point:{point}", None
        else:
            delay = self.rng.uniform(0.2, 3.0 if call else 1.4)  # workers take time to start
            mode = "kill"
        started = time.perf_counter()
        process = subprocess.Popen(
            command(*args, crash=point, call=call), cwd=REPO,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if delay is not None:
            try:
                process.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
        process.wait()
        if mode == "kill":
            mode = f"kill:{'before-exit' if process.returncode == -9 else 'too-late'}"
        _ = time.perf_counter() - started
        success = process.returncode == 0
        outcome = Outcome(number, operation, mode, process.returncode, success, False)
        self._check(outcome, batch)
        return outcome

    def _check(self, outcome: Outcome, batch: list[dict[str, Any]]) -> None:
        v = outcome.violations
        corpus = Corpus(self.corpus.path)
        problems = corpus.verify()
        outcome.behind = bool(problems) and all(is_layout_problem(p) for p in problems)
        if not (outcome.behind and not outcome.reported_success):
            v += [f"verify: {p}" for p in problems]
        state = corpus.head()
        hashes = [text_hash(f) for f in batch] if outcome.operation != "release" else []
        present = set(state.hash_by_id.values())
        found = [h in present for h in hashes]
        if hashes:
            outcome.committed = all(found)
            if any(found) and not all(found):
                v.append(f"{outcome.operation}: {sum(found)} of {len(found)} speeches present "
                         "(a batch must be all or nothing)")
            if outcome.reported_success and not all(found):
                v.append(f"{outcome.operation} reported success but its speeches are missing")
        frame = ps.read(corpus.path, columns=["text_sha256"])
        counts = Counter(frame["text_sha256"].to_list())
        v += [f"speech {h[:12]} present {n} times" for h, n in counts.items() if n > 1]
        expected = self.present | {h for h, f in zip(hashes, found, strict=True) if f}
        if set(counts) != expected:
            v.append(f"head has {len(counts)} speeches, the model {len(expected)}")
        leftovers = [p.relative_to(corpus.path).as_posix() for p in corpus.path.rglob(".tmp*")
                     if p.relative_to(corpus.path).parts[0] != ".tmp"]
        if leftovers:
            v.append(f"temporary files visible outside .tmp/: {leftovers}")
        now = self._fingerprints()
        for version, fingerprint in self.fingerprints.items():
            if now.get(version) != fingerprint:
                v.append(f"release {version} fingerprint changed")
            actual = fingerprint_paths(corpus.fragment_paths(version),
                                       corpus.manifest(version)["schema_version"])
            if actual != fingerprint:
                v.append(f"release {version}: its files no longer give its fingerprint")
        if outcome.operation == "release":
            outcome.committed = len(now) > len(self.fingerprints)
            if outcome.reported_success and not outcome.committed:
                v.append("release reported success but no new release exists")
        self.fingerprints = now
        for h, f in zip(hashes, found, strict=True):
            if f:
                self.present.add(h)
        if outcome.operation in ("add", "migrate"):
            self._rerun(outcome, batch[0], committed=found[0])

    def _rerun(self, outcome: Outcome, fields: dict[str, Any], committed: bool) -> None:
        corpus = Corpus(self.corpus.path)
        try:
            corpus.add(fields)
        except DuplicateSpeechError:
            if not committed:
                outcome.violations.append("re-run: duplicate reported for a speech not present")
            return
        if committed:
            outcome.violations.append("re-run: the same speech was added twice")
        self.present.add(text_hash(fields))


TRIALS_PER_CORPUS = 100
"""A fresh corpus every so many trials keeps each trial's checks (which re-read every
release) quick."""


def run_trials(count: int, work: Path, seed: int = 0) -> dict[str, Any]:
    """Run ``count`` trials in ``work``; return the figures."""
    outcomes: list[Outcome] = []
    records = releases = 0
    for start in range(0, count, TRIALS_PER_CORPUS):
        harness = Harness(work / f"round-{start}", seed + start)
        outcomes += [harness.trial(n) for n in range(start, min(count, start + TRIALS_PER_CORPUS))]
        records += Corpus(harness.corpus.path).head().rows
        releases += len(harness.fingerprints)
    violations = [f"trial {o.number} ({o.operation}, {o.mode}): {text}"
                  for o in outcomes for text in o.violations]
    return {
        "trials": count,
        "seed": seed,
        "by_operation": dict(Counter(o.operation for o in outcomes)),
        "crash_points": sum(o.mode.startswith("point:") for o in outcomes),
        "distinct_crash_points": len({o.mode for o in outcomes if o.mode.startswith("point:")}),
        "sigkills": sum(o.mode == "kill:before-exit" for o in outcomes),
        "stopped_by_crash_point": sum(o.returncode == CRASH_EXIT_CODE for o in outcomes),
        "reported_success": sum(o.reported_success for o in outcomes),
        "committed_without_success_message": sum(o.committed and not o.reported_success
                                                 for o in outcomes),
        "left_folders_behind": sum(o.behind for o in outcomes),
        "violations": violations,
        "records_at_end": records,
        "releases_at_end": releases,
    }

