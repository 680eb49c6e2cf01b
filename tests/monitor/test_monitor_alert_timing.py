"""The live leak alert fires when the offline verdict first says leak, not 32 points later.

The monitor recomputes ``check``'s report on every point while the series is short; the
trend's change-point model spends its error rate over repeated looks, so the alert needs no
floor of its own. Checked on the real example runs: the alert comes as cycle N completes,
where N is the first prefix ``trend --upto N`` calls a steady leak; the runs that do not leak
(noleak, burst, the wifi frag run) raise no leak alert at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from memsleuth.cli import main

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "examples" / "wifi_reconnect_leak" / "out"
LEAKS = [OUT / "cortex-m4-leak.log", ROOT / "examples" / "vendor_stress" / "out" /
         "x86_64-leak.log"]
CLEAN = [OUT / f"{a}-{k}.log" for a in ("cortex-m4", "x86_64") for k in ("noleak", "burst",
                                                                            "frag")]


def _alerts(log: Path, tmp: Path) -> list[dict]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run(
        [sys.executable, "-m", "memsleuth", "monitor", "--cmd", f"cat {log}", "--no-input",
         "--log-dir", str(tmp / "cap"), "--json"],
        capture_output=True, timeout=600, env=env)
    return json.loads(proc.stdout)["alerts"]


def _first_offline_leak(log: Path, upto: int) -> int | None:
    runner = CliRunner()
    for n in range(6, upto + 1):
        out = runner.invoke(main, ["trend", str(log), "--upto", str(n), "--json"]).stdout
        if json.loads(out)["classification"] == "steady_leak":
            return n
    return None


@pytest.mark.parametrize("log", LEAKS, ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_leak_alert_comes_as_the_offline_verdict_does(log: Path, tmp_path: Path) -> None:
    leak = [a for a in _alerts(log, tmp_path) if a["kind"] == "leak"]
    assert len(leak) == 1
    first = _first_offline_leak(log, leak[0]["cycle"])
    assert first is not None and leak[0]["cycle"] == first + 1


@pytest.mark.parametrize("log", CLEAN, ids=lambda p: p.stem)
def test_no_leak_alert_on_runs_that_do_not_leak(log: Path, tmp_path: Path) -> None:
    assert not [a for a in _alerts(log, tmp_path) if a["kind"] == "leak"]
