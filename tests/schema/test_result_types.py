"""Every public analysis entry point returns a frozen dataclass tree, and the renderers take it.

The results are the contract between analysis and output (issue 11): a renderer reads
attributes of these types, `--json` goes through one serializer (``results.common.to_json``),
and nothing downstream can change a result after the analysis made it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from schema_helpers import schema_errors

from memsleuth.analysis.census import Attributor, census
from memsleuth.analysis.check import Thresholds
from memsleuth.analysis.dump_choice import census_dump
from memsleuth.commands.analyze import run_analyze
from memsleuth.commands.census import run_census
from memsleuth.commands.check import render_check, run_check
from memsleuth.commands.common import envelope, load_model
from memsleuth.commands.crash import run_crash
from memsleuth.commands.diff import run_diff
from memsleuth.commands.objects import run_objects
from memsleuth.commands.trend import run_trend
from memsleuth.report.analyze_text import render_analyze
from memsleuth.report.census_text import render_census
from memsleuth.report.crash_text import render_crash, render_crashes
from memsleuth.report.diff_text import render_diff
from memsleuth.report.objects_text import render_objects
from memsleuth.report.trend_text import render_trend
from memsleuth.results.analyze import AnalyzeOutput, Contents, HeapHealth
from memsleuth.results.census import Census
from memsleuth.results.check import CheckOutput, LeakReport, Verdict
from memsleuth.results.common import ElfMatch, extend, to_json
from memsleuth.results.crash import (
    ArmV7AFault,
    CortexMFault,
    CrashOutput,
    ExplainedCrash,
    OtherFault,
    RiscvFault,
    XtensaFault,
)
from memsleuth.results.diff import Attribution, Growth
from memsleuth.results.objects import ObjectsFromDumps, ObjectsFromTrace
from memsleuth.results.trend import Trend, TrendOutput

REPO = Path(__file__).resolve().parents[2]
LEAK = REPO / "examples" / "wifi_reconnect_leak" / "out" / "cortex-m4-leak.log"
ELF = LEAK.with_suffix(".elf")


def assert_frozen_tree(value: Any, path: str = "result") -> int:
    """Every dataclass in the tree is frozen (assignment raises) and holds no list or dict of
    results a caller could change in place; returns how many dataclasses were checked."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        first = dataclasses.fields(value)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, first, getattr(value, first))
        return 1 + sum(assert_frozen_tree(getattr(value, f.name), f"{path}.{f.name}")
                       for f in dataclasses.fields(value))
    assert not isinstance(value, list), f"{path} is a list (a tuple keeps the result frozen)"
    if isinstance(value, tuple):
        return sum(assert_frozen_tree(v, f"{path}[{i}]") for i, v in enumerate(value))
    return 0


@pytest.fixture(scope="module")
def leak_model() -> Any:
    return load_model(LEAK)


def test_census_is_a_frozen_tree_the_renderer_and_serializer_take(leak_model, capsys) -> None:
    dump, _ = census_dump(leak_model, None)
    result = census(dump, Attributor(None))
    assert assert_frozen_tree(result) > len(result.rows)
    assert result.rows and all(isinstance(r.owner, int) for r in result.rows)
    render_census(result)
    assert f"{result.totals.used_blocks:,} live blocks" in capsys.readouterr().out


def test_census_document_is_the_result_plus_its_inputs() -> None:
    doc, partial = run_census(LEAK, ELF, None, "site", "bytes", 5, ())
    assert assert_frozen_tree(doc) > 5 and not partial
    data = envelope("census", doc)
    assert not schema_errors(data)
    assert data["rows"] == to_json(doc.rows) and len(data["rows"]) == 5
    # one field, one meaning: the row's owner is a raw owner the device printed
    assert all(row["owner"] in row["owners"] for row in data["rows"])


def test_diff_growth_and_attribution_are_frozen_and_rendered(capsys) -> None:
    doc = run_diff(LEAK, None, ELF, None)
    assert isinstance(doc.growth, Growth) and isinstance(doc.attribution, Attribution)
    assert assert_frozen_tree(doc) > len(doc.rows) + len(doc.growth.rows)
    render_diff(doc)
    assert "attribution:" in capsys.readouterr().out
    assert not schema_errors(envelope("diff", doc))


@pytest.mark.parametrize("log", [LEAK, REPO / "tests" / "fixtures" / "alios" / "b3_full.log"])
def test_objects_from_a_trace_or_the_dumps_are_frozen_and_rendered(log: Path, capsys) -> None:
    elf = log.with_suffix(".elf")
    doc = run_objects(log, elf if elf.exists() else None, 1, None)
    assert isinstance(doc, ObjectsFromTrace if log == LEAK else ObjectsFromDumps)
    assert assert_frozen_tree(doc) >= 1 + len(doc.kinds)
    render_objects(doc)
    said = doc.summary[0] if doc.summary else "no block owned by a kernel-object constructor"
    assert said in capsys.readouterr().out
    assert not schema_errors(envelope("objects", doc))


def test_analyze_parts_elf_match_and_health_are_frozen(capsys) -> None:
    result, partial = run_analyze(LEAK, ELF, 5)
    assert not partial
    assert isinstance(result, AnalyzeOutput)
    for key, kind in (("census", Census), ("heap", HeapHealth), ("elf_match", ElfMatch),
                      ("contents", Contents), ("leak", LeakReport)):
        assert isinstance(getattr(result, key), kind), key
        assert assert_frozen_tree(getattr(result, key)) >= 1
    leak = result.leak
    assert isinstance(leak.objects, ObjectsFromTrace)
    assert isinstance(leak.growth, Growth) and isinstance(leak.attribution, Attribution)
    assert isinstance(leak.verdict, Verdict) and leak.verdict.findings
    assert assert_frozen_tree(leak.verdict) > len(leak.verdict.findings)
    assert isinstance(leak.trend, Trend) and assert_frozen_tree(leak.trend) > 20
    assert result.elf_match.verdict == "ok" and result.elf_match.identity is not None
    render_analyze(result)
    assert "Heap health" in capsys.readouterr().out
    assert not schema_errors(envelope("analyze", result))


@pytest.mark.parametrize("name", ["cm4_heap_overflow", "cm4_heap_oom"])
def test_crash_is_a_frozen_tree_the_renderer_and_serializer_take(name: str, capsys) -> None:
    """The heap overflow has Cortex-M fault registers and a heap hit; the out-of-memory crash
    is a fatal error without them, with the owners that filled the heap."""
    log = REPO / "tests" / "fixtures" / "crash" / "qemu" / "heap" / f"{name}.log"
    doc = run_crash(log, log.with_suffix(".elf"), True)
    assert isinstance(doc, CrashOutput) and len(doc.crashes) == doc.total == 1
    crash = doc.crashes[0]
    assert isinstance(crash.fault, CortexMFault if name == "cm4_heap_overflow" else OtherFault)
    assert crash.elf_match.verdict == "ok"
    assert (crash.heap.hits if name == "cm4_heap_overflow" else crash.oom.top_owners)
    # heap hit, prev/next blocks, frames, inline chains: every level is frozen
    assert assert_frozen_tree(doc) > len(crash.call_stack.frames)
    assert isinstance(crash.call_stack.frames[0].inlined, tuple)
    render_crashes(doc)
    assert crash.cause.summary.split(":")[0] in capsys.readouterr().out
    data = envelope("crash", doc)
    assert not schema_errors(data)
    assert data["crashes"][0]["cause"] == to_json(crash.cause)


def test_every_fault_decoding_has_its_own_type() -> None:
    from memsleuth.analysis.crash import explain_crash
    from memsleuth.parse import parse_file
    from memsleuth.records import CrashDump

    fix = REPO / "tests" / "fixtures" / "crash"
    for log, kind in (("riscv64_load_fault.log", RiscvFault),
                      ("alios1x_xtensa_head.log", XtensaFault),
                      ("armv7a_data_abort.log", ArmV7AFault)):
        dump = next(r for r in parse_file(fix / log) if isinstance(r, CrashDump))
        result = explain_crash(dump, None)
        assert type(result.fault) is kind, log
        assert assert_frozen_tree(result) > 3
        render_crash(result)
        assert not schema_errors(envelope("crash", CrashOutput(
            log=log, elf=None, total=1, elf_identity=None, sampled=False, signatures=(),
            signatures_other=0,
            crashes=(extend(ExplainedCrash, result, crashes_in_log=1, elf_match=None),))))


def test_trend_and_check_are_frozen_trees_with_one_shape_per_field(capsys) -> None:
    """The trend (also check's and analyze's) is one frozen tree; a curve too short to fit
    has warmup and evidence null, not placeholder objects (schema 3)."""
    trend = run_trend(LEAK, None, "auto", None, "auto")
    assert isinstance(trend, TrendOutput) and trend.classification == "steady_leak"
    assert assert_frozen_tree(trend) > len(trend.series)
    assert trend.warmup is not None and trend.evidence is not None and trend.forecast
    render_trend(trend)
    assert "steady leak" in capsys.readouterr().out
    assert not schema_errors(envelope("trend", trend))
    short = run_trend(LEAK, None, "auto", 4, "auto")
    assert short.classification == "insufficient" and short.points == 4
    assert short.warmup is None and short.evidence is None and short.fit is None
    assert "too few" in short.reason and not schema_errors(envelope("trend", short))

    check = run_check(LEAK, ELF, Thresholds())
    assert isinstance(check, CheckOutput) and isinstance(check.trend, Trend)
    assert assert_frozen_tree(check) > assert_frozen_tree(check.trend)
    render_check(check)
    assert check.verdict.reason in capsys.readouterr().out
    assert not schema_errors(envelope("check", check))
