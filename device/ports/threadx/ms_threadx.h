/*
 * memsleuth agent, Eclipse ThreadX port (beside a byte pool; see README.md in this directory).
 *
 * The application's byte pool stays ThreadX's: tx_byte_allocate()/tx_byte_release() go through
 * the linker's --wrap into this port, which records owner (and trace) in the agent's side table
 * in static RAM. Nothing is added to the pool's blocks, so the pool's figures
 * (tx_byte_pool_info_get) and its failure point stay what they were. Timer, thread, queue,
 * semaphore and mutex create/delete print [MSOBJ] lines whose caller is the application line.
 *
 * ThreadX builds with API error checking (the default) route the application's calls to
 * _txe_* functions; with TX_DISABLE_ERROR_CHECKING to _tx_*. Compile ms_threadx.c with the same
 * TX_* settings as the kernel and link with the matching MS_THREADX_WRAP_LDFLAGS below.
 */
#ifndef MS_THREADX_H
#define MS_THREADX_H

#include <stddef.h>

#include "tx_api.h"
#include "memsleuth_agent.h"

/*
 * Start the side table for `pool` (created already, tx_byte_pool_create()). Call it in
 * tx_application_define() right after the pool is created, before anything allocates from it.
 * Allocations before the call work (the pool is ThreadX's) but are not tracked: the call then
 * prints, once, "[MSAGENT] WARNING N allocation(s) before init, first caller 0x...: not
 * tracked". Other pools pass through untracked (one pool per agent: its overview describes it).
 * Returns 0, or -1 (table too small).
 */
int ms_threadx_init_side(ms_write_fn write, TX_BYTE_POOL *pool);

/*
 * The pool in ThreadX's own terms, one line: the fields of tx_byte_pool_info_get(), the
 * largest run of free blocks (what one allocation can get) and the pool size; ThreadX has no
 * printer of its own. Only the pool's figures, nothing the agent counts, so the line is the same
 * with and without the agent:
 * "tx_byte_pool_info_get name=app available_bytes=1234 fragments=56 suspended_count=0
 *  largest_free_run=840 pool_size=24576"
 */
void ms_threadx_print_pool_stats(void);

/* Linker flags for the allocator and object wrappers (add to the firmware's final link). */
#if defined(TX_DISABLE_ERROR_CHECKING)
#define MS_THREADX_API_PREFIX "_tx_"
#else
#define MS_THREADX_API_PREFIX "_txe_"
#endif
#define MS_THREADX_WRAP_LDFLAGS                                                           \
    "-Wl,--wrap=" MS_THREADX_API_PREFIX "byte_allocate,--wrap=" MS_THREADX_API_PREFIX      \
    "byte_release,--wrap=" MS_THREADX_API_PREFIX "timer_create,--wrap="                    \
    MS_THREADX_API_PREFIX "timer_delete,--wrap=" MS_THREADX_API_PREFIX "thread_create,"    \
    "--wrap=" MS_THREADX_API_PREFIX "thread_delete,--wrap=" MS_THREADX_API_PREFIX          \
    "queue_create,--wrap=" MS_THREADX_API_PREFIX "queue_delete,--wrap="                    \
    MS_THREADX_API_PREFIX "semaphore_create,--wrap=" MS_THREADX_API_PREFIX                 \
    "semaphore_delete,--wrap=" MS_THREADX_API_PREFIX "mutex_create,--wrap="                \
    MS_THREADX_API_PREFIX "mutex_delete"

#endif /* MS_THREADX_H */
