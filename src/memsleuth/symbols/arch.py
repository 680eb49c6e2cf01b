"""Per-architecture address rules: which byte to look up, and "is there a call before it?".

Return addresses point after the call; looking up ``ret - 1`` lands inside the call
instruction whatever its length (2- or 4-byte on Thumb, 5..7 on x86, 3 on Xtensa,
2 or 4 on RISC-V), which is what ``addr2line`` users do by hand. On ARM the Thumb bit is
masked first: ``(lr & ~1) - 1`` gives the call line for 100 % of 12,224 measured call
sites, against 41 % for the raw LR (symbolization.md).
"""

from __future__ import annotations

from collections.abc import Callable

from memsleuth.symbols.location import AddrKind

ReadFn = Callable[[int, int], "bytes | None"]


def lookup_address(arch: str, addr: int, kind: AddrKind) -> int:
    """The address to feed the line table for a logged address of the given kind."""
    if arch == "arm":
        addr &= ~1
        return addr - 1 if kind == "return" else addr
    if kind == "return":
        return addr - 1
    return addr


def xtensa_restore(addr: int, text_ranges: list[tuple[int, int]]) -> int:
    """Undo the windowed ABI's use of a0[31:30] for the caller's window increment.

    call4/8/12 store the window size in the top two bits of the return address; the real
    bits are those of the code segment the address belongs to. Only changed when the
    logged address is not in code but the restored one is.
    """
    def in_text(a: int) -> bool:
        return any(lo <= a < hi for lo, hi in text_ranges)

    if in_text(addr):
        return addr
    for top in sorted({lo & 0xC0000000 for lo, _ in text_ranges}):
        cand = (addr & 0x3FFFFFFF) | top
        if in_text(cand):
            return cand
    return addr


def after_call(arch: str, thumb: bool, little: bool, ret: int, read: ReadFn) -> bool | None:
    """Is the instruction ending at return address ``ret`` a call? None = cannot tell."""
    if arch == "arm":
        return _arm_after_call(ret, thumb or bool(ret & 1), little, read)
    if arch in ("x86_64", "x86"):
        return _x86_after_call(ret, arch == "x86_64", read)
    return None


def _arm_after_call(ret: int, thumb: bool, little: bool, read: ReadFn) -> bool | None:
    a = ret & ~1
    order = "little" if little else "big"
    if thumb:
        b = read(a - 4, 4)
        if b is not None:
            hw1 = int.from_bytes(b[0:2], order)
            hw2 = int.from_bytes(b[2:4], order)
            # BL / BLX (immediate): 11110 S imm10 : 11 J1 1 J2 imm11 (BLX: 11 J1 0 J2)
            if (hw1 & 0xF800) == 0xF000 and (hw2 & 0xC000) == 0xC000:
                return True
            # BLX Rm (16-bit): 0100 0111 1 Rm 000
            return (hw2 & 0xFF87) == 0x4780
        b = read(a - 2, 2)
        if b is None:
            return None
        return (int.from_bytes(b, order) & 0xFF87) == 0x4780
    b = read(a - 4, 4)
    if b is None:
        return None
    w = int.from_bytes(b, order)
    return ((w & 0x0F000000) == 0x0B000000 and (w >> 28) != 0xF) \
        or (w & 0xFE000000) == 0xFA000000 \
        or (w & 0x0FFFFFF0) == 0x012FFF30


def _x86_after_call(ret: int, is64: bool, read: ReadFn) -> bool | None:
    b = read(ret - 5, 5)
    if b is not None and b[0] == 0xE8:
        return True
    window = read(ret - 8, 8) or read(ret - 7, 7)
    if window is None:
        return None if b is None else False
    n = len(window)
    for k in range(2, 8):
        if k > n:
            break
        insn = window[n - k:]
        # Optional prefixes a compiler puts on indirect calls: REX (64-bit), notrack (3E).
        i = 0
        while i < len(insn) - 1 and (insn[i] == 0x3E or (is64 and 0x40 <= insn[i] <= 0x4F)):
            i += 1
        if insn[i] != 0xFF or i + 1 >= len(insn):
            continue
        modrm = insn[i + 1]
        if (modrm >> 3) & 7 != 2:  # FF /2 = call near indirect
            continue
        if _modrm_length(insn, i + 1, is64) == len(insn) - i:
            return True
    return False


def _modrm_length(insn: bytes, m: int, is64: bool) -> int:
    """Bytes taken by opcode FF + ModRM [+ SIB] [+ disp], counted from the opcode."""
    modrm = insn[m]
    mod, rm = modrm >> 6, modrm & 7
    length = 2
    if mod == 3:
        return length
    if rm == 4:  # SIB
        if m + 1 >= len(insn):
            return -1
        length += 1
        if mod == 0 and (insn[m + 1] & 7) == 5:
            length += 4
    if mod == 0 and rm == 5:
        length += 4  # disp32 (RIP-relative on x86-64)
    elif mod == 1:
        length += 1
    elif mod == 2:
        length += 4
    return length
