"""Per-architecture address rules: which byte to look up, and "is there a call before it?".

Return addresses point after the call; looking up ``ret - 1`` lands inside the call
instruction whatever its length (2- or 4-byte on Thumb, 5..7 on x86, 3 on Xtensa,
2 or 4 on RISC-V), which is what ``addr2line`` users do by hand. "Is there a call before
it?" needs each ISA's call encodings: Thumb BL/BLX, x86 CALL, Xtensa CALLn/CALLXn (after
undoing the windowed ABI's bits in a0), RISC-V JAL/JALR and the compressed C.JAL/C.JALR.
On ARM the Thumb bit is masked first: ``(lr & ~1) - 1`` gives the call line for 100 % of
12,224 measured call sites, against 41 % for the raw LR (symbolization.md).
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


def after_call(arch: str, thumb: bool, little: bool, ret: int, read: ReadFn,
               start: int | None = None) -> bool | None:
    """Is the instruction ending at return address ``ret`` a call? None = cannot tell.

    ``start``: the containing function's address, when known (RISC-V decodes from it)."""
    if arch == "arm":
        return _arm_after_call(ret, thumb or bool(ret & 1), little, read)
    if arch in ("x86_64", "x86"):
        return _x86_after_call(ret, arch == "x86_64", read)
    if arch in ("riscv32", "riscv64"):
        size = riscv_call_size(ret, read, rv64=arch == "riscv64", start=start)
        return None if size is None else size > 0
    if arch == "xtensa" and little:
        size = xtensa_call_size(ret, read)
        return None if size is None else size > 0
    return None


def call_at(arch: str, thumb: bool, little: bool, addr: int, read: ReadFn) -> bool | None:
    """Does a call instruction start at ``addr``? None = cannot tell.

    For call-site addresses (AliOS 3.x B3 traces and backtraces print the call instruction,
    LR-4 / LR-2 / RA-3, not the return address)."""
    a = addr & ~1 if arch == "arm" else addr
    order = "little" if little else "big"
    if arch == "arm":
        b = read(a, 4) or read(a, 2)
        if b is None:
            return None
        hw1 = int.from_bytes(b[0:2], order)
        if thumb or addr & 1:
            if len(b) >= 4 and (hw1 & 0xF800) == 0xF000 and \
                    (int.from_bytes(b[2:4], order) & 0xC000) == 0xC000:
                return True
            return (hw1 & 0xFF87) == 0x4780
        if len(b) < 4:
            return None
        return _arm_after_call(a + 4, False, little, read)
    if arch in ("x86_64", "x86"):
        b = read(a, 3)
        if b is None:
            return None
        if b[0] in (0x40, 0x41) and arch == "x86_64":
            b = b[1:]
        return b[0] == 0xE8 or (b[0] == 0xFF and (b[1] >> 3) & 7 in (2, 3))
    if arch in ("riscv32", "riscv64"):
        rv64 = arch == "riscv64"
        return _riscv_is_call(a, 4, read, rv64) or _riscv_is_call(a, 2, read, rv64)
    if arch == "xtensa" and little:
        size = xtensa_call_size(a + 3, read)
        return None if size is None else size > 0
    return None


# -- Xtensa ------------------------------------------------------------------------------
#
# Windowed ABI: CALL4/8/12 and CALLX4/8/12 put the window increment (1, 2, 3) in a0[31:30];
# the return address proper is a0[29:0] plus the top bits of the code region. Every call is
# a 3-byte instruction (the 16-bit density option has none), so the call starts at ret - 3:
# ESP-IDF's backtraces print exactly that (esp_cpu_process_stack_pc).


def xtensa_window_increment(a0: int) -> int:
    """The caller's window increment from a windowed return address: 0 (CALL0 or not
    windowed), 1 (CALL4), 2 (CALL8), 3 (CALL12)."""
    return (a0 >> 30) & 3


def xtensa_return_address(a0: int, region: int = 0x40000000) -> int:
    """a0 with the window bits replaced by the code region's top bits."""
    return (a0 & 0x3FFFFFFF) | (region & 0xC0000000)


def xtensa_call_address(a0: int, region: int = 0x40000000) -> int:
    """Where the call instruction that produced a0 starts (ret - 3, after the window fix)."""
    return xtensa_return_address(a0, region) - 3


def xtensa_call_size(ret: int, read: ReadFn) -> int | None:
    """3 when a CALLn/CALLXn (n = 0, 4, 8, 12) ends at ``ret`` (little-endian), 0 when the
    3 bytes before it are something else, None when they cannot be read."""
    b = read(ret - 3, 3)
    if b is None or len(b) < 3:
        return None
    w = b[0] | (b[1] << 8) | (b[2] << 16)
    if (w & 0x0F) == 0x05:               # CALLn: op0 = 0101, n in bits 5:4, offset 23:6
        return 3
    if (w & 0xFFF0CF) == 0x0000C0:       # CALLXn: op0=0 m=11 r=0 op1=0 op2=0, s = target reg
        return 3
    return 0


# -- RISC-V ------------------------------------------------------------------------------
#
# A call is JAL/JALR linking to ra (or t0, the alternate link register): 4 bytes, or with
# the C extension C.JAL (RV32 only) / C.JALR: 2 bytes. Looking up ret - 1 finds the call's
# line either way; telling whether a call ends at ret needs the length.


def riscv_call_size(ret: int, read: ReadFn, rv64: bool = False,
                    start: int | None = None) -> int | None:
    """4 or 2 when a call instruction ends at ``ret``, 0 when not, None when unreadable.

    With ``start`` (the containing function's first byte) the instruction boundaries are
    found by decoding forward from it, the only exact way: RISC-V lengths are told by an
    instruction's first halfword, so a halfword read backwards may be the tail of a longer
    one. Without it: a 4-byte call at ret - 4, else a compressed call at ret - 2."""
    if start is not None and start < ret and ret - start <= 1 << 16:
        pc, last, size = start, None, 0
        while pc < ret:
            h = read(pc, 2)
            if h is None or len(h) < 2:
                break
            last, size = pc, 4 if (h[0] & 0x3) == 0x3 else 2
            pc += size
        if pc == ret and last is not None:
            return size if _riscv_is_call(last, size, read, rv64) else 0
    if _riscv_is_call(ret - 4, 4, read, rv64):
        return 4
    if _riscv_is_call(ret - 2, 2, read, rv64):
        return 2
    b = read(ret - 2, 2)
    return None if b is None else 0


def _riscv_is_call(addr: int, size: int, read: ReadFn, rv64: bool) -> bool:
    b = read(addr, size)
    if b is None or len(b) < size:
        return False
    if size == 4:
        w = int.from_bytes(b, "little")
        return (w & 0x3) == 0x3 and (w & 0x7F) in (0x6F, 0x67) and ((w >> 7) & 0x1F) in (1, 5)
    h = int.from_bytes(b, "little")
    if (h & 0x3) == 0x3:
        return False
    if not rv64 and (h & 0xE003) == 0x2001:      # C.JAL (RV32C; on RV64 this is C.ADDIW)
        return True
    return (h & 0xF07F) == 0x9002 and bool((h >> 7) & 0x1F)   # C.JALR rs1 (rs1 != 0)


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
