"""ObjectBalance's O(records) cycle closing gives exactly the straightforward version's result.

The reference below closes a cycle the straightforward way (every kind and every site, an
explicit entry for each idle cycle, as the accumulator did before); the streaming one visits
only what had events and adds the idle entries at the end. Same results on generated traces
(reused handles, deletes of unknown handles, kinds and sites that appear late, idle cycles,
ties between per-cycle patterns) and on the committed example logs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memsleuth.analysis.objects import ObjectBalance
from memsleuth.parse import parse_file
from memsleuth.records import CycleMarker, ObjectEvent


class Reference(ObjectBalance):
    """Cycle closing as it was: visit every kind and every site at every marker."""

    def marker(self, index: int | None = None) -> None:
        if self.cycle >= 1:
            for k in self.kinds.values():
                k.pattern[(k.cur_created, k.cur_deleted)] += 1
                k.net_sum += k.cur_created - k.cur_deleted
            for s in self.sites.values():
                s.created_pattern[s.cur_created] += 1
            self._closed += 1
        for k in self.kinds.values():
            k.cur_created = k.cur_deleted = 0
        horizon = self.cycle - self.grace - 2
        for s in self.sites.values():
            s.cur_created = 0
            for c in [c for c in s.lost_recent if c < horizon]:
                del s.lost_recent[c]
        self._touched_kinds.clear()
        self._touched_sites.clear()
        self._recent.clear()
        self.cycle += 1
        if index is not None:
            if self.first_marker is None:
                self.first_marker = index
            self.last_marker = index

ROOT = Path(__file__).resolve().parents[2]

_event = st.tuples(st.sampled_from(["create", "delete"]), st.sampled_from(["timer", "sem", "q"]),
                   st.integers(0, 6), st.integers(0, 3))
_step = st.one_of(st.just("marker"), _event)


def feed(steps: list, grace: int) -> tuple[dict, dict]:
    new, ref = ObjectBalance(grace), Reference(grace)
    for line, step in enumerate(steps, 1):
        if step == "marker":
            rec = CycleMarker(line=line, index=line, text="m")
        else:
            op, kind, handle, caller = step
            rec = ObjectEvent(line, op, kind, 0x2000 + handle, 0x800 + caller, line, None, None)
        new.on_record(rec)
        ref.on_record(rec)
    return new.result(), ref.result()


@settings(max_examples=400, deadline=None)
@given(st.lists(_step, max_size=120), st.integers(0, 3))
def test_same_result_as_reference(steps: list, grace: int) -> None:
    got, want = feed(steps, grace)
    assert got == want


def test_idle_cycles_tie_with_busy_ones() -> None:
    """Cycles with no event are counted as (0, 0) where they first occurred."""
    timer = ("create", "timer", 1, 0)
    steps = ["marker", "marker", timer, "marker", "marker", timer, ("delete", "timer", 1, 0),
             "marker", "marker"]
    got, want = feed(steps, 1)
    assert got == want
    assert got.kinds[0].per_cycle.created == 0


@pytest.mark.parametrize("name", ["cortex-m4-leak.log", "x86_64-noleak.log"])
def test_same_result_on_example_logs(name: str) -> None:
    path = ROOT / "examples" / "wifi_reconnect_leak" / "out" / name
    new, ref = ObjectBalance(), Reference()
    for rec in parse_file(path):
        new.on_record(rec)
        ref.on_record(rec)
    assert new.result() == ref.result()
