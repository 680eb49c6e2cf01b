"""Explain a crash dump: cause, call stack, crashed task, stack health, heap context.

Input: a :class:`CrashDump` (plus, optionally, the last block dump before it and the allocator
warnings), and a symbolizer or None. Output: plain JSON-able data; rendering is elsewhere.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Sequence
from typing import Any

from memsleuth.analysis import fault_decode as fd
from memsleuth.analysis.block_trust import header_bad, trusted_split, untrusted
from memsleuth.records import (
    AllocWarning,
    BacktraceEntry,
    BlockDump,
    CrashDump,
    HeapBlock,
)
from memsleuth.results import crash as rc
from memsleuth.results.common import InlineFrame
from memsleuth.results.crash import CrashExplanation
from memsleuth.symbols.arch import xtensa_return_address, xtensa_window_increment

#: Block header size (bytes) before the payload, per dump variant (32-bit targets).
HEADER_SIZE = {"B1": 16, "B2": 16, "B3": 16, "error_blocks": 16, "BY": 0, "mmlk": 0,
               "agent": 0, "heap_trace": 0, "nuttx_memdump": 0, "sys_heap": 0}

#: A task whose minimum free stack is below this many bytes is reported as (near) overflow.
STACK_CRITICAL = 64
#: ... and below this fraction of its stack size as "low headroom".
STACK_LOW_FRACTION = 0.10

ARM_REGS = [f"R{i}" for i in range(13)] + ["LR"]

#: An SP this far below a task's stack base is that task overflowing (guard regions, red zones).
GUARD_SLACK = 1024

#: Allocator warnings that say memory ran out (an out-of-memory crash rests on them).
FAILED_KINDS = ("malloc_failed", "realloc_failed")
#: Frames of a crash that make its signature.
SIGNATURE_FRAMES = 5


# ------------------------------------------------------------------------------------------
# Architecture


def crash_arch(crash: CrashDump) -> str:
    """Which register family the dump printed."""
    if crash.arch is not None:        # the printer's format told (ESP-IDF, Zephyr, NuttX)
        return crash.arch
    regs = crash.registers
    if crash.exception_type is not None or "CPSR" in regs or crash.fault_registers:
        return "armv7-a"
    if "EXCCAUSE" in regs or "A1" in regs:
        return "xtensa"
    if "MCAUSE" in regs or "MEPC" in regs or "X1" in regs:
        return "riscv"
    if regs.keys() & {"xPSR", "EXC_RET", "EXC_NUM", "CFSR", "PRIMASK"}:
        return "cortex-m"
    if "PC" in regs:
        return "arm"
    return "unknown"


def _pc(crash: CrashDump, arch: str) -> int | None:
    regs = crash.registers
    if arch == "riscv":
        return regs.get("MEPC")
    return regs.get("PC")


def _lr(crash: CrashDump, arch: str) -> int | None:
    regs = crash.registers
    if arch == "riscv":
        return regs.get("X1", regs.get("RA"))
    if arch == "xtensa":
        a0 = regs.get("A0")
        # windowed ABI: the top two bits of A0 hold the window increment, not address bits
        if a0 is None or not xtensa_window_increment(a0):
            return a0
        return xtensa_return_address(a0, regs.get("PC", 0x40000000))
    lr = regs.get("LR")
    if lr is not None and arch == "cortex-m" and fd.is_exc_return(lr):
        return None
    return lr


def _sp(crash: CrashDump, arch: str) -> tuple[int | None, str]:
    regs = crash.registers
    if arch == "xtensa":
        return regs.get("A1"), "A1"
    if arch == "riscv":
        return regs.get("X2", regs.get("SP")), "X2"
    if arch == "cortex-m" and "SP" not in regs:
        er = regs.get("EXC_RET")
        if er is not None and fd.is_exc_return(er):
            name = "PSP" if er & 4 else "MSP"
            return regs.get(name), name
    if "SP" not in regs and crash.stack:
        return crash.stack[0].addr, "stack dump"  # fatal errors dump from the current SP
    return regs.get("SP"), "SP"


def decode_fault(crash: CrashDump, arch: str) -> dict[str, Any]:
    """The architecture's fault decoding, or a stub when the dump has no fault registers."""
    if arch == "cortex-m":
        return fd.decode_cortex_m(crash.registers)
    if arch == "armv7-a":
        return fd.decode_armv7a(crash.exception_type, crash.registers, crash.fault_registers)
    if arch == "xtensa":
        return fd.decode_xtensa(crash.registers)
    if arch == "riscv":
        return fd.decode_riscv(crash.registers)
    return {"arch": arch, "bits": [], "fault_address": None, "fault_address_source": None,
            "category": "unknown", "summary": "no fault registers in the dump"}


# ------------------------------------------------------------------------------------------
# Symbolization


class _Sym:
    """Guards every symbolizer call: a missing or failing symbolizer yields raw addresses."""

    def __init__(self, symbolizer: Any) -> None:
        self.s = symbolizer
        self.errors: list[str] = []
        self._ranges: list[tuple[int, int]] | None = None

    def lookup(self, addrs: Iterable[int], kind: str) -> dict[int, Any]:
        addrs = [a for a in addrs if a is not None]
        if self.s is None or not addrs:
            return {}
        try:
            return dict(self.s.symbolize(addrs, kind=kind))
        except Exception as exc:  # noqa: BLE001 - never let symbolization kill the report
            self.errors.append(f"symbolizer failed: {exc}")
            return {}

    def text_ranges(self) -> list[tuple[int, int]]:
        if self._ranges is None:
            self._ranges = []
            try:
                for r in getattr(self.s, "text_ranges", None) or []:
                    if isinstance(r, tuple | list) and len(r) >= 2:
                        self._ranges.append((int(r[0]), int(r[1])))
                    elif hasattr(r, "start") and hasattr(r, "end"):
                        self._ranges.append((int(r.start), int(r.end)))
            except Exception as exc:  # noqa: BLE001
                self.errors.append(f"symbolizer text ranges unavailable: {exc}")
        return self._ranges

    def in_text(self, addr: int) -> bool:
        a = addr & ~1
        return any(lo <= a < hi for lo, hi in self.text_ranges())


def location_dict(addr: int, kind: str, loc: Any) -> dict[str, Any]:
    """A Location as plain data: the innermost frame's function and file:line (the code at
    the address), and the whole inline chain, innermost first, each level with its own
    location (``inlined[1:]`` are the functions it was inlined into)."""
    out: dict[str, Any] = {"address": addr, "kind": kind, "function": None, "file": None,
                           "line": None, "symbol": None, "offset": None, "inlined": []}
    if loc is None:
        return out
    frames = list(getattr(loc, "frames", ()) or ())
    out["symbol"] = getattr(loc, "symbol", None)
    out["offset"] = getattr(loc, "offset", None)
    if frames:
        inner = frames[0]
        out["function"] = inner.function or getattr(loc, "symbol", None)
        out["file"], out["line"] = _norm(inner.file), inner.line
        out["inlined"] = [{"function": f.function, "file": _norm(f.file), "line": f.line}
                          for f in frames]
    else:
        out["function"] = out["symbol"]
    out["after_call"] = getattr(loc, "after_call", None)
    return out


def _norm(path: str | None) -> str | None:
    """'././src/a.c' -> 'src/a.c' (DWARF comp_dir '.' joined with a relative name)."""
    if not path:
        return path
    return posixpath.normpath(path)


def _where(d: dict[str, Any]) -> str | None:
    if d.get("file") and d.get("line"):
        return f"{d['file']}:{d['line']}"
    return None


# ------------------------------------------------------------------------------------------
# Call stack


def build_call_stack(crash: CrashDump, arch: str, sym: _Sym) -> dict[str, Any]:
    """Frames from the device backtrace, else PC/LR plus a heuristic stack scan."""
    pc, lr = _pc(crash, arch), _lr(crash, arch)
    addrs = [b for b in crash.backtrace if b.addr is not None and b.marker is None]
    markers = [b.marker for b in crash.backtrace if b.marker]
    frames: list[dict[str, Any]] = []
    source = "none"
    if addrs:
        source = "device"
        first = addrs[0].addr
        # The first entry is the PC when the printer gives call sites (AliOS, ESP-IDF);
        # lists of return addresses (Zephyr 'ra:', NuttX 'backtrace|') stay returns.
        kinds = [("pc" if b.kind != "return" else "return") if i == 0 else b.kind
                 for i, b in enumerate(addrs)]
        if pc is not None and arch == "xtensa" and first == pc - 3:
            addrs[0] = BacktraceEntry(addrs[0].line, pc, sp=addrs[0].sp, kind="pc")
            first = pc   # ESP-IDF v4+ prints the exception PC minus 3, like a call site
        by_kind: dict[str, list[int]] = {}
        for b, kind in zip(addrs, kinds, strict=False):
            by_kind.setdefault(kind, []).append(b.addr)  # type: ignore[arg-type]
        locs = {kind: sym.lookup(group, kind) for kind, group in by_kind.items()}
        for b, kind in zip(addrs, kinds, strict=False):
            assert b.addr is not None
            d = location_dict(b.addr, kind, locs[kind].get(b.addr))
            d["source"] = "backtrace"
            d["log_line"] = b.line
            if b.sp is not None:
                d["sp"] = b.sp
            frames.append(d)
        if pc is not None and first != pc and (first & ~1) != (pc & ~1):
            d = location_dict(pc, "pc", sym.lookup([pc], "pc").get(pc))
            d["source"] = "pc"
            frames.insert(0, d)
    if len(addrs) <= 1:
        # no usable device backtrace: registers, then return addresses found on the stack
        if not frames and pc is not None:
            d = location_dict(pc, "pc", sym.lookup([pc], "pc").get(pc))
            d["source"] = "pc"
            frames.append(d)
            source = "registers"
        if lr is not None and not (arch in ("cortex-m", "arm") and fd.is_exc_return(lr)):
            d = location_dict(lr, "return", sym.lookup([lr], "return").get(lr))
            d["source"] = "lr"
            frames.append(d)
            source = "registers" if source == "none" else source
        heur = heuristic_frames(crash, arch, sym, skip={lr} if lr is not None else set())
        if heur:
            frames.extend(heur)
            source = "heuristic" if source in ("none", "registers") else source + "+heuristic"
    end = markers[-1] if markers else None
    return {"frames": frames, "source": source, "end": end,
            "invalid_pc": [b.addr for b in crash.backtrace if b.marker == "invalid pc"]}


def heuristic_frames(crash: CrashDump, arch: str, sym: _Sym, skip: set[int],
                     limit: int = 16) -> list[dict[str, Any]]:
    """Stack words that look like return addresses: in .text, preceded by a call insn."""
    if sym.s is None or not crash.stack:
        return []
    sp, _ = _sp(crash, arch)
    cands: list[int] = []
    for row in crash.stack:
        for i, w in enumerate(row.words):
            if sp is not None and row.addr + 4 * i < sp:
                continue
            if arch in ("cortex-m", "arm") and not w & 1:
                continue  # Thumb return addresses have bit 0 set
            if w in skip or not sym.in_text(w):
                continue
            cands.append(w)
    if not cands:
        return []
    locs = sym.lookup(sorted(set(cands)), "return")
    out: list[dict[str, Any]] = []
    last: int | None = None
    for w in cands:
        loc = locs.get(w)
        if loc is None or getattr(loc, "after_call", None) is False:
            continue
        if w == last:
            continue
        last = w
        d = location_dict(w, "return", loc)
        d["source"] = "heuristic"
        out.append(d)
        if len(out) >= limit:
            break
    return out


#: Causes where the PC is the bad jump target itself, not code: blame the caller.
BAD_TARGET = {"invalid_state", "bad_function_pointer", "prefetch_abort"}


#: Functions that report an assertion or abort: the frame to blame is their caller.
REPORTING_FNS = ("_assert", "__assert", "__assert_func", "__assert_fail", "assert_failed",
                 "up_assert", "abort", "esp_system_abort", "panic_abort", "sched_dumpstack",
                 "sched_backtrace", "up_backtrace", "backtrace")


def choose_faulting(frames: list[dict[str, Any]], category: str, fault: dict[str, Any]
                    ) -> tuple[dict[str, Any] | None, str | None]:
    """The frame to blame: the PC, unless the PC is a bad target or was never stacked, or
    sits in the code that reports an assertion or abort (then its caller)."""
    if not frames:
        return None, None
    first = frames[0]
    if category in ("assertion", "abort") and first.get("function") in REPORTING_FNS:
        for i, f in enumerate(frames[1:], 1):
            if f.get("function") and f["function"] not in REPORTING_FNS:
                return f, (f"the PC is in {first['function']}, which reports the "
                           f"{category}: blaming its caller {f['function']} (frame #{i})")
    bits = set(fault.get("bit_names", ()))
    bad_target = (category in BAD_TARGET or bits & {"IACCVIOL", "IBUSERR"}
                  or first["address"] == 0)
    if not bad_target:
        return first, None
    for f in frames[1:]:
        if f.get("address") and (f.get("function") or f.get("symbol")):
            if first["address"] == 0:
                why = ("PC 0 (the exception frame was not stacked): blaming the newest "
                       f"frame found on the stack, {f.get('function')}")
            else:
                why = (f"PC 0x{first['address']:08X} is the bad jump target, not code: "
                       f"blaming its caller {f.get('function')}")
            return f, why
    return first, None


# ------------------------------------------------------------------------------------------
# Task context and stack health


def crashed_context(crash: CrashDump, arch: str, fault: dict[str, Any]) -> dict[str, Any]:
    """The crashed task (SP inside its stack), or 'in interrupt'."""
    sp, sp_name = _sp(crash, arch)
    ctx: dict[str, Any] = {"sp": sp, "sp_register": sp_name, "in_interrupt": False,
                           "task": None, "how": None, "sp_outside_stack": False}
    er = fault.get("exc_return")
    markers = {b.marker for b in crash.backtrace}
    if "interrupt" in markers:
        ctx["in_interrupt"], ctx["how"] = True, "backtrace ended in ^interrupt^"
    elif er is not None and not er["thread_mode"]:
        ctx["in_interrupt"], ctx["how"] = True, "EXC_RETURN says the fault was in handler mode"
    if sp is not None:
        for t in crash.tasks:
            if t.stack_base is None or t.stack_size is None:
                continue
            if t.stack_base <= sp < t.stack_base + t.stack_size:
                ctx["task"] = t.name
                if not ctx["in_interrupt"]:
                    ctx["how"] = f"{sp_name} 0x{sp:08X} is inside its stack"
                break
    if ctx["task"] is None and sp is not None:
        for t in crash.tasks:
            if t.stack_base is None or t.stack_size is None:
                continue
            if t.stack_base - GUARD_SLACK <= sp < t.stack_base:
                ctx["task"] = t.name
                ctx["sp_outside_stack"] = True
                ctx["how"] = (f"{sp_name} 0x{sp:08X} is {t.stack_base - sp} bytes below the "
                              f"bottom of its stack")
                break
    if ctx["task"] is None and not ctx["in_interrupt"]:
        if crash.current_task:
            ctx["task"] = crash.current_task
            ctx["how"] = "the dump's 'current task' line"
        if sp is not None and crash.tasks and crash.current_task:
            for t in crash.tasks:
                if t.name == crash.current_task and t.stack_base is not None:
                    ctx["sp_outside_stack"] = True
        if ctx["task"] is None and er is not None and er["stack"] == "MSP":
            ctx["how"] = "thread mode on MSP: before the scheduler started / main stack"
    if crash.current_task and ctx["task"] and crash.current_task != ctx["task"]:
        ctx["current_task_line"] = crash.current_task
    return ctx


def stack_health(crash: CrashDump, ctx: dict[str, Any]) -> tuple[list[dict[str, Any]],
                                                                  list[str]]:
    """Per-task high-water marks and overflow warnings."""
    rows: list[dict[str, Any]] = []
    warnings: list[str] = []
    sp = ctx.get("sp")
    for t in crash.tasks:
        r: dict[str, Any] = {"name": t.name, "state": t.state, "prio": t.prio,
                             "stack_base": t.stack_base, "stack_size": t.stack_size,
                             "min_free": t.min_free, "peak_used": None, "status": "ok",
                             "crashed": t.name == ctx.get("task")}
        if t.stack_size and t.min_free is not None:
            r["peak_used"] = t.stack_size - t.min_free
            if t.min_free < STACK_CRITICAL:
                r["status"] = "overflow" if t.min_free == 0 else "critical"
                warnings.append(f"task {t.name}: only {t.min_free} bytes of its {t.stack_size}-byte"
                                f" stack were ever free: stack overflow "
                                f"{'happened' if t.min_free == 0 else 'likely'}")
            elif t.min_free < STACK_LOW_FRACTION * t.stack_size:
                r["status"] = "low"
                warnings.append(f"task {t.name}: low stack headroom ({t.min_free} of "
                                f"{t.stack_size} bytes free at worst)")
        rows.append(r)
    if ctx.get("sp_outside_stack") and sp is not None:
        t = next((t for t in crash.tasks if t.name == ctx.get("task")), None)
        if t and t.stack_base is not None and t.stack_size is not None:
            rel = ("below its base by " + str(t.stack_base - sp) + " bytes") if sp < t.stack_base \
                else "above its top"
            warnings.append(f"SP 0x{sp:08X} is outside the stack of {t.name} "
                            f"[0x{t.stack_base:08X}, 0x{t.stack_base + t.stack_size:08X}): "
                            f"{rel} (stack overflow)")
    if crash.stack_overflow_task:
        warnings.append(f"the kernel reported a stack overflow of task "
                        f"{crash.stack_overflow_task}")
    return rows, warnings


# ------------------------------------------------------------------------------------------
# Heap context


def _block_dict(b: HeapBlock, hdr: int, sym: _Sym, owners: dict[int, Any],
                bad: frozenset[int] = frozenset()) -> dict[str, Any]:
    # corrupted: the header cannot be believed (bad dye, impossible size): its size and
    # owner are shown as printed, never symbolized (``owners`` holds trusted owners only)
    d: dict[str, Any] = {"addr": b.addr, "payload": b.addr + hdr, "size": b.size, "used": b.used,
                         "owner": b.owner, "corrupted": id(b) in bad or header_bad(b),
                         "line": b.line}
    if b.owner and b.owner in owners:
        loc = location_dict(b.owner, "return", owners[b.owner])
        d["owner_function"], d["owner_where"] = loc["function"], _where(loc)
    return d


def heap_context(crash: CrashDump, heap_dump: BlockDump | None, fault_addr: int | None,
                 sym: _Sym) -> dict[str, Any] | None:
    """Map the fault address / pointer registers onto the block dump."""
    blocks: list[HeapBlock]
    variant: str
    if heap_dump is not None and heap_dump.blocks:
        blocks, variant, src = heap_dump.blocks, heap_dump.variant, f"block dump at line " \
            f"{heap_dump.line}"
    elif crash.error_blocks:
        blocks, variant, src = crash.error_blocks, "error_blocks", "the dump's error blocks"
    else:
        return None
    hdr = HEADER_SIZE.get(variant, 16)
    # blocks whose size and owner are garbage (block_trust): their extent is the room up to
    # the next block, their owner is not looked up
    bad = frozenset(id(heap_dump.blocks[i]) for i in untrusted(heap_dump)) \
        if heap_dump is not None and blocks is heap_dump.blocks else \
        frozenset(id(b) for b in blocks if header_bad(b))
    blocks = sorted((b for b in blocks if not b.sentinel or b.size is None), key=lambda b: b.addr)
    owners = sym.lookup({b.owner for b in blocks if b.owner and id(b) not in bad}, "return")
    sizes = [b.size or 0 for b in blocks]
    if bad:
        starts = sorted({b.addr for b in blocks} | {
            b.addr for b in (heap_dump.free_list if heap_dump is not None else ())})
        for i, b in enumerate(blocks):
            if id(b) in bad:
                after = [a for a in starts if a > b.addr][:1]
                sizes[i] = max(0, after[0] - b.addr - hdr) if after else 0

    def find(addr: int) -> tuple[int, str] | None:
        for i, b in enumerate(blocks):
            size = sizes[i]
            if b.addr <= addr < b.addr + hdr:
                return i, "header"
            if b.addr + hdr <= addr < b.addr + hdr + size:
                return i, "payload"
        return None

    candidates: list[tuple[str, int]] = []
    if fault_addr is not None:
        candidates.append(("fault address", fault_addr))
    for r in ARM_REGS + [f"A{i}" for i in range(16)] + [f"X{i}" for i in range(1, 32)]:
        v = crash.registers.get(r)
        if v is not None:
            candidates.append((r, v))
    lo = blocks[0].addr if blocks else 0
    hi = max((b.addr + hdr + n for b, n in zip(blocks, sizes, strict=True)), default=0)
    hits: list[dict[str, Any]] = []
    for what, addr in candidates:
        if not lo <= addr < hi + 64:
            continue
        f = find(addr)
        if f is None:
            continue
        i, part = f
        b = blocks[i]
        hit: dict[str, Any] = {"via": what, "address": addr, "part": part,
                               "block": _block_dict(b, hdr, sym, owners, bad),
                               "offset": addr - (b.addr + hdr)}
        if i > 0:
            hit["prev"] = _block_dict(blocks[i - 1], hdr, sym, owners, bad)
        if i + 1 < len(blocks):
            hit["next"] = _block_dict(blocks[i + 1], hdr, sym, owners, bad)
        if part == "header" and i > 0 and blocks[i - 1].used:
            p = blocks[i - 1]
            hit["diagnosis"] = "overflow"
            hit["text"] = (f"{what} 0x{addr:08X} is in the header of block 0x{b.addr:08X}, right "
                           f"after the used block 0x{p.addr:08X} ({p.size} bytes): overflow past "
                           f"the end of that block into the next one")
            hit["culprit"] = hit["prev"]
        elif part == "payload" and not b.used:
            hit["diagnosis"] = "use_after_free"
            hit["text"] = (f"{what} 0x{addr:08X} points into the free block 0x{b.addr:08X} "
                           f"(+{hit['offset']}): use after free")
        elif id(b) in bad and i > 0 and blocks[i - 1].used and id(blocks[i - 1]) not in bad:
            # a damaged header right after an intact used block: that block ran past its end
            p = blocks[i - 1]
            owner = hit["prev"].get("owner_function") or f"0x{p.owner:X}"
            if hit["prev"].get("owner_where"):
                owner += f" ({hit['prev']['owner_where']})"
            hit["diagnosis"] = "overflow"
            hit["text"] = (f"{what} 0x{addr:08X} is in block 0x{b.addr:08X} whose header was "
                           f"overwritten: overflow into the next block from the used block "
                           f"0x{p.addr:08X} ({p.size} bytes, allocated by {owner})")
            hit["culprit"] = hit["prev"]
        elif id(b) in bad:
            hit["diagnosis"] = "corrupted_block"
            hit["text"] = f"{what} 0x{addr:08X} is in block 0x{b.addr:08X} whose header is corrupt"
        else:
            hit["diagnosis"] = "in_block"
            hit["text"] = (f"{what} 0x{addr:08X} is inside the used block 0x{b.addr:08X} "
                           f"(+{hit['offset']} of {b.size} bytes)")
        hits.append(hit)
        if what == "fault address":
            break
    corrupted = [_block_dict(b, hdr, sym, owners, bad) for b in blocks if id(b) in bad]
    return {"source": src, "variant": variant, "header_size": hdr, "hits": hits,
            "corrupted_blocks": corrupted}


def poison_findings(crash: CrashDump, fault_addr: int | None) -> list[dict[str, Any]]:
    """Dye / fill patterns in registers or the fault address: what memory was being used."""
    out = []
    seen: set[tuple[str, int]] = set()
    items = [("fault address", fault_addr)] if fault_addr is not None else []
    items += [(k, v) for k, v in crash.registers.items()
              if k not in ("xPSR", "EXC_RET", "CPSR", "PS", "CFSR", "HFSR", "AFSR", "BFAR",
                           "MMFAR", "EXCVADDR", "MTVAL", "MBADADDR")]
    for name, v in items:
        p = fd.poison_of(v)
        if p is None:
            continue
        pat, text, cat = p
        if (name, pat) in seen:
            continue
        seen.add((name, pat))
        out.append({"register": name, "value": v, "pattern": pat, "text": text,
                    "category": cat})
    return out


def top_owners(heap_dump: BlockDump | None, sym: _Sym, n: int = 5) -> list[dict[str, Any]]:
    """Live blocks by owner, biggest total first (what filled the heap)."""
    if heap_dump is None:
        return []
    acc: dict[int, list[int]] = {}
    for b in trusted_split(heap_dump)[0]:       # a corrupt header's size is garbage
        if b.size:
            a = acc.setdefault(b.owner, [0, 0])
            a[0] += 1
            a[1] += b.size
    ranked = sorted(acc.items(), key=lambda kv: -kv[1][1])[:n]
    locs = sym.lookup([o for o, _ in ranked if o], "return")
    out = []
    for owner, (count, total) in ranked:
        d = location_dict(owner, "return", locs.get(owner))
        out.append({"owner": owner, "count": count, "total": total, "function": d["function"],
                    "where": _where(d)})
    return out


# ------------------------------------------------------------------------------------------
# The entry point


def explain_crash(crash: CrashDump, symbolizer: Any | None, heap_dump: BlockDump | None = None,
                  warnings: Sequence[AllocWarning] = (), failed_total: int | None = None
                  ) -> CrashExplanation:
    """Explain one crash dump (a frozen :class:`CrashExplanation`; the steps build plain
    dicts, frozen into the result types at the end).

    ``warnings`` are the allocator warnings printed before the crash (for out-of-memory),
    ``heap_dump`` the last block dump before it. ``failed_total``: how many 'malloc failed'
    warnings there were when ``warnings`` holds only some of them (``CrashCollector`` keeps
    the first FIRST_KEPT and the newest). Output keys:

    - ``line``, ``end_line``, ``kind`` (exception|fatal_error|stopped|fiq), ``arch``
      (cortex-m|armv7-a|xtensa|riscv|arm|unknown), ``partial``, ``partial_reason``,
      ``crash_time``, ``current_task``, ``reentered``, ``sections``
    - ``cause``: ``{category, summary, details: [str], fault_address, fault_address_source,
      null_offset}`` — category is e.g. null_pointer, bus_fault, invalid_state,
      undefined_instruction, divide_by_zero, stack_overflow, use_after_free, heap_overflow,
      out_of_memory, heap_corruption, fatal_error, stopped, unknown
    - ``fault``: the architecture decoding (``bits`` [{register,name,text}], ``exc_name``,
      ``exc_return`` {stack, fpu_frame, thread_mode}, ``dfsr``/``ifsr``, ``exccause``,
      ``mcause``, ...)
    - ``errno``: {value, name, text, category} or None; ``file``, ``file_line``
    - ``registers``: name -> value as printed
    - ``faulting``: the first frame {address, function, file, line, inlined, ...} or None;
      ``faulting_function``, ``faulting_where`` ("file:line") shortcuts
    - ``call_stack``: {frames: [{address, kind (pc|return|callsite), source
      (backtrace|pc|lr|heuristic), function, file, line, symbol, inlined: [...]}],
      source (device|registers|heuristic|none|device+heuristic), end (task entry|interrupt|
      fail|invalid pc|None), invalid_pc: [addr]}
    - ``context``: {task, in_interrupt, how, sp, sp_register, sp_outside_stack}
    - ``tasks``: [{name, state, prio, stack_base, stack_size, min_free, peak_used, status
      (ok|low|critical|overflow), crashed}]
    - ``stack_warnings``: [str]
    - ``heap``: {source, variant, header_size, hits: [{via, address, part, offset, block,
      prev, next, diagnosis, text}], corrupted_blocks} or None; ``poison``: [{register,
      value, pattern, text, category}]; ``oom``: {reason, top_owners: [...]} or None
    - ``heap_overview``: {total, free, used, min_free} or None
    - ``notes``: [str] (analysis caveats: symbolizer errors, re-entered handler, ...)
    """
    sym = _Sym(symbolizer)
    arch = crash_arch(crash)
    fault = decode_fault(crash, arch)
    notes: list[str] = []
    details: list[str] = [b["name"] + ": " + b["text"] for b in fault.get("bits", [])]
    fault_addr = fault.get("fault_address")
    category = fault.get("category", "unknown")
    summary = fault.get("summary", "")
    errno = fd.decode_errno(crash.errno) if crash.errno is not None else None

    printed = fd.decode_printed(crash.reason, crash.registers)
    if printed is not None and (category in ("unknown", "exception", "interrupt")
                                or crash.kind in ("abort", "assert")):
        # no fault register told the cause: the printer's own words do
        category, summary = printed["category"], printed["summary"]
        if fault_addr is None and printed["fault_address"] is not None:
            fault_addr = printed["fault_address"]
            fault["fault_address"] = fault_addr
            fault["fault_address_source"] = printed["fault_address_source"]
    if crash.kind == "assert" and category in ("unknown", "exception", "interrupt"):
        category = "assertion"
        words = "; ".join(crash.reason)
        summary = words if "assert" in words.lower() else f"assertion failed: {words}"
    if crash.kind in ("abort", "assert") and crash.file:
        summary += f" (at {crash.file}:{crash.file_line})"
    if crash.kind == "fatal_error":
        if errno is not None:
            category, summary = errno["category"], (
                f"fatal error {errno['value']} {errno['name']}: {errno['text']}")
        elif crash.stack_overflow_task:
            category = "stack_overflow"
            summary = f"fatal error: task {crash.stack_overflow_task} overflowed its stack"
        else:
            category, summary = "fatal_error", ("kernel fatal error (k_err_proc)"
                                                if crash.family == "alios" else
                                                "; ".join(crash.reason) or "fatal error")
        if crash.file:
            summary += f" (reported at {crash.file}:{crash.file_line})"
    elif crash.kind == "stopped" and not crash.registers.keys() - {"CORE"}:
        category, summary = "stopped", "stopped by the UART break sequence '$#@!'"
    elif crash.kind == "stopped":
        details.append("the dump was requested with the UART break sequence '$#@!' (NMI)")
        if arch == "armv7-a":
            category, summary = "stopped", "stopped by the UART break sequence '$#@!' " \
                f"(the exception vector says: {summary})"
    elif crash.kind == "fiq":
        details.append("this core was stopped (FIQ) because another core crashed")

    call_stack = build_call_stack(crash, arch, sym)
    ctx = crashed_context(crash, arch, fault)
    tasks, stack_warnings = stack_health(crash, ctx)
    for t in tasks:
        if t["crashed"] and t["status"] in ("overflow", "critical") and category in (
                "unknown", "bus_fault", "mpu_violation", "hard_fault"):
            details.append(f"the crashed task {t['name']} had almost no free stack")
    if ctx.get("sp_outside_stack") and category not in ("stack_overflow",):
        details.append("SP is outside the crashed task's stack: likely stack overflow")
        if category in ("unknown", "mpu_violation", "bus_fault", "corrupt_stack"):
            category = "stack_overflow"
            summary = "stack overflow: " + summary

    if fault_addr is not None and category not in ("stack_overflow",):
        for t in crash.tasks:
            if t.stack_base is not None and t.stack_base - GUARD_SLACK <= fault_addr \
                    < t.stack_base:
                details.append(f"the fault address is {t.stack_base - fault_addr} bytes below "
                               f"the stack of task {t.name}: it ran past its bottom")
                category = "stack_overflow"
                summary = f"stack overflow of task {t.name}: {summary}"
                break

    null_offset = None
    if fault_addr is not None and fault_addr < fd.NULL_PAGE:
        null_offset = fault_addr
    poison = poison_findings(crash, fault_addr)
    heap = heap_context(crash, heap_dump, fault_addr, sym)
    for p in poison:
        if p["register"] == "fault address":
            details.append(f"the fault address 0x{p['value']:08X} is {p['text']}: a pointer was "
                           "read from such memory")
            if p["category"] == "use_after_free" and category not in ("stack_overflow",):
                category = "use_after_free"
                summary = f"use after free: dereferenced a pointer read from freed memory " \
                    f"(0x{p['value']:08X}); {summary}"
        else:
            details.append(f"{p['register']} = 0x{p['value']:08X}: {p['text']}")
    if heap is not None:
        for h in heap["hits"]:
            details.append(h["text"])
            if h["via"] == "fault address" and h["diagnosis"] in ("use_after_free", "overflow"):
                category = "use_after_free" if h["diagnosis"] == "use_after_free" \
                    else "heap_overflow"
                summary = f"{h['text']}; {summary}"
        if not any(h["via"] == "fault address" for h in heap["hits"]):
            for h in heap["hits"]:
                if h["diagnosis"] in ("use_after_free", "overflow") and category in (
                        "bus_fault", "mpu_violation", "unknown", "bad_load", "bad_store",
                        "invalid_state", "undefined_instruction", "null_pointer",
                        "data_abort", "bad_function_pointer", "prefetch_abort"):
                    if h["diagnosis"] == "overflow":
                        category = "heap_overflow"
                        summary = (f"heap overflow: {h['text']}; the code crashed using that "
                                   f"block ({summary})")
                        break
                    category = "use_after_free"
                    summary = (f"use after free: {h['via']} 0x{h['address']:08X} points into "
                               f"the freed block 0x{h['block']['addr']:08X}, and the code "
                               f"crashed using it ({summary})")
                    break

    oom = None
    failed = [w for w in warnings if w.kind in FAILED_KINDS]
    n_failed = len(failed) if failed_total is None else max(failed_total, len(failed))
    if (errno is not None and errno["value"] == 105) or failed:
        reason = "errno 105 RHINO_NO_MEM" if errno is not None and errno["value"] == 105 else \
            f"'malloc failed' warned {n_failed} time(s) before the crash (last at line " \
            f"{failed[-1].line})"
        oom = {"reason": reason, "top_owners": top_owners(heap_dump, sym),
               "failed_sizes": [w.need for w in failed if w.need is not None],
               "failed_total": n_failed}
        if errno is not None and errno["value"] == 105:
            category = "out_of_memory"
        else:
            details.append("memory had run out before the crash: " + reason)
            if category in ("null_pointer",):
                category = "out_of_memory"
                summary = f"out of memory: {summary} (an unchecked malloc returned NULL?)"

    if crash.reentered:
        notes.append("a '......' line inside the dump: the crash handler prints it when it is "
                     "re-entered (a fault while printing), and people print it when they cut a "
                     "log; either way later sections may be incomplete")
    notes.extend(sym.errors)
    if symbolizer is None:
        notes.append("no ELF given: addresses are not symbolized")

    frames = call_stack["frames"]
    faulting, faulting_note = choose_faulting(frames, category, fault)
    if faulting_note:
        notes.append(faulting_note)
    ov = crash.heap
    return _freeze({
        "line": crash.line, "end_line": crash.end_line, "kind": crash.kind, "arch": arch,
        "family": crash.family, "reason": list(crash.reason),
        "partial": crash.partial, "partial_reason": crash.partial_reason,
        "crash_time": crash.crash_time, "current_task": crash.current_task,
        "reentered": crash.reentered, "sections": list(crash.sections),
        "cause": {"category": category, "summary": summary, "details": details,
                  "fault_address": fault_addr,
                  "fault_address_source": fault.get("fault_address_source"),
                  "null_offset": null_offset},
        "fault": fault, "errno": errno, "file": crash.file, "file_line": crash.file_line,
        "registers": dict(crash.registers), "fault_registers": dict(crash.fault_registers),
        "faulting": faulting, "faulting_note": faulting_note,
        "faulting_function": faulting["function"] if faulting else None,
        "faulting_where": _where(faulting) if faulting else None,
        "call_stack": call_stack, "context": ctx, "tasks": tasks,
        "stack_warnings": stack_warnings, "heap": heap, "poison": poison, "oom": oom,
        "heap_overview": None if ov is None else {
            "total": ov.total, "free": ov.free, "used": ov.used, "min_free": ov.min_free},
        "notes": notes,
    })


# ------------------------------------------------------------------------------------------
# The result tree: the dicts the steps above build, frozen into results.crash types


_FAULTS: dict[str, type[Any]] = {"cortex-m": rc.CortexMFault, "armv7-a": rc.ArmV7AFault,
                                 "xtensa": rc.XtensaFault, "riscv": rc.RiscvFault}


def _inline(frames: Iterable[dict[str, Any]]) -> tuple[InlineFrame, ...]:
    return tuple(InlineFrame(**f) for f in frames)


def _frame(d: dict[str, Any]) -> rc.CallFrame:
    return rc.CallFrame(**{"after_call": None, **d, "inlined": _inline(d["inlined"])})


def _block(d: dict[str, Any] | None) -> rc.CrashHeapBlock | None:
    return None if d is None else rc.CrashHeapBlock(**d)


def _fault(d: dict[str, Any]) -> rc.Fault:
    d = {**d, "bits": tuple(rc.FaultBit(**b) for b in d["bits"])}
    if "bit_names" in d:
        d["bit_names"] = tuple(d["bit_names"])
    if "exc_return" in d:
        d["exc_return"] = rc.ExcReturn(**d["exc_return"])
    for key in ("dfsr", "ifsr"):
        if key in d:
            d[key] = rc.FaultStatus(**d[key])
    if "exccause" in d:
        d["exccause"] = rc.ExcCause(**d["exccause"])
    if "mcause" in d:
        d["mcause"] = rc.MCause(**d["mcause"])
    return _FAULTS.get(d["arch"], rc.OtherFault)(**d)


def _heap(d: dict[str, Any] | None) -> rc.CrashHeap | None:
    if d is None:
        return None
    hits = tuple(rc.HeapHit(**{**h, "block": _block(h["block"]), "prev": _block(h.get("prev")),
                               "next": _block(h.get("next")),
                               "culprit": _block(h.get("culprit"))}) for h in d["hits"])
    return rc.CrashHeap(source=d["source"], variant=d["variant"], header_size=d["header_size"],
                        hits=hits,
                        corrupted_blocks=tuple(rc.CrashHeapBlock(**b)
                                               for b in d["corrupted_blocks"]))


def _freeze(d: dict[str, Any]) -> CrashExplanation:
    """The explanation as its frozen result type (every list a tuple)."""
    cs = d["call_stack"]
    oom = d["oom"]
    return CrashExplanation(**{
        **d,
        "reason": tuple(d["reason"]), "sections": tuple(d["sections"]),
        "cause": rc.Cause(**{**d["cause"], "details": tuple(d["cause"]["details"])}),
        "fault": _fault(d["fault"]),
        "errno": None if d["errno"] is None else rc.Errno(**d["errno"]),
        "faulting": None if d["faulting"] is None else _frame(d["faulting"]),
        "call_stack": rc.CallStack(frames=tuple(_frame(f) for f in cs["frames"]),
                                   source=cs["source"], end=cs["end"],
                                   invalid_pc=tuple(cs["invalid_pc"])),
        "context": rc.CrashContext(**d["context"]),
        "tasks": tuple(rc.TaskHealth(**t) for t in d["tasks"]),
        "stack_warnings": tuple(d["stack_warnings"]),
        "heap": _heap(d["heap"]),
        "poison": tuple(rc.Poison(**p) for p in d["poison"]),
        "oom": None if oom is None else rc.OutOfMemory(
            reason=oom["reason"], top_owners=tuple(rc.TopOwner(**o) for o in oom["top_owners"]),
            failed_sizes=tuple(oom["failed_sizes"]), failed_total=oom["failed_total"]),
        "heap_overview": (None if d["heap_overview"] is None
                          else rc.CrashHeapOverview(**d["heap_overview"])),
        "notes": tuple(d["notes"]),
    })


# ------------------------------------------------------------------------------------------
# Signatures: which crashes are the same bug


def crash_key(crash: CrashDump) -> tuple[Any, ...]:
    """What a crash dump says about where and how it failed, without data addresses: the
    PC, the device backtrace's first SIGNATURE_FRAMES addresses, the exception number or
    cause, errno, the file:line and words printed (hex numbers masked). Two crashes of one
    bug in one build print the same key; cheap enough for every crash of a reboot loop
    (``CrashCollector`` explains only the first of each key)."""
    regs = crash.registers
    pc = regs.get("PC", regs.get("MEPC"))
    frames = tuple(b.addr & ~1 for b in crash.backtrace
                   if b.addr is not None and b.marker is None)[:SIGNATURE_FRAMES]
    cause = tuple(regs.get(k) for k in ("EXC_NUM", "EXCCAUSE", "MCAUSE"))
    words = tuple(_HEX.sub("0x_", w) for w in crash.reason[:3])
    return (crash.family, crash.kind, crash.exception_type, None if pc is None else pc & ~1,
            frames, cause, crash.errno, crash.file, crash.file_line, crash.stack_overflow_task,
            words)


_HEX = re.compile(r"0x[0-9a-fA-F]+")


def signature_frames(result: CrashExplanation) -> tuple[list[str], bool]:
    """The first SIGNATURE_FRAMES frames as address-free text (function, or the inline
    chain; the address when not symbolized), and whether all of them were symbolized."""
    frames = result.call_stack.frames
    texts: list[str] = []
    for f in frames[:SIGNATURE_FRAMES]:
        if f.function:
            inl = [i.function or "?" for i in f.inlined]
            texts.append(" < ".join(inl) if len(inl) > 1 else f.function)
        else:
            texts.append(f"0x{f.address:x}")
    symbolized = bool(frames) and all(f.function for f in frames[:SIGNATURE_FRAMES])
    return texts, symbolized


def crash_signature(result: CrashExplanation) -> str:
    """A crash's signature as the fleet groups them: the cause's category and the
    address-free frames ("null_pointer: config_timeout | net_connect | app_task")."""
    texts, _ = signature_frames(result)
    return result.cause.category + ": " + (" | ".join(texts) if texts else "no frames")
