"""Inline address decoding for the live terminal: ``0x0800a3c5 [wifi_connect wifi_drv.c:88]``.

Why batched and cached: esp-idf-monitor spent seconds per line starting an addr2line process
per address (esp-idf-monitor#45). Here one symbolizer is opened once; every address is looked
up at most once per kind (a per-address cache), and all new addresses of a chunk of lines go
to the symbolizer in one call. Only addresses inside the ELF's code ranges are decoded, so
heap pointers and register values are left alone.

Why the kind matters: a malloc owner, a trace entry, LR or a stacked word is a *return*
address (look up the call before it), a ``backtrace :`` entry is already a call site, a PC is
exact (symbolization.md). The line's shape tells which.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

Kind = Literal["return", "pc", "callsite"]

_ADDR = re.compile(r"0[xX]([0-9a-fA-F]{1,16})\b")
_BACKTRACE = re.compile(r"backtrace\s*:|Backtrace:", re.IGNORECASE)
#: A register dump line: ``PC      0x0800A3D2`` / ``A0       0x40081234`` / ``ra: 0x...``.
_REG_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]{0,9})\s*[:=]?\s*0[xX][0-9a-fA-F]+\s*$")
_PC_REGS = frozenset({"PC", "MEPC", "EPC", "ELR", "pc", "mepc", "epc"})
_RET_REGS = frozenset({"LR", "RA", "A0", "X1", "lr", "ra"})
_BLOCK_ROW = re.compile(r"0[xX]+[0-9a-fA-F]+\s+!?(?:used|free)\b")
_RETURN_HINT = re.compile(r"\[MSOBJ\]|owner\s*:|caller\b", re.IGNORECASE)
_STACK_ROW = re.compile(r"stack\(0x|^\s*\(0x[0-9a-fA-F]+\):|^\s*[0-9a-fA-F]{8}:\s")
#: Rows of the task table end in ``0x00000800(0x000005F0)``: sizes, not code.
_TASK_ROW = re.compile(r"\(0[xX][0-9a-fA-F]+\)\s*$")
#: Queue / buf-queue / sem table rows: an object address then counts, all k_int2str hex.
_TABLE_ROW = re.compile(r"^\s*0[xX][0-9a-fA-F]{8}\s+0[xX][0-9a-fA-F]{8}\s")
#: Return addresses kept for the ELF-match check.
RETURN_SAMPLE = 256
#: Cap the cache so a day-long session on a noisy port cannot grow without bound.
CACHE_LIMIT = 200_000


def line_kind(text: str) -> Kind | Literal["stack"] | None:
    """How the code addresses of this line were obtained; None: its numbers are not code.

    Why so careful: on a Cortex-M whose flash starts at 0 (QEMU mps2), heap sizes, counts and
    register values fall inside the code range too; decoding them would print plausible
    nonsense (``UsedSz 0x00000960 [ms_vprintf ...]``). So numbers in tables (``|`` rows, task
    and object tables) and registers other than PC/LR are left alone, stack words are
    decoded only when they look like return addresses, and other lines are decoded as exact
    addresses, like idf.py monitor does.
    """
    if _BACKTRACE.search(text):
        return "callsite"
    reg = _REG_LINE.match(text)
    if reg:
        name = reg.group(1)
        return "pc" if name in _PC_REGS else "return" if name in _RET_REGS else None
    if _BLOCK_ROW.search(text) or _RETURN_HINT.search(text):
        return "return"
    if _STACK_ROW.search(text):
        return "stack"
    if "|" in text or _TASK_ROW.search(text) or _TABLE_ROW.match(text):
        return None
    return "pc"


def is_free_form(text: str) -> bool:
    """A line whose numbers are in no known address column (``line_kind``'s last resort):
    a token there is decoded only when written at the full width of the ELF's code
    addresses (``freelist bitmap: 0x807`` is a number, ``0x0800a3c5`` an address)."""
    return not (_BACKTRACE.search(text) or _REG_LINE.match(text) or _BLOCK_ROW.search(text)
                or _RETURN_HINT.search(text) or _STACK_ROW.search(text))


_BLOCK_HEAD = re.compile(r"^\s*0[xX]+[0-9a-fA-F]+\s+!?(?:used|free)\b")
_CALLER_BEFORE = re.compile(r"(?:caller|owner)\s*:?\s*$|(?:<-|\()\s*$|OK\s+$|[0-9a-f]{8}\s+$")


def _is_logged_return(text: str, pos: int) -> bool:
    """Is the address at ``pos`` a logged owner/caller/trace entry (not a block or handle)?"""
    if _REG_LINE.match(text):
        return True
    if _BLOCK_HEAD.match(text):
        return pos > 0 and _CALLER_BEFORE.search(text, max(0, pos - 12), pos) is not None
    return _CALLER_BEFORE.search(text, max(0, pos - 12), pos) is not None


def _short(path: str | None) -> str | None:
    if not path:
        return None
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def format_location(loc: Any) -> str | None:
    """``func file:line`` (innermost frame first, then what it is inlined into)."""
    frames = getattr(loc, "frames", ()) or ()
    parts: list[str] = []
    for i, frame in enumerate(frames):
        name = frame.function or "??"
        where = _short(frame.file)
        text = f"{name} {where}:{frame.line}" if where and frame.line else name
        parts.append(text if i == 0 else f"inlined into {text}")
    if parts:
        return ", ".join(parts)
    symbol = getattr(loc, "symbol", None)
    if symbol:
        offset = getattr(loc, "offset", 0) or 0
        return f"{symbol}+0x{offset:x}" if offset else symbol
    return None


def open_decoder_symbolizer(elf: Path | None) -> Any:
    """One symbolizer for the whole session, opened once.

    Raises what ``memsleuth.symbols`` raises (SymbolError, OSError, ValueError); the CLI
    turns those into its one-line errors (the live layer does not import the CLI layer).
    """
    if elf is None:
        return None
    from memsleuth.symbols import Symbolizer

    return Symbolizer.open(elf)


class AddressDecoder:
    """Annotate code addresses in lines, with one symbolizer and a per-address cache."""

    def __init__(self, symbolizer: Any | None) -> None:
        self.symbolizer = symbolizer
        ranges: Sequence[tuple[int, int]] = ()
        if symbolizer is not None:
            try:
                ranges = list(symbolizer.text_ranges)
            except Exception:  # noqa: BLE001 - no ranges: decode nothing rather than crash
                ranges = []
        self.thumb = bool(getattr(symbolizer, "thumb", False))
        self._starts = [a for a, _ in ranges]
        self._ends = [b for _, b in ranges]
        #: hex digits of the ELF's highest code address: a free-form token needs as many
        self.width = len(f"{max(self._ends) - 1:x}") if self._ends else 1
        self._cache: dict[tuple[str, int], str | None] = {}
        self.lookups = 0          # addresses sent to the symbolizer
        self.decoded = 0          # annotations written
        self.errors = 0           # symbolizer failures (never fatal)
        #: distinct logged return addresses (owners, callers), in range or not: ELF check
        self.return_seen: set[int] = set()

    @property
    def enabled(self) -> bool:
        return self.symbolizer is not None and bool(self._starts)

    def in_code(self, addr: int, kind: Kind) -> bool:
        probe = (addr & ~1) - 1 if kind == "return" else addr & ~1
        i = bisect_right(self._starts, probe) - 1
        return i >= 0 and probe < self._ends[i]

    def _resolve(self, wanted: dict[str, set[int]]) -> None:
        for kind, addrs in wanted.items():
            if not addrs:
                continue
            self.lookups += len(addrs)
            try:
                found = self.symbolizer.symbolize(sorted(addrs), kind=kind)
            except Exception:  # noqa: BLE001 - decoding errors never stop the monitor
                self.errors += 1
                found = {}
            for addr in addrs:
                loc = found.get(addr)
                try:
                    text = format_location(loc) if loc is not None else None
                except Exception:  # noqa: BLE001
                    text = None
                self._cache[(kind, addr)] = text

    def decode(self, texts: Sequence[str]) -> list[str]:
        """The lines with ``[function file:line]`` after every decodable code address."""
        if not self.enabled:
            return list(texts)
        if len(self._cache) > CACHE_LIMIT:
            self._cache.clear()
        plan: list[tuple[str, Kind, list[tuple[int, int, int]]] | None] = []
        wanted: dict[str, set[int]] = {}
        cache = self._cache
        for text in texts:
            if "0x" not in text and "0X" not in text:
                plan.append(None)
                continue
            kind: Kind | None = None
            classified = False
            stack = False
            free = False
            hits: list[tuple[int, int, int]] = []
            for m in _ADDR.finditer(text):
                addr = int(m.group(1), 16)
                if not addr:
                    continue
                if not classified:
                    classified = True
                    found = line_kind(text)
                    stack = found == "stack"
                    kind = "return" if stack else found  # type: ignore[assignment]
                    free = found == "pc" and is_free_form(text)
                if kind is None:
                    break
                if free and len(m.group(1)) < self.width:
                    continue   # a short number in prose, not a printed address
                if kind == "return" and not stack and len(self.return_seen) < RETURN_SAMPLE \
                        and _is_logged_return(text, m.start()):
                    self.return_seen.add(addr)
                if stack and self.thumb and not addr & 1:
                    continue  # a stacked return address on Thumb has bit 0 set
                if not self.in_code(addr, kind):
                    continue
                hits.append((m.start(), m.end(), addr))
                if (kind, addr) not in cache:
                    wanted.setdefault(kind, set()).add(addr)
            plan.append((text, kind, hits) if hits and kind is not None else None)
        if wanted:
            self._resolve(wanted)
        out: list[str] = []
        for text, item in zip(texts, plan, strict=False):
            if item is None:
                out.append(text)
                continue
            _, kind, hits = item
            pieces: list[str] = []
            last = 0
            for _start, end, addr in hits:
                note = cache.get((kind, addr))
                if note is None:
                    continue
                pieces.append(text[last:end])
                pieces.append(f" [{note}]")
                self.decoded += 1
                last = end
            pieces.append(text[last:])
            out.append("".join(pieces))
        return out
