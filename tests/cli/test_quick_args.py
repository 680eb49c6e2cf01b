"""The quick reader of verb command lines (``memsleuth.lazyclick.parse``): on a plain line it
gives exactly what click gives, on anything else it declines (click then reads the line);
and a plain ``census`` runs without importing click."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest

from memsleuth import cli, lazyclick, progress

ROOT = Path(__file__).resolve().parents[2]
LOG = ROOT / "examples" / "wifi_reconnect_leak" / "out" / "cortex-m4-leak.log"
ELF = LOG.with_suffix(".elf")
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def verb(name: str) -> lazyclick.Command:
    command = importlib.import_module(f"memsleuth.commands.{name}").command
    assert isinstance(command, lazyclick.Command) and command.name == name
    return command


def by_click(command: lazyclick.Command, argv: list[str]) -> tuple[Any, str]:
    """What click makes of the line: its parameters and the progress mode its callbacks set
    (None if click refuses the line or answers it itself, as for --help)."""
    progress.reset()
    try:
        with command.click().make_context(command.name, list(argv)) as ctx:
            return dict(ctx.params), progress._mode
    except (click.exceptions.ClickException, click.exceptions.Exit):
        return None, ""
    finally:
        progress.reset()


def by_quick(command: lazyclick.Command, argv: list[str]) -> tuple[Any, str]:
    progress.reset()
    try:
        parsed = lazyclick.parse(command, argv)
        if parsed is None:
            return None, ""
        params, callbacks = parsed
        for callback in callbacks:
            callback()
        return params, progress._mode
    finally:
        progress.reset()


def sample_values(spec: Any) -> list[str]:
    """Values click accepts for a parameter, from its recorded type."""
    t = spec.call.kwargs.get("type")
    default = spec.call.kwargs.get("default")
    if isinstance(t, lazyclick.Call):
        if t.name == "Path":
            return [str(LOG), str(ROOT / "no-such-file.out")]
        if t.name == "Choice":
            return list(t.args[0])
        if t.name == "IntRange":
            low = t.kwargs.get("min", 0) or 0
            return [str(low), str(low + 7)]
        if t.name == "FloatRange":
            return ["0.5", "3"]
    if t is int or isinstance(default, int):
        return ["3", "-2"]
    if t is float or isinstance(default, float):
        return ["0.25"]
    return ["some text", "-x"]


def lines_for(name: str) -> list[list[str]]:
    command = verb(name)
    specs = [lazyclick._Spec(call) for call in reversed(command.calls)]
    args = [str(LOG) for s in specs if s.kind == "argument"]
    options = [s for s in specs if s.kind == "option"]
    lines = [args]
    everything = list(args)
    for spec in options:
        opt = spec.opts[-1]
        if spec.is_flag:
            lines += [[*args, opt], [opt, *args]]
            everything.append(opt)
            continue
        for value in sample_values(spec):
            lines += [[*args, opt, value], [f"{opt}={value}", *args], [opt, value, *args]]
        everything += [spec.opts[0], sample_values(spec)[0]]
        if spec.multiple:
            lines.append([*args, opt, sample_values(spec)[0], opt, sample_values(spec)[-1]])
        else:   # given twice: the last wins
            lines.append([*args, opt, sample_values(spec)[-1], opt, sample_values(spec)[0]])
    lines.append(everything)
    lines.append(everything[len(args):] + args)
    return lines


QUICK_VERBS = ["analyze", "census", "crash", "objects", "report", "trend"]


@pytest.mark.parametrize("name", cli.verb_modules())
def test_every_verb_is_defined_once_with_click(name: str) -> None:
    """The recorded calls make the real click command (help, completion, errors)."""
    command = verb(name)
    real = command.click()
    assert isinstance(real, click.Command) and real is command.click()
    assert cli.main.get_command(None, name) is real  # type: ignore[arg-type]


@pytest.mark.parametrize("name", QUICK_VERBS)
def test_plain_lines_read_as_click_reads_them(name: str) -> None:
    command = verb(name)
    lines = lines_for(name)
    assert len(lines) > 8
    for argv in lines:
        quick = by_quick(command, argv)
        assert quick[0] is not None, argv           # plain: not declined
        assert quick == by_click(command, argv), argv


@pytest.mark.parametrize("argv", [
    [], ["--help"], ["-h"], [str(LOG), "--help"], [str(LOG), str(LOG)], ["--nope", str(LOG)],
    [str(LOG), "--top", "-1"], [str(LOG), "--top", "x"], [str(LOG), "--top"],
    [str(LOG), "--sort", "nope"], [str(LOG), "--by=SITE"], [str(LOG), "--json=1"],
    [str(LOG), "-qj"], [str(ROOT)], [str(LOG), "--elf", str(ROOT)], ["--", str(LOG)],
    [str(LOG), "--snapshot", "1.5"], [str(LOG), "--elf="], ["-", "--top", "2"],
    [str(LOG), "-q", "--progress", "--quiet"],
])
def test_anything_else_is_declined_or_read_as_click_reads_it(argv: list[str]) -> None:
    command = verb("census")
    quick, real = by_quick(command, argv), by_click(command, argv)
    assert quick[0] is None or quick == real, argv
    if real[0] is None:
        assert quick[0] is None, argv


def test_unknown_parameter_features_are_declined() -> None:
    @lazyclick.command("x")
    @lazyclick.argument("log")
    @lazyclick.option("--n", type=int, envvar="N")
    def x(log: str, n: int | None) -> None:
        raise AssertionError

    assert lazyclick.parse(x, ["a"]) is None
    assert x.click().make_context("x", ["a", "--n", "2"]).params == {"log": "a", "n": 2}


def test_defaults_are_checked_as_click_checks_them(tmp_path: Path) -> None:
    """A default goes through the parameter's type (``report --output`` defaults to a
    Path): one click refuses (a directory where a file is wanted) is declined too."""
    def define(default: Any) -> lazyclick.Command:
        @lazyclick.command("x")
        @lazyclick.option("--out", type=lazyclick.Path(dir_okay=False, path_type=Path),
                          default=default)
        @lazyclick.option("--n", type=lazyclick.IntRange(min=0), default=3)
        def x(out: Path, n: int) -> None:
            raise AssertionError
        return x

    fine, refused = define(tmp_path / "report.html"), define(tmp_path)
    assert by_quick(fine, []) == by_click(fine, []) == ({"out": tmp_path / "report.html",
                                                         "n": 3}, "off")
    assert by_click(refused, [])[0] is None and by_quick(refused, [])[0] is None
    assert by_quick(refused, ["--out", "r.html"]) == by_click(refused, ["--out", "r.html"])


def modules_after(args: list[str]) -> set[str]:
    """What the console entry point imported for ``memsleuth ARGS`` (read by an atexit
    handler: the entry point ends the process with os._exit once the handlers ran)."""
    code = ("import atexit, sys\n"
            "atexit.register(lambda: sys.stderr.write('\\nMODULES ' + ' '.join(sys.modules)))\n"
            f"sys.argv = ['memsleuth', *{args!r}]\n"
            "from memsleuth.entry import main\nmain()\n"
            "sys.stderr.write('\\nMODULES ' + ' '.join(sys.modules))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=ENV, check=False)
    return set(proc.stderr.rsplit("MODULES ", 1)[1].split())


def test_census_imports_neither_click_nor_other_verbs_work() -> None:
    loaded = modules_after(["census", str(LOG), "--elf", str(ELF), "--top", "5"])
    assert "memsleuth.analysis.census" in loaded      # it did run the census
    unwanted = {m for m in loaded if m.split(".")[0] in ("click", "rich")
                or m in ("memsleuth.cli", "memsleuth.analysis.trend", "memsleuth.analysis.diff",
                         "memsleuth.analysis.crash", "memsleuth.analysis.objects",
                         "memsleuth.report.html", "memsleuth.commands.analyze")}
    assert unwanted == set()


def test_version_and_help_through_the_entry_point() -> None:
    version = modules_after(["--version"])
    assert not {m for m in version if m.startswith(("click", "rich", "memsleuth.commands",
                                                     "memsleuth.analysis", "memsleuth.parse",
                                                     "dataclasses"))}
    helped = modules_after(["--help"])
    assert "click" in helped
    assert not {m for m in helped if m.startswith(("rich", "memsleuth.analysis",
                                                    "memsleuth.parse", "memsleuth.symbols",
                                                    "memsleuth.report", "memsleuth.commands."))}


def run(args: list[str], quick: bool) -> subprocess.CompletedProcess[str]:
    code = ("import sys\nsys.argv = ['memsleuth', *sys.argv[1:]]\n"
            + ("from memsleuth.entry import main\n" if quick else
               "from memsleuth.cli import main\n") + "main()\n")
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env={**ENV, "MEMSLEUTH_NO_CACHE": "1"}, check=False)


@pytest.mark.parametrize("args", [
    ["census", str(LOG), "--elf", str(ELF)],
    ["census", str(LOG), "--json", "--top", "3", "--by", "function"],
    ["census", str(LOG), "--snapshot", "0", "-q"],
    ["census", str(LOG), "--snapshot", "99"],
    ["census", str(LOG), "--elf", str(ROOT / "README.md")],
    ["census", str(ROOT / "README.md")],
    ["census", str(LOG), "--top", "-1"],
    ["trend", str(LOG), "--json"],
    ["objects", str(LOG)],
])
def test_the_quick_way_answers_as_click_does(args: list[str]) -> None:
    quick, slow = run(args, quick=True), run(args, quick=False)
    assert (quick.returncode, quick.stdout, quick.stderr) == \
        (slow.returncode, slow.stdout, slow.stderr)
