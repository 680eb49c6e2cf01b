"""The `memsleuth` console entry point: a thin group over ``memsleuth.commands``.

Verbs are imported when they run, not at start-up: ``memsleuth --version`` and ``--help``
load neither rich nor any analysis (each verb module pulls in its own). ``--help`` lists the
verbs from :data:`SHORT_HELP` (checked against the verbs themselves by the tests); a verb
module added without an entry there is imported to read its help.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import Any

import click

from memsleuth import __version__, commands
from memsleuth.errors import EXIT_CODES_HELP, quiet_stdout

#: The first paragraph of each verb's help, as ``memsleuth --help`` shows it.
SHORT_HELP = {
    "analyze": "Everything at once: what the log holds, heap health, where the memory went.",
    "census": "Live heap blocks of one snapshot, aggregated per call site (like the AliOS "
              "tool).",
    "check": "Exit 0 when clean, 1 when a leak or object imbalance is found, 3 when the log is "
             "too short to judge (reason on one line).",
    "crash": "Explain crash dumps: cause from the fault registers, symbolized call stack, "
             "crashed task and stack health, and the heap block the faulting address points "
             "into.",
    "diff": "Per call site: blocks and bytes before/after, new and vanished sites, growth "
            "slopes.",
    "monitor": "Live terminal on a serial PORT (device path or pyserial URL: socket://, "
               "rfc2217://, loop://) or on a command's output (--cmd, PORT omitted): decodes "
               "code addresses inline, captures every raw byte to disk, shows free heap / leak "
               "rate / object balance, and alerts on an established leak or a crash.",
    "objects": "Pair kernel-object creates and deletes: per kind, per create site, per cycle.",
    "report": "One self-contained HTML report (works offline): heap over time, census, flame "
              "graph, diff, object balance, crash.",
    "trend": "Free-heap trend over a log: leak rate with its interval, warm-up, verdict, "
             "forecast.",
}


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
            text = SHORT_HELP.get(name)
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


def _version_text() -> str:
    from memsleuth.accel import describe

    return f"memsleuth {__version__} (scanner: {describe()})"


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    click.echo(_version_text())
    ctx.exit()


@click.group(
    cls=LazyGroup,
    help="Memory-leak and crash forensics for embedded firmware logs.\n\n" + EXIT_CODES_HELP,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_version, help="Show the version and which scanner runs, and exit.")
def main() -> None:
    pass
