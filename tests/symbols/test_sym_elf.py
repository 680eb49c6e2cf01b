"""ELF facts, address classes (code/data/unknown), symbol-table queries, errors."""

from __future__ import annotations

import hashlib
import shutil
import struct
import warnings

import pytest
from sym_helpers import FIXTURES, expected, open_fixture

from memsleuth.symbols import (
    ElfNotFound,
    NoDebugInfo,
    NotAnElf,
    SymbolError,
    Symbolizer,
    UnsupportedArch,
)


@pytest.mark.parametrize("openssl_from", [0, 1 << 40])
def test_content_hash_is_sha256_either_way(openssl_from, monkeypatch):
    """Big ELFs are hashed with OpenSSL, small ones with CPython's own SHA-256: one digest
    (it names the symbol cache file)."""
    import memsleuth.symbols.elf as elf

    monkeypatch.setattr(elf, "_OPENSSL_FROM", openssl_from)
    data = (FIXTURES / "x86_64.elf").read_bytes()
    assert open_fixture("x86_64").content_hash == hashlib.sha256(data).hexdigest()


def test_arm_facts():
    s = open_fixture("arm_thumb")
    assert (s.arch, s.bits, s.little_endian, s.thumb) == ("arm", 32, True, True)
    assert s.has_debug_info
    assert s.build_id is not None and len(s.build_id) == 40
    data = (FIXTURES / "arm_thumb.elf").read_bytes()
    assert s.content_hash == hashlib.sha256(data).hexdigest()
    names = {sec.name: sec.kind for sec in s.sections}
    assert names[".text"] == "code" and names[".rodata"] == "rodata"
    assert names[".data"] == "data" and names[".bss"] == "bss"
    assert s.text_ranges and all(lo < hi for lo, hi in s.text_ranges)


def test_x86_64_facts():
    s = open_fixture("x86_64")
    assert (s.arch, s.bits, s.little_endian, s.thumb) == ("x86_64", 64, True, False)
    assert s.build_id is not None


def test_data_addresses_name_the_object_and_offset():
    s = open_fixture("arm_thumb")
    counters = s.functions_matching("*")  # sanity: the function table is there
    assert counters
    g = s._image.objects  # noqa: SLF001 - find the fixture's globals by name
    by_name = {o.name: o for o in g}
    res = s.symbolize([by_name["counters"].start + 8, by_name["banner"].start + 3,
                       by_name["ring_trace"].start + 4], kind="pc")
    locs = list(res.values())
    assert [(loc.kind, loc.symbol, loc.offset) for loc in locs] == [
        ("data", "counters", 8), ("data", "banner", 3), ("data", "ring_trace", 4)]
    assert [loc.section for loc in locs] == [".data", ".rodata", ".bss"]
    assert all(not loc.frames for loc in locs)


def test_unknown_addresses_have_no_frames():
    s = open_fixture("arm_thumb")
    for a in (0x0, 0x1000_0000, 0xFFFF_FFF9):  # the last one is an EXC_RETURN value
        loc = s.symbolize_one(a, "return")
        assert loc.kind == "unknown" and loc.frames == () and loc.symbol is None
        assert not loc.resolved


def test_code_location_fields():
    exp = expected("arm_thumb")
    s = open_fixture("arm_thumb")
    r = exp["returns"][0]
    loc = s.symbolize_one(r["logged"])
    assert loc.kind == "code" and loc.section == ".text"
    assert loc.symbol == r["frames"][-1][0]
    assert loc.offset > 0 and loc.address == r["logged"]


def test_batch_is_deduplicated_and_keyed_by_logged_address():
    exp = expected("arm_thumb")
    s = open_fixture("arm_thumb")
    logged = [r["logged"] for r in exp["returns"]]
    res = s.symbolize(logged * 50)
    assert sorted(res) == sorted(set(logged))


def test_function_of_and_functions_matching():
    s = open_fixture("arm_thumb")
    found = {n: (a, b) for n, a, b in s.functions_matching("fw_*")}
    assert set(found) == {"fw_malloc", "fw_free"}
    start, end = found["fw_malloc"]
    assert start % 2 == 0  # Thumb bit masked
    assert s.function_of(start) == "fw_malloc"
    assert s.function_of(start | 1) == "fw_malloc"
    assert s.function_of(end - 2) == "fw_malloc"
    assert s.function_of(0x10) is None
    assert {n for n, _, _ in s.functions_matching("make_*")} == {
        "make_timer", "make_queue", "make_sem"}


@pytest.mark.parametrize("name", ["arm_thumb_nodebug", "x86_64_nodebug"])
def test_stripped_elf_warns_and_still_names_functions(name):
    with pytest.warns(NoDebugInfo, match="no DWARF"):
        s = Symbolizer.open(FIXTURES / f"{name}.elf", use_cache=False)
    assert not s.has_debug_info
    full = name.replace("_nodebug", "")
    exp = expected(full)
    res = s.symbolize([r["logged"] for r in exp["returns"]])
    named = 0
    for r in exp["returns"]:
        loc = res[r["logged"]]
        assert loc.frames == ()
        assert "no debug info" in " ".join(loc.notes)
        if len(r["frames"]) == 1:  # not inlined: the symbol is the function
            named += loc.function == r["frames"][0][0]
    assert named >= len([r for r in exp["returns"] if len(r["frames"]) == 1]) - 2


def test_missing_file():
    with pytest.raises(ElfNotFound, match="not found"):
        Symbolizer.open(FIXTURES / "no-such.elf")


def test_not_an_elf(tmp_path):
    p = tmp_path / "log.txt"
    p.write_text("this is a log, not firmware\n")
    with pytest.raises(NotAnElf, match="not an ELF") as info:
        Symbolizer.open(p)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, SymbolError)


def test_truncated_elf(tmp_path):
    p = tmp_path / "cut.elf"
    p.write_bytes((FIXTURES / "arm_thumb.elf").read_bytes()[:40])
    with pytest.raises(NotAnElf, match="corrupt or truncated"):
        Symbolizer.open(p)


def test_unsupported_machine(tmp_path):
    p = tmp_path / "mips.elf"
    shutil.copy(FIXTURES / "arm_thumb.elf", p)
    data = bytearray(p.read_bytes())
    struct.pack_into("<H", data, 18, 8)  # EM_MIPS
    p.write_bytes(bytes(data))
    with pytest.raises(UnsupportedArch, match="unsupported ELF machine 8"):
        Symbolizer.open(p)


def test_directory_is_not_an_elf(tmp_path):
    with pytest.raises(ElfNotFound):
        Symbolizer.open(tmp_path)


def test_errors_are_memsleuth_errors():
    from memsleuth.errors import MemsleuthError
    assert issubclass(SymbolError, MemsleuthError)
    assert issubclass(NoDebugInfo, UserWarning)


def test_open_with_debug_info_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Symbolizer.open(FIXTURES / "arm_thumb.elf", use_cache=False)
