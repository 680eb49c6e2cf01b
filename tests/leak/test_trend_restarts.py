"""Two runs in one log (a reboot, or captures appended): the trend is the last run's."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from schema_helpers import loads_valid

from memsleuth.cli import main

OUT = Path(__file__).resolve().parents[2] / "examples" / "wifi_reconnect_leak" / "out"


def test_restarted_cycle_counter_starts_a_new_curve(tmp_path: Path) -> None:
    first = (OUT / "cortex-m4-noleak.log").read_bytes()
    log = tmp_path / "two-runs.log"
    log.write_bytes(first + (OUT / "cortex-m4-leak.log").read_bytes())
    facts = json.loads((OUT / "cortex-m4-leak.json").read_text())
    result = CliRunner().invoke(main, ["trend", str(log), "--json"])
    trend = loads_valid(result.stdout)
    assert trend["classification"] == "steady_leak"
    assert trend["points"] == facts["mscycle_markers"]
    assert any("restarted 1 time" in note for note in trend["notes"])
    assert trend["observed_failure"]["cycle"] == facts["failed_cycle"]
