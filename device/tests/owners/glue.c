/*
 * An RTOS-style allocation layer in its own translation unit, as a port would write it:
 * pvPortMalloc-like glue in two shapes (a tail call and a call with work after it), and a
 * kernel constructor that allocates through the glue (xTimerCreate-like). Used by the owner
 * tests at -O0, -Og, -O2 and -Os.
 */
#include "owners.h"

#include "memsleuth_agent.h"

unsigned g_glue_failures;

MS_GLUE void *glue_malloc_tail(size_t n) { return ms_malloc_from(n, MS_CALLER()); }

MS_GLUE void *glue_malloc_work(size_t n)
{
    void *p = ms_malloc_from(n, MS_CALLER());
    if (!p) g_glue_failures++;
    return p;
}

MS_GLUE void *glue_calloc(size_t n, size_t s)
{
    void *p = ms_calloc_from(n, s, MS_CALLER());
    if (!p) g_glue_failures++;
    return p;
}

MS_GLUE void *glue_realloc(void *p, size_t n)
{
    void *q = ms_realloc_from(p, n, MS_CALLER());
    if (!q) g_glue_failures++;
    return q;
}

MS_GLUE void glue_free(void *p)
{
    ms_free_from(p, MS_CALLER());
    g_glue_failures += 0u;
}

/* A kernel constructor: the block's owner is here, the application is trace[0]. */
struct ktimer *kernel_timer_create(unsigned period)
{
    struct ktimer *t = glue_malloc_work(sizeof *t);  /* SITE:kernel */
    if (t) {
        t->period = period;
        t->next = 0;
    }
    return t;
}
