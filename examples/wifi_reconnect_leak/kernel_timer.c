/*
 * Kernel-like dynamic timers. Like AliOS krhino_timer_dyn_create() the timer object is a heap
 * block, so its owner (return address of the malloc call) is the same address inside this file
 * for every timer, whoever created it. The [MSOBJ] lines name the real creator (the caller of
 * krhino_timer_dyn_create), see docs/object-trace.md.
 */
#include "kernel.h"

#include <stdlib.h>

#include "memsleuth_agent.h"

static ktimer_t     *g_timer_head;
static unsigned      g_timer_live;
static unsigned long g_created, g_deleted;
static uintptr_t     g_block_owner;

__attribute__((noinline)) kstat_t krhino_timer_dyn_create(ktimer_t **timer, const char *name,
                                                          timer_cb_t cb, uint32_t first,
                                                          uint32_t round, void *arg,
                                                          uint8_t auto_run)
{
    ktimer_t *t = malloc(sizeof *t);
    if (t == NULL) {
        return RHINO_NO_MEM;
    }
    t->name = name;
    t->cb = cb;
    t->arg = arg;
    t->first = first;
    t->round = round;
    t->remain = first;
    t->match = 0;
    t->state = auto_run;
    t->type = 1;
    t->create_caller = (uintptr_t)__builtin_return_address(0);
    t->prev = NULL;
    t->next = g_timer_head;
    if (g_timer_head) g_timer_head->prev = t;
    g_timer_head = t;
    g_timer_live++;
    g_created++;
    if (!g_block_owner) ms_block_info(t, &g_block_owner, NULL, NULL);
    *timer = t;
    ms_obj_create("timer", t);
    return RHINO_SUCCESS;
}

__attribute__((noinline)) kstat_t krhino_timer_dyn_del(ktimer_t *timer)
{
    ms_obj_delete("timer", timer);
    if (timer->prev) timer->prev->next = timer->next;
    else g_timer_head = timer->next;
    if (timer->next) timer->next->prev = timer->prev;
    g_timer_live--;
    g_deleted++;
    free(timer);
    return RHINO_SUCCESS;
}

unsigned krhino_timer_live_count(void) { return g_timer_live; }
unsigned long krhino_timer_created(void) { return g_created; }
unsigned long krhino_timer_deleted(void) { return g_deleted; }

/* Owner recorded in the timer blocks' headers (same for all timers). */
uintptr_t krhino_timer_block_owner(void) { return g_block_owner; }
