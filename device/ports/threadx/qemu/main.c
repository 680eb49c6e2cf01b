/*
 * Eclipse ThreadX stress app with a slow timer leak (QEMU mps2-an385, Cortex-M3), for the
 * memsleuth ThreadX port. All kernel objects live in one byte pool (tx_byte_allocate), as a
 * ThreadX application that creates objects at run time does. Known truth, printed as [FACT]
 * lines at the end:
 *   - every round: session_start() allocates a TX_TIMER, creates a one-shot timer in it and
 *     never deletes or releases it (+1 timer, +1 block per round);
 *   - every 4th round: reconnect() allocates and creates a TX_SEMAPHORE it forgets;
 *   - balanced every round: a one-shot timer, a semaphore and a queue (control block and
 *     storage) allocated, created, deleted, released; every 4th round a helper thread (control
 *     block and stack from the pool) that runs to completion and is deleted and released;
 *   - not leaks: a boot-time periodic timer, queue and mutex, the worker thread, and a warm-up
 *     cache of 12 blocks filled over the first 12 rounds;
 * until an allocation fails (the round is the failure point). MS_MODE: 0 = no memsleuth hooks
 * (the agent only prints), 1 = side table beside the byte pool.
 */
#include <stdint.h>

#include "tx_api.h"

#include "memsleuth_agent.h"
#include "ms_threadx.h"

void board_init(void);
void board_write(const char *s, size_t n);
void board_exit(int code) __attribute__((noreturn));

#ifndef MS_MODE
#define MS_MODE 1
#endif
#ifndef POOL_SIZE
#define POOL_SIZE 28672
#endif
#define CACHE_MAX    12
#define WORKER_STACK 1024
#define HELPER_STACK 512

static TX_BYTE_POOL      g_pool;
static UCHAR             g_pool_mem[POOL_SIZE] __attribute__((aligned(8)));
static TX_TIMER         *g_boot_timer;
static TX_QUEUE         *g_events;
static TX_MUTEX         *g_lock;
static void             *g_cache[CACHE_MAX];
static unsigned          g_cache_n;
static volatile unsigned g_round, g_fail_round, g_fails, g_helper_runs;
static unsigned          g_leaked_timers, g_leaked_sems;
static int               g_line_session, g_line_reconnect;

/* Every allocation's status goes through here; the first failure's round is the failure
 * point. (The call itself stays at each site: its line is the block's owner.) */
static UINT note(UINT status)
{
    if (status != TX_SUCCESS && !g_fails++) g_fail_round = g_round;
    return status;
}
#define ALLOC(ptr, size) note(tx_byte_allocate(&g_pool, (VOID **)&(ptr), (size), TX_NO_WAIT))

static void timer_cb(ULONG id) { (void)id; }

static void helper_entry(ULONG arg)
{
    (void)arg;
    g_helper_runs++;   /* returns: the thread is TX_COMPLETED, its creator deletes it */
}

static void cache_warm(void)
{
    if (g_cache_n < CACHE_MAX && ALLOC(g_cache[g_cache_n], 96) == TX_SUCCESS) g_cache_n++;
}

static __attribute__((noinline)) void session_start(void)
{
    TX_TIMER *t = 0;
    g_line_session = __LINE__; if (ALLOC(t, sizeof *t) == TX_SUCCESS && tx_timer_create(t, "sess", timer_cb, 0, 50, 0, TX_AUTO_ACTIVATE) == TX_SUCCESS) g_leaked_timers++;
    /* the session never deletes its timer nor releases its memory: the leak */
}

static __attribute__((noinline)) void reconnect(void)
{
    TX_SEMAPHORE *s = 0;
    g_line_reconnect = __LINE__; if (ALLOC(s, sizeof *s) == TX_SUCCESS && tx_semaphore_create(s, "link", 0) == TX_SUCCESS) g_leaked_sems++;
    /* forgotten on the reconnect path: the every-4th-round leak */
}

static __attribute__((noinline)) void helper_run(void)
{
    TX_THREAD *th = 0;
    void *stack = 0;
    if (ALLOC(th, sizeof *th) != TX_SUCCESS) return;
    if (ALLOC(stack, HELPER_STACK) != TX_SUCCESS) {
        tx_byte_release(th);
        return;
    }
    /* Higher priority than the worker: it runs to completion inside tx_thread_create. */
    if (tx_thread_create(th, "helper", helper_entry, 0, stack, HELPER_STACK, 5, 5,
                         TX_NO_TIME_SLICE, TX_AUTO_START) == TX_SUCCESS) {
        UINT state = 0;
        for (int i = 0; i < 10; i++) {
            tx_thread_info_get(th, 0, &state, 0, 0, 0, 0, 0, 0);
            if (state == TX_COMPLETED) break;
            tx_thread_sleep(1);
        }
        tx_thread_delete(th);
    }
    tx_byte_release(stack);
    tx_byte_release(th);
}

static __attribute__((noinline)) void balanced_work(unsigned round)
{
    TX_TIMER *t = 0;
    TX_SEMAPHORE *s = 0;
    TX_QUEUE *q = 0;
    void *qmem = 0;
    if (ALLOC(t, sizeof *t) == TX_SUCCESS) {
        tx_timer_create(t, "once", timer_cb, 0, 10, 0, TX_AUTO_ACTIVATE);
    }
    if (ALLOC(s, sizeof *s) == TX_SUCCESS) tx_semaphore_create(s, "bin", 1);
    if (ALLOC(q, sizeof *q) == TX_SUCCESS && ALLOC(qmem, 4 * 16) == TX_SUCCESS) {
        tx_queue_create(q, "q", 4, qmem, 4 * 16);   /* 4 messages of 4 words */
        tx_queue_delete(q);
    }
    if (s) {
        tx_semaphore_delete(s);
        tx_byte_release(s);
    }
    if (qmem) tx_byte_release(qmem);
    if (q) tx_byte_release(q);
    if (t) {
        tx_timer_delete(t);
        tx_byte_release(t);
    }
    if (round % 4 == 0) helper_run();
}

static void facts(void)
{
    ms_printf("[FACT] mode %d trace_depth %d pool %d\n", MS_MODE, MS_AGENT_TRACE_DEPTH,
              (int)POOL_SIZE);
    ms_printf("[FACT] first_failure_round %u failures %u\n", g_fail_round, g_fails);
    ms_printf("[FACT] leak timer main.c:%d per_round 1 leaked %u\n", g_line_session,
              g_leaked_timers);
    ms_printf("[FACT] leak sem main.c:%d every 4 leaked %u\n", g_line_reconnect, g_leaked_sems);
    ms_printf("[FACT] forever timer 1 queue 1 mutex 1 thread 1 cache_blocks %u\n", g_cache_n);
    ms_printf("[FACT] sizeof TX_TIMER %u TX_SEMAPHORE %u TX_THREAD %u helper_runs %u\n",
              (unsigned)sizeof(TX_TIMER), (unsigned)sizeof(TX_SEMAPHORE),
              (unsigned)sizeof(TX_THREAD), g_helper_runs);
}

static void worker(ULONG arg)
{
    (void)arg;
    for (unsigned round = 1; round < 100000; round++) {
        g_round = round;
        ms_cycle_mark(round);
        cache_warm();
        balanced_work(round);
        session_start();
        if (round % 4 == 0) reconnect();
        tx_thread_sleep(2);
        ms_heap_print_overview();                            /* the trend: every round */
        if (round % 10 == 0) ms_threadx_print_pool_stats();  /* ThreadX' own figures   */
#if MS_MODE != 0
        if (round % 100 == 0) ms_heap_dump();
#endif
        if (g_fails) break;
    }
#if MS_MODE != 0
    ms_heap_dump();
#endif
    ms_threadx_print_pool_stats();
    facts();
    board_exit(0);
}

void tx_application_define(void *first_unused_memory)
{
    (void)first_unused_memory;
    TX_THREAD *w = 0;
    void *stack = 0;
    tx_byte_pool_create(&g_pool, "app", g_pool_mem, sizeof g_pool_mem);
    ms_threadx_init_side(board_write, &g_pool);   /* right after the pool, before any alloc */

    if (ALLOC(g_boot_timer, sizeof *g_boot_timer) == TX_SUCCESS) {
        tx_timer_create(g_boot_timer, "boot", timer_cb, 0, 100, 100, TX_AUTO_ACTIVATE);
    }
    void *qmem = 0;
    if (ALLOC(g_events, sizeof *g_events) == TX_SUCCESS && ALLOC(qmem, 8 * 4) == TX_SUCCESS) {
        tx_queue_create(g_events, "events", 1, qmem, 8 * 4);
    }
    if (ALLOC(g_lock, sizeof *g_lock) == TX_SUCCESS) tx_mutex_create(g_lock, "lock", TX_INHERIT);
    if (ALLOC(w, sizeof *w) == TX_SUCCESS && ALLOC(stack, WORKER_STACK) == TX_SUCCESS) {
        tx_thread_create(w, "worker", worker, 0, stack, WORKER_STACK, 10, 10, TX_NO_TIME_SLICE,
                         TX_AUTO_START);
    }
}

int main(void)
{
    board_init();
    tx_kernel_enter();
    return 1;
}
