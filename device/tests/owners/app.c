/*
 * Application side of the owner tests. Each allocation call is on a line marked SITE:<name>
 * (owner expected there) and T0:<names> (trace[0] expected there, depth-2 builds). The
 * program prints one line per block: "BLOCK <name> owner 0x.. t0 0x.. t1 0x..", which
 * tests/device/test_owner_levels.py checks against addr2line on the same executable.
 * The app_* functions are noinline only so that trace[0] has one right answer.
 */
#include <stdint.h>
#include <stdio.h>

#include "memsleuth_agent.h"
#include "owners.h"

static unsigned char g_arena[32 * 1024] __attribute__((aligned(16)));
static void *g_keep[16];
static volatile unsigned g_sink;

static void out_write(const char *s, size_t n) { fwrite(s, 1, n, stderr); }

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

__attribute__((noinline)) void app_make_timers(void)
{
    g_keep[0] = kernel_timer_create(100);  /* T0:kernel */
    g_sink++;
}

__attribute__((noinline)) void app_buffers(void)
{
    g_keep[1] = glue_malloc_tail(40);  /* SITE:tail */
    g_sink++;
    g_keep[2] = glue_malloc_work(56);  /* SITE:work */
    g_sink++;
    g_keep[3] = glue_calloc(3, 12);  /* SITE:calloc */
    g_sink++;
    g_keep[4] = glue_malloc_work(16);
    g_keep[4] = glue_realloc(g_keep[4], 400);  /* SITE:realloc */
    g_sink++;
}

int main(void)
{
    ms_agent_config_t cfg;
    ms_agent_config_default(&cfg);
    cfg.crlf = 0;
    ms_agent_init(out_write, g_arena, sizeof g_arena, &cfg);
    app_make_timers();
    app_buffers();  /* T0:tail,work,calloc,realloc */
    report("kernel", g_keep[0]);
    report("tail", g_keep[1]);
    report("work", g_keep[2]);
    report("calloc", g_keep[3]);
    report("realloc", g_keep[4]);
    glue_free(g_keep[2]);
    glue_free(g_keep[2]);  /* SITE:badfree */
    for (int i = 0; i < 5; i++) glue_free(g_keep[i] == g_keep[2] ? NULL : g_keep[i]);
    printf("DEPTH %d FAILURES %u\n", MS_AGENT_TRACE_DEPTH, g_glue_failures);
    return ms_heap_check();
}
