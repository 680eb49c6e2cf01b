"""The default readers: every log family memsleuth knows, in the order they get a line.

Family modules are written in parallel and may not exist yet; a missing one is skipped,
but an import error *inside* an existing module is a bug and is raised.
Crash readers come before heap readers: a crash dump contains heap tables that belong to it.
"""

from __future__ import annotations

import importlib
import re
from types import ModuleType

from memsleuth.parse.base import LineReader, SectionReader
from memsleuth.records import CycleMarker, Record

#: Family modules under memsleuth.parse, in priority order.
FAMILIES = ("alios_crash", "alios_heap", "agent")

#: The device agent's cycle marker (docs/object-trace.md): ``[MSCYCLE] 12``.
DEFAULT_CYCLE_PATTERN = r"^\[MSCYCLE\]\s*(\d+)"


def _family(name: str) -> ModuleType | None:
    full = f"memsleuth.parse.{name}"
    try:
        return importlib.import_module(full)
    except ModuleNotFoundError as exc:
        if exc.name == full:
            return None
        raise


class CycleReader:
    """Lines that start a new test cycle; the index is the first integer group, if any."""

    name = "cycle"

    def __init__(self, pattern: str | re.Pattern[str] = DEFAULT_CYCLE_PATTERN) -> None:
        self.pattern = re.compile(pattern) if isinstance(pattern, str) else pattern

    def read(self, text: str, lineno: int, ts: float | None) -> Record | None:
        m = self.pattern.search(text)
        if m is None:
            return None
        index = None
        for group in m.groups():
            if group is not None and group.strip().lstrip("+-").isdigit():
                index = int(group)
                break
        return CycleMarker(line=lineno, index=index, text=text.strip(), ts=ts)


def default_readers(
    cycle_pattern: str | re.Pattern[str] | None = None,
) -> tuple[list[SectionReader], list[LineReader]]:
    """Fresh reader instances (they hold per-parse state) for one parse.

    ``cycle_pattern`` replaces the default ``[MSCYCLE] <n>`` marker; cycle markers are
    read before anything else so a marker line is never claimed by another line reader.
    """
    sections: list[SectionReader] = []
    lines: list[LineReader] = [CycleReader(cycle_pattern or DEFAULT_CYCLE_PATTERN)]
    for name in FAMILIES:
        module = _family(name)
        if module is None:
            continue
        make_sections = getattr(module, "section_readers", None)
        if callable(make_sections):
            sections.extend(make_sections())
        make_lines = getattr(module, "line_readers", None)
        if callable(make_lines):
            lines.extend(make_lines())
    return sections, lines
