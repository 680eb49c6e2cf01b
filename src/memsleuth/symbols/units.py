"""Compilation units: headers, their string/address/range tables, and which CU holds an address.

The address index comes from ``.debug_aranges`` when the producer wrote one (GCC does);
CUs missing from it are indexed from their top DIE's ``low_pc``/``high_pc``/``ranges``.
Nothing below a CU's top DIE is decoded here.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property

from memsleuth.symbols.elf import ElfImage
from memsleuth.symbols.errors import CorruptElf
from memsleuth.symbols.forms import (
    C_ADDR,
    C_ADDRX,
    C_LINE_STRP,
    C_RNGLISTX,
    C_STR,
    C_STRP,
    C_STRX,
    Abbrev,
    AT_addr_base,
    AT_comp_dir,
    AT_GNU_addr_base,
    AT_GNU_ranges_base,
    AT_high_pc,
    AT_low_pc,
    AT_name,
    AT_ranges,
    AT_rnglists_base,
    AT_stmt_list,
    AT_str_offsets_base,
    TAG_compile_unit,
    TAG_partial_unit,
    TAG_skeleton_unit,
    parse_abbrevs_at,
    read_die,
    uleb,
)

DW_UT_compile, DW_UT_type, DW_UT_partial, DW_UT_skeleton, DW_UT_split_compile = 1, 2, 3, 4, 5
DW_UT_split_type = 6


class DwarfSections:
    """Raw DWARF sections of one ELF, decoded on first use."""

    def __init__(self, image: ElfImage) -> None:
        self.image = image
        self.little = image.little_endian
        self.order = "little" if self.little else "big"
        self._abbrev_cache: dict[tuple[int, int, int, int], dict[int, Abbrev]] = {}
        self._abbrev_by_body: dict[tuple[bytes, int, int, int], dict[int, Abbrev]] = {}

    def _sec(self, name: str) -> bytes:
        return self.image.section_data(name) or b""

    @cached_property
    def info(self) -> bytes:
        return self._sec(".debug_info")

    @cached_property
    def abbrev(self) -> bytes:
        return self._sec(".debug_abbrev")

    @cached_property
    def str(self) -> bytes:
        return self._sec(".debug_str")

    @cached_property
    def line_str(self) -> bytes:
        return self._sec(".debug_line_str")

    @cached_property
    def str_offsets(self) -> bytes:
        return self._sec(".debug_str_offsets")

    @cached_property
    def addr(self) -> bytes:
        return self._sec(".debug_addr")

    @cached_property
    def ranges(self) -> bytes:
        return self._sec(".debug_ranges")

    @cached_property
    def rnglists(self) -> bytes:
        return self._sec(".debug_rnglists")

    @cached_property
    def line(self) -> bytes:
        return self._sec(".debug_line")

    @cached_property
    def aranges(self) -> bytes:
        return self._sec(".debug_aranges")

    def uint(self, data: bytes, pos: int, size: int) -> int:
        return int.from_bytes(data[pos:pos + size], self.order)

    def cstr(self, data: bytes, pos: int) -> str | None:
        if pos >= len(data):
            return None
        end = data.find(b"\0", pos)
        return data[pos:end if end >= 0 else len(data)].decode("utf-8", "replace")

    def abbrevs(self, offset: int, addr_size: int, offset_size: int, version: int
                ) -> dict[int, Abbrev]:
        key = (offset, addr_size, offset_size, version)
        table = self._abbrev_cache.get(key)
        if table is None:
            # GCC writes a table per unit, and units of like code write like tables (6
            # distinct of 53 on bench_symbolize.py's ELF): compiled once per content. The
            # bytes up to the next unit's table are the key; a table is shared only if its
            # compilation read no further than those bytes (it stops at its terminator).
            data = self.abbrev
            i = bisect_right(self._abbrev_offsets, offset)
            body = data[offset:self._abbrev_offsets[i] if i < len(self._abbrev_offsets)
                        else len(data)]
            ckey = (body, addr_size, offset_size, version)
            table = self._abbrev_by_body.get(ckey)
            if table is None:
                table, end = parse_abbrevs_at(data, offset, addr_size, offset_size, version)
                if end - offset <= len(body):
                    self._abbrev_by_body[ckey] = table
            self._abbrev_cache[key] = table
        return table

    @cached_property
    def _abbrev_offsets(self) -> list[int]:
        return sorted({u.abbrev_offset for u in self.units})

    @cached_property
    def units(self) -> list[Unit]:
        """Every compile/partial unit in ``.debug_info`` (type units are skipped)."""
        out = []
        data, pos = self.info, 0
        while pos + 11 <= len(data):
            length = self.uint(data, pos, 4)
            offset_size, hdr = 4, pos + 4
            if length == 0xFFFFFFFF:
                length, offset_size, hdr = self.uint(data, pos + 4, 8), 8, pos + 12
            end = hdr + length
            version = self.uint(data, hdr, 2)
            if version >= 5:
                unit_type = data[hdr + 2]
                addr_size = data[hdr + 3]
                abbrev_off = self.uint(data, hdr + 4, offset_size)
                die = hdr + 4 + offset_size
                if unit_type in (DW_UT_skeleton, DW_UT_split_compile):
                    die += 8
                elif unit_type in (DW_UT_type, DW_UT_split_type):
                    pos = end
                    continue
            else:
                unit_type = DW_UT_compile
                abbrev_off = self.uint(data, hdr + 2, offset_size)
                addr_size = data[hdr + 2 + offset_size]
                die = hdr + 3 + offset_size
            if 2 <= version <= 5 and end <= len(data):
                out.append(Unit(self, pos, end, version, addr_size, offset_size,
                                abbrev_off, die))
            pos = end
        return out

    @cached_property
    def _unit_offsets(self) -> list[int]:
        return [u.offset for u in self.units]

    def unit_at_offset(self, offset: int) -> Unit | None:
        """The unit whose bytes hold a .debug_info offset (for DW_FORM_ref_addr)."""
        i = bisect_right(self._unit_offsets, offset) - 1
        if i >= 0 and offset < self.units[i].end:
            return self.units[i]
        return None


@dataclass(eq=False)
class Unit:
    """One compilation unit: its header and top DIE, with helpers to read its attributes."""

    dwarf: DwarfSections
    offset: int
    end: int
    version: int
    addr_size: int
    offset_size: int
    abbrev_offset: int
    die_offset: int
    _top: dict | None = field(default=None, repr=False)

    @cached_property
    def abbrevs(self) -> dict[int, Abbrev]:
        return self.dwarf.abbrevs(self.abbrev_offset, self.addr_size, self.offset_size,
                                  self.version)

    def read_die(self, pos: int):
        return read_die(self.dwarf.info, pos, self.abbrevs, self.dwarf.little)

    @cached_property
    def top(self) -> tuple[Abbrev | None, dict]:
        ab, attrs, _ = self.read_die(self.die_offset)
        return ab, attrs

    @property
    def is_code_unit(self) -> bool:
        ab = self.top[0]
        return ab is not None and ab.tag in (TAG_compile_unit, TAG_partial_unit,
                                             TAG_skeleton_unit)

    def _top_int(self, *keys: int, default: int = 0) -> int:
        attrs = self.top[1]
        for k in keys:
            if k in attrs:
                return attrs[k][1]
        return default

    @cached_property
    def str_offsets_base(self) -> int:
        # DWARF 5 default: just past the .debug_str_offsets header of the only contribution
        return self._top_int(AT_str_offsets_base, default=8 if self.offset_size == 4 else 16)

    @cached_property
    def addr_base(self) -> int:
        return self._top_int(AT_addr_base, AT_GNU_addr_base,
                             default=8 if self.offset_size == 4 else 16)

    @cached_property
    def rnglists_base(self) -> int:
        return self._top_int(AT_rnglists_base, AT_GNU_ranges_base, default=0)

    @cached_property
    def base_address(self) -> int:
        """The CU's DW_AT_low_pc: the base for offset-pair range entries."""
        v = self.top[1].get(AT_low_pc)
        return self.address(v) if v else 0

    @cached_property
    def stmt_list(self) -> int | None:
        v = self.top[1].get(AT_stmt_list)
        return v[1] if v else None

    @cached_property
    def comp_dir(self) -> str | None:
        return self.string(self.top[1].get(AT_comp_dir))

    @cached_property
    def name(self) -> str | None:
        return self.string(self.top[1].get(AT_name))

    # -- attribute values ------------------------------------------------------------------
    def string(self, v: tuple[int, int] | None) -> str | None:
        if v is None:
            return None
        cls, val = v
        d = self.dwarf
        if cls == C_STRP:
            return d.cstr(d.str, val)
        if cls == C_STR:
            return d.cstr(d.info, val)
        if cls == C_LINE_STRP:
            return d.cstr(d.line_str, val)
        if cls == C_STRX:
            off = d.uint(d.str_offsets, self.str_offsets_base + val * self.offset_size,
                         self.offset_size)
            return d.cstr(d.str, off)
        return None

    def address(self, v: tuple[int, int]) -> int:
        cls, val = v
        if cls == C_ADDRX:
            return self.dwarf.uint(self.dwarf.addr, self.addr_base + val * self.addr_size,
                                   self.addr_size)
        return val

    def pc_ranges(self, attrs: dict) -> list[tuple[int, int]]:
        """[low, high) ranges of a DIE from low_pc/high_pc or DW_AT_ranges."""
        return self.extent(attrs.get(AT_low_pc), attrs.get(AT_high_pc), attrs.get(AT_ranges))

    def extent(self, lo: tuple[int, int] | None, hi: tuple[int, int] | None,
               rng: tuple[int, int] | None) -> list[tuple[int, int]]:
        """pc_ranges from the three attribute values (None when absent)."""
        if lo is not None:
            if hi is None:
                return []
            low = self.address(lo)
            high = self.address(hi) if hi[0] in (C_ADDR, C_ADDRX) else low + hi[1]
            return [(low, high)] if high > low else []
        if rng is None:
            return []
        return self.range_list(rng)

    def range_list(self, v: tuple[int, int]) -> list[tuple[int, int]]:
        cls, val = v
        try:
            if self.version >= 5:
                d = self.dwarf
                if cls == C_RNGLISTX:
                    base = self.rnglists_base
                    val = base + d.uint(d.rnglists, base + val * self.offset_size,
                                        self.offset_size)
                return self._rnglist(val)
            return self._ranges_v4(val)
        except IndexError:
            return []

    def _ranges_v4(self, pos: int) -> list[tuple[int, int]]:
        d, n = self.dwarf, self.addr_size
        data, base, out = d.ranges, self.base_address, []
        top = (1 << (8 * n)) - 1
        while pos + 2 * n <= len(data):
            a, b = d.uint(data, pos, n), d.uint(data, pos + n, n)
            pos += 2 * n
            if a == 0 and b == 0:
                break
            if a == top:
                base = b
            elif b > a:
                out.append((base + a, base + b))
        return out

    def _addrx(self, i: int) -> int:
        n = self.addr_size
        return self.dwarf.uint(self.dwarf.addr, self.addr_base + i * n, n)

    def _rnglist(self, pos: int) -> list[tuple[int, int]]:
        d, n = self.dwarf, self.addr_size
        data, base, out = d.rnglists, self.base_address, []
        addrx = self._addrx
        size = len(data)
        while pos < size:
            kind = data[pos]
            pos += 1
            if kind == 4:        # offset_pair (GCC's usual entry): ULEBs, read inline
                a = data[pos]
                pos += 1
                if a >= 0x80:
                    a &= 0x7F
                    shift = 7
                    while True:
                        c = data[pos]
                        pos += 1
                        a |= (c & 0x7F) << shift
                        if c < 0x80:
                            break
                        shift += 7
                b = data[pos]
                pos += 1
                if b >= 0x80:
                    b &= 0x7F
                    shift = 7
                    while True:
                        c = data[pos]
                        pos += 1
                        b |= (c & 0x7F) << shift
                        if c < 0x80:
                            break
                        shift += 7
                a, b = base + a, base + b
            elif kind == 0:      # end_of_list
                break
            elif kind == 1:      # base_addressx
                i, pos = uleb(data, pos)
                base = addrx(i)
                continue
            elif kind == 2:      # startx_endx
                i, pos = uleb(data, pos)
                j, pos = uleb(data, pos)
                a, b = addrx(i), addrx(j)
            elif kind == 3:      # startx_length
                i, pos = uleb(data, pos)
                ln, pos = uleb(data, pos)
                a = addrx(i)
                b = a + ln
            elif kind == 5:      # base_address
                base = d.uint(data, pos, n)
                pos += n
                continue
            elif kind == 6:      # start_end
                a, b = d.uint(data, pos, n), d.uint(data, pos + n, n)
                pos += 2 * n
            elif kind == 7:      # start_length
                a = d.uint(data, pos, n)
                ln, pos = uleb(data, pos + n)
                b = a + ln
            else:
                break
            if b > a:
                out.append((a, b))
        return out


class UnitIndex:
    """Address -> unit, from .debug_aranges plus the top DIEs of units it misses."""

    def __init__(self, dwarf: DwarfSections) -> None:
        self.dwarf = dwarf
        by_offset = {u.offset: u for u in dwarf.units}
        spans: list[tuple[int, int, int]] = []
        covered = set()
        for lo, hi, cu_off in self._aranges():
            if cu_off in by_offset and hi > lo:
                spans.append((lo, hi, cu_off))
                covered.add(cu_off)
        for u in dwarf.units:
            if u.offset in covered or not u.is_code_unit:
                continue
            for lo, hi in u.pc_ranges(u.top[1]):
                spans.append((lo, hi, u.offset))
        spans.sort()
        self._spans = spans
        self._starts = [s[0] for s in spans]
        self._units = by_offset

    def _aranges(self):
        d = self.dwarf
        data, pos = d.aranges, 0
        while pos + 16 <= len(data):
            length = d.uint(data, pos, 4)
            os_, hdr = 4, pos + 4
            if length == 0xFFFFFFFF:
                length, os_, hdr = d.uint(data, pos + 4, 8), 8, pos + 12
            end = hdr + length
            cu_off = d.uint(data, hdr + 2, os_)
            asz = data[hdr + 2 + os_]
            seg = data[hdr + 3 + os_]
            p = hdr + 4 + os_
            tup = 2 * asz + seg
            if tup == 0 or end <= pos:
                raise CorruptElf(f".debug_aranges set at 0x{pos:x} with address size 0")
            p += (-(p - pos)) % tup  # tuples are aligned to their size
            while p + tup <= end:
                a = d.uint(data, p + seg, asz)
                ln = d.uint(data, p + seg + asz, asz)
                p += tup
                if a == 0 and ln == 0:
                    break
                yield a, a + ln, cu_off
            pos = end

    def unit_for(self, addr: int) -> Unit | None:
        i = bisect_right(self._starts, addr) - 1
        # spans can overlap (gc'd sections at 0); the latest-starting covering span wins
        for j in range(i, max(i - 16, -1), -1):
            lo, hi, off = self._spans[j]
            if lo <= addr < hi:
                return self._units[off]
        return None
