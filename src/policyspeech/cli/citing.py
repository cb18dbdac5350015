"""Commands about what a corpus is published as: its identity and its releases' DOIs.

The identity options are shared with ``init``, which takes them too. The identity is
printed one ``field: value`` line each, then what a release still needs:

>>> identity_lines({"title": "Speeches", "authors": [{"name": "Lab"}], "license": "CC0-1.0",
...                 "abstract": "Speeches."})
['title: Speeches', 'author: Lab', 'license: CC0-1.0', 'description: Speeches.']
"""

import inspect
from typing import Annotated, Any

import typer

from policyspeech.cli.options import corpus_path, user_errors, with_parameters

TitleOption = Annotated[str | None, typer.Option(
    "--title", help="Title of the corpus.", show_default=False)]
AuthorOption = Annotated[list[str] | None, typer.Option(
    "--author", help='An author (repeat, in order): a person as "Family, Given", optionally '
    'with <ORCID> and (Affiliation) after it, or an organisation by its name. Replaces '
    "all the authors.", show_default=False)]
LicenseOption = Annotated[str | None, typer.Option(
    "--license", help="Licence of the corpus as a whole: an SPDX id (CC-BY-4.0, CC0-1.0).",
    show_default=False)]
DescriptionOption = Annotated[str | None, typer.Option(
    "--description", help="What the corpus holds, in a few sentences.", show_default=False)]
KeywordOption = Annotated[list[str] | None, typer.Option(
    "--keyword", help="A keyword (repeat; replaces all the keywords).", show_default=False)]
UrlOption = Annotated[str | None, typer.Option(
    "--url", help="The corpus's page (its repository, its dataset page).", show_default=False)]

IDENTITY_PARAMETERS = [
    inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=None)
    for name, annotation in (("title", TitleOption), ("author", AuthorOption),
                             ("license", LicenseOption), ("description", DescriptionOption),
                             ("keyword", KeywordOption), ("url", UrlOption))]
"""The identity options of ``identity`` and ``init``."""


def identity_fields(params: dict[str, Any]) -> dict[str, Any]:
    """The identity values that the options among a command's parameters give (None: not
    given), as :meth:`policyspeech.store.Corpus.set_identity` takes them."""
    return {"title": params.get("title"), "authors": params.get("author"),
            "license": params.get("license"), "description": params.get("description"),
            "keywords": params.get("keyword"), "url": params.get("url")}


def identity_lines(identity: dict[str, Any]) -> list[str]:
    """The identity as ``field: value`` lines, with what a release still needs."""
    from policyspeech.citation import (
        PLACEHOLDER,
        REQUIRED,
        SET_IDENTITY,
        author_spec,
        missing_fields,
    )

    lines = [f"title: {identity.get('title', '')}"]
    lines += [f"author: {author_spec(author)}" for author in identity.get("authors", [])]
    lines += [f"license: {identity.get('license', '')}",
              f"description: {' '.join(str(identity.get('abstract', '')).split())}"]
    lines += [f"keyword: {keyword}" for keyword in identity.get("keywords", [])]
    if identity.get("url"):
        lines.append(f"url: {identity['url']}")
    missing = missing_fields(identity)
    if missing and all(identity.get(k) == v for k, v in PLACEHOLDER.items()):
        lines.append("a release needs an identity of its own, not the bundled corpus's "
                     f"title and author: set it with {SET_IDENTITY}")
    elif missing:
        lines.append(f"a release needs {', '.join(REQUIRED[m] for m in missing)}: set "
                     f"{'them' if len(missing) > 1 else 'it'} with {SET_IDENTITY}")
    return lines


@user_errors
@with_parameters(IDENTITY_PARAMETERS)
def identity(ctx: typer.Context, **fields: Any) -> None:
    """Show or set the corpus's identity (title, authors, licence, description): what its
    releases are credited to, written to its CITATION.cff.

    Without options, prints it. A release records the identity it was made with; a new
    one applies from the next release.

    Example: policyspeech identity --title "UK policy speeches" --author "Doe, Jane
    <0000-0002-1825-0097> (University of Oslo)" --license CC-BY-4.0 --description "Speeches
    of UK ministers, 2010-2024."
    """
    from policyspeech.store import Corpus

    corpus = Corpus(corpus_path(ctx))
    given = identity_fields(fields)
    if all(value is None for value in given.values()):
        found = corpus.identity()
    else:
        found = corpus.set_identity(**given)
    for line in identity_lines(found):
        typer.echo(line)


@user_errors
def doi(
    ctx: typer.Context,
    version: Annotated[str | None, typer.Argument(
        metavar="[VERSION]", help="The release the DOI names (not with --concept).",
        show_default=False)] = None,
    identifier: Annotated[str | None, typer.Argument(
        metavar="DOI", help="10.NNNN/suffix or https://doi.org/10.NNNN/suffix.",
        show_default=False)] = None,
    concept: Annotated[str | None, typer.Option(
        "--concept", help="Record this DOI as the concept DOI, which names every version.",
        show_default=False)] = None,
    replace: Annotated[bool, typer.Option(
        "--replace", help="Replace a different DOI recorded before (the log keeps "
        "both).")] = False,
) -> None:
    """Record the DOI that a repository (Zenodo, Dataverse, OSF) minted for a release, or
    the concept DOI of every version, without changing any data or fingerprint.

    The DOI is a log entry of its own; cite, CITATION.cff, croissant.json, .zenodo.json and
    the card show it for that release only.

    Example: policyspeech doi 1.0.0 10.5281/zenodo.1234567

    Example: policyspeech doi --concept 10.5281/zenodo.1234566
    """
    from policyspeech.errors import CorpusError
    from policyspeech.store import Corpus

    corpus = Corpus(corpus_path(ctx))
    if concept is not None:
        if version is not None:
            raise CorpusError("give either VERSION DOI or --concept DOI, not both")
        recorded = corpus.set_concept_doi(concept, replace=replace)
        target = "every version (the concept DOI)"
    elif version is None or identifier is None:
        raise CorpusError("give the release and its DOI (policyspeech doi 1.0.0 "
                          "10.5281/zenodo.1234567), or --concept DOI")
    else:
        recorded = corpus.set_doi(version, identifier, replace=replace)
        target = f"release {corpus.resolve_version(version)}"
    if recorded is None:
        typer.echo(f"{target} has this DOI already; nothing recorded")
    else:
        typer.echo(f"recorded DOI {recorded} for {target}")
