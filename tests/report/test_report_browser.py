"""Open the report of the bundled reproduction in headless Chromium: charts drawn, tables
sortable, no script errors; a screenshot is written for review.

Skipped when no Chromium is installed (Debian: ``apt-get install chromium``). Screenshots go
to ``$MEMSLEUTH_ARTIFACTS`` when set, else ``out/report-screenshots`` in the checkout.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from report_helpers import TARGETS, example

from memsleuth.cli import main

BROWSER = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                if shutil.which(n)), None)
pytestmark = pytest.mark.skipif(BROWSER is None, reason="chromium is not installed")

#: No network, no first-run or background services: the report must render from the file alone.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage")


def _artifacts() -> Path:
    root = Path(__file__).resolve().parents[2]
    path = Path(os.environ.get("MEMSLEUTH_ARTIFACTS") or root / "out" / "report-screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [BROWSER, *FLAGS, f"--user-data-dir={tmp / 'profile'}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)


@pytest.mark.parametrize("target", TARGETS)
def test_report_renders_in_chromium(target: str, tmp_path: Path):
    log, elf = example(target)
    html = tmp_path / f"{target}-report.html"
    result = CliRunner().invoke(main, ["report", str(log), "--elf", str(elf), "-o", str(html)])
    assert result.exit_code in (0, 4), result.output
    url = html.resolve().as_uri()

    dom = _chromium(tmp_path, "--virtual-time-budget=5000", "--dump-dom", url + "#selftest")
    assert dom.returncode == 0, dom.stderr[-2000:]
    body = re.search(r"<body([^>]*)>", dom.stdout)
    assert body, dom.stdout[:500]
    attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', body.group(1)))
    assert attrs.get("data-errors") == "", attrs
    assert attrs.get("data-ok") == "1", attrs          # our script ran to the end
    assert int(attrs["data-charts"]) >= 3              # heap, per-site growth, icicle
    # The charts are really there after the browser parsed the page.
    assert len(re.findall(r'<svg class="chart"[^>]*data-chart="heap"', dom.stdout)) == 1
    assert len(re.findall(r"<polyline", dom.stdout)) >= 5
    assert re.search(r'data-chart="icicle"', dom.stdout)
    census = re.search(r'<table class="sortable" data-table="census">.*?</table>', dom.stdout,
                       flags=re.S)
    assert census and census.group(0).count("<tr>") >= 5
    # Clicking a numeric header sorted every sortable table (the page's #selftest hook).
    selftest = attrs.get("data-selftest", "")
    assert "census:sorted" in selftest and "unsorted" not in selftest, selftest
    assert "icicle:zoomed" in selftest, selftest       # clicking a frame zooms to it

    shot = _artifacts() / f"{target}-report.png"
    shot.unlink(missing_ok=True)
    run = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1400,2400",
                    "--hide-scrollbars", url)
    assert run.returncode == 0, run.stderr[-2000:]
    assert shot.exists() and shot.stat().st_size > 20_000   # not a blank page
