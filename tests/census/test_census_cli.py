"""census / analyze on the bundled seed-case reproduction and on bad input, through the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from schema_helpers import loads_valid

from memsleuth.cli import main

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "examples" / "wifi_reconnect_leak" / "out"
ALIOS = ROOT / "tests" / "fixtures" / "alios"
TARGETS = ["cortex-m4", "x86_64"]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def run_json(*args: str) -> tuple[int, dict]:
    code, out, _ = run(*args, "--json")
    return code, loads_valid(out)


def facts(target: str) -> dict:
    return json.loads((OUT / f"{target}-leak.json").read_text())


@pytest.mark.parametrize("target", TARGETS)
def test_seed_reproduction_timer_row_first(target: str) -> None:
    """The seed case: the leaking timers are the top row, counted as the firmware counts them."""
    log, elf = OUT / f"{target}-leak.log", OUT / f"{target}-leak.elf"
    code, data = run_json("census", str(log), "--elf", str(elf))
    assert code == 0
    assert data["schema"] == "memsleuth.census/3"
    assert data["elf_match"]["verdict"] == "ok"
    top = data["rows"][0]
    assert top["object_kind"] == "timer"
    assert top["allocator"] == "krhino_timer_dyn_create"
    assert top["function"] == "wifi_connect"
    assert top["file"].endswith("wifi_drv.c")
    # the live timer count the firmware itself reports, read straight off the census
    timers = next(o for o in data["objects"] if o["kind"] == "timer")
    assert timers["blocks"] == facts(target)["live_timers"]
    assert "krhino_timer_dyn_create" in timers["constructors"]
    # the leaking create is one call site: it holds all but the 4 timers alive in this cycle
    assert top["blocks"] == facts(target)["live_timers"] - 4


@pytest.mark.parametrize("target", TARGETS)
def test_leaking_call_site_matches_addr2line(target: str) -> None:
    """The blamed wifi_connect line is where addr2line puts the leaking create's return address."""
    f = facts(target)
    expected = f.get("leaked_timer_create_line")
    if expected is None:
        pytest.skip("facts file has no addr2line line for the leaking create")
    code, data = run_json("census", str(OUT / f"{target}-leak.log"),
                          "--elf", str(OUT / f"{target}-leak.elf"))
    top = data["rows"][0]
    assert f"{Path(top['file']).name}:{top['line']}" == expected


def test_without_elf_raw_addresses_and_unknown_row() -> None:
    code, data = run_json("census", str(ALIOS / "b2_full_1x.log"), "--top", "0")
    assert code == 4        # a block left out (corrupt header): the totals are lower bounds
    keys = {r["key"] for r in data["rows"]}
    assert "unknown" in keys                      # owner 0x0 is its own row
    assert "0x800a3c5" in keys                    # raw owner kept as an address
    unknown = next(r for r in data["rows"] if r["key"] == "unknown")
    assert unknown["blocks"] == 2 and unknown["bytes"] == 8 + 1032
    # the corrupted block is reported with its neighbours, never dropped, never counted
    (bad,) = data["corrupted"]
    assert bad["block"]["addr"] == 0x200041F0
    assert "0x801aa11" not in keys and data["totals"]["untrusted_blocks"] == 1
    assert bad["previous"]["addr"] == 0x200040D8
    assert bad["next"]["sentinel"] is True


def test_sort_by_and_top() -> None:
    log, elf = OUT / "x86_64-leak.log", OUT / "x86_64-leak.elf"
    _, by_count = run_json("census", str(log), "--elf", str(elf), "--sort", "count", "--top", "0")
    counts = [r["blocks"] for r in by_count["rows"]]
    assert counts == sorted(counts, reverse=True)
    _, by_fn = run_json("census", str(log), "--elf", str(elf), "--by", "function", "--top", "2")
    assert len(by_fn["rows"]) == 2 and by_fn["rows_total"] >= 2
    assert len({r["key"] for r in by_fn["rows"]}) == 2


def test_skip_fn_moves_blame_up_the_trace() -> None:
    log, elf = OUT / "x86_64-leak.log", OUT / "x86_64-leak.elf"
    _, data = run_json("census", str(log), "--elf", str(elf), "--skip-fn", "wifi_connect")
    top = data["rows"][0]
    assert top["object_kind"] == "timer"
    assert top["function"] == "main"


def test_elf_mismatch_is_loud_and_partial_exit() -> None:
    """A Cortex-M log against the x86-64 ELF: the owners do not fit; exit 4 and say so."""
    code, out, _ = run("census", str(OUT / "cortex-m4-leak.log"),
                       "--elf", str(OUT / "x86_64-leak.elf"))
    assert code == 4
    assert "does not match" in out


def test_analyze_summarises_the_log() -> None:
    code, data = run_json("analyze", str(OUT / "cortex-m4-leak.log"),
                          "--elf", str(OUT / "cortex-m4-leak.elf"))
    assert code == 0
    c = data["contents"]
    assert c["cycle_markers"] == facts("cortex-m4")["mscycle_markers"]
    assert c["sections"]["block_dump"] >= 1
    assert any(w["kind"] == "malloc_failed" for w in c["warnings"])
    assert data["heap"]["total"] == facts("cortex-m4")["heap_total"]
    assert data["census"]["rows"][0]["object_kind"] == "timer"


@pytest.mark.parametrize("verb", ["census", "analyze"])
def test_bad_inputs_one_line_errors(tmp_path: Path, verb: str) -> None:
    missing = tmp_path / "nope.log"
    code, _, err = run(verb, str(missing))
    assert code == 2 and err.startswith("memsleuth: error:") and "Traceback" not in err

    junk = tmp_path / "junk.log"
    junk.write_bytes(b"\xff\xfe hello\x00 world\r\nnothing to see\n" * 10)
    code, _, err = run(verb, str(junk))
    assert code == 3 and err.count("\n") == 1

    not_elf = tmp_path / "fw.elf"
    not_elf.write_text("not an elf")
    code, _, err = run(verb, str(OUT / "x86_64-leak.log"), "--elf", str(not_elf))
    assert code == 3 and err.startswith("memsleuth: error:") and err.count("\n") == 1


def test_console_script_runs_without_traceback(tmp_path: Path) -> None:
    exe = shutil.which("memsleuth")
    cmd = [exe] if exe else [sys.executable, "-m", "memsleuth"]
    proc = subprocess.run([*cmd, "census", str(tmp_path / "missing.log")],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_analyze_adds_trend_forecast_objects_and_attribution() -> None:
    f = facts("cortex-m4")
    code, data = run_json("analyze", str(OUT / "cortex-m4-leak.log"),
                          "--elf", str(OUT / "cortex-m4-leak.elf"))
    leak = data["leak"]
    assert leak["verdict"]["leak"] is True
    assert leak["trend"]["classification"] == "steady_leak"
    at = leak["trend"]["forecast"]["exhaustion"]["at"]
    assert abs(at - f["failed_cycle"]) <= 0.05 * f["failed_cycle"]
    assert "wifi_drv.c:50" in leak["attribution"]["text"]
    assert any("created 5, deleted 4" in s for s in leak["objects"]["summary"])
    assert leak["growth"]["rows"][0]["label"].startswith("wifi_connect")
    assert data["crash"] is None


def test_analyze_noleak_run_is_clean() -> None:
    code, data = run_json("analyze", str(OUT / "cortex-m4-noleak.log"),
                          "--elf", str(OUT / "cortex-m4-noleak.elf"))
    assert code == 0
    assert data["leak"]["verdict"]["leak"] is False


def test_analyze_puts_the_crash_first() -> None:
    qemu = ROOT / "tests" / "fixtures" / "crash" / "qemu"
    code, out, _ = run("analyze", str(qemu / "cm4_use_after_free.log"),
                       "--elf", str(qemu / "cm4_use_after_free.elf"))
    assert code == 0
    lines = out.splitlines()
    crash_at = next(i for i, line in enumerate(lines) if line.startswith("Crash at line"))
    health_at = next(i for i, line in enumerate(lines) if line.startswith("Heap health"))
    assert crash_at < health_at
    _, data = run_json("analyze", str(qemu / "cm4_use_after_free.log"),
                       "--elf", str(qemu / "cm4_use_after_free.elf"))
    assert data["crash"]["cause"]["category"] == "use_after_free"
    assert data["crash"]["faulting"]["function"] == "session_deliver"


def test_report_json_and_elf_match_on_the_bundled_example(tmp_path: Path) -> None:
    from memsleuth.commands.report import run_report

    data, _ = run_report(OUT / "cortex-m4-leak.log", OUT / "cortex-m4-leak.elf")
    assert data["elf"]["match"].verdict == "ok"
    code, doc = run_json("report", str(OUT / "cortex-m4-leak.log"), "--elf",
                         str(OUT / "cortex-m4-leak.elf"), "-o", str(tmp_path / "r.html"))
    assert code == 0 and doc["schema"] == "memsleuth.report/3"
    assert doc["bytes"] == (tmp_path / "r.html").stat().st_size


def test_log_cut_in_the_final_dump(tmp_path: Path) -> None:
    """The device died mid-dump: the last complete dump is used and the cut one is flagged."""
    lines = (OUT / "x86_64-leak.log").read_text().splitlines(keepends=True)
    start = max(i for i, line in enumerate(lines) if "all memory blocks" in line)
    cut = tmp_path / "cut.log"
    cut.write_text("".join(lines[:start + 200]))
    code, data = run_json("census", str(cut), "--elf", str(OUT / "x86_64-leak.elf"))
    assert code == 0
    assert not data["snapshot"]["partial"]
    assert "partial" in data["notes"][0]
    code, data = run_json("census", str(cut), "--elf", str(OUT / "x86_64-leak.elf"),
                          "--snapshot", "-1")
    assert code == 4
    assert data["snapshot"]["partial"] and "log ended" in data["snapshot"]["partial_reason"]
    assert data["totals"]["used_blocks"] > 100      # what was printed is kept


def test_foreign_line_inside_the_dumps_heap_table_is_skipped(tmp_path: Path) -> None:
    """Another task's line between the rule and [HEAP]| must not cost the user the dump."""
    lines = (OUT / "cortex-m4-leak.log").read_text().splitlines(keepends=True)
    at = max(i for i, line in enumerate(lines) if line.startswith("[HEAP]|"))
    lines.insert(at, "[wifi] event 42\r\n")
    log = tmp_path / "interleaved.log"
    log.write_text("".join(lines))
    code, data = run_json("census", str(log), "--elf", str(OUT / "cortex-m4-leak.elf"))
    assert code == 0
    assert data["snapshot"]["index"] == data["snapshots"] - 1     # the newest dump, whole
    assert not data["snapshot"]["partial"] and data["snapshot"]["skipped_lines"] == 1


@pytest.mark.parametrize("verb", ["census", "analyze", "diff", "objects"])
def test_every_verb_flags_a_wrong_elf(verb: str) -> None:
    """Cortex-M log, x86-64 ELF: whatever the verb, exit 4 and say the ELF does not match."""
    result = CliRunner().invoke(main, [verb, str(OUT / "cortex-m4-leak.log"),
                                       "--elf", str(OUT / "x86_64-leak.elf")])
    assert result.exit_code == 4
    # the log prints its build id, so the mismatch is certain and names both ids
    assert "does not match" in result.output or "the ELF is another build" in result.output


@pytest.mark.parametrize("verb", ["analyze", "trend", "diff"])
def test_a_cut_section_makes_the_result_partial(tmp_path: Path, verb: str) -> None:
    lines = (OUT / "x86_64-leak.log").read_text().splitlines(keepends=True)
    start = max(i for i, line in enumerate(lines) if "all memory blocks" in line)
    cut = tmp_path / "cut.log"
    cut.write_text("".join(lines[:start + 200]))
    result = CliRunner().invoke(main, [verb, str(cut)])
    assert result.exit_code == 4, result.output


def test_report_header_says_why_the_elf_does_not_match(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = CliRunner().invoke(main, ["report", str(OUT / "cortex-m4-leak.log"), "--elf",
                                       str(OUT / "x86_64-leak.elf"), "-o", str(out)])
    assert result.exit_code == 4
    # the log prints its build id: the header says it is another build, with both ids
    assert "mismatch: the ELF is another build" in out.read_text()


@pytest.mark.parametrize("log", ["vendor_stress/out/cortex-m4-leak.log",
                                 "vendor_stress/out/x86_64-frag.log",
                                 "wifi_reconnect_leak/out/cortex-m4-leak.log"])
def test_census_reads_the_same_dumps_without_looking_for_rounds(log: str, monkeypatch) -> None:
    """census skips the round-marker search (start-up); on logs with the vendor's own round
    lines ('[stress] round N/2000') and the agent's, its answer is the one a read that
    detects the rounds gives."""
    import memsleuth.commands.census as census_command

    path = ROOT / "examples" / log
    args = ["census", str(path), "--elf", str(path.with_suffix(".elf")), "--top", "0"]
    code, fast = run_json(*args)
    real = census_command.load_model

    def with_rounds(*a, **kw):
        assert kw.pop("rounds") is False
        return real(*a, **kw)

    monkeypatch.setattr(census_command, "load_model", with_rounds)
    code_rounds, slow = run_json(*args)
    assert (code, fast) == (code_rounds, slow)
    assert fast["snapshots"] > 1 and fast["rows"]
