"""What the symbolizer answers: frames for one address. The contract with analyses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

#: How an address was obtained, which decides the adjustment before lookup:
#: - "return": a return address (malloc owner, LR, stacked return address, trace entry):
#:   look up (addr & ~1) - 1 on Thumb, addr - 1 elsewhere, so the *call* line is found;
#: - "pc": an exact PC (faulting PC): addr & ~1, no -1;
#: - "callsite": already a call site (AliOS `backtrace :` lines print LR-4/LR-2/RA-3): as is
#:   (Thumb bit masked).
AddrKind = Literal["return", "pc", "callsite"]


@dataclass(frozen=True, slots=True)
class Frame:
    """One source frame; a chain of them describes inlining (innermost first, like addr2line -i)."""

    function: str | None
    file: str | None
    line: int | None
    column: int | None = None


@dataclass(frozen=True, slots=True)
class Location:
    """Everything known about one queried address."""

    address: int                     # as logged
    lookup: int                      # after the per-arch adjustment
    frames: tuple[Frame, ...] = ()   # innermost first; the last one is the real function
    symbol: str | None = None        # ELF symbol containing the address (code or data)
    offset: int = 0                  # lookup - symbol start
    section: str | None = None       # ELF section name holding the address
    kind: Literal["code", "data", "unknown"] = "unknown"
    after_call: bool | None = None   # for "return" addresses: is the preceding insn a call?
    notes: tuple[str, ...] = field(default=())

    @property
    def function(self) -> str | None:
        """The primary label: the innermost frame's function (what ``addr2line -f`` prints
        first), else the ELF symbol. The code at this address is that function's body, even
        when it was inlined; ``outer_function`` names what it was inlined into."""
        if self.frames and self.frames[0].function:
            return self.frames[0].function
        return self.symbol

    @property
    def outer_function(self) -> str | None:
        """The outermost (non-inlined, real) function, else the ELF symbol."""
        if self.frames and self.frames[-1].function:
            return self.frames[-1].function
        return self.symbol

    @property
    def chain_key(self) -> str:
        """Every inline level as ``function@file:line``, innermost first, joined by ``<``:
        two call sites of one inline function in one caller are two keys."""
        return "<".join(f"{f.function}@{f.file}:{f.line}" for f in self.frames)

    @property
    def resolved(self) -> bool:
        return bool(self.frames) or self.symbol is not None
