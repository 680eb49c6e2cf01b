/*
 * The Zephyr port's host test (tests/device/test_zephyr_port.py): an application on the
 * kernel shim, at -O0/-Og/-O2/-Os. Marked lines: SITE (block owner), OBJ ([MSOBJ] caller),
 * PRE (first allocation before init). Prints BLOCK/LOCK lines and the agent's output.
 */
#include <stdint.h>
#include <stdio.h>

#include <zephyr/kernel.h>

#include "memsleuth_agent.h"

int  ms_zephyr_init(ms_write_fn write);
void ms_zephyr_print_heap_stats(void);
extern int g_shim_irq_depth, g_shim_irq_calls;

struct conn {
    uint32_t id;
    struct k_timer retry;   /* a timer inside a heap object: freed with it */
};

static void out_write(const char *s, size_t n) { fwrite(s, 1, n, stdout); }
static void expiry(struct k_timer *t) { (void)t; }
static struct k_timer g_static_timer;
static void *g_keep[8];
static volatile int g_sink;

static void report(const char *name, const void *p)
{
    uintptr_t owner = 0;
    if (ms_block_info(p, &owner, NULL, NULL) != 0) {
        printf("BLOCK %s missing\n", name);
        return;
    }
    printf("BLOCK %s owner 0x%lx t0 0x0 t1 0x0\n", name, (unsigned long)owner);
}

__attribute__((noinline)) static void work(void)
{
    struct k_timer *t = k_malloc(sizeof *t);  /* SITE:timer_mem */
    g_sink++;
    k_timer_init(t, expiry, NULL);  /* OBJ:timer_a */
    g_sink++;
    struct conn *c = k_calloc(1, sizeof *c);  /* SITE:conn */
    g_sink++;
    k_timer_init(&c->retry, expiry, NULL);  /* OBJ:timer_b */
    g_sink++;
    k_timer_init(&g_static_timer, expiry, NULL);  /* OBJ:timer_static */
    g_sink++;
    g_keep[0] = t;
    g_keep[1] = c;
    g_keep[2] = k_aligned_alloc(16, 100);  /* SITE:aligned */
    g_sink++;
    g_keep[3] = k_realloc(k_malloc(10), 200);  /* SITE:realloc */
    g_sink++;
    report("timer_mem", g_keep[0]);
    report("conn", g_keep[1]);
    report("aligned", g_keep[2]);
    report("realloc", g_keep[3]);
    k_free(t);  /* OBJ:timer_a_del */
    g_sink++;
    k_free(c);  /* OBJ:timer_b_del */
    g_sink++;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    void *early = k_malloc(8);  /* PRE:early */
    ms_zephyr_init(out_write);
    work();
    ms_heap_print_overview();
    ms_zephyr_print_heap_stats();
    for (int i = 0; i < 2; i++) {
        if (k_malloc(1u << 20)) printf("BIG allocation succeeded?\n");
    }
    ms_heap_dump();
    k_free(early);
    k_free(g_keep[2]);
    k_free(g_keep[3]);
    printf("LOCK depth %d calls %d\n", g_shim_irq_depth, g_shim_irq_calls);
    printf("CHECK %d\n", ms_heap_check());
    return 0;
}
