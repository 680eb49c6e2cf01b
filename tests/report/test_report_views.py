"""The report's views come from the analyses the other verbs run, not from copies of them."""

from __future__ import annotations

from pathlib import Path

from memsleuth.analysis.crash import explain_crash
from memsleuth.commands.analyze import run_analyze
from memsleuth.commands.common import load_model
from memsleuth.commands.report import run_report
from memsleuth.results.common import extend
from memsleuth.results.crash import CrashInLog

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NOMEM = FIXTURES / "crash" / "alios20_fatal_nomem.log"        # a warning, then a fatal error
BUSFAULT = FIXTURES / "crash" / "alios20_m4_busfault_task.log"
DUMP = FIXTURES / "alios" / "b3_full.log"


def _two_crashes(tmp_path: Path) -> Path:
    log = tmp_path / "two.log"
    log.write_text(NOMEM.read_text() + "WARNING, malloc failed!!!!\n"
                   + "WARNING, malloc failed!!!!\n" + BUSFAULT.read_text())
    return log


def test_every_crash_is_explained_newest_as_analyze_does(tmp_path: Path):
    log = _two_crashes(tmp_path)
    data, _ = run_report(log, None)
    model = load_model(log)
    assert model.crashes.count == 2 and len(model.warnings) == 3
    first, newest = data["crashes"]
    assert newest == run_analyze(log, None, top=10)[0].crash
    # Each crash sees only the warnings after the previous crash and before itself.
    expected = explain_crash(model.crashes.first, None, None, model.warnings[:1])
    assert first == extend(CrashInLog, expected, crashes_in_log=2)
    assert first.oom.reason == "errno 105 RHINO_NO_MEM"
    assert newest.oom.failed_sizes == () and "2 time(s)" in newest.oom.reason


def test_two_dumps_give_a_diff_but_no_growth(tmp_path: Path):
    log = tmp_path / "dumps.log"
    log.write_text(DUMP.read_text() * 2)
    data, _ = run_report(log, None)
    assert "growth" not in data                    # site_growth needs three snapshots
    diff = data["diff"]
    assert diff["before"].index == 0 and diff["after"].index == 1
    assert diff["rows_total"] == 0 and diff["totals"].bytes_delta == 0


def test_three_dumps_give_growth_from_site_growth(tmp_path: Path):
    log = tmp_path / "dumps.log"
    log.write_text(DUMP.read_text() * 3)
    data, _ = run_report(log, None)
    assert data["growth_raw"].snapshots == 3
    assert data["growth"]["x"] == [0.0, 1.0, 2.0]
    assert all(s["slope"] == 0 and s["pattern"] == "flat" for s in data["growth"]["sites"])
