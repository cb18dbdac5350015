"""Documentation: docstring examples and the README's examples run and give what they show;
the README documents every CLI command and the quick start is what CI runs."""

from __future__ import annotations

import doctest
import importlib
import os
import pkgutil
import re
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

import policyspeech
from tests.helpers import REPO, cli_commands, run

WITHOUT_EXAMPLES = {
    "policyspeech.__main__": "runs the CLI",
    "policyspeech.adapters": "a package's __init__",
    "policyspeech.charts": "writes image files (tests/test_analysis.py)",
    "policyspeech.cli": "the commands (tests/test_cli.py, the README's transcripts below)",
    **{f"policyspeech.cli.{group}": "commands (tests/test_cli*.py, the README's transcripts)"
       for group in ("analysis", "checking", "importing", "publishing", "reading", "reference",
                     "writing")},
}
MODULES = sorted(m.name for m in pkgutil.walk_packages(policyspeech.__path__, "policyspeech.")
                 if m.name not in WITHOUT_EXAMPLES)
"""Every module with docstring examples, those of subpackages (the adapters) included."""

README = (REPO / "README.md").read_text(encoding="utf-8")


def blocks(language: str) -> list[str]:
    """The README's fenced code blocks of ``language``, in order."""
    return re.findall(rf"^```{language}\n(.*?)^```", README, flags=re.S | re.M)


@pytest.mark.parametrize("name", ["policyspeech", *MODULES])
def test_docstring_examples(name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # examples that find a corpus find the bundled one
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("command", cli_commands(), ids=" ".join)
def test_readme_documents_every_command(command: tuple[str, ...]) -> None:
    assert f"policyspeech {' '.join(command)}" in README


def test_readme_has_the_field_table_of_the_schema() -> None:
    from policyspeech.card import field_table

    assert field_table() in README


def test_readme_quick_start_runs_and_its_test_command_is_what_ci_runs(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    block = README.split("## Quick start")[1].split("```bash\n")[1].split("```")[0]
    install, test = block.splitlines()
    assert install == "pip install . && policyspeech list"
    monkeypatch.chdir(tmp_path)  # the bundled corpus
    listed = run("list")
    assert listed.exit_code == 0 and "gb-2019-10-30-brandon-lewis-" in listed.stdout
    assert test.startswith("pip install '.[test]' && ")
    readme_words = shlex.split(test.split(" && ")[1])
    [ci_line] = [line for line in (REPO / ".ci" / "run").read_text().splitlines()
                 if " -m pytest" in line]
    ci_words = ["python", *shlex.split(ci_line)[1:]]  # its own environment's python
    assert readme_words == ["python", "-m", "pytest", "--run-slow"]
    assert ci_words[:len(readme_words)] == readme_words
    assert set(ci_words[len(readme_words):]) <= {"-q", "-p", "no:cacheprovider"}  # output only


@pytest.fixture
def checkout_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder like the checkout's top (its corpus and examples, copied), as the working
    directory, with this environment's ``policyspeech`` command on the PATH."""
    shutil.copytree(REPO / "corpus", tmp_path / "corpus", ignore=shutil.ignore_patterns(".lock"))
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent),
                                                os.environ.get("PATH", "")]))
    return tmp_path


def test_readme_python_examples_run(checkout_copy: Path, capfd: pytest.CaptureFixture[str]
                                    ) -> None:
    examples = blocks("python")
    assert len(examples) == 6
    namespace: dict[str, Any] = {}
    for code in examples:  # in order, as a reader pastes them into one session
        exec(compile(code, "README.md", "exec"), namespace)
    [record_id] = namespace["df"]["id"].to_list()  # the read with filters finds the seed
    assert record_id.startswith("gb-2019-10-30-brandon-lewis-")
    assert namespace["lf"].collect()["country"].to_list() == ["GB"]
    assert namespace["table"].column_names == ["id", "speaker"]
    assert namespace["ds"].num_rows == 1  # plain datasets, from the card of ./corpus
    assert namespace["files"] and all(Path(f).is_file() for f in namespace["files"])
    assert namespace["release"].num_rows == namespace["gb"].height == 1  # read as a Delta table
    shown = capfd.readouterr().out  # DuckDB prints its table itself
    assert "Brandon Lewis" in shown and "count_star()" in shown


NOT_RUN = {
    "policyspeech import speeches.jsonl": "a 100,000-speech source the project does not ship",
    "policyspeech init real &&": "the real corpora, timed (tests/test_realdata.py imports them)",
    "policyspeech --corpus real": "the real corpora, timed",
}


def transcripts() -> list[tuple[str, list[str]]]:
    """Every ``$ command`` of the README's text blocks, with the lines shown after it."""
    found: list[tuple[str, list[str]]] = []
    for block in blocks("text"):
        for line in block.splitlines():
            if line.startswith("$ "):
                found.append((line[2:], []))
            elif found and line.strip():
                found[-1][1].append(line.rstrip())
    return found


def test_readme_transcripts_give_the_output_they_show(checkout_copy: Path) -> None:
    """Each transcript runs (from a folder like the checkout's top) and the lines the README
    shows are consecutive lines of the real output; a shown line may stop early (an import's
    timing is left out) and a listing may stop before the output ends."""
    ran = 0
    for command, shown in transcripts():
        if any(command.startswith(prefix) for prefix in NOT_RUN):
            continue
        output: list[str] = []
        for part in command.split(" && "):
            words = shlex.split(part)
            assert words[0] == "policyspeech", command
            result = run(*words[1:])
            assert result.exit_code == 0, (command, result.stderr)
            output += [line.rstrip() for line in result.stdout.splitlines()]
        assert shown, command
        assert any(all(actual.startswith(line) for actual, line
                       in zip(output[start:start + len(shown)], shown, strict=True))
                   for start in range(len(output) - len(shown) + 1)), (command, output)
        ran += 1
    assert ran == 6  # cite, and the five of the demo corpus
