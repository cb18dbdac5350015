"""Documentation: docstring examples run, and the README documents every CLI command."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import policyspeech
from tests.helpers import REPO, cli_commands

MODULES = sorted(m.name for m in pkgutil.walk_packages(policyspeech.__path__, "policyspeech.")
                 if m.name != "policyspeech.__main__")
"""Every module, those of subpackages (the adapters) included."""


@pytest.mark.parametrize("name", ["policyspeech", *MODULES])
def test_docstring_examples(name: str, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)  # examples that find a corpus find the bundled one
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


@pytest.mark.parametrize("command", cli_commands(), ids=" ".join)
def test_readme_documents_every_command(command: tuple[str, ...]) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"policyspeech {' '.join(command)}" in readme


def test_readme_has_the_field_table_of_the_schema() -> None:
    from policyspeech.card import field_table

    assert field_table() in (REPO / "README.md").read_text(encoding="utf-8")


def test_readme_quick_start_is_two_commands() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Quick start")[1].split("```bash\n")[1].split("```")[0]
    assert block.splitlines() == ["pip install . && policyspeech list",
                                  "pip install '.[test]' && python -m pytest --run-slow"]
