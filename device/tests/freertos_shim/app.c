/*
 * The FreeRTOS port's host test (tests/device/test_freertos_port.py): an application on the
 * kernel shim, built beside the shim's heap_4-shaped heap (SHIM_REPLACE=0, side table) or with
 * the port's heap_ms.c (SHIM_REPLACE=1), at -O0/-Og/-O2/-Os. Marked lines: SITE (block owner),
 * T1 (block trace[1]: the kernel constructor is the owner, the port's wrapper trace[0]),
 * OBJ ([MSOBJ] caller), PRE (first allocation before init). Prints BLOCK/STATS/HOOK/LOCK lines.
 */
#include <stdint.h>
#include <stdio.h>

#include "FreeRTOS.h"
#include "queue.h"
#include "semphr.h"
#include "task.h"
#include "timers.h"

#include "memsleuth_agent.h"
#include "ms_freertos.h"

extern int g_shim_sched, g_shim_suspended, g_shim_suspend_calls;
extern TaskHandle_t g_shim_current;
static int g_hook;
void vApplicationMallocFailedHook(void);
void vApplicationMallocFailedHook(void) { g_hook++; }

static void out_write(const char *s, size_t n) { fwrite(s, 1, n, stdout); }

static void report(const char *name, const void *p)
{
    uintptr_t owner = 0, tr[2] = {0, 0};
    if (ms_block_info(p, &owner, NULL, NULL) != 0) {
        printf("BLOCK %s missing\n", name);
        return;
    }
    ms_block_trace(p, tr, 2);
    printf("BLOCK %s owner 0x%lx t0 0x%lx t1 0x%lx\n", name, (unsigned long)owner,
           (unsigned long)tr[0], (unsigned long)tr[1]);
}

static void timer_cb(TimerHandle_t t) { (void)t; }
static void task_fn(void *arg) { (void)arg; }

static TimerHandle_t g_t;
static QueueHandle_t g_q;
static SemaphoreHandle_t g_s, g_m;
static TaskHandle_t g_task;
static void *g_p, *g_c, *g_pre;
static volatile int g_sink;

__attribute__((noinline)) static void create_objects(void)
{
    g_t = xTimerCreate("t", 10, pdFALSE, 0, timer_cb);  /* OBJ:timer T1:ktimer */
    g_sink++;
    g_p = pvPortMalloc(40);  /* SITE:direct */
    g_sink++;
    g_q = xQueueCreate(4, 8);  /* OBJ:queue T1:kqueue */
    g_sink++;
    g_s = xSemaphoreCreateCounting(3, 0);  /* OBJ:sem */
    g_sink++;
    g_m = xSemaphoreCreateMutex();  /* OBJ:mutex */
    g_sink++;
    xTaskCreate(task_fn, "worker", 64, NULL, 1, &g_task);  /* OBJ:task T1:kstack */
    g_sink++;
#if SHIM_REPLACE
    g_c = pvPortCalloc(3, 10);  /* SITE:calloc */
    g_sink++;
#endif
}

__attribute__((noinline)) static void delete_objects(void)
{
    xTimerDelete(g_t, 0);  /* OBJ:timer_del */
    g_sink++;
    vSemaphoreDelete(g_s);  /* OBJ:sem_del */
    g_sink++;
    vTaskDelete(g_task);  /* OBJ:task_del */
    g_sink++;
}

static void print_stats(void)
{
    HeapStats_t hs;
    vPortGetHeapStats(&hs);
    printf("STATS xAvailableHeapSpaceInBytes=%zu xSizeOfLargestFreeBlockInBytes=%zu "
           "xSizeOfSmallestFreeBlockInBytes=%zu xNumberOfFreeBlocks=%zu "
           "xMinimumEverFreeBytesRemaining=%zu xNumberOfSuccessfulAllocations=%zu "
           "xNumberOfSuccessfulFrees=%zu configTOTAL_HEAP_SIZE=%d\n",
           hs.xAvailableHeapSpaceInBytes, hs.xSizeOfLargestFreeBlockInBytes,
           hs.xSizeOfSmallestFreeBlockInBytes, hs.xNumberOfFreeBlocks,
           hs.xMinimumEverFreeBytesRemaining, hs.xNumberOfSuccessfulAllocations,
           hs.xNumberOfSuccessfulFrees, (int)configTOTAL_HEAP_SIZE);
    fflush(stdout);
    ms_freertos_print_heap_stats();
    fflush(stdout);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
#if SHIM_REPLACE
    ms_freertos_set_write(out_write);  /* no init: heap_ms.c starts on the first pvPortMalloc */
#else
    g_pre = pvPortMalloc(8);  /* PRE:early */
    ms_freertos_init_side(out_write);
#endif
    g_shim_sched = taskSCHEDULER_RUNNING;
    create_objects();
    report("ktimer", g_t);
    report("direct", g_p);
    report("kqueue", g_q);
    report("kstack", g_task ? *(void **)g_task : NULL);
#if SHIM_REPLACE
    report("calloc", g_c);
#endif
    print_stats();
    /* A block the worker task allocates: the task table names the worker until it is deleted,
     * then its bytes are "Allocated by deleted task". */
    TaskHandle_t prev = g_shim_current;
    g_shim_current = g_task;
    void *owned = pvPortMalloc(200);
    g_shim_current = prev;
    printf("TASKBLOCK %d\n", owned != NULL);
    ms_heap_dump();
    delete_objects();
    size_t before = xPortGetFreeHeapSize();
    for (int i = 0; i < 3; i++) {
        if (pvPortMalloc(1u << 20) != NULL) printf("BIG allocation succeeded?\n");
    }
    printf("HOOK %d\n", g_hook);
    printf("FREE before %zu after %zu\n", before, xPortGetFreeHeapSize());
    print_stats();
    ms_heap_dump();
    vPortFree(g_p);
    vQueueDelete(g_q);  /* OBJ:queue_del */
    vSemaphoreDelete(g_m);  /* OBJ:mutex_del */
    vPortFree(g_c);
    vPortFree(g_pre);
    vPortFree(owned);
    print_stats();
    printf("LOCK depth %d calls %d\n", g_shim_suspended, g_shim_suspend_calls);
    printf("CHECK %d\n", ms_heap_check());
    return 0;
}
