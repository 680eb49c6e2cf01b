"""A reboot needs evidence in the log (issue 10, issue 9 item 7): a boot banner, the counter
restarting at its first value and counting on from there, or the heap back at its boot
level. One out-of-sequence counter value is a glitch, even when it reads as the first value.
"""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner
from schema_helpers import loads_valid

from memsleuth.cli import main
from memsleuth.parse import parse_file
from memsleuth.records import Boot

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT / "tests" / "fixtures" / "rtos" / "real"
WIFI = ROOT / "examples" / "wifi_reconnect_leak" / "out"
RTOS = ROOT / "examples" / "rtos_formats" / "out"


def trend(log: Path) -> dict:
    res = CliRunner().invoke(main, ["trend", str(log), "--json", "-q"])
    return loads_valid(res.stdout)


def test_boot_banners_of_real_devices_are_read() -> None:
    # verbatim captures: a Zephyr board booted three times, an ESP32-C3 rebooting after a
    # panic (its ROM banner)
    boots = [r.line for r in parse_file(REAL / "Z1_zephyr_rzg3s_mpu_test_faults.log")
             if isinstance(r, Boot)]
    assert boots == [1, 15, 29]
    esp = [(r.line, r.text) for r in parse_file(REAL / "E1_espidf_esp32c3_riscv_panic_monitor.log")
           if isinstance(r, Boot)]
    assert [line for line, _ in esp] == [39, 41]
    assert esp[1][1].startswith("rst:0x3 (RTC_SW_SYS_RST)")


def test_a_boot_banner_between_two_runs_starts_a_new_curve(tmp_path: Path) -> None:
    # the Zephyr example (no cycle counter: the x axis is the overview index) captured over
    # two boots: without the banner the curve would be a sawtooth across the reboot
    one = trend(RTOS / "zephyr_cm4.log")
    log = tmp_path / "two-boots.log"
    text = (RTOS / "zephyr_cm4.log").read_text()
    log.write_text(text + text)
    two = trend(log)
    assert one["excluded"]["restarts"] == 0
    assert two["excluded"]["restarts"] == 1
    assert two["points"] == one["points"] and two["classification"] == one["classification"]
    assert two["series"][0]["line"] == one["series"][0]["line"] + text.count("\n")


def _set_marker(text: str, cycle: int, value: int) -> str:
    return text.replace(f"\n[MSCYCLE] {cycle}\n", f"\n[MSCYCLE] {value}\n", 1)


def test_a_counter_glitch_to_its_first_value_is_not_a_reboot(tmp_path: Path) -> None:
    # [MSCYCLE] 300 read as 1 (the counter's first value) or 0: the next marker is 301 and
    # the heap stays where the leak had taken it, so nothing says the device rebooted
    src = (WIFI / "cortex-m4-leak.log").read_text()
    whole = trend(WIFI / "cortex-m4-leak.log")
    for value in (1, 0):
        log = tmp_path / f"glitch{value}.log"
        log.write_text(_set_marker(src, 300, value))
        t = trend(log)
        assert t["excluded"]["restarts"] == 0 and t["excluded"]["glitches"] == 1, t["notes"]
        assert t["classification"] == "steady_leak"
        assert t["points"] >= whole["points"] - 1


def test_a_counter_that_restarts_and_counts_on_is_a_reboot(tmp_path: Path) -> None:
    # the leak run cut after cycle 300, then the same firmware from its first cycle again:
    # the counter goes 1, 2, 3 ... (the heap is back at its boot level as well)
    src = (WIFI / "cortex-m4-leak.log").read_text()
    cut = src.index("\n[MSCYCLE] 301\n") + 1
    log = tmp_path / "rebooted.log"
    log.write_text(src[:cut] + src)
    t = trend(log)
    assert t["excluded"]["restarts"] == 1 and t["excluded"]["glitches"] == 0
    assert t["series"][0]["line"] > src[:cut].count("\n")   # only the second run counts


def test_a_counter_restart_with_the_heap_back_at_boot_level_is_a_reboot(tmp_path: Path) -> None:
    # the second run's markers are renumbered so they do not count on from the restart
    # (1, then 7, 8, ...): only the heap, back at its boot level, says it rebooted
    src = (WIFI / "cortex-m4-leak.log").read_text()
    cut = src.index("\n[MSCYCLE] 301\n") + 1
    second = re.sub(r"\[MSCYCLE\] (\d+)\n",
                    lambda m: f"[MSCYCLE] {int(m[1]) + 5 if int(m[1]) > 1 else 1}\n", src)
    log = tmp_path / "rebooted.log"
    log.write_text(src[:cut] + second)
    t = trend(log)
    assert t["excluded"]["restarts"] == 1, t["notes"]
