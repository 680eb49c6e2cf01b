/*
 * Fleet variation for the wifi_reconnect_leak firmware (built with -DFLEET_HOOKS): what makes
 * one device's run differ from another's on the same build. Read at run time (fleet_param():
 * the environment on the host, the semihosting command line under QEMU), so every device of a
 * build runs the very same ELF:
 *   seed=N       noise and leak decisions          leak_pct=P  share of reconnects that leak
 *   warmup=W     cycles a warm-up cache grows      noise=B     max size of held rx buffers
 *   crash_at=C   inject a fault at cycle C         crash_kind=K  1 bus fault, 2 undefined insn
 *   reboot_at=R  restart the firmware at cycle R (host: exec itself, same output stream)
 *   stop_at=S    heap dump and stop after S cycles (short runs for the committed fixture)
 * FLEET_LAYOUT (compile time) adds code in front of everything so builds differ in addresses.
 */
#if !defined(__arm__)
#define _POSIX_C_SOURCE 200112L   /* setenv */
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "memsleuth_agent.h"

const char *fleet_param(const char *name);   /* board specific */
void fleet_reboot(void);                     /* board specific */
void fleet_cycle_hook(void);
int fleet_roam_leaks(void);

#ifndef FLEET_LAYOUT
#define FLEET_LAYOUT 0
#endif

#if FLEET_LAYOUT > 0
/* A later release carries more code: shifts every address behind it. */
#define FLEET_STR_(x) #x
#define FLEET_STR(x) FLEET_STR_(x)
static volatile uint32_t g_pad_sink;
__attribute__((noinline, used)) void fleet_release_padding(uint32_t x)
{
    g_pad_sink += x;
    __asm__ volatile(".rept " FLEET_STR(FLEET_LAYOUT) " * 96\n nop\n .endr");
}
#endif

static unsigned long num(const char *name, unsigned long dflt)
{
    const char *v = fleet_param(name);
    unsigned long n = 0;
    if (!v || !*v) return dflt;
    while (*v >= '0' && *v <= '9') n = n * 10 + (unsigned long)(*v++ - '0');
    return n;
}

static struct {
    int ready;
    uint32_t rng;
    unsigned long cycle, leak_pct, warmup, noise, crash_at, crash_kind, reboot_at, stop_at;
} g;

static uint32_t rnd(uint32_t n)
{
    g.rng = g.rng * 1103515245u + 12345u;
    return (g.rng >> 8) % n;
}

static void init(void)
{
    g.ready = 1;
    g.rng = (uint32_t)num("seed", 1) * 2654435761u + 1u;
    g.leak_pct = num("leak_pct", 100);
    g.warmup = num("warmup", 0);
    g.noise = num("noise", 0);
    g.crash_at = num("crash_at", 0);
    g.crash_kind = num("crash_kind", 1);
    g.reboot_at = num("reboot_at", 0);
    g.stop_at = num("stop_at", 0);
    ms_printf("fleet device seed=%lu leak_pct=%lu warmup=%lu noise=%lu\n", num("seed", 1),
              g.leak_pct, g.warmup, g.noise);
#if FLEET_LAYOUT > 0
    if (g.noise == 12345u) fleet_release_padding(1);
#endif
}

/* ---- injected faults: two distinct crashes, each in its own code path ---- */
typedef struct rx_desc {
    struct rx_desc *next;
    uint32_t len;
} rx_desc_t;

static volatile uintptr_t g_desc_link = 0x60000010u;   /* unmapped on MPS2: a wild pointer */

__attribute__((noinline)) static uint32_t rx_chain_len(const rx_desc_t *d)
{
    uint32_t n = 0;
    while (d) {
        n += d->len;
        d = d->next;
    }
    return n;
}

__attribute__((noinline)) static uint32_t rx_reap(void)
{
    rx_desc_t head = {(rx_desc_t *)g_desc_link, 64};
    return rx_chain_len(&head);
}

__attribute__((noinline)) static void frame_parse(uint32_t type)
{
    if (type > 3) __builtin_trap();    /* "cannot happen" branch of a parser */
    g.rng ^= type;
}

static void *g_warm[64];
#define HELD_MAX 8
static void *g_held[HELD_MAX];

void fleet_cycle_hook(void)
{
    if (!g.ready) init();
    g.cycle++;
    if (g.stop_at && g.cycle > g.stop_at) {
        ms_printf("fleet: stop after %lu cycles\n", g.stop_at);
        ms_heap_print_overview();
        ms_heap_dump();
        board_exit(0);
    }
    if (g.cycle <= g.warmup && g.cycle <= 64) g_warm[g.cycle - 1] = malloc(96);
    if (g.noise) {
        unsigned slot = rnd(HELD_MAX);
        free(g_held[slot]);
        g_held[slot] = malloc(16 + rnd((uint32_t)g.noise));
    }
    if (g.reboot_at && g.cycle == g.reboot_at) fleet_reboot();
    if (g.crash_at && g.cycle == g.crash_at) {
        if (g.crash_kind == 2) frame_parse(7 + rnd(4));
        else g.rng += rx_reap();
    }
}

int fleet_roam_leaks(void)
{
    if (!g.ready) init();
    return rnd(100) < g.leak_pct;
}

#if !defined(__arm__)
/* ---- host: parameters from FLEET_<NAME> environment variables, reboot = exec itself ---- */
#include <stdio.h>
#include <unistd.h>

const char *fleet_param(const char *name)
{
    char key[48] = "FLEET_";
    size_t i = 6;
    for (; *name && i < sizeof key - 1; name++) key[i++] = (char)(*name >= 'a' && *name <= 'z'
                                                                   ? *name - 32 : *name);
    key[i] = 0;
    return getenv(key);
}

void fleet_reboot(void)
{
    static char *argv[] = {"firmware", NULL};
    ms_printf("fleet: reboot\n");
    setenv("FLEET_REBOOT_AT", "0", 1);
    execv("/proc/self/exe", argv);
    board_exit(1);
}
#endif
