"""Text-only crash fixtures: every banner variant, other architectures, partial dumps."""

from __future__ import annotations

from pathlib import Path

from memsleuth.analysis import fault_decode as fd
from memsleuth.analysis.crash import explain_crash
from memsleuth.analysis.crash_context import explain_records
from memsleuth.parse import parse_file
from memsleuth.records import CrashDump, LastWord
from memsleuth.results.common import to_json


def _json_crash(*args, **kwargs):
    """``explain_crash`` as the JSON value users get (the result is a frozen dataclass tree)."""
    return to_json(explain_crash(*args, **kwargs))


def _json_records(*args, **kwargs):
    """``explain_records`` as the JSON value users get (the result is a frozen dataclass tree)."""
    return [to_json(r) for r in explain_records(*args, **kwargs)]


FIX = Path(__file__).resolve().parents[1] / "fixtures" / "crash"


def one(name: str) -> tuple[CrashDump, dict]:
    recs = list(parse_file(FIX / name))
    crashes = [r for r in recs if isinstance(r, CrashDump)]
    assert len(crashes) == 1, crashes
    (res,) = _json_records(recs, None)
    return crashes[0], res


def test_riscv64_mcause_load_access_fault() -> None:
    c, r = one("riscv64_load_fault.log")
    assert c.registers["X31"] == 31 * 0x10 and c.registers["MEPC"] == 0x80201F46
    assert r["arch"] == "riscv" and r["fault"]["mcause"]["code"] == 5
    assert r["cause"]["category"] == "bad_load"
    assert r["context"]["sp"] == 0x80F3FE40


def test_riscv_interrupt_bit() -> None:
    d = fd.decode_riscv({"MCAUSE": 0x8000000000000007})
    assert d["mcause"]["interrupt"] and "timer" in d["summary"]
    assert fd.decode_riscv({"MCAUSE": 0x8000000B})["mcause"]["interrupt"]


def test_xtensa_exccause_names() -> None:
    d = fd.decode_xtensa({"EXCCAUSE": 29, "EXCVADDR": 0x14})
    assert d["exccause"]["name"] == "StoreProhibited" and d["category"] == "null_pointer"
    assert "NULL + 0x14" in d["summary"]
    assert fd.decode_xtensa({"EXCCAUSE": 6})["category"] == "divide_by_zero"


def test_cortex_m_bits_and_exc_return() -> None:
    d = fd.decode_cortex_m({"CFSR": 0x02000000 | 0x00100000, "HFSR": 0, "EXC_NUM": 6,
                            "EXC_RET": 0xFFFFFFE9})
    assert {"DIVBYZERO", "STKOF"} <= set(d["bit_names"])
    assert d["category"] == "stack_overflow"  # STKOF wins
    assert d["exc_return"]["fpu_frame"] and d["exc_return"]["stack"] == "MSP"
    d = fd.decode_cortex_m({"CFSR": 0x400, "HFSR": 0x40000000})
    assert d["category"] == "bus_fault" and "imprecise" in d["summary"]
    armv6 = fd.decode_cortex_m({"PC": 0x100, "EXC_NUM": 3, "PRIMASK": 0})
    assert armv6["profile"] == "armv6m" and armv6["category"] == "hard_fault"


def test_armv7a_data_abort_dfsr() -> None:
    c, r = one("armv7a_data_abort.log")
    assert c.exception_type == "Data Abort"
    assert r["fault"]["dfsr"]["write"] and "translation" in r["fault"]["dfsr"]["text"]
    assert r["cause"]["category"] == "null_pointer" and r["cause"]["null_offset"] == 0x24


def test_alios3x_cortex_m_full_dump() -> None:
    c, r = one("alios3x_m4_busfault_task.log")
    assert c.registers["MSP"] == 0x20000FD8 and c.registers["PSP"] == 0x20004F80
    assert c.crash_time == "1970-01-01 00:01:23" and c.current_task == "app_task"
    assert c.kobj_totals == {"sem_waiting": 0x21, "mutex": 0xC}
    mutex = [k for k in c.kobjs if k.table == "mutex"][0]
    assert mutex.owner == "cli" and mutex.waiting == ("app_task",) and mutex.values == (1,)
    assert c.stack[0].addr == 0x20004690 and c.stack[1].addr == 0x20004F80
    assert c.heap is not None and c.heap.max_free_block == 0x8000
    assert r["context"]["task"] == "app_task" and r["cause"]["null_offset"] == 0x10
    assert any("low stack headroom" in w for w in r["stack_warnings"])


def test_fatal_error_20_ends_after_call_stack_and_is_oom() -> None:
    c, r = one("alios20_fatal_nomem.log")
    assert not c.partial and c.end_line == 25
    assert c.errno == 105 and c.file_line == 655
    assert r["cause"]["category"] == "out_of_memory" and r["oom"]
    assert r["context"]["task"] == "app_task"


def test_fatal_error_3x_stack_overflow_and_error_blocks() -> None:
    c, r = one("alios3x_fatal_stack_overflow.log")
    assert c.stack_overflow_task == "wifi_task" and not c.partial
    assert len(c.error_blocks) == 3 and c.error_blocks[1].corrupted
    assert r["cause"]["category"] == "stack_overflow"
    assert r["heap"]["corrupted_blocks"][0]["addr"] == 0x20004090
    assert any(t["status"] == "overflow" for t in r["tasks"])


def test_cvi_fatal_banner_file_line() -> None:
    c, _ = one("cvi_fatal_file_line.log")
    assert c.kind == "fatal_error" and c.file == "k_mm.c" and c.file_line == 512


def test_fiq_other_core() -> None:
    c, r = one("alios3x_fiq_other_core.log")
    assert c.kind == "fiq" and c.registers["CORE"] == 1
    assert r["cause"]["category"] == "fiq"


def test_truncated_dump_is_partial_and_says_what_is_missing() -> None:
    c, r = one("truncated_in_stack_info.log")
    assert c.partial and r["partial"]
    assert "Stack info" in c.partial_reason and "no Call stack, Task Info" in c.partial_reason
    assert r["cause"]["category"] == "null_pointer"


def test_lastword_header() -> None:
    recs = list(parse_file(FIX / "lastword_boot.log"))
    (lw,) = [r for r in recs if isinstance(r, LastWord)]
    assert lw.values == {"reboot_reason": 2, "reboot_sum_count": 7, "reboot_reason_id": 2,
                         "panic_count": 3}


def test_explain_crash_without_anything() -> None:
    r = _json_crash(CrashDump(line=1, kind="exception"), None)
    assert r["cause"]["category"] == "unknown" and r["call_stack"]["frames"] == []


def test_poison_in_fault_address() -> None:
    c = CrashDump(line=1, kind="exception",
                  registers={"PC": 0x100, "EXC_NUM": 5, "CFSR": 0x8200, "HFSR": 0,
                             "BFAR": 0xABABABAF, "R3": 0xABABABAB})
    r = _json_crash(c, None)
    assert r["cause"]["category"] == "use_after_free"
    assert {p["register"] for p in r["poison"]} == {"fault address", "R3"}
