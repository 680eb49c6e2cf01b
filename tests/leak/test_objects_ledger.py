"""The object ledger gives the same answer however the events reach it.

Three ways: the C scanner's packed stretches paired by ``_scan.Ledger`` (markers one by one or
in bulk; single events from the line path paired there too, and the state handed to Python when
a number does not fit 64 bits), the pure-Python scanner's regex rows paired in one loop, and
the line path's ObjectEvents one by one. Generated logs hold what makes pairing fragile: reused
handles (the old object lost), deletes of handles never created, kinds and sites that appear
late, idle cycles, a counter that restarts (a reboot), events with a prefix or a name (read by
the line path between packed stretches), sequence numbers past 64 bits, noise lines between
events, and chunk ends anywhere (a stretch cut in two).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memsleuth import accel
from memsleuth.analysis.objects import ObjectBalance
from memsleuth.parse import parse_file
from memsleuth.records import CycleMarker, HeapRun, ObjectEvent, ObjectEventRun
from memsleuth.sources import file as file_source

ROOT = Path(__file__).resolve().parents[2]


def _event_line(op: str, kind: str, handle: int, caller: int, seq: int, form: str) -> str:
    width = 16 if form == "wide" else 8
    line = (f"[MSOBJ] {op} {kind} 0x{0x20000000 + handle * 0x58:0{width}x} "
            f"caller 0x{0x400 + caller * 0x1a:0{width}x} seq {seq}")
    if form == "named":
        line += f" name t{handle}"
    elif form == "prefixed":
        line = "12:10:07.331 > " + line
    return line


_event = st.tuples(st.sampled_from(["create", "delete"]),
                   st.sampled_from(["timer", "sem", "queue_set"]),
                   st.integers(0, 7), st.integers(0, 3),
                   st.sampled_from(["plain"] * 6 + ["wide", "named", "prefixed", "bigseq"]),
                   st.integers(0, 3))          # seq step: 1 is no gap
_step = st.one_of(_event, _event, _event, st.just("marker"), st.just("noise"),
                  st.just("reboot"))


def _log(steps: list) -> str:
    out = ["boot"]
    seq = cycle = 0
    for step in steps:
        if step == "marker":
            cycle += 1
            out.append(f"[MSCYCLE] {cycle}")
        elif step == "reboot":
            cycle = 0
            out.append("[MSCYCLE] 0")
        elif step == "noise":
            out.append("[I][wifi] rssi=-40 ch=6")
        else:
            op, kind, handle, caller, form, step_ = step
            seq += step_
            number = seq + (1 << 64) if form == "bigseq" else seq
            out.append(_event_line(op, kind, handle, caller, number,
                                   "plain" if form == "bigseq" else form))
    return "\n".join(out) + "\n"


def _balance(path: Path, mode: str, grace: int) -> tuple[ObjectBalance, int]:
    runs = seen = markers = 0
    balance = ObjectBalance(grace)
    fast = mode != "line"
    for record in parse_file(path, fast=fast, objects="runs" if fast else True,
                             heap_runs=mode in ("C+heap", "pure+heap", "pure+heap probed")):
        runs += isinstance(record, ObjectEventRun) and record.packed is not None
        balance.on_record(record)
        if mode == "pure+heap probed":    # read mid-stream, as the live monitor does
            if isinstance(record, HeapRun):
                seen += record.events
                markers += len(record.m_index)
            elif isinstance(record, (ObjectEventRun, ObjectEvent)):
                seen += len(record) if isinstance(record, ObjectEventRun) else 1
            elif isinstance(record, CycleMarker):
                markers += 1
            assert balance.events == seen
            assert balance.complete_cycles == max(0, markers - 1)
            assert sum(balance.alive_by_kind().values()) == len(balance.live)
    return balance, runs


def _answers(path: Path, grace: int, monkeypatch: pytest.MonkeyPatch) -> dict:
    out = {}
    for mode in ("C", "C+heap", "pure", "pure+heap", "pure+heap probed", "line"):
        with monkeypatch.context() as m:
            if not mode.startswith("C"):
                m.setattr(accel, "_loaded", None)
            elif accel.module() is None:
                continue
            balance, runs = _balance(path, mode, grace)
            out[mode] = (balance.result(), balance.events, runs)
    return out


def _agree(text: str, tmp_path: Path, grace: int, monkeypatch: pytest.MonkeyPatch) -> dict:
    path = tmp_path / "objects.log"
    path.write_text(text)
    got = _answers(path, grace, monkeypatch)
    line = got["line"][:2]
    assert got["pure"][:2] == line
    # (packed stretches held back and paired in one batch, or as each is read)
    assert got["pure+heap"][:2] == line
    assert got["pure+heap probed"][:2] == line
    if "C" in got:
        assert got["C"][:2] == line
        assert got["C+heap"][:2] == line     # markers among tables in bulk (HeapRun)
    return got


@settings(max_examples=150, deadline=None)
@given(st.lists(_step, max_size=80), st.integers(0, 2), st.sampled_from([64, 157, 1 << 16]))
def test_same_answer_every_way(tmp_path_factory: pytest.TempPathFactory, steps: list,
                               grace: int, chunk: int) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(file_source, "CHUNK_BYTES", chunk)
        _agree(_log(steps), tmp_path_factory.mktemp("ledger"), grace, monkeypatch)


def _cycles(n: int, leak_every: int = 0, reuse: bool = False) -> list:
    """n cycles of 3 timers created and deleted (one left alive every ``leak_every``th;
    ``reuse``: the leaked handle is created again next cycle, closing the old one as lost)."""
    steps: list = []
    for c in range(1, n + 1):
        steps.append("marker")
        for h in range(3):
            steps.append(("create", "timer", h, h, "plain", 1))
            if h == 1:
                steps.append("noise")
        for h in range(3):
            keep = leak_every and c % leak_every == 0 and h == 2
            if not keep:
                steps.append(("delete", "timer", h, 3, "plain", 1))
            elif not reuse:
                steps.append(("create", "sem", 4 + c % 4, 3, "plain", 1))
    return steps


@pytest.mark.parametrize("case", [
    "steady", "leak", "reuse", "unknown-delete", "reboot", "prefixed", "named", "bigseq"])
def test_named_cases(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    steps = _cycles(12, leak_every=0 if case == "steady" else 2, reuse=case == "reuse")
    if case == "unknown-delete":
        steps.insert(3, ("delete", "queue_set", 7, 0, "plain", 1))
    elif case == "reboot":
        steps[len(steps) // 2:len(steps) // 2] = ["reboot"]
    elif case in ("prefixed", "named", "bigseq"):
        at = next(i for i in range(len(steps) // 2, len(steps)) if isinstance(steps[i], tuple))
        op, kind, handle, caller, _, s = steps[at]
        steps[at] = (op, kind, handle, caller, case, s)
    got = _agree(_log(steps), tmp_path, 1, monkeypatch)
    result = got["line"][0]
    if case in ("leak", "reuse"):
        assert result.leaks, "a timer left alive every 2nd cycle is a leak"
    elif case == "steady":
        assert not result.leaks and result.events == 12 * 6
    if case == "reuse":
        assert sum(s.lost for s in result.sites) > 0
    if case == "unknown-delete":
        assert sum(k.unmatched_deletes for k in result.kinds) == 1
    if "C" in got:
        assert got["C"][2] > 0, "the C scanner packed the events"


def test_committed_logs_packed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The example runs appended (a leak, a clean run and a burst, the counter restarting):
    their timers balance, 5 created and 5 deleted per cycle."""
    runs = ROOT / "examples" / "wifi_reconnect_leak" / "out"
    text = "".join((runs / f"cortex-m4-{s}.log").read_text(errors="replace")
                   for s in ("leak", "noleak", "burst"))
    got = _agree(text, tmp_path, 1, monkeypatch)
    result = got["line"][0]
    assert result.events > 10_000 and not result.leaks
    assert result.summary == ("timer: created 5, deleted 5 per cycle",)
    if "C" in got:
        assert got["C"][2] > 0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_many_handles_packed(seed: int) -> None:
    """Thousands of live handles (the C table grows and deletes by shifting entries back),
    many sites, packed stretches fed straight to the ledger against the Python pairing."""
    import random

    from memsleuth.records import PACKED_EVENT, CycleMarker, ObjectEvent

    if getattr(accel.module(), "Ledger", None) is None:
        pytest.skip("the C scanner is not built")
    rnd = random.Random(seed)
    names = ["timer", "sem", "task"]
    c_side, py_side = ObjectBalance(2), ObjectBalance(2)
    line = seq = 0
    for _ in range(300):
        rows, events = [], []
        for _ in range(rnd.randrange(1, 120)):
            line += 1
            seq += rnd.choice((1, 1, 1, 2))
            kind = rnd.randrange(3)
            create = rnd.random() < 0.55
            handle = rnd.randrange(4000) * 0x40 + (1 << 33 if rnd.random() < 0.1 else 0)
            caller = rnd.randrange(300)
            rows.append(PACKED_EVENT.pack(line, handle, caller, seq, kind, create))
            events.append(ObjectEvent(line, "create" if create else "delete", names[kind],
                                      handle, caller, seq, None, None))
        c_side.on_record(ObjectEventRun(packed=b"".join(rows), names=names))
        for ev in events:
            py_side.on_record(ev)
        if rnd.random() < 0.5:
            line += 1
            marker = CycleMarker(line=line, index=line, text="m")
            c_side.on_record(marker)
            py_side.on_record(marker)
    assert c_side._c is not None and c_side.events == py_side.events
    assert len(c_side.live) == len(py_side.live) > 1000
    assert c_side.result() == py_side.result()
