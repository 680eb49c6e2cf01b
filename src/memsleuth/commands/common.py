"""What the verbs share: common options, ELF opening, output and error handling."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from memsleuth import __version__
from memsleuth.errors import EXIT_INPUT, EXIT_USAGE, MemsleuthError

F = TypeVar("F", bound=Callable[..., Any])

#: Bump when a JSON field changes meaning or disappears (adding fields is compatible).
SCHEMA_VERSION = 1


def log_argument(f: F) -> F:
    return click.argument(
        "log", type=click.Path(dir_okay=False, path_type=Path), metavar="LOG"
    )(f)


def elf_option(f: F) -> F:
    return click.option(
        "--elf", "elf", type=click.Path(dir_okay=False, path_type=Path), default=None,
        help="Firmware ELF (with -g) to symbolize addresses; without it, raw addresses.",
    )(f)


def json_option(f: F) -> F:
    return click.option(
        "--json", "as_json", is_flag=True, help="Print the result as JSON (schema in docs/json.md)."
    )(f)


def open_symbolizer(elf: Path | None):  # -> Symbolizer | None
    """Open the ELF, turning every symbolizer failure into a one-line input error."""
    if elf is None:
        return None
    if not elf.exists():
        raise MemsleuthError(f"ELF not found: {elf}")
    from memsleuth.symbols import Symbolizer
    from memsleuth.symbols.errors import SymbolError

    try:
        return Symbolizer.open(elf)
    except SymbolError as exc:
        raise MemsleuthError(f"{elf}: {exc}") from None
    except (OSError, ValueError) as exc:
        raise MemsleuthError(f"{elf}: cannot read ELF ({exc})") from None


def envelope(verb: str, result: dict[str, Any]) -> dict[str, Any]:
    """Every JSON document says which verb and schema produced it."""
    return {"schema": f"memsleuth.{verb}/{SCHEMA_VERSION}", "memsleuth": __version__, **result}


def emit(
    verb: str, result: dict[str, Any], as_json: bool, render: Callable[[dict[str, Any]], None]
) -> None:
    """Print ``result`` as JSON or through its text renderer."""
    if as_json:
        json.dump(envelope(verb, result), sys.stdout, indent=2, default=_jsonable)
        sys.stdout.write("\n")
    else:
        render(result)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if hasattr(value, "__dataclass_fields__"):
        from dataclasses import asdict

        return asdict(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def error(message: str) -> None:
    click.echo(f"memsleuth: error: {message}", err=True)


def guarded(f: F) -> F:
    """Run a verb so that no failure ends in a traceback: one line on stderr, an exit code."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except MemsleuthError as exc:
            error(str(exc))
            sys.exit(exc.exit_code)
        except click.exceptions.Exit:
            raise
        except click.ClickException:
            raise
        except BrokenPipeError:
            sys.exit(0)
        except KeyboardInterrupt:
            sys.exit(130)
        except FileNotFoundError as exc:
            error(f"file not found: {exc.filename}")
            sys.exit(EXIT_USAGE)
        except Exception as exc:  # noqa: BLE001 - last line of defence, by design
            error(f"internal error ({type(exc).__name__}: {exc}); please report it with the log")
            sys.exit(EXIT_INPUT)

    return wrapper  # type: ignore[return-value]
