/*
 * The ThreadX shim's kernel side (tests only, not ThreadX' code): a byte pool with ThreadX'
 * block layout and accounting (each block: next pointer, then TX_BYTE_BLOCK_FREE or the owning
 * pool; first fit from the list start, adjacent free blocks merged during the search, split
 * when TX_BYTE_BLOCK_MIN is left, the end marker block owned by the pool), the interrupt
 * posture with a nesting check, and object services that print what they were asked.
 */
#include <stdio.h>

#include "tx_api.h"
#include "tx_byte_pool.h"

#define HDR ((ULONG)(sizeof(UCHAR *) + sizeof(ALIGN_TYPE)))
#define NEXT(b)  (*(UCHAR **)(b))
#define OWNER(b) (*(ALIGN_TYPE *)((b) + sizeof(UCHAR *)))

int g_shim_int_disabled, g_shim_int_calls, g_shim_int_bad;
TX_THREAD *g_shim_current;

UINT _tx_thread_interrupt_control(UINT new_posture)
{
    UINT old = (UINT)g_shim_int_disabled;
    if (new_posture == TX_INT_DISABLE) g_shim_int_calls++;
    if (new_posture != TX_INT_DISABLE && new_posture != TX_INT_ENABLE) g_shim_int_bad++;
    g_shim_int_disabled = new_posture == TX_INT_DISABLE;
    return old;
}

UINT _txe_byte_pool_create(TX_BYTE_POOL *pool, CHAR *name, VOID *start, ULONG size, UINT cb)
{
    (void)cb;
    size = size / sizeof(ALIGN_TYPE) * sizeof(ALIGN_TYPE);
    UCHAR *s = (UCHAR *)start, *end = s + size - HDR;
    pool->tx_byte_pool_name = name;
    pool->tx_byte_pool_start = pool->tx_byte_pool_list = pool->tx_byte_pool_search = s;
    pool->tx_byte_pool_size = size;
    pool->tx_byte_pool_available = size - HDR;
    pool->tx_byte_pool_fragments = 2;
    NEXT(end) = s;
    OWNER(end) = (ALIGN_TYPE)pool;
    NEXT(s) = end;
    OWNER(s) = TX_BYTE_BLOCK_FREE;
    return TX_SUCCESS;
}

UINT _txe_byte_allocate(TX_BYTE_POOL *pool, VOID **mem, ULONG size, ULONG wait)
{
    (void)wait;
    size = (size + sizeof(ALIGN_TYPE) - 1u) / sizeof(ALIGN_TYPE) * sizeof(ALIGN_TYPE);
    UCHAR *b = pool->tx_byte_pool_list, *end = pool->tx_byte_pool_start +
                                                pool->tx_byte_pool_size - HDR;
    *mem = 0;
    while (b != end) {
        if (OWNER(b) == TX_BYTE_BLOCK_FREE) {
            while (NEXT(b) != end && OWNER(NEXT(b)) == TX_BYTE_BLOCK_FREE) {
                NEXT(b) = NEXT(NEXT(b));   /* merge the free neighbour */
                pool->tx_byte_pool_fragments--;
            }
            ULONG avail = (ULONG)(NEXT(b) - b) - HDR;
            if (avail >= size) {
                if (avail - size >= TX_BYTE_BLOCK_MIN) {
                    UCHAR *rest = b + size + HDR;
                    NEXT(rest) = NEXT(b);
                    OWNER(rest) = TX_BYTE_BLOCK_FREE;
                    NEXT(b) = rest;
                    pool->tx_byte_pool_fragments++;
                    avail = size;
                }
                OWNER(b) = (ALIGN_TYPE)pool;
                pool->tx_byte_pool_available -= avail + HDR;
                *mem = b + HDR;
                return TX_SUCCESS;
            }
        }
        b = NEXT(b);
    }
    return TX_NO_MEMORY;
}

UINT _txe_byte_release(VOID *mem)
{
    UCHAR *b = (UCHAR *)mem - HDR;
    TX_BYTE_POOL *pool = (TX_BYTE_POOL *)OWNER(b);
    OWNER(b) = TX_BYTE_BLOCK_FREE;
    pool->tx_byte_pool_available += (ULONG)(NEXT(b) - b);
    return TX_SUCCESS;
}

UINT _txe_byte_pool_info_get(TX_BYTE_POOL *pool, CHAR **name, ULONG *available,
                             ULONG *fragments, TX_THREAD **first_suspended,
                             ULONG *suspended_count, TX_BYTE_POOL **next_pool)
{
    if (name) *name = pool->tx_byte_pool_name;
    if (available) *available = pool->tx_byte_pool_available;
    if (fragments) *fragments = pool->tx_byte_pool_fragments;
    if (first_suspended) *first_suspended = 0;
    if (suspended_count) *suspended_count = 0;
    if (next_pool) *next_pool = 0;
    return TX_SUCCESS;
}

TX_THREAD *_tx_thread_identify(VOID) { return g_shim_current; }

UINT _txe_timer_create(TX_TIMER *t, CHAR *name, VOID (*fn)(ULONG), ULONG in, ULONG ticks,
                       ULONG resched, UINT activate, UINT cb)
{
    (void)fn, (void)in, (void)ticks, (void)resched, (void)activate;
    t->name = name;
    printf("SHIM timer_create %s cb %u\n", name, cb);
    return TX_SUCCESS;
}

UINT _txe_timer_delete(TX_TIMER *t) { printf("SHIM timer_delete %s\n", t->name); return TX_SUCCESS; }

UINT _txe_thread_create(TX_THREAD *t, CHAR *name, VOID (*entry)(ULONG), ULONG in, VOID *stack,
                        ULONG stack_size, UINT prio, UINT thresh, ULONG slice, UINT start,
                        UINT cb)
{
    (void)entry, (void)in, (void)stack, (void)stack_size, (void)prio, (void)thresh, (void)slice;
    (void)cb;
    t->tx_thread_name = name;
    t->started = start == TX_AUTO_START;
    printf("SHIM thread_create %s start %u\n", name, start);
    return TX_SUCCESS;
}

UINT _txe_thread_resume(TX_THREAD *t)
{
    t->started = 1;
    printf("SHIM thread_resume %s\n", t->tx_thread_name);
    return TX_SUCCESS;
}

UINT _txe_thread_delete(TX_THREAD *t) { printf("SHIM thread_delete %s\n", t->tx_thread_name); return TX_SUCCESS; }
UINT _txe_queue_create(TX_QUEUE *q, CHAR *name, UINT msg, VOID *start, ULONG size, UINT cb)
{
    (void)msg, (void)start, (void)size, (void)cb;
    q->name = name;
    return TX_SUCCESS;
}
UINT _txe_queue_delete(TX_QUEUE *q) { (void)q; return TX_SUCCESS; }
UINT _txe_semaphore_create(TX_SEMAPHORE *s, CHAR *name, ULONG count, UINT cb)
{
    (void)count, (void)cb;
    s->name = name;
    return TX_SUCCESS;
}
UINT _txe_semaphore_delete(TX_SEMAPHORE *s) { (void)s; return TX_SUCCESS; }
UINT _txe_mutex_create(TX_MUTEX *m, CHAR *name, UINT inherit, UINT cb)
{
    (void)inherit, (void)cb;
    m->name = name;
    return TX_SUCCESS;
}
UINT _txe_mutex_delete(TX_MUTEX *m) { (void)m; return TX_SUCCESS; }
