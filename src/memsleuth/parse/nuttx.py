"""NuttX's own printers: /proc/memdump, free (/proc/meminfo), the assert dump.

Formats, as printed by NuttX (mm/mm_heap/mm_memdump.c, fs/procfs/fs_procfsmeminfo.c,
sched/misc/assert.c, arch/arm/src/common/arm_registerdump.c, sched_dumpstack):

- ``echo used > /proc/memdump`` (or a pid): ``Dump all used memory node info:``, a header
  ``PID  Size  [Sequence]  Address Backtrace`` and one row per node: ``%6d%12zu[%12lu]%*p``
  then `` %0*p`` per backtrace frame; ``Dump all free memory node info:`` with ``Size Address``
  rows; both end with ``Total Blks  Total Size`` and its numbers. Sizes are node sizes
  (header included); the address is the user pointer; frames are return addresses.
- ``free`` / ``cat /proc/meminfo``: a header ``total used free maxused maxfree nused nfree
  name`` (older: ``total used free largest`` with the name first, ``Umem:``) and one row
  per heap.
- The assert dump: ``Current Version: NuttX ...``, ``Assertion failed <msg>: at file: f:n
  task: t process: p 0x..`` (older: ``Assertion failed at file:f line: n task: t``), the
  registers (``R0: %08x R1: %08x ...``, ``IP: .. SP: .. LR: .. PC: ..``, ``xPSR: ..``), the
  stacks (``User Stack:`` / ``base:`` / ``size:`` / ``sp:`` and ``<addr>: w w w ...`` rows),
  ``backtrace|%2d: 0x.. 0x..`` per task (the running one first) and the task table. With
  CONFIG_DEBUG_FUNCNAME every line starts with the printing function (``up_dump_register:``).
"""

from __future__ import annotations

import re

from memsleuth.parse.base import Feed, OpenCrash, SectionReader
from memsleuth.parse.lazyre import lazy
from memsleuth.records import (
    BacktraceEntry,
    BlockDump,
    CrashDump,
    HeapBlock,
    HeapOverview,
    Record,
    StackRow,
    TaskRow,
)

FAMILY = "nuttx"

#: CONFIG_DEBUG_FUNCNAME's 'function: ' prefix on alert/syslog lines.
_FUNC = lazy(r"^[a-z_][a-z0-9_]*: (?=\S|\s{2,})")
_HEX = lazy(r"0x([0-9a-fA-F]+)")


def _strip(text: str) -> str:
    return _FUNC.sub("", text, count=1)


# ------------------------------------------------------------------------------------------
# /proc/memdump

_MD_TITLE = lazy(r"^Dump all (?P<what>used|free) memory node info:\s*$")
_MD_HEAD = lazy(
    r"^\s*(?:(?P<pid>PID)\s+)?Size\s+(?P<seq>Sequence\s+)?Address(?:\s+Backtrace)?\s*$")
_MD_ROW = lazy(r"^\s*(?P<ints>-?\d+(?:\s+\d+){0,2})\s+0x(?P<addr>[0-9a-fA-F]+)"
               r"(?P<bt>(?:\s+0x[0-9a-fA-F]+)*)\s*$")
_MD_TOTAL_HEAD = lazy(r"^\s*Total Blks\s+Total Size\s*$")
_MD_TOTAL = lazy(r"^\s*(?P<n>\d+)\s+(?P<size>\d+)\s*$")


class MemdumpReader:
    """``/proc/memdump`` -> BlockDump (used nodes with pid, sequence and backtrace; or the
    free nodes)."""

    name = "nuttx_memdump"
    #: lowercase literals, one of which is in every line this reader opens on or reads
    #: (parse/scan.py's fast path reads chunks holding none of them in bulk)
    anchors = ('memory node info:', 'address')
    shortcut_safe = True
    family = FAMILY
    hint = lazy(r"Dump all (?:used|free) memory node info:"
                r"|\s*PID\s+Size\s+(?:Sequence\s+)?Address")

    def __init__(self) -> None:
        self.dump: BlockDump | None = None
        self.free = False
        self.cols: tuple[str, ...] | None = None
        self._want_total = False

    def opens(self, text: str, lineno: int, ts: float | None) -> bool:
        t = _strip(text)
        m = _MD_TITLE.match(t)
        head = _MD_HEAD.match(t) if m is None else None
        if m is None and (head is None or head.group("pid") is None):
            return False
        self.__init__()  # type: ignore[misc]
        self.dump = BlockDump(line=lineno, variant="nuttx_memdump", ts=ts)
        if m is not None:
            self.free = m.group("what") == "free"
        else:
            self._header(head)
        return True

    def _header(self, head: re.Match[str]) -> None:
        cols = []
        if head.group("pid"):
            cols.append("pid")
        cols.append("size")
        if head.group("seq"):
            cols.append("seq")
        self.cols = tuple(cols)

    def feed(self, text: str, lineno: int, ts: float | None) -> Feed:
        dump = self.dump
        assert dump is not None
        t = _strip(text)
        if self._want_total:
            m = _MD_TOTAL.match(t)
            if m is not None:
                dump.totals["blocks"] = int(m.group("n"))
                dump.totals["bytes"] = int(m.group("size"))
                dump.end_line = lineno
                return Feed.DONE
            return Feed.ENDED
        head = _MD_HEAD.match(t)
        if head is not None and self.cols is None:
            self._header(head)
            return Feed.CONSUMED
        m = _MD_ROW.match(t)
        if m is not None:
            ints = [int(x) for x in m.group("ints").split()]
            cols = self.cols or (("pid", "size", "seq")[: len(ints)] if len(ints) > 1
                                 else ("size",))
            if len(ints) != len(cols):
                return Feed.SKIPPED
            row = dict(zip(cols, ints, strict=False))
            trace = tuple(v for v in (int(x, 16) for x in _HEX.findall(m.group("bt"))) if v)
            dump.blocks.append(HeapBlock(
                line=lineno, addr=int(m.group("addr"), 16), used=not self.free,
                size=row["size"], owner=trace[0] if trace else 0, trace=trace,
                pid=row.get("pid"), seq=row.get("seq")))
            return Feed.CONSUMED
        if _MD_TOTAL_HEAD.match(t):
            self._want_total = True
            return Feed.CONSUMED
        if not t.strip():
            return Feed.CONSUMED
        if _MD_TITLE.match(t):
            return Feed.ENDED           # the next heap's dump
        return Feed.SKIPPED

    def close(self, reason: str | None) -> list[Record]:
        dump, self.dump = self.dump, None
        if dump is None:
            return []
        rows = len(dump.blocks)
        if "blocks" in dump.totals:
            nbytes = sum(b.size or 0 for b in dump.blocks)
            if dump.totals["blocks"] != rows or dump.totals["bytes"] != nbytes:
                dump.partial = True
                dump.partial_reason = (
                    f"the device counted {dump.totals['blocks']} nodes "
                    f"({dump.totals['bytes']:,} bytes) but the log lists {rows} "
                    f"({nbytes:,} bytes)")
        elif reason is not None or rows:
            dump.partial = True
            dump.partial_reason = (reason or "the dump stopped") + \
                ": no 'Total Blks' line (the dump may be cut)"
        return [dump]


# ------------------------------------------------------------------------------------------
# free / /proc/meminfo

_MI_HEAD = lazy(r"^\s*total\s+used\s+free(?:\s+(?:maxused|maxfree|largest|nused|nfree"
                r"|name))+\s*$")
_MI_ROW = lazy(r"^\s*(?:(?P<lead>[A-Za-z]\w*):)?(?P<nums>(?:\s*\d+){3,7})"
               r"(?:\s+(?P<trail>[A-Za-z]\w*))?\s*$")


class MeminfoReader:
    """``free`` -> one HeapOverview for the user heap (``Umem``; the first row otherwise).

    ``maxused`` gives the lowest free ever (total - maxused), ``maxfree``/``largest`` the
    largest free block."""

    name = "nuttx_meminfo"
    #: lowercase literals, one of which is in every line this reader opens on or reads
    #: (parse/scan.py's fast path reads chunks holding none of them in bulk)
    anchors = ('total',)
    shortcut_safe = True
    family = FAMILY
    hint = lazy(r"\s*total\s+used\s+free\s")

    def __init__(self) -> None:
        self.start: int | None = None
        self.ts: float | None = None
        self.cols: list[str] = []
        self.rows: list[tuple[str, dict[str, int]]] = []

    def opens(self, text: str, lineno: int, ts: float | None) -> bool:
        if _MI_HEAD.match(text) is None:
            return False
        self.__init__()  # type: ignore[misc]
        self.start, self.ts = lineno, ts
        self.cols = [c for c in text.split() if c != "name"]
        return True

    def feed(self, text: str, lineno: int, ts: float | None) -> Feed:
        m = _MI_ROW.match(text)
        if m is None:
            return Feed.ENDED
        nums = [int(x) for x in m.group("nums").split()]
        name = m.group("lead") or m.group("trail") or f"heap{len(self.rows)}"
        self.rows.append((name, dict(zip(self.cols, nums, strict=False))))
        return Feed.CONSUMED

    def close(self, reason: str | None) -> list[Record]:
        if self.start is None:
            return []
        start, self.start = self.start, None
        if not self.rows:
            return []
        chosen = next((r for n, r in self.rows if n in ("Umem", "Mem")), self.rows[0][1])
        if not {"total", "used", "free"} <= chosen.keys():
            return []
        total = chosen["total"]
        return [HeapOverview(
            line=start, variant="nuttx_meminfo", total=total, free=chosen["free"],
            used=chosen["used"],
            min_free=total - chosen["maxused"] if "maxused" in chosen else None,
            max_free_block=chosen.get("maxfree", chosen.get("largest")), ts=self.ts)]


# ------------------------------------------------------------------------------------------
# The assert / up_dumpstate dump

_VERSION = lazy(r"^Current Version: (?P<v>NuttX.*?)\s*$")
_ASSERT = lazy(
    r"^(?:PANIC!!! )?Assertion failed (?P<msg>.*?):? ?at file: ?(?P<file>\S*?):(?P<line>\d+) "
    r"task(?:\(CPU\d+\))?: (?P<task>\S+)")
_ASSERT_OLD = lazy(
    r"^(?:PANIC!!! )?Assertion failed(?: CPU\d+)? at file:\s*(?P<file>\S+) line: (?P<line>\d+)"
    r"(?: task: (?P<task>\S+))?")
_FAULT = lazy(r"^(?:PANIC!!! )?(?P<what>(?:Hard|Bus|Usage|Mem ?Manage) [Ff]ault\b.*?)\s*$")
_REGS = lazy(r"^\s*(?:[A-Za-z][A-Za-z0-9_]*: [0-9a-fA-F]{8,16}\s*){1,4}$")
_REG_PAIR = lazy(r"\b(?P<n>[A-Za-z][A-Za-z0-9_]*): (?P<v>[0-9a-fA-F]{8,16})\b")
_STACK_TITLE = lazy(r"^(?P<tag>IRQ|User|Kernel) Stack:\s*$")
_STACK_FIELD = lazy(r"^\s*(?P<k>base|size|sp): (?:0x)?(?P<v>[0-9a-fA-F]+)\s*$")
_STACK_ROW = lazy(r"^(?:0x)?(?P<addr>[0-9a-fA-F]{8,16}):(?P<w>(?: [0-9a-fA-F]{8,16}){1,8})"
                  r"\s*$")
_BT = lazy(r"^backtrace\|\s*(?P<pid>\d+):(?P<addrs>(?:\s+0x[0-9a-fA-F]+)+)\s*$")
_TASK_HEAD = lazy(r"^\s*PID\s+(?:GROUP\s+)?(?:CPU\s+)?PRI\b")
_TASK_ROW = lazy(
    r"^\s*(?P<pid>\d+)\s+(?P<group>-?\d+)\s+(?:(?P<cpu>\d+)\s+)?(?P<pri>\d+)\s+"
    r"(?P<policy>FIFO|RR|SPORADIC)\s+(?P<type>Task|pthread|Kthread|Invalid)\s+[-P]\s+"
    r"(?P<state>.+?)\s+(?P<sig>[0-9a-fA-F]{8,16})\s+(?:0x)?(?P<base>[0-9a-fA-F]+)\s+"
    r"(?P<size>\d+)(?:\s+(?P<used>\d+)\s+[\d.]+%!?)?(?:\s+[\d.]+%)?\s+(?P<cmd>\S+)")
_IRQ_ROW = lazy(r"^\s*-{2,}\s+-{2,}")


class AssertReader(OpenCrash):
    """NuttX's assert output (``_assert`` -> up_dump_register, stacks, backtraces, tasks) ->
    CrashDump (family nuttx). The first ``backtrace|`` block is the running task's."""

    name = "nuttx_assert"
    #: lowercase literals, one of which is in every line this reader opens on or reads
    #: (parse/scan.py's fast path reads chunks holding none of them in bulk)
    anchors = ("current version: nuttx", "assertion failed", "hard fault", "bus fault",
               "usage fault", "memmanage fault", "mem manage fault")
    shortcut_safe = True
    family = FAMILY
    #: the dump's first line, maybe after CONFIG_DEBUG_FUNCNAME's printer name
    hint = lazy(r"(?:(?:dump_assert_info|up_assert|_assert|arm_\w+fault): )?(?:Current "
                r"Version: NuttX|(?:PANIC!!! )?Assertion failed|(?:PANIC!!! )?(?:Hard|Bus|"
                r"Usage|Mem ?Manage) [Ff]ault)")

    def __init__(self) -> None:
        self.crash: CrashDump | None = None
        self._foreign = 0
        self._lineno = 0
        self._bt_pid: int | None = None
        self._running_pid: int | None = None
        self._in_tasks = False
        self._cur_stack = ""

    def opens(self, text: str, lineno: int, ts: float | None) -> bool:
        t = _strip(text)
        if not (_VERSION.match(t) or _ASSERT.match(t) or _ASSERT_OLD.match(t) or _FAULT.match(t)):
            return False
        self.__init__()  # type: ignore[misc]
        self.crash = CrashDump(line=lineno, kind="assert", ts=ts, family=FAMILY)
        self.feed(text, lineno, ts)
        return True

    def feed(self, text: str, lineno: int, ts: float | None) -> Feed:
        crash = self.crash
        assert crash is not None
        self._lineno = lineno
        t = _strip(text)
        if not t.strip():
            return Feed.CONSUMED
        m = _VERSION.match(t)
        if m is not None:
            if crash.file is not None or crash.registers:
                return Feed.ENDED
            crash.sections.append("version")
            return self._ok()
        m = _ASSERT.match(t) or _ASSERT_OLD.match(t)
        if m is not None:
            if crash.file is not None:
                return Feed.ENDED          # a second assertion: another dump
            crash.file, crash.file_line = m.group("file") or None, int(m.group("line"))
            crash.current_task = m.group("task")
            msg = m.groupdict().get("msg")
            crash.reason.append(msg if msg else t.strip())
            return self._ok()
        m = _FAULT.match(t)
        if m is not None:
            crash.kind = "exception"
            crash.reason.append(m.group("what"))
            return self._ok()
        if _REGS.match(t) and not self._in_tasks:
            for p in _REG_PAIR.finditer(t):
                name = p.group("n")
                name = {"EXC_RETURN": "EXC_RET", "IP": "R12", "SB": "R9", "SL": "R10"}.get(
                    name, name)
                crash.registers[name] = int(p.group("v"), 16)
            if "xPSR" in crash.registers:
                crash.arch = "cortex-m"
            return self._ok()
        m = _STACK_TITLE.match(t)
        if m is not None:
            self._cur_stack = m.group("tag")
            crash.sections.append(f"{self._cur_stack} Stack")
            return self._ok()
        m = _STACK_FIELD.match(t)
        if m is not None:
            if m.group("k") == "sp" and self._cur_stack == "User":
                crash.registers.setdefault("SP", int(m.group("v"), 16))
            return self._ok()
        m = _STACK_ROW.match(t)
        if m is not None:
            words = tuple(int(w, 16) for w in m.group("w").split())
            crash.stack.append(StackRow(addr=int(m.group("addr"), 16), words=words))
            return self._ok()
        m = _BT.match(t)
        if m is not None:
            pid = int(m.group("pid"))
            if self._bt_pid is None:
                self._bt_pid = pid
                crash.sections.append("backtrace")
            if pid == self._bt_pid and not self._in_tasks:
                for a in _HEX.findall(m.group("addrs")):
                    crash.backtrace.append(BacktraceEntry(lineno, int(a, 16), kind="return"))
            return self._ok()
        if _TASK_HEAD.match(t):
            self._in_tasks = True
            crash.sections.append("tasks")
            return self._ok()
        if self._in_tasks:
            if _IRQ_ROW.match(t):
                return self._ok()
            m = _TASK_ROW.match(t)
            if m is not None:
                size = int(m.group("size"))
                used = int(m.group("used")) if m.group("used") else None
                crash.tasks.append(TaskRow(
                    name=m.group("cmd"), state=m.group("state").split()[0],
                    prio=int(m.group("pri")), stack_base=int(m.group("base"), 16),
                    stack_size=size, min_free=size - used if used is not None else None))
                return self._ok()
        return self._foreign_line(crash)

    def close(self, reason: str | None) -> list[Record]:
        crash = self._take_crash()
        if crash is None:
            return []
        if not crash.registers and not crash.backtrace:
            crash.partial = True
            crash.partial_reason = (reason or "the dump stopped") + \
                ": no register dump and no backtrace"
        return [crash]


def section_readers() -> list[SectionReader]:
    return [AssertReader(), MemdumpReader(), MeminfoReader()]
