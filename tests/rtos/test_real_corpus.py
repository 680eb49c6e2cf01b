"""Real published output of ESP-IDF, Zephyr and NuttX printers: the values a person reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from schema_helpers import loads_valid

from memsleuth.cli import main
from memsleuth.parse import parse_file
from memsleuth.records import BlockDump, BuildId, CrashDump, HeapOverview, TaskList
from memsleuth.symbols.arch import xtensa_call_address, xtensa_window_increment

REAL = Path(__file__).parent.parent / "fixtures" / "rtos" / "real"


def analyze(name: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["analyze", str(REAL / name), "--json"])
    return result.exit_code, loads_valid(result.stdout)


def records(name: str) -> list:
    return list(parse_file(REAL / name))


@pytest.mark.parametrize("name", sorted(p.name for p in REAL.glob("*.log")))
def test_every_real_file_is_read(name: str):
    code, doc = analyze(name)
    assert code in (0, 4), code          # 4: the excerpt is marked partial, never 3
    assert doc["contents"]["families"], "analyze must say which format it read"


def test_b4_esp32_panic_254_backtrace_decoded():
    code, doc = analyze("B4_esp32_alios_panic_issue254.log")
    crash = doc["crash"]
    assert doc["contents"]["families"] == {"esp-idf": {"espidf_panic": 1}}
    assert crash["arch"] == "xtensa" and crash["family"] == "esp-idf"
    # 'kernel panic,err 1200!' = AliOS RHINO_TASK_STACK_OVF, then newlib's assert in soc_err_proc
    assert crash["errno"]["value"] == 1200 and crash["cause"]["category"] == "stack_overflow"
    assert (crash["file"], crash["file_line"]) == ("platform/mcu/esp32/aos/soc_impl.c", 35)
    frames = crash["call_stack"]["frames"]
    assert len(frames) == 19 and crash["call_stack"]["source"] == "device"
    assert (frames[0]["address"], frames[0]["sp"]) == (0x40088AD8, 0x3FFFAB90)
    assert frames[2]["address"] == 0x40104F27      # = 'abort() was called at PC 0x40104f27'
    assert (frames[-1]["address"], frames[-1]["sp"]) == (0x40084EC1, 0x3FFFAF80)
    assert all(f["kind"] == "callsite" for f in frames[1:])   # ESP-IDF prints ret-3 already


def test_b4_esp32_panic_779_one_line_backtrace():
    [crash] = [r for r in records("B4_esp32_alios_panic_issue779.log") if isinstance(r, CrashDump)]
    assert crash.errno == 1200 and crash.kind == "fatal_error" and not crash.partial
    assert len(crash.backtrace) == 18
    assert crash.backtrace[0].addr == 0x40087FD8 and crash.backtrace[0].sp == 0x3FFDF720
    assert crash.backtrace[-1].addr == 0x40085DB5 and crash.end_line == 7  # 'Rebooting...'
    assert any("abort() was called at PC 0x401168ab" in r for r in crash.reason)


def test_c1_heap_trace_excerpt_is_partial_with_the_printed_totals():
    [dump] = [r for r in records("C1_espidf_heap_trace_dump.log") if isinstance(r, BlockDump)]
    assert [(b.size, b.addr, b.trace) for b in dump.blocks] == [
        (16, 0x3FFD1914, (0x4010A09B, 0x4010A0C6)), (16, 0x3FFD18CC, (0x4010A09B, 0x4010A0C6))]
    assert dump.blocks[0].owner == 0x4010A09B
    assert dump.totals == {"live_bytes": 78141, "live_allocations": 96,
                           "total_allocations": 5598, "total_frees": 5447}
    # two rows of 96: the page author cut the dump, and memsleuth must not pass it off as whole
    assert dump.partial and "96 live allocations" in dump.partial_reason
    code, doc = analyze("C1_espidf_heap_trace_dump.log")
    assert code == 4 and doc["census"]["totals"]["used_bytes"] == 32
    assert doc["census"]["totals"]["free_listed"] is False


def test_c2_heap_caps_totals():
    [ov] = [r for r in records("C2_espidf_heap_caps_print_heap_info.log")
            if isinstance(r, HeapOverview)]
    assert (ov.free, ov.used, ov.min_free, ov.max_free_block) == (23276, 139852, 20408, 22580)
    assert ov.total == 7520 + 27328 + 15296 + 113840 and not ov.partial
    code, doc = analyze("C2_espidf_heap_caps_print_heap_info.log")
    assert code == 0 and doc["heap"]["free"] == 23276 and doc["heap"]["min_free"] == 20408


def test_c3_zephyr_sys_heap_chunks():
    [dump] = [r for r in records("C3_zephyr_sys_heap_print_info.log") if isinstance(r, BlockDump)]
    # bucket table: 1 unit = 4 bytes; chunk 0 is the heap header, chunk 4 the end marker
    assert [(b.addr, b.used, b.size, b.sentinel) for b in dump.blocks] == [
        (0x5B78, True, 12, True), (0x5B78 + 12, False, 4, False), (0x5B78 + 16, True, None, True)]
    ov = dump.overview
    assert ov is not None and (ov.free, ov.used, ov.max_free_block) == (4, 0, 4)


def test_c4_nuttx_memdump_rows():
    [dump] = [r for r in records("C4_nuttx_memdump.log") if isinstance(r, BlockDump)]
    assert len(dump.blocks) == 7 and {b.pid for b in dump.blocks} == {35}
    assert [b.size for b in dump.blocks] == [64, 64, 64, 64, 64, 128, 64]
    first = dump.blocks[0]
    assert first.addr == 0x3C55D4D8 and len(first.trace) == 8
    assert first.trace[0] == 0x2C5B0EF6 and first.trace[-1] == 0x2C5A0072
    assert (dump.line, dump.ts) == (2, pytest.approx(5286.767232, abs=1e-7))  # syslog prefix
    assert dump.partial and "Total Blks" in dump.partial_reason  # the excerpt has no trailer


def test_z1_zephyr_fatal_errors_cortex_m():
    crashes = [r for r in records("Z1_zephyr_rzg3s_mpu_test_faults.log")
               if isinstance(r, CrashDump)]
    assert len(crashes) == 3 and all(c.family == "zephyr" and not c.partial for c in crashes)
    bus, mpu, run = crashes
    assert (bus.line, bus.end_line) == (4, 13)       # banner .. 'Halting system'
    assert bus.registers["PC"] == 0x23C8A and bus.registers["LR"] == 0x263EB
    assert bus.registers["R3"] == 0x24060000 and bus.registers["xPSR"] == 0x21000000
    assert bus.registers["BFAR"] == 0x24060000 and bus.current_task == "shell_uart"
    assert mpu.registers["MMFAR"] == 0x27000 and mpu.registers["R2"] == 0x0BADC0DE
    assert run.registers["PC"] == 0x20060000
    result = CliRunner().invoke(main, ["crash", str(REAL / "Z1_zephyr_rzg3s_mpu_test_faults.log"),
                                       "--all", "--json"])
    assert result.exit_code == 1
    explained = loads_valid(result.stdout)["crashes"]
    causes = [(c["cause"]["category"], c["cause"]["fault_address"]) for c in explained]
    assert causes == [("bus_fault", 0x24060000), ("mpu_violation", 0x27000),
                      ("bad_function_pointer", None)]
    assert [c["arch"] for c in explained] == ["cortex-m"] * 3


def test_b1c_alios_tasklist_is_read():
    [tl] = [r for r in records("B1c_wiki_tasklist.log") if isinstance(r, TaskList)]
    assert tl.unit == "words" and len(tl.tasks) == 8       # 1.x: cpu_stack_t words
    cli = next(t for t in tl.tasks if t.name == "cli")
    assert (cli.state, cli.prio, cli.stack_size, cli.min_free) == ("RDY", 33, 8192, 5225)
    code, doc = analyze("B1c_wiki_tasklist.log")
    assert code == 0 and doc["tasks"]["tasks"][0]["name"] == "cli"   # least headroom first


@pytest.mark.parametrize("name, first, stack_rows, kobjs", [
    ("B3a_issue1475_excerpt_tasks_sem_mutex_stack.log", "Sem Waiting", 4, 6),
    ("B3b_issue1475_excerpt_stack_words.log", "Stack info", 23, 0),
])
def test_b3_crash_excerpts_are_read_and_marked(name, first, stack_rows, kobjs):
    [crash] = [r for r in records(name) if isinstance(r, CrashDump)]
    assert crash.kind == "excerpt" and crash.partial and f"'{first}'" in crash.partial_reason
    assert len(crash.stack) == stack_rows and len(crash.kobjs) == kobjs
    assert analyze(name)[0] == 4


def test_e1_esp32c3_riscv_panic_through_the_monitor():
    recs = records("E1_espidf_esp32c3_riscv_panic_monitor.log")
    [crash] = [r for r in recs if isinstance(r, CrashDump)]
    [build] = [r for r in recs if isinstance(r, BuildId)]
    assert build.kind == "elf-sha256" and build.value == "534576e6068b915a"
    assert crash.arch == "riscv" and crash.reason[0] == "Load access fault"
    assert crash.registers["MEPC"] == 0x40058EB6 and crash.registers["RA"] == 0x42099AEE
    assert crash.registers["S0"] == 0 and crash.registers["MCAUSE"] == 5
    assert crash.skipped_lines >= 3      # the monitor's decode lines inside the dump
    code, doc = analyze("E1_espidf_esp32c3_riscv_panic_monitor.log")
    c = doc["crash"]
    assert c["cause"]["category"] == "null_pointer" and c["cause"]["fault_address"] == 0
    assert [f["address"] for f in c["call_stack"]["frames"]] == [0x40058EB6, 0x42099AEE]


def test_e2_xtensa_register_dump_and_windowed_a0():
    [crash] = [r for r in records("E2_espidf_docs_xtensa_register_dump.log")
               if isinstance(r, CrashDump)]
    assert crash.arch == "xtensa" and crash.registers["EXCCAUSE"] == 0x1D
    a0 = crash.registers["A0"]
    # CALL8's window increment in a0's top bits; the call ESP-IDF prints is ret - 3
    assert xtensa_window_increment(a0) == 2
    assert xtensa_call_address(a0) == crash.backtrace[1].addr == 0x400D0802
    code, doc = analyze("E2_espidf_docs_xtensa_register_dump.log")
    c = doc["crash"]
    assert c["cause"]["category"] == "null_pointer" and c["fault"]["exccause"]["value"] == 29
    assert [f["address"] for f in c["call_stack"]["frames"]] == [0x400E14ED, 0x400D0802]


@pytest.mark.parametrize("name", ["B2d_debugREADME_debug_cmd.log",
                                  "B5_debug_app_README_result.log"])
def test_debug_command_tables_are_no_crash(name: str):
    # the `debug` command and aos_debug_backtrace_now() print crash-dump banners, no crash
    assert not [r for r in records(name) if isinstance(r, CrashDump)]
    code, doc = analyze(name)
    assert code == 0 and doc["crash"] is None


@pytest.mark.parametrize("name, says", [
    ("B1c_wiki_tasklist.log", "no heap overview, object trace or block dumps"),
    ("C4_nuttx_memdump.log", "only 1 block dump, too few to show growth"),
])
def test_cannot_judge_says_what_the_log_lacks(name: str, says: str):
    """A tasklist is not "only block dumps"; one dump is named as one."""
    _, doc = analyze(name)
    verdict = doc["leak"]["verdict"]
    assert not verdict["judged"] and verdict["exit_code"] == 3
    assert says in doc["leak"]["verdict"]["reason"]
