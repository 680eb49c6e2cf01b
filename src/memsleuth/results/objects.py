"""`objects`: kernel-object create/delete balance, from the object trace or the dumps."""

from typing import Any, Literal, TypedDict

from memsleuth.results.common import CycleSource, ElfMatch, Envelope


class ObjectCycles(TypedDict):
    markers: int
    complete: int
    judged: int
    first_marker: int | None
    last_marker: int | None


class PerCycle(TypedDict):
    """The commonest (created, deleted) pattern of a complete cycle."""

    created: int
    deleted: int
    net: int
    share: float
    mean_net: float
    cycles: int


class TraceKind(TypedDict):
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


class TraceSite(TypedDict):
    """One create site of one kind (callers resolving to one site merged)."""

    kind: str
    key: str
    label: str
    function: str | None
    file: str | None
    line: int | None
    callers: list[int]
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


class ObjectsFromTrace(TypedDict):
    """``analyze_objects`` with an object trace."""

    source: Literal["trace"]
    grace: int
    events: int
    seq_gaps: int
    cycles: ObjectCycles
    live_handles: int
    kinds: list[TraceKind]
    sites: list[TraceSite]
    leaks: list[TraceSite]
    summary: list[str]


class DumpKind(TypedDict):
    """Live blocks of one object kind per dump, and their slope."""

    kind: str
    blocks: list[int]
    bytes: list[int]
    x: list[float]
    x_kind: Literal["cycle", "snapshot"]
    slope_per_cycle: float | None
    slope_low: float | None
    slope_high: float | None


class ObjectsFromDumps(TypedDict):
    """``analyze_objects`` without a trace: object kinds counted in the block dumps."""

    source: Literal["dumps"]
    snapshots: int
    kinds: list[DumpKind]
    leaks: list[Any]            # always empty: a dump cannot pair creates and deletes
    growing_kinds: list[DumpKind]
    summary: list[str]


class ObjectsNone(TypedDict):
    """``analyze_objects`` when the log has neither (inside check/analyze/report)."""

    source: Literal["none"]
    kinds: list[Any]
    sites: list[Any]
    leaks: list[Any]
    summary: list[str]


Objects = ObjectsFromTrace | ObjectsFromDumps | ObjectsNone


class _ObjectsCommand(TypedDict):
    damaged_lines: dict[str, int]
    learned_shapes: dict[str, int]      # object-trace line shapes learned -> lines read
    cycle_source: CycleSource | None
    log: str
    elf: str | None
    elf_match: ElfMatch | None
    partial: list[str]


class ObjectsOutputTrace(Envelope, ObjectsFromTrace, _ObjectsCommand):
    """`memsleuth objects --json` on a log with an object trace."""


class ObjectsOutputDumps(Envelope, ObjectsFromDumps, _ObjectsCommand):
    """`memsleuth objects --json` on a log with block dumps only."""


ObjectsOutput = ObjectsOutputTrace | ObjectsOutputDumps
