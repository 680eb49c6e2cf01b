/*
 * A small ThreadX API shim for the ThreadX port's host test (tests/device/test_threadx_port.py),
 * written for the tests: the names, signatures, constants and byte-pool fields of Eclipse
 * ThreadX 6.4 (common/inc/tx_api.h) that device/ports/threadx/ms_threadx.c uses, with API error
 * checking on (application calls go to _txe_*). Not ThreadX' code.
 */
#ifndef TX_API_H
#define TX_API_H

#include <stddef.h>
#include <stdint.h>

typedef void          VOID;
typedef char          CHAR;
typedef unsigned char UCHAR;
typedef unsigned int  UINT;
typedef unsigned long ULONG;
typedef uintptr_t     ALIGN_TYPE;

#define TX_SUCCESS      0x00u
#define TX_NO_MEMORY    0x10u
#define TX_NO_WAIT      0ul
#define TX_AUTO_START   1u
#define TX_DONT_START   0u
#define TX_AUTO_ACTIVATE 1u
#define TX_NO_TIME_SLICE 0ul
#define TX_INT_DISABLE  1u
#define TX_INT_ENABLE   0u
#define TX_NULL         ((void *)0)

typedef struct TX_THREAD_STRUCT {
    CHAR *tx_thread_name;
    UINT  started;
} TX_THREAD;

typedef struct TX_BYTE_POOL_STRUCT {
    ULONG  tx_byte_pool_id;
    CHAR  *tx_byte_pool_name;
    ULONG  tx_byte_pool_available;
    UINT   tx_byte_pool_fragments;
    UCHAR *tx_byte_pool_list;
    UCHAR *tx_byte_pool_search;
    UCHAR *tx_byte_pool_start;
    ULONG  tx_byte_pool_size;
} TX_BYTE_POOL;

typedef struct { CHAR *name; } TX_TIMER;
typedef struct { CHAR *name; } TX_QUEUE;
typedef struct { CHAR *name; } TX_SEMAPHORE;
typedef struct { CHAR *name; } TX_MUTEX;

/* Interrupt posture (the shim counts the nesting the port's lock produces). */
UINT _tx_thread_interrupt_control(UINT new_posture);
#define tx_interrupt_control _tx_thread_interrupt_control
#define TX_INTERRUPT_SAVE_AREA UINT interrupt_save;
#define TX_DISABLE interrupt_save = _tx_thread_interrupt_control(TX_INT_DISABLE);
#define TX_RESTORE (void)_tx_thread_interrupt_control(interrupt_save);

UINT _txe_byte_pool_create(TX_BYTE_POOL *pool, CHAR *name, VOID *start, ULONG size, UINT cb);
UINT _txe_byte_allocate(TX_BYTE_POOL *pool, VOID **mem, ULONG size, ULONG wait);
UINT _txe_byte_release(VOID *mem);
UINT _txe_byte_pool_info_get(TX_BYTE_POOL *pool, CHAR **name, ULONG *available,
                             ULONG *fragments, TX_THREAD **first_suspended,
                             ULONG *suspended_count, TX_BYTE_POOL **next_pool);
UINT _txe_timer_create(TX_TIMER *t, CHAR *name, VOID (*fn)(ULONG), ULONG in, ULONG ticks,
                       ULONG resched, UINT activate, UINT cb);
UINT _txe_timer_delete(TX_TIMER *t);
UINT _txe_thread_create(TX_THREAD *t, CHAR *name, VOID (*entry)(ULONG), ULONG in, VOID *stack,
                        ULONG stack_size, UINT prio, UINT thresh, ULONG slice, UINT start,
                        UINT cb);
UINT _txe_thread_delete(TX_THREAD *t);
UINT _txe_thread_resume(TX_THREAD *t);
TX_THREAD *_tx_thread_identify(VOID);
UINT _txe_queue_create(TX_QUEUE *q, CHAR *name, UINT msg, VOID *start, ULONG size, UINT cb);
UINT _txe_queue_delete(TX_QUEUE *q);
UINT _txe_semaphore_create(TX_SEMAPHORE *s, CHAR *name, ULONG count, UINT cb);
UINT _txe_semaphore_delete(TX_SEMAPHORE *s);
UINT _txe_mutex_create(TX_MUTEX *m, CHAR *name, UINT inherit, UINT cb);
UINT _txe_mutex_delete(TX_MUTEX *m);

#define tx_byte_pool_create(p, n, s, z) _txe_byte_pool_create((p), (n), (s), (z), sizeof(TX_BYTE_POOL))
#define tx_byte_allocate        _txe_byte_allocate
#define tx_byte_release         _txe_byte_release
#define tx_byte_pool_info_get   _txe_byte_pool_info_get
#define tx_timer_create(t, n, f, i, k, r, a) _txe_timer_create((t), (n), (f), (i), (k), (r), (a), sizeof(TX_TIMER))
#define tx_timer_delete         _txe_timer_delete
#define tx_thread_create(t, n, e, i, s, z, p, h, l, a) _txe_thread_create((t), (n), (e), (i), (s), (z), (p), (h), (l), (a), sizeof(TX_THREAD))
#define tx_thread_delete        _txe_thread_delete
#define tx_thread_resume        _txe_thread_resume
#define tx_thread_identify      _tx_thread_identify
#define tx_queue_create(q, n, m, s, z) _txe_queue_create((q), (n), (m), (s), (z), sizeof(TX_QUEUE))
#define tx_queue_delete         _txe_queue_delete
#define tx_semaphore_create(s, n, c) _txe_semaphore_create((s), (n), (c), sizeof(TX_SEMAPHORE))
#define tx_semaphore_delete     _txe_semaphore_delete
#define tx_mutex_create(m, n, i) _txe_mutex_create((m), (n), (i), sizeof(TX_MUTEX))
#define tx_mutex_delete         _txe_mutex_delete

#endif /* TX_API_H */
