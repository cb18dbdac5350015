"""Reading a version's fragments: each footer checked against the log, and a read error
that names the damaged file.

A fragment's footer (schema, row counts, row-group statistics) is not covered by the
Parquet page checksums: :func:`checked_dataset` compares its row count and schema with
the log before any scan, and :meth:`Checked.filtered` chooses row groups by their checked
data, never by their statistics. Any error reading a fragment becomes one
:class:`~policyspeech.errors.IntegrityError` naming the file (:func:`damaged`).

>>> files = version_files(None, "1.0.0", verify=False)
>>> [info["rows"] for _, info in files if info is not None]
[1]
>>> checked_dataset(files).to_table(columns=["id"]).num_rows
1
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policyspeech.documents import FragmentInfo
from policyspeech.errors import CorpusError
from policyspeech.filters import PathLike
from policyspeech.layout import fragment_file
from policyspeech.schema import FIELD_NAMES, arrow_schema

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as pads

Files = list[tuple[Path, FragmentInfo | None]]
"""Each fragment with what the log records of it (None: already verified against the log)."""


def checked_dataset(files: Files) -> Checked:
    """The fragments as one Arrow dataset in the canonical schema, whose scans verify every
    Parquet page's checksum: a damaged fragment raises instead of returning wrong text.

    Each fragment's footer must agree with the log (rows, schema). The last few datasets
    are kept with their files' footers read, for the next query in the same session, while
    the files are the same (path, size, change time, inode).
    """
    try:
        key = tuple((str(p), info and info["rows"], *_stamp(p)) for p, info in files)
        if key in _DATASETS:
            return _DATASETS[key]
        dataset = Checked(_new_dataset(files), files)
    except (OSError, ValueError, _arrow_errors()) as exc:  # a footer that is not UTF-8
        raise damaged(files, exc) from None
    if len(_DATASETS) >= KEEP_DATASETS:
        _DATASETS.pop(next(iter(_DATASETS)))
    _DATASETS[key] = dataset
    return dataset


KEEP_DATASETS = 4
_DATASETS: dict[tuple[tuple[object, ...], ...], Checked] = {}


def _stamp(path: Path) -> tuple[int, int, int]:
    found = os.stat(path, follow_symlinks=False)
    return found.st_size, found.st_ctime_ns, found.st_ino


def _arrow_errors() -> type[Exception]:
    import pyarrow as pa

    errors: type[Exception] = pa.ArrowException
    return errors


def _new_dataset(files: Files) -> pads.Dataset:
    import pyarrow.dataset as pads

    if not files:
        return pads.dataset(arrow_schema().empty_table())
    checked = pads.ParquetFileFormat(default_fragment_scan_options=pads.ParquetFragmentScanOptions(
        page_checksum_verification=True))
    dataset = pads.dataset([str(p) for p, _ in files], schema=arrow_schema(), format=checked)
    for fragment, (path, info) in zip(dataset.get_fragments(), files, strict=True):
        fragment.ensure_complete_metadata()  # read each footer once, kept for later scans
        _check_footer(path, info, fragment)
    return dataset


def _check_footer(path: Path, info: FragmentInfo | None,
                  fragment: pads.ParquetFileFragment) -> None:
    """Raise :class:`IntegrityError` unless the footer of ``path`` has the log's row count
    and the canonical schema (of this or an older schema version): page checksums do not
    cover the footer."""
    from policyspeech.errors import IntegrityError

    rows = [fragment.metadata.num_rows, sum(g.num_rows for g in fragment.row_groups)]
    found = [(f.name, f.type, f.nullable) for f in fragment.physical_schema]
    names = {name for name, _, _ in found}
    canonical = [(f.name, f.type, f.nullable) for f in arrow_schema()]
    problem = None
    if info is not None and rows != [info["rows"]] * 2:
        problem = f"its footer counts {rows[0]} rows, the log records {info['rows']}"
    elif found != [f for f in canonical if f[0] in names] or not names >= _OLDEST:
        problem = "its footer's schema is not the corpus schema"
    if problem is not None:
        raise IntegrityError(f"{path}: {problem}; the fragment was changed or damaged "
                             "(run `policyspeech verify`)")


_OLDEST = frozenset(FIELD_NAMES) - {"source_id"}
"""The fields of every fragment (schema 1.0.0 lacks source_id)."""


class Checked:
    """An Arrow dataset whose read errors name the damaged fragment (:func:`damaged`)."""

    def __init__(self, dataset: pads.Dataset, files: Files) -> None:
        self.dataset, self.files, self.schema = dataset, files, dataset.schema

    def to_table(self, **options: Any) -> pa.Table:
        """:meth:`pyarrow.dataset.Dataset.to_table`."""
        try:
            return self.dataset.to_table(**options)
        except (OSError, _arrow_errors()) as exc:
            raise damaged(self.files, exc) from None

    def filtered(self, columns: Sequence[str], condition: pc.Expression | None,
                 used: Sequence[str]) -> pa.Table:
        """The rows of ``columns`` that meet ``condition`` (on the columns ``used``), in
        order, evaluated in memory (in the row groups that :meth:`pruned` keeps)."""
        if condition is None:
            return self.to_table(columns=list(columns))
        source = self if set(columns) <= set(used) else self.pruned(condition, used)
        return source.to_table(columns=list(columns)).filter(condition)

    def pruned(self, condition: pc.Expression | None, used: Sequence[str]) -> Checked:
        """This dataset without the row groups that hold no row meeting ``condition``, found
        by reading the columns ``used`` (checked data, never the row groups' statistics)."""
        if condition is None or not self.files:
            return self
        import numpy as np
        import pyarrow as pa
        import pyarrow.dataset as pads

        fragments = list(self.dataset.get_fragments())
        first = self.to_table(columns=[*used, "__fragment_index"])
        first = first.append_column("__row", pa.array(np.arange(first.num_rows)))
        hits = first.filter(condition)
        starts = np.cumsum([0] + [f.metadata.num_rows for f in fragments])
        found = hits["__fragment_index"].to_numpy()
        local = hits["__row"].to_numpy() - starts[found]
        chosen = []
        for index, fragment in enumerate(fragments):
            ends = np.cumsum([g.num_rows for g in fragment.row_groups])
            groups = np.unique(np.searchsorted(ends, local[found == index], side="right"))
            if len(groups):
                chosen.append(fragment.subset(row_group_ids=[int(g) for g in groups]))
        dataset = pads.FileSystemDataset(chosen, self.dataset.schema, self.dataset.format,
                                         self.dataset.filesystem)
        return Checked(dataset, self.files)

    def to_batches(self, **options: Any) -> Iterator[pa.RecordBatch]:
        """:meth:`pyarrow.dataset.Dataset.to_batches` (what polars scans)."""
        try:
            yield from self.dataset.to_batches(**options)
        except (OSError, _arrow_errors()) as exc:
            raise damaged(self.files, exc) from None


def damaged(files: Files, exc: Exception) -> CorpusError:
    """The error for a read of ``files`` that failed with ``exc``: an
    :class:`IntegrityError` naming the first file that is missing or differs from the log's
    SHA-256 (found only now, on the error path)."""
    import hashlib

    from policyspeech.errors import IntegrityError

    for path, info in files:  # a verified fragment is named by its SHA-256
        expected = info["sha256"] if info is not None else path.stem
        try:
            with open(path, "rb") as handle:
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError as error:
            return IntegrityError(f"{path}: cannot be read ({error.strerror or error}); "
                                  "run `policyspeech verify`")
        if digest != expected:
            return IntegrityError(f"{path}: its SHA-256 differs from the one the log records; "
                                  "the fragment was changed or damaged (run `policyspeech "
                                  "verify`)")
    return IntegrityError(f"the fragments could not be read ({exc}); run `policyspeech verify`")


def version_files(corpus: PathLike | None, version: str, verify: bool) -> Files:
    """The fragments of ``version`` with what the log records of each."""
    from policyspeech.errors import IntegrityError
    from policyspeech.reader import Reader

    opened = Reader(corpus)
    if verify:
        from policyspeech.verify import verified_fragments

        verified, problems = verified_fragments(opened, version)
        if problems:
            more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
            raise IntegrityError(f"{problems[0]}{more}; run `policyspeech verify`")
        return [(Path(p), None) for p in verified]
    paths = opened.fragment_paths(version)
    infos = {fragment_file(opened.path, info): info for info in opened.fragments(version)}
    missing = [p for p in paths if p not in infos]
    if missing:
        raise IntegrityError(f"{missing[0]}: the log does not record it in version {version}; "
                             "run `policyspeech verify`")
    return [(p, infos[p]) for p in paths]
