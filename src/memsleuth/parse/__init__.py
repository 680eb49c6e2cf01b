"""Parsing: log lines in, typed records (:mod:`memsleuth.records`) out, streaming.

    log = parse_file("device.log")
    for record in log:          # one pass; records arrive as soon as they are complete
        ...
    log.stats                   # complete once iteration has finished
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from memsleuth.errors import UsageError
from memsleuth.parse.agent import UserPattern, damaged_counts, learned_shapes
from memsleuth.parse.registry import default_readers, families
from memsleuth.parse.stream import LogParser
from memsleuth.records import ParseStats, Record
from memsleuth.sources.file import FileSource

__all__ = ["ParsedLog", "parse_file", "parse_lines"]


class ParsedLog:
    """The records of one log, iterable once; ``stats`` fill up while iterating."""

    def __init__(self, lines: Iterable[str | bytes], path: Path | None,
                 cycle_pattern: str | None = None, source: FileSource | None = None,
                 object_patterns: Sequence[UserPattern] = (),
                 cycle_source: dict[str, object] | None = None, *, fast: bool | None = None,
                 objects: bool | str = True, heap_runs: bool = False) -> None:
        compiled = _compile(cycle_pattern) if cycle_source is None else re.compile(
            cycle_pattern or "")
        sections, line_readers = default_readers(compiled, object_patterns)
        self._parser = LogParser(sections, line_readers)
        if cycle_source is None and cycle_pattern is not None:
            cycle_source = {"how": "option", "template": cycle_pattern,
                            "pattern": cycle_pattern}
        self._parser.stats.cycle_source = cycle_source
        self._lines = lines
        self._source = source
        self._used = False
        self._fast = fast_path_enabled() if fast is None else fast
        self._objects = objects
        self._heap_runs = heap_runs
        self.path = path

    @property
    def in_section(self) -> str | None:
        """The section being read (for a progress line)."""
        return self._parser.in_section

    @property
    def end_reason(self) -> str:
        """Why reading stopped, for a section left open (default: the log ended)."""
        return self._parser.end_reason

    @end_reason.setter
    def end_reason(self, reason: str) -> None:
        self._parser.end_reason = reason

    @property
    def stats(self) -> ParseStats:
        return self._parser.stats

    def __iter__(self) -> Iterator[Record]:
        if self._used:
            raise RuntimeError("a ParsedLog can be iterated only once; parse the log again")
        self._used = True
        try:
            if self._source is not None:   # a file: decoded a chunk at a time, same lines
                from memsleuth import progress

                batches = progress.watch(self._source.texts(), self._source, self)
                yield from self._parser.parse_texts(batches, fast=self._fast,
                                                    objects=self._objects,
                                                    heap_runs=self._heap_runs)
            else:
                yield from self._parser.parse(self._lines)
        finally:
            self.stats.damaged_lines = damaged_counts(self._parser.line_readers)
            self.stats.families = families(self.stats)
            self.stats.object_shapes = learned_shapes(self._parser.line_readers)
            self.close()

    def close(self) -> None:
        """Release the file early (when iteration is abandoned)."""
        if self._source is not None:
            self._source.close()

    def __enter__(self) -> ParsedLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _compile(pattern: str | None) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise UsageError(f"invalid cycle pattern {pattern!r}: {exc}") from None


def parse_lines(lines: Iterable[str | bytes], *, cycle_pattern: str | None = None,
                object_patterns: Sequence[UserPattern] = ()) -> ParsedLog:
    """Parse lines already in memory or from any source (bytes are decoded leniently)."""
    return ParsedLog(lines, None, cycle_pattern, object_patterns=object_patterns)


def fast_path_enabled() -> bool:
    """The scanning fast path is on unless ``MEMSLEUTH_FAST=0`` (same records either way)."""
    return os.environ.get("MEMSLEUTH_FAST", "1") != "0"


def detect_cycles(path: str | os.PathLike[str], limit: int | None = None):  # -> DetectedCycles
    """The round-marker line family of a log file, from its first ``limit`` lines (default
    ``cycles.SCAN_LINES``), or None (``memsleuth.parse.cycles``: imported here, a verb that
    ignores rounds never needs it)."""
    from memsleuth.parse.cycles import SCAN_LINES, CycleDetector

    limit = SCAN_LINES if limit is None else limit
    det = CycleDetector()
    with FileSource(path) as src:
        for batch in src.batches():
            det.feed_raw_lines(batch.lines)
            if det.lines >= limit:
                break
    return det.result()


def parse_file(path: str | os.PathLike[str], *, cycle_pattern: str | None = None,
               object_patterns: Sequence[UserPattern] = (), fast: bool | None = None,
               objects: bool | str = True, detect: bool = True,
               heap_runs: bool = False) -> ParsedLog:
    """Parse a log file (plain, gzip or UTF-16). Raises InputError if it cannot be read.

    Without ``cycle_pattern`` the round marker is detected on the file's head
    (``detect_cycles``); ``stats.cycle_source`` says which line was used.

    ``object_patterns``: the user's object-trace formats (``agent.load_patterns``).
    ``fast``: the scanning fast path (default: on unless ``MEMSLEUTH_FAST=0``); ``objects``:
    False when the caller ignores object events (they are then not built where avoidable);
    "runs" when it takes ``ObjectEventRun`` records too (stretches of events in columns).
    ``heap_runs``: the caller takes ``HeapRun`` records too (stretches of cycle markers and
    overview tables in columns, where the C scanner reads them).
    ``detect=False``: no round-marker detection (a caller that ignores rounds saves a pass
    over the head; the agent's ``[MSCYCLE]`` marker is still read).
    """
    detected = None
    if cycle_pattern is None and detect:
        detected = detect_cycles(path)
        if detected is not None and detected.template == "[MSCYCLE] N":
            detected = None         # the agent's own marker: the default reader has it
    source = FileSource(path)
    try:
        if detected is not None:
            return ParsedLog(source, source.path, detected.regex, source, object_patterns,
                             cycle_source=detected.describe(), fast=fast, objects=objects,
                             heap_runs=heap_runs)
        return ParsedLog(source, source.path, cycle_pattern, source, object_patterns,
                         fast=fast, objects=objects, heap_runs=heap_runs)
    except BaseException:
        source.close()
        raise
