"""A release as a BagIt bag (RFC 8493), ready to deposit in Zenodo, Dataverse or OSF.

The bag's payload (``data/``) holds the release's Parquet files (``releases/VERSION/``),
its manifest, and the files that describe and cite it, each made for that release:
``README.md`` (the card), ``CITATION.cff``, ``CHANGELOG.md`` up to it, ``croissant.json``
and ``.zenodo.json`` (Zenodo's deposit metadata), with the DOIs that the log records.
``bag-info.txt`` names the corpus, the version, its fingerprint and its DOI when it has one;
the tag manifests hold the SHA-256 and SHA-512 of every file. The release is verified
against the log first, the bag is built beside its place and validated with the ``bagit``
library, then renamed into place: a bag appears whole and valid, or not at all.

Examples
--------
>>> import tempfile, pathlib, bagit
>>> out = pathlib.Path(tempfile.mkdtemp()) / "policyspeech-1.0.0"
>>> bag = bundle_release(None, "1.0.0", out)
>>> bagit.Bag(str(bag.path)).is_valid(), bag.files
(True, 9)
"""

from __future__ import annotations

import datetime
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from policyspeech.datasheet import read_datasheet
from policyspeech.errors import CorpusError
from policyspeech.export import as_umask_allows
from policyspeech.layout import DATASHEET
from policyspeech.reader import Reader

CHECKSUMS = ["sha256", "sha512"]
"""The payload and tag manifests the bag carries (RFC 8493 recommends SHA-256 or SHA-512)."""


@dataclass(frozen=True)
class Bag:
    """A bag that :func:`bundle_release` wrote: its folder, its payload files and bytes."""

    path: Path
    version: str
    files: int
    bytes: int


def release_payload(reader: Reader, version: str, *, deposit: bool = False
                    ) -> dict[str, bytes | Path]:
    """The files that make up release ``version`` for a deposit, by their path in the
    payload: the Parquet files (as paths in the corpus) and the descriptive files (as
    bytes, generated for this release; ``deposit``: ``.zenodo.json`` too)."""
    from policyspeech.citation import dois_for, render_cff
    from policyspeech.croissant import render_croissant
    from policyspeech.layout import (
        CHANGELOG,
        CITATION,
        CROISSANT,
        ZENODO,
        manifest_name,
        release_folder,
    )
    from policyspeech.releases import changelog_markdown, parse_version
    from policyspeech.zenodo import zenodo_for

    manifest = reader.manifest(version)
    state = reader.head()
    earlier = [reader.manifest(v) for v in sorted(state.releases, key=parse_version)
               if parse_version(v) <= parse_version(version)]
    fragments = reader.fragments(version)
    payload: dict[str, bytes | Path] = {
        f"{release_folder(version)}/{Path(path).name}": path
        for path in reader.fragment_paths(version)}
    manifest_path = reader.path / state.releases[version]["manifest"]
    payload[manifest_name(version)] = manifest_path.read_bytes()
    dois = dois_for(state, manifest)  # the DOIs the log records (`policyspeech doi`)
    payload[CITATION] = render_cff(manifest, None, dois).encode()
    payload[CHANGELOG] = changelog_markdown(earlier).encode()
    payload[CROISSANT] = render_croissant(manifest, fragments, dois).encode()
    if deposit:
        payload[ZENODO] = zenodo_for(earlier, lambda m: dois_for(state, m)).encode()
    payload.update((name, text.encode()) for name, text in
                   publication_card(reader, version).items())
    datasheet = read_datasheet(reader.path)
    if datasheet is not None:
        payload[DATASHEET] = datasheet.encode()
    return payload


def publication_card(reader: Reader, version: str) -> dict[str, str]:
    """The card (``README.md``) and ``LICENSE.md`` of release ``version`` as published
    alone: its configs are that release (the default) and the earlier ones, with no
    ``head`` (whose folder is not published), and its prose does not describe the head."""
    import dataclasses

    from policyspeech.cardfiles import derived_texts
    from policyspeech.layout import CARD
    from policyspeech.releases import parse_version

    state = reader.head()
    published = dataclasses.replace(state, fragments={}, releases={
        v: r for v, r in state.releases.items() if parse_version(v) <= parse_version(version)})
    texts = derived_texts(reader.path, published, reader.manifest(version))
    texts[CARD] = "".join(line for line in texts[CARD].splitlines(keepends=True)
                          if not line.startswith(_HEAD_LINES))
    return texts


_HEAD_LINES = ("- head: ", 'ds = datasets.load_dataset("corpus", "head"')
"""The lines of the corpus card about its head, which a published release's card leaves out."""


def bag_info(reader: Reader, version: str) -> dict[str, str]:
    """``bag-info.txt``: who made the corpus, what this is, and how to cite it."""
    manifest = reader.manifest(version)
    citation: dict[str, Any] = dict(manifest.get("citation") or {})
    authors = "; ".join(str(a.get("name") or " ".join(
        filter(None, (a.get("given-names"), a.get("family-names")))))
        for a in citation.get("authors") or [])
    info = {
        "Source-Organization": authors or "unknown",
        "External-Description": " ".join(str(citation.get("abstract") or
                                              citation.get("title") or "").split()),
        "External-Identifier": f"sha256:{manifest['fingerprint']}",
        "Bagging-Date": datetime.date.today().isoformat(),
        "Bag-Software-Agent": f"policyspeech {package_version('policyspeech')}",
        "Bag-Group-Identifier": str(citation.get("title") or "policyspeech corpus"),
        "Corpus-Version": version,
        "Corpus-Records": str(manifest["records"]),
        "Corpus-Fingerprint": f"sha256:{manifest['fingerprint']}",
    }
    from policyspeech.citation import dois_for

    doi = dois_for(reader.view(), manifest).release
    if doi:
        info["External-Identifier"] = f"https://doi.org/{doi}"
    return info


def bundle_release(corpus: str | os.PathLike[str] | None, version: str, out: Path) -> Bag:
    """Write release ``version`` (``latest`` for the newest) as a validated BagIt bag at
    ``out``, a folder that must not exist yet (or be empty)."""
    import bagit

    reader = Reader(corpus)
    version = reader.resolve_version(version)
    if version == "head":
        raise CorpusError("bundle takes a release, not the head: release it first "
                          "(`policyspeech release`) and bundle that version")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise CorpusError(f"cannot bundle into '{out}': it exists and is not an empty folder; "
                          "give a new folder's name")
    from policyspeech.scanning import version_files

    version_files(reader.path, version, True)  # the release checks against the log first
    payload = release_payload(reader, version, deposit=True)
    try:
        temp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    except OSError as exc:  # name the folder asked for, not the temporary one
        raise OSError(exc.errno, exc.strerror, str(out)) from None
    try:
        size = 0
        for name, content in payload.items():
            target = temp / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, Path):
                shutil.copyfile(content, target)
            else:
                target.write_bytes(content)
            size += target.stat().st_size
        bag = bagit.make_bag(str(temp), bag_info(reader, version), checksums=CHECKSUMS)
        bag.validate()
        as_umask_allows(temp, 0o777)  # mkdtemp made it private
        if out.exists():
            out.rmdir()
        os.replace(temp, out)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return Bag(path=out, version=version, files=len(payload), bytes=size)
