"""ESP-IDF's own printers: heap trace, heap summaries, the panic handler, the boot SHA line.

Formats, as printed by ESP-IDF (components/heap, components/esp_system):

- ``heap_trace_dump()``, standalone mode. v3/v4::

      16 bytes (@ 0x3ffd1914) allocated CPU 1 ccount 0x419d1cf8 caller 0x4010a09b:0x4010a0c6
      freed by 0x400d1234:0x400d5678                (HEAP_TRACE_ALL, freed records)
      78141 bytes 'leaked' in trace (96 allocations)  |  N bytes alive in trace (a/b allocations)
      total allocations 5598 total frees 5447

  v5 frames it with ``====== Heap Trace: N records (C capacity) ======`` ... ``Mode: Heap
  Trace Leaks`` ... ``total allocations: N`` / ``total frees: N`` ... a ``=====`` rule, and
  labels each address ``(@ 0x3fc9..., Internal)`` or ``,    PSRAM``. Callers are return
  addresses (GCC's ``__builtin_return_address`` with Xtensa's window bits already fixed);
  RISC-V targets print none.
- ``heap_caps_print_heap_info()``: ``Heap summary for capabilities 0x%08X:``, one ``At 0x..
  len .. free .. allocated .. min_free ..`` + ``largest_free_block .. alloc_blocks ..`` pair
  per region, then ``Totals:`` / ``free .. allocated .. min_free .. largest_free_block ..``.
- ``multi_heap_info_t`` as printed by applications (``heap_caps_get_info``): the field names
  with their values (``total_free_bytes=.. total_allocated_bytes=.. ...``), one line.
- The panic handler: ``Guru Meditation Error: Core  0 panic'ed (LoadProhibited)...``,
  ``abort() was called at PC 0x.. on core 0``, ``assert failed: ...`` (v4.3+) or newlib's
  ``assertion "x" failed: file "f", line n, function: fn``, the ``Core  0 register dump:``
  (Xtensa ``PC/PS/A0..A15/SAR/EXCCAUSE/EXCVADDR/LBEG/LEND/LCOUNT``, RISC-V ``MEPC/RA/SP/...
  MCAUSE/MTVAL``), ``Backtrace: PC:SP PC:SP ... [|<-CORRUPTED]`` (every PC already moved back
  to its call instruction: ``esp_cpu_process_stack_pc`` = window bits fixed, minus 3),
  RISC-V's ``Stack memory:`` rows, ``ELF file SHA256: <hex>`` and ``Rebooting...``. AliOS
  Things on ESP32 prints ``kernel panic,err N!`` (its kernel error number) before aborting.
"""

from __future__ import annotations

from memsleuth.parse.base import Feed, OpenCrash, SectionReader
from memsleuth.parse.lazyre import lazy
from memsleuth.records import (
    BacktraceEntry,
    BlockDump,
    BuildId,
    CrashDump,
    HeapBlock,
    HeapOverview,
    Record,
    StackRow,
)

FAMILY = "esp-idf"

# ------------------------------------------------------------------------------------------
# heap_trace_dump()

_TRACE_RECORD = lazy(
    r"^\s*(?P<size>\d+) bytes \(@ 0x(?P<addr>[0-9a-fA-F]+)(?:,\s*(?P<mem>Internal|PSRAM))?\) "
    r"allocated CPU (?P<cpu>\d+) ccount 0x(?P<ccount>[0-9a-fA-F]+) caller ?(?P<callers>.*)$")
_TRACE_FREED = lazy(r"^\s*freed by (?P<callers>.*)$")
_TRACE_HEAD_V5 = lazy(
    r"^=+ Heap Trace: (?P<n>\d+) records \((?P<cap>\d+) capacity\) =+\s*$")
_TRACE_HEAD_OLD = lazy(r"^(?P<n>\d+) allocations trace \((?P<cap>\d+) entry buffer\)\s*$")
_TRACE_LEAKED = lazy(
    r"^(?P<bytes>\d+) bytes 'leaked' in trace \((?P<n>\d+) allocations\)\s*$")
_TRACE_ALIVE = lazy(
    r"^(?P<bytes>\d+) bytes alive in trace \((?P<n>\d+)/(?P<count>\d+) allocations\)\s*$")
_TRACE_TOTALS_OLD = lazy(r"^total allocations (?P<a>\d+) total frees (?P<f>\d+)\s*$")
_TRACE_TOTAL_V5 = lazy(r"^total (?P<what>allocations|frees): (?P<n>\d+)\s*$")
_TRACE_RECORDS_V5 = lazy(
    r"^records: (?P<n>\d+) \((?P<cap>\d+) capacity, (?P<hwm>\d+) high water mark\)\s*$")
_TRACE_MODE = lazy(r"^Mode: Heap Trace (?P<mode>All|Leaks)\s*$")
_TRACE_SUMMARY_V5 = lazy(r"^=+ Heap Trace Summary =+\s*$")
_TRACE_RULE = lazy(r"^={10,}\s*$")
_TRACE_NB = lazy(r"^\(NB: (?P<text>.*)\)\s*$")
_TRACE_CORRUPT = lazy(r"^Error: heap trace linked list is corrupt")
_HEX_ADDR = lazy(r"0x([0-9a-fA-F]+)")


def _callers(text: str) -> tuple[int, ...]:
    """'0x4010a09b:0x4010a0c6' (maybe a trailing ':' or '(nil)') -> non-zero addresses."""
    out = []
    for part in text.strip().split(":"):
        m = _HEX_ADDR.fullmatch(part.strip())
        if m:
            value = int(m.group(1), 16)
            if value:
                out.append(value)
    return tuple(out)


class HeapTraceReader:
    """``heap_trace_dump()`` (leaks and all-records modes) -> one BlockDump of live records.

    Freed records (all-records mode) are not live: they are counted, not listed. When the
    printed totals disagree with the rows (an excerpt, a dump cut short), the dump says so.
    """

    name = "espidf_heap_trace"
    #: lowercase literals, one of which is in every line this reader opens on or reads
    #: (parse/scan.py's fast path reads chunks holding none of them in bulk)
    anchors = ('heap trace', 'allocations trace', 'bytes (@ 0x', 'in trace')
    shortcut_safe = True
    family = FAMILY
    hint = lazy(
        r"=+ Heap Trace: |\d+ allocations trace \(|\s*\d+ bytes \(@ 0x|\d+ bytes 'leaked' in trace"
        r"|\d+ bytes alive in trace")

    def __init__(self) -> None:
        self.dump: BlockDump | None = None
        self._last: HeapBlock | None = None
        self._ending = False
        self._freed = 0
        self._notes: list[str] = []

    def opens(self, text: str, lineno: int, ts: float | None) -> bool:
        m = _TRACE_HEAD_V5.match(text) or _TRACE_HEAD_OLD.match(text)
        if m is not None:
            self._start(lineno, ts)
            assert self.dump is not None
            self.dump.totals["records"] = int(m.group("n"))
            self.dump.totals["capacity"] = int(m.group("cap"))
            return True
        if _TRACE_RECORD.match(text) or _TRACE_LEAKED.match(text) or _TRACE_ALIVE.match(text):
            self._start(lineno, ts)
            self.feed(text, lineno, ts)
            return True
        return False

    def _start(self, lineno: int, ts: float | None) -> None:
        self.__init__()  # type: ignore[misc]
        self.dump = BlockDump(line=lineno, variant="heap_trace", ts=ts)

    def feed(self, text: str, lineno: int, ts: float | None) -> Feed:
        dump = self.dump
        assert dump is not None
        m = _TRACE_RECORD.match(text)
        if m is not None:
            if self._ending:
                return Feed.ENDED
            callers = _callers(m.group("callers"))
            block = HeapBlock(line=lineno, addr=int(m.group("addr"), 16), used=True,
                              size=int(m.group("size")), owner=callers[0] if callers else 0,
                              trace=callers)
            dump.blocks.append(block)
            self._last = block
            return Feed.CONSUMED
        m = _TRACE_FREED.match(text)
        if m is not None and self._last is not None:
            dump.blocks.remove(self._last)   # freed since: not live
            self._freed += 1
            self._last = None
            return Feed.CONSUMED
        if _TRACE_SUMMARY_V5.match(text):
            return Feed.CONSUMED
        m = _TRACE_MODE.match(text)
        if m is not None:
            dump.totals["mode_all"] = int(m.group("mode") == "All")
            return Feed.CONSUMED
        m = _TRACE_LEAKED.match(text)
        if m is not None:
            dump.totals["live_bytes"] = int(m.group("bytes"))
            dump.totals["live_allocations"] = int(m.group("n"))
            return Feed.CONSUMED
        m = _TRACE_ALIVE.match(text)
        if m is not None:
            dump.totals["live_bytes"] = int(m.group("bytes"))
            dump.totals["live_allocations"] = int(m.group("n"))
            dump.totals["mode_all"] = 1
            return Feed.CONSUMED
        m = _TRACE_RECORDS_V5.match(text)
        if m is not None:
            dump.totals["high_water_mark"] = int(m.group("hwm"))
            return Feed.CONSUMED
        m = _TRACE_TOTALS_OLD.match(text)
        if m is not None:
            dump.totals["total_allocations"] = int(m.group("a"))
            dump.totals["total_frees"] = int(m.group("f"))
            self._ending = True          # v3/v4: the last line, but for NB notes
            dump.end_line = lineno
            return Feed.CONSUMED
        m = _TRACE_TOTAL_V5.match(text)
        if m is not None:
            key = "total_allocations" if m.group("what") == "allocations" else "total_frees"
            dump.totals[key] = int(m.group("n"))
            return Feed.CONSUMED
        m = _TRACE_NB.match(text)
        if m is not None:
            self._notes.append(m.group("text"))
            return Feed.CONSUMED
        if _TRACE_CORRUPT.match(text):
            self._notes.append("the device says its heap trace list is corrupt")
            return Feed.CONSUMED
        if _TRACE_RULE.match(text):
            dump.end_line = lineno
            return Feed.DONE
        if not text.strip():
            return Feed.CONSUMED if not self._ending else Feed.ENDED
        return Feed.ENDED if self._ending else Feed.SKIPPED

    def close(self, reason: str | None) -> list[Record]:
        dump, self.dump = self.dump, None
        if dump is None:
            return []
        if self._freed:
            dump.totals["freed_records"] = self._freed
        problems = []
        rows = len(dump.blocks)
        row_bytes = sum(b.size or 0 for b in dump.blocks)
        want_n = dump.totals.get("live_allocations")
        want_b = dump.totals.get("live_bytes")
        if want_n is not None and (want_n != rows or want_b != row_bytes):
            problems.append(f"the device counted {want_n} live allocations ({want_b:,} bytes) "
                            f"but the log lists {rows} ({row_bytes:,} bytes)")
        for note in self._notes:
            if "overflow" in note.lower() or "corrupt" in note.lower():
                problems.append(note)
        if reason is not None and "live_bytes" not in dump.totals and self._ending is False:
            problems.append(reason)
        if problems:
            dump.partial = True
            dump.partial_reason = "; ".join(problems)
        return [dump]


# ------------------------------------------------------------------------------------------
# heap_caps_print_heap_info(), multi_heap_info_t

_CAPS_HEAD = lazy(r"^Heap summary for capabilities 0x(?P<caps>[0-9a-fA-F]+):\s*$")
_CAPS_REGION = lazy(
    r"^\s*At 0x(?P<at>[0-9a-fA-F]+) len (?P<len>\d+) free (?P<free>\d+) allocated "
    r"(?P<alloc>\d+) min_free (?P<min>\d+)\s*$")
_CAPS_REGION2 = lazy(
    r"^\s*largest_free_block (?P<largest>\d+) alloc_blocks (?P<ab>\d+) free_blocks (?P<fb>\d+) "
    r"total_blocks (?P<tb>\d+)\s*$")
_CAPS_TOTALS_HEAD = lazy(r"^\s*Totals:\s*$")
_CAPS_TOTALS = lazy(
    r"^\s*free (?P<free>\d+) allocated (?P<alloc>\d+) min_free (?P<min>\d+) "
    r"largest_free_block (?P<largest>\d+)\s*$")


class HeapCapsReader:
    """``heap_caps_print_heap_info()`` -> one HeapOverview (the Totals; total = sum of the
    regions' lengths, which include the allocator's own overhead)."""

    name = "espidf_heap_caps"
    #: lowercase literals, one of which is in every line this reader opens on or reads
    #: (parse/scan.py's fast path reads chunks holding none of them in bulk)
    anchors = ('heap summary for capabilities',)
    shortcut_safe = True
    family = FAMILY
    hint = lazy(r"Heap summary for capabilities")

    def __init__(self) -> None:
        self.start: int | None = None
        self.ts: float | None = None
        self.regions: list[dict[str, int]] = []
        self.totals: dict[str, int] | None = None

    def opens(self, text: str, lineno: int, ts: float | None) -> bool:
        if _CAPS_HEAD.match(text) is None:
            return False
        self.__init__()  # type: ignore[misc]
        self.start, self.ts = lineno, ts
        return True

    def feed(self, text: str, lineno: int, ts: float | None) -> Feed:
        m = _CAPS_REGION.match(text)
        if m is not None:
            self.regions.append({k: int(v, 16 if k == "at" else 10)
                                 for k, v in m.groupdict().items()})
            return Feed.CONSUMED
        m = _CAPS_REGION2.match(text)
        if m is not None and self.regions:
            self.regions[-1].update({k: int(v) for k, v in m.groupdict().items()})
            return Feed.CONSUMED
        if _CAPS_TOTALS_HEAD.match(text):
            return Feed.CONSUMED
        m = _CAPS_TOTALS.match(text)
        if m is not None:
            self.totals = {k: int(v) for k, v in m.groupdict().items()}
            return Feed.DONE
        return Feed.SKIPPED if text.strip() else Feed.CONSUMED

    def close(self, reason: str | None) -> list[Record]:
        if self.start is None:
            return []
        start, self.start = self.start, None
        total = sum(r["len"] for r in self.regions) if self.regions else None
        t = self.totals
        if t is not None:
            return [HeapOverview(line=start, variant="heap_caps", total=total, free=t["free"],
                                 used=t["alloc"], min_free=t["min"],
                                 max_free_block=t["largest"], ts=self.ts)]
        if not self.regions:
            return []
        # No Totals line: add the regions up, and say the table was cut.
        rs = self.regions
        return [HeapOverview(
            line=start, variant="heap_caps", total=total, free=sum(r["free"] for r in rs),
            used=sum(r["alloc"] for r in rs), min_free=sum(r["min"] for r in rs),
            max_free_block=max((r.get("largest", 0) for r in rs), default=None), ts=self.ts,
            partial=True, partial_reason=(reason or "no Totals line") + ": totals added up "
                                         f"from the {len(rs)} region(s) printed")]


_INFO_FIELD = lazy(
    r"\b(?P<key>total_free_bytes|total_allocated_bytes|largest_free_block|minimum_free_bytes"
    r"|allocated_blocks|free_blocks|total_blocks)\s*[:=]\s*(?P<v>\d+)")


class MultiHeapInfoReader:
    """One line naming ``multi_heap_info_t`` fields with values -> a HeapOverview sample.

    Needs at least total_free_bytes and total_allocated_bytes on the line (the two fields
    that make it a heap sample rather than any number named 'free_blocks')."""

    name = "espidf_multi_heap_info"
    #: lowercase literals, one of which is in every line this reader opens on or reads
    #: (parse/scan.py's fast path reads chunks holding none of them in bulk)
    anchors = ('total_free_bytes',)
    shortcut_safe = True
    family = FAMILY

    def read(self, text: str, lineno: int, ts: float | None) -> Record | None:
        if "total_free_bytes" not in text:
            return None
        fields = {m.group("key"): int(m.group("v")) for m in _INFO_FIELD.finditer(text)}
        if "total_allocated_bytes" not in fields or "total_free_bytes" not in fields:
            return None
        free, used = fields["total_free_bytes"], fields["total_allocated_bytes"]
        return HeapOverview(line=lineno, variant="multi_heap_info", total=None, free=free,
                            used=used, min_free=fields.get("minimum_free_bytes"),
                            max_free_block=fields.get("largest_free_block"), ts=ts)


# ------------------------------------------------------------------------------------------
# Boot line: ELF file SHA256

_ELF_SHA = lazy(r"^\s*(?:I \(\d+\) \w+: )?ELF file SHA256:\s+(?P<hex>[0-9a-fA-F]{8,64})\b")


class ElfShaReader:
    """``ELF file SHA256:  0123abcd...`` (boot banner and panic footer) -> BuildId."""

    name = "espidf_elf_sha256"
    #: lowercase literals, one of which is in every line this reader opens on or reads
    #: (parse/scan.py's fast path reads chunks holding none of them in bulk)
    anchors = ('elf file sha256',)
    shortcut_safe = True
    family = FAMILY

    def read(self, text: str, lineno: int, ts: float | None) -> Record | None:
        if "ELF file SHA256" not in text:
            return None
        m = _ELF_SHA.match(text)
        if m is None:
            return None
        return BuildId(line=lineno, kind="elf-sha256", value=m.group("hex").lower(), ts=ts)


# ------------------------------------------------------------------------------------------
# The panic handler

_GURU = lazy(
    r"^Guru Meditation Error: Core\s+(?P<core>\d+) panic'ed \((?P<why>.*?)\)\.?\s*(?P<rest>.*)$")
_ABORT = lazy(r"^abort\(\) was called at PC 0x(?P<pc>[0-9a-fA-F]+) on core (?P<core>\d+)")
_ASSERT_NEW = lazy(r"^assert failed: (?P<text>.*?)\s*$")
_ASSERT_NEWLIB = lazy(
    r"^assertion \"(?P<expr>.*)\" failed: file \"(?P<file>[^\"]*)\", line (?P<line>\d+)"
    r"(?:, function: (?P<fn>\S+))?")
_ASSERT_NEW_WHERE = lazy(r"^(?P<fn>\S+) (?P<file>\S+?):(?P<line>\d+) \((?P<expr>.*)\)$")
_ALIOS_PANIC = lazy(r"^(?:#\s*)?kernel panic,err (?P<err>-?\d+)!?")
_STACK_OVF = lazy(r"^\*\*\*ERROR\*\*\* A stack overflow in task (?P<task>.+?) has been "
                  r"detected\.?")
_STACK_SMASH = lazy(r"^Stack smashing protect failure!")
_REG_DUMP = lazy(r"^Core\s+(?P<core>\d+) register dump:\s*$")
_REG_PAIR = lazy(
    r"(?P<name>[A-Z][A-Z0-9]*(?:/[A-Z0-9]+)?)\s*:\s*0x(?P<v>[0-9a-fA-F]{1,16})\b")
_REG_LINE = lazy(r"^\s*(?:[A-Z][A-Z0-9]*(?:/[A-Z0-9]+)?\s*:\s*0x[0-9a-fA-F]{1,16}\s*)+$")
_BACKTRACE = lazy(r"^\s*Backtrace:\s*(?P<rest>.*)$")
_BT_PAIR = lazy(r"0x(?P<pc>[0-9a-fA-F]{8,16}):0x(?P<sp>[0-9a-fA-F]{8,16})")
_BT_ONLY = lazy(r"^\s*(?:0x[0-9a-fA-F]{8,16}:0x[0-9a-fA-F]{8,16}\s*)+(?:\|<-\w+)?\s*$")
_STACK_MEM = lazy(r"^Stack memory:\s*$")
_STACK_ROW = lazy(r"^(?P<addr>[0-9a-fA-F]{8}):\s*(?P<words>(?:0x[0-9a-fA-F]{8}\s*)+)$")
_END = lazy(r"^(?:Rebooting\.\.\.|CPU halted\.|Entering gdb stub now\.)\s*$")
_INFO_LINES = lazy(
    r"^(?:Debug exception reason: .*|Setting breakpoint at .*|Core\s+\d+ was running in ISR "
    r"context:.*|EPC\d\s*:.*|ELF file SHA256: .*|Exception was unhandled\.|"
    r"Memory dump at 0x.*|Panic reason: .*)$")


class PanicReader(OpenCrash):
    """The ESP-IDF panic handler's output (and AliOS-on-ESP32's ``kernel panic`` line before
    it) -> CrashDump (family esp-idf); the ``ELF file SHA256`` footer also -> BuildId."""

    name = "espidf_panic"
    #: lowercase literals, one of which is in every line this reader opens on or reads
    #: (parse/scan.py's fast path reads chunks holding none of them in bulk)
    anchors = ("guru meditation error", "abort() was called", "assert failed:", 'assertion "',
               "kernel panic,err", "a stack overflow in task", "stack smashing protect failure",
               "register dump:")
    shortcut_safe = True
    family = FAMILY
    hint = lazy(
        r"Guru Meditation Error|abort\(\) was called at PC|assert failed: |assertion \""
        r"|(?:#\s*)?kernel panic,err|\*\*\*ERROR\*\*\* A stack overflow in task"
        r"|Stack smashing protect failure|Core\s+\d+ register dump:")

    def __init__(self) -> None:
        self.crash: CrashDump | None = None
        self.build: BuildId | None = None
        self._foreign = 0
        self._lineno = 0
        self._in_bt = False
        self._in_stack = False
        self._seen_guru = False

    # -- protocol ----------------------------------------------------------------------
    def opens(self, text: str, lineno: int, ts: float | None) -> bool:
        if not self.hint.match(text):
            return False
        self.__init__()  # type: ignore[misc]
        self.crash = CrashDump(line=lineno, kind="exception", ts=ts, family=FAMILY)
        if self._opener(text, lineno) is None:
            self.crash = None
            return False
        return True

    def feed(self, text: str, lineno: int, ts: float | None) -> Feed:
        crash = self.crash
        assert crash is not None
        self._lineno = lineno
        if self._in_bt and _BT_ONLY.match(text):
            self._backtrace(text, lineno)
            return self._ok()
        if self._in_stack:
            m = _STACK_ROW.match(text)
            if m is not None:
                words = tuple(int(w, 16) for w in _HEX_ADDR.findall(m.group("words")))
                crash.stack.append(StackRow(addr=int(m.group("addr"), 16), words=words))
                return self._ok()
            self._in_stack = False
        if not text.strip():
            return Feed.CONSUMED
        if _GURU.match(text) and self._seen_guru:
            return Feed.ENDED            # a new panic (the handler re-entered or a reboot)
        if self.hint.match(text) and self._opener(text, lineno) is not None:
            return self._ok()
        m = _REG_DUMP.match(text)
        if m is not None:
            crash.registers.setdefault("CORE", int(m.group("core")))
            return self._ok()
        if _REG_LINE.match(text):
            crash.family = FAMILY
            for pair in _REG_PAIR.finditer(text):
                name = pair.group("name").split("/")[0]
                crash.registers[name] = int(pair.group("v"), 16)
            # both dumps have A0..A7; only RISC-V's has MEPC/MCAUSE, only Xtensa's PS/EXCCAUSE
            if "MEPC" in crash.registers or "MCAUSE" in crash.registers:
                crash.arch = "riscv"
            elif "EXCCAUSE" in crash.registers or "PS" in crash.registers:
                crash.arch = "xtensa"
            return self._ok()
        m = _BACKTRACE.match(text)
        if m is not None:
            crash.family = FAMILY
            if "Backtrace" not in crash.sections:
                crash.sections.append("Backtrace")
            self._in_bt = True
            self._backtrace(m.group("rest"), lineno)
            return self._ok()
        if _STACK_MEM.match(text):
            crash.sections.append("Stack memory")
            self._in_stack = True
            return self._ok()
        m = _ELF_SHA.match(text)
        if m is not None:
            self.build = BuildId(line=lineno, kind="elf-sha256", value=m.group("hex").lower(),
                                 ts=ts)
            return self._ok()
        if _END.match(text):
            crash.end_line = lineno
            return Feed.DONE
        if _INFO_LINES.match(text):
            if text.startswith("Debug exception reason:"):
                crash.reason.append(text.strip())
            return self._ok()
        return self._foreign_line(crash)

    def close(self, reason: str | None) -> list[Record]:
        crash = self._take_crash()
        if crash is None:
            return []
        if not crash.backtrace and not (crash.registers.keys() - {"CORE"}) and not crash.stack:
            crash.partial = True
            crash.partial_reason = (reason or "the panic output stopped") + \
                ": no register dump and no backtrace"
        out: list[Record] = [crash]
        if self.build is not None:
            out.append(self.build)
        return out

    # -- helpers -----------------------------------------------------------------------

    def _opener(self, text: str, lineno: int) -> bool | None:
        """Read a line that can open a panic; None when it is not one after all."""
        crash = self.crash
        assert crash is not None
        m = _GURU.match(text)
        if m is not None:
            crash.family = FAMILY
            self._seen_guru = True
            crash.kind = "exception"
            crash.registers["CORE"] = int(m.group("core"))
            crash.reason.append(m.group("why"))
            return True
        m = _ALIOS_PANIC.match(text)
        if m is not None:
            crash.kind = "fatal_error"
            crash.errno = int(m.group("err"))
            crash.reason.append(text.lstrip("# ").strip())
            return True
        m = _ABORT.match(text)
        if m is not None:
            crash.family = FAMILY
            if crash.kind == "exception" and not self._seen_guru:
                crash.kind = "abort"
            crash.registers.setdefault("CORE", int(m.group("core")))
            crash.reason.append(text.strip())
            return True
        m = _ASSERT_NEWLIB.match(text)
        if m is not None:
            if crash.kind == "exception" and not self._seen_guru:
                crash.kind = "assert"
                if not crash.reason and not crash.registers:
                    # newlib's __assert_func prints this on any firmware: ESP-IDF's panic
                    # lines that follow (abort, registers, backtrace) make it ESP-IDF's
                    crash.family = "newlib"
            crash.file, crash.file_line = m.group("file"), int(m.group("line"))
            crash.reason.append(text.strip())
            return True
        m = _ASSERT_NEW.match(text)
        if m is not None:
            if crash.kind == "exception" and not self._seen_guru:
                crash.kind = "assert"
            where = _ASSERT_NEW_WHERE.match(m.group("text"))
            if where is not None:
                crash.file, crash.file_line = where.group("file"), int(where.group("line"))
            crash.reason.append(text.strip())
            return True
        m = _STACK_OVF.match(text)
        if m is not None:
            crash.kind = "fatal_error"
            crash.stack_overflow_task = m.group("task")
            crash.reason.append(text.strip())
            return True
        if _STACK_SMASH.match(text):
            crash.kind = "abort"
            crash.reason.append(text.strip())
            return True
        m = _REG_DUMP.match(text)
        if m is not None:
            crash.registers["CORE"] = int(m.group("core"))
            return True
        return None

    def _backtrace(self, text: str, lineno: int) -> None:
        crash = self.crash
        assert crash is not None
        for m in _BT_PAIR.finditer(text):
            crash.backtrace.append(BacktraceEntry(lineno, int(m.group("pc"), 16),
                                                  sp=int(m.group("sp"), 16), kind="callsite"))
        if crash.arch is None:
            # Xtensa ESP32s run code at 0x40000000-0x4FFFFFFF and print PC:SP pairs without a
            # RISC-V register dump; anything else (a host build of the format) is left open
            pcs = [b.addr for b in crash.backtrace if b.addr is not None]
            if pcs and all(0x40000000 <= a < 0x50000000 for a in pcs):
                crash.arch = "xtensa"
        if "|<-CORRUPTED" in text:
            crash.backtrace.append(BacktraceEntry(lineno, None, "corrupted"))
            self._in_bt = False
        elif "|<-CONTINUES" in text:
            crash.backtrace.append(BacktraceEntry(lineno, None, "continues"))
            self._in_bt = False


def section_readers() -> list[SectionReader]:
    """Fresh ESP-IDF section readers (the panic first: it holds register tables)."""
    return [PanicReader(), HeapTraceReader(), HeapCapsReader()]


def line_readers() -> list[ElfShaReader | MultiHeapInfoReader]:
    return [ElfShaReader(), MultiHeapInfoReader()]
