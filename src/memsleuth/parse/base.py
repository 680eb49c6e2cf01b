"""The protocol every section reader follows, so one driver can stream any log family.

A log is read line by line (already normalised: no line ending, no ANSI colour, no
timestamp prefix; see ``memsleuth.parse.normalize``). The driver (``memsleuth.parse.stream``)
offers each line to the active section reader first; when none is active, it asks each
reader whether the line opens its section, and each line reader whether it is a one-line
record.
"""

from __future__ import annotations

from enum import Enum
from typing import Protocol

from memsleuth.records import CrashDump, Record


class Feed(Enum):
    """What a section reader did with a line."""

    CONSUMED = "consumed"    # part of my section; I go on
    DONE = "done"            # part of my section, and the section is now complete
    SKIPPED = "skipped"      # a foreign line (another task's log) inside my section: counted
    ENDED = "ended"          # not mine and my section is complete without it: the driver
                             # closes me and offers the line to the others


class SectionReader(Protocol):
    """Reads one multi-line section family (e.g. block dumps, crash dumps)."""

    name: str
    #: Optional: a regex that every opening line matches (``hint.match(text)``). The driver
    #: combines the hints into one test, so most lines never reach ``opens`` at all.
    #: A reader without one is asked about every line.
    # hint: re.Pattern[str]

    def opens(self, text: str, lineno: int, ts: float | None) -> bool:
        """Does this line open a section of mine? If so, start it (consuming the line)."""
        ...

    def feed(self, text: str, lineno: int, ts: float | None) -> Feed:
        """Take the next line of the open section."""
        ...

    def close(self, reason: str | None) -> list[Record]:
        """Close the open section and return its records.

        ``reason`` is None when the section ended normally (after DONE or ENDED), else
        why it was cut ("log ended", "interrupted by crash dump at line 812", ...): the
        reader then marks what it returns ``partial`` with that reason, unless its section
        needs no end marker and is complete anyway.
        """
        ...


class LineReader(Protocol):
    """Reads one-line records (allocator warnings, leak lines, object events, markers)."""

    name: str

    def read(self, text: str, lineno: int, ts: float | None) -> Record | None: ...


class OpenCrash:
    """The bookkeeping the RTOS crash readers share (ESP-IDF panic, Zephyr fatal, NuttX
    assert): their dumps have no end marker, so a dump is over after ``max_foreign`` lines in
    a row that are not its own; the foreign lines inside it are counted, and the run that
    ended it is not. A reader sets ``crash``, ``_foreign`` and ``_lineno`` in ``__init__``."""

    max_foreign = 20
    crash: CrashDump | None
    _foreign: int
    _lineno: int

    def _ok(self) -> Feed:
        """A line of the dump: the foreign run is broken and the dump reaches this line."""
        self._foreign = 0
        if self.crash is not None:
            self.crash.end_line = self._lineno
        return Feed.CONSUMED

    def _foreign_line(self, crash: CrashDump) -> Feed:
        """A line that is not the dump's: skipped inside it, or the end of a dump gone quiet."""
        self._foreign += 1
        if self._foreign >= self.max_foreign:
            return Feed.ENDED
        crash.skipped_lines += 1
        return Feed.SKIPPED

    def _take_crash(self) -> CrashDump | None:
        """``close``'s common part: the open dump (None when there is none), with the run
        of foreign lines that ended it no longer counted as skipped and an end line set."""
        crash, self.crash = self.crash, None
        if crash is None:
            return None
        if self._foreign >= self.max_foreign:
            crash.skipped_lines -= self._foreign - 1
        if crash.end_line is None:
            crash.end_line = crash.line
        return crash
