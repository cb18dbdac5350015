"""The dataset card and ``LICENSE.md`` of a corpus: the facts they need from the records,
and their text (:func:`derived_texts`), written after every commit and checked by ``verify``.

The log gives each version's fragments and rows; the rest comes from the records: each
fragment's size as ``datasets`` computes it (``num_bytes``: the Arrow size of the record
batches that its Parquet builder reads, one row group at a time), and its records counted
by licence, source and language (:class:`Facts`). A fragment is read once, its bytes
checked against its SHA-256 (a damaged one raises :class:`IntegrityError`), and its facts
kept in the cache folder under that hash, bound to their content by an HMAC under the
cache's key (as the cached heads are: :mod:`policyspeech.snapshot`); a release's facts,
the sum of its fragments', are kept under its manifest's hash. So a commit reads only the
fragments it wrote, and the card costs the same whatever the number of fragments.

Examples
--------
>>> from policyspeech.reader import Reader
>>> reader = Reader()
>>> state = reader.head()
>>> texts = derived_texts(reader.path, state, reader.latest_manifest(state))
>>> texts["LICENSE.md"].startswith("# Licences of the records")
True
>>> version_facts(reader.path, state.fragments.values()).rows
1
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policyspeech.card import (
    HEAD,
    CardFacts,
    ConfigFacts,
    compilation_licence,
    config_order,
    release_order,
    render_card,
)
from policyspeech.datasheet import card_section, read_datasheet
from policyspeech.documents import Manifest
from policyspeech.errors import IntegrityError
from policyspeech.layout import CARD, FACTS_CACHE, LICENSE, cache_folder, fragment_file
from policyspeech.licensing import (
    NONE,
    STATEMENTS,
    Source,
    Tally,
    needs_attribution,
    shared_address,
    spdx_link,
    tally_of,
)
from policyspeech.log import HeadState
from policyspeech.nofollow import arrow_reader

FORMAT = 1
"""The format of the cached facts (a change makes every cached file a miss)."""
MEMO_SIZE = 4096
_MEMO: dict[str, Facts] = {}
"""Facts already read by this process, by fragment SHA-256 (or release key)."""


@dataclass
class Facts:
    """What the card and ``LICENSE.md`` need of a fragment's (or a version's) records."""

    rows: int = 0
    bytes: int = 0
    """The Parquet files' size."""
    num_bytes: int = 0
    """The records' size as ``datasets`` computes it."""
    tally: Tally = field(default_factory=Tally)
    languages: dict[str, int] = field(default_factory=dict)

    def add(self, other: Facts) -> Facts:
        """Add ``other`` to these facts (in place); return them."""
        self.rows += other.rows
        self.bytes += other.bytes
        self.num_bytes += other.num_bytes
        self.tally.add(other.tally)
        for language, count in other.languages.items():
            self.languages[language] = self.languages.get(language, 0) + count
        return self

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "rows": self.rows, "bytes": self.bytes,
                "num_bytes": self.num_bytes, "tally": self.tally.to_json(),
                "languages": self.languages}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Facts:
        if data.get("format") != FORMAT:
            raise ValueError("another format")
        return cls(int(data["rows"]), int(data["bytes"]), int(data["num_bytes"]),
                   Tally.from_json(data["tally"]),
                   {str(k): int(v) for k, v in data["languages"].items()})


def fragment_facts(corpus: Path, info: Mapping[str, Any]) -> Facts:
    """The facts of the fragment ``info`` (a log record of it, with ``path`` and ``sha256``)."""
    sha256 = str(info["sha256"])
    facts = _MEMO.get(sha256) or _load(sha256)
    if facts is None:
        facts = _read(corpus, info)
        _save(sha256, facts)
    _remember(sha256, facts)
    return facts


def version_facts(corpus: Path, infos: Iterable[Mapping[str, Any]],
                  key: str | None = None) -> Facts:
    """The facts of a version made of the fragments ``infos``; ``key`` (a release's
    manifest hash) keeps the sum in the cache, since a release never changes."""
    name = f"release-{key}" if key else None
    facts = (_MEMO.get(name) or _load(name)) if name else None
    if facts is None:
        facts = Facts()
        for info in infos:
            facts.add(fragment_facts(corpus, info))
        if name:
            _save(name, facts)
    if name:
        _remember(name, facts)
    return facts


def _release_infos(state: HeadState, version: str) -> list[dict[str, str]]:
    """The fragments of a release as its entry names them (a fragment's name is its hash)."""
    return [{"path": path, "sha256": Path(path).stem}
            for path in state.releases[version]["fragments"]]


def all_facts(corpus: Path, state: HeadState) -> dict[str, Facts]:
    """The facts of the head and of every release, by version (``head`` for the head)."""
    versions = {HEAD: version_facts(corpus, state.fragments.values())}
    for version in release_order(state):
        versions[version] = version_facts(corpus, _release_infos(state, version),
                                          state.releases[version]["sha256"])
    return versions


def card_facts(state: HeadState, versions: Mapping[str, Facts]) -> CardFacts:
    """What the card needs of the facts of every version."""
    configs = {name: ConfigFacts(versions[name].rows, versions[name].num_bytes,
                                 versions[name].bytes) for name in config_order(state)}
    licenses = {spdx for facts in versions.values() for spdx in facts.tally.licenses}
    languages = sorted({lang for facts in versions.values() for lang in facts.languages})
    return CardFacts(configs, licenses, languages)


def derived_texts(corpus: Path, state: HeadState, latest: Manifest | None,
                  datasheet: str | None = None) -> dict[str, str]:
    """The card and ``LICENSE.md`` that the log and the records generate for ``state``
    (by file name), with the datasheet section ``datasheet`` (None: from ``DATASHEET.md``)."""
    versions = all_facts(corpus, state)
    block = datasheet if datasheet is not None else card_section(read_datasheet(corpus))
    return {CARD: render_card(state, latest, card_facts(state, versions), block),
            LICENSE: render_license(state, latest, versions)}


# -- LICENSE.md ----------------------------------------------------------------------------


def render_license(state: HeadState, latest: Manifest | None,
                   versions: Mapping[str, Facts]) -> str:
    """``LICENSE.md``: the records of each licence in the head and the latest release, the
    licences of earlier releases, and the credit each source asks for."""
    from policyspeech.releases import markdown_text

    shown, titles = [HEAD], ["head"]
    if latest:
        shown.append(latest["version"])
        titles.append(f"{latest['version']} (latest release)")
    lines = ["# Licences of the records", "",
             f"Generated by `policyspeech` for log entry {state.seq}, from the records "
             "themselves: do not edit it. Each record keeps the licence of its source, as an SPDX "
             "identifier in its `license` field, and is reused under that licence. The "
             "compilation (the selection, metadata and structure of the corpus) is licensed "
             f"under {compilation_licence(latest)}.", "", "## Licences", ""]
    used = sorted({spdx for name in shown for spdx in versions[name].tally.licenses},
                  key=lambda spdx: (spdx == NONE, spdx))
    if used:
        lines += ["| licence | " + " | ".join(titles) + " |",
                  "|---|" + "---:|" * len(shown)]
        for spdx in used:
            link = spdx_link(spdx)
            name = (f"[{markdown_text(spdx)}]({link})" if link else markdown_text(spdx)) \
                if spdx else "none recorded"
            counts = [f"{versions[v].tally.licenses.get(spdx, 0):,}" for v in shown]
            lines.append(f"| {name} | " + " | ".join(counts) + " |")
    else:
        lines.append("No records yet.")
    earlier = [f"{v}: {', '.join(sorted(versions[v].tally.licenses)) or 'no records'}"
               for v in release_order(state) if v not in shown]
    if earlier:
        lines += ["", markdown_text(f"Earlier releases: {'; '.join(earlier)}.")]
    return "\n".join([*lines, "", *_attribution(shown, titles, versions)]) + "\n"


def _attribution(shown: list[str], titles: list[str], versions: Mapping[str, Facts]) -> list[str]:
    """The attribution section: each source whose licence asks for a credit, with the
    address its records share and their number in each version shown."""
    from policyspeech.releases import markdown_text

    urls: dict[Source, str] = {}
    for name in shown:
        for source, credit in versions[name].tally.sources.items():
            if needs_attribution(source.license):
                urls[source] = shared_address(urls.get(source, credit.url), credit.url)
    lines = ["## Attribution", ""]
    if not urls:
        return [*lines, "No record's licence asks for a credit."]
    lines += ["These records' licences ask for a credit when they are reused: name the source, "
              "link to it and to the licence, and say that the texts were changed "
              "(`policyspeech` normalises every text: Unicode NFC, line ends, paragraph "
              "breaks; a record's `notes` say more).", "",
              "| source | address | licence | " + " | ".join(f"records, {t}" for t in titles)
              + " |", "|---|---|---|" + "---:|" * len(shown)]

    def counts(source: Source) -> list[int]:
        return [versions[v].tally.sources[source].records
                if source in versions[v].tally.sources else 0 for v in shown]

    for source in sorted(urls, key=lambda s: ([-n for n in counts(s)], s.publisher,
                                              s.license, s.site)):
        publisher = markdown_text(source.publisher) or "unnamed publisher"
        lines.append(f"| {publisher} | {markdown_text(urls[source])} | "
                     f"{markdown_text(source.license)} | "
                     + " | ".join(f"{n:,}" for n in counts(source)) + " |")
    statements = sorted({s.license for s in urls} & STATEMENTS.keys())
    if statements:
        lines += ["", "The statements these licences prescribe:", ""]
        lines += [f"- {spdx}: {STATEMENTS[spdx]}" for spdx in statements]
    return lines


# -- the cache -----------------------------------------------------------------------------


def _read(corpus: Path, info: Mapping[str, Any]) -> Facts:
    """Read the fragment's facts from its bytes, checked against its SHA-256."""
    path = fragment_file(corpus, info)
    problem = "the dataset card and LICENSE.md count its records (run `policyspeech verify`)"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise IntegrityError(f"{path}: cannot read it ({exc.strerror}); {problem}") from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != info["sha256"]:
        raise IntegrityError(f"{path}: its SHA-256 is {actual[:8]}..., the log says "
                             f"{str(info['sha256'])[:8]}...; the file was changed or damaged, "
                             f"and {problem}")
    try:
        return parquet_facts(data)
    except ValueError as exc:
        raise IntegrityError(f"{path}: not a readable Parquet fragment ({exc}); {problem}") \
            from None


def parquet_facts(data: bytes) -> Facts:
    """The facts of the Parquet file ``data``, its records read as the ``datasets``
    Parquet builder reads them: in batches of the first row group's size (one row group
    each when no row group is larger), each batch's Arrow size counted
    (``ValueError`` when it is not a readable Parquet file).

    >>> import io, pyarrow as pa, pyarrow.parquet as pq
    >>> sink = io.BytesIO()
    >>> pq.write_table(pa.table({"language": ["en", None, "de"]}), sink, row_group_size=2)
    >>> facts = parquet_facts(sink.getvalue())
    >>> facts.rows, facts.languages, facts.tally.licenses
    (3, {'en': 1, 'de': 1}, {'': 3})
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    facts = Facts(bytes=len(data))
    try:
        source = pq.ParquetFile(arrow_reader(data))
        groups = [source.metadata.row_group(n).num_rows for n in range(source.num_row_groups)]
        if groups and max(groups) > groups[0]:  # a larger group comes in several batches
            import pyarrow.dataset as ds

            batches = ds.ParquetFileFormat().make_fragment(arrow_reader(data)).to_batches(
                batch_size=groups[0], batch_readahead=0, fragment_readahead=0)
            tables: Iterable[Any] = (pa.Table.from_batches([b]) for b in batches)
        else:
            tables = (source.read_row_group(n, use_threads=False) for n in range(len(groups)))
        for table in tables:
            table = table.combine_chunks()
            facts.rows += table.num_rows
            facts.num_bytes += _arrow_size(table)
            facts.tally.add(tally_of(table))
            languages = table.column("language").to_pylist() \
                if "language" in table.column_names else []
            for language in languages:
                if language:
                    facts.languages[language] = facts.languages.get(language, 0) + 1
    except (OSError, pa.ArrowException) as exc:
        raise ValueError(str(exc)) from None
    return facts


def _arrow_size(table: Any) -> int:
    """The size ``datasets`` counts for ``table`` (one chunk) once cast to its features: a
    list column is rebuilt from its offsets (null where the list is) and all of its values,
    as ``datasets.table.array_cast`` rebuilds it (our fragments always differ from their
    features, by their fields' nullability, so they are always cast). No
    ``pyarrow.compute``: importing it would cost a command more than the whole count."""
    import numpy as np
    import pyarrow as pa

    size = 0
    for column in table.columns:
        array = column.chunk(0) if column.num_chunks else pa.array([], column.type)
        if pa.types.is_list(array.type):
            offsets = array.offsets
            if array.null_count:
                bits = np.unpackbits(np.frombuffer(array.buffers()[0], np.uint8),
                                     bitorder="little")
                null = np.append(bits[array.offset:array.offset + len(array)] == 0, False)
                offsets = pa.array(offsets.to_numpy(zero_copy_only=False), offsets.type,
                                   mask=null)
            array = pa.ListArray.from_arrays(offsets, array.values)
        size += array.nbytes
    return int(size)


def _remember(name: str, facts: Facts) -> None:
    if len(_MEMO) >= MEMO_SIZE:
        _MEMO.clear()
    _MEMO[name] = facts


def _path(name: str) -> Path:
    return cache_folder() / FACTS_CACHE / f"{name}.json"


def _load(name: str) -> Facts | None:
    from policyspeech.snapshot import cache_key, read_bound

    key = cache_key()
    if key is None:
        return None
    try:
        payload = read_bound(_path(name), key)
        data = json.loads(payload) if payload is not None else None
        return Facts.from_json(data) if data and data.get("name") == name else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _save(name: str, facts: Facts) -> None:
    """Keep ``facts`` in the cache (best effort: a cache that cannot be written is skipped)."""
    from policyspeech.snapshot import cache_key, write_bound

    key = cache_key()
    if key is None:
        return
    payload = json.dumps({"name": name, **facts.to_json()}, sort_keys=True).encode()
    try:
        write_bound(_path(name), payload, key)
    except OSError:
        return
