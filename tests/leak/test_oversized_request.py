"""A failed request larger than the whole heap is a size bug, not a level of the forecast.

A real example run (its heap is 100 KiB) with one AliOS allocator warning added early, as a
caller passing a negative length (-1 as size_t) makes the allocator print it: the forecast's
allocation levels must stay those of the unedited run, and the failure is not "the heap is
exhausted" (88 % of it was free).
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from schema_helpers import loads_valid

from memsleuth.cli import main

LOG = Path(__file__).resolve().parents[2] / "examples" / "wifi_reconnect_leak" / "out" \
    / "cortex-m4-leak.log"
BAD = "WARNING, malloc failed!!!! need size:4294967295, but free size:90000\n"


def trend(path: Path) -> dict:
    return loads_valid(CliRunner().invoke(main, ["trend", str(path), "--json"]).stdout)


def levels(doc: dict) -> list[tuple]:
    return [(lv["level"], lv["bytes"], lv["at"]) for lv in doc["forecast"]["levels"]]


def test_request_larger_than_the_heap(tmp_path: Path) -> None:
    lines = LOG.read_text().splitlines(keepends=True)
    edited = tmp_path / "oversized.log"
    edited.write_text("".join(lines[:199] + [BAD] + lines[199:]))
    truth, doc = trend(LOG), trend(edited)
    assert levels(doc) == levels(truth)
    failure = doc["observed_failure"]
    assert failure["line"] == 200 and failure["need"] == 4294967295
    assert failure["cause"] is None
    assert "larger than the whole heap" in failure["explanation"]
    assert "exhausted" not in failure["explanation"]
