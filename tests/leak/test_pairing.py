"""Create/delete pairing: conservation under any interleaving, handle reuse, grace windows."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from memsleuth.analysis.objects import ObjectBalance
from memsleuth.records import CycleMarker, ObjectEvent

ops = st.lists(
    st.one_of(
        st.tuples(st.just("create"), st.sampled_from(["timer", "sem"]), st.integers(0, 7),
                  st.sampled_from([0x100, 0x200])),
        st.tuples(st.just("delete"), st.sampled_from(["timer", "sem"]), st.integers(0, 7),
                  st.just(0)),
        st.tuples(st.just("marker"), st.just(""), st.just(0), st.just(0)),
    ),
    max_size=300,
)


def feed(balance: ObjectBalance, seq) -> None:
    for i, (op, kind, handle, caller) in enumerate(seq):
        if op == "marker":
            balance.on_record(CycleMarker(line=i, index=None, text="cycle"))
        else:
            balance.on_record(ObjectEvent(line=i, op=op, kind=kind, handle=0x2000 + handle,
                                          caller=caller))


@settings(max_examples=200, deadline=None)
@given(seq=ops, grace=st.integers(0, 3))
def test_conservation_any_interleaving(seq, grace):
    b = ObjectBalance(grace=grace)
    feed(b, seq)
    r = b.result()
    created = sum(k.created for k in r.kinds)
    matched_deletes = sum(k.deleted - k.unmatched_deletes for k in r.kinds)
    alive = sum(k.alive for k in r.kinds)
    lost = sum(k.lost for k in r.kinds)
    assert created - matched_deletes == alive + lost
    assert alive == r.live_handles == len(b.live)
    # reference: a plain dict replay
    live: dict[int, str] = {}
    for op, kind, handle, _ in seq:
        if op == "create":
            live[handle] = kind
        elif op == "delete":
            live.pop(handle, None)
    assert alive == len(live)
    site_created = sum(s.created for s in r.sites)
    assert site_created == created
    assert sum(s.alive for s in r.sites) == alive
    assert sum(s.lost for s in r.sites) == lost


def test_handle_reuse_closes_old_as_lost():
    b = ObjectBalance()
    b.on_record(ObjectEvent(1, "create", "timer", 0x10, caller=0xA))
    b.on_record(ObjectEvent(2, "create", "timer", 0x10, caller=0xB))
    b.on_record(ObjectEvent(3, "delete", "timer", 0x10))
    r = b.result()
    (k,) = r.kinds
    assert (k.created, k.deleted, k.alive, k.lost) == (2, 1, 0, 1)
    lost = {s.key: s.lost for s in r.sites}
    assert lost == {"0xa": 1, "0xb": 0}


def _cycle(b: ObjectBalance, n: int, handle: list[int], leak: bool, defer: list[int]) -> None:
    """One seed-case cycle: connect creates 5 timers, suspend deletes 4 (or 5)."""
    b.on_record(CycleMarker(0, n, f"cycle {n}"))
    for h in defer:                       # the daemon frees last cycle's timer now
        b.on_record(ObjectEvent(0, "delete", "timer", h))
    defer.clear()
    made = []
    for i in range(5):
        handle[0] += 1
        made.append(handle[0])
        b.on_record(ObjectEvent(0, "create", "timer", handle[0], caller=0x800 + (i == 4)))
    for h in made[:4]:
        b.on_record(ObjectEvent(0, "delete", "timer", h))
    if not leak:
        defer.append(made[4])


def test_five_created_four_deleted_is_a_steady_leak():
    b = ObjectBalance(grace=1)
    handle = [0]
    for n in range(1, 30):
        _cycle(b, n, handle, leak=True, defer=[])
    r = b.result()
    (k,) = r.kinds
    assert (k.per_cycle.created, k.per_cycle.deleted) == (5, 4)
    (leak,) = r.leaks
    assert leak.key == "0x801" and leak.leak_per_cycle == 1.0
    assert "timer: created 5, deleted 4 per cycle; +1 per cycle from 0x801" in r.summary[0]


def test_deferred_delete_within_grace_is_not_a_leak():
    b = ObjectBalance(grace=1)
    handle = [0]
    defer: list[int] = []
    for n in range(1, 30):
        _cycle(b, n, handle, leak=False, defer=defer)
    r = b.result()
    assert r.leaks == ()
    (k,) = r.kinds
    assert k.per_cycle.net == 0
    site = next(s for s in r.sites if s.key == "0x801")
    assert site.pending == 1 and site.leaked == 0
    # without a grace window the same trace would look like a leak only at the edge
    strict = ObjectBalance(grace=0)
    handle = [0]
    defer = []
    for n in range(1, 30):
        _cycle(strict, n, handle, leak=False, defer=defer)
    assert strict.result().leaks == ()


def test_startup_objects_are_not_leaks():
    b = ObjectBalance()
    b.on_record(ObjectEvent(1, "create", "sem", 0x1, caller=0x5))
    for n in range(1, 10):
        b.on_record(CycleMarker(0, n, ""))
    r = b.result()
    assert r.leaks == () and r.sites[0].startup == 1


def _every_nth(b: ObjectBalance, cycles: int, nth: int, first_only: int = 0) -> None:
    """Each cycle creates and deletes one sem; every ``nth`` cycle (or, with ``first_only``,
    only in the first cycles) one more stays alive."""
    handle = 0
    for n in range(1, cycles + 1):
        b.on_record(CycleMarker(0, n, f"cycle {n}"))
        handle += 1
        b.on_record(ObjectEvent(0, "create", "sem", handle, caller=0x900))
        b.on_record(ObjectEvent(0, "delete", "sem", handle))
        keep = n <= first_only if first_only else n % nth == 0
        if keep:
            handle += 1
            b.on_record(ObjectEvent(0, "create", "sem", handle, caller=0x904))


def test_a_leak_every_fourth_cycle_is_a_leak():
    b = ObjectBalance(grace=1)
    _every_nth(b, 200, 4)
    r = b.result()
    (leak,) = r.leaks
    assert leak.key == "0x904" and not leak.steady and leak.recurring
    assert abs(leak.leak_per_cycle - 0.25) < 0.01
    assert "not every cycle" in r.summary[0] and "0x904" in r.summary[0]


def test_a_cache_filled_in_the_first_cycles_is_not_a_leak():
    b = ObjectBalance(grace=1)
    _every_nth(b, 200, 4, first_only=3)
    r = b.result()
    assert r.leaks == ()
    site = next(s for s in r.sites if s.key == "0x904")
    assert site.alive == 3 and not site.recurring


def test_check_fails_a_log_whose_only_leak_is_every_fourth_cycle(tmp_path):
    import json

    from click.testing import CliRunner

    from memsleuth.cli import main

    lines, seq, handle = [], 0, 0x20001000
    for n in range(1, 121):
        lines.append(f"[MSCYCLE] {n}")
        for caller, stays in ((0x08000901, False), (0x08000905, n % 4 == 0)):
            if caller == 0x08000905 and not stays:
                continue
            handle += 0x10
            seq += 1
            lines.append(f"[MSOBJ] create sem 0x{handle:08x} caller 0x{caller:08x} seq {seq}")
            if not stays:
                seq += 1
                lines.append(f"[MSOBJ] delete sem 0x{handle:08x} caller 0x08000990 seq {seq}")
    log = tmp_path / "every4.log"
    log.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(main, ["check", str(log), "--json"])
    assert result.exit_code == 1, result.output
    findings = json.loads(result.stdout)["verdict"]["findings"]
    assert any(f["kind"] == "imbalance" for f in findings)


def test_each_site_is_judged_on_its_own_cycles():
    """A cache filled once (0x908) beside a leak every fourth cycle (0x904): each site's
    'recurring' comes from its own leftovers, whichever site the pairing lists last."""
    for first in (0x904, 0x908):
        b = ObjectBalance(grace=1)
        handle = 1000
        for n in range(1, 201):
            b.on_record(CycleMarker(0, n, f"cycle {n}"))
            keep = {0x904: n % 4 == 0, 0x908: n <= 3}
            for caller in (first, 0x904 + 0x908 - first):
                if keep[caller]:
                    handle += 1
                    b.on_record(ObjectEvent(0, "create", "sem", handle, caller=caller))
        sites = {s.key: s for s in b.result().sites}
        assert sites["0x904"].recurring and not sites["0x908"].recurring
        assert [s.key for s in b.result().leaks] == ["0x904"]
