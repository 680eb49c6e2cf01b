"""The console entry point, shaped by start-up time: ``--version`` answered before anything
is imported; the start-up cache installed (``memsleuth.codecache``); a plain verb line read
without click (``memsleuth.lazyclick``), any other through the click group; and the process
ended without the interpreter's teardown once the verb is done."""

from __future__ import annotations

import sys
from typing import NoReturn


def version_text() -> str:
    from memsleuth import __version__
    from memsleuth.accel import describe

    return f"memsleuth {__version__} (scanner: {describe()})"


def main() -> None:
    """``memsleuth``: the version at once; a plain verb line without click; anything else
    through the click group."""
    argv = sys.argv[1:]
    if argv == ["--version"]:
        sys.stdout.write(version_text() + "\n")
        return
    import gc

    gc.disable()     # the imports make objects that live until exit: collect_after_imports
    from memsleuth import codecache

    verb = argv[0] if argv and not argv[0].startswith("-") else None
    if verb is not None:             # (--help alone builds no dataclass: no cache to load)
        codecache.install(verb)
        run_quick(verb, argv[1:])     # returns only when click must read the line
    from memsleuth.cli import main as cli

    collect_after_imports()
    try:
        cli()
    except SystemExit as stop:
        finish(stop.code)
    finish(0)


def run_quick(verb: str, args: list[str]) -> None:
    """Run ``memsleuth VERB ARGS`` without importing click when the line is plain (the
    verb's own click definition, read by ``lazyclick.parse``), doing what click would: the
    group's start, the parameters' callbacks, the verb. Returns when click must read it."""
    import importlib.util
    import os

    if not verb.isidentifier() or verb.startswith("_") or verb == "common" \
            or any(k.startswith("_") and k.endswith("_COMPLETE") for k in os.environ) \
            or importlib.util.find_spec(f"memsleuth.commands.{verb}") is None:
        return                                   # click says what is wrong, or completes
    from memsleuth import lazyclick, progress

    try:
        module = importlib.import_module(f"memsleuth.commands.{verb}")
    except KeyboardInterrupt:       # as click's own ending for Ctrl-C before the verb runs
        sys.stderr.write("Aborted!\n")
        finish(1)
    command = getattr(module, "command", None)
    if not isinstance(command, lazyclick.Command) or command.name != verb:
        return
    parsed = lazyclick.parse(command, args)
    if parsed is None:
        return
    params, callbacks = parsed
    collect_after_imports()
    progress.cli_start()
    for callback in callbacks:
        callback()
    progress.configure(json_output=bool(params.get("as_json")))
    try:
        command.callback(**params)
    except SystemExit as stop:
        finish(stop.code)
    finish(0)


def collect_after_imports() -> None:
    """The cyclic garbage collector back on, minus what the imports made.

    Start-up allocates the modules, classes and functions of the verb, all alive until
    exit; collecting while they pile up re-examines them again and again (~3 ms of a
    ``census``). So the collector is off from the start of :func:`main` to here, and what
    exists now is frozen (``gc.freeze``: kept out of every later collection), so the verb's
    own collections look at the verb's own objects only.
    """
    import gc

    gc.freeze()
    gc.enable()


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
