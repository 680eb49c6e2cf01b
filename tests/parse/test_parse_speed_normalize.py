"""normalize's shortcuts (a printable-line fast path, one fused gate regex) change nothing."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from memsleuth.parse import normalize as norm

# The gate as it was: two regexes, tried one after the other.
_MAY_HAVE_PREFIX = re.compile(r"[\[(<\d]|[EWIDV] \(|[A-Z][a-z]{2} ")


def old_strip_escapes(line: str) -> str:
    if "\x1b" in line or "\x9b" in line:
        line = norm._ANSI.sub("", line)
    return norm._CONTROL.sub("", line)


def old_gate(text: str) -> bool:
    return bool(text) and bool(_MAY_HAVE_PREFIX.match(text)) and not norm._PROTECTED.match(text)


_pieces = st.sampled_from([
    "[", "]", "(", ")", "<I>", "[HEAP]|", "[POOL]|", "[2^06]", "[MSOBJ]", "[MSCYCLE]", "[  0]:",
    "[kernel task]", "[13][14]", "I (12) t: ", "E (", "Nov 28 ", "Jan", "12:34:56.789 > ",
    "2026-11-28 02:15:24 ", "[  1.500]<I> ", "[I][tag] ", "\x1b[0;32m", "\x1b]0;t\x07", "\x9b1m",
    "\x00", "\x07", "\t", "\r", "\x7f", "\x85", "\u2028", "\xa0", "é", "٣", "x", " ", "0x1f",
])
_lines = st.lists(_pieces, max_size=12).map("".join)


@settings(max_examples=500, deadline=None)
@given(_lines)
def test_strip_escapes_unchanged(line: str) -> None:
    assert norm.strip_escapes(line) == old_strip_escapes(line)


@settings(max_examples=500, deadline=None)
@given(_lines)
def test_fused_gate_unchanged(text: str) -> None:
    assert bool(norm._STRIPPABLE.match(text)) == old_gate(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_strip_escapes_unchanged_any_text(line: str) -> None:
    assert norm.strip_escapes(line) == old_strip_escapes(line)
