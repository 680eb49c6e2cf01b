"""Real heap crashes (QEMU mps2-an386, Cortex-M4, agent heap): overflow and out of memory.

Fixtures in tests/fixtures/crash/qemu/heap/ are built by examples/crashes/build.py (the
HEAP_SCENARIOS); the truth in ``*.expected.json`` comes from arm-none-eabi-addr2line and from
the agent's block dump as printed in the log, not from memsleuth. The last test rebuilds and
reruns them when the cross toolchain is present.
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
from memsleuth.parse import parse_file
from memsleuth.results.common import to_json
from memsleuth.symbols import Symbolizer


def _json_records(*args, **kwargs):
    """``explain_records`` as the JSON value users get (the result is a frozen dataclass tree)."""
    return [to_json(r) for r in explain_records(*args, **kwargs)]


ROOT = Path(__file__).resolve().parents[2]
HEAP_DIR = ROOT / "tests" / "fixtures" / "crash" / "qemu" / "heap"
NAMES = ("cm4_heap_overflow", "cm4_heap_oom")


def _explain(d: Path, name: str) -> dict:
    (r,) = _json_records(list(parse_file(d / f"{name}.log")),
                           Symbolizer.open(d / f"{name}.elf"))
    return r


def _expected(d: Path, name: str) -> dict:
    return json.loads((d / f"{name}.expected.json").read_text())


def _site(where: str | None) -> tuple[str, int] | None:
    """'./examples/crashes/fw/crash_app.c:192' -> ('crash_app.c', 192)."""
    if not where:
        return None
    file, _, line = where.rpartition(":")
    return Path(file).name, int(line)


def check_faulting(r: dict, exp: dict) -> None:
    """Faulting function and line as addr2line says, and the crashed task."""
    inner, outer = exp["addr2line"][0], exp["addr2line"][-1]
    assert outer["function"] == exp["function"]
    assert r["faulting_function"] == exp["function"]
    f = r["faulting"]
    assert f["address"] == exp["address"]
    assert (Path(f["file"]).name, f["line"]) == (Path(inner["file"]).name, inner["line"])
    assert r["context"]["in_interrupt"] is exp["in_interrupt"]
    assert r["context"]["task"] == exp["task"]
    assert not r["partial"], r["partial_reason"]


def check_overflow(r: dict, exp: dict) -> None:
    assert r["kind"] == "exception" and r["arch"] == "cortex-m"
    assert r["cause"]["category"] == exp["category"] == "heap_overflow", r["cause"]
    assert r["fault"]["exc_name"] == exp["exc_name"]
    assert set(exp["bits"]) <= set(r["fault"]["bit_names"])
    check_faulting(r, exp)
    ovf, dmg = exp["overflow_block"], exp["damaged_block"]
    assert "overflow into the next block" in r["cause"]["summary"]
    # the summary names the overflowing block's allocation site
    assert ovf["function"] in r["cause"]["summary"]
    assert f"{Path(ovf['file']).name}:{ovf['line']}" in r["cause"]["summary"]
    hits = [h for h in r["heap"]["hits"] if h["diagnosis"] == "overflow"]
    assert hits, r["heap"]["hits"]
    h = hits[0]
    # the neighbour: the block whose header was overwritten, which the crashing code used
    assert h["block"]["addr"] == dmg["addr"] and h["block"]["corrupted"]
    assert h["via"].startswith("R") and h["part"] == "payload"
    # the overflowing block: the one right before it, with its owner and allocation line
    c = h["culprit"]
    assert c["addr"] == ovf["addr"] and c["size"] == ovf["size"] and c["owner"] == ovf["owner"]
    assert c["used"] and not c["corrupted"]
    assert c["owner_function"] == ovf["function"] == exp["overflow_owner_function"]
    assert _site(c["owner_where"]) == _site(ovf["where"])
    assert dmg["addr"] in [b["addr"] for b in r["heap"]["corrupted_blocks"]]


def check_oom(r: dict, exp: dict) -> None:
    assert r["kind"] == exp["kind"] == "fatal_error"
    assert r["cause"]["category"] == exp["category"] == "out_of_memory", r["cause"]
    assert r["errno"]["value"] == exp["errno"] == 105
    assert r["errno"]["name"] == "RHINO_NO_MEM"
    check_faulting(r, exp)
    oom = r["oom"]
    assert oom is not None and "105" in oom["reason"]
    assert oom["failed_sizes"] == [exp["failed_size"]]
    got, want = oom["top_owners"], exp["top_owners"]
    # the leaking site first, then the others in the same order, with their call lines
    assert got[0]["function"] == exp["top_owner_function"] == want[0]["function"]
    for g, w in zip(got, want, strict=False):
        assert (g["owner"], g["count"], g["total"]) == (w["owner"], w["count"], w["total"])
        assert g["function"] == w["function"]
        assert _site(g["where"]) == _site(w["where"])
    assert got[0]["total"] > sum(g["total"] for g in got[1:])
    # the leaking function is on the call stack, below the allocator
    funcs = [f["function"] for f in r["call_stack"]["frames"]]
    assert exp["top_owner_function"] in funcs
    assert funcs.index("ms_malloc") < funcs.index(exp["top_owner_function"])


CHECKS = {"cm4_heap_overflow": check_overflow, "cm4_heap_oom": check_oom}


@pytest.mark.parametrize("name", NAMES)
def test_committed_heap_fixture(name: str) -> None:
    CHECKS[name](_explain(HEAP_DIR, name), _expected(HEAP_DIR, name))


@pytest.mark.parametrize("name", NAMES)
def test_heap_logs_are_small(name: str) -> None:
    assert (HEAP_DIR / f"{name}.log").stat().st_size < 200_000


def test_overflow_dump_precedes_the_crash() -> None:
    """The agent's own check printed the warning and the block dump before the exception."""
    text = (HEAP_DIR / "cm4_heap_overflow.log").read_text(errors="replace")
    exp = _expected(HEAP_DIR, "cm4_heap_overflow")
    warn = text.index("WARNING, memory overwritten!!")
    dump = text.index("ALL BLOCKS")
    crash = text.index("Exception")
    assert warn < dump < crash
    assert f"0x{exp['damaged_block']['addr']:08x} !used" in text


def test_cli_text_names_the_overflow() -> None:
    from click.testing import CliRunner

    from memsleuth.cli import main

    name = "cm4_heap_overflow"
    res = CliRunner().invoke(main, ["crash", str(HEAP_DIR / f"{name}.log"), "--elf",
                                    str(HEAP_DIR / f"{name}.elf")])
    assert res.exit_code == 1, res.output
    assert "[heap_overflow]" in res.output
    assert "overflow into the next block" in res.output
    assert "rx_frame_alloc" in res.output and "retry_timer_expire" in res.output


def test_cli_json_oom() -> None:
    from click.testing import CliRunner

    from memsleuth.cli import main

    name = "cm4_heap_oom"
    res = CliRunner().invoke(main, ["crash", str(HEAP_DIR / f"{name}.log"), "--elf",
                                    str(HEAP_DIR / f"{name}.elf"), "--json"])
    assert res.exit_code == 1, res.output
    c = loads_valid(res.output)["crashes"][0]
    assert c["cause"]["category"] == "out_of_memory"
    assert c["oom"]["top_owners"][0]["function"] == "telemetry_record"


TOOLS = ("arm-none-eabi-gcc", "arm-none-eabi-addr2line", "qemu-system-arm")


@pytest.mark.slow
@pytest.mark.skipif(not all(shutil.which(t) for t in TOOLS), reason="needs the cross toolchain")
def test_rebuild_and_rerun_heap(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(ROOT / "examples" / "crashes" / "build.py"),
                    "--out", str(tmp_path), "--only", *NAMES],
                   check=True, capture_output=True, timeout=600)
    out = tmp_path / "heap"
    for name in NAMES:
        exp = _expected(out, name)
        CHECKS[name](_explain(out, name), exp)
        # same program, same truth as the committed fixture
        committed = _expected(HEAP_DIR, name)
        for key in ("function", "where", "overflow_block", "top_owners"):
            assert exp.get(key) == committed.get(key), key
