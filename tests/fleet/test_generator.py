"""The fleet generator rebuilt from source: a small fleet (one QEMU board, one host device)
that runs, ingests cleanly, and whose answers follow what each run was told to do."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fleet_helpers import PATTERN

from memsleuth.fleet.extract import Options
from memsleuth.fleet.identity import PathPattern
from memsleuth.fleet.ingest import collect_logs, ingest
from memsleuth.fleet.queries import answer

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_generated_fleet_from_source(tmp_path: Path):
    missing = [t for t in ("gcc", "arm-none-eabi-gcc", "qemu-system-arm") if not shutil.which(t)]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")
    out = tmp_path / "fleet"
    subprocess.run([sys.executable, str(ROOT / "examples" / "fleet" / "generate.py"), str(out),
                    "--devices", "5", "--stop-at", "80", "--jobs", "2"],
                   check=True, capture_output=True, timeout=600)
    runs = json.loads((out / "truth.json").read_text())["runs"]
    assert len(runs) == 10 and {r["target"] for r in runs} == {"x86_64", "cortex-m4"}
    result = ingest(collect_logs([out / "logs"]), tmp_path / "store",
                    Options(PathPattern.compile(PATTERN)), out / "symbols", jobs=2)
    assert {r["status"] for r in result.logs} == {"ok"}
    fleet = answer(tmp_path / "store")
    leaking = {r["device"] for r in runs if r["release"] != "fw-1.2"
               and r["params"]["leak_pct"] > 0}
    top = [s for s in fleet["leak_sites"] if s["function"] == "wifi_connect"]
    assert (top[0]["devices"] if top else 0) == len(leaking)
    crashed = sum(1 for r in runs if r["params"].get("crash_kind"))
    assert crashed                                  # dev-0004 faults on both dates
    assert sum(s["crashes"] for s in fleet["crash_signatures"]) == crashed
