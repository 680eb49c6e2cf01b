"""DWARF address -> frames: the lazy engine behind ``Symbolizer``.

Only the CUs holding queried addresses are touched: their line program is decoded in full
(it cannot be entered mid-way), their top-level DIEs indexed, and the body of each function
hit decoded for its inline tree. Frames follow ``addr2line -fi``: the innermost frame takes
its file:line from the line table, each outer frame the DW_AT_call_file/call_line of the
inlined subroutine it contains.
"""

from __future__ import annotations

import struct
import zlib
from functools import cached_property

from memsleuth.symbols.elf import ElfImage
from memsleuth.symbols.errors import DECODE_ERRORS, CorruptElf
from memsleuth.symbols.inline import FunctionIndex, NameResolver
from memsleuth.symbols.lines import LineTable, TargetRows, decode_line_rows, decode_line_table
from memsleuth.symbols.units import DwarfSections, Unit, UnitIndex

RawFrame = tuple[str | None, str | None, int | None, int | None]


class DwarfResolver:
    def __init__(self, image: ElfImage) -> None:
        self.dwarf = DwarfSections(image)
        self._lines: dict[int, LineTable | TargetRows | None] = {}
        #: unit offset -> the addresses a batch will ask of it (``expect``), sorted
        self._targets: dict[int, list[int]] = {}
        self._funcs: dict[int, FunctionIndex] = {}
        #: the unit of each address ``expect`` was told of (frames() looks it up again else)
        self._units: dict[int, Unit] = {}
        self._names = NameResolver(self.dwarf)

    @cached_property
    def index(self) -> UnitIndex:
        return UnitIndex(self.dwarf)

    def expect(self, addrs: list[int]) -> None:
        """The addresses the next lookups will be: each unit's line program then keeps only
        the rows at them (``decode_line_rows``; a unit decoded so for an earlier batch is
        decoded again for both). Best effort: anything wrong here is left for ``frames``
        to meet and report as usual."""
        targets: dict[int, list[int]] = {}
        units: dict[int, Unit] = {}
        lines = self._lines
        try:
            unit_for = self.index.unit_for
            for a in addrs:
                unit = unit_for(a)
                if unit is None:
                    continue
                units[a] = unit
                have = lines.get(unit.offset, self)
                if have is self or (isinstance(have, TargetRows) and not have.covers(a)):
                    targets.setdefault(unit.offset, []).append(a)
        except Exception:   # noqa: BLE001 - frames() reports it, as without expect()
            return
        self._units = units
        for off, t in targets.items():
            have = lines.get(off, self)
            if isinstance(have, TargetRows):
                t.extend(have.asked)
                del lines[off]
            targets[off] = sorted(set(t))
        self._targets = targets

    def _line_table(self, unit: Unit) -> LineTable | TargetRows | None:
        if unit.offset not in self._lines:
            targets = self._targets.pop(unit.offset, None)
            self._lines[unit.offset] = decode_line_table(unit) if targets is None \
                else decode_line_rows(unit, targets)
        return self._lines[unit.offset]

    def _functions(self, unit: Unit) -> FunctionIndex:
        fi = self._funcs.get(unit.offset)
        if fi is None:
            fi = self._funcs[unit.offset] = FunctionIndex(unit)
        return fi

    def line_program_bytes(self, addrs: list[int]) -> int:
        """Bytes of line program the pure engine would decode for these addresses."""
        d = self.dwarf
        total, seen = 0, set()
        for a in addrs:
            unit = self.index.unit_for(a)
            if unit is None or unit.offset in seen or unit.stmt_list is None:
                continue
            seen.add(unit.offset)
            if unit.offset not in self._lines:
                total += d.uint(d.line, unit.stmt_list, 4)
        return total

    def frames(self, addr: int) -> tuple[RawFrame, ...]:
        """Frames for one (already adjusted) address, innermost first; () if unknown.

        Raises CorruptElf when the DWARF on the way is corrupt: a frame pieced together
        from damaged bytes would look as sure as a right one.
        """
        try:
            unit = self._units.get(addr) or self.index.unit_for(addr)
            if unit is None:
                return ()
            return self._frames(unit, addr)
        except CorruptElf:
            raise
        except (*DECODE_ERRORS, zlib.error, struct.error) as exc:
            raise CorruptElf(f"corrupt DWARF in {self.dwarf.image.path} near address "
                             f"0x{addr:x} ({type(exc).__name__}: {exc})"[:300]) from None

    def _frames(self, unit: Unit, addr: int) -> tuple[RawFrame, ...]:
        table = self._line_table(unit)
        row = table.find(addr) if table is not None else None
        chain = self._functions(unit).chain(addr)
        file, line, col = row if row is not None else (None, None, None)
        if not chain:
            return ((None, file, line, col),) if row is not None else ()
        names = self._names
        frames = [(names.name(unit, chain[-1].die, chain[-1].attrs), file, line, col)]
        for i in range(len(chain) - 2, -1, -1):
            callee = chain[i + 1]
            cfile = table.file(callee.call_file) if table is not None else None
            frames.append((names.name(unit, chain[i].die, chain[i].attrs), cfile,
                           callee.call_line or None, callee.call_column or None))
        return tuple(frames)
