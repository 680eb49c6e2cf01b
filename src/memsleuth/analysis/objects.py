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
from memsleuth.records import (
    PACKED_EVENT,
    CycleMarker,
    HeapRun,
    ObjectEvent,
    ObjectEventRun,
    Record,
)
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


_np: Any = None
_PACKED: Any = None


def _numpy() -> Any:
    """NumPy (a dependency; None if it cannot be imported: pairing goes event by event)."""
    global _np, _PACKED
    if _np is None:
        try:
            import numpy
        except ImportError:
            _np = False
        else:
            _np = numpy
            _PACKED = numpy.dtype([("line", "=i8"), ("handle", "=u8"), ("caller", "=u8"),
                                   ("seq", "=u8"), ("kind", "=u4"), ("create", "=u4")])
    return _np or None


def _patterns(np: Any, zeros: _Zeros, pattern: Counter[Any], rel: Any, keys: list[Any]) -> None:
    """``zeros.touched`` then ``pattern[key] += 1`` for each closed cycle in turn (``rel``:
    closing index minus born, ascending; ``keys``: the cycles' patterns)."""
    if zeros.first_at is None:
        expect = np.concatenate(([zeros.expected], rel[:-1] + 1))
        off = np.flatnonzero(rel != expect)
        if len(off):
            t = int(off[0])
            zeros.first_at = len(set(pattern).union(keys[:t]))
    zeros.expected = int(rel[-1]) + 1
    pattern.update(keys)      # (counts in order: keys first seen in the order they came)


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
        self._batch: Any = None            # _pair_bulk's arrays for _close_bulk
        #: packed runs and heap stretches not paired yet: paired as one _bulk when anything
        #: else comes or is asked (NumPy's cost per call was most of the pairing: a pure
        #: scan gives ~8 of them per 512 KiB chunk)
        self._pending: list[tuple[bytes, list[Any], Any]] = []
        self._pending_n = 0

    @property
    def events(self) -> int:
        self._flush()
        return self._c.events if self._c is not None else self._events

    @property
    def live(self) -> dict[int, tuple[_SiteCounts, int]]:
        """Live handle -> (create site, creation cycle)."""
        self._flush()
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
        if c is None and record.raw_packs and not self._events and not self.kinds \
                and not self._pending:
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
        if c is None and self._defer(record.seq, record.raw_packs, record.m_index):
            return
        self._flush()
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
        self._flush()
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
        self._flush()
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
            if c is None and not self._events and not self.kinds and not self._pending:
                c = self._ledger()
            if c is not None:
                c.feed(events.packed, events.names)
                return
            if self._defer(b"\x02", [(2, events.packed, events.names)], None):
                return
            self._flush()
            for ev in events.events():      # the state is in Python already
                self.event(ev)
            return
        rows = events.rows
        if not rows:
            return
        self._flush()
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

    _PENDING_MAX = 1 << 16     # events held back at most (~2.6 MB of packed rows)

    def _defer(self, seq: bytes, packs: list[tuple[int, bytes, list[str]]], m_index: Any
               ) -> bool:
        """Hold a batch for ``_bulk`` (False: it cannot go in bulk; nothing held then)."""
        names = packs[0][2] if packs else None
        if self._pending:
            pnames = next((p[0][2] for _, p, _ in self._pending if p), None)
            if names is not None and pnames is not None and names is not pnames:
                self._flush()
        if _numpy() is None or any(p[1] is None or p[2] is not names for p in packs):
            self._flush()
            return False
        self._pending.append((seq, packs, m_index))
        self._pending_n += sum(len(p[1]) for p in packs) // PACKED_EVENT.size
        if self._pending_n >= self._PENDING_MAX:
            self._flush()
        return True

    def _flush(self) -> None:
        """Pair what ``_defer`` holds, as one ``_bulk`` (or batch by batch, as before)."""
        pending = self._pending
        if not pending:
            return
        self._pending = []
        self._pending_n = 0
        if len(pending) == 1:
            batches = pending
        else:
            m_index: list[Any] = []
            for _, _, m in pending:
                if m is not None:
                    m_index.extend(m)
            batches = [(b"".join(q for q, _, _ in pending),
                        [x for _, p, _ in pending for x in p], m_index)]
        for seq, packs, m_index in batches:
            if self._bulk(seq, packs, m_index):
                continue
            for seq1, packs1, m1 in (pending if len(batches) == 1 and len(pending) > 1
                                     else [(seq, packs, m_index)]):
                if not self._bulk(seq1, packs1, m1):
                    self._unbulked(seq1, packs1, m1)

    def _unbulked(self, seq: bytes, packs: list[Any], m_index: Any) -> None:
        """A batch ``_bulk`` turned down, one marker and one event at a time."""
        j = e = 0
        for kind in seq:
            if kind == 0:
                self.marker(m_index[j] if m_index is not None else None)
                j += 1
            elif kind == 2:
                for ev in ObjectEventRun(packed=packs[e][1], names=packs[e][2]).events():
                    self.event(ev)
                e += 1

    def _bulk(self, seq: bytes, packs: list[tuple[int, bytes, list[str]]], m_index: Any) -> bool:
        """Pair packed events and close cycles in bulk (NumPy), the Python state left as
        ``event`` and ``marker`` one at a time would leave it: ``seq`` says the order (0 a
        marker, 2 the next of ``packs``: the scanner's (2, packed, names) items; 1 a table:
        not ours). A stress log has millions of
        events and a marker every few: one Python step per event (~1.5 µs) was most of a pure
        ``analyze``; here Python works once per batch, per kind, site and handle touched.
        False (nothing done) without NumPy or when the packs name kinds differently."""
        np = _numpy()
        names = packs[0][2] if packs else None
        if np is None or any(p[1] is None or p[2] is not names for p in packs):
            return False
        s = np.frombuffer(seq, np.uint8)
        s = s[s != 1]
        is_m = s == 0
        nm = int(is_m.sum())
        m_before = np.cumsum(is_m)[~is_m]
        if len(m_before) != len(packs):
            return False
        ev = np.frombuffer(b"".join(p[1] for p in packs), _PACKED) if packs else \
            np.zeros(0, _PACKED)
        n = len(ev)
        seg = np.repeat(m_before, [len(p[1]) // _PACKED.itemsize for p in packs]) \
            if packs else np.zeros(0, np.int64)
        seg = seg.astype(np.int64)
        cycle0 = self.cycle
        counting = (cycle0 + np.arange(nm)) >= 1
        closed_before = self._closed + np.concatenate(([0], np.cumsum(counting))).astype(np.int64)
        if n:
            self._seq_bulk(np, ev["seq"])
            self._pair_bulk(np, ev, names, seg, closed_before, nm)
        self._close_bulk(np, nm, counting, closed_before)
        if nm:
            self.cycle += nm
            self._closed += int(counting.sum())
            if self.first_marker is None:
                self.first_marker = m_index[0]
            self.last_marker = m_index[nm - 1]
        return True

    def _seq_bulk(self, np: Any, seqs: Any) -> None:
        self._events += len(seqs)
        gaps = 0
        last = self._last_seq
        if last is not None and int(seqs[0]) > last + 1:
            gaps += int(seqs[0]) - last - 1
        a, b = seqs[:-1], seqs[1:]
        jump = (b > a) & (b - a > 1)
        if jump.any():
            gaps += sum((b[jump] - a[jump] - np.uint64(1)).tolist())
        self.seq_gaps += gaps
        self._last_seq = int(seqs[-1])

    def _pair_bulk(self, np: Any, ev: Any, names: list[str], seg: Any, closed_before: Any,
                   nm: int) -> None:
        """``_pair`` over a batch: per event only array work."""
        n = len(ev)
        kinds, sites, live, grace = self.kinds, self.sites, self._live, self.grace
        create = ev["create"] != 0
        kid = ev["kind"].astype(np.int64)
        handle, caller = ev["handle"], ev["caller"]
        ev_cycle = self.cycle + seg
        uk, first = np.unique(kid, return_index=True)
        kx = np.searchsorted(uk, kid)
        klist: list[_KindCounts] = [None] * len(uk)  # type: ignore[list-item]
        for j in np.argsort(first, kind="stable").tolist():
            name = names[int(uk[j])]
            kind = kinds.get(name)
            if kind is None:
                kind = kinds[name] = _KindCounts(born=int(closed_before[seg[first[j]]]))
            klist[j] = kind
        kname = {names[int(u)]: j for j, u in enumerate(uk)}
        # create sites, in the order they first appear
        ci = np.flatnonzero(create)
        ev_site = np.full(n, -1, np.int64)
        slist: list[_SiteCounts] = []
        slot: dict[int, int] = {}
        if len(ci):
            cc = caller[ci]
            if len(uk) < 256 and int(cc.max()) < 1 << 56:      # one integer key: faster
                key = (kx[ci].astype(np.uint64) << np.uint64(56)) | cc
                uq, sfirst, inv = np.unique(key, return_index=True, return_inverse=True)
                uq_k = (uq >> np.uint64(56)).astype(np.int64)
                uq_c = uq & np.uint64((1 << 56) - 1)
            else:
                key = np.empty(len(ci), [("k", np.int64), ("c", np.uint64)])
                key["k"], key["c"] = kx[ci], cc
                uq, sfirst, inv = np.unique(key, return_index=True, return_inverse=True)
                uq_k, uq_c = uq["k"], uq["c"]
            perm = np.empty(len(uq), np.int64)
            for j in np.argsort(sfirst, kind="stable").tolist():
                k = int(uq_k[j])
                c = int(uq_c[j])
                kind, name = klist[k], names[int(uk[k])]
                site = kind.sites.get(c)
                if site is None:
                    site = kind.sites[c] = sites[(name, c)] = _SiteCounts(
                        name, c, born=int(closed_before[seg[ci[sfirst[j]]]]))
                perm[j] = slot.setdefault(id(site), len(slist))
                if perm[j] == len(slist):
                    slist.append(site)
            ev_site[ci] = perm[inv.ravel()]
        # the handle each event finds live: the one before it on the same handle, or the
        # live set's (the first event of each handle)
        order = np.argsort(handle, kind="stable")
        hs = handle[order]
        new = np.ones(n, bool)
        new[1:] = hs[1:] != hs[:-1]
        prev = np.full(n, -1, np.int64)
        prev[order[1:]] = np.where(new[1:], -1, order[:-1])
        firsts = order[new]
        lasts = order[np.concatenate((new[1:], [True]))]
        b_site = np.full(n, -1, np.int64)
        b_cycle = np.zeros(n, np.int64)
        has = prev >= 0
        pv = prev[has]
        alive = create[pv]
        idx = np.flatnonzero(has)[alive]
        b_site[idx] = ev_site[pv[alive]]
        b_cycle[idx] = ev_cycle[pv[alive]]
        for e, h in zip(firsts.tolist(), handle[firsts].tolist(), strict=True):
            got = live.get(h)
            if got is not None:
                site, cyc = got
                j = slot.get(id(site))
                if j is None:
                    j = slot[id(site)] = len(slist)
                    slist.append(site)
                b_site[e] = j
                b_cycle[e] = cyc
        S, K = len(slist), len(uk)
        # creates over a live handle: the old object is lost (in order, see _close_lost)
        lost = ci[b_site[ci] >= 0]
        if len(lost):
            late_ones = lost[seg[lost] >= nm] if nm else lost
            early = lost[seg[lost] < nm] if nm else lost[:0]
            for e in early.tolist():
                self._close_lost(slist[b_site[e]], int(b_cycle[e]))
            if nm:
                self._trim_recent(self.cycle + nm - 1 - grace - 2)
            for e in late_ones.tolist():
                self._close_lost(slist[b_site[e]], int(b_cycle[e]))
        elif nm:
            self._trim_recent(self.cycle + nm - 1 - grace - 2)
        di = np.flatnonzero(~create)
        created = np.bincount(kx[ci], minlength=K)
        deleted = np.bincount(kx[di], minlength=K)
        bs = b_site[di]
        matched = bs >= 0
        unmatched = np.bincount(kx[di][~matched], minlength=K)
        ms = bs[matched]
        site_kx = np.array([kname.get(site.kind, -1) for site in slist], np.int64)
        mism = np.bincount(kx[di][matched][site_kx[ms] != kx[di][matched]], minlength=K)
        s_deleted = np.bincount(ms, minlength=S)
        late = np.bincount(ms[(ev_cycle[di][matched] - b_cycle[di][matched]) > grace],
                           minlength=S)
        s_created = np.bincount(ev_site[ci], minlength=S)
        for j, kind in enumerate(klist):
            kind.created += int(created[j])
            kind.deleted += int(deleted[j])
            kind.unmatched_deletes += int(unmatched[j])
            kind.kind_mismatch += int(mism[j])
        for j, site in enumerate(slist):
            site.created += int(s_created[j])
            site.deleted += int(s_deleted[j])
            site.late += int(late[j])
        # the live set: every handle touched goes; those whose last event is a create come
        # back in the order of those creates (a create moves its handle to the end)
        for h in handle[firsts].tolist():
            live.pop(h, None)
        back = np.sort(lasts[create[lasts]])
        for e, h in zip(back.tolist(), handle[back].tolist(), strict=True):
            live[h] = (slist[ev_site[e]], int(ev_cycle[e]))
        self._batch = (seg, kx, klist, ci, di, ev_site, slist)

    def _trim_recent(self, horizon: int) -> None:
        """_close_cycle's clean-up of recent lost cycles (the last marker's horizon covers
        every earlier one: horizons only grow)."""
        for key, s in list(self._recent.items()):
            for c in [c for c in s.lost_recent if c < horizon]:
                del s.lost_recent[c]
            if not s.lost_recent:
                del self._recent[key]

    def _close_bulk(self, np: Any, nm: int, counting: Any, closed_before: Any) -> None:
        """_close_cycle for the batch's markers: per kind and site, the patterns of the
        cycles they had events in."""
        batch = getattr(self, "_batch", None)
        self._batch = None
        if batch is None:
            if not nm:
                return
            seg = kx = ci = di = ev_site = np.zeros(0, np.int64)
            klist, slist = [], []
        else:
            seg, kx, klist, ci, di, ev_site, slist = batch
        if not nm and batch is None:
            return
        # kinds: those touched in the open cycle before the batch first
        kinds = list(self._touched_kinds)
        pos = {id(k): j for j, k in enumerate(kinds)}
        for k in klist:
            if id(k) not in pos:
                pos[id(k)] = len(kinds)
                kinds.append(k)
        col = np.array([pos[id(k)] for k in klist], np.int64)
        KK, G = len(kinds), nm + 1
        cc = np.bincount(seg[ci] * KK + col[kx[ci]], minlength=G * KK).reshape(G, KK) \
            if KK else np.zeros((G, 0), np.int64)
        dd = np.bincount(seg[di] * KK + col[kx[di]], minlength=G * KK).reshape(G, KK) \
            if KK else np.zeros((G, 0), np.int64)
        for j, k in enumerate(self._touched_kinds):
            cc[0, j] += k.cur_created
            dd[0, j] += k.cur_deleted
        touched = (cc + dd) > 0
        closing = closed_before[:nm]
        for j, k in enumerate(kinds):
            ts = np.flatnonzero(touched[:nm, j] & counting)
            if len(ts):
                c, d = cc[ts, j], dd[ts, j]
                _patterns(np, k.zeros, k.pattern, closing[ts] - k.born,
                          list(zip(c.tolist(), d.tolist(), strict=True)))
                k.net_sum += int(c.sum()) - int(d.sum())
            k.cur_created, k.cur_deleted = int(cc[nm, j]), int(dd[nm, j])
        self._touched_kinds = [k for j, k in enumerate(kinds) if touched[nm, j]]
        # sites (creates only)
        sites = list(self._touched_sites)
        spos = {id(s): j for j, s in enumerate(sites)}
        scol = np.zeros(len(slist), np.int64)
        for j, site in enumerate(slist):
            if id(site) not in spos:
                spos[id(site)] = len(sites)
                sites.append(site)
            scol[j] = spos[id(site)]
        SS = len(sites)
        sc = np.bincount(seg[ci] * SS + scol[ev_site[ci]], minlength=G * SS).reshape(G, SS) \
            if SS else np.zeros((G, 0), np.int64)
        for j, site in enumerate(self._touched_sites):
            sc[0, j] += site.cur_created
        stouched = sc > 0
        for j, site in enumerate(sites):
            ts = np.flatnonzero(stouched[:nm, j] & counting)
            if len(ts):
                _patterns(np, site.zeros, site.created_pattern, closing[ts] - site.born,
                          sc[ts, j].tolist())
            site.cur_created = int(sc[nm, j])
        self._touched_sites = [s for j, s in enumerate(sites) if stouched[nm, j]]

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
        self._flush()
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
        self._flush()
        return max(0, self.cycle - 1)

    @property
    def judged_until(self) -> int:
        """Objects created in cycles 1..judged_until are past their grace window."""
        self._flush()
        return self.cycle - 1 - self.grace

    def result(self, attributor: Any | None = None) -> ObjectsFromTrace:
        """The pairing's answer (``results.objects.ObjectsFromTrace``)."""
        self._flush()
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
