"""Folded stacks: outermost first, merged, weights = live bytes, frame names made safe."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from memsleuth.analysis.census import Attributor, census
from memsleuth.analysis.stacks import stack_of_row, stacks_from_census, stacks_from_dump
from memsleuth.records import BlockDump, HeapBlock
from memsleuth.report.folded import clean_frame, folded_lines, write_folded
from memsleuth.results.census import CensusRow


def _row(**kw) -> CensusRow:
    base = {"key": "k", "owner": 0x1000, "owners": (), "site_address": 0x1000, "function": None,
            "file": None, "line": None, "inlined": (), "label": "", "object_kind": None,
            "allocator": None, "chain": (), "blocks": 1, "bytes": 0, "share": 0.0,
            "min_size": None, "max_size": None, "sample_blocks": ()}
    base.update(kw)
    if "owner" in kw:
        base["site_address"] = kw["owner"]
    base["chain"] = tuple(base["chain"])
    return CensusRow(**base)


def test_chain_is_reversed_to_outermost_first():
    row = _row(chain=["krhino_timer_dyn_create (kernel_timer.c:23)", "wifi_connect (wifi_drv.c:50)",
                      "main (main.c:153)"], bytes=96 * 531)
    assert stack_of_row(row) == ("main (main.c:153)", "wifi_connect (wifi_drv.c:50)",
                                 "krhino_timer_dyn_create (kernel_timer.c:23)")


def test_census_with_chains_folds_and_merges():
    chain = ["alloc_fn (a.c:1)", "mid (b.c:2)", "main (m.c:3)"]
    rows = (
        _row(key="a", chain=chain, bytes=100),
        _row(key="b", chain=chain, bytes=20),          # same stack, other site key: merged
        _row(key="c", chain=["x (x.c:9)", "main (m.c:3)"], bytes=50),
        _row(key="d", function="solo", file="/src/s.c", line=7, bytes=30, object_kind="timer"),
        _row(key="unknown", owner=0, bytes=16),
        _row(key="zero", chain=chain, bytes=0),         # no live bytes: no line
    )
    census_result = replace(census(_dump(), Attributor(None)), rows=rows)
    lines = folded_lines(stacks_from_census(census_result))
    assert lines == [
        "main (m.c:3);mid (b.c:2);alloc_fn (a.c:1) 120",
        "main (m.c:3);x (x.c:9) 50",
        "s.c;solo;solo (s.c:7);[timer] 30",
        "[unknown owner] 16",
    ]
    # Every line is "stack weight" with the weight after the last space.
    for line in lines:
        stack, weight = line.rsplit(" ", 1)
        assert int(weight) > 0 and "\n" not in stack


def test_unresolved_owner_keeps_its_address():
    assert stack_of_row(_row(owner=0x40184E)) == ("[unresolved]", "0x40184e")


def test_frame_names_cannot_break_the_format():
    assert clean_frame("evil;frame\nnext 12") == "evil_frame_next 12"
    assert clean_frame("  ") == "?"
    [line] = folded_lines([(("a;b", "c\nd"), 5)])
    assert line == "a_b;c_d 5"


def _dump() -> BlockDump:
    blocks = [
        HeapBlock(line=1, addr=0x100, used=True, size=64, owner=0x10, trace=(0x20, 0x30)),
        HeapBlock(line=2, addr=0x200, used=True, size=32, owner=0x10, trace=(0x20, 0x31)),
        HeapBlock(line=3, addr=0x300, used=False, size=500, owner=0),
        HeapBlock(line=4, addr=0x400, used=True, size=8, owner=0x11),
        HeapBlock(line=5, addr=0x500, used=True, size=None, owner=0, sentinel=True),
    ]
    return BlockDump(line=1, variant="B3", blocks=blocks)


def test_stacks_from_dump_per_block_traces():
    stacks = dict(stacks_from_dump(_dump(), Attributor(None)))
    # Without an ELF the frames are raw addresses, outermost (last trace entry) first.
    assert stacks[("0x30", "0x20", "0x10")] == 64
    assert stacks[("0x31", "0x20", "0x10")] == 32
    assert stacks[("[unresolved]", "0x11")] == 8
    assert sum(stacks.values()) == 64 + 32 + 8       # free and sentinel blocks excluded


def test_census_and_dump_stacks_agree_on_total(tmp_path: Path):
    dump = _dump()
    result = census(dump, Attributor(None))
    total = sum(w for _, w in stacks_from_census(result))
    assert total == result.totals.used_bytes == sum(
        w for _, w in stacks_from_dump(dump, Attributor(None)))
    out = tmp_path / "x.folded"
    n = write_folded(out, stacks_from_dump(dump, Attributor(None)))
    text = out.read_text()
    assert n == len(text.splitlines()) == 3 and text.endswith("\n")
