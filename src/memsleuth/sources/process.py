"""A command's output as a byte source (``monitor --cmd "qemu-system-arm ..."``).

Why a pipe and raw ``os.read``: the monitor must see bytes as soon as the firmware prints
them (no line buffering on our side) and must wake up regularly even when the command is
silent, to redraw the status and send scheduled commands. stderr is merged into stdout so
nothing the command prints is missing from the capture.
"""

from __future__ import annotations

import contextlib
import os
import select
import shlex
import signal
import subprocess
from collections.abc import Callable, Sequence

from memsleuth.errors import UsageError

CHUNK_BYTES = 1 << 16


class ProcessSource:
    """Run a command and read its merged stdout/stderr; write to its stdin."""

    def __init__(self, command: str | Sequence[str], *, cwd: str | None = None) -> None:
        self.argv = shlex.split(command) if isinstance(command, str) else list(command)
        if not self.argv:
            raise UsageError("--cmd: empty command")
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None
        self.on_event: Callable[[str], None] = lambda msg: None

    @property
    def describe(self) -> str:
        return " ".join(shlex.quote(a) for a in self.argv)

    def open(self) -> None:
        try:
            self.proc = subprocess.Popen(  # noqa: S603 - the user's own command
                self.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                cwd=self.cwd,
                bufsize=0,
                start_new_session=True,  # Ctrl-C reaches us, and we stop the command cleanly
            )
        except FileNotFoundError:
            raise UsageError(f"--cmd: command not found: {self.argv[0]}") from None
        except OSError as exc:
            raise UsageError(f"--cmd: cannot run {self.argv[0]}: {exc.strerror or exc}") from None

    def read(self, timeout: float) -> bytes | None:
        """Bytes available within ``timeout`` seconds; b"" if none yet; None at end of output."""
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return b""
        try:
            data = os.read(fd, CHUNK_BYTES)
        except OSError:
            data = b""
        return data if data else None

    def write(self, data: bytes) -> None:
        if self.proc is None or self.proc.stdin is None:
            return
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            self.on_event("command's input is closed; scheduled send skipped")

    @property
    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def close(self) -> None:
        """Stop the command if it still runs (SIGTERM to its group, then SIGKILL)."""
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
