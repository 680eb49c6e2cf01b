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

import re
from dataclasses import dataclass, field
from typing import Any

from memsleuth.parse.alios_crash import opening_kind
from memsleuth.parse.cycles import CycleDetector
from memsleuth.parse.normalize import normalize
from memsleuth.parse.registry import CycleReader, default_readers
from memsleuth.parse.stream import LogParser
from memsleuth.records import BlockDump, CrashDump, HeapOverview, Record

#: Lines held back while the round marker is unknown. Offline, the verbs find it on the
#: file's head before parsing (``parse.detect_cycles``); live, the first lines wait for the
#: same detector (``parse.cycles.CycleDetector``) to name the family, then are parsed with
#: its regex, so the monitor's cycles are the offline verbs' cycles from the first one on.
LIVE_DETECT_LINES = 20_000
#: markers of one family before the live detector commits to it
LIVE_DETECT_COUNT = 6
#: heap-overview lines seen with no round-marker family at all: stop waiting for one
LIVE_GIVE_UP_OVERVIEWS = 24


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
    #: the round-marker detector while it has not decided (``monitor`` passes one unless
    #: --cycle-pattern is given); None: lines are parsed as they come
    detector: CycleDetector | None = None
    held: list[str] = field(default_factory=list)
    #: what was detected ({how, template, pattern, count, scanned_lines}), as offline
    cycle_source: dict[str, Any] | None = None

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
        content = normalize(text).text
        if self.detector is not None:
            self.detector.feed_raw(text)
            self.held.append(text)
            # a crash or an allocation failure is said at once, whatever is undecided
            urgent = ("!" in content and opening_kind(content) is not None) or (
                "fail" in content and "alloc" in content)
            out = self.release() if urgent or self._decided() else []
        else:
            out = self._records(self.parser.push(text))
        if not self.in_crash and "!" in content and opening_kind(content) is not None:
            self.crash_line = self.lines
            out.append(CrashBoundary(self.lines, content.strip()))
        return out

    def _decided(self) -> bool:
        det = self.detector
        if det is None:
            return False
        if len(self.held) >= LIVE_DETECT_LINES:
            return True
        if len(self.held) % 16:
            return False
        found = det.result()
        if found is None:
            # overviews keep coming and nothing numbers rounds: no marker to wait for
            return det.overviews >= LIVE_GIVE_UP_OVERVIEWS
        return found.count >= LIVE_DETECT_COUNT

    def release(self) -> list[Record | CrashBoundary]:
        """Decide the round marker with what arrived so far and parse the held lines."""
        det, self.detector = self.detector, None
        if det is None:
            return []
        found = det.result()
        if found is not None and found.template != "[MSCYCLE] N":
            for reader in self.parser.line_readers:
                if isinstance(reader, CycleReader):
                    reader.pattern = re.compile(found.regex)
                    self.cycle_source = found.describe()
        held, self.held = self.held, []
        out: list[Record | CrashBoundary] = []
        for text in held:
            out += self._records(self.parser.push(text))
        return out

    def finish(self, reason: str) -> list[Record | CrashBoundary]:
        """Close the open section as partial (a pause, a reset mid-dump, the end)."""
        out = self.release()
        out += self._records(self.parser.finish(reason))
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
