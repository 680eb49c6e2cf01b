"""Census: the live heap blocks of one snapshot, aggregated per call site.

This is what the original AliOS `core_dump.py` printed, done right: unknown owners get their
own row, corrupted blocks are not dropped, kernel-object constructors are named by the object
they build ("timer"), and multi-frame traces are attributed to the first frame outside the
allocator and its wrappers.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Container
from dataclasses import dataclass, field
from typing import Any, Literal

from memsleuth.analysis.block_tally import Pair, tally
from memsleuth.analysis.block_trust import (
    neighbours,
    overview_used,
    trusted_split,
    used_disagreement,
)
from memsleuth.records import BlockDump, HeapBlock
from memsleuth.results.census import (
    BlockInfo,
    Census,
    CensusRow,
    CensusSnapshot,
    CensusTotals,
    CorruptedBlock,
    ObjectKindCount,
    WrapperCount,
)
from memsleuth.results.common import InlineFrame
from memsleuth.symbols.location import Location

#: Allocator entry points and libc/RTOS wrappers: a frame inside one of these is never the
#: "who" of an allocation. Globs over function names.
DEFAULT_SKIP_FNS: tuple[str, ...] = (
    "malloc", "calloc", "realloc", "zalloc", "free", "strdup", "strndup",
    "_malloc_r", "_calloc_r", "_realloc_r", "__wrap_*", "__real_*",
    "aos_malloc", "aos_zalloc", "aos_calloc", "aos_realloc", "aos_alloc_trace",
    "krhino_mm_alloc", "krhino_mm_realloc", "k_mm_alloc", "k_mm_realloc", "krhino_owner_*",
    "yunos_mm_alloc", "pvPortMalloc", "pvPortCalloc", "os_malloc", "os_zalloc",
    "ms_malloc", "ms_calloc", "ms_realloc", "ms_zalloc", "ms_alloc*", "ms_heap_alloc*",
    "backtrace_now_get", "*_backtrace*",
    "_strdup_r", "_strndup_r", "_free_r", "__libc_malloc", "__libc_calloc",   # libc internals
    "heap_caps_malloc*", "heap_caps_calloc*", "heap_caps_realloc*", "heap_caps_aligned_*",
    "multi_heap_malloc*", "multi_heap_aligned_alloc*", "tlsf_malloc", "tlsf_memalign*",  # ESP-IDF
    "k_malloc", "k_calloc", "k_realloc", "k_aligned_alloc", "k_heap_alloc", "k_heap_aligned_alloc",
    "sys_heap_alloc", "sys_heap_aligned_alloc", "sys_heap_realloc", "z_thread_malloc",  # Zephyr
    "kmm_malloc", "kmm_zalloc", "kmm_calloc", "kmm_realloc", "kmm_memalign",
    "mm_malloc", "mm_zalloc", "mm_calloc", "mm_realloc", "mm_memalign",  # NuttX
    "vPortMalloc", "pvPortMallocStack",
    "trace_malloc", "esp_heap_trace_*", "z_thread_*alloc", "kmm_*alloc",
    "memalign", "aligned_alloc", "posix_memalign", "sched_backtrace", "up_backtrace",
)

#: Kernel-object constructors (function glob -> object kind). Their blocks are the objects.
DEFAULT_OBJECT_CTORS: dict[str, str] = {
    "krhino_timer_dyn_create": "timer", "aos_timer_new*": "timer", "aos_timer_create": "timer",
    "xTimerCreate*": "timer", "os_timer_create": "timer",
    "krhino_sem_dyn_create": "sem", "aos_sem_new": "sem", "aos_sem_create": "sem",
    "xSemaphoreCreate*": "sem", "xQueueCreateCountingSemaphore*": "sem",
    "krhino_mutex_dyn_create": "mutex", "aos_mutex_new": "mutex", "aos_mutex_create": "mutex",
    "xQueueCreateMutex*": "mutex",
    "krhino_queue_dyn_create": "queue", "aos_queue_new": "queue", "aos_queue_create": "queue",
    "xQueueGenericCreate*": "queue", "xQueueCreate*": "queue",
    "krhino_buf_queue_dyn_create": "buf_queue",
    "krhino_event_dyn_create": "event", "aos_event_new": "event",
    "krhino_task_dyn_create": "task", "krhino_utask_create": "task", "aos_task_new*": "task",
    "aos_task_create": "task", "xTaskCreate*": "task",
    "krhino_workqueue_create": "workqueue", "aos_workqueue_create": "workqueue",
}

#: Block-dump variants that list live allocations only, never the free blocks.
USED_ONLY_VARIANTS = frozenset({"heap_trace", "nuttx_memdump"})

#: Where an RTOS points a new task's first return address (fake frames that mean "bottom of
#: the task's stack"): an unwinder that walks into one has reached the end of the stack, and
#: the name must not read as a caller.
STACK_END_FNS: tuple[str, ...] = (
    "prvTaskExitError", "xPortPendSVHandler", "vPortSVCHandler", "prvPortStartFirstTask",
    "vPortTaskWrapper",                                       # FreeRTOS, ESP-IDF
    "z_thread_entry", "z_thread_entry_wrapper", "arch_new_thread",  # Zephyr
    "krhino_task_deathbed", "task_exit",                      # AliOS rhino
    "_tx_thread_shell_entry",                                 # Eclipse ThreadX
    "nxtask_start", "pthread_start", "nxtask_exit",           # NuttX
)

#: Names of functions that allocate on behalf of their caller (constructors, ``*_new``,
#: ``*_create``, ``*_alloc``, pool/buffer helpers): with several distinct callers in the
#: traces, such a function is a wrapper and its blocks are blamed one frame up.
WRAPPER_NAME = re.compile(
    r"(?i)(create|_new|new_|^new|alloc|_init|init_|make|pool|buf|clone|dup|_get$|take)")
#: Words of a constructor's name that are not the object kind (``vnd_timer_create`` ->
#: "timer"; ``xTimerCreate`` -> "timer").
_CTOR_NOISE = frozenset({
    "create", "new", "alloc", "init", "make", "dyn", "static", "os", "osal", "hal", "rtos",
    "port", "wrap", "real", "get", "x", "k", "do", "sys", "api", "obj", "object", "generic",
    "ex", "with", "from", "safe", "internal", "impl", "priv", "p", "pv", "the",
})
_TOKEN = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
#: The usual short and long spellings of a kind, in the words of the object trace (the
#: agent's [MSOBJ] kinds and DEFAULT_OBJECT_CTORS): a vendor's `vsdk_tmr_create` builds the
#: same "timer" the trace counts, so census and objects must name it alike.
_KIND_ALIASES = {
    "tmr": "timer", "timers": "timer", "sema": "sem", "semaphore": "sem", "semphr": "sem",
    "mtx": "mutex", "mux": "mutex", "msgq": "queue", "thread": "task",
    "thrd": "task", "evt": "event", "wq": "workqueue",
}


_GLOB_TESTS: dict[tuple[str, ...], Any] = {}


def _plain_glob(glob: str) -> bool:
    """A glob without wildcards matches its own text only."""
    return "*" not in glob and "?" not in glob and "[" not in glob


def _glob_test(globs: tuple[str, ...]) -> Any:
    """``name -> any(fnmatch.fnmatchcase(name, g) for g in globs)``, built once per list.

    Most globs are plain names (a set lookup); the others share one regex. Compiling the
    ~100 default globs one by one, as fnmatch does, cost more than the rest of a small census.
    """
    test = _GLOB_TESTS.get(globs)
    if test is None:
        names = frozenset(g for g in globs if _plain_glob(g))
        wild = [fnmatch.translate(g) for g in globs if g not in names]
        match = re.compile("|".join(wild)).match if wild else None

        def test(name: str) -> bool:
            return name in names or (match is not None and match(name) is not None)

        if len(_GLOB_TESTS) < 64:
            _GLOB_TESTS[globs] = test
    return test


def kind_from_name(name: str) -> str | None:
    """The object a constructor builds, read off its name, when it says (else None)."""
    if not re.search(r"(?i)(create|new|init)", name):
        return None
    tokens = [t.lower() for t in _TOKEN.findall(name.strip("_"))]
    words = [t for t in tokens if t not in _CTOR_NOISE and not t.isdigit() and len(t) > 1]
    return _KIND_ALIASES.get(words[-1], words[-1]) if words else None


GroupBy = Literal["site", "function", "file"]
SortKey = Literal["bytes", "count", "size", "addr"]


@dataclass(frozen=True, slots=True)
class Site:
    """Where an allocation is blamed: one call site, with what we know of it."""

    key: str                        # grouping key (stable, JSON-friendly)
    address: int                    # the logged address that was resolved (owner or trace entry)
    function: str | None
    file: str | None
    line: int | None
    inlined: tuple[InlineFrame, ...] = ()  # inline chain, innermost first (when > 1 frame)
    object_kind: str | None = None
    allocator: str | None = None    # function holding the owner when blame moved up a trace
    chain: tuple[str, ...] = ()     # the whole trace, one "function (file:line)" per frame

    @property
    def label(self) -> str:
        """``inner (file:line)``, then each outer inline level with its own location."""
        where = f"{_short(self.file)}:{self.line}" if self.file and self.line else None
        name = self.function or f"0x{self.address:x}"
        text = f"{name} ({where})" if where else name
        return text + inline_suffix(self.inlined)


def inline_suffix(inlined: tuple[InlineFrame, ...]) -> str:
    """`` inlined into outer (file:line)`` for every level past the innermost one."""
    out = ""
    for f in inlined[1:]:
        where = f" ({_short(f.file)}:{f.line})" if f.file and f.line else ""
        out += f" inlined into {f.function or '??'}{where}"
    return out


def _frame_text(loc: Location | None, addr: int) -> str:
    if loc is None or not loc.resolved:
        return f"0x{addr:x}"
    frame = loc.frames[0] if loc.frames else None
    where = f" ({_short(frame.file)}:{frame.line})" if frame and frame.file and frame.line else ""
    return f"{loc.function}{where}"


def _short(path: str | None) -> str | None:
    return path.rsplit("/", 1)[-1] if path else path


class Attributor:
    """Turns owner addresses (and traces) into Sites; caches per address.

    Works without a symbolizer: sites are then raw addresses.
    """

    def __init__(
        self,
        symbolizer: Any | None,
        skip_fns: tuple[str, ...] | list[str] = (),
        object_ctors: dict[str, str] | None = None,
    ) -> None:
        self.symbolizer = symbolizer
        self.skip_fns = tuple(DEFAULT_SKIP_FNS) + tuple(skip_fns)
        self.object_ctors = dict(DEFAULT_OBJECT_CTORS if object_ctors is None else object_ctors)
        self._locations: dict[int, Location] = {}
        self._sites: dict[tuple[int, tuple[int, ...]], Site] = {}
        #: wrappers learned from the traces (function -> object kind or None), see ``learn``
        self.auto_wrappers: dict[str, str | None] = {}
        #: False: the raw owner view (no skipping, no learning), ``--no-skip``
        self.skipping = True
        #: every logged owner (a return address) asked about: what the ELF check looks at
        self.seen: set[int] = set()
        #: trace entries asked about: call sites on AliOS 3.x, return addresses from the
        #: agent; the ELF check takes either (``elf_match(traces=...)``)
        self.traces_seen: set[int] = set()
        self._glob_memo: dict[int, tuple[tuple[str, ...], dict[str, bool]]] = {}
        self._kind_memo: dict[str, str | None] = {}
        self._kind_memo_of: tuple[int, int] = (0, 0)
        #: sets of (owner, trace) pairs already observed, and the rules they were learned
        #: under (``observe``): a soak test's dumps repeat a few such sets thousands of times
        self._observed: set[frozenset[Pair]] = set()
        self._quiet: set[tuple[frozenset[Pair], int, int, int, int]] = set()

    def prepare(self, addresses: set[int], traces: set[int] | frozenset[int] = frozenset()
                ) -> None:
        """Symbolize every address in one batch (the fast path)."""
        self.seen.update(a for a in addresses if a and a not in traces)
        self.traces_seen.update(a for a in traces if a)
        addresses = addresses | traces
        wanted = {a for a in addresses if a and a not in self._locations}
        if self.symbolizer is not None and wanted:
            self._locations.update(self.symbolizer.symbolize(sorted(wanted), kind="return"))

    def location(self, addr: int) -> Location | None:
        if addr == 0 or self.symbolizer is None:
            return None
        if addr not in self._locations:
            self.prepare({addr})
        return self._locations.get(addr)

    def _matches(self, name: str | None, globs: tuple[str, ...]) -> bool:
        # Memoised per (glob list, name): learn() asks the same few names thousands of times.
        if not name:
            return False
        held = self._glob_memo.get(id(globs))
        if held is None or held[0] is not globs:
            held = self._glob_memo[id(globs)] = (globs, {})
        memo = held[1]
        hit = memo.get(name)
        if hit is None:
            hit = memo[name] = _glob_test(globs)(name)
        return hit

    def object_kind_of(self, name: str | None) -> str | None:
        if not name:
            return None
        ctors = self.object_ctors
        if self._kind_memo_of != (id(ctors), len(ctors)):     # reassigned or edited
            self._kind_memo.clear()
            self._kind_memo_of = (id(ctors), len(ctors))
        if name in self._kind_memo:
            return self._kind_memo[name]
        kind = next((k for glob, k in ctors.items()       # a plain name needs no regex
                     if (name == glob if _plain_glob(glob) else fnmatch.fnmatchcase(name, glob))),
                    None)
        self._kind_memo[name] = kind
        return kind

    def _functions(self, loc: Location | None) -> list[str]:
        if loc is None:
            return []
        names = [f.function for f in loc.frames if f.function]
        if loc.symbol and loc.symbol not in names:
            names.append(loc.symbol)
        return names

    def observe(self, pairs: dict[Pair, object] | list[Pair]) -> None:
        """``prepare`` and ``learn`` for the live blocks of one dump, given as their distinct
        (owner, trace) pairs in order of first appearance.

        Both depend on the set of pairs only (and learning on the rules learned so far), so
        a set seen before is not walked again: a pass whose learning found nothing new
        stays so while the rules do not change."""
        key = frozenset(pairs)
        if key not in self._observed:
            self.prepare({o for o, _ in key}, {a for _, t in key for a in t})
            if len(self._observed) >= 4096:
                self._observed.clear()
            self._observed.add(key)
        if not self.skipping:
            return
        state = (key, len(self.auto_wrappers), id(self.skip_fns), id(self.object_ctors),
                 len(self.object_ctors))
        if state in self._quiet:
            return
        if not self._learn([p for p in pairs if p[1]]):
            if len(self._quiet) >= 4096:
                self._quiet.clear()
            self._quiet.add(state)

    def learn(self, blocks: list[HeapBlock]) -> list[str]:
        """Find the wrappers in these blocks' traces; returns the newly learned names.

        A function is a wrapper when the blocks blamed on it come from at least two distinct
        callers (the rest of the trace after it differs) and its name says it allocates on
        behalf of others (``WRAPPER_NAME``). Learned wrappers move the blame one frame up,
        as the built-in constructors do; repeated so an OS-abstraction layer over a vendor
        constructor is learned too (the first frame that tells callers apart wins).
        """
        # each distinct (owner, trace) once: the answer is a set of distinct rests
        return self._learn(list(dict.fromkeys((b.owner, b.trace) for b in blocks if b.trace)))

    def _learn(self, traced: list[Pair]) -> list[str]:
        if not traced or not self.skipping:
            return []
        learned: list[str] = []
        for _ in range(4):
            rests: dict[str, set[tuple[str, ...]]] = {}
            for owner, trace in traced:
                frames = self._to_stack_end(self._frames(owner, trace))
                pos = self._blame_position(frames)
                if pos is None or pos + 1 >= len(frames):
                    continue
                names = self._functions(self.location(frames[pos]))
                if not names:
                    continue
                rest = tuple((self._functions(self.location(a)) or [f"0x{a:x}"])[-1]
                             for a in frames[pos + 1:])
                rests.setdefault(names[-1], set()).add(rest)
            new = [fn for fn, r in rests.items()
                   if len(r) >= 2 and WRAPPER_NAME.search(fn) and fn not in self.auto_wrappers]
            if not new:
                break
            for fn in new:
                self.auto_wrappers[fn] = self.object_kind_of(fn) or kind_from_name(fn)
            learned += new
            self._sites.clear()
        return learned

    @staticmethod
    def _frames(owner: int, trace: tuple[int, ...]) -> list[int]:
        frames = [owner] if owner else []
        for addr in trace:
            if addr and (not frames or addr != frames[-1]):
                frames.append(addr)
        return frames

    def _to_stack_end(self, frames: list[int]) -> list[int]:
        """The frames up to (not including) a task-entry trampoline (``STACK_END_FNS``)."""
        for position, addr in enumerate(frames[1:], 1):
            if any(self._matches(n, STACK_END_FNS) for n in self._functions(self.location(addr))):
                return frames[:position]
        return frames

    def _blame_position(self, frames: list[int]) -> int | None:
        """Index of the frame the current rules blame (None when every frame is skipped)."""
        for position, addr in enumerate(frames):
            names = self._functions(self.location(addr))
            if any(self._matches(n, self.skip_fns) for n in names):
                continue
            if (any(self.object_kind_of(n) or n in self.auto_wrappers for n in names)
                    and position + 1 < len(frames)):
                continue
            return position
        return None

    def site(self, owner: int, trace: tuple[int, ...] = ()) -> Site:
        """The site to blame for a block with this owner and trace."""
        cache_key = (owner, trace)
        cached = self._sites.get(cache_key)
        if cached is not None:
            return cached
        site = self._build_site(owner, trace)
        self._sites[cache_key] = site
        return site

    def _build_site(self, owner: int, trace: tuple[int, ...]) -> Site:
        frames = self._to_stack_end(self._frames(owner, trace))
        if not self.skipping:
            frames = frames[:1]
        if not frames:
            return Site(key="unknown", address=0, function=None, file=None, line=None)
        kind: str | None = None
        blamed: int | None = None
        allocator: str | None = None
        for position, addr in enumerate(frames):
            names = self._functions(self.location(addr))
            if any(self._matches(n, self.skip_fns) for n in names):
                allocator = allocator or (names[-1] if names else None)
                continue
            kinds = [k for k in map(self.object_kind_of, names) if k]
            ctor_kind = kinds[0] if kinds else None
            wrapper = next((n for n in names if n in self.auto_wrappers), None)
            if wrapper is not None and not ctor_kind:
                kind = kind or self.auto_wrappers[wrapper]
                allocator = wrapper
                if position + 1 < len(frames):
                    continue        # a learned wrapper: blame its caller
            if ctor_kind:
                kind = kind or ctor_kind
                allocator = names[-1]
                if position + 1 < len(frames):
                    continue        # blame moves up the trace to who created the object
            blamed = addr
            break
        if blamed is None:          # every frame was an allocator: blame the last one
            blamed = frames[-1]
        loc = self.location(blamed)
        chain = tuple(_frame_text(self.location(a), a) for a in frames) if len(frames) > 1 else ()
        if loc is None or not loc.resolved:
            return Site(
                key=f"0x{blamed:x}", address=blamed, function=None, file=None, line=None,
                object_kind=kind, allocator=allocator, chain=chain,
            )
        first = loc.frames[0] if loc.frames else None
        inlined = tuple(
            InlineFrame(function=f.function, file=f.file, line=f.line) for f in loc.frames
        ) if len(loc.frames) > 1 else ()
        function = loc.function   # the innermost frame: the code at this address
        allocator = allocator if allocator not in (function, loc.outer_function) else None
        return Site(
            # keyed by the whole inline chain: one inline helper called from two lines of
            # one function is two sites
            key=f"0x{loc.lookup:x}" if first is None else loc.chain_key,
            address=blamed,
            function=function,
            file=first.file if first else None,
            line=first.line if first else None,
            inlined=inlined,
            object_kind=kind,
            allocator=allocator,
            chain=chain,
        )


@dataclass(slots=True)
class Row:
    key: str
    site: Site
    blocks: int = 0
    bytes: int = 0
    min_size: int | None = None
    max_size: int | None = None
    owners: dict[int, int] = field(default_factory=dict)   # raw owner -> blocks
    sample: list[int] = field(default_factory=list)

    def add(self, block: HeapBlock) -> None:
        size = block.size or 0
        self.blocks += 1
        self.bytes += size
        self.min_size = size if self.min_size is None else min(self.min_size, size)
        self.max_size = size if self.max_size is None else max(self.max_size, size)
        self.owners[block.owner] = self.owners.get(block.owner, 0) + 1
        if len(self.sample) < 4:
            self.sample.append(block.addr)


def _group_key(site: Site, by: GroupBy) -> str:
    """Rows never mix kernel objects with plain buffers blamed on the same place."""
    if by == "function":
        key = site.function or site.key
    elif by == "file":
        key = site.file or site.key
    else:
        key = site.key
    return f"{site.object_kind}:{key}" if site.object_kind else key


def census(
    dump: BlockDump,
    attributor: Attributor,
    *,
    by: GroupBy = "site",
    sort: SortKey = "bytes",
    top: int | None = None,
) -> Census:
    """Aggregate the live blocks of ``dump`` per call site (rows cut to ``top``).

    Blocks whose header is corrupt or whose size is impossible (``block_trust``) are in no
    figure: they are listed in ``corrupted`` with the reason.
    """
    split = trusted_split(dump)
    used = _live_blocks(dump, attributor, split)
    rows: dict[str, Row] = {}
    for block in used:
        site = attributor.site(block.owner, block.trace)
        key = _group_key(site, by)
        row = rows.get(key)
        if row is None:
            row = rows[key] = Row(key=key, site=site)
        row.add(block)
    used_bytes = sum(b.size or 0 for b in used)
    ordered = sorted(rows.values(), key=_sort_key(sort))
    # some 1.x dumps list free blocks only in their free-list section (real B1a output)
    free, bad = split[1], split[2]
    return Census(
        snapshot=CensusSnapshot(
            index=dump.index, line=dump.line, end_line=dump.end_line,
            variant=dump.variant, partial=dump.partial,
            partial_reason=dump.partial_reason, skipped_lines=dump.skipped_lines,
            untracked=dump.untracked, untracked_reason=dump.untracked_reason,
            untrusted_reason=used_disagreement(dump, used_bytes),
        ),
        totals=CensusTotals(
            used_blocks=len(used), used_bytes=used_bytes,
            free_blocks=len(free), free_bytes=sum(b.size or 0 for b in free),
            largest_free=max((b.size or 0 for b in free), default=0),
            # dumps of live allocations only (a heap trace, a 'used' memdump) say nothing
            # about free memory: 0 free blocks there is not an empty free list
            free_listed=bool(free) or not (dump.live_only
                                           or dump.variant in USED_ONLY_VARIANTS),
            sites=len(rows),
            untrusted_blocks=len(bad),
            printed_used_bytes=used_bytes + sum(
                dump.blocks[i].size or 0 for i in bad
                if dump.blocks[i].used and not dump.blocks[i].sentinel),
            overview_used=overview_used(dump),
        ),
        by=by,
        sort=sort,
        rows_total=len(ordered),
        rows=tuple(_row(r, used_bytes) for r in (ordered[:top] if top else ordered)),
        corrupted=corrupted_blocks(dump, attributor, bad),
        objects=object_summary(rows.values()),
        wrappers=wrapper_summary(rows.values(), attributor),
    )


def _live_blocks(dump: BlockDump, attributor: Attributor,
                 split: tuple[list[HeapBlock], Any, Any] | None = None) -> list[HeapBlock]:
    """The live, real, trusted blocks of a dump (``block_trust.trusted_split``, or ``split``
    when the caller has it), their addresses symbolized and wrappers learned."""
    used = (split or trusted_split(dump))[0]
    attributor.observe(tally(dump).pairs)     # (the same blocks, by (owner, trace))
    return used


def site_sizes(dump: BlockDump, attributor: Attributor, known: Container[str] = ()
               ) -> tuple[int, dict[str, tuple[int, int, int]], dict[str, tuple[Site, int]]]:
    """The census rows' figures as a series of censuses keeps them (``diff.SiteSeries``,
    one per dump of a soak test): blocks, bytes and the largest block per site.

    Why not ``census``: the rows' labels, shares, samples and the object/wrapper summaries
    cost more than that. Blocks of one (owner, trace) share a site, so each pair is
    attributed once, in first-seen order as ``census`` does; the attributor sees the same
    calls (corrupted blocks' neighbours included).

    Returns (used bytes, {key: (blocks, bytes, max size)} in census row order, {key: (site,
    raw owner)} for the keys not in ``known``): a soak test's thousands of dumps repeat the
    same sites, whose site and owner the series takes from the first dump that has them."""
    t = tally(dump)
    pairs = t.pairs
    attributor.observe(pairs)
    site_of = attributor.site
    rows: dict[str, list[Any]] = {}
    for pair, sizes in pairs.items():
        site = site_of(*pair)
        key = _group_key(site, "site")
        row = rows.get(key)
        big = max(sizes)
        if row is None:
            rows[key] = [len(sizes), sum(sizes), big, site,
                         None if key in known else [pair]]
        else:
            row[0] += len(sizes)
            row[1] += sum(sizes)
            if big > row[2]:
                row[2] = big
            if row[4] is not None:
                row[4].append(pair)
    if t.bad:
        corrupted_blocks(dump, attributor, t.bad)  # the attributor sees what census shows
    ordered = sorted(rows.items(), key=lambda kv: (-kv[1][1], -kv[1][0], kv[0]))
    new: dict[str, tuple[Site, int]] = {}
    for key, row in ordered:
        if row[4] is not None:
            owners: dict[int, int] = {}
            for pair in row[4]:
                owners[pair[0]] = owners.get(pair[0], 0) + len(pairs[pair])
            new[key] = (row[3], max(sorted(owners), key=owners.__getitem__))
    return t.used_bytes, {key: (row[0], row[1], row[2]) for key, row in ordered}, new


def wrapper_summary(rows: Any, attributor: Attributor) -> tuple[WrapperCount, ...]:
    """The owner view above the split: per learned wrapper, its blocks and how many caller
    rows they were split into (``Attributor.learn``)."""
    out: dict[str, list[Row]] = {}
    for row in rows:
        fn = row.site.allocator
        if fn is not None and fn in attributor.auto_wrappers:
            out.setdefault(fn, []).append(row)
    counts = (WrapperCount(function=fn, kind=attributor.auto_wrappers[fn],
                           blocks=sum(r.blocks for r in group),
                           bytes=sum(r.bytes for r in group), callers=len(group))
              for fn, group in out.items())
    return tuple(sorted(counts, key=lambda e: -e.bytes))


def object_summary(rows: Any) -> tuple[ObjectKindCount, ...]:
    """Live kernel objects per kind, read off the constructor-owned blocks ("982 timers")."""
    kinds: dict[str, list[Row]] = {}
    for row in rows:
        if row.site.object_kind:
            kinds.setdefault(row.site.object_kind, []).append(row)
    counts = (ObjectKindCount(
        kind=kind, blocks=sum(r.blocks for r in group), bytes=sum(r.bytes for r in group),
        sites=len(group),
        constructors=tuple(sorted({r.site.allocator for r in group if r.site.allocator})))
        for kind, group in kinds.items())
    return tuple(sorted(counts, key=lambda e: (-e.blocks, e.kind)))


def live_owners(dump: BlockDump) -> set[int]:
    """Owner addresses of the live, real, trusted blocks (not the sentinel, whose owner is a
    magic; not a corrupt header's, which is whatever overwrote it)."""
    return {b.owner for b in trusted_split(dump)[0] if b.owner}


def _sort_key(sort: SortKey):  # noqa: ANN202 - a key function
    if sort == "count":
        return lambda r: (-r.blocks, -r.bytes, r.key)
    if sort == "size":
        return lambda r: (-(r.max_size or 0), -r.bytes, r.key)
    if sort == "addr":
        return lambda r: (r.site.address, r.key)
    return lambda r: (-r.bytes, -r.blocks, r.key)


def _row(row: Row, used_bytes: int) -> CensusRow:
    site = row.site
    return CensusRow(
        key=row.key,
        # the raw owner printed by the device (the one most of the row's blocks have); the
        # address the blame moved to (past wrappers, along the trace) is ``site_address``
        owner=max(sorted(row.owners), key=row.owners.__getitem__) if row.owners else 0,
        owners=tuple(sorted(row.owners)),
        site_address=site.address,
        function=site.function,
        file=site.file,
        line=site.line,
        inlined=site.inlined,
        label=site.label,
        object_kind=site.object_kind,
        allocator=site.allocator,
        chain=site.chain,
        blocks=row.blocks,
        bytes=row.bytes,
        share=(row.bytes / used_bytes) if used_bytes else 0.0,
        min_size=row.min_size,
        max_size=row.max_size,
        sample_blocks=tuple(row.sample),
    )


def corrupted_blocks(dump: BlockDump, attributor: Attributor,
                     bad: dict[int, str] | None = None) -> tuple[CorruptedBlock, ...]:
    """Blocks left out of the figures (``block_trust.untrusted``: a bad header, an impossible
    size), each with the reason, its physical neighbours and the room it really has."""
    out: list[CorruptedBlock] = []
    blocks = dump.blocks
    if bad is None:
        bad = trusted_split(dump)[2]
    room = neighbours(dump, bad) if bad else {}
    for i in sorted(bad):
        span, overrun = room[i]
        out.append(CorruptedBlock(
            block=_block_info(blocks[i], attributor, trusted=False),
            previous=_block_info(blocks[i - 1], attributor, trusted=i - 1 not in bad)
            if i > 0 else None,
            next=_block_info(blocks[i + 1], attributor, trusted=i + 1 not in bad)
            if i + 1 < len(blocks) else None,
            reason=bad[i],  # type: ignore[arg-type]
            span=span,
            overrun_by_previous=overrun,
        ))
    return tuple(out)


def _block_info(block: HeapBlock, attributor: Attributor, trusted: bool = True) -> BlockInfo:
    # a corrupt header's owner is whatever overwrote it: never symbolized nor blamed
    site = attributor.site(block.owner, block.trace) if block.owner and trusted else None
    return BlockInfo(
        line=block.line, addr=block.addr, used=block.used, size=block.size,
        sentinel=block.sentinel, dye=block.dye, corrupted=block.corrupted,
        owner=block.owner, site=site.label if site else None, trusted=trusted,
    )
