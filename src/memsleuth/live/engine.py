"""The monitor loop: read → capture → lines → decode → scan → show, plus schedule and status.

Order matters and is the point of this module: every chunk is written to the capture file
*before* anything else touches it, so a failure anywhere downstream (decoder, parser,
terminal) costs display, never evidence. Everything downstream is wrapped so that it cannot
stop the capture.
"""

from __future__ import annotations

import contextlib
import queue
import re
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO

from memsleuth.analysis.crash import explain_crash
from memsleuth.live.assembler import LineAssembler
from memsleuth.live.decoder import AddressDecoder
from memsleuth.live.scan import CrashBoundary, LiveScanner
from memsleuth.live.tracker import LiveTracker
from memsleuth.model import FirstKept
from memsleuth.parse.agent import BuildIdReader
from memsleuth.records import BuildId, CrashDump, Record
from memsleuth.report.crash_text import render_crash
from memsleuth.report.terminal import console
from memsleuth.results.common import ElfMatch
from memsleuth.results.monitor import Alert, DecodeCounts, LiveCrash, MonitorOutput
from memsleuth.sources.capture import CaptureWriter
from memsleuth.sources.text import decode_line, strip_eol

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
#: A crash dump longer than this is explained from what arrived (it may never end).
CRASH_MAX_LINES = 5000
#: Distinct logged return addresses seen before the ELF is checked against them.
ELF_CHECK_AFTER = 16
#: Chunks waiting in the queue beyond which lines are shown undecoded until we catch up.
BACKLOG_CHUNKS = 256
#: Seconds of silence after which an unfinished crash dump is explained anyway.
CRASH_IDLE_S = 1.0


class ByteSource(Protocol):
    """What the engine needs from a serial port or a command."""

    on_event: Callable[[str], None]

    @property
    def describe(self) -> str: ...
    def open(self) -> None: ...
    def read(self, timeout: float) -> bytes | None: ...
    def write(self, data: bytes) -> None: ...
    def close(self) -> None: ...


def parse_duration(text: str) -> float:
    """``10m``, ``30s``, ``1h``, ``500ms`` or plain seconds → seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*", text)
    if not m:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 10m, 1h)")
    value = float(m.group(1))
    return value * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]


@dataclass(slots=True)
class Schedule:
    """Send ``command`` to the device every ``every`` seconds (first send at start)."""

    command: bytes
    every: float
    next_at: float = 0.0
    sent: int = 0

    def due(self, now: float) -> bool:
        if now >= self.next_at:
            self.next_at = now + self.every
            return True
        return False


class Display:
    """Device lines, alerts and the status: a bottom line on a TTY, periodic lines otherwise."""

    def __init__(
        self, out: TextIO, err: TextIO, *, tty: bool, status_every: float = 10.0,
        color: bool | None = None,
    ) -> None:
        self.out = out
        self.err = err
        self.tty = tty
        self.color = tty if color is None else color
        self.status_every = status_every
        self._status_shown = False
        self._last_status = time.monotonic()  # first periodic line after one period
        self._last_draw = 0.0
        self._status = ""
        self._partial_shown = 0

    def _clear_status(self) -> None:
        if self.tty and self._status_shown:
            self.out.write("\r\x1b[K")
            self._status_shown = False

    def lines(self, texts: list[str]) -> None:
        if not texts:
            return
        self._clear_status()
        if self._partial_shown:
            self.out.write("\n")
            self._partial_shown = 0
        self.out.write("\n".join(texts))
        self.out.write("\n")

    def partial(self, text: str) -> None:
        """An unfinished line (a prompt) after a pause: show it, undecoded."""
        if len(text) <= self._partial_shown:
            return
        self._clear_status()
        self.out.write(text[self._partial_shown:])
        self._partial_shown = len(text)
        self.out.flush()

    def line_completed(self) -> int:
        """How much of the next completed line was already shown as a partial."""
        shown, self._partial_shown = self._partial_shown, 0
        return shown

    def alert(self, alert: Alert) -> None:
        self._clear_status()
        text = f"*** memsleuth ALERT [{alert.kind}] line {alert.line}: {alert.message}"
        if self.color:
            text = f"\x1b[1;37;41m{text}\x1b[0m"
        self.out.write(text + "\n")
        self.out.flush()

    def block(self, text: str) -> None:
        self._clear_status()
        self.out.write(text.rstrip("\n") + "\n")

    def info(self, message: str) -> None:
        self._clear_status()
        self.out.flush()
        self.err.write(f"--- memsleuth: {message}\n")
        self.err.flush()

    def status(self, text: str, now: float, force: bool = False) -> None:
        if self._partial_shown:
            if not force:
                return  # do not write over or after a prompt the user is looking at
            self.out.write("\n")
            self._partial_shown = 0
        if self.tty:
            if self._status_shown and text == self._status and now - self._last_draw < 1.0:
                return
            if not force and now - self._last_draw < 0.1:
                return  # at most ten redraws a second; an idle tick redraws it soon
            self._last_draw = now
            self._status = text
            width = 200
            try:
                import shutil

                width = shutil.get_terminal_size((120, 24)).columns - 1
            except (OSError, ValueError):
                pass
            body = f"[memsleuth] {text}"[:width]
            self.out.write("\r\x1b[K" + (f"\x1b[7m{body}\x1b[0m" if self.color else body))
            self._status_shown = True
        elif (force and text != self._status) or now - self._last_status >= self.status_every:
            self._last_status = now
            self._status = text
            self.out.write(f"[memsleuth] status: {text}\n")
        self.out.flush()

    def finish(self) -> None:
        if self.tty and self._status_shown:
            self.out.write("\n")  # keep the final status on screen
            self._status_shown = False
        if self._partial_shown:
            self.out.write("\n")
            self._partial_shown = 0
        self.out.flush()


@dataclass(slots=True)
class _Progress:
    """What the run has counted so far (``Monitor.run`` returns it as a ``MonitorOutput``)."""

    bytes: int = 0
    #: "eof" (the source ended on its own), "interrupted" (Ctrl-C, SIGTERM), "capture_error"
    ended: str = "eof"
    #: one per crash dump kept: {line, lines, partial?, explanation?, error?} (``LiveCrash``);
    #: the first FIRST_KEPT and the newest, all counted (a crash-looping device may run for days)
    crashes: FirstKept[dict[str, Any]] = field(default_factory=FirstKept)
    elf_match: ElfMatch | None = None


class Monitor:
    """Tie a source, the capture, the decoder, the tracker and the display together."""

    def __init__(
        self,
        source: ByteSource,
        capture: CaptureWriter,
        decoder: AddressDecoder,
        display: Display,
        *,
        tracker: LiveTracker | None = None,
        scanner: LiveScanner | None = None,
        schedule: Schedule | None = None,
        symbolizer: Any = None,
        poll: float = 0.1,
        keyboard: TextIO | None = None,
        eol: bytes = b"\r\n",
    ) -> None:
        self.source = source
        self.capture = capture
        self.decoder = decoder
        self.display = display
        self.tracker = tracker or LiveTracker()
        self.scanner = scanner or LiveScanner()
        self.assembler = LineAssembler()
        self.schedule = schedule
        self.symbolizer = symbolizer
        self.poll = poll
        self.result = _Progress()
        self._stop = False
        self._last_data = time.monotonic()
        self.internal_errors = 0
        self.keyboard = keyboard
        self._queue: queue.Queue[bytes | None] = queue.Queue()
        self._events: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._reader_error: BaseException | None = None
        self._behind = False
        self.eol = eol
        self._build_ids = BuildIdReader()
        self._batch: list[str] = []
        self._batch_start = 0
        self._batch_end = 0

    # -- control -----------------------------------------------------------------------------
    def stop(self, *_: object) -> None:
        """Ask the loop to end after the current chunk (SIGTERM, tests)."""
        self._stop = True

    def run(self) -> MonitorOutput:
        self.source.on_event = self._events.put  # shown by the main thread, in order
        previous = None
        try:
            previous = signal.signal(signal.SIGTERM, self.stop)
        except ValueError:  # not the main thread
            previous = None
        self.display.info(f"capturing raw bytes to {self.capture.path}")
        self.display.info(f"reading {self.source.describe}  (Ctrl-C to stop)")
        try:
            self._loop()
        except KeyboardInterrupt:
            self.result.ended = "interrupted"
            with contextlib.suppress(KeyboardInterrupt):
                self._after_reader()
        finally:
            output = self._finish()
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
        return output

    def _reader(self) -> None:
        """Thread: read and capture, nothing else, so nothing downstream can make it late.

        A decoder warming up on a big ELF, a crash being explained, or a terminal paused
        with Ctrl-S would otherwise stop us reading, and the kernel's serial buffer would
        overflow: bytes lost before they ever reached the capture.
        """
        try:
            while not self._stop:
                chunk = self.source.read(self.poll)
                if chunk is None:
                    break
                if chunk:
                    self.capture.write(chunk)      # evidence first, always
                self._queue.put(chunk)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            self._reader_error = exc
        finally:
            self._queue.put(None)

    def _loop(self) -> None:
        self._thread = threading.Thread(target=self._reader, name="memsleuth-reader",
                                        daemon=True)
        self._thread.start()
        while True:
            try:
                chunk = self._queue.get(timeout=max(self.poll, 0.05))
            except queue.Empty:
                chunk = b""
            if chunk is None:
                break
            self._handle(chunk, time.monotonic())
        # asked to stop (SIGTERM) or the source ended on its own: decided before
        # _after_reader, which sets _stop to end the reader in either case
        stopped = self._stop
        self._after_reader()
        if stopped and self.result.ended == "eof":
            self.result.ended = "interrupted"

    def _handle(self, chunk: bytes, now: float) -> None:
        """Main thread: one chunk (or an idle tick) through decoding, status and schedule."""
        while not self._events.empty():
            self.display.info(self._events.get_nowait())
        if chunk:
            self.result.bytes += len(chunk)
            self._last_data = now
            backlog = self._queue.qsize() > BACKLOG_CHUNKS
            if backlog and not self._behind:
                self.display.info("decoding is behind the device; showing raw lines until "
                                  "it catches up (the capture is complete)")
            self._behind = backlog
            self._safe(self._lines, self.assembler.feed(chunk))
        else:
            self._safe(self._idle, now)
        if self.keyboard is not None:
            self._forward_keyboard()
        if self.schedule is not None and self.schedule.due(now):
            self.source.write(self.schedule.command)
            self.schedule.sent += 1
        self._safe(self._status, now)

    def _after_reader(self) -> None:
        """Stop the reader, then show what it captured after we stopped looking."""
        self._stop = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        while True:
            try:
                chunk = self._queue.get_nowait()
            except queue.Empty:
                break
            if chunk:
                self._handle(chunk, time.monotonic())
        while not self._events.empty():
            self.display.info(self._events.get_nowait())
        if self._reader_error is not None:
            exc, self._reader_error = self._reader_error, None
            self.result.ended = "capture_error"
            self.display.info(f"capture stopped: {type(exc).__name__}: {exc}")

    def _forward_keyboard(self) -> None:
        """Lines typed on our terminal go to the device (like a serial terminal)."""
        assert self.keyboard is not None
        try:
            ready, _, _ = select.select([self.keyboard], [], [], 0)
        except (OSError, ValueError):
            self.keyboard = None
            return
        if not ready:
            return
        line = self.keyboard.readline()
        if not line:
            self.keyboard = None  # stdin closed
            return
        self.source.write(line.rstrip("\r\n").encode() + self.eol)

    def _safe(self, fn: Callable[..., None], *args: Any) -> None:
        """Downstream failures are counted and reported once, never fatal to the capture."""
        try:
            fn(*args)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # noqa: BLE001 - the capture must go on
            self.internal_errors += 1
            if self.internal_errors <= 3:
                self.display.info(f"internal error ignored ({type(exc).__name__}: {exc}); "
                                  "capture continues")

    # -- per chunk ---------------------------------------------------------------------------
    def _lines(self, raws: list[bytes]) -> None:
        if not raws:
            return
        texts: list[str] = []
        for raw in raws:
            text, _bad = decode_line(strip_eol(raw))
            if "\x1b" in text:
                text = _ANSI.sub("", text)
            texts.append(text)
        if self.symbolizer is not None and any("[MSBUILD]" in t for t in texts):
            # the build id decides whether this batch may be decoded at all
            for j, t in enumerate(texts):
                rec = self._build_ids.read(t, self.scanner.lines + j + 1, None)
                if rec is not None:
                    self._safe(self._check_identity, rec)
        try:
            shown = list(texts) if self._behind else self.decoder.decode(texts)
        except Exception:  # noqa: BLE001 - show undecoded rather than nothing
            self.decoder.errors += 1
            shown = list(texts)
        skip = self.display.line_completed()
        if skip and shown:
            shown[0] = shown[0][skip:] if shown[0].startswith(texts[0][:skip]) else shown[0]
        tracker = self.tracker
        self._batch, self._batch_start = shown, 0
        scanner = self.scanner
        for i, text in enumerate(texts):
            self._batch_end = i + 1
            tracker.lines = scanner.lines + 1
            self._records(scanner.feed(text))
            trend = tracker.acc.trend
            if scanner.cycle_source is not None and trend is not None \
                    and trend.cycle_source is None:
                trend.cycle_source = scanner.cycle_source      # named as offline
            if scanner.crash_line is not None \
                    and scanner.lines - scanner.crash_line + 1 >= CRASH_MAX_LINES:
                self._records(scanner.finish(
                    f"crash dump longer than {CRASH_MAX_LINES} lines: explained as received"))
        self._batch_end = len(shown)
        self._flush_batch()
        self._batch = []
        if self.result.elf_match is None and len(self.decoder.return_seen) >= ELF_CHECK_AFTER:
            self._check_elf()

    def _check_identity(self, rec: BuildId) -> None:
        """The device said which build it runs: another one than --elf stops the decoding
        (every name it would print is wrong) and is said once; the verb then exits 4."""
        if self.symbolizer is None:
            return
        from memsleuth.analysis.identity import check_identity

        ident = check_identity([rec], getattr(self.symbolizer, "build_id", None),
                               getattr(self.symbolizer, "content_hash", ""))
        prev = self.result.elf_match.identity if self.result.elf_match else None
        if prev is not None and prev.status == "mismatch":
            return
        self.result.elf_match = ElfMatch(
            verdict="mismatch" if ident.status == "mismatch" else "ok", reason=ident.reason,
            identity=ident, verified=ident.status == "match",
            checked=len(self.decoder.return_seen))
        if ident.status == "mismatch":
            self.decoder.symbolizer = None   # decode nothing rather than wrong names
            self.display.info(f"ERROR: {ident.reason}; addresses are no longer decoded "
                              "(pass the ELF of the build that is flashed)")

    def _check_elf(self) -> None:
        """Stale or wrong ELF (survey §H): say so once, early, instead of decoding nonsense."""
        check = getattr(self.symbolizer, "check_return_addresses", None)
        if check is None or not self.decoder.return_seen:
            return
        if self.result.elf_match is not None and self.result.elf_match.identity is not None:
            return   # the device's own build id already decided
        report = check(sorted(self.decoder.return_seen))
        verdict = getattr(report, "verdict", "ok")
        reason = getattr(report, "reason", "")
        self.result.elf_match = ElfMatch(verdict=verdict, reason=reason,
                                         checked=len(self.decoder.return_seen))
        if verdict == "mismatch":
            self.display.info(f"WARNING: {reason}; decoded names are probably wrong "
                              "(rebuild or pass the ELF that is flashed)")

    def _flush_batch(self) -> None:
        """Show the lines of the current batch received so far (before an alert or a block)."""
        if self._batch_end > self._batch_start:
            self.display.lines(self._batch[self._batch_start:self._batch_end])
            self._batch_start = self._batch_end

    def _records(self, records: list[Record | CrashBoundary]) -> None:
        """Fold what the scanner completed; show the alerts it raised, in line order."""
        for rec in records:
            # per record, so one bad record cannot desynchronise the line numbering
            if isinstance(rec, CrashBoundary):
                self._safe(self.tracker.crash, rec.line, rec.text)
            elif isinstance(rec, CrashDump):
                self._safe(self._explain_crash, rec)
            elif isinstance(rec, BuildId):
                pass   # checked before the batch was decoded (see _lines)
            else:
                self._safe(self.tracker.add, rec)
            new = self.tracker.take_new_alerts()
            if new:
                self._flush_batch()
                for alert in new:
                    self.display.alert(alert)

    def _idle(self, now: float) -> None:
        pending = self.assembler.pending
        if pending and now - self._last_data > 0.3:
            text, _ = decode_line(pending)
            self.display.partial(text)
        if self.scanner.in_crash and now - self._last_data > CRASH_IDLE_S:
            # the device reset or stopped mid-dump: explain the part that arrived
            self._records(self.scanner.finish(
                f"no output for {CRASH_IDLE_S:g} s in the middle of the dump "
                "(device reset or stopped?)"))

    def _status(self, now: float) -> None:
        self.display.status(self.tracker.status_text(), now)

    # -- crash explanation ---------------------------------------------------------------------
    def _explain_crash(self, crash: CrashDump) -> None:
        """Explain the parser's crash dump with the last block dump seen before it."""
        end = crash.end_line if crash.end_line is not None else self.scanner.lines
        entry: dict[str, Any] = {"line": crash.line, "lines": end - crash.line + 1}
        if crash.partial:
            entry["partial"] = crash.partial_reason or True
        self.result.crashes.append(entry)
        dump = self.scanner.last_dump
        try:
            explanation = explain_crash(crash, self.symbolizer,
                                        dump if dump is not None and dump.line < crash.line
                                        else None, list(self.tracker.warnings))
            entry["explanation"] = explanation
            with console().capture() as cap:
                render_crash(explanation)
            text = cap.get()
        except Exception as exc:  # noqa: BLE001 - an explanation is a bonus
            entry["error"] = f"{type(exc).__name__}: {exc}"
            return
        if text:
            self._flush_batch()
            self.display.block(text)

    # -- end ---------------------------------------------------------------------------------
    def _wait_for_exit(self, timeout: float = 2.0) -> None:
        """A command whose output ended is exiting: let it, so its own status is reported.

        Closing the source at once would stop it with SIGTERM and report that instead.
        """
        if not hasattr(self.source, "returncode"):
            return
        deadline = time.monotonic() + timeout
        with contextlib.suppress(Exception):
            while getattr(self.source, "returncode", 0) is None and time.monotonic() < deadline:
                time.sleep(0.01)

    def _finish(self) -> MonitorOutput:
        try:
            tail = self.assembler.flush()
            if tail:
                self._safe(self._lines, tail)
            # what is still held (lines kept while the round marker is undecided: a short
            # capture, or one stopped early) and a section left open are read now
            reason = ("the stream ended in the middle of the dump" if self.scanner.in_crash
                      else "the stream ended in the middle of the section")
            self._safe(lambda: self._records(self.scanner.finish(reason)))
        finally:
            self.capture.close()
            if self.result.ended == "eof":
                self._wait_for_exit()
            with contextlib.suppress(Exception):
                self.source.close()
        if self.tracker.points:
            # the final forecast on every point: what `memsleuth trend` says of the capture
            self._safe(self.tracker.refresh_forecast)
        self.display.status(self.tracker.status_text(), time.monotonic(), force=True)
        self.display.finish()
        r = self.result
        if r.elf_match is None and self.decoder.return_seen:
            self._safe(self._check_elf)
        return MonitorOutput(
            lines=self.scanner.lines,
            bytes=r.bytes,
            capture_files=tuple(str(p) for p in self.capture.files),
            alerts=tuple(self.tracker.alerts),
            status=self.tracker.status(),
            ended=r.ended,  # type: ignore[arg-type]
            reconnects=int(getattr(self.source, "reconnects", 0)),
            sends=self.schedule.sent if self.schedule else 0,
            decode=DecodeCounts(lookups=self.decoder.lookups, annotations=self.decoder.decoded,
                                errors=self.decoder.errors,
                                internal_errors=self.internal_errors),
            crashes=tuple(LiveCrash(**c) for c in r.crashes.items()),
            crashes_total=r.crashes.count,
            command_exit=getattr(self.source, "returncode", None),
            finding=self.tracker.finding,
            elf_match=r.elf_match,
        )


def stdout_is_tty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False
