"""The ``policyspeech`` command: a thin layer over the library.

Every command calls the library and prints its result; errors of the library
(:class:`policyspeech.errors.CorpusError`) become one line ``error: ...`` on stderr and
exit status 1. Heavy libraries are imported inside the commands, so ``--help`` is fast.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from policyspeech.errors import BatchError, CorpusError
from policyspeech.hooks import crash_point

app = typer.Typer(
    name="policyspeech",
    help="A versioned, citable corpus of policy speeches: add, list, show and load speeches.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
schema_app = typer.Typer(help="The record schema: fields and the published schema files.",
                         no_args_is_help=True)
app.add_typer(schema_app, name="schema")

F = TypeVar("F", bound=Callable[..., Any])

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

# Metadata options shared by `add` and `amend`.
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
"""Metadata options of ``add`` and ``amend``, and the record field each one sets."""


def _metadata(params: dict[str, Any]) -> dict[str, Any]:
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



def user_errors(command: F) -> F:
    """Turn library errors into one line on stderr and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except BatchError as exc:
            for problem in exc.problems:
                typer.echo(f"error: {problem}", err=True)
            shown = "" if exc.total == len(exc.problems) else f", the first {len(exc.problems)} shown"
            typer.echo(f"error: {exc.total} bad record{'' if exc.total == 1 else 's'}{shown}; "
                       f"{exc.outcome}", err=True)
            raise typer.Exit(1) from None
        except CorpusError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _corpus_path(ctx: typer.Context, corpus: Path | None) -> Path | None:
    return corpus if corpus is not None else ctx.obj.get("corpus") if ctx.obj else None


def _check_format(fmt: str, allowed: tuple[str, ...]) -> None:
    if fmt not in allowed:
        raise CorpusError(f"format '{fmt}' is not known; use one of {', '.join(allowed)}")


@app.callback()
def main_options(ctx: typer.Context, corpus: CorpusOption = None) -> None:
    """A versioned, citable corpus of policy speeches.

    Example: policyspeech list --country GB --since 2019
    """
    ctx.obj = {"corpus": corpus}


@app.command()
@user_errors
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create (must be new or empty).")],
    from_bundled: Annotated[bool, typer.Option("--from-bundled", help="Start from a copy of "
                            "the corpus bundled with the package.")] = False,
) -> None:
    """Create a new empty corpus, or a writable copy of the bundled one.

    Example: policyspeech init my-corpus --from-bundled
    """
    from policyspeech.store import Corpus

    corpus = Corpus.init(directory, from_bundled=from_bundled)
    from policyspeech.output import count

    typer.echo(f"created corpus '{corpus.path}' with {count(corpus.head().rows, 'record')}")


@app.command()
@user_errors
@with_parameters(METADATA_PARAMETERS)
def add(
    ctx: typer.Context,
    files: Annotated[list[str], typer.Argument(
        metavar="FILE...", help="Text or Markdown files ('-' for stdin).", show_default=False)],
    meta: Annotated[Path | None, typer.Option("--meta", help="YAML metadata file for every "
                    "FILE.", show_default=False)] = None,
    id: Annotated[str | None, typer.Option("--id", help="Id to use instead of the derived "
                  "one (one FILE only).")] = None,
    message: Annotated[str | None, typer.Option("--message", "-m", help="Log message.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate only; write "
                       "nothing.")] = False,
    max_bytes: Annotated[int, typer.Option("--max-bytes", help="Largest file accepted.")] = (
        5_000_000),
    join_lines: Annotated[bool, typer.Option("--join-lines/--no-join-lines", help="Join a "
                          "sentence broken across paragraphs (as PDF and web extraction "
                          "leave them).")] = True,
    **metadata: Any,
) -> None:
    """Add speeches from text or Markdown files, in one commit (all or nothing).

    Metadata comes from YAML front matter, a sidecar FILE.yaml, --meta, and the options,
    the options winning. Prints the id of each speech added.

    Example: policyspeech add speech.txt --speaker "Brandon Lewis" --country GB
    --date 2019-10-30 --language en --title "Security and crime after Brexit"
    """
    from policyspeech.ingest import read_speech
    from policyspeech.store import Corpus

    if id is not None and len(files) > 1:
        raise CorpusError("--id names one speech but several files were given; "
                          "put each id in its file's metadata instead")
    overrides = {**_metadata(ctx.params), "id": id}
    corpus = Corpus(_corpus_path(ctx, None))
    if not dry_run:
        corpus.check_writable()
    records = [read_speech(f, meta=meta, overrides=overrides, max_bytes=max_bytes,
                           join_lines=join_lines) for f in files]
    ids = corpus.add_all(records, message=message, dry_run=dry_run, sources=files)
    crash_point("before-success")
    for record_id in ids:
        typer.echo(record_id)
    if dry_run:
        typer.echo(f"dry run: {len(ids)} speech(es) valid, nothing written", err=True)


LIST_COLUMNS = ["id", "date", "speaker", "country", "word_count", "title"]


@app.command("list")
@user_errors
@with_parameters(SELECTION_PARAMETERS)
def list_(
    ctx: typer.Context,
    fmt: FormatOption = "table",
    **selection: Any,
) -> None:
    """List speeches (without their text), oldest first.

    The table shows the main columns; csv, json and jsonl give every field but the text.

    Example: policyspeech list --country GB --since 2019 --format csv
    """
    from policyspeech import loaders
    from policyspeech.output import FORMATS, dates_at_precision, render_rows
    from policyspeech.schema import FIELD_NAMES

    _check_format(fmt, FORMATS)
    table = fmt == "table"
    columns = [*LIST_COLUMNS, "date_precision"] if table else [
        c for c in FIELD_NAMES if c != "text"]
    frame = loaders.read(_corpus_path(ctx, None), columns=columns, **selection).sort(
        ["date", "id"])
    typer.echo(render_rows(dates_at_precision(frame.to_dicts(), keep_precision=not table), fmt))


@app.command()
@user_errors
def show(
    ctx: typer.Context,
    record_id: Annotated[str, typer.Argument(metavar="ID", help="Id of the speech.")],
    version: VersionOption = "head",
    fmt: Annotated[str, typer.Option("--format", help="table (fields, then the text), csv, "
                   "json or jsonl.")] = "table",
) -> None:
    """Show one speech: every field, then the text.

    Example: policyspeech show gb-2019-10-30-brandon-lewis-security-minister-s-speech-on-security-and-crime-after-brexit
    """
    import polars as pl

    from policyspeech import loaders
    from policyspeech.errors import RecordNotFoundError
    from policyspeech.output import FORMATS, dates_at_precision, render_rows

    _check_format(fmt, FORMATS)
    frame = loaders.scan(_corpus_path(ctx, None), version=version).filter(
        pl.col("id") == record_id).collect()
    if frame.height == 0:
        raise RecordNotFoundError(
            f"no speech with id '{record_id}' in version {version}; "
            "list the ids with `policyspeech list`")
    [record] = dates_at_precision(frame.to_dicts())
    if fmt != "table":
        typer.echo(render_rows([record], "jsonl" if fmt == "json" else fmt))
        return
    text = record.pop("text")
    width = max(len(k) for k in record)
    for key, value in record.items():
        shown = "; ".join(value) if isinstance(value, list) else "" if value is None else value
        typer.echo(f"{key.ljust(width)}  {shown}")
    typer.echo("")
    typer.echo(text)


@app.command()
@user_errors
def release(
    ctx: typer.Context,
    bump: Annotated[str | None, typer.Argument(metavar="[major|minor|patch]", help="Which "
                    "part of the version to raise (default: the smallest the changes allow).",
                    show_default=False)] = None,
    notes: Annotated[str, typer.Option("--message", "-m", help="Release notes.")] = "",
) -> None:
    """Turn the head into an immutable, citable release.

    Adding records needs at least a minor release; amending or retracting only, a patch.

    Example: policyspeech release minor -m "Speeches of 2020"
    """
    from policyspeech.store import Corpus

    manifest = Corpus(_corpus_path(ctx, None)).release(bump, notes=notes)
    crash_point("before-success")
    records = manifest["records"]
    typer.echo(f"released {manifest['version']}: {records} record{'' if records == 1 else 's'}"
               f", fingerprint {manifest['fingerprint']}")


@app.command()
@user_errors
@with_parameters(METADATA_PARAMETERS)
def amend(
    ctx: typer.Context,
    record_id: Annotated[str | None, typer.Argument(metavar="[ID]", help="Id of the speech "
                         "(not with --from).", show_default=False)] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (kept in the log and "
                      "the changelog); with --from, for the rows without a reason column.",
                      show_default=False)] = None,
    text: Annotated[Path | None, typer.Option("--text", help="File with the corrected "
                    "text.", show_default=False)] = None,
    from_file: Annotated[Path | None, typer.Option("--from", help="Amend many speeches in "
                         "one commit: a .jsonl or .csv file of id, the fields to change and "
                         "(optionally) reason.", show_default=False)] = None,
    max_errors: Annotated[int, typer.Option("--max-errors", help="Bad rows to list at "
                          "most (with --from).")] = 20,
    clear: Annotated[list[str] | None, typer.Option("--clear", help="A field to empty "
                     "(repeat): --clear themes --clear party.", show_default=False)] = None,
    join_lines: Annotated[bool, typer.Option("--join-lines/--no-join-lines", help="With "
                          "--text: join a sentence broken across paragraphs, as add "
                          "does.")] = True,
    **metadata: Any,
) -> None:
    """Correct speeches' metadata or text in a new commit; earlier releases keep theirs.

    One speech by its ID and the options, or many from a file (--from), all or nothing.

    Example: policyspeech amend ID --date 2019-10-29 --reason "Date confirmed by the Home Office"

    Example: policyspeech amend --from themes.csv --reason "CAP coding, second coder"
    """
    from policyspeech.ingest import decode_text
    from policyspeech.store import Corpus
    from policyspeech.text import normalise_text

    changes = {name: value for name, value in _metadata(ctx.params).items() if value}
    corpus = Corpus(_corpus_path(ctx, None))
    if from_file is not None:
        if record_id is not None or text is not None or changes or clear:
            raise CorpusError("--from takes the ids and changes from the file; give no ID, "
                              "--text or field options with it")
        result = corpus.amend_all(from_file, reason=reason, max_errors=max_errors)
        crash_point("before-success")
        if not result.amended:
            typer.echo(f"nothing to amend: the {result.unchanged:,} rows match the corpus "
                       "already")
            return
        unchanged = (f"; {result.unchanged:,} already had these values"
                     if result.unchanged else "")
        typer.echo(f"amended {result.amended:,} speech{'' if result.amended == 1 else 'es'} "
                   f"in one commit{unchanged}")
        return
    if record_id is None:
        raise CorpusError("give the ID of the speech to amend (or --from FILE for many)")
    from policyspeech.schema import FIELD_NAMES

    for name in clear or []:
        if name not in FIELD_NAMES:
            raise CorpusError(f"--clear '{name}' is not a field; see `policyspeech schema "
                              "fields`")
        changes[name] = None
    new_text = None
    if text is not None:
        try:
            new_text = normalise_text(decode_text(text.read_bytes(), str(text)),
                                      join_lines=join_lines)
        except OSError as exc:
            raise CorpusError(f"{text}: cannot read ({exc.strerror})") from None
    fields = corpus.amend(record_id, changes, text=new_text, reason=reason or "")
    typer.echo(f"amended {record_id}: {', '.join(fields)}")


@app.command()
@user_errors
def retract(
    ctx: typer.Context,
    record_id: Annotated[str, typer.Argument(metavar="ID", help="Id of the speech.")],
    reason: Reason,
) -> None:
    """Remove a speech from the head in a new commit; its id is never reused.

    Example: policyspeech retract ID --reason "Duplicate of an official transcript"
    """
    from policyspeech.store import Corpus

    Corpus(_corpus_path(ctx, None)).retract(record_id, reason=reason)
    typer.echo(f"retracted {record_id}")


@app.command()
@user_errors
def versions(ctx: typer.Context, fmt: FormatOption = "table") -> None:
    """List the releases: version, date, records, fingerprint and notes.

    Example: policyspeech versions --format json
    """
    from policyspeech.output import FORMATS, render_rows
    from policyspeech.store import Corpus

    _check_format(fmt, FORMATS)
    rows = Corpus(_corpus_path(ctx, None)).versions()
    typer.echo(render_rows(rows, fmt) if rows else "no releases yet")


@app.command()
@user_errors
def diff(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="From: a release, latest or head.")],
    b: Annotated[str, typer.Argument(help="To: a release, latest or head.")],
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """List the records added, retracted and amended (with the fields) from A to B.

    Example: policyspeech diff 1.0.0 head
    """
    import json

    from policyspeech.store import Corpus

    _check_format(fmt, ("table", "json"))
    changes = Corpus(_corpus_path(ctx, None)).diff(a, b)
    if fmt == "json":
        typer.echo(json.dumps(changes, indent=2, ensure_ascii=False))
        return
    typer.echo(f"from {changes['from']} to {changes['to']}: {len(changes['added'])} added, "
               f"{len(changes['amended'])} amended, {len(changes['retracted'])} retracted")
    for record_id in changes["added"]:
        typer.echo(f"+ {record_id}")
    for item in changes["amended"]:
        why = f" ({'; '.join(item['reasons'])})" if item["reasons"] else ""
        typer.echo(f"~ {item['id']}: {', '.join(item['fields'])}{why}")
    for item in changes["retracted"]:
        why = f" ({'; '.join(item['reasons'])})" if item["reasons"] else ""
        typer.echo(f"- {item['id']}{why}")


@app.command()
@user_errors
def verify(
    ctx: typer.Context,
    version: Annotated[str | None, typer.Option("--version", help="Only this version "
                       "(default: every version).", show_default=False)] = None,
    repair: Annotated[bool, typer.Option("--repair", help="First rewrite the files derived "
                      "from the log (card, changelog, CITATION.cff, croissant.json).")] = False,
    deep: Annotated[bool, typer.Option("--deep", help="Also recompute every release's "
                    "fingerprint and check every text against its text_sha256 (slower: "
                    "reads all the records).")] = False,
) -> None:
    """Check every file against the log: fragment hashes, the hash chain, release
    manifests, and the dataset card (--deep: also fingerprints and texts). Exits 1 naming
    each file that differs; warns of files that no log entry names.

    Example: policyspeech verify --version 1.0.0
    """
    from policyspeech.store import Corpus

    corpus = Corpus(_corpus_path(ctx, None))
    if repair:
        corpus.repair()
    problems = corpus.verify(version, deep=deep)
    for problem in problems:
        typer.echo(f"error: {problem}", err=True)
    if problems:
        raise typer.Exit(1)
    if version in (None, "head") and corpus.stale_card():
        typer.echo(f"warning: {corpus.path / 'README.md'}: one commit behind the log (a write "
                   "was interrupted); the next commit or `policyspeech verify --repair` "
                   "rewrites it", err=True)
    for path in corpus.unreferenced_files() if version is None else []:
        typer.echo(f"warning: {path}: no log entry names this file, so readers ignore it "
                   "(an interrupted write can leave one); it is safe to delete", err=True)
    state = corpus.head()
    from policyspeech.output import count

    typer.echo(f"ok: {corpus.path} ({version or 'every version'}): "
               f"{count(state.seq + 1, 'log entry', 'log entries')}, "
               f"{count(len(state.releases), 'release')}, every file matches")


@app.command()
@user_errors
def cite(
    ctx: typer.Context,
    version: Annotated[str, typer.Option("--version", help="A release or latest.")] = "latest",
    fmt: Annotated[str, typer.Option("--format", help="bibtex, apa, ris, cff or "
                   "json.")] = "bibtex",
) -> None:
    """Print a citation of a release, with its fingerprint and how to load it.

    Example: policyspeech cite --version 1.0.0 --format apa
    """
    from policyspeech.store import Corpus

    typer.echo(Corpus(_corpus_path(ctx, None)).cite(version, fmt))


@app.command()
@user_errors
def export(
    ctx: typer.Context,
    out: Annotated[Path, typer.Argument(help="File to write.")],
    version: VersionOption = "latest",
    fmt: Annotated[str, typer.Option("--format", help="parquet, jsonl or csv.")] = "parquet",
) -> None:
    """Write every record of a version to one file (parquet, jsonl or csv).

    Example: policyspeech export speeches-1.0.0.parquet --version 1.0.0
    """
    from policyspeech.export import export_version

    rows = export_version(_corpus_path(ctx, None), out, version=version, fmt=fmt)
    typer.echo(f"wrote {rows} records to {out}")


@app.command("import")
@user_errors
@with_parameters(METADATA_PARAMETERS)
def import_(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(
        metavar="PATH...", help="Folders of .txt/.md files (with front matter or sidecars), "
        ".jsonl, .csv, .tsv or .parquet files; with --from, the format's files or folders.",
        show_default=False)],
    source_format: Annotated[str, typer.Option("--from", help="The source's format: auto "
                             "(by the file name), parlamint (TEI sittings) or ungdc (the UN "
                             "General Debate Corpus layout).")] = "auto",
    mapping: Annotated[list[str] | None, typer.Option("--map", help="FIELD=COLUMN: the "
                       "source's column that holds a field (repeat).",
                       show_default=False)] = None,
    ignore: Annotated[list[str] | None, typer.Option("--ignore", help="A column to leave out "
                      "(repeat).", show_default=False)] = None,
    skip_existing: Annotated[bool, typer.Option("--skip-existing", help="Leave out speeches "
                             "the corpus has already (or retracted), and say how many, "
                             "instead of refusing them.")] = False,
    delimiter: Annotated[str | None, typer.Option("--delimiter", help="CSV delimiter "
                         "(default: found from the header: comma, semicolon or tab).",
                         show_default=False)] = None,
    join_lines: Annotated[bool | None, typer.Option("--join-lines/--no-join-lines", help="Join "
                          "a sentence broken across paragraphs (default: for .txt/.md files "
                          "only).", show_default=False)] = None,
    lists: Annotated[list[Path] | None, typer.Option("--lists", help="ParlaMint: the corpus's "
                     "listPerson and listOrg files (repeat).", show_default=False)] = None,
    speakers: Annotated[Path | None, typer.Option("--speakers", help="UNGDC: the speaker "
                        "table (default: Speakers_by_session.xlsx beside TXT/).",
                        show_default=False)] = None,
    message: Annotated[str | None, typer.Option("--message", "-m", help="Log message.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate only; write "
                       "nothing.")] = False,
    max_errors: Annotated[int, typer.Option("--max-errors", help="Bad records to list at "
                          "most.")] = 20,
    max_bytes: Annotated[int, typer.Option("--max-bytes", help="Largest text file "
                         "accepted.")] = 5_000_000,
    **metadata: Any,
) -> None:
    """Import many speeches in one commit, all or nothing.

    Every record is validated first; each bad one is listed with its file and line. The
    metadata options fill the fields that the records leave empty.

    Example: policyspeech import speeches.jsonl --skip-existing

    Example: policyspeech import --from parlamint ParlaMint-AT/ --retrieved 2026-11-30
    """
    import time

    from policyspeech.importing import ImportOptions, parse_mapping
    from policyspeech.store import Corpus

    started = time.perf_counter()
    if delimiter is not None:
        delimiter = {"tab": "\t", "\\t": "\t"}.get(delimiter, delimiter)
        if len(delimiter) != 1:
            raise CorpusError(f"--delimiter '{delimiter}' must be one character (or 'tab')")
    options = ImportOptions(
        mapping=parse_mapping(mapping or []), ignore=frozenset(ignore or []),
        defaults={k: v for k, v in _metadata(ctx.params).items() if v},
        join_lines=join_lines, delimiter=delimiter, max_bytes=max_bytes,
        lists=tuple(lists or ()), speakers=speakers)
    corpus = Corpus(_corpus_path(ctx, None))
    if not dry_run:
        corpus.check_writable()
    progress = _Progress() if sys.stderr.isatty() else None
    try:
        batch = corpus.import_path(paths, source_format=source_format, options=options,
                                   skip_existing=skip_existing, message=message,
                                   dry_run=dry_run, max_errors=max_errors, progress=progress)
    finally:
        if progress is not None:
            progress.done()
    crash_point("before-success")
    seconds = time.perf_counter() - started
    retracted = (f", {batch.skipped_retracted:,} of them retracted"
                 if batch.skipped_retracted else "")
    if not batch.records:
        typer.echo(f"nothing to import: the corpus has all {batch.skipped:,} speeches already"
                   f"{retracted} ({seconds:.1f} s)")
        return
    from policyspeech.output import count

    skipped = f"; skipped {batch.skipped:,} already in the corpus{retracted}" \
        if batch.skipped else ""
    commit = "(dry run: nothing written)" if dry_run else \
        f"in one commit of {count(batch.fragments, 'fragment')}"
    typer.echo(f"{'would import' if dry_run else 'imported'} "
               f"{count(batch.records, 'speech', 'speeches')} ({batch.text_bytes / 1e6:.1f} MB "
               f"of text, {batch.words:,} words) {commit}, {seconds:.1f} s "
               f"({batch.text_bytes / 1e6 / max(seconds, 1e-9):.1f} MB/s){skipped}")


class _Progress:
    """Records and megabytes read so far, with the rate, redrawn in place on a terminal."""

    def __init__(self) -> None:
        import time

        self.clock = time.perf_counter
        self.started = self.clock()
        self.records = 0
        self.text_bytes = 0
        self.shown = 0.0

    def __call__(self, records: int, text_bytes: int) -> None:
        self.records, self.text_bytes = records, text_bytes
        now = self.clock()
        if now - self.shown >= 0.2:
            self.shown = now
            self._draw()

    def _draw(self, end: bool = False) -> None:
        megabytes = self.text_bytes / 1e6
        rate = megabytes / max(self.clock() - self.started, 1e-9)
        typer.echo(f"\rchecked {self.records:,} records, {megabytes:,.1f} MB of text "
                   f"({rate:.1f} MB/s)", err=True, nl=end)

    def done(self) -> None:
        self._draw(end=True)


# -- comparison -----------------------------------------------------------------------

PlotOption = Annotated[Path | None, typer.Option("--plot", help="Also draw a chart to FILE.png "
                       "or FILE.svg (needs: pip install 'policyspeech[plot]').",
                       show_default=False)]


def _show_frame(frame: Any, fmt: str) -> None:
    from policyspeech.output import render_rows

    _check_format(fmt, ("table", "csv", "json"))
    rows = frame.to_dicts()
    if fmt == "table":
        rows = [{k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()}
                for r in rows]
    typer.echo(render_rows(rows, fmt) if rows or fmt != "table" else "(no rows)")


@app.command("stats")
@user_errors
@with_parameters(SELECTION_PARAMETERS)
def stats_(
    ctx: typer.Context,
    by: Annotated[list[str], typer.Option("--by", help="speaker, country, party, organisation, "
                  "year, theme or language (repeat for two keys).")] = ["speaker"],  # noqa: B006
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    plot: PlotOption = None,
    **selection: Any,
) -> None:
    """Speeches, words, first and last date per group of one or two keys.

    Example: policyspeech stats --by country --by year --since 2019
    """
    from policyspeech import analysis

    table = analysis.stats(_corpus_path(ctx, None), by=by,
                           **selection)
    _show_frame(table, fmt)
    if plot is not None:
        from policyspeech.charts import plot_stats

        typer.echo(f"chart: {plot_stats(table, plot)}", err=True)


@app.command()
@user_errors
@with_parameters(SELECTION_PARAMETERS)
def kwic(
    ctx: typer.Context,
    term: Annotated[str, typer.Argument(help="A word, a phrase, or with --regex a regular "
                    "expression.")],
    regex: Annotated[bool, typer.Option("--regex", help="TERM is a regular expression.")] = False,
    case_sensitive: Annotated[bool, typer.Option("--case-sensitive", help="Match case "
                              "exactly.")] = False,
    window: Annotated[int, typer.Option("--window", help="Words of context either side.")] = 5,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    **selection: Any,
) -> None:
    """Keyword in context: every hit of TERM with the words around it, speaker and date.

    Example: policyspeech kwic "organised crime" --window 4
    """
    from policyspeech import analysis

    hits = analysis.kwic(term, _corpus_path(ctx, None), regex=regex,
                         case_sensitive=case_sensitive, window=window,
                         **selection)
    from policyspeech.analysis import date_at_precision

    hits = hits.with_columns(date=date_at_precision()).drop("date_precision")
    if fmt == "table":
        hits = hits.select("date", "speaker", "left", "match", "right")
    _show_frame(hits, fmt)


@app.command()
@user_errors
@with_parameters(SELECTION_PARAMETERS)
def compare(
    ctx: typer.Context,
    values: Annotated[list[str] | None, typer.Argument(metavar="[A B]", help="With --by: the "
                      "two values to compare.", show_default=False)] = None,
    a: Annotated[str | None, typer.Option("--a", help='Group a, as FIELD=VALUE[,VALUE][;...] '
                 '("speaker=Brandon Lewis").', show_default=False)] = None,
    b: Annotated[str | None, typer.Option("--b", help="Group b, likewise.",
                 show_default=False)] = None,
    by: Annotated[str | None, typer.Option("--by", help="Compare two values of this field "
                  "(give them as A B).", show_default=False)] = None,
    prior_scale: Annotated[float, typer.Option("--prior-scale", help="Strength of the prior "
                           "(times the selection's word counts).")] = 0.1,
    min_count: Annotated[int, typer.Option("--min-count", help="Leave out rarer words.")] = 5,
    top: Annotated[int, typer.Option("--top", help="Words to show for each side.")] = 20,
    stopwords: Annotated[bool, typer.Option("--stopwords", help="Leave out common English "
                         "function words.")] = False,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    plot: PlotOption = None,
    **selection: Any,
) -> None:
    """The words that most distinguish two groups of speeches (fightin' words: weighted
    log-odds with an informative Dirichlet prior, Monroe, Colaresi and Quinn 2008).

    Example: policyspeech compare --by country GB FR --min-count 10
    """
    from policyspeech import analysis

    if by is not None:
        if not values or len(values) != 2:
            raise CorpusError(f"--by {by} needs two values to compare, e.g. --by {by} A B")
        a, b = f"{by}={values[0]}", f"{by}={values[1]}"
    elif a is None or b is None or values:
        raise CorpusError('give the groups as --a FIELD=VALUE --b FIELD=VALUE, or as '
                          '--by FIELD A B')
    table = analysis.compare(_corpus_path(ctx, None), a=a, b=b, prior_scale=prior_scale,
                             min_count=min_count, top=top, stopwords=stopwords,
                             **selection)
    _show_frame(table, fmt)
    if plot is not None:
        from policyspeech.charts import plot_compare

        typer.echo(f"chart: {plot_compare(table, plot, a=a, b=b)}", err=True)


@app.command()
@user_errors
@with_parameters(SELECTION_PARAMETERS)
def trends(
    ctx: typer.Context,
    by: Annotated[str | None, typer.Option("--by", help="Also per this field (country, "
                  "speaker, party, ...).", show_default=False)] = None,
    period: Annotated[str, typer.Option("--period", help="year or month.")] = "year",
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    plot: PlotOption = None,
    **selection: Any,
) -> None:
    """Theme shares over time: per year (or month), the share of speeches and of words
    with each theme, optionally per group.

    Example: policyspeech trends --by country --since 2015
    """
    from policyspeech import analysis

    table = analysis.trends(_corpus_path(ctx, None), by=by, period=period,
                            **selection)
    _show_frame(table, fmt)
    left_out = analysis.undated_in(period, _corpus_path(ctx, None), **selection)
    if left_out:
        typer.echo(f"note: {left_out:,} speech{'' if left_out == 1 else 'es'} dated only to "
                   f"the year {'is' if left_out == 1 else 'are'} in no {period}; use "
                   "--period year to count them", err=True)
    if plot is not None:
        from policyspeech.charts import plot_trends

        typer.echo(f"chart: {plot_trends(table, plot)}", err=True)


@app.command()
@user_errors
def compact(ctx: typer.Context) -> None:
    """Merge the head's small unreleased fragments into sorted ones (released fragments
    and the large fragments of an import are never rewritten).

    Example: policyspeech compact
    """
    from policyspeech.store import Corpus

    corpus = Corpus(_corpus_path(ctx, None))
    done = corpus.compact()
    typer.echo(f"merged {done.merged} fragments into "
               f"{'one' if done.written == 1 else done.written}" if done.merged else
               "nothing to compact: the head has fewer than two small unreleased fragments")


@app.command()
@user_errors
def cache(
    clear: Annotated[bool, typer.Option("--clear", help="Remove every cached file (safe: "
                     "they are rebuilt when needed).")] = False,
) -> None:
    """Show (or clear) the user cache: the Arrow files that load_dataset memory-maps and
    the snapshots that open large corpora quickly. Set POLICYSPEECH_CACHE to move it.

    Example: policyspeech cache --clear
    """
    from policyspeech.arrowcache import cache_usage, clear_cache
    from policyspeech.layout import cache_folder

    if clear:
        freed = clear_cache()
        typer.echo(f"cleared {cache_folder()}: {freed / 1e6:,.1f} MB freed")
        return
    typer.echo(f"cache: {cache_folder()}")
    for part, (count, size) in cache_usage().items():
        what = {"arrow": "Arrow files (load_dataset)", "heads": "head snapshots"}[part]
        typer.echo(f"  {what}: {count:,} files, {size / 1e6:,.1f} MB")


@app.command()
@user_errors
def files(
    ctx: typer.Context,
    version: VersionOption = "head",
    fmt: Annotated[str, typer.Option("--format", help="lines or json.")] = "lines",
) -> None:
    """Print the Parquet files of a version, so that any Parquet reader (DuckDB, Spark,
    Dask, datasets) reads exactly that version.

    Example: policyspeech files --version 1.0.0
    """
    import json

    from policyspeech.store import Corpus

    _check_format(fmt, ("lines", "json"))
    paths = [str(p.resolve()) for p in Corpus(_corpus_path(ctx, None)).fragment_paths(version)]
    typer.echo(json.dumps(paths, indent=2) if fmt == "json" else "\n".join(paths))


@app.command()
@user_errors
def countries(
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    status: Annotated[str | None, typer.Option("--status", help="Only current, former, "
                      "reserved or user-assigned codes.", show_default=False)] = None,
) -> None:
    """Print the country codes a record may carry: current ISO 3166-1, former states
    (ISO 3166-3: YU, DD, SU, CS...), EU and XK, with their names.

    CS is Czechoslovakia before 2003-07-23 and Serbia and Montenegro from then on.

    Example: policyspeech countries --status former
    """
    from dataclasses import asdict

    from policyspeech.countries import countries as all_countries
    from policyspeech.output import render_rows

    _check_format(fmt, ("table", "csv", "json"))
    known = ("current", "former", "reserved", "user-assigned")
    if status is not None and status not in known:
        raise CorpusError(f"status '{status}' is not known; use {', '.join(known)}")
    rows = [asdict(c) for c in all_countries().values() if status in (None, c.status)]
    typer.echo(render_rows(rows, fmt))


@app.command()
@user_errors
def themes(
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """Print the theme codebook (Comparative Agendas Project major topics).

    Example: policyspeech themes --format csv
    """
    from dataclasses import asdict

    from policyspeech.output import render_rows
    from policyspeech.themes import THEMES

    _check_format(fmt, ("table", "csv", "json"))
    rows = [asdict(t) for t in THEMES]
    if fmt == "table":
        rows = [{k: v for k, v in r.items() if k != "description"} for r in rows]
    typer.echo(render_rows(rows, fmt))


@schema_app.command("export")
@user_errors
def schema_export(
    directory: Annotated[Path, typer.Argument(help="Folder to write the files into.")],
) -> None:
    """Write speech.schema.json and themes.csv, generated from the code, into DIRECTORY.

    Example: policyspeech schema export schema
    """
    from policyspeech.schema import export_schema_files

    directory.mkdir(parents=True, exist_ok=True)
    for name, content in export_schema_files().items():
        (directory / name).write_text(content, encoding="utf-8")
        typer.echo(f"wrote {directory / name}")


@schema_app.command("fields")
@user_errors
def schema_fields(
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """Print the fields of a record with their types and descriptions.

    Example: policyspeech schema fields
    """
    from policyspeech.output import render_rows
    from policyspeech.schema import FIELDS

    _check_format(fmt, ("table", "csv", "json"))
    rows = [{"field": f.name, "type": f.kind, "required": "yes" if f.required else "",
             "description": f.description} for f in FIELDS]
    typer.echo(render_rows(rows, fmt, width=160))


def main() -> None:
    """Entry point of the console script."""
    app(prog_name="policyspeech")


if __name__ == "__main__":  # pragma: no cover
    main()
