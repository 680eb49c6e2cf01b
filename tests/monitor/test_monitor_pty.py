"""The monitor on a serial port: a pseudo-terminal stands in for the USB-UART.

The device side writes into the pty master; the monitor opens the slave path (through a
symlink, like /dev/serial/by-id/...) with pyserial. Unplugging is simulated by closing the
master and removing the symlink; plugging back by a new pty behind the same symlink.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
import tty
from pathlib import Path

import pytest
from monitor_helpers import Running, example, file_size, wait_for

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="pty semantics are Linux's")


class FakeDevice:
    """One plugged-in session of a device: a raw pty behind ``link``."""

    def __init__(self, link: Path) -> None:
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.slave_name = os.ttyname(slave)
        os.close(slave)  # the monitor opens it by path
        self.link = link
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(self.slave_name)

    def write(self, data: bytes, piece: int = 97) -> None:
        """Write like a UART would: in small bursts, never all at once."""
        for i in range(0, len(data), piece):
            view = memoryview(data[i:i + piece])
            while view:
                n = os.write(self.master, view)
                view = view[n:]

    def drain(self) -> None:
        """Read and drop what the monitor sent us (keeps the pty from filling up)."""
        os.set_blocking(self.master, False)
        try:
            while os.read(self.master, 4096):
                pass
        except (BlockingIOError, OSError):
            pass

    def unplug(self) -> None:
        os.close(self.master)
        self.link.unlink()


def _device_bytes(seed: int, n_lines: int) -> bytes:
    """Real-format lines, mixed endings, a few invalid bytes, and an unfinished last line."""
    log = example("x86_64-leak.log").read_bytes().splitlines(keepends=True)
    start = (seed * 131) % max(1, len(log) - n_lines)
    body = b"".join(log[start:start + n_lines])
    return body + b"\r\nnoise \xff\xfe\x00 here\r\n" + b"lone cr\r" + b"prompt # "


@pytest.fixture
def need_example() -> None:
    if not example("x86_64-leak.log").exists():
        pytest.skip("example firmware output not built")


def test_pty_passthrough_decodes_and_captures(tmp_path: Path, need_example: None) -> None:
    link = tmp_path / "ttyUSB-fake"
    dev = FakeDevice(link)
    mon = Running([str(link), "--elf", str(example("x86_64-leak.elf")), "--baud", "921600",
                   "--log-dir", str(tmp_path / "logs"), "--json"], cwd=tmp_path)
    try:
        cap = mon.capture_path()
        data = _device_bytes(1, 300)
        mon.wait_err("reading")
        dev.write(data)
        wait_for(lambda: file_size(cap) == len(data), 15, "capture did not receive every byte")
        mon.proc.send_signal(signal.SIGINT)
        code, _ = mon.finish()
    finally:
        mon.kill()
        dev.unplug()
    assert code == 0
    assert cap.read_bytes() == data
    summary = mon.summary()
    assert summary["bytes"] == len(data)
    assert summary["ended"] == "interrupted"
    live = "".join(mon.err_lines)  # --json: the live terminal goes to stderr
    assert "[wifi_connect wifi_drv.c:" in live


def test_pty_unplug_and_replug_loses_no_byte(tmp_path: Path, need_example: None) -> None:
    link = tmp_path / "ttyACM-fake"
    dev = FakeDevice(link)
    mon = Running([str(link), "--log-dir", str(tmp_path / "logs"), "--json"], cwd=tmp_path)
    sent = b""
    try:
        cap = mon.capture_path()
        mon.wait_err("reading")
        for round_ in range(3):
            part = _device_bytes(round_, 120)
            dev.write(part)
            sent += part
            wait_for(lambda: file_size(cap) == len(sent), 15,  # noqa: B023
                     f"round {round_}: capture has {file_size(cap)} of {len(sent)} bytes")
            if round_ == 2:
                break
            n_disc = sum("disconnected" in x for x in mon.err_lines)
            n_rec = sum("reconnected" in x for x in mon.err_lines)
            dev.unplug()                                   # the cable is pulled
            wait_for(lambda: sum("disconnected" in x for x in mon.err_lines) > n_disc,  # noqa: B023
                     15, "monitor did not notice the unplug")
            time.sleep(0.3)
            dev = FakeDevice(link)                         # ... and plugged back
            early = f"boot banner {round_} printed before the monitor is back\r\n".encode()
            dev.write(early)                               # kept in the tty until we open
            sent += early
            wait_for(lambda: sum("reconnected" in x for x in mon.err_lines) > n_rec,  # noqa: B023
                     15, "monitor did not reconnect")
        mon.proc.send_signal(signal.SIGTERM)
        code, _ = mon.finish()
    finally:
        mon.kill()
        with contextlib.suppress(OSError):
            dev.unplug()
    assert code == 0
    assert cap.read_bytes() == sent          # one capture file, byte for byte
    summary = mon.summary()
    assert summary["reconnects"] == 2
    assert summary["capture_files"] == [str(cap)]
    assert summary["bytes"] == len(sent)


def test_loop_url_with_scheduled_send(tmp_path: Path) -> None:
    """pyserial URL (loop:// echoes what we send): the schedule sends, the capture has it."""
    mon = Running(["loop://", "--send", "dumpsys mm_info", "--every", "200ms",
                   "--log-dir", str(tmp_path / "logs"), "--json"], cwd=tmp_path)
    try:
        cap = mon.capture_path()
        wait_for(lambda: cap.exists() and cap.read_bytes().count(b"dumpsys mm_info\r\n") >= 3,
                 15, "scheduled command not seen")
        mon.proc.send_signal(signal.SIGINT)
        code, _ = mon.finish()
    finally:
        mon.kill()
    assert code == 0
    summary = mon.summary()
    assert summary["sends"] >= 3
    assert cap.read_bytes().startswith(b"dumpsys mm_info\r\n")


def test_missing_port_is_a_usage_error(tmp_path: Path) -> None:
    mon = Running([str(tmp_path / "no-such-tty"), "--log-dir", str(tmp_path / "logs")],
                  cwd=tmp_path)
    code, _ = mon.finish()
    assert code == 2
    assert any("port not found" in x for x in mon.err_lines)
    assert not (tmp_path / "logs").exists() or not any((tmp_path / "logs").iterdir())


def test_unopenable_port_is_an_input_error(tmp_path: Path) -> None:
    not_a_tty = tmp_path / "plain-file"
    not_a_tty.write_text("x")
    mon = Running([str(not_a_tty), "--log-dir", str(tmp_path / "logs")], cwd=tmp_path)
    code, _ = mon.finish()
    assert code == 3
    assert any("cannot open" in x for x in mon.err_lines)


def test_port_and_cmd_are_exclusive(tmp_path: Path) -> None:
    mon = Running(["loop://", "--cmd", "true"], cwd=tmp_path)
    code, _ = mon.finish()
    assert code == 2


def test_socket_url_reconnects_without_loss(tmp_path: Path) -> None:
    """A network UART bridge (ser2net, socket://) that drops and takes the connection again."""
    import socket

    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(15)
    port = srv.getsockname()[1]
    mon = Running([f"socket://127.0.0.1:{port}", "--log-dir", str(tmp_path / "logs"), "--json"],
                  cwd=tmp_path)
    sent = b""
    try:
        cap = mon.capture_path()
        for r in range(2):
            conn, _ = srv.accept()
            data = f"[MSCYCLE] {r}\r\nsession {r} says hello\r\n".encode() * 40
            conn.sendall(data)           # sent the moment we connect: nothing may be dropped
            sent += data
            wait_for(lambda: file_size(cap) == len(sent), 15,  # noqa: B023
                     f"capture has {file_size(cap)} of {len(sent)} bytes")
            conn.close()
        mon.proc.send_signal(signal.SIGTERM)
        code, _ = mon.finish()
    finally:
        mon.kill()
        srv.close()
    assert code == 0
    assert cap.read_bytes() == sent
    assert mon.summary()["reconnects"] == 1
