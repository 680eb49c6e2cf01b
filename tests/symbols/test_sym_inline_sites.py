"""Inlined code and data in code: the label is the innermost frame, sites are whole chains.

``sites_*.elf`` come from real compilers (tests/fixtures/symbols/src/sites.c, build.sh):
a ``static inline buf_new`` called from lines 21 and 24 of ``open_both``, and a constant
table placed in ``.text``. Every expectation is addr2line's (expected/sites_*.json).
"""

from __future__ import annotations

import pytest
from sym_helpers import expected, open_fixture

from memsleuth.analysis.census import Attributor, census
from memsleuth.records import BlockDump, HeapBlock

NAMES = ["sites_arm", "sites_x86_64"]


def _inline_returns(name: str) -> list[dict]:
    rets = [r for r in expected(name)["returns"] if r["frames"][0][0] == "buf_new"]
    assert len(rets) == 2
    return rets


@pytest.mark.parametrize("name", NAMES)
def test_label_is_the_innermost_frame(name):
    sym = open_fixture(name)
    for r in _inline_returns(name):
        loc = sym.symbolize_one(r["logged"])
        assert loc.function == r["frames"][0][0] == "buf_new"
        assert loc.outer_function == r["frames"][-1][0] == "open_both"
        assert [[f.function, f.file, f.line] for f in loc.frames] == r["frames"]


@pytest.mark.parametrize("name", NAMES)
def test_two_call_sites_of_one_inline_function_are_two_census_rows(name):
    rets = _inline_returns(name)
    blocks = [HeapBlock(line=i + 2, addr=0x1000 + 0x40 * i, used=True, size=16 + 8 * (i % 2),
                        owner=rets[i % 2]["logged"]) for i in range(6)]
    dump = BlockDump(line=1, variant="b3", blocks=blocks)
    result = census(dump, Attributor(open_fixture(name)), top=None)
    rows = [r for r in result.rows if r.function == "buf_new"]
    assert len(rows) == 2, [r.key for r in result.rows]
    for row in rows:
        exp = next(r for r in rets if r["logged"] == row.owner)
        assert row.blocks == 3
        assert (row.file, row.line) == (exp["frames"][0][1], exp["frames"][0][2])
        # every inline level with its own location
        assert [[f.function, f.file, f.line] for f in row.inlined] == exp["frames"]
        assert row.label.endswith(f"inlined into open_both (sites.c:{exp['frames'][1][2]})")


@pytest.mark.parametrize("name", NAMES)
def test_address_in_a_constant_table_in_text_is_that_table(name):
    sym = open_fixture(name)
    (table,) = [s for s in sym._image.objects.matching("crc_table")]
    sec = sym._image.section_at(table.start)
    assert sec is not None and sec.kind == "code"   # the table really sits in code
    for addr in (table.start, table.start + 0x10, table.end - 1):
        loc = sym.symbolize_one(addr, "pc")
        assert (loc.function, loc.symbol, loc.kind) == ("crc_table", "crc_table", "data")
        assert loc.offset == addr - table.start
        assert not loc.frames
    # a return address into data is not code: the ELF check does not count it as code
    report = sym.check_return_addresses([table.start + 0x11])
    assert report.in_code == 0


def test_census_text_shows_each_row_with_its_outer_call_line(capsys):
    from memsleuth.report.census_text import render_census

    rets = _inline_returns("sites_arm")
    blocks = [HeapBlock(line=i + 2, addr=0x1000 + 0x40 * i, used=True, size=16,
                        owner=rets[i]["logged"]) for i in range(2)]
    result = census(BlockDump(line=1, variant="b3", blocks=blocks),
                    Attributor(open_fixture("sites_arm")), top=None)
    render_census(result)
    out = capsys.readouterr().out
    for r in rets:
        assert f"sites.c:{r['frames'][1][2]}" in out
    assert out.count("inlined into open_both") == 2
