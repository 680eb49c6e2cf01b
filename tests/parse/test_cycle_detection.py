"""Round markers and hand-added object prints are found without configuration (issue 9).

The logs are the seed firmware's real output (examples/wifi_reconnect_leak, leak scenario)
with its ``[MSCYCLE]``/``[MSOBJ]`` lines rewritten the way other firmware prints them; the
truth (cycles run, timers leaked per cycle) is what that firmware printed in its [FACT] lines.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from memsleuth.cli import main
from memsleuth.parse import detect_cycles
from memsleuth.parse.agent import AutoObjectReader

OUT = Path(__file__).resolve().parents[2] / "examples" / "wifi_reconnect_leak" / "out"
LEAK = OUT / "x86_64-leak.log"
FACTS = json.loads((OUT / "x86_64-leak.json").read_text())
REAL = Path("/work/shared/corpus/real")

MARKERS = {
    "---- reconnect cycle {n} ----": "---- reconnect cycle N ----",
    "cycle {n}": "cycle N",
    "[stress] round {n}/1000": "[stress] round N/1000",
    "loop={n}": "loop=N",
    "iter {n} free={free}": "iter N free=#",
}


def rewrite(tmp_path: Path, marker: str, *, obj: str | None = None, noise: bool = False,
            stamp: bool = False) -> Path:
    """The leak log with its markers (and optionally object lines) in another wording."""
    out = []
    for i, line in enumerate(LEAK.read_text().splitlines()):
        m = re.match(r"\[MSCYCLE\] (\d+)", line)
        if m:
            n = int(m[1])
            line = marker.format(n=n, free=100_000 - 89 * n)
            if noise:     # a per-allocation counter: many lines per cycle, +1 each
                out += [f"net: pkt #{n * 5 + k} sent" for k in range(5)]
        m2 = re.match(r"\[MSOBJ\] (create|delete) (\w+) 0x0*([0-9a-f]+) caller 0x0*([0-9a-f]+)",
                      line)
        if obj and m2:
            line = obj.format(op=m2[1], kind=m2[2], h=m2[3], c=m2[4])
        out.append(f"[{i * 0.01:10.3f}] {line}" if stamp else line)
    path = tmp_path / "rewritten.log"
    path.write_text("\n".join(out) + "\n")
    return path


@pytest.mark.parametrize("marker", sorted(MARKERS))
def test_round_marker_wordings_are_detected(tmp_path: Path, marker: str) -> None:
    log = rewrite(tmp_path, marker, noise=True, stamp=True)
    found = detect_cycles(log)
    assert found is not None and found.template == MARKERS[marker]
    trend = json.loads(CliRunner().invoke(main, ["trend", str(log), "--json"]).stdout)
    assert trend["x"] == "cycle"
    assert trend["points"] == FACTS["mscycle_markers"]
    assert trend["observed_failure"]["cycle"] == FACTS["failed_cycle"]
    assert any(f"cycles from `{MARKERS[marker]}` (detected), {FACTS['mscycle_markers']} found"
               in note for note in trend["notes"])


def test_cycle_pattern_still_overrides(tmp_path: Path) -> None:
    log = rewrite(tmp_path, "cycle {n}", noise=True)
    res = CliRunner().invoke(main, ["trend", str(log), "--json",
                                    "--cycle-pattern", r"pkt #(\d+) sent"])
    trend = json.loads(res.stdout)
    assert trend["points_available"] == 5 * FACTS["mscycle_markers"]
    assert trend["cycle_source"]["how"] == "option"


def test_no_marker_is_invented_on_real_device_output() -> None:
    logs = sorted(REAL.glob("*.log")) + sorted(
        (OUT.parents[2] / "tests" / "fixtures").rglob("*.log"))
    assert logs
    found = {p.name: detect_cycles(p) for p in logs}
    # the agent's own marker is found where it is printed; nothing else is invented
    assert {name: d.template for name, d in found.items()
            if d is not None and d.template != "[MSCYCLE] N"} == {}


@pytest.mark.parametrize("shape", [
    "{kind} {op} 0x{h} caller 0x{c}",             # newlib %p: no zero padding
    "[drv] {op} {kind} 0x{h:0>8} by 0x{c:0>8}",    # verb first, padded
    "{kind}_{op}: handle=0x{h}",                   # no caller
])
def test_hand_added_object_prints_are_learned(tmp_path: Path, shape: str) -> None:
    log = rewrite(tmp_path, "cycle {n}", obj=shape)
    res = CliRunner().invoke(main, ["objects", str(log), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["source"] == "trace" and data["learned_shapes"]
    assert sum(data["learned_shapes"].values()) == (FACTS["timers_created"]
                                                     + FACTS["timers_deleted"])
    leak = data["leaks"][0]
    assert leak["kind"] == "timer" and leak["leak_per_cycle"] == pytest.approx(1.0, abs=0.01)


@pytest.mark.parametrize(("line", "want"), [
    ("timer create 0x2000a1c0 caller 0x800123", ("create", "timer", 0x2000A1C0, 0x800123)),
    ("sem delete 0x20001000", ("delete", "sem", 0x20001000, 0)),
    ("[wifi] queue_new 0x20002000 from 0x8001", ("create", "queue", 0x20002000, 0x8001)),
    ("destroy mutex 0x20003000 lr=0x80011", ("delete", "mutex", 0x20003000, 0x80011)),
])
def test_shapes(line: str, want: tuple) -> None:
    ev = AutoObjectReader().read(line, 1, None)
    assert ev is not None and (ev.op, ev.kind, ev.handle, ev.caller) == want


@pytest.mark.parametrize("line", [
    "timer create (nil) caller 0x800123",            # a failed create: no object
    "heap free 0x20001000",                          # the heap itself, not an object
    "free 0x20001000 caller 0x80012",                # no kind
    "WARNING, malloc failed!!!! need size:684, but free size:10264",
    "[MSOBJ] create timer 0x20000940 caller 0x0000041d seq 1",   # the agent's own reader
])
def test_not_object_prints(line: str) -> None:
    assert AutoObjectReader().read(line, 1, None) is None
