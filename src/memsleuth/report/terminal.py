"""Shared terminal rendering: one Console, number and address formatting.

rich is imported when something needs it: on a stdout that is not a terminal, ``printer()``
writes the simple markup and tables of the census itself (``report.plain``, same text).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from memsleuth.report import plain

if TYPE_CHECKING:
    from rich.console import Console

_console: Console | None = None


def console() -> Console:
    """stdout console; plain (no colour, no wrapping surprises) when not a terminal."""
    global _console
    if _console is None:
        from rich.console import Console

        class _Console(Console):
            def on_broken_pipe(self) -> None:
                """rich exits 1 when stdout's reader goes away; `… | head -1` is no error."""
                self.quiet = True
                _closed_stdout()

        tty = sys.stdout.isatty()
        _console = _Console(highlight=False, soft_wrap=not tty,
                            width=None if tty else plain.WIDTH)
    return _console


def _closed_stdout() -> None:
    from memsleuth.errors import quiet_stdout

    quiet_stdout()
    raise SystemExit(0)


class Printer:
    """Prints markup and tables to stdout: as plain text when stdout is not a terminal and the
    text is in ``report.plain``'s subset, else through rich; the output is the same."""

    def __init__(self) -> None:
        self.plain = plain.active()
        self.width = plain.WIDTH if self.plain else console().width

    def print(self, markup: str) -> None:
        text = plain.text(markup) if self.plain else None
        if text is None:
            console().print(markup)
        else:
            self._write(text + "\n")

    def table(self, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[str]]) -> None:
        """``Table(show_edge=False, pad_edge=False, header_style="bold")``, every column
        ``no_wrap``; ``columns``: (header, "left" | "right")."""
        text = plain.table(columns, rows) if self.plain else None
        if text is not None:
            self._write(text)
            return
        from rich.table import Table

        table = Table(show_edge=False, pad_edge=False, header_style="bold")
        for name, justify in columns:
            table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
        for row in rows:
            table.add_row(*row)
        console().print(table)

    @staticmethod
    def _write(text: str) -> None:
        try:
            sys.stdout.write(text)
            sys.stdout.flush()        # as rich does after every print: stderr stays in order
        except BrokenPipeError:
            _closed_stdout()


def printer() -> Printer:
    return Printer()


def escape(text: str) -> str:
    """rich's ``markup.escape`` (text shown as is), importing rich only when text has a
    bracket or backslash to escape (without either, escape returns the text unchanged)."""
    if "[" not in text and "\\" not in text:
        return text
    from rich.markup import escape as rich_escape

    return rich_escape(text)


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
    printer().print(f"[bold yellow]warning:[/] {text}")
