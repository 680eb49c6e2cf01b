/*
 * wifi_reconnect_leak: the seed case as firmware. The main loop is the seed's stress test
 *
 *     while (1) { krhino_mm_overview(); hal_wifi_suspend_station(); netmgr_reconnect_wifi(); }
 *
 * with a [MSCYCLE] marker per cycle, some honest application churn (balanced alloc/free of
 * varied sizes), and a cache that warms up over the first 20 cycles and then stays flat.
 * SCENARIO (scenario.h) selects the heap behaviour:
 *   leak   - the driver leaks one timer per cycle; run until malloc fails (the agent prints the
 *            warning and the full dump), then print the live timer count and exit.
 *   noleak - 5 timers created / 5 deleted; FIXED_CYCLES cycles, final dump, exit 0.
 *   burst  - no steady leak, but at cycle BURST_CYCLE a burst of allocations is never freed.
 *   frag   - free heap flat, but long-lived records scattered between transient rx bursts
 *            make the largest free block shrink.
 * At the end the firmware prints "[FACT] key value" lines (what it knows for sure); the build
 * script turns them into out/<target>-<scenario>.json.
 */
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "kernel.h"
#include "memsleuth_agent.h"
#include "scenario.h"
#include "wifi_drv.h"

#ifndef ARENA_SIZE
/* The leak run is sized like the seed case (982 live timers at the crash): it must run out
 * of memory after more than 900 reconnects. The other scenarios only need room to churn. */
#if SCENARIO_IS(leak)
#if UINTPTR_MAX > 0xFFFFFFFFu
#define ARENA_SIZE (158 * 1024)
#else
#define ARENA_SIZE (100 * 1024)
#endif
#elif UINTPTR_MAX > 0xFFFFFFFFu
#define ARENA_SIZE (84 * 1024)
#else
#define ARENA_SIZE (52 * 1024)
#endif
#endif
#define FIXED_CYCLES 600
#define MAX_CYCLES   5000
#define BURST_CYCLE  200
#define BURST_COUNT  40
#define CACHE_SLOTS  20
#ifndef FRAG_RING
#define FRAG_RING    16
#endif
#define FRAG_BURST_MAX 64
#ifndef FRAG_REC_SIZE
#define FRAG_REC_SIZE 520
#endif

static unsigned char g_arena[ARENA_SIZE] __attribute__((aligned(16)));
static volatile int  g_malloc_failed;
static unsigned long g_failed_cycle;
uint8_t g_cur_task = 1;

/* ---- agent hooks ---- */
static uint8_t task_id(void) { return g_cur_task; }

static int task_at(unsigned idx, ms_task_info_t *out)
{
    static const ms_task_info_t tasks[] = {
        {1, "app_task", 20, 1024},
        {2, "wifi_task", 12, 768},
    };
    if (idx >= sizeof tasks / sizeof tasks[0]) return 0;
    *out = tasks[idx];
    return 1;
}

static void on_malloc_fail(size_t need)
{
    (void)need;
    g_malloc_failed = 1;
}

/* ---- deterministic pseudo-random numbers (no libc rand) ---- */
static uint32_t g_rng = 0x2545F491u;
static uint32_t rnd(uint32_t n)
{
    g_rng = g_rng * 1664525u + 1013904223u;
    return (g_rng >> 8) % n;
}

/* ---- application churn: alloc varied sizes, free them all (balanced) ---- */
static __attribute__((noinline)) void app_churn(void)
{
    void *p[8];
    unsigned n = 4 + rnd(5), i;
    for (i = 0; i < n; i++) {
        p[i] = malloc(24 + rnd(680));
        if (!p[i]) break;
    }
    while (i--) {
        unsigned j = rnd(i + 1);     /* free in a shuffled order */
        free(p[j]);
        p[j] = p[i];
    }
}

/* ---- a cache that warms up, then replaces entries (flat) ---- */
static void *g_cache[CACHE_SLOTS];
static unsigned g_cache_next;

static __attribute__((noinline)) void app_cache(unsigned long cycle)
{
    unsigned slot = g_cache_next++ % CACHE_SLOTS;
    (void)cycle;
    free(g_cache[slot]);             /* NULL during warm-up */
    g_cache[slot] = malloc(120);
}

/* ---- burst: a one-off step that is never freed ---- */
static void *g_burst[BURST_COUNT];
static __attribute__((noinline)) void app_burst(void)
{
    for (int i = 0; i < BURST_COUNT; i++) g_burst[i] = malloc(200);
}

/* ---- tx queue: packets in flight across cycles (noise without a trend) ---- */
#define TXQ_MAX 6
static void *g_txq[TXQ_MAX];
static unsigned g_txq_len;
static __attribute__((noinline)) void app_txq(void)
{
    unsigned target = rnd(TXQ_MAX + 1);
    while (g_txq_len > target) free(g_txq[--g_txq_len]);
    while (g_txq_len < target) {
        void *p = malloc(64 + rnd(500));
        if (!p) break;
        g_txq[g_txq_len++] = p;
    }
}

/* ---- frag: long-lived records placed behind a transient burst ----
 * Each cycle a burst of 600-byte rx buffers (random count, range growing with the cycle) eats
 * the holes of their size class and the front of the free space; then a ~0.5 KB status record
 * that lives FRAG_RING cycles is allocated. Its size class is the buffers' one, whose holes the
 * burst just consumed, so it lands behind the burst; then the burst is freed. The live set is
 * constant after FRAG_RING cycles (free heap flat) but the records end up scattered over a
 * region that widens every cycle, so the largest free block shrinks. (Records of a smaller size
 * class would simply fill small holes: a good-fit allocator resists that pattern.) */
static void *g_ring[FRAG_RING];
static unsigned g_ring_next;
static __attribute__((noinline)) void app_frag(unsigned long cycle)
{
    void *burst[FRAG_BURST_MAX];
    unsigned n = 1 + rnd(1 + (unsigned)(cycle / 12)), i;
    unsigned slot = g_ring_next++ % FRAG_RING;

    if (n > FRAG_BURST_MAX) n = FRAG_BURST_MAX;
    for (i = 0; i < n; i++) {
        burst[i] = malloc(600);
        if (!burst[i]) break;
    }
    free(g_ring[slot]);
    g_ring[slot] = malloc(FRAG_REC_SIZE + rnd(32));
    while (i--) free(burst[i]);
}

static void fact_u(const char *k, unsigned long v) { ms_printf("[FACT] %s %lu\n", k, v); }
static void fact_x(const char *k, uintptr_t v) { ms_printf("[FACT] %s 0x%lx\n", k, (unsigned long)v); }

int main(void)
{
    ms_agent_config_t cfg;
    unsigned long cycle, last = 0;
    int rc = 0;

    board_init();
    ms_agent_config_default(&cfg);
    cfg.banner = 1;
    cfg.crlf = board_crlf;
    cfg.task_id = task_id;
    cfg.task_at = task_at;
    cfg.on_malloc_fail = on_malloc_fail;
    ms_agent_init(board_write, g_arena, sizeof g_arena, &cfg);
    ms_printf("memsleuth example wifi_reconnect_leak scenario=%s target=%s trace_depth=%d\n",
              SCENARIO_NAME, board_name, MS_AGENT_TRACE_DEPTH);

    if (wifi_connect() != 0) {
        ms_printf("boot connect failed\n");
        board_exit(1);
    }

    for (cycle = 1; cycle <= MAX_CYCLES; cycle++) {
        ms_cycle_mark(cycle);
        ms_heap_print_overview();
        if (cycle == 10 || cycle == 50) ms_heap_dump();
        if (cycle == 30 || cycle == 31) ms_mmlk_tag();

        wifi_suspend();
        if (wifi_connect() == 0 && !g_malloc_failed) {
            app_churn();
            app_cache(cycle);
            app_txq();
            if (SCENARIO_IS(burst) && cycle == BURST_CYCLE) app_burst();
            if (SCENARIO_IS(frag)) app_frag(cycle);
        }
        last = cycle;
        if (g_malloc_failed) {
            g_failed_cycle = cycle;
            break;
        }
        if (!SCENARIO_IS(leak) && cycle == FIXED_CYCLES) break;
    }

    if (!g_malloc_failed) {
        ms_printf("run complete after %lu cycles\n", last);
        ms_heap_print_overview();
        ms_heap_dump();
    } else if (!SCENARIO_IS(leak)) {
        rc = 1;  /* only the leak scenario is expected to run out of memory */
    }
    ms_printf("live timers: %u\n", krhino_timer_live_count());

    /* Facts the firmware knows for sure, for expected.json. */
    ms_heap_stats_t st;
    ms_heap_stats(&st);
    ms_printf("[FACT] scenario %s\n", SCENARIO_NAME);
    ms_printf("[FACT] target %s\n", board_name);
    fact_u("cycles_run", last);
    fact_u("failed_cycle", g_failed_cycle);
    fact_u("live_timers", krhino_timer_live_count());
    fact_u("timers_created", krhino_timer_created());
    fact_u("timers_deleted", krhino_timer_deleted());
    fact_u("timer_payload_size", sizeof(ktimer_t));
    fact_x("leaked_timer_create_caller", wifi_drv_leaked_timer_caller());
    fact_x("timer_block_owner", krhino_timer_block_owner());
    fact_u("heap_total", st.total);
    fact_u("heap_free_at_end", st.free);
    fact_u("alloc_fail_count", st.alloc_fail);
    fact_u("exit_code", (unsigned long)rc);
    return rc;
}
