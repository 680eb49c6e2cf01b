"""The C line-program decoder (``memsleuth._dwarf``) against the pure-Python one.

``symbols/lines.py`` runs a unit's line program in C when the optional extension is built
(``MEMSLEUTH_ACCEL=0`` turns it off), and the pure-Python loop must stand alone: every unit
of every committed ELF (real GCC output: arm and x86-64, line tables of versions 3, 4 and 5,
little- and big-endian, function sections with discarded sequences at 0) decodes to the
same table both ways, and so does every mutated line program: the same table, or the same
one-line error. The symbolizer's answers with each decoder are checked against addr2line by
test_sym_differential.py.
"""

from __future__ import annotations

import random
from array import array
from pathlib import Path

import pytest
from sym_helpers import committed_elfs, mutate_line_program

from memsleuth.symbols import lines
from memsleuth.symbols.elf import ElfImage
from memsleuth.symbols.errors import CorruptElf
from memsleuth.symbols.units import DwarfSections

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "symbols"

needs_c = pytest.mark.skipif(lines._accel is None,
                             reason="memsleuth._dwarf is not built (or MEMSLEUTH_ACCEL=0)")


def decode(unit, accel) -> tuple:
    """One unit's table as plain lists (or its error), with or without the C loop."""
    saved = lines._accel
    lines._accel = accel
    try:
        table = lines.decode_line_table(unit)
    except CorruptElf as exc:
        return ("error", str(exc))
    finally:
        lines._accel = saved
    if table is None:
        return ("none",)
    return ("table", list(table.addrs), [tuple(table.rows[i]) for i in range(len(table.addrs))],
            table.files, isinstance(table.addrs, array))


def units_of(data: bytes, tmp_path: Path | None = None, name: str = "x.elf"):
    if tmp_path is not None:
        path = tmp_path / name
        path.write_bytes(data)
    else:
        path = Path(name)
    return [u for u in DwarfSections(ElfImage(path)).units if u.stmt_list is not None]


@needs_c
def test_every_unit_of_every_committed_elf_decodes_the_same_both_ways():
    elfs = committed_elfs()
    assert len(elfs) >= 30
    units = rows = 0
    for elf in elfs:
        for unit in [u for u in DwarfSections(ElfImage(elf)).units if u.stmt_list is not None]:
            c, py = decode(unit, lines._accel), decode(unit, None)
            # (a unit of data only has an empty program: nothing to hand to C)
            assert c[0] == "table" and (c[4] or not c[1]), \
                f"{elf}: unit 0x{unit.offset:x} left to Python"
            assert c[1:4] == py[1:4], f"{elf}: unit 0x{unit.offset:x}"
            units += 1
            rows += len(c[1])
    assert units >= 300 and rows >= 30_000


@needs_c
@pytest.mark.parametrize("name", ["arm_thumb_gc", "arm_thumb_be", "x86_64_dw4", "sites_x86_64"])
def test_mutated_line_programs_decode_the_same_both_ways(name, tmp_path, monkeypatch):
    original = (FIXTURES / f"{name}.elf").read_bytes()
    sec = ElfImage(FIXTURES / f"{name}.elf")._by_name[".debug_line"]
    calls = {"table": 0, "python": 0}
    real = lines._accel

    class Counting:
        """The C module, counting which units it decoded and which it left to Python."""

        def line_table(self, *args):
            out = real.line_table(*args)
            calls["table" if out is not None else "python"] += 1
            return out

    monkeypatch.setattr(lines, "_accel", Counting())
    rng = random.Random(f"lines-{name}")
    changed = 0
    base = [decode(u, lines._accel) for u in units_of(original, tmp_path, "orig.elf")]
    for i in range(150):
        data = bytearray(original)
        mutate_line_program(rng, data, sec.offset, sec.size)
        results = []
        for unit in units_of(bytes(data), tmp_path, f"m{i}.elf"):
            c, py = decode(unit, lines._accel), decode(unit, None)
            assert c[:4] == py[:4], f"mutant {i} of {name}, unit 0x{unit.offset:x}"
            results.append(c[:4])
        changed += results != [b[:4] for b in base]
    assert changed >= 100                   # the mutations reached the programs
    assert calls["table"] and calls["python"]   # both the C tables and the fallback ran
