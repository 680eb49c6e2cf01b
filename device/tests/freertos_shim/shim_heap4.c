/*
 * Host shim of a heap_4-shaped allocator for the port's beside-mode tests (not FreeRTOS code):
 * its own translation unit, a block header named BlockLink_t of xHeapStructSize bytes, the
 * wanted size grown by the header and aligned before traceMALLOC(pvReturn, xWantedSize) is
 * expanded with the scheduler suspended, traceFREE(pv, size) in vPortFree, the malloc-failed
 * hook on every failure, and vPortGetHeapStats. First fit over a physical walk; frees coalesce.
 */
#include "FreeRTOS.h"
#include "task.h"

typedef struct {
    size_t xBlockSize;   /* including this header */
    size_t xUsed;
} BlockLink_t;

static const size_t xHeapStructSize = sizeof(BlockLink_t);
static unsigned char ucHeap[configTOTAL_HEAP_SIZE] __attribute__((aligned(16)));
static size_t xFreeBytesRemaining, xMinimumEverFreeBytesRemaining;
static size_t xNumberOfSuccessfulAllocations, xNumberOfSuccessfulFrees;
static int xStarted;

#define ALIGN 16u
#define BLK(off) ((BlockLink_t *)(ucHeap + (off)))

static void prvHeapInit(void)
{
    BLK(0)->xBlockSize = sizeof ucHeap;
    BLK(0)->xUsed = 0;
    xFreeBytesRemaining = xMinimumEverFreeBytesRemaining = sizeof ucHeap;
    xStarted = 1;
}

void *pvPortMalloc(size_t xWantedSize)
{
    void *pvReturn = NULL;
    if (xWantedSize > 0) {
        xWantedSize += xHeapStructSize;
        xWantedSize = (xWantedSize + ALIGN - 1u) & ~(size_t)(ALIGN - 1u);
    }
    vTaskSuspendAll();
    {
        if (!xStarted) prvHeapInit();
        for (size_t off = 0; xWantedSize && off < sizeof ucHeap; off += BLK(off)->xBlockSize) {
            BlockLink_t *b = BLK(off);
            if (b->xUsed || b->xBlockSize < xWantedSize) continue;
            if (b->xBlockSize - xWantedSize >= 2u * xHeapStructSize) {
                BlockLink_t *rest = BLK(off + xWantedSize);
                rest->xBlockSize = b->xBlockSize - xWantedSize;
                rest->xUsed = 0;
                b->xBlockSize = xWantedSize;
            }
            b->xUsed = 1;
            xFreeBytesRemaining -= b->xBlockSize;
            if (xFreeBytesRemaining < xMinimumEverFreeBytesRemaining)
                xMinimumEverFreeBytesRemaining = xFreeBytesRemaining;
            xNumberOfSuccessfulAllocations++;
            pvReturn = (unsigned char *)b + xHeapStructSize;
            break;
        }
        traceMALLOC(pvReturn, xWantedSize);
    }
    (void)xTaskResumeAll();
    if (!pvReturn) {
        extern void vApplicationMallocFailedHook(void);
        vApplicationMallocFailedHook();
    }
    return pvReturn;
}

void vPortFree(void *pv)
{
    if (!pv) return;
    BlockLink_t *pxLink = (BlockLink_t *)((unsigned char *)pv - xHeapStructSize);
    vTaskSuspendAll();
    {
        xFreeBytesRemaining += pxLink->xBlockSize;
        traceFREE(pv, pxLink->xBlockSize);
        pxLink->xUsed = 0;
        xNumberOfSuccessfulFrees++;
        for (size_t off = 0; off < sizeof ucHeap; off += BLK(off)->xBlockSize) {
            BlockLink_t *b = BLK(off);
            while (!b->xUsed && off + b->xBlockSize < sizeof ucHeap &&
                   !BLK(off + b->xBlockSize)->xUsed)
                b->xBlockSize += BLK(off + b->xBlockSize)->xBlockSize;
        }
    }
    (void)xTaskResumeAll();
}

void *pvPortCalloc(size_t xNum, size_t xSize)
{
    unsigned char *p = pvPortMalloc(xNum * xSize);
    for (size_t i = 0; p && i < xNum * xSize; i++) p[i] = 0;
    return p;
}

size_t xPortGetFreeHeapSize(void) { return xFreeBytesRemaining; }
size_t xPortGetMinimumEverFreeHeapSize(void) { return xMinimumEverFreeBytesRemaining; }

void vPortGetHeapStats(HeapStats_t *pxHeapStats)
{
    size_t largest = 0, smallest = (size_t)-1, n = 0;
    vTaskSuspendAll();
    for (size_t off = 0; xStarted && off < sizeof ucHeap; off += BLK(off)->xBlockSize) {
        if (BLK(off)->xUsed) continue;
        n++;
        if (BLK(off)->xBlockSize > largest) largest = BLK(off)->xBlockSize;
        if (BLK(off)->xBlockSize < smallest) smallest = BLK(off)->xBlockSize;
    }
    (void)xTaskResumeAll();
    pxHeapStats->xAvailableHeapSpaceInBytes = xFreeBytesRemaining;
    pxHeapStats->xSizeOfLargestFreeBlockInBytes = largest;
    pxHeapStats->xSizeOfSmallestFreeBlockInBytes = n ? smallest : 0;
    pxHeapStats->xNumberOfFreeBlocks = n;
    pxHeapStats->xMinimumEverFreeBytesRemaining = xMinimumEverFreeBytesRemaining;
    pxHeapStats->xNumberOfSuccessfulAllocations = xNumberOfSuccessfulAllocations;
    pxHeapStats->xNumberOfSuccessfulFrees = xNumberOfSuccessfulFrees;
}
