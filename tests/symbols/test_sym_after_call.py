"""The call-instruction check that tells the user "this ELF does not match the log"."""

from __future__ import annotations

import random

import pytest
from sym_helpers import expected, open_fixture


@pytest.mark.parametrize("name", ["arm_thumb", "arm_thumb_os", "x86_64"])
def test_after_call_true_on_every_return_address(name):
    exp = expected(name)
    s = open_fixture(name)
    res = s.symbolize([r["logged"] for r in exp["returns"]])
    assert all(res[r["logged"]].after_call is True for r in exp["returns"])


@pytest.mark.parametrize("name", ["arm_thumb", "x86_64"])
def test_after_call_false_on_mid_function_addresses(name):
    exp = expected(name)
    s = open_fixture(name)
    rets = {r["logged"] & ~1 for r in exp["returns"]}
    pcs = [p["pc"] for p in exp["pcs"] if p["pc"] not in rets and p["frames"][0][2]]
    sample = random.Random(7).sample(pcs, min(60, len(pcs)))
    res = s.symbolize([p | (1 if s.arch == "arm" else 0) for p in sample], "return")
    false = sum(loc.after_call is False for loc in res.values())
    assert false >= 0.9 * len(sample)


def test_pc_kind_has_no_after_call():
    exp = expected("arm_thumb")
    s = open_fixture("arm_thumb")
    assert s.symbolize_one(exp["returns"][0]["logged"], "pc").after_call is None


def test_check_return_addresses_verdicts():
    exp = expected("arm_thumb")
    s = open_fixture("arm_thumb")
    real = [r["logged"] for r in exp["returns"]]
    ok = s.check_return_addresses(real)
    assert ok.verdict == "ok" and ok.fraction_in_code == 1.0 and ok.fraction_after_call == 1.0

    # the same log against another build: addresses shifted into the middle of code
    shifted = [a + 6 for a in real]
    assert s.check_return_addresses(shifted).verdict in ("suspect", "mismatch")

    # addresses from a different memory map entirely
    alien = [0x4000_0000 + 0x100 * i + 1 for i in range(20)]
    bad = s.check_return_addresses(alien)
    assert bad.verdict == "mismatch" and "does not match" in bad.reason
    assert s.check_return_addresses([]).verdict == "ok"
