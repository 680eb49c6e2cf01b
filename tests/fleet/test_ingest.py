"""Ingest: idempotent by content, bad logs recorded with their reason, CLI exit codes."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

from click.testing import CliRunner
from fleet_helpers import LOGS, PATTERN, SYMBOLS
from schema_helpers import loads_valid

from memsleuth.cli import main
from memsleuth.fleet.identity import PathPattern
from memsleuth.fleet.queries import answer, run_sql


def _ingest(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["ingest", *args, "--json"])
    return result.exit_code, loads_valid(result.output) if result.output.startswith("{") else {}


def _real_log(build: str = "fw-1.0-x86_64") -> Path:
    return sorted((LOGS / build).rglob("*.log.gz"))[0]


def test_reingest_is_idempotent(tmp_path, fleet_store):
    store = tmp_path / "store"
    shutil.copytree(fleet_store, store)
    before = run_sql(store, "SELECT count(*) AS n FROM objects")[0]["n"]
    code, out = _ingest(str(LOGS), "--out", str(store), "--symbols", str(SYMBOLS),
                        "--device-from", PATTERN, "--jobs", "1")
    assert code == 0
    assert out["counts"] == {"skipped": out["logs"]}
    # the same content under another name is the same log
    copy = tmp_path / "copy" / "fw-1.0-x86_64" / "dev-9999" / "2026-12-01.log.gz"
    copy.parent.mkdir(parents=True)
    shutil.copy(_real_log(), copy)
    code, out = _ingest(str(copy), "--out", str(store), "--device-from", PATTERN)
    assert out["counts"] == {"skipped": 1}
    assert run_sql(store, "SELECT count(*) AS n FROM objects")[0]["n"] == before


def test_bad_logs_are_recorded_with_their_reason_and_the_rest_is_answered(tmp_path):
    root = tmp_path / "farm"
    good = root / "fw-1.0-x86_64" / "dev-0100" / "2026-11-20.log.gz"
    good.parent.mkdir(parents=True)
    shutil.copy(_real_log(), good)
    empty = root / "fw-1.0-x86_64" / "dev-0101" / "2026-11-20.log"
    empty.parent.mkdir(parents=True)
    empty.write_bytes(b"")
    corrupt = root / "fw-1.0-x86_64" / "dev-0102" / "2026-11-20.log"
    corrupt.parent.mkdir(parents=True)
    corrupt.write_bytes(bytes(range(256)) * 64 + b"\nboot ok\n")
    truncated = root / "fw-1.1-x86_64" / "dev-0103" / "2026-11-20.log.gz"
    truncated.parent.mkdir(parents=True)
    truncated.write_bytes(_real_log("fw-1.1-x86_64").read_bytes()[:3000])
    unknown = root / "stray-capture.log"            # no build in the log, path or flags
    unknown.write_bytes(gzip.decompress(_real_log("fw-1.2-x86_64").read_bytes()))
    no_elf = root / "fw-9.9-x86_64" / "dev-0104" / "2026-11-20.log.gz"
    no_elf.parent.mkdir(parents=True)
    shutil.copy(sorted((LOGS / "fw-1.1-x86_64").rglob("*.log.gz"))[1], no_elf)

    store = tmp_path / "store"
    code, out = _ingest(str(root), "--out", str(store), "--symbols", str(SYMBOLS),
                        "--device-from", PATTERN, "--jobs", "2")
    assert code == 4                                   # a partial result
    assert out["logs"] == 6 and out["counts"]["ok"] == 1
    reasons = {r["path"]: (r["status"], r["reason"]) for r in out["problems"]}
    assert reasons[str(empty)] == ("failed", "empty file")
    assert reasons[str(corrupt)][0] == "failed" and "not a device log" in reasons[str(corrupt)][1]
    assert reasons[str(truncated)][0] == "failed"
    assert reasons[str(unknown)][0] == "partial" and "unknown build" in reasons[str(unknown)][1]
    assert reasons[str(no_elf)][0] == "partial"
    assert "no ELF for build fw-9.9-x86_64" in reasons[str(no_elf)][1]

    result = answer(store)
    assert {r["path"] for r in result["problems"]} == set(reasons)
    assert result["leak_sites"][0]["function"] == "wifi_connect"   # the good log, symbolized
    assert result["leak_sites"][0]["devices"] == 1
    # the log without an ELF still counts for its heap forecast, with raw addresses only
    dev = {r["device"]: r for r in result["devices_by_exhaustion"]}
    assert dev["dev-0104"]["heap_rate"] > 0


def test_fleet_cli_json_and_sql(fleet_store):
    runner = CliRunner()
    result = runner.invoke(main, ["fleet", str(fleet_store), "--json"])
    assert result.exit_code == 0, result.output
    doc = loads_valid(result.output)
    assert doc["schema"] == "memsleuth.fleet/3"
    for key in ("leak_sites", "build_comparison", "crash_signatures",
                "devices_by_exhaustion", "problems", "summary"):
        assert key in doc
    assert doc["summary"][0]["logs"] == 48
    result = runner.invoke(main, ["fleet", str(fleet_store), "--sql",
                                  "SELECT count(DISTINCT device) FROM logs"])
    assert result.exit_code == 0 and result.output.strip() == "24"
    result = runner.invoke(main, ["fleet", str(fleet_store), "--sql",
                                  "SELECT count(DISTINCT device) AS n FROM logs", "--json"])
    assert loads_valid(result.output)["rows"] == [{"n": 24}]
    result = runner.invoke(main, ["fleet", str(fleet_store), "--sql", "SELEC nonsense"])
    assert result.exit_code == 2
    assert result.output.startswith("memsleuth: error: --sql:")
    assert "Traceback" not in result.output


def test_fleet_on_a_folder_that_is_not_a_store(tmp_path):
    result = CliRunner().invoke(main, ["fleet", str(tmp_path)])
    assert result.exit_code == 2 and "not a memsleuth fleet store" in result.output


def test_path_patterns():
    p = PathPattern.compile("{build}/{device}/{date}.log.gz")
    assert p.match(Path("/farm/fw-1.0/dev-7/2026-11-02.log.gz")) == {
        "build": "fw-1.0", "device": "dev-7", "date": "2026-11-02"}
    assert p.match(Path("/farm/dev-7.log")) == {}
    q = PathPattern.compile("{device}/*_{date}.log")
    assert q.match(Path("a/board-3/uart_2026-01-01.log")) == {
        "device": "board-3", "date": "2026-01-01"}


def test_symbol_store_finds_each_build_by_build_id_sha256_prefix_and_name():
    import hashlib

    from memsleuth.fleet.symstore import SymbolStore
    from memsleuth.symbols.elf import ElfImage

    store = SymbolStore.scan(SYMBOLS)
    elfs = sorted(SYMBOLS.glob("*.elf"))
    assert len(elfs) == 6
    for elf in elfs:
        image = ElfImage(elf)
        assert image.build_id                  # the generator links with --build-id
        assert store.find(image.build_id) == elf
        assert store.find(hashlib.sha256(elf.read_bytes()).hexdigest()[:16]) == elf
        assert store.find(elf.stem) == elf
    assert store.find("fw-9.9") is None and store.find("deadbeefdeadbeef") is None


def test_the_build_the_log_prints_wins_over_path_and_flag():
    from memsleuth.fleet.identity import identify

    p = PathPattern.compile(PATTERN)
    path = Path("/farm/fw-1.0-x86_64/dev-1/2026-11-02.log.gz")
    assert identify(path, "c0ffee", p, None, "flag").build_source == "log"
    assert identify(path, None, p, None, "flag").build == "fw-1.0-x86_64"
    assert identify(Path("/x.log"), None, p, "dev-9", "flag").build_source == "flag"
    ident = identify(Path("/x.log"), None, p, None, None)
    assert (ident.build, ident.device, ident.build_source) == (None, None, "none")
