"""What an upload of the corpus folder leaves out, and the ``.gitignore`` that says so.

A corpus folder holds files that must never be published: the writers' lock
(``.lock``), their staging folder (``.tmp/``), caches a tool may leave there, and the
store ``fragments/``, which holds every fragment ever written, superseded and retracted
rows included (every version's exact files are in ``data/`` and ``releases/<version>/``).

Two tools read these rules. Git honours ``.gitignore`` (``policyspeech init`` and the
first commit of an older corpus write :func:`gitignore_text`, and never replace it); the
Hugging Face Hub honours an uploaded ``.gitignore`` too, on its side, but
``HfApi.upload_folder`` and ``hf upload`` read no ignore file: they take
``ignore_patterns=`` (``--exclude``), which :data:`UPLOAD_IGNORE` gives. The store stays
out of the upload only, not out of git: a corpus kept in git keeps its store
(``policyspeech`` reads the fragments there).

Examples
--------
>>> UPLOAD_IGNORE[:3]
['.lock', '.tmp/*', 'fragments/*']
>>> "fragments/" in gitignore_text()
False
"""

from __future__ import annotations

from policyspeech.layout import FRAGMENTS, LOCK, STAGING

CACHES = [".cache/", "__pycache__/", ".ipynb_checkpoints/", ".DS_Store"]
"""Caches and editor files that tools leave in a folder."""
UPLOAD_IGNORE = [LOCK, f"{STAGING}/*", f"{FRAGMENTS}/*", ".cache/*", "__pycache__/*",
                 "*/__pycache__/*", ".ipynb_checkpoints/*", "*/.ipynb_checkpoints/*",
                 ".DS_Store", "*/.DS_Store"]
"""Patterns for ``HfApi.upload_folder(ignore_patterns=...)`` (``hf upload --exclude``):
the lock, the staging folder, the store and caches. They are matched with ``fnmatch``,
whose ``*`` crosses ``/``."""


def gitignore_text() -> str:
    """The ``.gitignore`` of a corpus folder: the lock, the staging folder and caches."""
    lines = ["# Written by policyspeech (never replaced): files that are no part of the corpus.",
             LOCK, f"{STAGING}/", *CACHES]
    return "\n".join(lines) + "\n"
