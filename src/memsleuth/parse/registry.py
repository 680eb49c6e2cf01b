"""The default readers: every log family memsleuth knows, in the order they get a line.

Crash readers come before heap readers: a crash dump contains heap tables that belong to it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from memsleuth.parse import (
    agent,
    alios_crash,
    alios_fragments,
    alios_heap,
    espidf,
    freertos,
    nuttx,
    zephyr,
)
from memsleuth.parse.base import LineReader, SectionReader
from memsleuth.parse.boot import BANNERS, BootBannerReader
from memsleuth.records import CycleMarker, ParseStats, Record

#: The device agent's cycle marker (docs/object-trace.md): ``[MSCYCLE] 12``.
DEFAULT_CYCLE_PATTERN = r"^\[MSCYCLE\]\s*(\d+)"


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


class KeywordLines:
    """Several line readers behind one call: each is asked only when its keyword is in the
    line, so the other RTOS' one-liners cost the common lines ([MSOBJ] ...) one call and a few
    substring tests. After a hit ``name`` is the reader that read the record, which is the
    name the driver counts it under."""

    def __init__(self, readers: Sequence[tuple[str, LineReader]]) -> None:
        self.keyed = list(readers)
        self.readers = list(dict.fromkeys(r for _, r in self.keyed))
        self.name = "rtos_lines"
        #: parse/scan.py's fast path: every line read here holds one of the keywords
        self.anchors = tuple(dict.fromkeys(key.lower() for key, _ in self.keyed))
        self.shortcut_safe = True

    def read(self, text: str, lineno: int, ts: float | None) -> Record | None:
        for key, reader in self.keyed:
            if key in text:
                rec = reader.read(text, lineno, ts)
                if rec is not None:
                    self.name = reader.name
                    return rec
        return None


def rtos_line_readers() -> KeywordLines:
    """ESP-IDF, Zephyr and FreeRTOS one-line records, each behind its keyword."""
    info, sha = espidf.MultiHeapInfoReader(), espidf.ElfShaReader()
    stats, free = zephyr.MemoryStatsReader(), freertos.FreeHeapLineReader()
    boot = BootBannerReader()
    return KeywordLines([("total_free_bytes", info), ("ELF file SHA256", sha),
                         ("allocated_bytes", stats), ("xPortGetFreeHeapSize", free),
                         ("ree heap", free), *((key, boot) for key, _ in BANNERS)])


def default_readers(
    cycle_pattern: str | re.Pattern[str] | None = None,
    object_patterns: Sequence[agent.UserPattern] = (),
) -> tuple[list[SectionReader], list[LineReader]]:
    """Fresh reader instances (they hold per-parse state) for one parse.

    ``cycle_pattern`` replaces the default ``[MSCYCLE] <n>`` marker; cycle markers are
    read before anything else so a marker line is never claimed by another line reader.
    ``object_patterns`` add the user's object-trace formats to the agent's ``[MSOBJ]``.
    """
    sections: list[SectionReader] = [*alios_crash.section_readers(),
                                     *espidf.section_readers(), *zephyr.section_readers(),
                                     *nuttx.section_readers(), *freertos.section_readers(),
                                     *alios_heap.section_readers(),
                                     *alios_fragments.section_readers()]
    lines: list[LineReader] = [CycleReader(cycle_pattern or DEFAULT_CYCLE_PATTERN),
                               *alios_heap.line_readers(), agent.BuildIdReader(),
                               agent.AgentNoticeReader(),
                               rtos_line_readers(),
                               *agent.line_readers(object_patterns)]
    return sections, lines


def _family_of() -> dict[str, str]:
    """Reader name -> the log family it reads (readers without a ``family`` are AliOS' or
    the agent's own formats)."""
    out: dict[str, str] = {}
    sections, lines = default_readers()
    for reader in [*sections, *lines, *rtos_line_readers().readers]:
        family = getattr(reader, "family", None)
        if family is None:
            family = "memsleuth agent" if reader.name in ("msobj", "objpattern", "cycle",
                                                                    "msbuild", "msagent") \
                else "alios"
        out[reader.name] = family
    return out


def families(stats: ParseStats) -> dict[str, dict[str, int]]:
    """Which log families a parse read, and what: {family: {reader name: records}}.

    Built from the sections and line records the driver counted, so a log mixing an RTOS'
    own printers with AliOS' (or the agent's) lists each."""
    family_of = _family_of()
    out: dict[str, dict[str, int]] = {}
    for counts in (stats.sections, stats.line_records):
        for name, n in counts.items():
            if name in ("cycle", "boot"):     # every family's: they say nothing of which
                continue
            family = family_of.get(name, "other")
            out.setdefault(family, {})
            out[family][name] = out[family].get(name, 0) + n
    return out
