"""The pure-Python line decoder that keeps only the rows asked for (``decode_line_rows``).

Without the C loops a batch tells the resolver its addresses first, and each unit's line
program is run keeping only the row in force at each of them. Its answers must be the
whole table's (``decode_line_table``, the pure loop): on every unit of every committed ELF
(real GCC output, arm and x86-64, line tables of versions 3, 4 and 5, big- and
little-endian, function sections with discarded sequences at 0: those go to the whole
table) at every row address, one byte either side and random addresses, and on damaged
line programs (the same answers or the same one-line error). Through the symbolizer,
test_sym_differential.py's "python" runs compare it with addr2line.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from sym_helpers import committed_elfs, mutate_line_program

from memsleuth.symbols import lines
from memsleuth.symbols.elf import ElfImage
from memsleuth.symbols.errors import CorruptElf
from memsleuth.symbols.units import DwarfSections

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "symbols"


@pytest.fixture(autouse=True)
def _pure(monkeypatch):
    """Both decoders in pure Python (the targeted one is only used without C)."""
    monkeypatch.setattr(lines, "_accel", None)


def _units(path: Path):
    return [u for u in DwarfSections(ElfImage(path)).units if u.stmt_list is not None]


def _targets(table, rng: random.Random, k: int) -> list[int]:
    """Row addresses, their neighbours and random addresses around the unit's code."""
    addrs = list(table.addrs) if table is not None else []
    cand = {a + d for a in addrs for d in (-1, 0, 1)}
    top = (max(addrs) + 64) if addrs else 256
    cand.update(rng.randrange(top) for _ in range(64))
    cand = sorted(c for c in cand if c >= 0)
    return sorted(rng.sample(cand, min(len(cand), k)))


def _answers(unit, targets: list[int], targeted: bool) -> tuple:
    """Each target's (file, line, column) or None, or the decoder's error."""
    try:
        rows = (lines.decode_line_rows(unit, targets) if targeted
                else lines.decode_line_table(unit))
    except CorruptElf as exc:
        return ("error", str(exc)), None
    if rows is None:
        return ("none",), None
    return ("rows", [rows.find(t) for t in targets]), rows


def test_every_unit_of_every_committed_elf_answers_as_the_whole_table():
    elfs = committed_elfs()
    assert len(elfs) >= 30
    units = targeted = checked = 0
    for elf in elfs:
        for unit in _units(elf):
            table = lines.decode_line_table(unit)
            rng = random.Random(f"{elf.name}-{unit.offset}")
            targets = _targets(table, rng, 400)
            want = [table.find(t) for t in targets]
            rows = lines.decode_line_rows(unit, targets)
            assert [rows.find(t) for t in targets] == want, f"{elf}: unit 0x{unit.offset:x}"
            units += 1
            checked += len(targets)
            if isinstance(rows, lines.TargetRows):
                targeted += 1
                # an address nobody announced: the whole table, decoded then
                other = rng.randrange((max(table.addrs) + 8) if table.addrs else 64)
                if other not in targets:
                    assert rows.find(other) == table.find(other)
    # most units take the targeted loop; function-section ELFs with sequences discarded
    # at 0 (overlapping) are left to the whole table
    assert units >= 300 and targeted >= 0.9 * units and checked >= 50_000


@pytest.mark.parametrize("name", ["arm_thumb_gc", "arm_thumb_be", "x86_64_dw4", "sites_x86_64",
                                  "arm_thumb"])
def test_damaged_line_programs_answer_as_the_whole_table(name, tmp_path):
    original = (FIXTURES / f"{name}.elf").read_bytes()
    sec = ElfImage(FIXTURES / f"{name}.elf")._by_name[".debug_line"]
    rng = random.Random(f"targets-{name}")
    # the same targets for a unit in every mutant (the damage is in .debug_line only)
    targets = {u.offset: _targets(lines.decode_line_table(u), random.Random(u.offset), 200)
               for u in _units(FIXTURES / f"{name}.elf")}
    base = [_answers(u, targets[u.offset], targeted=False)[0]
            for u in _units(FIXTURES / f"{name}.elf")]
    kinds = {"targeted": 0, "whole": 0, "error": 0}
    changed = 0
    for i in range(150):
        data = bytearray(original)
        mutate_line_program(rng, data, sec.offset, sec.size)
        path = tmp_path / f"m{i}.elf"
        path.write_bytes(bytes(data))
        results = []
        for unit in _units(path):
            want, _ = _answers(unit, targets[unit.offset], targeted=False)
            got, rows = _answers(unit, targets[unit.offset], targeted=True)
            assert got == want, f"mutant {i} of {name}, unit 0x{unit.offset:x}"
            kinds["error" if got[0] == "error" else
                  "targeted" if isinstance(rows, lines.TargetRows) else "whole"] += 1
            results.append(want)
        changed += results != base
    assert changed >= 100                  # the damage reached the programs
    # answered by the targeted loop, by the whole table (the loop gave up) and errors
    assert kinds["targeted"] and kinds["whole"] and kinds["error"], kinds


@pytest.mark.parametrize("name", ["arm_thumb", "x86_64_dw4", "sites_arm", "arm_thumb_gc"])
def test_batches_after_the_first_answer_as_the_whole_table(name):
    """A second batch asks rows the first did not announce: the units are decoded again
    for both (or whole), and every answer equals the resolver's that never heard of them."""
    from memsleuth.symbols.resolver import DwarfResolver

    image = ElfImage(FIXTURES / f"{name}.elf")
    plain = DwarfResolver(image)
    code = [a for s in image.text_ranges for a in range(s[0], s[1], 2)]
    rng = random.Random(name)
    batches = [sorted(rng.sample(code, min(len(code), n))) for n in (40, 300, 5)]
    told = DwarfResolver(image)
    for batch in batches:
        told.expect(batch)
        for a in batch:
            assert told.frames(a) == plain.frames(a), hex(a)
    # nothing announced: a lookup still answers (from the whole table)
    for a in rng.sample(code, min(len(code), 50)):
        assert told.frames(a) == plain.frames(a), hex(a)
    assert any(isinstance(t, lines.TargetRows) for t in told._lines.values())
