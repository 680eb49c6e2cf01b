"""The HTML report: sections per input, escaping of log text, size bound, the CLI."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from report_helpers import TARGETS, example

from memsleuth.cli import main
from memsleuth.commands.report import run_report
from memsleuth.report.html import icicle, render_html
from memsleuth.results.census import (
    BlockInfo,
    Census,
    CensusRow,
    CensusSnapshot,
    CensusTotals,
    CorruptedBlock,
    ObjectKindCount,
)
from memsleuth.results.common import ElfMatch, InlineFrame
from memsleuth.results.diff import AttributedSite, Attribution, DiffRow, SnapshotRef
from memsleuth.results.objects import (
    ObjectCycles,
    ObjectsFromTrace,
    PerCycle,
    TraceKind,
    TraceSite,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CRASH_LOG = FIXTURES / "crash" / "alios20_m4_busfault_task.log"
EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>&"\''


def _sections(page: str) -> set[str]:
    return set(re.findall(r'<section id="([a-z-]+)"', page))


def _overviews(n: int = 12) -> list[dict]:
    return [{"x": i, "line": 10 + i, "free": 50_000 - 100 * i, "used": 30_000 + 100 * i,
             "min_free": 49_000 - 100 * i, "max_free_block": 20_000, "pool_free": None}
            for i in range(n)]


def _minimal() -> dict:
    return {"version": "0", "log": {"path": "dev.log", "lines": 10, "bytes": 100},
            "elf": None, "notes": [], "heap": None, "overviews": _overviews(),
            "overview_x": "sample"}


def _script_blocks(page: str) -> list[str]:
    return re.findall(r"<script>(.*?)</script>", page, flags=re.S)


def test_only_overviews_gives_heap_chart_and_nothing_else():
    page = render_html(_minimal())
    assert _sections(page) == {"summary", "heap"}
    assert page.count('<svg class="chart"') == 1 and "<polyline" in page
    assert page.startswith("<!DOCTYPE html>") and "@@" not in page


def test_no_external_resources():
    page = render_html(_minimal())
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "default-src 'none'" in page           # CSP: even a missed escape cannot fetch


def test_every_log_string_is_escaped():
    data = _minimal()
    data["log"] = {"path": EVIL, "lines": 1, "bytes": 1, "sections": {EVIL: 1}}
    data["elf"] = {"path": EVIL, "build_id": EVIL, "sha256": "ab" * 32,
                   "match": ElfMatch(verdict="mismatch", reason=EVIL)}
    data["notes"] = [EVIL]
    data["trend"] = {"verdict_text": EVIL, "verdict_css": EVIL, "slope_text": EVIL,
                     "fit_line": ((0, 1.0), (5, 0.5)), "warmup": (0, 1),
                     "exhaustion": {"x": 20, "y": 0, "text": EVIL, "low": 18, "high": 22}}
    data["overview_rules"] = [(3.0, EVIL)]
    row = CensusRow(key=EVIL, owner=1, owners=(1,), site_address=1, function=EVIL, file=EVIL,
                    line=3, inlined=(InlineFrame(function=EVIL, file=EVIL, line=3),
                                     InlineFrame(function=EVIL, file=EVIL, line=4)),
                    label=EVIL, object_kind=EVIL, allocator=EVIL, chain=(EVIL, EVIL), blocks=1,
                    bytes=10, share=1.0, min_size=10, max_size=10, sample_blocks=(1,))
    block = BlockInfo(line=1, addr=1, used=True, size=10, sentinel=False, dye=None,
                      corrupted=True, owner=1, site=EVIL)
    data["census"] = Census(
        snapshot=CensusSnapshot(index=0, line=1, end_line=None, variant=EVIL, partial=True,
                                partial_reason=EVIL, skipped_lines=0),
        totals=CensusTotals(used_blocks=1, used_bytes=10, free_blocks=0, free_bytes=0,
                            largest_free=0, free_listed=True, sites=1),
        by="site", sort="bytes", rows=(row,), rows_total=1,
        corrupted=(CorruptedBlock(block=block, previous=replace(block, site=EVIL), next=None),),
        objects=(ObjectKindCount(kind=EVIL, blocks=1, bytes=10, sites=1, constructors=(EVIL,)),),
        wrappers=(),
    )
    data["stacks"] = [((EVIL, EVIL), 10)]
    data["growth"] = {"x": [0, 1, 2], "x_kind": EVIL,
                      "sites": [{"label": EVIL, "bytes": [1, 2, 3], "delta": 2, "slope": 1.0,
                                 "pattern": EVIL}]}
    data["diff"] = {
        "before": SnapshotRef(log=EVIL, index=0, line=1, cycle=None, partial=False, used_bytes=1),
        "after": SnapshotRef(log=EVIL, index=1, line=2, cycle=None, partial=False, used_bytes=2),
        "rows": [DiffRow(key=EVIL, label=EVIL, function=EVIL, file=EVIL, line=1, inlined=(),
                         object_kind=EVIL, status="new", blocks_before=0, blocks_after=1,
                         blocks_delta=1, bytes_before=0, bytes_after=1, bytes_delta=1)],
        "rows_total": 1, "blocks_before": 0, "blocks_after": 1}
    site = TraceSite(kind=EVIL, key=EVIL, label=EVIL, function=EVIL, file=EVIL, line=1,
                     inlined=(), callers=(1,), created=1, deleted=0, alive=1, lost=0,
                     late_deletes=0, startup=0, pending=0, leaked=1, created_per_cycle=1,
                     cycles_leaking=1, leak_per_cycle=1.0, steady=True, recurring=False)
    data["objects"] = ObjectsFromTrace(
        grace=1, events=1, seq_gaps=0, live_handles=1, summary=(EVIL,),
        cycles=ObjectCycles(markers=2, complete=1, judged=1, first_marker=1, last_marker=2),
        kinds=(TraceKind(kind=EVIL, created=1, deleted=0, alive=1, lost=0, unmatched_deletes=0,
                         kind_mismatch=0, leaked=1, leak_per_cycle=1.0,
                         per_cycle=PerCycle(created=1, deleted=0, net=1, share=1.0,
                                            mean_net=1.0, cycles=1)),),
        sites=(site,), leaks=(site,))
    data["decline"] = Attribution(
        decline_per_x=1.0, x="cycle", method="dumps", explained=1.0, text=EVIL,
        sites=(AttributedSite(key=EVIL, label=EVIL, object_kind=EVIL, bytes_per_x=1.0,
                              share=1.0),))
    frame = {"address": 1, "function": EVIL, "file": EVIL, "line": 1, "source": EVIL,
             "inlined": [{"function": EVIL, "file": EVIL, "line": 2}, {"function": EVIL}]}
    block = {"addr": 1, "size": 4, "used": True, "corrupted": True, "owner": 1,
             "owner_function": EVIL, "owner_where": EVIL}
    data["crashes"] = [{
        "line": 1, "end_line": 2, "kind": EVIL, "arch": EVIL, "crash_time": EVIL,
        "current_task": EVIL, "partial": True, "partial_reason": EVIL,
        "cause": {"category": EVIL, "summary": EVIL, "details": [EVIL], "fault_address": 4,
                  "fault_address_source": EVIL},
        "faulting_function": EVIL, "faulting_where": EVIL,
        "call_stack": {"frames": [frame]}, "context": {"task": EVIL},
        "heap": {"source": EVIL, "hits": [{"text": EVIL, "block": block, "prev": block}]},
        "tasks": [{"name": EVIL, "state": EVIL, "prio": 1, "stack_size": 1, "min_free": 1,
                   "status": EVIL, "crashed": True}],
        "registers": {EVIL: 1}, "notes": [EVIL],
    }]
    page = render_html(data)
    assert _sections(page) == {"summary", "heap", "growth", "census", "flame", "diff",
                               "objects", "crash"}
    assert len(_script_blocks(page)) == 2          # only ours
    assert "<img" not in page and "onerror=alert(1)>" not in page
    assert 'alert("x")' not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    # No raw quote from the log can close an attribute.
    assert "\"'" not in page.replace('"\'"', "")


def test_injection_through_a_real_log(tmp_path: Path):
    """A task name from a device crash dump is log text like any other."""
    log = tmp_path / "evil.log"
    log.write_text(CRASH_LOG.read_text().replace("app_task", "<script>alert(1)</script>"))
    data, _ = run_report(log, None)
    page = render_html(data)
    assert "crash" in _sections(page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert all("alert" not in block for block in _script_blocks(page))
    assert len(_script_blocks(page)) == 2


def test_crash_log_has_crash_panel_and_no_leak_sections():
    data, stacks = run_report(CRASH_LOG, None)
    page = render_html(data)
    sections = _sections(page)
    assert "crash" in sections and 'data-crash="1"' in page
    assert not sections & {"growth", "diff"}
    assert "Call stack" in page


def test_icicle_bounds_its_size():
    stacks = [((f"root{i % 3}", f"mid{i % 50}", f"leaf{i}"), 1 + i % 7) for i in range(60_000)]
    svg = icicle(stacks)
    assert len(svg) < 400_000                      # sub-pixel frames are not drawn
    assert svg.count("<rect") < 3_000


def test_long_series_are_thinned():
    data = _minimal()
    data["overviews"] = _overviews(50_000)
    assert len(render_html(data)) < 200_000


@pytest.mark.parametrize("target", TARGETS)
def test_example_report_sections_and_size(target: str, tmp_path: Path):
    log, elf = example(target)
    out, folded = tmp_path / "r.html", tmp_path / "r.folded"
    result = CliRunner().invoke(
        main, ["report", str(log), "--elf", str(elf), "-o", str(out), "--folded", str(folded)])
    assert result.exit_code in (0, 4), result.output
    page = out.read_text(encoding="utf-8")
    assert len(page.encode()) < 2_000_000
    assert {"summary", "heap", "growth", "census", "flame", "diff", "objects"} <= _sections(page)
    assert "crash" not in _sections(page)
    assert "sha256" in page and "fitted leak line" in page   # ELF identity, the fit
    assert 'class="exhaust"' in page                           # forecast exhaustion point
    # The leaking timers are the top census row and the heaviest folded stack.
    lines = folded.read_text().splitlines()
    assert "wifi_connect" in lines[0] and "krhino_timer_dyn_create" in lines[0]
    assert lines[0].split(";")[0].startswith("main")
    data, _ = run_report(log, elf)
    assert sum(int(x.rsplit(" ", 1)[1]) for x in lines) == data["census"].totals.used_bytes


def test_cli_errors_are_one_line(tmp_path: Path):
    empty = tmp_path / "empty.log"
    empty.write_text("nothing here\n")
    result = CliRunner().invoke(main, ["report", str(empty), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 3 and "no heap, block-dump" in result.output
    result = CliRunner().invoke(main, ["report", str(tmp_path / "missing.log")])
    assert result.exit_code == 2


def test_truncated_log_is_reported_partial(tmp_path: Path):
    log, elf = example("x86_64")
    lines = log.read_text().splitlines(keepends=True)
    last_dump = max(i for i, line in enumerate(lines) if "all memory blocks" in line)
    cut = tmp_path / "cut.log"
    cut.write_text("".join(lines[: last_dump + 12]))     # the last block dump is cut short
    out = tmp_path / "r.html"
    result = CliRunner().invoke(main, ["report", str(cut), "--elf", str(elf), "-o", str(out)])
    assert result.exit_code == 4, result.output
    page = out.read_text()
    assert 'data-section="notes"' in page and "is partial" in page
