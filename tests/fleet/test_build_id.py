"""The build a log prints ([MSBUILD] <GNU build-id>, device/memsleuth_build_id.c) carries
through ingest: the rows name that build, the symbol store finds the ELF by its build-id note
whatever the file is called, and a log whose build has no ELF is recorded as partial.

Real logs and ELFs: the Cortex-M4 crash firmware run under QEMU (tests/fixtures/crash/qemu,
rebuilt by examples/crashes), each log printing its ELF's build-id on its first line.
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
from memsleuth.fleet.queries import run_sql

QEMU = Path(__file__).resolve().parents[1] / "fixtures" / "crash" / "qemu"
#: device -> firmware run; the last one's ELF is left out of the symbol store
RUNS = {"dev-a": "cm4_null_deref", "dev-b": "cm4_wild_busfault", "dev-c": "cm4_stack_overflow"}


def _build_id(elf: Path) -> str:
    """The GNU build-id as binutils reads it (independent of memsleuth's ELF reader)."""
    out = subprocess.run(["readelf", "-n", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    return next(line.split(":", 1)[1].strip() for line in out.splitlines()
                if "Build ID:" in line)


@pytest.mark.skipif(shutil.which("readelf") is None, reason="binutils readelf missing")
def test_build_id_printed_by_the_agent_finds_the_elf(tmp_path):
    logs, symbols = tmp_path / "logs", tmp_path / "symbols"
    # ELFs under names that say nothing about the build: only the build-id can find them
    for i, run in enumerate(list(RUNS.values())[:2]):
        dest = symbols / f"release-{i}" / ("firmware.elf" if i == 0 else "image")
        dest.parent.mkdir(parents=True)
        shutil.copy(QEMU / f"{run}.elf", dest)
    for device, run in RUNS.items():
        (logs / device).mkdir(parents=True)
        shutil.copy(QEMU / f"{run}.log", logs / device / "2026-11-01.log")
    store = tmp_path / "store"
    result = CliRunner().invoke(main, [
        "ingest", str(logs), "--out", str(store), "--symbols", str(symbols),
        "--device-from", "{device}/{date}.log", "--build", "fw-from-flag", "--json"])
    assert result.exit_code == 4, result.output             # one log's ELF is missing
    out = loads_valid(result.output)
    assert out["counts"] == {"ok": 2, "partial": 1}

    rows = {r["device"]: r for r in run_sql(store, "SELECT * FROM logs")}
    crashes = {r["device"]: r for r in run_sql(store, "SELECT * FROM crashes")}
    for device, run in RUNS.items():
        build = _build_id(QEMU / f"{run}.elf")
        expected = json.loads((QEMU / f"{run}.expected.json").read_text())
        row = rows[device]
        # the log's own build line wins over the --build flag
        assert (row["build"], row["build_source"], row["build_printed"]) == \
            (build, "log", build)
        crash = crashes[device]
        assert crash["build"] == build and crash["category"] == expected["category"]
        if device == "dev-c":
            assert row["status"] == "partial" and row["elf"] is None
            assert f"no ELF for build {build}" in row["reason"]
            assert not crash["symbolized"]
            continue
        assert row["status"] == "ok" and Path(row["elf"]).parent.name.startswith("release-")
        assert _build_id(Path(row["elf"])) == build
        # symbolized through the ELF the build-id found: the faulting function of the
        # recorded addr2line run leads the signature
        assert crash["symbolized"]
        assert crash["frames"][0].split(" < ")[0] == expected["function"]
