"""The fleet report opened in headless Chromium: tables sort, charts drawn, no script error;
the numbers on the page are the fleet answers. Skipped without Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from schema_helpers import loads_valid

from memsleuth.cli import main
from memsleuth.fleet.queries import answer

BROWSER = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                if shutil.which(n)), None)
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage")


def test_report_of_a_store_is_one_offline_file(fleet_store, tmp_path):
    html = tmp_path / "fleet.html"
    result = CliRunner().invoke(main, ["report", str(fleet_store), "-o", str(html)])
    assert result.exit_code == 0, result.output
    page = html.read_text()
    assert "<script src" not in page and "http://" not in page and "https://" not in page
    top = answer(fleet_store, ("leak_sites",))["leak_sites"][0]
    assert top["site_key"] in page
    assert f'data-v="{top["devices"]}"' in page
    # --json says what was written, in the report schema's fleet form
    doc = loads_valid(CliRunner().invoke(main, ["report", str(fleet_store), "-o", str(html),
                                                "--json"]).output)
    assert doc["store"] == str(fleet_store) and doc["bytes"] == len(page.encode("utf-8"))


@pytest.mark.skipif(BROWSER is None, reason="chromium is not installed")
def test_fleet_report_renders_in_chromium(fleet_store, tmp_path: Path):
    html = tmp_path / "fleet.html"
    assert CliRunner().invoke(main, ["report", str(fleet_store), "-o", str(html)]).exit_code == 0
    cmd = [BROWSER, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
           "--virtual-time-budget=5000", "--dump-dom", html.resolve().as_uri() + "#selftest"]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)
    assert dom.returncode == 0, dom.stderr[-2000:]
    body = re.search(r"<body([^>]*)>", dom.stdout)
    assert body, dom.stdout[:500]
    attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', body.group(1)))
    assert attrs.get("data-errors") == "", attrs
    assert attrs.get("data-ok") == "1", attrs
    assert int(attrs["data-charts"]) == 3          # leak sites, build to build, crashes
    verdicts = attrs["data-selftest"].split()
    assert verdicts and all(v.endswith(":sorted") for v in verdicts), verdicts
    # every table of two rows or more was sorted (a table of one row is not tried)
    answers = answer(fleet_store)
    tables = {"leak_sites", "weak_sites", "build_comparison", "crash_signatures",
              "devices_by_exhaustion"}
    assert {f"{t}:sorted" for t in tables if len(answers[t]) > 1} <= set(verdicts)
    assert len(answers["weak_sites"]) > 1
