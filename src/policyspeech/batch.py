"""Adding a batch of speeches in one commit, all or nothing, with bounded memory.

The batch is cut into chunks (:mod:`policyspeech.workers`). Each chunk is
loaded and validated, and its speeches are written as one Parquet fragment to the
corpus's staging folder (``.tmp/``, invisible to readers) under their final ids: the
given id, else the id derived from the record alone (:mod:`policyspeech.identity`). For a
large import this runs in one worker process per CPU, which returns only what the check
needs (ids, speech keys, sizes, errors). This process then checks every speech in input
order against the corpus and the rest of the batch: the same speech (same text, speaker,
date and source) already in the corpus, retracted from it, or earlier in the batch, and
an id used before. With ``skip_existing`` a speech already in the corpus (or retracted
from it) is left out and counted instead, and its chunk's fragment is written again
without it. Every problem is kept with the record's label, up to ``max_errors``; after
the first one nothing is kept, but the rest of the batch is still checked, so that one
run lists every bad record. Only a clean batch is published, by one log entry that names
all its fragments. Memory holds a few chunks at most, whatever the size of the batch.

Examples
--------
>>> import tempfile, pathlib
>>> from policyspeech.store import Corpus
>>> corpus = Corpus.init(pathlib.Path(tempfile.mkdtemp()) / "c")
>>> speech = {"title": "T", "speaker": "S", "country": "GB", "date": "2019",
...           "language": "en"}
>>> summary = corpus.add_batch(
...     (f"row {n}", validator({**speech, "text": f"Words {n}."})) for n in range(3))
>>> summary.records, summary.fragments, corpus.head().rows
(3, 1, 3)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from policyspeech.errors import (
    BatchError,
    CorpusError,
    DuplicateSpeechError,
    InvalidSpeechError,
    NoSpeechesError,
)
from policyspeech.fragments import StagedFragment
from policyspeech.fsutil import write_staged
from policyspeech.identity import derive_id, speech_key
from policyspeech.layout import STAGING
from policyspeech.log import HeadState
from policyspeech.tuning import DEFAULT_MAX_ERRORS
from policyspeech.validate import Record, validate_speech

if TYPE_CHECKING:
    import pyarrow as pa

Loader = Callable[[], Record]
"""Reads and validates one speech; raises :class:`InvalidSpeechError` when it is bad.
Loaders given to several workers must be picklable (``functools.partial``)."""


class Loaded(NamedTuple):
    """What the batch keeps of a valid speech until its chunk is written."""

    given_id: str | None
    record_id: str
    """The given id, else the derived one."""
    key: str
    """The speech's identity (:func:`policyspeech.identity.speech_key`)."""
    text_bytes: int
    words: int


@dataclass
class Batch:
    """A validated batch: its fragments in staging, the ids in input order, and totals."""

    base_seq: int
    ids: list[str] = field(default_factory=list)
    staged: list[StagedFragment] = field(default_factory=list)
    text_bytes: int = 0
    words: int = 0
    skipped: int = 0
    """Speeches left out because the corpus has them already (``skip_existing``)."""
    skipped_retracted: int = 0
    """...of which were retracted from it."""

    @property
    def records(self) -> int:
        return len(self.ids)

    @property
    def fragments(self) -> int:
        return len(self.staged)

    def discard(self) -> None:
        """Forget the staged fragments and remove their files (no commit will name them)."""
        self.remove_temporaries()
        self.staged = []

    def remove_temporaries(self) -> None:
        """Remove the staged files (after the commit their data is linked in ``data/``)."""
        for fragment in self.staged:
            fragment.temp.unlink(missing_ok=True)

    def rebase(self, state: HeadState) -> None:
        """Check the batch against a head that other writers advanced since it was staged:
        the same speech or an id added meanwhile is an error (nothing is added)."""
        for fragment in self.staged:
            for record_id, key in zip(fragment.ids, fragment.keys, strict=True):
                if key in state.id_by_key:
                    raise DuplicateSpeechError(
                        f"another writer added this speech ('{record_id}') meanwhile, as "
                        f"'{state.id_by_key[key]}'; nothing was added")
                if record_id in state.ids_ever:
                    raise DuplicateSpeechError(
                        f"another writer used the id '{record_id}' meanwhile; give another "
                        "id; nothing was added")
        self.base_seq = state.seq


class Stager:
    """Checks loaded chunks against the corpus and each other, in input order, and keeps
    their staged fragments (see the module text)."""

    def __init__(self, corpus: Path, state: HeadState, *, max_errors: int = DEFAULT_MAX_ERRORS,
                 skip_existing: bool = False,
                 progress: Callable[[int, int], None] | None = None) -> None:
        self.corpus = corpus
        self.state = state
        self.max_errors = max(max_errors, 1)
        self.skip_existing = skip_existing
        self.progress = progress
        self.batch = Batch(base_seq=state.seq)
        self.label_of_key: dict[str, str] = {}
        self.label_of_id: dict[str, str] = {}
        self.problems: list[tuple[str, InvalidSpeechError | DuplicateSpeechError]] = []
        self.bad = 0
        self.seen = 0

    def feed(self, chunk: Chunk) -> None:
        """Check a chunk's speeches; keep its fragment, without the skipped ones."""
        skipped: set[str] = set()  # by speech key: unique in a batch that is kept
        for label, outcome in zip(chunk.labels, chunk.outcomes, strict=True):
            self.seen += 1
            try:
                if isinstance(outcome, InvalidSpeechError):
                    raise outcome
                kept = self._check(label, outcome)
            except (InvalidSpeechError, DuplicateSpeechError) as exc:
                self.bad += 1
                if len(self.problems) < self.max_errors:
                    self.problems.append((label, exc))
                continue
            if kept:
                self.batch.text_bytes += outcome.text_bytes
                self.batch.words += outcome.words
            else:
                skipped.add(outcome.key)
        if self.bad:  # nothing of a bad batch is kept
            if chunk.staged is not None:
                chunk.staged.temp.unlink(missing_ok=True)
            self.batch.discard()
        elif chunk.staged is not None:
            staged = _without(self.corpus, chunk.staged, skipped) if skipped else chunk.staged
            if staged is not None:
                self.batch.staged.append(staged)
        elif chunk.written and len(skipped) < len(chunk.labels):  # never commit an id
            raise CorpusError("a chunk of valid speeches was not staged; nothing was added "
                              "(please report this)")
        if self.progress is not None:
            self.progress(self.seen, self.batch.text_bytes)

    def finish(self, *, unlabelled: bool = False, always_list: bool = False) -> Batch:
        """Return the batch, or raise naming every problem (the staged files are then
        removed): the problem's own error when there is one (unless ``always_list``), else
        :class:`BatchError`. ``unlabelled`` leaves the label out of the message of a
        one-speech batch."""
        if not self.problems and not self.seen:
            raise NoSpeechesError("no speeches to add; give at least one")
        if self.problems:
            self.batch.discard()
            if self.bad == 1 and not always_list:
                label, exc = self.problems[0]
                if unlabelled and self.seen == 1:
                    raise exc
                raise type(exc)(_labelled(label, str(exc))) from None
            raise BatchError([_labelled(label, str(exc)) for label, exc in self.problems],
                             self.bad)
        return self.batch

    def close(self) -> None:
        """Remove the staged files (after a commit, their data are linked in ``data/``)."""
        self.batch.remove_temporaries()

    def _check(self, label: str, loaded: Loaded) -> bool:
        """Check one speech; False when it is left out (``skip_existing``)."""
        state, batch = self.state, self.batch
        existing = state.id_by_key.get(loaded.key)
        if existing is not None:
            if self.skip_existing:
                self._skip(label, loaded)
                return False
            raise DuplicateSpeechError(
                f"this speech is already in the corpus as '{existing}' (same text, speaker, "
                "date and source); nothing was added (import --skip-existing leaves such "
                "speeches out)")
        retracted = state.retracted.get(loaded.key)
        if retracted is not None and loaded.given_id is None:
            if self.skip_existing:
                self._skip(label, loaded)
                batch.skipped_retracted += 1
                return False
            old_id, reason = retracted
            raise DuplicateSpeechError(
                f"this speech was retracted from the corpus as '{old_id}' (reason: {reason}); "
                "it is not added again: to bring it back, give it a new id explicitly")
        amended = state.former.get(loaded.key)
        if amended is not None and loaded.given_id is None:
            if self.skip_existing:
                self._skip(label, loaded)
                return False
            raise DuplicateSpeechError(
                f"this speech is already in the corpus as '{amended}', amended since; nothing "
                "was added (import --skip-existing leaves such speeches out)")
        if loaded.key in self.label_of_key:
            raise DuplicateSpeechError(
                f"is the same speech (same text, speaker, date and source) as "
                f"{self.label_of_key[loaded.key] or 'another speech'} in this batch; remove "
                "one of them")
        record_id = loaded.record_id
        if record_id in state.ids_ever:
            if loaded.given_id is None:  # the same first 32 bits of the key: vanishingly rare
                raise DuplicateSpeechError(
                    f"the id derived for this speech, '{record_id}', is already used by "
                    "another speech in this corpus; give this speech an id")
            raise DuplicateSpeechError(
                f"id '{record_id}' is already used in this corpus (ids are never reused); "
                "give another --id or leave it out to derive one")
        self._claim(label, record_id)
        self.label_of_key[loaded.key] = label
        batch.ids.append(record_id)
        return True

    def _skip(self, label: str, loaded: Loaded) -> None:
        """Leave a speech out; its given id still counts as used in this batch."""
        if loaded.given_id is not None:
            self._claim(label, loaded.given_id)
        self.batch.skipped += 1

    def _claim(self, label: str, record_id: str) -> None:
        """Take ``record_id`` for the speech at ``label``; an id serves one speech a batch."""
        if record_id in self.label_of_id:
            earlier = self.label_of_id[record_id] or "another speech"
            raise DuplicateSpeechError(
                f"id '{record_id}' was already used for {earlier} in this batch; give each "
                "speech its own id")
        self.label_of_id[record_id] = label


@dataclass
class Chunk:
    """A chunk of speeches after loading: an outcome for each and, when all were valid
    (with distinct ids) and writing was asked for, their fragment staged."""

    labels: list[str]
    outcomes: list[Loaded | InvalidSpeechError]
    staged: StagedFragment | None
    written: bool = False
    """Writing was asked for (the chunk is staged unless a speech was bad or ids repeat)."""


def stage_chunk(items: list[tuple[str, Loader]], corpus: str, owner: int, write: bool) -> Chunk:
    """Load, validate and (when ``write``) stage a chunk as one fragment; run in a worker
    process for large imports. ``owner`` is the committing process's id, which names the
    staged file, so that no other writer takes it for a crashed writer's leftover."""
    from policyspeech.fragments import FEW_ROWS, records_to_table

    items = _expanded(items)
    outcomes: list[Loaded | InvalidSpeechError] = []
    records: list[Record] = []
    for _label, load in items:
        try:
            record = load()
        except InvalidSpeechError as exc:
            outcomes.append(exc)
            continue
        text = record["text"]
        key = speech_key(record)
        record_id = record["id"] or derive_id(record, key)
        outcomes.append(Loaded(
            given_id=record["id"],
            record_id=record_id,
            key=key,
            text_bytes=len(text) if text.isascii() else -1,  # -1: counted below
            words=record["word_count"],
        ))
        record["id"] = record_id
        records.append(record)
    staged = None
    ids = [o.record_id for o in outcomes if isinstance(o, Loaded)]
    if write and records and len(records) == len(items) and len(set(ids)) == len(ids):
        table = records_to_table(records)
        keys = {o.record_id: o.key for o in outcomes if isinstance(o, Loaded)}
        staged = _stage_table(Path(corpus), table, keys, owner)
    if staged is not None and len(records) > FEW_ROWS:  # read off the Arrow column
        sizes = dict(zip(staged.ids, _utf8_lengths(table), strict=True))
    else:  # (a few: not worth loading Arrow's compute module for)
        sizes = {r["id"]: len(r["text"].encode("utf-8")) for r in records}
    outcomes = [o._replace(text_bytes=sizes[o.record_id]) if isinstance(o, Loaded)
                and o.text_bytes < 0 else o for o in outcomes]
    return Chunk([label for label, _ in items], outcomes, staged, write)


def _expanded(items: list[tuple[str, Loader]]) -> list[tuple[str, Loader]]:
    """The chunk's items with every block of lines expanded into its speeches."""
    if not any(hasattr(load, "expand") for _label, load in items):
        return items
    return [pair for label, load in items
            for pair in (load.expand() if hasattr(load, "expand") else [(label, load)])]


def _utf8_lengths(table: pa.Table) -> list[int]:
    """The UTF-8 length of every text, from the Arrow column (no Python string encoded)."""
    import pyarrow.compute as pc

    lengths: list[int] = pc.binary_length(table["text"]).to_pylist()
    return lengths


def _without(corpus: Path, staged: StagedFragment, skipped: set[str]
             ) -> StagedFragment | None:
    """The staged fragment again without the speeches whose keys are ``skipped`` (None
    when nothing is left)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    if all(key in skipped for key in staged.keys):
        staged.temp.unlink(missing_ok=True)
        return None
    table = pq.read_table(staged.temp)
    keys = dict(zip(staged.ids, staged.keys, strict=True))
    kept = table.filter(pa.array(np.array([key not in skipped for key in staged.keys])))
    restaged = _stage_table(corpus, kept, keys)
    staged.temp.unlink(missing_ok=True)
    return restaged


def _stage_table(corpus: Path, table: pa.Table, keys: dict[str, str],
                 owner: int | None = None) -> StagedFragment:
    """Encode ``table`` as a fragment and write it durably to the staging folder, in a
    file named after the ``owner`` process (this one by default); ``keys`` gives each
    id's speech key."""
    from policyspeech.fragments import encode_fragment

    data, info = encode_fragment(table)
    temp = write_staged(corpus / STAGING, data, "fragment", owner)
    ids = table["id"].to_pylist()
    return StagedFragment(temp, info, ids, table["text_sha256"].to_pylist(),
                          [keys[i] for i in ids])


def validator(fields: Any) -> Loader:
    """A loader for a speech given as a mapping of fields."""
    return functools.partial(validate_speech, fields)


def _labelled(label: str, message: str) -> str:
    return f"{label}: {message}" if label and not message.startswith(f"{label}:") else message
