"""`objects`: kernel-object create/delete balance, from the object trace or the dumps.

Three shapes, told apart by ``source``: the trace's pairing (``ObjectsFromTrace``), object
kinds counted in the block dumps (``ObjectsFromDumps``), or nothing to count
(``ObjectsNone``, inside check/analyze/report only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from memsleuth.results.common import CycleSource, Document, ElfMatch, InlineFrame


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectCycles:
    markers: int
    complete: int
    judged: int
    first_marker: int | None
    last_marker: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PerCycle:
    """The commonest (created, deleted) pattern of a complete cycle."""

    created: int
    deleted: int
    net: int
    share: float
    mean_net: float
    cycles: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceKind:
    kind: str
    created: int
    deleted: int
    alive: int
    lost: int
    unmatched_deletes: int
    kind_mismatch: int
    per_cycle: PerCycle | None
    leaked: int
    leak_per_cycle: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceSite:
    """One create site of one kind (callers resolving to one site merged)."""

    kind: str
    key: str
    label: str
    function: str | None
    file: str | None
    line: int | None
    inlined: tuple[InlineFrame, ...]
    callers: tuple[int, ...]
    created: int
    deleted: int
    alive: int
    lost: int
    late_deletes: int
    startup: int
    pending: int
    leaked: int
    created_per_cycle: int | None
    cycles_leaking: int
    leak_per_cycle: float | None
    steady: bool
    recurring: bool             # leftovers in 3+ cycles spread over the run


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectsFromTrace:
    """``analyze_objects`` with an object trace."""

    source: Literal["trace"] = "trace"
    grace: int
    events: int
    seq_gaps: int
    cycles: ObjectCycles
    live_handles: int
    kinds: tuple[TraceKind, ...]
    sites: tuple[TraceSite, ...]
    leaks: tuple[TraceSite, ...]
    summary: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class DumpKind:
    """Live blocks of one object kind per dump, and their slope."""

    kind: str
    blocks: tuple[int, ...]
    bytes: tuple[int, ...]
    x: tuple[float, ...]
    x_kind: Literal["cycle", "snapshot"]
    slope_per_cycle: float | None
    slope_low: float | None
    slope_high: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectsFromDumps:
    """``analyze_objects`` without a trace: object kinds counted in the block dumps."""

    source: Literal["dumps"] = "dumps"
    snapshots: int
    kinds: tuple[DumpKind, ...]
    leaks: tuple[TraceSite, ...] = ()   # always empty: a dump cannot pair creates and deletes
    growing_kinds: tuple[DumpKind, ...]
    summary: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectsNone:
    """``analyze_objects`` when the log has neither (inside check/analyze/report)."""

    source: Literal["none"] = "none"
    kinds: tuple[TraceKind, ...] = ()
    sites: tuple[TraceSite, ...] = ()
    leaks: tuple[TraceSite, ...] = ()
    summary: tuple[str, ...]


Objects = ObjectsFromTrace | ObjectsFromDumps | ObjectsNone


@dataclass(frozen=True, kw_only=True)
class ObjectsInputs:
    """What `objects --json` adds to either analysis (fields only: its subclasses store them)."""

    __slots__ = ()
    damaged_lines: dict[str, int]
    learned_shapes: dict[str, int]      # object-trace line shapes learned -> lines read
    cycle_source: CycleSource | None
    log: str
    elf: str | None
    elf_match: ElfMatch | None
    partial: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectsOutputTrace(ObjectsInputs, ObjectsFromTrace, Document):
    """`memsleuth objects --json` on a log with an object trace."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectsOutputDumps(ObjectsInputs, ObjectsFromDumps, Document):
    """`memsleuth objects --json` on a log with block dumps only."""


ObjectsOutput = ObjectsOutputTrace | ObjectsOutputDumps
