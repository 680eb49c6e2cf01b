"""Shared helpers for the monitor tests: run the CLI as a real process, find the firmware."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from schema_helpers import loads_valid

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "wifi_reconnect_leak" / "out"
CLI = [sys.executable, "-c", "import sys; from memsleuth.cli import main; sys.exit(main())"]


def example(name: str) -> Path:
    return EXAMPLE / name


def monitor_cmd(*args: str) -> list[str]:
    return [*CLI, "monitor", *args]


class Running:
    """A monitor process whose stderr is collected line by line (for its messages)."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        self.proc = subprocess.Popen(
            monitor_cmd(*args), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.err_lines: list[str] = []
        self._out = b""
        self._t_err = threading.Thread(target=self._read_err, daemon=True)
        self._t_out = threading.Thread(target=self._read_out, daemon=True)
        self._t_err.start()
        self._t_out.start()

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            self.err_lines.append(raw.decode("utf-8", "replace"))

    def _read_out(self) -> None:
        assert self.proc.stdout is not None
        self._out = self.proc.stdout.read()

    def wait_err(self, needle: str, timeout: float = 15.0) -> str:
        return wait_for(lambda: next((x for x in self.err_lines if needle in x), None),
                        timeout, f"monitor never said {needle!r}: {self.err_lines}")

    def capture_path(self) -> Path:
        line = self.wait_err("capturing raw bytes to ")
        return Path(line.split("capturing raw bytes to ", 1)[1].strip())

    def finish(self, timeout: float = 20.0) -> tuple[int, bytes]:
        self.proc.wait(timeout=timeout)
        self._t_out.join(5)
        self._t_err.join(5)
        return self.proc.returncode, self._out

    def summary(self) -> dict[str, Any]:
        return loads_valid(self._out)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def wait_for(check: Callable[[], Any], timeout: float, message: str) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(message)


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return -1
