"""Commands that publish a release: bundle (a BagIt bag to deposit) and publish (the Hub)."""

from pathlib import Path
from typing import Annotated

import typer

from policyspeech.cli.options import DryRunOption, corpus_path, user_errors


@user_errors
def bundle(
    ctx: typer.Context,
    version: Annotated[str, typer.Argument(help="The release to bundle ('latest': the newest).")],
    out: Annotated[Path, typer.Argument(help="The bag's folder (new, or empty).")],
) -> None:
    """Write a release as a BagIt bag (its Parquet files, manifest, card, citation,
    changelog and Croissant, with SHA-256 and SHA-512 of each), to deposit in Zenodo,
    Dataverse or OSF. The release is verified first; the bag is validated before it appears.

    Example: policyspeech bundle 1.0.0 policyspeech-1.0.0
    """
    from policyspeech.deposit import bundle_release

    bag = bundle_release(corpus_path(ctx), version, out)
    typer.echo(f"wrote release {bag.version} to the bag {out} ({bag.files} files, "
               f"{bag.bytes:,} bytes; valid BagIt)")


@user_errors
def publish(
    ctx: typer.Context,
    hub: Annotated[str, typer.Option("--hub", metavar="OWNER/NAME",
                   help="The Hugging Face dataset repository to upload to.")],
    version: Annotated[str, typer.Option("--version", help="The release to publish "
                       "('latest': the newest).")] = "latest",
    dry_run: DryRunOption = False,
) -> None:
    """Upload a release to the Hugging Face Hub: its Parquet files (and earlier releases',
    so that every config of the card loads), manifests, card, citation, changelog and
    Croissant, in one commit tagged vX.Y.Z. --dry-run prints exactly what would be sent.

    Example: policyspeech publish --hub my-lab/policy-speeches --version 1.0.0 --dry-run
    """
    from policyspeech.hub import plan_hub_upload, publish_to_hub

    plan = plan_hub_upload(corpus_path(ctx), hub, version)
    if dry_run:
        typer.echo(plan.describe())
        return
    url = publish_to_hub(plan)
    typer.echo(f"published release {plan.version} to {hub} ({len(plan.files)} files), "
               f"tagged {plan.tag}: {url}")
