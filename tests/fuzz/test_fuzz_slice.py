"""A small fixed slice of the fuzz campaign (tests/fuzz/campaign.py; figures in its README):
mutated logs through every verb, mutated ELFs through the symbolizer: no traceback, no hang.
The campaign enforces the per-case bound (SIGPROF, CPU time); this test only reads its summary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_fuzz_slice_has_no_traceback_and_no_hang(tmp_path: Path):
    out = tmp_path / "summary.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "fuzz" / "campaign.py"), "--logs", "120",
         "--elfs", "20", "--seed", "2026", "--timeout", "60", "--out", str(out)],
        capture_output=True, text=True, timeout=1800,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    summary = json.loads(out.read_text())
    assert summary["logs_run"] == 120 and summary["elfs_run"] == 20
    assert summary["tracebacks"] == 0 and summary["hangs"] == 0, summary["failures"][:3]
    assert proc.returncode == 0, proc.stderr[-2000:]
