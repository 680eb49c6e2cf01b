"""count_prefixed (one regex pass per chunk) agrees with normalize() line by line."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from memsleuth.parse.normalize import count_prefixed, normalize

PIECES = ["12:34:56.789 > ", "[  12.500]<I> ", "[  1.5] ", "I (5) tag: ", "E (123) wifi:x",
          "2026-11-28 02:15:24.123 ", "[2026-11-28T02:15:24] -> ", "Nov 28 02:15:24 host prog[1]: ",
          "[I][wifi] ", "[INFO] ", "<W> ", "(00:00:00.106) ", "[HEAP]| ", "[MSOBJ] ",
          "[2^06] bytes:", "[   0]:adress:", "[kernel task]", "[13][14]", "\x1b[0;32m",
          "\x1b]0;t\x07",
          "\x1b]unterminated", "\x9b1m", "\x07", "\t", " ", "  ", "x", "é", "\u2028", "\x85",
          "\xa0", "Jan ", "[", "(", "<", "1", ":", ">", "]", "-", "abc def",
          # a blank at the end is stripped before normalize() matches: '[  WARN] ' is no
          # NuttX prefix, 'E:' then a blank is Zephyr's minimal one (counted wrong before)
          "[  WARN] ", "[ 9] [  INFO] ", "[  INFO] [ap] ", "E:", "W:\t", "[I]", "I (5) a:"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(st.sampled_from(PIECES), max_size=6).map("".join), max_size=30))
def test_count_prefixed_matches_normalize(lines: list[str]) -> None:
    text = "".join(line + "\n" for line in lines)
    assert count_prefixed(text) == sum(normalize(line).prefixed for line in lines)


def test_blank_ended_and_bare_level_lines() -> None:
    lines = ["[  WARN] ", "E:", "x", "[  WARN] \x1b[0m", "E:\t", "[ 9] [  INFO] \t",
             "[  WARN] caf\u00e9 ", "W: ", "[  WARN] \x1b]0;t\x07", "[  WARN]  x"]
    for end in ("\n", ""):
        text = "\n".join(lines) + end
        assert count_prefixed(text) == sum(normalize(line).prefixed for line in lines) == 5
