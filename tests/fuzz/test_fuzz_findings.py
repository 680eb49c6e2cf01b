"""What the fuzz campaign found, kept as a regression corpus (tests/fuzz/cases: each file
is the mutant ``campaign.py --seed S --replay log:N`` wrote, named after what it showed).
Every verb reads each without an internal error; check gives the verdict a user relies on.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import campaign  # noqa: E402

FIX = Path(__file__).resolve().parent / "cases"
#: fixture -> check's exit code (found by: seed, case)
EXPECTED = {
    # seed 10 case 3021: three dumps with one number, Theil-Sen on a single x (traceback)
    "dumps_numbered_alike": 3,
    # seed 10 case 267: 'reconnect 1' cut at the end of a 12-row 72 B/cycle leak read as a
    # reboot, the run dropped, "clean: objects balanced"
    "counter_glitch_at_the_end": 3,
    # seed 11 case 755: an exact 64 B/cycle leak, its last row damaged: "step", clean
    "damaged_last_row_not_a_step": 3,
    # seed 3 case 1165: one damaged row (up, then down) counted as a kept burst, clean
    "damaged_row_spike_not_a_step": 3,
    # seed 11 case 44: an intact malloc-failure line and no overview: "nothing to judge"
    "failure_line_only": 1,
    # seed 10 case 17721 (run 3): a row spliced from a 1 MiB heap set the heap size, so an
    # exact 72 B/overview fall over 18 rows was "not material": "no leak", clean
    "alien_row_sets_the_heap_size": 3,
    # seed 11 case 57847: a 36-row 72 B/overview leak, then another heap's 9 rows: only the
    # last heap was judged, "clean: step" on a log that shows a leak
    "earlier_heap_leaked": 1,
    # seed 11 case 53170: dump cycle numbers that differ as integers but not as floats:
    # ZeroDivisionError in the growth rates
    "dump_cycles_round_alike": 3,
    # seed 11 case 190715: the same, on a run with an intact malloc-failure line
    "frag_failure_dumps_same_x": 1,
    # seed 11 cases 23500, 87253, 107197, 196698: blocks of a 64-72 B/overview leak's rows
    # moved out of order, the curve a saw; the residuals of the shuffle lifted the
    # materiality floor over the fall: "no leak", clean, with a slope interval that still
    # held the leak
    "shuffled_blocks_saw": 3,
    "shuffled_blocks_noisy_row": 3,
    "shuffled_blocks_two_jumps": 3,
    "shuffled_blocks_espidf": 3,
    # seed 11 case 15001: 'WARNING, malloc failed!!!!' moved into the Heap Info section of
    # an AliOS fatal-error dump: the dump reader took it as its own line, "nothing to
    # judge" (exit 3) on a log that says the allocator failed
    "failure_line_inside_crash_dump": 1,
    # seed 10 case 4528 (run 3): two 'malloc failed' lines after leak lines in a dump's
    # Heap Info section: the same, exit 3
    "failure_lines_after_leak_lines_in_dump": 1,
    # seed 12 case 116532: a 64 B/overview leak with a block of rows moved, the free slope
    # surely negative, read "fragmentation: free heap flat" (the largest block shrank):
    # clean
    "saw_read_as_fragmentation": 3,
    # seed 12 case 159104: the same after a warm-up cut, slope interval holding -64 B
    "saw_after_warmup_read_as_fragmentation": 3,
    # seed 12 case 139305: an AliOS dump excerpt spliced in, its Heap Info [HEAP] header
    # with no row: the nested table took every later line as its own, 13 Zephyr overviews
    # went unread, "clean: objects balanced" on one object event
    "heap_header_in_dump_ate_the_log": 3,
    # seed 12 cases 410166, 186436: a 40-row leak, then other heaps' rows; the last run had
    # no overview, so the earlier run's leak (trend.earlier_leaks) was never reported:
    # "clean: objects balanced"
    "earlier_heap_leaked_last_run_empty": 1,
    "earlier_heap_leaked_then_crash": 1,
    # seed 12 cases 278129, 342661: 6 rows of a 64-72 B/overview leak around one jump
    # (rows missing): "step: flat otherwise", clean, with every other step falling alike
    "falling_steps_around_a_jump_not_flat": 3,
    "falling_steps_around_a_big_jump_not_flat": 3,
    # seed 12 case 895821: a 10-row Zephyr leak (undecided: a fall or a warm-up?), then other
    # heaps' rows and no overview in the last run: only earlier *leaks* were kept, so check
    # judged the object trace alone, "clean: objects balanced"; now cannot judge
    "earlier_run_undecided_last_run_empty": 3,
    # seed 14 case 124524 (run 7): a backwards cycle marker (67, then 66), then the heap
    # tables and four intact 'malloc failed' lines: held while the counter reset waited for
    # its evidence, they were never counted: "clean: objects balanced"; now FAIL (exit 1)
    "failures_after_backwards_marker": 1,
}


@pytest.fixture(scope="module", autouse=True)
def _hook():
    campaign._install_error_hook()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fuzz_finding_stays_fixed(name: str, tmp_path: Path) -> None:
    log = FIX / f"{name}.log"
    for verb in campaign.VERBS:
        code, tb = campaign.run_verb(campaign.verb_args(verb, log, None, False, tmp_path))
        assert tb is None, (verb, tb)
        assert 0 <= code <= 4, verb
        if verb == "check":
            assert code == EXPECTED[name]
