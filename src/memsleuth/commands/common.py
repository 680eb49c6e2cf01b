"""What the verbs share: common options, ELF opening, output and error handling."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from memsleuth import __version__
from memsleuth import lazyclick as click
from memsleuth.errors import (
    EXIT_INPUT,
    EXIT_PARTIAL,
    EXIT_USAGE,
    InputError,
    MemsleuthError,
    UsageError,
    quiet_stdout,
)
from memsleuth.records import CycleMarker, HeapRun
from memsleuth.results import SCHEMA_VERSION
from memsleuth.results.common import to_json

F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R")


def log_argument(f: F) -> F:
    """The LOG argument, and --progress / --quiet for the progress line while it is read."""
    f = click.option("--quiet", "-q", is_flag=True, expose_value=False, callback=_progress_mode,
                     help="No progress line on stderr.")(f)
    f = click.option("--progress", is_flag=True, expose_value=False, callback=_progress_mode,
                     help="Show the progress line even when stderr is not a terminal.")(f)
    return click.argument(
        "log", type=click.Path(dir_okay=False, path_type=Path), metavar="LOG"
    )(f)


@click.context_free
def _progress_mode(ctx: click.Context | None, param: click.Parameter, value: bool) -> None:
    from memsleuth import progress

    if value:
        progress.configure(mode="off" if param.name == "quiet" else "on")


def elf_option(f: F) -> F:
    return click.option(
        "--elf", "elf", type=click.Path(dir_okay=False, path_type=Path), default=None,
        help="Firmware ELF (with -g) to symbolize addresses; without it, raw addresses.",
    )(f)


def cycle_pattern_option(f: F) -> F:
    return click.option(
        "--cycle-pattern", default=None, metavar="RE",
        help="Regex of the log line that starts a test cycle, its first number group the cycle "
             "(default: the agent's '[MSCYCLE] n').",
    )(f)


def objects_options(f: F) -> F:
    """--config (user object-trace patterns) and --grace (deferred deletes)."""
    f = click.option("--config", "config", type=click.Path(dir_okay=False, path_type=Path),
                     default=None, help="TOML file with [[objects.pattern]] line patterns.")(f)
    return click.option(
        "--grace", type=click.IntRange(min=0), default=1, show_default=True,
        help="Cycles a delete may lag its create (deferred deletes) before the object counts "
             "as leaked.")(f)


def threshold_options(f: F) -> F:
    """What counts as a leak, the same for `check` and `monitor` (``analysis.check.Thresholds``)."""
    f = click.option("--allow-warmup/--no-allow-warmup", default=True, show_default=True,
                     help="Exclude a detected warm-up (caches filled once) from the leak "
                          "fit.")(f)
    f = click.option("--max-imbalance", type=click.FloatRange(min=0), default=0.0,
                     show_default=True, metavar="N",
                     help="Objects per cycle never deleted tolerated, per create site.")(f)
    return click.option("--max-leak-rate", type=click.FloatRange(min=0), default=0.0,
                        show_default=True, metavar="B",
                        help="Free-heap decline per cycle tolerated before it is a leak.")(f)


def engine_options(local: str) -> Callable[[F], F]:
    """--engine local|dask and --scheduler (`ingest`, `fleet`); ``local`` says what the local
    engine is for that verb."""
    def decorate(f: F) -> F:
        f = click.option("--scheduler", default=None, metavar="ADDR",
                         help="Dask scheduler address (tcp://host:8786); without it a local "
                              "cluster.")(f)
        return click.option("--engine", type=click.Choice(["local", "dask"]), default="local",
                            show_default=True,
                            help=f"local: {local}; dask: the same on a Dask cluster.")(f)
    return decorate


def json_option(f: F) -> F:
    return click.option(
        "--json", "as_json", is_flag=True,
        help="Print the result as JSON (its schema: `memsleuth schema VERB`).",
    )(f)


def open_symbolizer(elf: Path | None, opener: Callable[[Path], Any] | None = None):
    """Open the ELF (with ``opener``, default ``Symbolizer.open``), turning every symbolizer
    failure into a one-line error and its warnings into one-line notes."""
    if elf is None:
        return None
    if not elf.exists():
        raise UsageError(f"ELF not found: {elf}")
    import warnings

    from memsleuth.symbols import Symbolizer
    from memsleuth.symbols.errors import NoDebugInfo, SymbolError

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", NoDebugInfo)
            symbolizer = (opener or Symbolizer.open)(elf)
    except SymbolError as exc:
        raise InputError(f"{elf}: {exc}") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{elf}: cannot read ELF ({exc})") from None
    for warning in caught:
        click.echo(f"memsleuth: warning: {warning.message}", err=True)
    return symbolizer


def envelope(verb: str, result: Any) -> dict[str, Any]:
    """Every JSON document says which verb and schema produced it (``result``: a result
    dataclass tree, or a dict of them)."""
    return {"schema": f"memsleuth.{verb}/{SCHEMA_VERSION}", "memsleuth": __version__,
            **to_json(result)}


def emit(verb: str, result: R, as_json: bool, render: Callable[[R], None]) -> None:
    """Print ``result`` as JSON (through the one serializer) or through its text renderer."""
    if as_json:
        import json

        # (one write: json.dump hands the stream thousands of small pieces)
        sys.stdout.write(json.dumps(envelope(verb, result), indent=2) + "\n")
    else:
        render(result)


def error(message: str) -> None:
    click.echo(f"memsleuth: error: {message}", err=True)


def guarded(f: F) -> F:
    """Run a verb so that no failure ends in a traceback: one line on stderr, an exit code."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            try:
                result = f(*args, **kwargs)
            except SystemExit as exc:
                _exit_partial_if_interrupted(exc.code)
                raise
            _exit_partial_if_interrupted(0)
            return result
        except MemsleuthError as exc:
            error(str(exc))
            sys.exit(exc.exit_code)
        except BrokenPipeError:
            quiet_stdout()
            sys.exit(0)
        except KeyboardInterrupt:
            sys.exit(130)
        except FileNotFoundError as exc:
            error(f"file not found: {exc.filename}")
            sys.exit(EXIT_USAGE)
        except Exception as exc:  # noqa: BLE001 - last line of defence, by design
            if _click_exit(exc):
                raise
            error(f"internal error ({type(exc).__name__}: {exc}); please report it with the log")
            sys.exit(EXIT_INPUT)

    return wrapper  # type: ignore[return-value]


def _click_exit(exc: Exception) -> bool:
    """click's own ways out (Exit, usage errors) pass through. Without click loaded (a verb
    run by the quick reader, ``memsleuth.lazyclick``) there can be none: it is not imported
    to ask."""
    real = sys.modules.get("click")
    return real is not None and isinstance(exc, (real.exceptions.Exit, real.ClickException))


def _exit_partial_if_interrupted(code: Any) -> None:
    """The user stopped reading (Ctrl-C): whatever the verb concluded covers part of the log,
    so the exit says partial (4) and stderr says where reading stopped."""
    from memsleuth import progress

    offset = progress.interrupted_at()
    if offset is None or code not in (None, 0, 1, EXIT_PARTIAL):
        return
    if code != EXIT_PARTIAL:   # verbs that note partial results already said why
        click.echo(f"memsleuth: partial result: reading was interrupted at byte {offset:,} "
                   "(Ctrl-C); the answer covers the log up to there", err=True)
    sys.exit(EXIT_PARTIAL)


def load_model(
    log: Path,
    *,
    cycle_pattern: str | None = None,
    keep: Callable[[Any], bool] | None = None,
    hooks: Sequence[Callable[[Any], None]] = (),
    object_patterns: Sequence[Any] = (),
    objects: bool | str = True,
    rounds: bool = True,
    heap_runs: bool = False,
    heap_status: bool = True,
    series_capacity: int | None = None,
):  # -> LogModel
    """Read the log once into a LogModel (streaming); a missing file is a usage error.

    ``hooks`` see every record of the pass (streaming accumulators); ``objects="runs"``:
    every hook takes ``ObjectEventRun`` records (object events in bulk) too; ``objects=False``:
    object events are not built where avoidable. ``rounds=False``: the caller has no use for
    test rounds (census): the log's head is not searched for a round marker beforehand (the
    agent's own is still read). ``heap_runs``: the model and every hook take ``HeapRun``
    records too (cycle markers, overview tables and, with ``objects="runs"``, the object
    events between them, in bulk). ``heap_status=False``: the caller reads the block dumps
    only; the model keeps no overview or marker (``build_model``), and a ``cycle_pattern``
    is not allowed (nothing would say whether it matched). ``series_capacity``: how many
    overviews and markers the model keeps before thinning (``model.ENDS_ONLY`` for a caller
    that reads the ends and counts only)."""
    from memsleuth.model import SERIES_CAPACITY, build_model
    from memsleuth.parse import parse_file

    if not log.exists():
        raise UsageError(f"log not found: {log}")
    if cycle_pattern is not None and not heap_status:
        raise ValueError("load_model: a cycle pattern needs heap_status=True")
    parsed = parse_file(log, cycle_pattern=cycle_pattern, object_patterns=object_patterns,
                        objects=objects, detect=rounds, heap_runs=heap_runs)
    on_record = fan_out(hooks) if hooks else None
    model = build_model(parsed, parsed.stats, path=log, keep=keep, on_record=on_record,
                        heap_status=heap_status,
                        series_capacity=series_capacity or SERIES_CAPACITY)
    warn_unmatched_pattern(cycle_pattern, model.markers.count)
    return model


def stream_log(log: Path, hooks: Iterable[Callable[[Any], None]],
               cycle_pattern: str | None = None,
               object_patterns: Sequence[Any] = (), objects: bool | str = True,
               heap_runs: bool = False):  # -> ParseStats
    """Read the log once, handing every record to streaming accumulators (no LogModel).

    For verbs that need only accumulators (trend, check, diff, objects): nothing of the log
    is kept but what the accumulators keep. ``objects=False``: the hooks ignore object
    events, so the scanner need not build them (some may still arrive); ``"runs"``: the
    hooks take ``ObjectEventRun`` records (object events in bulk) too; ``heap_runs``: they
    take ``HeapRun`` records (cycle markers and overview tables in bulk) too.
    """
    from memsleuth.parse import parse_file

    if not log.exists():
        raise UsageError(f"log not found: {log}")
    on_record = fan_out(list(hooks))
    parsed = parse_file(log, cycle_pattern=cycle_pattern, object_patterns=object_patterns,
                        objects=objects, heap_runs=heap_runs)
    markers = 0
    for record in parsed:
        if type(record) is HeapRun:
            markers += record.markers
        markers += isinstance(record, CycleMarker)
        on_record(record)
    warn_unmatched_pattern(cycle_pattern, markers)
    return parsed.stats


def fan_out(hooks: Sequence[Callable[[Any], None]]) -> Callable[[Any], None]:
    """One callable that hands each record to the hooks, in their order, skipping those
    that ignore its type (a stress log has millions of records of three types, and most
    accumulators act on one or two of them).

    A hook says what it acts on through its object's ``record_leaves()``: a list whose items
    are callables (every record) or dicts {record type: callable} (only those types; a
    composite accumulator lists its parts'). Any other hook gets every record."""
    leaves: list[Callable[[Any], None] | dict[type, Callable[[Any], None]]] = []
    for hook in hooks:
        owner = getattr(hook, "__self__", hook)
        declared = getattr(owner, "record_leaves", None)
        if declared is not None and (owner is hook or getattr(hook, "__name__", "") ==
                                     "on_record"):
            leaves.extend(declared())
        else:
            leaves.append(hook)
    table: dict[type, tuple[Callable[[Any], None], ...]] = {}

    def targets(kind: type) -> tuple[Callable[[Any], None], ...]:
        out = []
        for leaf in leaves:
            if not isinstance(leaf, dict):
                out.append(leaf)
                continue
            for declared_type, fn in leaf.items():
                if issubclass(kind, declared_type):
                    out.append(fn)
                    break
        return tuple(out)

    def on_record(record: Any) -> None:
        fns = table.get(type(record))
        if fns is None:
            fns = table[type(record)] = targets(type(record))
        for fn in fns:
            fn(record)

    return on_record


def warn_unmatched_pattern(cycle_pattern: str | None, markers: int) -> None:
    """A cycle pattern the user typed that matched nothing silently changes every x axis."""
    if cycle_pattern is not None and markers == 0:
        click.echo(f"memsleuth: warning: --cycle-pattern {cycle_pattern!r} matched no line; "
                   "cycles fall back to overview order", err=True)




def say_identity_mismatch(match: Any) -> bool:
    """The device printed another build's id: say it (both ids) on stderr; True if so."""
    from memsleuth.analysis.elf_fit import identity_mismatch

    reason = identity_mismatch(match)
    if reason:
        click.echo(f"memsleuth: error: {reason}", err=True)
    return reason is not None


def exit_if_partial(notes: Sequence[str]) -> None:
    """After the output: say why it is partial on stderr and exit 4."""
    if notes:
        for note in notes:
            click.echo(f"memsleuth: partial result: {note}", err=True)
        sys.exit(EXIT_PARTIAL)
