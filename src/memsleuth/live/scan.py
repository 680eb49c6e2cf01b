"""A light, synchronous line scanner for what the live status needs.

Why not only the full parser: the status line must move with every line, in order, with line
numbers that match the capture, and must never stall the terminal. Heap overviews, object
events, cycle markers, allocator warnings and crash banners are simple enough to recognise
with a few regexes per line. Crash dumps themselves are handed whole to the full parser
(``memsleuth.parse``) by the engine once they end, for the crash explanation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from memsleuth.records import AllocWarning, CycleMarker, HeapOverview, ObjectEvent, Record

_HEAP_HDR = re.compile(r"\[HEAP\]\|\s*(TotalSz|TotalSize)")
_HEX8 = re.compile(r"0x([0-9A-Fa-f]{8})")
_DEC = re.compile(r"\|\s*(\d+)")
_PRT = re.compile(r"free\s*=\s*0x([0-9A-Fa-f]+)\s*\|\s*used\s*=\s*0x([0-9A-Fa-f]+)")
_MSOBJ = re.compile(
    r"\[MSOBJ\] (create|delete) ([a-z][a-z0-9_]{0,15}) "
    r"0x([0-9a-f]{8}|[0-9a-f]{16}) caller 0x([0-9a-f]{8}|[0-9a-f]{16}) "
    r"seq (\d+)(?: name ([!-~]{1,31}))?\s*$"
)
_MSCYCLE = re.compile(r"\[MSCYCLE\] (\d+)\s*$")
_MALLOC_FAILED = re.compile(r"WARNING,\s*malloc failed")
_CRASH_START = re.compile(
    r"!{6,}\s*(?:Exception|Fatal Error|Stopped by|core \d+ Enter fiq)"
)
_CRASH_END = re.compile(r"!{6,}\s*dump end\s*!{6,}")


@dataclass(slots=True)
class CrashBoundary:
    """A crash dump started (``end`` False) or ended at ``line``."""

    line: int
    end: bool
    text: str = ""


@dataclass(slots=True)
class LiveScanner:
    """Feed decoded text lines in order; get the records the status tracker folds."""

    lines: int = 0
    in_crash: bool = False
    _heap_header: str | None = None
    _heap_line: int = 0
    damaged: int = 0
    pending: list[Record | CrashBoundary] = field(default_factory=list)

    def feed(self, text: str) -> list[Record | CrashBoundary]:
        """Scan one line (line ending stripped); return what it completes."""
        self.lines += 1
        n = self.lines
        out: list[Record | CrashBoundary] = []
        if self._heap_header is not None:
            header, self._heap_header = self._heap_header, None
            ov = self._overview(text, header, self._heap_line)
            if ov is not None:
                out.append(ov)
                return out
        if "[" in text:
            if "[HEAP]|" in text:
                m = _HEAP_HDR.search(text)
                if m:
                    self._heap_header = m.group(1)
                    self._heap_line = n
                return out
            if "[MSOBJ]" in text:
                m = _MSOBJ.search(text)
                if m is None:
                    self.damaged += 1
                    return out
                out.append(
                    ObjectEvent(
                        line=n, op=m.group(1), kind=m.group(2),  # type: ignore[arg-type]
                        handle=int(m.group(3), 16), caller=int(m.group(4), 16),
                        seq=int(m.group(5)), name=m.group(6),
                    )
                )
                return out
            if "[MSCYCLE]" in text:
                m = _MSCYCLE.search(text)
                if m is None:
                    self.damaged += 1
                    return out
                out.append(CycleMarker(line=n, index=int(m.group(1)), text=text.strip()))
                return out
        if "!!!!" in text:
            if _CRASH_END.search(text):
                self.in_crash = False
                out.append(CrashBoundary(n, True, text.strip()))
                return out
            if _CRASH_START.search(text):
                self.in_crash = True
                out.append(CrashBoundary(n, False, text.strip()))
                return out
        if "malloc failed" in text and _MALLOC_FAILED.search(text):
            out.append(AllocWarning(line=n, kind="malloc_failed", text=text.strip()))
            return out
        if "free" in text and "used" in text and "=" in text:
            m = _PRT.search(text)
            if m:
                free, used = int(m.group(1), 16), int(m.group(2), 16)
                out.append(
                    HeapOverview(line=n, variant="heap_prt", total=free + used, free=free,
                                 used=used, nested=self.in_crash)
                )
        return out

    def _overview(self, text: str, header: str, line: int) -> HeapOverview | None:
        if header == "TotalSz":
            vals = [int(v, 16) for v in _HEX8.findall(text)]
            if len(vals) < 4:
                return None
            variant = "H4" if len(vals) == 4 else "H5a"
            return HeapOverview(
                line=line, variant=variant, total=vals[0], free=vals[1], used=vals[2],  # type: ignore[arg-type]
                min_free=vals[3], max_free_block=vals[4] if len(vals) > 4 else None,
                nested=self.in_crash,
            )
        vals = [int(v) for v in _DEC.findall("|" + text)]
        if len(vals) < 4:
            return None
        return HeapOverview(
            line=line, variant="show_mm", total=vals[0], free=vals[1], used=vals[2],
            min_free=vals[3], nested=self.in_crash,
        )
