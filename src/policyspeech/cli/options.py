"""What the commands share: option types, the shared groups of options, error reporting.

The selection options (``--version``, ``--speaker``, ``--since``...) and the metadata
options of ``add``, ``amend`` and ``import`` are declared once here and given to a command
by :func:`with_parameters`; :func:`user_errors` turns the library's errors into one line
on stderr and exit status 1. Nothing here imports a heavy library, so ``--help`` is fast.

An option's default is the library's: taken from the library call itself
(:func:`library_defaults`), or from :mod:`policyspeech.tuning`, which imports nothing:

>>> MAX_ERRORS, MAX_BYTES
(20, 5000000)
"""

import errno
import functools
import inspect
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from policyspeech.errors import BatchError, CorpusError
from policyspeech.tuning import DEFAULT_MAX_BYTES, DEFAULT_MAX_ERRORS

F = TypeVar("F", bound=Callable[..., Any])

MAX_ERRORS = DEFAULT_MAX_ERRORS
MAX_BYTES = DEFAULT_MAX_BYTES

CorpusOption = Annotated[
    Path | None,
    typer.Option("--corpus", help="Corpus folder (default: $POLICYSPEECH_CORPUS, ./corpus, "
                 "then the bundled corpus).", show_default=False),
]
VersionOption = Annotated[str, typer.Option("--version", help="A release (1.0.0), latest "
                          "(the newest release) or head.")]
SpeakerOption = Annotated[list[str] | None, typer.Option("--speaker", help="Only this speaker "
                          "(repeat for several).", show_default=False)]
CountryOption = Annotated[list[str] | None, typer.Option("--country", help="Only this country "
                          "code (repeat for several).", show_default=False)]
LanguageOption = Annotated[list[str] | None, typer.Option("--language", help="Only this "
                           "language code (repeat for several).", show_default=False)]
ThemeOption = Annotated[list[str] | None, typer.Option("--theme", help="Only speeches with "
                        "this theme slug (repeat for any of several).", show_default=False)]
SinceOption = Annotated[str | None, typer.Option("--since", help="From this date (YYYY, "
                        "YYYY-MM or YYYY-MM-DD): speeches whose whole date period is on or "
                        "after it.", show_default=False)]
UntilOption = Annotated[str | None, typer.Option("--until", help="Up to this date, "
                        "inclusive of its whole period: speeches whose whole date period is "
                        "on or before its end.", show_default=False)]
FormatOption = Annotated[str, typer.Option("--format", help="Output: table, csv, json or jsonl.")]
TableFormatOption = Annotated[str, typer.Option("--format", help="table, csv or json.")]
RawOption = Annotated[bool, typer.Option("--raw", help="CSV: write cells as they are. By "
                      "default a cell that a spreadsheet would run as a formula (=, +, -, @) "
                      "starts with an apostrophe.")]
PlotOption = Annotated[Path | None, typer.Option("--plot", help="Also draw a chart to FILE.png "
                       "or FILE.svg (needs: pip install 'policyspeech[plot]').",
                       show_default=False)]

MessageOption = Annotated[str | None, typer.Option("--message", "-m", help="Log message.")]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Validate only; write nothing.")]

# Metadata options shared by `add`, `amend` and `import`.
Title = Annotated[str | None, typer.Option(help="Title of the speech.")]
Speaker = Annotated[str | None, typer.Option(help="Speaker's display name.")]
SpeakerId = Annotated[str | None, typer.Option(help="Speaker's Wikidata QID.")]
Role = Annotated[str | None, typer.Option(help="Office held at the time.")]
Party = Annotated[str | None, typer.Option(help="Party of the speaker.")]
Organisation = Annotated[str | None, typer.Option(help="Ministry or body.")]
Country = Annotated[str | None, typer.Option(help="Country code: ISO 3166-1 alpha-2 (GB), a "
                    "former state (YU, DD, SU) or EU; see `policyspeech countries`.")]
Date = Annotated[str | None, typer.Option(help="YYYY-MM-DD, YYYY-MM or YYYY.")]
Language = Annotated[str | None, typer.Option(help="ISO 639-1 code (en).")]
Delivery = Annotated[str | None, typer.Option(help="as_delivered, as_prepared, ...")]
Themes = Annotated[list[str] | None, typer.Option("--theme", help="Theme slug (repeat).",
                                                  show_default=False)]
Keywords = Annotated[list[str] | None, typer.Option("--keyword", help="Keyword (repeat).",
                                                    show_default=False)]
Event = Annotated[str | None, typer.Option(help="Event or occasion.")]
Location = Annotated[str | None, typer.Option(help="Place of the speech.")]
SourceUrl = Annotated[str | None, typer.Option(help="http(s) URL of the source.")]
Publisher = Annotated[str | None, typer.Option(help="Publisher of the source.")]
License = Annotated[str | None, typer.Option(help="SPDX licence id (CC-BY-4.0).")]
Retrieved = Annotated[str | None, typer.Option(help="Date the source was obtained.")]
Notes = Annotated[str | None, typer.Option(help="Free notes.")]
SourceId = Annotated[str | None, typer.Option(help="The speech's identifier in its source.")]
Reason = Annotated[str, typer.Option("--reason", help="Why (kept in the log and the "
                                     "changelog).", show_default=False)]


METADATA_OPTIONS = {
    "title": "title", "speaker": "speaker", "speaker_id": "speaker_id", "role": "speaker_role",
    "party": "party", "organisation": "organisation", "country": "country", "date": "date",
    "language": "language", "delivery": "delivery", "theme": "themes", "keyword": "keywords",
    "event": "event", "location": "location", "source_url": "source_url",
    "publisher": "publisher", "license": "license", "retrieved": "retrieved", "notes": "notes",
    "source_id": "source_id",
}
"""Metadata options of ``add``, ``amend`` and ``import``, and the record field each sets."""


def metadata(params: dict[str, Any]) -> dict[str, Any]:
    """The record fields set by the metadata options among a command's parameters."""
    return {field: params[option] for option, field in METADATA_OPTIONS.items()
            if option in params}


def _parameter(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                             default=default)


SELECTION_PARAMETERS = [
    _parameter("version", VersionOption, "head"),
    _parameter("speaker", SpeakerOption, None),
    _parameter("country", CountryOption, None),
    _parameter("language", LanguageOption, None),
    _parameter("theme", ThemeOption, None),
    _parameter("since", SinceOption, None),
    _parameter("until", UntilOption, None),
]
"""The loaders' filters, shared by every command that reads a selection of speeches."""

METADATA_PARAMETERS = [
    _parameter(option, annotation, None) for option, annotation in (
        ("title", Title), ("speaker", Speaker), ("speaker_id", SpeakerId), ("role", Role),
        ("party", Party), ("organisation", Organisation), ("country", Country), ("date", Date),
        ("language", Language), ("delivery", Delivery), ("theme", Themes),
        ("keyword", Keywords), ("event", Event), ("location", Location),
        ("source_url", SourceUrl), ("publisher", Publisher), ("license", License),
        ("retrieved", Retrieved), ("notes", Notes), ("source_id", SourceId))
]
"""The metadata options of ``add``, ``amend`` and ``import``."""


def with_parameters(shared: list[inspect.Parameter]) -> Callable[[F], F]:
    """Give a command a shared group of options, received in its ``**kwargs``.

    Typer reads a command's options from its signature, so the shared options are added
    to the signature that Typer sees, in place of the ``**kwargs`` parameter.
    """

    def decorate(command: F) -> F:
        signature = inspect.signature(command, eval_str=True)
        own = [p for p in signature.parameters.values() if p.kind != p.VAR_KEYWORD]
        command.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[*own, *shared])
        return command

    return decorate


def library_defaults(function: Callable[..., Any]) -> dict[str, Any]:
    """The defaults of ``function``'s parameters, by name: the defaults of the options
    passed on to it, so that the command and the library cannot drift apart."""
    return {name: p.default for name, p in inspect.signature(function).parameters.items()
            if p.default is not p.empty}


ERRNO_HINTS = {
    errno.EFBIG: "the file size limit (ulimit -f) is too small; raise it",
    errno.ENOSPC: "the disk is full; free some space",
    errno.EDQUOT: "the disk quota is used up; free some space",
    errno.EACCES: "make it writable (or readable), or use a folder you may write to",
    errno.EPERM: "make it writable (or readable), or use a folder you may write to",
    errno.EROFS: "the file system is read-only; use a corpus on a writable one",
}
"""What to do about the system errors that a user can fix."""


_POLARS_EPIPE = f"[Errno {errno.EPIPE}] {os.strerror(errno.EPIPE)}"
"""A closed pipe as polars reports it: an OSError with only this message (no errno)."""


def user_errors(command: F) -> F:
    """Turn library errors, system errors (a full disk, a file size limit, a permission)
    and arguments that are not UTF-8 into one line on stderr and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            check_arguments([*args, *kwargs.values()])
            return command(*args, **kwargs)
        except BatchError as exc:
            for problem in exc.problems:
                say(f"error: {problem}")
            shown = "" if exc.total == len(exc.problems) else f", the first {len(exc.problems)} shown"
            say(f"error: {exc.total} bad record{'' if exc.total == 1 else 's'}{shown}; "
                f"{exc.outcome}")
            raise typer.Exit(1) from None
        except CorpusError as exc:
            say(f"error: {exc}")
            raise typer.Exit(1) from None
        except BrokenPipeError:  # `... | head` stopped reading: the rest is not wanted
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # no second error at exit, flushing
            raise typer.Exit(0) from None
        except OSError as exc:
            if exc.errno == errno.EPIPE or str(exc) == _POLARS_EPIPE:  # polars' way to say it
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                raise typer.Exit(0) from None
            say(f"error: {system_error(exc)}")
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            say("error: interrupted; a write is committed whole or not at all, so the corpus "
                "is at its last commit (`policyspeech verify` checks it)")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e"
                      "\u2060-\u2069\ufeff]")
"""Control characters, line and paragraph separators, and invisible format characters
(zero-width, bidirectional controls, the byte order mark): escaped in error lines."""


def say(line: str) -> None:
    """Print one line on stderr, whatever it holds: bytes that are not UTF-8 (surrogate
    escapes of a file name or an argument) are shown as ``\\xff``, and line breaks,
    other control characters and invisible format characters escaped (``\\n``,
    ``\\x1b``, ``\\ufeff``), so that an error is always exactly one line, cannot drive
    the terminal, and shows every character it names."""
    shown = line.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    typer.echo(_CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode(), shown),
               err=True)


def system_error(exc: OSError) -> str:
    """The one line for a system error: the file, what went wrong and what to do.

    >>> system_error(OSError(27, "File too large", "corpus/.tmp/x"))
    "'corpus/.tmp/x': File too large (EFBIG); the file size limit (ulimit -f) is too small; raise it"
    """
    where = f"'{exc.filename}'" if exc.filename is not None else "a file of this command"
    if exc.filename2 is not None:
        where += f" -> '{exc.filename2}'"
    name = errno.errorcode.get(exc.errno or 0, "")
    what = exc.strerror or str(exc)
    hint = ERRNO_HINTS.get(exc.errno or 0, "check the file and try again")
    return f"{where}: {what}{f' ({name})' if name else ''}; {hint}"


def check_arguments(values: list[Any]) -> None:
    """Refuse an argument (or ``--corpus``) that is not valid UTF-8: the shell passed bytes
    that Python keeps as surrogate escapes, which no record or file name may hold."""
    for value in values:
        if isinstance(value, typer.Context):
            check_arguments(list((value.obj or {}).values()))
        elif isinstance(value, list | tuple):
            check_arguments(list(value))
        elif isinstance(value, str | Path) and any(
                "\udc80" <= char <= "\udcff" for char in str(value)):
            shown = str(value).encode("utf-8", "surrogateescape").decode("utf-8",
                                                                         "backslashreplace")
            raise CorpusError(f"the argument '{shown}' is not valid UTF-8; give it in UTF-8 "
                              "(or rename the file)")


def corpus_path(ctx: typer.Context) -> Path | None:
    """The corpus folder given with ``--corpus`` (None: found as the library finds it)."""
    return ctx.obj.get("corpus") if ctx.obj else None


def check_format(fmt: str, allowed: tuple[str, ...]) -> None:
    """Refuse an output format that the command does not write."""
    if fmt not in allowed:
        raise CorpusError(f"format '{fmt}' is not known; use one of {', '.join(allowed)}")
