"""Shared helpers for the parser tests: fixture paths and one-call parsing."""

from __future__ import annotations

from pathlib import Path

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
