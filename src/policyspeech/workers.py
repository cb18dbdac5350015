"""Loading a batch chunk by chunk, in this process or in one worker process per CPU.

A batch is cut into chunks of about :data:`CHUNK_TEXT_BYTES` of input (or
:data:`CHUNK_ROWS` speeches); each chunk is loaded, validated and staged as one fragment
by :func:`policyspeech.batch.stage_chunk`. With several workers, at most ``workers + 1``
chunks are in flight, so memory stays bounded whatever the size of the batch.

>>> chunk_size(2**30) == CHUNK_TEXT_BYTES
True
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from policyspeech.batch import Chunk, Loader, stage_chunk

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

CHUNK_TEXT_BYTES = 64 * 2**20
"""Text gathered before a chunk is written as a fragment: the memory bound of a batch."""
MIN_CHUNK_BYTES = 4 * 2**20
"""The smallest chunk of a parallel import (see :func:`chunk_size`)."""
CHUNK_ROWS = 20_000


def loaded_chunks(items: Iterable[tuple[str, Loader]], corpus: Path, *, workers: int = 1,
                  write: bool = True, chunk_bytes: int | None = None) -> Iterator[Chunk]:
    """Load and stage the speeches chunk by chunk, in order; with ``workers`` > 1, in
    that many processes, at most ``workers + 1`` chunks in flight (bounded memory)."""
    owner = os.getpid()
    if workers <= 1:
        for chunk in _chunks(items, chunk_bytes or CHUNK_TEXT_BYTES):
            yield stage_chunk(chunk, str(corpus), owner, write)
        return
    import concurrent.futures
    from collections import deque

    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=_start_method(),
                                                initializer=_exit_with, initargs=(owner,)) as pool:
        with _main_hidden():  # start every worker now, without the caller's script
            for _ in range(workers):
                pool.submit(int)
        pending: deque[concurrent.futures.Future[Chunk]] = deque()
        try:
            for chunk in _chunks(items, chunk_bytes or CHUNK_TEXT_BYTES):
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


def _exit_with(parent: int) -> None:
    """Worker initializer: end this worker as soon as the importing process is gone
    (killed, or crashed), instead of waiting forever for chunks that will never come."""
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, name="policyspeech-watch-parent", daemon=True).start()


def _start_method() -> BaseContext:
    """How worker processes start: forked from this one on Linux when it runs one thread
    only (as the command line does: a thread's locks would be copied half-taken, so a
    process with threads is never forked), else spawned (a new interpreter each)."""
    import multiprocessing
    import threading

    if sys.platform.startswith("linux") and threading.active_count() == 1:
        try:
            if len(os.listdir("/proc/self/task")) == 1:  # no thread of a C library either
                return multiprocessing.get_context("fork")
        except OSError:
            pass
    return multiprocessing.get_context("spawn")


@contextmanager
def _main_hidden() -> Iterator[None]:
    """Hide the main module from processes started meanwhile.

    A spawned process imports the parent's main script, and a script that imports a
    corpus without an ``if __name__ == "__main__":`` guard would then import it again in
    every worker and break the pool. The workers need nothing of the script: they run
    policyspeech's own functions on plain data.
    """
    main = sys.modules.get("__main__")
    saved = {name: getattr(main, name) for name in ("__file__", "__spec__")
             if main is not None and hasattr(main, name)}
    try:
        if main is not None:
            if "__file__" in saved:
                del main.__file__
            main.__spec__ = None
        yield
    finally:
        for name, value in saved.items():
            setattr(main, name, value)


def chunk_size(total: int) -> int:
    """Bytes of input per chunk for a source of ``total`` bytes: :data:`CHUNK_TEXT_BYTES`
    for a source of two chunks or more; a smaller one, an eighth of the source (but not
    below :data:`MIN_CHUNK_BYTES`), so that parallel workers all have work. A large
    source's fragments stay large (compaction leaves them alone); a small source's small
    fragments are few and cheap to merge. It depends on the source alone: the same source
    gives the same fragments however many workers run.

    >>> chunk_size(2**30) == CHUNK_TEXT_BYTES, chunk_size(64 * 2**20) // 2**20
    (True, 8)
    """
    if total >= 2 * CHUNK_TEXT_BYTES:
        return CHUNK_TEXT_BYTES
    return min(CHUNK_TEXT_BYTES, max(MIN_CHUNK_BYTES, total // 8))


def _chunks(items: Iterable[tuple[str, Loader]], limit: int
            ) -> Iterator[list[tuple[str, Loader]]]:
    """Groups of about ``limit`` bytes of input (or :data:`CHUNK_ROWS` speeches).

    An item whose loader has ``expand()`` (a block of lines of a JSON Lines file, see
    :class:`policyspeech.importing.LineBlock`) stands for its ``rows`` speeches: it is
    expanded where the chunk is loaded, so that this process need not split the lines.
    """
    chunk: list[tuple[str, Loader]] = []
    size = rows = 0
    for item in items:
        chunk.append(item)
        size += _input_size(item[1])
        rows += getattr(item[1], "rows", 1)
        if size >= limit or rows >= CHUNK_ROWS:
            yield chunk
            chunk, size, rows = [], 0, 0
    if chunk:
        yield chunk


def _input_size(load: Loader) -> int:
    """Bytes a loader will read: its raw line, or its file's size (an estimate else)."""
    if hasattr(load, "expand"):
        return int(getattr(load, "size", 1))
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
