"""Terminal rendering of the fleet answers (``memsleuth fleet``) and of an ingest run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.table import Table

from memsleuth.report.terminal import console

if TYPE_CHECKING:
    from memsleuth.results.fleet import FleetOutput, IngestOutput


def _num(v: Any, fmt: str = "{:.3g}") -> str:
    if v is None:
        return "-"
    return fmt.format(v) if isinstance(v, float) else str(v)


def _table(title: str, rows: Sequence[Any], columns: list[tuple[str, str]],
           top: int) -> None:
    out = console()
    out.print(f"\n[bold]{title}[/] ({len(rows)})")
    if not rows:
        out.print("  none")
        return
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    for _, head in columns:
        table.add_column(head)
    for r in rows[:top]:
        cells = (getattr(r, k) for k, _ in columns)
        table.add_row(*(", ".join(map(str, v)) if isinstance(v, tuple) else _num(v)
                        for v in cells))
    out.print(table)
    if len(rows) > top:
        out.print(f"  ... {len(rows) - top} more (--top, --json)")


def render_fleet(result: FleetOutput, top: int = 10) -> None:
    out = console()
    s = result.summary[0] if result.summary else None
    logs, ok, partial, failed, devices, builds, size = (
        (s.logs, s.ok, s.partial, s.failed, s.devices, s.builds, s.bytes) if s
        else (0, 0, 0, 0, 0, 0, 0))
    out.print(f"[bold]Fleet[/] {result.store}: {logs:,} logs "
              f"({ok:,} ok, {partial:,} partial, "
              f"{failed:,} failed), {devices:,} devices, "
              f"{builds:,} builds, {size / 1e6:,.1f} MB")
    _table("Leak sites, by devices whose own log carries the leak", result.leak_sites, [
        ("site_key", "site"), ("devices", "devices"), ("weak_devices", "+ weak"),
        ("logs", "logs"), ("objects_per_cycle", "objects/cycle"),
        ("bytes_per_cycle", "B/cycle"), ("builds", "builds")], top)
    if result.weak_sites:
        _table("Weak evidence only: grew in a few dumps beside another leak, on no device "
               "the leak itself", result.weak_sites, [
                   ("site_key", "site"), ("devices", "devices"), ("logs", "logs"),
                   ("median_share", "share of decline"), ("dumps", "dumps"),
                   ("bytes_per_cycle", "B/cycle")], top)
    _table("Leak sites per build, build to build (median over the logs; 0 = fixed)",
           result.build_comparison, [
               ("site_key", "site"), ("build", "build"), ("first_date", "first seen"),
               ("devices", "devices"), ("leaking_devices", "leaking"),
               ("objects_per_cycle", "objects/cycle"), ("bytes_per_cycle", "B/cycle")],
           top * 3)
    _table("Crash signatures (cause + address-free frames)", result.crash_signatures, [
        ("signature", "signature"), ("crashes", "crashes"), ("devices", "devices"),
        ("builds", "builds"), ("distinct_pcs", "PCs"), ("first_seen", "first"),
        ("last_seen", "last")], top)
    _table("Devices by forecast exhaustion (newest log of each)",
           [r for r in result.devices_by_exhaustion if r.remaining is not None], [
               ("device", "device"), ("build", "build"), ("date", "date"),
               ("trend_class", "trend"), ("heap_rate", "B lost/cycle"),
               ("free_now", "free now"), ("remaining", "cycles left")], top)
    problems = result.problems
    if problems:
        _table("Logs not fully answered", problems, [
            ("path", "log"), ("status", "status"), ("reason", "reason")], top)


def render_ingest(result: IngestOutput) -> None:
    out = console()
    c = result.counts
    out.print(f"[bold]Ingested[/] {result.logs:,} log(s) into {result.store} "
              f"(ingest {result.ingest_id}): {c.get('ok', 0):,} ok, "
              f"{c.get('partial', 0):,} partial, {c.get('failed', 0):,} failed, "
              f"{c.get('skipped', 0):,} already in the store")
    for r in result.problems[:50]:
        out.print(f"  {r.status}: {r.path}: {r.reason}")
    if len(result.problems) > 50:
        out.print(f"  ... {len(result.problems) - 50} more (--json)")
