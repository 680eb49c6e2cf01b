/*
 * memsleuth agent, FreeRTOS port, replace mode: a FreeRTOS heap (use it instead of
 * portable/MemMang/heap_4.c) built on the agent's own allocator, so every block carries the
 * agent's header (owner, optional trace, mmlk tag) and the AliOS-format dumps list the heap
 * block by block. The whole heap_4 API is provided, vPortGetHeapStats() complete.
 *
 * No init call: the agent starts on the first pvPortMalloc() (as heap_4 does), over
 * ucHeap[configTOTAL_HEAP_SIZE] (or the application's ucHeap with
 * configAPPLICATION_ALLOCATED_HEAP 1), printing through ms_freertos_set_write()'s sink.
 * Lock: the scheduler suspended (vTaskSuspendAll), as heap_4; never from an ISR.
 * vApplicationMallocFailedHook() is called on every failure (configUSE_MALLOC_FAILED_HOOK 1),
 * like heap_4; the agent prints its warning on every failure and the dump on the first.
 */
#include "FreeRTOS.h"
#include "task.h"

#include "memsleuth_agent.h"
#include "ms_freertos.h"

#if configAPPLICATION_ALLOCATED_HEAP == 1
extern uint8_t ucHeap[configTOTAL_HEAP_SIZE];
#else
static uint8_t ucHeap[configTOTAL_HEAP_SIZE] __attribute__((aligned(8)));
#endif

void ms_freertos_config(ms_agent_config_t *cfg, int side);

static int g_started;

static void heap_start(void)
{
    ms_agent_config_t cfg;
    extern void ms_freertos_replace_write(const char *s, size_t n);
    ms_freertos_config(&cfg, 0);
    vTaskSuspendAll();
    if (!g_started) {
        (void)ms_agent_init(ms_freertos_replace_write, ucHeap, sizeof ucHeap, &cfg);
        g_started = 1;
    }
    (void)xTaskResumeAll();
}

MS_GLUE void *pvPortMalloc(size_t xWantedSize)
{
    if (!g_started) heap_start();
    void *p = xWantedSize ? ms_malloc_from(xWantedSize, MS_CALLER()) : NULL;
    traceMALLOC(p, xWantedSize);
#if configUSE_MALLOC_FAILED_HOOK == 1
    if (!p) {
        extern void vApplicationMallocFailedHook(void);
        vApplicationMallocFailedHook();
    }
#endif
    return p;
}

MS_GLUE void vPortFree(void *pv)
{
    if (!pv) return;
    traceFREE(pv, 0);
    ms_free_from(pv, MS_CALLER());
}

MS_GLUE void *pvPortCalloc(size_t xNum, size_t xSize)
{
    if (!g_started) heap_start();
    void *p = ms_calloc_from(xNum, xSize, MS_CALLER());
#if configUSE_MALLOC_FAILED_HOOK == 1
    if (!p) {
        extern void vApplicationMallocFailedHook(void);
        vApplicationMallocFailedHook();
    }
#endif
    return p;
}

size_t xPortGetFreeHeapSize(void)
{
    ms_heap_stats_t st;
    if (!g_started) heap_start();
    ms_heap_stats(&st);
    return st.free;
}

size_t xPortGetMinimumEverFreeHeapSize(void)
{
    ms_heap_stats_t st;
    if (!g_started) heap_start();
    ms_heap_stats(&st);
    return st.total - st.max_used;
}

void xPortResetHeapMinimumEverFreeHeapSize(void)
{
    ms_heap_reset_min_free();
}

void vPortInitialiseBlocks(void)
{
    /* Nothing to do: the agent initialises on first use (heap_4 does the same). */
}

void vPortGetHeapStats(HeapStats_t *pxHeapStats)
{
    ms_heap_stats_t st;
    if (!g_started) heap_start();
    ms_heap_stats(&st);
    /* The agent's free bytes count the free blocks' headers as free, like heap_4 does. */
    pxHeapStats->xAvailableHeapSpaceInBytes = st.free;
    pxHeapStats->xSizeOfLargestFreeBlockInBytes = st.max_free_blk;
    pxHeapStats->xSizeOfSmallestFreeBlockInBytes = st.min_free_blk;
    pxHeapStats->xNumberOfFreeBlocks = st.free_blocks;
    pxHeapStats->xMinimumEverFreeBytesRemaining = st.total - st.max_used;
    pxHeapStats->xNumberOfSuccessfulAllocations = st.allocs;
    pxHeapStats->xNumberOfSuccessfulFrees = st.frees;
}
