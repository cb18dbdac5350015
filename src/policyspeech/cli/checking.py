"""Commands that check and look after a corpus: verify, gc, and the user cache."""

from typing import TYPE_CHECKING, Annotated

import typer

from policyspeech.cli.options import corpus_path, user_errors
from policyspeech.layout import ARROW_CACHE, CARD, COUNTS_CACHE, HEADS_CACHE

if TYPE_CHECKING:
    from policyspeech.verify import VerifyReport


@user_errors
def verify(
    ctx: typer.Context,
    version: Annotated[str | None, typer.Option("--version", help="Only this version "
                       "(default: every version).", show_default=False)] = None,
    repair: Annotated[bool, typer.Option("--repair", help="First rewrite the files derived "
                      "from the log (card, version folders, changelog, CITATION.cff, "
                      "croissant.json), migrating a corpus of an older layout.")] = False,
    deep: Annotated[bool, typer.Option("--deep", help="Also recompute every release's "
                    "fingerprint and check every text against its text_sha256 (slower: "
                    "reads all the records).")] = False,
) -> None:
    """Check every file against the log: fragment hashes, the hash chain, a replay of the
    whole log (ids unique and never reused, each release equal to the head it names, no
    missing entry), release manifests, the version folders (data/ and releases/V/), the
    dataset card, CHANGELOG.md, CITATION.cff and croissant.json (--deep: also
    fingerprints, texts and the ids in the fragments). Exits 1 naming each file that
    differs; warns of derived files behind the log and of the files that gc would remove.

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
    superseded = [item for item in report.collectable if item.kind == "superseded"]
    for item in report.collectable:  # superseded fragments are the history: no warning
        if item.kind != "superseded":
            typer.echo(f"warning: {item.path}: {item.why}; readers ignore it, and "
                       "`policyspeech gc` removes it", err=True)
    for item in report.waiting:
        typer.echo(f"warning: {item.path}: {item.why}, or a writer's that is about to "
                   "publish; `policyspeech gc` removes it once it is an hour old", err=True)
    deep_note = "; every text hash, fingerprint and id recomputed" if deep else ""
    gc_note = (f"; {count(len(superseded), 'superseded fragment')} of no version "
               f"({sum(item.size for item in superseded):,} bytes), which `policyspeech gc` "
               "removes") if superseded else ""
    typer.echo(f"ok: {report.corpus} ({version or 'every version'}): "
               f"{count(report.entries, 'log entry', 'log entries')}, "
               f"{count(report.releases, 'release')}, every file matches{deep_note}{gc_note}")


@user_errors
def gc(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be removed; "
                       "remove nothing.")] = False,
) -> None:
    """Remove the stored files that no version needs: fragments that neither the head nor
    any release references (never a released one), and files that no log entry names once
    they are an hour old. Prints each file with its size; the fragments removed are recorded
    in the log. Removes nothing from a corpus that does not verify.

    Example: policyspeech gc --dry-run
    """
    from policyspeech.output import count
    from policyspeech.store import Corpus

    done = Corpus(corpus_path(ctx)).gc(dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    for item in done.files:
        typer.echo(f"{verb} {item.path} ({item.size:,} bytes): {item.why}")
    for item in done.waiting:
        typer.echo(f"kept {item.path} ({item.size:,} bytes): {item.why}, or a writer's that "
                   "is about to publish; gc removes it once it is an hour old")
    if not done.files:
        typer.echo("nothing to remove: every stored file is in a version")
        return
    recorded = f", recorded in log entry {done.entry}" if done.entry is not None else ""
    typer.echo(f"{verb} {count(len(done.files), 'file')}, {done.size:,} bytes{recorded}"
               + ("; dry run: nothing was removed" if dry_run else ""))


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
        what = {ARROW_CACHE: "Arrow files (load_dataset)", HEADS_CACHE: "head snapshots",
                COUNTS_CACHE: "token counts (compare)"}[part]
        typer.echo(f"  {what}: {files:,} files, {size / 1e6:,.1f} MB")
