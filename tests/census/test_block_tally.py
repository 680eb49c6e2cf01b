"""The one walk over a dump's blocks (``block_tally``) and the memoised ``Attributor.observe``
against the definitions they replace, on the bundled runs (real logs, real ELFs)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from memsleuth.analysis.block_tally import tally
from memsleuth.analysis.block_trust import trusted_split, untrusted
from memsleuth.analysis.census import Attributor
from memsleuth.commands.common import open_symbolizer
from memsleuth.parse import parse_file
from memsleuth.records import BlockDump, HeapBlock

ROOT = Path(__file__).resolve().parents[2]
STEMS = sorted({p.with_suffix("") for p in (
    *ROOT.glob("examples/*/out/*.log"), *ROOT.glob("tests/fixtures/alios/*.log"),
    *ROOT.glob("tests/fixtures/real/*.log"), *ROOT.glob("tests/fixtures/rtos/real/*.log"),
    *ROOT.glob("tests/fixtures/crash/qemu/**/*.log"),
    *ROOT.glob("tests/fixtures/freertos/*.log"))})


def _dumps(stem: Path) -> list[BlockDump]:
    return [r for r in parse_file(stem.with_suffix(".log")) if isinstance(r, BlockDump)]


@pytest.mark.parametrize("stem", STEMS, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_tally_is_the_trusted_split(stem: Path) -> None:
    """Live pairs, used/free totals (with the free-list fallback) and the blocks left out of
    every dump, as ``block_trust.trusted_split`` has them; the payload of every block."""
    for dump in _dumps(stem):
        t = tally(dump)
        used, free, bad = trusted_split(dump)
        pairs: dict[tuple[int, tuple[int, ...]], list[int]] = {}
        for b in used:
            pairs.setdefault((b.owner, b.trace), []).append(b.size)
        assert list(t.pairs.items()) == list(pairs.items())
        assert (t.used_blocks, t.used_bytes) == (len(used), sum(b.size for b in used))
        assert (t.free_blocks, t.free_bytes, t.largest_free) == (
            len(free), sum(b.size for b in free), max((b.size for b in free), default=0))
        assert t.payload == sum(b.size for b in dump.blocks if b.size is not None)
        assert t.bad == bad and t.corrupted == len(bad)
        assert tally(dump) is t          # asked again for the same dump: not walked again


def test_tally_leaves_out_a_corrupt_header() -> None:
    """The real heap-overflow dump: the overwritten header (786 MiB, garbage owner) is in
    no figure, as census leaves it out."""
    log = ROOT / "tests" / "fixtures" / "crash" / "qemu" / "heap" / "cm4_heap_overflow.log"
    dump = [r for r in parse_file(log) if isinstance(r, BlockDump)][-1]
    t = tally(dump)
    assert t.corrupted == 1 and t.used_bytes < 8192
    assert all(b.size < 8192 for b in dump.blocks if b.owner in {o for o, _ in t.pairs})


@pytest.mark.parametrize("edit", ["too_large", "overlaps_next", "convention"])
def test_tally_screens_sizes_as_the_trust_rules(edit: str) -> None:
    """A good dye with an impossible size (above TotalSz, past the next header) is left out
    as ``block_trust`` decides; a printer whose every size reaches past the next address
    (its convention) has nothing left out. Real dump, sizes edited in memory."""
    stem = ROOT / "examples" / "vendor_stress" / "out" / "cortex-m4-leak"
    dump = next(d for d in _dumps(stem) if d.variant == "B3" and d.overview is not None)
    blocks = dump.blocks
    i = next(k for k, b in enumerate(blocks[:-1])
             if b.used and not b.sentinel and blocks[k + 1].addr > b.addr + 64)
    if edit == "too_large":
        blocks[i] = replace(blocks[i], size=dump.overview.total + 1)
    elif edit == "overlaps_next":
        blocks[i] = replace(blocks[i], size=blocks[i + 1].addr - blocks[i].addr + 16)
    else:
        for k, (a, c) in enumerate(zip(blocks, blocks[1:], strict=False)):
            if a.size is not None and c.addr > a.addr:
                blocks[k] = replace(a, size=c.addr - a.addr + 8)
    t = tally(dump)
    assert t.bad == untrusted(replace(dump))     # (a copy: judged afresh by the rules)
    assert (i in t.bad) == (edit != "convention")
    used = trusted_split(replace(dump))[0]
    assert t.used_bytes == sum(b.size for b in used)


def test_tally_sees_a_dump_that_grew() -> None:
    """The kept answer is for the dump as it was: a block added after is counted."""
    dump = _dumps(ROOT / "tests" / "fixtures" / "alios" / "b3_full")[0]
    before = tally(dump).used_blocks
    dump.blocks.append(next(b for b in dump.blocks if b.used and not b.sentinel))
    assert tally(dump).used_blocks == before + 1


ELF_STEMS = [s for s in STEMS if s.with_suffix(".elf").exists()]


@pytest.mark.parametrize("stem", ELF_STEMS, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_observe_learns_as_walking_every_dump(stem: Path) -> None:
    """Dumps in log order, then again backwards and again forwards (sets of pairs seen
    before, under rules learned since): the memoised ``observe`` leaves the attributor as
    ``prepare`` + ``learn`` of every dump did: same wrappers in the same order, same
    addresses seen, same site for every pair."""
    dumps = _dumps(stem)
    if not dumps:
        pytest.skip("no block dump in this run")
    sym = open_symbolizer(stem.with_suffix(".elf"))
    memo, walk = Attributor(sym), Attributor(sym)
    for dump in [*dumps, *reversed(dumps), *dumps]:
        used = trusted_split(dump)[0]
        memo.observe(tally(dump).pairs)
        walk.prepare({b.owner for b in used}, {a for b in used for a in b.trace})
        walk.learn(used)
        assert list(memo.auto_wrappers.items()) == list(walk.auto_wrappers.items())
        assert (memo.seen, memo.traces_seen) == (walk.seen, walk.traces_seen)
        assert [memo.site(*p) for p in tally(dump).pairs] == [
            walk.site(*p) for p in tally(dump).pairs]


def test_a_set_seen_quiet_is_learned_again_under_new_rules() -> None:
    """A set of traces that taught nothing can teach once another dump taught a wrapper:
    ``vsdk_tmr_create`` has one caller per blamed frame until ``osal_malloc`` is known to be
    a wrapper (real addresses of the vendor run, blocks regrouped into three dumps)."""
    stem = ROOT / "examples" / "vendor_stress" / "out" / "x86_64-leak"
    dump = _dumps(stem)[-1]
    sym = open_symbolizer(stem.with_suffix(".elf"))
    probe = Attributor(sym)
    by_caller: dict[str, HeapBlock] = {}
    for block in dump.blocks:
        frames = probe._frames(block.owner, block.trace)
        names = [(probe._functions(probe.location(a)) or ["?"])[-1] for a in frames]
        if names:
            by_caller.setdefault(names[-1] if len(names) == 4 else names[0], block)
    ble, wd, main = by_caller["ble_adv_start"], by_caller["watchdog_init"], by_caller["churn"]
    s = [ble, replace(wd, owner=wd.trace[0], trace=wd.trace[1:])]   # vsdk_tmr_create <- ...
    t = [ble, replace(ble, trace=(main.trace[0],))]                  # osal_malloc <- main
    memo, walk = Attributor(sym), Attributor(sym)
    for blocks in (s, t, s):
        d = replace(dump, blocks=blocks, free_list=[])
        memo.observe(tally(d).pairs)
        walk.prepare({b.owner for b in blocks}, {a for b in blocks for a in b.trace})
        walk.learn(blocks)
        assert list(memo.auto_wrappers) == list(walk.auto_wrappers)
    assert list(memo.auto_wrappers) == ["osal_malloc", "vsdk_tmr_create", "osal_timer_new"]
