"""Strip per-line noise (terminal colour, capture timestamps, logger prefixes) from log lines.

Device logs reach us through serial terminals, loggers and syslog, each adding its own
prefix. Readers must only ever see the text the firmware printed, so every line passes
through :func:`normalize` first. The rule that matters most: never strip AliOS content that
merely *looks* like a prefix (``[HEAP]|``, ``[2^06] bytes:``, ``[   0]:adress:``, ...).
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

from memsleuth.parse.lazyre import LazyPattern, lazy

# ECMA-48: CSI sequences (colour, cursor), OSC strings, and two-byte ESC sequences.
_ANSI = lazy(
    r"\x1b\[[0-?]*[ -/]*[@-~]"          # CSI ... final byte
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL / ST
    r"|\x1b[@-Z\\-_]"                   # 2-byte escape
    r"|\x9b[0-?]*[ -/]*[@-~]"           # 8-bit CSI
)
# Control characters other than TAB that terminals swallow (CR, NUL, BEL, BS, ...).
_CONTROL = lazy(r"[\x00-\x08\x0b-\x1f\x7f]")

# AliOS (and memsleuth agent) text that starts like a prefix but is content: stop here.
_PROTECTED = lazy(
    r"""^(?:
        \[(?:HEAP|POOL)\]\|          # heap overview tables
      | \[2\^\d+\]                   # alloc-size statistic buckets
      | \[MS[A-Z]+\]                 # device agent lines ([MSOBJ], [MSCYCLE], ...)
      | \[\s*\d+\s*\]:               # YunOS '[   0]:adress:' rows
      | \[kernel\s+task\]            # 2.1 task group line
      | \[\d+\]\[\d+\]               # '-> [13][14]' style indices (defensive)
    )""",
    re.VERBOSE,
)


def _hms(h: str, m: str, s: str, frac: str | None) -> float:
    value = int(h) * 3600 + int(m) * 60 + int(s)
    if frac:
        value += int(frac) / (10 ** len(frac))
    return float(value)


_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}


class _Prefix(NamedTuple):
    pattern: re.Pattern[str]
    kind: str


# Order matters: the most specific shapes first.
_PREFIXES: tuple[_Prefix, ...] = (
    # AliOS ulog / kernel: '[  123.456]<I> ' or '[  123.456] '
    _Prefix(lazy(r"^\[\s*(?P<sec>\d+\.\d+)\] ?(?:<[A-Z]> ?)?"), "uptime"),
    # ESP-IDF: 'I (1234) tag: ' (milliseconds since boot)
    _Prefix(lazy(r"^[EWIDV] \((?P<ms>\d+)\) [^\s:][^:]{0,40}?: ?"), "esp"),
    # ISO date-time: '2026-11-28 02:15:24.123 ' (also 'T' separator, optional brackets)
    _Prefix(lazy(
        r"^\[?(?P<date>\d{4}-\d{2}-\d{2})[ T](?P<h>\d{2}):(?P<m>\d{2}):(?P<s>\d{2})"
        r"(?:[.,](?P<f>\d{1,9}))?\]?(?:\s*(?:>|->|-->)\s?|\s?)"), "iso"),
    # syslog: 'Nov 28 02:15:24 host prog[12]: '
    _Prefix(lazy(
        r"^(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +(?P<day>\d{1,2}) "
        r"(?P<h>\d{2}):(?P<m>\d{2}):(?P<s>\d{2}) \S+ [\w.\-/]+(?:\[\d+\])?: ?"), "syslog"),
    # terminal capture: '12:34:56.789 > ' / '[12:34:56.789] ' / '(00:00:00.106) '
    _Prefix(lazy(
        r"^(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2})(?:[.,](?P<f>\d{1,9}))?\s*(?:>|->|-->)\s?"),
        "clock"),
    _Prefix(lazy(
        r"^[\[(](?P<h>\d{1,3}):(?P<m>\d{2}):(?P<s>\d{2})(?:[.,](?P<f>\d{1,9}))?[\])]\s?"),
        "clock"),
    # Zephyr's logger: '[00:00:05.979,000] ' (ms, then us after a comma)
    _Prefix(lazy(
        r"^\[(?P<h>\d{2,3}):(?P<m>\d{2}):(?P<s>\d{2})\.(?P<f>\d{3}),\d{3}\] ?"), "clock"),
    # Zephyr's logger level and module: '<err> os: ' (after its timestamp)
    _Prefix(lazy(r"^<(?:err|wrn|inf|dbg)> [\w.\-]{1,32}: ?"), "level"),
    # NuttX syslog: '[ 9] [  INFO] [ap] ' (CONFIG_SYSLOG_PROCESSID, _PRIORITY, _PREFIX)
    _Prefix(lazy(
        r"^(?:\[\s*\d{1,5}\] )?\[\s*(?:EMERG|ALERT|CRIT|ERROR|WARN|NOTICE|INFO|DEBUG)\] "
        r"(?:\[[^\]\s|]{1,32}\] )?"), "level"),
    # Zephyr's minimal logger (CONFIG_LOG_MODE_MINIMAL): 'E: '
    _Prefix(lazy(r"^[EWID]:(?: |$)"), "level"),
    # level tags: '[I][tag] ', '[I] ', '<I> ', '[INFO] '
    _Prefix(lazy(
        r"^(?:\[(?:[VDIWEF]|INFO|WARN|WARNING|ERROR|ERR|DEBUG|DBG|TRACE|VERBOSE|FATAL)\]"
        r"(?:\[(?!MS[A-Z]+\]|2\^)[^\]\s|]{1,32}\](?!\|))?|<[VDIWEF]>) ?"), "level"),
)


@functools.lru_cache(maxsize=512)
def _midnight(year: int, month: int, day: int) -> float:
    """Seconds from the epoch to 00:00 UTC of a date (ValueError for no such date); once
    per date, and ``datetime`` imported on the first (start-up: most logs have no dates)."""
    from datetime import datetime, timezone

    return datetime(year, month, day, tzinfo=timezone.utc).timestamp()


def _timestamp(kind: str, m: re.Match[str]) -> float | None:
    g = m.groupdict()
    if kind == "uptime":
        return float(g["sec"])
    if kind == "esp":
        return int(g["ms"]) / 1000.0
    if kind == "iso":
        try:
            y, mo, d = (int(x) for x in g["date"].split("-"))
            base = _midnight(y, mo, d)
        except ValueError:
            return None
        return base + _hms(g["h"], g["m"], g["s"], g.get("f"))
    if kind == "syslog":
        # syslog has no year: seconds since 1 January of an arbitrary leap year, so that
        # a capture spanning midnight or a month end still orders correctly.
        try:
            start = _midnight(2000, _MONTHS[g["mon"]], int(g["day"]))
        except ValueError:
            return None
        return start - _midnight(2000, 1, 1) + _hms(g["h"], g["m"], g["s"], None)
    if kind == "clock":
        return _hms(g["h"], g["m"], g["s"], g.get("f"))
    return None


# Cheap first-character test: most lines carry no prefix at all. Fused with the protected
# shapes into one match per step, because the commonest lines ('[MSOBJ] ...', '[HEAP]|')
# start like a prefix and used to cost two regex calls to turn down.
_MAY_HAVE_PREFIX = lazy(r"[\[(<\d]|[EWIDV] \(|[EWID]:(?: |$)|[A-Z][a-z]{2} ")
_STRIPPABLE = lazy(f"(?!(?x:{_PROTECTED.pattern}))(?:{_MAY_HAVE_PREFIX.pattern})")


class Normalized(NamedTuple):
    """A cleaned line: the firmware's text, the prefix timestamp (s), whether a prefix went."""

    text: str
    ts: float | None
    prefixed: bool


def strip_escapes(line: str) -> str:
    """Remove ANSI escape sequences and control characters (CR, NUL, ...)."""
    if line.isprintable():   # no ESC, CSI or control character at all: nearly every line
        return line
    if "\x1b" in line or "\x9b" in line:
        line = _ANSI.sub("", line)
    return _CONTROL.sub("", line)


def normalize(line: str) -> Normalized:
    """Clean one raw line (its line ending may still be attached).

    Prefixes may stack (a terminal timestamp in front of the device's own uptime prefix); we
    strip up to four, keep the first timestamp found (the outermost clock), and stop as soon as
    the remaining text is AliOS content that only looks like a prefix.
    """
    text = strip_escapes(line).rstrip()
    if not _STRIPPABLE.match(text):   # nothing left, no prefix shape, or AliOS content
        return Normalized(text, None, False)
    return _strip_prefixes(text)


def _strip_prefixes(text: str) -> Normalized:
    """The prefix loop of :func:`normalize`, for the few lines that may carry one."""
    ts: float | None = None
    prefixed = False
    for _ in range(4):
        if not _STRIPPABLE.match(text):
            break
        for prefix in _PREFIXES:
            m = prefix.pattern.match(text)
            if m is None or m.end() == 0:
                continue
            if ts is None:
                ts = _timestamp(prefix.kind, m)
            text = text[m.end():]
            prefixed = True
            break
        else:
            break
    return Normalized(text, ts, prefixed)


# -- counting prefixed lines a chunk at a time ------------------------------------------------
def _one_line(pattern: str) -> str:
    """Rewrite a one-line pattern so that, run over many lines at once, it never crosses a
    line end: ``\\s`` outside a class becomes "blank but not newline", ``[^...]`` excludes
    newline."""
    out: list[str] = []
    i = 0
    in_class = False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            pair = pattern[i:i + 2]
            out.append("[^\\S\\n]" if pair == "\\s" and not in_class else pair)
            i += 2
            continue
        if not in_class and ch == "$":      # the end of this line, not of the chunk
            out.append("(?=\\n|\\Z)")
            i += 1
            continue
        if not in_class and ch == "[":
            in_class = True
            if pattern.startswith("[^", i):
                out.append("[^\\n")
                i += 2
                continue
        elif in_class and ch == "]" and pattern[i - 1] not in "[^":
            in_class = False
        out.append(ch)
        i += 1
    return "".join(out)


def _bulk_prefix_pattern() -> LazyPattern:
    protected = re.sub(r"\s+|#[^\n]*", "", _PROTECTED.pattern)   # un-VERBOSE it
    parts = "|".join(f"(?:{_one_line(p.pattern.pattern.lstrip('^'))})" for p in _PREFIXES)
    parts = re.sub(r"\(\?P<\w+>", "(?:", parts)   # the same group names recur
    # '\n' first, not '^' with MULTILINE: the engine then jumps from line end to line end
    # with a fast literal search instead of trying every position.
    return lazy(     # compiled on first use (~25 ms): the C scanner counts most lines itself
        rf"\n(?!\[MS[A-Z]+\])(?={_one_line(_MAY_HAVE_PREFIX.pattern)})(?!{_one_line(protected.lstrip('^'))})"
        rf"(?=[\t -~]*(?:\n|$))(?:{parts})")


# A line start that carries a prefix, for lines of printable ASCII (and tabs) only.
_BULK_PREFIX = _bulk_prefix_pattern()
_NON_ASCII = lazy(r"[^\x00-\x7f]")
# Whole-chunk versions of strip_escapes' two steps. Nothing they remove crosses a line end
# (an OSC string stops at it); charset-led regexes scan slowly, so the common cases go by
# a literal-led regex (ESC) and bytes.translate (control characters).
_ANSI_ONE_LINE = lazy(_ANSI.pattern.replace("[^\\x07\\x1b]", "[^\\x07\\x1b\\n]"))
_ESC_ONE_LINE = lazy(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b\n]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_CONTROL_ONE_LINE = lazy(r"[\x00-\x08\x0b-\x1f\x7f]")
_CONTROL_BYTES = bytes([*range(0, 9), *range(11, 32), 127])
assert _ANSI_ONE_LINE.pattern != _ANSI.pattern   # the OSC rule above was rewritten


def is_plain(text: str) -> bool:
    """Only printable ASCII, tabs and line ends: normalize() changes nothing but the prefix."""
    if not text.isascii():
        return False
    raw = text.encode("ascii")
    return len(raw.translate(None, _CONTROL_BYTES)) == len(raw)


def count_prefixed(text: str) -> int:
    """How many lines of ``text`` (``\\n``-separated) :func:`normalize` finds a prefix on.

    One regex pass over the chunk instead of one normalize() per line. Escapes and control
    characters are stripped chunk-wide first; a line that still holds anything but ASCII is
    normalised on its own.
    """
    if text.isascii():
        if "\x1b" in text:
            text = _ESC_ONE_LINE.sub("", text)
        raw = text.encode("ascii")
        kept = raw.translate(None, _CONTROL_BYTES)
        if len(kept) != len(raw):
            text = kept.decode("ascii")
        return len(_BULK_PREFIX.findall("\n" + text)) + _blank_ended(text)
    text = _CONTROL_ONE_LINE.sub("", _ANSI_ONE_LINE.sub("", text))
    count = len(_BULK_PREFIX.findall("\n" + text)) + _blank_ended(text)
    last = -1
    for m in _NON_ASCII.finditer(text):
        start = text.rfind("\n", 0, m.start()) + 1
        if start == last:
            continue
        last = start
        end = text.find("\n", start)
        if normalize(text[start:end if end >= 0 else len(text)]).prefixed:
            count += 1
    return count


#: The characters a prefix can start with (_MAY_HAVE_PREFIX)
_MAY_START = frozenset("[(<0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _blank_ended(text: str) -> int:
    """What count_prefixed's regex gets wrong on the lines of ``text`` that end in a blank:
    normalize() strips those blanks before it matches (``[  WARN] `` then nothing is no
    NuttX prefix), the regex sees them. Their normalize() count minus the regex's."""
    fix = 0
    # (searching for "\t\n" is slow, one for "\t" fast: most chunks hold no TAB at all)
    for blank in (" \n", "\t\n") if "\t" in text else (" \n",):
        at = text.find(blank)
        while at >= 0:
            start = text.rfind("\n", 0, at) + 1
            if text[start] in _MAY_START:     # (else neither finds a prefix)
                fix += _refit(text[start:at + 1])
            at = text.find(blank, at + 2)
    if text.endswith((" ", "\t")):
        fix += _refit(text[text.rfind("\n") + 1:])
    return fix


def _refit(line: str) -> int:
    """normalize()'s count of one line minus the regex's (a line that is not ASCII is
    normalised on its own by count_prefixed, never counted by the regex)."""
    if not line.isascii():
        return 0
    return normalize(line).prefixed - (_BULK_PREFIX.match(f"\n{line}\n") is not None)
