"""Helpers shared by the symbolizer tests: the committed ELFs and their addr2line oracle."""

from __future__ import annotations

import json
import random
import subprocess
import warnings
from pathlib import Path

from memsleuth.symbols import Location, Symbolizer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "symbols"
WITH_DWARF = ["arm_thumb", "arm_thumb_dw4", "arm_thumb_os", "arm_thumb_gc", "arm_thumb_be",
              "x86_64", "x86_64_dw4", "sites_arm", "sites_x86_64"]


def expected(name: str) -> dict:
    return json.loads((FIXTURES / "expected" / f"{name}.json").read_text())


def open_fixture(name: str, **kw) -> Symbolizer:
    kw.setdefault("use_cache", False)
    kw.setdefault("engine", "python")  # the pure engine is what these tests check
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Symbolizer.open(FIXTURES / f"{name}.elf", **kw)


def frames_of(loc: Location) -> list[list]:
    return [[f.function, f.file, f.line] for f in loc.frames]


def matches_addr2line(loc: Location, exp: list[list]) -> bool:
    """Equal to `addr2line -fi`, whose symbol-table fallback prints `name` + `??:0`."""
    if len(exp) == 1 and exp[0][2] is None and not loc.frames:
        return loc.function == exp[0][0]
    return frames_of(loc) == exp


def committed_elfs() -> list[Path]:
    """Every ELF git tracks (the deliberately corrupt ones aside); outside a git checkout,
    the symbolizer fixtures."""
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(["git", "ls-files", "*.elf"], cwd=root, capture_output=True,
                         text=True).stdout.split()
    if not out:   # not a git checkout: the symbolizer fixtures at least
        return sorted((root / "tests" / "fixtures" / "symbols").glob("*.elf"))
    return [root / p for p in out if not p.startswith("tests/fixtures/corrupt_elf")]


def mutate_line_program(rng: random.Random, data: bytearray, start: int, size: int) -> None:
    """Damage a line program the ways real damage and hostile files do."""
    pos = start + rng.randrange(size)
    mode = rng.randrange(5)
    if mode == 0:      # a few flipped bytes
        for _ in range(rng.randint(1, 3)):
            data[start + rng.randrange(size)] = rng.randrange(256)
    elif mode == 1:    # a LEB128 far wider than 64 bits, or a huge one
        n = rng.choice([3, 9, 10, 12, 40])
        bomb = bytes([0xFF] * (n - 1) + [rng.choice([0x01, 0x3F, 0x40, 0x7F])])
        data[pos:pos + len(bomb)] = bomb[: len(data) - pos]
    elif mode == 2:    # an extended opcode with a wild length or a wide set_address
        ext = bytes([0, rng.choice([1, 2, 5, 9, 13, 0x7F, 0xFF]), rng.choice([1, 2, 3, 4])])
        data[pos:pos + 3] = ext[: len(data) - pos]
    elif mode == 3:    # a unit or header length pointing past the section (or short)
        at = start + rng.choice([0, 6, 8])
        data[at:at + 4] = rng.randrange(1 << 32).to_bytes(4, "little")
    else:              # a standard opcode this producer never defined
        data[pos] = rng.randrange(13, 40)
