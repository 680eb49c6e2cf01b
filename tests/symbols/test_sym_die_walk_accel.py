"""The C inline walk (``memsleuth._dwarf.chain``) against the Python one it stands in for.

``inline.FunctionIndex.chain`` hands the per-address DIE walk to C when the optional
extension is built (``MEMSLEUTH_ACCEL=0`` turns it off) and walks in Python whatever C
leaves to it. Both must give the same chain (scope DIEs, call file/line/column) and the same
names for every 2nd byte of the functions of every committed ELF, with C answering all of
them, and the same functions by address from the top-level walk (``_dwarf.top``); and on
damaged DWARF (flipped bytes, LEB128 bombs, truncated sections, garbled words
in .debug_info, .debug_abbrev, .debug_ranges, .debug_rnglists, .debug_addr) the same chain
or the same error, never a crash. test_sym_die_walk.py checks both walks against a plain
walk that decodes every DIE.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from sym_helpers import committed_elfs

from memsleuth.symbols import lines
from memsleuth.symbols.elf import ElfImage
from memsleuth.symbols.errors import DECODE_ERRORS, CorruptElf
from memsleuth.symbols.inline import FunctionIndex, NameResolver, _c_walks
from memsleuth.symbols.units import DwarfSections

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "symbols"

needs_c = pytest.mark.skipif(lines._accel is None or not hasattr(lines._accel, "chain"),
                             reason="memsleuth._dwarf is not built (or MEMSLEUTH_ACCEL=0)")

SECTIONS = ("info", "abbrev", "ranges", "rnglists", "addr")


def _outcome(fn, *args):
    try:
        return ("ok", fn(*args))
    except (*DECODE_ERRORS, CorruptElf) as exc:
        return ("error", type(exc).__name__, str(exc))


def _named(fi, names, unit, addr):
    return [(s.die, s.call_file, s.call_line, s.call_column,
             names.name(unit, s.die, s.attrs)) for s in fi.chain(addr)]


def compare(dwarf: DwarfSections, functions: int, span: int, step: int) -> dict:
    """Every sampled address walked in C and in Python; asserts the outcomes are equal and
    returns how often C answered and how often it left the address to Python."""
    names_c, names_py = NameResolver(dwarf), NameResolver(dwarf)
    seen = {"c": 0, "python": 0, "top c": 0, "top python": 0, "chains": []}
    for unit in dwarf.units:
        # the top-level walk (functions by address): C's and Python's
        c_index = _outcome(FunctionIndex, unit)
        accel, lines._accel = lines._accel, None
        try:
            py_index = _outcome(FunctionIndex, unit)
        finally:
            lines._accel = accel
        assert (c_index[0], c_index[1]._spans if c_index[0] == "ok" else c_index[1:]) == \
            (py_index[0], py_index[1]._spans if py_index[0] == "ok" else py_index[1:]), \
            f"unit 0x{unit.offset:x}"
        top = _c_walks(unit)[1] if c_index[0] == "ok" or c_index[1] == "CorruptElf" else None
        if top is not None:
            ab, _, pos = unit.read_die(unit.die_offset)
            if ab is not None and ab.has_children:
                seen["top c" if top(pos) is not None else "top python"] += 1
        if c_index[0] != "ok":
            continue
        fi = c_index[1]
        walk = fi._c
        for lo, hi, die in fi._spans[:functions]:
            for addr in range(lo, min(hi, lo + span), step):
                if walk is not None:
                    seen["c" if walk(die, addr) is not None else "python"] += 1
                c = _outcome(_named, fi, names_c, unit, addr)
                fi._c = None
                py = _outcome(_named, fi, names_py, unit, addr)
                fi._c = walk
                assert c == py, f"unit 0x{unit.offset:x}, address 0x{addr:x}"
                seen["chains"].append(c)
    return seen


@needs_c
def test_every_function_of_every_committed_elf_walks_the_same_in_c():
    elfs = committed_elfs()
    assert len(elfs) >= 30
    total = inlined = units = 0
    for elf in elfs:
        seen = compare(DwarfSections(ElfImage(elf)), functions=10_000, span=1 << 30, step=2)
        assert seen["python"] == 0, f"{elf}: {seen['python']} addresses left to Python"
        assert seen["top python"] == 0, elf
        units += seen["top c"]
        total += seen["c"]
        inlined += sum(c[0] == "ok" and len(c[1]) > 1 for c in seen["chains"])
    assert total >= 100_000 and inlined >= 10_000 and units >= 300


def _mutate(rng: random.Random, data: bytes) -> bytes:
    """Damage a section the ways real damage and hostile files do."""
    out = bytearray(data)
    if not out:
        return data
    pos = rng.randrange(len(out))
    mode = rng.randrange(5)
    if mode == 0:      # a few flipped bytes
        for _ in range(rng.randint(1, 3)):
            out[rng.randrange(len(out))] = rng.randrange(256)
    elif mode == 1:    # a LEB128 far wider than 64 bits, or a huge one
        n = rng.choice([2, 3, 9, 10, 12, 40])
        bomb = bytes([0xFF] * (n - 1) + [rng.choice([0x01, 0x3F, 0x40, 0x7F])])
        out[pos:pos + n] = bomb[: len(out) - pos]
    elif mode == 2:    # cut short
        del out[pos:]
    elif mode == 3:    # a word (sibling, offset, length, address) pointing anywhere
        word = rng.choice([0, 1, 0x7FFFFFFF, 0xFFFFFFFF, rng.randrange(1 << 32),
                           rng.randrange(len(out) + 64)]).to_bytes(4, "little")
        out[pos:pos + 4] = word[: len(out) - pos]
    else:              # a form, tag or code this producer never wrote
        out[pos] = rng.choice([0x00, 0x01, 0x08, 0x09, 0x16, 0x18, 0x1E, 0x21, 0x80, 0xFF])
    return bytes(out)


@needs_c
@pytest.mark.parametrize("name", ["sites_arm", "x86_64", "arm_thumb_dw4", "arm_thumb_be",
                                  "x86_64_dw4"])
def test_damaged_dwarf_walks_the_same_in_c_or_fails_the_same(name):
    image = ElfImage(FIXTURES / f"{name}.elf")
    pristine = DwarfSections(image)
    sections = {s: getattr(pristine, s) for s in SECTIONS if getattr(pristine, s)}
    base = compare(pristine, functions=40, span=256, step=4)["chains"]
    rng = random.Random(f"die-walk-c-{name}")
    totals = {"c": 0, "python": 0, "top c": 0, "top python": 0}
    changed = 0
    for _ in range(150):
        dwarf = DwarfSections(image)
        sec = rng.choice(list(sections))
        dwarf.__dict__[sec] = _mutate(rng, sections[sec])   # the cached section, damaged
        try:
            assert dwarf.units is not None
        except (*DECODE_ERRORS, CorruptElf):
            continue
        seen = compare(dwarf, functions=40, span=256, step=4)
        for key in totals:
            totals[key] += seen[key]
        changed += seen["chains"] != base
    assert changed >= 50                        # the damage reached the walks
    # C answered, and left some to Python, in both walks
    assert totals["c"] and totals["python"] and totals["top c"] and totals["top python"]
