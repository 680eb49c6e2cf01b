"""Kernel-object balance: pair create and delete events by handle, per kind and create site.

This automates what the seed case did by hand ("connect created 5 timers, suspend deleted only
4"). It runs as a streaming accumulator (``ObjectBalance.on_record``, plugged into
``build_model(on_record=...)``): only live handles are kept, plus bounded counters, so a log
of any length is read in constant memory (the live set grows only as fast as the leak).

Rules:
- a create of a handle that is still live closes the old object as *lost* (the device reused
  the address, so the old one was freed without a traced delete, or the trace dropped it);
- a delete of an unknown handle is counted (object created before the log started);
- an object is judged only once ``grace`` complete cycles have passed after the cycle that
  created it, so a deferred delete (timer daemon, FreeRTOS ``xTimerDelete``) is not a leak;
- objects created before the first cycle marker are start-up objects, never per-cycle leaks.

When the log has no object trace, ``balance_from_dumps`` answers the same question from the
block dumps: live blocks per object kind (the census Attributor's ``object_kind``) across the
snapshots.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

from memsleuth import accel
from memsleuth.analysis.regression import theil_sen
from memsleuth.records import CycleMarker, HeapRun, ObjectEvent, ObjectEventRun, Record
from memsleuth.results.objects import (
    DumpKind,
    ObjectCycles,
    Objects,
    ObjectsFromDumps,
    ObjectsFromTrace,
    ObjectsNone,
    PerCycle,
    TraceKind,
    TraceSite,
)

_HEX = repeat(16)    # int(digits, 16) through map()

#: A site leaks steadily when its judged leftovers come from at least this share of cycles.
STEADY_SHARE = 0.5
#: cycles with a leftover, spread over the run, for a site that leaks only in some cycles
RECURRING_MIN = 3


@dataclass(slots=True)
class _SiteCounts:
    kind: str = ""
    caller: int = 0
    created: int = 0
    deleted: int = 0
    lost: int = 0
    late: int = 0                 # deleted, but more than `grace` cycles after the create
    cur_created: int = 0          # in the open cycle
    created_pattern: Counter[int] = field(default_factory=Counter)  # per complete cycle
    #: lost objects created in a test cycle (>= 1), and those of the last few cycles by cycle
    #: (which may still fall inside the grace window at the end)
    lost_in_cycles: int = 0
    lost_recent: Counter[int] = field(default_factory=Counter)
    #: the cycles a lost object was created in, as runs of consecutive cycles: a bitmap over
    #: every cycle grew with the log (40 sites x 1 bit x 940,000 cycles: 4.7 MB per GB)
    lost_runs: _Runs = field(default_factory=lambda: _Runs())
    #: cycles closed before this site appeared; where its first zero-create cycle falls
    born: int = 0
    zeros: _Zeros = field(default_factory=lambda: _Zeros())


@dataclass(slots=True)
class _KindCounts:
    created: int = 0
    deleted: int = 0
    lost: int = 0
    unmatched_deletes: int = 0
    kind_mismatch: int = 0
    cur_created: int = 0
    cur_deleted: int = 0
    #: (created, deleted) in one complete cycle -> how many cycles looked like that
    #: (cycles without an event are counted at the end: see _Zeros)
    pattern: Counter[tuple[int, int]] = field(default_factory=Counter)
    net_sum: int = 0              # sum over complete cycles of created - deleted
    born: int = 0
    zeros: _Zeros = field(default_factory=lambda: _Zeros())
    #: this kind's create sites by caller (the same objects as ObjectBalance.sites)
    sites: dict[int, _SiteCounts] = field(default_factory=dict)


@dataclass(slots=True)
class _Zeros:
    """Cycles in which a kind or site saw nothing, counted without visiting it every cycle.

    Closing a cycle touches only what had events in it; the "nothing happened" entry of the
    pattern counter is rebuilt at the end, at the place it would have been inserted first
    (``most_common`` breaks ties by insertion order).
    """

    expected: int = 0            # the next closing index if every cycle had events
    first_at: int | None = None  # distinct patterns already seen when the first empty came

    def touched(self, closing: int, distinct: int) -> None:
        if self.first_at is None and closing != self.expected:
            self.first_at = distinct
        self.expected = closing + 1

    def with_empty(self, counts: Counter[Any], born: int, closed: int, empty: Any) -> Counter[Any]:
        missing = closed - born - sum(counts.values())
        if missing <= 0:
            return counts
        first = self.first_at if self.first_at is not None else len(counts)
        items = list(counts.items())
        items.insert(first, (empty, missing))
        return Counter(dict(items))


class ObjectBalance:
    """Streaming create/delete pairing. Feed records with ``on_record``; read ``result()``.

    With the C scanner, stretches of events arrive packed (``ObjectEventRun.packed``) and are
    paired by ``_scan.Ledger``, the same state kept in C; ``_to_python`` takes it over (for
    the results, or when an event's numbers do not fit 64 bits) and pairing goes on here."""

    def __init__(self, grace: int = 1) -> None:
        self.grace = max(0, grace)
        #: live handle -> (its create site, the cycle it was created in)
        self._live: dict[int, tuple[_SiteCounts, int]] = {}
        self.kinds: dict[str, _KindCounts] = {}
        self.sites: dict[tuple[str, int], _SiteCounts] = {}
        self.cycle = 0                    # ordinal: 0 before the first marker
        self.first_marker: int | None = None
        self.last_marker: int | None = None
        self._events = 0
        self.seq_gaps = 0
        self._last_seq: int | None = None
        self._closed = 0                   # test cycles closed (markers after cycle 1 began)
        # What had events in the open cycle, and the sites with recent lost objects: a
        # marker visits only these (O(records), not O(records x sites)).
        self._touched_kinds: list[_KindCounts] = []
        self._touched_sites: list[_SiteCounts] = []
        self._recent: dict[int, _SiteCounts] = {}
        self._c: Any = None                # the C ledger while it holds the state

    @property
    def events(self) -> int:
        return self._c.events if self._c is not None else self._events

    @property
    def live(self) -> dict[int, tuple[_SiteCounts, int]]:
        """Live handle -> (create site, creation cycle)."""
        self._to_python()
        return self._live

    def alive_by_kind(self) -> dict[str, int]:
        """Live objects per kind, kinds sorted."""
        alive: dict[str, int] = {}
        for site, _ in self.live.values():
            alive[site.kind] = alive.get(site.kind, 0) + 1
        return dict(sorted(alive.items()))

    # -- streaming --------------------------------------------------------------------------
    def record_leaves(self) -> list[dict[type, Any]]:
        """What ``on_record`` acts on, by record type (``commands.common.fan_out``)."""
        return [{ObjectEventRun: self.run, ObjectEvent: self.event,
                 CycleMarker: self._marker_record, HeapRun: self._heap_run}]

    def _marker_record(self, record: CycleMarker) -> None:
        self.marker(record.index)

    def _heap_run(self, record: HeapRun) -> None:
        """The markers and the events between them, in order (tables are not for us)."""
        c = self._c
        if c is None and record.raw_packs and not self._events and not self.kinds:
            c = self._ledger()
        if c is not None and hasattr(c, "walk"):
            # in C: no Python call per marker (walk_raw: the C loop's items as they came)
            walk_raw = getattr(c, "walk_raw", None)
            walked = walk_raw(record.seq, record.raw_packs) if walk_raw is not None \
                else c.walk(record.seq, record.packs)
            if walked:
                self._closed += walked if self.cycle >= 1 else walked - 1
                self.cycle += walked
                if self.first_marker is None:
                    self.first_marker = record.m_index[0]
                self.last_marker = record.m_index[-1]
            return
        j = e = 0
        for kind in record.seq:
            if kind == 0:
                self.marker(record.m_index[j])
                j += 1
            elif kind == 2:
                self.run(record.packs[e])
                e += 1

    def on_record(self, record: Record) -> None:
        if isinstance(record, ObjectEventRun):
            self.run(record)
        elif isinstance(record, ObjectEvent):
            self.event(record)
        elif isinstance(record, CycleMarker):
            self.marker(record.index)
        elif type(record) is HeapRun:
            self._heap_run(record)

    def marker(self, index: int | None = None) -> None:
        """Close the open cycle (cycle 0, the start-up, is not a test cycle)."""
        if self._c is not None:
            self._c.marker()
            if self.cycle >= 1:
                self._closed += 1
        else:
            self._close_cycle()
        self.cycle += 1
        if index is not None:
            if self.first_marker is None:
                self.first_marker = index
            self.last_marker = index

    def _close_cycle(self) -> None:
        closing = self._closed
        if self.cycle >= 1:
            for k in self._touched_kinds:
                k.zeros.touched(closing - k.born, len(k.pattern))
                k.pattern[(k.cur_created, k.cur_deleted)] += 1
                k.net_sum += k.cur_created - k.cur_deleted
            for s in self._touched_sites:
                s.zeros.touched(closing - s.born, len(s.created_pattern))
                s.created_pattern[s.cur_created] += 1
            self._closed += 1
        for k in self._touched_kinds:
            k.cur_created = k.cur_deleted = 0
        for s in self._touched_sites:
            s.cur_created = 0
        self._touched_kinds.clear()
        self._touched_sites.clear()
        horizon = self.cycle - self.grace - 2
        for key, s in list(self._recent.items()):
            for c in [c for c in s.lost_recent if c < horizon]:
                del s.lost_recent[c]
            if not s.lost_recent:
                del self._recent[key]

    def event(self, ev: ObjectEvent) -> None:
        c = self._c
        if c is not None:
            if c.event(ev.op == "create", ev.kind, ev.handle, ev.caller, ev.seq, ev.line):
                return
            self._to_python()        # a number beyond 64 bits: pair in Python from here
        self._events += 1
        if ev.seq is not None:
            if self._last_seq is not None and ev.seq > self._last_seq + 1:
                self.seq_gaps += ev.seq - self._last_seq - 1
            self._last_seq = ev.seq
        self._pair((ev.op,), (ev.kind,), (ev.handle,), (ev.caller,))

    def run(self, events: ObjectEventRun) -> None:
        """``event`` for every event of a run, in one loop (the scanner's bulk form: a
        stress log has millions of events and this is where ``analyze`` spends them)."""
        if events.packed is not None:
            c = self._c
            if c is None and not self._events and not self.kinds:
                c = self._ledger()
            if c is not None:
                c.feed(events.packed, events.names)
                return
            for ev in events.events():      # the state is in Python already
                self.event(ev)
            return
        rows = events.rows
        if not rows:
            return
        self._events += len(rows)
        ops, names, handles, callers, seqs = zip(*rows, strict=True)
        last = self._last_seq
        gaps = 0
        for seq in map(int, seqs):
            if last is not None and seq > last + 1:
                gaps += seq - last - 1
            last = seq
        self.seq_gaps += gaps
        self._last_seq = last
        self._pair(ops, names, map(int, handles, _HEX), map(int, callers, _HEX))

    def _ledger(self) -> Any:
        """The C ledger, taking over from a state with no event yet (None without one)."""
        # ABI 5: state() gives the lost cycles as runs (before, a bitmap)
        ledger = getattr(accel.module(), "Ledger", None) if accel.abi() >= 5 else None
        if ledger is not None:
            self._c = ledger(self.grace, self.cycle, self._closed)
        return self._c

    def _pair(self, ops: Iterable[str], names: Iterable[str], handles: Iterable[int],
              callers: Iterable[int]) -> None:
        """The pairing of events given in columns, in order."""
        kinds, live, sites = self.kinds, self._live, self.sites
        cycle, grace = self.cycle, self.grace
        touched_kinds, touched_sites = self._touched_kinds, self._touched_sites
        for op, name, handle, caller in zip(ops, names, handles, callers, strict=True):
            kind = kinds.get(name)
            if kind is None:
                kind = kinds[name] = _KindCounts(born=self._closed)
            if not (kind.cur_created or kind.cur_deleted):
                touched_kinds.append(kind)
            if op == "create":
                old = live.pop(handle, None)
                if old is not None:
                    self._close_lost(*old)
                kind.created += 1
                kind.cur_created += 1
                site = kind.sites.get(caller)
                if site is None:
                    site = kind.sites[caller] = sites[(name, caller)] = _SiteCounts(
                        name, caller, born=self._closed)
                live[handle] = (site, cycle)
                site.created += 1
                if not site.cur_created:
                    touched_sites.append(site)
                site.cur_created += 1
                continue
            kind.deleted += 1
            kind.cur_deleted += 1
            obj = live.pop(handle, None)
            if obj is None:
                kind.unmatched_deletes += 1
                continue
            site, created = obj
            if site.kind != name:
                kind.kind_mismatch += 1
            site.deleted += 1
            if cycle - created > grace:
                site.late += 1

    def _close_lost(self, site: _SiteCounts, cycle: int) -> None:
        self.kinds[site.kind].lost += 1
        site.lost += 1
        if cycle >= 1:
            site.lost_in_cycles += 1
            site.lost_recent[cycle] += 1
            self._recent[id(site)] = site
            site.lost_runs.add(cycle)

    def _to_python(self) -> None:
        """Take the C ledger's state over (pairing goes on in Python from here)."""
        c = self._c
        if c is None:
            return
        self._c = None
        state = c.state()
        self._events = state["events"]
        self.seq_gaps = state["seq_gaps"]
        self._last_seq = state["last_seq"]
        self.kinds = {}
        for (name, created, deleted, lost, unmatched, mismatch, cur_c, cur_d, pattern,
             net_sum, born, z_expected, z_first) in state["kinds"]:
            self.kinds[name] = _KindCounts(
                created=created, deleted=deleted, lost=lost, unmatched_deletes=unmatched,
                kind_mismatch=mismatch, cur_created=cur_c, cur_deleted=cur_d,
                pattern=Counter(pattern), net_sum=net_sum, born=born,
                zeros=_Zeros(z_expected, z_first))
        self.sites = {}
        for (name, caller, created, deleted, lost, late, cur_c, pattern, lost_in_cycles,
             lost_recent, runs, born, z_expected, z_first) in state["sites"]:
            self.sites[(name, caller)] = _SiteCounts(
                name, caller, created=created, deleted=deleted, lost=lost, late=late,
                cur_created=cur_c, created_pattern=Counter(pattern),
                lost_in_cycles=lost_in_cycles, lost_recent=Counter(lost_recent or {}),
                lost_runs=_Runs.from_bytes(runs), born=born, zeros=_Zeros(z_expected, z_first))
        for (name, caller), site in self.sites.items():
            self.kinds[name].sites[caller] = site
        self._live = {handle: (self.sites[(name, caller)], cycle)
                      for handle, name, caller, cycle in state["live"]}
        self._touched_kinds = [k for k in self.kinds.values() if k.cur_created or k.cur_deleted]
        self._touched_sites = [s for s in self.sites.values() if s.cur_created]
        self._recent = {id(s): s for s in self.sites.values() if s.lost_recent}

    # -- results ----------------------------------------------------------------------------
    @property
    def complete_cycles(self) -> int:
        """Cycles closed by a following marker (the open last one is not complete)."""
        return max(0, self.cycle - 1)

    @property
    def judged_until(self) -> int:
        """Objects created in cycles 1..judged_until are past their grace window."""
        return self.cycle - 1 - self.grace

    def result(self, attributor: Any | None = None) -> ObjectsFromTrace:
        """The pairing's answer (``results.objects.ObjectsFromTrace``)."""
        self._to_python()
        last_judged = self.judged_until
        eligible = max(0, last_judged)
        leaked_cycles: dict[tuple[str, int], set[int]] = {}
        alive: Counter[tuple[str, int]] = Counter()
        alive_kind: Counter[str] = Counter()
        startup: Counter[tuple[str, int]] = Counter()
        pending: Counter[tuple[str, int]] = Counter()
        leaked: Counter[tuple[str, int]] = Counter()
        for site, cycle in self.live.values():
            key = (site.kind, site.caller)
            alive[key] += 1
            alive_kind[site.kind] += 1
            if cycle == 0:
                startup[key] += 1
            elif cycle <= last_judged:
                leaked[key] += 1
                leaked_cycles.setdefault(key, set()).add(cycle)
            else:
                pending[key] += 1

        if attributor is not None:
            attributor.prepare({caller for _, caller in self.sites})
        # Several callers may resolve to one site: merge rows by (kind, site key).
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for key, s in self.sites.items():
            kind, caller = key
            info = _site_info(caller, attributor)
            row = rows.get((kind, info["key"]))
            if row is None:
                row = rows[(kind, info["key"])] = {
                    "kind": kind, **info, "callers": [], "created": 0, "deleted": 0,
                    "alive": 0, "lost": 0, "late_deletes": 0, "startup": 0, "pending": 0,
                    "leaked": 0, "_runs": [], "_pattern": Counter(),
                }
            row["callers"].append(caller)
            row["created"] += s.created
            row["deleted"] += s.deleted
            row["alive"] += alive[key]
            row["lost"] += s.lost
            row["late_deletes"] += s.late
            row["startup"] += startup[key]
            row["pending"] += pending[key]
            lost_judged = s.lost_in_cycles - sum(
                n for c, n in s.lost_recent.items() if c > last_judged)
            row["leaked"] += leaked[key] + max(0, lost_judged)
            # cycles with a leftover: the lost ones' runs and the leaked live ones
            row["_runs"].extend(s.lost_runs.pairs())
            row["_runs"].extend((c, c) for c in leaked_cycles.get(key, ()))
            row["_pattern"].update(s.zeros.with_empty(s.created_pattern, s.born,
                                                      self._closed, 0))
        sites: list[TraceSite] = []
        for row in rows.values():
            # the judged cycles (1..last_judged) this row left objects in
            leaking = _merged(row.pop("_runs"), 1, last_judged)
            cycles_leaking = sum(e - s + 1 for s, e in leaking)
            pattern: Counter[int] = row.pop("_pattern")
            callers = tuple(row.pop("callers"))
            sites.append(TraceSite(
                **row, callers=callers,
                created_per_cycle=pattern.most_common(1)[0][0] if pattern else None,
                cycles_leaking=cycles_leaking,
                leak_per_cycle=(row["leaked"] / eligible) if eligible else None,
                steady=bool(eligible) and cycles_leaking >= max(2, STEADY_SHARE * eligible),
                recurring=_recurring(leaking, cycles_leaking, last_judged)))
        sites.sort(key=lambda r: (-(r.leak_per_cycle or 0), -r.alive, r.kind, r.key))

        kinds: list[TraceKind] = []
        for name, k in sorted(self.kinds.items()):
            kpattern = k.zeros.with_empty(k.pattern, k.born, self._closed, (0, 0))
            complete = sum(kpattern.values())
            mode = kpattern.most_common(1)[0] if kpattern else None
            kind_leaked = sum(r.leaked for r in sites if r.kind == name)
            kinds.append(TraceKind(
                kind=name,
                created=k.created,
                deleted=k.deleted,
                alive=alive_kind[name],
                lost=k.lost,
                unmatched_deletes=k.unmatched_deletes,
                kind_mismatch=k.kind_mismatch,
                per_cycle=None if mode is None else PerCycle(
                    created=mode[0][0],
                    deleted=mode[0][1],
                    net=mode[0][0] - mode[0][1],
                    share=mode[1] / complete,      # share of cycles with that pattern
                    mean_net=k.net_sum / complete,
                    cycles=complete,
                ),
                leaked=kind_leaked,
                leak_per_cycle=(kind_leaked / eligible) if eligible else None,
            ))
        # a leak that happens only in some cycles (every 4th reconnect) is still a leak:
        # what matters is that it keeps happening, not that it happens every time
        leaks = [r for r in sites if (r.steady or r.recurring) and r.leaked]
        return ObjectsFromTrace(
            grace=self.grace,
            events=self.events,
            seq_gaps=self.seq_gaps,
            cycles=ObjectCycles(
                markers=self.cycle,
                complete=self.complete_cycles,
                judged=eligible,
                first_marker=self.first_marker,
                last_marker=self.last_marker,
            ),
            live_handles=len(self._live),
            kinds=tuple(kinds),
            sites=tuple(sites),
            leaks=tuple(leaks),
            summary=_summary(kinds, leaks),
        )


class _Runs:
    """A set of cycles as sorted, disjoint runs [start, end] of consecutive cycles.

    Memory grows with the number of runs, not with the cycle numbers: a site that loses an
    object every cycle holds one run, one that loses some at each reboot a run per reboot.
    """

    __slots__ = ("starts", "ends")

    def __init__(self) -> None:
        self.starts: array[int] = array("q")
        self.ends: array[int] = array("q")

    @classmethod
    def from_bytes(cls, data: bytes) -> _Runs:
        """From the C ledger's state: native int64 start, end pairs."""
        runs = cls()
        flat = array("q")
        flat.frombytes(bytes(data))
        runs.starts, runs.ends = flat[0::2], flat[1::2]
        return runs

    def add(self, c: int) -> None:
        starts, ends = self.starts, self.ends
        if ends and c > ends[-1]:              # the usual case: a newer cycle
            if c == ends[-1] + 1:
                ends[-1] = c
            else:
                starts.append(c)
                ends.append(c)
            return
        i = bisect_right(starts, c)            # starts[i - 1] <= c < starts[i]
        if i and c <= ends[i - 1]:
            return
        joins_left = bool(i) and ends[i - 1] == c - 1
        joins_right = i < len(starts) and starts[i] == c + 1
        if joins_left and joins_right:
            ends[i - 1] = ends[i]
            del starts[i], ends[i]
        elif joins_left:
            ends[i - 1] = c
        elif joins_right:
            starts[i] = c
        else:
            starts.insert(i, c)
            ends.insert(i, c)

    def pairs(self) -> list[tuple[int, int]]:
        return list(zip(self.starts, self.ends, strict=True))


def _merged(runs: list[tuple[int, int]], low: int, high: int) -> list[tuple[int, int]]:
    """The union of ``runs`` within [low, high], as sorted disjoint runs."""
    out: list[tuple[int, int]] = []
    for s, e in sorted(runs):
        s, e = max(s, low), min(e, high)
        if s > e:
            continue
        if out and s <= out[-1][1] + 1:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def _site_info(caller: int, attributor: Any | None) -> dict[str, Any]:
    """The ``TraceSite`` fields that say where a create site is."""
    if attributor is None or caller == 0:
        key = f"0x{caller:x}" if caller else "unknown"
        return {"key": key, "label": key, "function": None, "file": None, "line": None,
                "inlined": ()}
    site = attributor.site(caller)
    return {
        "key": site.key, "label": site.label, "function": site.function,
        "file": site.file, "line": site.line, "inlined": site.inlined,
    }


def _short_label(row: TraceSite) -> str:
    name = row.function or row.key
    if row.file and row.line:
        return f"{name} ({row.file.rsplit('/', 1)[-1]}:{row.line})"
    return name


def _recurring(runs: list[tuple[int, int]], cycles_leaking: int, last_judged: int) -> bool:
    """Leftovers in at least RECURRING_MIN cycles, in both halves of the judged run: a leak
    that keeps happening (every Nth cycle), not a cache filled once at the start.

    ``runs``: the judged cycles with a leftover, sorted disjoint runs within 1..last_judged.
    """
    if cycles_leaking < RECURRING_MIN or last_judged < 2:
        return False
    half = last_judged // 2
    return runs[0][0] <= half and runs[-1][1] > half


def _summary(kinds: list[TraceKind], leaks: list[TraceSite]) -> tuple[str, ...]:
    out: list[str] = []
    for k in kinds:
        pc = k.per_cycle
        if pc is None:
            out.append(f"{k.kind}: created {k.created}, deleted {k.deleted}, alive {k.alive}")
            continue
        line = f"{k.kind}: created {pc.created}, deleted {pc.deleted} per cycle"
        for r in leaks:
            if r.kind == k.kind:
                line += f"; {r.leak_per_cycle:+.3g} per cycle from {_short_label(r)}"
                if not r.steady:
                    line += f" (left alive in {r.cycles_leaking} cycles, not every cycle)"
        out.append(line)
    return tuple(out)


def balance_from_dumps(snapshots: list[Any], info: dict[str, dict[str, Any]]) -> ObjectsFromDumps:
    """Without an object trace: live blocks per object kind over the census snapshots.

    ``snapshots``/``info`` come from ``diff.SiteSeries`` (census per dump, so the kind is the
    census Attributor's ``object_kind``); growing_kinds: the kinds whose live blocks grow
    (slope interval above zero).
    """
    snaps = [s for s in snapshots if not s.partial] or list(snapshots)
    kinds_seen = sorted({info[k]["object_kind"] for s in snaps for k in s.sites
                         if info.get(k, {}).get("object_kind")})
    by_cycle = all(s.cycle is not None for s in snaps) and len({s.cycle for s in snaps}) == \
        len(snaps)
    xs = [float(s.cycle if by_cycle else s.index) for s in snaps]
    x_kind = "cycle" if by_cycle else "snapshot"
    kinds: list[DumpKind] = []
    for kind in kinds_seen:
        blocks = tuple(sum(v[0] for k, v in s.sites.items()
                           if info.get(k, {}).get("object_kind") == kind) for s in snaps)
        bytes_ = tuple(sum(v[1] for k, v in s.sites.items()
                           if info.get(k, {}).get("object_kind") == kind) for s in snaps)
        fit = theil_sen(xs, [float(v) for v in blocks]) if len(set(xs)) >= 2 else None
        kinds.append(DumpKind(
            kind=kind, blocks=blocks, bytes=bytes_, x=tuple(xs), x_kind=x_kind,
            slope_per_cycle=fit.slope if fit else None,
            slope_low=fit.slope_low if fit else None,
            slope_high=fit.slope_high if fit else None))
    summary = []
    for k in kinds:
        ends = " -> ".join(map(str, k.blocks[:1] + k.blocks[-1:]))
        line = f"{k.kind}: live blocks {ends}"
        if k.slope_per_cycle is not None:
            line += f" ({k.slope_per_cycle:+.3g} per {x_kind})"
        summary.append(line)
    growing = tuple(k for k in kinds if k.slope_low is not None and k.slope_low > 0)
    return ObjectsFromDumps(snapshots=len(snaps), kinds=tuple(kinds), growing_kinds=growing,
                            summary=tuple(summary))


def analyze_objects(
    balance: ObjectBalance | None,
    series: Any | None = None,
    attributor: Any | None = None,
) -> Objects:
    """Object balance of one log: from the object trace when it has one, else the dumps.

    Source "trace" (``ObjectsFromTrace``): per kind, per create site (callers resolving to
    one site merged) and per cycle; leaks are the sites that keep leaving objects alive;
    summary one line per kind ("timer: created 5, deleted 4 per cycle; +1 per cycle from
    wifi_connect (wifi_drv.c:88)"). Source "dumps": ``balance_from_dumps`` (``series`` is a
    ``diff.SiteSeries`` fed during the same pass). Source "none" when neither exists.
    """
    if balance is not None and balance.events:
        return balance.result(attributor)
    if series is not None and series.snapshots:
        return balance_from_dumps(series.snapshots, series.info)
    return ObjectsNone(summary=("no object trace and no block dump in this log",))
