"""Exceptions raised by policyspeech.

Every error the package raises on purpose is a :class:`CorpusError`; the CLI prints its
message as one line ``error: ...`` and exits with status 1.

Examples
--------
>>> from policyspeech.errors import CorpusError, InvalidSpeechError
>>> issubclass(InvalidSpeechError, CorpusError)
True
>>> str(InvalidSpeechError("country 'UK' is not a country code; use 'GB' (United Kingdom)"))
"country 'UK' is not a country code; use 'GB' (United Kingdom)"
"""

from __future__ import annotations


class CorpusError(Exception):
    """Base class of every error raised by policyspeech."""


class InvalidSpeechError(CorpusError, ValueError):
    """A speech's text or metadata breaks a rule of the record schema."""


class NoSpeechesError(InvalidSpeechError):
    """A batch or a source holds no speech at all."""


class DuplicateSpeechError(CorpusError):
    """The same speech (text, speaker, date and source) or an id is already in the corpus
    (or was retracted from it)."""


class NotACorpusError(CorpusError):
    """A folder is not a policyspeech corpus."""


class ReadOnlyCorpusError(CorpusError):
    """A write was attempted on a corpus that may not be written (the bundled one)."""


class IntegrityError(CorpusError):
    """A file of the corpus does not match what the log says it should be."""


class UnknownVersionError(CorpusError, LookupError):
    """A version name that the corpus does not have."""


class RecordNotFoundError(CorpusError, LookupError):
    """An id that is not in the requested version of the corpus."""


class BatchError(InvalidSpeechError):
    """Several speeches of a batch are bad; ``problems`` has one line for each."""

    def __init__(self, problems: list[str], total: int | None = None, *,
                 outcome: str = "nothing was imported") -> None:
        self.problems = problems
        self.total = total if total is not None else len(problems)
        self.outcome = outcome
        """What became of the batch: ``nothing was imported``, ``nothing was changed``."""
        more = f" (and {self.total - 1} more)" if self.total > 1 else ""
        super().__init__(f"{problems[0]}{more}; {outcome}")
