"""`monitor`: the summary printed when a live capture ends."""

from typing import Literal, TypedDict

from memsleuth.results.common import ElfMatch, Envelope
from memsleuth.results.crash import CrashExplanation


class Alert(TypedDict):
    """``line`` is where the evidence is in the capture."""

    kind: Literal["leak", "object_leak", "crash", "malloc_failed"]
    line: int
    message: str
    cycle: int | None
    raised_after_line: int


class LiveStatus(TypedDict):
    """The last status line as data."""

    lines: int
    cycle: int | None
    free: int | None
    total: int | None
    min_free: int | None
    points: int
    leak_rate: float | None
    leak_rate_ci: list[float] | None
    forecast_exhaustion: float | None
    forecast_level: str | None
    objects: dict[str, int]
    alerts: int


class DecodeCounts(TypedDict):
    lookups: int
    annotations: int
    errors: int
    internal_errors: int


class _LiveCrashOptional(TypedDict, total=False):
    partial: str | bool
    explanation: CrashExplanation
    error: str                  # the explanation failed (the capture still has the dump)


class LiveCrash(_LiveCrashOptional):
    line: int
    lines: int


class MonitorOutput(Envelope):
    """`memsleuth monitor --json`, printed at exit."""

    lines: int
    bytes: int
    capture_files: list[str]
    alerts: list[Alert]
    status: LiveStatus
    ended: Literal["eof", "interrupted", "capture_error"]
    reconnects: int
    sends: int
    decode: DecodeCounts
    crashes: list[LiveCrash]
    command_exit: int | None
    finding: bool
    elf_match: ElfMatch | None
