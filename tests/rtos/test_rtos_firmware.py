"""Firmware that really ran prints each RTOS' formats; every verb finds the known truth.

The truth (examples/rtos_formats/out/<name>.json) comes from the sources' marked lines and
addr2line (build.py), never from memsleuth. The slow test rebuilds and reruns them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from schema_helpers import loads_valid

from memsleuth.cli import main

EX = Path(__file__).resolve().parents[2] / "examples" / "rtos_formats"
OUT = EX / "out"
NAMES = ["espidf_host", "freertos_host", "zephyr_cm4", "nuttx_cm4"]


def truth(name: str) -> dict:
    return json.loads((OUT / f"{name}.json").read_text())


def run(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, [*args, "--json"])
    return result.exit_code, loads_valid(result.stdout)


@pytest.mark.parametrize("name", NAMES)
def test_analyze_names_the_family(name: str):
    t = truth(name)
    code, doc = run("analyze", str(OUT / f"{name}.log"), "--elf", str(OUT / f"{name}.elf"))
    assert code == 0
    assert list(doc["contents"]["families"]) == [t["family"]]


@pytest.mark.parametrize("name", NAMES)
def test_trend_finds_the_leak_rate(name: str):
    t = truth(name)
    code, doc = run("trend", str(OUT / f"{name}.log"))
    assert code == 0 and doc["classification"] == "steady_leak"
    # one heap print per reconnect (plus the one before): slope = -(session + block header)
    assert doc["fit"]["slope"] == pytest.approx(-t["leak_per_cycle"], abs=0.5)
    # by index: the print before the first reconnect too; by detected 'reconnect N' cycles
    # (FreeRTOS example), that first print comes before any cycle and is left out
    assert doc["points"] == (t["cycles"] if doc["x"] == "cycle" else t["cycles"] + 1)


@pytest.mark.parametrize("name", ["espidf_host", "nuttx_cm4"])
def test_census_blames_the_leak_site(name: str):
    t = truth(name)
    code, doc = run("census", str(OUT / f"{name}.log"), "--elf", str(OUT / f"{name}.elf"))
    assert code == 0
    top = doc["rows"][0]
    site = t["leak_site"]
    assert top["function"] == site["function"] and top["line"] == site["line"]
    assert Path(top["file"]).name == site["file"]
    assert top["blocks"] == t["cycles"]        # one leaked session per reconnect
    assert doc["rows_total"] == 1              # the freed buffers are gone


def test_zephyr_chunk_dump_has_the_leaked_chunks():
    t = truth("zephyr_cm4")
    code, doc = run("census", str(OUT / "zephyr_cm4.log"))
    assert code == 0
    [row] = doc["rows"]        # Zephyr records no owner: one 'unknown' row
    # every session is one chunk of session + header bytes (the heap's own header excluded)
    assert row["blocks"] == t["cycles"] and row["bytes"] == t["cycles"] * t["leak_per_cycle"]


@pytest.mark.parametrize("name", ["espidf_host", "zephyr_cm4", "nuttx_cm4"])
def test_crash_gives_the_known_cause_and_site(name: str):
    t = truth(name)
    want = t["crash"]
    code, doc = run("crash", str(OUT / f"{name}.log"), "--elf", str(OUT / f"{name}.elf"))
    assert code == 1
    [c] = doc["crashes"]
    assert c["family"] == t["family"] and c["cause"]["category"] == want["category"]
    assert c["faulting_function"] == want["function"] == want["addr2line"]["function"]
    assert c["faulting_where"].endswith(f"{want['file']}:{want['line']}")
    if "fault_address" in want:
        assert c["cause"]["fault_address"] == want["fault_address"]


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_rebuild_gives_the_same_truth(name: str, tmp_path: Path):
    target = truth(name)["target"]
    needed = ["gcc"] if target == "x86_64" else ["arm-none-eabi-gcc", "qemu-system-arm"]
    if any(shutil.which(t) is None for t in needed):
        pytest.skip(f"needs {' '.join(needed)}")
    subprocess.run([sys.executable, str(EX / "build.py"), "--out", str(tmp_path), "--only",
                    name], check=True)
    fresh = json.loads((tmp_path / f"{name}.json").read_text())
    old = truth(name)
    for key in ("cycles", "leak_per_cycle", "leak_site", "exit_code"):
        assert fresh[key] == old[key]
    if "crash" in old:
        assert fresh["crash"]["addr2line"] == old["crash"]["addr2line"]
    code, doc = run("trend", str(tmp_path / f"{name}.log"))
    assert doc["fit"]["slope"] == pytest.approx(-fresh["leak_per_cycle"], abs=0.5)
