"""Zephyr's own printers: sys_heap info, heap statistics, the fatal error dump.

Formats, as printed by Zephyr (lib/heap/heap_info.c, subsys/shell/modules/kernel_service,
kernel/fatal.c, arch/arm/core/cortex_m/fault.c + fatal.c, arch/riscv/core/fatal.c):

- ``sys_heap_print_info(heap, dump_chunks)``::

      Heap at 0x5b78 contains 1 units in 1 buckets
        bucket#    min units        total      largest      largest
                   threshold       chunks      (units)      (bytes)
        -----------------------------------------------------------
              0            1            1            1            4
      Chunk dump:
      chunk    0: [*] size=3    left=0    right=3          ([*] used, [-] free, [.] undersized)
      <free> free bytes, <alloc> allocated bytes, overhead = <n> bytes (<p>.<q>%)

- ``kernel heap`` (shell): ``free:  N`` / ``allocated:  N`` / ``max. allocated: N``; the same
  ``sys_memory_stats`` fields printed by applications as ``free_bytes``/``allocated_bytes``/
  ``max_allocated_bytes`` with values on one line.
- The fatal error: ``***** MPU FAULT *****`` (BUS/USAGE/HARD FAULT, DATA ABORT...) and its
  indented detail lines (``  MMFAR Address: 0x..``), the register frame (Cortex-M ``r0/a1:
  0x..  r1/a2: ...``, `` xpsr:``; RISC-V `` mcause: 7, Store/AMO access fault``, ``  mtval:``,
  ``     a0: 00000000    t0: ...``, ``   mepc:``), ``Faulting instruction address (r15/pc):
  0x..``, ``call trace:`` rows (``  0: fp: .. ra: ..``), ``>>> ZEPHYR FATAL ERROR n: text on
  CPU c``, ``Current thread: 0x.. (name)``, ``Halting system``. Every line may carry the
  logger's ``<err> os:`` (stripped by normalize) or the minimal logger's ``E:`` prefix.
"""

from __future__ import annotations

from memsleuth.parse.base import Feed, OpenCrash, SectionReader
from memsleuth.parse.lazyre import lazy
from memsleuth.records import (
    BacktraceEntry,
    BlockDump,
    CrashDump,
    HeapBlock,
    HeapOverview,
    Record,
)

FAMILY = "zephyr"

#: The minimal logger's level prefix (CONFIG_LOG_MODE_MINIMAL): 'E: '.
_MINIMAL = lazy(r"^[EWID]: ")


def _strip(text: str) -> str:
    return _MINIMAL.sub("", text, count=1)


# ------------------------------------------------------------------------------------------
# sys_heap_print_info()

_HEAP_HEAD = lazy(
    r"^Heap at (?:0x)?(?P<addr>[0-9a-fA-F]+) contains (?P<units>\d+) units in "
    r"(?P<buckets>\d+) buckets\s*$")
_BUCKET_ROW = lazy(
    r"^\s*(?P<b>\d+)\s+(?P<min>\d+)\s+(?P<n>\d+)\s+(?P<lu>\d+)\s+(?P<lb>\d+)\s*$")
_TABLE_HEAD = lazy(r"^\s*(?:bucket#|threshold|-{10,})")
_CHUNK_DUMP = lazy(r"^Chunk dump:\s*$")
_CHUNK_ROW = lazy(
    r"^chunk\s+(?P<c>\d+): \[(?P<st>[*.\-])\] size=(?P<size>\d+)\s+left=(?P<left>\d+)\s+"
    r"right=(?P<right>\d+)\s*$")
_HEAP_SUMMARY = lazy(
    r"^(?P<free>\d+) free bytes, (?P<alloc>\d+) allocated bytes, overhead = (?P<ovh>\d+) bytes")
#: Bytes per chunk unit when the bucket table does not tell (CHUNK_UNIT in lib/heap/heap.h).
CHUNK_UNIT = 8


class SysHeapInfoReader:
    """``sys_heap_print_info()`` -> a HeapOverview (+ a BlockDump of chunks when dumped).

    Without the summary line (older Zephyr, or an excerpt) the free bytes come from the
    chunk dump; chunk sizes include their headers. Chunk 0 (the heap's own header) and the
    end marker are sentinels, not allocations."""

    name = "zephyr_sys_heap"
    #: lowercase literals, one of which is in every line this reader opens on or reads
    #: (parse/scan.py's fast path reads chunks holding none of them in bulk)
    anchors = ('heap at',)
    shortcut_safe = True
    family = FAMILY
    hint = lazy(r"Heap at (?:0x)?[0-9a-fA-F]+ contains")

    def __init__(self) -> None:
        self.start: int | None = None
        self.ts: float | None = None
        self.base = 0
        self.buckets: list[tuple[int, int, int, int]] = []
        self.chunks: list[tuple[int, str, int, int]] = []
        self.summary: tuple[int, int, int] | None = None

    def opens(self, text: str, lineno: int, ts: float | None) -> bool:
        m = _HEAP_HEAD.match(_strip(text))
        if m is None:
            return False
        self.__init__()  # type: ignore[misc]
        self.start, self.ts, self.base = lineno, ts, int(m.group("addr"), 16)
        return True

    def feed(self, text: str, lineno: int, ts: float | None) -> Feed:
        text = _strip(text)
        if not text.strip() or _TABLE_HEAD.match(text) or _CHUNK_DUMP.match(text):
            return Feed.CONSUMED
        m = _CHUNK_ROW.match(text)
        if m is not None:
            self.chunks.append((int(m.group("c")), m.group("st"), int(m.group("size")),
                                lineno))
            return Feed.CONSUMED
        m = _BUCKET_ROW.match(text)
        if m is not None and not self.chunks:
            self.buckets.append((int(m.group("b")), int(m.group("n")), int(m.group("lu")),
                                 int(m.group("lb"))))
            return Feed.CONSUMED
        m = _HEAP_SUMMARY.match(text)
        if m is not None:
            self.summary = (int(m.group("free")), int(m.group("alloc")), int(m.group("ovh")))
            return Feed.DONE
        return Feed.ENDED

    def _unit(self) -> int:
        for _, _, units, nbytes in self.buckets:
            if units:
                return max(1, nbytes // units)
        return CHUNK_UNIT

    def close(self, reason: str | None) -> list[Record]:
        if self.start is None:
            return []
        start, self.start = self.start, None
        unit = self._unit()
        largest = max((b[3] for b in self.buckets), default=None)
        out: list[Record] = []
        dump = None
        if self.chunks:
            dump = BlockDump(line=start, variant="sys_heap", ts=self.ts,
                             end_line=self.chunks[-1][3])
            last = self.chunks[-1][0]
            for c, st, size, line in self.chunks:
                sentinel = c == 0 or (c == last and size == 0)
                dump.blocks.append(HeapBlock(line=line, addr=self.base + c * unit,
                                             used=st == "*", size=None if sentinel and size == 0
                                             else size * unit, owner=0, sentinel=sentinel))
        if self.summary is not None:
            free, alloc, ovh = self.summary
            ov = HeapOverview(line=start, variant="sys_heap", total=free + alloc + ovh,
                              free=free, used=alloc, max_free_block=largest, ts=self.ts)
        elif dump is not None:
            # chunk bytes (headers included); the heap's own header chunk is neither
            free = sum(b.size or 0 for b in dump.blocks if not b.used)
            used = sum(b.size or 0 for b in dump.blocks if b.used and not b.sentinel)
            ov = HeapOverview(line=start, variant="sys_heap",
                              total=sum(b.size or 0 for b in dump.blocks), free=free, used=used,
                              max_free_block=largest, ts=self.ts)
        elif self.buckets and all(n == 1 for _, n, _, _ in self.buckets):
            # one free chunk per bucket: the largest column adds up to the free bytes
            ov = HeapOverview(line=start, variant="sys_heap", total=None,
                              free=sum(b[3] for b in self.buckets), used=None,
                              max_free_block=largest, ts=self.ts)
        else:
            ov = None
        if ov is not None:
            if dump is not None:
                ov.nested = True
                dump.overview = ov
            else:
                out.append(ov)
        if dump is not None:
            out.append(dump)
        return out


# ------------------------------------------------------------------------------------------
# kernel heap / sys_memory_stats

_KH_FREE = lazy(r"^free:\s+(?P<v>\d+)\s*$")
_KH_ALLOC = lazy(r"^allocated:\s+(?P<v>\d+)\s*$")
_KH_MAX = lazy(r"^max\. allocated:\s+(?P<v>\d+)\s*$")


class KernelHeapReader:
    """The ``kernel heap`` shell command -> HeapOverview (total = free + allocated; lowest
    free = total - max. allocated)."""

    name = "zephyr_kernel_heap"
    #: lowercase literals, one of which is in every line this reader opens on or reads
    #: (parse/scan.py's fast path reads chunks holding none of them in bulk)
    anchors = ('free:',)
    shortcut_safe = True
    family = FAMILY
    hint = lazy(r"free:\s+\d+\s*$")

    def __init__(self) -> None:
        self.start: int | None = None
        self.ts: float | None = None
        self.values: dict[str, int] = {}

    def opens(self, text: str, lineno: int, ts: float | None) -> bool:
        m = _KH_FREE.match(_strip(text))
        if m is None:
            return False
        self.__init__()  # type: ignore[misc]
        self.start, self.ts = lineno, ts
        self.values["free"] = int(m.group("v"))
        return True

    def feed(self, text: str, lineno: int, ts: float | None) -> Feed:
        text = _strip(text)
        m = _KH_ALLOC.match(text)
        if m is not None and "allocated" not in self.values:
            self.values["allocated"] = int(m.group("v"))
            return Feed.CONSUMED
        m = _KH_MAX.match(text)
        if m is not None and "allocated" in self.values:
            self.values["max"] = int(m.group("v"))
            return Feed.DONE
        return Feed.ENDED

    def close(self, reason: str | None) -> list[Record]:
        if self.start is None:
            return []
        start, self.start = self.start, None
        v = self.values
        if "allocated" not in v:
            return []           # a lone 'free: N' line is not this table
        total = v["free"] + v["allocated"]
        min_free = total - v["max"] if "max" in v else None
        return [HeapOverview(line=start, variant="kernel_heap", total=total, free=v["free"],
                             used=v["allocated"], min_free=min_free, ts=self.ts,
                             partial="max" not in v,
                             partial_reason=None if "max" in v else "no 'max. allocated' line")]


_STATS_FIELD = lazy(
    r"\b(?P<key>free_bytes|allocated_bytes|max_allocated_bytes)\s*[:=]\s*(?P<v>\d+)")


class MemoryStatsReader:
    """A line printing ``sys_memory_stats`` fields (``free_bytes``, ``allocated_bytes``,
    ``max_allocated_bytes``) -> HeapOverview."""

    name = "zephyr_memory_stats"
    #: lowercase literals, one of which is in every line this reader opens on or reads
    #: (parse/scan.py's fast path reads chunks holding none of them in bulk)
    anchors = ('allocated_bytes',)
    shortcut_safe = True
    family = FAMILY

    def read(self, text: str, lineno: int, ts: float | None) -> Record | None:
        if "allocated_bytes" not in text or "total_allocated_bytes" in text:
            return None
        fields = {m.group("key"): int(m.group("v")) for m in _STATS_FIELD.finditer(text)}
        if "free_bytes" not in fields or "allocated_bytes" not in fields:
            return None
        total = fields["free_bytes"] + fields["allocated_bytes"]
        peak = fields.get("max_allocated_bytes")
        return HeapOverview(line=lineno, variant="kernel_heap", total=total,
                            free=fields["free_bytes"], used=fields["allocated_bytes"],
                            min_free=total - peak if peak is not None else None, ts=ts)


# ------------------------------------------------------------------------------------------
# The fatal error dump

_BANNER = lazy(r"^\*{4,5} (?P<what>.+?) \*{4,5}\s*$")
_FATAL = lazy(r"^(?:FATAL: )?>>> ZEPHYR FATAL ERROR (?P<n>\d+): (?P<text>.*?)"
              r"(?: on CPU (?P<cpu>\d+))?\s*$")
_FAULT_PC = lazy(
    r"^(?:FATAL: )?Faulting instruction address(?: \(r15/pc\))?\s*[:=]\s*0x(?P<pc>[0-9a-fA-F]+)")
_THREAD = lazy(r"^(?:FATAL: )?Current thread(?: ID)?\s*[:=]\s*(?:0x)?(?P<id>[0-9a-fA-F]+)"
               r"(?: \((?P<name>.*)\))?")
_HALT = lazy(r"^(?:FATAL: )?Halting system\s*$")
_ARM_REGS = lazy(r"^\s*(?:r\d+/\w+|xpsr|fpscr|s\[\s*\d+\]|d\[\s*\d+\]|EXC_RETURN)\s*:")
_ARM_PAIR = lazy(
    r"(?P<name>r\d+/\w+|xpsr|psp|fpscr|EXC_RETURN|s\[\s*\d+\]|d\[\s*\d+\])\s*:\s+"
    r"0x(?P<v>[0-9a-fA-F]+)")
_RV_PAIR = lazy(r"(?P<name>\b(?:[as]\d+|t\d|sp|ra|gp|tp|[mx]epc|[mx]status))\s*:\s+"
                r"(?:0x)?(?P<v>[0-9a-fA-F]+)\b")
_RV_REGS = lazy(r"^\s+(?:[as]\d+|t\d|sp|ra|gp|tp|[mx]epc|[mx]status):\s+[0-9a-fA-F]{8,16}\b")
_MCAUSE = lazy(r"^\s*[mx]cause: (?P<n>\d+), (?P<text>.*?)\s*$")
_MTVAL = lazy(r"^\s*[mx]tval: (?:0x)?(?P<v>[0-9a-fA-F]+)\s*$")
_DETAIL = lazy(r"^  (?P<text>\S.*?)\s*$")
_FAULT_ADDR = lazy(r"^\s*(?P<reg>MMFAR|BFAR) Address: 0x(?P<v>[0-9a-fA-F]+)")
_CALL_TRACE = lazy(r"^call trace:\s*$")
_TRACE_ROW = lazy(
    r"^\s*\d+: (?:(?:fp|sp): (?:0x)?[0-9a-fA-F]+\s+)?(?:ra|lr|pc): (?:0x)?(?P<a>[0-9a-fA-F]+)")
_IRQ = lazy(r"^Fault during interrupt handling\s*$")


class FatalReader(OpenCrash):
    """Zephyr's fatal error output -> CrashDump (family zephyr)."""

    name = "zephyr_fatal"
    #: lowercase literals, one of which is in every line this reader opens on or reads
    #: (parse/scan.py's fast path reads chunks holding none of them in bulk)
    anchors = ('****', 'zephyr fatal error', 'r0/a1:', 'cause:', 'faulting instruction address')
    shortcut_safe = True
    family = FAMILY
    hint = lazy(
        r"\*{4,5} |(?:FATAL: )?>>> ZEPHYR FATAL ERROR|r0/a1:|\s*[mx]cause: \d+, "
        r"|(?:FATAL: )?Faulting instruction address")

    def __init__(self) -> None:
        self.crash: CrashDump | None = None
        self._after_fatal = False
        self._foreign = 0
        self._lineno = 0
        self._in_trace = False
        self._in_banner = False

    def opens(self, text: str, lineno: int, ts: float | None) -> bool:
        t = _strip(text)
        if not (_BANNER.match(t) or _FATAL.match(t) or _ARM_REGS.match(t) or _MCAUSE.match(t)
                or _FAULT_PC.match(t)):
            return False
        self.__init__()  # type: ignore[misc]
        self.crash = CrashDump(line=lineno, kind="exception", ts=ts, family=FAMILY)
        self.feed(text, lineno, ts)
        return True

    def feed(self, text: str, lineno: int, ts: float | None) -> Feed:
        crash = self.crash
        assert crash is not None
        self._lineno = lineno
        t = _strip(text)
        if not t.strip():
            self._in_banner = False
            return Feed.CONSUMED
        if self._after_fatal:
            m = _THREAD.match(t)
            if m is not None:
                crash.current_task = m.group("name") or f"0x{m.group('id')}"
                return Feed.CONSUMED
            if _IRQ.match(t):
                crash.reason.append(t.strip())
                return Feed.CONSUMED
            if _HALT.match(t):
                crash.end_line = lineno
                return Feed.DONE
            return Feed.ENDED
        m = _BANNER.match(t)
        if m is not None:
            if crash.registers or crash.backtrace:
                return Feed.ENDED      # a new fault
            crash.reason.append(m.group("what").strip())
            crash.sections.append("fault")
            self._in_banner = True
            return self._ok()
        m = _FAULT_ADDR.match(t)
        if m is not None:
            crash.registers[m.group("reg")] = int(m.group("v"), 16)
            crash.reason.append(t.strip())
            return self._ok()
        if _ARM_REGS.match(t):
            for p in _ARM_PAIR.finditer(t):
                name = _arm_name(p.group("name"))
                if name:
                    crash.registers[name] = int(p.group("v"), 16)
            crash.arch = crash.arch or "cortex-m"
            self._in_banner = False
            return self._ok()
        m = _MCAUSE.match(t)
        if m is not None:
            crash.registers["MCAUSE"] = int(m.group("n"))
            crash.reason.append(m.group("text"))
            crash.arch = "riscv"
            return self._ok()
        m = _MTVAL.match(t)
        if m is not None:
            crash.registers["MTVAL"] = int(m.group("v"), 16)
            return self._ok()
        if _RV_REGS.match(t):
            for p in _RV_PAIR.finditer(t):
                name = p.group("name").upper()
                name = {"XEPC": "MEPC", "XSTATUS": "MSTATUS"}.get(name, name)
                crash.registers[name] = int(p.group("v"), 16)
            crash.arch = "riscv"
            return self._ok()
        m = _FAULT_PC.match(t)
        if m is not None:
            crash.registers["PC"] = int(m.group("pc"), 16)
            return self._ok()
        if _CALL_TRACE.match(t):
            self._in_trace = True
            crash.sections.append("call trace")
            return self._ok()
        m = _TRACE_ROW.match(t)
        if m is not None and self._in_trace:
            crash.backtrace.append(BacktraceEntry(lineno, int(m.group("a"), 16), kind="return"))
            return self._ok()
        m = _FATAL.match(t)
        if m is not None:
            crash.reason.append(f"ZEPHYR FATAL ERROR {m.group('n')}: {m.group('text')}")
            crash.registers.setdefault("CORE", int(m.group("cpu") or 0))
            if int(m.group("n")) == 2:     # K_ERR_STACK_CHK_FAIL
                crash.stack_overflow_task = crash.stack_overflow_task or "(current thread)"
            self._after_fatal = True
            crash.end_line = lineno
            return self._ok()
        if self._in_banner:
            m = _DETAIL.match(t)
            if m is not None:
                crash.reason.append(m.group("text"))
                return self._ok()
        return self._foreign_line(crash)

    def close(self, reason: str | None) -> list[Record]:
        crash = self._take_crash()
        if crash is None:
            return []
        if not self._after_fatal:
            crash.partial = True
            crash.partial_reason = (reason or "the dump stopped") + \
                ": no '>>> ZEPHYR FATAL ERROR' line"
        return [crash]


def _arm_name(raw: str) -> str | None:
    """'r0/a1' -> 'R0', 'r14/lr' -> 'LR', 'xpsr' -> 'xPSR'; FPU registers are dropped."""
    low = raw.lower()
    if low.startswith(("s[", "d[", "fpscr")):
        return None
    if low == "xpsr":
        return "xPSR"
    if low == "psp":
        return "PSP"
    if low == "exc_return":
        return "EXC_RET"
    reg = low.split("/")[0]
    return {"r13": "SP", "r14": "LR", "r15": "PC"}.get(reg, reg.upper())


def section_readers() -> list[SectionReader]:
    return [FatalReader(), SysHeapInfoReader(), KernelHeapReader()]


def line_readers() -> list[MemoryStatsReader]:
    return [MemoryStatsReader()]
