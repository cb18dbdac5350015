"""``gc``: removing from the store the files that no version needs.

:func:`collect` takes the writer lock, migrates and brings the version folders current as
any write does, and checks the corpus as ``verify`` does: over a log or data that do not
verify it removes nothing (files that no entry names may be all that is left of lost
entries). It then removes what :func:`policyspeech.unreferenced.plan` lists: fragments that
neither the head nor any release references (never a released one), files of the store
that no entry names and manifests that no entry names, once older than the grace period.

The removal of fragments that entries added is recorded first, in a ``gc`` log entry that
lists them (``collected``), so that ``verify`` tells a collected fragment from a lost
one; then the files are unlinked, each only if the newest head still does not reference
it. A gc interrupted after its entry leaves files that the next gc removes. A dry run
changes nothing.

Examples
--------
>>> import tempfile, pathlib
>>> from policyspeech.store import Corpus
>>> corpus = Corpus.init(pathlib.Path(tempfile.mkdtemp()) / "c")
>>> speech = {"title": "T", "speaker": "S", "country": "GB", "date": "2019",
...           "language": "en", "text": "Words."}
>>> record_id = corpus.add(speech)
>>> _ = corpus.amend(record_id, {"party": "P"}, reason="a correction")
>>> done = corpus.gc()
>>> [item.kind for item in done.files], done.entry, corpus.verify()
(['superseded'], 3, [])
"""

from __future__ import annotations

from dataclasses import dataclass, field

from policyspeech.commit import Writer
from policyspeech.documents import Entry
from policyspeech.errors import IntegrityError
from policyspeech.fsutil import fsync_dir
from policyspeech.hooks import crash_point
from policyspeech.log import HeadState, new_entry
from policyspeech.replay import replay
from policyspeech.unreferenced import GRACE_SECONDS, Unreferenced, plan
from policyspeech.verify import check


@dataclass
class Collection:
    """What ``gc`` removed (or, for a dry run, would remove), the entry that recorded the
    collected fragments (None when none was needed), and the files it left because they
    are younger than the grace period."""

    files: list[Unreferenced] = field(default_factory=list)
    dry_run: bool = False
    entry: int | None = None
    waiting: list[Unreferenced] = field(default_factory=list)

    @property
    def size(self) -> int:
        """Bytes removed (or that would be)."""
        return sum(item.size for item in self.files)


def collect(writer: Writer, *, dry_run: bool = False,
            grace_seconds: float = GRACE_SECONDS) -> Collection:
    """Remove (``dry_run``: list) the files of the corpus that no version needs."""
    writer.check_writable()
    with writer.writing():
        report = check(writer.reader)
        if not report.repairable:
            more = len(report.problems) - 1
            raise IntegrityError(
                f"{report.problems[0]}{f' (and {more} more problems)' if more else ''}; gc "
                "removes nothing from a corpus that does not verify (run `policyspeech "
                "verify`)")
        found = plan(writer.path, replay(writer.path), grace_seconds=grace_seconds)
        done = Collection(found.collect, dry_run, None, found.waiting)
        if dry_run or not found.collect:
            return done
        superseded = [item.identity for item in found.collect
                      if item.kind == "superseded" and item.identity is not None]
        if superseded:

            def build(head: HeadState) -> Entry:
                kept = [p for p in superseded
                        if p not in head.fragments and p not in head.released_fragments]
                return new_entry(head, operation="gc", collected=kept,
                                 message=f"collect {len(kept)} fragments of no version")

            done.entry = writer.commit(build)["seq"]
        head = writer.reader.head()
        needed = set(head.fragments) | head.released_fragments
        done.files = [item for item in found.collect if item.identity not in needed]
        for item in done.files:
            item.path.unlink(missing_ok=True)
            crash_point("gc-unlinked")
        for folder in sorted({item.path.parent for item in done.files}):
            fsync_dir(folder)
        return done
