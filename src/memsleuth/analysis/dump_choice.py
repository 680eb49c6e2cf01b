"""Which block dump a verb looks at: the census's one, the two a diff compares.

Dumps are numbered in log order, every block dump of the log (``census --snapshot N``, the
``#N`` of every output); only full heap dumps can be compared (an ``mmlk`` listing shows one
tag's blocks).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from memsleuth.errors import InputError, UsageError
from memsleuth.records import BlockDump

if TYPE_CHECKING:   # census needs none of the diff machinery (start-up: ~25 ms of imports)
    from memsleuth.analysis.diff import SiteSeries, Snapshot
    from memsleuth.analysis.trend import TrendCollector
    from memsleuth.results.diff import DiffAnalysis


class CensusKeep:
    """What the one pass over the log must keep whole for ``census --snapshot N``.

    A hook (counts the dumps as they arrive) and the model's ``keep`` rule: dump N for N >= 0,
    the newest |N| dumps for N < 0, so a negative index needs no second pass.
    """

    def __init__(self, snapshot: int | None) -> None:
        self.snapshot = snapshot
        self.seen = 0

    def __call__(self, record: Any) -> None:
        if isinstance(record, BlockDump):
            self.seen += 1

    def keep(self, dump: Any) -> bool:
        if self.snapshot is None:
            return False
        if self.snapshot >= 0:
            return dump.index == self.snapshot
        return dump.index >= self.seen + self.snapshot


def census_dump(model: Any, snapshot: int | None) -> tuple[Any, list[str]]:
    """The dump a census shows (negative counts from the end; default the last complete one)
    and notes on the choice. The model must have kept that dump whole (``keep``)."""
    if not model.dumps:
        raise InputError(f"{model.path}: no heap block dump in this log "
                         "(expected 'all memory blocks' sections; see `memsleuth analyze`)")
    if snapshot is None:
        index = model.last_complete_dump.index
    else:
        count = model.dumps.count
        index = snapshot if snapshot >= 0 else count + snapshot
        if not 0 <= index < count:
            raise UsageError(f"--snapshot {snapshot}: the log has {count} dump(s)")
    notes = []
    newest = model.dumps.newest
    if snapshot is None and newest.partial and newest.index != index:
        notes.append(
            f"the newest dump (#{newest.index}, line {newest.line}) is partial "
            f"({newest.partial_reason}); showing the last complete one, #{index}; "
            f"use --snapshot -1 to see the partial one")
    elif snapshot is None and newest.variant == "error_blocks" and newest.index != index:
        notes.append(
            f"the newest listing (#{newest.index}, line {newest.line}) is the device's error "
            f"blocks (blocks whose header is corrupt), not a census of the heap; showing "
            f"#{index}; use --snapshot {newest.index} to see it")
    return model.full_dumps[index], notes


def pick_snapshot(snaps: list[Snapshot], index: int | None, default_last: bool,
                  log: Path, count: int | None = None) -> Snapshot:
    """The dump numbered ``index`` (negative: from the end, over the full dumps); by default
    the last (or first) complete one.

    ``snaps`` may be a ``SiteSeries`` sample of ``count`` censuses: the series must then have
    been told to keep ``index`` (``SiteSeries(keep=...)``)."""
    if not snaps:
        raise InputError(f"{log}: no heap block dump in this log")
    count = len(snaps) if count is None else count
    if index is None:
        complete = [s for s in snaps if not s.partial] or snaps
        return complete[-1] if default_last else complete[0]
    if index < 0:                    # from the end, over the heap dumps
        if -index > count:
            raise UsageError(f"snapshot {index}: {log} has {count} heap dump(s)")
        return snaps[index]
    found = next((s for s in snaps if s.index == index), None)
    if found is None:
        numbers = ", ".join(str(s.index) for s in snaps)
        if count > len(snaps):       # a sample: the list would mislead
            numbers = f"{count:,} from #{snaps[0].index} to #{snaps[-1].index}"
        raise UsageError(f"snapshot {index}: not a heap dump of {log} (numbered as census "
                         f"--snapshot counts; heap dumps: {numbers}; mmlk listings are not)")
    return found


def diff_within(series: SiteSeries, trend: TrendCollector, pair: tuple[int, int] | None,
                log: Path) -> DiffAnalysis:
    """Two dumps of one log (default first vs last complete), the growth across all of them,
    and which growing sites explain the heap's decline when the log shows one."""
    from memsleuth.analysis.diff import attribute_decline, diff_snapshots, site_growth
    from memsleuth.results.common import extend
    from memsleuth.results.diff import DiffAnalysis

    i, j = pair if pair else (None, None)
    if series.count < 2:
        raise InputError(f"{log}: {series.count} block dump(s); a diff of one "
                         "log needs two (or give a second log)")
    a = pick_snapshot(series.snapshots, i, False, log, series.count)
    b = pick_snapshot(series.snapshots, j, True, log, series.count)
    if a is b:
        raise InputError(
            f"{log}: only one complete block dump ({series.count} in all, the "
            "others cut short): nothing to compare it with; pick two with --snapshots I,J")
    growth = site_growth(series.snapshots, series.info, total=series.count)
    attribution = None
    if (trend.n_overviews or trend.n_cycle_points) and growth.rows:
        try:
            curve = trend.result()
        except ValueError:
            curve = None
        if curve is not None and curve.leak:
            attribution = attribute_decline(curve, growth)
    return extend(DiffAnalysis, diff_snapshots(a, b, series.info, str(log), str(log)),
                  growth=growth, attribution=attribution)


def diff_between(series_a: SiteSeries, series_b: SiteSeries, pair: tuple[int, int] | None,
                 log_a: Path, log_b: Path) -> DiffAnalysis:
    """One dump of each log (default the last complete of each)."""
    from memsleuth.analysis.diff import diff_snapshots
    from memsleuth.results.common import extend
    from memsleuth.results.diff import DiffAnalysis

    i, j = pair if pair else (None, None)
    a = pick_snapshot(series_a.snapshots, i, True, log_a, series_a.count)
    b = pick_snapshot(series_b.snapshots, j, True, log_b, series_b.count)
    info = {**series_b.info, **series_a.info}
    return extend(DiffAnalysis, diff_snapshots(a, b, info, str(log_a), str(log_b)),
                  growth=None, attribution=None)
