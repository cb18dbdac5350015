"""The README's "How the code is laid out" table names every module, and only real ones."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "policyspeech"


def _table() -> set[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## How the code is laid out", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return {name.rstrip("/") for row in rows for name in re.findall(r"`([^`]+)`", row)}


def test_every_module_is_in_the_layout_table_and_every_name_is_a_module() -> None:
    modules = {p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("_")}
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    named = _table()
    assert modules | packages - {"bundled_corpus"} == named


def test_environment_variables_are_read_in_layout_only() -> None:
    readers = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                     if re.search(r"os\.environ|getenv", p.read_text(encoding="utf-8")))
    assert readers == ["layout.py"]


def test_corpus_file_names_are_spelled_in_layout_only() -> None:
    """Outside docstring examples, no module spells a folder or file of a corpus: as a
    path (``/ "data"``, ``"data/..."``) or a file name."""
    folders = "|".join(("data", "log", "releases"))
    files = "|".join(map(re.escape, (".tmp", ".lock", "README.md", "CHANGELOG.md",
                                     "CITATION.cff", "croissant.json")))
    pattern = re.compile(rf"""/ ["'](?:{folders})["']|["'](?:{folders})/|["'](?:{files})["']""")
    spelled = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "layout.py":
            continue
        example = False
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            stripped = line.lstrip()
            example = stripped.startswith((">>>", "...")) or (example and bool(stripped))
            if pattern.search(line) and not example:
                spelled.append(f"{path.relative_to(PACKAGE)}:{number}")
    assert spelled == []
