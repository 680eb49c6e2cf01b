/*
 * FreeRTOS stress app with a slow kernel-object leak (QEMU mps2-an385, Cortex-M3), for the
 * memsleuth FreeRTOS port. Known truth, printed as [FACT] lines at the end:
 *   - every round: a session timer created in session_start() is never deleted (+1 timer);
 *   - every 4th round: reconnect() creates a counting semaphore that is never deleted;
 *   - balanced every round: a one-shot timer, a binary semaphore and a queue created and
 *     deleted; every 4th round a helper task that deletes itself;
 *   - not leaks: a boot-time timer, queue and mutex that live forever, and a warm-up cache
 *     of 12 blocks filled over the first 12 rounds;
 * until an allocation fails (the round is the failure point). MS_MODE: 0 = no memsleuth hooks
 * (heap_4, the agent only prints), 1 = side table beside heap_4, 2 = heap_ms.c (agent heap).
 */
#include <stdint.h>

#include "FreeRTOS.h"
#include "queue.h"
#include "semphr.h"
#include "task.h"
#include "timers.h"

#include "memsleuth_agent.h"
#include "ms_freertos.h"

void board_init(void);
void board_write(const char *s, size_t n);
void board_exit(int code) __attribute__((noreturn));

#ifndef MS_MODE
#define MS_MODE 1
#endif
#define CACHE_MAX 12

static TimerHandle_t     g_boot_timer;
static QueueHandle_t     g_events;
static SemaphoreHandle_t g_lock;
static void             *g_cache[CACHE_MAX];
static unsigned          g_cache_n;
static volatile unsigned g_round, g_fail_round, g_fails;
static unsigned          g_leaked_timers, g_leaked_sems;
static int               g_line_session, g_line_reconnect;

void vApplicationMallocFailedHook(void)
{
    /* FreeRTOS calls this on every failed pvPortMalloc (heap_4 and heap_ms.c alike). */
    if (!g_fails++) g_fail_round = g_round;
}

void app_assert_failed(const char *file, int line)
{
    ms_printf("[FACT] assert %s:%d\n", file, line);
    board_exit(3);
}

static void timer_cb(TimerHandle_t t) { (void)t; }

static void helper_task(void *arg)
{
    (void)arg;
    vTaskDelete(NULL);
}

static void boot(void)
{
    g_boot_timer = xTimerCreate("boot", 1000, pdTRUE, 0, timer_cb);
    xTimerStart(g_boot_timer, 0);
    g_events = xQueueCreate(8, sizeof(uint32_t));
    g_lock = xSemaphoreCreateMutex();
}

static void cache_warm(void)
{
    if (g_cache_n < CACHE_MAX) g_cache[g_cache_n++] = pvPortMalloc(96);
}

static __attribute__((noinline)) void session_start(void)
{
    TimerHandle_t t = xTimerCreate("sess", 50, pdFALSE, 0, timer_cb); g_line_session = __LINE__;
    if (t) g_leaked_timers++;  /* the session never stops it: the leak */
}

static __attribute__((noinline)) void reconnect(void)
{
    SemaphoreHandle_t s = xSemaphoreCreateCounting(4, 0); g_line_reconnect = __LINE__;
    if (s) g_leaked_sems++;     /* forgotten on the reconnect path: the every-4th-round leak */
}

static __attribute__((noinline)) void balanced_work(unsigned round)
{
    TimerHandle_t t = xTimerCreate("once", 10, pdFALSE, 0, timer_cb);
    SemaphoreHandle_t s = xSemaphoreCreateBinary();
    QueueHandle_t q = xQueueCreate(4, 16);
    if (s) vSemaphoreDelete(s);
    if (q) vQueueDelete(q);
    if (t) xTimerDelete(t, portMAX_DELAY);
    if (round % 4 == 0) xTaskCreate(helper_task, "helper", 128, NULL, 1, NULL);
}

static void facts(void)
{
    ms_printf("[FACT] mode %d trace_depth %d heap %d\n", MS_MODE, MS_AGENT_TRACE_DEPTH,
              (int)configTOTAL_HEAP_SIZE);
    ms_printf("[FACT] first_failure_round %u failures %u\n", g_fail_round, g_fails);
    ms_printf("[FACT] leak timer main.c:%d per_round 1 leaked %u\n", g_line_session,
              g_leaked_timers);
    ms_printf("[FACT] leak sem main.c:%d every 4 leaked %u\n", g_line_reconnect, g_leaked_sems);
    ms_printf("[FACT] forever timer 1 queue 1 mutex 1 cache_blocks %u\n", g_cache_n);
}

static void worker(void *arg)
{
    (void)arg;
    for (unsigned round = 1; round < 100000; round++) {
        g_round = round;
        ms_cycle_mark(round);
        cache_warm();
        balanced_work(round);
        session_start();
        if (round % 4 == 0) reconnect();
        vTaskDelay(2);  /* the timer task deletes, the idle task frees deleted helpers */
        ms_heap_print_overview();                           /* the trend: every round */
        if (round % 10 == 0) ms_freertos_print_heap_stats();   /* FreeRTOS' own figures  */
#if MS_MODE != 0
        if (round % 100 == 0) ms_heap_dump();
#endif
        if (g_fails) break;
    }
#if MS_MODE != 0
    ms_heap_dump();
#endif
    ms_freertos_print_heap_stats();
    facts();
    board_exit(0);
}

#if MS_MODE == 0
static ms_side_entry_t g_print_only[2];
#endif

#if !APP_HEAP5
uint8_t ucHeap[configTOTAL_HEAP_SIZE] __attribute__((aligned(8)));
#else
/* heap_5: the same 24 KiB in two regions (as a board with two RAM banks would do). */
static uint8_t g_region_a[configTOTAL_HEAP_SIZE / 2] __attribute__((aligned(8)));
static uint8_t g_region_b[configTOTAL_HEAP_SIZE / 2] __attribute__((aligned(8)));
#endif

int main(void)
{
#if APP_HEAP5
    /* heap_5 wants the regions in increasing address order: the linker picks the order. */
    uint8_t *lo = (uintptr_t)g_region_a < (uintptr_t)g_region_b ? g_region_a : g_region_b;
    uint8_t *hi = lo == g_region_a ? g_region_b : g_region_a;
    const HeapRegion_t regions[] = {{lo, sizeof g_region_a}, {hi, sizeof g_region_b}, {NULL, 0}};
    vPortDefineHeapRegions(regions);   /* heap_5: before anything allocates */
#endif
    board_init();
    ms_freertos_set_write(board_write);
#if MS_MODE == 1
    ms_freertos_init_side(board_write);
#elif MS_MODE == 0
    /* No hooks into the heap: the agent only formats lines (side mode with an unused table). */
    {
        ms_agent_config_t cfg;
        ms_agent_config_default(&cfg);
        ms_agent_init_side(board_write, g_print_only, sizeof g_print_only, &cfg);
    }
#endif
    /* MS_MODE 2: heap_ms.c starts the agent on the first pvPortMalloc. */
    boot();
    xTaskCreate(worker, "worker", 512, NULL, 2, NULL);
    vTaskStartScheduler();
    return 1;
}
