"""Shared helpers for the parser tests: fixture paths and one-call parsing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from memsleuth.parse import parse_file, parse_lines
from memsleuth.records import ParseStats, Record

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "alios"


def fixture_path(name: str) -> Path:
    return FIXTURES / name


def fixture_lines(name: str) -> list[str]:
    return (FIXTURES / name).read_text().splitlines()


def parse_all(lines: list[str] | list[bytes]) -> tuple[list[Record], ParseStats]:
    log = parse_lines(lines)
    records = list(log)
    return records, log.stats


def parse_fixture(name: str) -> tuple[list[Record], ParseStats]:
    log = parse_file(FIXTURES / name)
    records = list(log)
    return records, log.stats


def verb_answer(verb: str, log: Path, mode: str, monkeypatch: Any) -> tuple:
    """(exit code, stdout, stderr) of ``memsleuth VERB LOG --json`` read one way: "C" (the C
    scanner when built), "pure" (pure Python) or "line" (the line path, MEMSLEUTH_FAST=0)."""
    from click.testing import CliRunner

    from memsleuth import accel
    from memsleuth.cli import main

    with monkeypatch.context() as m:
        if mode == "pure":
            m.setattr(accel, "_loaded", None)
        elif mode == "line":
            m.setenv("MEMSLEUTH_FAST", "0")
        result = CliRunner().invoke(main, [verb, str(log), "--json"])
    return result.exit_code, result.stdout, result.stderr


def paths_agree(verb: str, log: Path, monkeypatch: Any) -> None:
    """The C scanner and pure Python give the line path's answer (and there is one)."""
    from memsleuth import accel

    line = verb_answer(verb, log, "line", monkeypatch)
    assert line[1] or line[2], f"{verb} {log.name}: no output"
    assert verb_answer(verb, log, "pure", monkeypatch) == line
    if accel.module() is not None:
        assert verb_answer(verb, log, "C", monkeypatch) == line
