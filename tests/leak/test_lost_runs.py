"""The object ledger's lost cycles are kept as runs: exact, and no bigger as the log grows.

They were a bitmap of one bit per cycle per site (4.7 MB for the 40 sites of a 1 GB stress
log): a site that lost one object late in the log held a bit for every cycle before. Runs of
consecutive cycles hold one pair per run, so a steady loss is one run whatever its length.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memsleuth import accel
from memsleuth.analysis.objects import ObjectBalance, _merged, _Runs
from memsleuth.parse import parse_file


def _runs_of(cycles: set[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for c in sorted(cycles):
        if out and out[-1][1] == c - 1:
            out[-1] = (out[-1][0], c)
        else:
            out.append((c, c))
    return out


@given(st.lists(st.integers(0, 200), max_size=300))
def test_runs_hold_exactly_the_cycles_added(cycles: list[int]) -> None:
    runs = _Runs()
    for c in cycles:
        runs.add(c)
    assert runs.pairs() == _runs_of(set(cycles))


@given(st.lists(st.tuples(st.integers(0, 100), st.integers(0, 20)), max_size=30),
       st.integers(0, 60), st.integers(0, 120))
def test_merged_is_the_clipped_union(pairs: list[tuple[int, int]], low: int,
                                     high: int) -> None:
    runs = [(s, s + n) for s, n in pairs]
    union = {c for s, e in runs for c in range(s, e + 1) if low <= c <= high}
    assert _merged(runs, low, high) == _runs_of(union)


def _write(path: Path, cycles: int) -> None:
    """Per cycle: timer 0 created and never deleted, its handle created again next cycle
    (the old one lost: a steady loss); timer 1 created and deleted. A third handle is
    created in cycles 97k and 97k + 3, never deleted (a sparse loss, two per 97 cycles)."""
    seq = 0
    lines = []
    for c in range(1, cycles + 1):
        lines.append(f"[MSCYCLE] {c}")
        events = [("create", 0x100, 0xA0), ("create", 0x140, 0xB0), ("delete", 0x140, 0xB0)]
        if c % 97 in (0, 3):
            events.append(("create", 0x180, 0xC0))
        for op, handle, caller in events:
            seq += 1
            lines.append(f"[MSOBJ] {op} timer 0x{0x20000000 + handle:08x} "
                         f"caller 0x{0x08000000 + caller:08x} seq {seq}")
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("mode", ["C", "pure"])
def test_lost_cycles_stay_small_and_exact(tmp_path: Path, mode: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    if mode == "pure":
        monkeypatch.setattr(accel, "_loaded", None)
    elif getattr(accel.module(), "Ledger", None) is None or accel.abi() < 5:
        pytest.skip("the C scanner is not built")
    held = {}
    for cycles in (400, 4000):
        log = tmp_path / f"c{cycles}.log"
        _write(log, cycles)
        balance = ObjectBalance(1)
        for record in parse_file(log, fast=True, objects="runs"):
            balance.on_record(record)
        result = balance.result()
        steady = next(s for s in result.sites if s.callers == (0x080000A0,))
        # created in cycles 1..n-1 and lost when the handle came back; n - 2 judged
        assert steady.cycles_leaking == cycles - 2 and steady.steady
        sparse = next(s for s in result.sites if s.callers == (0x080000C0,))
        creates = [c for c in range(1, cycles + 1) if c % 97 in (0, 3)]
        # each lost when the handle came back, the last one alive (leaked once judged)
        assert sparse.cycles_leaking == len([c for c in creates if c <= cycles - 2])
        assert sparse.recurring
        held[cycles] = {caller: len(s.lost_runs.starts)
                        for (_, caller), s in balance.sites.items()}
        # the sparse site: one run per lost object, not one bit per cycle of the log
        assert held[cycles][0x080000C0] == len(creates) - 1
    assert held[400][0x080000A0] == held[4000][0x080000A0] == 1
