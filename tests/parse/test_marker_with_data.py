"""A round marker that carries data (``reconnect 12: xPortGetFreeHeapSize() = 20480``) gives
both records: the cycle, then the heap figure. Neither may be lost to the other."""

from __future__ import annotations

import json

from click.testing import CliRunner

from memsleuth.cli import main
from memsleuth.parse import parse_lines
from memsleuth.records import CycleMarker, HeapOverview


def _log(rounds: int = 60, start: int = 24000, leak: int = 64) -> list[str]:
    return [f"reconnect {n}: xPortGetFreeHeapSize() = {start - leak * n}"
            for n in range(1, rounds + 1)]


def test_both_the_marker_and_the_figure_are_read():
    records = list(parse_lines(_log(), cycle_pattern=r"^reconnect (\d+):"))
    markers = [r for r in records if isinstance(r, CycleMarker)]
    heaps = [r for r in records if isinstance(r, HeapOverview)]
    assert len(markers) == len(heaps) == 60
    assert [m.index for m in markers] == list(range(1, 61))
    assert heaps[0].free == 24000 - 64 and heaps[-1].free == 24000 - 64 * 60


def test_trend_reads_the_rate_from_marker_lines_without_options(tmp_path):
    log = tmp_path / "rounds.log"
    log.write_text("\n".join(_log()) + "\n")
    result = CliRunner().invoke(main, ["trend", str(log), "--json"])
    doc = json.loads(result.stdout)
    assert doc["x"] == "cycle"
    assert abs(doc["fit"]["slope"] + 64) < 0.5
