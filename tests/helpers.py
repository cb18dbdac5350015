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

IDENTITY = {"title": "Test speeches", "authors": ["Lovelace, Ada"], "license": "CC-BY-4.0",
            "description": "Speeches made up for the tests."}
"""An identity for ``Corpus.init(..., **IDENTITY)``: a corpus needs one to be released."""
IDENTITY_OPTIONS = ["--title", "Test speeches", "--author", "Lovelace, Ada", "--license",
                    "CC-BY-4.0", "--description", "Speeches made up for the tests."]
"""The same identity as options of ``policyspeech init`` and ``policyspeech identity``."""

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


def log_files(folder: Path) -> list[Path]:
    """The log entry files of the corpus ``folder``, oldest first (in their subfolders)."""
    return sorted(folder.glob("log/*/*.json"), key=lambda path: path.name)


def stored(folder: Path, identity: str) -> Path:
    """The store's file of the fragment that log entries name ``identity``
    (``data/<sha256>.parquet``) in the corpus ``folder``."""
    return folder / "fragments" / Path(identity).name
