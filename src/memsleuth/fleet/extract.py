"""One log -> rows of the store, through the existing parser, symbolizer and analyses.

Streaming: records become rows as they arrive (the writer flushes row groups), the analyses
fold them in their accumulators; nothing of the log is kept whole. Whatever goes wrong with
one log becomes its ``logs`` row (status ``failed`` and the reason), never an exception out
of here: a batch of thousands of logs must not stop for one bad file.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from memsleuth.analysis.block_trust import untrusted
from memsleuth.analysis.census import Attributor
from memsleuth.analysis.check import Accumulators, Thresholds, leak_report
from memsleuth.analysis.crash import crash_signature, explain_crash, signature_frames
from memsleuth.analysis.regression import mann_kendall
from memsleuth.fleet.identity import PathPattern, identify
from memsleuth.fleet.layout import PartWriter
from memsleuth.fleet.symstore import SymbolStore
from memsleuth.records import (
    AllocWarning,
    BlockDump,
    BuildId,
    CrashDump,
    CycleMarker,
    HeapOverview,
    ObjectEvent,
)
from memsleuth.results.check import LeakReport

#: Lines read at the top of a log to find the build line before the full pass.
HEAD_LINES = 400
#: A site growing across the dumps carries its log's leak verdict (``evidence`` strong) when
#: it explains at least this share of a heap decline the verdict calls a leak. Below it the
#: log leaks through another site, and this one's growth over a handful of dumps (buffers
#: held across cycles, a cache filling) is weak evidence: on the generated fleet such sites
#: explain 1-5 % of the decline, the real leak ~100 %.
STRONG_SHARE = 0.2
#: With no heap curve to carry the verdict, a site's growth across the dumps alone is strong
#: when its Mann-Kendall trend test over them is this significant (six steadily growing
#: dumps are; five cannot be).
STRONG_P = 0.01


@dataclass(frozen=True, slots=True)
class Options:
    """What the whole batch shares."""

    pattern: PathPattern | None = None
    device: str | None = None
    build: str | None = None
    cycle_pattern: str | None = None


def content_hash(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def _base(path: str | None) -> str | None:
    return PurePosixPath(path).name if path else path


def frame_text(function: str | None, file: str | None, line: int | None) -> str:
    where = f" ({_base(file)}:{line})" if file and line else ""
    return f"{function or '?'}{where}"


def site_fields(loc: Any, fallback: int) -> dict[str, Any]:
    """Address-free site of a symbolized address: outer function + file:line of the innermost
    frame + the inline chain. Unresolved: the raw address (and ``symbolized`` False)."""
    if loc is None or not getattr(loc, "resolved", False):
        return {"site_key": f"0x{fallback:x}", "function": None, "file": None,
                "src_line": None, "inline_chain": None, "symbolized": False}
    frames = list(loc.frames)
    first = frames[0] if frames else None
    function = loc.function
    file = _base(first.file) if first else None
    line = first.line if first else None
    chain = " < ".join(frame_text(f.function, f.file, f.line) for f in frames) \
        if len(frames) > 1 else None
    key = frame_text(function, file, line) + (f" [inlined: {chain}]" if chain else "")
    return {"site_key": key, "function": function, "file": file, "src_line": line,
            "inline_chain": chain, "symbolized": True}


class _Cycles:
    """Cycle number and boot (the counter going backwards = a reboot) as records arrive."""

    def __init__(self) -> None:
        self.cycle: int | None = None
        self.boot = 0
        self.markers = 0

    def on_marker(self, m: CycleMarker) -> None:
        self.markers += 1
        index = m.index if m.index is not None else self.markers
        if self.cycle is not None and index < self.cycle:
            self.boot += 1
        self.cycle = index


def printed_build(path: Path, cycle_pattern: str | None) -> str | None:
    """The build the log prints near its top (agent [MSBUILD], ESP-IDF ELF SHA256)."""
    from itertools import islice

    from memsleuth.parse import parse_lines
    from memsleuth.sources.file import FileSource

    with FileSource(path) as source:
        for record in parse_lines(islice(source, HEAD_LINES), cycle_pattern=cycle_pattern):
            if isinstance(record, BuildId):
                return record.value
    return None


def extract_log(path: Path, ingest_id: str, opts: Options, symbols: SymbolStore,
                writer: PartWriter, emitted: dict[str, set[int]],
                digest: tuple[str, int] | None = None) -> dict[str, Any]:
    """Write the rows of one log; return its ``logs`` row (also written).

    ``digest``: the (content hash, size) when the caller already computed it."""
    row: dict[str, Any] = {"ingest_id": ingest_id, "ingested_at": time.time(),
                           "path": str(path), "status": "failed"}
    try:
        log_id, size = digest or content_hash(path)
        row.update(log_id=log_id, bytes=size)
        ident = identify(path, None, opts.pattern, opts.device, opts.build)
        row.update(device=ident.device, build=ident.build, build_source=ident.build_source,
                   date=ident.date)
        if size == 0:
            row["reason"] = "empty file"
            return row
        _extract(path, ingest_id, opts, symbols, writer, emitted, row)
    except Exception as exc:  # noqa: BLE001 - one bad log never stops the batch
        row["status"] = "failed"
        row["reason"] = f"{type(exc).__name__}: {exc}".strip()[:300]
    finally:
        row.setdefault("log_id", "sha256-unreadable:" + str(path))
        writer.add("logs", row)
    return row


def _extract(path: Path, ingest_id: str, opts: Options, symbols: SymbolStore,
             writer: PartWriter, emitted: dict[str, set[int]], row: dict[str, Any]) -> None:
    from memsleuth.parse import parse_file

    printed = printed_build(path, opts.cycle_pattern)
    ident = identify(path, printed, opts.pattern, opts.device, opts.build)
    row.update(device=ident.device, build=ident.build, build_source=ident.build_source,
               build_printed=printed, date=ident.date)
    notes: list[str] = []
    symbolizer = None
    if ident.build is None:
        notes.append("unknown build: the log prints no build id, the path does not match "
                     "--device-from and no --build was given (addresses left raw)")
    else:
        elf = symbols.find(ident.build)
        if elf is None:
            notes.append(f"no ELF for build {ident.build} in the symbol store "
                         "(addresses left raw)")
        else:
            row["elf"] = str(elf)
            try:
                symbolizer = symbols.symbolizer(elf)
            except Exception as exc:  # noqa: BLE001 - an unreadable ELF leaves addresses raw
                notes.append(f"ELF {elf} unreadable ({exc}); addresses left raw")
    if ident.device is None:
        notes.append("unknown device: the path does not match --device-from and no --device "
                     "was given")

    attributor = Attributor(symbolizer)
    acc = Accumulators.create(attributor)
    cycles = _Cycles()
    common = {"log_id": row["log_id"], "ingest_id": ingest_id, "device": ident.device,
              "build": ident.build, "path": str(path)}
    counts = {"overviews": 0, "block_dumps": 0, "object_events": 0, "crashes": 0}
    crashes: list[tuple[CrashDump, int | None, list[AllocWarning]]] = []
    warnings: list[AllocWarning] = []
    addresses: set[int] = set()
    overviews = writer.rows("overviews", common, _OVERVIEW)
    cycle_rows = writer.rows("cycles", common, ("line", "cycle", "boot", "ts"))
    objects = writer.rows("objects", common, ("line", "cycle", "boot", "op", "kind", "handle",
                                              "caller", "seq"))
    blocks = writer.rows("blocks", common, ("line", "dump_index", "dump_line", "cycle", "boot",
                                            "addr", "used", "size", "owner", "trace",
                                            "corrupted"))
    parsed = parse_file(path, cycle_pattern=opts.cycle_pattern)
    on_record = acc.on_record
    n = 0
    for n, record in enumerate(parsed, 1):
        on_record(record)
        if isinstance(record, ObjectEvent):
            counts["object_events"] += 1
            addresses.add(record.caller)
            objects.append((record.line, cycles.cycle, cycles.boot, record.op, record.kind,
                            record.handle, record.caller, record.seq))
        elif isinstance(record, CycleMarker):
            cycles.on_marker(record)
            cycle_rows.append((record.line, cycles.cycle, cycles.boot, record.ts))
        elif isinstance(record, HeapOverview):
            counts["overviews"] += 1
            overviews.append(_overview_row(record, cycles))
        elif isinstance(record, BlockDump):
            counts["block_dumps"] += 1
            if record.overview is not None:
                counts["overviews"] += 1
                overviews.append(_overview_row(record.overview, cycles))
            index, cycle, boot = counts["block_dumps"] - 1, cycles.cycle, cycles.boot
            bad = untrusted(record)     # header corrupt or size impossible: flagged
            for i, block in enumerate(record.blocks):
                if block.used and not block.sentinel and i not in bad:
                    addresses.add(block.owner)
                blocks.append((block.line, index, record.line, cycle, boot, block.addr,
                               block.used, block.size, block.owner, block.trace,
                               i in bad))
            writer.check()
        elif isinstance(record, AllocWarning):
            warnings.append(record)
        elif isinstance(record, CrashDump):
            counts["crashes"] += 1
            crashes.append((record, cycles.cycle, warnings[-20:]))
            warnings = []
        if not n & 0xFFF:
            writer.check()
    stats = parsed.stats
    row.update(counts, lines=stats.lines, cycles=cycles.cycle, boots=cycles.boot + 1)
    if not (counts["overviews"] or counts["block_dumps"] or counts["object_events"]
            or counts["crashes"]):
        row["status"] = "failed"
        row["reason"] = (f"no heap overview, block dump, object trace or crash dump in "
                         f"{stats.lines:,} lines ({stats.decode_errors:,} not valid UTF-8): "
                         "not a device log, or corrupt")
        return
    for index, (crash, cycle, before) in enumerate(crashes):
        writer.add("crashes", _crash_row(common, crash, index, cycle, ident.date, before,
                                         symbolizer))
    report = leak_report(acc, attributor, Thresholds())
    _findings(common, report, attributor, acc, writer)
    _trend_fields(row, report)
    _symbols(ident.build, symbolizer, attributor, addresses, emitted, ingest_id, writer)
    if stats.partial_sections:
        notes.append(f"{stats.partial_sections} section(s) cut short")
    row["status"] = "partial" if notes else "ok"
    row["reason"] = "; ".join(notes) or None


_OVERVIEW = ("line", "cycle", "boot", "ts", "free", "used", "total", "min_free",
             "max_free_block", "nested")


def _overview_row(o: HeapOverview, cycles: _Cycles) -> tuple[Any, ...]:
    return (o.line, cycles.cycle, cycles.boot, o.ts, o.free, o.used, o.total, o.min_free,
            o.max_free_block, o.nested)


def _crash_row(common: dict[str, Any], crash: CrashDump, index: int, cycle: int | None,
               date: str | None, warnings: list[AllocWarning], symbolizer: Any) -> dict[str, Any]:
    result = explain_crash(crash, symbolizer, None, warnings)
    frames = result.call_stack.frames
    texts, symbolized = signature_frames(result)
    category = result.cause.category
    signature = crash_signature(result)
    pc = crash.registers.get("PC", crash.registers.get("MEPC"))
    return {
        **common, "line": crash.line, "crash_index": index, "kind": crash.kind,
        "arch": result.arch, "category": category, "summary": result.cause.summary,
        "pc": pc, "fault_address": result.cause.fault_address,
        "task": result.context.task, "signature": signature,
        "frames": texts, "addresses": [f.address for f in frames], "symbolized": symbolized,
        "cycle": cycle, "date": date,
    }


def _findings(common: dict[str, Any], report: LeakReport, attributor: Attributor,
              acc: Accumulators, writer: PartWriter) -> None:
    """Every site the analyses rated: leaking or not (a fixed build shows its rate as 0), and
    for a leaking one how strong this log's evidence for it is (``evidence``)."""
    objects = report.objects
    traced = objects is not None and objects.source == "trace"
    if traced:
        leaking = {(r.kind, r.key) for r in objects.leaks}
        for site in objects.sites:
            caller = site.callers[0] if site.callers else 0
            fields = site_fields(attributor.location(caller), caller)
            leaks = (site.kind, site.key) in leaking
            # the object trace counts every create and delete of the log: not a fit over a
            # few points, so a leak it finds is strong evidence
            writer.add("findings", {
                **common, "line": None, "source": "objects", **fields,
                "object_kind": site.kind, "rate": float(site.leak_per_cycle or 0.0),
                "unit": "objects/cycle", "leaking": leaks,
                "pattern": "steady" if site.steady else None,
                "evidence": "strong" if leaks else None})
    growth = report.growth
    # A growing site is a leak where the verdict says so: it explains the heap's decline
    # (attribution), or the dumps are the only evidence (no heap curve, no object trace).
    attribution = report.attribution
    shares = {s.key: s.share for s in attribution.sites} \
        if attribution and attribution.method == "dumps" else {}
    verdict = report.verdict
    growth_alone = verdict is not None and not verdict.inputs.trend and not traced
    for g in growth.rows if growth else ():
        info = acc.series.info.get(g.key, {}) if acc.series is not None else {}
        owner = info.get("site_address") or 0
        fields = site_fields(attributor.location(owner), owner) if owner else \
            site_fields(None, 0) | {"site_key": g.key}
        share = shares.get(g.key)
        leaks = g.pattern == "steady" and g.bytes_slope > 0 \
            and (share is not None or growth_alone)
        evidence = None
        if leaks:
            strong = (verdict is not None and verdict.leak and share is not None
                      and share >= STRONG_SHARE) if not growth_alone else \
                mann_kendall(list(range(len(g.bytes))), list(g.bytes))[2] < STRONG_P
            evidence = "strong" if strong else "weak"
        writer.add("findings", {
            **common, "line": None, "source": "growth", **fields,
            "object_kind": g.object_kind, "rate": float(g.bytes_slope),
            "unit": f"B/{growth.x or 'snapshot'}",  # type: ignore[union-attr]
            "leaking": leaks, "pattern": g.pattern, "evidence": evidence,
            "share": float(share) if share is not None else None,
            "snapshots": len(g.bytes)})


def _trend_fields(row: dict[str, Any], report: LeakReport) -> None:
    trend = report.trend
    verdict = report.verdict
    row["leak"] = bool(verdict and verdict.leak)
    row["verdict"] = verdict.reason if verdict else None
    if not trend:
        return
    last = trend.last
    exhaustion = trend.forecast.exhaustion if trend.forecast is not None else None
    row.update(trend_class=trend.classification, trend_x=trend.x,
               heap_rate=-trend.fit.slope if trend.fit is not None else None,
               last_x=last.x if last else None, free_now=last.free if last else None,
               exhaustion_at=exhaustion.at if exhaustion else None)
    if row["exhaustion_at"] is not None and row["last_x"] is not None:
        row["remaining"] = max(0.0, row["exhaustion_at"] - row["last_x"])


def _symbols(build: str | None, symbolizer: Any, attributor: Attributor, addresses: set[int],
             emitted: dict[str, set[int]], ingest_id: str, writer: PartWriter) -> None:
    """The build's address -> site table: each address written once per worker."""
    if build is None or symbolizer is None:
        return
    done = emitted.setdefault(build, set())
    new = sorted(a for a in addresses if a and a not in done)
    attributor.prepare(set(new))
    for addr in new:
        fields = site_fields(attributor.location(addr), addr)
        fields.pop("symbolized")
        writer.add("symbols", {"build": build, "address": addr, **fields,
                               "ingest_id": ingest_id})
        done.add(addr)
