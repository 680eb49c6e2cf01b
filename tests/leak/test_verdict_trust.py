"""A verdict is "clean" only when the evidence says so (issue 10 item 4).

Each test damages a log of firmware that really ran (examples/wifi_reconnect_leak, which
leaks one timer per reconnect and dies of a malloc failure) the way a serial line or a
flipped bit does, and asserts the verdict a user relies on.
"""

from __future__ import annotations

import bisect
import json
import re
from pathlib import Path

from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from schema_helpers import loads_valid

from memsleuth.analysis.check import Thresholds, verdict
from memsleuth.analysis.trend import TrendCollector
from memsleuth.cli import main
from memsleuth.records import AllocWarning, CycleMarker, HeapOverview

OUT = Path(__file__).resolve().parents[2] / "examples" / "wifi_reconnect_leak" / "out"
LEAK = OUT / "cortex-m4-leak.log"
NOLEAK = OUT / "cortex-m4-noleak.log"
HEAP_ROW = re.compile(r"^(\s+\| )0x([0-9A-F]{8}) \| 0x([0-9A-F]{8})( \|.*)$")


def run(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(main, list(args))
    return res.exit_code, res.stdout, res.stderr


def damaged(tmp_path: Path, src: Path, edit, name: str = "damaged.log") -> Path:  # noqa: ANN001
    lines = src.read_text().splitlines(keepends=True)
    out = tmp_path / name
    out.write_text("".join(edit(lines)))
    return out


def flip_free_above_total(lines: list[str], which: int = 300) -> list[str]:
    """Set bit 31 of FreeSz in the ``which``-th standalone [HEAP] row: FreeSz > TotalSz."""
    seen = 0
    for i, line in enumerate(lines):
        m = HEAP_ROW.match(line.rstrip("\n"))
        if m and lines[i - 1].startswith("[HEAP]"):
            seen += 1
            if seen == which:
                free = int(m[3], 16) | 0x80000000
                lines[i] = f"{m[1]}0x{m[2]} | 0x{free:08X}{m[4]}\n"
                return lines
    raise AssertionError("row not found")


def set_marker(lines: list[str], cycle: int, value: int) -> list[str]:
    i = lines.index(f"[MSCYCLE] {cycle}\n")
    lines[i] = f"[MSCYCLE] {value}\n"
    return lines


def test_free_above_total_is_left_out_and_the_leak_still_found(tmp_path: Path) -> None:
    log = damaged(tmp_path, LEAK, flip_free_above_total)
    code, out, _ = run("check", str(log), "--allow-alloc-failure")
    assert code == 1 and out.startswith("LEAK: free heap falls"), out
    code, out, _ = run("trend", str(log), "--json")
    trend = loads_valid(out)
    assert trend["classification"] == "steady_leak"
    assert trend["excluded"]["impossible_rows"] == 1
    assert any("impossible heap row" in n and "FreeSz" in n for n in trend["notes"])


def test_one_corrupted_cycle_counter_is_a_glitch_not_a_reboot(tmp_path: Path) -> None:
    facts = json.loads((OUT / "cortex-m4-leak.json").read_text())
    for value in (44, 3000):            # a bit flip down (300 -> 44) and up (-> 3000)
        log = damaged(tmp_path, LEAK, lambda ls, v=value: set_marker(ls, 300, v))
        code, out, _ = run("trend", str(log), "--json")
        trend = loads_valid(out)
        assert trend["classification"] == "steady_leak", (value, trend["reason"])
        assert trend["excluded"]["restarts"] == 0 and trend["excluded"]["glitches"] == 1
        assert trend["points"] >= facts["mscycle_markers"] - 1
        assert max(p["cycle"] for p in trend["series"]) == facts["mscycle_markers"]
        code, out, _ = run("check", str(log), "--allow-alloc-failure")
        assert code == 1 and out.startswith("LEAK"), out


def test_a_counter_back_at_its_first_value_is_still_a_reboot(tmp_path: Path) -> None:
    log = tmp_path / "two-runs.log"
    log.write_bytes(NOLEAK.read_bytes() + LEAK.read_bytes())
    trend = loads_valid(run("trend", str(log), "--json")[1])
    assert trend["excluded"]["restarts"] == 1 and trend["excluded"]["glitches"] == 0


def test_a_malloc_failure_fails_the_check_unless_allowed(tmp_path: Path) -> None:
    # the balanced run with one failure line added at the end: the heap is flat, objects
    # balance, yet an allocation did fail
    log = damaged(tmp_path, NOLEAK, lambda ls: ls + [
        "WARNING, malloc failed!!!! need size:684, but free size:10264\n"])
    code, out, _ = run("check", str(log))
    assert code == 1 and out.startswith("FAIL: 1 allocation failure") and "684 B" in out, out
    code, out, _ = run("check", str(log), "--allow-alloc-failure")
    assert code == 0 and out.startswith("clean"), out


def test_a_malloc_failure_inside_a_crash_dump_fails_the_check(tmp_path: Path) -> None:
    # the real AliOS 2.0 fatal-error dump with its 'malloc failed' line printed between the
    # dump's [HEAP] header and row (another task's output amid the dump): the dump reader
    # took it as its own line and check said "nothing to judge" (exit 3)
    src = Path(__file__).resolve().parents[1] / "fixtures" / "crash" / "alios20_fatal_nomem.log"

    def move_warning(lines: list[str]) -> list[str]:
        warning = lines.pop(1)
        assert warning.startswith("WARNING, malloc failed")
        at = next(i for i, x in enumerate(lines) if x.startswith("[HEAP]"))
        return lines[:at + 1] + [warning] + lines[at + 1:]

    log = damaged(tmp_path, src, move_warning)
    code, out, _ = run("check", str(log))
    assert code == 1 and out.startswith("FAIL: 1 allocation failure"), out
    crash = loads_valid(run("crash", str(log), "--json")[1])["crashes"][-1]
    # the dump's own heap row is still read around it
    assert crash["heap_overview"]["free"] == 64 and not crash["partial"]


def test_insufficient_is_exit_3_for_trend_and_check(tmp_path: Path) -> None:
    log = damaged(tmp_path, NOLEAK, lambda ls: [x for x in ls[:300] if "[MSOBJ]" not in x])
    assert run("trend", str(log))[0] == 3
    code, out, _ = run("check", str(log))
    assert code == 3 and out.startswith("cannot judge")


def test_two_heaps_in_one_file_are_not_one_decline(tmp_path: Path) -> None:
    fix = Path(__file__).resolve().parents[1] / "fixtures" / "alios"
    log = tmp_path / "two-boards.log"
    # a 3.3 `dumpsys mm` (128 MiB heap) then a 1.x `dumpsys mm_info` (1 MiB heap)
    log.write_text((fix / "h5b_dumpsys_mm_real.log").read_text()
                   + (fix / "b1_wiki_real.log").read_text())
    data = loads_valid(run("analyze", str(log), "--json")[1])
    heap = data["heap"]
    assert heap["first_free"] == heap["free"] == 764212
    assert data["contents"]["heap_series"] == 2


# -- verdicts on generated series with known truth ----------------------------------------

def _series(leak: int, noise: list[int], *, total: int = 200_000, block: int = 80,
            bad_row: int | None = None, glitch: int | None = None,
            failure: bool = False) -> dict:
    c = TrendCollector()
    free = 150_000
    for i, n in enumerate(noise, start=1):
        c.on_record(CycleMarker(line=3 * i, index=(i * 7 + 3) if i == glitch else i, text=""))
        f = free - leak * block * i + n
        row = HeapOverview(line=3 * i + 1, variant="H5b", total=total, free=f, used=total - f)
        if i == bad_row:
            row.free = total + 4096      # what a flipped high bit prints
        c.on_record(row)
    if failure:
        c.on_record(AllocWarning(line=10**6, kind="malloc_failed", need=512))
    trend = c.result()
    fails = c.failures()
    return verdict(trend, None, None, Thresholds(), None, fails)


@settings(max_examples=60, deadline=None)
@given(leak=st.integers(1, 4), n=st.integers(40, 120), seed=st.randoms(use_true_random=False),
       damage=st.sampled_from(["none", "bad_row", "glitch", "both"]))
def test_a_leak_of_a_block_per_cycle_is_never_clean(leak, n, seed, damage) -> None:  # noqa: ANN001
    noise = [seed.randint(-40, 40) for _ in range(n)]        # below one 80 B block
    pos = seed.randint(5, n - 5)
    v = _series(leak, noise, bad_row=pos if damage in ("bad_row", "both") else None,
                glitch=pos + 1 if damage in ("glitch", "both") else None)
    assert v.leak and v.exit_code == 1, v.reason


@settings(max_examples=60, deadline=None)
@given(n=st.integers(40, 120), seed=st.randoms(use_true_random=False),
       damage=st.sampled_from(["none", "bad_row", "glitch"]), failure=st.booleans())
def test_a_flat_heap_is_clean_only_without_an_allocation_failure(n, seed, damage,  # noqa: ANN001
                                                                 failure) -> None:
    noise = [seed.randint(-40, 40) for _ in range(n)]
    pos = seed.randint(5, n - 5)
    v = _series(0, noise, bad_row=pos if damage == "bad_row" else None,
                glitch=pos if damage == "glitch" else None, failure=failure)
    assert v.exit_code == (1 if failure else 0), v.reason


def test_too_few_points_is_never_clean() -> None:
    v = _series(0, [0, 3, -2, 1, 0])
    assert v.exit_code == 3 and not v.judged


def _longest_in_order(seq: list[int]) -> int:
    tails: list[int] = []
    for v in seq:
        i = bisect.bisect_left(tails, v)
        tails[i:i + 1] = [v]
    return len(tails)


@settings(max_examples=120, deadline=None)
@given(n=st.integers(12, 40), rate=st.integers(32, 128), seed=st.randoms(use_true_random=False),
       noise=st.sampled_from([0, 8]), moves=st.integers(1, 2))
def test_a_leak_with_blocks_of_rows_out_of_order_is_never_clean(n, rate, seed, noise,  # noqa: ANN001
                                                                moves) -> None:
    # Rows with no cycle number (NuttX `free`, ESP-IDF): a leak of `rate` B per overview,
    # then one or two blocks of rows moved elsewhere (a capture pasted out of order), so the
    # curve is a saw while >= 12 rows stay in order and fall. The saw's residuals once set the
    # materiality floor above the very fall: "no leak", clean (fuzz seed 11, 4 cases).
    order = list(range(n))
    for _ in range(moves):
        k = seed.randint(2, max(2, n // 4))
        at = seed.randrange(0, n - k + 1)
        block, rest = order[at:at + k], order[:at] + order[at + k:]
        to = seed.randrange(0, len(rest) + 1)
        order = rest[:to] + block + rest[to:]
    assume(_longest_in_order(order) >= 12)
    c = TrendCollector()
    for j, i in enumerate(order):
        f = 45_000 - rate * i + seed.randint(-noise, noise)
        c.on_record(HeapOverview(line=3 * j + 1, variant="H5b", total=65_536, free=f,
                                 used=65_536 - f))
    v = verdict(c.result(), None, None, Thresholds(), None, c.failures())
    assert v.exit_code != 0, v.reason
