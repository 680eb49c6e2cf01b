"""AliOS output seen on its own rather than inside a full dump: `tasklist`, crash excerpts.

- ``tasklist`` (alios-formats.md §5): 1.x/2.x ``Name  State  Prio StackSize MinFreesize
  Runtime [%CPU] Candidate`` (sizes in cpu_stack_t words), 3.x with an ``ID`` column after
  the name (sizes in bytes) -> TaskList.
- A crash dump quoted from its middle (an issue excerpt, a log that starts late): a section
  banner such as ``========= Sem Waiting ==========`` or bare ``(0x3405AEC8): 0x... `` stack
  rows with no ``Exception`` banner before them -> a CrashDump marked partial, so the
  tables and stack words are read and nobody mistakes the excerpt for a whole dump. Only
  when something a crash alone prints is there (registers, stack words): the ``debug``
  command prints the task/queue/sem tables and ``aos_debug_backtrace_now()`` a call stack
  with the same banners, and no crash.

These readers come last: any reader that owns a line in a complete section gets it first.
"""

from __future__ import annotations

from memsleuth.parse.alios_crash import STACK_ROW_RE, CrashReader, _banner_name
from memsleuth.parse.base import Feed, SectionReader
from memsleuth.parse.lazyre import lazy
from memsleuth.records import CrashDump, Record, TaskList, TaskRow

_TL_HEAD = lazy(
    r"^\s*Name\s+(?P<id>ID\s+)?State\s+Prio\s+StackSize\s+MinFreesize\s+Runtime\b")
_TL_ROW = lazy(
    r"^(?P<name>\S.*?)\s+(?:(?P<id>\d+)\s+)?(?P<state>[A-Z_]{2,})\s+(?P<prio>\d+)\s+"
    r"(?P<size>\d+)\s+(?P<min>\d+)\s+(?P<rt>\d+)\b")
_RULE = lazy(r"^\s*-{10,}\s*$")
_CPU = lazy(r"^\s*CPU usage\s*:")


class TaskListReader:
    """``tasklist`` -> TaskList."""

    name = "tasklist"
    #: lowercase literals, one of which is in every line this reader opens on or reads
    #: (parse/scan.py's fast path reads chunks holding none of them in bulk)
    anchors = ('stacksize',)
    shortcut_safe = True
    hint = lazy(r"\s*Name\s+(?:ID\s+)?State\s+Prio\s+StackSize")

    def __init__(self) -> None:
        self.rec: TaskList | None = None

    def opens(self, text: str, lineno: int, ts: float | None) -> bool:
        m = _TL_HEAD.match(text)
        if m is None:
            return False
        self.rec = TaskList(line=lineno, unit="bytes" if m.group("id") else "words", ts=ts)
        return True

    def feed(self, text: str, lineno: int, ts: float | None) -> Feed:
        rec = self.rec
        assert rec is not None
        if _RULE.match(text) or _CPU.match(text):
            if rec.tasks and _RULE.match(text):
                rec.end_line = lineno
                return Feed.DONE            # the closing rule
            return Feed.CONSUMED
        m = _TL_ROW.match(text)
        if m is None:
            return Feed.ENDED if rec.tasks else Feed.SKIPPED
        rec.tasks.append(TaskRow(name=m.group("name").strip(), state=m.group("state"),
                                 prio=int(m.group("prio")), stack_base=None,
                                 stack_size=int(m.group("size")), min_free=int(m.group("min"))))
        rec.end_line = lineno
        return Feed.CONSUMED

    def close(self, reason: str | None) -> list[Record]:
        rec, self.rec = self.rec, None
        return [rec] if rec is not None and rec.tasks else []


#: Crash-dump sections an excerpt may start with (banners no other reader opens on).
_FRAGMENT_SECTIONS = frozenset({
    "Regs info", "Fault info", "Stack info", "Uspace Stack info", "Call stack", "Task Info",
    "Queue Info", "Buf Queue Info", "Sem Info", "Sem Waiting", "Mutex Waiting",
    "Event Waiting"})


class CrashFragmentReader(CrashReader):
    """A crash dump's sections without its opening banner -> a partial CrashDump."""

    name = "dump_excerpt"  # after the heap readers on purpose (see the module docstring)
    #: lowercase literals, one of which is in every line this reader opens on or reads
    #: (parse/scan.py's fast path reads chunks holding none of them in bulk)
    anchors = ('info', 'waiting', 'call stack', '): 0x')
    shortcut_safe = True
    hint = lazy(r"\s*(?:=+\s*[A-Za-z]|(?:stack)?\(0x[0-9A-Fa-f]+\)\s*:)")

    def opens(self, text: str, lineno: int, ts: float | None) -> bool:
        banner = _banner_name(text)
        if banner in _FRAGMENT_SECTIONS:
            self._start("excerpt", {}, lineno, ts)
            self._first = banner
            self._enter(banner, text, lineno)
            return True
        if STACK_ROW_RE.match(text):
            self._start("excerpt", {}, lineno, ts)
            self._first = "Stack info"
            self._enter("Stack info", text, lineno)
            self._read_line(text, lineno)
            return True
        return False

    def close(self, reason: str | None) -> list[Record]:
        first = getattr(self, "_first", "?")
        out = super().close(reason)
        for rec in out:
            if isinstance(rec, CrashDump) and not _crash_only(rec):
                # the `debug` command prints the same task/queue/sem tables with no crash:
                # without registers, stack words or a backtrace this is no crash excerpt
                return []
        for rec in out:
            if isinstance(rec, CrashDump):
                rec.partial = True
                rec.partial_reason = (
                    f"an excerpt of a crash dump: it starts at its '{first}' section; the "
                    "banner and what was printed before it are not in the log")
        return out


#: Sections only a crash dump prints: the `debug` command prints the task/queue/sem tables
#: and aos_debug_backtrace_now() a `Call stack` with no crash at all.
_CRASH_ONLY = frozenset({"Regs info", "Fault info", "Stack info", "Uspace Stack info"})


def _crash_only(crash: CrashDump) -> bool:
    return bool(_CRASH_ONLY & set(crash.sections) or crash.stack
                or crash.registers.keys() - {"CORE"})


def section_readers() -> list[SectionReader]:
    return [TaskListReader(), CrashFragmentReader()]
