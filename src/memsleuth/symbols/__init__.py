"""ELF symbolization: addresses from a log -> functions, file:line and inline chains.

Pure Python (no toolchain needed): DWARF 2-5 decoded lazily per compilation unit, results
cached on disk per ELF content. See ``Symbolizer``.
"""

from memsleuth.symbols.errors import (
    ElfNotFound,
    NoDebugInfo,
    NotAnElf,
    SymbolError,
    UnsupportedArch,
)
from memsleuth.symbols.location import AddrKind, Frame, Location
from memsleuth.symbols.symbolizer import MatchReport, Symbolizer

__all__ = [
    "AddrKind", "ElfNotFound", "Frame", "Location", "MatchReport", "NoDebugInfo", "NotAnElf",
    "SymbolError", "Symbolizer", "UnsupportedArch",
]
