"""What the tests share: paths, the speech factory, the CLI runner and a tree fingerprint.

Test modules import from here (never from one another); fixtures stay in ``conftest.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "seeds" / "000_2cd032a15e885a1c.txt"
REALDATA = REPO.parent / "shared" / "realdata"
"""Real corpora this project did not write (``../shared/realdata`` beside the project);
tests that read them are skipped when the folder is absent."""

META = ["--title", "A title", "--speaker", "Ada Lovelace", "--country", "GB",
        "--date", "2019-10-30", "--language", "en"]
"""The metadata options of ``add`` for a valid speech."""


def make_speech(n: int = 0, **fields: Any) -> dict[str, Any]:
    """A valid speech; ``n`` makes its text unique, ``fields`` replace or add fields."""
    speech: dict[str, Any] = {
        "title": f"Speech number {n}",
        "speaker": "Ada Lovelace",
        "country": "GB",
        "date": "2019-10-30",
        "language": "en",
        "themes": ["technology"],
        "text": f"This is speech number {n}.\n\nIt has two paragraphs.",
    }
    speech.update(fields)
    return speech


def run(*args: str, input: str | bytes | None = None) -> Any:
    """Run ``policyspeech ARGS...`` in this process; the result has ``exit_code``,
    ``stdout`` and ``stderr`` (kept apart)."""
    from typer.testing import CliRunner  # here: the harnesses' writers import this module

    from policyspeech.cli import app

    return CliRunner().invoke(app, list(args), input=input)


def cli_commands() -> list[tuple[str, ...]]:
    """Every leaf command of the CLI, as the words that call it (``("schema", "export")``)."""
    from typer.main import get_command

    from policyspeech.cli import app

    def leaves(group: Any, prefix: tuple[str, ...]) -> list[tuple[str, ...]]:
        found: list[tuple[str, ...]] = []
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                found += leaves(command, (*prefix, name))
            else:
                found.append((*prefix, name))
        return found

    return leaves(get_command(app), ())


def tree_digest(folder: Path) -> dict[str, str]:
    """SHA-256 of every file below ``folder`` (the writer lock file excluded), by path."""
    digests = {}
    for root, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(root) / name
            if name == ".lock":
                continue
            digests[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def write_jsonl(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    """Write ``rows`` as JSON Lines (UTF-8, characters unescaped); return ``path``."""
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def published_folder(corpus: Path, work: Path) -> Path:
    """TEMPORARY, until the layout of issue 13's part 1 (the store branch) is merged: a
    folder that plain ``datasets`` (or any engine) loads as the corpus, whose ``data/``
    holds exactly the head's fragments and ``releases/<version>/`` exactly each release's,
    as hard links made here from the log's fragments (:func:`policyspeech.layout.
    fragment_file`), beside the card and ``LICENSE.md``. A corpus that has its views
    already (a ``fragments/`` store) is returned as it is: then this helper can go."""
    from policyspeech.layout import CARD, DATA, FRAGMENTS, LICENSE, fragment_file, release_folder
    from policyspeech.log import HeadState, advance

    if (corpus / FRAGMENTS).is_dir():
        return corpus
    state = advance(corpus, HeadState())
    target = work / f"{corpus.name}-published"
    target.mkdir(parents=True)
    for name in (CARD, LICENSE):
        if (corpus / name).is_file():
            os.link(corpus / name, target / name)
    views = {DATA: list(state.fragments)}
    views.update({release_folder(v): r["fragments"] for v, r in state.releases.items()})
    for folder, paths in views.items():
        (target / folder).mkdir(parents=True)
        for path in paths:
            os.link(fragment_file(corpus, {"path": path, "sha256": Path(path).stem}),
                    target / folder / Path(path).name)
    return target
