/*
 * Host shim of Zephyr's system heap and timers for the port's tests (not Zephyr code): k_malloc
 * & co over the host's malloc with a size header (so runtime statistics are exact), a fixed
 * heap budget so allocations can fail, k_timer_init, and an irq_lock nesting counter the test
 * checks for balance.
 */
#include <stdlib.h>
#include <string.h>

#include <zephyr/kernel.h>

#define SHIM_HEAP_BYTES (16u * 1024u)

struct k_heap _system_heap = {{0, SHIM_HEAP_BYTES}};
static size_t g_alloc, g_max;
int g_shim_irq_depth, g_shim_irq_calls;

unsigned int irq_lock(void)
{
    g_shim_irq_calls++;
    return (unsigned)g_shim_irq_depth++;
}

void irq_unlock(unsigned int key)
{
    g_shim_irq_depth--;
    if ((unsigned)g_shim_irq_depth != key) g_shim_irq_depth = -1000;  /* unbalanced */
}

bool k_is_in_isr(void) { return false; }

void *k_aligned_alloc(size_t align, size_t size)
{
    (void)align;
    if (size > SHIM_HEAP_BYTES - g_alloc) return NULL;
    size_t *p = malloc(sizeof(size_t) * 2 + size);
    if (!p) return NULL;
    p[0] = size;
    g_alloc += size;
    if (g_alloc > g_max) g_max = g_alloc;
    return p + 2;
}

void *k_malloc(size_t size)
{
    void *p = k_aligned_alloc(sizeof(void *), size);
    return p;
}

void k_free(void *ptr)
{
    if (!ptr) return;
    size_t *p = (size_t *)ptr - 2;
    g_alloc -= p[0];
    free(p);
}

void *k_calloc(size_t nmemb, size_t size)
{
    void *p = k_malloc(nmemb * size);
    if (p) memset(p, 0, nmemb * size);
    return p;
}

void *k_realloc(void *ptr, size_t size)
{
    void *q = k_malloc(size);
    if (q && ptr) {
        size_t old = ((size_t *)ptr)[-2];
        memcpy(q, ptr, old < size ? old : size);
        k_free(ptr);
    }
    return q;
}

int sys_heap_runtime_stats_get(struct sys_heap *heap, struct sys_memory_stats *stats)
{
    if (heap != &_system_heap.heap) return -22;
    stats->allocated_bytes = g_alloc;
    stats->free_bytes = SHIM_HEAP_BYTES - g_alloc;
    stats->max_allocated_bytes = g_max;
    return 0;
}

void k_timer_init(struct k_timer *timer, k_timer_expiry_t expiry_fn, k_timer_stop_t stop_fn)
{
    timer->expiry_fn = expiry_fn;
    timer->stop_fn = stop_fn;
    timer->status = 0;
}

void k_timer_stop(struct k_timer *timer) { timer->status = 0; }
