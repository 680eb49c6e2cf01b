"""The console entry point: ``--version`` answered before click is imported (start-up), the
start-up cache installed for everything else, and the process ended without the
interpreter's teardown once the verb is done."""

from __future__ import annotations

import sys
from typing import NoReturn


def version_text() -> str:
    from memsleuth import __version__
    from memsleuth.accel import describe

    return f"memsleuth {__version__} (scanner: {describe()})"


def main() -> None:
    """``memsleuth``: the version at once, everything else through the click group."""
    argv = sys.argv[1:]
    if argv == ["--version"]:
        sys.stdout.write(version_text() + "\n")
        return
    from memsleuth import codecache

    codecache.install(argv[0] if argv and not argv[0].startswith("-") else "none")
    from memsleuth.cli import main as cli

    try:
        cli()
    except SystemExit as stop:
        finish(stop.code)
    finish(0)


def finish(code: object) -> NoReturn:
    """End the process as the interpreter would, less its teardown.

    Once the verb is done, freeing every module and object one by one is wasted work
    (~10 ms for ``census``, a sixth of the peer tool's whole run). What the teardown does that
    anyone can see is done here, in the interpreter's order: the ``atexit`` handlers (the
    caches are saved there), then stdout and stderr flushed; then ``os._exit``. Anything
    unusual (another thread still running, an exit code that is not a number, a failed
    flush) takes the ordinary way out, ``SystemExit``.
    """
    import atexit
    import os

    if code is None:
        code = 0
    threading = sys.modules.get("threading")
    if not isinstance(code, int) or (threading is not None and threading.active_count() > 1):
        raise SystemExit(code)
    atexit._run_exitfuncs()
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except Exception:  # noqa: BLE001 - the interpreter's own exit reports it as it always did
        raise SystemExit(code) from None
    os._exit(code & 0xFF)
