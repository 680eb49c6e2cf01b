"""The streaming driver: raw lines in, records out, one line at a time.

Section readers (multi-line dumps) and line readers (one-line records) know only their own
formats; this module decides who gets each line, closes sections that are interrupted or
cut short, and keeps the log's health counters. It holds at most one open section, so
memory does not grow with the log, and it never lets a reader's exception escape: a log is
evidence, and one odd line must not cost the user the rest of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from memsleuth.parse.base import Feed, LineReader, SectionReader
from memsleuth.parse.normalize import normalize
from memsleuth.records import ParseStats, Record
from memsleuth.sources.text import LineBatch, TextBatch, decode_line, strip_eol

#: One-line records not counted per reader: the scanner's fast path makes them without a
#: reader (object events and cycle markers have their own counts in the model).
_COUNTED_ELSEWHERE = frozenset({"msobj", "cycle", "objpattern", "objauto"})

#: Consecutive foreign lines after which an open section is given up.
MAX_SKIPPED = 200
LOG_ENDED = "log ended before the end of the section"

# Separator lines (dashes, '=' rules, blanks) belong to whatever table is open; they never
# interrupt a section, even if some reader could open on them.
_SEPARATOR = re.compile(r"^\s*[-=]*\s*$")


class LogParser:
    """Feed normalised lines to section and line readers; collect :class:`ParseStats`."""

    def __init__(self, section_readers: Sequence[SectionReader],
                 line_readers: Sequence[LineReader], *, max_skipped: int = MAX_SKIPPED) -> None:
        self.section_readers = list(section_readers)
        self.line_readers = list(line_readers)
        self.max_skipped = max_skipped
        self.stats = ParseStats()
        self._may_open = _combined_hint(self.section_readers)
        self._active: SectionReader | None = None
        self._skipped_run = 0
        self._lineno = 0
        self._count_prefixed = True   # off when whole chunks are counted at once
        #: why an open section is cut when the batches end (the user may stop reading)
        self.end_reason = LOG_ENDED

    # -- the loop ---------------------------------------------------------------------------
    def parse(self, lines: Iterable[str | bytes]) -> Iterator[Record]:
        """Yield records as soon as they are complete (sections when they close)."""
        for raw in lines:
            yield from self.push(raw)
        yield from self.finish()

    def parse_batches(self, batches: Iterable[LineBatch]) -> Iterator[Record]:
        """Like :meth:`parse`, for lines already decoded a chunk at a time (file reading).

        The line, byte and decode-error counters grow once per batch instead of per line.
        """
        stats = self.stats
        for batch in batches:
            stats.lines += len(batch.lines)
            stats.bytes += batch.nbytes
            stats.decode_errors += batch.bad
            for line in batch.lines:
                yield from self._take(line)
        yield from self.finish()

    def parse_texts(self, batches: Iterable[TextBatch], *, fast: bool = True,
                    objects: bool | str = True, heap_runs: bool = False) -> Iterator[Record]:
        """Like :meth:`parse_batches`, for chunks given as ``\\n``-ended text.

        ``fast``: use the scanning fast path (``memsleuth.parse.scan``) when the readers allow
        it; the records are the same either way. ``objects=False`` lets it skip building
        object events the caller will ignore (they may still arrive); ``objects="runs"``
        lets it give stretches of them as ``ObjectEventRun`` records; ``heap_runs`` lets it
        give stretches of cycle markers and overview tables as ``HeapRun`` records.
        """
        from memsleuth.parse import scan

        self._count_prefixed = False
        plan = scan.Plan(self.section_readers, self.line_readers) if fast else None
        if plan is not None and plan.enabled:
            yield from scan.scan(self, batches, plan, objects, heap_runs)
            return
        yield from self._texts_by_line(batches)

    def _texts_by_line(self, batches: Iterable[TextBatch]) -> Iterator[Record]:
        from memsleuth.parse import scan

        stats = self.stats
        for batch in batches:
            text = batch.text
            stats.lines += text.count("\n")
            stats.bytes += batch.nbytes
            stats.decode_errors += batch.bad
            stats.prefixed_lines += scan.count_prefixed(text)
            yield from scan._by_line(self, text)
        yield from self.finish(self.end_reason)

    def push(self, raw: str | bytes) -> list[Record]:
        """Take one more line (live use: the monitor); return the records it completes."""
        return self._take(self._decode(raw))

    def _take(self, line: str) -> list[Record]:
        """Normalise one decoded line and hand it to the readers; the records it completes."""
        self._lineno += 1
        lineno = self._lineno
        norm = normalize(line)
        if norm.prefixed and self._count_prefixed:
            self.stats.prefixed_lines += 1
        text, ts = norm.text, norm.ts
        out: list[Record] = []
        active = self._active
        if active is not None:
            result = self._feed(active, text, lineno, ts)
            if result is Feed.CONSUMED:
                self._skipped_run = 0
                return out
            if result is Feed.DONE:
                out += self._close(active, None)
                self._active, self._skipped_run = None, 0
                return out
            if result is Feed.SKIPPED:
                other = None if _SEPARATOR.match(text) else self._open(text, lineno, ts,
                                                                       exclude=active)
                if other is not None:
                    out += self._close(active, f"interrupted by {other.name} at line {lineno}")
                    self._active, self._skipped_run = other, 0
                    return out
                self.stats.skipped_in_sections += 1
                self._skipped_run += 1
                out += self._read_line(text, lineno, ts)
                if self._skipped_run > self.max_skipped:
                    first = lineno - self._skipped_run + 1
                    out += self._close(active, f"no line of the {active.name} section for "
                                               f"{self._skipped_run} lines (from line {first})")
                    self._active, self._skipped_run = None, 0
                return out
            # ENDED (or a reader failure): close it and offer the line to everyone.
            out += self._close(active, None)
            self._active, self._skipped_run = None, 0
        self._active = self._open(text, lineno, ts)
        if self._active is None:
            out += self._read_line(text, lineno, ts)
        return out

    def finish(self, reason: str = LOG_ENDED) -> list[Record]:
        """Close the open section (partial, with ``reason``): end of log, or a live pause."""
        active, self._active, self._skipped_run = self._active, None, 0
        return self._close(active, reason) if active is not None else []

    @property
    def in_section(self) -> str | None:
        """Name of the section being read, if any."""
        return self._active.name if self._active is not None else None

    # -- helpers ----------------------------------------------------------------------------
    def _decode(self, raw: str | bytes) -> str:
        """Count one raw line (lines, bytes, decode errors) and return its text."""
        stats = self.stats
        stats.lines += 1
        if isinstance(raw, bytes | bytearray):
            stats.bytes += len(raw)
            line, bad = decode_line(strip_eol(bytes(raw)))
            if bad:
                stats.decode_errors += 1
            return line
        line = str(raw)
        # ASCII text is one byte per character: skip encoding it just to count.
        stats.bytes += len(line) if line.isascii() else len(line.encode("utf-8", "replace"))
        return line

    def _feed(self, reader: SectionReader, text: str, lineno: int, ts: float | None) -> Feed:
        try:
            return reader.feed(text, lineno, ts)
        except Exception:  # noqa: BLE001 - a reader bug must not end the parse
            self.stats.reader_errors += 1
            return Feed.ENDED

    def _open(self, text: str, lineno: int, ts: float | None,
              exclude: SectionReader | None = None) -> SectionReader | None:
        if self._may_open is not None and not self._may_open.match(text):
            return None
        for reader in self.section_readers:
            if reader is exclude:
                continue
            try:
                if reader.opens(text, lineno, ts):
                    return reader
            except Exception:  # noqa: BLE001
                self.stats.reader_errors += 1
        return None

    def _close(self, reader: SectionReader, reason: str | None) -> list[Record]:
        try:
            records = list(reader.close(reason))
        except Exception:  # noqa: BLE001
            self.stats.reader_errors += 1
            return []
        if records:
            sections = self.stats.sections
            sections[reader.name] = sections.get(reader.name, 0) + 1
            if any(getattr(r, "partial", False) for r in records):
                self.stats.partial_sections += 1
        return records

    def _read_line(self, text: str, lineno: int, ts: float | None) -> list[Record]:
        """The one-line records of a line: one, or a round marker and the data printed on the
        same line (``reconnect 3: free heap 12345``), the marker first."""
        found: list[Record] = []
        for reader in self.line_readers:
            try:
                rec = reader.read(text, lineno, ts)
            except Exception:  # noqa: BLE001
                self.stats.reader_errors += 1
                continue
            if rec is not None:
                name = reader.name
                if name not in _COUNTED_ELSEWHERE:
                    counts = self.stats.line_records
                    counts[name] = counts.get(name, 0) + 1
                found.append(rec)
                if name != "cycle":
                    return found
        return found


def _combined_hint(readers: Sequence[SectionReader]) -> re.Pattern[str] | None:
    """One regex that matches every line any reader could open on; None if one has no hint."""
    parts = []
    for reader in readers:
        hint = getattr(reader, "hint", None)
        if hint is None:
            return None
        flags = "i" if hint.flags & re.IGNORECASE else ""
        parts.append(f"(?{flags}:{hint.pattern})" if flags else f"(?:{hint.pattern})")
    return re.compile("|".join(parts)) if parts else None
