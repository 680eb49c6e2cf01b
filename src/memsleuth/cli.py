"""The `memsleuth` console entry point: a thin group over ``memsleuth.commands``."""

from __future__ import annotations

import importlib
import pkgutil

import click

from memsleuth import __version__, commands
from memsleuth.errors import EXIT_CODES_HELP


@click.group(
    help="Memory-leak and crash forensics for embedded firmware logs.\n\n" + EXIT_CODES_HELP,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="memsleuth")
def main() -> None:
    pass


def _register() -> None:
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name == "common":
            continue
        module = importlib.import_module(f"memsleuth.commands.{info.name}")
        command = getattr(module, "command", None)
        if isinstance(command, click.Command):
            main.add_command(command)


_register()
