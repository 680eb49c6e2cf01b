"""The rendered HTML of the bundled examples, byte for byte (time and version masked).

A change to the page shows up here as a diff a reviewer can read. When the change is meant,
regenerate the snapshots with:

    MEMSLEUTH_UPDATE_SNAPSHOTS=1 python3 -m pytest -q tests/report/test_report_snapshots.py
"""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path

import pytest

from memsleuth.commands.report import run_report
from memsleuth.report.html import render_html

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
CASES = {
    "cortex-m4-leak": ROOT / "examples" / "wifi_reconnect_leak" / "out" / "cortex-m4-leak",
    "x86_64-noleak": ROOT / "examples" / "wifi_reconnect_leak" / "out" / "x86_64-noleak",
    "cm4_heap_overflow": ROOT / "tests" / "fixtures" / "crash" / "qemu" / "heap"
                         / "cm4_heap_overflow",
}


def _body(page: str) -> str:
    """The page without its inlined stylesheet and script: those are the package's own
    files (report.css, report.js), checked where they live, not copied into every snapshot."""
    for name in ("report.css", "report.js"):
        text = resources.files("memsleuth.report").joinpath("templates", name).read_text("utf-8")
        assert text in page, name
        page = page.replace(text, f"/* {name} */")
    return page


def _page(stem: Path) -> str:
    log, elf = stem.with_suffix(".log"), stem.with_suffix(".elf")
    # relative paths, so the page does not depend on where the checkout is
    data, _ = run_report(log.relative_to(ROOT), elf.relative_to(ROOT))
    data["generated"], data["version"] = "GENERATED", "VERSION"
    return _body(render_html(data))


@pytest.mark.parametrize("name", sorted(CASES))
def test_report_page_matches_its_snapshot(name: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(ROOT)
    page = _page(CASES[name])
    snap = SNAPSHOTS / f"{name}.html"
    if os.environ.get("MEMSLEUTH_UPDATE_SNAPSHOTS"):
        snap.write_text(page, encoding="utf-8")
    assert snap.exists(), f"no snapshot {snap.name}: see this module's docstring"
    expected = snap.read_text(encoding="utf-8")
    if page != expected:
        first = next(i for i, (a, b) in enumerate(zip(page, expected, strict=False)) if a != b)
        pytest.fail(f"{name}: the page differs from its snapshot at character {first}:\n"
                    f"  now:      {page[max(0, first - 80):first + 80]!r}\n"
                    f"  snapshot: {expected[max(0, first - 80):first + 80]!r}\n"
                    "(regenerate as this module's docstring says if the change is meant)")


def test_snapshots_hold_no_machine_paths():
    for snap in SNAPSHOTS.glob("*.html"):
        text = snap.read_text(encoding="utf-8")
        assert not re.search(r"/(work|home|root|tmp)/", text), snap.name
