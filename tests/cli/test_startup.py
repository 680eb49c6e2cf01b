"""Start-up stays light (verbs load on use) and a closed stdout ends quietly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from click.utils import make_default_short_help

from memsleuth import cli

ROOT = Path(__file__).resolve().parents[2]
LOG = ROOT / "examples" / "wifi_reconnect_leak" / "out" / "cortex-m4-leak.log"
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def loaded_after(args: list[str]) -> set[str]:
    code = ("import sys\nfrom memsleuth.cli import main\n"
            f"try:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write(' '.join(sorted(sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=ENV, check=False)
    return set(proc.stderr.split())


@pytest.mark.parametrize("args", [["--version"], ["--help"]])
def test_version_and_help_load_no_verb(args: list[str]) -> None:
    heavy = {m for m in loaded_after(args)
             if m.startswith(("rich", "memsleuth.analysis", "memsleuth.report",
                              "memsleuth.symbols", "memsleuth.parse", "memsleuth.commands."))}
    assert heavy == set()


def test_version_answers_before_click() -> None:
    """The console script (``memsleuth.entry``) prints the version without importing click,
    and says exactly what the click group's ``--version`` says."""
    code = ("import sys\nsys.argv = ['memsleuth', '--version']\nfrom memsleuth.entry import main\n"
            "main()\nsys.stderr.write(' '.join(sorted(sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=ENV, check=True)
    assert "click" not in proc.stderr.split()
    via_click = CliRunner().invoke(cli.main, ["--version"])
    assert via_click.exit_code == 0 and proc.stdout == via_click.output
    text = (ROOT / "pyproject.toml").read_text()
    assert 'memsleuth = "memsleuth.entry:main"' in text


def test_help_read_from_source_is_click_s() -> None:
    group = cli.main
    for name in cli.verb_modules():
        command = group.get_command(None, name)  # type: ignore[arg-type]
        assert command is not None and command.name == name
        text = cli.source_help(name)
        assert text is not None
        assert make_default_short_help(text, 10_000) == command.get_short_help_str(10_000)


def test_every_verb_runs_its_help() -> None:
    runner = CliRunner()
    for name in cli.verb_modules():
        result = runner.invoke(cli.main, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)


def test_version_names_the_scanner() -> None:
    on = subprocess.run([sys.executable, "-m", "memsleuth", "--version"], capture_output=True,
                        text=True, env=ENV, check=True).stdout
    off = subprocess.run([sys.executable, "-m", "memsleuth", "--version"], capture_output=True,
                         text=True, env={**ENV, "MEMSLEUTH_ACCEL": "0"}, check=True).stdout
    assert on.startswith("memsleuth ") and "scanner:" in on
    assert "pure Python" in off and "MEMSLEUTH_ACCEL=0" in off and "NumPy" in off


@pytest.mark.parametrize("args", [["analyze", str(LOG)], ["analyze", str(LOG), "--json"],
                                  ["trend", str(LOG)], ["census", str(LOG)],
                                  ["objects", str(LOG)]])
def test_closed_stdout_ends_quietly(args: list[str]) -> None:
    """`memsleuth analyze … | head -1`: the reader is gone before anything is written."""
    proc = subprocess.Popen([sys.executable, "-m", "memsleuth", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=ENV)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 0
    assert err == b""


def test_shell_completion_lists_verbs_and_options() -> None:
    """The README's completion recipe: click completes verbs (lazily loaded) and options."""
    code = "from memsleuth.cli import main; main(prog_name='memsleuth')"

    def complete(words: str, cword: int) -> str:
        env = {**ENV, "_MEMSLEUTH_COMPLETE": "bash_complete", "COMP_WORDS": words,
               "COMP_CWORD": str(cword)}
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env=env, check=False).stdout

    assert "plain,analyze" in complete("memsleuth an", 1).split()
    options = complete("memsleuth trend --", 2).split()
    assert "plain,--progress" in options and "plain,--json" in options
