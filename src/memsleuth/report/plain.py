"""Plain text for a stdout that is not a terminal, written without importing rich.

Redirected or piped output has no colour and a fixed 160-column page (``terminal.console``);
there rich prints the verbs' simple markup and tables as plain text, and importing and
running rich cost more than the rest of a small census. This module writes that same text
for the subset the census uses: the tags ``[bold]``, ``[dim]``, ``[red]``, ``[yellow]``
(and their pairs) closed by ``[/]``, and tables drawn like ``Table(show_edge=False,
pad_edge=False)`` with no-wrap columns. Anything else — other markup, an escaped bracket or
backslash, a character outside printable ASCII and ``← … —``, an ``:emoji:``-like pair of
colons, a table wider than the page — gets None, and the caller lets rich print it. So the
output is rich's in every case (``tests/report/test_plain.py`` compares the two).
"""

from __future__ import annotations

import builtins
import os
import re
import sys
from collections.abc import Sequence

#: rich's page width when stdout is not a terminal (``terminal.console``).
WIDTH = 160

_TAG = re.compile(r"\[(/|bold|dim|red|yellow|bold red|bold yellow)\]")
#: printable ASCII without '[' and '\\' (rich's markup and escape characters), and the three
#: other characters the census prints (rich gives each one cell)
_SAFE = re.compile(r"[\x20-\x5a\x5d-\x7e←…—]*\Z")
#: rich replaces ``:name:`` by an emoji when it knows the name
_EMOJI = re.compile(r":\S*?:")


def active() -> bool:
    """Would rich write plain text here: stdout no terminal, no colour forced, UTF-8?"""
    out = sys.stdout
    try:
        if out is None or out.isatty():
            return False
    except (AttributeError, ValueError):
        return False
    env = os.environ
    compatible = env.get("TTY_COMPATIBLE", "")
    if compatible == "1" or (compatible != "0" and env.get("FORCE_COLOR")):
        return False
    if hasattr(builtins, "get_ipython"):       # rich renders for Jupyter there
        return False
    encoding = (getattr(out, "encoding", "utf-8") or "utf-8").lower()
    return encoding.startswith("utf")


def text(markup: str) -> str | None:
    """The text rich shows for ``markup`` on a plain page, or None outside the subset."""
    depth = 0
    for m in _TAG.finditer(markup):
        depth += -1 if m[1] == "/" else 1
        if depth < 0:                 # rich raises on a closing tag with nothing open
            return None
    plain = _TAG.sub("", markup) if "[" in markup else markup
    if not _SAFE.match(plain) or (":" in plain and _EMOJI.search(plain)):
        return None
    return plain


def table(columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[str]]) -> str | None:
    """The lines of ``Table(show_edge=False, pad_edge=False)`` with one no-wrap column per
    ``(header, "left" | "right")`` and these rows of markup; None outside the subset."""
    if not columns or any(justify not in ("left", "right") for _, justify in columns):
        return None
    n = len(columns)
    cells: list[list[str]] = []
    for row in [[header for header, _ in columns], *rows]:
        if len(row) != n:
            return None
        line = [text(cell) for cell in row]
        if None in line:
            return None
        cells.append(line)  # type: ignore[arg-type]
    widths = [max(len(line[i]) for line in cells) for i in range(n)]
    if 0 in widths:
        return None                   # (rich gives an empty column one cell or two)
    # one cell of padding each side, none on the outer edges; one rule between columns
    if sum(widths) + 2 * (n - 1) + (n - 1) > WIDTH:
        return None
    right = [justify == "right" for _, justify in columns]

    def draw(line: list[str], rule: str) -> str:
        parts = []
        for i, cell in enumerate(line):
            cell = cell.rstrip().rjust(widths[i]) if right[i] else cell.ljust(widths[i])
            parts.append(("" if i == 0 else " ") + cell + ("" if i == n - 1 else " "))
        return rule.join(parts)

    lines = [draw(cells[0], "┃"),
             "╇".join("━" * (w + (i > 0) + (i < n - 1)) for i, w in enumerate(widths)),
             *(draw(line, "│") for line in cells[1:])]
    return "\n".join(lines) + "\n"
