"""`memsleuth diff`: per-site change between two snapshots (of one log or two logs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from memsleuth.analysis.census import Attributor
from memsleuth.analysis.diff import (
    SiteSeries,
    Snapshot,
    attribute_decline,
    diff_snapshots,
    site_growth,
)
from memsleuth.analysis.elf_fit import elf_match, partial_notes
from memsleuth.analysis.trend import TrendCollector
from memsleuth.commands.common import (
    cycle_pattern_option,
    elf_option,
    emit,
    exit_if_partial,
    guarded,
    json_option,
    open_symbolizer,
    stream_log,
)
from memsleuth.errors import InputError, UsageError
from memsleuth.report.diff_text import render_diff


def parse_pair(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    parts = text.split(",")
    try:
        i, j = (int(p) for p in parts)
    except ValueError:
        raise UsageError(f"--snapshots {text!r}: expected two indexes, e.g. 0,-1") from None
    return i, j


def _pick(snaps: list[Snapshot], index: int | None, default_last: bool, log: Path) -> Snapshot:
    if not snaps:
        raise InputError(f"{log}: no heap block dump in this log")
    if index is None:
        complete = [s for s in snaps if not s.partial] or snaps
        return complete[-1] if default_last else complete[0]
    if index < 0:                    # from the end, over the heap dumps
        if -index > len(snaps):
            raise UsageError(f"snapshot {index}: {log} has {len(snaps)} heap dump(s)")
        return snaps[index]
    found = next((s for s in snaps if s.index == index), None)
    if found is None:
        numbers = ", ".join(str(s.index) for s in snaps)
        raise UsageError(f"snapshot {index}: not a heap dump of {log} (numbered as census "
                         f"--snapshot counts; heap dumps: {numbers}; mmlk listings are not)")
    return found


def run_diff(log_a: Path, log_b: Path | None, elf: Path | None, snapshots: str | None,
             cycle_pattern: str | None = None) -> dict[str, Any]:
    pair = parse_pair(snapshots)
    symbolizer = open_symbolizer(elf)
    attributor = Attributor(symbolizer)
    series_a = SiteSeries(attributor)
    collector = TrendCollector()
    stats = [stream_log(log_a, [series_a.on_record, collector.on_record], cycle_pattern)]
    i, j = pair if pair else (None, None)
    result: dict[str, Any] = {"elf": str(elf) if elf else None}
    if log_b is None:
        if len(series_a.snapshots) < 2:
            raise InputError(f"{log_a}: {len(series_a.snapshots)} block dump(s); a diff of one "
                             "log needs two (or give a second log)")
        a = _pick(series_a.snapshots, i, False, log_a)
        b = _pick(series_a.snapshots, j, True, log_a)
        if a is b:
            raise InputError(
                f"{log_a}: only one complete block dump ({len(series_a.snapshots)} in all, the "
                "others cut short): nothing to compare it with; pick two with --snapshots I,J")
        result.update(diff_snapshots(a, b, series_a.info, str(log_a), str(log_a)))
        growth = site_growth(series_a.snapshots, series_a.info)
        result["growth"] = growth
        result["attribution"] = None
        if (collector.n_overviews or collector.n_cycle_points) and growth["rows"]:
            try:
                trend = collector.result()
            except ValueError:
                trend = None
            if trend and trend.get("leak"):
                result["attribution"] = attribute_decline(trend, growth)
    else:
        series_b = SiteSeries(attributor)
        stats.append(stream_log(log_b, [series_b.on_record], cycle_pattern))
        a = _pick(series_a.snapshots, i, True, log_a)
        b = _pick(series_b.snapshots, j, True, log_b)
        info = {**series_b.info, **series_a.info}
        result.update(diff_snapshots(a, b, info, str(log_a), str(log_b)))
        result["growth"] = None
        result["attribution"] = None
    result["elf_match"] = elf_match(symbolizer, attributor.seen)
    result["partial"] = [n for st in stats for n in partial_notes(st, None)] + \
        partial_notes(None, result["elf_match"])
    return result


@click.command("diff")
@click.argument("log_a", type=click.Path(dir_okay=False, path_type=Path), metavar="A")
@click.argument("log_b", type=click.Path(dir_okay=False, path_type=Path), metavar="[B]",
                required=False)
@elf_option
@click.option("--snapshots", default=None, metavar="I,J",
              help="Which dumps to compare (0 = first, -1 = last); default first vs last "
                   "(two logs: last vs last).")
@cycle_pattern_option
@click.option("--top", type=click.IntRange(min=0), default=20, show_default=True,
              help="Rows to show (0 = all).")
@json_option
@guarded
def command(log_a: Path, log_b: Path | None, elf: Path | None, snapshots: str | None,
            cycle_pattern: str | None, top: int, as_json: bool) -> None:
    """Per call site: blocks and bytes before/after, new and vanished sites, growth slopes."""
    result = run_diff(log_a, log_b, elf, snapshots, cycle_pattern)
    emit("diff", result, as_json, lambda r: render_diff(r, top))
    exit_if_partial(result["partial"])
