"""``census.site_totals`` (what a series of censuses keeps) against full ``census`` rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from memsleuth.analysis.census import Attributor, census, site_totals
from memsleuth.commands.common import open_symbolizer
from memsleuth.parse import parse_file
from memsleuth.records import BlockDump

ROOT = Path(__file__).resolve().parents[2]
LOGS = [ROOT / "examples" / d / "out" / f for d, f in (
    ("wifi_reconnect_leak", "cortex-m4-leak"), ("wifi_reconnect_leak", "x86_64-burst"),
    ("vendor_stress", "x86_64-leak"), ("rtos_formats", "espidf_host"))] + [
    ROOT / "tests" / "fixtures" / "alios" / "b3_full", ROOT / "tests" / "fixtures" / "alios" /
    "b1_wiki_real"]


@pytest.mark.parametrize("with_elf", [True, False])
@pytest.mark.parametrize("stem", LOGS, ids=lambda p: p.name)
def test_site_totals_are_the_census_rows(stem: Path, with_elf: bool) -> None:
    """Every dump: the same sites in the same order with the same blocks, bytes, largest
    block, owner and address, the same used bytes, and the attributor left in the same state
    (wrappers learned, addresses seen) as by the census a series used to take."""
    elf = stem.with_suffix(".elf")
    if with_elf and not elf.exists():
        pytest.skip("no ELF beside this log")
    dumps = [r for r in parse_file(stem.with_suffix(".log")) if isinstance(r, BlockDump)]
    assert dumps
    a = Attributor(open_symbolizer(elf if with_elf else None))
    b = Attributor(open_symbolizer(elf if with_elf else None))
    for dump in dumps:
        full = census(dump, a)
        used_bytes, totals = site_totals(dump, b)
        assert used_bytes == full.totals.used_bytes
        assert [(k, t.blocks, t.bytes, t.max_size, t.owner, t.site.address, t.site.function,
                 t.site.object_kind) for k, t in totals.items()] == [
            (r.key, r.blocks, r.bytes, r.max_size or 0, r.owner, r.site_address, r.function,
             r.object_kind) for r in full.rows]
        assert (a.auto_wrappers, a.seen, a.traces_seen) == (b.auto_wrappers, b.seen,
                                                             b.traces_seen)
