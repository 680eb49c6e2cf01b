"""Live scanning: the project's own log parser, pushed one line at a time.

The monitor needs the same records the offline verbs read (heap overviews, object events,
cycle markers, allocator warnings, block and crash dumps), as soon as each line arrives,
plus the moment a crash dump starts so it can alert at once. Everything here is delegated
to ``memsleuth.parse``: one set of format rules for live and offline use, so the monitor's
view of a capture is the census's view of the same file. The crash explanation takes the
parser's own ``CrashDump`` (complete, or closed as partial by :meth:`LiveScanner.finish`)
and the last ``BlockDump`` seen before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from memsleuth.parse.alios_crash import opening_kind
from memsleuth.parse.normalize import normalize
from memsleuth.parse.registry import default_readers
from memsleuth.parse.stream import LogParser
from memsleuth.records import BlockDump, CrashDump, HeapOverview, Record


@dataclass(slots=True)
class CrashBoundary:
    """A crash dump started at ``line`` (its banner): the moment to alert."""

    line: int
    text: str = ""


def _new_parser() -> LogParser:
    sections, lines = default_readers()
    return LogParser(sections, lines)


@dataclass(slots=True)
class LiveScanner:
    """Feed decoded text lines in order; get the records the status tracker folds."""

    lines: int = 0
    #: line of the banner of the crash dump being read (None: not in a crash dump)
    crash_line: int | None = None
    #: the last block dump completed: where a crash's fault address lands in the heap
    last_dump: BlockDump | None = None
    parser: LogParser = field(default_factory=_new_parser)

    @property
    def in_crash(self) -> bool:
        return self.crash_line is not None

    @property
    def damaged(self) -> int:
        """Object-trace lines that carried the tag but did not parse (e.g. interleaved)."""
        return sum(getattr(r, "damaged", 0) for r in self.parser.line_readers)

    def feed(self, text: str) -> list[Record | CrashBoundary]:
        """Scan one line (line ending stripped); return what it completes.

        A ``CrashDump`` comes out when the parser closes the dump (at ``dump end``, or when
        a line that is not part of it arrives); a banner gives a :class:`CrashBoundary`.
        """
        self.lines += 1
        out = self._records(self.parser.push(text))
        content = normalize(text).text
        if not self.in_crash and "!" in content and opening_kind(content) is not None:
            self.crash_line = self.lines
            out.append(CrashBoundary(self.lines, content.strip()))
        return out

    def finish(self, reason: str) -> list[Record | CrashBoundary]:
        """Close the open section as partial (a pause, a reset mid-dump, the end)."""
        out = self._records(self.parser.finish(reason))
        self.crash_line = None  # nothing is open any more (even if a reader failed)
        return out

    def _records(self, records: list[Record]) -> list[Record | CrashBoundary]:
        out: list[Record | CrashBoundary] = []
        for record in records:
            if isinstance(record, HeapOverview) and self.in_crash:
                record.nested = True
            elif isinstance(record, CrashDump):
                self.crash_line = None
            elif isinstance(record, BlockDump):
                self.last_dump = record
            out.append(record)
        return out
