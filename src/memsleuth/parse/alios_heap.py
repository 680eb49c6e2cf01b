"""AliOS Things heap output: overview tables, block dumps, leak lines, allocator warnings.

Formats and their eras are in ``alios-formats.md`` §1–§3. The crash-dump reader imports
:func:`parse_block_line` and :class:`OverviewReader` from here (heap tables and error blocks
also appear inside crash dumps), so those two keep their signatures.

Robustness rules that shape the code: fixed columns overflow (``132269304``), libc ``%p``
varies (``0x0``, ``(nil)``, ``0x0x…``), other tasks' lines interleave with a dump, and dumps
are cut short by resets. Column positions are therefore never trusted; lines are matched by
shape, and a section reader knows which sub-section it is in so it can tell an interleaved
line (skipped) from the end of its dump.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from memsleuth.parse.base import Feed
from memsleuth.parse.lazyre import lazy
from memsleuth.records import (
    AllocWarning,
    BlockDump,
    BlockVariant,
    HeapBlock,
    HeapOverview,
    LeakCandidate,
    OverviewVariant,
    PoolStats,
    Record,
    TaskAlloc,
    WarningKind,
)

# --------------------------------------------------------------------------------------------
# Block lines (§2.5, §2.7, §8)

_PTR = r"(?:0x)?[0-9A-Fa-f]+|\(nil\)"
_BLOCK = lazy(
    r"^\s*(?:0x){0,2}(?P<addr>[0-9A-Fa-f]+)\s+(?P<bang>!?)\s*(?P<state>used|free)\s+"
    r"(?P<size>\d+|sentinel)\s+(?P<dye>OK|[0-9A-Fa-f]+)\s+0x(?P<owner>[0-9A-Fa-f]+)"
    r"(?P<tail>.*)$",
    re.IGNORECASE,
)
_PRE_FREE = lazy(rf"pre-free\s*\[\s*(?P<p>{_PTR})\s*\]", re.IGNORECASE)
_FREE_LINKS = lazy(
    rf"(?<!pre-)free\s*\[\s*(?P<a>{_PTR})\s*,\s*(?P<b>{_PTR})\s*\]", re.IGNORECASE)
_TRACE = lazy(r"\(\s*((?:0x[0-9A-Fa-f]+|\(nil\))(?:\s*<-\s*(?:0x[0-9A-Fa-f]+|\(nil\)))*)"
              r"\s*\)")

USED_DYES = frozenset({0xFEFEFEFE, 0xFEFE, 0xFEFEFEFEFEFEFEFE})
FREE_DYES = frozenset({0xABABABAB, 0xABAB, 0xABABABABABABABAB})
#: Variants whose dye column prints ``OK`` and shows a hex value only when the dye is wrong.
_CHK_VARIANTS = frozenset({"B3", "mmlk", "error_blocks"})


def _ptr(text: str) -> int:
    text = text.strip()
    if text == "(nil)":
        return 0
    return int(text[2:] if text[:2].lower() == "0x" else text, 16)


def parse_block_line(text: str, lineno: int, *, variant: str | None = None) -> HeapBlock | None:
    """Parse one ``print_block()`` line of any era (B1, B2, B3, mmlk, error blocks).

    Returns None when the line is not a block line. ``variant`` ("B3", "mmlk",
    "error_blocks") says the dye column is a check column: any hex value there is a bad dye;
    without it, a hex dye is judged against the state (used ⇒ fefe…, free ⇒ abab…).
    """
    m = _BLOCK.match(text)
    if m is None:
        return None
    used = m["state"].lower() == "used"
    size_text = m["size"].lower()
    sentinel = size_text == "sentinel"
    dye_text = m["dye"]
    dye: int | None = None
    dye_ok = True
    if dye_text.upper() != "OK":
        dye = int(dye_text, 16)
        # A check column shows hex only when the dye is wrong; a raw column needs judging.
        dye_ok = variant not in _CHK_VARIANTS and dye in (USED_DYES if used else FREE_DYES)
    tail = m["tail"]
    prev_free = free_links = None
    trace: tuple[int, ...] = ()
    if tail:
        pm = _PRE_FREE.search(tail)
        if pm:
            prev_free = _ptr(pm["p"])
        fm = _FREE_LINKS.search(tail)
        if fm:
            free_links = (_ptr(fm["a"]), _ptr(fm["b"]))
        tm = _TRACE.search(tail)
        if tm:
            trace = tuple(_ptr(t) for t in tm.group(1).split("<-"))
    return HeapBlock(
        line=lineno,
        addr=int(m["addr"], 16),
        used=used,
        size=None if sentinel else int(size_text),
        owner=int(m["owner"], 16),
        sentinel=sentinel,
        corrupted=bool(m["bang"]),
        dye=dye,
        dye_ok=dye_ok,
        trace=trace,
        prev_free=prev_free,
        free_links=free_links,
    )


# YunOS region-list rows (§2.4); the leak row of the same era has no 'flag:' and no 'free'.
_BY_ROW = lazy(
    r"^\[\s*\d+\s*\]:\s*adress:\s*0x(?P<addr>[0-9A-Fa-f]+)\s+"
    r"(?:owner:\s*0x(?P<owner>[0-9A-Fa-f]+)\s+)?len:\s*(?P<len>\d+)\s+type:\s*(?P<type>\w+)"
    r"\s+flag:\s*0x(?P<flag>[0-9A-Fa-f]+)",
    re.IGNORECASE,
)


def _parse_by_row(text: str, lineno: int) -> HeapBlock | None:
    m = _BY_ROW.match(text)
    if m is None:
        return None
    kind = m["type"].lower()
    used = kind != "free"
    dye = int(m["flag"], 16)
    return HeapBlock(
        line=lineno,
        addr=int(m["addr"], 16),
        used=used,
        size=int(m["len"]),
        owner=int(m["owner"], 16) if m["owner"] else 0,
        corrupted=kind not in ("free", "taken"),
        dye=dye,
        dye_ok=dye in (USED_DYES if used else FREE_DYES),
    )


# --------------------------------------------------------------------------------------------
# Table rows and shared line shapes

_DASHES = lazy(r"^-{20,}$")
_HEAP_INFO = lazy(r"^=+\s*Heap Info\s*=+$", re.IGNORECASE)
_OTHER_BANNER = lazy(r"^(?:={5,}.*={5,}|!{5,}.*!{5,})$")
_STAT_CLOSED = lazy(r"K_MM_STATISTIC in k_config\.h is closed", re.IGNORECASE)
_FUM_HEADER = lazy(r"^free\s*\|\s*used\s*\|\s*maxused$", re.IGNORECASE)
_FUT_HEADER = lazy(r"^free\s*\|\s*used\s*\|\s*total$", re.IGNORECASE)
_THREE_INTS = lazy(r"^(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|?$")
_NUM = lazy(r"^(?:0x[0-9A-Fa-f]+|\d+)$")
_BUCKET = lazy(r"\[2\^(\d+)\]\s*bytes:\s*(\d+)")
_DOTS = lazy(r"^\.{3,}$")
_HEXISH = frozenset("0123456789abcdefABCDEF")


def _row_values(s: str) -> tuple[list[int], bool] | None:
    """``| 0x0002E000 | 0x0001B2A0 | ...`` (or decimal) → values and whether hex."""
    if not s.startswith("|"):
        return None
    cells = [c.strip() for c in s.strip("|").split("|")]
    cells = [c for c in cells if c]
    if not cells or not all(_NUM.match(c) for c in cells):
        return None
    is_hex = any(c[:2].lower() == "0x" for c in cells)
    return [int(c, 16) if c[:2].lower() == "0x" else int(c) for c in cells], is_hex


def _header_names(s: str) -> list[str]:
    """``[HEAP]| TotalSz | FreeSz |`` → ['totalsz', 'freesz', ...]."""
    names = _NAMES_SEEN.get(s)
    if names is None:
        parts = s.split("|")[1:]
        names = tuple(p.strip().lower() for p in parts if p.strip())
        if len(_NAMES_SEEN) < 256:      # a log prints the same few headers a million times
            _NAMES_SEEN[s] = names
    return list(names)


_NAMES_SEEN: dict[str, tuple[str, ...]] = {}
#: OverviewReader.record_of: (header, row width) -> (has a record, index of total, free,
#: used, min_free, max_free_block or None)
_ROW_PLANS: dict[tuple[str, int], tuple[Any, ...]] = {}


_HEAP_FIELDS = {
    "totalsz": "total", "totalsize": "total", "freesz": "free", "freesize": "free",
    "usedsz": "used", "usedsize": "used", "minfreesz": "min_free",
    "maxfreeblksz": "max_free_block",
}
_POOL_FIELDS = {
    "poolsz": "size", "poolsize": "size", "freesz": "free", "freesize": "free",
    "usedsz": "used", "usedsize": "used", "blksz": "blk_size", "minfreesz": "min_free",
    "maxfreeblksz": "max_free_block",
}


def _map_columns(names: list[str], values: list[int], fields: dict[str, str],
                 positional: tuple[str, ...]) -> dict[str, int]:
    out: dict[str, int] = {}
    if len(names) == len(values):
        for n, v in zip(names, values, strict=True):
            key = fields.get(n)
            if key and key not in out:
                out[key] = v
    if not {"free", "used"} <= out.keys():
        out = dict(zip(positional, values, strict=False))
    return out


# --------------------------------------------------------------------------------------------
# Heap overview tables (§1)

_OV_IDLE, _OV_BANNER, _OV_START, _OV_HEAP_ROW, _OV_AFTER_HEAP, _OV_HEAP_DASH, \
    _OV_POOL_ROW, _OV_AFTER_POOL, _OV_FUM_ROW = range(9)


class OverviewReader:
    """Reads one heap overview table (H4, H5a, H5b, show_mm, show_mm2).

    Opens on the ``Heap Info`` banner, on the table's top dash line, on a ``[HEAP]|`` header
    or on a ``free | used | maxused`` header. A crash-dump reader can drive it on the lines
    after its own ``Heap Info`` banner: construct with ``nested=True``, call ``opens`` on the
    first line, ``feed`` the next ones until DONE/ENDED, then ``close`` for the record.
    """

    name = "heap_overview"
    hint = lazy(r"\s*(?:-{20}|=+\s*Heap Info|\[HEAP\]\||free\s*\|)", re.IGNORECASE)

    def __init__(self, *, nested: bool = False) -> None:
        self.nested = nested
        self._reset()

    def _reset(self) -> None:
        self._state = _OV_IDLE
        self._line = 0
        self._ts: float | None = None
        self._heap_names: list[str] = []
        self._heap_values: list[int] | None = None
        self._heap_hex = True
        self._pool_names: list[str] | None = None
        self._pool_values: list[int] | None = None
        self._fum: tuple[int, int, int] | None = None

    # -- protocol ---------------------------------------------------------------------------
    def opens(self, text: str, lineno: int, ts: float | None) -> bool:
        s = text.strip()
        if _HEAP_INFO.match(s):
            state = _OV_BANNER
        elif _DASHES.match(s):
            state = _OV_START
        elif s.startswith("[HEAP]|"):
            state = _OV_HEAP_ROW
        elif _FUM_HEADER.match(s):
            state = _OV_FUM_ROW
        else:
            return False
        self._reset()
        self._line, self._ts = lineno, ts
        if state == _OV_HEAP_ROW:
            self._heap_names = _header_names(s)
        self._state = state
        return True

    def load(self, header: str, values: list[int], is_hex: bool, lineno: int) -> None:
        """The state ``opens(header)`` then ``feed(row)`` leave, for a row whose values were
        read in C (parse/scan.py; ``_row_values`` of that row gives ``values, is_hex``)."""
        self._reset()
        self._line, self._ts = lineno, None
        self._heap_names = _header_names(header.strip())
        self._heap_values, self._heap_hex = values, is_hex
        self._state = _OV_AFTER_HEAP

    def row_plan(self, header: str, width: int,
                 is_hex: bool) -> tuple[tuple[int | None, int, int, int | None, int | None],
                                        OverviewVariant] | None:
        """Which value of a row under ``header`` is total, free, used, low-water mark and
        largest free block, and the table's variant; None when such a row gives no record.
        Worked out once per header and row width, not once per table (a stress log prints
        the same table a million times)."""
        key = (header, width)
        plan = _ROW_PLANS.get(key)
        if plan is None:
            names = _header_names(header.strip())
            cols = _map_columns(names, list(range(width)), _HEAP_FIELDS,
                                ("total", "free", "used", "min_free", "max_free_block"))
            plan = (False,) if width < 3 or "free" not in cols or "used" not in cols \
                else (True, *(cols.get(k) for k in ("total", "free", "used", "min_free",
                                                     "max_free_block")))
            if len(_ROW_PLANS) < 256:
                _ROW_PLANS[key] = plan
        if not plan[0]:
            return None
        variant: OverviewVariant = "show_mm" if not is_hex else ("H4" if width <= 4 else "H5b")
        return plan[1:], variant  # type: ignore[return-value]

    def record_of(self, header: str, values: list[int], is_hex: bool,
                  lineno: int) -> HeapOverview | None:
        """The record ``load(...)`` then ``close(None)`` give (a whole table without a pool
        part, its row read in C), built without the reader's state (see ``row_plan``). The
        reader's state is not touched."""
        plan = self.row_plan(header, len(values), is_hex)
        if plan is None:
            return None
        (t, f, u, m, b), variant = plan
        return HeapOverview(
            lineno, variant, None if t is None else values[t], values[f], values[u],
            None if m is None else values[m], None if b is None else values[b], None, None,
            False, None, self.nested)

    def feed(self, text: str, lineno: int, ts: float | None) -> Feed:
        s = text.strip()
        st = self._state
        if st in (_OV_BANNER, _OV_START):
            if s.startswith("[HEAP]|"):
                self._heap_names = _header_names(s)
                self._state = _OV_HEAP_ROW
                return Feed.CONSUMED
            if _STAT_CLOSED.search(s):
                return Feed.DONE
            if _DASHES.match(s) or not s:
                self._state = _OV_START if st == _OV_START else st
                return Feed.CONSUMED
            # After a banner (or, nested in a dump, after the top rule) the table must come:
            # a foreign line there is interleaved output, not the end of the table.
            if (st == _OV_BANNER or self.nested) and not _OTHER_BANNER.match(s):
                return Feed.SKIPPED
            return Feed.ENDED
        if st == _OV_HEAP_ROW:
            row = _row_values(s)
            if row is not None:
                self._heap_values, self._heap_hex = row
                self._state = _OV_AFTER_HEAP
                return Feed.CONSUMED
            return Feed.CONSUMED if not s else Feed.SKIPPED
        if st in (_OV_AFTER_HEAP, _OV_HEAP_DASH):
            if s.startswith("[POOL]|"):
                self._pool_names = _header_names(s)
                self._state = _OV_POOL_ROW
                return Feed.CONSUMED
            if st == _OV_AFTER_HEAP and _DASHES.match(s):
                self._state = _OV_HEAP_DASH
                return Feed.CONSUMED
            return Feed.ENDED
        if st == _OV_POOL_ROW:
            row = _row_values(s)
            if row is not None:
                self._pool_values = row[0]
                self._state = _OV_AFTER_POOL
                return Feed.CONSUMED
            if _DASHES.match(s):   # [POOL] header with no data row: no fixed pool
                return Feed.DONE
            return Feed.CONSUMED if not s else Feed.SKIPPED
        if st == _OV_AFTER_POOL:
            return Feed.DONE if _DASHES.match(s) else Feed.ENDED
        if st == _OV_FUM_ROW:
            m = _THREE_INTS.match(s)
            if m:
                self._fum = (int(m[1]), int(m[2]), int(m[3]))
                return Feed.DONE
            return Feed.CONSUMED if not s else Feed.SKIPPED
        return Feed.ENDED

    def close(self, reason: str | None) -> list[Record]:
        rec = self._record(reason)
        self._reset()
        return [rec] if rec is not None else []

    # -- building ---------------------------------------------------------------------------
    def _record(self, reason: str | None) -> HeapOverview | None:
        if self._fum is not None:
            free, used, maxused = self._fum
            return HeapOverview(
                line=self._line, variant="show_mm2", total=free + used, free=free, used=used,
                min_free=free + used - maxused, ts=self._ts, nested=self.nested)
        values = self._heap_values
        if values is None or len(values) < 3:
            return None
        cols = _map_columns(self._heap_names, values, _HEAP_FIELDS,
                            ("total", "free", "used", "min_free", "max_free_block"))
        if "free" not in cols or "used" not in cols:
            return None
        pool = self._pool()
        variant: OverviewVariant
        if not self._heap_hex:
            variant = "show_mm"
        elif len(values) <= 4:
            variant = "H4"
        elif self._pool_names is not None and len(self._pool_names) >= 4 \
                and self._pool_names[3] == "blksz":
            variant = "H5a"
        else:
            variant = "H5b"
        # Cut inside the POOL part: the heap row is whole, the pool row may be lost.
        partial = reason is not None and self._state == _OV_POOL_ROW
        return HeapOverview(
            line=self._line, variant=variant, total=cols.get("total"), free=cols["free"],
            used=cols["used"], min_free=cols.get("min_free"),
            max_free_block=cols.get("max_free_block"), pool=pool, ts=self._ts,
            partial=partial, partial_reason=reason if partial else None, nested=self.nested)

    def _pool(self) -> PoolStats | None:
        if self._pool_values is None or self._pool_names is None or len(self._pool_values) < 3:
            return None
        cols = _map_columns(self._pool_names, self._pool_values, _POOL_FIELDS,
                            ("size", "free", "used", "blk_size", "max_free_block"))
        if not {"size", "free", "used"} <= cols.keys():
            return None
        return PoolStats(size=cols["size"], free=cols["free"], used=cols["used"],
                         blk_size=cols.get("blk_size"), min_free=cols.get("min_free"),
                         max_free_block=cols.get("max_free_block"))


# --------------------------------------------------------------------------------------------
# Block dumps (§2, §3.2)

_ALL_BLOCKS = lazy(r"^-+\s*all memory blocks\s*-+$", re.IGNORECASE)
_ALL_FREE = lazy(r"all free memory blocks", re.IGNORECASE)
_ALLOC_STAT = lazy(r"^-+\s*memory allocation statistic\s*-+$", re.IGNORECASE)
_SIZE_STAT = lazy(r"^-+\s*(?:alloc size statistic|number of alloc times):?\s*-+$",
                  re.IGNORECASE)
_FIX_POOL = lazy(r"^-+\s*fix pool information:?\s*-+$", re.IGNORECASE)
_HEAP_OV = lazy(r"^-+\s*(?:\[\w+\]\s*)?heap size overview\s*-+$", re.IGNORECASE)
_MMBLK = lazy(r"^-+\s*mmblk allocation statistic\s*-+$", re.IGNORECASE)
_TASK_STAT = lazy(r"^-+\s*task allocation statistic\s*-+$", re.IGNORECASE)
_MMLK_OPEN = lazy(r"^-+\s*All new alloced blocks:?\s*-+$", re.IGNORECASE)
_MMLK_END = lazy(r"^-+\s*New alloced blocks info ends\.?\s*-+$", re.IGNORECASE)
_ERR_OPEN = lazy(r"^-+\s*All error blocks:?\s*-+$", re.IGNORECASE)
_BY_OPEN = lazy(r"^region info frag number:\s*(\d+)\s+free size:\s*(\d+)", re.IGNORECASE)
_KMM_HEAD = lazy(r"^g_kmm_head(?:_resv)?\s*=\s*(?:0x)?([0-9A-Fa-f]+)", re.IGNORECASE)
_COLS_B12 = lazy(r"^address,\s*stat\s+size\s+dye", re.IGNORECASE)
_COLS_B3 = lazy(r"^(?:Blk_Addr\s+Stat|Address\s+Stat\s+Len\s+Chk)", re.IGNORECASE)
_FL_BITMAP = lazy(r"^FL bitmap:?\s*0x[0-9A-Fa-f]+", re.IGNORECASE)
_SL_BITMAP = lazy(r"^(?:SL bitmap:?\s*0x[0-9A-Fa-f]+|->\s*\[\d+\]\s*\[\d+\])", re.IGNORECASE)
_FREELIST_BITMAP = lazy(r"^freelist bitmap:?\s*0x[0-9A-Fa-f]+", re.IGNORECASE)
_MMBLK_LINE = lazy(
    r"^(?:\[POOL\]\|\s*BlkSize|Total\s*\||\|\s*\d+\s*\||Pool Size\s+\S+,\s*Free Slice size)",
    re.IGNORECASE)
_TASK_HEADER = lazy(r"^TaskName\s+Prio\s+StackSize\s+HeapAllocSize", re.IGNORECASE)
_TASK_ROW = lazy(r"^(?P<name>.*?)\s+(?P<prio>\d+)\s+(?P<stack>\d+)\s+(?P<heap>\d+)$")
_ISR = lazy(r"Allocated in ISR\s*(-?\d+),\s*Allocated by deleted task\s*(-?\d+)",
            re.IGNORECASE)
_BY_LIST = lazy(r"^(free list|alloced list):?$", re.IGNORECASE)
_ADD_TAG = lazy(r"Add tag\s+(\d+)\s+when malloc", re.IGNORECASE)
_MMLK_CMD = lazy(r"(?:^|[\s#>$])mmlk\s+(\d+)$")


@dataclass(slots=True)
class DumpCounter:
    """Numbers block dumps in log order across the readers that produce them."""

    next: int = 0

    def take(self) -> int:
        self.next += 1
        return self.next - 1


#: BlockDumpReader phases whose foreign lines the C scanner may skip in bulk (see bulk_mode)
_BULK_MODES = {"head": 0, "blocks": 0, "free": 0, "stat": 1, "sizes": 2, "tasks": 3}
#: the phases the banners _scan.dump_run reads move a dump to
_BULK_PHASES = {1: "free", 2: "stat", 3: "tasks"}
#: makes the record of a nested table _scan.dump_run3 read (record_of keeps no state)
_NESTED = OverviewReader(nested=True)


class BlockDumpReader:
    """Reads full block dumps (B1, B2, B3, B-Y) and the 3.x ``mmlk`` listing.

    Sub-sections are recognised by their banners; the dump is complete once its last
    sub-section has been read (B1/B2: the alloc-size statistic or fix-pool info; B3: the
    ``Allocated in ISR`` line; mmlk: its end banner; B-Y: any row, as it has no end line).
    Before that a foreign line is skipped; after it, a foreign line ends the dump.
    """

    name = "block_dump"
    # openers, and the mmlk tag announcements that opens() remembers (anywhere in the line)
    hint = lazy(r"\s*(?:-+\s*All (?:new alloced|memory)|region info)|.*(?:Add tag|mmlk)",
                re.IGNORECASE)

    def __init__(self, counter: DumpCounter | None = None) -> None:
        self._counter = counter or DumpCounter()
        self._dump: BlockDump | None = None
        self._mmlk_tag: tuple[int, int] | None = None   # (tag, line seen)

    # -- protocol ---------------------------------------------------------------------------
    def opens(self, text: str, lineno: int, ts: float | None) -> bool:
        s = text.strip()
        if _ALL_BLOCKS.match(s):
            self._start("B2", lineno, ts)
            return True
        if _MMLK_OPEN.match(s):
            self._start("mmlk", lineno, ts)
            if self._mmlk_tag is not None and lineno - self._mmlk_tag[1] <= 4:
                assert self._dump is not None
                self._dump.tag = self._mmlk_tag[0]
            self._mmlk_tag = None
            return True
        m = _BY_OPEN.match(s)
        if m:
            self._start("BY", lineno, ts)
            return True
        # Remember the tag announced just before an mmlk listing (§3.2).
        m = _ADD_TAG.search(s)
        if m:
            self._mmlk_tag = ((int(m[1]) - 1) % 256, lineno)
        else:
            m = _MMLK_CMD.search(s)
            if m:
                self._mmlk_tag = (int(m[1]), lineno)
        return False

    def _start(self, variant: BlockVariant, lineno: int, ts: float | None) -> None:
        self._dump = BlockDump(line=lineno, variant=variant, end_line=lineno, ts=ts)
        self._phase = "head"
        self._hint_b3 = False
        self._hint_b1 = False
        self._isr_seen = False
        self._ended = False
        self._own_reason: str | None = None
        self._ov: OverviewReader | None = None
        self._ov_waiting = False
        self._pending_pool: PoolStats | None = None
        self._fum_wait = False
        self._fut_wait = False

    def feed(self, text: str, lineno: int, ts: float | None) -> Feed:
        d = self._dump
        if d is None:
            return Feed.ENDED
        result = self._feed(text.strip(), lineno)
        if result in (Feed.CONSUMED, Feed.DONE):
            d.end_line = lineno
        elif result is Feed.SKIPPED:
            d.skipped_lines += 1
        return result

    def close(self, reason: str | None) -> list[Record]:
        d = self._dump
        if d is None:
            return []
        self._finish_overview(reason)
        if self._pending_pool is not None and d.overview is not None and d.overview.pool is None:
            d.overview.pool = self._pending_pool
        if d.variant not in ("mmlk", "BY"):
            d.variant = "B3" if self._hint_b3 else ("B1" if self._hint_b1 else "B2")
        reason = reason or self._own_reason
        if reason is not None and not self._complete():
            d.partial, d.partial_reason = True, reason
        d.index = self._counter.take()
        self._dump = None
        return [d]

    # -- line handling ----------------------------------------------------------------------
    def _complete(self) -> bool:
        d = self._dump
        assert d is not None
        if d.variant == "mmlk":
            return self._ended
        if d.variant == "BY":
            return bool(d.blocks)
        if self._hint_b3:
            return self._isr_seen
        return self._phase in ("sizes", "pool")

    def _chk_variant(self) -> str | None:
        d = self._dump
        assert d is not None
        if d.variant == "mmlk":
            return "mmlk"
        return "B3" if self._hint_b3 else None

    def _feed(self, s: str, lineno: int) -> Feed:
        d = self._dump
        assert d is not None
        if not s or _DOTS.match(s):
            return Feed.CONSUMED
        # A nested heap table (B3 'heap size overview', 2.1 debug_mm_overview) in progress.
        if self._ov is not None and not self._is_dump_banner(s):
            if self._ov_waiting:
                if self._ov.opens(s, lineno, None):
                    self._ov_waiting = False
                    return Feed.CONSUMED
            else:
                r = self._ov.feed(s, lineno, None)
                if r is Feed.DONE:
                    self._finish_overview(None)
                    return Feed.CONSUMED
                if r is Feed.CONSUMED:
                    return Feed.CONSUMED
                if r is Feed.SKIPPED:
                    return Feed.SKIPPED    # interleaved inside the nested table
                # ENDED: the table is over and the line is not part of it; read it as ours.
                self._finish_overview(None)
        elif self._ov is not None:
            self._finish_overview(None)

        if d.variant == "BY":
            return self._feed_by(s, lineno)

        # Block lines first: they are nearly all of a dump.
        if s[0] in _HEXISH:
            block = parse_block_line(s, lineno, variant=self._chk_variant())
            if block is not None:
                return self._add_block(block)

        # Banners of this dump's sub-sections.
        if s[0] == "-":
            result = self._banner(s, lineno)
            if result is not None:
                return result
        return self._other(s, lineno)

    def _banner(self, s: str, lineno: int) -> Feed | None:
        """Sub-section banners and the banners that end this dump; None if not a banner."""
        d = self._dump
        assert d is not None
        if _ALL_BLOCKS.match(s):
            if self._phase == "head" and not d.blocks:
                return Feed.CONSUMED
            return self._end_here(f"interrupted by a new block dump at line {lineno}")
        if _MMLK_OPEN.match(s) or _ERR_OPEN.match(s) or _BY_OPEN.match(s):
            return self._end_here(f"interrupted by a new block dump at line {lineno}")
        if _MMLK_END.match(s):
            self._ended = True
            return Feed.DONE
        if _ALL_FREE.search(s) and s.startswith("-"):
            self._phase = "free"
            return Feed.CONSUMED
        if _ALLOC_STAT.match(s):
            self._phase = "stat"
            return Feed.CONSUMED
        if _SIZE_STAT.match(s):
            self._phase = "sizes"
            if "alloc size" in s.lower():
                self._hint_b1 = True
            return Feed.CONSUMED
        if _FIX_POOL.match(s):
            self._phase = "pool"
            return Feed.CONSUMED
        if _HEAP_OV.match(s):
            self._phase = "overview"
            self._ov, self._ov_waiting = OverviewReader(nested=True), True
            return Feed.CONSUMED
        if _MMBLK.match(s):
            self._phase = "mmblk"
            return Feed.CONSUMED
        if _TASK_STAT.match(s):
            self._phase = "tasks"
            return Feed.CONSUMED
        return None

    # -- bulk (parse/scan.py: the C scanner parses runs of strict block lines) --------------
    def bulk_ready(self) -> bool:
        """Whether a strict block line would now be added as :meth:`feed` adds it (the
        dump's block or free list is being read, no nested table is open)."""
        d = self._dump
        return (d is not None and self._ov is None and d.variant != "BY"
                and self._phase in ("head", "blocks", "free"))

    def bulk_mode(self) -> int | None:
        """How the C scanner may read this dump's next lines (``_scan.dump_run``): which
        phase's tests a skipped line must escape (0 head/blocks/free, 1 stat, 2 sizes, 3
        tasks; -1: only lines that normalise to nothing, which every open dump consumes), or
        None. Foreign lines only while they are skipped (the dump not complete, and unable to
        become so on a block line: no ISR line seen) and no nested table is open."""
        d = self._dump
        if d is None:
            return None
        if (self._ov is not None or d.variant == "BY" or self._isr_seen or self._ended
                or self._complete()):
            return -1
        return _BULK_MODES.get(self._phase, -1)

    def add_skipped(self, skipped: int, last: int, b3: bool = False, phase: int = 0) -> None:
        """What :meth:`feed` records for ``skipped`` foreign lines and for consumed lines up
        to line ``last`` (0: none), read in bulk; ``b3``: a B3 column header among them;
        ``phase``: the last was the banner of a sub-section (1 free, 2 stat, 3 tasks)."""
        d = self._dump
        assert d is not None
        d.skipped_lines += skipped
        if last:
            d.end_line = last
        if b3 and d.variant != "mmlk":
            self._hint_b3 = True
        if phase:
            self._phase = _BULK_PHASES[phase]

    def add_acts(self, acts: list[tuple[Any, ...]]) -> None:
        """Lines :meth:`_other` reads a value from, read in bulk (``_scan.dump_run2``), in
        order, each as it does: (0, line, value) ``g_kmm_head``, (1, line, [(n, count)])
        alloc-size buckets, (2, line, name, prio, stack, heap) a task row, (3, line, isr,
        deleted) the ISR line; and what ``_scan.dump_run3`` reads on to, as :meth:`_banner`
        does: (4, line, header, values, is_hex) a 'heap size overview' banner and its nested
        table, read whole (``line``: the table's first line, where its reader opened),
        (5, line, 2 | 3) the stat or tasks banner, (6, line) the mmlk end banner."""
        d = self._dump
        assert d is not None
        for act in acts:
            tag = act[0]
            if tag == 0:
                if d.kmm_head is None:
                    d.kmm_head = act[2]
            elif tag == 1:
                for n, c in act[2]:
                    d.alloc_size_stats[n] = c
                if self._phase in ("stat", "sizes", "head", "blocks", "free"):
                    self._phase = "sizes"
            elif tag == 2:
                d.task_alloc.append(TaskAlloc(task=act[2], prio=act[3], stack_size=act[4],
                                              heap_alloc=act[5]))
            elif tag == 3:
                d.isr_alloc, d.deleted_task_alloc = act[2], act[3]
                self._isr_seen = True
                self._phase = "end"
            elif tag == 4:
                # what OverviewReader(nested=True) gives for the table (_finish_overview)
                self._phase = "overview"
                rec = _NESTED.record_of(act[2], act[3], act[4], act[1])
                if rec is not None:
                    d.overview = rec
            elif tag == 5:
                self._phase = _BULK_PHASES[act[2]]
            else:
                self._ended = True
            d.end_line = act[1]

    def add_blocks(self, blocks: list[HeapBlock]) -> None:
        """Lines that :func:`parse_block_line` reads as these blocks, fed in bulk (what
        :meth:`_add_block` does with each, a list at a time)."""
        d = self._dump
        assert d is not None
        if self._phase in ("head", "blocks"):
            self._phase = "blocks"
            d.blocks.extend(blocks)
        elif self._phase == "free":
            d.free_list.extend(blocks)
        else:                          # (bulk_ready() says it never is)
            for block in blocks:
                self._add_block(block)
        if not self._hint_b3 and d.variant != "mmlk" and any(b.dye is None for b in blocks):
            self._hint_b3 = True
        d.end_line = blocks[-1].line

    def _add_block(self, block: HeapBlock) -> Feed:
        d = self._dump
        assert d is not None
        if d.variant != "mmlk" and block.dye is None:
            self._hint_b3 = True   # an 'OK' check column only exists in 3.x
        if self._phase in ("head", "blocks"):
            self._phase = "blocks"
            d.blocks.append(block)
            return Feed.CONSUMED
        if self._phase == "free":
            d.free_list.append(block)
            return Feed.CONSUMED
        return self._foreign()

    def _other(self, s: str, lineno: int) -> Feed:
        d = self._dump
        assert d is not None
        m = _KMM_HEAD.match(s)
        if m:
            if d.kmm_head is None:
                d.kmm_head = int(m[1], 16)
            return Feed.CONSUMED
        if s.upper() == "ALL BLOCKS":
            return Feed.CONSUMED
        if _COLS_B12.match(s):
            return Feed.CONSUMED
        if _COLS_B3.match(s):
            if d.variant != "mmlk":
                self._hint_b3 = True
            return Feed.CONSUMED
        if _FL_BITMAP.match(s):
            self._hint_b1 = True
            return Feed.CONSUMED
        if _SL_BITMAP.match(s) or _FREELIST_BITMAP.match(s):
            return Feed.CONSUMED

        buckets = _BUCKET.findall(s)
        if buckets:
            for n, c in buckets:
                d.alloc_size_stats[int(n)] = int(c)
            if self._phase in ("stat", "sizes", "head", "blocks", "free"):
                self._phase = "sizes"
            return Feed.CONSUMED

        if self._phase == "stat":
            if _FUM_HEADER.match(s):
                self._fum_wait = True
                return Feed.CONSUMED
            m = _THREE_INTS.match(s)
            if m and self._fum_wait:
                self._fum_wait = False
                free, used, maxused = int(m[1]), int(m[2]), int(m[3])
                d.overview = HeapOverview(
                    line=lineno, variant="stat", total=free + used, free=free, used=used,
                    min_free=free + used - maxused, ts=d.ts, nested=True)
                return Feed.CONSUMED
            if _DASHES.match(s) or s.startswith("[HEAP]|"):
                self._ov = OverviewReader(nested=True)
                self._ov.opens(s, lineno, None)
                return Feed.CONSUMED
        if self._phase == "pool":
            if _FUT_HEADER.match(s):
                self._fut_wait = True
                return Feed.CONSUMED
            m = _THREE_INTS.match(s)
            if m and self._fut_wait:
                self._fut_wait = False
                free, used, total = int(m[1]), int(m[2]), int(m[3])
                self._pending_pool = PoolStats(size=total, free=free, used=used)
                return Feed.CONSUMED
        if self._phase == "mmblk" and _MMBLK_LINE.match(s):
            return Feed.CONSUMED
        if self._phase == "tasks":
            if _TASK_HEADER.match(s):
                return Feed.CONSUMED
            m = _ISR.search(s)
            if m:
                d.isr_alloc, d.deleted_task_alloc = int(m[1]), int(m[2])
                self._isr_seen = True
                self._phase = "end"
                return Feed.CONSUMED
            m = _TASK_ROW.match(s)
            if m and m["name"]:
                d.task_alloc.append(TaskAlloc(task=m["name"], prio=int(m["prio"]),
                                              stack_size=int(m["stack"]),
                                              heap_alloc=int(m["heap"])))
                return Feed.CONSUMED
        if self._phase == "end" and _DASHES.match(s):
            return Feed.DONE
        if _DASHES.match(s) and not self._complete():
            return Feed.CONSUMED
        return self._foreign()

    def _feed_by(self, s: str, lineno: int) -> Feed:
        d = self._dump
        assert d is not None
        if _BY_OPEN.match(s) or _DASHES.match(s):
            return Feed.CONSUMED          # next region of the same dump
        m = _BY_LIST.match(s)
        if m:
            self._phase = "free" if m[1].lower().startswith("free") else "blocks"
            return Feed.CONSUMED
        block = _parse_by_row(s, lineno)
        if block is not None:
            (d.free_list if self._phase == "free" else d.blocks).append(block)
            return Feed.CONSUMED
        return self._foreign()

    def _foreign(self) -> Feed:
        return Feed.ENDED if self._complete() else Feed.SKIPPED

    def _end_here(self, reason: str) -> Feed:
        if not self._complete():
            self._own_reason = reason
        return Feed.ENDED

    def _is_dump_banner(self, s: str) -> bool:
        if s[:1] != "-" or not s.strip("-"):
            # every banner tested below is "-+ words -+": only the buckets are left to test
            # (a nested table's own lines and rules: seven regexes each, backtracking over
            # every dash of a rule, before this)
            return bool(_BUCKET.search(s))
        return bool(
            _ALLOC_STAT.match(s) or _SIZE_STAT.match(s) or _FIX_POOL.match(s)
            or _MMBLK.match(s) or _TASK_STAT.match(s) or _ALL_BLOCKS.match(s)
            or _MMLK_END.match(s) or _BUCKET.search(s))

    def _finish_overview(self, reason: str | None) -> None:
        ov, self._ov, self._ov_waiting = self._ov, None, False
        if ov is None or self._dump is None:
            return
        for rec in ov.close(reason):
            if isinstance(rec, HeapOverview):
                self._dump.overview = rec


class ErrorBlocksReader:
    """3.x ``mmlk`` header check: ``All error blocks:`` then bare header addresses.

    Yields a BlockDump (variant "error_blocks") whose blocks carry only an address: the
    device prints nothing else about them, and an empty list means the check found none.
    """

    name = "error_blocks"
    hint = lazy(r"\s*-+\s*All error blocks", re.IGNORECASE)

    def __init__(self, counter: DumpCounter | None = None) -> None:
        self._counter = counter or DumpCounter()
        self._dump: BlockDump | None = None

    def opens(self, text: str, lineno: int, ts: float | None) -> bool:
        if not _ERR_OPEN.match(text.strip()):
            return False
        self._dump = BlockDump(line=lineno, variant="error_blocks", end_line=lineno, ts=ts)
        return True

    def feed(self, text: str, lineno: int, ts: float | None) -> Feed:
        d = self._dump
        s = text.strip()
        if d is None:
            return Feed.ENDED
        if not s:
            return Feed.CONSUMED
        m = re.match(r"^(?:0x[0-9A-Fa-f]+\s*)+", s)
        if m is None:
            return Feed.ENDED
        for addr in re.findall(r"0x([0-9A-Fa-f]+)", m.group()):
            d.blocks.append(HeapBlock(line=lineno, addr=int(addr, 16), used=True, size=None,
                                      owner=0, corrupted=True, dye_ok=False))
        d.end_line = lineno
        return Feed.DONE

    def close(self, reason: str | None) -> list[Record]:
        d, self._dump = self._dump, None
        if d is None:
            return []
        if reason is not None and d.end_line == d.line:   # cut before the address line
            d.partial, d.partial_reason = True, reason
        d.index = self._counter.take()
        return [d]


# --------------------------------------------------------------------------------------------
# One-line records: leak candidates, allocator warnings, krhino_heap_prt (§1.5, §2.1, §3.1)

_LEAK = lazy(
    r"(?:\[\s*\d+\s*\]:\s*)?adress:\s*0x(?P<addr>[0-9A-Fa-f]+)\s+owner:\s*0x(?P<owner>[0-9A-Fa-f]+)"
    r"\s+len:\s*(?P<len>\d+)\s+type:\s*leak", re.IGNORECASE)


class LeakReader:
    """``dump_mmleak`` lines: used blocks no pointer refers to (user pointers)."""

    name = "mm_leak"

    def read(self, text: str, lineno: int, ts: float | None) -> Record | None:
        if "adress" not in text:
            return None
        m = _LEAK.search(text)
        if m is None:
            return None
        return LeakCandidate(line=lineno, addr=int(m["addr"], 16), owner=int(m["owner"], 16),
                             size=int(m["len"]), ts=ts)


_WARNINGS: tuple[tuple[re.Pattern[str], WarningKind], ...] = (
    (lazy(r"WARNING,\s*malloc failed!*(?:\s*need size\s*:\s*(?P<need>\d+)\s*,"
          r"\s*but free size\s*:\s*(?P<free>\d+))?", re.IGNORECASE), "malloc_failed"),
    (lazy(r"WARNING,\s*realloc failed!*(?:\s*newsize\s*:\s*(?P<need>\d+))?",
          re.IGNORECASE), "realloc_failed"),
    (lazy(r"WARNING,\s*malloc size\s*=\s*0", re.IGNORECASE), "malloc_size_zero"),
    (lazy(r"WARNING[,!]+\s*memory maybe double free!*", re.IGNORECASE), "double_free"),
    (lazy(r"WARNING,\s*memory maybe corrupt!*", re.IGNORECASE), "corrupt"),
    (lazy(r"WARNING,\s*nnext memory overwritten!*", re.IGNORECASE), "nnext_overwritten"),
    (lazy(r"WARNING,\s*memory overwritten!*", re.IGNORECASE), "overwritten"),
)


class WarningReader:
    """Allocator warnings printed just before a heap dump / fatal error."""

    name = "alloc_warning"

    def read(self, text: str, lineno: int, ts: float | None) -> Record | None:
        if "WARNING" not in text.upper():
            return None
        for pattern, kind in _WARNINGS:
            m = pattern.search(text)
            if m is None:
                continue
            groups = m.groupdict()
            need = groups.get("need")
            free = groups.get("free")
            addrs = tuple(int(a, 16) for a in re.findall(r"0x([0-9A-Fa-f]+)", text[m.end():]))
            return AllocWarning(line=lineno, kind=kind, need=int(need) if need else None,
                                free=int(free) if free else None, addrs=addrs,
                                text=text.strip(), ts=ts)
        return None


_HEAP_PRT = lazy(
    r"free\s*=\s*0x([0-9A-Fa-f]+)\s*\|\s*used\s*=\s*0x([0-9A-Fa-f]+)\s*\|"
    r"\s*max used\s*=\s*0x([0-9A-Fa-f]+)", re.IGNORECASE)


class HeapPrintReader:
    """``krhino_heap_prt()``: ``free = 0x… | used = 0x… | max used = 0x…`` on one line."""

    name = "heap_prt"

    def read(self, text: str, lineno: int, ts: float | None) -> Record | None:
        if "max used" not in text:
            return None
        m = _HEAP_PRT.search(text)
        if m is None:
            return None
        free, used, maxused = (int(g, 16) for g in m.groups())
        return HeapOverview(line=lineno, variant="heap_prt", total=free + used, free=free,
                            used=used, min_free=free + used - maxused, ts=ts)


# --------------------------------------------------------------------------------------------
# Factories used by memsleuth.parse.registry (fresh, stateful instances per parse)


def section_readers() -> list[BlockDumpReader | ErrorBlocksReader | OverviewReader]:
    """Block dumps before overviews: a dump's own sub-tables must not open a new overview."""
    counter = DumpCounter()
    return [BlockDumpReader(counter), ErrorBlocksReader(counter), OverviewReader()]


def line_readers() -> list[WarningReader | LeakReader | HeapPrintReader]:
    return [WarningReader(), LeakReader(), HeapPrintReader()]
