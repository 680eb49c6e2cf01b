"""`fleet` and `ingest`: questions across a Parquet store of many logs, and what went in.

Each question is one SELECT (``fleet.queries.QUESTIONS``); a row type is that SELECT's
columns. Aggregates over nullable columns (median, min, any_value) may be null.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Literal, TypeVar

from memsleuth.results.common import Document

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class LeakSite:
    """A leak site over every build: on how many devices (whose own log carries the leak:
    ``devices``; where it only grew weakly beside another leak: ``weak_devices``), how fast."""

    site_key: str
    function: str | None
    file: str | None
    src_line: int | None
    devices: int
    weak_devices: int
    logs: int
    builds: tuple[str | None, ...]
    objects_per_cycle: float | None
    bytes_per_cycle: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class WeakSite:
    """A site that grew on some devices but carries no device's leak verdict (it explained
    under a fifth of a log's heap decline, or grew over too few dumps to be significant)."""

    site_key: str
    function: str | None
    file: str | None
    src_line: int | None
    devices: int
    logs: int
    builds: tuple[str | None, ...]
    median_share: float | None
    dumps: int | None
    bytes_per_cycle: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class LeakSiteBuild:
    site_key: str
    build: str | None
    devices: int
    logs: int
    objects_per_cycle: float | None
    bytes_per_cycle: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildComparison:
    """Every build where a leaking site runs, leaking or not (a fixed build shows 0)."""

    site_key: str
    build: str
    first_date: str | None
    devices: int
    leaking_devices: int
    objects_per_cycle: float | None
    bytes_per_cycle: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CrashSignature:
    """Crashes that are the same crash: cause plus address-free frames."""

    signature: str
    category: str | None
    crashes: int
    devices: int
    builds: tuple[str | None, ...]
    distinct_pcs: int
    first_seen: str | None
    last_seen: str | None
    symbolized: bool | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceExhaustion:
    """The newest log of a device, by when its heap runs out."""

    device: str
    build: str | None
    date: str | None
    trend_class: str | None
    heap_rate: float | None
    trend_x: str | None
    free_now: int | None
    exhaustion_at: float | None
    remaining: float | None
    path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreProblem:
    path: str
    status: Literal["partial", "failed"]
    reason: str | None
    device: str | None
    build: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreSummary:
    logs: int
    ok: int
    partial: int
    failed: int
    devices: int
    builds: int
    bytes: int
    lines: int


@dataclass(frozen=True, slots=True, kw_only=True)
class FleetAnswers:
    """Every fleet question's rows (``fleet.queries.answer`` or the Dask engine's, typed)."""

    leak_sites: tuple[LeakSite, ...]
    weak_sites: tuple[WeakSite, ...]
    leak_sites_by_build: tuple[LeakSiteBuild, ...]
    build_comparison: tuple[BuildComparison, ...]
    crash_signatures: tuple[CrashSignature, ...]
    devices_by_exhaustion: tuple[DeviceExhaustion, ...]
    problems: tuple[StoreProblem, ...]
    summary: tuple[StoreSummary, ...]

    @classmethod
    def of(cls, answers: dict[str, list[dict[str, Any]]]) -> FleetAnswers:
        """The engines' rows (one dict per row, its SELECT's columns) as the row types."""
        return cls(**{f.name: tuple(_row(_ROWS[f.name], r) for r in answers[f.name])
                      for f in fields(cls)})


def _row(cls: type[T], row: dict[str, Any]) -> T:
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in row.items()})


@dataclass(frozen=True, slots=True, kw_only=True)
class FleetOutput(FleetAnswers, Document):
    """`memsleuth fleet STORE --json`: every fleet question's rows."""

    store: str
    engine: Literal["local", "dask"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FleetSqlOutput(Document):
    """`memsleuth fleet STORE --sql QUERY --json`: the user's query, its rows as given."""

    store: str
    sql: str
    rows: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestedLog:
    """One log's status after an ingest (``skipped``: already in the store)."""

    path: str
    log_id: str | None
    status: Literal["ok", "partial", "failed", "skipped"]
    reason: str | None
    device: str | None
    build: str | None
    bytes: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestOutput(Document):
    """`memsleuth ingest LOG... --out STORE --json` (``problems``: the partial and failed)."""

    store: str
    ingest_id: str
    logs: int
    counts: dict[str, int]
    problems: tuple[IngestedLog, ...]


#: question -> its row type
_ROWS: dict[str, Any] = {
    "leak_sites": LeakSite, "weak_sites": WeakSite, "leak_sites_by_build": LeakSiteBuild,
    "build_comparison": BuildComparison, "crash_signatures": CrashSignature,
    "devices_by_exhaustion": DeviceExhaustion, "problems": StoreProblem,
    "summary": StoreSummary,
}
