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
from memsleuth.analysis.dump_choice import census_dump
from memsleuth.commands.analyze import run_analyze
from memsleuth.commands.census import run_census
from memsleuth.commands.common import envelope, load_model
from memsleuth.commands.diff import run_diff
from memsleuth.commands.objects import run_objects
from memsleuth.report.analyze_text import render_analyze
from memsleuth.report.census_text import render_census
from memsleuth.report.diff_text import render_diff
from memsleuth.report.objects_text import render_objects
from memsleuth.results.analyze import HeapHealth
from memsleuth.results.census import Census
from memsleuth.results.check import Verdict
from memsleuth.results.common import ElfMatch, to_json
from memsleuth.results.diff import Attribution, Growth
from memsleuth.results.objects import ObjectsFromDumps, ObjectsFromTrace

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
    for key, kind in (("census", Census), ("heap", HeapHealth), ("elf_match", ElfMatch)):
        assert isinstance(result[key], kind), key
        assert assert_frozen_tree(result[key]) >= 1
    leak = result["leak"]
    assert isinstance(leak["objects"], ObjectsFromTrace)
    assert isinstance(leak["growth"], Growth) and isinstance(leak["attribution"], Attribution)
    assert isinstance(leak["verdict"], Verdict) and leak["verdict"].findings
    assert assert_frozen_tree(leak["verdict"]) > len(leak["verdict"].findings)
    assert result["elf_match"].verdict == "ok" and result["elf_match"].identity is not None
    render_analyze(result)
    assert "Heap health" in capsys.readouterr().out
    assert not schema_errors(envelope("analyze", result))
