"""No "clean" verdict on a mutated leaking log that keeps its leak visible to a human
(issue 10 acceptance; the class is defined in visible.py, the campaign counts it at scale).

The mutants are cut from logs of firmware that really ran and leaks: the four RTOS examples
(ESP-IDF, FreeRTOS, NuttX, Zephyr printers), the vendor stress runs, the Wi-Fi reconnect
leak, and the FreeRTOS kernel run under QEMU (tests/fixtures/freertos). Each is damaged the
ways a serial line does (campaign.mutate_log), and `check` runs on it as the CLI does.
"""

from __future__ import annotations

import random
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import campaign  # noqa: E402
import visible  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
LEAKING = [
    *sorted((ROOT / "examples" / "rtos_formats" / "out").glob("*.log")),
    *sorted((ROOT / "examples" / "vendor_stress" / "out").glob("*.log")),
    ROOT / "examples" / "wifi_reconnect_leak" / "out" / "cortex-m4-leak.log",
    ROOT / "tests" / "fixtures" / "freertos" / "freertos-side2.log",
]


# -- the definition itself ------------------------------------------------------------------

def test_a_steady_fall_is_visible_and_a_warmup_then_plateau_is_not() -> None:
    rng = random.Random(1)
    leak = [20_000 - 80 * i + rng.randint(-30, 30) for i in range(40)]
    assert visible.falls_steadily(leak)[0]
    warm = [20_000 - 400 * min(i, 15) + rng.randint(-30, 30) for i in range(40)]
    assert not visible.falls_steadily(warm)[0]           # only its first half falls
    assert not visible.falls_steadily(leak[:visible.MIN_ROWS - 1])[0]
    churn = [20_000 - 20 * i + rng.randint(-1500, 1500) for i in range(40)]
    assert not visible.falls_steadily(churn)[0]          # lost in the noise


def test_intact_rows_are_whole_in_order_and_counted_once() -> None:
    lines = [b"hdr\n", b"free 100\n", b"x\n", b"hdr\n", b"free 90\n", b"hdr\n", b"free 80\n"]
    truth = visible.SeedTruth(leak=[True], rows=[[(0, 1, 100), (3, 4, 90), (5, 6, 80)]],
                              failures=[frozenset()])
    tags = [(0, i) for i in range(len(lines))]
    assert truth.intact_rows(0, visible.intact_tags(lines, tags)) == [100, 90, 80]
    # row 2's value line changed; row 3 moved before row 1 (out of order); row 1 duplicated
    win = [lines[5], lines[6], lines[0], lines[1], lines[0], lines[1], lines[3], b"free 9\n"]
    tags = [(0, 5), (0, 6), (0, 0), (0, 1), (0, 0), (0, 1), (0, 3), None]
    assert truth.intact_rows(0, visible.intact_tags(win, tags)) in ([100], [80])
    # a line whose predecessor lost its line end is not at the start of a line
    win = [b"hdr", b"free 100\n"]
    assert visible.intact_tags(win, [(0, 0), (0, 1)]) == [(0, 0), None]


def test_the_seed_rows_are_read_on_every_leaking_printer() -> None:
    seeds = [(str(p), p.read_bytes().splitlines(keepends=True)) for p in LEAKING]
    truth = visible.SeedTruth.load(seeds)
    for (name, _), rows in zip(seeds, truth.rows, strict=True):
        assert len(rows) >= 20, name
        assert visible.falls_steadily([free for *_, free in rows])[0], name


# -- the property: check never says clean on that class -------------------------------------

@pytest.fixture(scope="module")
def setup():
    seeds = [(str(p), p.read_bytes().splitlines(keepends=True)) for p in LEAKING]
    campaign._install_error_hook()
    return seeds, visible.SeedTruth.load(seeds), Path(tempfile.mkdtemp(prefix="msvis-"))


@pytest.mark.parametrize("chunk", range(4))
def test_check_is_never_clean_on_a_visible_leak(setup, chunk: int) -> None:
    seeds, truth, tmp = setup
    every = list(range(len(seeds)))
    seen_rows = seen_failure = 0
    for i in range(chunk * 150, (chunk + 1) * 150):
        rng = random.Random(f"visible:{i}")
        data, name, intact, si, _ = campaign.mutate_log(rng, seeds, every, leak_share=1.0)
        judge = truth.judge(si, intact)
        if not judge.visible:
            continue
        path = tmp / f"case{chunk}.log"
        path.write_bytes(data)
        code, tb = campaign.run_verb(["check", str(path), "-q"])
        assert tb is None, tb
        assert code != 0, (i, name, judge.why)
        if judge.failure_line:           # an allocation failure fails the check
            assert code == 1, (i, name, judge.why)
            seen_failure += 1
        seen_rows += judge.rows_visible
    assert seen_rows >= 20 and seen_failure >= 1, (seen_rows, seen_failure)


def test_a_failure_line_alone_fails_the_check(tmp_path: Path) -> None:
    log = tmp_path / "only-failure.log"
    log.write_bytes(b"boot\nWARNING, malloc failed!!!! need size:512, but free size:2176\n")
    assert campaign.run_verb(["check", str(log), "-q"]) == (1, None)
    assert campaign.run_verb(["check", str(log), "-q", "--allow-alloc-failure"]) == (3, None)
