"""Token counts per speech, kept per fragment in the user's cache, summed by group.

``compare`` needs, for two groups and the whole selection, how often each token occurs.
Fragments never change (they are named by their SHA-256), so the token counts of each
speech of a fragment are worked out once, written to the cache folder
(:func:`policyspeech.layout.cache_folder`, part :data:`~policyspeech.layout.COUNTS_CACHE`)
and reused by every later comparison of any version that holds the fragment. Counts by
group are then sums over the cached counts of the speeches selected.

Work goes :data:`WORKERS` fragments at a time, their text read and tokenised
:data:`BATCH_ROWS` speeches at a time: memory follows the fragment and the chunk, not the
selection (the selection itself is held only as ids and two flags per speech).

A cache file is one row per speech of its fragment (the ids of its tokens in the
fragment's vocabulary, and their counts), with the vocabulary and what the file was made
from (fragment, :data:`~policyspeech.tokens.TOKENS_VERSION`, accent folding, format,
rows) in its footer. Its name records the key, its size and a keyed SHA-256 (HMAC, with
the cache's key, :func:`policyspeech.snapshot.cache_key`) of its bytes. A file that does
not check in every respect (size, HMAC, footer, page checksums, ids within the
vocabulary) is deleted and made again, never used.

Examples
--------
>>> import pathlib, tempfile, polars as pl
>>> from policyspeech.scanning import version_files
>>> files = version_files(None, "1.0.0", verify=False)
>>> speech = read_column(fragments(files)[0], "id")[0].as_py()
>>> flags = pl.DataFrame({"id": [speech], "in_a": [True], "in_b": [False]})
>>> cache = pathlib.Path(tempfile.mkdtemp())
>>> counts = group_counts(files, flags, cache=cache)
>>> counts.filter(pl.col("word") == "crime").select("count_all", "count_a", "count_b").row(0)
(9, 9, 0)
>>> group_counts(files, flags, cache=cache).equals(counts)  # the second time from the cache
True
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from policyspeech.layout import COUNTS_CACHE, cache_folder
from policyspeech.nofollow import arrow_reader
from policyspeech.scanning import Checked, Files, checked_dataset, damaged
from policyspeech.tokens import TOKENS_VERSION, normalize_words, split_tokens

if TYPE_CHECKING:
    import numpy as np
    import polars as pl
    import pyarrow as pa
    import pyarrow.dataset as pads

FORMAT = 1
"""The version of the cache files' layout."""
BATCH_ROWS = 1_000
"""Speeches read and tokenised at a time (a fragment's row groups hold as many)."""
WORKERS = 2
"""Fragments counted at a time (polars releases the GIL; one fragment alone leaves a core
idle much of the time)."""
META = b"policyspeech.counts"
"""The footer key of a cache file's description."""
COUNT_COLUMNS = ("count_all", "count_a", "count_b")
T = TypeVar("T")


def group_counts(files: Files, flags: pl.DataFrame, *, fold_accents: bool = False,
                 cache: Path | None = None, use_cache: bool = True) -> pl.DataFrame:
    """Counts of every token in the selected speeches (``count_all``), in those of group a
    (``count_a``) and of group b (``count_b``), one row per word in word order.

    ``flags`` has the ``id`` of every selected speech and its booleans ``in_a`` and
    ``in_b``; ``files`` are the fragments of the version (what
    :func:`~policyspeech.scanning.version_files` gives). ``use_cache=False`` counts
    without reading or writing the cache.
    """
    import concurrent.futures

    import polars as pl

    flags = flags.select("id", selected=pl.lit(True), in_a="in_a", in_b="in_b")
    with (concurrent.futures.ThreadPoolExecutor(1) as saving,  # cache files are written
          concurrent.futures.ThreadPoolExecutor(WORKERS) as counting):  # while counting
        partial = list(counting.map(lambda fragment: _fragment_sums(
            fragment, flags, fold_accents=fold_accents, cache=cache, use_cache=use_cache,
            later=saving.submit), fragments(files)))
    schema = pl.Schema({"word": pl.String(), **{name: pl.UInt32() for name in COUNT_COLUMNS}})
    found = [frame for frame in partial if frame is not None]
    if not found:
        return pl.DataFrame(schema=schema)
    return pl.concat(found).group_by("word").sum().sort("word").cast(schema)


def _fragment_sums(fragment: Fragment, flags: pl.DataFrame, **options: Any
                   ) -> pl.DataFrame | None:
    """The counts of :func:`group_counts` in one fragment (None: no speech selected)."""
    import numpy as np
    import polars as pl

    rows = pl.DataFrame({"id": read_column(fragment, "id")}).join(
        flags, on="id", how="left", maintain_order="left").fill_null(False)
    if not rows["selected"].any():
        return None
    masks = [rows[name].to_numpy() for name in ("selected", "in_a", "in_b")]
    vocabulary, chunks = fragment_counts(fragment, **options)
    totals = [np.zeros(len(vocabulary), np.int64) for _ in masks]
    for start, offsets, ids, counts in chunks:
        lengths = np.diff(offsets)
        for total, mask in zip(totals, masks, strict=True):
            chosen = np.repeat(mask[start:start + len(lengths)], lengths)
            total += np.bincount(ids[chosen], weights=counts[chosen],
                                 minlength=len(vocabulary)).astype(np.int64)
    frame = pl.DataFrame({"word": vocabulary, **dict(zip(COUNT_COLUMNS, totals, strict=True))})
    return frame.filter(pl.col("count_all") > 0)


Chunk = tuple[int, "np.ndarray[Any, Any]", "np.ndarray[Any, Any]", "np.ndarray[Any, Any]"]
"""The first row of a chunk of speeches, its list offsets, token ids and their counts."""


def fragments(files: Files) -> list[Fragment]:
    """The fragments of ``files`` (footers checked against the log), each with its path."""
    checked = checked_dataset(files)
    return [Fragment(path, part, checked) for (path, _info), part in
            zip(files, checked.dataset.get_fragments(), strict=True)]


class Fragment:
    """A fragment of the checked dataset: its ``path``, and its rows read in batches."""

    def __init__(self, path: Path, part: pads.ParquetFileFragment, checked: Checked) -> None:
        self.path, self.part, self.checked = path, part, checked
        self.rows = int(part.metadata.num_rows)

    def batches(self, columns: list[str], batch_size: int | None = None,
                row_groups: list[int] | None = None) -> Iterator[pa.RecordBatch]:
        """The ``columns`` of the fragment (of the ``row_groups`` given), page checksums
        verified; a read error names the damaged file."""
        import pyarrow as pa

        part = self.part if row_groups is None else self.part.subset(row_group_ids=row_groups)
        try:
            yield from part.to_batches(columns=columns, batch_size=batch_size or BATCH_ROWS,
                                       use_threads=True)
        except (OSError, pa.ArrowException) as exc:
            raise damaged(self.checked.files, exc) from None


def fragment_counts(fragment: Fragment, *, fold_accents: bool = False,
                    cache: Path | None = None, use_cache: bool = True,
                    later: Callable[..., object] | None = None
                    ) -> tuple[list[str], Iterator[Chunk]]:
    """The vocabulary of ``fragment`` and its per-speech token counts in chunks
    of :data:`BATCH_ROWS` speeches: from the cache when a file there checks, else counted
    from the text (and cached, unless ``use_cache`` is false: by ``later(function,
    *arguments)`` when given, for example a thread pool's ``submit``)."""
    folder = (cache or cache_folder()) / COUNTS_CACHE
    key = _cache_key() if use_cache else None
    path = fragment.path
    prefix = f"{path.stem}-t{TOKENS_VERSION}{'a' if fold_accents else ''}f{FORMAT}-"
    if key is not None:
        for candidate in sorted(folder.glob(f"{prefix}*.parquet")) if folder.is_dir() else []:
            found = _load(candidate, key, path.stem, fold_accents, fragment.rows)
            if found is not None:
                return found[0], _chunks(found[1])
            _remove(candidate)
    vocabulary, table = count_fragment(fragment, fold_accents=fold_accents)
    if key is not None:
        (later or _now)(_save, folder, prefix, key, table,
                        _describe(path.stem, fold_accents, vocabulary))
    return vocabulary, _chunks(table)


def _now(function: Callable[..., object], *arguments: object) -> None:
    function(*arguments)


def count_fragment(fragment: Fragment, *, fold_accents: bool = False
                   ) -> tuple[list[str], pa.Table]:
    """Tokenise ``fragment``, :data:`BATCH_ROWS` speeches at a time: its
    vocabulary, and a table of one row per speech, the ``ids`` of its tokens in the
    vocabulary and their ``counts``.

    The tokens of :func:`~policyspeech.tokens.split_tokens` are counted as written, and
    each distinct written word is normalised once (:func:`canonical_counts`): the counts of
    :func:`~policyspeech.tokens.token_lists`, at a fraction of the cost (a batch has far
    fewer distinct words than tokens)."""
    import numpy as np
    import polars as pl
    import pyarrow as pa

    known = pl.Series("word", [], pl.String)
    batches = []
    for batch in fragment.batches(["text"]):
        written = (pl.DataFrame({"text": pl.Series(batch.column(0))}).lazy()
                   .select(split_tokens(pl.col("text")).alias("word"))
                   .with_row_index("row").explode("word").drop_nulls("word")
                   .group_by("row", "word").len().collect())
        known, rows, ids, counts = canonical_counts(written, known, fold_accents=fold_accents)
        lengths = np.bincount(rows, minlength=batch.num_rows)
        offsets = pa.array(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32))
        batches.append(pa.record_batch(
            [pa.ListArray.from_arrays(offsets, pa.array(values.astype(np.uint32)))
             for values in (ids, counts)], names=["ids", "counts"]))
    schema = pa.schema([("ids", pa.list_(pa.uint32())), ("counts", pa.list_(pa.uint32()))])
    return known.to_list(), pa.Table.from_batches(batches, schema)


def canonical_counts(written: pl.DataFrame, known: pl.Series, *, fold_accents: bool = False
                     ) -> tuple[pl.Series, np.ndarray[Any, Any], np.ndarray[Any, Any],
                                np.ndarray[Any, Any]]:
    """The counts of ``written`` (one row per speech ``row`` and ``word`` as written, with
    its count ``len``) as counts of canonical words
    (:func:`~policyspeech.tokens.normalize_words`, each distinct written word normalised
    once; words that become equal within a speech added up; words that become empty
    dropped): the vocabulary ``known`` with the new words appended (sorted), and arrays of
    rows, word ids in it and counts, ordered by row then id.

    >>> import polars as pl
    >>> written = pl.DataFrame({"row": [0, 0, 1, 1], "word": ["The", "the", "STRASSE", "Straße"],
    ...                         "len": [1, 2, 1, 4]})
    >>> known, rows, ids, counts = canonical_counts(written, pl.Series([], dtype=pl.String))
    >>> known.to_list(), rows.tolist(), ids.tolist(), counts.tolist()
    (['strasse', 'the'], [0, 1], [1, 0], [3.0, 5.0])
    """
    import numpy as np
    import polars as pl

    spelled = written.get_column("word").unique()
    canonical = spelled.to_frame().select(
        normalize_words(pl.col("word"), fold_accents=fold_accents)).to_series()
    new = canonical.filter(canonical != "").unique()
    known = pl.concat([known, new.filter(~new.is_in(known.implode())).sort()])
    size = len(known)
    if not size:
        empty = np.zeros(0, np.uint64)
        return known, empty, empty, np.zeros(0)
    # the id of a word is its place in the vocabulary: an Enum's physical value (size: empty)
    word = pl.col("word")
    to_id = canonical.to_frame().select(pl.when(word != "").then(word).cast(pl.Enum(known))
                                        .to_physical().fill_null(size)).to_series()
    ids = to_id.to_numpy().astype(np.uint64)[
        written.get_column("word").cast(pl.Enum(spelled)).to_physical().to_numpy()]
    keep = ids < size
    keys = written.get_column("row").to_numpy().astype(np.uint64)[keep] * size + ids[keep]
    pairs, where = np.unique(keys, return_inverse=True)
    counts = np.bincount(where, weights=written.get_column("len").to_numpy()[keep])
    return known, pairs // size, pairs % size, counts


def selected_chunks(files: Files, selected: pl.Series | None, columns: list[str],
                    rows: int) -> Iterator[pl.DataFrame]:
    """The ``columns`` of the speeches whose id is in ``selected`` (None: all), fragment
    by fragment, ``rows`` at a time (fewer at a fragment's end), reading only the row
    groups that hold one."""
    import numpy as np
    import polars as pl

    for fragment in fragments(files):
        groups = None
        if selected is not None:
            mask = pl.Series(read_column(fragment, "id")).is_in(selected.implode()).to_numpy()
            ends = np.cumsum([group.num_rows for group in fragment.part.row_groups])
            groups = [int(g) for g in np.unique(np.searchsorted(
                ends, np.flatnonzero(mask), side="right"))]
            if not groups:
                continue
            mask = np.concatenate([mask[ends[g] - fragment.part.row_groups[g].num_rows:ends[g]]
                                   for g in groups])
        start, held = 0, []
        for batch in fragment.batches(columns, rows, row_groups=groups):
            frame = pl.DataFrame(batch)
            if groups is not None:
                chosen = mask[start:start + frame.height]
                start += frame.height
                frame = frame.filter(pl.Series(chosen))
            held.append(frame)
            while sum(f.height for f in held) >= rows:
                whole = pl.concat(held)
                yield whole.head(rows)
                held = [whole.slice(rows)]
        if sum(f.height for f in held):
            yield pl.concat(held)


def prefetched(items: Iterator[T]) -> Iterator[T]:
    """``items``, the next one read in a thread while the caller works on the current one
    (Arrow reads and polars work release the GIL): two items are held at a time."""
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        upcoming = pool.submit(next, items, None)
        while (item := upcoming.result()) is not None:
            upcoming = pool.submit(next, items, None)
            yield item


def read_column(fragment: Fragment, column: str) -> pa.Array:
    """One column of ``fragment`` (page checksums verified)."""
    import pyarrow as pa

    chunks = [batch.column(0) for batch in fragment.batches([column], fragment.rows or 1)]
    return pa.concat_arrays(chunks) if chunks else pa.array([], pa.string())


def _chunks(table: pa.Table) -> Iterator[Chunk]:
    import numpy as np

    start = 0
    for batch in table.to_batches(max_chunksize=BATCH_ROWS):
        ids, counts = batch.column(0), batch.column(1)
        offsets = ids.offsets.to_numpy() - ids.offsets[0].as_py()
        values = ids.values.slice(ids.offsets[0].as_py(), int(offsets[-1]))
        weights = counts.values.slice(counts.offsets[0].as_py(), int(offsets[-1]))
        yield (start, offsets, values.to_numpy().astype(np.intp),
               weights.to_numpy().astype(np.float64))
        start += batch.num_rows


def _describe(fragment: str, fold_accents: bool, vocabulary: list[str]) -> dict[str, Any]:
    return {"format": FORMAT, "fragment": fragment, "tokens_version": TOKENS_VERSION,
            "fold_accents": fold_accents, "vocabulary": vocabulary}


def _cache_key() -> bytes | None:
    from policyspeech.snapshot import cache_key

    return cache_key()


def _mac(key: bytes, data: bytes) -> str:
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def _save(folder: Path, prefix: str, key: bytes, table: pa.Table,
          description: dict[str, Any]) -> None:
    """Write ``table`` to the cache atomically, named by ``prefix``, its size and HMAC
    (best effort: a cache that cannot be written is only a slower next time)."""
    import pyarrow.parquet as pq

    description["rows"] = table.num_rows
    table = table.replace_schema_metadata({META: json.dumps(description).encode()})
    temp = folder / f".{prefix}{os.getpid()}-{secrets.token_hex(6)}.tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, temp, row_group_size=BATCH_ROWS, compression="zstd",
                       write_page_checksum=True)
        data = temp.read_bytes()
        os.replace(temp, folder / f"{prefix}{len(data)}-{_mac(key, data)}.parquet")
    except OSError:
        return
    finally:
        temp.unlink(missing_ok=True)


def _load(path: Path, key: bytes, fragment: str, fold_accents: bool, rows: int
          ) -> tuple[list[str], pa.Table] | None:
    """The vocabulary and counts of the cache file ``path`` if it checks, else None."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        size, mac = path.stem.rsplit("-", 2)[1:]
        with open(path, "rb", opener=_no_follow) as handle:
            data = handle.read(int(size) + 1)
        if len(data) != int(size) or not hmac.compare_digest(mac, _mac(key, data)):
            return None
        source = pq.ParquetFile(arrow_reader(data), page_checksum_verification=True)
        found = json.loads(source.schema_arrow.metadata[META])
        vocabulary = found.pop("vocabulary")
        expected = _describe(fragment, fold_accents, [])
        expected.pop("vocabulary")
        expected["rows"] = rows
        if found != expected or not all(isinstance(w, str) for w in vocabulary):
            return None
        table = source.read()
        ids, counts = table.column("ids").combine_chunks(), table.column("counts").combine_chunks()
        if (table.num_rows != rows or ids.null_count or counts.null_count
                or not pc.all(pc.equal(ids.value_lengths(), counts.value_lengths())).as_py()
                or (len(ids.values) and pc.max(ids.values).as_py() >= len(vocabulary))):
            return None
        return vocabulary, table
    except (OSError, ValueError, KeyError, TypeError, AttributeError, pa.ArrowException):
        return None


def _remove(path: Path) -> None:
    """Remove a cache entry that does not check, whatever it has become (file, link,
    folder); one that cannot be removed is left (and never used)."""
    import shutil

    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        pass


def _no_follow(path: str, flags: int) -> int:
    return os.open(path, flags | os.O_NOFOLLOW)
