"""What every verb's document shares: the envelope, the ELF check, a source location."""

from typing import Literal, TypedDict

#: Bump when a JSON field changes meaning or disappears (adding fields is compatible).
SCHEMA_VERSION = 2   # 2: census rows' `owner` is the raw owner (`site_address` the blamed one)


class Envelope(TypedDict):
    """Every JSON document starts with these two keys."""

    schema: str         # memsleuth.<verb>/<SCHEMA_VERSION>
    memsleuth: str      # the tool version that wrote it


#: ``unknown``: nothing to check (no owner address, no PC).
ElfVerdict = Literal["ok", "suspect", "mismatch", "unknown"]


class _ElfMatchOptional(TypedDict, total=False):
    # the symbolizer's MatchReport (census, analyze, check, diff, objects, report)
    total: int
    in_code: int
    checked: int
    after_call: int
    # the crash check (crash, analyze's crash)
    dump_arch: str | None
    elf_arch: str | None
    pc: int | None
    pc_in_code: bool | None
    returns: int
    returns_in_code: int


class ElfMatch(_ElfMatchOptional):
    """Does the ELF fit the log? The verdict and why, with the counts behind it."""

    verdict: ElfVerdict
    reason: str


class InlineFrame(TypedDict):
    """One frame of an inline chain (innermost first)."""

    function: str | None
    file: str | None
    line: int | None


class _CycleSourceOptional(TypedDict, total=False):
    count: int                  # detected: lines of that family in the scanned head
    scanned_lines: int


class CycleSource(_CycleSourceOptional):
    """Where the cycle markers come from: detected on the log's head, or --cycle-pattern."""

    how: Literal["detected", "option", "default"]
    template: str
    pattern: str
