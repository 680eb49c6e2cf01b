/* The vendor timer service (constructor) and its OS-abstraction wrapper. */
#include "vsdk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"

struct vsdk_tmr {
    struct vsdk_tmr *next;
    const char *name;
    vsdk_tmr_fn fn;
    void *arg;
    uint32_t period, remain, flags, priv[5];
};

static struct vsdk_tmr *g_list;
static unsigned long g_created, g_deleted;

__attribute__((noinline)) void *osal_malloc(unsigned n)
{
    return malloc(n);
}

__attribute__((noinline)) void osal_free(void *p)
{
    free(p);
}

__attribute__((noinline)) vsdk_tmr_t *vsdk_tmr_create(const char *name, uint32_t period_ms,
                                                      vsdk_tmr_fn fn, void *arg)
{
    struct vsdk_tmr *t = osal_malloc(sizeof *t);
    if (t == NULL) return NULL;
    memset(t, 0, sizeof *t);
    t->name = name;
    t->fn = fn;
    t->arg = arg;
    t->period = t->remain = period_ms;
    t->next = g_list;
    g_list = t;
    g_created++;
    return t;
}

__attribute__((noinline)) void vsdk_tmr_destroy(vsdk_tmr_t *t)
{
    struct vsdk_tmr **pp = &g_list;
    while (*pp && *pp != t) pp = &(*pp)->next;
    if (*pp) *pp = t->next;
    g_deleted++;
    osal_free(t);
}

/* The engineers' own trace print: libc %p (no zero padding, "(nil)" on glibc for NULL). */
static void trace_line(const char *verb, void *handle, void *caller)
{
    char buf[96];
    int n = snprintf(buf, sizeof buf, "timer %s %p caller %p%s", verb, handle, caller,
                     board_crlf ? "\r\n" : "\n");
    if (n > 0) board_write(buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

__attribute__((noinline)) vsdk_tmr_t *osal_timer_new(const char *name, uint32_t period_ms,
                                                     vsdk_tmr_fn fn, void *arg)
{
    vsdk_tmr_t *t = vsdk_tmr_create(name, period_ms, fn, arg);
    if (t) trace_line("create", t, __builtin_return_address(0));
    return t;
}

__attribute__((noinline)) void osal_timer_free(vsdk_tmr_t *t)
{
    if (!t) return;
    trace_line("delete", t, __builtin_return_address(0));
    vsdk_tmr_destroy(t);
}

unsigned long vsdk_timers_created(void) { return g_created; }
unsigned long vsdk_timers_deleted(void) { return g_deleted; }
unsigned vsdk_tmr_size(void) { return (unsigned)sizeof(struct vsdk_tmr); }
