"""Shared terminal rendering: one Console, number and address formatting."""

from __future__ import annotations

import sys

from rich.console import Console

_console: Console | None = None


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """rich exits 1 when stdout's reader goes away; `… | head -1` is no error: exit 0."""
        from memsleuth.errors import quiet_stdout

        self.quiet = True
        quiet_stdout()
        raise SystemExit(0)


def console() -> Console:
    """stdout console; plain (no colour, no wrapping surprises) when not a terminal."""
    global _console
    if _console is None:
        tty = sys.stdout.isatty()
        _console = _Console(highlight=False, soft_wrap=not tty, width=None if tty else 160)
    return _console


def addr(value: int | None, width: int = 8) -> str:
    return "-" if value is None else f"0x{value:0{width}x}"


def size(value: int | None) -> str:
    """Bytes, exact, with a human suffix for big numbers: '72,304 B (70.6 KiB)'."""
    if value is None:
        return "-"
    text = f"{value:,} B"
    if abs(value) >= 10 * 1024:
        unit, scaled = "KiB", value / 1024
        if abs(scaled) >= 10 * 1024:
            unit, scaled = "MiB", scaled / 1024
        text += f" ({scaled:.1f} {unit})"
    return text


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def where(file: str | None, line: int | None) -> str:
    """``file.c:12`` (the base name), or "" when either is unknown."""
    return f"{file.rsplit('/', 1)[-1]}:{line}" if file and line else ""


def warn(text: str) -> None:
    console().print(f"[bold yellow]warning:[/] {text}")
