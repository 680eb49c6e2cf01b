"""`monitor`: the live status and the summary printed when a live capture ends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from memsleuth.results.common import Document, ElfMatch, omitted
from memsleuth.results.crash import CrashExplanation
from memsleuth.results.trend import Classification

AlertKind = Literal["leak", "object_leak", "crash", "malloc_failed"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    """Something the user must look at now: ``line`` is where the evidence is in the
    capture, ``raised_after_line`` how many lines had arrived when it was raised."""

    kind: AlertKind
    line: int
    message: str
    cycle: int | None = None
    raised_after_line: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusVerdict:
    """``check``'s verdict on what has arrived (null before the first heap point)."""

    leak: bool | None
    exit_code: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveStatus:
    """The status line as data: the fields ``analyze --json`` has too keep its meaning
    (``free``, ``min_free``, ... of ``heap``; ``points``, ``classification`` of the trend;
    ``leak_rate`` B per x falling, with its interval; the forecast's exhaustion)."""

    lines: int
    cycle: int | None
    free: int | None
    total: int | None
    min_free: int | None
    lowest_free: int | None
    points: int
    classification: Classification | None
    leak_rate: float | None
    leak_rate_ci: tuple[float, float] | None
    forecast_exhaustion: float | None
    forecast_level: str | None
    objects: dict[str, int]         # live objects per kind
    verdict: StatusVerdict
    alerts: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DecodeCounts:
    lookups: int
    annotations: int
    errors: int
    internal_errors: int


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveCrash:
    """A crash dump seen live: where, how long; its explanation, or why there is none
    (``error``: the capture still has the dump); ``partial`` the reason it was cut short
    (true when the parser gave none)."""

    line: int
    lines: int
    partial: str | bool | None = omitted()
    explanation: CrashExplanation | None = omitted()
    error: str | None = omitted()


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitorOutput(Document):
    """`memsleuth monitor --json`, printed at exit (what ``Monitor.run`` returns)."""

    lines: int
    bytes: int
    capture_files: tuple[str, ...]
    alerts: tuple[Alert, ...]
    status: LiveStatus
    ended: Literal["eof", "interrupted", "capture_error"]
    reconnects: int
    sends: int
    decode: DecodeCounts
    #: the first 50 crash dumps and the newest (``crashes_total`` counts them all)
    crashes: tuple[LiveCrash, ...]
    crashes_total: int
    command_exit: int | None
    finding: bool
    elf_match: ElfMatch | None
