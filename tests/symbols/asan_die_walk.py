"""The C DIE walks under AddressSanitizer and UBSan, on damaged DWARF (a one-off campaign).

    python3 tests/symbols/asan_die_walk.py [MUTANTS_PER_ELF] [ELF ...]

Builds ``memsleuth._dwarf`` with ``-fsanitize=address,undefined`` into a copy of src/ under
a temporary directory, then re-runs itself there with the sanitizer runtimes preloaded and
walks every damaged ELF with test_sym_die_walk_accel.compare (C and Python, answers
compared); the first invalid read or undefined behaviour aborts with the sanitizer's report.
Needs gcc with libasan/libubsan. Not part of the suite: 1,500 mutants of a small ELF take
about a minute. The README ("Speed and memory") gives the last campaign's figures.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from asan_helpers import in_child, rerun_sanitized  # noqa: E402

DEFAULT = ["tests/fixtures/symbols/sites_arm.elf", "tests/fixtures/symbols/x86_64.elf",
           "tests/fixtures/symbols/x86_64_dw4.elf", "tests/fixtures/symbols/arm_thumb_be.elf",
           "tests/fixtures/symbols/arm_thumb_dw4.elf", "tests/fixtures/symbols/arm_thumb_gc.elf",
           "tests/fixtures/threadx/threadx-side2.elf"]


def campaign(mutants: int, elfs: list[Path]) -> None:
    sys.path.insert(0, str(HERE))
    import test_sym_die_walk_accel as t

    from memsleuth.symbols import lines
    from memsleuth.symbols.elf import ElfImage
    from memsleuth.symbols.errors import DECODE_ERRORS, CorruptElf
    from memsleuth.symbols.units import DwarfSections

    print(f"C walks from {lines._accel.__file__}", flush=True)
    totals = {"c": 0, "python": 0, "top c": 0, "top python": 0}
    for elf in elfs:
        image = ElfImage(elf)
        pristine = DwarfSections(image)
        sections = {s: getattr(pristine, s) for s in t.SECTIONS if getattr(pristine, s)}
        rng = random.Random(f"asan-{elf.name}")
        for _ in range(mutants):
            dwarf = DwarfSections(image)
            for _ in range(rng.randint(1, 2)):
                sec = rng.choice(list(sections))
                dwarf.__dict__[sec] = t._mutate(rng, dwarf.__dict__.get(sec, sections[sec]))
            try:
                assert dwarf.units is not None
            except (*DECODE_ERRORS, CorruptElf):
                continue
            seen = t.compare(dwarf, functions=30, span=512, step=2)
            for key in totals:
                totals[key] += seen[key]
        print(f"{elf.name}: {totals}", flush=True)


def main() -> int:
    mutants = int(sys.argv[1]) if len(sys.argv) > 1 else 1500
    elfs = [ROOT / p for p in (sys.argv[2:] or DEFAULT)]
    if in_child():
        campaign(mutants, elfs)
        return 0
    return rerun_sanitized("_dwarf", __file__, sys.argv[1:])

if __name__ == "__main__":
    sys.exit(main())
