"""The C scanner's prefix matcher is normalize(), for every line it decides.

``_scan.prefix_count`` counts the lines normalize() finds a prefix on (the scanner's
``prefixed_lines``) and hands back the lines it cannot decide; ``_scan.normalize_line`` is the
same matcher on one line. Compared with normalize() on every committed log, on lines built
from prefix pieces, and on those lines mutated a character at a time where the hand-written
matchers could part from the regexes (digit counts, brackets, arrows, blanks, escapes).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memsleuth import accel
from memsleuth.parse.normalize import count_prefixed, is_plain, normalize

ROOT = Path(__file__).resolve().parents[2]
LOGS = sorted((ROOT / "examples").rglob("*.log")) + sorted((ROOT / "tests" / "fixtures").rglob(
    "*.log"))

PIECES = ["12:34:56.789 > ", "1:02:03,5 --> ", "12:34:56 ->", "[  12.500]<I> ", "[  1.5] ",
          "[1.5]<W>", "I (5) tag: ", "E (123) wifi:x", "V (2)  :", "D (1) " + "a" * 41 + ":",
          "2026-11-28 02:15:24.123 ", "[2026-11-28T02:15:24] -> ",
          "2026-11-28 02:15:24,1234567890 >", "Nov 28 02:15:24 host prog[1]: ",
          "Nov  8 02:15:24 h a.b/c-d: x", "Dec 123 00:00:00 h p: ",
          "[I][wifi] ", "[INFO] ", "[WARNING][tag|x] ", "[ERR][2^3] ", "[E][MSOBJ] ",
          "[VERBOSE][abc]| ", "[DEBUG] [x] ", "<W> ", "<dbg> a.b-c_d: ", "<err> " + "x" * 33 + ":",
          "(00:00:00.106) ", "[123:45:67] ", "[00:00:05.979,000] ", "[00:00:05.979,0000] ",
          "[ 9] [  INFO] [ap] ", "[  WARN] ", "[ 12345] [EMERG] ", "[123456] [INFO] ", "E: ",
          "W:", "[HEAP]| ", "[POOL]|", "[MSOBJ] ", "[MS] ", "[2^06] bytes:", "[   0]:adress:",
          "[kernel  task]", "[13][14]", "\x1b[0;32m", "\x1b[0m", "\x1b[", "\x1b]0;t\x07",
          "\x9b1m", "\x07", "\r", "\t", " ", "  ", "x", "é", "\x85", "\xa0", "Jan ", "Xyz ",
          "[", "(", "<", "1", "12", ":", ">", "]", ")", "-", ".", ",", "T", "abc def",
          "0x20000150  used    1536   OK  0x40d"]
ALPHABET = list("0123456789:.,[]()<>-| \t^TIWEDVFMS_/ax") + [
    "\x1b[0m", "\x1b[", "\x01", "\r", "é", "INFO", "WARN", "ERR", "Nov", "2026-11-28", "]:", "->",
    "-->"]


@pytest.fixture(scope="module")
def fast():
    mod = accel.module()
    if mod is None or not hasattr(mod, "normalize_line"):
        pytest.skip("the C scanner is not built")
    return mod


def check_line(fast, line: str) -> bool:
    """The C answer equals normalize()'s; False when C leaves the line to Python."""
    got = fast.normalize_line(line)
    if got is None:
        return False
    norm = normalize(line)
    assert got == (norm.prefixed, norm.text), line
    return True


def check_chunk(fast, lines: list[str], end: str = "\n") -> None:
    text = "\n".join(lines) + end
    plain, counted, rest, nl = fast.prefix_count(text)
    assert plain == is_plain(text), lines
    assert nl == text.count("\n")
    assert counted + count_prefixed(rest) == sum(normalize(x).prefixed for x in lines), lines


def mutate(line: str, rnd: random.Random) -> str:
    chars = list(line)
    for _ in range(rnd.randint(1, 4)):
        at = rnd.randint(0, len(chars))
        op = rnd.random()
        if op < 0.35 and chars:
            del chars[min(at, len(chars) - 1)]
        elif op < 0.7:
            chars.insert(at, rnd.choice(ALPHABET))
        elif chars:
            chars[min(at, len(chars) - 1)] = rnd.choice(ALPHABET)
    return "".join(chars)


def test_every_committed_log(fast) -> None:
    lines: set[str] = set()
    for path in LOGS:
        lines.update(path.read_text(encoding="utf-8", errors="replace").split("\n"))
    decided = sum(check_line(fast, line) for line in lines)
    printable = sum(all(" " <= c <= "~" or c == "\t" for c in line) for line in lines)
    assert decided >= printable          # every printable ASCII line is decided in C
    assert sum(normalize(line).prefixed for line in lines) > 50


def test_built_and_mutated_lines(fast) -> None:
    rnd = random.Random(11)
    decided = prefixed = 0
    for _ in range(40_000):
        line = "".join(rnd.choice(PIECES) for _ in range(rnd.randint(1, 4)))
        if rnd.random() < 0.8:
            line = mutate(line, rnd)
        if check_line(fast, line):
            decided += 1
            prefixed += normalize(line).prefixed
    assert decided > 30_000 and prefixed > 5_000     # the comparison is not vacuous


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(PIECES), max_size=5).map("".join), max_size=25),
       st.sampled_from(["\n", ""]))
def test_chunk_counts(lines: list[str], end: str) -> None:
    mod = accel.module()
    if mod is None or not hasattr(mod, "prefix_count"):
        pytest.skip("the C scanner is not built")
    check_chunk(mod, lines, end)


def test_long_and_escaped_lines(fast) -> None:
    long = "[I][wifi] " + "x" * 5000
    check_chunk(fast, [long, "\x1b[1m" + long, "12:00:00 > " + long, "ok"])
    assert fast.normalize_line("\x1b[1m" + long) is None          # left to Python
    assert fast.prefix_count("\x1b]0;t\x07[I] a\n[I] b\n")[1:] == (1, "\x1b]0;t\x07[I] a\n", 2)
