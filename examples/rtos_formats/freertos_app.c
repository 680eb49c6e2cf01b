/*
 * FreeRTOS heap figures from a program that really runs (host x86-64): the HeapStats_t
 * fields vPortGetHeapStats() fills (printed once before the reconnects, as applications do),
 * then per reconnect a 'reconnect N' line and an 'xPortGetFreeHeapSize() = ..,
 * xPortGetMinimumEverFreeHeapSize() = ..' trend line. Field and function names are
 * FreeRTOS-Kernel's (portable.h).
 */
#include "arena.h"
#include "board.h"

typedef struct {
    size_t xAvailableHeapSpaceInBytes;
    size_t xSizeOfLargestFreeBlockInBytes;
    size_t xSizeOfSmallestFreeBlockInBytes;
    size_t xNumberOfFreeBlocks;
    size_t xMinimumEverFreeBytesRemaining;
    size_t xNumberOfSuccessfulAllocations;
    size_t xNumberOfSuccessfulFrees;
} HeapStats_t;

#define configTOTAL_HEAP_SIZE (16 * 1024)
static uint8_t ucHeap[configTOTAL_HEAP_SIZE];

__attribute__((noinline)) void *pvPortMalloc(size_t n) { return arena_alloc(n, 0, 0, 0); }
__attribute__((noinline)) void vPortFree(void *p) { arena_free(p); }
size_t xPortGetFreeHeapSize(void) { arena_stats_t s; arena_stats(&s); return s.free; }
size_t xPortGetMinimumEverFreeHeapSize(void) { arena_stats_t s; arena_stats(&s); return s.min_free; }

void vPortGetHeapStats(HeapStats_t *p)
{
    arena_stats_t s;
    arena_stats(&s);
    p->xAvailableHeapSpaceInBytes = s.free;
    p->xSizeOfLargestFreeBlockInBytes = s.largest;
    p->xSizeOfSmallestFreeBlockInBytes = s.smallest;
    p->xNumberOfFreeBlocks = s.free_blocks;
    p->xMinimumEverFreeBytesRemaining = s.min_free;
    p->xNumberOfSuccessfulAllocations = s.allocs;
    p->xNumberOfSuccessfulFrees = s.frees;
}

#define RTOS_MALLOC(n) pvPortMalloc(n)
#define RTOS_FREE(p) vPortFree(p)
#include "workload.h"

int main(void)
{
    HeapStats_t st;
    board_init();
    arena_init(ucHeap, sizeof ucHeap);
    out("# FACT cycles %d\n# FACT session_bytes %u\n# FACT header_bytes %u\n", CYCLES,
        (unsigned)sizeof(struct session), (unsigned)ARENA_HDR);
    out("configTOTAL_HEAP_SIZE = %u\n", (unsigned)configTOTAL_HEAP_SIZE);
    vPortGetHeapStats(&st);
    out("xAvailableHeapSpaceInBytes: %u\n", (unsigned)st.xAvailableHeapSpaceInBytes);
    out("xSizeOfLargestFreeBlockInBytes: %u\n", (unsigned)st.xSizeOfLargestFreeBlockInBytes);
    out("xSizeOfSmallestFreeBlockInBytes: %u\n", (unsigned)st.xSizeOfSmallestFreeBlockInBytes);
    out("xNumberOfFreeBlocks: %u\n", (unsigned)st.xNumberOfFreeBlocks);
    out("xMinimumEverFreeBytesRemaining: %u\n", (unsigned)st.xMinimumEverFreeBytesRemaining);
    out("xNumberOfSuccessfulAllocations: %u\n", (unsigned)st.xNumberOfSuccessfulAllocations);
    out("xNumberOfSuccessfulFrees: %u\n", (unsigned)st.xNumberOfSuccessfulFrees);
    for (int i = 1; i <= CYCLES; i++) {
        out("reconnect %d\n", i);
        net_reconnect(i);
        out("xPortGetFreeHeapSize() = %u, xPortGetMinimumEverFreeHeapSize() = %u\n",
            (unsigned)xPortGetFreeHeapSize(), (unsigned)xPortGetMinimumEverFreeHeapSize());
    }
    return 0;
}
