"""The scanner's C calls (``memsleuth._scan``, ABI 5) in Python and NumPy, for when the C module
is not built or turned off (``MEMSLEUTH_ACCEL=0``): parse/scan.py then runs its C-path code
unchanged on top of this module (``accel.scanner()``).

Reading a stress log line by line in Python costs ~10 µs a line; here a chunk is classified
once, in bulk: its line ends with NumPy, the strict ``[MSOBJ]`` and ``[MSCYCLE]`` lines checked
field by field over all lines at once (gathers at computed offsets), overview tables by their
line shapes, the other lines' anchors by one regex pass over those lines only. ``run`` then
hands back whole idle stretches as the C loop does: packed object events, heap stretches in
columns (``HeapRun``); inside an open block dump, ``dump_run2`` reads the block lines (one
regex each, a run at a time) and the blank, structural, value and foreign lines the dump
consumes or skips, as the C loop does. What it cannot decide as the C loop would (an
overlong or odd line, a number beyond 64 bits, a table of another shape) it does not guess:
it stops there and the scanner's Python reads that line, as it does after any line the C
loop stops at. The answers are compared with the C path's and the line path's by
tests/parse/test_verb_paths.py, tests/parse/test_pyscan.py and the differential fuzzer
(tests/fuzz/differential.py).
"""

from __future__ import annotations

import re
from itertools import chain
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from memsleuth.parse.normalize import (
    _BULK_PREFIX,
    _ESC_ONE_LINE,
    _STRIPPABLE,
    _refit,
    _strip_prefixes,
)

#: what parse/scan.py may call (see accel.ABI); HEAP_COLUMNS: run(..., heap=True)
ABI = 5
HEAP_COLUMNS = 1

#: records.PACKED_EVENT ("=qQQQII") as a NumPy row
PACKED = np.dtype([("line", "=i8"), ("handle", "=u8"), ("caller", "=u8"), ("seq", "=u8"),
                   ("kind", "=u4"), ("create", "=u4")])
MAX_KINDS = 1024
#: the kind names packed rows index (append-only, bounded, like the C module's)
kind_names: list[str] = []
_kind_ids: dict[str, int] = {}

LINE_MAX_CLEAN = 4096
_CSI = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]")
_NONPRINT = re.compile(rb"[^\t -~]")
#: what a foreign line inside an overview table may not hold (_scan.c table_foreign)
_TABLE_WORDS = re.compile(rb"\||=====|!!!!!|--|k_mm_statistic")
_BANNER = re.compile(rb"=+ *Heap Info *=+")
_RULE = re.compile(rb"-{20,}")
_HEADER = re.compile(rb"\[HEAP\]\|[ -~]*")
_CELL = re.compile(rb" *(?:0x([0-9A-Fa-f]{1,16})(?![0-9A-Fa-f])|([0-9]{1,18})(?![0-9])) *\|")
_ROW = re.compile(rb" *\|(?: *(?:0x[0-9A-Fa-f]{1,16}(?![0-9A-Fa-f])|[0-9]{1,18}(?![0-9])) *\|)+ *")
_OBJ = re.compile(rb"\[MSOBJ\] (create|delete) ([a-z][a-z0-9_]{0,15}) 0x([0-9a-f]{8}|[0-9a-f]{16}) "
                  rb"caller 0x([0-9a-f]{8}|[0-9a-f]{16}) seq ([0-9]+)\n")
MAX_CELLS = 32
INT64_MAX = (1 << 63) - 1

# byte classes
_DIGIT = np.zeros(256, bool)
_DIGIT[48:58] = True
_HEXL = _DIGIT.copy()                 # [0-9a-f]: object handles and callers
_HEXL[97:103] = True
_KIND = _HEXL.copy()                  # [a-z0-9_]
_KIND[97:123] = True
_KIND[95] = True
_HEXD = _HEXL.copy()                  # [0-9A-Fa-f]: table cells
_HEXD[65:71] = True
_HEXVAL = np.zeros(256, np.uint64)
for _c in range(256):
    ch = chr(_c)
    if ch in "0123456789abcdefABCDEF":
        _HEXVAL[_c] = int(ch, 16)
_MAY_START = np.zeros(256, bool)      # normalize._MAY_START
for _c in b"[(<0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ":
    _MAY_START[_c] = True

# line actions
X, INERT, OBJ, MARK, TABLE = 0, 1, 2, 3, 4


def _cols(starts: np.ndarray, width: int, limit: int) -> np.ndarray:
    """Indices [start, start + width) per row, clipped into the buffer."""
    return np.minimum(starts[:, None] + np.arange(width), limit)


def _grab(arr: np.ndarray, at: np.ndarray, width: int) -> np.ndarray:
    """``arr[_cols(at, width, len(arr) - 1)]``: by one gather of rows from a strided view
    when no index needs clipping (an index matrix costs 8 bytes a cell), else as written."""
    if len(at) and int(at.min()) >= 0 and int(at.max()) + width <= len(arr):
        step = arr.strides[0]
        return as_strided(arr, (len(arr) - width + 1, width), (step, step),
                          writeable=False)[at]
    return arr[_cols(at, width, len(arr) - 1)]


def _lit(arr: np.ndarray, at: np.ndarray, word: bytes) -> np.ndarray:
    """Which rows hold ``word`` at ``at``: eight bytes at a time (one unaligned 64-bit read
    per row and piece) when every read stays inside ``arr``, else byte by byte."""
    if not len(at):
        return np.zeros(0, bool)
    span = -(-len(word) // 8) * 8
    if arr.ndim == 1 and arr.strides[0] == 1 and len(arr) >= 8 and int(at.min()) >= 0 \
            and int(at.max()) + span <= len(arr):
        u64 = np.ndarray((len(arr) - 7,), "<u8", arr, 0, (1,))
        if len(word) <= 8:
            return (u64[at] & np.uint64((1 << 8 * len(word)) - 1)) \
                == np.uint64(int.from_bytes(word, "little"))
        # every word of every row in one gather (NumPy's per-call cost dominates otherwise)
        masks, vals = _word_masks(word)
        got = u64[at[:, None] + np.arange(0, len(word), 8)]
        return ((got & masks) == vals).all(axis=1)
    got = _grab(arr, at, len(word))
    return (got == np.frombuffer(word, np.uint8)).all(axis=1)


def _head8(arr: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The eight bytes from each of ``at`` as a little-endian word (zeros past the end)."""
    n = len(arr)
    if n < 8:
        pad = np.zeros(16, np.uint8)
        pad[:n] = arr
        return np.ndarray((9,), "<u8", pad, 0, (1,))[np.minimum(at, 8)]
    w = np.ndarray((n - 7,), "<u8", arr, 0, (1,))[np.minimum(at, n - 8)]
    far = np.flatnonzero(at > n - 8)
    for j in far.tolist():
        a = int(at[j])
        w[j] = int.from_bytes(arr[a:a + 8].tobytes().ljust(8, b"\0"), "little")
    return w


def _word(lit: bytes) -> tuple[np.uint64, np.uint64]:
    """(mask, value) of up to eight leading bytes, to test a _head8 word against."""
    return np.uint64((1 << 8 * len(lit)) - 1), np.uint64(int.from_bytes(lit, "little"))


_W_MSOBJ_ = _word(b"[MSOBJ] ")
_W_MSOBJ = _word(b"[MSOBJ]")
_W_MSCYCLE = _word(b"[MSCYCLE")
_W_HEAP = _word(b"[HEAP]|")


def _is(w: np.ndarray, word: tuple[np.uint64, np.uint64]) -> np.ndarray:
    return (w & word[0]) == word[1]


_MASKS: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}


def _word_masks(word: bytes) -> tuple[np.ndarray, np.ndarray]:
    """``word`` as 64-bit words (little-endian) and the masks of their bytes in use."""
    got = _MASKS.get(word)
    if got is None:
        pieces = [word[k:k + 8] for k in range(0, len(word), 8)]
        got = (np.array([(1 << 8 * len(p)) - 1 for p in pieces], np.uint64),
               np.array([int.from_bytes(p, "little") for p in pieces], np.uint64))
        if len(_MASKS) >= 256:
            _MASKS.clear()
        _MASKS[word] = got
    return got


_ONES8 = np.uint64(0x0101010101010101)


def _rows_all(b: np.ndarray) -> np.ndarray:
    """``b.all(axis=1)`` for a fresh bool matrix, eight cells (one 64-bit word) at a time
    when its width allows."""
    if b.shape[1] % 8 or not b.flags.c_contiguous or not b.shape[1]:
        return b.all(axis=1)
    words = b.view(np.uint64)
    return words[:, 0] == _ONES8 if words.shape[1] == 1 else (words == _ONES8).all(axis=1)


# SWAR on 64-bit words of eight ASCII bytes (the first byte the lowest)
_U = np.uint64
_LOW6 = _U((1 << 48) - 1)
_CREATE = _U(int.from_bytes(b"create", "little"))
_DELETE = _U(int.from_bytes(b"delete", "little"))
_U32 = _U(32)
_HI4 = _U(0xF0F0F0F0F0F0F0F0)
_LO4 = _U(0x0F0F0F0F0F0F0F0F)
_ZEROS = _U(0x3030303030303030)
_SIX = _U(0x0606060606060606)
_E0, _E8, _E16 = _U(1), _U(10 ** 8), _U(10 ** 16)
#: the top k bytes of a word (k = 0..8)
_KEEP = np.array([((1 << 64) - 1) ^ ((1 << 8 * (8 - k)) - 1) for k in range(9)], np.uint64)


def _hex8(w: np.ndarray) -> np.ndarray:
    """The value of eight hex digits [0-9a-fA-F] per word."""
    v = (w & _LO4) + _U(9) * ((w >> _U(6)) & _U(0x0101010101010101))
    v = ((v & _U(0x000F000F000F000F)) << _U(4)) | ((v >> _U(8)) & _U(0x000F000F000F000F))
    v = ((v & _U(0x000000FF000000FF)) << _U(8)) | ((v >> _U(16)) & _U(0x000000FF000000FF))
    return ((v & _U(0xFFFF)) << _U(16)) | ((v >> _U(32)) & _U(0xFFFF))


def _dec8(w: np.ndarray) -> np.ndarray:
    """The value of eight decimal digits per word (modulo 2**64 arithmetic, exact here)."""
    v = ((w & _LO4) * _U(2561)) >> _U(8)
    v = ((v & _U(0x00FF00FF00FF00FF)) * _U(6553601)) >> _U(16)
    return ((v & _U(0x0000FFFF0000FFFF)) * _U(42949672960001)) >> _U(32)



_POW16 = np.uint64(16) ** np.arange(15, -1, -1, dtype=np.uint64)
_POW10 = np.uint64(10) ** np.arange(18, -1, -1, dtype=np.uint64)


def _hex_values(arr: np.ndarray, at: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Values of the hex digits arr[at, at + n) (n <= 16), as uint64."""
    if not len(at):
        return np.zeros(0, np.uint64)
    digits = _HEXVAL[_grab(arr, at + n - 16, 16)]
    keep = np.arange(16) >= (16 - n)[:, None]
    digits = np.where(keep, digits, np.uint64(0))
    return digits @ _POW16          # (exact: the value fits 64 bits; integer matmul)


def _dec_values(arr: np.ndarray, at: np.ndarray, n: np.ndarray, width: int) -> np.ndarray:
    """Values of the decimal digits arr[at, at + n) (n <= width <= 19), as uint64."""
    if not len(at):
        return np.zeros(0, np.uint64)
    digits = _grab(arr, at + n - width, width).astype(np.uint64) - np.uint64(48)
    keep = np.arange(width) >= (width - n)[:, None]
    digits = np.where(keep, digits, np.uint64(0))
    return digits @ _POW10[19 - width:]    # (modulo 2**64, as the loop it replaces)


def _kind_id(name: str) -> int:
    got = _kind_ids.get(name)
    if got is None:
        if len(kind_names) >= MAX_KINDS:
            return -1
        got = _kind_ids[name] = len(kind_names)
        kind_names.append(name)
    return got


class _Literals:
    """Where any of some lowercase literals occur in a byte array: a table of their first two
    bytes picks the candidates, their first four bytes (one sorted search) the near-hits,
    NumPy compares those with each literal. (The readers' anchors as one regex alternation
    scanned ~100 ns a byte: common first letters.)"""

    def __init__(self, words: list[bytes]) -> None:
        self.one = np.zeros(256, bool)
        self.big = np.zeros(65536, bool)
        short: dict[int, list[bytes]] = {}      # 2 and 3 bytes: by their first two
        long_: dict[int, list[bytes]] = {}      # 4 and more: by their first four
        for w in words:
            if len(w) == 1:
                self.one[w[0]] = True
                continue
            self.big[w[0] << 8 | w[1]] = True
            if len(w) < 4:
                short.setdefault(w[0] << 8 | w[1], []).append(w)
            else:
                long_.setdefault(int.from_bytes(w[:4], "big"), []).append(w)
        self.short = short
        self.p4 = np.array(sorted(long_), np.uint32)
        self.w4 = [long_[k] for k in sorted(long_)]
        self.only4 = np.array([all(len(w) == 4 for w in ws) for ws in self.w4], bool)
        self.any_one = bool(self.one.any())
        self.pad = np.zeros(max((len(w) for w in words), default=0) + 4, np.uint8)

    def find(self, u: np.ndarray, pairs: tuple[np.ndarray, np.ndarray] | None = None
             ) -> np.ndarray:
        """Positions in ``u`` where one of the literals starts (each hit line at least once).
        ``pairs``: ``_pairs(u, pad)`` made once for several sets (pad at least ``self.pad``)."""
        out = []
        if self.any_one:
            out.append(np.flatnonzero(self.one[u]))
        if len(u) > 1 and (self.short or len(self.p4)):
            up, code = pairs if pairs is not None else _pairs(u, self.pad)
            cand = np.flatnonzero(self.big[code[:len(u) - 1]])
            if len(cand):
                for c, ws in self.short.items():
                    at = cand[code[cand] == c]
                    for w in ws:
                        if len(w) == 2:
                            out.append(at)
                        else:
                            out.append(at[up[at + 2] == w[2]])
                if len(self.p4):
                    c4 = (code[cand] << 16) | code[cand + 2]
                    k = np.minimum(np.searchsorted(self.p4, c4), len(self.p4) - 1)
                    near = self.p4[k] == c4
                    at, k = cand[near], k[near]
                    sure = self.only4[k]
                    out.append(at[sure])
                    at, k = at[~sure], k[~sure]
                    for j in sorted(set(k.tolist())):   # (np.unique imports numpy.ma)
                        aj = at[k == j]
                        for w in self.w4[j]:
                            win = up[aj[:, None] + np.arange(len(w))]
                            out.append(aj[(win == np.frombuffer(w, np.uint8)).all(axis=1)])
        return np.concatenate(out) if out else np.zeros(0, np.int64)


def _pairs(u: np.ndarray, pad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``u`` padded, and each byte with the next as one number (what _Literals.find scans)."""
    up = np.concatenate((u, pad))
    return up, (up[:-1].astype(np.uint32) << 8) | up[1:]


_TABLE_LIT = _Literals([b"|", b"=====", b"!!!!!", b"--", b"k_mm_statistic"])
_POOL_LIT = _Literals([b"[pool]|"])
_LOWER = np.arange(256, dtype=np.uint8)
_LOWER[65:91] += 32


def _letters(kinds: range, foreign: bool | None = None, after: bool | None = None) -> bytes:
    """A regex class of the per-line letters (65 + kind * 4 + foreign * 2 + after_ok)."""
    got = [65 + k * 4 + f * 2 + a for k in kinds for f in (0, 1) for a in (0, 1)
           if (foreign is None or f == foreign) and (after is None or a == after)]
    return b"[" + b"".join(re.escape(bytes([c])) for c in got) + b"]"


_F = _letters(range(5), foreign=True) + b"{0,8}"
_B, _R, _H, _W = (_letters(range(k, k + 1)) for k in (1, 2, 3, 4))
#: _scan.c parse_table: (banner)(foreign)rule(foreign)header(foreign)row(tail)rule, or
#: rule header (foreign) row (tail) rule; then a line that may follow a table
_TABLES = re.compile(
    b"(" + _B + b")(" + _F + b")" + _R + b"(" + _F + b")" + _H + b"(" + _F + b")" + _W
    + b"(" + _F + b")" + _R + b"(?=" + _letters(range(5), after=True) + b")"
    + b"|" + _R + _H + b"(" + _F + b")" + _W + b"(" + _F + b")" + _R
    + b"(?=" + _letters(range(5), after=True) + b")")


#: _TABLES without its groups: the spans of its matches alone (a match object's groups cost
#: more than the match)
_TABLES_SPANS = re.compile(re.sub(rb"\((?!\?)", b"(?:", _TABLES.pattern))
assert _TABLES_SPANS.groups == 0


def _table_spans(letters: np.ndarray, kind: np.ndarray, origin: int) -> np.ndarray:
    """Every _TABLES match from ``origin`` as an array (tables, groups + 1, 2) of its groups'
    spans, -1 for a group unused: a table with no foreign line inside (banner, rule,
    header, row, rule; or rule, header, row, rule) from its span alone, others matched
    again at their start for their groups (the same match: the same pattern, there)."""
    lb = letters.tobytes()
    sp = np.fromiter(chain.from_iterable(m.span() for m in _TABLES_SPANS.finditer(lb, origin)),
                     np.int64).reshape(-1, 2)
    R = np.full((len(sp), _TABLES.groups + 1, 2), -1, np.int64)
    if not len(sp):
        return R
    s, e = sp[:, 0], sp[:, 1]
    R[:, 0, 0], R[:, 0, 1] = s, e
    ban = kind[s] == 1
    simple = np.where(ban, e - s == 5, e - s == 4)
    b = np.flatnonzero(simple & ban)
    R[b, 1, 0], R[b, 1, 1] = s[b], s[b] + 1
    for g, at in ((2, 1), (3, 2), (4, 3), (5, 4)):      # the empty foreign runs
        R[b, g, 0] = R[b, g, 1] = s[b] + at
    r = np.flatnonzero(simple & ~ban)
    for g, at in ((6, 2), (7, 3)):
        R[r, g, 0] = R[r, g, 1] = s[r] + at
    # foreign lines inside: where every one is of no table kind, the five (four) lines of
    # a table kind in the span are its banner, rule, header, row, rule (rule, header, row,
    # rule), and the foreign runs lie between them
    c = np.flatnonzero(~simple)
    if len(c):
        nz = np.flatnonzero(kind != 0)
        lo = np.searchsorted(nz, s[c])
        cnt = np.searchsorted(nz, e[c]) - lo
        for form, want in ((True, 5), (False, 4)):
            k = (ban[c] == form) & (cnt == want)
            at, ck = lo[k], c[k]
            if not len(ck):
                continue
            p = nz[at[:, None] + np.arange(want)]
            if form:
                R[ck, 1, 0], R[ck, 1, 1] = p[:, 0], p[:, 0] + 1
                for g in range(4):            # groups 2-5: after B, R, H, W
                    R[ck, 2 + g, 0], R[ck, 2 + g, 1] = p[:, g] + 1, p[:, g + 1]
            else:
                for g in range(2):            # groups 6-7: after H, W
                    R[ck, 6 + g, 0], R[ck, 6 + g, 1] = p[:, g + 1] + 1, p[:, g + 2]
            simple[ck] = True
    rest = np.flatnonzero(~simple).tolist()
    if rest:
        regs = []
        for k in rest:
            m = _TABLES.match(lb, int(s[k]))
            assert m is not None and m.end() == e[k]
            regs.append(m.regs)
        R[rest] = np.array(regs, np.int64)
    return R


class _Anchors:
    """The readers' anchors (lowercase) as one bytes regex: a hit consumes the rest of its
    line, so a pass over many lines gives at most one hit a line."""

    def __init__(self, words: tuple[str, ...]) -> None:
        self.words = words
        enc = [w.encode("latin-1") for w in words]
        self.any = re.compile(b"(?:" + b"|".join(map(re.escape, enc)) + b")[^\n]*") if enc \
            else None
        self.set = frozenset(enc)
        self.lits = _Literals(enc)
        self.find = self.lits.find


def _anchors_of(words: Any) -> _Anchors | None:
    global _last_anchors
    if _last_anchors is not None and _last_anchors.words is words:
        return _last_anchors
    if not isinstance(words, tuple) or len(words) > 512:
        return None
    try:
        if any(not isinstance(w, str) or not w or len(w.encode("latin-1")) != len(w)
               for w in words):
            return None
    except UnicodeEncodeError:
        return None
    _last_anchors = _Anchors(words)
    return _last_anchors


_last_anchors: _Anchors | None = None


def _clean(line: bytes) -> bytes | None:
    """_scan.c clean_line: CSI sequences dropped, lowercased; None when anything else would
    change under normalize() or the line is too long."""
    if b"\x1b" in line:
        line = _CSI.sub(b"", line)
    if _NONPRINT.search(line) is not None or len(line) > LINE_MAX_CLEAN:
        return None
    return line.lower()


class _LineFacts:
    """inert / table-foreign / after-table-ok for one line, decided one line at a time."""

    @staticmethod
    def of(line: bytes, an: _Anchors) -> tuple[bool, bool, bool]:
        c = _clean(line)
        if c is None:
            return False, False, False
        inert = an.any is None or an.any.search(c) is None
        return inert, inert and _TABLE_WORDS.search(c) is None, b"[pool]|" not in c


def _facts_of(sub: np.ndarray, an: _Anchors) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """inert, foreign (inside a table) and ok-after-a-table for each ``\\n``-ended line of
    ``sub``, in one pass over its bytes (CSI sequences dropped as clean_line does)."""
    if (sub == 27).any():
        sub = np.frombuffer(_CSI.sub(b"", sub.tobytes()), np.uint8)
    ends = np.flatnonzero(sub == 10)
    offs = np.concatenate(([0], ends[:-1] + 1))
    n = len(ends)
    bad = (sub - np.uint8(32)) > 94
    bad &= (sub != 10) & (sub != 9)
    odd = (ends - offs) > LINE_MAX_CLEAN
    if bad.any():
        odd[np.searchsorted(offs, np.flatnonzero(bad), "right") - 1] = True
    low = _LOWER[sub]
    pairs = _pairs(low, max(an.lits.pad, _TABLE_LIT.pad, _POOL_LIT.pad, key=len))
    hit = np.zeros(n, bool)
    at = an.find(low, pairs)
    if len(at):
        hit[np.searchsorted(offs, at, "right") - 1] = True
    words = np.zeros(n, bool)
    at = _TABLE_LIT.find(low, pairs)
    if len(at):
        words[np.searchsorted(offs, at, "right") - 1] = True
    pool = np.zeros(n, bool)
    at = _POOL_LIT.find(low, pairs)
    if len(at):
        pool[np.searchsorted(offs, at, "right") - 1] = True
    inert = ~odd & ~hit
    return inert, inert & ~words, ~odd & ~pool


_DIGITS_0 = bytes.maketrans(b"123456789", b"000000000")
_HEX_0 = bytes.maketrans(b"123456789abcdefABCDEF", b"0" * 21)


class _KeyMemo:
    """A bounded memo of line keys, turned off for ``PAUSE`` chunks after a chunk of mostly
    misses (each miss costs a dict entry on top of the bulk pass it saves)."""

    LIMIT = 4096          # entries
    KEY_MAX = 256         # bytes: the lines looked up (a few MB at most)
    PAUSE = 16            # chunks without it after a chunk of mostly misses

    def __init__(self) -> None:
        self.memo: dict[bytes, int] = {}
        self.pause = 0
        self.warm = False

    def use(self) -> bool:
        if self.pause:
            self.pause -= 1
            return False
        return True

    def lookup(self, keys: list[bytes]) -> tuple[list[int], list[bytes]]:
        """(the value of each key, -1 when unknown; the unknown keys)."""
        memo = self.memo
        got = [memo.get(k, -1) for k in keys]
        return got, [k for k, g in zip(keys, got, strict=True) if g < 0]

    def store(self, new: dict[bytes, int], misses: int, keys: int) -> None:
        memo = self.memo
        if len(memo) + len(new) > self.LIMIT:
            memo.clear()
        memo.update((k, v) for k, v in new.items() if len(k) <= self.KEY_MAX)
        if 10 * misses > 9 * keys and self.warm:
            self.pause = self.PAUSE
        self.warm = True


class _FactsMemo(_KeyMemo):
    """Line facts by the line with its digits made 0 (anchors likewise): a line that holds
    an anchor still holds it so (a line may now seem to hold one it does not: then it is
    read by the scanner's Python, as any line with an anchor, which is only slower); the
    table words and ``[pool]|`` have no digits. Bounded; turned off for a while on a log
    whose lines almost never repeat so (each miss costs a dict entry on top of the bulk
    pass; at half misses, as in a stress log's block dumps, it still saves two thirds)."""

    def __init__(self) -> None:
        super().__init__()
        self.words: Any = None
        self.mapped: _Anchors | None = None

    def codes(self, keys: list[bytes], an: _Anchors) -> np.ndarray:
        """inert | foreign << 1 | after_ok << 2 per key."""
        if self.words is not an.words:
            self.memo.clear()
            self.warm = False
            self.words = an.words
            self.mapped = _Anchors(tuple(w.translate(str.maketrans("123456789", "0" * 9))
                                         for w in an.words))
        got, miss = self.lookup(keys)
        if not miss:
            return np.array(got, np.uint8)
        uniq = list(dict.fromkeys(miss))
        assert self.mapped is not None
        inert, foreign, after_ok = _facts_of(
            np.frombuffer(b"\n".join(uniq) + b"\n", np.uint8), self.mapped)
        new = dict(zip(uniq, (inert + 2 * foreign.astype(np.uint8)
                              + 4 * after_ok.astype(np.uint8)).tolist(), strict=True))
        self.store(new, len(miss), len(keys))
        return np.array([g if g >= 0 else new[k] for k, g in zip(keys, got, strict=True)],
                        np.uint8)


_facts_memo = _FactsMemo()


class _Chunk:
    """One text, classified once (every run() call on it reads these arrays)."""

    def __init__(self, text: str, raw: bytes, an: _Anchors, cycles: bool, tables: bool) -> None:
        self.text, self.an, self.cycles, self.tables = text, an, cycles, tables
        self.raw = raw
        arr = self.arr = np.frombuffer(raw, np.uint8)
        nl = self.nl = _last_nl[1] if _last_nl[0] is text else np.flatnonzero(arr == 10)
        L = self.L = len(nl)
        starts = self.starts = np.empty(L, np.int64)
        if L:
            starts[0] = 0
            starts[1:] = nl[:-1] + 1
        lens = nl - starts
        top = len(arr) - 1
        act = self.act = np.full(L, X, np.uint8)
        c0 = arr[np.minimum(starts, top)] if L else np.zeros(0, np.uint8)
        shaped = np.zeros(L, bool)   # lines of a known shape (not read by the anchor pass)
        # -- [MSOBJ] lines -------------------------------------------------------------
        br = np.flatnonzero(c0 == 91)      # '[' lines: their first eight bytes, once
        h8 = _head8(arr, starts[br])
        self._br, self._h8 = br, h8
        cand = br[_is(h8, _W_MSOBJ_) & (lens[br] >= 51)]
        t_lines, t_rows, t_x, cand = self._obj_templates(cand, lens)
        shaped[t_lines] = True
        shaped[t_x] = True
        s = starts[cand]
        create = _lit(arr, s + 8, b"create ")
        ok = create | _lit(arr, s + 8, b"delete ")
        cand, s, create = cand[ok], s[ok], create[ok]
        ks = s + 15
        kb = _grab(arr, ks, 17)
        klen = np.argmax(kb == 32, axis=1)          # the first blank after the kind
        ok = (klen >= 1) & (kb[np.arange(len(ks)), 0] >= 97) & (kb[np.arange(len(ks)), 0] <= 122)
        ok &= (_KIND[kb] | (np.arange(17) >= klen[:, None])).all(axis=1)
        ok &= (kb == 32).any(axis=1)
        h0 = ks + klen + 3
        ok &= _lit(arr, ks + klen, b" 0x")
        hb = _HEXL[_grab(arr, h0, 17)]
        hlen = np.where(hb[:, :8].all(axis=1) & (arr[np.minimum(h0 + 8, top)] == 32), 8,
                        np.where(hb[:, :16].all(axis=1) & (arr[np.minimum(h0 + 16, top)] == 32),
                                 16, 0))
        ok &= hlen > 0
        c1 = h0 + hlen
        ok &= _lit(arr, c1, b" caller 0x")
        cb = _HEXL[_grab(arr, c1 + 10, 17)]
        clen = np.where(cb[:, :8].all(axis=1) & (arr[np.minimum(c1 + 18, top)] == 32), 8,
                        np.where(cb[:, :16].all(axis=1) & (arr[np.minimum(c1 + 26, top)] == 32),
                                 16, 0))
        ok &= clen > 0
        q0 = c1 + 10 + clen
        ok &= _lit(arr, q0, b" seq ")
        d0 = q0 + 5
        e = nl[cand]
        dlen = e - d0
        ok &= dlen >= 1
        # digits up to the line end (a longer seq than 19 digits: not packable, see below)
        dl = np.minimum(np.maximum(dlen, 1), 19)
        db = _DIGIT[_grab(arr, e - 19, 19)] | (np.arange(19) < (19 - dl)[:, None])
        ok &= db.all(axis=1)
        strict = cand[ok]
        shaped[strict] = True    # (a longer seq is decided one line at a time: X)
        long_seq = dlen[ok] > 19
        sel = ok.copy()
        sel[ok] = ~long_seq
        rows = np.zeros(int(sel.sum()), PACKED)
        self.o_lines = cand[sel]
        rows["handle"] = _hex_values(arr, h0[sel], hlen[sel])
        rows["caller"] = _hex_values(arr, c1[sel] + 10, clen[sel])
        rows["seq"] = _dec_values(arr, d0[sel], dlen[sel], 19)
        rows["create"] = create[sel]
        # kinds: few distinct; one bytes slice per line would cost more than this
        kinds = np.zeros(len(self.o_lines), np.int64)
        if len(self.o_lines):
            kk = np.ascontiguousarray(
                np.where(np.arange(17) < klen[sel][:, None], kb[sel], 0)[:, :16])
            key = kk.view(np.uint64).reshape(-1, 2)
            left = np.ones(len(kk), bool)
            while left.any():
                j = int(np.argmax(left))
                same = left & (key[:, 0] == key[j, 0]) & (key[:, 1] == key[j, 1])
                kinds[same] = _kind_id(bytes(kk[j][:int(klen[sel][j])]).decode("ascii"))
                left &= ~same
        packable = kinds >= 0
        rows["kind"] = np.where(packable, kinds, 0)
        o_lines = np.concatenate((t_lines, self.o_lines[packable]))
        o_rows = np.concatenate((t_rows, rows[packable]))
        order = np.argsort(o_lines, kind="stable")
        self.o_rows = o_rows[order]
        self.o_lines = o_lines[order]
        act[self.o_lines] = OBJ
        # -- [MSCYCLE] markers ------------------------------------------------------------
        self.m_lines = np.zeros(0, np.int64)
        self.m_vals = np.zeros(0, np.int64)
        cand = br[_is(h8, _W_MSCYCLE) & (lens[br] >= 10)]
        cand = cand[arr[starts[cand] + 8] == 93]
        if cycles and len(cand):
            d0 = starts[cand] + 9 + (arr[starts[cand] + 9] == 32)
            e = nl[cand]
            dlen = e - d0
            dl = np.minimum(np.maximum(dlen, 1), 18)
            db = _DIGIT[_grab(arr, e - 18, 18)] | (np.arange(18) < (18 - dl)[:, None])
            ok = (dlen >= 1) & (dlen <= 18) & db.all(axis=1)
            self.m_lines = cand[ok]
            self.m_vals = _dec_values(arr, d0[ok], dlen[ok], 18).astype(np.int64)
            act[self.m_lines] = MARK
            shaped[self.m_lines] = True
            # (more than 18 digits: not taken here, the scanner's Python reads it)
            shaped[cand[(dlen > 18)]] = True
        # -- overview table lines ---------------------------------------------------------
        self.inert = np.zeros(L, bool)
        self.foreign = np.zeros(L, bool)
        self.after_ok = np.zeros(L, bool)
        self.kind = np.zeros(L, np.uint8)   # 1 banner, 2 rule, 3 header, 4 row
        self.row_at = np.full(L, -1, np.int64)   # row line -> its row in row_v
        self.row_v = np.zeros((0, MAX_CELLS), np.uint64)
        self.row_w = np.zeros(0, np.int64)
        self.row_hex = np.zeros(0, bool)
        if tables:
            self._table_lines(c0, lens, shaped)
            if b"0x" in an.set and len(self.row_hex):
                # hex rows hold the anchor "0x"; printable, no "[pool]|" (their shape)
                rows = np.flatnonzero(self.kind == 4)
                rows = rows[self.row_hex[self.row_at[rows]] & (lens[rows] <= LINE_MAX_CLEAN)]
                shaped[rows] = True
                self.after_ok[rows] = True
        if b"[msobj]" not in an.set:
            shaped[self.o_lines] = False       # (an odd reader set: their facts are needed)
        if b"[mscycle]" not in an.set:
            shaped[self.m_lines] = False
        # -- everything else: inert? foreign inside a table? ok after a table? ---------
        self._facts(np.flatnonzero(~shaped), lens)
        self.after_ok[act == OBJ] = True
        self.after_ok[act == MARK] = True
        act[(act == X) & self.inert] = INERT
        self.act = act
        self._greedy(0)

    def _obj_templates(self, cand: np.ndarray, lens: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The [MSOBJ] lines shaped like a line before them (the same kind, handle and
        caller widths: a run has few shapes), checked against it eight bytes at a time (one
        unaligned 64-bit gather per word of the line, the hex and decimal fields checked and
        read in those words, SWAR). Returns the lines taken (packable), their rows, strict
        lines whose kind does not fit the kind table, and the lines left for the general
        check."""
        W = 104              # the longest strict line with a 19-digit seq fits
        q = np.int64
        took: list[np.ndarray] = []
        rows: list[np.ndarray] = []
        unfit: list[np.ndarray] = []
        rest: list[np.ndarray] = [cand[lens[cand] >= W]]
        todo = cand[lens[cand] < W]
        if not len(todo):
            return np.zeros(0, q), np.zeros(0, PACKED), np.zeros(0, q), cand
        arr = self.arr
        if len(arr) < 8:
            return np.zeros(0, q), np.zeros(0, PACKED), np.zeros(0, q), cand
        u64 = np.ndarray((len(arr) - 7,), "<u8", arr, 0, (1,))
        for _ in range(6):
            if len(todo) < 16:
                break
            j = int(todo[0])
            line = self._line(j) + b"\n"
            m = _OBJ.fullmatch(line)
            if m is None:
                rest.append(todo[:1])
                todo = todo[1:]
                continue
            d0 = m.start(5)
            (hs, he), (cs, ce) = m.span(3), m.span(4)
            s = self.starts[todo]
            nw = -(-d0 // 8)
            # (a line whose words (structure and hex fields, all before d0) would read past
            # the chunk, its last: left to the general check)
            far = s + 8 * (nw - 1) > len(arr) - 8
            sw = np.where(far, 0, s) if far.any() else s
            struct = np.ones(d0, bool)
            struct[8:14] = False
            struct[hs:he] = False
            struct[cs:ce] = False
            tpl = np.zeros(nw * 8, np.uint8)
            tpl[:d0] = np.frombuffer(line[:d0], np.uint8)
            care = np.zeros(nw * 8, np.uint8)
            care[:d0] = np.where(struct, 0xFF, 0)
            t8, c8 = tpl.view(np.uint64), care.view(np.uint64)
            ok = ~far
            op = None
            for k in range(nw):
                w = u64[sw + 8 * k]
                if k == 1:
                    op = w & _LOW6
                if c8[k]:
                    ok &= ((w ^ t8[k]) & c8[k]) == 0
            create = op == _CREATE
            ok &= create | (op == _DELETE)
            vals = []
            for a, b in ((hs, he), (cs, ce)):
                v = np.zeros(len(todo), np.uint64)
                for p in range(a, b, 8):
                    w = u64[sw + p]
                    ok &= _rows_all(_HEXL[w.view(np.uint8).reshape(-1, 8)])
                    v = (v << _U32) | _hex8(w)
                vals.append(v)
            e = self.nl[todo]
            dlen = e - s - d0
            ok &= (dlen >= 1) & (dlen <= 19)
            seq = np.zeros(len(todo), np.uint64)
            for k, scale in ((24, _E16), (16, _E8), (8, _E0)):
                x = u64[e - k]
                keep = _KEEP[np.clip(dlen - (k - 8), 0, 8)]
                x = (x & keep) | (_ZEROS & ~keep)
                ok &= ((x & _HI4) == _ZEROS) & ((((x & _LO4) + _SIX) & _HI4) == 0)
                seq += _dec8(x) * scale
            got = todo[ok]
            kid = _kind_id(m.group(2).decode("ascii"))
            if kid < 0:
                unfit.append(got)
            else:
                r = np.zeros(len(got), PACKED)
                r["handle"] = vals[0][ok]
                r["caller"] = vals[1][ok]
                r["seq"] = seq[ok]
                r["create"] = create[ok]
                r["kind"] = kid
                took.append(got)
                rows.append(r)
            todo = todo[~ok]
        rest.append(todo)
        left = np.sort(np.concatenate(rest))
        return (np.concatenate(took) if took else np.zeros(0, q),
                np.concatenate(rows) if rows else np.zeros(0, PACKED),
                np.concatenate(unfit) if unfit else np.zeros(0, q), left)

    # -- line facts ---------------------------------------------------------------------
    def _facts(self, idx: np.ndarray, lens: np.ndarray) -> None:
        """inert, foreign (inside a table) and ok-after-a-table for the lines ``idx``: looked
        up by the line with its digits made 0 (a run repeats few such lines), the others in
        one pass over their bytes (``_facts_of``)."""
        if not len(idx):
            return
        if _facts_memo.use():
            # (a long line in bulk: as a key it would be a long entry)
            short = lens[idx] <= _FactsMemo.KEY_MAX
            if not short.all():
                self._facts_bulk(idx[~short], lens)
                idx = idx[short]
            # lines led by "0x" with no escape: hex letters made 0 too, when "0x" is an
            # anchor (then they hold one whatever follows; what makes them ok after a table,
            # printable bytes and no "[pool]|", is unchanged)
            raw, arr, st = self.raw, self.arr, self.starts[idx]
            hx = (arr[st] == 48) & (arr[np.minimum(st + 1, len(arr) - 1)] == 120) \
                if b"0x" in self.an.set else np.zeros(len(idx), bool)
            if hx.any():
                at = np.flatnonzero(arr == 27)
                if len(at):
                    esc = np.zeros(self.L + 1, bool)
                    esc[np.searchsorted(self.nl, at)] = True
                    hx &= ~esc[idx]
            codes = np.zeros(len(idx), np.uint8)
            for part, table in ((hx, _HEX_0), (~hx, _DIGITS_0)):
                sel = idx[part]
                if not len(sel):
                    continue
                keys = b"".join([raw[a:b] for a, b in zip(
                    self.starts[sel].tolist(), (self.nl[sel] + 1).tolist(), strict=True)]
                    ).translate(table).split(b"\n")
                keys.pop()
                codes[part] = _facts_memo.codes(keys, self.an)
            self.inert[idx] = (codes & 1) != 0
            self.foreign[idx] = (codes & 2) != 0
            self.after_ok[idx] = (codes & 4) != 0
        else:
            self._facts_bulk(idx, lens)

    def _facts_bulk(self, idx: np.ndarray, lens: np.ndarray) -> None:
        if not len(idx):
            return
        pick = np.zeros(self.L, bool)
        pick[idx] = True
        sub = self.arr[:int(self.nl[-1]) + 1][np.repeat(pick, lens + 1)]   # (those lines)
        inert, foreign, after_ok = _facts_of(sub, self.an)
        self.inert[idx] = inert
        self.foreign[idx] = foreign
        self.after_ok[idx] = after_ok

    def _line(self, j: int) -> bytes:
        return self.text[int(self.starts[j]):int(self.nl[j])].encode("latin-1")

    # -- overview tables ------------------------------------------------------------------
    def _table_lines(self, c0: np.ndarray, lens: np.ndarray, shaped: np.ndarray) -> None:
        """Banners, rules, headers and rows (their values in bulk)."""
        kind, an = self.kind, self.an
        self.line_gid = np.full(self.L, -1, np.int64)   # lines of one text: one number
        self._gids = 0
        # rules: 20 or more dashes and nothing else; banners and headers (few distinct
        # lines: each decided once)
        heads = self._br[_is(self._h8, _W_HEAP) & (lens[self._br] >= 7)]
        for cand, rule in ((np.flatnonzero((c0 == 45) & (lens >= 20)), True),
                           (np.sort(np.concatenate((np.flatnonzero(c0 == 61), heads))), False)):
            for line, js in self._same_lines(cand, lens):
                self.line_gid[js] = self._gids
                self._gids += 1
                if rule:
                    k = 2 if line.count(b"-") == len(line) else 0
                else:
                    k = 1 if _BANNER.fullmatch(line) else 3 if _HEADER.fullmatch(line) else 0
                if k:
                    kind[js] = k
                    shaped[js] = True
                    self.inert[js], self.foreign[js], self.after_ok[js] = \
                        _LineFacts.of(line, an)
        # rows: ' *|...': same shape as the first of their length in bulk, others one by one
        rows = np.flatnonzero(((c0 == 32) | (c0 == 124)) & (lens >= 3))
        self._rows(rows, lens)

    def _same_lines(self, cand: np.ndarray, lens: np.ndarray) -> list[tuple[bytes, Any]]:
        """The lines ``cand`` as (text, lines with that text): the first line's equals found
        by comparing eight bytes at a time, a few times; then one by one."""
        out: list[tuple[bytes, Any]] = []
        todo = cand
        starts, raw = self.starts, self.raw
        for _ in range(8):
            if len(todo) < 8:
                break
            j = int(todo[0])
            a = int(starts[j])
            line = raw[a:a + int(lens[j])]
            same = todo[lens[todo] == len(line)]
            same = same[_lit(self.arr, starts[same], line)] if line else same
            out.append((line, same))
            keep = np.ones(len(todo), bool)
            keep[np.searchsorted(todo, same)] = False
            todo = todo[keep]
        groups: dict[bytes, list[int]] = {}
        for a, n, j in zip(starts[todo].tolist(), lens[todo].tolist(), todo.tolist(),
                           strict=True):
            groups.setdefault(raw[a:a + n], []).append(j)
        out.extend(groups.items())
        return out

    def _rows(self, rows: np.ndarray, lens: np.ndarray) -> None:
        arr = self.arr
        found: list[tuple[np.ndarray, np.ndarray, int, bool]] = []   # lines, values, width, hex
        todo = rows
        for _ in range(4):
            if len(todo) < 8:
                break
            n = int(lens[todo[0]])
            same = todo[lens[todo] == n]
            tpl = self._line(int(same[0]))
            if _ROW.fullmatch(tpl) is None:
                todo = todo[todo != same[0]]
                continue
            cells = list(_CELL.finditer(tpl, tpl.index(b"|") + 1))
            if len(cells) > MAX_CELLS:
                todo = todo[todo != same[0]]
                continue
            digit = np.zeros(n, np.uint8)    # 0 structural, 1 decimal, 2 hex digit
            spans = []
            for c in cells:
                h = c.group(1) is not None
                a, b = c.span(1 if h else 2)
                digit[a:b] = 2 if h else 1
                spans.append((a, b, h))
            mat = _grab(arr, self.starts[same], n)
            tplv = np.frombuffer(tpl, np.uint8)
            ok = ((mat == tplv) | (digit != 0)).all(axis=1)
            ok &= (_DIGIT[mat] | (digit != 1)).all(axis=1)
            ok &= (_HEXD[mat] | (digit != 2)).all(axis=1)
            good = same[ok]
            mg = mat[ok].ravel()
            at0 = np.arange(len(good)) * n
            vals = np.zeros((len(good), MAX_CELLS), np.uint64)
            for c, (a, b, h) in enumerate(spans):
                w = np.full(len(good), b - a, np.int64)
                vals[:, c] = _hex_values(mg, at0 + a, w) if h else \
                    _dec_values(mg, at0 + a, w, 18)
            found.append((good, vals, len(spans), any(h for _, _, h in spans)))
            keep = np.ones(len(todo), bool)
            keep[np.searchsorted(todo, good)] = False
            todo = todo[keep]
        for j in todo.tolist():
            b = self._line(j)
            if _ROW.fullmatch(b) is None:
                continue
            cells = list(_CELL.finditer(b, b.index(b"|") + 1))
            if len(cells) > MAX_CELLS:
                continue
            vals = np.zeros((1, MAX_CELLS), np.uint64)
            vals[0, :len(cells)] = [int(c[1], 16) if c[1] is not None else int(c[2])
                                    for c in cells]
            found.append((np.array([j]), vals, len(cells),
                          any(c[1] is not None for c in cells)))
        if not found:
            return
        lines = np.concatenate([f[0] for f in found])
        self.row_v = np.concatenate([f[1] for f in found])
        self.row_w = np.concatenate([np.full(len(f[0]), f[2], np.int64) for f in found])
        self.row_hex = np.concatenate([np.full(len(f[0]), f[3], bool) for f in found])
        self.row_at[lines] = np.arange(len(lines))
        self.kind[lines] = 4
        # a value beyond int64 is no column value (the C loop gives a table item: here the
        # scanner's Python reads that table)
        self.row_big = (self.row_v > INT64_MAX).any(axis=1)

    def _greedy(self, origin: int) -> None:
        """The tables a walk from line ``origin`` reads: _scan.c parse_table's shapes as one
        regex over a letter per line (its kind, whether it is foreign, whether it may follow
        a table), so that a table start inside an earlier table is never taken, as in the
        walk; the lines they cover, and the lines the walk stops at."""
        L = self.L
        q = np.int64
        none = np.zeros(0, q)
        firsts = lasts = hdrs = rws = tails = bad_f = bad_l = none
        skips: list[list[int]] = []
        if self.tables and L:
            letters = (self.kind * 4 + self.foreign * 2 + self.after_ok + 65).astype(np.uint8)
            R = _table_spans(letters, self.kind, origin)
            if len(R):
                s, e = R[:, 0, 0], R[:, 0, 1]
                ban = R[:, 1, 0] >= 0    # banner: (B)(F*)R(F*)H(F*)W(F*)R; else R H (F*) W (F*) R
                n = R[:, :, 1] - R[:, :, 0]
                nsk = np.where(ban, n[:, 2] + n[:, 3] + n[:, 4], n[:, 6])
                hdr = np.where(ban, R[:, 3, 1], s + 1)
                row = np.where(ban, R[:, 4, 1], R[:, 6, 1])
                tail = np.where(ban, n[:, 5], n[:, 7])
                bad = nsk > 8
                big = getattr(self, "row_big", None)
                if big is not None:
                    bad |= big[self.row_at[row]]
                good = ~bad
                firsts, lasts, hdrs, rws, tails = s[good], e[good] - 1, hdr[good], row[good], \
                    tail[good]
                bad_f, bad_l = s[bad], e[bad] - 1
                gi = np.flatnonzero(good)
                skips = [[] for _ in range(len(gi))]
                for k in np.flatnonzero(nsk[gi] > 0).tolist():      # foreign lines inside
                    r = R[gi[k]].tolist()
                    skips[k] = [*range(*r[2]), *range(*r[3]), *range(*r[4])] if r[1][0] >= 0 \
                        else list(range(*r[6]))
        self.origin = origin
        self.t_first = firsts
        self.t_last = lasts
        self.t_hdr = hdrs
        self.t_row = rws
        self.t_tail = tails > 0
        self.t_skips = skips
        self.chosen = np.arange(len(firsts))
        self.c_first, self.c_last = self.t_first, self.t_last
        spans_f = np.concatenate((self.t_first, bad_f))
        spans_l = np.concatenate((self.t_last, bad_l))
        o = np.argsort(spans_f)
        self.s_first, self.s_last = spans_f[o], spans_l[o]
        d = np.bincount(spans_f, minlength=L + 1)[:L + 1] - np.bincount(spans_l + 1,
                                                                          minlength=L + 1)
        covered = np.cumsum(d[:L]) > 0
        act = self.act
        top = ~covered
        stop = top & (act == X)
        stop[bad_f] = True
        self.stops = np.flatnonzero(stop)
        self.o_top = np.flatnonzero(top[self.o_lines]) if len(self.o_lines) else \
            np.zeros(0, np.int64)
        self.o_top_lines = self.o_lines[self.o_top]
        self.m_top = np.flatnonzero(top[self.m_lines]) if len(self.m_lines) else \
            np.zeros(0, np.int64)

    def inside(self, i0: int) -> bool:
        k = int(np.searchsorted(self.s_first, i0, "right")) - 1
        return k >= 0 and self.s_first[k] < i0 <= self.s_last[k]


_chunk: _Chunk | None = None
_last_raw: tuple[str, bytes | None] | None = None


def _raw(text: str) -> bytes | None:
    """The text as bytes (latin-1: one byte a character, as the C calls see a 1-byte
    string), None when it is not; the last one is kept (the calls come for one chunk at a
    time)."""
    global _last_raw
    if _last_raw is not None and _last_raw[0] is text:
        return _last_raw[1]
    try:
        raw: bytes | None = text.encode("latin-1")
    except UnicodeEncodeError:
        raw = None
    _last_raw = (text, raw)
    return raw


def _chunk_for(text: str, anchors: Any, cycles: bool, tables: bool) -> _Chunk | None:
    global _chunk
    ch = _chunk
    if ch is not None and ch.text is text and ch.an.words is anchors and ch.cycles == cycles \
            and ch.tables == tables:
        return ch
    an = _anchors_of(anchors)
    if an is None:
        return None
    raw = _raw(text)
    if raw is None:
        return None
    _chunk = ch = _Chunk(text, raw, an, cycles, tables)
    return ch


def run(text: str, pos: int, lineno: int, anchors: tuple[str, ...], cycles: bool,
        tables: bool, factory: Any, as_columns: bool = False, heap: bool = False
        ) -> tuple[int, int, list[Any]]:
    """_scan.c run(): (end, lineno, items) for the idle stretch from ``pos``."""
    out: list[Any] = []
    ch = _chunk_for(text, anchors, bool(cycles), bool(tables))
    if ch is None or pos < 0 or not ch.L:
        return pos, lineno, out
    starts = ch.starts
    i0 = int(np.searchsorted(starts, pos))
    if i0 >= ch.L or starts[i0] != pos:
        return pos, lineno, out
    if ch.inside(i0) or i0 < ch.origin:
        ch._greedy(i0)
    k = int(np.searchsorted(ch.stops, i0))
    stop = int(ch.stops[k]) if k < len(ch.stops) else ch.L
    # events: packed (as_columns), skipped (no factory) or read by the caller one by one
    o_lo = int(np.searchsorted(ch.o_top_lines, i0))
    o_idx = ch.o_top[o_lo:]
    o_lines = ch.o_lines[o_idx]
    if factory is not None and not as_columns and len(o_lines) and o_lines[0] < stop:
        stop = int(o_lines[0])
    o_hi = int(np.searchsorted(o_lines, stop))
    o_idx, o_lines = o_idx[:o_hi], o_lines[:o_hi]
    base = lineno - i0 + 1          # line number of line index j: base + j
    m_all = ch.m_lines[ch.m_top]
    m_lo, m_hi = np.searchsorted(m_all, [i0, stop])
    m_sel = ch.m_top[m_lo:m_hi]
    m_lines = ch.m_lines[m_sel]
    t_lo, t_hi = np.searchsorted(ch.c_first, [i0, stop])
    t_sel = ch.chosen[t_lo:t_hi]
    nt = len(t_sel)
    t_lines = ch.t_first[t_sel]
    end = int(starts[stop]) if stop < ch.L else int(ch.nl[-1]) + 1
    new_lineno = lineno + (stop - i0)
    packed = as_columns and factory is not None
    if packed and len(o_lines):
        a0, a1 = int(o_idx[0]), int(o_idx[-1]) + 1
        # (events are never inside a table: their rows are one slice, copied, not gathered)
        rows = ch.o_rows[a0:a1].copy() if a1 - a0 == len(o_idx) else ch.o_rows[o_idx]
        rows["line"] = o_lines + base
    # tokens in line order: markers (0) and tables (1)
    tok_lines = np.concatenate((m_lines, t_lines))
    order = np.argsort(tok_lines, kind="stable")
    tok_lines = tok_lines[order]
    tok_code = np.concatenate((np.zeros(len(m_lines), np.uint8), np.ones(nt, np.uint8)))[order]
    tok_ref = np.concatenate((np.arange(len(m_lines)), np.arange(nt)))[order]
    if packed and len(o_lines):
        grp = np.searchsorted(tok_lines, o_lines)      # tokens before each event
        cut = np.flatnonzero(np.diff(grp)) + 1
        bounds = np.concatenate(([0], cut, [len(grp)]))
        groups = grp[bounds[:-1]].tolist()
        blob, w = rows.tobytes(), PACKED.itemsize
        packs = {g: blob[a * w:b * w] for g, a, b in zip(
            groups, bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)}
        pack_at = np.array(groups, np.int64)
    else:
        packs = {}
        pack_at = np.zeros(0, np.int64)
    if 0 in packs:
        out.append((2, packs.pop(0), kind_names))
    if not len(tok_lines):
        return end, new_lineno, out
    m_vals = ch.m_vals[m_sel]
    if not heap:
        for j, (code, ref) in enumerate(zip(tok_code.tolist(), tok_ref.tolist(), strict=True)):
            if code == 0:
                line = int(m_lines[ref])
                out.append((0, base + line, int(m_vals[ref]), int(starts[line]),
                            int(ch.nl[line])))
            else:
                out.append(_table_item(ch, int(t_sel[ref]), base))
            if j + 1 in packs:
                out.append((2, packs[j + 1], kind_names))
        return end, new_lineno, out
    # heap stretches: split where a table's header, width or hex-ness changes
    ra = ch.row_at[ch.t_row[t_sel]]
    hl = ch.t_hdr[t_sel]
    # (a header's text by its group: lines of one group have one text, and no two groups)
    gid, w_, hx = ch.line_gid[hl], ch.row_w[ra], ch.row_hex[ra]
    change = (gid[1:] != gid[:-1]) | (w_[1:] != w_[:-1]) | (hx[1:] != hx[:-1])
    tab_pos = np.flatnonzero(tok_code == 1)
    splits = [0, *tab_pos[1:][change].tolist(), len(tok_lines)]
    for a, b in zip(splits[:-1], splits[1:], strict=True):
        out.append(_stretch(ch, base, tok_code[a:b], tok_ref[a:b], a, m_lines, m_vals,
                            t_sel, packs, pack_at))
    return end, new_lineno, out


def _stretch(ch: _Chunk, base: int, code: np.ndarray, ref: np.ndarray, first: int,
             m_lines: np.ndarray, m_vals: np.ndarray, t_sel: np.ndarray,
             packs: dict[int, bytes], pack_at: np.ndarray) -> tuple[Any, ...]:
    """One heap stretch item (3, ...) (see heap_flush in _scan.c)."""
    n = len(code)
    has = np.zeros(n, bool)
    mine = pack_at[(pack_at > first) & (pack_at <= first + n)]
    has[mine - first - 1] = True
    seq2 = np.stack((code, np.where(has, 2, 255).astype(np.uint8)), axis=1).ravel()
    seq = seq2[seq2 != 255].tobytes()
    plist = [(2, packs[first + j + 1], kind_names) for j in np.flatnonzero(has).tolist()]
    mref = ref[code == 0]
    ml = m_lines[mref]
    starts, nl = ch.starts, ch.nl
    tref = t_sel[ref[code == 1]]
    tl = ch.t_first[tref]
    q = np.int64
    if len(tref):
        t_list = tref.tolist()
        ra = ch.row_at[ch.t_row[tref]]
        width, hexrow = int(ch.row_w[ra[0]]), bool(ch.row_hex[ra[0]])
        h0 = int(ch.t_hdr[t_list[0]])
        hs, he = int(starts[h0]), int(nl[h0])
        values = ch.row_v[ra, :width].astype(q).ravel()
        last = ch.t_last[tref]
        t_end = nl[last] + 1
        tails = ch.t_tail[tref]
        nxt = np.minimum(last + 1, ch.L - 1)
        check_s = np.where(tails, starts[nxt], -1)
        check_e = np.where(tails, nl[nxt], -1)
        sks = [ch.t_skips[t] for t in t_list]
        nskip = np.array([len(x) for x in sks], q)
        sk = [j for x in sks for j in x]
        skips = np.stack((starts[sk], nl[sk]), axis=1).ravel() if sk else np.zeros(0, q)
    else:
        width, hexrow, hs, he = 0, 0, -1, -1
        values = t_end = check_s = check_e = nskip = skips = np.zeros(0, q)
    return (3, seq, (ml + base).astype(q).tobytes(), m_vals[mref].astype(q).tobytes(),
            starts[ml].astype(q).tobytes(), nl[ml].astype(q).tobytes(),
            (tl + base).astype(q).tobytes(), starts[tl].astype(q).tobytes(),
            np.asarray(t_end, q).tobytes(), np.asarray(nskip, q).tobytes(),
            np.asarray(check_s, q).tobytes(), np.asarray(check_e, q).tobytes(),
            np.asarray(skips, q).tobytes(), np.asarray(values, q).tobytes(), hs, he,
            int(bool(hexrow)), width, plist)


def _table_item(ch: _Chunk, t: int, base: int) -> tuple[Any, ...]:
    """(1, first, hs, he, values, is_hex, row_line, skips, start, end, check)"""
    starts, nl = ch.starts, ch.nl
    first = int(ch.t_first[t])
    hdr, row, last = int(ch.t_hdr[t]), int(ch.t_row[t]), int(ch.t_last[t])
    r = ch.row_at[row]
    v, hexrow = ch.row_v[r, :ch.row_w[r]].tolist(), bool(ch.row_hex[r])
    skips = tuple(x for j in ch.t_skips[t] for x in (int(starts[j]), int(nl[j])))
    check = (int(starts[last + 1]), int(nl[last + 1])) if ch.t_tail[t] else None
    return (1, base + first, int(starts[hdr]), int(nl[hdr]), v, hexrow,
            base + row, skips, int(starts[first]), int(nl[last]) + 1, check)


# -- the other calls --------------------------------------------------------------------------
def obj_run(text: str, pos: int, lineno: int, factory: Any) -> tuple[int, int, list[Any] | None]:
    """_scan.c obj_run: the strict [MSOBJ] lines from pos (ObjectEvents via factory)."""
    raw = _raw(text)
    if raw is None:
        return pos, lineno, None
    out: list[Any] | None = [] if factory is not None else None
    p = pos
    while True:
        m = _OBJ.match(raw, p)
        if m is None:
            break
        lineno += 1
        if out is not None:
            op, kind, handle, caller, seq = m.groups()
            out.append(factory(lineno, op.decode(), kind.decode(), int(handle, 16),
                               int(caller, 16), int(seq), None, None))
        p = m.end()
    return p, lineno, out


_HEX16 = rb"0x([0-9A-Fa-f]{1,16})(?![0-9A-Fa-f])"
#: _scan.c block_line: a B3 dump's block line with the check column OK, and nothing else
_BLOCK = re.compile(
    _HEX16 + rb" +(used|free) +(?:(sentinel)|([0-9]{1,18})(?![0-9])) +OK +" + _HEX16
    + rb"(?: +\((0x[0-9A-Fa-f]{1,16} *(?:<- *0x[0-9A-Fa-f]{1,16} *)*)\))?\n")
_TRACE = re.compile(rb"0x([0-9A-Fa-f]+)")


_traces: dict[bytes, tuple[int, ...]] = {}


def _frames(trace: bytes) -> tuple[int, ...]:
    """The trace column's addresses (few distinct in a dump: kept)."""
    got = _traces.get(trace)
    if got is None:
        got = tuple(int(t, 16) for t in _TRACE.findall(trace)) if trace else ()
        if len(_traces) >= 4096:
            _traces.clear()
        _traces[trace] = got
    return got


def _block_run(raw: bytes, pos: int, lineno: int, factory: Any
               ) -> tuple[int, int, list[Any]] | None:
    """The strict block lines from pos, as _scan.c block_line reads each (a trace of more
    than 64 frames is not one: the run ends before it); None when pos holds none."""
    match = _BLOCK.match
    rows: list[tuple[bytes, ...]] = []
    frames: list[tuple[int, ...]] = []
    end = pos
    while (m := match(raw, end)) is not None:
        row = m.groups()
        f = _frames(row[5])
        if len(f) > 64:
            break
        rows.append(row)
        frames.append(f)
        end = m.end()
    if not rows:
        return None
    out = [factory(lineno + j, int(addr, 16), state == b"used",
                   None if sentinel else int(size), int(owner, 16), bool(sentinel), False,
                   None, True, f)
           for j, ((addr, state, sentinel, size, owner, _), f) in enumerate(
               zip(rows, frames, strict=True), 1)]
    return end, lineno + len(out), out


def blocks(text: str, pos: int, lineno: int, factory: Any) -> tuple[int, int, list[Any]]:
    """_scan.c blocks: consecutive strict block lines from pos as HeapBlocks."""
    raw = _raw(text)
    if raw is None:
        return pos, lineno, []
    got = _block_run(raw, pos, lineno, factory)
    return got if got is not None else (pos, lineno, [])


# -- an open block dump's lines (_scan.c dump_run2) ---------------------------------------
_DUMP_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_DUMP_CSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
_HEXCH = frozenset("0123456789abcdefABCDEF")
_FREELIST = re.compile(r"freelist bitmap:?[ \t]*0x[0-9a-f]")
_B3_BLK = re.compile(r"blk_addr[ \t]+stat")
_B3_ADDR = re.compile(r"address[ \t]+stat[ \t]+len[ \t]+chk")
_TASK_HDR = re.compile(r"taskname[ \t]+prio[ \t]+stacksize[ \t]+heapallocsize")
_DASH_ONLY = re.compile(r"-+")
_SUB_BANNER = re.compile(r"-+[ \t]*(?:(all free memory blocks)|(memory allocation statistic)"
                         r"|(task allocation statistic))[ \t]*-+")
_KMM = re.compile(r"g_kmm_head(?:_resv)?[ \t]*(?:=[ \t]*(0x(?=[0-9a-f]))?([0-9a-f]*))?")
_BUCKETS = re.compile(r"\[2\^([0-9]+)\][ \t]*bytes:[ \t]*([0-9]+)")
_ISR = re.compile(r"allocated in isr[ \t]*(-?)([0-9]+),[ \t]*allocated by deleted task"
                  r"[ \t]*(-?)([0-9]+)")
_STOP = object()
_FOREIGN_WORDS = ("g_kmm_head", "all blocks", "addr", "bitmap", "[2^")


def _task_row(t: str) -> tuple[int, int, list[int]]:
    """_scan.c task_row on the stripped text: (1 | 0 | -1 a number past 18 digits, the
    name's end, [prio, stack, heap])."""
    i = len(t)
    big = False
    v = [0, 0, 0]
    for k in (2, 1, 0):
        j = i
        while j > 0 and "0" <= t[j - 1] <= "9":
            j -= 1
        if j == i:
            return 0, 0, v
        if i - j > 18:
            big = True
        else:
            v[k] = int(t[j:i])
        w = j
        while w > 0 and t[w - 1] in " \t":
            w -= 1
        if w == j:
            return 0, 0, v
        i = w
    if i == 0:
        return 0, 0, v
    return (-1 if big else 1), i, v


def _dump_consumed(t: str, lo: str, mode: int) -> int:
    """_scan.c dump_consumed on the stripped text ``t`` (``lo`` lowercased)."""
    if len(t) == 10 and lo == "all blocks":
        return 1
    if lo.startswith("freelist bitmap"):
        return 1 if _FREELIST.match(lo) else 0
    if lo.startswith("blk_addr"):
        return 2 if _B3_BLK.match(lo) else 0
    if lo.startswith("address"):
        return 2 if _B3_ADDR.match(lo) else 0
    if mode == 3 and lo.startswith("taskname"):
        return 1 if _TASK_HDR.match(lo) else 0
    if t[0] == "-":
        if _DASH_ONLY.fullmatch(t):
            return 1 if len(t) >= 20 and mode in (0, 2, 3) else 0
        m = _SUB_BANNER.fullmatch(lo)
        if m is None:
            return 0
        return 4 if m.group(1) else 5 if m.group(2) else 6
    return 0


def _dump_act(t: str, lo: str, mode: int, line: int) -> Any:
    """_scan.c dump_act: an act tuple, None, or _STOP (Python reads the line)."""
    c = t[0]
    if c == "-" or (c in _HEXCH and ("used" in lo or "free" in lo)):
        return None
    if lo.startswith("g_kmm_head"):
        m = _KMM.match(lo)
        digits = m.group(2) if m is not None else None
        if not digits:
            return None
        if len(digits) > 16:
            return _STOP
        return (0, line, int(digits, 16))
    if c == "[":
        got = _BUCKETS.findall(t)           # (case kept, as the C loop reads it)
        if not got:
            return None
        if any(len(a) > 18 or len(b) > 18 for a, b in got):
            return _STOP
        return (1, line, [(int(a), int(b)) for a, b in got])
    if mode != 3:
        return None
    if ("[2^" in lo or "bitmap" in lo or lo.startswith(("address", "blk_addr", "taskname"))
            or t.startswith("->")):
        return None
    m = _ISR.search(lo)
    if m is not None:
        sa, a, sb, b = m.groups()
        if len(a) > 18 or len(b) > 18:
            return _STOP
        return (3, line, -int(a) if sa else int(a), -int(b) if sb else int(b))
    if "allocated" in lo:
        return None
    got, name_end, v = _task_row(t)
    if got < 0:
        return _STOP
    if got:
        return (2, line, t[:name_end], v[0], v[1], v[2])
    return None


def _dump_foreign(t: str, lo: str, mode: int) -> bool:
    """_scan.c dump_foreign: a line the open dump skips, changing nothing else."""
    c = t[0]
    if c == "-" or c == ".":
        return False
    if c in _HEXCH and ("used" in lo or "free" in lo):
        return False
    if any(w in lo for w in _FOREIGN_WORDS):
        return False
    if mode == 1 and "|" in t:
        return False
    if mode == 3 and ("taskname" in lo or "allocated" in lo or _task_row(t)[0] != 0):
        return False
    return 0 <= mode <= 3


def dump_run2(text: str, pos: int, lineno: int, factory: Any, anchors: tuple[str, ...],
              mode: int, run: int, limit: int) -> tuple[Any, ...]:
    """_scan.c dump_run2: the lines from ``pos`` an open block dump reads with nothing else
    to do (strict block lines, lines that normalise to nothing, the structural and value
    lines it consumes, foreign lines it skips that no reader's anchor is in, within the
    skip limit) -> (end, lineno, blocks, skipped, run, last, b3, phase, acts); it stops
    where the C loop stops (the scanner's Python reads that line)."""
    out: list[Any] = []
    acts: list[Any] = []
    an = _anchors_of(anchors)
    raw = _raw(text)
    if raw is None or an is None or pos < 0:
        return pos, lineno, out, 0, run, 0, 0, 0, acts
    anchor = an.any.search if an.any is not None else None
    find = text.find
    skipped = last = b3 = phase = 0
    p = pos
    n = len(text)
    while p < n:
        nl = find("\n", p)
        if nl < 0:
            break
        if mode == 0 and text.startswith("0", p):
            got = _block_run(raw, p, lineno, factory)
            if got is not None:
                p, lineno, recs = got
                out += recs
                last = lineno
                run = 0
                continue
        line = text[p:nl]
        if not line.isascii():
            break
        if not line.isprintable():
            if "\x1b" in line:
                line = _DUMP_CSI.sub("", line)
                if "\x1b" in line:
                    break
            line = _DUMP_CONTROL.sub("", line)
        if len(line) > LINE_MAX_CLEAN:
            break
        line = line.rstrip(" \t")
        t = _strip_prefixes(line).text if _STRIPPABLE.match(line) else line
        t = t.lstrip(" \t")
        if not t:                                          # nothing left: consumed
            lineno += 1
            last = lineno
            run = 0
            p = nl + 1
            continue
        lo = t.lower()
        kind = _dump_consumed(t, lo, mode) if mode >= 0 else 0
        if kind:
            b3 |= kind == 2
            lineno += 1
            last = lineno
            run = 0
            p = nl + 1
            if kind >= 4:
                phase = kind - 3
                break
            continue
        if mode >= 0:
            act = _dump_act(t, lo, mode, lineno + 1)
            if act is _STOP:
                break
            if act is not None:
                acts.append(act)
                lineno += 1
                last = lineno
                run = 0
                p = nl + 1
                if act[0] == 3 or (act[0] == 1 and mode <= 1):
                    break
                continue
        if (anchor is not None and anchor(line.lower().encode("ascii")) is not None) \
                or not _dump_foreign(t, lo, mode) or run + 1 > limit:
            break
        lineno += 1
        skipped += 1
        run += 1
        p = nl + 1
    return p, lineno, out, skipped, run, last, int(b3), phase, acts


def skip_inert(text: str, pos: int, anchors: tuple[str, ...]) -> tuple[int, int]:
    """_scan.c skip_inert: whole printable ASCII/TAB lines from pos without an anchor (any
    case; no escape is dropped here)."""
    an = _anchors_of(anchors)
    if an is None or pos < 0:
        return pos, 0
    n = 0
    while True:
        nl = text.find("\n", pos)
        if nl < 0:
            break
        line = text[pos:nl]
        try:
            b = line.encode("latin-1")
        except UnicodeEncodeError:
            break
        if _NONPRINT.search(b) is not None:
            break
        if an.any is not None and an.any.search(b.lower()) is not None:
            break
        n += 1
        pos = nl + 1
    return pos, n


def _trimmer() -> Any:
    """glibc's ``malloc_trim``, or None (another C library, no ctypes).

    The chunk arrays (0.1-1 MB each, freed within the chunk) leave glibc's heap fragmented:
    without a trim now and then the peak RSS of a pure-Python run grew with the log (trend:
    77 MiB at 50 MB, 100 MiB at 200 MB, 111 MiB at 1 GB; ~50 with every trim). Pinning the
    mmap threshold instead cost ~40 % more CPU in mmap/munmap."""
    try:
        import ctypes
        trim = ctypes.CDLL(None).malloc_trim
    except (ImportError, OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    return trim


_TRIM_EVERY = 8          # chunks (512 KiB each) between two trims
_trim: list[Any] = []    # [calls, trim function or None], filled on first use


def _maybe_trim() -> None:
    if not _trim:
        _trim.extend((0, _trimmer()))
    _trim[0] += 1
    if _trim[1] is not None and _trim[0] % _TRIM_EVERY == 0:
        _trim[1](0)


def prefix_count(text: str) -> tuple[bool, int, str, int] | None:
    """_scan.c prefix_count: (plain, lines normalize() finds a prefix on, lines left to
    Python, lines). Only the lines a prefix can start are given to count_prefixed's regex
    (its literal-led pass costs ~0.4 µs a line); the lines with control bytes are cleaned
    as count_prefixed cleans the whole text (escapes, then control bytes), on their own;
    None for text that is not ASCII. (Called once a chunk: it also returns freed heap to
    the system now and then.)"""
    _maybe_trim()
    if not text.isascii():
        return None
    raw = text.encode("ascii")
    arr = np.frombuffer(raw, np.uint8)
    low = np.flatnonzero(arr < 32)          # line ends, tabs and control bytes at once
    v = arr[low]
    is_nl = v == 10
    nl = low[is_nl]
    ctrl = low[~is_nl & (v != 9)]
    if raw.find(b"\x7f") >= 0:
        ctrl = np.sort(np.concatenate((ctrl, np.flatnonzero(arr == 127))))
    _last_nl[:] = [text, nl]               # (the chunk classification needs them too)
    lines = len(nl)
    plain = not len(ctrl)
    if not len(arr):
        return plain, 0, "", lines
    starts = np.concatenate(([0], nl + 1))
    ends = np.concatenate((nl, [len(arr)]))
    if starts[-1] >= len(arr):
        starts, ends = starts[:-1], ends[:-1]
    keep = np.ones(len(starts), bool)
    count = 0
    if not plain:
        dirty = np.searchsorted(nl, ctrl)                  # (sorted)
        dirty = dirty[np.concatenate(([True], dirty[1:] != dirty[:-1]))]
        keep[dirty] = False
        got = b"\n".join([raw[a:b] for a, b in zip(starts[dirty].tolist(),
                                                      ends[dirty].tolist(), strict=True)])
        if b"\x1b" in got:
            got = _ESC_BYTES.sub(b"", got)
        got = got.translate(None, _CONTROL)
        g = np.frombuffer(got, np.uint8)
        gnl = np.flatnonzero(g == 10)
        gs = np.concatenate(([0], gnl + 1))
        ge = np.concatenate((gnl, [len(g)]))
        count += _count_lines(got, g, gs, ge, np.ones(len(gs), bool))
    return plain, count + _count_lines(raw, arr, starts, ends, keep), "", lines


def _count_lines(raw: bytes, arr: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                 keep: np.ndarray) -> int:
    """count_prefixed over the lines [starts, ends) of ``raw`` picked by ``keep`` (printable
    ASCII and tabs only)."""
    if not len(arr):
        return 0
    top = len(arr) - 1
    first = arr[np.minimum(starts, top)]
    cand = _MAY_START[first] & (ends > starts) & keep
    lead = starts[cand]
    # '[MS...]' agent lines and '[HEAP]|' rows are protected: the regex turns them down
    agent = np.zeros(len(lead), bool)
    br = np.flatnonzero(first[cand] == 91)
    at = lead[br]
    b1 = arr[np.minimum(at + 1, top)]
    ms = br[(b1 == 77) & (arr[np.minimum(at + 2, top)] == 83)]
    h8 = _head8(arr, lead[ms])
    agent[ms] = _is(h8, _W_MSOBJ) | (_is(h8, _W_MSCYCLE)
                                     & (arr[np.minimum(lead[ms] + 8, top)] == 93)
                                     & (lead[ms] + 8 <= top))
    hp = br[b1 == 72]
    agent[hp] = _is(_head8(arr, lead[hp]), _W_HEAP)
    pick = np.flatnonzero(cand)[~agent]
    count = 0
    if len(pick):
        # those lines, each with a '\n' before it
        joined = b"\n" + b"\n".join([raw[a:b] for a, b in zip(
            starts[pick].tolist(), ends[pick].tolist(), strict=True)])
        if _prefix_memo.use():
            keys = joined.translate(_DIGITS_P).split(b"\n")
            count = _prefix_memo.count(keys[1:])
        else:
            count = len(_PREFIX_PRINTABLE.findall(joined))
    # normalize() strips trailing blanks before it matches, the regex does not: those lines
    # are normalised on their own (normalize._blank_ended, for the lines found here)
    last = arr[np.maximum(ends - 1, 0)]
    blank = np.flatnonzero(cand & ((last == 32) | (last == 9)))
    for j in blank.tolist():
        count += _refit(raw[starts[j]:ends[j]].decode("ascii"))
    return count


def _printable_prefix() -> re.Pattern[bytes]:
    """count_prefixed's regex for lines known to be printable ASCII and tabs (its check of
    that, a scan of every candidate line, dropped; as bytes)."""
    pattern = _BULK_PREFIX.pattern
    check = r"(?=[\t -~]*(?:\n|$))"
    if check in pattern:
        pattern = pattern.replace(check, "", 1)
    return re.compile(pattern.encode("ascii"), _BULK_PREFIX._flags)


class _LazyPrefix:
    """Compiled on first use (~25 ms, as count_prefixed's)."""

    pattern: re.Pattern[bytes] | None = None

    def findall(self, text: bytes) -> list[Any]:
        if self.pattern is None:
            self.pattern = _printable_prefix()
        return self.pattern.findall(text)

    def finditer(self, text: bytes) -> Any:
        if self.pattern is None:
            self.pattern = _printable_prefix()
        return self.pattern.finditer(text)


_PREFIX_PRINTABLE = _LazyPrefix()
#: digits made 0 but 2: the prefix regex holds no other digit than "2" ("[2^"), and every
#: class it has takes all digits or none: a line and its key match alike
_DIGITS_P = bytes.maketrans(b"13456789", b"00000000")


class _PrefixMemo(_KeyMemo):
    """Whether the prefix regex takes a line, looked up by the line's key (``_DIGITS_P``):
    a stress log repeats its few noise lines with other numbers. Bounded; off for a while
    on a log whose lines almost never repeat so (as _FactsMemo)."""

    def count(self, keys: list[bytes]) -> int:
        got, miss = self.lookup(keys)
        if not miss:
            return sum(got)
        uniq = list(dict.fromkeys(miss))
        joined = b"\n" + b"\n".join(uniq)
        at = np.cumsum([0] + [len(k) + 1 for k in uniq[:-1]])   # each key's '\n'
        hit = np.zeros(len(uniq), np.int64)
        found = [m.start() for m in _PREFIX_PRINTABLE.finditer(joined)]
        if found:
            hit[np.searchsorted(at, found)] = 1
        new = dict(zip(uniq, hit.tolist(), strict=True))
        self.store(new, len(miss), len(keys))
        return sum(g for g in got if g > 0) + sum(new[k] for k in miss)


_prefix_memo = _PrefixMemo()
_ESC_BYTES = re.compile(_ESC_ONE_LINE.pattern.encode("ascii"))
_last_nl: list[Any] = [None, None]


_CONTROL = bytes([*range(0, 9), *range(11, 32), 127])
