"""A view whose analysis refuses the data is skipped and makes the report partial (exit 4);
any other exception is a bug and ends the verb like every other verb's bugs (exit 3)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from schema_helpers import loads_valid

import memsleuth.analysis.report_data as report_data
import memsleuth.commands.report as report_cmd
from memsleuth.cli import main

DUMP = Path(__file__).resolve().parents[1] / "fixtures" / "alios" / "b3_full.log"


def _same_timestamp_log(tmp_path: Path) -> Path:
    """Eight overviews all printed at 5.000 s: no fit is possible over time."""
    lines = []
    for i in range(8):
        lines += ["[   5.000] [HEAP]|  TotalSize |   FreeSize |   UsedSize |  MinFreeSz |",
                  f"[   5.000]       |     188416 |     {111264 - 100 * i} |"
                  f"      {77152 + 100 * i} |      39488 |"]
    log = tmp_path / "same_ts.log"
    log.write_text("\n".join(lines) + "\n")
    return log


def test_refused_view_is_a_note_and_the_report_is_partial(tmp_path: Path):
    log, out = _same_timestamp_log(tmp_path), tmp_path / "r.html"
    result = CliRunner().invoke(main, ["report", str(log), "-o", str(out), "--json"])
    assert result.exit_code == 4, result.output
    assert loads_valid(result.output)["partial"] is True
    assert any(n.startswith("heap trend: skipped (need at least two points")
               for n in report_cmd.run_report(log, None)[0]["notes"])
    page = out.read_text()
    assert "heap trend: skipped" in page and '<section id="heap"' in page


def test_a_bug_in_a_view_is_not_swallowed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    log = tmp_path / "dumps.log"
    log.write_text(DUMP.read_text() * 2)

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("bytes")

    monkeypatch.setattr(report_data, "diff_snapshots", broken)
    with pytest.raises(KeyError):
        report_cmd.run_report(log, None)
    result = CliRunner().invoke(main, ["report", str(log), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 3
    assert "internal error (KeyError" in result.output and "Traceback" not in result.output
