"""Per-site change between heap snapshots, growth across many, and the heap decline explained.

Diff compares census results (heaptrack's lesson: compare two models, do not re-walk logs):
``SiteSeries`` runs the census of every block dump as the log streams by and keeps only its
per-site totals, so any two snapshots can be compared and, with three or more, each site gets
a growth slope that tells a site growing every cycle from one that spiked once.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from memsleuth.analysis.block_tally import tally
from memsleuth.analysis.block_trust import used_disagreement
from memsleuth.analysis.census import Attributor, inline_suffix, site_sizes
from memsleuth.analysis.regression import sen_slopes
from memsleuth.model import Sample
from memsleuth.records import BlockDump, CycleMarker, HeapRun, Record
from memsleuth.results.diff import (
    AttributedSite,
    Attribution,
    DiffRow,
    DiffTotals,
    Growth,
    GrowthRow,
    SnapshotDiff,
    SnapshotRef,
)
from memsleuth.results.objects import Objects
from memsleuth.results.trend import Trend

#: A site "grows steadily" when at least this share of snapshot-to-snapshot steps grow.
STEADY_STEPS = 0.7
#: A site "spiked" when one step holds at least this share of its total growth.
SPIKE_SHARE = 0.8


@dataclass(slots=True)
class Snapshot:
    """What is kept of one census: per-site (blocks, bytes, max size) and where it was."""

    index: int                  # the dump's number in the log, as census --snapshot counts
    line: int
    cycle: int | None
    partial: bool
    used_bytes: int
    sites: dict[str, tuple[int, int, int]]
    #: allocator bytes per block beyond the payload (header), when the dump prints the total
    overhead: float | None = None


#: Censuses kept for growth and diffs: every one up to this many (hundreds in a long soak
#: test), then an evenly spaced sample of between half and all of them plus the first and
#: newest complete ones and the dumps asked for by number (``SiteSeries(keep=...)``).
#: ``regression.theil_sen`` fits at most 1000 points anyway.
SNAPSHOT_CAPACITY = 1024


class SiteSeries:
    """Streaming census of every block dump; plug ``on_record`` into ``build_model``.

    Bounded: ``snapshots`` holds every census up to SNAPSHOT_CAPACITY, then an evenly spaced
    sample (``sampled``) that always has the first complete, the newest and the newest
    complete one, the dumps numbered in ``keep`` (a diff's ``--snapshots I,J``: I, J >= 0
    by number, I, J < 0 the newest |I| heap dumps). ``count`` is how many were taken.
    """

    def __init__(self, attributor: Any, *, keep: tuple[int, ...] = (),
                 capacity: int | None = None) -> None:
        # census needs an attributor; without an ELF: raw addresses
        self.attributor = attributor if attributor is not None else Attributor(None)
        self.info: dict[str, dict[str, Any]] = {}
        self.cycle: int | None = None
        self.markers = 0
        self._sample: Sample[Snapshot] = Sample(capacity or SNAPSHOT_CAPACITY)
        self._wanted = frozenset(i for i in keep if i >= 0)
        self._tail: deque[tuple[int, Snapshot]] = deque(maxlen=max([-i for i in keep] + [0]))
        #: blocks left out of the censuses as untrusted (corrupt header, impossible size),
        #: and where the first one is (line): heap corruption the verdicts must mention
        self.untrusted_blocks = 0
        self.untrusted_first: int | None = None

    @property
    def count(self) -> int:
        """Censuses taken (every heap dump of the log, mmlk listings aside)."""
        return self._sample.count

    @property
    def sampled(self) -> bool:
        """True when ``snapshots`` is a sample (some censuses were let go)."""
        return self._sample.thinned

    @property
    def snapshots(self) -> list[Snapshot]:
        """The kept censuses in log order (all of them unless ``sampled``)."""
        return self._sample.items()

    def record_leaves(self) -> list[dict[type, Any]]:
        """What ``on_record`` acts on (``commands.common.fan_out``: keep the two in step)."""
        return [{CycleMarker: self.on_record, HeapRun: self.on_record,
                 BlockDump: self.on_record}]

    def on_record(self, record: Record) -> None:
        if isinstance(record, CycleMarker):
            self.markers += 1
            self.cycle = record.index if record.index is not None else self.markers
        elif type(record) is HeapRun:
            if record.markers:      # (a run's marker indexes are always printed)
                self.markers += record.markers
                self.cycle = record.m_index[-1]
        elif isinstance(record, BlockDump) and record.variant != "mmlk":
            # an mmlk listing shows the blocks of one tag only, not the heap
            self.add(record)

    def add(self, dump: BlockDump) -> None:
        used_bytes, sites, new = site_sizes(dump, self.attributor, self.info)
        bad = tally(dump).bad       # (judged once per dump: site_sizes asked already)
        if bad:
            self.untrusted_blocks += len(bad)
            if self.untrusted_first is None:
                self.untrusted_first = dump.blocks[min(bad)].line
        for key, (site, owner) in new.items():
            self.info[key] = {
                "key": key, "function": site.function, "file": site.file,
                "line": site.line, "inlined": site.inlined,
                "object_kind": site.object_kind,
                "owner": owner, "site_address": site.address,
            }
        snap = Snapshot(
            # (blocks with a corrupt header are in no total; a dump whose trusted blocks
            # exceed its own UsedSz is not to be relied on: partial)
            index=dump.index, line=dump.line, cycle=self.cycle,
            partial=dump.partial or used_disagreement(dump, used_bytes) is not None,
            used_bytes=used_bytes, sites=sites,
            overhead=block_overhead(dump),
        )
        sample = self._sample
        seq = sample.append(snap)
        sample.pin("newest", seq, snap)
        if not snap.partial:
            if sample.pinned("first complete") is None:
                sample.pin("first complete", seq, snap)
            sample.pin("newest complete", seq, snap)
        if snap.index in self._wanted:
            sample.pin(f"#{snap.index}", seq, snap)
        if self._tail.maxlen:
            if len(self._tail) == self._tail.maxlen:
                sample.unpin(f"tail {self._tail[0][0]}")
            self._tail.append((seq, snap))
            sample.pin(f"tail {seq}", seq, snap)


def block_overhead(dump: BlockDump) -> float | None:
    """Header bytes per block: (heap total − every block's payload) / blocks.

    The free-heap curve counts headers, the dump's sizes do not; attribution must add them
    (48 B per block on the 64-bit agent, 24 B on Cortex-M).
    """
    ov = dump.overview
    if ov is None or not ov.total or dump.partial or not dump.blocks or tally(dump).bad:
        return None     # (a corrupt header's size is garbage: no estimate from it)
    payload = tally(dump).payload
    extra = (ov.total - payload) / len(dump.blocks)
    return extra if extra >= 0 else None


def _label(info: dict[str, Any]) -> str:
    name = info.get("function") or info["key"]
    if info.get("file") and info.get("line"):
        name = f"{name} ({info['file'].rsplit('/', 1)[-1]}:{info['line']})"
    return name + inline_suffix(info.get("inlined") or ())


def _site_fields(info: dict[str, dict[str, Any]], key: str) -> dict[str, Any]:
    """What a row says about its site (``SiteFields``): key, label and where it is."""
    meta = info.get(key, {"key": key})
    return {"key": key, "label": _label(meta), "function": meta.get("function"),
            "file": meta.get("file"), "line": meta.get("line"),
            "inlined": meta.get("inlined") or (), "object_kind": meta.get("object_kind")}


def _snap_ref(s: Snapshot, log: str | None) -> SnapshotRef:
    return SnapshotRef(log=log, index=s.index, line=s.line, cycle=s.cycle, partial=s.partial,
                       used_bytes=s.used_bytes)


def diff_snapshots(
    a: Snapshot, b: Snapshot, info: dict[str, dict[str, Any]],
    log_a: str | None = None, log_b: str | None = None,
) -> SnapshotDiff:
    """Per-site blocks/bytes before, after and delta; new and vanished sites (rows sorted by
    bytes_delta, largest growth first)."""
    rows: list[DiffRow] = []
    for key in set(a.sites) | set(b.sites):
        ba, ya, _ = a.sites.get(key, (0, 0, 0))
        bb, yb, _ = b.sites.get(key, (0, 0, 0))
        if key not in a.sites:
            status = "new"
        elif key not in b.sites:
            status = "vanished"
        elif yb > ya or bb > ba:
            status = "grown"
        elif yb < ya or bb < ba:
            status = "shrunk"
        else:
            status = "same"
        rows.append(DiffRow(
            **_site_fields(info, key),
            blocks_before=ba, blocks_after=bb, blocks_delta=bb - ba,
            bytes_before=ya, bytes_after=yb, bytes_delta=yb - ya, status=status,
        ))
    rows.sort(key=lambda r: (-r.bytes_delta, -r.blocks_delta, r.key))
    count = {s: sum(1 for r in rows if r.status == s) for s in ("new", "vanished", "grown",
                                                              "shrunk")}
    return SnapshotDiff(
        before=_snap_ref(a, log_a), after=_snap_ref(b, log_b), rows=tuple(rows),
        totals=DiffTotals(bytes_delta=sum(r.bytes_delta for r in rows),
                          blocks_delta=sum(r.blocks_delta for r in rows), **count),
    )


def site_growth(
    snapshots: list[Snapshot], info: dict[str, dict[str, Any]], *, skip_partial: bool = True,
    total: int | None = None,
) -> Growth:
    """Per-site growth across three or more snapshots, rows sorted by bytes_slope.

    x is "cycle" when every snapshot has one, else "snapshot"; heap_slope is bytes plus
    block headers (what the free-heap curve sees); grow_steps the share of steps that grew.
    ``total``: the censuses ``snapshots`` were sampled from (``SiteSeries.count``, when it
    is more than were kept, the growth says it rests on an evenly spaced sample).
    """
    total = len(snapshots) if total is None else max(total, len(snapshots))
    sample = {"dumps_total": total, "sampled": total > len(snapshots)}
    snaps = [s for s in snapshots if not (skip_partial and s.partial)] or snapshots
    # distinct as floats: two huge cycle numbers of a damaged log can round to one x
    by_cycle = all(s.cycle is not None for s in snaps) and len(
        {float(s.cycle) for s in snaps}) == len(snaps)  # type: ignore[arg-type]
    xs = [float(s.cycle) if by_cycle else float(s.index) for s in snaps]  # type: ignore[arg-type]
    # (dumps that all claim one number, in a damaged log, give no abscissa either)
    if len(snaps) < 3 or len(set(xs)) < 2:
        return Growth(x=None, snapshots=len(snaps), dumps=tuple(s.index for s in snaps),
                      block_overhead=None, rows=(), **sample)
    rows = []
    overheads = sorted(s.overhead for s in snaps if s.overhead is not None)
    overhead = overheads[len(overheads) // 2] if overheads else 0.0
    keys = list(set().union(*(s.sites for s in snaps)))
    columns = [[s.sites.get(key, (0, 0, 0)) for s in snaps] for key in keys]
    # every site on the same abscissa: the pairs of dumps are found once for all fits
    # (one series made at a time: sites x snapshots floats were a peak of their own)
    fits = sen_slopes(xs, ([float(v[1]) for v in col] for col in columns))
    bfits = sen_slopes(xs, ([float(v[0]) for v in col] for col in columns))
    for key, col, (slope, slope_low, slope_high), (bslope, _, _) in zip(
            keys, columns, fits, bfits, strict=True):
        blocks = [v[0] for v in col]
        bytes_ = [v[1] for v in col]
        sizes = [v[2] for v in col]
        steps = [b - a for a, b in zip(bytes_, bytes_[1:], strict=False)]
        rates = [d / (x1 - x0) if x1 != x0 else 0.0
                 for d, x0, x1 in zip(steps, xs, xs[1:], strict=False)]
        grew = sum(1 for d in steps if d > 0)
        total_growth = bytes_[-1] - bytes_[0]
        big = max(range(len(steps)), key=lambda i: steps[i])
        big_share = steps[big] / total_growth if total_growth > 0 else 0.0
        others = sorted(r for i, r in enumerate(rates) if i != big)
        # a spike is one step much faster than the others, not one long stretch of the
        # same growth between far-apart snapshots
        other_rate = max(0.0, others[len(others) // 2]) if others else 0.0
        if slope_low > 0 and grew >= STEADY_STEPS * len(steps):
            pattern = "steady"
        elif (total_growth > 0 and big_share >= SPIKE_SHARE and rates[big] > 3 * other_rate
              and sum(abs(d) for i, d in enumerate(steps) if i != big) <= 0.25 * steps[big]):
            pattern = "spike"
        elif slope_high < 0:
            pattern = "shrinking"
        elif max(bytes_) == min(bytes_):
            pattern = "flat"
        else:
            pattern = "noisy"
        rows.append(GrowthRow(
            **_site_fields(info, key),
            blocks=tuple(blocks), bytes=tuple(bytes_),
            bytes_slope=round(slope, 3), bytes_slope_low=round(slope_low, 3),
            bytes_slope_high=round(slope_high, 3), blocks_slope=round(bslope, 4),
            heap_slope=round(slope + bslope * overhead, 3),
            block_size=max(sizes) or None,
            grow_steps=round(grew / len(steps), 3) if steps else 0.0,
            biggest_step_share=round(big_share, 3), pattern=pattern,
        ))
    rows.sort(key=lambda r: (-r.bytes_slope, -(r.bytes[-1] - r.bytes[0]), r.key))
    return Growth(x="cycle" if by_cycle else "snapshot", snapshots=len(snaps),
                  dumps=tuple(s.index for s in snaps), block_overhead=overhead,
                  rows=tuple(rows), **sample)


def attribute_decline(
    trend: Trend,
    growth: Growth | None = None,
    objects: Objects | None = None,
    block_sizes: dict[str, int] | None = None,
    snapshot: Snapshot | None = None,
    info: dict[str, dict[str, Any]] | None = None,
) -> Attribution | None:
    """Tie the free-heap decline to the sites that grow.

    From the dumps: each steadily growing site's bytes slope (needs the trend and the growth in
    the same unit). From the object trace: each leaking create site's leak rate × the block
    size of its object kind in the last dump (``block_sizes``: kind -> bytes, headers
    included). Both count block headers, as the free-heap curve does. Failing both, one dump
    whose sites hold a whole number of blocks per cycle (``census_tracks_cycles``).
    """
    fit = trend.fit
    if not fit or fit.slope >= 0:
        return None
    decline = -fit.slope
    x = trend.x
    sites: list[dict[str, Any]] = []
    method = None
    if growth and growth.rows and growth.x == x:
        method = "dumps"
        for r in growth.rows:
            if r.pattern == "steady" and r.bytes_slope > 0:
                sites.append({"key": r.key, "label": r.label, "object_kind": r.object_kind,
                              "bytes_per_x": r.heap_slope, "payload_per_x": r.bytes_slope})
    elif objects and objects.leaks and x == "cycle":
        method = "objects"
        for r in objects.leaks:
            size = (block_sizes or {}).get(r.kind)
            if size and r.leak_per_cycle:
                sites.append({"key": r.key, "label": r.label, "object_kind": r.kind,
                              "bytes_per_x": r.leak_per_cycle * size, "block_size": size})
    if not sites and snapshot is not None and x == "cycle":
        sites = census_tracks_cycles(snapshot, info or {}, decline, trend)
        method = "census" if sites else method
    if not sites:
        return Attribution(decline_per_x=decline, x=x, method=method, sites=(), explained=0.0,
                           text=f"{-decline:+.0f} B per {x}, not explained by a site")
    ranked = sorted((AttributedSite(**s, share=s["bytes_per_x"] / decline) for s in sites),
                    key=lambda s: -s.bytes_per_x)
    explained = sum(s.share for s in ranked)
    top = ranked[0]
    kind = f"the {top.object_kind} blocks created at " if top.object_kind else ""
    text = (f"{-decline:+.0f} B per {x}, of which {min(top.share, 9.99):.0%} is {kind}"
            f"{top.label}")
    if method == "census":
        text += (f" ({top.blocks_per_x} block(s) of {top.block_size} B per {x} elapsed, "
                 "read off one dump)")
    if len(ranked) > 1:
        text += f" ({explained:.0%} by {len(ranked)} sites)"
    return Attribution(decline_per_x=decline, x=x, method=method, sites=tuple(ranked),
                       explained=explained, text=text)


def census_tracks_cycles(snapshot: Snapshot, info: dict[str, dict[str, Any]], decline: float,
                         trend: Trend) -> list[dict[str, Any]]:
    """One dump is enough when a site holds about a whole number of blocks per cycle elapsed,
    all of one size: its blocks × (size + header) per cycle is its share of the decline.

    Cycles elapsed: the dump's cycle minus the first cycle of the curve. Returns the fields
    of each ``AttributedSite`` but its share.
    """
    first = next((p.cycle for p in trend.series if p.cycle is not None), None)
    if snapshot.cycle is None or first is None:
        return []
    elapsed = snapshot.cycle - first + 1
    if elapsed < 5:
        return []
    out = []
    for key, (blocks, bytes_, biggest) in snapshot.sites.items():
        per = blocks / elapsed
        k = round(per)
        if k < 1 or abs(per - k) > 0.15 * k or bytes_ != blocks * biggest:
            continue
        heap_bytes = k * (biggest + (snapshot.overhead or 0))
        share = heap_bytes / decline
        if share < 0.2:
            continue
        meta = info.get(key, {})
        label = _label(meta) if meta else key
        out.append({"key": key, "label": label, "object_kind": meta.get("object_kind"),
                    "bytes_per_x": heap_bytes, "blocks_per_x": k, "block_size": biggest,
                    "live_blocks": blocks, "cycles_elapsed": elapsed})
    return out


def kind_block_sizes(snapshot: Snapshot | None, info: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Heap bytes per block of each object kind in one snapshot (mean payload + header)."""
    out: dict[str, int] = {}
    if snapshot is None:
        return out
    acc: dict[str, list[int]] = {}
    for key, (blocks, bytes_, _) in snapshot.sites.items():
        kind = info.get(key, {}).get("object_kind")
        if kind and blocks:
            pair = acc.setdefault(kind, [0, 0])
            pair[0] += blocks
            pair[1] += bytes_
    for kind, (blocks, bytes_) in acc.items():
        out[kind] = round(bytes_ / blocks + (snapshot.overhead or 0))
    return out
