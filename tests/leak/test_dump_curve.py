"""A log of periodic block dumps and nothing else (no overview of its own, no cycle
markers: what `monitor --send "dumpsys mm_info" --every 30s` captures) has a heap curve: the
statistics printed inside each dump, one point per dump. `check` judges that curve and the
dumps' site growth together; `monitor` reads what it held when the capture ends.

The logs come from a host program built with the device agent and run here
(periodic_dumps/periodic_dumps.c); the expected figures are read from the log text itself.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from memsleuth.cli import main

ROOT = Path(__file__).resolve().parents[2]
SOURCE = Path(__file__).parent / "periodic_dumps" / "periodic_dumps.c"
#: the FreeSz column of the [HEAP] row each dump prints (TotalSz, FreeSz, UsedSz, ...)
_HEAP_ROW = re.compile(r"^\s*\|\s*0x[0-9A-F]+\s*\|\s*0x([0-9A-F]+)\s*\|", re.M)


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc")
    out = tmp_path_factory.mktemp("periodic") / "periodic_dumps"
    subprocess.run(["gcc", "-std=gnu99", "-g", "-O1", "-fno-pie", "-no-pie",
                    f"-I{ROOT / 'device'}", "-o", str(out), str(SOURCE),
                    str(ROOT / "device" / "memsleuth_agent.c")],
                   check=True, capture_output=True, timeout=120)
    return out


def run_log(program: Path, tmp: Path, mode: str, rounds: int) -> Path:
    log = tmp / f"{mode}-{rounds}.log"
    log.write_bytes(subprocess.run([str(program), mode, str(rounds)], check=True,
                                   capture_output=True, timeout=60).stdout)
    return log


def invoke(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, [*args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def leak_line() -> int:
    return next(i for i, text in enumerate(SOURCE.read_text().splitlines(), 1)
                if "LEAK_SITE" in text)


def test_the_curve_is_the_statistics_inside_the_dumps(program: Path, tmp_path: Path) -> None:
    log = run_log(program, tmp_path, "leak", 14)
    printed = [int(v, 16) for v in _HEAP_ROW.findall(log.read_text())]
    assert len(printed) == 14
    code, trend = invoke("trend", str(log))
    assert trend["rows_from"] == "block_dumps"
    assert [p["free"] for p in trend["series"]] == printed
    steps = {a - b for a, b in zip(printed, printed[1:], strict=False)}
    assert len(steps) == 1          # the program keeps the same block every round
    assert trend["fit"]["slope"] == pytest.approx(-steps.pop())
    assert trend["evidence"]["unit"] == "B/dump"
    assert code == (3 if trend["classification"] == "insufficient" else 0)


def test_check_names_the_growing_site_of_a_dumps_only_log(program: Path,
                                                        tmp_path: Path) -> None:
    log = run_log(program, tmp_path, "leak", 14)
    code, doc = invoke("check", str(log), "--elf", str(program))
    assert code == 1
    verdict = doc["verdict"]
    assert verdict["inputs"] == {"trend": True, "objects": False, "growth": True}
    growth = [f for f in verdict["findings"] if f["kind"] == "steady_growth"]
    assert len(growth) == 1 and growth[0]["value"] == 48.0
    assert f"periodic_dumps.c:{leak_line()}" in growth[0]["message"]


def test_a_balanced_dumps_only_log_is_clean_and_says_why(program: Path,
                                                         tmp_path: Path) -> None:
    log = run_log(program, tmp_path, "none", 14)
    code, doc = invoke("check", str(log))
    assert code == 0
    reason = doc["verdict"]["reason"]
    assert reason.startswith("clean: heap: no leak")
    assert "14 block dumps" in reason


def test_too_few_dumps_for_a_curve_leave_the_growth_to_judge(program: Path,
                                                            tmp_path: Path) -> None:
    log = run_log(program, tmp_path, "leak", 2)
    code, doc = invoke("check", str(log))
    assert code == 3
    assert doc["verdict"]["reason"] == ("cannot judge: only 2 block dumps, too few to show "
                                        "growth (3 needed)")


def test_monitor_reads_a_short_capture_it_held_and_alerts(program: Path,
                                                          tmp_path: Path) -> None:
    """Lines are held while the round marker is undecided; a capture that ends first (a
    short run, Ctrl-C) must still be read: before, it ended "waiting for heap overviews"."""
    log = run_log(program, tmp_path, "leak", 6)
    cmd = (f"{sys.executable} -c \"import sys; sys.stdout.buffer.write(open(sys.argv[1], 'rb')"
           f".read())\" {log}")
    code, doc = invoke("monitor", "--cmd", cmd, "--log-dir", str(tmp_path / "cap"))
    assert doc["ended"] == "eof"
    assert doc["status"]["points"] == 6
    assert [a["kind"] for a in doc["alerts"]] == ["leak"]
    assert code == 1
    # the raw capture holds every byte that arrived
    assert Path(doc["capture_files"][0]).read_bytes() == log.read_bytes()
