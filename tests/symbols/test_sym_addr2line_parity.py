"""Every call site and every instruction of the fixtures symbolizes exactly like addr2line -fi."""

from __future__ import annotations

import pytest
from sym_helpers import (
    WITH_DWARF,
    expected,
    frames_of,
    matches_addr2line,
    open_fixture,
)


@pytest.mark.parametrize("name", WITH_DWARF)
def test_return_addresses_match_addr2line(name):
    exp = expected(name)
    sym = open_fixture(name)
    res = sym.symbolize([r["logged"] for r in exp["returns"]], kind="return")
    assert len(exp["returns"]) >= (10 if not name.startswith("sites") else 3)
    for r in exp["returns"]:
        loc = res[r["logged"]]
        assert loc.lookup == r["lookup"]
        assert matches_addr2line(loc, r["frames"]), (hex(r["logged"]), frames_of(loc), r)


@pytest.mark.parametrize("name", WITH_DWARF)
def test_every_instruction_matches_addr2line_as_pc(name):
    exp = expected(name)
    sym = open_fixture(name)
    res = sym.symbolize([p["pc"] for p in exp["pcs"]], kind="pc")
    bad = [(hex(p["pc"]), frames_of(res[p["pc"]]), p["frames"]) for p in exp["pcs"]
           if not matches_addr2line(res[p["pc"]], p["frames"])]
    assert not bad


@pytest.mark.parametrize("name", ["arm_thumb", "x86_64"])
def test_inline_chains_are_present(name):
    """The fixtures exercise inlining: some call sites sit 2+ frames deep."""
    exp = expected(name)
    sym = open_fixture(name)
    deep = [r for r in exp["returns"] if len(r["frames"]) >= 2]
    assert deep
    res = sym.symbolize([r["logged"] for r in deep])
    for r in deep:
        loc = res[r["logged"]]
        assert len(loc.frames) == len(r["frames"])
        # the primary label is addr2line's first line (the innermost, inlined function);
        # the real function it was inlined into is still known
        assert loc.function == r["frames"][0][0]
        assert loc.outer_function == r["frames"][-1][0]


def test_blx_call_sites_are_covered():
    exp = expected("arm_thumb")
    assert {r["call"] for r in exp["returns"]} == {"bl", "blx"}
