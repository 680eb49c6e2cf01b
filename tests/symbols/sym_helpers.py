"""Helpers shared by the symbolizer tests: the committed ELFs and their addr2line oracle."""

from __future__ import annotations

import json
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
