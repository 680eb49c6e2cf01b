#!/bin/sh
# Regenerate tests/fixtures/threadx/ (the real-kernel run the tests read) from an Eclipse
# ThreadX checkout. Nothing is fetched here and no kernel code is committed: the fixture is what
# the firmware printed and its ELF. The committed fixture was made from
#   Eclipse ThreadX v6.4.2 (tx_api.h), commit 7ad78c40e9702917264a9b722890110fdb909ebc
#   (git clone https://github.com/eclipse-threadx/threadx; git -C threadx checkout 7ad78c40e970)
# with arm-none-eabi-gcc 12.2 and qemu-system-arm 7.2 (-icount: deterministic runs).
# usage: make_fixture.sh /path/to/threadx
set -eu
THREADX_DIR=${1:?usage: make_fixture.sh /path/to/threadx}
HERE=$(cd "$(dirname "$0")" && pwd)
DEST=$HERE/../../../../tests/fixtures/threadx
OUT=$(mktemp -d)
if [ -d "$THREADX_DIR/.git" ]; then
    echo "kernel commit: $(git -C "$THREADX_DIR" rev-parse HEAD)"
fi
make -C "$HERE" THREADX_DIR="$THREADX_DIR" OUT="$OUT" all
mkdir -p "$DEST"
cp "$OUT/threadx-side2.elf" "$DEST/"
# The run log, gzipped (memsleuth reads .gz as is; zcat to look at it).
gzip -9n < "$OUT/threadx-side2.log" > "$DEST/threadx-side2.log.gz"
# The run whose side table fills up: its log only (the tests read what the agent said)
gzip -9n < "$OUT/threadx-small.log" > "$DEST/threadx-small.log.gz"
# The reference run (no hooks): only ThreadX' own pool line and the facts are kept, what the
# tests compare with the instrumented run (its overviews repeat the same figures).
tr -d '\r' < "$OUT/threadx-none.log" | grep -E '^(tx_byte_pool_info_get|\[FACT\])' \
    > "$DEST/threadx-none.pool.txt"
# Every variant's [FACT] lines (failure round per variant).
for v in none side side2 side2x small; do
    tr -d '\r' < "$OUT/threadx-$v.log" | grep '^\[FACT\]' | sed "s/^/$v /"
done > "$DEST/facts.txt"
cat "$DEST/facts.txt"
rm -rf "$OUT"
