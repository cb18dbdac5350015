"""Commands that print the reference tables: countries, themes, and the record schema."""

from pathlib import Path
from typing import Annotated

import typer

from policyspeech.cli.options import TableFormatOption, check_format, user_errors


@user_errors
def countries(
    fmt: TableFormatOption = "table",
    status: Annotated[str | None, typer.Option("--status", help="Only current, former, "
                      "reserved or user-assigned codes.", show_default=False)] = None,
) -> None:
    """Print the country codes a record may carry: current ISO 3166-1, former states
    (ISO 3166-3: YU, DD, SU, CS...), EU and XK, with their names.

    CS is Czechoslovakia before 2003-07-23 and Serbia and Montenegro from then on.

    Example: policyspeech countries --status former
    """
    from dataclasses import asdict

    from policyspeech.countries import listed
    from policyspeech.output import render_rows

    check_format(fmt, ("table", "csv", "json"))
    typer.echo(render_rows([asdict(c) for c in listed(status)], fmt))


@user_errors
def themes(fmt: TableFormatOption = "table") -> None:
    """Print the theme codebook (Comparative Agendas Project major topics).

    Example: policyspeech themes --format csv
    """
    from dataclasses import asdict

    from policyspeech.output import render_rows
    from policyspeech.themes import THEMES

    check_format(fmt, ("table", "csv", "json"))
    rows = [asdict(t) for t in THEMES]
    if fmt == "table":
        rows = [{k: v for k, v in r.items() if k != "description"} for r in rows]
    typer.echo(render_rows(rows, fmt))


@user_errors
def schema_export(
    directory: Annotated[Path, typer.Argument(help="Folder to write the files into.")],
) -> None:
    """Write speech.schema.json and themes.csv, generated from the code, into DIRECTORY.

    Example: policyspeech schema export schema
    """
    from policyspeech.schema import write_schema_files

    for path in write_schema_files(directory):
        typer.echo(f"wrote {path}")


@user_errors
def schema_fields(fmt: TableFormatOption = "table") -> None:
    """Print the fields of a record with their types and descriptions.

    Example: policyspeech schema fields
    """
    from policyspeech.output import render_rows
    from policyspeech.schema import FIELDS

    check_format(fmt, ("table", "csv", "json"))
    rows = [{"field": f.name, "type": f.kind, "required": "yes" if f.required else "",
             "description": f.description} for f in FIELDS]
    typer.echo(render_rows(rows, fmt, width=160))
