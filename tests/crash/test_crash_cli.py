"""`memsleuth crash` through the CLI: input errors, the streaming reader, the ELF check."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from schema_helpers import loads_valid

from memsleuth.analysis.crash_context import CrashCollector
from memsleuth.cli import main
from memsleuth.records import BlockDump, CrashDump

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "crash"
QEMU = FIX / "qemu"
CM4_ELF = QEMU / "cm4_null_deref.elf"


def _run(*args: str):
    return CliRunner().invoke(main, ["crash", *args])


def test_garbage_and_empty_logs_are_input_errors(tmp_path: Path):
    garbage, empty = tmp_path / "garbage.log", tmp_path / "empty.log"
    garbage.write_bytes(b"hello\n\x00\xff\xfe binary junk\nno sections here\n")
    empty.write_text("")
    for log in (garbage, empty):
        result = _run(str(log))
        assert result.exit_code == 3, result.output
        assert "no crash, heap or object-trace section" in result.stderr
        assert "No crash dump" not in result.output


def test_a_real_log_without_a_crash_exits_0():
    result = _run(str(FIX / "lastword_boot.log"))           # a boot header, no crash
    assert result.exit_code == 0, result.output
    assert "No crash dump" in result.stdout


def test_missing_log_is_a_usage_error(tmp_path: Path):
    assert _run(str(tmp_path / "missing.log")).exit_code == 2


def test_cycle_pattern_option(tmp_path: Path):
    log = tmp_path / "cycles.log"
    log.write_text("== round 1 ==\n== round 2 ==\n"
                   + (FIX / "alios20_m4_busfault_task.log").read_text())
    result = _run(str(log), "--cycle-pattern", r"== round (\d+) ==", "--json")
    assert result.exit_code == 1, result.output
    assert loads_valid(result.stdout)["total"] == 1
    only_markers = tmp_path / "markers.log"
    only_markers.write_text("== round 1 ==\n== round 2 ==\n")
    result = _run(str(only_markers), "--cycle-pattern", r"== round (\d+) ==")
    assert result.exit_code == 3, result.output


def test_streamed_heap_dump_reaches_the_explanation():
    """The block dump printed before the crash is read by the normal parser and used."""
    result = _run(str(QEMU / "cm4_use_after_free.log"), "--elf",
                  str(QEMU / "cm4_use_after_free.elf"), "--json")
    assert result.exit_code == 1, result.output
    (crash,) = loads_valid(result.stdout)["crashes"]
    assert crash["cause"]["category"] == "use_after_free"
    hit = crash["heap"]["hits"][0]
    assert hit["diagnosis"] == "use_after_free"
    assert hit["block"]["owner_function"] == "session_open"
    assert crash["elf_match"]["verdict"] == "ok"


def test_each_crash_is_paired_with_the_newest_dump_before_it():
    collector = CrashCollector(keep=1)
    d1, d2, d3 = (BlockDump(line=n, variant="B3") for n in (1, 2, 4))
    c1, c2 = CrashDump(line=3, kind="exception"), CrashDump(line=5, kind="exception")
    for r in (d1, d2, c1):
        collector(r)
    assert [(c.crash, c.heap_dump) for c in collector.contexts] == [(c1, d2)]
    for r in (d3, c2):
        collector(r)
    assert [(c.crash, c.heap_dump) for c in collector.contexts] == [(c2, d3)]
    assert collector.total == 2 and collector.sections == 5


def test_a_reboot_loop_keeps_only_the_newest_crashes():
    collector = CrashCollector(keep=1)
    for n in range(1, 5):
        collector(CrashDump(line=n, kind="exception"))
    assert [c.crash.line for c in collector.contexts] == [4] and collector.total == 4


def test_elf_of_another_architecture_is_a_loud_mismatch():
    result = _run(str(FIX / "riscv64_load_fault.log"), "--elf", str(CM4_ELF), "--json")
    assert result.exit_code == 4, result.output
    assert "WARNING: the ELF does not match the crash" in result.stderr
    assert "riscv but the ELF is arm" in result.stderr
    match = loads_valid(result.stdout)["crashes"][0]["elf_match"]
    assert match["verdict"] == "mismatch"
    assert (match["dump_arch"], match["elf_arch"]) == ("riscv", "arm")


def test_elf_of_another_build_is_a_mismatch_by_addresses():
    """Same architecture, but neither the PC nor the backtrace is in this ELF's code."""
    result = _run(str(FIX / "alios20_m4_busfault_task.log"), "--elf", str(CM4_ELF))
    assert result.exit_code == 4, result.output
    assert "does not match" in result.stderr and "outside its code" in result.stderr


def test_wild_pc_with_the_right_elf_is_not_a_mismatch():
    """A bad function pointer puts the PC outside the code: that is the crash, not the ELF."""
    result = _run(str(QEMU / "cm4_bad_fnptr.log"), "--elf", str(QEMU / "cm4_bad_fnptr.elf"),
                  "--json")
    assert result.exit_code == 1, result.output
    assert "warning" not in result.stderr.lower()
    match = loads_valid(result.stdout)["crashes"][0]["elf_match"]
    assert match["verdict"] == "ok" and match["pc_in_code"] is False


def test_a_bare_newlib_assertion_is_not_called_esp_idf(tmp_path) -> None:
    """newlib's __assert_func line (format 'assertion "%s" failed: file "%s", line %d%s%s')
    is printed by any newlib firmware; only ESP-IDF's panic lines after it (abort,
    registers, backtrace) make the dump ESP-IDF's (real B4 output keeps its label)."""
    log = tmp_path / "newlib.log"
    log.write_text('boot\nassertion "p != NULL" failed: file "src/app.c", line 42, '
                   'function: app_run\n')
    result = CliRunner().invoke(main, ["crash", str(log), "--json"])
    crash = loads_valid(result.stdout, "crash")["crashes"][0]
    assert crash["family"] == "newlib" and crash["kind"] == "assert"
    real = Path(__file__).resolve().parents[1] / "fixtures" / "rtos" / "real" / \
        "B4_esp32_alios_panic_issue779.log"
    result = CliRunner().invoke(main, ["crash", str(real), "--json"])
    assert loads_valid(result.stdout, "crash")["crashes"][0]["family"] == "esp-idf"
