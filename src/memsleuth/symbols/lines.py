"""Line tables: one CU's line-number program decoded into sorted address rows.

The opcode loop is hand-written (pyelftools builds an object per row; ~8 s of its 16 s on
a 10 MB-DWARF firmware). Lookups follow binutils' ``addr2line``: the last row at an address
wins, an ``end_sequence`` row ends coverage, and file names are joined with the include
directory and ``comp_dir`` exactly as bfd's ``concat_filename`` does.

The loop and the merge of sequences also exist in C (``memsleuth._dwarf``, optional, off
with ``MEMSLEUTH_ACCEL=0``): the Python loop runs ~7 MB/s of line program, and a 50-unit
firmware's ``.debug_line`` is 3 MB. The C table is packed columns (``array``); a program it
cannot decode exactly as Python would (a read past the section, values beyond int32) is
decoded here instead, so answers and errors are the same either way (tests compare them).
"""

from __future__ import annotations

import os
import struct
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import partial
from itertools import islice

from memsleuth.symbols.errors import DECODE_ERRORS, CorruptElf
from memsleuth.symbols.forms import (
    C_DATA,
    C_LINE_STRP,
    C_STR,
    C_STRP,
    C_STRX,
    K_BLOCK,
    K_BLOCKN,
    K_CONST,
    K_CSTR,
    K_FIXED,
    K_SLEB,
    K_ULEB,
    form_layout,
    sleb,
    uleb,
)
from memsleuth.symbols.units import Unit

DW_LNCT_path, DW_LNCT_directory_index = 1, 2


def _load_accel():
    """The C line-program loop, or None (not built, turned off, or an odd platform)."""
    if os.environ.get("MEMSLEUTH_ACCEL", "1") == "0":
        return None
    try:
        from memsleuth import _dwarf  # type: ignore[attr-defined]
    except ImportError:
        return None
    if array("Q").itemsize != 8 or array("i").itemsize != 4:
        return None
    return _dwarf


_accel = _load_accel()


class PackedRows:
    """The C decoder's rows: (file index, line, column) int32 triples, read as tuples."""

    __slots__ = ("_r",)

    def __init__(self, packed: bytes) -> None:
        self._r = array("i")
        self._r.frombytes(packed)

    def __len__(self) -> int:
        return len(self._r) // 3

    def __getitem__(self, i: int) -> tuple[int, int, int]:
        if i < 0:
            i += len(self._r) // 3
        r = self._r
        return r[3 * i], r[3 * i + 1], r[3 * i + 2]


@dataclass(slots=True)
class LineTable:
    """Rows of one CU sorted by address; ``files[i]`` is the joined path of file index i."""

    addrs: list[int] | array               # array("Q") from the C decoder
    rows: list[tuple[int, int, int]] | PackedRows  # (file index, line, column); file -1 = end
    files: list[str | None]

    def find(self, addr: int) -> tuple[str | None, int, int] | None:
        i = bisect_right(self.addrs, addr) - 1
        if i < 0:
            return None
        f, line, col = self.rows[i]
        if f < 0:
            return None
        return self.file(f), line, col

    def file(self, index: int) -> str | None:
        return self.files[index] if 0 <= index < len(self.files) else None


def _is_abs(p: str) -> bool:
    return p.startswith("/") or (len(p) > 2 and p[1] == ":" and p[2] in "/\\")


def _join(comp_dir: str | None, subdir: str | None, name: str) -> str:
    """bfd's concat_filename: relative names get their include dir, then comp_dir."""
    if _is_abs(name):
        return name
    dir_name = None
    if subdir is None or not _is_abs(subdir):
        dir_name = comp_dir
    if dir_name is None:
        dir_name, subdir = subdir, None
    if dir_name is None:
        return name
    if subdir:
        return f"{dir_name}/{subdir}/{name}"
    return f"{dir_name}/{name}"


def decode_line_table(unit: Unit) -> LineTable | None:
    """Decode the line program at the unit's DW_AT_stmt_list (None if it has none)."""
    off = unit.stmt_list
    if off is None:
        return None
    try:
        return _table(unit, _header(unit, off))
    except (*DECODE_ERRORS, struct.error) as exc:
        raise _corrupt(off, exc) from None


def decode_line_rows(unit: Unit, targets: list[int]) -> LineTable | TargetRows | None:
    """The rows at ``targets`` (sorted, distinct addresses) without building the table.

    The pure-Python state machine spends half its time making and keeping ~800,000 rows
    nobody asks for (a 3 MB ``.debug_line``); this runs it keeping only the row in force
    at each target. Programs it cannot answer exactly as the table would (overlapping or
    empty sequences, addresses going backwards, VLIW, opcodes it does not know, operands
    reaching past the program) and the C decoder get the whole table instead.
    """
    off = unit.stmt_list
    if off is None:
        return None
    try:
        head = _header(unit, off)
        if _accel is None and head.max_ops == 1 and head.end <= len(head.data) \
                and head.opcode_base >= 13:
            found = _run_targets(head, targets)
            if found is not None:
                return TargetRows(found, head.files, partial(decode_line_table, unit))
        return _table(unit, head)
    except (*DECODE_ERRORS, struct.error) as exc:
        raise _corrupt(off, exc) from None


def _corrupt(off: int, exc: Exception) -> CorruptElf:
    # lines from a damaged program would be wrong with full confidence
    return CorruptElf(f"corrupt line program at .debug_line+0x{off:x} "
                      f"({type(exc).__name__}: {exc})"[:300])


class TargetRows:
    """A unit's rows at the addresses asked for, answered as ``LineTable`` would; any
    other address decodes the whole table (``full``) once."""

    __slots__ = ("_found", "_full", "_table", "files")

    def __init__(self, found: dict[int, tuple[int, int, int] | None], files: list,
                 full) -> None:
        self._found = found
        self.files = files
        self._full = full
        self._table: LineTable | None = None

    def find(self, addr: int) -> tuple[str | None, int, int] | None:
        found = self._found
        if addr not in found:
            if self._table is None:
                self._table = self._full()
            return self._table.find(addr) if self._table is not None else None
        row = found[addr]
        if row is None:
            return None
        f, line, col = row
        return self.file(f), line, col

    def file(self, index: int) -> str | None:
        return self.files[index] if 0 <= index < len(self.files) else None

    def covers(self, addr: int) -> bool:
        """Answered without decoding the whole table?"""
        return addr in self._found or self._table is not None

    @property
    def asked(self) -> list[int]:
        return list(self._found)


@dataclass(slots=True)
class _Header:
    """What the state machine needs from a line program's header."""

    data: bytes
    prog: int
    end: int
    min_inst: int
    max_ops: int
    line_base: int
    line_range: int
    opcode_base: int
    std_lengths: list[int]
    addr_size: int
    order: str
    files: list[str | None]


def _header(unit: Unit, pos: int) -> _Header:
    d = unit.dwarf
    data, u = d.line, d.uint
    length = u(data, pos, 4)
    os_ = 4
    pos += 4
    if length == 0xFFFFFFFF:
        length, os_ = u(data, pos, 8), 8
        pos += 8
    end = pos + length
    version = u(data, pos, 2)
    pos += 2
    addr_size = unit.addr_size
    if version >= 5:
        addr_size = data[pos]
        pos += 2  # address_size, segment_selector_size
    header_length = u(data, pos, os_)
    pos += os_
    prog = pos + header_length
    min_inst = data[pos]
    pos += 1
    max_ops = 1
    if version >= 4:
        max_ops = data[pos] or 1
        pos += 1
    # data[pos] is default_is_stmt: addr2line ignores is_stmt, and so do we
    line_base = data[pos + 1] - 256 if data[pos + 1] >= 128 else data[pos + 1]
    line_range = data[pos + 2]
    opcode_base = data[pos + 3]
    if line_range == 0 or opcode_base == 0:
        raise CorruptElf(f"line table header with line_range {line_range}, opcode_base "
                         f"{opcode_base}")
    pos += 4
    std_lengths = list(data[pos: pos + opcode_base - 1])
    pos += opcode_base - 1

    comp_dir = unit.comp_dir
    files: list[str | None]
    if version >= 5:
        dirs, pos = _entries(unit, data, pos, os_, addr_size)
        fents, pos = _entries(unit, data, pos, os_, addr_size)
        dir_names = [e.get(DW_LNCT_path) for e in dirs]
        files = []
        for e in fents:
            name = e.get(DW_LNCT_path)
            if name is None:
                files.append(None)
                continue
            di = e.get(DW_LNCT_directory_index, 0)
            sub = dir_names[di] if isinstance(di, int) and di < len(dir_names) else None
            files.append(_join(comp_dir, sub, name))
    else:
        dir_names = []
        while data[pos]:
            end_s = data.index(0, pos)
            dir_names.append(data[pos:end_s].decode("utf-8", "replace"))
            pos = end_s + 1
        pos += 1
        files = [None]  # DWARF <= 4 file numbers start at 1
        while data[pos]:
            end_s = data.index(0, pos)
            name = data[pos:end_s].decode("utf-8", "replace")
            pos = end_s + 1
            di, pos = uleb(data, pos)
            _, pos = uleb(data, pos)
            _, pos = uleb(data, pos)
            sub = dir_names[di - 1] if 0 < di <= len(dir_names) else None
            files.append(_join(comp_dir, sub, name))
    return _Header(data, prog, end, min_inst, max_ops, line_base, line_range, opcode_base,
                   std_lengths, addr_size, d.order, files)


def _table(unit: Unit, h: _Header) -> LineTable:
    data, prog, end = h.data, h.prog, h.end
    if _accel is not None and prog < end and prog <= len(data):
        # end past the section: the loop fails on reaching len(data), as Python's would
        packed = _accel.line_table(data, prog, min(end, len(data) + 1), h.min_inst,
                                   h.max_ops, h.line_base, h.line_range, h.opcode_base,
                                   bytes(h.std_lengths), unit.dwarf.order == "little")
        if packed is not None:
            addrs = array("Q")
            addrs.frombytes(packed[0])
            return LineTable(addrs, PackedRows(packed[1]), h.files)
    seqs = _run(data, prog, end, h.min_inst, h.max_ops, h.line_base, h.line_range,
                h.opcode_base, h.std_lengths, h.addr_size, unit.dwarf.order, h.files)
    return _merge(seqs, h.files)


def _entries(unit: Unit, data: bytes, pos: int, os_: int, addr_size: int):
    """DWARF 5 directory/file entry lists: format description, then the entries."""
    d = unit.dwarf
    nfmt = data[pos]
    pos += 1
    fmt = []
    for _ in range(nfmt):
        ct, pos = uleb(data, pos)
        form, pos = uleb(data, pos)
        fmt.append((ct, form_layout(form, addr_size, os_, 5)))
    count, pos = uleb(data, pos)
    if count and (not fmt or count > len(data) - pos):
        raise CorruptElf(f"line table header claims {count} entries")
    out = []
    for _ in range(count):
        ent: dict[int, object] = {}
        for ct, (kind, size, cls) in fmt:
            val: object = None
            if kind == K_FIXED:
                val = d.uint(data, pos, size)
                pos += size
            elif kind == K_ULEB:
                val, pos = uleb(data, pos)
            elif kind == K_SLEB:
                val, pos = sleb(data, pos)
            elif kind == K_CSTR:
                val = pos
                pos = data.index(0, pos) + 1
            elif kind == K_BLOCK:
                n, pos = uleb(data, pos)
                pos += n
            elif kind == K_BLOCKN:
                n = d.uint(data, pos, size)
                pos += size + n
            elif kind == K_CONST:
                val = size
            if ct == DW_LNCT_path:
                if cls == C_STR:
                    ent[ct] = d.cstr(data, val)
                elif cls in (C_STRP, C_LINE_STRP, C_STRX):
                    ent[ct] = unit.string((cls, val))
            elif ct == DW_LNCT_directory_index and cls == C_DATA:
                ent[ct] = val
        out.append(ent)
    return out, pos


def _run(data: bytes, pos: int, end: int, min_inst: int, max_ops: int, line_base: int,
         line_range: int, opcode_base: int, std_lengths: list[int], addr_size: int,
         order: str, files: list) -> list[tuple[list[int], list[tuple[int, int, int]]]]:
    """The state machine; returns sequences as (addresses, rows), duplicates collapsed.

    Opcodes are tested in the order GCC/gas emit them most (on a 12 MB-DWARF firmware:
    set_column 30 %, special 27 %, negate_stmt 18 %, copy 12 %, advance_line 9 %,
    set_file 4 %), and one-byte LEB operands are decoded inline.
    """
    seqs = []
    addrs: list[int] = []
    rows: list[tuple[int, int, int]] = []
    append_a, append_r = addrs.append, rows.append
    address, op_index, file, line, col = 0, 0, 1, 1, 0
    last = -1      # the address of the sequence's last row (-1: none yet; addresses are >= 0)
    adj_base = opcode_base
    vliw = max_ops > 1  # op_index only matters for VLIW targets
    # what each special opcode adds to the address (non-VLIW) and to the line
    step = [min_inst * ((op - adj_base) // line_range) for op in range(256)]
    dline = [line_base + (op - adj_base) % line_range for op in range(256)]

    while pos < end:
        op = data[pos]
        pos += 1
        if op >= adj_base:  # special opcode: advance address and line, emit a row
            if vliw:
                adj = op - adj_base
                adv = op_index + adj // line_range
                address += min_inst * (adv // max_ops)
                op_index = adv % max_ops
            else:
                address += step[op]
            line += dline[op]
            if address == last:
                rows[-1] = (file, line, col)   # the last row at an address wins (bfd)
            else:
                append_a(address)
                append_r((file, line, col))
                last = address
        elif op == 5:  # set_column
            col = data[pos]
            pos += 1
            if col >= 0x80:
                col, pos = uleb(data, pos - 1)
        elif op == 6:  # negate_stmt: addr2line ignores is_stmt
            pass
        elif op == 1:  # copy
            if address == last:
                rows[-1] = (file, line, col)
            else:
                append_a(address)
                append_r((file, line, col))
                last = address
        elif op == 3:  # advance_line
            v = data[pos]
            pos += 1
            if v >= 0x80:
                v, pos = sleb(data, pos - 1)
            elif v & 0x40:
                v -= 0x80
            line += v
        elif op == 4:  # set_file
            file = data[pos]
            pos += 1
            if file >= 0x80:
                file, pos = uleb(data, pos - 1)
        elif op == 0:  # extended
            n, pos = uleb(data, pos)
            sub = data[pos] if n else 0
            if sub == 1:    # end_sequence
                if address == last:
                    addrs.pop()
                    rows.pop()
                append_a(address)
                append_r((-1, 0, 0))
                seqs.append((addrs, rows))
                addrs, rows = [], []
                append_a, append_r = addrs.append, rows.append
                address, op_index, file, line, col, last = 0, 0, 1, 1, 0, -1
            elif sub == 2:  # set_address
                address = int.from_bytes(data[pos + 1: pos + n], order)
                op_index = 0
            pos += n
        elif op == 2:  # advance_pc
            v, pos = uleb(data, pos)
            if vliw:
                adv = op_index + v
                address += min_inst * (adv // max_ops)
                op_index = adv % max_ops
            else:
                address += min_inst * v
        elif op == 8:  # const_add_pc
            adj = (255 - adj_base) // line_range
            if vliw:
                adv = op_index + adj
                address += min_inst * (adv // max_ops)
                op_index = adv % max_ops
            else:
                address += min_inst * adj
        elif op == 9:  # fixed_advance_pc
            address += int.from_bytes(data[pos:pos + 2], order)
            op_index = 0
            pos += 2
        elif op == 7 or op == 10 or op == 11:  # basic_block, prologue_end, epilogue_begin
            pass
        elif op == 12:  # set_isa
            _, pos = uleb(data, pos)
        else:  # an opcode this producer defined: skip its uleb operands
            for _ in range(std_lengths[op - 1]):
                _, pos = uleb(data, pos)
    if addrs:  # a program that forgot its last end_sequence
        seqs.append((addrs, rows))
    return seqs


def _uleb_it(b: int, nxt) -> int:
    """A ULEB128 whose first byte is b, the rest read with nxt."""
    v, shift = b & 0x7F, 7
    while b >= 0x80:
        b = nxt()
        v |= (b & 0x7F) << shift
        shift += 7
    return v


def _sleb_it(b: int, nxt) -> int:
    v, shift = b & 0x7F, 7
    while b >= 0x80:
        b = nxt()
        v |= (b & 0x7F) << shift
        shift += 7
    return v - (1 << shift) if b & 0x40 else v


class _Bail(Exception):
    """The targeted loop met something only the whole table answers exactly."""


def _run_targets(h: _Header, targets: list[int]) -> dict | None:
    """The row in force at each target, as ``_merge(_run(...)).find`` would give it; None
    when the program is not one this loop answers exactly (the caller decodes it whole).

    The state machine of ``_run`` over an iterator of the program's bytes (no index
    arithmetic), keeping no rows: each row's state is held (three locals: a tuple per row
    cost ~10 % of the loop) until the next row at a higher address shows which targets it
    covered (the last row at an address wins). Each
    sequence answers the targets between its first row and its end; sequences must not
    overlap (then the merged table is their concatenation) and addresses must not go
    backwards inside one. Operands are read inline when they are one byte (two for
    advance_line, which GCC's line jumps need), in a loop otherwise.
    """
    step = [h.min_inst * ((op - h.opcode_base) // h.line_range) for op in range(256)]
    dline = [h.line_base + (op - h.opcode_base) % h.line_range for op in range(256)]
    base, min_inst = h.opcode_base, h.min_inst
    const_pc = min_inst * ((255 - base) // h.line_range)
    order = h.order
    n_t = len(targets)
    huge = 1 << 64          # past every target ("none left")
    found: dict[int, tuple[int, int, int] | None] = {}
    spans: list[tuple[int, int]] = []
    address, file, line, col = 0, 1, 1, 0
    rf, rl, rc = 1, 1, 0    # the last row's file, line and column
    first = 0
    j, nt = 0, -1           # the next target not yet answered (-1: no row yet in the sequence)
    it = iter(h.data[h.prog:h.end])
    nxt = it.__next__       # for the helpers; inline, next(it) is the cheaper call
    nx = next
    try:
        for op in it:
            if op == 5:         # set_column, then (GCC) negate_stmt, advance_line, a row
                col = nx(it)
                if col >= 0x80:
                    col &= 0x7F
                    shift = 7
                    while True:
                        b = nx(it)
                        col |= (b & 0x7F) << shift
                        shift += 7
                        if b < 0x80:
                            break
                op = nx(it)
            if op == 6:         # negate_stmt: addr2line ignores is_stmt
                op = nx(it)
            if op == 3:         # advance_line
                v = nx(it)
                if v >= 0x80:
                    b = nx(it)
                    if b >= 0x80:
                        v = (v & 0x7F) | ((b & 0x7F) << 7)
                        shift = 14
                        while True:
                            b = nx(it)
                            v |= (b & 0x7F) << shift
                            shift += 7
                            if b < 0x80:
                                break
                        if b & 0x40:
                            v -= 1 << shift
                    else:
                        v = (v & 0x7F) | (b << 7)
                        if b & 0x40:
                            v -= 0x4000
                elif v & 0x40:
                    v -= 0x80
                line += v
                op = nx(it)
            if op >= base:      # special opcode: advance address and line, a row
                address += step[op]
                if address > nt:
                    if nt < 0:
                        first = address
                        j = bisect_left(targets, address)
                    else:       # the row before covers the targets below address
                        row = (rf, rl, rc)
                        while j < n_t and targets[j] < address:
                            found[targets[j]] = row
                            j += 1
                    nt = targets[j] if j < n_t else huge
                rl = line = line + dline[op]
                rf, rc = file, col
            elif op == 1:       # copy
                if address > nt:
                    if nt < 0:
                        first = address
                        j = bisect_left(targets, address)
                    else:       # the row before covers the targets below address
                        row = (rf, rl, rc)
                        while j < n_t and targets[j] < address:
                            found[targets[j]] = row
                            j += 1
                    nt = targets[j] if j < n_t else huge
                rf, rl, rc = file, line, col
            elif op == 4:       # set_file
                file = nx(it)
                if file >= 0x80:
                    file &= 0x7F
                    shift = 7
                    while True:
                        b = nx(it)
                        file |= (b & 0x7F) << shift
                        shift += 7
                        if b < 0x80:
                            break
            elif op == 0:       # extended
                n = nx(it)
                if n >= 0x80:
                    raise _Bail
                if n == 0:
                    continue
                sub = nx(it)
                operand = bytes(islice(it, n - 1))
                if len(operand) != n - 1:
                    raise _Bail
                if sub == 1:    # end_sequence
                    if nt < 0 or address <= first:
                        raise _Bail     # an empty sequence: the table keeps its end row
                    row = (rf, rl, rc)
                    while j < n_t and targets[j] < address:
                        found[targets[j]] = row
                        j += 1
                    spans.append((first, address))
                    address, file, line, col, nt = 0, 1, 1, 0, -1
                elif sub == 2:  # set_address
                    to = int.from_bytes(operand, order)
                    if nt >= 0 and to < address:
                        raise _Bail     # backwards: the table's rows would be unsorted
                    address = to
            elif op == 2:       # advance_pc
                b = nx(it)
                v = b & 0x7F
                shift = 7
                while b >= 0x80:
                    b = nx(it)
                    v |= (b & 0x7F) << shift
                    shift += 7
                address += min_inst * v
            elif op == 8:       # const_add_pc
                address += const_pc
            elif op == 9:       # fixed_advance_pc
                address += int.from_bytes(bytes((nx(it), nx(it))), order)
            elif op == 7 or op == 10 or op == 11:
                pass
            elif op == 5:       # set_column out of GCC's order (after another one)
                col = _uleb_it(nx(it), nxt)
            elif op == 6:
                pass
            elif op == 3:
                line += _sleb_it(nx(it), nxt)
            elif op == 12:      # set_isa
                _uleb_it(nx(it), nxt)
            else:               # an opcode this producer defined
                raise _Bail
    except (_Bail, StopIteration):
        return None
    if nt >= 0:
        return None             # rows after the last end_sequence: a sequence of its own
    spans.sort()
    for (_, end0), (start1, _) in zip(spans, spans[1:], strict=False):
        if start1 < end0:
            return None         # overlapping sequences: the table trims them
    for t in targets:
        if t not in found:
            found[t] = None
    return found


def _merge(seqs, files) -> LineTable:
    """Concatenate sequences by start address (gc'd functions at 0 sort first)."""
    seqs = [s for s in seqs if s[0]]
    seqs.sort(key=lambda s: (s[0][0], s[0][-1]))
    addrs: list[int] = []
    rows: list[tuple[int, int, int]] = []
    for a, r in seqs:
        if addrs and a[0] < addrs[-1]:
            # Overlap (e.g. discarded sections relocated to 0): keep the part that starts
            # after what we already hold, as the rows before it would shadow real code.
            k = bisect_right(a, addrs[-1] - 1)
            if k >= len(a):
                continue
            a, r = a[k:], r[k:]
        if addrs and addrs[-1] == a[0] and rows[-1][0] < 0:
            addrs.pop()
            rows.pop()
        addrs.extend(a)
        rows.extend(r)
    return LineTable(addrs, rows, files)
