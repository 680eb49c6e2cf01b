"""Live = offline (issue 10, item 6): every example capture replayed through the monitor
ends with the status ``analyze --json`` gives for the same file, field by field.

The monitor folds the offline accumulators (analysis.check.Accumulators) and the model's
heap bookkeeping, so nothing here is a tolerance: equal means equal.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_monitor_engine import ListSource

from memsleuth.cli import main
from memsleuth.live.decoder import AddressDecoder
from memsleuth.live.engine import Display, Monitor
from memsleuth.live.scan import LiveScanner
from memsleuth.parse.cycles import CycleDetector
from memsleuth.results.common import to_json
from memsleuth.sources.capture import CaptureWriter

ROOT = Path(__file__).resolve().parents[2]
LOGS = sorted((ROOT / "examples" / "wifi_reconnect_leak" / "out").glob("*.log"))


def _live(log: Path, tmp_path: Path) -> dict:
    data = log.read_bytes()
    parts: list[bytes | None] = [data[i:i + 8192] for i in range(0, len(data), 8192)]
    # as `memsleuth monitor` without --cycle-pattern: the round marker is detected
    mon = Monitor(ListSource(parts), CaptureWriter(tmp_path, stamp="t"), AddressDecoder(None),
                  Display(io.StringIO(), io.StringIO(), tty=False, status_every=0), poll=0.0,
                  scanner=LiveScanner(detector=CycleDetector()))
    return to_json(mon.run().status)     # as the --json summary prints it


def _offline(log: Path) -> dict:
    res = CliRunner().invoke(main, ["analyze", str(log), "--json"])
    doc = json.loads(res.stdout)
    heap, leak = doc["heap"] or {}, doc["leak"]
    trend = leak.get("trend") or {}
    fit = trend.get("fit") or {}
    ex = (trend.get("forecast") or {}).get("exhaustion")
    return {
        "free": heap.get("free"), "total": heap.get("total"), "min_free": heap.get("min_free"),
        "lowest_free": heap.get("lowest_free"),
        "points": trend.get("points"), "classification": trend.get("classification"),
        "leak_rate": round(-fit["slope"], 1) if fit.get("slope") is not None else None,
        "leak_rate_ci": ([round(-fit["slope_high"], 1), round(-fit["slope_low"], 1)]
                         if fit.get("slope_high") is not None else None),
        "forecast_exhaustion": round(ex["at"], 1) if ex and ex.get("at") is not None
        else None,
        "forecast_level": ex["level"] if ex else None,
        "objects": {k["kind"]: k["alive"] for k in (leak.get("objects") or {}).get("kinds")
                    or []},
        "verdict": {"leak": leak["verdict"]["leak"], "exit_code": leak["verdict"]["exit_code"]},
    }


@pytest.mark.parametrize("log", LOGS, ids=lambda p: p.stem)
def test_final_live_status_equals_analyze(log: Path, tmp_path: Path):
    live, offline = _live(log, tmp_path), _offline(log)
    diff = {k: (live.get(k), v) for k, v in offline.items() if live.get(k) != v}
    assert not diff, diff


def test_a_noleak_run_then_a_leak_run_forecasts_like_offline(tmp_path: Path):
    """The issue's capture: offline restarts at the counter reset; live must too."""
    out = ROOT / "examples" / "wifi_reconnect_leak" / "out"
    both = tmp_path / "both.log"
    both.write_bytes((out / "cortex-m4-noleak.log").read_bytes()
                     + (out / "cortex-m4-leak.log").read_bytes())
    live, offline = _live(both, tmp_path / "cap"), _offline(both)
    assert offline["forecast_exhaustion"] is not None
    for key in ("forecast_exhaustion", "forecast_level", "free", "objects", "points"):
        assert live[key] == offline[key], key


def test_only_address_columns_and_full_width_tokens_are_decoded():
    from memsleuth.symbols import Symbolizer

    elf = ROOT / "examples" / "wifi_reconnect_leak" / "out" / "cortex-m4-leak.elf"
    sym = Symbolizer.open(elf, use_cache=False, engine="python")
    dec = AddressDecoder(sym)
    fn = sym.functions_matching("ms_vprintf")[0]
    short = f"0x{fn[1] + 2:x}"                  # inside code, but printed as a bare number
    assert len(short) - 2 < dec.width
    full = f"0x{fn[1] + 2:08x}"
    out = dec.decode([f"freelist bitmap: {short}", f"jump to {full}",
                      f"PC      {full.upper().replace('X', 'x')}"])
    assert out[0] == f"freelist bitmap: {short}"           # a number, left alone
    assert "[ms_vprintf" in out[1] and "[ms_vprintf" in out[2]


def test_monitor_takes_the_offline_analysis_options(tmp_path: Path):
    import os
    import re
    import subprocess
    import sys

    src = ROOT / "examples" / "wifi_reconnect_leak" / "out" / "x86_64-leak.log"
    log = tmp_path / "rounds.log"
    log.write_text(re.sub(r"\[MSCYCLE\] (\d+)", r"=== round \1 ===", src.read_text()))
    pattern = r"=== round (\d+) ==="
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run(
        [sys.executable, "-m", "memsleuth", "monitor", "--cmd", f"cat {log}", "--no-input",
         "--log-dir", str(tmp_path / "cap"), "--json", "--cycle-pattern", pattern,
         "--grace", "1", "--max-leak-rate", "0", "--max-imbalance", "0"],
        capture_output=True, timeout=600, env=env)
    live = json.loads(proc.stdout)["status"]
    res = CliRunner().invoke(main, ["analyze", str(log), "--json", "--cycle-pattern", pattern])
    offline = json.loads(res.stdout)["leak"]["trend"]
    assert live["cycle"] == offline["last"]["cycle"] == 913
    assert live["points"] == offline["points"]
    assert live["forecast_exhaustion"] == round(offline["forecast"]["exhaustion"]["at"], 1)


# Round markers in the firmware's own words ("[stress] round N/2000", "reconnect N"): the
# monitor finds them with the offline verbs' detector (parse.cycles), so its per-cycle rate,
# points and forecast are analyze's, not per overview.
UNDECLARED = [ROOT / "examples" / "vendor_stress" / "out" / "cortex-m4-leak.log",
              ROOT / "examples" / "vendor_stress" / "out" / "x86_64-frag.log",
              ROOT / "examples" / "rtos_formats" / "out" / "freertos_host.log"]


@pytest.mark.parametrize("log", UNDECLARED, ids=lambda p: p.stem)
def test_undeclared_round_markers_give_live_the_offline_cycles(log: Path, tmp_path: Path):
    live, offline = _live(log, tmp_path), _offline(log)
    doc = json.loads(CliRunner().invoke(main, ["analyze", str(log), "--json"]).stdout)
    assert (doc["leak"]["trend"] or {}).get("x") == "cycle"          # offline: by cycle
    diff = {k: (live.get(k), v) for k, v in offline.items() if live.get(k) != v}
    assert not diff, diff
