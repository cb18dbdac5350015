"""A cache of Arrow files, one per fragment, that ``load_dataset`` memory-maps.

Fragments never change and are named by the SHA-256 of their bytes, so the Arrow file
converted from a fragment is valid for as long as the fragment exists, in every version
that contains it: loading release N+1 after release N converts only the fragments that
N+1 added. Each file is the fragment in Arrow's IPC stream format (the format
``datasets`` memory-maps), converted with every Parquet page's checksum verified, and
published atomically (temporary file, then rename), so a crash never leaves a partial
file under a final name.

Each file's name records what it came from and what it holds:
``FRAGMENT-SCHEMA-BYTES-SHA256.arrow``, the fragment's SHA-256, the cache schema's key,
the file's own size and SHA-256. Every use checks the size (a truncated or extended file
is converted again); ``verify=True`` hashes the whole file too. A file that does not
check is deleted and converted again, never served.

The cache lives in ``$POLICYSPEECH_CACHE``, else ``$XDG_CACHE_HOME/policyspeech``, else
``~/.cache/policyspeech``; deleting it is always safe.

Examples
--------
>>> import tempfile, pathlib, policyspeech as ps
>>> from policyspeech.store import Corpus
>>> paths = Corpus().fragment_paths("latest")
>>> cache = pathlib.Path(tempfile.mkdtemp())
>>> files = cached_arrow_files(paths, cache)
>>> [f.parent.name for f in files], files[0].suffix
(['arrow'], '.arrow')
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import secrets
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from policyspeech.layout import ARROW_CACHE, COUNTS_CACHE, HEADS_CACHE, cache_folder

if TYPE_CHECKING:
    import pyarrow as pa

BATCH_ROWS = 1_000


def cache_usage(cache: Path | None = None) -> dict[str, tuple[int, int]]:
    """Files and bytes in each part of the cache: ``arrow`` (one file per fragment) and
    ``heads`` (the snapshots of :mod:`policyspeech.snapshot`), ``counts`` (the token counts
    of :mod:`policyspeech.counting`).

    >>> import tempfile
    >>> cache_usage(Path(tempfile.mkdtemp()))
    {'arrow': (0, 0), 'heads': (0, 0), 'counts': (0, 0)}
    """
    folder = cache or cache_folder()
    usage = {}
    for part in (ARROW_CACHE, HEADS_CACHE, COUNTS_CACHE):
        files = [p for p in (folder / part).glob("*") if p.is_file()] \
            if (folder / part).is_dir() else []
        usage[part] = (len(files), sum(p.stat().st_size for p in files))
    return usage


def clear_cache(cache: Path | None = None) -> int:
    """Remove every file of the cache (always safe: it is rebuilt on use); return how
    many bytes were freed."""
    folder = cache or cache_folder()
    freed = 0
    for part in (ARROW_CACHE, HEADS_CACHE, COUNTS_CACHE):
        if not (folder / part).is_dir():
            continue
        for path in (folder / part).iterdir():
            if path.is_file() and not path.is_symlink():
                freed += path.stat().st_size
            _remove(path)
    return freed


def _remove(path: Path) -> None:
    """Remove a cache entry, whatever it has become (a file, a link, a folder)."""
    import shutil

    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def cache_schema() -> pa.Schema:
    """The schema of the cached files: the one ``datasets`` derives from the corpus's
    Features (nullable fields, its ``huggingface`` metadata), so that a ``Dataset`` built
    on the files needs no cast."""
    from policyspeech.schema import features

    schema: pa.Schema = features().arrow_schema
    return schema


def schema_key() -> str:
    """Part of every cache file's name: a new schema never reuses old files."""
    return hashlib.sha256(cache_schema().serialize().to_pybytes()).hexdigest()[:12]


def cached_arrow_files(fragments: Sequence[os.PathLike[str]], cache: Path | None = None,
                       *, threads: int | None = None, verify: bool = False) -> list[Path]:
    """The Arrow file of each fragment, converting those not yet in the cache (in
    ``threads`` threads: the conversion runs in Arrow's C++ code, outside the GIL). A
    cached file is used when its size is the one its name records (``verify``: and its
    SHA-256); else it is deleted and converted again."""
    folder = (cache or cache_folder()) / ARROW_CACHE
    folder.mkdir(parents=True, exist_ok=True)
    key = schema_key()
    prefixes = [f"{Path(p).stem}-{key}-" for p in fragments]
    found: dict[str, list[Path]] = {}
    for path in folder.glob("*.arrow"):
        found.setdefault(path.name[:path.name.rfind("-", 0, path.name.rfind("-"))] + "-",
                         []).append(path)
    targets: list[Path | None] = [
        next((f for f in found.get(prefix, []) if _checks(f, verify)), None)
        for prefix in prefixes]
    missing = [(n, Path(p)) for n, p in enumerate(fragments) if targets[n] is None]

    def convert(n: int, fragment: Path) -> None:
        targets[n] = _convert(fragment, folder, prefixes[n])

    if len(missing) == 1:
        convert(*missing[0])
    elif missing:
        workers = threads or min(len(missing), os.cpu_count() or 1)
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            for done in [pool.submit(convert, n, p) for n, p in missing]:
                done.result()
    return [t for t in targets if t is not None]


def _checks(path: Path, verify: bool) -> bool:
    """Whether the cached file has the size (``verify``: and the SHA-256) its name records;
    one that does not is deleted."""
    try:
        size, digest = path.stem.rsplit("-", 2)[1:]
        info = os.stat(path, follow_symlinks=False)
        if (stat.S_ISREG(info.st_mode) and info.st_size == int(size)
                and (not verify or _sha256(path) == digest)):
            return True
    except (OSError, ValueError):
        pass
    _remove(path)
    return False


def _sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _convert(fragment: Path, folder: Path, prefix: str) -> Path:
    """Write ``fragment`` as an Arrow IPC stream to ``folder``, atomically, named by
    ``prefix``, its size and its SHA-256; return its path."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = cache_schema()
    temp = folder / f".{prefix}{os.getpid()}-{secrets.token_hex(6)}.tmp"
    try:
        source = pq.ParquetFile(fragment, page_checksum_verification=True)
        with pa.OSFile(str(temp), "wb") as sink, pa.ipc.new_stream(sink, schema) as writer:
            for batch in source.iter_batches(batch_size=BATCH_ROWS, use_threads=False):
                writer.write_batch(_canonical(batch, schema))
        target = folder / f"{prefix}{temp.stat().st_size}-{_sha256(temp)}.arrow"
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    return target


def _canonical(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """``batch`` in the cache's schema (only nullability differs from the canonical one,
    so the cast copies no data); a field that the fragment's older schema lacks is null."""
    import pyarrow as pa

    if batch.schema.equals(schema, check_metadata=False):
        return batch
    if batch.schema.names != schema.names:
        batch = pa.RecordBatch.from_arrays(
            [batch.column(f.name) if f.name in batch.schema.names
             else pa.nulls(batch.num_rows, f.type) for f in schema], names=schema.names)
    return batch.cast(schema)
