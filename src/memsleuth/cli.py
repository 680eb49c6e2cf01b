"""The `memsleuth` console entry point: a thin group over ``memsleuth.commands``.

Verbs are imported when they run, not at start-up: ``memsleuth --version`` and ``--help``
load neither rich nor any analysis (each verb module pulls in its own). A verb is written
with click through ``memsleuth.lazyclick`` and made into its click command here, when click
reads its command line (the console entry point reads a plain one without click).
``--help`` reads each verb's help from its source file (the tests check it equals what click
reads); a verb whose help cannot be read that way is imported.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
from typing import Any

import click

from memsleuth import commands, lazyclick
from memsleuth.entry import version_text
from memsleuth.errors import EXIT_CODES_HELP, quiet_stdout


def source_help(name: str) -> str | None:
    """A verb's help text read from its source (``ast``), without importing the module."""
    import ast
    import inspect

    spec = importlib.util.find_spec(f"memsleuth.commands.{name}")
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    try:
        with open(spec.origin, encoding="utf-8") as fh:
            tree = ast.parse(fh.read())
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for deco in node.decorator_list:
            if isinstance(deco, ast.Call) and getattr(deco.func, "attr", None) == "command":
                doc = ast.get_docstring(node, clean=False)
                for kw in deco.keywords:
                    if kw.arg == "short_help":
                        return None       # let click read it
                    if kw.arg == "help":
                        try:
                            doc = ast.literal_eval(kw.value)
                        except ValueError:
                            return None
                if not isinstance(doc, str):
                    return None
                return inspect.cleandoc(doc).split("\f")[0]
    return None


def verb_modules() -> list[str]:
    """Names of the verb modules (without importing them)."""
    return sorted(info.name for info in pkgutil.iter_modules(commands.__path__)
                  if not info.name.startswith("_") and info.name != "common")


class LazyGroup(click.Group):
    """A group whose verbs are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*verb_modules(), *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = self.commands.get(cmd_name)
        if command is not None:
            return command
        if cmd_name not in verb_modules():
            return None
        module = importlib.import_module(f"memsleuth.commands.{cmd_name}")
        command = getattr(module, "command", None)
        if isinstance(command, lazyclick.Command):
            command = command.click()
        if not isinstance(command, click.Command):
            return None
        self.add_command(command, cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from click.utils import make_default_short_help

        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = []
        for name in names:
            text = source_help(name)
            if text is None:
                command = self.get_command(ctx, name)
                if command is None or command.hidden:
                    continue
                text = command.get_short_help_str(limit)
            rows.append((name, make_default_short_help(text, limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """A closed stdout (``memsleuth analyze … | head -1``) ends quietly with exit 0."""
        try:
            return super().main(*args, **kwargs)
        except BrokenPipeError:
            quiet_stdout()
            sys.exit(0)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    click.echo(version_text())
    ctx.exit()


@click.group(
    cls=LazyGroup,
    help="Memory-leak and crash forensics for embedded firmware logs.\n\n" + EXIT_CODES_HELP,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_version, help="Show the version and which scanner runs, and exit.")
def main() -> None:
    from memsleuth import progress

    progress.cli_start()
