"""A task's fake first return address (FreeRTOS points it at its PendSV handler) ends the
stack: it is never shown as the caller of the task's entry function."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from memsleuth.cli import main
from memsleuth.parse import parse_file
from memsleuth.records import BlockDump
from memsleuth.symbols import Symbolizer

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "freertos"
LOG, ELF = FIX / "freertos-side2.log", FIX / "freertos-side2.elf"


def test_the_pendsv_trampoline_ends_a_task_stack():
    sym = Symbolizer.open(ELF)
    traces = {a for r in parse_file(LOG) if isinstance(r, BlockDump)
              for b in r.blocks for a in b.trace}
    names = {loc.function for loc in sym.symbolize(traces).values()}
    assert "xPortPendSVHandler" in names          # the real kernel's traces do reach it
    rows = json.loads(CliRunner().invoke(main, ["census", str(LOG), "--elf", str(ELF),
                                                "--top", "0", "--json"]).stdout)["rows"]
    chains = [frame for row in rows for frame in row["chain"]]
    assert chains and not any("xPortPendSVHandler" in frame for frame in chains)
    warm = next(row for row in rows if row["function"] == "cache_warm")
    assert warm["chain"][-1].startswith("worker")    # the task entry is the last frame
