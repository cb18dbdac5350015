"""The ``policyspeech`` command: a thin layer over the library.

Every command opens the corpus, makes one library call and prints its result; errors of
the library (:class:`policyspeech.errors.CorpusError`) become one line ``error: ...`` on
stderr and exit status 1, and so do system errors (a full disk, a file size limit, a
permission) and arguments that are not UTF-8 (:func:`~policyspeech.cli.options.user_errors`).
Heavy libraries are imported inside the commands, so ``--help``
is fast.

The commands live in one module per group: :mod:`~policyspeech.cli.writing` (init, add,
amend, retract, release, compact), :mod:`~policyspeech.cli.importing` (import),
:mod:`~policyspeech.cli.reading` (list, show, export, files, versions, diff, cite),
:mod:`~policyspeech.cli.checking` (verify, gc, cache), :mod:`~policyspeech.cli.citing`
(identity, doi), :mod:`~policyspeech.cli.publishing` (bundle, publish),
:mod:`~policyspeech.cli.analysis`
(stats, kwic, compare, trends, similar) and :mod:`~policyspeech.cli.reference` (countries, themes,
schema); what they share is in :mod:`~policyspeech.cli.options`.
"""

from collections.abc import Callable
from typing import Any

import typer

from policyspeech.cli import (
    analysis,
    checking,
    citing,
    importing,
    publishing,
    reading,
    reference,
    writing,
)
from policyspeech.cli.options import CorpusOption, say

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


@app.callback()
def main_options(ctx: typer.Context, corpus: CorpusOption = None) -> None:
    """A versioned, citable corpus of policy speeches.

    Example: policyspeech list --country GB --since 2019
    """
    ctx.obj = {"corpus": corpus}


COMMANDS: list[tuple[str, Callable[..., Any]]] = [
    ("init", writing.init), ("add", writing.add), ("list", reading.list_),
    ("show", reading.show), ("release", writing.release), ("amend", writing.amend),
    ("retract", writing.retract), ("versions", reading.versions), ("diff", reading.diff),
    ("verify", checking.verify), ("cite", reading.cite), ("identity", citing.identity),
    ("doi", citing.doi), ("export", reading.export), ("bundle", publishing.bundle),
    ("publish", publishing.publish),
    ("import", importing.import_), ("stats", analysis.stats), ("kwic", analysis.kwic),
    ("compare", analysis.compare), ("trends", analysis.trends),
    ("similar", analysis.similar), ("compact", writing.compact),
    ("gc", checking.gc), ("cache", checking.cache), ("files", reading.files),
    ("countries", reference.countries), ("themes", reference.themes),
]
"""The commands, in the order that ``policyspeech --help`` lists them."""

for name, command in COMMANDS:
    app.command(name)(command)
schema_app.command("export")(reference.schema_export)
schema_app.command("fields")(reference.schema_fields)
del name, command


def main() -> None:
    """Entry point of the console script. An error that no command turned into its
    ``error:`` line (a bug) is still one line and exit status 1, never a traceback."""
    try:
        app(prog_name="policyspeech")
    except Exception as exc:  # the last resort: the commands report the rest
        say(f"error: {type(exc).__name__}: {exc} (an unexpected error, which is a bug in "
            "policyspeech: please report it with the command that you ran)")
        raise SystemExit(1) from None


__all__ = ["app", "main"]
