"""The ``import`` command: many speeches in one commit, with progress on a terminal."""

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from policyspeech.cli.options import (
    MAX_BYTES,
    MAX_ERRORS,
    METADATA_PARAMETERS,
    DryRunOption,
    MessageOption,
    corpus_path,
    metadata,
    user_errors,
    with_parameters,
)
from policyspeech.hooks import crash_point


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
    files_root: Annotated[Path | None, typer.Option("--files-root", help="The folder that a "
                          "'path' field may name text files in (default: the folder of the "
                          "source file; a path outside it is refused).",
                          show_default=False)] = None,
    message: MessageOption = None,
    dry_run: DryRunOption = False,
    max_errors: Annotated[int, typer.Option("--max-errors", help="Bad records to list at "
                          "most.")] = MAX_ERRORS,
    max_bytes: Annotated[int, typer.Option("--max-bytes", help="Largest text file "
                         "accepted.")] = MAX_BYTES,
    **fields: Any,
) -> None:
    """Import many speeches in one commit, all or nothing.

    Every record is validated first; each bad one is listed with its file and line. The
    metadata options fill the fields that the records leave empty.

    Example: policyspeech import speeches.jsonl --skip-existing

    Example: policyspeech import --from parlamint ParlaMint-AT/ --retrieved 2026-11-30
    """
    import time

    from policyspeech.importing import (
        ImportOptions,
        check_max_errors,
        parse_delimiter,
        parse_mapping,
    )
    from policyspeech.store import Corpus

    started = time.perf_counter()
    check_max_errors(max_errors)
    if delimiter is not None:
        delimiter = parse_delimiter(delimiter)
    options = ImportOptions(
        mapping=parse_mapping(mapping or []), ignore=frozenset(ignore or []),
        defaults={k: v for k, v in metadata(ctx.params).items() if v},
        join_lines=join_lines, delimiter=delimiter, max_bytes=max_bytes,
        lists=tuple(lists or ()), speakers=speakers, files_root=files_root)
    corpus = Corpus(corpus_path(ctx))
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
