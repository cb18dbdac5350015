"""Corruption harness: flip random bytes in random files of a corpus and check the evidence.

Each trial damages one file that the corpus relies on (a fragment of the head or of a
release, a log entry, a release manifest, or the dataset card) by flipping 1 to 4 random
bytes, then checks that ``verify`` reports a problem naming that file, that
``read(version, verify=True)`` of an affected version raises ``IntegrityError``, and that a
plain read of a damaged fragment raises or returns exactly the original records (Parquet
page checksums), never silently wrong text. The file is restored after each trial.

``python tools/corruption.py --trials 1000`` runs 1,000 trials; ``tests/test_corruption.py``
a bounded number.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

import policyspeech as ps
from policyspeech.errors import CorpusError
from policyspeech.store import Corpus
from tests.harness.crash import speech

KINDS = ("fragment", "log entry", "manifest", "card")


def build(folder: Path) -> Corpus:
    """A corpus with two releases, a correction between them and unreleased changes."""
    corpus = Corpus.init(folder)
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


def targets(corpus: Corpus) -> dict[str, list[tuple[Path, list[str]]]]:
    """The files each kind of damage can hit, with the versions that read them."""
    state = corpus.head()
    versions = ["head", *state.releases]
    fragments: dict[Path, list[str]] = {}
    for version in versions:
        for path in corpus.fragment_paths(version):
            fragments.setdefault(path, []).append(version)
    return {
        "fragment": sorted(fragments.items()),
        "log entry": [(p, ["head"]) for p in sorted((corpus.path / "log").glob("*.json"))],
        "manifest": [(corpus.path / r["manifest"], [v]) for v, r in state.releases.items()],
        "card": [(corpus.path / "README.md", [])],
    }


def trial(corpus: Corpus, rng: random.Random, pristine: dict[str, Any]) -> dict[str, Any]:
    """Damage one random file, check what sees it, and restore it."""
    kind = rng.choice(KINDS)
    path, versions = rng.choice(targets(corpus)[kind])
    original = path.read_bytes()
    data = bytearray(original)
    for _ in range(rng.randint(1, 4)):
        data[rng.randrange(len(data))] ^= rng.randint(1, 255)
    result: dict[str, Any] = {"kind": kind, "file": path.name, "changed": bytes(data) != original}
    path.write_bytes(bytes(data))
    try:
        problems = Corpus(corpus.path).verify()
        result["detected"] = any(path.name in problem for problem in problems)
        refused = []
        for version in versions:
            try:
                ps.read(corpus.path, version=version, verify=True)
                refused.append(False)
            except CorpusError:
                refused.append(True)
        result["verified_reads_refused"] = all(refused)
        if kind == "fragment":
            result["plain_read"] = _plain_read(corpus.path, versions[0], pristine[versions[0]])
    finally:
        path.write_bytes(original)
    return result


def _plain_read(folder: Path, version: str, expected: Any) -> str:
    """'error' (the damage was caught), 'same' (it hit nothing read), or 'WRONG'."""
    try:
        table = ps.read_arrow(folder, version=version)
    except Exception:  # any error is the damage being caught
        return "error"
    return "same" if table.sort_by("id").equals(expected) else "WRONG"


def run(trials: int, work: Path, seed: int = 0) -> dict[str, Any]:
    """Run ``trials`` trials on a corpus built in ``work``; return the figures."""
    corpus = build(work / "corpus")
    pristine = {v: ps.read_arrow(corpus.path, version=v).sort_by("id")
                for v in ["head", *corpus.head().releases]}
    rng = random.Random(seed)
    results = [trial(corpus, rng, pristine) for _ in range(trials)]
    changed = [r for r in results if r["changed"]]
    missed = [r for r in changed if not r["detected"]]
    unrefused = [r for r in changed if r["kind"] != "card" and not r["verified_reads_refused"]]
    return {
        "trials": trials,
        "seed": seed,
        "by_kind": dict(Counter(r["kind"] for r in results)),
        "files_changed": len(changed),
        "detected_by_verify": sum(r["detected"] for r in changed),
        "missed_by_verify": [f"{r['kind']} {r['file']}" for r in missed],
        "verified_reads_not_refused": [f"{r['kind']} {r['file']}" for r in unrefused],
        "plain_reads_of_damaged_fragments": dict(Counter(r["plain_read"] for r in results
                                                         if "plain_read" in r)),
        "corpus_intact_after": Corpus(corpus.path).verify() == [],
    }

