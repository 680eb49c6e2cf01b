/*
 * Cost microbenchmark: the same malloc/free pattern through the agent (ms_malloc/ms_free) or
 * through the C library (-DBENCH_LIBC). Run under `valgrind --tool=callgrind` and read the
 * inclusive instruction counts of the allocation functions (see device/README.md).
 */
#include <stdint.h>
#include <stdlib.h>

#include "memsleuth_agent.h"

#define N_OPS 100000
#define SLOTS 64

static unsigned char g_arena[256 * 1024] __attribute__((aligned(16)));
static void sink(const char *s, size_t n) { (void)s; (void)n; }

#ifdef BENCH_LIBC
#define ALLOC(n) malloc(n)
#define FREE(p)  free(p)
#else
#define ALLOC(n) ms_malloc(n)
#define FREE(p)  ms_free(p)
#endif

static __attribute__((noinline)) void *leaf_alloc(size_t n) { return ALLOC(n); }
static __attribute__((noinline)) void *mid_alloc(size_t n) { return leaf_alloc(n); }

int main(void)
{
    void *slot[SLOTS] = {0};
    uint32_t rng = 1;
    ms_agent_init(sink, g_arena, sizeof g_arena, NULL);
    for (int i = 0; i < N_OPS; i++) {
        rng = rng * 1664525u + 1013904223u;
        unsigned k = (rng >> 10) % SLOTS;
        if (slot[k]) {
            FREE(slot[k]);
            slot[k] = 0;
        } else {
            slot[k] = mid_alloc(16 + (rng >> 20) % 1000);
        }
    }
    for (int k = 0; k < SLOTS; k++) FREE(slot[k]);
    return 0;
}
