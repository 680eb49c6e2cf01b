"""Per-arch address rules and the call-instruction check."""

from __future__ import annotations

from sym_helpers import expected, open_fixture

from memsleuth.symbols.arch import after_call, lookup_address, xtensa_restore


def test_thumb_return_rule():
    assert lookup_address("arm", 0x0800_1235, "return") == 0x0800_1233
    assert lookup_address("arm", 0x0800_1234, "return") == 0x0800_1233


def test_pc_and_callsite_only_mask_thumb_bit():
    assert lookup_address("arm", 0x0800_1235, "pc") == 0x0800_1234
    assert lookup_address("arm", 0x0800_1235, "callsite") == 0x0800_1234
    assert lookup_address("x86_64", 0x401235, "pc") == 0x401235
    assert lookup_address("x86_64", 0x401235, "callsite") == 0x401235


def test_other_arch_return_rule_is_minus_one():
    for arch in ("x86", "x86_64", "xtensa", "riscv32", "riscv64", "aarch64"):
        assert lookup_address(arch, 0x1000, "return") == 0xFFF


def test_xtensa_window_bits_restored_from_text():
    text = [(0x4008_0000, 0x400A_0000), (0x400D_0000, 0x4010_0000)]
    # call8 stored 0b10 in bits 31:30 of a0
    assert xtensa_restore(0x800D_1234, text) == 0x400D_1234
    assert xtensa_restore(0x400D_1234, text) == 0x400D_1234   # already right: untouched
    assert xtensa_restore(0x1234_5678, text) == 0x1234_5678   # nowhere in code: untouched


def test_thumb_return_rule_gives_the_call_line_raw_lr_does_not():
    """The measured fact behind the rule: the raw LR often names the next line."""
    exp = expected("arm_thumb")
    sym = open_fixture("arm_thumb")
    logged = [r["logged"] for r in exp["returns"]]
    as_return = sym.symbolize(logged, "return")
    as_pc = sym.symbolize(logged, "pc")
    right = sum(as_return[r["logged"]].frames[0].line == r["frames"][0][2]
                for r in exp["returns"])
    naive = sum(bool(as_pc[r["logged"]].frames)
                and as_pc[r["logged"]].frames[0].line == r["frames"][0][2]
                for r in exp["returns"])
    assert right == len(exp["returns"])
    assert naive < right


def test_callsite_kind_takes_the_call_instruction_as_is():
    exp = expected("arm_thumb")
    sym = open_fixture("arm_thumb")
    for r in exp["returns"]:
        size = 4 if r["call"] == "bl" else 2
        call = (r["logged"] & ~1) - size
        loc = sym.symbolize_one(call | 1, "callsite")
        assert loc.lookup == call
        assert loc.frames[0].line == r["frames"][0][2]


def _reader(blob: bytes, base: int):
    def read(addr: int, n: int):
        off = addr - base
        return blob[off: off + n] if off >= 0 and off + n <= len(blob) else None
    return read


def test_thumb_call_decoding():
    # bl (f000 f806), then blx r3 (4798), then a plain add (3008)
    blob = bytes.fromhex("00f006f8" "9847" "0830")
    read = _reader(blob, 0x1000)
    assert after_call("arm", True, True, 0x1004 | 1, read) is True    # after bl
    assert after_call("arm", True, True, 0x1006 | 1, read) is True    # after blx r3
    assert after_call("arm", True, True, 0x1008 | 1, read) is False   # after adds
    assert after_call("arm", True, True, 0x9000, read) is None        # unreadable


def test_x86_call_decoding():
    blob = bytes.fromhex(
        "e800000000"      # call rel32                 0x1000..0x1005
        "ffd0"            # call *%rax                 ..0x1007
        "41ffd0"          # call *%r8                  ..0x100a
        "ff542408"        # call *0x8(%rsp)            ..0x100e
        "ff15aabbccdd"    # call *disp32(%rip)         ..0x1014
        "4889c7"          # mov %rax,%rdi              ..0x1017
    )
    read = _reader(b"\x90" * 8 + blob, 0x1000 - 8)
    for ret in (0x1005, 0x1007, 0x100A, 0x100E, 0x1014):
        assert after_call("x86_64", False, True, ret, read) is True, hex(ret)
    assert after_call("x86_64", False, True, 0x1017, read) is False


def test_unknown_arch_cannot_tell():
    assert after_call("aarch64", False, True, 0x1000, lambda a, n: b"\0" * n) is None
