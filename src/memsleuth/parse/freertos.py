"""FreeRTOS heap figures: ``vPortGetHeapStats()`` fields and free-heap trend lines.

FreeRTOS prints nothing itself: applications print what ``vPortGetHeapStats()`` fills in
(``HeapStats_t``: ``xAvailableHeapSpaceInBytes``, ``xSizeOfLargestFreeBlockInBytes``,
``xSizeOfSmallestFreeBlockInBytes``, ``xNumberOfFreeBlocks``,
``xMinimumEverFreeBytesRemaining``, ``xNumberOfSuccessfulAllocations``,
``xNumberOfSuccessfulFrees``; heap_4/heap_5) and what ``xPortGetFreeHeapSize()`` /
``xPortGetMinimumEverFreeHeapSize()`` return. So we read the field and function names, the
one thing every such print shares, each followed by ``:`` or ``=`` and the value:

    xAvailableHeapSpaceInBytes: 10240           (one field a line, or several on one line;
                                                 a sample's first line starts with a field)
    xPortGetFreeHeapSize() = 10240, xPortGetMinimumEverFreeHeapSize() = 9800
    configTOTAL_HEAP_SIZE = 16384               (optional: gives the total and used)

and the commonest hand-written trend line, ``Free heap size: 10240`` (``Free heap: ...``,
with an optional ``min(imum) (ever) free heap: ...`` on the same line).
"""

from __future__ import annotations

from memsleuth.parse.base import Feed, SectionReader
from memsleuth.parse.lazyre import lazy
from memsleuth.records import HeapOverview, Record

FAMILY = "freertos"

_FIELDS = {
    "xAvailableHeapSpaceInBytes": "free",
    "xSizeOfLargestFreeBlockInBytes": "largest",
    "xSizeOfSmallestFreeBlockInBytes": "smallest",
    "xNumberOfFreeBlocks": "free_blocks",
    "xMinimumEverFreeBytesRemaining": "min_free",
    "xNumberOfSuccessfulAllocations": "allocs",
    "xNumberOfSuccessfulFrees": "frees",
    "configTOTAL_HEAP_SIZE": "total",
}
_FIELD = lazy(r"\b(?:pxHeapStats->|xHeapStats\.|\w+\.)?(?P<k>" + "|".join(_FIELDS) +
              r")\s*[:=]\s*(?P<v>\d+)")


def _overview(line: int, ts: float | None, values: dict[str, int], variant: str,
              partial_reason: str | None = None) -> HeapOverview:
    total = values.get("total")
    free = values["free"]
    return HeapOverview(line=line, variant=variant,  # type: ignore[arg-type]
                        total=total, free=free,
                        used=total - free if total is not None else None,
                        min_free=values.get("min_free"), max_free_block=values.get("largest"),
                        ts=ts, partial=partial_reason is not None,
                        partial_reason=partial_reason)


class HeapStatsReader:
    """``HeapStats_t`` fields over one or more lines -> one HeapOverview per sample.

    A sample ends at the first line without a field, or when a field comes again (the next
    sample)."""

    name = "freertos_heapstats"
    #: lowercase literals, one of which is in every line this reader opens on or reads
    #: (parse/scan.py's fast path reads chunks holding none of them in bulk)
    anchors = ('xavailableheapspace', 'xsizeof', 'xnumberof', 'xminimumever', 'configtotal_heap')
    shortcut_safe = True
    family = FAMILY
    #: a sample starts with a field name (the scanner's fast path needs an anchor)
    hint = lazy(r"\s*(?:xAvailableHeapSpace|xSizeOf|xNumberOf|xMinimumEver|configTOTAL_HEAP)")

    def __init__(self) -> None:
        self.start: int | None = None
        self.ts: float | None = None
        self.values: dict[str, int] = {}

    def opens(self, text: str, lineno: int, ts: float | None) -> bool:
        found = {_FIELDS[m.group("k")]: int(m.group("v")) for m in _FIELD.finditer(text)}
        if not found:
            return False
        self.__init__()  # type: ignore[misc]
        self.start, self.ts, self.values = lineno, ts, found
        return True

    def feed(self, text: str, lineno: int, ts: float | None) -> Feed:
        found = {_FIELDS[m.group("k")]: int(m.group("v")) for m in _FIELD.finditer(text)}
        if not found or found.keys() & self.values.keys():
            return Feed.ENDED
        self.values.update(found)
        return Feed.CONSUMED

    def close(self, reason: str | None) -> list[Record]:
        if self.start is None:
            return []
        start, self.start = self.start, None
        if "free" not in self.values:
            return []      # a lone total or counter is not a heap sample
        return [_overview(start, self.ts, self.values, "freertos_heapstats")]


_FREE_API = lazy(r"xPortGetFreeHeapSize\(\)\s*[:=]?\s*(?P<v>\d+)")
_MIN_API = lazy(r"xPortGetMinimumEverFreeHeapSize\(\)\s*[:=]?\s*(?P<v>\d+)")
_FREE_TEXT = lazy(r"^(?:[Ff]ree heap(?: size)?|[Ff]ree heap memory)\s*[:=]\s*(?P<v>\d+)\b")
_MIN_TEXT = lazy(r"\b[Mm]in(?:imum)?(?: ever)? free heap(?: size)?\s*[:=]\s*(?P<v>\d+)\b")


class FreeHeapLineReader:
    """One free-heap trend line -> HeapOverview (free, and the lowest free when printed)."""

    name = "freertos_free_heap"
    #: lowercase literals, one of which is in every line this reader opens on or reads
    #: (parse/scan.py's fast path reads chunks holding none of them in bulk)
    anchors = ('xportgetfreeheapsize', 'ree heap')
    shortcut_safe = True
    family = FAMILY

    def read(self, text: str, lineno: int, ts: float | None) -> Record | None:
        m = None
        if "xPortGetFreeHeapSize" in text:
            m = _FREE_API.search(text)
        elif text[:1] in "Ff":
            m = _FREE_TEXT.match(text)
        if m is None:
            return None
        values = {"free": int(m.group("v"))}
        low = _MIN_API.search(text) or _MIN_TEXT.search(text)
        if low is not None:
            values["min_free"] = int(low.group("v"))
        return _overview(lineno, ts, values, "freertos_free")


def section_readers() -> list[SectionReader]:
    return [HeapStatsReader()]


def line_readers() -> list[FreeHeapLineReader]:
    return [FreeHeapLineReader()]
