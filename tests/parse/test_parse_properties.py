"""Property tests: no input, however garbled, makes the parser raise."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from parse_helpers import FIXTURES

from memsleuth.parse import parse_lines
from memsleuth.sources import split_lines

REAL_LINES = sorted({
    line
    for path in list(FIXTURES.glob("*.log")) + list((FIXTURES.parent / "crash").glob("*.log"))
    for line in path.read_text(errors="replace").splitlines()
})


def _consume(lines) -> None:
    log = parse_lines(lines)
    records = list(log)
    stats = log.stats
    assert stats.lines == len(lines)
    assert stats.partial_sections <= len(records)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_any_bytes(data: bytes) -> None:
    _consume(list(split_lines([data])))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=200), max_size=60))
def test_any_text_lines(lines: list[str]) -> None:
    _consume(lines)


_garble = st.sampled_from(["", "\x1b[31m", "\r", "\x00", "\xff", "[  1.000]<I> ", "I (5) t: ",
                           "0x", "|", "!", " ", "sentinel", "OK", "-" * 60])


@st.composite
def mangled_fixture_lines(draw) -> list[str]:
    picked = draw(st.lists(st.sampled_from(REAL_LINES), max_size=120))
    out = []
    for line in picked:
        action = draw(st.integers(0, 5))
        if action == 0 and line:
            cut = draw(st.integers(0, len(line)))
            line = line[:cut]
        elif action == 1:
            pos = draw(st.integers(0, len(line)))
            line = line[:pos] + draw(_garble) + line[pos:]
        elif action == 2:
            line = draw(_garble) + line
        out.append(line)
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled_fixture_lines())
def test_shuffled_truncated_garbled_fixture_lines(lines: list[str]) -> None:
    _consume(lines)
    _consume([line.encode("utf-8", "surrogatepass") + b"\r\n" for line in lines])


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted(p.name for p in FIXTURES.glob("*.log"))), st.data())
def test_fixture_truncated_anywhere(name: str, data: st.DataObject) -> None:
    lines = (FIXTURES / name).read_text().splitlines()
    cut = data.draw(st.integers(0, len(lines)))
    _consume(lines[:cut])
