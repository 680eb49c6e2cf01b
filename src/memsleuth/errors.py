"""Exit codes and the errors that map to them: every failure is one line, never a traceback."""

from __future__ import annotations

#: Documented exit codes (shown in `memsleuth --help`).
EXIT_OK = 0         # done; for `check`: clean
EXIT_FINDING = 1    # `check` (and `crash`): a leak, imbalance or crash was found
EXIT_USAGE = 2      # bad options or arguments, missing file
EXIT_INPUT = 3      # the log or ELF cannot be used (nothing recognisable, not an ELF, ...)
EXIT_PARTIAL = 4    # a result was printed, but it is partial: a section was cut short, or
                    # the ELF does not match the log

EXIT_CODES_HELP = """\b
Exit codes:
  0  done (check: clean)
  1  check/crash/monitor: a leak, an object imbalance or a crash was found
  2  usage error: bad option or argument, file not found
  3  input error: the log holds nothing usable (check: too little to judge), or the
     ELF cannot be read
  4  partial result: printed, but a section was cut short, the ELF does not match the
     log, or census/diff left a corrupted heap block out of its figures
"""


def quiet_stdout() -> None:
    """Point stdout at /dev/null after its reader went away (``memsleuth … | head -1``), so
    the interpreter's final flush cannot fail again: a closed pipe ends quietly, exit 0."""
    import os
    import sys

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


class MemsleuthError(Exception):
    """An error the user can act on: printed as `memsleuth: error: <message>`."""

    exit_code = EXIT_INPUT


class UsageError(MemsleuthError):
    exit_code = EXIT_USAGE


class InputError(MemsleuthError):
    exit_code = EXIT_INPUT
