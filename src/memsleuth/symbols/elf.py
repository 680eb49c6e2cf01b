"""The ELF image: machine, sections, symbol table and build-id, read once from bytes.

Headers and the symbol table are decoded here with ``struct`` rather than pyelftools:
importing ``elftools.elf`` alone costs ~0.15 s and its per-symbol objects ~70 us each
(0.7 s on a 10,000-function firmware), which would eat the whole warm-cache budget.
"""

from __future__ import annotations

import fnmatch
import re
import struct
import zlib
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from memsleuth.symbols.errors import CorruptElf, ElfNotFound, NotAnElf, UnsupportedArch

try:   # CPython's own SHA-256: hashlib would load OpenSSL first (~2 ms of a census's start-up)
    from _sha2 import sha256  # Python >= 3.12
except ImportError:
    try:
        from _sha256 import sha256  # Python 3.10, 3.11
    except ImportError:  # pragma: no cover - an interpreter built without them
        from hashlib import sha256

#: From this size on an ELF is hashed with OpenSSL (hashlib), below with CPython's own code.
_OPENSSL_FROM = 1 << 20

#: e_machine -> our arch name (riscv is split by ELF class below).
_MACHINES = {3: "x86", 62: "x86_64", 40: "arm", 94: "xtensa", 243: "riscv", 183: "aarch64"}

SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 0x1, 0x2, 0x4
SHF_COMPRESSED = 0x800
SHT_NOBITS, SHT_NOTE = 8, 7
STT_OBJECT, STT_FUNC = 1, 2
STB_LOCAL = 0
NT_GNU_BUILD_ID = 3


@dataclass(frozen=True, slots=True)
class Section:
    """One allocated section, as the address classifier needs it."""

    name: str
    start: int
    end: int
    kind: str            # "code", "data" (writable), "rodata", "bss"
    file_offset: int | None  # None for NOBITS (.bss)


@dataclass(frozen=True, slots=True)
class Symbol:
    name: str
    start: int
    end: int             # start + size (== start for zero-sized symbols)
    is_global: bool


class SymbolTable:
    """Sorted symbols of one type (functions or objects), names decoded on demand."""

    def __init__(self, entries: list[tuple[int, int, int, bool]], strtab: bytes) -> None:
        entries.sort()
        self._starts = [e[0] for e in entries]
        self._entries = entries  # (start, size, name_offset, is_global)
        self._strtab = strtab
        self._made: dict[int, Symbol] = {}   # index -> Symbol, made once

    def __len__(self) -> int:
        return len(self._entries)

    def _name(self, off: int) -> str:
        end = self._strtab.find(b"\0", off)
        return self._strtab[off:end].decode("utf-8", "replace")

    def _symbol(self, i: int) -> Symbol:
        sym = self._made.get(i)
        if sym is None:
            start, size, name_off, is_global = self._entries[i]
            sym = self._made[i] = Symbol(self._name(name_off), start, start + size, is_global)
        return sym

    def containing(self, addr: int) -> Symbol | None:
        """The symbol covering ``addr`` (zero-sized ones only at their exact start).

        Aliases share a start, so a few entries back are checked; the latest start wins.
        """
        i = bisect_right(self._starts, addr) - 1
        if i >= 0:      # the usual case, before the loop's set-up
            start, size, _, _ = self._entries[i]
            if start <= addr < start + size or start == addr:
                made = self._made.get(i)
                return made if made is not None else self._symbol(i)
        for j in range(i - 1, max(i - 8, -1), -1):
            start, size, _, _ = self._entries[j]
            if start <= addr < start + size or start == addr:
                return self._symbol(j)
        return None

    def covering(self, addr: int) -> Symbol | None:
        """The sized symbol with start <= addr < end (never a zero-sized one)."""
        i = bisect_right(self._starts, addr) - 1
        for j in range(i, max(i - 8, -1), -1):
            start, size, _, _ = self._entries[j]
            if start <= addr < start + size:
                return self._symbol(j)
        return None

    def matching(self, pattern: str) -> list[Symbol]:
        """Symbols whose name matches a shell glob (fnmatch, case-sensitive)."""
        rx = re.compile(fnmatch.translate(pattern))
        out = []
        for start, size, name_off, is_global in self._entries:
            name = self._name(name_off)
            if rx.match(name):
                out.append(Symbol(name, start, start + size, is_global))
        return out

    def nearest_before(self, addr: int, global_only: bool = False) -> Symbol | None:
        """The last symbol starting at or before ``addr`` (for data without sizes)."""
        i = bisect_right(self._starts, addr) - 1
        while i >= 0:
            if not global_only or self._entries[i][3]:
                return self._symbol(i)
            i -= 1
        return None

    def __iter__(self):
        for i in range(len(self._entries)):
            yield self._symbol(i)


@dataclass(frozen=True, slots=True)
class SectionHeader:
    name: str
    type: int
    flags: int
    addr: int
    offset: int
    size: int
    link: int


class ElfImage:
    """An ELF file held in memory with the facts the symbolizer needs."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._last_section: Section | None = None   # section_at's last answer, if alone
        try:
            self.data = self.path.read_bytes()
        except FileNotFoundError:
            raise ElfNotFound(f"ELF file not found: {self.path}") from None
        except IsADirectoryError:
            raise ElfNotFound(f"ELF path is a directory, not a file: {self.path}") from None
        except OSError as exc:
            raise ElfNotFound(f"cannot read ELF file {self.path}: {exc.strerror}") from None
        if self.data[:4] != b"\x7fELF":
            raise NotAnElf("not an ELF file (no \\x7fELF magic)")
        try:
            self._parse_headers()
        except (struct.error, IndexError, ValueError):
            raise NotAnElf("corrupt or truncated ELF file (its headers point past the end of "
                           "the file)") from None
        arch = _MACHINES.get(self.machine)
        if arch is None:
            raise UnsupportedArch(
                f"unsupported ELF machine {self.machine} in {self.path} (supported: arm, "
                "x86, x86_64, xtensa, riscv32, riscv64, aarch64)")
        if arch == "riscv":
            arch = "riscv64" if self.bits == 64 else "riscv32"
        self.arch = arch

    def _parse_headers(self) -> None:
        d = self.data
        if d[4] not in (1, 2) or d[5] not in (1, 2):
            raise ValueError("bad ELF class or data encoding byte")
        self.bits = 64 if d[4] == 2 else 32
        self.little_endian = d[5] == 1
        e = "<" if self.little_endian else ">"
        if self.bits == 64:
            (_, self.machine, _, _, _, shoff, self.e_flags, _, _, _, shentsize, shnum,
             shstrndx) = struct.unpack_from(e + "HHIQQQIHHHHHH", d, 16)
            shfmt = e + "IIQQQQIIQQ"
        else:
            (_, self.machine, _, _, _, shoff, self.e_flags, _, _, _, shentsize, shnum,
             shstrndx) = struct.unpack_from(e + "HHIIIIIHHHHHH", d, 16)
            shfmt = e + "IIIIIIIIII"
        raw = []
        if shoff:
            first = struct.unpack_from(shfmt, d, shoff)
            if shnum == 0:
                shnum = first[5]
            if shstrndx == 0xFFFF:
                shstrndx = first[6]
            if shentsize < struct.calcsize(shfmt) or shoff + shnum * shentsize > len(d):
                raise ValueError("section header table does not fit in the file")
            raw = [struct.unpack_from(shfmt, d, shoff + i * shentsize) for i in range(shnum)]
        strtab = b""
        if raw and shstrndx < len(raw):
            strtab = d[raw[shstrndx][4]: raw[shstrndx][4] + raw[shstrndx][5]]
        self.section_headers = []
        for name, typ, flags, addr, off, size, link, *_ in raw:
            end = strtab.find(b"\0", name)
            self.section_headers.append(SectionHeader(
                strtab[name:end].decode("ascii", "replace"), typ, flags, addr, off, size, link))
        self._by_name = {h.name: h for h in reversed(self.section_headers)}

    def section_size(self, name: str) -> int:
        """Size of a section in the file (0 when absent), without reading it."""
        h = self._by_name.get(name) or self._by_name.get(".z" + name[1:])
        return 0 if h is None or h.type == SHT_NOBITS else h.size

    def section_data(self, name: str) -> bytes | None:
        """A non-allocated section's bytes (decompressed), or None when absent."""
        h = self._by_name.get(name)
        if h is None and name.startswith(".debug_"):
            h = self._by_name.get(".z" + name[1:])
        if h is None or h.type == SHT_NOBITS:
            return None
        raw = self.data[h.offset: h.offset + h.size]
        if h.flags & SHF_COMPRESSED:
            e = "<" if self.little_endian else ">"
            ctype = struct.unpack_from(e + "I", raw)[0]
            hdr = 24 if self.bits == 64 else 12
            if ctype != 1:
                raise NotAnElf(f"section {name} uses an unsupported compression "
                               f"(type {ctype}; only zlib is supported): {self.path}")
            return _inflate(raw[hdr:], name)
        if h.name.startswith(".zdebug") and raw[:4] == b"ZLIB":
            return _inflate(raw[12:], name)
        return raw

    # -- identity --------------------------------------------------------------------------
    @cached_property
    def content_hash(self) -> str:
        if len(self.data) >= _OPENSSL_FROM:
            # OpenSSL's SHA-256 is ~5x faster per byte (14 MB: 8 ms against 45 ms, which put a
            # warm 10,000-address lookup above addr2line): worth its ~3 ms import here
            import hashlib

            return hashlib.sha256(self.data).hexdigest()
        return sha256(self.data).hexdigest()

    @cached_property
    def build_id(self) -> str | None:
        """The GNU build-id note (hex), read from any SHT_NOTE section."""
        for sec in self.section_headers:
            if sec.type != SHT_NOTE:
                continue
            note = self.data[sec.offset: sec.offset + sec.size]
            found = _find_build_id(note, self.little_endian)
            if found:
                return found
        return None

    # -- sections --------------------------------------------------------------------------
    @cached_property
    def sections(self) -> list[Section]:
        """Allocated, non-empty sections sorted by address."""
        out = []
        for sec in self.section_headers:
            flags, addr, size = sec.flags, sec.addr, sec.size
            if not flags & SHF_ALLOC or size == 0:
                continue
            nobits = sec.type == SHT_NOBITS
            if flags & SHF_EXECINSTR:
                kind = "code"
            elif nobits:
                kind = "bss"
            elif flags & SHF_WRITE:
                kind = "data"
            else:
                kind = "rodata"
            # .tbss and friends occupy no address space of their own
            if nobits and sec.name.startswith(".tbss"):
                continue
            out.append(Section(sec.name, addr, addr + size, kind,
                               None if nobits else sec.offset))
        out.sort(key=lambda s: (s.start, s.end))
        return out

    @cached_property
    def _section_starts(self) -> list[int]:
        return [s.start for s in self.sections]

    @cached_property
    def _alone(self) -> list[bool]:
        """Per section: no other section overlaps it (then it answers for its addresses
        without the search below; a symbolizer asks about one section again and again)."""
        secs = self.sections
        out = [True] * len(secs)
        for i, s in enumerate(secs):
            for j in range(i + 1, len(secs)):      # sorted by start: the later ones
                if secs[j].start >= s.end:
                    break
                out[i] = out[j] = False
        return out

    def section_at(self, addr: int) -> Section | None:
        last = self._last_section
        if last is not None and last.start <= addr < last.end:
            return last
        secs = self.sections
        i = bisect_right(self._section_starts, addr) - 1
        for j in range(i, max(i - 4, -1), -1):  # a few back: sections may overlap (.tbss)
            if secs[j].start <= addr < secs[j].end:
                if self._alone[j]:
                    self._last_section = secs[j]
                return secs[j]
        return None

    @cached_property
    def text_ranges(self) -> list[tuple[int, int]]:
        """Merged [start, end) ranges of executable sections."""
        merged: list[list[int]] = []
        for s in self.sections:
            if s.kind != "code":
                continue
            if merged and s.start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], s.end)
            else:
                merged.append([s.start, s.end])
        return [(a, b) for a, b in merged]

    def read(self, addr: int, size: int) -> bytes | None:
        """File bytes at a virtual address, or None if not all of them are in one section."""
        sec = self.section_at(addr)
        if sec is None or sec.file_offset is None or addr + size > sec.end:
            return None
        off = sec.file_offset + (addr - sec.start)
        return self.data[off: off + size]

    def has_section(self, name: str) -> bool:
        return name in self._by_name

    # -- symbols ---------------------------------------------------------------------------
    @cached_property
    def _symtabs(self) -> tuple[SymbolTable, SymbolTable, bool]:
        try:
            return self._read_symtabs()
        except (IndexError, ValueError, struct.error) as exc:
            raise CorruptElf(f"corrupt symbol table in {self.path} ({exc})") from None

    def _read_symtabs(self) -> tuple[SymbolTable, SymbolTable, bool]:
        sec = self._by_name.get(".symtab") or self._by_name.get(".dynsym")
        funcs: list[tuple[int, int, int, bool]] = []
        objs: list[tuple[int, int, int, bool]] = []
        any_odd = False
        strtab = b""
        if sec is not None:
            link = self.section_headers[sec.link]
            strtab = self.data[link.offset: link.offset + link.size]
            raw = self.data[sec.offset: sec.offset + sec.size]
            e = "<" if self.little_endian else ">"
            is_arm = self.arch == "arm"
            if self.bits == 64:
                fmt, order = e + "IBBHQQ", (0, 4, 5, 1, 3)
            else:
                fmt, order = e + "IIIBBH", (0, 1, 2, 3, 5)
            i_name, i_value, i_size, i_info, i_shndx = order
            entsize = struct.calcsize(fmt)
            raw = raw[: len(raw) - len(raw) % entsize]
            for ent in struct.iter_unpack(fmt, raw):
                info = ent[i_info]
                typ = info & 0xF
                if typ not in (STT_FUNC, STT_OBJECT) or ent[i_shndx] == 0 or not ent[i_name]:
                    continue
                if ent[i_shndx] >= 0xFF00:  # SHN_ABS / SHN_COMMON: not a placed address
                    continue
                value = ent[i_value]
                is_global = (info >> 4) != STB_LOCAL
                if typ == STT_FUNC:
                    if is_arm and value & 1:
                        # Thumb functions carry the mode in bit 0 of st_value.
                        any_odd = True
                        value &= ~1
                    funcs.append((value, ent[i_size], ent[i_name], is_global))
                else:
                    objs.append((value, ent[i_size], ent[i_name], is_global))
        return SymbolTable(funcs, strtab), SymbolTable(objs, strtab), any_odd

    @property
    def functions(self) -> SymbolTable:
        return self._symtabs[0]

    @property
    def objects(self) -> SymbolTable:
        return self._symtabs[1]

    @property
    def thumb(self) -> bool:
        """ARM code with Thumb functions (every Cortex-M firmware)."""
        return self.arch == "arm" and (self._symtabs[2] or not len(self.functions))


def _inflate(raw: bytes, name: str) -> bytes:
    try:
        return zlib.decompress(raw)
    except zlib.error as exc:
        raise CorruptElf(f"compressed section {name} is corrupt ({exc})") from None


def _find_build_id(note: bytes, little: bool) -> str | None:
    e = "<" if little else ">"
    pos = 0
    while pos + 12 <= len(note):
        namesz, descsz, ntype = struct.unpack_from(e + "III", note, pos)
        pos += 12
        name = note[pos: pos + namesz]
        pos += (namesz + 3) & ~3
        desc = note[pos: pos + descsz]
        pos += (descsz + 3) & ~3
        if ntype == NT_GNU_BUILD_ID and name.rstrip(b"\0") == b"GNU":
            return desc.hex()
    return None
