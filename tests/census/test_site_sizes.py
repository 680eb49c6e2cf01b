"""``census.site_sizes`` (what a series of censuses keeps) against full ``census`` rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from memsleuth.analysis.census import Attributor, census, site_sizes
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
def test_site_sizes_are_the_census_rows(stem: Path, with_elf: bool) -> None:
    """Every dump: the same sites in the same order with the same blocks, bytes, largest
    block, owner and address, the same used bytes, and the attributor left in the same state
    (wrappers learned, addresses seen) as by the census a series used to take; the site and
    owner of a key the series knows already are not looked up again."""
    elf = stem.with_suffix(".elf")
    if with_elf and not elf.exists():
        pytest.skip("no ELF beside this log")
    dumps = [r for r in parse_file(stem.with_suffix(".log")) if isinstance(r, BlockDump)]
    assert dumps
    a = Attributor(open_symbolizer(elf if with_elf else None))
    b = Attributor(open_symbolizer(elf if with_elf else None))
    c = Attributor(open_symbolizer(elf if with_elf else None))
    known: set[str] = set()
    for dump in dumps:
        full = census(dump, a)
        used_bytes, sizes, first = site_sizes(dump, b)
        assert used_bytes == full.totals.used_bytes
        assert [(k, *sizes[k], first[k][1], first[k][0].address, first[k][0].function,
                 first[k][0].object_kind) for k in sizes] == [
            (r.key, r.blocks, r.bytes, r.max_size or 0, r.owner, r.site_address, r.function,
             r.object_kind) for r in full.rows]
        assert (a.auto_wrappers, a.seen, a.traces_seen) == (b.auto_wrappers, b.seen,
                                                             b.traces_seen)
        _, again, new = site_sizes(dump, c, known)
        assert again == sizes
        assert set(new) == set(sizes) - known
        known |= set(sizes)
