"""The bare-metal newlib port on the real newlib (Debian's arm-none-eabi newlib-nano), QEMU.

device/ports/newlib/qemu/ is a single-threaded stress app with a slow leak, built against the
toolchain's own newlib (nothing fetched) and run under QEMU mps2-an385 with -icount
(deterministic). Checked: the side table leaves newlib's heap as it was (same malloc_stats()
text at every checkpoint, same failure round), the replace mode's cost shows as an earlier
failure, and memsleuth names the leaking line with the right block count at -O0/-Og/-O2/-Os.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from device_helpers import DEVICE, OPT_LEVELS, need

from memsleuth.cli import main

APP = DEVICE / "ports" / "newlib" / "qemu"


def _build(out: Path, opt: str, *variants: str) -> dict[str, str]:
    need("arm-none-eabi-gcc", "arm-none-eabi-addr2line", "qemu-system-arm", "make")
    goals = [str(out / f"newlib-{v}.log") for v in variants]
    proc = subprocess.run(["make", "-C", str(APP), f"OUT={out}", f"OPT={opt}", *goals],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return {v: (out / f"newlib-{v}.log").read_text().replace("\r\n", "\n") for v in variants}


def _fact(log: str, key: str) -> list[str]:
    m = re.search(rf"^\[FACT\] {key} (.*)$", log, re.M)
    assert m, key
    return m[1].split()


@pytest.mark.slow
def test_side_table_leaves_newlib_heap_as_it_was(tmp_path: Path) -> None:
    logs = _build(tmp_path, "-Og", "none", "side", "side2", "replace", "replace2")
    rounds = {v: int(_fact(log, "first_failure_round")[0]) for v, log in logs.items()}
    assert rounds["side"] == rounds["side2"] == rounds["none"] > 100
    assert rounds["replace2"] < rounds["replace"] < rounds["none"]

    def stats(log: str) -> list[str]:
        return re.findall(r"^(?:max system bytes|system bytes    |in use bytes    ) = .*$",
                          log, re.M)

    assert len(stats(logs["none"])) >= 3 * 40
    assert stats(logs["side"]) == stats(logs["none"]) == stats(logs["side2"])


@pytest.mark.slow
@pytest.mark.parametrize("opt", OPT_LEVELS)
def test_memsleuth_names_the_leak_at_every_level(tmp_path: Path, opt: str) -> None:
    log = _build(tmp_path, opt, "side2")["side2"]
    site = _fact(log, "leak session")[0]
    leaked = int(_fact(log, "leak session")[-1])
    result = CliRunner().invoke(main, ["analyze", str(tmp_path / "newlib-side2.log"), "--elf",
                                       str(tmp_path / "newlib-side2.elf"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    top = data["census"]["rows"][0]
    assert f"{Path(top['file']).name}:{top['line']}" == site
    assert top["blocks"] == leaked
    table_lines = re.findall(r"^\[MSAGENT\] side table .*$", log, re.M)
    assert table_lines and all(", 0 table full," in line for line in table_lines)
