"""`fleet` and `ingest`: questions across a Parquet store of many logs, and what went in.

Each question is one SELECT (``fleet.queries.QUESTIONS``); a row type is that SELECT's
columns. Aggregates over nullable columns (median, min, any_value) may be null.
"""

from typing import Any, Literal, TypedDict

from memsleuth.results.common import Envelope


class LeakSite(TypedDict):
    """A leak site over every build: on how many devices (whose own log carries the leak:
    ``devices``; where it only grew weakly beside another leak: ``weak_devices``), how fast."""

    site_key: str
    function: str | None
    file: str | None
    src_line: int | None
    devices: int
    weak_devices: int
    logs: int
    builds: list[str | None]
    objects_per_cycle: float | None
    bytes_per_cycle: float | None


class WeakSite(TypedDict):
    """A site that grew on some devices but carries no device's leak verdict (it explained
    under a fifth of a log's heap decline, or grew over too few dumps to be significant)."""

    site_key: str
    function: str | None
    file: str | None
    src_line: int | None
    devices: int
    logs: int
    builds: list[str | None]
    median_share: float | None
    dumps: int | None
    bytes_per_cycle: float | None


class LeakSiteBuild(TypedDict):
    site_key: str
    build: str | None
    devices: int
    logs: int
    objects_per_cycle: float | None
    bytes_per_cycle: float | None


class BuildComparison(TypedDict):
    """Every build where a leaking site runs, leaking or not (a fixed build shows 0)."""

    site_key: str
    build: str
    first_date: str | None
    devices: int
    leaking_devices: int
    objects_per_cycle: float | None
    bytes_per_cycle: float | None


class CrashSignature(TypedDict):
    """Crashes that are the same crash: cause plus address-free frames."""

    signature: str
    category: str | None
    crashes: int
    devices: int
    builds: list[str | None]
    distinct_pcs: int
    first_seen: str | None
    last_seen: str | None
    symbolized: bool | None


class DeviceExhaustion(TypedDict):
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


class StoreProblem(TypedDict):
    path: str
    status: Literal["partial", "failed"]
    reason: str | None
    device: str | None
    build: str | None


class StoreSummary(TypedDict):
    logs: int
    ok: int
    partial: int
    failed: int
    devices: int
    builds: int
    bytes: int
    lines: int


class FleetOutput(Envelope):
    """`memsleuth fleet STORE --json`: every fleet question's rows."""

    store: str
    engine: Literal["local", "dask"]
    leak_sites: list[LeakSite]
    weak_sites: list[WeakSite]
    leak_sites_by_build: list[LeakSiteBuild]
    build_comparison: list[BuildComparison]
    crash_signatures: list[CrashSignature]
    devices_by_exhaustion: list[DeviceExhaustion]
    problems: list[StoreProblem]
    summary: list[StoreSummary]


class FleetSqlOutput(Envelope):
    """`memsleuth fleet STORE --sql QUERY --json`: the user's query, its rows as given."""

    store: str
    sql: str
    rows: list[dict[str, Any]]


class IngestedLog(TypedDict):
    """One log's status after an ingest (``skipped``: already in the store)."""

    path: str
    log_id: str | None
    status: Literal["ok", "partial", "failed", "skipped"]
    reason: str | None
    device: str | None
    build: str | None
    bytes: int | None


class IngestOutput(Envelope):
    """`memsleuth ingest LOG... --out STORE --json` (``problems``: the partial and failed)."""

    store: str
    ingest_id: str
    logs: int
    counts: dict[str, int]
    problems: list[IngestedLog]
