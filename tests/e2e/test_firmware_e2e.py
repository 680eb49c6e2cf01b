"""End to end: the device agent's C tests, and real firmware built, run and analyzed.

The committed example outputs are checked on every run; rebuilding them needs gcc (host
firmware) or arm-none-eabi-gcc + qemu-system-arm (Cortex-M4), which CI installs. Tests that
need a missing tool skip with the reason.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from schema_helpers import loads_valid

from memsleuth.cli import main
from memsleuth.parse import parse_file

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "wifi_reconnect_leak"
COMMITTED_LOGS = sorted((EXAMPLE / "out").glob("*.log")) + sorted(
    (ROOT / "tests" / "fixtures" / "crash" / "qemu").glob("*.log"))


def need(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")


def census_json(log: Path, elf: Path) -> dict:
    result = CliRunner().invoke(main, ["census", str(log), "--elf", str(elf), "--json"])
    assert result.exit_code == 0, result.output
    return loads_valid(result.stdout)


@pytest.mark.parametrize("log", COMMITTED_LOGS, ids=lambda p: p.name)
def test_agent_output_parses_clean(log: Path) -> None:
    """Whatever the agent prints is read whole: nothing skipped, cut short, or misread."""
    parsed = parse_file(log)
    records = list(parsed)
    stats = parsed.stats
    assert records
    assert stats.skipped_in_sections == 0
    assert stats.partial_sections == 0
    assert stats.reader_errors == 0
    assert stats.decode_errors == 0


def test_agent_host_unit_tests(tmp_path: Path) -> None:
    need("gcc", "make")
    proc = subprocess.run(["make", "-C", str(ROOT / "device"), "test", f"BUILD={tmp_path}"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


def _build_and_run(tmp_path: Path, target: str) -> tuple[Path, Path, dict]:
    """Copy the example and the agent, rebuild one leak run, return (log, elf, facts)."""
    shutil.copytree(ROOT / "device", tmp_path / "device",
                    ignore=shutil.ignore_patterns("build"))
    work = tmp_path / "examples" / "wifi_reconnect_leak"
    shutil.copytree(EXAMPLE, work, ignore=shutil.ignore_patterns("out"))
    goal = f"out/{target}-leak.json"
    proc = subprocess.run(["make", "-C", str(work), goal], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    out = work / "out"
    return (out / f"{target}-leak.log", out / f"{target}-leak.elf",
            json.loads((out / f"{target}-leak.json").read_text()))


def _check_seed_census(log: Path, elf: Path, facts: dict) -> None:
    data = census_json(log, elf)
    assert data["elf_match"]["verdict"] == "ok"
    top = data["rows"][0]
    assert top["object_kind"] == "timer"
    assert top["allocator"] == "krhino_timer_dyn_create"
    assert f"{Path(top['file']).name}:{top['line']}" == facts["leaked_timer_create_line"]
    timers = next(o for o in data["objects"] if o["kind"] == "timer")
    assert timers["blocks"] == facts["live_timers"] >= 900


@pytest.mark.slow
def test_host_firmware_end_to_end(tmp_path: Path) -> None:
    need("gcc", "make", "addr2line")
    _check_seed_census(*_build_and_run(tmp_path, "x86_64"))


@pytest.mark.slow
def test_cortex_m4_firmware_under_qemu_end_to_end(tmp_path: Path) -> None:
    need("arm-none-eabi-gcc", "arm-none-eabi-addr2line", "qemu-system-arm", "make")
    _check_seed_census(*_build_and_run(tmp_path, "cortex-m4"))
