"""The console entry point: ``--version`` answered before click is imported (start-up)."""

from __future__ import annotations

import sys


def version_text() -> str:
    from memsleuth import __version__
    from memsleuth.accel import describe

    return f"memsleuth {__version__} (scanner: {describe()})"


def main() -> None:
    """``memsleuth``: the version at once, everything else through the click group."""
    if sys.argv[1:] == ["--version"]:
        sys.stdout.write(version_text() + "\n")
        return
    from memsleuth.cli import main as cli

    cli()
