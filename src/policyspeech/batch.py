"""Adding a batch of speeches in one commit, all or nothing, with bounded memory.

The batch is cut into chunks of about :data:`CHUNK_TEXT_BYTES` of input. Each chunk is
loaded and validated, and its speeches are written as one Parquet fragment to the
corpus's staging folder (``.tmp/``, invisible to readers) under provisional ids: the
given id, else the derived one. For a large import this runs in one worker process per
CPU, which returns only what the check needs (ids, text hashes, sizes, errors). This
process then checks every speech in input order against the corpus and the rest of the
batch (a text already in the corpus or earlier in the batch, a reused id) and settles
the final ids: when a derived id was taken, the chunk's fragment is written again with
``-2``, ``-3``... exactly as one speech at a time would have been. Every problem is kept
with the record's label, up to ``max_errors``; after the first one nothing is kept, but
the rest of the batch is still checked, so that one run lists every bad record. Only a
clean batch is published, by one log entry that names all its fragments. Memory holds a
few chunks at most, whatever the size of the batch.

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
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from policyspeech.errors import BatchError, CorpusError, DuplicateSpeechError, InvalidSpeechError
from policyspeech.fsutil import STAGING, crash_point, fsync_dir, write_staged
from policyspeech.log import HeadState
from policyspeech.validate import Record, derive_id, validate_speech

if TYPE_CHECKING:
    import pyarrow as pa

CHUNK_TEXT_BYTES = 64 * 2**20
"""Text gathered before a chunk is written as a fragment: the memory bound of a batch."""
CHUNK_ROWS = 20_000
DEFAULT_MAX_ERRORS = 20
Loader = Callable[[], Record]
"""Reads and validates one speech; raises :class:`InvalidSpeechError` when it is bad.
Loaders given to several workers must be picklable (``functools.partial``)."""


class Loaded(NamedTuple):
    """What the batch keeps of a valid speech until its chunk is written."""

    given_id: str | None
    derived_id: str
    text_sha256: str
    text_bytes: int
    words: int


@dataclass
class StagedFragment:
    """A fragment written to the staging folder, waiting for the commit."""

    temp: Path
    info: dict[str, Any]
    ids: list[str]
    hashes: list[str]


@dataclass
class Batch:
    """A validated batch: its fragments in staging, the ids in input order, and totals."""

    base_seq: int
    ids: list[str] = field(default_factory=list)
    derived: set[str] = field(default_factory=set)
    """Ids that were derived (not given), which a rebase may change."""
    staged: list[StagedFragment] = field(default_factory=list)
    text_bytes: int = 0
    words: int = 0

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

    def publish(self, corpus: Path) -> list[dict[str, Any]]:
        """Link every staged fragment to its final name in ``data/``; return their infos."""
        folder = corpus / "data"
        for fragment in self.staged:
            final = folder / f"{fragment.info['sha256']}.parquet"
            try:
                os.link(fragment.temp, final)
            except FileExistsError:  # the same bytes (the name is their hash)
                continue
            crash_point("fragment-linked")
        fsync_dir(folder)
        crash_point("fragment-published")
        return [fragment.info for fragment in self.staged]

    def rebase(self, corpus: Path, state: HeadState) -> None:
        """Make the batch fit on a head that other writers advanced since it was staged.

        A text that another writer added meanwhile is a duplicate; a derived id that
        another writer took meanwhile is derived again, rewriting the staged fragments.
        """
        for fragment in self.staged:
            for record_id, digest in zip(fragment.ids, fragment.hashes, strict=True):
                if digest in state.id_by_hash:
                    raise DuplicateSpeechError(
                        f"another writer added the same text as '{record_id}' meanwhile, as "
                        f"'{state.id_by_hash[digest]}'; nothing was added")
                if record_id in state.ids_ever and record_id not in self.derived:
                    raise DuplicateSpeechError(
                        f"another writer used the id '{record_id}' meanwhile; give another "
                        "id; nothing was added")
        if any(i in state.ids_ever for i in self.derived):
            self._derive_again(corpus, state)
        self.base_seq = state.seq

    def _derive_again(self, corpus: Path, state: HeadState) -> None:
        renamed: dict[str, str] = {}
        kept = set(self.ids) - self.derived
        for old in self.ids:
            if old in self.derived and old in state.ids_ever:
                renamed[old] = unique_id(old, lambda c: c in state.ids_ever or c in kept
                                         or c in renamed.values() or c in self.derived)
        self.staged = [_restage(corpus, fragment, {
            digest: renamed.get(i, i) for i, digest in zip(fragment.ids, fragment.hashes,
                                                           strict=True)})
            for fragment in self.staged]
        self.ids = [renamed.get(i, i) for i in self.ids]
        self.derived = {renamed.get(i, i) for i in self.derived}


class Stager:
    """Checks loaded chunks against the corpus and each other, in input order, and keeps
    their staged fragments (see the module text)."""

    def __init__(self, corpus: Path, state: HeadState, *, max_errors: int = DEFAULT_MAX_ERRORS,
                 reserved: Iterable[str] = (),
                 progress: Callable[[int, int], None] | None = None) -> None:
        self.corpus = corpus
        self.state = state
        self.max_errors = max_errors
        self.progress = progress
        self.batch = Batch(base_seq=state.seq)
        self.reserved = set(reserved)
        """Ids given explicitly later in the batch, when known in advance (not derived)."""
        self.labels_by_hash: dict[str, str] = {}
        self.label_of_id: dict[str, str] = {}
        self.problems: list[tuple[str, InvalidSpeechError | DuplicateSpeechError]] = []
        self.bad = 0
        self.seen = 0

    def feed(self, chunk: Chunk) -> None:
        """Check a chunk's speeches; keep its fragment, with the final ids."""
        final_by_hash: dict[str, str] = {}
        renamed = False
        for label, outcome in zip(chunk.labels, chunk.outcomes, strict=True):
            self.seen += 1
            try:
                if isinstance(outcome, InvalidSpeechError):
                    raise outcome
                final = self._check(label, outcome)
            except (InvalidSpeechError, DuplicateSpeechError) as exc:
                self.bad += 1
                if len(self.problems) < self.max_errors:
                    self.problems.append((label, exc))
            else:
                self.batch.text_bytes += outcome.text_bytes
                self.batch.words += outcome.words
                final_by_hash[outcome.text_sha256] = final
                renamed |= final != (outcome.given_id or outcome.derived_id)
        if self.bad:  # nothing of a bad batch is kept
            if chunk.staged is not None:
                chunk.staged.temp.unlink(missing_ok=True)
            self.batch.discard()
        elif chunk.staged is not None:
            if renamed:  # an id taken earlier in the batch or in the corpus: derive again
                self.batch.staged.append(_restage(self.corpus, chunk.staged, final_by_hash))
            else:
                self.batch.staged.append(chunk.staged)
        if self.progress is not None:
            self.progress(self.seen, self.batch.text_bytes)

    def finish(self, *, unlabelled: bool = False, always_list: bool = False) -> Batch:
        """Return the batch, or raise naming every problem (the staged files are then
        removed): the problem's own error when there is one (unless ``always_list``), else
        :class:`BatchError`. ``unlabelled`` leaves the label out of the message of a
        one-speech batch."""
        if not self.problems and not self.seen:
            raise InvalidSpeechError("no speeches to add; give at least one")
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

    def _check(self, label: str, loaded: Loaded) -> str:
        state, batch = self.state, self.batch
        digest = loaded.text_sha256
        existing = state.id_by_hash.get(digest)
        if existing is not None:
            raise DuplicateSpeechError(
                f"this speech is already in the corpus as '{existing}' (same text, "
                f"text_sha256 {digest[:12]}...); nothing was added")
        if digest in self.labels_by_hash:
            raise DuplicateSpeechError(
                f"has the same text as {self.labels_by_hash[digest] or 'another speech'} in "
                "this batch; remove one of them")
        given = loaded.given_id
        if given is not None:
            if given in state.ids_ever:
                raise DuplicateSpeechError(
                    f"id '{given}' is already used in this corpus (ids are never reused); "
                    "give another --id or leave it out to derive one")
            if given in self.label_of_id:
                earlier = self.label_of_id[given] or "another speech"
                how = "derived for" if given in batch.derived else "given to"
                raise DuplicateSpeechError(
                    f"id '{given}' was already {how} {earlier} in this batch; give each "
                    "speech its own id")
            record_id = given
        else:
            record_id = unique_id(loaded.derived_id, self._taken)
            batch.derived.add(record_id)
        self.labels_by_hash[digest] = label
        self.label_of_id[record_id] = label
        batch.ids.append(record_id)
        return record_id

    def _taken(self, candidate: str) -> bool:
        return (candidate in self.state.ids_ever or candidate in self.label_of_id
                or candidate in self.reserved)


@dataclass
class Chunk:
    """A chunk of speeches after loading: an outcome for each and, when all were valid
    and writing was asked for, their fragment staged with provisional ids (the given id,
    else the derived one, which the batch may still change)."""

    labels: list[str]
    outcomes: list[Loaded | InvalidSpeechError]
    staged: StagedFragment | None


def stage_chunk(items: list[tuple[str, Loader]], corpus: str, owner: int, write: bool) -> Chunk:
    """Load, validate and (when ``write``) stage a chunk as one fragment; run in a worker
    process for large imports. ``owner`` is the committing process's id, which names the
    staged file, so that no other writer takes it for a crashed writer's leftover."""
    from policyspeech.fragments import FEW_ROWS, records_to_table

    outcomes: list[Loaded | InvalidSpeechError] = []
    records: list[Record] = []
    for _label, load in items:
        try:
            record = load()
        except InvalidSpeechError as exc:
            outcomes.append(exc)
            continue
        text = record["text"]
        provisional = record["id"] or derive_id(record)
        outcomes.append(Loaded(
            given_id=record["id"],
            derived_id=provisional,
            text_sha256=record["text_sha256"],
            text_bytes=len(text) if text.isascii() else -1,  # -1: counted below
            words=record["word_count"],
        ))
        record["id"] = provisional
        records.append(record)
    staged = None
    if write and records and len(records) == len(items):
        table = records_to_table(records, bulk=len(records) > 1)
        staged = _stage_table(Path(corpus), table, owner)
    if staged is not None and len(records) > FEW_ROWS:  # read off the Arrow column
        sizes = dict(zip(staged.hashes, _utf8_lengths(table), strict=True))
    else:  # (a few: not worth loading Arrow's compute module for)
        sizes = {r["text_sha256"]: len(r["text"].encode("utf-8")) for r in records}
    outcomes = [o._replace(text_bytes=sizes[o.text_sha256]) if isinstance(o, Loaded)
                and o.text_bytes < 0 else o for o in outcomes]
    return Chunk([label for label, _ in items], outcomes, staged)


def loaded_chunks(items: Iterable[tuple[str, Loader]], corpus: Path, *, workers: int = 1,
                  write: bool = True) -> Iterator[Chunk]:
    """Load and stage the speeches chunk by chunk, in order; with ``workers`` > 1, in
    that many processes, at most ``workers + 1`` chunks in flight (bounded memory)."""
    owner = os.getpid()
    if workers <= 1:
        for chunk in _chunks(items):
            yield stage_chunk(chunk, str(corpus), owner, write)
        return
    import concurrent.futures
    import multiprocessing
    from collections import deque

    context = multiprocessing.get_context("spawn")  # never fork a process that has threads
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        pending: deque[concurrent.futures.Future[Chunk]] = deque()
        try:
            for chunk in _chunks(items):
                pending.append(pool.submit(stage_chunk, chunk, str(corpus), owner, write))
                if len(pending) > workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:  # an error or an abandoned batch: remove what the workers staged
            for future in pending:
                future.cancel()
            for future in pending:
                if not future.cancelled() and future.exception() is None:
                    staged = future.result().staged
                    if staged is not None:
                        staged.temp.unlink(missing_ok=True)


def _chunks(items: Iterable[tuple[str, Loader]]) -> Iterator[list[tuple[str, Loader]]]:
    """Groups of about :data:`CHUNK_TEXT_BYTES` of input (or :data:`CHUNK_ROWS` speeches)."""
    limit = CHUNK_TEXT_BYTES
    chunk: list[tuple[str, Loader]] = []
    size = 0
    for item in items:
        chunk.append(item)
        size += _input_size(item[1])
        if size >= limit or len(chunk) >= CHUNK_ROWS:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _input_size(load: Loader) -> int:
    """Bytes a loader will read: its raw line, or its file's size (an estimate else)."""
    if isinstance(load, functools.partial) and load.args:
        first = load.args[0]
        if isinstance(first, bytes):
            return len(first)
        if isinstance(first, Path):
            try:
                return first.stat().st_size
            except OSError:
                return 0
        if isinstance(first, dict):
            return len(str(first.get("text", "")))
    return 1


def _utf8_lengths(table: pa.Table) -> list[int]:
    """The UTF-8 length of every text, from the Arrow column (no Python string encoded)."""
    import pyarrow.compute as pc

    lengths: list[int] = pc.binary_length(table["text"]).to_pylist()
    return lengths


def _restage(corpus: Path, staged: StagedFragment, final_by_hash: dict[str, str]
             ) -> StagedFragment:
    """The staged fragment again, its provisional ids replaced by the final ones."""
    import pyarrow.parquet as pq

    table = pq.read_table(staged.temp)
    ids = [final_by_hash[h] for h in table["text_sha256"].to_pylist()]
    restaged = _stage_table(corpus, _with_ids(table, ids))
    staged.temp.unlink(missing_ok=True)
    return restaged


def _with_ids(table: pa.Table, ids: list[str]) -> pa.Table:
    """``table`` with its ``id`` column replaced, sorted by date then id (fragment order)."""
    position = table.schema.get_field_index("id")
    table = table.set_column(position, table.schema.field("id"), string_array(ids))
    if table.num_rows < 2:  # nothing to sort (and no need to load Arrow's compute module)
        return table
    return table.sort_by([("date", "ascending"), ("id", "ascending")])


def string_array(values: list[str]) -> pa.Array:
    """An Arrow string array built from its buffers: ``pa.array`` on a Python list imports
    pandas, which would cost a command-line add a third of a second.

    >>> string_array(["a", "bé"]).to_pylist()
    ['a', 'bé']
    """
    import numpy as np
    import pyarrow as pa

    encoded = [value.encode("utf-8") for value in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(item) for item in encoded], out=offsets[1:])
    return pa.StringArray.from_buffers(len(encoded), pa.py_buffer(offsets),
                                       pa.py_buffer(b"".join(encoded)))


def _stage_table(corpus: Path, table: pa.Table, owner: int | None = None) -> StagedFragment:
    """Encode ``table`` as a fragment and write it durably to the staging folder, in a
    file named after the ``owner`` process (this one by default)."""
    from policyspeech.fragments import encode_fragment

    data, info = encode_fragment(table)
    temp = write_staged(corpus / STAGING, data, "fragment", owner)
    return StagedFragment(temp, info, table["id"].to_pylist(),
                          table["text_sha256"].to_pylist())


def validator(fields: Any) -> Loader:
    """A loader for a speech given as a mapping of fields."""
    return functools.partial(validate_speech, fields)


def unique_id(base: str, taken: Callable[[str], bool]) -> str:
    """``base``, or ``base-2``, ``base-3``... the first that is not taken."""
    if not taken(base):
        return base
    for n in range(2, 1_000_000):
        suffix = f"-{n}"
        candidate = base[: 128 - len(suffix)].rstrip("-") + suffix
        if not taken(candidate):
            return candidate
    raise CorpusError(f"no free id near '{base}'; give an id explicitly")


def _labelled(label: str, message: str) -> str:
    return f"{label}: {message}" if label and not message.startswith(f"{label}:") else message
