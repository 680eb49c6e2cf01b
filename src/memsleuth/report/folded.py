"""Folded stacks (``frame;frame;frame bytes``) of live bytes, for flamegraph.pl and speedscope.

One line per stack of ``memsleuth.analysis.stacks``, outermost frame first, weight = live
bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from memsleuth.analysis.stacks import Stack

#: ";" separates frames and newlines end lines (the weight follows the last space, so inner
#: spaces are fine for flamegraph.pl and speedscope).
_UNSAFE = re.compile(r"[;\r\n\t\v\f]+")


def clean_frame(name: str) -> str:
    """A frame name that cannot break the folded format (names come from logs and ELFs)."""
    cleaned = _UNSAFE.sub("_", name.strip())
    return cleaned or "?"


def folded_lines(stacks: Iterable[tuple[Stack, int]]) -> list[str]:
    """``frame;frame;frame bytes`` lines, outermost frame first."""
    return [";".join(clean_frame(f) for f in stack) + f" {weight}" for stack, weight in stacks]


def write_folded(path: Any, stacks: Iterable[tuple[Stack, int]]) -> int:
    """Write the folded file; returns the number of lines written."""
    lines = folded_lines(stacks)
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.writelines(line + "\n" for line in lines)
    return len(lines)
