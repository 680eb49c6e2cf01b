"""Functions and inline chains of one CU, decoded only where a queried address falls.

A CU's top level is walked once (jumping over each function's body via DW_AT_sibling) to
index its concrete subprograms by address; inside a function only the path of
``DW_TAG_inlined_subroutine`` / lexical-block DIEs leading to the address is decoded.
Names follow bfd: a DIE's own name, else that of its DW_AT_abstract_origin /
DW_AT_specification chain; C++ linkage names are demangled when ``cxxfilt`` is installed.

Both walks also exist in C (``memsleuth._dwarf.top`` and ``.chain``, optional, off with
``MEMSLEUTH_ACCEL=0``): the Python walk costs ~25 us an address. C reads the abbreviation
plans compiled here and leaves to Python whatever it would not walk exactly as Python does
(it returns None), so the walks below stay the reference and the fallback.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from dataclasses import dataclass
from functools import partial

from memsleuth.symbols import lines
from memsleuth.symbols.errors import CorruptElf
from memsleuth.symbols.forms import (
    C_REF,
    C_REF_ADDR,
    AT_abstract_origin,
    AT_call_column,
    AT_call_file,
    AT_call_line,
    AT_high_pc,
    AT_linkage_name,
    AT_low_pc,
    AT_MIPS_linkage_name,
    AT_name,
    AT_ranges,
    AT_sibling,
    AT_specification,
    TAG_inlined_subroutine,
    TAG_lexical_block,
    TAG_module,
    TAG_namespace,
    TAG_subprogram,
    fixed_attrs,
    skip_die,
    skip_plain,
    uleb,
)
from memsleuth.symbols.units import Unit

#: Deeper DIE nesting than this is corrupt DWARF (GCC's deepest real inline chains are ~20).
MAX_DEPTH = 200

TAG_catch_block, TAG_try_block = 0x25, 0x32
_TRANSPARENT = frozenset({TAG_lexical_block, TAG_try_block, TAG_catch_block})

#: the attributes the C walk reads, by the slot _dwarf.c keeps them in (from 7 on: those
#: a scope's name is made of, handed back for NameResolver; _dwarf.c's NAME_AT)
_SLOTS = {AT_sibling: 0, AT_low_pc: 1, AT_high_pc: 2, AT_ranges: 3, AT_call_file: 4,
          AT_call_line: 5, AT_call_column: 6, AT_name: 7, AT_linkage_name: 8,
          AT_MIPS_linkage_name: 9, AT_abstract_origin: 10, AT_specification: 11}
_BIG = 1 << 62      # the C walk keeps values below this (sums of two never overflow int64)

try:  # optional: demangle C++ linkage names
    import cxxfilt as _cxxfilt  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on the environment
    _cxxfilt = None


def demangle(name: str) -> str | None:
    if _cxxfilt is None or not name.startswith("_Z"):
        return None
    try:
        return _cxxfilt.demangle(name)
    except Exception:  # noqa: BLE001 - a demangler failure just means "keep the raw name"
        return None


@dataclass(slots=True, eq=False)
class Scope:
    """A subprogram or inlined subroutine covering an address (its ranges hold it)."""

    die: int                                   # .debug_info offset, for its name
    call_file: int = 0
    call_line: int = 0
    call_column: int = 0
    attrs: dict | None = None                  # the DIE's decoded attributes (for its name)


class FunctionIndex:
    """Concrete functions of one CU by address, with lazily decoded inline trees."""

    def __init__(self, unit: Unit) -> None:
        self.unit = unit
        self._data = unit.dwarf.info
        self._abbrevs = unit.abbrevs
        self._order = unit.dwarf.order
        # the scopes decoded in the function looked up last: addresses come sorted, so the
        # next one is often in the same function and walks the same DIEs
        self._fn: int | None = None
        self._seen: dict[int, tuple] = {}
        self._runs: dict[int, int] = {}    # start of a run of non-scope DIEs -> its end
        self._head: tuple = (None, {}, 0)   # that function's DIE, decoded
        self._last_key: tuple | None = None     # the range list decoded last
        self._last_ranges: list = []
        self._c, top = _c_walks(unit)
        spans: list[tuple[int, int, int]] = []
        ab, _, pos = unit.read_die(unit.die_offset)
        if ab is not None and ab.has_children:
            found = top(pos) if top is not None else None
            if found is not None:
                spans = found
            else:               # None: C met something it leaves to Python
                self._walk_top(pos, spans)
        spans.sort()
        self._spans = spans
        self._starts = [s[0] for s in spans]

    def _skip_children(self, pos: int) -> int:
        """Position after the children list starting at pos (null entry included)."""
        unit = self.unit
        data, abbrevs, order = self._data, self._abbrevs, self._order
        lo, hi = unit.die_offset, unit.end
        depth = 1
        while depth:
            if not lo <= pos < hi:
                _check_inside(unit, pos)
            start = pos
            code = data[pos]
            pos += 1
            if code >= 0x80:
                code, pos = uleb(data, start)
            if code == 0:
                depth -= 1
                continue
            ab = abbrevs[code]
            if ab.size >= 0:        # fixed-size attributes: skipped without decoding
                pos += ab.size
                if not ab.has_children:
                    continue
                if ab.sib_at >= 0:
                    at = pos - ab.size + ab.sib_at
                    pos = _sibling(unit, start, pos,
                                   int.from_bytes(data[at:at + ab.sib_size], order))
                    continue
            elif ab.steps is not None:      # no children
                pos = skip_plain(data, pos, ab.steps, order)
                continue
            else:
                pos, sib = skip_die(data, pos, ab, order)
                if not ab.has_children:
                    continue
                if sib is not None and sib[0] == C_REF:
                    pos = _sibling(unit, start, pos, sib[1])
                    continue
            depth += 1
            if depth > MAX_DEPTH:
                raise CorruptElf(f"DIEs nested deeper than {MAX_DEPTH} levels at "
                                 f".debug_info+0x{start:x}")
        return pos

    def _past_fixed(self, ab, start: int, pos: int) -> int:
        """Position after the fixed-layout DIE at ``start`` whose attributes end at ``pos``,
        and its children: at its DW_AT_sibling, read in place, when it has one."""
        if not ab.has_children:
            return pos
        if ab.sib_at >= 0:
            at = pos - ab.size + ab.sib_at
            return _sibling(self.unit, start, pos,
                            int.from_bytes(self._data[at:at + ab.sib_size], self._order))
        return self._skip_children(pos)

    def _after(self, ab, attrs, start: int, pos: int) -> int:
        """Position after the DIE at ``start`` (decoded up to ``pos``) and its children."""
        if not ab.has_children:
            return pos
        sib = attrs.get(AT_sibling)
        if sib is not None and sib[0] == C_REF:
            return _sibling(self.unit, start, pos, sib[1])
        return self._skip_children(pos)

    def _walk_top(self, pos: int, spans: list) -> None:
        unit = self.unit
        end = unit.end
        data, abbrevs, order = self._data, self._abbrevs, self._order
        depth = 1
        while depth and pos < end:
            start = pos
            code = data[pos]
            if 0 < code < 0x80:
                ab = abbrevs[code]
                tag = ab.tag
                if tag != TAG_subprogram and tag != TAG_namespace and tag != TAG_module:
                    # (types, variables, abstract functions): stepped over undecoded
                    if ab.size >= 0:
                        pos = self._past_fixed(ab, start, pos + 1 + ab.size)
                        continue
                    if ab.steps is not None:
                        pos = skip_plain(data, pos + 1, ab.steps, order)
                        continue
            ab, attrs, pos = self._read(start)
            if ab is None:
                depth -= 1
                continue
            tag = ab.tag
            if tag == TAG_subprogram:
                for lo, hi in unit.pc_ranges(attrs):
                    spans.append((lo, hi, start))
                pos = self._after(ab, attrs, start, pos)
            elif tag in (TAG_namespace, TAG_module) and ab.has_children:
                depth += 1
                if depth > MAX_DEPTH:
                    raise CorruptElf(f"namespaces nested deeper than {MAX_DEPTH} levels at "
                                     f".debug_info+0x{start:x}")
            else:
                pos = self._after(ab, attrs, start, pos)

    # -- lookups ---------------------------------------------------------------------------
    def _read(self, start: int) -> tuple:
        """``unit.read_die(start)``, fixed layouts (``fixed_attrs``) without its loop."""
        code = self._data[start]
        if 0 < code < 0x80:
            ab = self._abbrevs[code]
            if ab.fields is not None:
                return ab, fixed_attrs(self._data, start + 1, ab, self._order), \
                    start + 1 + ab.size
        return self.unit.read_die(start)

    def _function_die(self, addr: int) -> int | None:
        i = bisect_right(self._starts, addr) - 1
        if i >= 0:
            lo, hi, die = self._spans[i]     # (the usual case, before the loop's set-up)
            if lo <= addr < hi:
                return die
        for j in range(i, max(i - 8, -1), -1):
            lo, hi, die = self._spans[j]
            if lo <= addr < hi:
                return die
        return None

    def chain(self, addr: int) -> list[Scope]:
        """Scopes covering addr, outermost (the real function) first.

        Only the path to addr is decoded: at each level the siblings that do not cover it
        are jumped over via DW_AT_sibling, so a lookup reads a few dozen DIEs however big
        the function is.
        """
        die = self._function_die(addr)
        if die is None:
            return []
        if self._c is not None and 0 <= addr < _BIG:
            found = self._c(die, addr)
            if found is not None:       # None: C met something it leaves to Python
                return [Scope(*s) for s in found]
        if die != self._fn:
            head = self._read(die)
            self._fn, self._seen, self._runs, self._head = die, {}, {}, head
        ab, attrs, pos = self._head
        out = [Scope(die, 0, 0, 0, attrs)]
        if ab is not None and ab.has_children:
            self._descend(pos, addr, out, 1)
        return out

    def _value(self, where: dict, key: int, body: int) -> tuple[int, int] | None:
        """An attribute of a fixed-layout DIE as read_die gives it: (class, value)."""
        at = where.get(key)
        if at is None:
            return None
        off, size, cls = at
        if off < 0:
            return cls, size            # an implicit constant
        return cls, int.from_bytes(self._data[body + off:body + off + size], self._order)

    def _scope_die(self, start: int) -> tuple:
        """(abbrev, attrs, next pos, pc ranges) of a scope's DIE, decoded once per function."""
        hit = self._seen.get(start)
        if hit is None or hit[1] is None:
            ab, attrs, pos = self.unit.read_die(start)
            hit = self._seen[start] = (ab, attrs, pos, self.unit.pc_ranges(attrs))
        return hit

    def _descend(self, pos: int, addr: int, out: list[Scope], depth: int) -> int | None:
        """Walk one children list; None once the innermost scope at addr is found.

        Every step moves forward inside the unit (a sibling pointing backwards or outside
        is corrupt DWARF, not a loop) and nesting is bounded, so a walk always ends.
        """
        unit = self.unit
        if depth > MAX_DEPTH:
            raise CorruptElf(f"DIEs nested deeper than {MAX_DEPTH} levels at "
                             f".debug_info+0x{pos:x}")
        data, abbrevs, order = self._data, self._abbrevs, self._order
        lo_ok, hi_ok = unit.die_offset, unit.end
        unit_off = unit.offset
        runs = self._runs
        run = pos      # where the current run of DIEs that are no scope began
        while True:
            if not lo_ok <= pos < hi_ok:
                _check_inside(unit, pos)
            if pos == run:
                pos = runs.get(pos, pos)   # walked before, for another address
            start = pos
            code = data[pos]
            pos += 1
            if code >= 0x80:
                code, pos = uleb(data, start)
            if code == 0:
                if start != run:
                    runs[run] = start
                return pos
            ab = abbrevs[code]
            tag = ab.tag
            if tag == TAG_inlined_subroutine or (tag in _TRANSPARENT and ab.has_children):
                if start != run:
                    runs[run] = start
                hit = self._seen.get(start)
                if hit is not None:
                    ab, attrs, pos, ranges = hit
                elif ab.where is not None:
                    # fixed layout: its extent read in place; decoded only if entered
                    rng = ab.rng_at
                    if rng is not None:
                        at = pos + rng[0]
                        key = (rng[2], int.from_bytes(data[at:at + rng[1]], order))
                        if key == self._last_key:   # GCC: a block's list is its inline's
                            ranges = self._last_ranges
                        else:
                            ranges = self._last_ranges = unit.range_list(key)
                            self._last_key = key
                    else:
                        where = ab.where
                        ranges = unit.extent(self._value(where, AT_low_pc, pos),
                                             self._value(where, AT_high_pc, pos),
                                             self._value(where, AT_ranges, pos))
                    attrs = None
                    pos += ab.size
                    self._seen[start] = (ab, None, pos, ranges)
                else:
                    ab, attrs, pos, ranges = self._scope_die(start)
                inside = False
                for lo, hi in ranges:
                    if lo <= addr < hi:
                        inside = True
                        break
                if tag == TAG_inlined_subroutine:
                    if inside:
                        if attrs is None:
                            if ab.fields is not None:
                                attrs = fixed_attrs(data, pos - ab.size, ab, order)
                            else:
                                ab, attrs, pos = unit.read_die(start)
                            self._seen[start] = (ab, attrs, pos, ranges)
                        out.append(Scope(start, attrs.get(AT_call_file, (0, 0))[1],
                                         attrs.get(AT_call_line, (0, 0))[1],
                                         attrs.get(AT_call_column, (0, 0))[1], attrs))
                        if ab.has_children:
                            self._descend(pos, addr, out, depth + 1)
                        return None
                elif inside or not ranges:
                    # a block: transparent for the chain, but only worth entering if it
                    # covers addr (or says nothing about what it covers)
                    nxt = self._descend(pos, addr, out, depth + 1)
                    if nxt is None or inside:
                        return None
                    pos = run = nxt
                    continue
                if attrs is not None:
                    pos = run = self._after(ab, attrs, start, pos)
                    continue
                pos = run = self._past_fixed(ab, start, pos)     # fixed layout
            elif ab.size >= 0:      # fixed-size attributes: skipped without decoding
                pos += ab.size
                if ab.has_children:     # (_past_fixed, inline: most DIEs walked)
                    if ab.sib_at >= 0:
                        at = pos - ab.size + ab.sib_at
                        target = unit_off + int.from_bytes(data[at:at + ab.sib_size], order)
                        if not pos <= target <= hi_ok:
                            _sibling(unit, start, pos, target - unit_off)   # raises
                        pos = target
                    else:
                        pos = self._skip_children(pos)
            elif ab.steps is not None:      # no children: only its end is read
                pos = skip_plain(data, pos, ab.steps, order)
            else:                   # stepped over: only its end and sibling are read
                pos, sib = skip_die(data, pos, ab, order)
                if ab.has_children:
                    if sib is not None and sib[0] == C_REF:
                        pos = _sibling(unit, start, pos, sib[1])
                    else:
                        pos = self._skip_children(pos)


def _c_walks(unit: Unit) -> tuple:
    """The C walks (``_dwarf.chain``, ``_dwarf.top``) bound to this unit, or (None, None):
    not built, turned off (MEMSLEUTH_ACCEL=0), or a unit whose numbers do not fit them
    (Python walks those)."""
    accel = lines._accel
    if accel is None or getattr(accel, "ABI", 0) < 2:
        return None, None
    plans = _pack_plans(unit.abbrevs)
    d = unit.dwarf
    bases = (unit.base_address, unit.addr_base, unit.rnglists_base)
    if plans is None or not all(isinstance(b, int) and 0 <= b < _BIG for b in bases):
        return None, None
    args = (d.info, d.ranges, d.rnglists, d.addr, plans, unit.offset, unit.die_offset,
            unit.end, unit.version, unit.addr_size, unit.offset_size, d.little, *bases)
    return partial(accel.chain, *args), partial(accel.top, *args)


def _pack_plans(abbrevs: dict) -> array | None:
    """A unit's abbreviation plans as one int64 array for the C walk: [max code, offset of
    each code's entry or -1], then per entry [tag, has_children, steps, (slot or -1, kind,
    size, class) per step]; None if it would not fit (codes beyond 2^16, big constants)."""
    if not abbrevs or min(abbrevs) < 1 or max(abbrevs) > 1 << 16:
        return None
    top = max(abbrevs)
    out = [top] + [-1] * top
    for code, ab in abbrevs.items():
        out[code] = len(out)
        out += (ab.tag, int(ab.has_children), len(ab.plan))
        for key, kind, size, cls in ab.plan:
            out += (_SLOTS.get(key, -1), kind, size, cls)
    try:
        return array("q", out)
    except OverflowError:
        return None


def _check_inside(unit: Unit, pos: int) -> None:
    if not unit.die_offset <= pos < unit.end:
        raise CorruptElf(f"a DIE walk left its unit (.debug_info+0x{pos:x} is outside "
                         f"0x{unit.offset:x}..0x{unit.end:x})")


def _sibling(unit: Unit, start: int, pos: int, value: int) -> int:
    """The DW_AT_sibling target of the DIE at ``start``: it must lie past the DIE's own
    attributes and inside the unit, or the walk would go backwards (a loop) or astray."""
    target = unit.offset + value
    if not pos <= target <= unit.end:
        raise CorruptElf(f"DW_AT_sibling of the DIE at .debug_info+0x{start:x} points "
                         f"{'backwards' if target < pos else 'past its unit'} "
                         f"(to 0x{target:x})")
    return target


class NameResolver:
    """DIE offset -> function name, following abstract_origin/specification; memoised."""

    def __init__(self, dwarf) -> None:
        self.dwarf = dwarf
        self._names: dict[int, str | None] = {}
        #: DIE -> its own linkage name, name and the unit and DIE it refers to: the abstract
        #: DIE of an inline function is met once per inlined copy, and read once. Keyed by
        #: the offset alone when it lies in the unit (that unit is then the only one it can
        #: be read with), else by (unit, offset)
        self._info: dict = {}

    def _die_info(self, unit: Unit, die: int, attrs: dict | None = None) -> tuple:
        key = die if unit.offset <= die < unit.end else (unit.offset, die)
        info = self._info.get(key)
        if info is None:
            if attrs is None:
                _, attrs, _ = unit.read_die(die)
            v = attrs.get(AT_linkage_name) or attrs.get(AT_MIPS_linkage_name)
            linkage = unit.string(v) if v is not None else None
            plain = unit.string(attrs[AT_name]) if AT_name in attrs else None
            ref = attrs.get(AT_abstract_origin) or attrs.get(AT_specification)
            nunit = nxt = None
            if ref is not None:
                if ref[0] == C_REF:
                    nunit, nxt = unit, unit.offset + ref[1]
                elif ref[0] == C_REF_ADDR:
                    nu = self.dwarf.unit_at_offset(ref[1])
                    if nu is not None:
                        nunit, nxt = nu, ref[1]
            info = self._info[key] = (linkage, plain, nunit, nxt)
        return info

    def name(self, unit: Unit, die: int, attrs: dict | None = None) -> str | None:
        """``attrs``: the DIE's attributes when the caller has decoded them already."""
        names = self._names
        if die in names:
            return names[die]
        linkage = plain = None
        cur_unit, cur, hops = unit, die, 0
        while cur is not None and hops < 8:
            hops += 1
            own_linkage, own_plain, nunit, nxt = self._die_info(cur_unit, cur, attrs)
            attrs = None
            if linkage is None:
                linkage = own_linkage
            if plain is None:
                plain = own_plain
            if linkage is not None and plain is not None:
                break
            cur_unit, cur = nunit, nxt
        result = (demangle(linkage) if linkage else None) or plain or linkage
        names[die] = result
        return result
