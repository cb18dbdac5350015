"""The tuning values of readers and writers, as one set of parameters with defaults.

>>> Tuning().auto_compact_fragments, Tuning(lock_timeout_seconds=5).lock_timeout_seconds
(50, 5)
"""

from __future__ import annotations

from dataclasses import dataclass

MIB = 2**20
DEFAULT_MAX_BYTES = 5_000_000
"""Largest text file accepted by default (5 MB); ``max_bytes`` (``--max-bytes``) raises it."""
DEFAULT_MAX_ERRORS = 20
"""Bad records listed by default when a batch is refused (``--max-errors``)."""
MAX_METADATA_BYTES = 65_536
"""Largest YAML metadata accepted: a file's front matter, a sidecar ``FILE.yaml`` or a
``--meta`` file (64 KiB; a speech's metadata is a few hundred bytes)."""
MAX_METADATA_DEPTH = 4
"""Deepest nesting of YAML metadata, in nodes (a mapping of lists of text is 3)."""


@dataclass(frozen=True)
class Tuning:
    """Give a changed copy to :class:`~policyspeech.store.Corpus` (``tuning=``)."""

    lock_timeout_seconds: float = 120
    """How long a writer waits for another writer's lock before giving up."""
    max_commit_attempts: int = 100
    """Commits rebuilt after losing a race for their entry number, before giving up."""
    small_fragment_bytes: int = 16 * MIB
    """Fragments smaller than this are merged by compaction; larger ones are left alone."""
    compact_group_bytes: int = 64 * MIB
    """Compaction merges small fragments into fragments of about this size at most."""
    auto_compact_fragments: int = 50
    """Writers compact by themselves past this many small unreleased fragments: each costs
    a read about a millisecond (footer, scan set-up), so that a head just under the
    threshold reads within about 1.3× of the same records compacted (`benchmarks/run.py`)."""
    auto_compact_bytes: int = 64 * MIB
    """...or when the small unreleased fragments reach this size together."""
    parallel_from_bytes: int = 16 * MIB
    """Imports of larger sources validate their speeches in one process per CPU (starting
    one costs about 0.25 s: worth it from about this size)."""
    snapshot_after_entries: int = 50
    snapshot_after_ids: int = 10_000
    """A writer that applied this many log entries or ids to open the corpus caches its
    head (:mod:`policyspeech.snapshot`)."""


DEFAULT = Tuning()
