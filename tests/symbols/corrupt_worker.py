"""Run corrupted-ELF cases one after the other; print one line per case (used by
test_sym_corrupt_corpus.py, which kills this process when a case exceeds its time bound).

Input: JSON lines on stdin, {"name", "path", "log"?}. Output per case: ``start <name>``
before it, then ``done <name> <outcome>``: ``ok``, ``error <class>`` (a SymbolError: one
line for the user), or ``crash <class>: <message>`` (anything else: a bug).
"""

from __future__ import annotations

import json
import sys
import warnings


def run_case(path: str, log: str | None) -> str:
    from memsleuth.symbols import SymbolError, Symbolizer

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sym = Symbolizer.open(path, use_cache=False, engine="python")
        # ~1,500 addresses spread over all code, so every unit's DWARF is walked
        ranges = sym.text_ranges[:16]
        total = sum(hi - lo for lo, hi in ranges)
        step = max(2, (total // 1500) & ~1)
        addrs = [a for lo, hi in ranges for a in range(lo, hi, step)]
        for kind in ("pc", "return"):
            for loc in sym.symbolize(addrs, kind).values():
                for f in loc.frames:   # what renderers touch
                    assert f.function is None or isinstance(f.function, str)
        sym.check_return_addresses(addrs[::7])
        _ = sym.build_id
    except SymbolError as exc:
        msg = str(exc)
        if "\n" in msg:
            return f"crash multi-line {type(exc).__name__}: {msg!r}"
        return f"error {type(exc).__name__}"
    except Exception as exc:  # noqa: BLE001 - that is what the test looks for
        return f"crash {type(exc).__name__}: {exc}"[:400]
    if log:
        from click.testing import CliRunner

        from memsleuth.cli import main

        res = CliRunner().invoke(main, ["crash", log, "--elf", path, "--json"])
        err = res.stderr.strip()
        if res.exit_code not in (0, 1, 3, 4) or "internal error" in err or "Traceback" in err:
            return f"crash cli exit {res.exit_code}: {err[:300]}"
    return "ok"


def main() -> int:
    for line in sys.stdin:
        case = json.loads(line)
        print(f"start {case['name']}", flush=True)
        print(f"done {case['name']} {run_case(case['path'], case.get('log'))}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
