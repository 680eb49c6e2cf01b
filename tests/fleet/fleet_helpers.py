"""The committed fleet fixture (examples/fleet/generate.py --devices 24 --stop-at 120) and its
truth: what every run was told to do."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "fleet"
LOGS = FIXTURE / "logs"
SYMBOLS = FIXTURE / "symbols"
PATTERN = "{build}/{device}/{date}.log.gz"
LEAKY = ("fw-1.0", "fw-1.1")


def truth() -> list[dict]:
    return json.loads((FIXTURE / "truth.json").read_text())["runs"]


def leaking_devices(runs: list[dict]) -> set[str]:
    """Devices that ran a leaking release with the roam leak taken on some reconnects."""
    return {r["device"] for r in runs if r["release"] in LEAKY and r["params"]["leak_pct"] > 0}


def crash_runs(runs: list[dict]) -> Counter:
    """Injected faults per kind (1 bus fault, 2 undefined instruction)."""
    return Counter(r["params"]["crash_kind"] for r in runs if r["params"].get("crash_kind"))
