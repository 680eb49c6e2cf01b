"""Can the monitor keep up with a 921,600 baud UART full of addresses?

921,600 baud 8N1 is 92,160 bytes/s. This generates a stream of real-format AliOS lines that
are dense in code addresses (B3 block-dump rows with owner and a two-frame trace,
`[MSOBJ]` lines, `backtrace :` lines, register dumps) using real code addresses of the
committed example ELF, then measures:

- decode path: chunks -> lines -> inline decoding -> live scan/tracker (no terminal, no disk);
  first run (no symbolizer cache on disk either), cold (empty per-address cache, every
  address goes to the symbolizer once) and warm;
- end to end: the whole Monitor loop with the raw capture on disk and the terminal output
  written to /dev/null.

Prints lines/s, bytes/s and the ratio to 92,160 B/s. Run: python benchmarks/bench_monitor.py
[ELF] [--mb N]. No asserts: numbers only.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from memsleuth.live.assembler import LineAssembler
from memsleuth.live.decoder import AddressDecoder, open_decoder_symbolizer
from memsleuth.live.engine import Display, Monitor
from memsleuth.live.scan import CrashBoundary, LiveScanner
from memsleuth.live.tracker import LiveTracker
from memsleuth.sources.capture import CaptureWriter
from memsleuth.sources.text import decode_line, strip_eol

UART_BPS = 92_160
REPO = Path(__file__).resolve().parents[1]
DEFAULT_ELF = REPO / "examples" / "wifi_reconnect_leak" / "out" / "cortex-m4-leak.elf"


def code_addresses(elf: Path, n: int, rng: random.Random) -> list[int]:
    """Plausible return addresses: inside real functions, odd (Thumb) on ARM."""
    from memsleuth.symbols.elf import ElfImage

    image = ElfImage(elf)
    funcs = [s for s in image.functions if s.end > s.start + 4]
    out = []
    for _ in range(n):
        f = rng.choice(funcs)
        a = rng.randrange(f.start + 2, f.end) & ~1
        out.append(a | 1 if image.thumb else a)
    return out


def make_stream(elf: Path, size: int, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    addrs = code_addresses(elf, 3000, rng)
    lines: list[str] = []
    total = 0
    heap = 0x20001000
    seq = 0
    cycle = 0
    while total < size:
        r = rng.random()
        if r < 0.70:   # B3 block row with a trace
            o, t1, t2 = rng.choice(addrs), rng.choice(addrs), rng.choice(addrs)
            heap += rng.choice((24, 40, 88, 136, 520))
            line = (f"0x{heap:08x}  used  {rng.randrange(8, 2048):6d}   OK  0x{o:<8x}"
                    f"  (0x{t1:x} <- 0x{t2:x})")
        elif r < 0.85:
            seq += 1
            line = (f"[MSOBJ] {rng.choice(('create', 'delete'))} timer 0x{heap:08x} "
                    f"caller 0x{rng.choice(addrs):08x} seq {seq}")
        elif r < 0.95:
            line = f"backtrace : 0x{rng.choice(addrs) & ~1:08X} "
        elif r < 0.99:
            line = f"LR      0x{rng.choice(addrs):08X}"
        else:
            cycle += 1
            line = f"[MSCYCLE] {cycle}"
        raw = line + "\r\n"
        lines.append(raw)
        total += len(raw)
    return "".join(lines).encode()


def chunks(data: bytes, size: int = 4096) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)]


def decode_path(data: bytes, symbolizer: object, decoder: AddressDecoder | None = None
                ) -> tuple[float, int, AddressDecoder]:
    dec = decoder or AddressDecoder(symbolizer)
    asm = LineAssembler()
    scan = LiveScanner()
    tracker = LiveTracker()
    n = 0
    parts = chunks(data)
    t0 = time.perf_counter()
    for chunk in parts:
        raws = asm.feed(chunk)
        texts = [decode_line(strip_eol(r))[0] for r in raws]
        dec.decode(texts)
        for text in texts:
            for rec in scan.feed(text):
                if not isinstance(rec, CrashBoundary):
                    tracker.add(rec)
        n += len(raws)
    return time.perf_counter() - t0, n, dec


class MemorySource:
    """Feeds the prepared chunks to the Monitor as fast as it reads them."""

    def __init__(self, data: bytes) -> None:
        self._parts = chunks(data)
        self._i = 0
        self.on_event = lambda msg: None
        self.describe = "memory"

    def open(self) -> None: ...

    def read(self, timeout: float) -> bytes | None:
        if self._i >= len(self._parts):
            return None
        self._i += 1
        return self._parts[self._i - 1]

    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...


def end_to_end(data: bytes, symbolizer: object) -> tuple[float, int]:
    import memsleuth.live.engine as engine

    # the memory source is faster than any UART: without this the monitor would (rightly)
    # show raw lines while behind, and we would be timing the bypass, not the decoding
    engine.BACKLOG_CHUNKS = 1 << 30
    with tempfile.TemporaryDirectory() as tmp, open("/dev/null", "w") as null:
        mon = Monitor(MemorySource(data), CaptureWriter(tmp), AddressDecoder(symbolizer),
                      Display(null, null, tty=False, status_every=1.0), symbolizer=symbolizer)
        t0 = time.perf_counter()
        result = mon.run()
        secs = time.perf_counter() - t0
        print(f"{'':28} end to end: {result.decode.annotations:,} annotations")
        return secs, result.lines


def report(name: str, seconds: float, lines: int, nbytes: int) -> None:
    bps = nbytes / seconds
    print(f"{name:<28} {lines / seconds:>12,.0f} lines/s {bps:>14,.0f} B/s   "
          f"x{bps / UART_BPS:,.1f} of 921,600 baud")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("elf", nargs="?", type=Path, default=DEFAULT_ELF)
    ap.add_argument("--mb", type=float, default=4.0, help="stream size in MB")
    args = ap.parse_args()
    from memsleuth.symbols import Symbolizer

    data = make_stream(args.elf, int(args.mb * 1024 * 1024))
    n_lines = data.count(b"\n")
    print(f"ELF {args.elf.name} ({args.elf.stat().st_size:,} bytes); stream: {len(data):,} "
          f"bytes, {n_lines:,} lines, {data.count(b'0x'):,} hex tokens")
    with tempfile.TemporaryDirectory() as empty:
        # first contact with this ELF: no symbolizer cache on disk, every address new
        t0 = time.perf_counter()
        fresh = Symbolizer.open(args.elf, cache_dir=Path(empty))
        print(f"symbolizer opened in {time.perf_counter() - t0:.2f} s (empty cache)")
        secs, n, dec = decode_path(data, fresh)
        report("decode path (first run)", secs, n, len(data))
        print(f"{'':28} symbolizer lookups {dec.lookups:,}, annotations {dec.decoded:,}, "
              f"errors {dec.errors}")
    sym = open_decoder_symbolizer(args.elf)
    secs, n, dec = decode_path(data, sym)
    report("decode path (cold cache)", secs, n, len(data))
    print(f"{'':28} symbolizer lookups {dec.lookups:,}, annotations {dec.decoded:,}, "
          f"errors {dec.errors}")
    secs, n, _ = decode_path(data, sym, dec)
    report("decode path (warm cache)", secs, n, len(data))
    secs, n = end_to_end(data, open_decoder_symbolizer(args.elf))
    report("end to end (capture+term)", secs, n, len(data))


if __name__ == "__main__":
    main()
