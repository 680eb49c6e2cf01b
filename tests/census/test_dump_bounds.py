"""Per-dump state is bounded however many block dumps a log holds; the counts stay exact.

A gigabyte log holds thousands of dumps: the model lists at most DUMP_LISTING of them (an
evenly spaced sample plus the first, newest, newest complete, peak and partial ones) and the
leak accumulators keep at most SNAPSHOT_CAPACITY censuses; every output says how many there
were and that the list is a sample. The caps are lowered here so a short generated log (real
dump sections of the bundled x86_64 run, repeated) crosses them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from memsleuth import model as model_mod
from memsleuth.analysis import diff as diff_mod
from memsleuth.analysis.diff import SiteSeries
from memsleuth.cli import main
from memsleuth.commands.common import load_model, stream_log
from memsleuth.model import Sample

LOG = Path(__file__).resolve().parents[2] / "examples" / "wifi_reconnect_leak" / "out" / \
    "x86_64-leak.log"
CAP = 16


def _sections() -> list[list[str]]:
    """The run's first two block-dump sections, each to the agent's next line."""
    lines = LOG.read_text().splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if "all memory blocks" in line
              and "all memory blocks" not in lines[i - 1]]
    out = []
    for s in starts[:2]:
        end = next(i for i in range(s, len(lines)) if lines[i].startswith("[MS"))
        out.append(lines[s:end])
    return out


def write_log(path: Path, dumps: int, peak_at: int | None = None) -> None:
    """``dumps`` dumps, one per cycle, the two sections alternating; dump ``peak_at`` has
    one free block marked used (the most live bytes of the log)."""
    sections = _sections()
    with path.open("w") as out:
        for k in range(dumps):
            out.write(f"[MSCYCLE] {k + 1}\n")
            section = sections[k % 2]
            if k == peak_at:
                section = list(section)
                i = next(i for i, line in enumerate(section)
                         if line.startswith("0x") and " free " in line)
                section[i] = section[i].replace(" free ", " used ", 1)
            out.writelines(section)


@pytest.fixture
def small_caps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model_mod, "DUMP_LISTING", CAP)
    monkeypatch.setattr(diff_mod, "SNAPSHOT_CAPACITY", CAP)


@given(st.integers(min_value=0, max_value=3000), st.integers(min_value=2, max_value=40),
       st.sets(st.integers(min_value=0, max_value=2999), max_size=5))
def test_sample_is_bounded_evenly_spaced_and_keeps_pins(n: int, capacity: int,
                                                        pins: set[int]) -> None:
    sample: Sample[int] = Sample(capacity)
    for i in range(n):
        seq = sample.append(i)
        if i in pins:
            sample.pin(f"p{i}", seq, i)
    items = sample.items()
    kept_pins = {p for p in pins if p < n}
    assert sample.count == n
    assert len(items) <= capacity + len(kept_pins)
    assert items == sorted(set(items))
    assert kept_pins <= set(items)
    if n:
        assert items[0] == 0
    assert sample.thinned == (n > capacity)
    # outside the pins: every stride-th item of the whole stream, for one power-of-two stride
    strides = [1 << k for k in range(13)
               if set(items) == set(range(0, n, 1 << k)) | kept_pins]
    assert strides, items
    assert len(set(range(0, n, strides[0]))) >= min(n, capacity // 2)


def _reference(path: Path) -> list[tuple[int, int, bool]]:
    """(index, used_bytes, partial) of every dump, with a cap nothing reaches."""
    model = load_model(path)
    assert not model.dumps.sampled
    return [(d.index, d.used_bytes, d.partial) for d in model.dumps.listed()]


@pytest.mark.usefixtures("small_caps")
@pytest.mark.parametrize("dumps", [60, 240])
def test_model_lists_a_bounded_sample_with_the_dumps_that_matter(tmp_path: Path,
                                                                 dumps: int) -> None:
    log = tmp_path / "many.log"
    write_log(log, dumps, peak_at=dumps * 2 // 3 + 1)
    model_mod_cap = model_mod.DUMP_LISTING
    model_mod.DUMP_LISTING = 10 ** 6
    try:
        every = _reference(log)
    finally:
        model_mod.DUMP_LISTING = model_mod_cap
    assert len(every) == dumps
    model = load_model(log)
    listed = model.dumps.listed()
    assert model.dumps.count == dumps and model.dumps.sampled
    # bounded: the same ceiling for 60 and for 240 dumps
    assert len(listed) <= CAP + 3
    indexes = [d.index for d in listed]
    assert indexes == sorted(indexes)
    peak = max(every, key=lambda e: (e[1], -e[0]))[0]
    assert peak == dumps * 2 // 3 + 1
    assert {0, dumps - 1, peak} <= set(indexes)
    assert model.last_complete_dump.index == max(i for i, _, p in every if not p)
    assert all((d.index, d.used_bytes, d.partial) in every for d in listed)


@pytest.mark.usefixtures("small_caps")
def test_site_series_keeps_a_bounded_sample_and_the_asked_dumps(tmp_path: Path) -> None:
    sizes = {}
    for dumps in (60, 240):
        log = tmp_path / f"d{dumps}.log"
        write_log(log, dumps)
        series = SiteSeries(None, keep=(37, -3))
        stream_log(log, [series.on_record])
        snaps = series.snapshots
        assert series.count == dumps and series.sampled
        sizes[dumps] = len(snaps)
        assert len(snaps) <= CAP + 2 + 3 + 1
        indexes = [s.index for s in snaps]
        assert 37 in indexes and indexes[-3:] == [dumps - 3, dumps - 2, dumps - 1]
    assert sizes[240] <= CAP + 6 and sizes[60] <= CAP + 6


def _analyze(log: Path) -> dict:
    result = CliRunner().invoke(main, ["analyze", str(log), "--json"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


@pytest.mark.usefixtures("small_caps")
def test_analyze_says_how_many_dumps_and_that_the_list_is_a_sample(tmp_path: Path) -> None:
    log = tmp_path / "many.log"
    write_log(log, 120)
    doc = _analyze(log)
    contents = doc["contents"]
    assert contents["block_dumps_total"] == 120 and contents["block_dumps_sampled"] is True
    assert contents["block_dumps_mmlk"] == 0
    assert len(contents["block_dumps"]) <= CAP + 3
    growth = doc["leak"]["growth"]
    assert growth["dumps_total"] == 120 and growth["sampled"] is True
    assert len(growth["dumps"]) <= CAP + 3
    text = CliRunner().invoke(main, ["analyze", str(log)]).stdout
    assert "120 block dumps (#0–#119), all full;" in text and "the list is bounded" in text


def test_the_cap_does_not_bite_on_an_ordinary_log(tmp_path: Path) -> None:
    log = tmp_path / "some.log"
    write_log(log, 40)
    contents = _analyze(log)["contents"]
    assert contents["block_dumps_total"] == 40 and contents["block_dumps_sampled"] is False
    assert [d["index"] for d in contents["block_dumps"]] == list(range(40))


def test_diff_finds_the_asked_dumps_in_a_sampled_series(tmp_path: Path,
                                                         small_caps: None) -> None:
    log = tmp_path / "many.log"
    write_log(log, 100)
    result = CliRunner().invoke(main, ["diff", str(log), "--snapshots", "37,-2", "--json"])
    assert result.exit_code in (0, 1), result.output
    doc = json.loads(result.stdout)
    assert doc["before"]["index"] == 37 and doc["after"]["index"] == 98
    assert doc["growth"]["dumps_total"] == 100 and doc["growth"]["sampled"] is True
