"""When does a mutated log still show its leak to a human? (issue 10: 0 "clean" verdicts on
that class.) The definition is about what a person reading the mutant sees, judged from the
mutation's provenance, never from memsleuth's reading of the mutant:

* **A failure line**: a line where the seed log reports an allocation failure (``WARNING,
  malloc failed!!!! ...``) is in the mutant unchanged, at the start of a line. Whatever else
  happened, the run ran out: ``check`` must fail (exit 1), and must never say clean.
* **Overview rows**: at least ``MIN_ROWS`` heap-overview rows of a leaking seed are in the
  mutant unchanged (every line from the overview's first line to the line that prints its
  free figure, contiguous) and in their original order (the longest in-order subsequence
  counts; duplicates count once), and their free figures fall steadily: the Theil-Sen
  decline over them is at least ``K_WHOLE`` times the row-to-row noise (the scatter around
  that line, 1.4826 x MAD, at least 1 byte), and each half of them falls by at least
  ``K_HALF`` times that noise on its own (a warm-up followed by a plateau falls only in its
  first half: that is not a leak a person would call).

Which seeds leak is known truth (their READMEs and ``[FACT]`` lines), listed in ``LEAKING``;
the overview rows and failure lines of each seed come from reading the *unmutated* seed.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

MIN_ROWS = 12
K_WHOLE = 8.0
K_HALF = 3.0

#: seeds that leak, by their documented truth
LEAKING = (
    "examples/rtos_formats/out/",            # README: -(40 + header) B per reconnect
    "examples/vendor_stress/out/",           # *-leak: 1 timer/round; *-frag: 0.5 KB kept/round
    "examples/wifi_reconnect_leak/out/cortex-m4-leak.log",
    "examples/wifi_reconnect_leak/out/x86_64-leak.log",
    "tests/fixtures/freertos/",              # facts.txt: 1 timer per round, 1 sem every 4
)


def intact_tags(win: Sequence[bytes], tags: Sequence[tuple[int, int] | None]
                ) -> list[tuple[int, int] | None]:
    """Provenance of each mutant element, None unless it is an unchanged seed line that also
    starts a line of the mutant (the element before it ends with a line end)."""
    out: list[tuple[int, int] | None] = []
    for i, tag in enumerate(tags):
        ok = tag is not None and (i == 0 or win[i - 1].endswith((b"\n", b"\n\r")))
        out.append(tag if ok else None)
    return out


def theil_sen(y: Sequence[float]) -> tuple[float, float]:
    """Slope and intercept of y over 0..n-1 (median of pairwise slopes)."""
    n = len(y)
    slopes = [(y[j] - y[i]) / (j - i) for i in range(n) for j in range(i + 1, n)]
    b = statistics.median(slopes)
    a = statistics.median(y[i] - b * i for i in range(n))
    return b, a


def falls_steadily(free: Sequence[int]) -> tuple[bool, str]:
    """The overview-row rule of the module docstring, on free figures in log order."""
    n = len(free)
    if n < MIN_ROWS:
        return False, f"{n} intact rows < {MIN_ROWS}"
    b, a = theil_sen(free)
    resid = [f - (a + b * i) for i, f in enumerate(free)]
    med = statistics.median(resid)
    noise = max(1.4826 * statistics.median(abs(r - med) for r in resid), 1.0)
    whole = -b * (n - 1)
    h = n // 2
    halves = [-theil_sen(part)[0] * (len(part) - 1) for part in (free[:h], free[h:])]
    why = (f"{n} rows fall {whole:.0f} B, noise {noise:.0f} B, halves "
           f"{halves[0]:.0f}/{halves[1]:.0f} B")
    ok = whole >= K_WHOLE * noise and min(halves) >= K_HALF * noise
    return ok, why


@dataclass(slots=True)
class Judgement:
    visible: bool
    rows_visible: bool
    failure_line: bool
    why: str


@dataclass
class SeedTruth:
    """Per seed: leaking?, its overview rows [(first, last line index, free)], failure lines."""

    leak: list[bool] = field(default_factory=list)
    rows: list[list[tuple[int, int, int]]] = field(default_factory=list)
    failures: list[frozenset[int]] = field(default_factory=list)

    @classmethod
    def load(cls, seeds: Sequence[tuple[str, Sequence[bytes]]]) -> SeedTruth:
        truth = cls()
        for name, lines in seeds:
            rows, failures = read_seed(name, lines)
            truth.leak.append(any(p in name for p in LEAKING))
            truth.rows.append(rows)
            truth.failures.append(failures)
        return truth

    def leaking(self, si: int) -> bool:
        return self.leak[si]

    def judge(self, si: int, intact: Sequence[tuple[int, int] | None]) -> Judgement:
        failure = any(t is not None and t[1] in self.failures[t[0]] for t in intact)
        rows_ok, why = False, "seed does not leak"
        if self.leak[si] and self.rows[si]:
            rows_ok, why = falls_steadily(self.intact_rows(si, intact))
        if failure:
            why = "an allocation-failure line is intact; " + why
        return Judgement(rows_ok or failure, rows_ok, failure, why)

    def intact_rows(self, si: int, intact: Sequence[tuple[int, int] | None]) -> list[int]:
        """Free figures of the seed's rows found whole, longest in-order run of them."""
        rows = self.rows[si]
        starts = {first: r for r, (first, _, _) in enumerate(rows)}
        order: list[int] = []
        for pos, tag in enumerate(intact):
            if tag is None or tag[0] != si or tag[1] not in starts:
                continue
            r = starts[tag[1]]
            first, last, _ = rows[r]
            span = intact[pos:pos + last - first + 1]
            if all(t == (si, first + k) for k, t in enumerate(span)) and \
                    len(span) == last - first + 1:
                order.append(r)
        return [rows[r][2] for r in longest_increasing(order)]


def longest_increasing(seq: Sequence[int]) -> list[int]:
    """The longest strictly increasing subsequence (patience sorting, O(n log n))."""
    import bisect

    tails: list[int] = []
    tails_idx: list[int] = []
    prev = [-1] * len(seq)
    for i, v in enumerate(seq):
        k = bisect.bisect_left(tails, v)
        if k == len(tails):
            tails.append(v)
            tails_idx.append(i)
        else:
            tails[k] = v
            tails_idx[k] = i
        prev[i] = tails_idx[k - 1] if k else -1
    out: list[int] = []
    i = tails_idx[-1] if tails_idx else -1
    while i >= 0:
        out.append(seq[i])
        i = prev[i]
    return out[::-1]


def read_seed(name: str, lines: Sequence[bytes]) -> tuple[list[tuple[int, int, int]],
                                                         frozenset[int]]:
    """The unmutated seed's standalone overview rows and allocation-failure lines (0-based
    line indexes). A row spans from its first line to the line printing its free figure."""
    import re
    from pathlib import Path

    from memsleuth.parse import parse_file
    from memsleuth.records import AllocWarning, HeapOverview

    rows: list[tuple[int, int, int]] = []
    failures: set[int] = set()
    for rec in parse_file(Path(name)):
        if isinstance(rec, AllocWarning) and rec.kind in ("malloc_failed", "realloc_failed"):
            failures.add(rec.line - 1)
        elif isinstance(rec, HeapOverview) and not rec.nested and not rec.partial:
            figure = re.compile(rf"(?<![0-9A-Za-z])(?:{rec.free}|0x0*{rec.free:x})(?![0-9A-Za-z])"
                                .encode(), re.I)
            first = rec.line - 1
            for last in range(first, min(first + 8, len(lines))):
                if figure.search(lines[last]):
                    rows.append((first, last, rec.free))
                    break
    return rows, frozenset(failures)
