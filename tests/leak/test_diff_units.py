"""Snapshot diff and per-site growth on hand-made census snapshots."""

from __future__ import annotations

from memsleuth.analysis.diff import Snapshot, diff_snapshots, site_growth


def snap(i: int, cycle: int, sites: dict[str, tuple[int, int]]) -> Snapshot:
    return Snapshot(index=i, line=i * 100, cycle=cycle, partial=False, used_bytes=0,
                    sites={k: (b, y, y // b if b else 0) for k, (b, y) in sites.items()},
                    overhead=16.0)


def test_new_vanished_grown_shrunk() -> None:
    a = snap(0, 1, {"keep": (2, 64), "gone": (1, 32), "grow": (1, 100), "shrink": (4, 400)})
    b = snap(1, 9, {"keep": (2, 64), "new": (3, 96), "grow": (5, 500), "shrink": (1, 100)})
    d = diff_snapshots(a, b, {})
    status = {r.key: r.status for r in d.rows}
    assert status == {"keep": "same", "gone": "vanished", "grow": "grown", "shrink": "shrunk",
                      "new": "new"}
    assert [r.key for r in d.rows][:2] == ["grow", "new"]        # by growth
    assert d.totals.bytes_delta == (64 + 96 + 500 + 100) - (64 + 32 + 100 + 400)


def test_growth_every_time_vs_spike_once() -> None:
    snaps = [snap(i, c, {"steady": (c, 64 * c), "spike": (1 if c < 40 else 41,
                                                         32 if c < 40 else 32 * 41),
                         "flat": (3, 99)})
             for i, c in enumerate((10, 20, 30, 40, 50))]
    g = site_growth(snaps, {})
    pattern = {r.key: r.pattern for r in g.rows}
    assert pattern == {"steady": "steady", "spike": "spike", "flat": "flat"}
    steady = next(r for r in g.rows if r.key == "steady")
    assert steady.bytes_slope == 64 and steady.heap_slope == 64 + 16
    assert g.x == "cycle" and g.dumps == (0, 1, 2, 3, 4) and g.block_overhead == 16.0
