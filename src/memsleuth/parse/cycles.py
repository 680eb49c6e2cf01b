"""Which log line numbers the test's rounds, found without configuration.

Stress logs number their rounds in their own words (``---- reconnect cycle 12 ----``,
``[stress] round 12/500``, ``loop=12``). A round marker is a line family (the same text
with different numbers) with one number that goes up by one from one line of the family to
the next, recurring about once per heap overview. The detector groups lines by their text
with the numbers taken out, follows every number position, and picks the family that looks
most like that; the verbs then read cycles with the regex it builds, and say which line
they used (``--cycle-pattern`` still overrides).

Incremental on purpose (``feed`` one line at a time, ``result`` at any moment): files are
pre-scanned on their head, and a live monitor can feed the lines as they arrive.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from memsleuth.parse.lazyre import lazy
from memsleuth.parse.normalize import normalize

_NUM = lazy(r"\d+")
_DIGIT = lazy(r"\d")
_LETTERS = lazy(r"[A-Za-z]{2,}")
#: lines that belong to a heap overview (a tie-break: a round marker recurs once per overview)
_OVERVIEW = lazy(r"\[HEAP\]|TotalSz|TotalSize|Heap Info|free\s*\|\s*used", re.IGNORECASE)
#: the longest line and the most numbers a marker line may have
MAX_LEN = 120
MAX_NUMBERS = 4
#: families followed at most (memory bound whatever the log)
MAX_FAMILIES = 4096
#: occurrences a family needs, and the share of its steps that must be exactly +1
MIN_COUNT = 3
MIN_PLUS_ONE = 0.8


@dataclass(slots=True)
class _Family:
    pieces: list[str]
    order: int                       # first appearance among families
    count: int = 0
    last: list[int] = field(default_factory=list)
    first: list[int] = field(default_factory=list)
    plus_one: list[int] = field(default_factory=list)
    constant: list[bool] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class DetectedCycles:
    """A detected round marker: its regex (first group = the cycle), how it reads, how many."""

    regex: str
    template: str          # the line with the counter as N and varying numbers as #
    count: int             # lines of the family in the scanned part
    scanned_lines: int

    def describe(self) -> dict[str, object]:
        return {"how": "detected", "template": self.template, "pattern": self.regex,
                "count": self.count, "scanned_lines": self.scanned_lines}


class CycleDetector:
    """Feed normalised lines; ``result()`` is the best round-marker family so far, or None."""

    def __init__(self) -> None:
        self._families: dict[str, _Family] = {}
        self._normalized: dict[str, str] = {}
        self.lines = 0
        self.overviews = 0

    def feed_raw(self, line: str) -> None:
        """A raw line (prefix not stripped): the cheap tests first, so a pre-scan costs a
        fraction of a parse; only a possible marker line is normalised."""
        self.lines += 1
        if "0x" in line or len(line) > MAX_LEN + 40:
            return
        if _OVERVIEW.search(line):
            self.overviews += 1
            return
        if _DIGIT.search(line):
            self._candidate(normalize(line).text)

    def feed_raw_lines(self, lines: list[str]) -> None:
        """``feed_raw`` for a batch of raw lines: the lines no marker can be (an address in
        them, too long) are dropped in one pass first; a stress log is mostly such lines."""
        self.lines += len(lines)
        longest = MAX_LEN + 40
        overview, digit, candidate = _OVERVIEW.search, _DIGIT.search, self._candidate
        seen = self._normalized
        for line in [v for v in lines if "0x" not in v and len(v) <= longest]:
            low = line.lower()
            # every _OVERVIEW alternative holds one of these words: the regex only then
            if ("[heap]" in low or "totals" in low or "heap info" in low
                    or "free" in low) and overview(line):
                self.overviews += 1
            elif digit(line):
                text = seen.get(line)
                if text is None:
                    text = normalize(line).text
                    if len(seen) < 4096:    # the same foreign lines recur; bounded
                        seen[line] = text
                candidate(text)

    def feed(self, text: str) -> None:
        """A normalised line (the live monitor has them)."""
        self.lines += 1
        if _OVERVIEW.search(text):
            self.overviews += 1
            return
        if "0x" not in text and _DIGIT.search(text):
            self._candidate(text)

    def _candidate(self, text: str) -> None:
        if len(text) > MAX_LEN:
            return
        text = text.strip()
        pieces = _NUM.split(text)
        n = len(pieces) - 1
        if n == 0 or n > MAX_NUMBERS or not _LETTERS.search("".join(pieces)):
            return
        key = "\x00".join(pieces)
        fam = self._families.get(key)
        values = [int(v) for v in _NUM.findall(text)]
        if fam is None:
            if len(self._families) >= MAX_FAMILIES:
                return
            fam = _Family(pieces, len(self._families), 1, values, list(values), [0] * n,
                          [True] * n)
            self._families[key] = fam
            return
        fam.count += 1
        for j, v in enumerate(values):
            if v == fam.last[j] + 1:
                fam.plus_one[j] += 1
            if v != fam.first[j]:
                fam.constant[j] = False
        fam.last = values

    def result(self) -> DetectedCycles | None:
        best: tuple[tuple[float, ...], _Family, int] | None = None
        for fam in self._families.values():
            if fam.count < MIN_COUNT:
                continue
            steps = fam.count - 1
            pos = max(range(len(fam.plus_one)), key=lambda j: fam.plus_one[j])
            share = fam.plus_one[pos] / steps
            if share < MIN_PLUS_ONE:
                continue
            # once per overview period scores best; without overviews, the longer run
            period = (abs(math.log(fam.count / self.overviews)) if self.overviews
                      else -math.log(fam.count))
            score = (round(period, 1), -share, fam.order)
            if best is None or score < best[0]:
                best = (score, fam, pos)
        if best is None:
            return None
        _, fam, pos = best
        regex = ["^\\s*"]
        shown = []
        for j, piece in enumerate(fam.pieces):
            regex.append(re.escape(piece))
            shown.append(piece)
            if j < len(fam.plus_one):
                if j == pos:
                    regex.append(r"(\d+)")
                    shown.append("N")
                else:
                    regex.append(r"\d+")
                    shown.append(str(fam.first[j]) if fam.constant[j] else "#")
        regex.append(r"\s*$")
        return DetectedCycles("".join(regex), "".join(shown), fam.count, self.lines)


#: how much of a file's head the pre-scan reads
SCAN_LINES = 200_000


def detect_in_lines(lines, limit: int = SCAN_LINES) -> DetectedCycles | None:  # noqa: ANN001
    """Run the detector over normalised lines (an iterable of str), up to ``limit``."""
    det = CycleDetector()
    for i, text in enumerate(lines):
        if i >= limit:
            break
        det.feed(text)
    return det.result()
