"""The writable corpus: adding speeches through the commit protocol.

A commit writes new fragments, then publishes the next log entry put-if-absent, then
regenerates the dataset card. A crash at any instant leaves the corpus at the last
published entry: a fragment that no entry names is invisible, and the card is only a
view of the log. A lock file (``filelock``) keeps writers from racing; correctness does
not depend on it, because two writers can never publish the same entry number.

Examples
--------
>>> import tempfile, pathlib, datetime
>>> corpus = Corpus.init(pathlib.Path(tempfile.mkdtemp()) / "corpus")
>>> corpus.add({"title": "On crime", "speaker": "Brandon Lewis", "country": "GB",
...             "date": "2019-10-30", "language": "en", "text": "We act."})
'gb-2019-10-30-brandon-lewis-on-crime'
>>> corpus.head().rows
1
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from policyspeech.card import render_card
from policyspeech.errors import (
    CorpusError,
    DuplicateSpeechError,
    InvalidSpeechError,
    ReadOnlyCorpusError,
    UnknownVersionError,
)
from policyspeech.fsutil import STAGING, publish_new, remove_stale_temporaries, replace_file
from policyspeech.locate import bundled_corpus_path, locate_corpus
from policyspeech.log import HeadState, advance, encode_entry, entry_name, entry_sha256, new_entry
from policyspeech.validate import Record, derive_id, validate_speech

LOCK_TIMEOUT_SECONDS = 120
MAX_COMMIT_ATTEMPTS = 20
CORPUS_FOLDERS = ("data", "log", "releases")


class Corpus:
    """A policyspeech corpus folder; the writable API that the CLI calls.

    ``Corpus()`` finds the corpus like the loaders do (explicit path, then
    ``$POLICYSPEECH_CORPUS``, then ``./corpus``, then the bundled, read-only corpus).
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        location = locate_corpus(path)
        self.path = location.path
        self.read_only = location.bundled
        self._state: HeadState | None = None

    def __repr__(self) -> str:
        return f"Corpus({str(self.path)!r})"

    @classmethod
    def init(cls, path: str | os.PathLike[str], *, from_bundled: bool = False) -> Corpus:
        """Create a new empty corpus at ``path``, or a writable copy of the bundled one."""
        folder = Path(path)
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise CorpusError(
                f"'{folder}' already exists and is not empty; choose a new folder"
            )
        folder.mkdir(parents=True, exist_ok=True)
        for name in CORPUS_FOLDERS:
            (folder / name).mkdir(exist_ok=True)
        if from_bundled:
            _copy_corpus_files(bundled_corpus_path(), folder)
        else:
            entry = new_entry(HeadState(), operation="init", message="new empty corpus")
            if not publish_new(folder / "log" / entry_name(0), encode_entry(entry),
                               folder / STAGING):
                raise CorpusError(f"'{folder}' was initialised by another process meanwhile")
        corpus = cls(folder)
        corpus._write_card(corpus.head())
        return corpus

    def head(self) -> HeadState:
        """The state after the newest log entry (re-read incrementally on every call)."""
        if self._state is None:
            self._state = HeadState()
        return advance(self.path, self._state)

    def fragment_paths(self, version: str = "head") -> list[Path]:
        """Paths of the Parquet fragments that make up ``version``."""
        if version != "head":
            raise UnknownVersionError(
                f"version '{version}' does not exist; this corpus has no releases yet, "
                "use version='head'"
            )
        return [self.path / rel for rel in self.head().fragments]

    def add(self, speech: Mapping[str, Any], *, message: str | None = None,
            dry_run: bool = False, source: str | None = None) -> str:
        """Validate and add one speech; return its id. See :meth:`add_all`."""
        sources = [source] if source else None
        return self.add_all([speech], message=message, dry_run=dry_run, sources=sources)[0]

    def add_all(
        self,
        speeches: Iterable[Mapping[str, Any]],
        *,
        message: str | None = None,
        dry_run: bool = False,
        sources: Sequence[str] | None = None,
    ) -> list[str]:
        """Validate and add speeches in one commit, all or nothing; return their ids.

        Every speech is validated and checked for duplicates (within the batch and against
        the corpus) before anything is written. ``dry_run`` stops after the checks.
        ``sources`` labels each speech in error messages (file names, say).
        """
        speeches = list(speeches)
        labels = list(sources) if sources else [
            f"speech {n}" if len(speeches) > 1 else "" for n in range(1, len(speeches) + 1)
        ]
        records = [_validate(speech, label) for speech, label in zip(speeches, labels,
                                                                     strict=True)]
        if not records:
            raise InvalidSpeechError("no speeches to add; give at least one")
        _check_batch_duplicates(records, labels)
        if dry_run:
            return _allocate_ids(records, labels, self.head())
        self.check_writable()
        with self._writer_lock():
            remove_stale_temporaries(self.path / STAGING)
            return self._commit_records(records, labels, message)

    @contextmanager
    def _writer_lock(self) -> Iterator[None]:
        """Hold the corpus's writer lock (released by the OS if the process dies)."""
        from filelock import FileLock, Timeout

        try:
            with FileLock(self.path / ".lock", timeout=LOCK_TIMEOUT_SECONDS):
                yield
        except Timeout:
            raise CorpusError(
                f"another writer has held the lock of '{self.path}' for "
                f"{LOCK_TIMEOUT_SECONDS} s; wait for it to finish and try again"
            ) from None

    def _commit_records(self, records: list[Record], labels: list[str],
                        message: str | None) -> list[str]:
        from policyspeech.fragments import records_to_table, write_fragment

        for _attempt in range(MAX_COMMIT_ATTEMPTS):
            state = self.head()
            ids = _allocate_ids(records, labels, state)
            table = records_to_table([{**r, "id": i} for r, i in zip(records, ids, strict=True)])
            fragment = write_fragment(self.path, table)
            entry = new_entry(
                state,
                operation="add",
                message=message or _default_message(ids),
                added=[fragment],
                ids=table["id"].to_pylist(),
                text_sha256=table["text_sha256"].to_pylist(),
            )
            entry_path = self.path / "log" / entry_name(entry["seq"])
            if publish_new(entry_path, encode_entry(entry), self.path / STAGING):
                state.apply(entry, entry_sha256(entry))
                self._write_card(state)
                return ids
        raise CorpusError(
            f"could not commit after {MAX_COMMIT_ATTEMPTS} attempts: other writers kept "
            "publishing first; try again"
        )

    def _write_card(self, state: HeadState) -> None:
        replace_file(self.path / "README.md", render_card(state).encode(), self.path / STAGING)

    def check_writable(self) -> None:
        """Raise :class:`ReadOnlyCorpusError` unless this corpus may be written."""
        if self.read_only:
            raise ReadOnlyCorpusError(
                f"the bundled corpus at '{self.path}' is read-only; make a writable copy with "
                "`policyspeech init DIR --from-bundled` and use --corpus DIR"
            )
        if not os.access(self.path / "log", os.W_OK):
            raise ReadOnlyCorpusError(
                f"'{self.path}' is not writable; use a corpus folder you can write to"
            )


def _copy_corpus_files(source: Path, target: Path) -> None:
    """Copy the fragments, log entries and releases of ``source`` durably into ``target``."""
    for name in CORPUS_FOLDERS:
        if not (source / name).is_dir():
            continue
        for path in sorted((source / name).iterdir()):
            if path.is_file() and not path.name.startswith("."):
                publish_new(target / name / path.name, path.read_bytes(), target / STAGING)


def _validate(speech: Mapping[str, Any], label: str) -> Record:
    try:
        return validate_speech(speech)
    except InvalidSpeechError as exc:
        raise InvalidSpeechError(_labelled(label, str(exc))) from None


def _labelled(label: str, message: str) -> str:
    return f"{label}: {message}" if label and not message.startswith(f"{label}:") else message


def _check_batch_duplicates(records: list[Record], labels: list[str]) -> None:
    first_by_hash: dict[str, int] = {}
    first_by_id: dict[str, int] = {}
    for n, record in enumerate(records):
        earlier = first_by_hash.setdefault(record["text_sha256"], n)
        if earlier != n:
            raise DuplicateSpeechError(_labelled(
                labels[n], f"has the same text as {labels[earlier] or 'another speech'} in this "
                "batch; remove one of them"))
        if record["id"] is not None and first_by_id.setdefault(record["id"], n) != n:
            raise DuplicateSpeechError(_labelled(
                labels[n], f"id '{record['id']}' is given twice in this batch; give each "
                "speech its own id"))


def _allocate_ids(records: list[Record], labels: list[str], state: HeadState) -> list[str]:
    """Check every record against the corpus and return the id each record will have."""
    given = {r["id"] for r in records if r["id"] is not None}
    new: set[str] = set()
    ids: list[str] = []

    def taken(candidate: str) -> bool:
        return candidate in state.ids_ever or candidate in new or candidate in given

    for record, label in zip(records, labels, strict=True):
        existing = state.id_by_hash.get(record["text_sha256"])
        if existing is not None:
            raise DuplicateSpeechError(_labelled(
                label, f"this speech is already in the corpus as '{existing}' (same text, "
                f"text_sha256 {record['text_sha256'][:12]}...); nothing was added"))
        if record["id"] is not None:
            if record["id"] in state.ids_ever:
                raise DuplicateSpeechError(_labelled(
                    label, f"id '{record['id']}' is already used in this corpus (ids are "
                    "never reused); give another --id or leave it out to derive one"))
            ids.append(record["id"])
            continue
        new_id = _unique_id(derive_id(record), taken)
        ids.append(new_id)
        new.add(new_id)
    return ids


def _unique_id(base: str, taken: Callable[[str], bool]) -> str:
    if not taken(base):
        return base
    for n in range(2, 1_000_000):
        suffix = f"-{n}"
        candidate = base[: 128 - len(suffix)].rstrip("-") + suffix
        if not taken(candidate):
            return candidate
    raise CorpusError(f"no free id near '{base}'; give an id explicitly")


def _default_message(ids: list[str]) -> str:
    return f"add {ids[0]}" if len(ids) == 1 else f"add {len(ids)} speeches"

