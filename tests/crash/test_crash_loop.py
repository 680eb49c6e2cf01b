"""A device in a crash loop: what is kept of thousands of crashes is bounded, and never hides
the first crash, the newest, any distinct signature or the counts.

The log is made of real output: heads of the example firmware's runs (examples/
wifi_reconnect_leak, each boot a few cycles long, its cycles starting again at 1) and the
crash dumps of the QEMU Cortex-M4 firmware (tests/fixtures/crash/qemu), each boot preceded
by the lastword header and followed by an ``mm_leak`` line, as a reboot-looping AliOS device
prints them. The generator records where it put each crash: that is the truth.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from memsleuth.analysis.crash_context import CRASH_LISTING, CrashCollector
from memsleuth.cli import main
from memsleuth.commands.common import load_model
from memsleuth.model import FIRST_KEPT
from memsleuth.parse import parse_file
from memsleuth.records import CrashDump, LastWord

REPO = Path(__file__).resolve().parents[2]
QEMU = REPO / "tests" / "fixtures" / "crash" / "qemu"
RUN = REPO / "examples" / "wifi_reconnect_leak" / "out" / "cortex-m4-leak.log"
LASTWORD = REPO / "tests" / "fixtures" / "crash" / "lastword_boot.log"
BUSFAULT = REPO / "tests" / "fixtures" / "crash" / "alios20_m4_busfault_task.log"
#: the line `dumpsys mm_leak` printed on a real device (corpus B1b, AliOS wiki)
MM_LEAK = "adress:0x80acf28 owner:0x805ae3a len:3096  type:leak\n"
BOOTS = 150
RARE = 77


def _crash_texts() -> dict[str, tuple[str, int]]:
    """Each scenario's output, and the line of its crash banner within it (read alone)."""
    paths = sorted(QEMU.glob("*.log")) + sorted((QEMU / "heap").glob("*.log"))
    out = {}
    for p in paths:
        (crash,) = (r for r in parse_file(p) if isinstance(r, CrashDump))
        out[p.stem] = (p.read_text(), crash.line - 1)
    return out


def _boot_head(cycles: int) -> list[str]:
    lines = RUN.read_text().splitlines(keepends=True)
    cuts = [i for i, line in enumerate(lines) if line.startswith("[MSCYCLE] ")]
    return lines[:cuts[cycles]]


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[str, int]]]:
    """The log, and (scenario, first line) of every crash in it, in log order."""
    texts = _crash_texts()
    names = sorted(texts)
    lastword = LASTWORD.read_text()
    out: list[str] = []
    where: list[tuple[str, int]] = []
    line = 1
    for k in range(BOOTS):
        # scenario k % 10, except that cm4_bad_fnptr crashes only once, mid-way (boot 77,
        # which an evenly spaced sample drops), and cm4_wild_busfault only in the last boot:
        # a rare signature must not be sampled away
        name = names[k % len(names)]
        if name == "cm4_bad_fnptr":
            name = "cm4_null_deref"
        if name == "cm4_wild_busfault":
            name = "cm4_undef_insn"
        if k == RARE:
            name = "cm4_bad_fnptr"
        if k == BOOTS - 1:
            name = "cm4_wild_busfault"
        head = _boot_head(2 + k % 7)
        part = [lastword, *head, MM_LEAK]
        text = "".join(part)
        line += text.count("\n")
        crash, banner = texts[name]
        where.append((name, line + banner))
        crash = crash if crash.endswith("\n") else crash + "\n"
        out.append(text + crash)
        line += crash.count("\n")
    log = tmp_path_factory.mktemp("loop") / "crash_loop.log"
    log.write_text("".join(out))
    return log, where


def _crash_json(log: Path, *args: str) -> dict:
    result = CliRunner().invoke(main, ["crash", str(log), "--json", *args])
    assert result.exit_code == 1, result.output
    return json.loads(result.stdout)


def test_every_signature_is_counted_with_its_first_and_newest_crash(loop):
    log, where = loop
    doc = _crash_json(log)
    assert doc["total"] == BOOTS and not doc["sampled"]
    assert [c["line"] for c in doc["crashes"]] == [where[-1][1]]     # the newest only
    truth: dict[str, list[int]] = {}
    for name, line in where:
        truth.setdefault(name, []).append(line)
    sigs = doc["signatures"]
    assert len(sigs) == len(truth) and doc["signatures_other"] == 0
    got = {(s["crashes"], s["first_line"], s["newest_line"]) for s in sigs}
    assert got == {(len(lines), lines[0], lines[-1]) for lines in truth.values()}
    assert sum(s["crashes"] for s in sigs) == BOOTS
    assert [s["crashes"] for s in sigs] == sorted((s["crashes"] for s in sigs), reverse=True)


def test_all_lists_a_bounded_sample_that_keeps_first_newest_and_every_signature(loop):
    log, where = loop
    doc = _crash_json(log, "--all")
    lines = [c["line"] for c in doc["crashes"]]
    every = [line for _, line in where]
    assert doc["total"] == BOOTS > CRASH_LISTING and doc["sampled"]
    assert len(lines) <= CRASH_LISTING + len(doc["signatures"]) + 2
    assert lines == sorted(set(lines)) and set(lines) <= set(every)
    assert lines[0] == every[0] and lines[-1] == every[-1]
    assert {s["first_line"] for s in doc["signatures"]} <= set(lines)
    assert where[RARE][1] in lines and where[RARE][1] not in every[::4]
    assert all(c["crashes_in_log"] == BOOTS for c in doc["crashes"])
    # a listed crash is explained as the newest-only run explains it: same cause
    newest = _crash_json(log)["crashes"][0]
    assert doc["crashes"][-1]["cause"] == newest["cause"]
    text = CliRunner().invoke(main, ["crash", str(log), "--all"]).stdout
    assert f"{BOOTS} crash dumps in the log; showing {len(lines)}" in text
    assert f"Crashes by signature ({len(doc['signatures'])} distinct)" in text


def test_the_model_counts_every_crash_boot_and_leak_line_and_keeps_a_bounded_few(loop):
    log, where = loop
    model = load_model(log)
    assert model.crashes.count == BOOTS
    assert (model.crashes.first.line, model.crashes.newest.line) == (where[0][1], where[-1][1])
    assert model.lastwords.count == BOOTS and len(model.lastwords.items()) == FIRST_KEPT + 1
    assert model.leaks.count == BOOTS and model.leaks.sampled
    assert len(model.leaks.first) == FIRST_KEPT
    analysis = CliRunner().invoke(main, ["analyze", str(log), "--json"])
    doc = json.loads(analysis.stdout)
    assert doc["contents"]["crashes"] == BOOTS and doc["contents"]["leak_candidates"] == BOOTS
    assert doc["crash"]["line"] == where[-1][1]


def test_a_crash_after_a_reboot_is_not_read_with_the_previous_boots_heap():
    uaf = list(parse_file(QEMU / "cm4_use_after_free.log"))
    collector = CrashCollector(keep=1)
    for record in uaf:
        collector(record)
    (ctx,) = collector.contexts
    assert ctx.heap_dump is not None                  # the dump printed before the crash
    collector(LastWord(line=1000))                    # the device booted again
    crash = next(r for r in uaf if isinstance(r, CrashDump))
    collector(crash)
    assert collector.contexts[0].heap_dump is None and collector.total == 2


def test_out_of_memory_counts_every_malloc_failed_but_keeps_a_few(tmp_path: Path):
    n = 3 * FIRST_KEPT
    log = tmp_path / "oom.log"
    log.write_text("WARNING, malloc failed!!!!\n" * n + BUSFAULT.read_text())
    (crash,) = _crash_json(log)["crashes"]
    oom = crash["oom"]
    assert oom["failed_total"] == n
    assert f"warned {n} time(s) before the crash (last at line {n})" in oom["reason"]
