"""The one interface analyses use: ELF in, ``Location`` per logged address out.

It knows nothing of logs. ``Symbolizer.open`` reads the ELF; ``symbolize`` answers a batch
of addresses (de-duplicated), going to DWARF only for addresses the on-disk cache does not
already hold, and only for the CUs that contain them.
"""

from __future__ import annotations

import gc
import os
import struct
import warnings
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from memsleuth.cachedir import cache_disabled, default_cache_dir
from memsleuth.symbols.arch import after_call, call_at, lookup_address, xtensa_restore
from memsleuth.symbols.cache import SymbolCache
from memsleuth.symbols.elf import ElfImage, Section
from memsleuth.symbols.errors import DECODE_ERRORS, CorruptElf, NoDebugInfo, SymbolError
from memsleuth.symbols.location import AddrKind, Frame, Location

Verdict = Literal["ok", "suspect", "mismatch"]
Engine = Literal["auto", "python", "addr2line"]

#: Above this much line program to decode, "auto" hands the batch to addr2line when there is
#: one: the pure-Python line loop decodes ~7 MB/s of it, addr2line starts in ~10 ms.
AUTO_ADDR2LINE_BYTES = 64 * 1024
#: With the C loops (memsleuth._dwarf: line programs at ~150 MB/s, the DIE walks) the own
#: engine was the faster at every size measured on bench_symbolize.py's ELF, whole process
#: CPU, engine "python" vs "addr2line" (which parses addr2line's answers and builds the same
#: Locations): 0.42 vs 0.53 s at 10,000 distinct lookups, 0.95 vs 1.07 s at 25,000, 1.90 vs
#: 2.13 s at 50,000 (all its call sites). So "auto" hands over only beyond that.
AUTO_ADDR2LINE_LOOKUPS = 200_000


@dataclass(frozen=True, slots=True)
class MatchReport:
    """Do these return addresses look like they came from this ELF?"""

    total: int              # distinct addresses checked
    in_code: int            # of them, inside an executable section
    checked: int            # in code and decodable by the call-instruction check
    after_call: int         # of the checked, preceded by a call instruction
    verdict: Verdict
    reason: str

    @property
    def fraction_in_code(self) -> float:
        return self.in_code / self.total if self.total else 1.0

    @property
    def fraction_after_call(self) -> float | None:
        return self.after_call / self.checked if self.checked else None


class Symbolizer:
    """Symbols, lines and inline chains of one ELF."""

    def __init__(self, image: ElfImage, cache_dir: Path | None, engine: Engine = "auto") -> None:
        self._image = image
        self.engine = engine
        #: which engine answered the last cache misses ("python", "addr2line" or None)
        self.last_engine: str | None = None
        self._cache_dir = cache_dir
        self._resolver: Any = None   # a DwarfResolver, built on the first cache miss
        self._memo: dict[int, tuple] = {}
        self._locations: dict[tuple[int, str], Location] = {}
        self._in_code: dict[int, Any] = {}

    @classmethod
    def open(cls, path: str | Path, cache_dir: Path | None = None,
             use_cache: bool = True, engine: Engine | None = None) -> Symbolizer:
        """Read an ELF. Raises ElfNotFound, NotAnElf, UnsupportedArch (all SymbolError);
        warns NoDebugInfo when there is no DWARF (symbol-table names still work).

        ``engine``: "python" (pure, always available), "addr2line" (a binutils addr2line
        for the ELF's arch, falling back to python), or "auto" (default; addr2line only for
        big batches, see AUTO_ADDR2LINE_BYTES). Env ``MEMSLEUTH_ENGINE`` sets the default.
        """
        image = ElfImage(path)
        directory = None
        if use_cache and not cache_disabled():
            directory = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        if engine is None:
            env = os.environ.get("MEMSLEUTH_ENGINE", "auto").strip().lower()
            engine = env if env in ("auto", "python", "addr2line") else "auto"  # type: ignore[assignment]
        sym = cls(image, directory, engine)
        if not sym.has_debug_info:
            what = ("no DWARF debug info: function names from the symbol table only, no "
                    "file:line or inline frames" if len(image.functions) else
                    "no DWARF debug info and no symbol table (stripped): addresses stay raw")
            warnings.warn(NoDebugInfo(f"{image.path} has {what}"), stacklevel=2)
        return sym

    # -- facts about the ELF ---------------------------------------------------------------
    @property
    def path(self) -> Path:
        return self._image.path

    @property
    def arch(self) -> str:
        return self._image.arch

    @property
    def thumb(self) -> bool:
        return self._image.thumb

    @property
    def bits(self) -> int:
        return self._image.bits

    @property
    def little_endian(self) -> bool:
        return self._image.little_endian

    @property
    def build_id(self) -> str | None:
        return self._image.build_id

    @property
    def content_hash(self) -> str:
        return self._image.content_hash

    @cached_property
    def has_debug_info(self) -> bool:
        return self._image.section_size(".debug_info") > 0 and \
            self._image.section_size(".debug_line") > 0

    @property
    def sections(self) -> list[Section]:
        return list(self._image.sections)

    @property
    def text_ranges(self) -> list[tuple[int, int]]:
        return list(self._image.text_ranges)

    @cached_property
    def cache(self) -> SymbolCache | None:
        if self._cache_dir is None:
            return None
        return SymbolCache(self._cache_dir, self.build_id, self.content_hash)

    # -- lookups ---------------------------------------------------------------------------
    def adjust(self, addr: int, kind: AddrKind = "return") -> int:
        """The address actually looked up for a logged address of this kind.

        The per-arch rule applies to code; an address that lands outside code after it
        but was inside data is a data address and is looked up as logged.
        """
        raw = addr
        if self.arch == "xtensa":
            addr = xtensa_restore(addr, self._image.text_ranges)
        lk = lookup_address(self.arch, addr, kind)
        if lk != raw and self._object_in_code(lk) is not None \
                and self._object_in_code(raw) is not None:
            # data placed in a code section: no Thumb bit, no call to step back over (a
            # return address right past a call that ends the code before it stays code)
            return raw
        if lk != raw:
            sec = self._image.section_at(lk)
            if sec is None or sec.kind != "code":
                raw_sec = self._image.section_at(raw)
                if raw_sec is not None and raw_sec.kind != "code":
                    return raw
        return lk

    def symbolize(self, addrs: Iterable[int], kind: AddrKind = "return") -> dict[int, Location]:
        """Locations for a batch of addresses (keys: the addresses as given).

        Raises CorruptElf (a SymbolError: one line, exit 3) when the ELF's tables are
        corrupt; every walk over them is bounded, so this never hangs.
        """
        # The cyclic collector is off for the batch: it makes ~10^5 objects (answers, frames,
        # DIE and line tables) and no cycles, and each collection the allocations triggered
        # re-examined all of them (~15 % of a cold run of 10,000 addresses). Reference
        # counting still frees everything as usual.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._symbolize(addrs, kind)
        except SymbolError:
            raise
        except (*DECODE_ERRORS, struct.error, zlib.error) as exc:
            raise CorruptElf(f"corrupt ELF {self.path} ({type(exc).__name__}: {exc})"[:300]
                             ) from None
        finally:
            if collecting:
                gc.enable()

    def _symbolize(self, addrs: Iterable[int], kind: AddrKind) -> dict[int, Location]:
        image = self._image
        wanted = dict.fromkeys(addrs)
        known = self._known_locations(wanted, kind)
        todo: dict[int, int] = {}      # logged -> lookup
        for a in wanted:
            if a not in known:
                todo[a] = self.adjust(a, kind)
        if not todo:
            return known
        frames = self._frames_for([lk for lk in set(todo.values())
                                   if (s := image.section_at(lk)) is not None
                                   and s.kind == "code" and self._object_in_code(lk) is None])
        cache = self.cache
        for a, lk in todo.items():
            raw = frames.get(lk)
            key = (a, kind)
            loc = known[a] = self._locations[key] = self._location(a, lk, kind, raw)
            if cache is not None:
                cache.put_location(key, _location_fields(loc, raw))
        if cache is not None:
            cache.save()
        return {a: known[a] for a in wanted}

    def _known_locations(self, wanted: dict[int, None], kind: AddrKind) -> dict[int, Location]:
        """The answers already made, in this process or (the on-disk cache) an earlier one."""
        memo = self._locations
        cache = self.cache
        stored = cache.locations if cache is not None else {}
        known: dict[int, Location] = {}
        if not memo and not stored:     # a cold start: nothing to look for
            return known
        for a in wanted:
            key = (a, kind)
            loc = memo.get(key)
            if loc is None:
                fields = stored.get(key)
                if fields is None:
                    continue
                loc = _location_from(a, fields)
                if loc is None:            # a damaged entry: answered afresh
                    continue
                memo[key] = loc
            known[a] = loc
        return known

    def symbolize_one(self, addr: int, kind: AddrKind = "return") -> Location:
        return self.symbolize([addr], kind)[addr]

    def _frames_for(self, lookups: list[int]) -> dict[int, tuple]:
        out: dict[int, tuple] = {}
        missing = []
        cache = self.cache
        if not self._memo and (cache is None or not cache.entries):
            missing = lookups           # a cold start: nothing to look for
            lookups = []
        for lk in lookups:
            hit = self._memo.get(lk)
            if hit is None and cache is not None:
                hit = cache.get(lk)
            if hit is None:
                missing.append(lk)
            else:
                out[lk] = hit
        if missing and self.has_debug_info:
            found = self._resolve(sorted(missing))
            out.update(found)
            if cache is not None:      # saved once, with the answers, by _symbolize
                cache.put_many(found)
        self._memo.update(out)
        return out

    def _resolve(self, lookups: list[int]) -> dict[int, tuple]:
        # Imported here: a warm run answers from the cache and never needs DWARF decoding or
        # the addr2line backend, and their imports are a tenth of its time (the backend's,
        # subprocess and platform, ~6 ms: not for engine "python" either).
        from memsleuth.symbols.resolver import DwarfResolver

        if self._resolver is None:
            self._resolver = DwarfResolver(self._image)
        if self.engine != "python":
            from memsleuth.symbols.backend import addr2line_frames, find_addr2line

            tool = find_addr2line(self.arch)
            big = self.engine == "addr2line" or self._big_batch(lookups)
            if tool is not None and big:
                found = addr2line_frames(tool, self._image.path, lookups)
                if found is not None:
                    self.last_engine = "addr2line"
                    return found
        self.last_engine = "python"
        from memsleuth.symbols import lines

        if lines._accel is None:    # the pure loop need not keep rows nobody asks for
            self._resolver.expect(lookups)
        return {lk: self._resolver.frames(lk) for lk in lookups}

    def _big_batch(self, lookups: list[int]) -> bool:
        """Would addr2line answer these sooner than the own engine (for "auto")?"""
        from memsleuth.symbols import lines

        if lines._accel is not None:
            return len(lookups) >= AUTO_ADDR2LINE_LOOKUPS
        return self._resolver.line_program_bytes(lookups) >= AUTO_ADDR2LINE_BYTES

    def _object_in_code(self, lookup: int):
        """An object symbol (string literal, constant table) a code-section address falls in,
        when no sized function covers it: such bytes are data, not ``func+0xaf0``."""
        memo = self._in_code
        if lookup in memo:     # asked up to three times per address (adjust, filter, answer)
            return memo[lookup]
        obj = self._image.objects.covering(lookup)
        if obj is not None and self._image.functions.covering(lookup) is not None:
            obj = None
        memo[lookup] = obj
        return obj

    def _location(self, addr: int, lookup: int, kind: AddrKind, raw) -> Location:
        image = self._image
        sec = image.section_at(lookup)
        if sec is None:
            return Location(addr, lookup, kind="unknown",
                            notes=("address is outside every section of the ELF",))
        if sec.kind == "code" and (obj := self._object_in_code(lookup)) is not None:
            return Location(addr, lookup, symbol=obj.name, offset=lookup - obj.start,
                            section=sec.name, kind="data",
                            notes=(f"inside the data object {obj.name} placed in code "
                                   f"section {sec.name}",))
        if sec.kind != "code":
            sym = image.objects.containing(lookup)
            if sym is None:
                cand = image.objects.nearest_before(lookup, global_only=True)
                if cand is not None and image.section_at(cand.start) == sec:
                    sym = cand
            return Location(addr, lookup, symbol=sym.name if sym else None,
                            offset=lookup - sym.start if sym else 0, section=sec.name,
                            kind="data")
        sym = image.functions.containing(lookup)
        if sym is None:
            # Like addr2line: padding and size-less symbols belong to the function before.
            cand = image.functions.nearest_before(lookup)
            if cand is not None and image.section_at(cand.start) == sec:
                sym = cand
        notes: tuple[str, ...] = ()
        frames = tuple([Frame(*f) for f in raw]) if raw else ()
        if frames and frames[0].function is None and sym is not None and len(frames) == 1:
            # a line without a DWARF function: addr2line names it from the symbol table
            frames = (Frame(sym.name, frames[0].file, frames[0].line, frames[0].column),)
        if not frames and not self.has_debug_info:
            notes = ("no debug info: symbol-table name only",)
        ac = None
        if kind == "return":
            arch, thumb, little = self._call_facts
            ac = after_call(arch, thumb, little, addr if arch != "xtensa" else lookup + 1,
                            image.read, start=sym.start if sym else None)
        if sym is None:
            return Location(addr, lookup, frames, None, 0, sec.name, "code", ac, notes)
        return Location(addr, lookup, frames, sym.name, lookup - sym.start, sec.name, "code",
                        ac, notes)

    @cached_property
    def _call_facts(self) -> tuple[str, bool, bool]:
        """What ``after_call`` needs of the ELF, asked once per address (``thumb`` is
        worked out from the symbol table on each call)."""
        image = self._image
        return image.arch, image.thumb, image.little_endian

    def function_of(self, addr: int) -> str | None:
        """The symbol-table function containing an exact address (no adjustment)."""
        a = addr & ~1 if self.arch == "arm" else addr
        sym = self._image.functions.containing(a)
        return sym.name if sym else None

    def functions_matching(self, pattern: str) -> list[tuple[str, int, int]]:
        """(name, start, end) of symbol-table functions whose name matches a glob."""
        return [(s.name, s.start, s.end) for s in self._image.functions.matching(pattern)]

    def check_return_addresses(self, addrs: Iterable[int],
                               traces: Iterable[int] = ()) -> MatchReport:
        """Tell whether logged return addresses (and trace entries, which may be call
        sites or return addresses) plausibly belong to this ELF."""
        try:
            return self._check_return_addresses(addrs, traces)
        except SymbolError:
            raise
        except (*DECODE_ERRORS, struct.error, zlib.error) as exc:
            raise CorruptElf(f"corrupt ELF {self.path} ({type(exc).__name__}: {exc})"[:300]
                             ) from None

    def _check_return_addresses(self, addrs: Iterable[int],
                                traces: Iterable[int] = ()) -> MatchReport:
        image = self._image
        uniq = list(dict.fromkeys(addrs))
        # trace entries: AliOS 3.x prints call sites (the call instruction itself), the
        # device agent return addresses: either fits, neither is "not after a call"
        extra = [t for t in dict.fromkeys(traces) if t and t not in set(uniq)]
        in_code = checked = calls = 0
        for a in [*uniq, *extra]:
            lk = self.adjust(a, "return")
            sec = image.section_at(lk)
            if sec is None or sec.kind != "code" or self._object_in_code(lk) is not None:
                continue
            in_code += 1
            ac = after_call(self.arch, self.thumb, self.little_endian,
                            a if self.arch != "xtensa" else lk + 1, image.read)
            if not ac and a in extra:
                at = call_at(self.arch, self.thumb, self.little_endian,
                             a if self.arch != "xtensa" else lk + 1, image.read)
                ac = ac if at is None else at
            if ac is not None:
                checked += 1
                calls += ac
        return _verdict(len(uniq) + len(extra), in_code, checked, calls)


def _verdict(total: int, in_code: int, checked: int, calls: int) -> MatchReport:
    if total == 0:
        return MatchReport(0, 0, 0, 0, "ok", "no addresses to check")
    f_code = in_code / total
    f_call = calls / checked if checked else None
    desc = f"{in_code}/{total} in code"
    if f_call is not None:
        desc += f", {calls}/{checked} right after a call instruction"
    if f_code < 0.5 or (f_call is not None and checked >= 3 and f_call < 0.5):
        return MatchReport(total, in_code, checked, calls, "mismatch",
                           f"the ELF does not match these addresses ({desc})")
    if f_code < 0.95 or (f_call is not None and f_call < 0.9):
        return MatchReport(total, in_code, checked, calls, "suspect",
                           f"the ELF may not match these addresses ({desc})")
    return MatchReport(total, in_code, checked, calls, "ok", desc)


def _location_fields(loc: Location, raw: tuple | None = None) -> tuple:
    """A Location as plain tuples for the on-disk cache (its ``address`` is the key);
    ``raw``: the frames it was made from, kept as the one object when equal (the cache file
    then holds the chain once)."""
    frames = loc.frames
    if raw and len(raw) == len(frames) and frames[0].function == raw[0][0]:
        chain = raw     # made from raw as is (``_location`` only ever names a nameless frame)
    else:
        chain = tuple([(f.function, f.file, f.line, f.column) for f in frames])
        if chain == raw:
            chain = raw
    return (loc.lookup, chain, loc.symbol, loc.offset, loc.section, loc.kind, loc.after_call,
            loc.notes)


def _location_from(address: int, fields: tuple) -> Location | None:
    """The Location of :func:`_location_fields`' tuple; None if the entry is damaged."""
    try:
        lookup, frames, symbol, offset, section, kind, after, notes = fields
        return Location(address, lookup, tuple([Frame(*f) for f in frames]), symbol, offset,
                        section, kind, after, tuple(notes))
    except (TypeError, ValueError):
        return None
