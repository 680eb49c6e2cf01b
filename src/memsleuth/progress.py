"""Long reads show their progress and can be cut short with an answer (issue 16).

While a log of more than a few MB is read, a one-line status on stderr (a terminal only, or
with ``--progress``): bytes and lines read, MB/s, ETA, the section being read. It is erased
when reading ends, so it never shows in the final output; nothing is written with ``--json``,
``--quiet`` or when stderr is not a terminal.

Ctrl-C while reading stops at the next chunk boundary (records already read are whole; an
open section is closed as partial): the verb then answers for what was read, marked partial
with the byte offset reached, and exits 4. A second Ctrl-C quits at once (exit 130).

The CLI switches this on (:func:`configure`); a library caller gets plain reading.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

#: Below this size a read is quick: no progress line.
MIN_BYTES = 4 << 20
#: Seconds between redraws on a terminal, and between lines when forced onto a non-terminal.
REDRAW = 0.1
FORCED_EVERY = 2.0

_mode = "off"            # "auto" (terminal only), "on" (--progress), "off"
_interruptible = False
_interrupted_at: int | None = None
_json_output = False     # the verb prints JSON (set when no click context can say so)


def configure(*, mode: str | None = None, interruptible: bool | None = None,
              json_output: bool | None = None) -> None:
    """Set by the CLI: ``mode`` "auto" | "on" | "off"; ``interruptible``: Ctrl-C keeps the
    answer; ``json_output``: the verb prints JSON (no progress line in "auto")."""
    global _mode, _interruptible, _json_output
    if mode is not None:
        _mode = mode
    if interruptible is not None:
        _interruptible = interruptible
    if json_output is not None:
        _json_output = json_output


def cli_start() -> None:
    """What the CLI sets before a verb runs: the progress line where it can be seen, and
    Ctrl-C keeping the answer."""
    reset()
    configure(mode="auto", interruptible=True)


def interrupted_at() -> int | None:
    """The byte offset where the user stopped reading (None if they did not)."""
    return _interrupted_at


def reset() -> None:
    global _mode, _interruptible, _interrupted_at, _json_output
    _mode, _interruptible, _interrupted_at, _json_output = "off", False, None, False


def _json_requested() -> bool:
    if _json_output:
        return True
    click = sys.modules.get("click")   # not imported: no click context to ask (start-up)
    if click is None:
        return False
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.params.get("as_json"))


def _show(size: int) -> bool:
    if _mode != "auto":            # --progress forces it (even with --json), --quiet stops it
        return _mode == "on"
    if _json_requested():
        return False
    try:
        return size >= MIN_BYTES and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class Watch:
    """Wraps the chunks of one log read: draws the status line and honours Ctrl-C."""

    def __init__(self, source: Any, parsed: Any) -> None:
        self.source = source          # FileSource: size, consumed
        self.parsed = parsed          # ParsedLog: stats, in_section
        self.show = _show(getattr(source, "size", 0))
        self.tty = self.show and _isatty()
        self.stop = False
        self._presses = 0
        self._drawn = False

    def wrap(self, batches: Iterable[Any]) -> Iterator[Any]:
        global _interrupted_at
        old = self._install()
        start = last = time.monotonic()
        if self.show:
            self._draw(0.0)
        try:
            for batch in batches:
                yield batch
                if self.stop:
                    stats = self.parsed.stats
                    _interrupted_at = stats.bytes
                    stats.interrupted_at = stats.bytes
                    self.parsed.end_reason = (
                        f"reading interrupted by the user at byte {stats.bytes:,}")
                    return
                if self.show:
                    now = time.monotonic()
                    if now - last >= (REDRAW if self.tty else FORCED_EVERY) or not self._drawn:
                        last = now
                        self._draw(now - start)
        finally:
            self._restore(old)
            self._erase()

    # -- Ctrl-C -------------------------------------------------------------------------------
    def _install(self) -> Any:
        if not _interruptible or threading.current_thread() is not threading.main_thread():
            return None
        try:
            return signal.signal(signal.SIGINT, self._on_sigint)
        except (ValueError, OSError):
            return None

    def _restore(self, old: Any) -> None:
        if old is not None:
            with contextlib.suppress(ValueError, OSError):
                signal.signal(signal.SIGINT, old)

    def _on_sigint(self, signum: int, frame: Any) -> None:
        self._presses += 1
        if self._presses > 1:
            raise KeyboardInterrupt
        self.stop = True
        if self.show:
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.write(("\r\x1b[K" if self.tty else "") + "memsleuth: Ctrl-C: "
                                 "answering for what was read (Ctrl-C again to quit)\n")
                self._drawn = False

    # -- the status line ----------------------------------------------------------------------
    def _draw(self, elapsed: float) -> None:
        stats = self.parsed.stats
        done = getattr(self.source, "consumed", 0)
        size = getattr(self.source, "size", 0)
        rate = done / elapsed / 2**20 if elapsed > 0 else 0.0
        parts = [f"reading {done / 2**20:,.1f}/{size / 2**20:,.1f} MB"
                 + (f" ({done / size:.0%})" if size else ""),
                 f"{stats.lines:,} lines", f"{rate:,.1f} MB/s"]
        if rate > 0 and size > done:
            parts.append(f"ETA {_duration((size - done) / 2**20 / rate)}")
        section = self.parsed.in_section
        if section:
            parts.append(f"in {section.replace('_', ' ')}")
        text = "memsleuth: " + " · ".join(parts)
        try:
            if self.tty:
                sys.stderr.write("\r" + text + "\x1b[K")
            else:
                sys.stderr.write(text + "\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            self.show = False
            return
        self._drawn = True

    def _erase(self) -> None:
        if self._drawn and self.tty:
            try:
                sys.stderr.write("\r\x1b[K")
                sys.stderr.flush()
            except (OSError, ValueError):
                pass
        self._drawn = False


def _isatty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def watch(batches: Iterable[Any], source: Any, parsed: Any) -> Iterable[Any]:
    """The batches, watched when the CLI asked for progress or Ctrl-C handling."""
    if _mode == "off" and not _interruptible:
        return batches
    return Watch(source, parsed).wrap(batches)
