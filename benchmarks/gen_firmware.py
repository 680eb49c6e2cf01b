"""Generate a synthetic firmware source tree: N files x M functions (see bench_symbolize.py).

Shaped like real RTOS code for the symbolizer's sake: shared and file-local ``static
inline`` helpers nested two or three deep (so -O2 leaves many inlined-subroutine records),
direct calls (``bl``/``call``) within and across files, and indirect calls through
function-pointer tables (``blx rN``/``call *%rax``), plus allocator calls whose return
addresses a heap dump would log as block owners.
"""

from __future__ import annotations

import argparse
from pathlib import Path

SHARED_H = """\
#ifndef SHARED_H
#define SHARED_H
struct obj { int id; int len; unsigned char *buf; struct obj *next; unsigned flags; };
typedef int (*op_fn)(int, struct obj *);
void *fw_malloc(unsigned n);
void fw_free(void *p);
extern volatile unsigned fw_sink;

static inline unsigned mix(unsigned a, unsigned b)
{
    unsigned h = a * 2654435761u;
    h ^= b >> 3;
    return h + (b << 5);
}

static inline int clamp(int v, int lo, int hi)
{
    if (v < lo)
        return lo;
    if (v > hi)
        return hi;
    return v;
}

static inline struct obj *obj_new(int id, int len)
{
    struct obj *o = fw_malloc(sizeof *o);
    if (o) {
        o->id = id;
        o->len = clamp(len, 1, 64);
        o->buf = fw_malloc((unsigned)o->len);
        o->flags = mix((unsigned)id, (unsigned)len);
        o->next = 0;
    }
    return o;
}

static inline void obj_drop(struct obj *o)
{
    if (o) {
        fw_free(o->buf);
        fw_free(o);
    }
}
#endif
"""

HEAP_C = """\
#include "shared.h"
static unsigned char arena[65536];
static unsigned used;
volatile unsigned fw_sink;

void * __attribute__((noinline)) fw_malloc(unsigned n)
{
    if (used + n > sizeof arena)
        return 0;
    void *p = &arena[used];
    used += (n + 7u) & ~7u;
    return p;
}

void __attribute__((noinline)) fw_free(void *p)
{
    fw_sink += p != 0;
}
"""

START_C = """\
int fw_entry(int);
void __attribute__((noreturn, noinline)) Reset_Handler(void)
{
    fw_entry(1);
    for (;;)
        ;
}
__attribute__((section(".isr_vector"), used))
const void *vectors[2] = { (void *)0x20010000, (void *)Reset_Handler };
"""

MAIN_C = """\
int fw_entry(int x);
int f0_g0(int, void *);
int main(void) { return fw_entry(3); }
"""

LINKER = """\
MEMORY {
  FLASH (rx) : ORIGIN = 0x08000000, LENGTH = 64M
  RAM (rwx) : ORIGIN = 0x20000000, LENGTH = 1M
}
ENTRY(Reset_Handler)
SECTIONS {
  .isr_vector : { KEEP(*(.isr_vector)) } > FLASH
  .text : { *(.text*) } > FLASH
  .rodata : { *(.rodata*) } > FLASH
  .data : { *(.data*) } > RAM AT > FLASH
  .bss : { *(.bss*) *(COMMON) } > RAM
}
"""


def gen_file(f: int, nfiles: int, nfuncs: int) -> str:
    out = ['#include "shared.h"', ""]
    nxt = (f + 1) % nfiles
    out.append(f"int f{nxt}_g0(int x, struct obj *o);")
    out.append(f"extern op_fn ops_{f}[8];")
    out.append(f"""
static inline int step_{f}(int x, struct obj *o)
{{
    int v = clamp(x * {f + 3}, -1000, 1000);
    if (o)
        v += o->len + (int)mix((unsigned)o->id, (unsigned)v);
    return v;
}}

static inline struct obj *grab_{f}(int x)
{{
    struct obj *o = obj_new(x, step_{f}(x, 0));
    if (o && (x & 3) == 0)
        o->next = obj_new(x + 1, x);
    return o;
}}
""")
    for g in range(nfuncs):
        name = f"f{f}_g{g}"
        body = [f"int {name}(int x, struct obj *o)", "{",
                f"    int acc = step_{f}(x + {g}, o);",
                f"    struct obj *p = grab_{f}(acc ^ {g});"]
        if g:
            body.append(f"    acc += f{f}_g{g - 1}(acc, p);")
        elif f + 1 < nfiles:
            body.append(f"    acc += f{nxt}_g0(acc, p);")
        body += [f"    if (acc & {1 << (g % 5)})",
                 f"        acc += ops_{f}[(unsigned)(x + {g}) & 7](acc, o);",
                 "    if (p && p->len > (acc & 31))",
                 "        obj_drop(p);",
                 f"    fw_sink += (unsigned)acc * {g + 1}u;",
                 "    return acc;", "}", ""]
        out += body
    tbl = ", ".join(f"f{f}_g{(g * 7) % nfuncs}" for g in range(8))
    out.append(f"op_fn ops_{f}[8] = {{ {tbl} }};")
    out.append("")
    return "\n".join(out)


def generate(dest: Path, nfiles: int, nfuncs: int) -> list[Path]:
    """Write the tree into dest; returns the C files to compile."""
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "shared.h").write_text(SHARED_H)
    (dest / "heap.c").write_text(HEAP_C)
    (dest / "start.c").write_text(START_C)
    (dest / "arm.ld").write_text(LINKER)
    entry = f"int fw_entry(int x) {{ return f0_g{nfuncs - 1}(x, 0); }}\n"
    (dest / "entry.c").write_text(
        '#include "shared.h"\n' + f"int f0_g{nfuncs - 1}(int x, struct obj *o);\n" + entry)
    (dest / "main.c").write_text(MAIN_C)
    files = [dest / "heap.c", dest / "entry.c"]
    for f in range(nfiles):
        p = dest / f"f{f}.c"
        p.write_text(gen_file(f, nfiles, nfuncs))
        files.append(p)
    return files


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("dest", type=Path)
    ap.add_argument("--files", type=int, default=50)
    ap.add_argument("--funcs", type=int, default=200)
    a = ap.parse_args()
    print(len(generate(a.dest, a.files, a.funcs)), "C files in", a.dest)


if __name__ == "__main__":
    main()
