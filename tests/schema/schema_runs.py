"""Run every verb on every example and fixture log once, in-process, for the schema tests.

The runs are cached for the whole session: test_json_outputs validates them, and
test_schema_contract breaks copies of them to show the schemas reject what they must.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from click.testing import CliRunner

from memsleuth.cli import main

REPO = Path(__file__).resolve().parents[2]
#: the real device logs: shared/ sits beside the checkout (CI too), or at /work/shared
CORPUS = next((d for d in (REPO.parent / "shared" / "corpus" / "real",
                           Path("/work/shared/corpus/real")) if d.is_dir()),
              Path("/work/shared/corpus/real"))


def _logs() -> list[Path]:
    """Every example and fixture log (plain or gzipped), then the corpus."""
    groups = [
        REPO / "examples" / "wifi_reconnect_leak" / "out",
        REPO / "examples" / "rtos_formats" / "out",
        REPO / "examples" / "vendor_stress" / "out",
        REPO / "tests" / "fixtures" / "alios",
        REPO / "tests" / "fixtures" / "crash",
        REPO / "tests" / "fixtures" / "crash" / "qemu",
        REPO / "tests" / "fixtures" / "crash" / "qemu" / "heap",
        REPO / "tests" / "fixtures" / "freertos",
        REPO / "tests" / "fixtures" / "threadx",
        REPO / "tests" / "fixtures" / "real",
        REPO / "tests" / "fixtures" / "rtos" / "real",
        CORPUS,                         # the real device logs, where this machine has them
    ]
    return [log for d in groups if d.is_dir()
            for log in sorted([*d.glob("*.log"), *d.glob("*.log.gz")])]


LOGS = _logs()
#: the bundled leak example's runs: every verb has something to say on each
EXAMPLES = [log for log in LOGS if log.parent.parent.name == "wifi_reconnect_leak"]
#: the verbs that read a log file
FILE_VERBS = ("analyze", "census", "check", "crash", "diff", "objects", "report", "trend")
#: monitor replays a log through `--cmd cat`: every fixture and corpus log, one example
#: (the examples are 10x larger and the live path is the same; each costs seconds)
MONITOR_LOGS = [log for log in LOGS if not log.is_relative_to(REPO / "examples")] + \
    [log for log in EXAMPLES if log.name == "cortex-m4-leak.log"]


def elf_of(log: Path) -> Path:
    """The ELF beside a log: x.log or x.log.gz -> x.elf."""
    return log.parent / (log.name.split(".log")[0] + ".elf")


def label(log: Path) -> str:
    return str(log.relative_to(REPO)) if log.is_relative_to(REPO) else f"corpus/{log.name}"


@cache
def run(verb: str, log: Path, tmp: Path) -> tuple[int, str]:
    """``memsleuth VERB LOG [--elf ELF] --json`` in-process: (exit code, stdout)."""
    elf = elf_of(log)
    args = [verb]
    if verb == "monitor":
        args += ["--cmd", f"cat '{log}'", "--log-dir", str(tmp / "monitor"), "--no-input"]
    else:
        args.append(str(log))
    if verb == "report":
        args += ["-o", str(tmp / "report.html")]
    if elf.exists() and verb != "trend":
        args += ["--elf", str(elf)]
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        f"{verb} {label(log)}: {result.exception!r}"
    return result.exit_code, result.stdout


def document(verb: str, log: Path, scratch: Path) -> dict | None:
    """The verb's JSON document on this log, or None when the verb has nothing to say
    (then it exited 3 with a one-line error: no overview, fewer than two dumps, ...)."""
    code, out = run(verb, log, scratch)
    if not out.strip():
        assert code == 3, f"{verb} {label(log)}: exit {code} and no JSON"
        return None
    assert code in (0, 1, 3, 4), f"{verb} {label(log)}: exit {code}"
    return json.loads(out)
