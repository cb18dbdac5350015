"""Private points where tests reach into a running writer: crash points and the lock.

Nothing in the library installs a hook and no environment variable or user setting can:
the crash, concurrency and corruption harnesses under ``tests/`` install them in their
own processes (:mod:`tests.hooked`). Without a hook, :func:`crash_point` does nothing
and writers always take the corpus's lock.

Examples
--------
>>> seen = []
>>> with installed(crash=seen.append):
...     crash_point("entry-linked")
>>> seen, lock_enabled()
(['entry-linked'], True)
>>> crash_point("entry-linked")  # no hook: nothing happens
>>> seen
['entry-linked']
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

CrashHook = Callable[[str], None]

_crash_hook: CrashHook | None = None
_lock_enabled = True


def crash_point(name: str) -> None:
    """Call the installed crash hook with ``name``: the steps of the commit protocol
    (``fragment-written``, ``fragment-fsynced``, ``fragment-linked``, ``entry-linked``,
    ``card-replaced``, ``view-linked``, ``view-removed``, ``migration-linked``,
    ``migration-renamed``, ``gc-unlinked``, ``before-success``, ...). A harness's hook
    exits the process there."""
    if _crash_hook is not None:
        _crash_hook(name)


def lock_enabled() -> bool:
    """False only while a test runs writers without the lock file, to show that
    put-if-absent publication alone keeps them apart."""
    return _lock_enabled


def install(*, crash: CrashHook | None = None, lock: bool = True) -> None:
    """Install a crash hook and/or turn the writer lock off, for the rest of the process."""
    global _crash_hook, _lock_enabled
    _crash_hook, _lock_enabled = crash, lock


@contextmanager
def installed(*, crash: CrashHook | None = None, lock: bool = True) -> Iterator[None]:
    """Install hooks for the duration of a ``with`` block."""
    saved = (_crash_hook, _lock_enabled)
    install(crash=crash, lock=lock)
    try:
        yield
    finally:
        install(crash=saved[0], lock=saved[1])
