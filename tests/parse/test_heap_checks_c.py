"""``_scan.heap_checks`` (the checks parse/scan.py's ``_heap_run`` makes on a HeapRun's tables,
in C) answers as the Python loop does wherever it decides, and says -2 (Python decides) for
columns it cannot read safely: counts past the end of the skip pairs, counts so large that
doubling them overflows (2**62: the bound check wrapped and the loop read past the buffer,
found by tests/parse/asan_scan_campaign.py under UBSan), spans outside the text, and
buffers not aligned for int64."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest

from memsleuth import accel

ROOT = Path(__file__).resolve().parents[2]

scan_c = accel.module()
pytestmark = pytest.mark.skipif(scan_c is None or not hasattr(scan_c, "heap_checks"),
                                reason="the C scanner (with heap_checks) is not built")


def q(*values: int) -> bytes:
    return struct.pack(f"{len(values)}q", *values)


def python_loop(text: str, skips: bytes, nskip: bytes, check_s: bytes, check_e: bytes) -> int:
    """scan._heap_run's Python decision (``scan.first_failing_table``) on the C call's arguments."""
    from memsleuth.parse import scan
    return scan.first_failing_table(text, *(memoryview(b).cast("q")
                                            for b in (skips, nskip, check_s, check_e)))


TEXT = "[I][wifi] rssi=-45\n12:10:07.331 > [W][lwip] retry\n[D][netmgr] renew\n"
SPANS = [(0, 18), (19, 49), (50, 68)]     # three lines, every one keeps text


@pytest.mark.parametrize("count", [3, 4, 1 << 62, (1 << 62) + 1, (1 << 63) - 1])
def test_counts_past_the_pairs(count: int) -> None:
    skips = q(*SPANS[0], *SPANS[1])     # two pairs; the table says more
    assert scan_c.heap_checks(TEXT, skips, q(count), q(-1), q(-1)) == -2
    with pytest.raises(IndexError):     # what Python does with such columns
        python_loop(TEXT, skips, q(count), q(-1), q(-1))


@pytest.mark.parametrize("spans", [[(-1, 5)], [(5, 2)], [(0, len(TEXT) + 1)], [(1 << 62, 1)]])
def test_spans_outside_the_text(spans: list[tuple[int, int]]) -> None:
    flat = [v for span in spans for v in span]
    assert scan_c.heap_checks(TEXT, q(*flat), q(len(spans)), q(-1), q(-1)) == -2
    if flat[0] >= 0:                    # (a negative check start means "no check line")
        assert scan_c.heap_checks(TEXT, q(), q(0), q(flat[0]), q(flat[1])) == -2


def test_unaligned_columns() -> None:
    skips = memoryview(b"\0" + q(*SPANS[0]))[1:]     # int64s at an odd address
    assert scan_c.heap_checks(TEXT, skips, q(1), q(-1), q(-1)) == -2
    assert scan_c.heap_checks(TEXT, q(*SPANS[0]), q(1), q(-1), q(-1)) == -1


def test_same_answer_as_python_on_real_lines() -> None:
    """Tables of skipped and check lines drawn from the committed AliOS fixtures, with lines
    that normalise to nothing, rules, headers and the statistic notice mixed in."""
    lines = [ln for p in sorted((ROOT / "tests" / "fixtures" / "alios").glob("*.log"))
             for ln in p.read_text(encoding="utf-8", errors="replace").splitlines()]
    lines += ["", "   ", "\x1b[0m", "[  12.500] ", "12:10:07.331 > ", "-" * 20, "-" * 19,
              "[I] [HEAP]| TotalSz |", "k_mm_statistic IN K_CONFIG.H is closed", "caf\xe9"]
    rng = random.Random(5)
    decided = 0
    for _ in range(3000):
        chosen = [rng.choice(lines) for _ in range(12)]
        text = "\n".join(chosen) + "\n"
        spans, pos = [], 0
        for ln in chosen:
            spans.append((pos, pos + len(ln)))
            pos += len(ln) + 1
        skips, nskip, cs, ce = [], [], [], []
        for _ in range(rng.randint(1, 4)):
            n = rng.choice([0, 1, 2])
            for _ in range(n):
                skips.extend(rng.choice(spans))
            nskip.append(n)
            a, b = rng.choice(spans) if rng.random() < .6 else (-1, -1)
            cs.append(a)
            ce.append(b)
        args = (text, q(*skips), q(*nskip), q(*cs), q(*ce))
        got = scan_c.heap_checks(*args)
        if got != -2:
            decided += 1
            assert got == python_loop(*args), args
    assert decided > 2000
