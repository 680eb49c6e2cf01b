"""Real crashes (QEMU mps2-an386, Cortex-M4): memsleuth names the cause, function, line, task.

The fixtures (ELF + UART log + expected JSON from arm-none-eabi-addr2line) are committed and
rebuilt by examples/crashes/build.py; the last test reruns that when the toolchain is present.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from schema_helpers import loads_valid

from memsleuth.analysis.crash_context import explain_records
from memsleuth.parse.alios_crash import parse_crash_text
from memsleuth.results.common import to_json


def _json_records(*args, **kwargs):
    """``explain_records`` as the JSON value users get (the result is a frozen dataclass tree)."""
    return [to_json(r) for r in explain_records(*args, **kwargs)]


ROOT = Path(__file__).resolve().parents[2]
QEMU_DIR = ROOT / "tests" / "fixtures" / "crash" / "qemu"
NAMES = sorted(p.name.removesuffix(".expected.json") for p in QEMU_DIR.glob("*.expected.json"))


def _symbolizer(elf: Path):
    from memsleuth.symbols import Symbolizer

    return Symbolizer.open(elf)


def _explain(name: str, records=None) -> dict:
    log = QEMU_DIR / f"{name}.log"
    if records is None:
        from memsleuth.parse import parse_file

        records = list(parse_file(log))
    (r,) = _json_records(records, _symbolizer(QEMU_DIR / f"{name}.elf"))
    return r


def check(r: dict, exp: dict) -> None:
    assert r["arch"] == "cortex-m"
    assert r["cause"]["category"] == exp["category"], r["cause"]
    assert r["fault"]["exc_name"] == exp["exc_name"]
    assert set(exp["bits"]) <= set(r["fault"]["bit_names"])
    if "fault_address" in exp:
        assert r["cause"]["fault_address"] == exp["fault_address"]
    assert r["context"]["in_interrupt"] == exp["in_interrupt"]
    if not exp["in_interrupt"]:
        assert r["context"]["task"] == exp["task"]
    inner = exp["addr2line"][0]
    # the primary label is addr2line's first (innermost) frame: the code that faulted
    assert r["faulting_function"] == inner["function"] == exp["function"]
    f = r["faulting"]
    assert Path(f["file"]).name == Path(inner["file"]).name and f["line"] == inner["line"]
    if len(exp["addr2line"]) > 1:
        # every inline level with its own location, as addr2line -fi prints them
        assert [(g["function"], Path(g["file"]).name, g["line"]) for g in f["inlined"]] == \
            [(g["function"], Path(g["file"]).name, g["line"]) for g in exp["addr2line"]]
    if "heap_owner_function" in exp:
        hit = r["heap"]["hits"][0]
        assert hit["diagnosis"] == "use_after_free"
        assert hit["block"]["owner_function"] == exp["heap_owner_function"]
    assert not r["partial"]


@pytest.mark.parametrize("name", NAMES)
def test_committed_fixture(name: str) -> None:
    exp = json.loads((QEMU_DIR / f"{name}.expected.json").read_text())
    check(_explain(name), exp)


@pytest.mark.parametrize("name", NAMES)
def test_crash_readers_alone(name: str) -> None:
    """The crash reader on its own (without the shared driver) gives the same answer."""
    exp = json.loads((QEMU_DIR / f"{name}.expected.json").read_text())
    if "heap_owner_function" in exp:
        pytest.skip("needs the heap block dump reader")
    text = (QEMU_DIR / f"{name}.log").read_text(errors="replace")
    check(_explain(name, parse_crash_text(text)), exp)


def test_cli_exit_code_and_json() -> None:
    from click.testing import CliRunner

    from memsleuth.cli import main

    name = "cm4_null_deref"
    res = CliRunner().invoke(main, ["crash", str(QEMU_DIR / f"{name}.log"), "--elf",
                                    str(QEMU_DIR / f"{name}.elf"), "--json"])
    assert res.exit_code == 1, res.output
    doc = loads_valid(res.output)
    assert doc["schema"].startswith("memsleuth.crash/")
    crash = doc["crashes"][0]
    assert crash["faulting_function"] == "config_timeout"
    assert crash["faulting_where"].endswith("crash_app.c:82")
    outer = crash["faulting"]["inlined"][1]
    assert (outer["function"], outer["line"]) == ("net_connect_timeout", 88)


TOOLS = ("arm-none-eabi-gcc", "arm-none-eabi-addr2line", "qemu-system-arm")


@pytest.mark.slow
@pytest.mark.skipif(not all(shutil.which(t) for t in TOOLS), reason="needs the cross toolchain")
def test_rebuild_and_rerun(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(ROOT / "examples" / "crashes" / "build.py"),
                    "--out", str(tmp_path)], check=True, capture_output=True, timeout=600)
    from memsleuth.parse import parse_file
    from memsleuth.symbols import Symbolizer

    for name in NAMES:
        exp = json.loads((tmp_path / f"{name}.expected.json").read_text())
        (r,) = _json_records(list(parse_file(tmp_path / f"{name}.log")),
                               Symbolizer.open(tmp_path / f"{name}.elf"))
        check(r, exp)


def test_heuristic_backtrace_when_device_printed_none() -> None:
    """Without `backtrace :` lines, return addresses are recovered from the stack words."""
    name = "cm4_null_deref"
    text = (QEMU_DIR / f"{name}.log").read_text(errors="replace")
    text = "\n".join(ln for ln in text.splitlines() if not ln.startswith("backtrace"))
    (r,) = _json_records(parse_crash_text(text), _symbolizer(QEMU_DIR / f"{name}.elf"))
    cs = r["call_stack"]
    assert cs["source"] == "heuristic"
    assert r["faulting_function"] == "config_timeout"
    assert r["faulting"]["inlined"][1]["function"] == "net_connect_timeout"
    heur = [f["function"] for f in cs["frames"] if f["source"] == "heuristic"]
    assert "run_scenario" in heur or "app_task_entry" in heur
