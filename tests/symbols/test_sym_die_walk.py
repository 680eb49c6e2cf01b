"""The inline-chain walk's shortcuts against a plain walk that decodes every DIE.

``inline.FunctionIndex.chain`` skips DIEs whose attributes are all fixed-size without
decoding them, reads a scope's extent in place, remembers the scopes and the runs of other
DIEs of the function it walked last, and ``NameResolver`` reads each DIE's names once. The
reference below is the walk as it was before those shortcuts: every DIE through
``read_die``, nothing remembered. Both must give the same chain (scope DIEs, ranges, call
file/line/column) and names, or the same error, for every 2nd byte of every function of
real ELFs and of ELFs with damaged .debug_info / .debug_abbrev / .debug_rnglists. Each
test runs with the C walk (``memsleuth._dwarf.chain``, when built) and with the Python
walk alone; test_sym_die_walk_accel.py compares the two directly on many more files.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from memsleuth.symbols import lines
from memsleuth.symbols.elf import ElfImage
from memsleuth.symbols.errors import DECODE_ERRORS, CorruptElf
from memsleuth.symbols.forms import (
    C_REF,
    C_REF_ADDR,
    AT_abstract_origin,
    AT_call_column,
    AT_call_file,
    AT_call_line,
    AT_linkage_name,
    AT_MIPS_linkage_name,
    AT_name,
    AT_sibling,
    AT_specification,
    TAG_inlined_subroutine,
)
from memsleuth.symbols.inline import (
    _TRANSPARENT,
    MAX_DEPTH,
    FunctionIndex,
    NameResolver,
    _check_inside,
    _sibling,
    demangle,
)
from memsleuth.symbols.units import DwarfSections

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "symbols"
ELFS = [FIXTURES / f"{n}.elf" for n in ("arm_thumb", "arm_thumb_dw4", "arm_thumb_gc",
                                       "x86_64", "x86_64_dw4", "sites_arm", "sites_x86_64")]
ELFS += [ROOT / "tests" / "fixtures" / "freertos" / "freertos-side2.elf",
         ROOT / "examples" / "vendor_stress" / "out" / "cortex-m4-leak.elf"]


# -- the reference: every DIE decoded, nothing remembered -------------------------------------
def _skip_children(unit, pos):
    depth = 1
    while depth:
        _check_inside(unit, pos)
        start = pos
        ab, attrs, pos = unit.read_die(pos)
        if ab is None:
            depth -= 1
        elif ab.has_children:
            sib = attrs.get(AT_sibling)
            if sib is not None and sib[0] == C_REF:
                pos = _sibling(unit, start, pos, sib[1])
            else:
                depth += 1
                if depth > MAX_DEPTH:
                    raise CorruptElf(f"DIEs nested deeper than {MAX_DEPTH} levels at "
                                     f".debug_info+0x{start:x}")
    return pos


def _after(unit, ab, attrs, start, pos):
    if not ab.has_children:
        return pos
    sib = attrs.get(AT_sibling)
    if sib is not None and sib[0] == C_REF:
        return _sibling(unit, start, pos, sib[1])
    return _skip_children(unit, pos)


def _descend(unit, pos, addr, out, depth):
    if depth > MAX_DEPTH:
        raise CorruptElf(f"DIEs nested deeper than {MAX_DEPTH} levels at .debug_info+0x{pos:x}")
    while True:
        _check_inside(unit, pos)
        start = pos
        ab, attrs, pos = unit.read_die(pos)
        if ab is None:
            return pos
        tag = ab.tag
        if tag == TAG_inlined_subroutine or (tag in _TRANSPARENT and ab.has_children):
            ranges = unit.pc_ranges(attrs)
            inside = any(lo <= addr < hi for lo, hi in ranges)
            if tag == TAG_inlined_subroutine:
                if inside:
                    out.append((start, ranges, attrs.get(AT_call_file, (0, 0))[1],
                                attrs.get(AT_call_line, (0, 0))[1],
                                attrs.get(AT_call_column, (0, 0))[1]))
                    if ab.has_children:
                        _descend(unit, pos, addr, out, depth + 1)
                    return None
            elif inside or not ranges:
                nxt = _descend(unit, pos, addr, out, depth + 1)
                if nxt is None or inside:
                    return None
                pos = nxt
                continue
        pos = _after(unit, ab, attrs, start, pos)


def reference_chain(unit, die, addr):
    ab, attrs, pos = unit.read_die(die)
    out = [(die, unit.pc_ranges(attrs), 0, 0, 0)]
    if ab is not None and ab.has_children:
        _descend(unit, pos, addr, out, 1)
    return out


def reference_name(dwarf, unit, die):
    linkage = plain = None
    cur_unit, cur, hops = unit, die, 0
    while cur is not None and hops < 8:
        hops += 1
        _, attrs, _ = cur_unit.read_die(cur)
        if linkage is None:
            v = attrs.get(AT_linkage_name) or attrs.get(AT_MIPS_linkage_name)
            if v is not None:
                linkage = cur_unit.string(v)
        if plain is None and AT_name in attrs:
            plain = cur_unit.string(attrs[AT_name])
        if linkage is not None and plain is not None:
            break
        ref = attrs.get(AT_abstract_origin) or attrs.get(AT_specification)
        cur = None
        if ref is not None:
            if ref[0] == C_REF:
                cur = cur_unit.offset + ref[1]
            elif ref[0] == C_REF_ADDR:
                nu = dwarf.unit_at_offset(ref[1])
                if nu is not None:
                    cur_unit, cur = nu, ref[1]
    return (demangle(linkage) if linkage else None) or plain or linkage


# -- the comparison -------------------------------------------------------------------------
def _outcome(fn):
    try:
        return ("ok", fn())
    except (*DECODE_ERRORS, CorruptElf) as exc:
        return ("error", type(exc).__name__, str(exc))


def compare(path: Path) -> tuple[int, int]:
    """(addresses compared, of them answered with a chain); asserts they agree."""
    dwarf = DwarfSections(ElfImage(path))
    names = NameResolver(dwarf)
    compared = answered = 0
    for unit in dwarf.units:
        try:
            fi = FunctionIndex(unit)    # the top-level walk: the same code for both
        except (*DECODE_ERRORS, CorruptElf):
            continue
        # (damaged DWARF can claim a function of gigabytes: a bounded sample of each)
        addrs = sorted({a for lo, hi, _ in fi._spans[:400]
                        for a in range(lo, min(hi, lo + 4096), 2)})
        for addr in addrs[:4000]:
            die = fi._function_die(addr)

            def ours(addr=addr, fi=fi, unit=unit):
                chain = fi.chain(addr)
                return [(s.die, unit.pc_ranges(unit.read_die(s.die)[1]), s.call_file,
                         s.call_line, s.call_column, names.name(unit, s.die, s.attrs))
                        for s in chain]

            def plain(addr=addr, die=die, unit=unit):
                if die is None:
                    return []
                return [(*s, reference_name(dwarf, unit, s[0]))
                        for s in reference_chain(unit, die, addr)]

            mine, ref = _outcome(ours), _outcome(plain)
            assert mine == ref, f"{path.name}: 0x{addr:x}"
            compared += 1
            answered += mine[0] == "ok" and len(mine[1]) > 0
    return compared, answered


@pytest.fixture(params=["c", "python"])
def walk(request, monkeypatch):
    """The inline walk under test: C (skipped when not built) or the Python one alone."""
    if request.param == "python":
        monkeypatch.setattr(lines, "_accel", None)
    elif lines._accel is None or not hasattr(lines._accel, "chain"):
        pytest.skip("memsleuth._dwarf is not built (or MEMSLEUTH_ACCEL=0)")
    return request.param


@pytest.mark.parametrize("path", ELFS, ids=lambda p: p.stem)
def test_chains_and_names_equal_a_walk_that_decodes_every_die(path, walk):
    compared, answered = compare(path)
    assert compared >= 40 and answered >= compared // 2


@pytest.mark.parametrize("name", ["sites_arm", "x86_64", "arm_thumb_dw4"])
def test_damaged_dwarf_gives_the_same_chains_or_the_same_errors(name, tmp_path, walk):
    original = (FIXTURES / f"{name}.elf").read_bytes()
    image = ElfImage(FIXTURES / f"{name}.elf")
    sections = [image._by_name[s] for s in (".debug_info", ".debug_abbrev",
                                            ".debug_rnglists", ".debug_ranges")
                if s in image._by_name]
    rng = random.Random(f"die-walk-{name}")
    errors = 0
    for i in range(40):
        data = bytearray(original)
        for _ in range(rng.randint(1, 4)):
            sec = rng.choice(sections)
            data[sec.offset + rng.randrange(sec.size)] = rng.randrange(256)
        path = tmp_path / f"m{i}.elf"
        path.write_bytes(bytes(data))
        try:
            compare(path)
        except (*DECODE_ERRORS, CorruptElf):
            errors += 1       # the unit list itself is unreadable: nothing to compare
    assert errors < 40
