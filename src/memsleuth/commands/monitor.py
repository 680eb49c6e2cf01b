"""`memsleuth monitor`: a live terminal on a serial port or a command, with capture and alerts."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memsleuth import lazyclick as click
from memsleuth.commands.common import (
    cycle_pattern_option,
    elf_option,
    emit,
    guarded,
    json_option,
    objects_options,
    open_symbolizer,
    say_identity_mismatch,
    threshold_options,
)
from memsleuth.errors import EXIT_FINDING, EXIT_INPUT, EXIT_PARTIAL, UsageError

if TYPE_CHECKING:
    from memsleuth.results.monitor import MonitorOutput


def _render_summary(result: MonitorOutput) -> None:
    """Text mode: the live output was the report; end with a one-line summary on stderr."""
    files = ", ".join(result.capture_files)
    click.echo(
        f"--- memsleuth: {result.lines} lines, {result.bytes} bytes captured in {files}; "
        f"{len(result.alerts)} alert(s)",
        err=True,
    )
    note = _command_exit_note(result)
    if note:
        click.echo(f"--- memsleuth: {note}", err=True)


def _command_exit_note(result: MonitorOutput) -> str | None:
    """How the --cmd command ended, when that was not success; None otherwise."""
    code = result.command_exit
    if not code:
        return None
    how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
    if result.ended != "eof":
        how += " (stopped by memsleuth)"
    return f"the command {how}"


def command_failed(result: MonitorOutput) -> bool:
    """The command ended on its own with an error before printing a byte: nothing to see."""
    return result.ended == "eof" and bool(result.command_exit) and not result.bytes


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


@click.command(
    "monitor",
    help=(
        "Live terminal on a serial PORT (device path or pyserial URL: socket://, rfc2217://, "
        "loop://) or on a command's output (--cmd, PORT omitted): decodes code addresses "
        "inline, captures every raw byte to disk, shows free heap / leak rate / object "
        "balance, and alerts on an established leak or a crash. Exit 0 on end/Ctrl-C, "
        "1 if an alert was raised, 3 if the --cmd command failed before printing anything."
    ),
)
@click.argument("port", required=False)
@elf_option
@click.option("--baud", type=int, default=115200, show_default=True, help="Serial baud rate.")
@click.option("--cmd", "cmd", default=None, help='Run this command and monitor its output '
              '(e.g. "qemu-system-arm -M mps2-an386 ... -kernel fw.elf").')
@click.option("--log-dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("memsleuth-logs"), show_default=True,
              help="Where the raw capture goes.")
@click.option("--rotate-mb", type=float, default=None,
              help="Start a new capture file after this many MB (cut at a line end).")
@click.option("--send", "send", default=None, help='Command to send to the device (e.g. '
              '"dumpsys mm_info"); with --every.')
@click.option("--every", "every", default=None, help="Send period: 30s, 10m, 1h.")
@click.option("--eol", type=click.Choice(["crlf", "lf", "cr"]), default=None,
              help="Line ending for --send and typed lines (default: crlf; lf for --cmd).")
@click.option("--warmup", default="auto", show_default=True,
              help="Heap points (cycles) ignored at the start, or 'auto' to detect them.")
@click.option("--min-points", type=int, default=None,
              help="Extra floor: heap points (cycles) before a leak alert. Default: alert "
                   "when the verdict `check` would give on what has arrived says leak.")
@click.option("--status-every", type=float, default=10.0, show_default=True,
              help="Seconds between status lines when stdout is not a terminal.")
@click.option("--no-reconnect", is_flag=True, help="End when the port disappears.")
@click.option("--no-input", is_flag=True,
              help="Do not forward lines typed on this terminal to the device.")
@click.option("--give-up-after", type=float, default=None,
              help="Stop after the port has been gone this many seconds (default: never).")
@cycle_pattern_option
@objects_options
@threshold_options
@json_option
@guarded
def command(
    port: str | None,
    elf: Path | None,
    baud: int,
    cmd: str | None,
    log_dir: Path,
    rotate_mb: float | None,
    send: str | None,
    every: str | None,
    eol: str | None,
    warmup: str,
    min_points: int | None,
    status_every: float,
    no_reconnect: bool,
    no_input: bool,
    give_up_after: float | None,
    cycle_pattern: str | None,
    grace: int,
    config: Path | None,
    max_leak_rate: float,
    max_imbalance: float,
    allow_warmup: bool,
    as_json: bool,
) -> None:
    from memsleuth.live.decoder import AddressDecoder, open_decoder_symbolizer
    from memsleuth.live.engine import Display, Monitor, Schedule, parse_duration, stdout_is_tty
    from memsleuth.live.tracker import LiveTracker
    from memsleuth.sources.capture import CaptureWriter

    if (port is None) == (cmd is None):
        raise UsageError("give either PORT or --cmd \"COMMAND\" (not both)")
    if (send is None) != (every is None):
        raise UsageError("--send and --every go together")
    if rotate_mb is not None and rotate_mb <= 0:
        raise UsageError("--rotate-mb must be positive")
    ending = {"crlf": b"\r\n", "lf": b"\n", "cr": b"\r"}[eol or ("lf" if cmd else "crlf")]
    schedule = None
    if send is not None and every is not None:
        try:
            period = parse_duration(every)
        except ValueError as exc:
            raise UsageError(f"--every: {exc}") from None
        if period <= 0:
            raise UsageError("--every must be positive")
        schedule = Schedule(command=send.encode() + ending, every=period)

    if warmup == "auto":
        warm = -1
    elif warmup.isdigit():
        warm = int(warmup)
    else:
        raise UsageError("--warmup: a number of points or 'auto'")
    if min_points is not None and min_points < 6:
        raise UsageError("--min-points must be at least 6")
    from memsleuth.analysis.check import Thresholds
    from memsleuth.live.scan import LiveScanner
    from memsleuth.parse import agent
    from memsleuth.parse.cycles import CycleDetector
    from memsleuth.parse.registry import default_readers
    from memsleuth.parse.stream import LogParser

    try:
        readers = default_readers(re.compile(cycle_pattern) if cycle_pattern else None,
                                  agent.load_patterns(config))
    except re.error as exc:
        raise UsageError(f"invalid cycle pattern {cycle_pattern!r}: {exc}") from None
    thresholds = Thresholds(max_leak_rate=max_leak_rate, max_imbalance=max_imbalance,
                            allow_warmup=allow_warmup, grace=grace)
    symbolizer = open_symbolizer(elf, open_decoder_symbolizer)
    source: Any
    if cmd is not None:
        from memsleuth.sources.process import ProcessSource

        source = ProcessSource(cmd)
        prefix = "cmd"
    else:
        from memsleuth.sources.serial import SerialSource

        assert port is not None
        source = SerialSource(port, baud, reconnect=not no_reconnect,
                              give_up_after=give_up_after)
        prefix = "serial"
    source.open()  # first: a port that cannot be opened leaves no empty capture behind
    try:
        capture = CaptureWriter(
            log_dir, prefix=prefix,
            rotate_bytes=int(rotate_mb * 1024 * 1024) if rotate_mb else None,
        )
    except OSError as exc:
        source.close()
        raise UsageError(f"--log-dir {log_dir}: {exc.strerror or exc}") from None

    live_out = sys.stderr if as_json else sys.stdout
    tty = (not as_json) and stdout_is_tty()
    display = Display(live_out, sys.stderr, tty=tty, status_every=status_every)
    monitor = Monitor(
        source, capture, AddressDecoder(symbolizer), display,
        tracker=LiveTracker(warmup=warm, min_points=min_points, thresholds=thresholds),
        # without --cycle-pattern the round marker is detected as the offline verbs do
        scanner=LiveScanner(parser=LogParser(*readers),
                            detector=None if cycle_pattern else CycleDetector()),
        schedule=schedule, symbolizer=symbolizer, eol=ending,
        keyboard=sys.stdin if not no_input and _stdin_is_tty() else None,
    )
    result = monitor.run()
    emit("monitor", result, as_json, _render_summary)
    if command_failed(result):
        click.echo(f"memsleuth: error: {_command_exit_note(result)} before printing anything",
                   err=True)
        sys.exit(EXIT_INPUT)
    if say_identity_mismatch(result.elf_match):
        sys.exit(EXIT_PARTIAL)
    if result.finding:
        sys.exit(EXIT_FINDING)
