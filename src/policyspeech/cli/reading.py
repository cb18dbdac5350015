"""Commands that read a corpus: list, show, export, files, versions, diff and cite."""

from pathlib import Path
from typing import Annotated, Any

import typer

from policyspeech.cli.options import (
    SELECTION_PARAMETERS,
    FormatOption,
    RawOption,
    VersionOption,
    check_format,
    corpus_path,
    library_defaults,
    user_errors,
    with_parameters,
)
from policyspeech.export import export_version

LIST_COLUMNS = ["id", "date", "speaker", "country", "word_count", "title"]
"""The columns of ``list``'s table (csv, json and jsonl give every field but the text)."""
EXPORT = library_defaults(export_version)
"""The defaults of :func:`policyspeech.export.export_version`, which ``export`` takes."""


@user_errors
@with_parameters(SELECTION_PARAMETERS)
def list_(
    ctx: typer.Context,
    fmt: FormatOption = "table",
    raw: RawOption = False,
    **selection: Any,
) -> None:
    """List speeches (without their text), oldest first.

    The table shows the main columns; csv, json and jsonl give every field but the text.
    In csv, a cell that a spreadsheet would run as a formula starts with ' (unless --raw).

    Example: policyspeech list --country GB --since 2019 --format csv
    """
    from policyspeech import loaders
    from policyspeech.output import FORMATS, dates_at_precision, render_rows
    from policyspeech.schema import FIELD_NAMES

    check_format(fmt, FORMATS)
    table = fmt == "table"
    columns = [*LIST_COLUMNS, "date_precision"] if table else [
        c for c in FIELD_NAMES if c != "text"]
    frame = loaders.read(corpus_path(ctx), columns=columns, **selection).sort(["date", "id"])
    typer.echo(render_rows(dates_at_precision(frame.to_dicts(), keep_precision=not table), fmt,
                           raw=raw))


@user_errors
def show(
    ctx: typer.Context,
    record_id: Annotated[str, typer.Argument(metavar="ID", help="Id of the speech.")],
    version: VersionOption = "head",
    fmt: Annotated[str, typer.Option("--format", help="table (fields, then the text), csv, "
                   "json or jsonl.")] = "table",
    raw: RawOption = False,
) -> None:
    """Show one speech: every field, then the text.

    Example: policyspeech show gb-2019-10-30-brandon-lewis-security-minister-s-speech-on-security-and-crime-after-brexit
    """
    from policyspeech.output import FORMATS, dates_at_precision, render_rows
    from policyspeech.store import Corpus

    check_format(fmt, FORMATS)
    [record] = dates_at_precision([Corpus(corpus_path(ctx)).get(record_id, version)])
    if fmt != "table":
        typer.echo(render_rows([record], "jsonl" if fmt == "json" else fmt, raw=raw))
        return
    text = record.pop("text")
    width = max(len(k) for k in record)
    for key, value in record.items():
        shown = "; ".join(value) if isinstance(value, list) else "" if value is None else value
        typer.echo(f"{key.ljust(width)}  {shown}")
    typer.echo("")
    typer.echo(text)


@user_errors
def versions(ctx: typer.Context, fmt: FormatOption = "table", raw: RawOption = False) -> None:
    """List the releases: version, date, records, fingerprint, notes and Delta table version.

    Example: policyspeech versions --format json
    """
    from policyspeech.output import FORMATS, render_rows
    from policyspeech.store import Corpus

    check_format(fmt, FORMATS)
    rows = Corpus(corpus_path(ctx)).versions()
    typer.echo(render_rows(rows, fmt, raw=raw) if rows else "no releases yet")


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

    check_format(fmt, ("table", "json"))
    changes = Corpus(corpus_path(ctx)).diff(a, b)
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


@user_errors
def cite(
    ctx: typer.Context,
    version: Annotated[str, typer.Option("--version", help="A release or latest.")] = "latest",
    fmt: Annotated[str, typer.Option("--format", help="bibtex, apa, ris, cff or "
                   "json (CSL JSON).")] = "bibtex",
) -> None:
    """Print a citation of a release, with its fingerprint and how to load it.

    Example: policyspeech cite --version 1.0.0 --format apa
    """
    from policyspeech.store import Corpus

    typer.echo(Corpus(corpus_path(ctx)).cite(version, fmt))


@user_errors
def export(
    ctx: typer.Context,
    out: Annotated[Path, typer.Argument(help="File to write: .parquet, .csv or .jsonl; a name "
                   "without an extension is a folder of .txt files; '-' is standard output.")],
    version: VersionOption = EXPORT["version"],
    fmt: Annotated[str | None, typer.Option("--format", help="parquet, csv, jsonl or txt; "
                   "only needed for '-' (the name's extension says it).")] = EXPORT["fmt"],
    raw: RawOption = EXPORT["raw"],
    verify: Annotated[bool, typer.Option(
        "--verify/--no-verify", help="Check every file of the version against the log "
        "first (SHA-256, rows, the release manifest); --no-verify skips it.")] = EXPORT["verify"],
) -> None:
    """Write every record of a version to a file whose extension names its format
    (.parquet, .csv, .jsonl), or to a folder of .txt files with metadata.csv (readtext).

    In csv, a cell that a spreadsheet would run as a formula starts with ' ; give --raw
    for a file to import again. Every file of the version is first checked against the
    log, as `verify` does for that version (--no-verify skips it).

    Example: policyspeech export speeches-1.0.0.csv --version 1.0.0
    """
    rows = export_version(corpus_path(ctx), out, version=version, fmt=fmt, raw=raw,
                          verify=verify)
    if str(out) != "-":  # standard output holds the records
        typer.echo(f"wrote {rows} records to {out}")


@user_errors
def files(
    ctx: typer.Context,
    version: VersionOption = "head",
    fmt: Annotated[str, typer.Option("--format", help="lines or json.")] = "lines",
) -> None:
    """Print the Parquet files of a version, so that any Parquet reader (DuckDB, Spark,
    Dask, datasets) reads exactly that version: its files in the store, which no commit
    changes (the version's folder, data/ or releases/V/, holds the same files).

    Example: policyspeech files --version 1.0.0
    """
    import json

    from policyspeech.store import Corpus

    check_format(fmt, ("lines", "json"))
    paths = [str(p.resolve()) for p in Corpus(corpus_path(ctx)).fragment_paths(version)]
    typer.echo(json.dumps(paths, indent=2) if fmt == "json" else "\n".join(paths))
