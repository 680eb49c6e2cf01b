"""`trend` on a log whose only [HEAP] tables are inside block dumps makes its curve of them,
one point per dump, and says so (exit 3 while they are too few to judge).

Real output: our QEMU firmware's heap-exhaustion run (one agent dump with its nested
overview, then the crash), and a real example run with its cycle markers and per-cycle
tables taken out, leaving the three block dumps and their nested tables.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from memsleuth.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_one_nested_table(tmp_path: Path) -> None:
    log = ROOT / "tests" / "fixtures" / "crash" / "qemu" / "heap" / "cm4_heap_oom.log"
    result = CliRunner().invoke(main, ["trend", str(log)])
    assert result.exit_code == 3
    assert "1 point(s) by block dump" in result.output
    assert "one point per block dump (1), from the heap statistics printed inside it" \
        in result.output


def test_dumps_without_markers(tmp_path: Path) -> None:
    lines = (ROOT / "examples" / "wifi_reconnect_leak" / "out" / "cortex-m4-leak.log"
             ).read_text().splitlines(keepends=True)
    kept, skip = [], 0
    for line in lines:
        if line.startswith("[MSCYCLE]"):
            continue
        if line.startswith("========== Heap Info"):   # a standalone table: 6 lines
            skip = 6
        if skip:
            skip -= 1
            continue
        kept.append(line)
    text = "".join(kept)
    dumps = text.count("all memory blocks")
    assert dumps >= 2 and text.count("[HEAP]|") == dumps     # only the nested tables left
    log = tmp_path / "dumps_only.log"
    log.write_text(text)
    result = CliRunner().invoke(main, ["trend", str(log)])
    assert result.exit_code == 3
    assert f"{dumps} point(s) by block dump" in result.output
    assert f"one point per block dump ({dumps})" in result.output
