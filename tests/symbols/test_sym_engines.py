"""The optional addr2line engine agrees with the pure one; the pure one is the default here."""

from __future__ import annotations

import pytest
from sym_helpers import expected, frames_of, open_fixture

from memsleuth.symbols.backend import addr2line_frames, find_addr2line


@pytest.mark.parametrize("name", ["arm_thumb", "x86_64"])
def test_addr2line_engine_matches_python_engine(name):
    s_py = open_fixture(name)
    if find_addr2line(s_py.arch) is None:
        pytest.skip(f"no addr2line for {s_py.arch} on PATH")
    s_tool = open_fixture(name, engine="addr2line")
    exp = expected(name)
    addrs = [r["logged"] for r in exp["returns"]] + [p["pc"] for p in exp["pcs"]]
    a = s_py.symbolize(addrs, "pc")
    b = s_tool.symbolize(addrs, "pc")
    assert s_tool.last_engine == "addr2line"
    assert s_py.last_engine == "python"
    assert {k: (frames_of(v), v.function) for k, v in a.items()} == \
        {k: (frames_of(v), v.function) for k, v in b.items()}


def test_broken_tool_falls_back_to_python(monkeypatch):
    import memsleuth.symbols.backend as backend
    monkeypatch.setattr(backend, "find_addr2line", lambda arch: "/nonexistent/addr2line")
    s = open_fixture("arm_thumb", engine="addr2line")
    exp = expected("arm_thumb")
    res = s.symbolize([r["logged"] for r in exp["returns"]])
    assert s.last_engine == "python"
    assert all(frames_of(res[r["logged"]]) == r["frames"] for r in exp["returns"])


def test_addr2line_frames_reports_failure_as_none(tmp_path):
    assert addr2line_frames("/nonexistent/addr2line", tmp_path / "x.elf", [0x1000]) is None


def test_engine_from_environment(monkeypatch):
    from sym_helpers import FIXTURES

    from memsleuth.symbols import Symbolizer
    monkeypatch.setenv("MEMSLEUTH_ENGINE", "python")
    assert Symbolizer.open(FIXTURES / "arm_thumb.elf", use_cache=False).engine == "python"
    monkeypatch.setenv("MEMSLEUTH_ENGINE", "bogus")
    assert Symbolizer.open(FIXTURES / "arm_thumb.elf", use_cache=False).engine == "auto"


def test_auto_hands_only_big_batches_to_addr2line(monkeypatch):
    """"auto": the own engine for small batches, addr2line (when present) for big ones;
    big means many lookups with the C line decoder, much line program without it."""
    import memsleuth.symbols.symbolizer as symbolizer
    from memsleuth.symbols import lines

    probe = open_fixture("arm_thumb")
    if find_addr2line(probe.arch) is None:
        pytest.skip(f"no addr2line for {probe.arch} on PATH")
    exp = expected("arm_thumb")
    addrs = [r["logged"] for r in exp["returns"]]
    want = {r["logged"]: r["frames"] for r in exp["returns"]}
    # (C decoder?, AUTO_ADDR2LINE_LOOKUPS, AUTO_ADDR2LINE_BYTES, engine that answers)
    cases = [(False, 1, 10**12, "python"), (False, 10**9, 1, "addr2line")]
    if lines._accel is not None:
        cases += [(True, 10**9, 1, "python"), (True, 1, 10**12, "addr2line")]
    c_decoder = lines._accel
    for with_c, lookups, nbytes, engine in cases:
        monkeypatch.setattr(lines, "_accel", c_decoder if with_c else None)
        monkeypatch.setattr(symbolizer, "AUTO_ADDR2LINE_LOOKUPS", lookups)
        monkeypatch.setattr(symbolizer, "AUTO_ADDR2LINE_BYTES", nbytes)
        s = open_fixture("arm_thumb", engine="auto")
        res = s.symbolize(addrs)
        assert s.last_engine == engine, (with_c, lookups, nbytes)
        assert {a: frames_of(loc) for a, loc in res.items()} == want


@pytest.mark.parametrize("enabled", [True, False])
def test_a_batch_leaves_the_garbage_collector_as_it_found_it(enabled):
    """symbolize() turns the cyclic GC off for a batch: it must come back on afterwards,
    after an error too, and stay off for a caller that had turned it off."""
    import gc

    from memsleuth.symbols.errors import CorruptElf

    s = open_fixture("arm_thumb", use_cache=False)
    addrs = [r["logged"] for r in expected("arm_thumb")["returns"]]

    def broken():
        yield addrs[0]
        raise ValueError("a damaged table")     # what a decoder raises on corrupt DWARF

    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        assert s.symbolize(addrs)[addrs[0]].frames
        assert gc.isenabled() is enabled
        with pytest.raises(CorruptElf):
            s.symbolize(broken())
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
