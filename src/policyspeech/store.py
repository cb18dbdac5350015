"""The corpus: reading it and writing to it, one object for the CLI and for Python users.

:class:`Corpus` is a thin facade. Reading is :class:`~policyspeech.reader.Reader`'s;
every write goes through the commit protocol of :mod:`policyspeech.commit` (a crash at any
instant leaves the corpus at its last published entry), by way of the module that does
the job: :mod:`policyspeech.adding`, :mod:`policyspeech.corrections`,
:mod:`policyspeech.compaction` and :mod:`policyspeech.releasing`.

Examples
--------
>>> import tempfile, pathlib, datetime
>>> corpus = Corpus.init(pathlib.Path(tempfile.mkdtemp()) / "corpus")
>>> corpus.add({"title": "On crime", "speaker": "Brandon Lewis", "country": "GB",
...             "date": "2019-10-30", "language": "en", "text": "We act."})
'gb-2019-10-30-brandon-lewis-on-crime-e68c0582'
>>> corpus.head().rows
1
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from policyspeech import (
    adding,
    citing,
    collect,
    compaction,
    corrections,
    history,
    releasing,
    verify,
)
from policyspeech.adding import Progress
from policyspeech.batch import Batch, Loader
from policyspeech.citation import make_identity, read_citation
from policyspeech.collect import Collection
from policyspeech.commit import Writer, create
from policyspeech.compaction import Compaction
from policyspeech.corrections import Amendments
from policyspeech.documents import Manifest
from policyspeech.errors import InvalidSpeechError
from policyspeech.importing import ImportOptions, check_max_errors
from policyspeech.reader import Reader
from policyspeech.tuning import DEFAULT, DEFAULT_MAX_BYTES, DEFAULT_MAX_ERRORS, Tuning
from policyspeech.unreferenced import GRACE_SECONDS
from policyspeech.userfiles import check_regular
from policyspeech.verify import VerifyReport


class Corpus(Reader):
    """A policyspeech corpus folder: the read API of :class:`Reader`, and every write.

    ``Corpus()`` finds the corpus like the loaders do (explicit path, then
    ``$POLICYSPEECH_CORPUS``, then ``./corpus``, then the bundled, read-only corpus).
    ``tuning`` changes lock, commit, compaction and cache thresholds.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *,
                 tuning: Tuning = DEFAULT) -> None:
        super().__init__(path, tuning=tuning)
        self.writer = Writer(self)

    @property
    def read_only(self) -> bool:
        """True for the bundled corpus, which is never written."""
        return self.bundled

    @property
    def retries(self) -> int:
        """Commits of this object that lost a race for their entry number and were rebuilt."""
        return self.writer.retries

    @classmethod
    def init(cls, path: str | os.PathLike[str], *, from_bundled: bool = False,
             tuning: Tuning = DEFAULT, title: str | None = None,
             authors: Sequence[str] | None = None, license: str | None = None,
             description: str | None = None, keywords: Sequence[str] | None = None,
             url: str | None = None) -> Corpus:
        """Create a new empty corpus at ``path``, or a writable copy of the bundled one,
        with the identity given (see :meth:`set_identity`; a release needs a title,
        authors, a licence and a description). Every value is checked before the folder
        is made."""
        fields: dict[str, Any] = {"title": title, "authors": authors, "license": license,
                  "description": description, "keywords": keywords, "url": url}
        given = {name: value for name, value in fields.items() if value is not None}
        make_identity(**given)  # a bad value: nothing is created
        corpus = cls(create(Path(path), from_bundled=from_bundled), tuning=tuning)
        corpus.writer.write_card(corpus.head())
        if from_bundled:  # the copy's changelog, citation, Croissant and Zenodo files
            releasing.write_release_files(corpus.writer)
        if given:
            corpus.set_identity(**given)
        return corpus

    # -- identity and DOIs (see policyspeech.citing) ---------------------------------------

    def identity(self) -> dict[str, Any]:
        """The corpus's identity as its ``CITATION.cff`` gives it: title, authors (as
        CITATION.cff writes them), license, abstract (the description), keywords, url."""
        return read_citation(self.path)

    def set_identity(self, *, title: str | None = None, authors: Sequence[str] | None = None,
                     license: str | None = None, description: str | None = None,
                     keywords: Sequence[str] | None = None,
                     url: str | None = None) -> dict[str, Any]:
        """Set the values given of the corpus's identity in its own ``CITATION.cff`` (the
        others stay); return the whole identity. ``authors`` replace the authors, each
        ``"Family, Given"`` (optionally ``<ORCID>`` and ``(Affiliation)`` after it) or an
        organisation's name; ``license`` is an SPDX id. A release snapshots the identity:
        releases made before keep theirs."""
        return citing.set_identity(self.writer, title=title, authors=authors,
                                       license=license, description=description,
                                       keywords=keywords, url=url)

    def set_doi(self, version: str, doi: str, *, replace: bool = False) -> str | None:
        """Record ``doi`` (``10.NNNN/suffix`` or ``https://doi.org/...``) as the DOI of
        release ``version``, in a log entry that changes no data; return it as recorded,
        or None when the release had it already. A different DOI is replaced only with
        ``replace``. See :mod:`policyspeech.citing`."""
        return citing.set_doi(self.writer, version, doi, replace=replace)

    def set_concept_doi(self, doi: str, *, replace: bool = False) -> str | None:
        """Record ``doi`` as the concept DOI, which names every version of the corpus."""
        return citing.set_doi(self.writer, None, doi, replace=replace)

    # -- adding -----------------------------------------------------------------------------

    def add(self, speech: Mapping[str, Any], *, message: str | None = None,
            dry_run: bool = False, source: str | None = None) -> str:
        """Validate and add one speech; return its id. See :meth:`add_all`."""
        sources = [source] if source else None
        return self.add_all([speech], message=message, dry_run=dry_run, sources=sources)[0]

    def add_all(self, speeches: Iterable[Mapping[str, Any]], *, message: str | None = None,
                dry_run: bool = False, sources: Sequence[str] | None = None,
                max_errors: int = DEFAULT_MAX_ERRORS, skip_existing: bool = False,
                mapping: Mapping[str, str] | None = None) -> list[str]:
        """Validate and add speeches in one commit, all or nothing; return their ids.

        ``speeches`` are mappings of fields: a list, a generator, a ``datasets.Dataset``,
        or the rows of a polars or pandas DataFrame or a pyarrow Table; ``mapping`` names
        the column that holds a field when the names differ (``{"speaker": "name"}``).
        Every speech is validated and checked for duplicates (the same text, speaker, date
        and source, within the batch and against the corpus) before anything is
        committed; memory stays bounded (see :mod:`policyspeech.batch`). ``skip_existing``
        leaves out, instead of refusing, speeches the corpus already has. ``dry_run`` stops
        after the checks. ``sources`` labels each speech in error messages (file names,
        say). One bad speech raises its own error; several raise
        :class:`~policyspeech.errors.BatchError` listing up to ``max_errors`` of them.
        """
        return adding.add_all(self.writer, speeches, message=message, dry_run=dry_run,
                              sources=sources, max_errors=max_errors,
                              skip_existing=skip_existing, mapping=mapping)

    def add_files(self, files: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], *,
                  meta: str | os.PathLike[str] | None = None,
                  overrides: Mapping[str, Any] | None = None,
                  max_bytes: int = DEFAULT_MAX_BYTES, join_lines: bool = True,
                  message: str | None = None, dry_run: bool = False) -> list[str]:
        """Add text or Markdown files (``-``: standard input) in one commit; return their
        ids. Metadata comes from YAML front matter, a sidecar ``FILE.yaml``, ``meta`` (a
        YAML file for every file) and ``overrides``, the last winning."""
        names = [str(files)] if isinstance(files, str | os.PathLike) else [str(f) for f in files]
        return adding.add_files(self.writer, names,
                                meta=Path(meta) if meta is not None else None,
                                overrides=overrides, max_bytes=max_bytes,
                                join_lines=join_lines, message=message, dry_run=dry_run)

    def import_path(self, path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], *,
                    source_format: str = "auto", options: ImportOptions | None = None,
                    skip_existing: bool = False, message: str | None = None,
                    dry_run: bool = False, max_errors: int = DEFAULT_MAX_ERRORS,
                    max_bytes: int = DEFAULT_MAX_BYTES, progress: Progress | None = None,
                    workers: int | None = None) -> Batch:
        """Import a folder of text/Markdown files, ``.jsonl``, ``.csv``, ``.tsv`` or
        ``.parquet`` files, or a format of the field (``source_format``: ``parlamint``,
        ``ungdc``), in one commit, all or nothing; return the batch (ids, records, text
        bytes, words, skipped). See :mod:`policyspeech.importing` for ``options``.

        ``progress(records, text_bytes)`` is called after every chunk. Speeches are read
        and validated by ``workers`` processes (default: one per CPU when the sources have
        more than :attr:`~policyspeech.tuning.Tuning.parallel_from_bytes`, else this
        process alone).
        """
        paths = [Path(path)] if isinstance(path, str | os.PathLike) else [Path(p) for p in path]
        return adding.import_paths(self.writer, paths, source_format=source_format,
                                   options=options, skip_existing=skip_existing,
                                   message=message, dry_run=dry_run, max_errors=max_errors,
                                   max_bytes=max_bytes, progress=progress, workers=workers)

    def add_batch(self, items: Iterable[tuple[str, Loader]], *, message: str | None = None,
                  dry_run: bool = False, max_errors: int = DEFAULT_MAX_ERRORS,
                  skip_existing: bool = False, unlabelled: bool = False,
                  always_list: bool = False, progress: Progress | None = None,
                  workers: int = 1, chunk_bytes: int | None = None) -> Batch:
        """Add the speeches that ``(label, load)`` pairs read, in one commit; the base of
        :meth:`add_all` and :meth:`import_path` (see :func:`policyspeech.adding.add_batch`)."""
        return adding.add_batch(self.writer, items, message=message, dry_run=dry_run,
                                max_errors=max_errors, skip_existing=skip_existing,
                                unlabelled=unlabelled, always_list=always_list,
                                progress=progress, workers=workers, chunk_bytes=chunk_bytes)

    # -- releases and compaction ------------------------------------------------------------

    def release(self, bump: str | None = None, *, notes: str = "") -> Manifest:
        """Turn the head into an immutable release; return its manifest.

        The unreleased fragments are compacted, the manifest is written to
        ``releases/VERSION.json``, and a ``release`` entry names it in the log. ``bump``
        (``major``, ``minor`` or ``patch``) defaults to the smallest the changes allow.
        """
        return releasing.release(self.writer, bump, notes=notes)

    def compact(self) -> Compaction:
        """Merge the head's small unreleased fragments into sorted fragments with 1,000-row
        groups, in one commit; return how many fragments were merged into how many
        (``Compaction(merged=0, written=0)``: nothing to do). See
        :mod:`policyspeech.compaction`."""
        self.writer.check_writable()
        with self.writer.writing():
            if compaction.compaction_groups(self.head(), self.tuning):
                self.writer.upgrade_schema()
            return compaction.compact(self.writer)

    # -- corrections (see policyspeech.corrections) -----------------------------------------

    def amend(self, record_id: str, changes: Mapping[str, Any] | None = None, *,
              text: str | None = None, reason: str) -> list[str]:
        """Correct a record's metadata (and/or text) in a new commit; return the changed fields.

        A field given as None (or an empty list) is cleared. The fragment holding the
        record is copied with the record replaced; earlier releases keep their fragments
        and load exactly as before.
        """
        changes = dict(changes or {})  # None or [] clears a field
        if "id" in changes:
            raise InvalidSpeechError("an id never changes; retract the record and add it "
                                     "again under the new id instead")
        if text is not None:
            changes["text"] = text
        result = corrections.amend_all(self.writer, [("", {**changes, "id": record_id})],
                                       reason=corrections.require_reason(reason), strict=True)
        return result.fields[record_id]

    def amend_all(self, rows: Iterable[Mapping[str, Any]] | str | os.PathLike[str], *,
                  reason: str | None = None, max_errors: int = DEFAULT_MAX_ERRORS,
                  message: str | None = None) -> Amendments:
        """Amend many records in one commit, all or nothing: ``rows`` of ``id``, the fields
        to change and a ``reason`` (else ``reason`` for all), or a JSONL/CSV file of them.
        Returns the :class:`~policyspeech.corrections.Amendments` (fields changed per id,
        rows that changed nothing). See :mod:`policyspeech.corrections`."""
        labelled: list[tuple[str, Mapping[str, Any]]]
        check_max_errors(max_errors)
        if isinstance(rows, str | os.PathLike):
            if Path(rows).exists():
                check_regular(Path(rows),  # a FIFO or a device would hang the reading
                              folder_hint="give a .jsonl or .csv file of amendments")
            labelled = list(corrections.read_amendments(Path(rows)))
        else:
            labelled = [(f"row {n}", row) for n, row in enumerate(rows, start=1)]
        return corrections.amend_all(self.writer, labelled, reason=reason,
                                     max_errors=max_errors, message=message)

    def retract(self, record_id: str, *, reason: str) -> None:
        """Remove a record from the head in a new commit; its id is never reused."""
        corrections.retract(self.writer, record_id, reason=reason)

    # -- checking ---------------------------------------------------------------------------

    def verify(self, version: str | None = None, *, deep: bool = False) -> list[str]:
        """Problems in ``version`` (every version when None), one line each naming the file;
        an empty list when every file matches. ``deep`` also checks every text against its
        hash. See :mod:`policyspeech.verify`."""
        return verify.verify_corpus(self, version, deep=deep)

    def check(self, version: str | None = None, *, deep: bool = False,
              repair: bool = False) -> VerifyReport:
        """:meth:`verify` with the warnings (a stale card, unreferenced files) and counts;
        ``repair`` first rewrites the derived files (:meth:`repair`)."""
        if repair:
            self.repair()
        return verify.check(self, version, deep=deep)

    def repair(self) -> None:
        """Rewrite the files derived from the log (the card, the version folders, and at a
        release the changelog, CITATION.cff, croissant.json and .zenodo.json), as a commit
        would, and migrate a corpus of the legacy layout."""
        releasing.repair(self.writer)

    def stale_card(self) -> bool:
        """True when the card is one commit behind the log (an interrupted write)."""
        return verify.stale_card(self)

    def unreferenced_files(self) -> list[Path]:
        """The files that :meth:`gc` would remove: fragments of the store that no version
        references, and files of the store and manifests that no log entry names, once
        an hour old (younger ones may be a writer's that is about to publish). Readers
        ignore them. Listed only when the whole corpus verifies: over a damaged log
        (entries lost, say) the list is empty, since those files may be all that is left of
        the lost commits."""
        return self.check().unreferenced

    def gc(self, *, dry_run: bool = False, grace_seconds: float = GRACE_SECONDS) -> Collection:
        """Remove the files that no version needs (:meth:`unreferenced_files`; files that no
        entry names only once older than ``grace_seconds``), recording the fragments removed
        in a ``gc`` log entry; never a fragment of the head or of a release, and nothing
        from a corpus that does not verify. ``dry_run`` lists them and removes nothing.
        See :mod:`policyspeech.collect`."""
        return collect.collect(self.writer, dry_run=dry_run, grace_seconds=grace_seconds)

    def check_writable(self) -> None:
        """Raise :class:`~policyspeech.errors.ReadOnlyCorpusError` unless this corpus may
        be written."""
        self.writer.check_writable()

    # -- records across versions ------------------------------------------------------------

    def get(self, record_id: str, version: str = "head") -> dict[str, Any]:
        """The record ``record_id`` of ``version``, as a dict of fields.

        >>> Corpus().get("gb-2019-10-30-brandon-lewis-security-minister-s-speech-on-security-and-crime-after-brexit")["speaker"]
        'Brandon Lewis'
        """
        return history.get(self, record_id, version)

    def diff(self, a: str, b: str) -> dict[str, Any]:
        """Records added, retracted and amended (with the fields) from version ``a`` to ``b``.

        Reasons come from the log entries between the two versions.
        """
        return history.diff(self, a, b)
