"""Every crash example of alios-formats.md §4 parses (fixtures copied verbatim)."""

from __future__ import annotations

from pathlib import Path

import pytest

from memsleuth.parse.alios_crash import parse_crash_text
from memsleuth.records import CrashDump

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "crash"


def crashes(name: str) -> list[CrashDump]:
    recs = parse_crash_text((FIX / name).read_text())
    return [r for r in recs if isinstance(r, CrashDump)]


def test_alios20_m4_busfault_complete() -> None:
    (c,) = crashes("alios20_m4_busfault_task.log")
    assert c.kind == "exception" and not c.partial and c.end_line == 74
    assert list(c.registers)[:3] == ["R0", "R1", "R2"]
    assert c.registers["PC"] == 0x0800A3D2 and c.registers["CFSR"] == 0x8200
    assert c.registers["AFSR"] == 0
    assert [b.addr for b in c.backtrace[:3]] == [0x0800A3D2, 0x0800B11E, 0x080043FA]
    assert c.backtrace[-1].marker == "task entry"
    assert c.stack[0].addr == 0x20004F80 and c.stack[0].words[3] == 0x0800A3C5
    assert [t.name for t in c.tasks][-1] == "app_task"
    assert c.tasks[-1].stack_base == 0x20004690 and c.tasks[-1].min_free == 0xB4
    assert c.heap is not None and c.heap.total == 0x2E000
    tables = [k.table for k in c.kobjs]
    assert tables == ["queue", "buf_queue", "sem", "sem"]
    assert c.kobjs[1].waiting == ("timer_task",) and c.kobjs[0].waiting == ()
    assert c.sections == ["Regs info", "Stack info", "Call stack", "Heap Info", "Task Info",
                          "Queue Info", "Buf Queue Info", "Sem Info"]


def test_haas_armv7a_real_output() -> None:
    (c,) = crashes("alios33_armv7a_haas_real.log")
    assert c.kind == "stopped" and not c.partial
    assert c.exception_type == "Undefined Instruction"
    assert c.crash_time == "1970-01-01 00:00:12" and c.current_task == "idle_task"
    assert c.registers["PC"] == 0x4000C6CA and c.registers["R12"] == 0x12121212
    assert c.fault_registers == {"DFSR": 0x2ED1, "DFAR": 0x798373FB, "IFSR": 0x1020,
                                 "IFAR": 0xED44F5E8}
    assert c.kobj_totals == {"sem_waiting": 0x87, "mutex": 0x2F}
    assert [k.waiting for k in c.kobjs if k.table == "buf_queue"] == [("timer_task",),
                                                                       ("adbd-input",)]
    assert c.reentered


def test_xtensa_head_is_partial() -> None:
    (c,) = crashes("alios1x_xtensa_head.log")
    assert c.partial and "Heap Info" in (c.partial_reason or "")
    assert "Task Info" in (c.partial_reason or "")
    assert c.registers["EXCCAUSE"] == 0x1C and c.registers["A1"] == 0x3FFF3E40
    assert [b.addr for b in c.backtrace if b.addr] == [0x40211A3C, 0x40210F0F]


@pytest.mark.parametrize(
    "name", sorted(p.name for p in FIX.glob("*.log") if not p.name.startswith("lastword")))
def test_every_fixture_parses(name: str) -> None:
    assert crashes(name), name
