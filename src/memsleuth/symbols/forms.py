"""DWARF abbreviations and attribute forms: a lean DIE decoder for the hot path.

pyelftools builds an object per DIE and per attribute (~40 us per DIE); a 10 MB-DWARF
firmware has ~10^6 DIEs. Here each abbreviation is compiled once into a *plan* that keeps
only the attributes the symbolizer uses and merges runs of fixed-size attributes it skips,
so skipping a DIE is a few slice-free additions. Values stay raw ``(form class, int)``
pairs; ``units.Unit`` turns them into strings, addresses and ranges.
"""

from __future__ import annotations

from dataclasses import dataclass

# -- attribute codes the symbolizer reads ---------------------------------------------------
AT_sibling = 0x01
AT_name = 0x03
AT_stmt_list = 0x10
AT_low_pc = 0x11
AT_high_pc = 0x12
AT_comp_dir = 0x1B
AT_abstract_origin = 0x31
AT_declaration = 0x3C
AT_specification = 0x47
AT_ranges = 0x55
AT_call_column = 0x57
AT_call_file = 0x58
AT_call_line = 0x59
AT_linkage_name = 0x6E
AT_str_offsets_base = 0x72
AT_addr_base = 0x73
AT_rnglists_base = 0x74
AT_MIPS_linkage_name = 0x2007
AT_GNU_ranges_base = 0x2132
AT_GNU_addr_base = 0x2133

WANTED = frozenset({
    AT_sibling, AT_name, AT_stmt_list, AT_low_pc, AT_high_pc, AT_comp_dir,
    AT_abstract_origin, AT_declaration, AT_specification, AT_ranges, AT_call_column,
    AT_call_file, AT_call_line, AT_linkage_name, AT_str_offsets_base, AT_addr_base,
    AT_rnglists_base, AT_MIPS_linkage_name, AT_GNU_ranges_base, AT_GNU_addr_base,
})

_EXTENT = frozenset({AT_low_pc, AT_high_pc, AT_ranges})

# -- tags ------------------------------------------------------------------------------------
TAG_lexical_block = 0x0B
TAG_compile_unit = 0x11
TAG_inlined_subroutine = 0x1D
TAG_module = 0x1E
TAG_subprogram = 0x2E
TAG_namespace = 0x39
TAG_partial_unit = 0x3C
TAG_skeleton_unit = 0x4A

# -- how a value is laid out (plan "kind") -------------------------------------------------
K_FIXED, K_ULEB, K_SLEB, K_CSTR, K_BLOCK, K_CONST, K_BLOCKN, K_INDIRECT = range(8)

# -- what a value means (form "class") -----------------------------------------------------
(C_DATA, C_ADDR, C_ADDRX, C_STRP, C_LINE_STRP, C_STRX, C_STR, C_REF, C_REF_ADDR,
 C_SEC_OFFSET, C_RNGLISTX, C_OTHER) = range(12)


def uleb(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def sleb(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            if b & 0x40:
                result -= 1 << shift
            return result, pos


def form_layout(form: int, addr_size: int, offset_size: int, version: int
                ) -> tuple[int, int, int]:
    """(kind, size, class) for a form; raises KeyError for a form we do not know."""
    key = (addr_size, offset_size, version)
    table = _LAYOUTS.get(key)
    if table is None:
        table = _LAYOUTS[key] = _layouts(addr_size, offset_size, version)
    return table[form]


#: form tables per (address size, offset size, version): a unit's abbreviations are
#: compiled once per unit (GCC writes one table per unit), ~200 forms each
_LAYOUTS: dict[tuple[int, int, int], dict[int, tuple[int, int, int]]] = {}


def _layouts(addr_size: int, offset_size: int, version: int) -> dict[int, tuple[int, int, int]]:
    os_, as_ = offset_size, addr_size
    return {
        0x01: (K_FIXED, as_, C_ADDR),
        0x03: (K_BLOCKN, 2, C_OTHER),
        0x04: (K_BLOCKN, 4, C_OTHER),
        0x05: (K_FIXED, 2, C_DATA),
        0x06: (K_FIXED, 4, C_DATA),
        0x07: (K_FIXED, 8, C_DATA),
        0x08: (K_CSTR, 0, C_STR),
        0x09: (K_BLOCK, 0, C_OTHER),
        0x0A: (K_BLOCKN, 1, C_OTHER),
        0x0B: (K_FIXED, 1, C_DATA),
        0x0C: (K_FIXED, 1, C_DATA),
        0x0D: (K_SLEB, 0, C_DATA),
        0x0E: (K_FIXED, os_, C_STRP),
        0x0F: (K_ULEB, 0, C_DATA),
        0x10: (K_FIXED, as_ if version <= 2 else os_, C_REF_ADDR),
        0x11: (K_FIXED, 1, C_REF),
        0x12: (K_FIXED, 2, C_REF),
        0x13: (K_FIXED, 4, C_REF),
        0x14: (K_FIXED, 8, C_REF),
        0x15: (K_ULEB, 0, C_REF),
        0x16: (K_INDIRECT, 0, C_OTHER),
        0x17: (K_FIXED, os_, C_SEC_OFFSET),
        0x18: (K_BLOCK, 0, C_OTHER),
        0x19: (K_CONST, 1, C_DATA),
        0x1A: (K_ULEB, 0, C_STRX),
        0x1B: (K_ULEB, 0, C_ADDRX),
        0x1C: (K_FIXED, 4, C_OTHER),
        0x1D: (K_FIXED, os_, C_OTHER),
        0x1E: (K_FIXED, 16, C_OTHER),
        0x1F: (K_FIXED, os_, C_LINE_STRP),
        0x20: (K_FIXED, 8, C_OTHER),
        0x21: (K_CONST, 0, C_DATA),
        0x22: (K_ULEB, 0, C_OTHER),
        0x23: (K_ULEB, 0, C_RNGLISTX),
        0x24: (K_FIXED, 8, C_OTHER),
        0x25: (K_FIXED, 1, C_STRX),
        0x26: (K_FIXED, 2, C_STRX),
        0x27: (K_FIXED, 3, C_STRX),
        0x28: (K_FIXED, 4, C_STRX),
        0x29: (K_FIXED, 1, C_ADDRX),
        0x2A: (K_FIXED, 2, C_ADDRX),
        0x2B: (K_FIXED, 3, C_ADDRX),
        0x2C: (K_FIXED, 4, C_ADDRX),
        0x1F01: (K_ULEB, 0, C_ADDRX),
        0x1F02: (K_ULEB, 0, C_STRX),
        0x1F20: (K_FIXED, os_, C_OTHER),   # GNU_ref_alt (dwz): another file
        0x1F21: (K_FIXED, os_, C_OTHER),   # GNU_strp_alt
    }


@dataclass(slots=True)
class Abbrev:
    tag: int
    has_children: bool
    #: steps (attr code or None, kind, size or constant, class)
    plan: tuple[tuple[int | None, int, int, int], ...]
    #: bytes of the attributes when all are fixed-size, else -1 (such a DIE is skipped
    #: without decoding it: most parameters, variables and call sites)
    size: int = -1
    #: where DW_AT_sibling (a unit-relative reference) sits in such a DIE, else -1
    sib_at: int = -1
    sib_size: int = 0
    #: in such a DIE: low_pc, high_pc and ranges as attr -> (offset, size, class), or
    #: (-1, constant, class) for an implicit constant; what a scope's extent is read from
    #: without decoding the rest
    where: dict[int, tuple[int, int, int]] | None = None
    #: (offset, size, class) of DW_AT_ranges when it is all ``where`` holds (GCC's inlined
    #: subroutines and blocks): the extent is then that range list, read without a dict
    rng_at: tuple[int, int, int] | None = None
    #: in such a DIE with no implicit constants: the wanted attributes as (attr, offset,
    #: size, class), read_die's reads without its per-form dispatch (``fixed_attrs``)
    fields: tuple[tuple[int, int, int, int], ...] | None = None
    #: for a DIE without children whose attributes are not all fixed-size: how to step over
    #: them (``skip_plain``): byte counts (runs merged) and codes for the variable ones
    steps: tuple[int, ...] | None = None


def parse_abbrevs(data: bytes, pos: int, addr_size: int, offset_size: int, version: int
                  ) -> dict[int, Abbrev]:
    """Compile the abbreviation table at ``pos`` into plans (see module docstring)."""
    return parse_abbrevs_at(data, pos, addr_size, offset_size, version)[0]


def parse_abbrevs_at(data: bytes, pos: int, addr_size: int, offset_size: int, version: int
                     ) -> tuple[dict[int, Abbrev], int]:
    """``parse_abbrevs``, and the position just past the table's terminating 0."""
    table: dict[int, Abbrev] = {}
    while True:
        code, pos = uleb(data, pos)
        if code == 0:
            return table, pos
        tag, pos = uleb(data, pos)
        has_children = data[pos] != 0
        pos += 1
        plan: list[list] = []
        while True:
            attr, pos = uleb(data, pos)
            form, pos = uleb(data, pos)
            if attr == 0 and form == 0:
                break
            const = 0
            if form == 0x21:
                const, pos = sleb(data, pos)
            try:
                kind, size, cls = form_layout(form, addr_size, offset_size, version)
            except KeyError:
                raise ValueError(f"unknown DWARF form 0x{form:x}") from None
            if kind == K_CONST and form == 0x21:
                size = const
            key = attr if attr in WANTED else None
            if key is None and kind == K_CONST:
                continue  # takes no bytes and nobody reads it
            if key is None and kind == K_FIXED and plan and plan[-1][0] is None \
                    and plan[-1][1] == K_FIXED:
                plan[-1][2] += size   # merge runs of skipped fixed-size attributes
                continue
            plan.append([key, kind, size, cls])
        table[code] = _abbrev(tag, has_children, tuple(tuple(p) for p in plan))


def _abbrev(tag: int, has_children: bool, plan: tuple) -> Abbrev:
    size, sib_at, sib_size = 0, -1, 0
    where: dict[int, tuple[int, int, int]] = {}
    fields: list[tuple[int, int, int, int]] | None = []
    for key, kind, n, cls in plan:
        if key is not None and fields is not None:
            if kind == K_FIXED:
                fields.append((key, size, n, cls))
            else:
                fields = None
        if key == AT_sibling:   # the last one counts, as in read_die's dict
            sib_at, sib_size = (size, n) if kind == K_FIXED and cls == C_REF else (-1, 0)
        if key in _EXTENT:
            where[key] = (-1, n, cls) if kind == K_CONST else (size, n, cls)
        if kind == K_CONST:
            continue
        if kind != K_FIXED:
            return Abbrev(tag, has_children, plan,
                          steps=None if has_children else _steps(plan))
        size += n
    rng = where.get(AT_ranges)
    rng_at = rng if rng is not None and len(where) == 1 and rng[0] >= 0 else None
    return Abbrev(tag, has_children, plan, size, sib_at, sib_size, where, rng_at,
                  tuple(fields) if fields is not None else None)


_S_ULEB, _S_SLEB, _S_CSTR, _S_BLOCK = -1, -2, -3, -4   # skip_plain's codes; -(10 + n): BLOCKN


def _steps(plan: tuple) -> tuple[int, ...] | None:
    out: list[int] = []
    for _, kind, n, _ in plan:
        if kind == K_FIXED:
            if out and out[-1] >= 0:
                out[-1] += n
            else:
                out.append(n)
        elif kind == K_ULEB:
            out.append(_S_ULEB)
        elif kind == K_SLEB:
            out.append(_S_SLEB)
        elif kind == K_CSTR:
            out.append(_S_CSTR)
        elif kind == K_BLOCK:
            out.append(_S_BLOCK)
        elif kind == K_BLOCKN:
            out.append(-(10 + n))
        elif kind != K_CONST:
            return None     # K_INDIRECT: skip_die's error
    return tuple(out)


def skip_plain(data: bytes, pos: int, steps: tuple[int, ...], order: str) -> int:
    """Where a DIE without children ends (``pos``: just past its code), from its
    abbreviation's ``steps``: skip_die's reads without its per-attribute bookkeeping
    (3x faster on GCC's location-list parameters), so the same errors on damaged data."""
    for st in steps:
        if st >= 0:
            pos += st
        elif st == _S_BLOCK:
            b = data[pos]
            if b < 0x80:
                pos += 1 + b
            else:
                n, pos = uleb(data, pos)
                pos += n
        elif st == _S_CSTR:
            pos = data.index(0, pos) + 1
        elif st == _S_ULEB:
            if data[pos] < 0x80:
                pos += 1
            else:
                _, pos = uleb(data, pos)
        elif st == _S_SLEB:
            _, pos = sleb(data, pos)
        else:
            size = -10 - st
            pos += size + int.from_bytes(data[pos:pos + size], order)
    return pos


def fixed_attrs(data: bytes, body: int, ab: Abbrev, order: str) -> dict[int, tuple[int, int]]:
    """``read_die``'s attributes of a DIE of fixed layout (``ab.fields`` set) whose
    attributes start at ``body``: the same reads, so the same values."""
    return {key: (cls, int.from_bytes(data[body + off:body + off + n], order))
            for key, off, n, cls in ab.fields}


def read_die(data: bytes, pos: int, abbrevs: dict[int, Abbrev], little: bool
             ) -> tuple[Abbrev | None, dict[int, tuple[int, int]], int]:
    """Decode the DIE at ``pos``: (abbrev or None for a null entry, wanted attrs, next pos)."""
    code = data[pos]
    pos += 1
    if code >= 0x80:
        code, pos = uleb(data, pos - 1)
    if code == 0:
        return None, {}, pos
    ab = abbrevs[code]
    attrs: dict[int, tuple[int, int]] = {}
    order = "little" if little else "big"
    for key, kind, size, cls in ab.plan:
        if kind == K_FIXED:
            if key is not None:
                attrs[key] = (cls, int.from_bytes(data[pos:pos + size], order))
            pos += size
        elif kind == K_ULEB:
            b = data[pos]
            if b < 0x80:
                val = b
                pos += 1
            else:
                val, pos = uleb(data, pos)
            if key is not None:
                attrs[key] = (cls, val)
        elif kind == K_CSTR:
            end = data.index(0, pos)
            if key is not None:
                attrs[key] = (C_STR, pos)
            pos = end + 1
        elif kind == K_CONST:
            attrs[key] = (cls, size)
        elif kind == K_SLEB:
            val, pos = sleb(data, pos)
            if key is not None:
                attrs[key] = (cls, val)
        elif kind == K_BLOCK:
            n, pos = uleb(data, pos)
            pos += n
        elif kind == K_BLOCKN:
            n = int.from_bytes(data[pos:pos + size], order)
            pos += size + n
        else:  # K_INDIRECT: the form is in the data; rare, so take the slow road
            form, pos = uleb(data, pos)
            raise ValueError(f"DW_FORM_indirect (0x{form:x}) is not supported")
    return ab, attrs, pos


def skip_die(data: bytes, pos: int, ab: Abbrev, order: str
             ) -> tuple[int, tuple[int, int] | None]:
    """``read_die`` for a DIE a walk only steps over (``pos``: just past its code): where
    it ends and its DW_AT_sibling as read_die would give it, without the dict of the rest.
    The same reads, so the same errors on damaged data."""
    sib = None
    for key, kind, size, cls in ab.plan:
        if kind == K_FIXED:
            if key == AT_sibling:
                sib = (cls, int.from_bytes(data[pos:pos + size], order))
            pos += size
        elif kind == K_ULEB:
            b = data[pos]
            if b < 0x80:
                val = b
                pos += 1
            else:
                val, pos = uleb(data, pos)
            if key == AT_sibling:
                sib = (cls, val)
        elif kind == K_CSTR:
            end = data.index(0, pos)
            if key == AT_sibling:
                sib = (C_STR, pos)
            pos = end + 1
        elif kind == K_CONST:
            if key == AT_sibling:
                sib = (cls, size)
        elif kind == K_SLEB:
            val, pos = sleb(data, pos)
            if key == AT_sibling:
                sib = (cls, val)
        elif kind == K_BLOCK:
            n, pos = uleb(data, pos)
            pos += n
        elif kind == K_BLOCKN:
            n = int.from_bytes(data[pos:pos + size], order)
            pos += size + n
        else:  # K_INDIRECT, as read_die
            form, pos = uleb(data, pos)
            raise ValueError(f"DW_FORM_indirect (0x{form:x}) is not supported")
    return pos, sib
