"""Adding a batch of speeches in one commit, all or nothing, with bounded memory.

The batch is read and validated one record at a time. Valid records gather in a chunk;
when the chunk holds :data:`CHUNK_TEXT_BYTES` of text (or :data:`CHUNK_ROWS` records) it
is written as a Parquet fragment to the corpus's staging folder (``.tmp/``, invisible to
readers) and only its ids and text hashes stay in memory. Every problem (an invalid
record, a text already in the corpus or earlier in the batch, a reused id) is kept with
the record's label, up to ``max_errors``; after the first problem nothing more is written,
but the rest of the batch is still checked, so that one run lists every bad record. Only
a clean batch is published, by one log entry that names all its fragments.

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
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from policyspeech.errors import BatchError, CorpusError, DuplicateSpeechError, InvalidSpeechError
from policyspeech.fsutil import STAGING, TEMP_PREFIX, crash_point, fsync_dir
from policyspeech.log import HeadState
from policyspeech.validate import Record, derive_id, validate_speech

if TYPE_CHECKING:
    import concurrent.futures

    import pyarrow as pa

CHUNK_TEXT_BYTES = 64 * 2**20
"""Text gathered before a chunk is written as a fragment: the memory bound of a batch."""
CHUNK_ROWS = 20_000
DEFAULT_MAX_ERRORS = 20
BLOCK_ITEMS = 32
"""Speeches loaded together (in a worker process, when there are several)."""
WINDOW_PER_WORKER = 4
"""Blocks in flight per worker: the input is read only as fast as it is checked."""
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
class Block:
    """Speeches loaded together: an outcome for each, and the valid ones as Arrow rows."""

    labels: list[str]
    outcomes: list[Loaded | InvalidSpeechError]
    table: pa.Table | None
    """The valid speeches, in order, with their given ids (or empty ones)."""


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
        import pyarrow.parquet as pq

        renamed: dict[str, str] = {}
        kept = set(self.ids) - self.derived
        for old in self.ids:
            if old in self.derived and old in state.ids_ever:
                renamed[old] = unique_id(old, lambda c: c in state.ids_ever or c in kept
                                         or c in renamed.values() or c in self.derived)
        restaged = []
        for fragment in self.staged:
            table = pq.read_table(fragment.temp)
            ids = [renamed.get(i, i) for i in table["id"].to_pylist()]
            restaged.append(_stage_table(corpus, _with_ids(table, ids)))
            fragment.temp.unlink(missing_ok=True)
        self.staged = restaged
        self.ids = [renamed.get(i, i) for i in self.ids]
        self.derived = {renamed.get(i, i) for i in self.derived}


class Stager:
    """Checks loaded speeches against the corpus and each other, and stages them in chunks
    (see the module text). Chunks are encoded and written in a background thread."""

    def __init__(self, corpus: Path, state: HeadState, *, write: bool = True,
                 max_errors: int = DEFAULT_MAX_ERRORS, reserved: Iterable[str] = (),
                 chunk_bytes: int | None = None,
                 progress: Callable[[int, int], None] | None = None) -> None:
        self.corpus = corpus
        self.state = state
        self.write = write
        self.max_errors = max_errors
        self.chunk_bytes = chunk_bytes or CHUNK_TEXT_BYTES
        self.progress = progress
        self.batch = Batch(base_seq=state.seq)
        self.reserved = set(reserved)
        """Ids given explicitly later in the batch, when known in advance (not derived)."""
        self.labels_by_hash: dict[str, str] = {}
        self.label_of_id: dict[str, str] = {}
        self.problems: list[tuple[str, InvalidSpeechError | DuplicateSpeechError]] = []
        self.bad = 0
        self.seen = 0
        self.chunk: list[pa.Table] = []
        self.chunk_ids: list[str] = []
        self.chunk_text = 0
        self.writer: concurrent.futures.ThreadPoolExecutor | None = None
        self.writing: concurrent.futures.Future[StagedFragment] | None = None

    def feed(self, block: Block) -> None:
        """Check a block of loaded speeches; stage the chunk when it is full."""
        ids: list[str] = []
        for label, outcome in zip(block.labels, block.outcomes, strict=True):
            self.seen += 1
            try:
                if isinstance(outcome, InvalidSpeechError):
                    raise outcome
                ids.append(self._check(label, outcome))
            except (InvalidSpeechError, DuplicateSpeechError) as exc:
                self.bad += 1
                if len(self.problems) < self.max_errors:
                    self.problems.append((label, exc))
                self._drop_everything()
            else:
                self.batch.text_bytes += outcome.text_bytes
                self.batch.words += outcome.words
                self.chunk_text += outcome.text_bytes
        if not self.bad and block.table is not None:
            self.chunk.append(block.table)
            self.chunk_ids.extend(ids)
            if self.chunk_text >= self.chunk_bytes or len(self.chunk_ids) >= CHUNK_ROWS:
                self._flush()
        if self.progress is not None:
            self.progress(self.seen, self.batch.text_bytes)

    def finish(self, *, unlabelled: bool = False, always_list: bool = False) -> Batch:
        """Stage the last chunk and return the batch, or raise naming every problem (the
        staged files are then removed): the problem's own error when there is one (unless
        ``always_list``), else :class:`BatchError`. ``unlabelled`` leaves the label out of
        the message of a one-speech batch."""
        if not self.problems and not self.seen:
            raise InvalidSpeechError("no speeches to add; give at least one")
        if not self.problems:
            self._flush(background=False)
        self._wait_for_writer()
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
        """Stop the writer thread and remove the staged files."""
        self._wait_for_writer(check=False)
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

    def _drop_everything(self) -> None:
        """A bad batch writes nothing more: free the chunk and the staged files."""
        self.chunk, self.chunk_ids = [], []
        self._wait_for_writer(check=False)
        self.batch.discard()

    def _flush(self, *, background: bool = True) -> None:
        """Stage the chunk: in the writer thread while more input is read, else here."""
        chunk, ids = self.chunk, self.chunk_ids
        self.chunk, self.chunk_ids, self.chunk_text = [], [], 0
        if not chunk or not self.write:
            return
        import concurrent.futures

        import pyarrow as pa

        table = _with_ids(pa.concat_tables(chunk), ids)
        self._wait_for_writer()  # one chunk in the writer and one gathering: bounded
        if not background:
            self.batch.staged.append(_stage_table(self.corpus, table))
            return
        if self.writer is None:
            self.writer = concurrent.futures.ThreadPoolExecutor(1)
        self.writing = self.writer.submit(_stage_table, self.corpus, table)

    def _wait_for_writer(self, *, check: bool = True) -> None:
        writing, self.writing = self.writing, None
        if writing is not None:
            try:
                self.batch.staged.append(writing.result())
            except BaseException:
                if check:
                    raise
        if self.writing is None and self.writer is not None and not check:
            self.writer.shutdown()
            self.writer = None


def load_block(block: list[tuple[str, Loader]]) -> Block:
    """Run the loaders of a block; the valid speeches become Arrow rows."""
    from policyspeech.fragments import records_to_table

    outcomes: list[Loaded | InvalidSpeechError] = []
    records: list[Record] = []
    for _label, load in block:
        try:
            record = load()
        except InvalidSpeechError as exc:
            outcomes.append(exc)
            continue
        text = record["text"]
        outcomes.append(Loaded(
            given_id=record["id"],
            derived_id=derive_id(record) if record["id"] is None else record["id"],
            text_sha256=record["text_sha256"],
            text_bytes=len(text) if text.isascii() else len(text.encode("utf-8")),
            words=record["word_count"],
        ))
        records.append({**record, "id": record["id"] or ""})
    table = records_to_table(records, sort=False, bulk=len(block) > 1) if records else None
    return Block([label for label, _ in block], outcomes, table)


def loaded_blocks(items: Iterable[tuple[str, Loader]], workers: int = 1) -> Iterator[Block]:
    """Load the speeches in blocks, in order; with ``workers`` > 1, in that many processes.

    At most ``workers * WINDOW_PER_WORKER`` blocks are in flight at once, so the input is
    read only as fast as it is checked (bounded memory).
    """
    if workers <= 1:
        for block in _blocks(items, BLOCK_ITEMS):
            yield load_block(block)
        return
    import concurrent.futures
    import multiprocessing
    from collections import deque

    context = multiprocessing.get_context("spawn")  # never fork a process that has threads
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        pending: deque[concurrent.futures.Future[Block]] = deque()
        for block in _blocks(items, BLOCK_ITEMS):
            pending.append(pool.submit(load_block, block))
            if len(pending) >= workers * WINDOW_PER_WORKER:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _blocks(items: Iterable[tuple[str, Loader]], size: int) -> Iterator[list[tuple[str, Loader]]]:
    block: list[tuple[str, Loader]] = []
    for item in items:
        block.append(item)
        if len(block) == size:
            yield block
            block = []
    if block:
        yield block


def _with_ids(table: pa.Table, ids: list[str]) -> pa.Table:
    """``table`` with its ``id`` column replaced, sorted by date then id (fragment order)."""
    position = table.schema.get_field_index("id")
    table = table.set_column(position, table.schema.field("id"), string_array(ids))
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


def _stage_table(corpus: Path, table: pa.Table) -> StagedFragment:
    """Encode ``table`` as a fragment and write it durably to the staging folder."""
    from policyspeech.fragments import encode_fragment
    from policyspeech.fsutil import write_durably

    data, info = encode_fragment(table)
    staging = corpus / STAGING
    staging.mkdir(exist_ok=True)
    temp = staging / f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(8)}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            write_durably(handle, data, "fragment")
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
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
