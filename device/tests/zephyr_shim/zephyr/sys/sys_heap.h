/* Host shim (see zephyr/kernel.h): sys_heap runtime statistics as Zephyr declares them. */
#ifndef SHIM_ZEPHYR_SYS_HEAP_H
#define SHIM_ZEPHYR_SYS_HEAP_H
#include <stddef.h>

struct sys_heap {
    void *heap;
    size_t size;
};
struct sys_memory_stats {
    size_t free_bytes;
    size_t allocated_bytes;
    size_t max_allocated_bytes;
};
int sys_heap_runtime_stats_get(struct sys_heap *heap, struct sys_memory_stats *stats);
#endif
