"""The scanning fast path: a chunk of text at a time, the hot line shapes in bulk.

Reading line by line costs ~10 µs a line (normalise, ask every reader); a stress log is
mostly a few line shapes repeated millions of times. Outside any section, this scanner
recognises those shapes with strict, literal-led patterns over the whole chunk and makes
their records directly or hands them straight to their reader:

- runs of ``[MSOBJ]`` object events (``findall`` over the run; skipped without building a
  record when the caller does not want object events),
- ``[MSCYCLE] n`` markers (the default cycle pattern only),
- whole heap overview tables (``Heap Info`` banner or top rule, ``[HEAP]|`` header, one row,
  bottom rule): given to the overview reader as its header and row.

Every other line, and every line of an open section, goes through the line path
(``LogParser._take``), so the records are identical by construction for what is not a hot
shape, and by the equivalence tests (every committed log, mangled variants) for what is.

A shortcut is only sound if no other reader would act on a line of its shape. That is known
for the readers in :data:`KNOWN_READERS` (their opening and line tests cannot match these
shapes) and for readers that say so with ``shortcut_safe = True`` beside their ``anchors``
(the other RTOS' readers; tests/rtos/test_format_variants.py feeds them the shapes).
Any other reader must declare ``anchors``: lowercase literals, at least one of
which appears in every line it acts on; a chunk that contains one of them is read by the
line path. A reader with no ``anchors`` turns the fast path off.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from memsleuth import accel
from memsleuth.parse.alios_heap import _DASHES, _STAT_CLOSED
from memsleuth.parse.normalize import count_prefixed, is_plain, normalize
from memsleuth.parse.stream import _COUNTED_ELSEWHERE
from memsleuth.records import (
    CycleMarker,
    HeapBlock,
    HeapRun,
    ObjectEvent,
    ObjectEventRun,
    Record,
)
from memsleuth.sources.text import TextBatch

if TYPE_CHECKING:
    from memsleuth.parse.stream import LogParser

# A strict [MSOBJ] line: exactly the agent's format (docs/object-trace.md) without a name.
_OBJ = (r"\[MSOBJ\] (create|delete) ([a-z][a-z0-9_]{0,15}) 0x([0-9a-f]{8}|[0-9a-f]{16}) "
        r"caller 0x([0-9a-f]{8}|[0-9a-f]{16}) seq ([0-9]+)\n")
_OBJ_RUN = re.compile(f"(?:{re.sub(r'[(](?![?])', '(?:', _OBJ)})+")
_OBJ_LINE = re.compile(_OBJ)
_CYCLE = re.compile(r"\[MSCYCLE\] ?([0-9]+)\n")
_RULE = r"-{20,}\n"
_TABLE = re.compile(
    r"(?:=+ *Heap Info *=+\n)?" + _RULE
    + r"(\[HEAP\]\|[ -~]*)\n( *\|(?: *(?:0x[0-9A-Fa-f]+|[0-9]+) *\|)+) *\n" + _RULE)

#: Reader classes (by module and name) whose tests provably ignore every shortcut shape.
KNOWN_READERS = frozenset({
    "memsleuth.parse.registry.CycleReader",
    "memsleuth.parse.alios_heap.OverviewReader",
    "memsleuth.parse.alios_heap.BlockDumpReader",
    "memsleuth.parse.alios_heap.ErrorBlocksReader",
    "memsleuth.parse.alios_heap.WarningReader",
    "memsleuth.parse.alios_heap.LeakReader",
    "memsleuth.parse.alios_heap.HeapPrintReader",
    "memsleuth.parse.alios_crash.CrashReader",
    "memsleuth.parse.alios_crash.LastWordReader",
    "memsleuth.parse.agent.MsobjReader",
    "memsleuth.parse.agent.PatternReader",   # after MsobjReader, below every section opener
    "memsleuth.parse.agent.AutoObjectReader",  # likewise
    "memsleuth.parse.agent.BuildIdReader",     # acts only on "[MSBUILD]" lines
    "memsleuth.parse.agent.AgentNoticeReader",  # acts only on "[MSAGENT]" lines
})
DEFAULT_CYCLE = r"^\[MSCYCLE\]\s*(\d+)"

#: What each known reader needs to see in a line (lowercased) before it acts on it: its
#: ``opens`` (state changes included) or ``read``. A line of printable ASCII outside any
#: section that holds none of these is read by nobody: the scanner steps over it.
KNOWN_ANCHORS: dict[str, tuple[str, ...]] = {
    "memsleuth.parse.agent.BuildIdReader": ("[msbuild]",),
    "memsleuth.parse.agent.AgentNoticeReader": ("[msagent]",),
    "memsleuth.parse.alios_heap.OverviewReader":
        ("heap info", "-" * 20, "[heap]|", "maxused"),
    "memsleuth.parse.alios_heap.BlockDumpReader":
        ("all memory blocks", "alloced blocks", "region info", "add tag", "mmlk"),
    "memsleuth.parse.alios_heap.ErrorBlocksReader": ("all error blocks",),
    "memsleuth.parse.alios_heap.WarningReader": ("warning",),
    "memsleuth.parse.alios_heap.LeakReader": ("adress",),
    "memsleuth.parse.alios_heap.HeapPrintReader": ("max used",),
    "memsleuth.parse.alios_crash.CrashReader": ("!",),
    "memsleuth.parse.alios_crash.LastWordReader": ("show panic header",),
    "memsleuth.parse.agent.MsobjReader": ("[msobj]",),
    "memsleuth.parse.agent.AutoObjectReader": ("0x", "(nil)"),
}


def _qualname(reader: Any) -> str:
    cls = type(reader)
    return f"{cls.__module__}.{cls.__qualname__}"


class Plan:
    """What the scanner may do with a given set of readers (decided once per parse)."""

    def __init__(self, sections: Sequence[Any], lines: Sequence[Any]) -> None:
        self.enabled = True
        self.cycles = False
        self.overview: Any = None
        #: the block dump reader: strict block lines inside its dumps go to it in bulk
        self.dumps: Any = None
        #: a user's cycle pattern (it is asked before the [MSOBJ] reader): checked per run
        self.user_cycle: re.Pattern[str] | None = None
        anchors: list[str] = []
        words: list[str] = []      # all readers' anchors: the test for a line nobody reads
        owned: list[tuple[Any, str]] = []   # (reader, anchor)
        inert = True
        for reader in [*sections, *lines]:
            name = _qualname(reader)
            declared = KNOWN_ANCHORS.get(name, getattr(reader, "anchors", None))
            if declared:
                words.extend(str(a).lower() for a in declared)
                owned.extend((reader, str(a).lower()) for a in declared)
            elif name != "memsleuth.parse.registry.CycleReader":
                inert = False
            if name == "memsleuth.parse.registry.CycleReader":
                pattern = reader.pattern
                self.cycles = pattern.pattern == DEFAULT_CYCLE and not pattern.flags & ~re.UNICODE
                if self.cycles:
                    words.append("[mscycle]")
                    owned.append((reader, "[mscycle]"))
                else:
                    self.user_cycle = _multiline(pattern)
                    if self.user_cycle is None:
                        self.enabled = False
                        return
            elif name == "memsleuth.parse.alios_heap.OverviewReader" and self.overview is None:
                self.overview = reader
            elif name == "memsleuth.parse.alios_heap.BlockDumpReader" and self.dumps is None:
                self.dumps = reader
            elif name not in KNOWN_READERS and not getattr(reader, "shortcut_safe", False):
                declared = getattr(reader, "anchors", None)
                if not declared:
                    self.enabled = False
                    self.inert, self.inert_words, self.anchors = None, (), None
                    return
                anchors.extend(re.escape(str(a).lower()) for a in declared)
        #: other readers' anchors, searched in the lowercased chunk over each shortcut
        self.anchors = re.compile("|".join(anchors)) if anchors else None
        #: every reader's anchors (None when a reader has none: no line is known inert)
        self.inert = re.compile("|".join(map(re.escape, words))) if inert and words else None
        self.inert_words = tuple(dict.fromkeys(words)) if self.inert is not None else ()
        #: the C loops (memsleuth.accel), or their Python mirror (parse/pyscan.py), or None
        self.accel = accel.scanner()
        _register_blocks(self.accel)
        self.solo = _Solo(sections, lines, owned, self.inert_words) \
            if self.inert is not None and self.user_cycle is None else None


class _Solo:
    """Lines outside any section whose anchors are all one reader's: by the anchors'
    contract no other reader acts on them, so the line path's work (every section reader's
    ``opens``, every line reader's ``read``) comes down to that reader's. Readers that need
    the line path's own order: the cycle reader (the records after a marker on its line),
    and the overview reader's rule anchor (a line of dashes opens it; a line with any other
    anchor is not one)."""

    def __init__(self, sections: Sequence[Any], lines: Sequence[Any],
                 owned: list[tuple[Any, str]], words: Sequence[str]) -> None:
        dash = "-" * 20
        overview = "memsleuth.parse.alios_heap.OverviewReader"
        owned = [(r, a) for r, a in owned if not (a == dash and _qualname(r) == overview)]
        #: per word of Plan.inert_words (``_scan.anchors_in`` gives their indexes): its owners
        self.word_owners: list[tuple[Any, ...]] = [
            tuple(dict.fromkeys(r for r, a in owned if a == w)) for w in words]
        #: first anchor in a line (longest first at a place) -> the readers that own it
        self.owners: dict[str, list[Any]] = {}
        for r, a in owned:
            got = self.owners.setdefault(a, [])
            if r not in got:
                got.append(r)
        self._owned = owned
        section_ids = {id(r) for r in sections}
        #: per reader it may hand a line to: whether it is a section reader
        self.section: dict[int, bool] = {
            id(r): id(r) in section_ids for r in [*sections, *lines]
            if _qualname(r) != "memsleuth.parse.registry.CycleReader"}
        # (the regexes of take(), compiled on its first use: with the C scanner, anchors_in
        # finds a line's anchors and they are never needed)
        self._find: re.Pattern[str] | None = None
        self._others: dict[int, re.Pattern[str] | None] = {}

    @staticmethod
    def _alternation(words: Iterable[str]) -> re.Pattern[str] | None:
        """Any of the words (longest first; a fixed order: the pattern text is a cache key)."""
        ordered = sorted(set(words), key=lambda a: (-len(a), a))
        return re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def take(self, parser: LogParser, line: str, low: str) -> list[Record] | None:
        """What ``parser._take(line)`` gives for a line outside any section when one reader
        owns every anchor in it (``low``: the line lowercased, printable ASCII); None when
        that is not so (the line path then reads it)."""
        if self._find is None:
            self._find = self._alternation(self.owners)
        m = self._find.search(low) if self._find is not None else None
        if m is None:
            return None
        owners = self.owners[m.group()]
        if len(owners) != 1:
            return None
        reader = owners[0]
        section = self.section.get(id(reader))
        if section is None:
            return None
        if id(reader) not in self._others:
            self._others[id(reader)] = self._alternation(a for q, a in self._owned
                                                          if q is not reader)
        others = self._others[id(reader)]
        if others is not None and others.search(low):
            return None
        return self._read(parser, line, reader, section)

    def take_hits(self, parser: LogParser, line: str,
                  hits: tuple[int, ...]) -> list[Record] | None:
        """:meth:`take`, given the indexes of the words in the line (``_scan.anchors_in``)."""
        owners = self.word_owners
        reader = None
        for i in hits:
            for r in owners[i]:
                if reader is None:
                    reader = r
                elif r is not reader:
                    return None
        section = self.section.get(id(reader)) if reader is not None else None
        if section is None:
            return None
        return self._read(parser, line, reader, section)

    def _read(self, parser: LogParser, line: str, reader: Any,
              section: bool) -> list[Record]:
        parser._lineno += 1
        lineno = parser._lineno
        norm = normalize(line)
        text, ts = norm.text, norm.ts
        if section:         # a section reader: LogParser._open, where no other one opens
            hint = parser._may_open
            if hint is None or hint.match(text):
                try:
                    opened = reader.opens(text, lineno, ts)
                except Exception:  # noqa: BLE001 - as LogParser._open
                    parser.stats.reader_errors += 1
                    opened = False
                if opened:
                    parser._active = reader
            return []
        try:                # a line reader: LogParser._read_line, where no other one reads
            rec = reader.read(text, lineno, ts)
        except Exception:  # noqa: BLE001 - as LogParser._read_line
            parser.stats.reader_errors += 1
            return []
        if rec is None:
            return []
        name = reader.name
        if name not in _COUNTED_ELSEWHERE:
            counts = parser.stats.line_records
            counts[name] = counts.get(name, 0) + 1
        return [rec]


_BLOCKS_REGISTERED: set[int] = set()


def _register_blocks(fast: Any) -> None:
    """Let the C loops fill HeapBlock's slots themselves (``_scan.block_type``; they check
    that its fields are still the ones they fill, else they call the class as before)."""
    if fast is not None and hasattr(fast, "block_type") and id(fast) not in _BLOCKS_REGISTERED:
        _BLOCKS_REGISTERED.add(id(fast))
        fast.block_type(HeapBlock, tuple(f.name for f in dataclasses.fields(HeapBlock)))


def _multiline(pattern: re.Pattern[str]) -> re.Pattern[str] | None:
    """The pattern for a search over many lines (None if it cannot be trusted there)."""
    if any(t in pattern.pattern for t in ("\\A", "\\Z", "(?<")):
        return None
    try:
        return re.compile(pattern.pattern, pattern.flags | re.MULTILINE)
    except re.error:
        return None


def scan(parser: LogParser, batches: Iterable[TextBatch], plan: Plan,
         objects: bool | str = True, heap_runs: bool = False) -> Iterator[Record]:
    """Records of ``batches`` (whole lines, ``\\n``-ended), the same as the line path's.

    ``objects="runs"``: stretches of object events the scanner reads in bulk may come as one
    ``ObjectEventRun`` each (its ``events()`` are the records the line path gives);
    ``heap_runs``: stretches of cycle markers and overview tables as one ``HeapRun`` each
    (its ``records()`` likewise)."""
    stats = parser.stats
    # (a build before ABI 4 has another prefix_count: Python counts then)
    count_c = plan.accel.prefix_count if getattr(plan.accel, "ABI", 1) >= 4 else None
    for batch in batches:
        text = batch.text
        stats.bytes += batch.nbytes
        stats.decode_errors += batch.bad
        got = count_c(text) if count_c is not None else None
        if got is not None:      # C counts what it decides; Python the lines it cannot
            plain, counted, rest, lines = got
            stats.prefixed_lines += counted + (count_prefixed(rest) if rest else 0)
            stats.lines += lines         # (the line count too, from the same pass)
        else:
            plain = None
            stats.lines += text.count("\n")
            stats.prefixed_lines += count_prefixed(text)
        if plan.anchors is not None and not text.isascii():
            yield from _by_line(parser, text)   # lower() could move positions
        else:
            yield from _scan_text(parser, text, plan, objects, plain, heap_runs)
    yield from parser.finish(parser.end_reason)


def _by_line(parser: LogParser, text: str) -> list[Record]:
    out: list[Record] = []
    take = parser._take
    lines = text.split("\n")
    lines.pop()
    for line in lines:
        out += take(line)
    return out


def _scan_text(parser: LogParser, text: str, plan: Plan, objects: bool | str,
               plain: bool | None = None, heap_runs: bool = False) -> list[Record]:
    out: list[Record] = []
    take = parser._take
    n = len(text)
    pos = 0
    cycles = plan.cycles
    overview = plan.overview
    anchors = plan.anchors
    inert = plan.inert
    # (anchors and inert words are literals: searched in the lowercased span, not in a
    # lowercased copy of the whole chunk, which the C loop mostly never needs)
    user_cycle = plan.user_cycle
    fast = plan.accel
    obj_c = fast.obj_run if fast is not None else None
    skip_c = fast.skip_inert if fast is not None and user_cycle is None and inert is not None \
        else None
    words = plan.inert_words
    factory = ObjectEvent if objects else None
    # (a module built before run() packed them gives ObjectEvents: same records)
    columns = objects == "runs" and getattr(fast, "ABI", 1) >= 3
    runs = objects == "runs"
    # (markers and tables in columns: a build that has them, for a caller that takes them)
    heap = heap_runs and getattr(fast, "HEAP_COLUMNS", 0) >= 1 \
        and overview is not None and cycles
    extra = (columns, True) if heap else (True,) * columns
    # The C loop over whole idle stretches (object events, markers, tables, inert lines):
    # only where every reader's anchors are known and no user pattern needs a look.
    run_c = fast.run if fast is not None and user_cycle is None and inert is not None \
        and anchors is None and hasattr(fast, "run") else None
    hold = 0      # a table the C loop handed back is read by the line path up to here
    dumps = plan.dumps
    # (a line the open dump consumes reaches no other reader: no anchor test needed)
    blocks_c = fast.blocks if fast is not None and dumps is not None and hasattr(
        fast, "blocks") else None
    # Lines with escapes, control characters or non-ASCII text are never stepped over:
    # what normalize() removes could join an anchor.
    plain = inert is not None and (is_plain(text) if plain is None else plain)
    obj_run, obj_line, cycle_re, table_re = _OBJ_RUN.match, _OBJ_LINE.findall, _CYCLE.match, \
        _TABLE.match
    # An open dump's block, blank and foreign lines in C, where the C loop above may run.
    # (dump_run2: also the lines it reads a value from; dump_run3: also its banners, nested
    # table and end; a build before them has dump_run)
    dump_c = (getattr(fast, "dump_run3", None) or getattr(fast, "dump_run2", None)
              or getattr(fast, "dump_run", None)) \
        if run_c is not None and dumps is not None else None
    limit = parser.max_skipped
    checks_c = getattr(fast, "heap_checks", None)   # (a build before it: Python checks)
    solo = plan.solo
    # (a build before it, or the pure mirror: the regexes below)
    anchors_c = getattr(fast, "anchors_in", None) \
        if inert is not None and user_cycle is None else None
    while pos < n:
        if dump_c is not None and parser._active is dumps and (
                mode := dumps.bulk_mode()) is not None:
            end, line, recs, skipped, run, last, b3, phase, *acts = dump_c(
                text, pos, parser._lineno, HeapBlock, words, mode, parser._skipped_run, limit)
            if end > pos:
                if recs:
                    dumps.add_blocks(recs)
                if acts and acts[0]:
                    dumps.add_acts(acts[0])
                dumps.add_skipped(skipped, last, b3, phase)
                parser.stats.skipped_in_sections += skipped
                parser._skipped_run = run
                parser._lineno = line
                pos = end
                if len(acts) > 1 and acts[1]:   # the dump said DONE: as LogParser._take
                    out += parser._close(dumps, None)
                    parser._active, parser._skipped_run = None, 0
                continue
        if blocks_c is not None and parser._active is dumps and dumps.bulk_ready():
            end, line, recs = blocks_c(text, pos, parser._lineno, HeapBlock)
            if recs:
                dumps.add_blocks(recs)
                parser._lineno = line
                parser._skipped_run = 0
                pos = end
                continue
        if run_c is not None and pos >= hold and parser._active is None:
            end, line, items = run_c(text, pos, parser._lineno, words, cycles,
                                     overview is not None, factory, *extra)
            back = _run_items(parser, text, items, overview, out, checks_c) \
                if items else None
            if back is not None:
                pos, hold, parser._lineno = back
                continue
            parser._lineno = line
            pos = end
            if pos >= n:
                break
        if parser._active is None:
            c = text[pos]
            if c == "[":
                if text.startswith("[MSOBJ] ", pos) and obj_c is not None:
                    end, line, recs = obj_c(text, pos, parser._lineno, factory)
                    if end > pos and (
                            (user_cycle is None or not user_cycle.search(text, pos, end))
                            and (anchors is None or not anchors.search(text[pos:end].lower()))):
                        if recs:
                            out += recs
                        parser._lineno = line
                        pos = end
                        continue
                elif text.startswith("[MSOBJ] ", pos):
                    m = obj_run(text, pos)
                    if m is not None and (
                            (user_cycle is None or not user_cycle.search(text, pos, m.end()))
                            and (anchors is None or not anchors.search(text[pos:m.end()].lower()))):
                        end = m.end()
                        if runs:       # one record for the stretch
                            run, end = _object_stretch(parser, text, pos, end, plan, plain)
                            out.append(run)
                        elif objects:
                            line = parser._lineno
                            for op, kind, handle, caller, seq in obj_line(text, pos, end):
                                line += 1
                                # positional: line, op, kind, handle, caller, seq, name, ts
                                out.append(ObjectEvent(line, op, kind,  # type: ignore[arg-type]
                                                       int(handle, 16), int(caller, 16),
                                                       int(seq), None, None))
                            parser._lineno = line
                        else:
                            parser._lineno += text.count("\n", pos, end)
                        pos = end
                        continue
                elif cycles and text.startswith("[MSCYCLE]", pos):
                    m = cycle_re(text, pos)
                    if m is not None and (anchors is None
                                          or not anchors.search(text[pos:m.end()].lower())):
                        parser._lineno += 1
                        out.append(CycleMarker(line=parser._lineno, index=int(m[1]),
                                               text=text[pos:m.end() - 1], ts=None))
                        pos = m.end()
                        continue
            elif (c == "=" or c == "-") and overview is not None:
                m = table_re(text, pos)
                if m is not None:
                    end = m.end()
                    # The table ends at the next line unless that line is its [POOL] part;
                    # at the end of the chunk the line path decides.
                    nxt = text.find("\n", end)
                    if nxt > 0 and not normalize(text[end:nxt]).text.lstrip().startswith(
                            "[POOL]|") and (
                            anchors is None or not anchors.search(text[pos:nxt].lower())):
                        first = parser._lineno + 1
                        parser._lineno += text.count("\n", pos, end)
                        overview.opens(m[1].rstrip(), first, None)
                        overview.feed(m[2], first + 3, None)
                        out += parser._close(overview, None)
                        pos = end
                        continue
        if skip_c is not None and parser._active is None:
            end, skipped = skip_c(text, pos, words)
            if skipped:
                parser._lineno += skipped
                pos = end
                continue
        end = text.find("\n", pos)
        if anchors_c is not None and parser._active is None and (
                hits := anchors_c(text, pos, end, words)) is not None:
            # (the same tests as below, the anchors found in C)
            if not hits:
                parser._lineno += 1       # nobody reads it (its prefix was counted in bulk)
            elif solo is None or (got := solo.take_hits(parser, text[pos:end], hits)) is None:
                out += take(text[pos:end])
            else:
                out += got                # one reader's line, read by it alone
            pos = end + 1
            continue
        if inert is not None and parser._active is None and (
                plain or _PRINTABLE_LINE.match(text, pos, end) is not None):
            low = text[pos:end].lower()
            if not inert.search(low) and (user_cycle is None
                                          or not user_cycle.search(normalize(text[pos:end]).text)):
                parser._lineno += 1       # nobody reads it (its prefix was counted in bulk)
            elif solo is None or (got := solo.take(parser, text[pos:end], low)) is None:
                out += take(text[pos:end])
            else:
                out += got                # one reader's line, read by it alone
        else:
            out += take(text[pos:end])
        pos = end + 1
    return out

_PRINTABLE_LINE = re.compile(r"[\t -~]*\Z")


def _object_stretch(parser: LogParser, text: str, pos: int, end: int, plan: Plan,
                    plain: bool) -> tuple[ObjectEventRun, int]:
    """The strict ``[MSOBJ]`` run [pos, end) as one record, with the runs after it that only
    lines nobody reads separate from it (noise between events): fewer records to hand to
    every accumulator. Those lines are stepped over exactly as ``_scan_text`` steps over an
    inert line. Returns the record and where reading goes on."""
    obj_line, obj_run = _OBJ_LINE.findall, _OBJ_RUN.match
    inert, anchors, user_cycle = plan.inert, plan.anchors, plan.user_cycle
    rows = obj_line(text, pos, end)
    line = parser._lineno
    lines = list(range(line + 1, line + 1 + len(rows)))
    line += len(rows)
    while inert is not None:
        nl = text.find("\n", end)
        if nl < 0 or not text.startswith("[MSOBJ] ", nl + 1) \
                or inert.search(text[end:nl].lower()) \
                or not (plain or _PRINTABLE_LINE.match(text, end, nl) is not None) \
                or (user_cycle is not None
                    and user_cycle.search(normalize(text[end:nl]).text)):
            break
        m = obj_run(text, nl + 1)
        if m is None or (user_cycle is not None and user_cycle.search(text, nl + 1, m.end())) \
                or (anchors is not None and anchors.search(text[nl + 1:m.end()].lower())):
            break
        more = obj_line(text, nl + 1, m.end())
        rows += more
        lines += range(line + 2, line + 2 + len(more))
        line += 1 + len(more)
        end = m.end()
    parser._lineno = line
    return ObjectEventRun(lines, rows), end


_HAS_TEXT: dict[str, bool] = {}


def _has_text(line: str) -> bool:
    """Whether a line keeps any text once normalised (memoised: the same foreign lines
    recur all through a log)."""
    hit = _HAS_TEXT.get(line)
    if hit is None:
        hit = bool(normalize(line).text.strip())
        if len(_HAS_TEXT) < 4096:
            _HAS_TEXT[line] = hit
    return hit


def _run_items(parser: LogParser, text: str, items: list[Any], overview: Any,
               out: list[Record], checks: Any = None) -> tuple[int, int, int] | None:
    """Records of the C loop's items (see ``run`` in _scan.c), appended to ``out``.

    A table with a foreign line that normalises to nothing (the reader would not count it
    as skipped) stops here: returns (table start, table end, line before it) so that the
    line path reads it; later items are dropped and found again after it."""
    stats = parser.stats
    for it in items:
        if type(it) is not tuple:
            out.append(it)
            continue
        if it[0] == 0:
            out.append(CycleMarker(line=it[1], index=it[2], text=text[it[3]:it[4]], ts=None))
            continue
        if it[0] == 2:
            out.append(ObjectEventRun(packed=it[1], names=it[2]))
            continue
        if it[0] == 3:
            back = _heap_run(parser, text, it, overview, out, checks)
            if back is not None:
                return back
            continue
        _, first, hs, he, values, is_hex, _row_line, skips, start, end, check = it
        if check is not None:
            # foreign lines after the row: the bottom rule opens an empty table, which the
            # next line must end without a trace (see OverviewReader.feed, state START)
            s = normalize(text[check[0]:check[1]]).text.strip()
            if not s or s.startswith("[HEAP]|") or _DASHES.match(s) or _STAT_CLOSED.search(s):
                return start, end, first - 1
        if skips:
            if not all(_has_text(text[skips[i]:skips[i + 1]]) for i in range(0, len(skips), 2)):
                return start, end, first - 1
            stats.skipped_in_sections += len(skips) // 2
        rec = overview.record_of(text[hs:he], values, is_hex, first)
        if rec is not None:      # what parser._close(overview) gives and counts
            out.append(rec)
            sections = stats.sections
            sections[overview.name] = sections.get(overview.name, 0) + 1
    return None


def first_failing_table(text: str, skips: Any, nskip: Any, check_s: Any, check_e: Any) -> int:
    """The first table of a ``HeapRun`` whose foreign lines a table item's checks reject
    (``_run_items``), or -1: a skipped line with no text, or a checked line that is empty, a
    table head, a rule or a closed statistic. ``_scan.heap_checks`` decides the same in C.

    ``skips``: (start, end) pairs of the skipped lines, ``nskip[k]`` of them in table k;
    ``check_s``/``check_e``: the span of table k's line to check (start -1: none)."""
    s = 0
    for k in range(len(nskip)):
        n = nskip[k]
        if n and not all(_has_text(text[skips[i]:skips[i + 1]])
                         for i in range(2 * s, 2 * (s + n), 2)):
            return k
        c = check_s[k]
        if c >= 0:
            line = normalize(text[c:check_e[k]]).text.strip()
            if not line or line.startswith("[HEAP]|") or _DASHES.match(line) \
                    or _STAT_CLOSED.search(line):
                return k
        s += n
    return -1


def _heap_run(parser: LogParser, text: str, it: tuple[Any, ...], overview: Any,
              out: list[Record], checks: Any = None) -> tuple[int, int, int] | None:
    """A stretch of markers and tables the C loop read in columns (``run(..., heap=True)``):
    one ``HeapRun`` appended to ``out``, after the foreign lines inside its tables pass the
    checks a table item's do (``_run_items``). At the first table that fails them, the
    entries before it make the run and (table start, table end, line before it) is returned
    for the line path."""
    (_, seq, m_line, m_index, m_start, m_end, t_line, t_start, t_end, t_nskip, t_check_s,
     t_check_e, skips, values, hs, he, is_hex, width, packs) = it
    # the checks below in C, where the lines are ones it decides (-2: Python decides)
    first_bad = checks(text, skips, t_nskip, t_check_s, t_check_e) \
        if checks is not None and t_line else -2
    m_line, m_index, m_start, m_end, t_line, t_start, t_end, t_nskip, t_check_s, t_check_e, \
        skips, values = (memoryview(b).cast("q") for b in (
            m_line, m_index, m_start, m_end, t_line, t_start, t_end, t_nskip, t_check_s,
            t_check_e, skips, values))
    tables = len(t_line)
    header = text[hs:he] if tables else ""
    plan = overview.row_plan(header, width, bool(is_hex)) if tables else None
    stats = parser.stats
    if first_bad == -2 and (skips or any(c >= 0 for c in t_check_s)):
        first_bad = first_failing_table(text, skips, t_nskip, t_check_s, t_check_e)
    bad = None          # the first table the line path must read
    if first_bad >= 0:
        bad = first_bad
        nskipped = sum(t_nskip[:bad])
    else:
        nskipped = len(skips) // 2
    back = None
    if bad is not None:
        back = (t_start[bad], t_end[bad], t_line[bad] - 1)
        cut = _nth(seq, bad)                 # entries before the bad table
        packs = packs[:seq.count(2, 0, cut)]
        markers = cut - bad - len(packs)
        seq, m_line, m_index, m_start, m_end = seq[:cut], m_line[:markers], \
            m_index[:markers], m_start[:markers], m_end[:markers]
        t_line, values, tables = t_line[:bad], values[:bad * width], bad
    stats.skipped_in_sections += nskipped
    if not seq:
        return back
    if plan is None:
        # rows that give no record (no free/used column): the markers alone
        t_line, values, tables = t_line[:0], values[:0], 0
        seq = seq.replace(b"\x01", b"")
        plan = ((None, 0, 0, None, None), "H4")
    if tables:
        sections = stats.sections
        sections[overview.name] = sections.get(overview.name, 0) + tables
    cols, variant = plan
    out.append(HeapRun(seq, m_line, m_index, m_start, m_end, t_line, values, width, cols,
                       variant, overview.nested, text, packs))
    return back


def _nth(seq: bytes, k: int) -> int:
    """Position in ``seq`` of its k-th (0-based) table entry."""
    pos = -1
    for _ in range(k + 1):
        pos = seq.index(1, pos + 1)
    return pos
