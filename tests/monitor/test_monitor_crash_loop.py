"""A crash-looping device watched for days: the monitor keeps a bounded list of crashes."""

from __future__ import annotations

from pathlib import Path

from test_monitor_engine import CRASH_LOG, _monitor

from memsleuth.model import FIRST_KEPT


def test_crash_loop_keeps_first_and_newest_and_counts_all(tmp_path: Path) -> None:
    blob = CRASH_LOG.read_bytes()
    per_boot = [b"boot ok\r\n", blob]
    loops = FIRST_KEPT + 12
    mon, _, _ = _monitor(tmp_path, per_boot * loops)
    result = mon.run()
    # the truth: where each boot's crash banner starts in what was sent
    dump_lines = blob.count(b"\n")
    starts = [2 + i * (dump_lines + 1) for i in range(loops)]
    assert result.crashes_total == loops
    assert len(result.crashes) == FIRST_KEPT + 1
    assert [c.line for c in result.crashes] == starts[:FIRST_KEPT] + [starts[-1]]
    assert all(c.explanation is not None for c in result.crashes)
    # nothing captured is lost: every crash is in the raw capture
    assert Path(result.capture_files[0]).read_bytes() == (b"boot ok\r\n" + blob) * loops
