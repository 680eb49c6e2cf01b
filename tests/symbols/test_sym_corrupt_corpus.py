"""The corrupted-ELF corpus: every case ends in a result or a one-line error, never a
traceback, never a hang (issue 10: a backwards DW_AT_sibling used to loop forever).

The corpus (tests/fixtures/corrupt_elf/corpus.json, written by make_corpus.py) is patches
against committed ELFs. The harness, not a timing assert, bounds each case: the worker
process announces each case, and one that has not finished within CASE_TIMEOUT seconds is
reported as a hang and the worker is killed and restarted after it.
"""

from __future__ import annotations

import hashlib
import json
import os
import selectors
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fixtures" / "corrupt_elf" / "corpus.json"
WORKER = Path(__file__).with_name("corrupt_worker.py")
#: generous: a healthy case takes well under a second; a hang never ends
CASE_TIMEOUT = 30.0
LOGS = {"tests/fixtures/crash/qemu/cm4_null_deref.elf":
        "tests/fixtures/crash/qemu/cm4_null_deref.log"}


def materialize(case: dict, out: Path) -> Path:
    data = bytearray((ROOT / case["base"]).read_bytes())
    for off, hexval in case["patches"]:
        val = bytes.fromhex(hexval)
        data[off:off + len(val)] = val
    if case.get("truncate") is not None:
        del data[case["truncate"]:]
    path = out / (case["name"].replace(":", "__") + ".elf")
    path.write_bytes(bytes(data))
    return path


def run_bounded(cases: list[dict], timeout: float = CASE_TIMEOUT) -> dict[str, str]:
    """name -> outcome ("ok", "error X", "crash ...", "hang"), one worker for many cases."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "MEMSLEUTH_NO_CACHE": "1"}
    results: dict[str, str] = {}
    todo = list(cases)
    while todo:
        proc = subprocess.Popen([sys.executable, str(WORKER)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write("".join(json.dumps(c) + "\n" for c in todo))
        proc.stdin.close()
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        current, started = None, time.monotonic()
        while True:
            left = timeout - (time.monotonic() - started) if current else timeout * 4
            if left <= 0 or not sel.select(max(left, 0.0)):
                results[current or todo[0]["name"]] = "hang"
                proc.kill()
                proc.wait()
                break
            line = proc.stdout.readline()
            if not line:
                proc.wait()
                break
            word, name, *rest = line.rstrip("\n").split(" ", 2)
            if word == "start":
                current, started = name, time.monotonic()
            else:
                results[name] = rest[0] if rest else "?"
                current = None
        todo = [c for c in todo if c["name"] not in results]
        if todo and proc.returncode not in (0, -9, None):
            results[todo[0]["name"]] = f"crash worker exit {proc.returncode}"
            todo = todo[1:]
    return results


def _cases(tmp_path: Path, pick) -> list[dict]:
    corpus = json.loads(CORPUS.read_text())
    out = []
    for case in corpus:
        if not pick(case):
            continue
        log = LOGS.get(case["base"])
        out.append({"name": case["name"], "path": str(materialize(case, tmp_path)),
                    "log": str(ROOT / log) if log else None})
    return out


def test_targeted_corruptions_end_in_a_result_or_a_one_line_error(tmp_path: Path):
    cases = _cases(tmp_path, lambda c: ":random_" not in c["name"])
    assert len(cases) >= 80
    results = run_bounded(cases)
    bad = {n: r for n, r in results.items() if r == "hang" or r.startswith("crash")}
    assert not bad, bad
    assert len(results) == len(cases)
    # the damage that used to loop or pass silently is reported as corrupt (when the base ELF
    # is still the one the patches were computed on: a rebuilt one moves the DIEs)
    corpus = {c["name"]: c for c in json.loads(CORPUS.read_text())}
    for name, outcome in results.items():
        case = corpus[name]
        fresh = hashlib.sha256((ROOT / case["base"]).read_bytes()).hexdigest() == \
            case.get("base_sha256")
        if fresh and (":sibling_self" in name or ":sibling_unit_start" in name):
            assert outcome == "error CorruptElf", (name, outcome)


def test_random_corruptions_slice(tmp_path: Path):
    """A fixed slice of the random cases (the whole corpus runs in the slow test)."""
    cases = _cases(tmp_path, lambda c: ":random_" in c["name"]
                   and int(c["name"].rsplit("_", 1)[1]) % 5 == 0)
    results = run_bounded(cases)
    bad = {n: r for n, r in results.items() if r == "hang" or r.startswith("crash")}
    assert not bad, bad


@pytest.mark.slow
def test_whole_corpus(tmp_path: Path):
    cases = _cases(tmp_path, lambda c: True)
    results = run_bounded(cases)
    bad = {n: r for n, r in results.items() if r == "hang" or r.startswith("crash")}
    assert not bad, bad


def test_the_harness_reports_a_hang(tmp_path: Path):
    """The bound is real: a worker stuck on a case is killed and the case named."""
    fifo = tmp_path / "never.elf"
    os.mkfifo(fifo)            # opening it for reading blocks forever
    results = run_bounded([{"name": "stuck", "path": str(fifo), "log": None}], timeout=2)
    assert results == {"stuck": "hang"}
