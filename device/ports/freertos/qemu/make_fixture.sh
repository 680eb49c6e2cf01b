#!/bin/sh
# Regenerate tests/fixtures/freertos/ (the real-kernel run the tests read) from a FreeRTOS-Kernel
# checkout. Nothing is fetched here and no kernel code is committed: the fixture is what the
# firmware printed and its ELF. The committed fixture was made from
#   FreeRTOS-Kernel V11.1.0 = commit dbf70559b27d39c1fdb68dfb9a32140b6a6777a0
#   (git clone https://github.com/FreeRTOS/FreeRTOS-Kernel && git -C FreeRTOS-Kernel checkout V11.1.0)
# with arm-none-eabi-gcc 12.2 and qemu-system-arm 7.2 (-icount: deterministic runs).
# usage: make_fixture.sh /path/to/FreeRTOS-Kernel
set -eu
KERNEL=${1:?usage: make_fixture.sh /path/to/FreeRTOS-Kernel}
HERE=$(cd "$(dirname "$0")" && pwd)
DEST=$HERE/../../../../tests/fixtures/freertos
OUT=$(mktemp -d)
if [ -d "$KERNEL/.git" ]; then
    echo "kernel commit: $(git -C "$KERNEL" rev-parse HEAD)"
fi
make -C "$HERE" KERNEL="$KERNEL" OUT="$OUT" all
mkdir -p "$DEST"
cp "$OUT/freertos-side2.elf" "$OUT/freertos-side2.log" "$OUT/freertos-none.log" "$DEST/"
# Every variant's [FACT] lines (failure round per mode); the full logs of the others are not kept.
for v in none side side2 replace replace2 none5 side5; do
    tr -d '\r' < "$OUT/freertos-$v.log" | grep '^\[FACT\]' | sed "s/^/$v /"
done > "$DEST/facts.txt"
cat "$DEST/facts.txt"
rm -rf "$OUT"
