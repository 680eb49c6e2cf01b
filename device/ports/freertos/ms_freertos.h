/*
 * memsleuth agent, FreeRTOS port. Include this file at the END of FreeRTOSConfig.h.
 *
 * Two ways to sit in a FreeRTOS firmware (see README.md in this directory):
 *
 *   beside  (MS_FREERTOS_BESIDE=1): heap_4.c / heap_5.c stay the kernel's heap. Their trace
 *           hooks traceMALLOC/traceFREE feed the agent's side table, so owners (and traces)
 *           are recorded outside the heap: the heap's blocks, its statistics
 *           (vPortGetHeapStats) and its failure point stay exactly what they were.
 *   replace (heap_ms.c instead of heap_4.c): the agent's own heap with 16-byte headers
 *           (AliOS 3.x layout), pvPortMalloc & co and a complete vPortGetHeapStats on top.
 *
 * Both: kernel-object lifecycle lines ([MSOBJ]) for timers, queues, semaphores, mutexes and
 * tasks via the linker's --wrap (MS_FREERTOS_WRAP_LDFLAGS below), the caller being the
 * application line that called xTimerCreate & co at any -O.
 */
#ifndef MS_FREERTOS_H
#define MS_FREERTOS_H

#if !defined(__ASSEMBLER__) && !defined(__IAR_SYSTEMS_ASM__)
#include <stddef.h>
#include <stdint.h>

void ms_side_alloc(void *ptr, size_t size, uintptr_t caller);
void ms_side_free(void *ptr, uintptr_t caller);

#if defined(MS_FREERTOS_BESIDE) && MS_FREERTOS_BESIDE
/*
 * Expanded inside pvPortMalloc()/vPortFree() of heap_4.c/heap_5.c (V10.4 .. V11.x), with the
 * scheduler suspended: __builtin_return_address(0) is pvPortMalloc's caller at every -O (heap_4
 * is its own translation unit; do not LTO it into the kernel). uiSize is heap_4's block size
 * including its header (xHeapStructSize, 8 bytes on 32-bit), so the table records the payload
 * the block really holds; on failure pvAddress is NULL and uiSize is the block size asked for
 * (V11.1; 0 on kernels that pass xAllocatedBlockSize).
 */
#define traceMALLOC(pvAddress, uiSize)                                                     \
    ms_side_alloc((pvAddress),                                                             \
                  (size_t)(uiSize) > xHeapStructSize ? (size_t)(uiSize) - xHeapStructSize  \
                                                     : (size_t)(uiSize),                   \
                  (uintptr_t)__builtin_return_address(0))
#define traceFREE(pvAddress, uiSize) \
    ms_side_free((pvAddress), (uintptr_t)__builtin_return_address(0))
#endif

/* The firmware's output: a polled UART write usable before the scheduler starts. */
typedef void (*ms_freertos_write_fn)(const char *s, size_t n);

/*
 * Beside mode: start the side table. Call it first thing in main(), before any task, queue or
 * timer is created (allocations before it are counted and named on one [MSAGENT] line, not
 * tracked). Replace mode needs no call: heap_ms.c starts the agent on the first pvPortMalloc
 * with ms_freertos_set_write()'s sink (set it first thing in main()).
 * Returns 0, or -1 (table too small).
 */
int  ms_freertos_init_side(ms_freertos_write_fn write);
void ms_freertos_set_write(ms_freertos_write_fn write);

/*
 * vPortGetHeapStats() in FreeRTOS' own terms (HeapStats_t field names from
 * include/portable.h, in struct order, then configTOTAL_HEAP_SIZE), one line, for teams that
 * log the kernel's figures:
 * "xAvailableHeapSpaceInBytes=20480 xSizeOfLargestFreeBlockInBytes=... configTOTAL_HEAP_SIZE=24576"
 */
void ms_freertos_print_heap_stats(void);

/* Linker flags for the object trace (add to the final link of the firmware). */
#define MS_FREERTOS_WRAP_LDFLAGS                                                         \
    "-Wl,--wrap=xTimerCreate,--wrap=xTimerGenericCommandFromTask,"                       \
    "--wrap=xQueueGenericCreate,--wrap=xQueueCreateMutex,"                               \
    "--wrap=xQueueCreateCountingSemaphore,--wrap=vQueueDelete,--wrap=xTaskCreate,"       \
    "--wrap=vTaskDelete"

#endif /* !__ASSEMBLER__ */
#endif /* MS_FREERTOS_H */
