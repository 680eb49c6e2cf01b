"""Every log verb gives the same answer whichever way the log is read: the C scanner (object
events in bulk, tables read in C), the pure-Python scanner (MEMSLEUTH_ACCEL=0) and the line
path (MEMSLEUTH_FAST=0). Compared as whole JSON outputs and exit codes, on the bundled runs
and on runs appended to one another (counter restarts: records held while a restart waits
for its evidence, object events among them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from parse_helpers import paths_agree

ROOT = Path(__file__).resolve().parents[2]
LOGS = sorted((ROOT / "examples").rglob("out/*.log"))
VERBS = ["trend", "analyze", "check", "objects"]


@pytest.mark.parametrize("log", LOGS, ids=lambda p: str(p.relative_to(ROOT / "examples")))
@pytest.mark.parametrize("verb", VERBS)
def test_bundled_runs(verb: str, log: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths_agree(verb, log, monkeypatch)


@pytest.mark.parametrize("verb", VERBS)
def test_appended_runs(verb: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runs = ROOT / "examples" / "wifi_reconnect_leak" / "out"
    log = tmp_path / "appended.log"
    log.write_bytes(b"".join((runs / f"cortex-m4-{s}.log").read_bytes()
                             for s in ("leak", "noleak", "burst", "leak")))
    paths_agree(verb, log, monkeypatch)
