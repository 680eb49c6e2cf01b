"""The driver's contract (memsleuth.parse.stream), tested with toy readers."""

from __future__ import annotations

import pytest

from memsleuth.parse.base import Feed
from memsleuth.parse.stream import LOG_ENDED, MAX_SKIPPED, LogParser
from memsleuth.records import CycleMarker, Record


class Toy:
    """Section 'BEGIN <name>' ... 'END'; lines starting with 'x' are its content."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.start: int | None = None
        self.lines: list[int] = []

    def opens(self, text: str, lineno: int, ts: float | None) -> bool:
        if text == f"BEGIN {self.name}":
            self.start, self.lines = lineno, []
            return True
        return False

    def feed(self, text: str, lineno: int, ts: float | None) -> Feed:
        if text == "END":
            return Feed.DONE
        if text == "STOP":
            return Feed.ENDED
        if text.startswith("x"):
            self.lines.append(lineno)
            return Feed.CONSUMED
        if text == "BOOM":
            raise RuntimeError("reader bug")
        return Feed.SKIPPED

    def close(self, reason: str | None) -> list[Record]:
        return [CycleMarker(line=self.start or 0, index=len(self.lines),
                            text=f"{self.name}:{reason}")]


class Marks:
    name = "marks"

    def read(self, text: str, lineno: int, ts: float | None) -> Record | None:
        if text.startswith("mark"):
            return CycleMarker(line=lineno, index=None, text=text, ts=ts)
        if text == "BAD":
            raise ValueError("line reader bug")
        return None


def run(lines: list[str], *readers: Toy) -> tuple[list[CycleMarker], LogParser]:
    parser = LogParser(list(readers) or [Toy("a"), Toy("b")], [Marks()])
    out = list(parser.parse(lines))
    assert all(isinstance(r, CycleMarker) for r in out)
    return out, parser  # type: ignore[return-value]


def test_done_closes_normally() -> None:
    out, p = run(["BEGIN a", "x", "x", "END", "mark 1"])
    assert [(r.line, r.index, r.text) for r in out] == [(1, 2, "a:None"), (5, None, "mark 1")]
    assert p.stats.sections == {"a": 1} and p.stats.lines == 5


def test_ended_line_is_offered_to_others() -> None:
    out, _ = run(["BEGIN a", "x", "STOP", "BEGIN b", "x", "END"])
    assert [r.text for r in out] == ["a:None", "b:None"]
    out, _ = run(["BEGIN a", "x", "STOP"])
    assert [r.text for r in out] == ["a:None"]


def test_skipped_lines_are_counted_and_still_read() -> None:
    out, p = run(["BEGIN a", "x", "noise", "mark inside", "x", "END"])
    assert [r.text for r in out] == ["mark inside", "a:None"]
    assert p.stats.skipped_in_sections == 2


def test_interrupted_by_another_section() -> None:
    out, p = run(["BEGIN a", "x", "BEGIN b", "x", "END"])
    assert [r.text for r in out] == ["a:interrupted by b at line 3", "b:None"]
    assert p.stats.sections == {"a": 1, "b": 1}


def test_separator_lines_never_interrupt() -> None:
    class Dashes(Toy):
        def opens(self, text: str, lineno: int, ts: float | None) -> bool:
            return text.startswith("---") or super().opens(text, lineno, ts)

    out, _ = run(["BEGIN a", "x", "-----------", "x", "END"], Toy("a"), Dashes("d"))
    assert [r.text for r in out] == ["a:None"]


def test_end_of_log_closes_with_reason() -> None:
    out, _ = run(["BEGIN a", "x"])
    assert [r.text for r in out] == [f"a:{LOG_ENDED}"]


def test_too_many_skipped_lines_close_the_section() -> None:
    lines = ["BEGIN a", "x"] + ["noise"] * (MAX_SKIPPED + 1) + ["x", "END"]
    out, p = run(lines)
    assert len(out) == 1
    assert out[0].text == (f"a:no line of the a section for {MAX_SKIPPED + 1} lines "
                           f"(from line 3)")
    assert p.stats.skipped_in_sections == MAX_SKIPPED + 1


def test_exactly_max_skipped_keeps_the_section() -> None:
    lines = ["BEGIN a", "x"] + ["noise"] * MAX_SKIPPED + ["x", "END"]
    out, _ = run(lines)
    assert [(r.index, r.text) for r in out] == [(2, "a:None")]


def test_reader_exceptions_do_not_escape() -> None:
    out, p = run(["BEGIN a", "x", "BOOM", "BAD", "mark 2"])
    assert [r.text for r in out] == ["a:None", "mark 2"]
    assert p.stats.reader_errors == 2


def test_bytes_are_decoded_and_counted() -> None:
    parser = LogParser([], [Marks()])
    out = list(parser.parse([b"mark \xff\r\n", b"\x00mark ok\n", "mark str"]))
    assert [r.text for r in out] == ["mark \ufffd", "mark ok", "mark str"]  # type: ignore[union-attr]
    assert parser.stats.decode_errors == 1
    assert parser.stats.bytes == len(b"mark \xff\r\n") + len(b"\x00mark ok\n") + 8


def test_prefix_timestamps_reach_readers() -> None:
    parser = LogParser([], [Marks()])
    (rec,) = list(parser.parse(["[  12.500]<I> mark"]))
    assert isinstance(rec, CycleMarker) and rec.ts == pytest.approx(12.5)
    assert parser.stats.prefixed_lines == 1
