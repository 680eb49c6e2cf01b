"""A fixed slice of the differential campaign (tests/fuzz/differential.py): on mutated logs the
C scanner, pure Python and the line path give trend, analyze, check and objects the same
exit code and JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_reading_paths_agree_on_mutated_logs(tmp_path: Path) -> None:
    out = tmp_path / "summary.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "fuzz" / "differential.py"), "--logs", "80",
         "--seed", "2026", "--out", str(out)],
        capture_output=True, text=True, timeout=1800,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    summary = json.loads(out.read_text())
    assert summary["logs_run"] == 80
    assert summary["differences"] == 0, summary["cases"][:3]
    assert proc.returncode == 0, proc.stderr[-2000:]
