/*
 * vendor_stress: a stress test written the way a vendor team writes one, not for memsleuth.
 * Its round marker is "[stress] round N/2000", its object trace is the engineers' own
 * "timer create %p caller %p" print in the OS-abstraction layer (vsdk.c), and its timers come
 * from a vendor constructor (vsdk_tmr_create) behind a wrapper (osal_timer_new): names that
 * are in no built-in list. The heap and its dumps are the memsleuth agent's (AliOS formats).
 *
 * -DSCN_FRAG=0 (leak): every round the WLAN link comes up (three timers) and goes down (two
 *   deleted: the roam timer handle is dropped, line marked LEAK below); a cache warms up over
 *   the first 16 rounds; balanced churn. Runs until malloc fails.
 * -DSCN_FRAG=1 (frag): no timer leak; every round a burst of 600 B rx buffers is held while a
 *   ~0.5 KB diagnostic record is appended (never freed: a slow leak) and then the burst is
 *   freed, so the records end up scattered; every round also needs one 4 KB frame buffer.
 *   It dies when no free block can hold that frame, with a good share of the heap still free.
 * At the end the firmware prints "[FACT] key value" lines: the truth the tests compare with.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "memsleuth_agent.h"
#include "vsdk.h"

#ifndef SCN_FRAG
#define SCN_FRAG 0
#endif
#if UINTPTR_MAX > 0xFFFFFFFFu
#define ARENA_SIZE (SCN_FRAG ? 80 * 1024 : 128 * 1024)
#else
#define ARENA_SIZE (SCN_FRAG ? 64 * 1024 : 80 * 1024)
#endif
#define MAX_ROUNDS 2000
#define CACHE_SLOTS 16
#define FRAME_SIZE 4096

static unsigned char g_arena[ARENA_SIZE] __attribute__((aligned(16)));
static volatile int g_failed;
static unsigned long g_fail_need;

static void on_malloc_fail(size_t need)
{
    g_failed = 1;
    g_fail_need = (unsigned long)need;
}

static uint32_t g_rng = 0x9E3779B9u;
static uint32_t rnd(uint32_t n)
{
    g_rng = g_rng * 1103515245u + 12345u;
    return (g_rng >> 8) % n;
}

static void tick(void *arg) { (void)arg; }

/* ---- WLAN link: three timers per link-up, two deleted at link-down ---- */
static vsdk_tmr_t *g_assoc, *g_keepalive, *g_roam;

static __attribute__((noinline)) int wlan_link_up(void)
{
    g_assoc = osal_timer_new("assoc", 100, tick, NULL);
    g_keepalive = osal_timer_new("keepalive", 1000, tick, NULL);
    g_roam = osal_timer_new("roam", 5000, tick, NULL);      /* LEAK: never deleted */
    return (g_assoc && g_keepalive && g_roam) ? 0 : -1;
}

static __attribute__((noinline)) void wlan_link_down(void)
{
    osal_timer_free(g_assoc);
    osal_timer_free(g_keepalive);
    g_assoc = g_keepalive = NULL;
    g_roam = NULL;                                           /* the handle is dropped */
}

/* ---- timers that live for the whole run, created elsewhere (distinct callers) ---- */
static vsdk_tmr_t *g_wdt, *g_ble;
static __attribute__((noinline)) void watchdog_init(void)
{
    g_wdt = osal_timer_new("wdt", 500, tick, NULL);
}
static __attribute__((noinline)) void ble_adv_start(void)
{
    g_ble = osal_timer_new("ble_adv", 100, tick, NULL);
}

/* ---- a per-round report timer, created and deleted in the round (balanced) ---- */
static __attribute__((noinline)) void report_round(void)
{
    vsdk_tmr_t *t = osal_timer_new("report", 10, tick, NULL);
    void *msg = malloc(96 + rnd(160));
    free(msg);
    osal_timer_free(t);
}

/* ---- cache: fills over the first CACHE_SLOTS rounds, then replaces (warm-up) ---- */
static void *g_cache[CACHE_SLOTS];
static unsigned g_cache_next;
static __attribute__((noinline)) void cache_touch(void)
{
    unsigned slot = g_cache_next++ % CACHE_SLOTS;
    free(g_cache[slot]);
    g_cache[slot] = malloc(200);
}

/* ---- balanced churn ---- */
static __attribute__((noinline)) void churn(void)
{
    void *p[6];
    unsigned n = 2 + rnd(5), i;
    for (i = 0; i < n; i++) {
        p[i] = malloc(32 + rnd(400));
        if (!p[i]) break;
    }
    while (i--) free(p[i]);
}

/* ---- frag: scattered diagnostic records, and a frame buffer each round ---- */
static unsigned long g_records;
static __attribute__((noinline)) void diag_append(unsigned long round)
{
    void *burst[40];
    unsigned n = 1 + rnd(1 + (unsigned)(round / 6)), i;
    if (n > 40) n = 40;
    for (i = 0; i < n; i++) {
        burst[i] = malloc(600);
        if (!burst[i]) break;
    }
    if (malloc(520 + rnd(32))) g_records++;                  /* kept forever */
    while (i--) free(burst[i]);
}

static __attribute__((noinline)) void frame_tx(void)
{
    void *frame = malloc(FRAME_SIZE);
    if (frame) {
        memset(frame, 0, 64);
        free(frame);
    }
}

#if defined(__arm__)
/* newlib's printf core links its own malloc; nothing here lets it grow (the heap is the
 * agent's arena), so sbrk says no. */
void *_sbrk(int incr);
void *_sbrk(int incr)
{
    (void)incr;
    return (void *)-1;
}
#endif

static void say(const char *s) { board_write(s, strlen(s)); }

static void round_marker(unsigned long r)
{
    char buf[48];   /* the vendor's own wording, printed with libc, not by the agent */
    snprintf(buf, sizeof buf, "[stress] round %lu/%d%s", r, MAX_ROUNDS, board_crlf ? "\r\n" : "\n");
    say(buf);
}

int main(void)
{
    ms_agent_config_t cfg;
    unsigned long round, last = 0, fail_round = 0;
    ms_heap_stats_t st;

    board_init();
    ms_agent_config_default(&cfg);
    cfg.crlf = board_crlf;
    cfg.on_malloc_fail = on_malloc_fail;
    ms_agent_init(board_write, g_arena, sizeof g_arena, &cfg);
    say(SCN_FRAG ? "vendor_stress frag\n" : "vendor_stress leak\n");

    watchdog_init();
    ble_adv_start();
    for (round = 1; round <= MAX_ROUNDS; round++) {
        round_marker(round);
        ms_heap_print_overview();
        if (round == 10 || round == 40) ms_heap_dump();
        if (SCN_FRAG) {
            diag_append(round);
            frame_tx();
        } else {
            if (wlan_link_up() == 0) {
                report_round();
                cache_touch();
                churn();
            }
            wlan_link_down();
        }
        last = round;
        if (g_failed) {
            fail_round = round;
            break;
        }
    }
    ms_heap_stats(&st);
    ms_printf("[FACT] scenario %s\n", SCN_FRAG ? "frag" : "leak");
    ms_printf("[FACT] target %s\n", board_name);
    ms_printf("[FACT] rounds_run %lu\n", last);
    ms_printf("[FACT] failed_round %lu\n", fail_round);
    ms_printf("[FACT] failed_need %lu\n", g_fail_need);
    ms_printf("[FACT] timers_created %lu\n", vsdk_timers_created());
    ms_printf("[FACT] timers_deleted %lu\n", vsdk_timers_deleted());
    ms_printf("[FACT] timer_size %u\n", vsdk_tmr_size());
    ms_printf("[FACT] diag_records %lu\n", g_records);
    ms_printf("[FACT] heap_total %lu\n", (unsigned long)st.total);
    ms_printf("[FACT] heap_free_at_end %lu\n", (unsigned long)st.free);
    ms_printf("[FACT] largest_free_at_end %lu\n", (unsigned long)st.max_free_blk);
    return 0;
}
