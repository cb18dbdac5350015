"""Adding speeches: one speech, many, or whole sources, each call one commit, all or nothing.

:func:`add_batch` is the base: speeches given as ``(label, load)`` pairs are loaded,
validated and staged chunk by chunk (:mod:`policyspeech.workers`), checked against the
corpus and each other (:mod:`policyspeech.batch`), and, when every one is good, linked
and published by one log entry (:mod:`policyspeech.commit`). :func:`add_all` takes
mappings of fields (or the rows of a DataFrame), :func:`import_paths` reads files and
folders (:mod:`policyspeech.importing`).

Examples
--------
>>> import tempfile, pathlib
>>> from policyspeech.store import Corpus
>>> corpus = Corpus.init(pathlib.Path(tempfile.mkdtemp()) / "c")
>>> speech = {"title": "T", "speaker": "S", "country": "GB", "date": "2019",
...           "language": "en"}
>>> add_all(corpus.writer, [{**speech, "text": "One."}, {**speech, "text": "Two."}])
['gb-2019-s-t-d323ac9d', 'gb-2019-s-t-4a9e7ba9']
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from policyspeech.batch import Batch, Loader, Stager, validator
from policyspeech.commit import Writer
from policyspeech.compaction import compact_if_due
from policyspeech.documents import Entry
from policyspeech.errors import InvalidSpeechError, NoSpeechesError
from policyspeech.importing import ImportOptions, parse_mapping, row_loader
from policyspeech.log import HeadState, new_entry
from policyspeech.text import check_note
from policyspeech.tuning import DEFAULT_MAX_BYTES, DEFAULT_MAX_ERRORS
from policyspeech.workers import chunk_size, loaded_chunks

Progress = Callable[[int, int], None]
"""Called after every chunk with the speeches seen and the bytes of text kept so far."""


def add_batch(writer: Writer, items: Iterable[tuple[str, Loader]], *,
              message: str | None = None, dry_run: bool = False,
              max_errors: int = DEFAULT_MAX_ERRORS, skip_existing: bool = False,
              unlabelled: bool = False, always_list: bool = False,
              progress: Progress | None = None, workers: int = 1,
              chunk_bytes: int | None = None) -> Batch:
    """Add the speeches that ``(label, load)`` pairs read, in one commit.

    A bad batch raises the one problem's own error, or
    :class:`~policyspeech.errors.BatchError` when there are several (or always, with
    ``always_list``). A batch whose every speech was skipped commits nothing."""
    if max_errors < 1:
        raise InvalidSpeechError(f"max errors {max_errors} must be 1 or more (it is how "
                                 "many bad records are listed)")
    check_note(message, "the log message")
    if not dry_run:
        writer.check_writable()
    stager = Stager(writer.path, writer.reader.head(), max_errors=max_errors,
                    skip_existing=skip_existing, progress=progress)
    try:
        for chunk in loaded_chunks(items, writer.path, workers=workers, write=not dry_run,
                                   chunk_bytes=chunk_bytes):
            stager.feed(chunk)
        batch = stager.finish(unlabelled=unlabelled, always_list=always_list)
        if dry_run or not batch.ids:
            return batch
        with writer.writing():
            writer.upgrade_schema()  # every speech is valid: the commit goes ahead
            _commit_batch(writer, batch, message)
            compact_if_due(writer)
        return batch
    finally:
        stager.close()


def add_all(writer: Writer, speeches: Iterable[Mapping[str, Any]], *,
            message: str | None = None, dry_run: bool = False,
            sources: Sequence[str] | None = None, max_errors: int = DEFAULT_MAX_ERRORS,
            skip_existing: bool = False, mapping: Mapping[str, str] | None = None
            ) -> list[str]:
    """Validate and add speeches (mappings of fields, or a DataFrame's rows) in one
    commit; return their ids. See :meth:`policyspeech.store.Corpus.add_all`."""
    rows = _rows(speeches)
    labels = iter(sources) if sources else (f"speech {n}" for n in itertools.count(1))
    if mapping:
        options = ImportOptions(mapping=parse_mapping(f"{k}={v}" for k, v in mapping.items()))
        items = ((next(labels), row_loader(speech, options)) for speech in rows)
    else:
        items = ((next(labels), validator(speech)) for speech in rows)
    return add_batch(writer, items, message=message, dry_run=dry_run, max_errors=max_errors,
                     unlabelled=not sources, skip_existing=skip_existing).ids


def add_files(writer: Writer, files: Sequence[str | Path], *, meta: Path | None = None,
              overrides: Mapping[str, Any] | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
              join_lines: bool = True, message: str | None = None,
              dry_run: bool = False) -> list[str]:
    """Add text or Markdown files (``-``: standard input) in one commit; return the ids.
    Metadata comes from each file's front matter, its sidecar ``FILE.yaml``, ``meta`` and
    ``overrides``, the last winning; an ``id`` override names one file only."""
    from policyspeech.ingest import read_speech

    overrides = dict(overrides or {})
    if overrides.get("id") is not None and len(files) > 1:
        raise InvalidSpeechError("--id names one speech but several files were given; "
                                 "put each id in its file's metadata instead")
    if not dry_run:
        writer.check_writable()
    records = [read_speech(f, meta=meta, overrides=overrides, max_bytes=max_bytes,
                           join_lines=join_lines) for f in files]
    return add_all(writer, records, message=message, dry_run=dry_run,
                   sources=[str(f) for f in files])


def import_paths(writer: Writer, paths: Sequence[Path], *, source_format: str = "auto",
                 options: ImportOptions | None = None, skip_existing: bool = False,
                 message: str | None = None, dry_run: bool = False,
                 max_errors: int = DEFAULT_MAX_ERRORS, max_bytes: int = DEFAULT_MAX_BYTES,
                 progress: Progress | None = None, workers: int | None = None) -> Batch:
    """Import files and folders in one commit; see
    :meth:`policyspeech.store.Corpus.import_path`."""
    from policyspeech.importing import source_bytes, sources

    if not paths:
        raise InvalidSpeechError("no source to import; give a file or a folder")
    options = options or ImportOptions(max_bytes=max_bytes)
    total = source_bytes(paths)
    if workers is None:
        parallel = total > writer.reader.tuning.parallel_from_bytes
        workers = (os.cpu_count() or 1) if parallel else 1
    chunk_bytes = chunk_size(total)
    items = sources(paths, source_format=source_format, options=options,
                    blocks=max(1, chunk_bytes // 4))
    name = paths[0].name if len(paths) == 1 else f"{len(paths)} sources"
    try:
        return add_batch(writer, items, message=message or f"import {name}", dry_run=dry_run,
                         max_errors=max_errors, progress=progress, always_list=True,
                         workers=workers, skip_existing=skip_existing,
                         chunk_bytes=chunk_bytes)
    except NoSpeechesError:
        where = ", ".join(str(p) for p in paths)
        hint = f" with --from {source_format}" if source_format != "auto" else ""
        raise NoSpeechesError(f"{where}: no speeches found{hint}; check the path and the "
                              "format") from None


def _commit_batch(writer: Writer, batch: Batch, message: str | None) -> Entry:
    def build(state: HeadState) -> Entry:
        if state.seq != batch.base_seq:
            batch.rebase(state)
        return new_entry(
            state,
            operation="add",
            message=message or _default_message(batch.ids),
            added=writer.link(batch.staged),
            ids=[i for fragment in batch.staged for i in fragment.ids],
            text_sha256=[h for fragment in batch.staged for h in fragment.hashes],
            keys=[k for fragment in batch.staged for k in fragment.keys],
        )

    return writer.commit(build)


def _rows(speeches: Any) -> Iterable[Any]:
    """The rows of a polars or pandas DataFrame or a pyarrow Table as mappings; any other
    iterable as it is."""
    if hasattr(speeches, "iter_rows"):  # polars
        return speeches.iter_rows(named=True)  # type: ignore[no-any-return]
    if hasattr(speeches, "to_batches") and hasattr(speeches, "schema"):  # pyarrow
        return (row for batch in speeches.to_batches() for row in batch.to_pylist())
    if hasattr(speeches, "iterrows") and hasattr(speeches, "to_dict"):  # pandas
        return speeches.to_dict("records")  # type: ignore[no-any-return]
    return speeches  # type: ignore[no-any-return]


def _default_message(ids: list[str]) -> str:
    return f"add {ids[0]}" if len(ids) == 1 else f"add {len(ids)} speeches"
