"""The leak analyses against the real firmware runs (examples/wifi_reconnect_leak/out).

Every expectation comes from the firmware's own facts (<target>-<scenario>.json), never from
numbers copied out of a run.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from schema_helpers import loads_valid

from memsleuth.analysis.census import Attributor
from memsleuth.analysis.check import Accumulators, Thresholds, leak_report
from memsleuth.analysis.diff import SiteSeries
from memsleuth.analysis.objects import ObjectBalance
from memsleuth.analysis.trend import TrendCollector
from memsleuth.cli import main
from memsleuth.commands.common import load_model, open_symbolizer, stream_log
from memsleuth.results.check import LeakReport
from memsleuth.results.trend import Trend

OUT = Path(__file__).resolve().parents[2] / "examples" / "wifi_reconnect_leak" / "out"
TARGETS = ("x86_64", "cortex-m4")


def run_path(target: str, scenario: str) -> Path:
    log = OUT / f"{target}-{scenario}.log"
    if not log.exists():
        pytest.skip(f"{log.name} not built")
    return log


def facts(target: str, scenario: str) -> dict[str, Any]:
    return json.loads((OUT / f"{target}-{scenario}.json").read_text())


@cache
def trend_of(target: str, scenario: str, upto: int | None = None) -> Trend:
    """The trend verb's path: one streaming pass through the bounded collector."""
    collector = TrendCollector(upto=upto)
    stream_log(run_path(target, scenario), [collector.on_record])
    return collector.result()


@cache
def report_of(target: str, scenario: str) -> LeakReport:
    log = run_path(target, scenario)
    attributor = Attributor(open_symbolizer(log.with_suffix(".elf")))
    acc = Accumulators(ObjectBalance(grace=1), SiteSeries(attributor), TrendCollector())
    stream_log(log, [acc.on_record])
    return leak_report(acc, attributor, Thresholds())


def test_remedian_bins_bound_the_series() -> None:
    from memsleuth.records import CycleMarker, HeapOverview

    c = TrendCollector(capacity=300)
    for i in range(1, 5001):
        c.on_record(CycleMarker(line=2 * i, index=i, text=""))
        free = 900_000 - 40 * i + (5000 if i % 97 == 0 else 0)
        c.on_record(HeapOverview(line=2 * i + 1, variant="H5b", total=10**6,
                                 free=free, used=10**6 - free))
    r = c.result()
    assert len(c.by_cycle.points) < 300 and r.points_available == 5000
    assert r.classification == "steady_leak"
    assert abs(r.fit.slope + 40) < 0.5


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(("scenario", "classification"), [
    ("leak", "steady_leak"), ("burst", "step"), ("frag", "fragmentation"),
])
def test_classification(target: str, scenario: str, classification: str) -> None:
    trend = trend_of(target, scenario)
    assert trend.classification == classification, trend.reason
    assert trend.evidence.slope is not None and trend.reason


@pytest.mark.parametrize("target", TARGETS)
def test_noleak_warmup_is_not_a_leak(target: str) -> None:
    trend = trend_of(target, "noleak")
    assert trend.leak is False
    assert trend.classification in ("warmup_plateau", "no_leak")
    # the firmware's cache fills over its first 20 cycles: that drop is the warm-up
    assert 15 <= trend.warmup.points <= 30
    assert trend.forecast is None


@pytest.mark.parametrize("target", TARGETS)
def test_forecast_from_first_tenth(target: str) -> None:
    real = facts(target, "leak")["failed_cycle"]
    trend = trend_of(target, "leak", upto=round(real * 0.10))
    assert trend.points == round(real * 0.10)
    assert trend.classification == "steady_leak"
    exhaustion = trend.forecast.exhaustion
    assert abs(exhaustion.at - real) <= 0.05 * real, exhaustion
    assert exhaustion.earliest <= exhaustion.at <= exhaustion.latest
    assert trend.observed_failure.cycle == real


@pytest.mark.parametrize("target", TARGETS)
def test_objects_five_created_four_deleted(target: str) -> None:
    f = facts(target, "leak")
    objects = report_of(target, "leak").objects
    (timer,) = [k for k in objects.kinds if k.kind == "timer"]
    assert (timer.per_cycle.created, timer.per_cycle.deleted) == (5, 4)
    assert timer.created == f["timers_created"]
    assert timer.deleted == f["timers_deleted"]
    assert timer.alive == f["live_timers"]
    (leak,) = objects.leaks
    assert int(f["leaked_timer_create_caller"], 16) in leak.callers
    assert leak.leak_per_cycle == pytest.approx(1.0, abs=0.01)
    assert leak.label.endswith(f"({f['leaked_timer_create_line']})")
    assert "timer: created 5, deleted 4 per cycle; +1 per cycle from wifi_connect" in \
        objects.summary[0]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("scenario", ["noleak", "burst", "frag"])
def test_objects_balanced(target: str, scenario: str) -> None:
    objects = report_of(target, scenario).objects
    assert objects.leaks == ()
    (timer,) = [k for k in objects.kinds if k.kind == "timer"]
    assert timer.per_cycle.net == 0


@pytest.mark.parametrize("target", TARGETS)
def test_attribution_names_the_timer_site(target: str) -> None:
    f = facts(target, "leak")
    report = report_of(target, "leak")
    attribution = report.attribution
    top = attribution.sites[0]
    assert top.object_kind == "timer"
    assert f["leaked_timer_create_line"] in top.label
    assert 0.8 <= top.share <= 1.2
    assert "of which" in attribution.text


@pytest.mark.parametrize("target", TARGETS)
def test_growth_tells_steady_from_spike(target: str) -> None:
    leak = report_of(target, "leak").growth
    timer_rows = [r for r in leak.rows if r.object_kind == "timer"]
    assert timer_rows and timer_rows[0].pattern == "steady"
    burst = report_of(target, "burst").growth
    steady = [r for r in burst.rows if r.pattern == "steady"]
    assert not any(r.object_kind == "timer" for r in steady)
    assert any(r.pattern == "spike" for r in burst.rows)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(("scenario", "code"), [
    ("leak", 1), ("noleak", 0), ("burst", 0), ("frag", 0),
])
def test_check_exit_codes(target: str, scenario: str, code: int) -> None:
    log = run_path(target, scenario)
    result = CliRunner().invoke(main, ["check", str(log), "--elf", str(log.with_suffix(".elf"))])
    assert result.exit_code == code, result.output
    assert len(result.output.strip().splitlines()) == 1


def test_check_fail_on_step_and_json() -> None:
    log = run_path("x86_64", "burst")
    result = CliRunner().invoke(main, ["check", str(log), "--fail-on", "step", "--json"])
    assert result.exit_code == 1
    data = loads_valid(result.output)
    assert data["verdict"]["findings"][0]["kind"] == "step"


def test_check_usage_and_input_errors(tmp_path: Path) -> None:
    log = run_path("x86_64", "noleak")
    bad = CliRunner().invoke(main, ["check", str(log), "--fail-on", "nonsense"])
    assert bad.exit_code == 2
    empty = tmp_path / "empty.log"
    empty.write_text("hello\nworld\n")
    res = CliRunner().invoke(main, ["check", str(empty)])
    assert res.exit_code == 3
    missing = CliRunner().invoke(main, ["check", str(tmp_path / "nope.log")])
    assert missing.exit_code == 2


def test_trend_cli_upto_json() -> None:
    log = run_path("x86_64", "leak")
    res = CliRunner().invoke(main, ["trend", str(log), "--upto", "50", "--json"])
    assert res.exit_code == 0, res.output
    data = loads_valid(res.output)
    assert data["schema"].startswith("memsleuth.trend/")
    assert data["points"] == 50 and data["x"] == "cycle"
    text = CliRunner().invoke(main, ["trend", str(log)])
    assert "steady leak" in text.output


def test_diff_cli_first_vs_last() -> None:
    log = run_path("x86_64", "leak")
    res = CliRunner().invoke(main, ["diff", str(log), "--elf", str(log.with_suffix(".elf")),
                                    "--json"])
    assert res.exit_code == 0, res.output
    data = loads_valid(res.output)
    top = data["rows"][0]
    assert top["object_kind"] == "timer" and top["bytes_delta"] > 0
    assert data["growth"]["snapshots"] >= 3
    two = CliRunner().invoke(main, ["diff", str(run_path("x86_64", "noleak")), str(log),
                                    "--snapshots", "-1,-1"])
    assert two.exit_code == 0, two.output


def test_time_axis_from_prefixed_timestamps(tmp_path: Path) -> None:
    """A collector's timestamps give a slope per second and a time for the forecast."""
    src = run_path("x86_64", "leak").read_text().splitlines()
    t = 0.0
    lines = []
    for line in src:
        if line.startswith("[MSCYCLE]"):
            t += 5.0
        t += 0.001
        lines.append(f"[{t:12.6f}] {line}")
    log = tmp_path / "ts.log"
    log.write_text("\n".join(lines) + "\n")
    by_time = loads_valid(CliRunner().invoke(main, ["trend", str(log), "--x", "time", "--json"])
                         .output)
    assert by_time["x"] == "time"
    assert by_time["fit"]["slope"] == pytest.approx(
        trend_of("x86_64", "leak").fit.slope / 5.0, rel=0.02)
    by_cycle = loads_valid(CliRunner().invoke(main, ["trend", str(log), "--json"]).output)
    exh = by_cycle["forecast"]["exhaustion"]
    assert exh["time"] == pytest.approx(exh["at"] * 5.0, rel=0.02)
    no_ts = CliRunner().invoke(main, ["trend", str(run_path("x86_64", "leak")), "--x", "time"])
    assert no_ts.exit_code == 2


def test_leak_report_for_a_model_based_verb() -> None:
    """How `analyze` gets trend, attribution, objects and the verdict in its own pass."""
    log = run_path("cortex-m4", "leak")
    attributor = Attributor(open_symbolizer(log.with_suffix(".elf")))
    acc = Accumulators.create(attributor)
    load_model(log, hooks=[acc.on_record])
    report = leak_report(acc, attributor, Thresholds())
    assert report.verdict.leak and report.verdict.exit_code == 1
    assert report.objects.leaks[0].leak_per_cycle == pytest.approx(1.0, abs=0.01)
    assert report.attribution.sites[0].object_kind == "timer"


def test_one_point_per_cycle_despite_nested_overviews() -> None:
    f = facts("x86_64", "leak")
    trend = report_of("x86_64", "leak").trend
    # cycles 10 and 50 also print a block dump with its own nested overview
    assert trend.points == f["mscycle_markers"]
    assert [p.cycle for p in trend.series] == list(range(1, f["mscycle_markers"] + 1))


def test_check_thresholds(tmp_path: Path) -> None:
    log = run_path("x86_64", "leak")
    lenient = CliRunner().invoke(main, ["check", str(log), "--max-leak-rate", "200",
                                        "--max-imbalance", "2", "--allow-alloc-failure",
                                        "--json"])
    assert lenient.exit_code == 0, lenient.output
    data = loads_valid(lenient.output)
    assert data["verdict"]["findings"] == []
    assert {o["kind"] for o in data["verdict"]["observations"]} == {
        "steady_leak", "imbalance", "alloc_failure"}
    # the run did die of a malloc failure: lenient rates alone do not make it pass
    failed = CliRunner().invoke(main, ["check", str(log), "--max-leak-rate", "200",
                                       "--max-imbalance", "2"])
    assert failed.exit_code == 1 and failed.output.startswith("FAIL: 1 allocation failure")
    strict_objects = CliRunner().invoke(main, ["check", str(log), "--max-leak-rate", "200"])
    assert strict_objects.exit_code == 1
    assert "timer" in strict_objects.output


def test_objects_from_dumps_only(tmp_path: Path) -> None:
    """Without [MSOBJ] lines the dumps answer: live timer blocks grow one per cycle."""
    src = run_path("x86_64", "leak")
    log = tmp_path / "no-trace.log"
    log.write_text("".join(line for line in src.read_text().splitlines(keepends=True)
                           if "[MSOBJ]" not in line))
    res = CliRunner().invoke(main, ["objects", str(log), "--elf", str(src.with_suffix(".elf")),
                                    "--json"])
    assert res.exit_code == 0, res.output
    data = loads_valid(res.output)
    assert data["source"] == "dumps" and data["snapshots"] >= 3
    (timer,) = [k for k in data["kinds"] if k["kind"] == "timer"]
    assert timer["slope_per_cycle"] == pytest.approx(1.0, abs=0.05)
    assert timer["blocks"][-1] >= facts("x86_64", "leak")["live_timers"] - 5
    assert [k["kind"] for k in data["growing_kinds"]] == ["timer"]


def test_trend_options_and_errors(tmp_path: Path) -> None:
    log = run_path("cortex-m4", "noleak")
    fixed = loads_valid(CliRunner().invoke(main, ["trend", str(log), "--warmup", "30", "--x",
                                                 "index", "--json"]).output)
    assert fixed["warmup"]["points"] == 30 and fixed["x"] == "index"
    assert fixed["leak"] is False
    assert CliRunner().invoke(main, ["trend", str(log), "--warmup", "soon"]).exit_code == 2
    empty = tmp_path / "e.log"
    empty.write_text("[MSCYCLE] 1\nnothing here\n")
    assert CliRunner().invoke(main, ["trend", str(empty)]).exit_code == 3
