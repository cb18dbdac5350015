"""Commands that check and look after a corpus: verify, and the user cache."""

from typing import TYPE_CHECKING, Annotated

import typer

from policyspeech.cli.options import corpus_path, user_errors
from policyspeech.layout import ARROW_CACHE, CARD, HEADS_CACHE

if TYPE_CHECKING:
    from policyspeech.verify import VerifyReport


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
    """Check every file against the log: fragment hashes, the hash chain, a replay of the
    whole log (ids unique and never reused, each release equal to the head it names, no
    missing entry), release manifests, the dataset card, CHANGELOG.md, CITATION.cff and
    croissant.json (--deep: also fingerprints, texts and the ids in the fragments). Exits 1
    naming each file that differs; warns of derived files behind the log and of files
    that no log entry names.

    Example: policyspeech verify --version 1.0.0
    """
    from policyspeech.output import count
    from policyspeech.store import Corpus

    corpus = Corpus(corpus_path(ctx))
    report: VerifyReport = corpus.check(version, deep=deep)
    if repair and not report.repairable:  # the log or the data: rebuild nothing from them
        *others, last = report.problems
        for problem in others:
            typer.echo(f"error: {problem}", err=True)
        typer.echo(f"error: {last}; nothing was repaired (`--repair` rewrites only the files "
                   "derived from the log, and only from a log and data that verify)", err=True)
        raise typer.Exit(1)
    if repair and (report.problems or report.warnings or report.stale_card):
        report = corpus.check(version, deep=deep, repair=True)
    for problem in report.problems:
        typer.echo(f"error: {problem}", err=True)
    if not report.ok:
        raise typer.Exit(1)
    if report.stale_card:
        typer.echo(f"warning: {report.corpus / CARD}: one commit behind the log (a "
                   "write was interrupted); the next commit or `policyspeech verify --repair` "
                   "rewrites it", err=True)
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)
    for path in report.unreferenced:
        typer.echo(f"warning: {path}: no log entry names this file, so readers ignore it "
                   "(an interrupted write can leave one); it is safe to delete", err=True)
    deep_note = "; every text hash, fingerprint and id recomputed" if deep else ""
    typer.echo(f"ok: {report.corpus} ({version or 'every version'}): "
               f"{count(report.entries, 'log entry', 'log entries')}, "
               f"{count(report.releases, 'release')}, every file matches{deep_note}")


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
    for part, (files, size) in cache_usage().items():
        what = {ARROW_CACHE: "Arrow files (load_dataset)", HEADS_CACHE: "head snapshots"}[part]
        typer.echo(f"  {what}: {files:,} files, {size / 1e6:,.1f} MB")
