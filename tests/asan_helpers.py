"""Re-running a campaign script under AddressSanitizer and UBSan (not a test module).

Both sanitizer campaigns (``tests/parse/asan_scan_campaign.py`` for ``_scan.c``,
``tests/symbols/asan_die_walk.py`` for ``_dwarf.c``) do the same thing: copy the package to a
temporary directory, build the one C module there with the sanitizers, preload their
runtimes and run the script again as the child that does the work.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = "MEMSLEUTH_ASAN_CHILD"


def in_child() -> bool:
    """True in the re-run process (the one with the sanitized build)."""
    return bool(os.environ.get(CHILD))


def rerun_sanitized(module: str, script: str, argv: list[str], ignore: str = "*.so",
                    recover_ub: bool = True) -> int:
    """Build ``memsleuth/<module>.c`` with ASan + UBSan in a copy of the package and run
    ``script`` with ``argv`` there; its exit code (a sanitizer report aborts it)."""
    libs = [subprocess.run(["gcc", f"-print-file-name={lib}"], capture_output=True,
                           text=True, check=True).stdout.strip()
            for lib in ("libasan.so", "libubsan.so")]
    flags = ["-fsanitize=address,undefined"]
    if not recover_ub:
        flags.append("-fno-sanitize-recover=undefined")
    with tempfile.TemporaryDirectory(prefix="memsleuth-asan-") as tmp:
        pkg = Path(tmp) / "memsleuth"
        shutil.copytree(ROOT / "src" / "memsleuth", pkg,
                        ignore=shutil.ignore_patterns(ignore, "__pycache__"))
        subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-g", "-fno-omit-frame-pointer",
                        *flags, f"-I{sysconfig.get_paths()['include']}",
                        str(pkg / f"{module}.c"), "-o",
                        str(pkg / f"{module}{sysconfig.get_config_var('EXT_SUFFIX')}")],
                       check=True)
        env = {**os.environ, "PYTHONPATH": tmp, CHILD: "1",
               "LD_PRELOAD": " ".join(libs), "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1",
               "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1"}
        return subprocess.run([sys.executable, script, *argv], env=env).returncode
