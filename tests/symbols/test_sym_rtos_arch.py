"""RISC-V and Xtensa call rules on real ELFs from Debian's cross compilers, and the Xtensa
windowed-ABI rules from the ISA's published encodings (no windowed Xtensa compiler ships in
Debian). Truth: objdump and addr2line (tests/fixtures/symbols/rtos_arch/make_fixtures.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memsleuth.symbols import Symbolizer
from memsleuth.symbols.arch import (
    after_call,
    riscv_call_size,
    xtensa_call_address,
    xtensa_call_size,
    xtensa_return_address,
    xtensa_window_increment,
)

FIX = Path(__file__).parent.parent / "fixtures" / "symbols" / "rtos_arch"
EXPECTED = json.loads((FIX / "expected.json").read_text())


@pytest.mark.parametrize("name, arch", [("rv32imc", "riscv32"), ("rv32im", "riscv32"),
                                        ("lx106", "xtensa")])
def test_after_call_matches_the_disassembly(name: str, arch: str):
    sym = Symbolizer.open(FIX / f"calls_{name}.elf", cache_dir=None)
    assert sym.arch == arch
    insns = EXPECTED[name]
    starts = {i["addr"] for i in insns}
    checked = 0
    for ins in insns:
        end = ins["end"]
        if end not in starts:            # a return address is where the next insn starts
            continue
        got = after_call(sym.arch, False, True, end, sym._image.read)
        assert got is ins["call"], (name, hex(end), ins["insn"])
        checked += 1
    assert checked >= 30 and sum(i["call"] for i in insns) == 6


@pytest.mark.parametrize("name", ["rv32imc", "rv32im", "lx106"])
def test_return_addresses_symbolize_to_the_call_line(name: str):
    sym = Symbolizer.open(FIX / f"calls_{name}.elf", cache_dir=None)
    calls = [i for i in EXPECTED[name] if i["call"]]
    locs = sym.symbolize([i["end"] for i in calls], "return")
    for ins in calls:
        loc = locs[ins["end"]]
        frame = loc.frames[0]
        assert (loc.function, Path(frame.file).name, frame.line) == \
            (ins["function"], ins["file"], ins["line"])
        assert loc.after_call is True


def test_riscv_call_sizes_compressed_and_not():
    for name, size in (("rv32imc", 2), ("rv32im", 4)):
        sym = Symbolizer.open(FIX / f"calls_{name}.elf", cache_dir=None)
        for ins in (i for i in EXPECTED[name] if i["call"]):
            assert riscv_call_size(ins["end"], sym._image.read) == size == ins["size"]


def _reader(code: bytes, base: int):
    def read(addr: int, n: int) -> bytes | None:
        off = addr - base
        return code[off:off + n] if off >= 0 and off + n <= len(code) else None
    return read


@pytest.mark.parametrize("insn, name", [
    (bytes([0x25, 0x12, 0x00]), "call8"),     # CALLn: op0 = 5, n = 2
    (bytes([0x15, 0x34, 0x01]), "call4"),
    (bytes([0x35, 0x00, 0x00]), "call12"),
    (bytes([0xE0, 0x08, 0x00]), "callx8 a8"),  # CALLXn: op0 = 0, m = 3, n = 2, s = 8
    (bytes([0xD0, 0x03, 0x00]), "callx4 a3"),
    (bytes([0xC0, 0x03, 0x00]), "callx0 a3"),  # as objdump shows it in calls_lx106.elf
])
def test_xtensa_windowed_calls_are_calls(insn: bytes, name: str):
    code = b"\x00" * 4 + insn
    assert xtensa_call_size(0x400D0007, _reader(code, 0x400D0000)) == 3, name


@pytest.mark.parametrize("insn, name", [
    (bytes([0x81, 0xF9, 0xFF]), "l32r a8"),
    (bytes([0x1D, 0xF0, 0x00]), "retw.n + pad"),
    (bytes([0xA0, 0x08, 0x00]), "jx a8"),     # CALLX's m = 3; JX has m = 2: not a call
])
def test_xtensa_other_instructions_are_not_calls(insn: bytes, name: str):
    code = b"\x00" * 4 + insn
    assert xtensa_call_size(0x400D0007, _reader(code, 0x400D0000)) == 0, name


def test_xtensa_windowed_return_address_rules():
    # a0 after CALL8 from 0x400d1234: window increment 2 in bits 31:30, return 0x400d1237
    a0 = (2 << 30) | (0x400D1237 & 0x3FFFFFFF)
    assert a0 == 0x800D1237
    assert xtensa_window_increment(a0) == 2
    assert xtensa_return_address(a0) == 0x400D1237
    assert xtensa_call_address(a0) == 0x400D1234   # what ESP-IDF's backtrace prints
    # CALL4 sets the top bits to 01, which is also what 0x4... code addresses have: only the
    # code region tells them apart, so restoring an address that is already right is a no-op
    assert xtensa_return_address(0x400D1237) == 0x400D1237
    assert xtensa_window_increment(0x000D1237) == 0   # CALL0: no increment
