"""Live scanning: the project's own log parser, pushed one line at a time.

The monitor needs the same records the offline verbs read (heap overviews, object events,
cycle markers, allocator warnings), as soon as each line arrives, plus the moments a crash
dump starts and ends so it can alert at once and explain the dump when it is complete.
Everything here is delegated to ``memsleuth.parse``: one set of format rules for live and
offline use, so the monitor's view of a capture is the census's view of the same file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from memsleuth.parse.alios_crash import DUMP_END_RE, opening_kind
from memsleuth.parse.normalize import normalize
from memsleuth.parse.registry import default_readers
from memsleuth.parse.stream import LogParser
from memsleuth.records import CrashDump, HeapOverview, Record


@dataclass(slots=True)
class CrashBoundary:
    """A crash dump started (``end`` False) or ended at ``line``."""

    line: int
    end: bool
    text: str = ""


def _new_parser() -> LogParser:
    sections, lines = default_readers()
    return LogParser(sections, lines)


@dataclass(slots=True)
class LiveScanner:
    """Feed decoded text lines in order; get the records the status tracker folds."""

    lines: int = 0
    in_crash: bool = False
    parser: LogParser = field(default_factory=_new_parser)

    @property
    def damaged(self) -> int:
        """Object-trace lines that carried the tag but did not parse (e.g. interleaved)."""
        return sum(getattr(r, "damaged", 0) for r in self.parser.line_readers)

    def feed(self, text: str) -> list[Record | CrashBoundary]:
        """Scan one line (line ending stripped); return what it completes."""
        self.lines += 1
        n = self.lines
        out: list[Record | CrashBoundary] = []
        content = normalize(text).text
        if not self.in_crash and "!" in content and opening_kind(content) is not None:
            self.in_crash = True
            out.append(CrashBoundary(n, False, content.strip()))
        for record in self.parser.push(text):
            if isinstance(record, HeapOverview) and self.in_crash:
                record.nested = True
            if not isinstance(record, CrashDump):
                out.append(record)
        if self.in_crash and DUMP_END_RE.match(content):
            self.in_crash = False
            out.append(CrashBoundary(n, True, content.strip()))
        return out
