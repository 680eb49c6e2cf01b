"""A serial port (device path or pyserial URL) as a byte source that survives unplugging.

Why the retry loop lives here: a USB-UART disappears when the board resets or the cable is
pulled, and comes back (often under the same path, or a symlink such as
/dev/serial/by-id/...). The monitor must keep its capture file and its state across that, so
the source reports ``disconnected``/``reconnected`` events and keeps trying to reopen the
same name instead of ending the session. URLs (``socket://``, ``rfc2217://``, ``loop://``)
go through ``serial.serial_for_url``.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable

import serial

from memsleuth.errors import InputError, UsageError

CHUNK_BYTES = 1 << 16


def _keep_input() -> None:
    """Stands in for ``reset_input_buffer`` during open."""


class SerialSource:
    """Read raw bytes from a serial device, reopening it when it goes away."""

    def __init__(
        self,
        port: str,
        baud: int = 115200,
        *,
        reconnect: bool = True,
        retry_interval: float = 0.5,
        give_up_after: float | None = None,
        read_timeout: float = 0.1,
    ) -> None:
        self.port = port
        self.baud = baud
        self.reconnect = reconnect
        self.retry_interval = retry_interval
        self.give_up_after = give_up_after
        #: fixed at open: changing pyserial's timeout reconfigures the port (tcsetattr)
        self.read_timeout = read_timeout
        self.reconnects = 0
        self._ser: serial.SerialBase | None = None
        self._lost_at: float | None = None
        self._next_try = 0.0
        self.on_event: Callable[[str], None] = lambda msg: None

    @property
    def describe(self) -> str:
        return f"{self.port} @ {self.baud}"

    @property
    def connected(self) -> bool:
        return self._ser is not None

    def _open_port(self) -> serial.SerialBase:
        # exclusive: two monitors on one UART would each get half of the bytes.
        kwargs: dict[str, object] = {"baudrate": self.baud, "timeout": self.read_timeout}
        if "://" not in self.port:
            kwargs["exclusive"] = True
        ser = serial.serial_for_url(self.port, do_not_open=True, **kwargs)
        # pyserial discards pending input when it opens a port; those are bytes the device
        # sent while we were (re)connecting: evidence, so keep them.
        names = [n for n in ("reset_input_buffer", "_reset_input_buffer") if hasattr(ser, n)]
        for name in names:  # posix ports call the private one, URL handlers the public one
            setattr(ser, name, _keep_input)
        try:
            ser.open()
        finally:
            for name in names:
                delattr(ser, name)
        return ser

    def open(self) -> None:
        """First open: a missing port is a usage error (like a missing file), a port that
        exists but cannot be opened (busy, permissions) an input error."""
        if "://" not in self.port and not os.path.exists(self.port):
            raise UsageError(f"port not found: {self.port}")
        try:
            self._ser = self._open_port()
        except (serial.SerialException, OSError, ValueError) as exc:
            raise InputError(f"cannot open {self.port}: {exc}") from None

    def _lost(self, why: str) -> None:
        if self._ser is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                self._ser.close()
        self._ser = None
        self._lost_at = time.monotonic()
        self._next_try = self._lost_at + self.retry_interval
        self.on_event(f"{self.port} disconnected ({why}); retrying every {self.retry_interval:g} s")

    def _try_reopen(self) -> bool:
        now = time.monotonic()
        if now < self._next_try:
            return False
        self._next_try = now + self.retry_interval
        try:
            self._ser = self._open_port()
        except (serial.SerialException, OSError, ValueError):
            return False
        self.reconnects += 1
        away = now - (self._lost_at or now)
        self.on_event(f"{self.port} reconnected after {away:.1f} s")
        return True

    def read(self, timeout: float) -> bytes | None:
        """Bytes within ``timeout`` s; b"" if none (or while reconnecting); None when done."""
        if self._ser is None:
            if not self.reconnect:
                return None
            if (
                self.give_up_after is not None
                and self._lost_at is not None
                and time.monotonic() - self._lost_at > self.give_up_after
            ):
                self.on_event(f"{self.port} did not come back; giving up")
                return None
            if not self._try_reopen():
                time.sleep(min(timeout, self.retry_interval))
                return b""
        ser = self._ser
        assert ser is not None
        try:
            waiting = ser.in_waiting
            if waiting:
                return ser.read(min(waiting, CHUNK_BYTES))
            first = ser.read(1)  # waits up to read_timeout
            if not first:
                return b""
            more = ser.in_waiting
            return first + ser.read(min(more, CHUNK_BYTES)) if more else first
        except (serial.SerialException, OSError, TypeError) as exc:
            # pyserial raises TypeError from a closed fd on some platforms
            self._lost(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            return b"" if self.reconnect else None

    def write(self, data: bytes) -> None:
        """Called from the main thread while the reader thread may be reconnecting."""
        ser = self._ser
        if ser is None:
            self.on_event("port is disconnected; command not sent")
            return
        try:
            ser.write(data)
            ser.flush()
        except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
            # the reader thread notices the loss and reconnects; just report it here
            self.on_event(f"send failed ({exc}); command not sent")

    def close(self) -> None:
        if self._ser is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                self._ser.close()
            self._ser = None
