"""Run the command line, or a function, with the library's test hooks installed.

The crash and concurrency harnesses start writers through this module, so that crash
points and the lock-less mode exist only in the processes that the tests start
(:mod:`policyspeech.hooks`)::

    python -m tests.hooked --crash-at entry-linked -- --corpus C add speech.txt
    python -m tests.hooked --without-lock --call tests.harness.concurrency:worker C 3 25

``--crash-at NAME`` (or ``NAME:N``, the N-th time) makes the process exit with status
:data:`CRASH_EXIT_CODE` at once, as a crash would, at that crash point.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

CRASH_EXIT_CODE = 77
REPO = Path(__file__).resolve().parents[1]


def crash_at(wanted: str) -> Callable[[str], None]:
    """A crash hook that exits at the N-th time the crash point ``NAME[:N]`` is passed."""
    target, _, nth = wanted.partition(":")
    counts = {"passed": 0}

    def hook(name: str) -> None:
        if name == target:
            counts["passed"] += 1
            if counts["passed"] == int(nth or 1):
                os._exit(CRASH_EXIT_CODE)

    return hook


def command(*arguments: str, crash: str | None = None, without_lock: bool = False,
            call: str | None = None) -> list[str]:
    """The argument list of a process that runs the CLI (or ``call``) with hooks."""
    options = [*(["--crash-at", crash] if crash else []),
               *(["--without-lock"] if without_lock else []),
               *(["--call", call] if call else ["--"])]
    return [sys.executable, "-m", "tests.hooked", *options, *arguments]


def main(argv: Sequence[str]) -> None:
    from policyspeech import hooks

    args = list(argv)
    crash, lock, call = None, True, None
    while args:
        option = args.pop(0)
        if option == "--crash-at":
            crash = crash_at(args.pop(0))
        elif option == "--without-lock":
            lock = False
        elif option == "--call":
            call = args.pop(0)
            break
        elif option == "--":
            break
        else:
            raise SystemExit(f"tests.hooked: unknown option {option!r}")
    hooks.install(crash=crash, lock=lock)
    if call is not None:
        module, _, name = call.partition(":")
        getattr(importlib.import_module(module), name)(*args)
        return
    from policyspeech.cli import app

    app(args=args, prog_name="policyspeech")


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main(sys.argv[1:])
