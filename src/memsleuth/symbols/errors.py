"""The symbolizer's errors: one small hierarchy, each message one clear line.

They derive from memsleuth's ``MemsleuthError`` so the CLI prints them without a traceback
and maps them to its exit codes.
"""

from __future__ import annotations

from memsleuth.errors import EXIT_USAGE, MemsleuthError


class SymbolError(MemsleuthError):
    """Base of every error raised while reading an ELF for symbols."""


class ElfNotFound(SymbolError):
    """The ELF path does not exist or cannot be read."""

    exit_code = EXIT_USAGE


class NotAnElf(SymbolError):
    """The file exists but is not an ELF (or is truncated/corrupt)."""


class CorruptElf(NotAnElf):
    """The ELF's headers were readable but its symbol table or DWARF is corrupt: a walk went
    backwards, out of its section, or nested absurdly deep. Raised rather than guessing (a
    wrong frame looks as sure as a right one) or looping forever."""


#: What decoding corrupt bytes raises in the pure-Python readers (and nothing else does):
#: turned into ``CorruptElf`` at the symbolizer's boundary.
DECODE_ERRORS = (IndexError, KeyError, ValueError, ZeroDivisionError, OverflowError,
                 RecursionError, MemoryError)


class UnsupportedArch(SymbolError):
    """An ELF for a machine the symbolizer has no return-address rules for."""


class NoDebugInfo(SymbolError, UserWarning):
    """The ELF has no DWARF: only symbol-table names are available.

    Warning-level: ``Symbolizer.open`` issues it with ``warnings.warn`` and goes on, since
    a stripped-of-DWARF ELF still names functions from ``.symtab``.
    """
