"""The live forecast is the trend module's: live and offline agree on when the heap runs out."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from monitor_helpers import example
from test_monitor_engine import ListSource

from memsleuth.analysis.trend import TrendCollector
from memsleuth.live.decoder import AddressDecoder
from memsleuth.live.engine import Display, Monitor
from memsleuth.parse import parse_lines
from memsleuth.sources.capture import CaptureWriter

FAILED_AT = 913  # the cycle whose malloc failed in the example capture


def test_live_forecast_matches_trend_on_the_leak_log(tmp_path: Path) -> None:
    log = example("cortex-m4-leak.log")
    if not log.exists():
        pytest.skip("example capture not built")
    data = log.read_bytes()
    parts: list[bytes | None] = [data[i:i + 4096] for i in range(0, len(data), 4096)]
    out, err = io.StringIO(), io.StringIO()
    mon = Monitor(ListSource(parts), CaptureWriter(tmp_path, stamp="t"), AddressDecoder(None),
                  Display(out, err, tty=False, status_every=0), poll=0.0)
    result = mon.run()
    live = result.status.forecast_exhaustion
    assert live is not None
    assert abs(live - FAILED_AT) <= 0.05 * FAILED_AT
    collector = TrendCollector()  # what `memsleuth trend` runs on the file
    with log.open("rb") as fh:
        for record in parse_lines(fh):
            collector.on_record(record)
    offline = collector.result().forecast.exhaustion
    assert abs(live - offline.at) < 1.0
    assert result.status.forecast_level == offline.level
    assert f"OOM ~cycle {round(live)}" in out.getvalue()
    leak = next(a for a in result.alerts if a.kind == "leak")
    assert leak.message.count("runs out at cycle") == 1   # the offline verdict's own words
