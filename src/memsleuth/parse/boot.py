"""Boot banners: the lines a device prints when it starts, whatever the application.

A counter that goes back may be a flipped bit; a boot banner is not (issue 10: a restart
needs evidence). Only the stock banners of the ROM, bootloader or kernel are read, never an
application's own greeting: the ESP32 ROM (``ESP-ROM:esp32c3-api1-20210207``,
``rst:0x1 (POWERON_RESET),boot:0x13 ...``), the ESP-IDF second-stage bootloader
(``I (29) boot: ESP-IDF
v4.4 2nd stage bootloader``), Zephyr (``*** Booting Zephyr OS build v3.5.0 ***``) and
NuttX's shell (``NuttShell (NSH) NuttX-12.0.0``). Few keywords on purpose: each is an
anchor of the scanning fast path, whose C loops take a bounded number of them (the ROM's
``ets Jun  8 2016`` line would need one per month; its ``rst:0x`` line follows it anyway).
"""

from __future__ import annotations

import re

from memsleuth.parse.lazyre import lazy
from memsleuth.records import Boot

#: (keyword, pattern): the keyword is a cheap substring test before the pattern
BANNERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("rst:0x", lazy(r"^rst:0x[0-9a-fA-F]+ \([A-Z0-9_]+\)")),
    ("ESP-ROM:", lazy(r"^ESP-ROM:esp32\w*-\S+$")),
    ("2nd stage bootloader", lazy(r"(?:^|\bboot: )ESP-IDF \S+ 2nd stage bootloader")),
    ("Booting Zephyr OS", lazy(r"^\*{3} Booting Zephyr OS\b")),
    ("NuttShell", lazy(r"^NuttShell \(NSH\)")),
)


class BootBannerReader:
    """Boot banner lines -> Boot."""

    name = "boot"

    def read(self, text: str, lineno: int, ts: float | None) -> Boot | None:
        s = text.strip()
        for key, pattern in BANNERS:
            if key in s and pattern.search(s):
                return Boot(line=lineno, text=s[:120], ts=ts)
        return None
