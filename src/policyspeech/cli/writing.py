"""Commands that write a corpus: init, add, amend, retract, release and compact.

``import`` has a module of its own (:mod:`policyspeech.cli.importing`).
"""

from pathlib import Path
from typing import Annotated, Any

import typer

from policyspeech.cli.citing import IDENTITY_PARAMETERS, identity_fields
from policyspeech.cli.options import (
    MAX_BYTES,
    MAX_ERRORS,
    METADATA_PARAMETERS,
    DryRunOption,
    MessageOption,
    Reason,
    corpus_path,
    metadata,
    user_errors,
    with_parameters,
)
from policyspeech.errors import CorpusError
from policyspeech.hooks import crash_point


@user_errors
@with_parameters(IDENTITY_PARAMETERS)
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create (must be new or empty).")],
    from_bundled: Annotated[bool, typer.Option("--from-bundled", help="Start from a copy of "
                            "the corpus bundled with the package.")] = False,
    **fields: Any,
) -> None:
    """Create a new empty corpus, or a writable copy of the bundled one, with its identity
    (title, authors, licence, description: a release needs them; `policyspeech identity`
    sets them later).

    Example: policyspeech init my-corpus --title "UK policy speeches" --author "Doe, Jane
    <0000-0002-1825-0097>" --license CC-BY-4.0 --description "Speeches of UK ministers."

    Example: policyspeech init my-corpus --from-bundled
    """
    from policyspeech.citation import SET_IDENTITY, missing_fields
    from policyspeech.output import count
    from policyspeech.store import Corpus

    given = {name: value for name, value in identity_fields(fields).items() if value is not None}
    corpus = Corpus.init(directory, from_bundled=from_bundled, **given)
    typer.echo(f"created corpus '{corpus.path}' with {count(corpus.head().rows, 'record')}")
    if missing_fields(corpus.identity()):
        typer.echo(f"before its first release, give it an identity with {SET_IDENTITY}",
                   err=True)


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
    message: MessageOption = None,
    dry_run: DryRunOption = False,
    max_bytes: Annotated[int, typer.Option("--max-bytes", help="Largest file "
                         "accepted.")] = MAX_BYTES,
    join_lines: Annotated[bool, typer.Option("--join-lines/--no-join-lines", help="Join a "
                          "sentence broken across paragraphs (as PDF and web extraction "
                          "leave them).")] = True,
    **fields: Any,
) -> None:
    """Add speeches from text or Markdown files, in one commit (all or nothing).

    Metadata comes from YAML front matter, a sidecar FILE.yaml, --meta, and the options,
    the options winning. Prints the id of each speech added.

    Example: policyspeech add speech.txt --speaker "Brandon Lewis" --country GB
    --date 2019-10-30 --language en --title "Security and crime after Brexit"
    """
    from policyspeech.store import Corpus

    ids = Corpus(corpus_path(ctx)).add_files(
        files, meta=meta, overrides={**metadata(ctx.params), "id": id}, max_bytes=max_bytes,
        join_lines=join_lines, message=message, dry_run=dry_run)
    crash_point("before-success")
    for record_id in ids:
        typer.echo(record_id)
    if dry_run:
        typer.echo(f"dry run: {len(ids)} speech(es) valid, nothing written", err=True)


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

    manifest = Corpus(corpus_path(ctx)).release(bump, notes=notes)
    crash_point("before-success")
    records = manifest["records"]
    typer.echo(f"released {manifest['version']}: {records} record{'' if records == 1 else 's'}"
               f", fingerprint {manifest['fingerprint']}")


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
                          "most (with --from).")] = MAX_ERRORS,
    max_bytes: Annotated[int, typer.Option("--max-bytes", help="Largest --text file "
                         "accepted.")] = MAX_BYTES,
    clear: Annotated[list[str] | None, typer.Option("--clear", help="A field to empty "
                     "(repeat): --clear themes --clear party.", show_default=False)] = None,
    join_lines: Annotated[bool, typer.Option("--join-lines/--no-join-lines", help="With "
                          "--text: join a sentence broken across paragraphs, as add "
                          "does.")] = True,
    **fields: Any,
) -> None:
    """Correct speeches' metadata or text in a new commit; earlier releases keep theirs.

    One speech by its ID and the options, or many from a file (--from), all or nothing.

    Example: policyspeech amend ID --date 2019-10-29 --reason "Date confirmed by the Home Office"

    Example: policyspeech amend --from themes.csv --reason "CAP coding, second coder"
    """
    from policyspeech.importing import check_max_errors
    from policyspeech.store import Corpus

    changes = {name: value for name, value in metadata(ctx.params).items() if value}
    check_max_errors(max_errors)
    corpus = Corpus(corpus_path(ctx))
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
        from policyspeech.ingest import read_text_file

        new_text = read_text_file(text, max_bytes=max_bytes, join_lines=join_lines)
    changed = corpus.amend(record_id, changes, text=new_text, reason=reason or "")
    typer.echo(f"amended {record_id}: {', '.join(changed)}")


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

    Corpus(corpus_path(ctx)).retract(record_id, reason=reason)
    typer.echo(f"retracted {record_id}")


@user_errors
def compact(ctx: typer.Context) -> None:
    """Merge the head's small unreleased fragments into sorted ones (released fragments
    and the large fragments of an import are never rewritten).

    Example: policyspeech compact
    """
    from policyspeech.store import Corpus

    done = Corpus(corpus_path(ctx)).compact()
    typer.echo(f"merged {done.merged} fragments into "
               f"{'one' if done.written == 1 else done.written}" if done.merged else
               "nothing to compact: the head has fewer than two small unreleased fragments")
