/*
 * memsleuth agent, Eclipse ThreadX port: owners beside a byte pool, the pool's figures for the
 * agent's overview, ThreadX's lock, the pool line in ThreadX's terms, and [MSOBJ] lines for
 * timers, threads, queues, semaphores and mutexes. See ms_threadx.h and README.md.
 * Every function here is reached through the linker's --wrap, i.e. called by the application:
 * MS_CALLER() is the application's call line at any -O.
 */
#include "tx_api.h"
#include "tx_byte_pool.h"   /* TX_BYTE_BLOCK_FREE: the pool walk */

#include "memsleuth_agent.h"
#include "ms_threadx.h"

/* Side-table entries (live tracked blocks + 1); ~1.3x the peak number of live pool blocks. */
#ifndef MS_THREADX_TABLE_ENTRIES
#define MS_THREADX_TABLE_ENTRIES 512
#endif
/* Threads remembered for the dump's "task allocation statistic". */
#ifndef MS_THREADX_MAX_THREADS
#define MS_THREADX_MAX_THREADS 16
#endif
/* What ms_heap_print_overview() prints: MS_OVERVIEW_ALIOS (default), MS_OVERVIEW_NATIVE (the
 * tx_byte_pool_info_get line only) or MS_OVERVIEW_BOTH. */
#ifndef MS_THREADX_OVERVIEW
#define MS_THREADX_OVERVIEW MS_OVERVIEW_ALIOS
#endif

/* The application-facing API names: _txe_* (error checking, ThreadX' default) or _tx_*. The
 * _txe_ shells take the control block's size as a last argument. */
#define MS_CAT_(a, b) a##b
#define MS_CAT(a, b)  MS_CAT_(a, b)
#if defined(TX_DISABLE_ERROR_CHECKING)
#define MS_TX(n)    _tx_##n
#define MS_CB_PARAM
#define MS_CB_ARG
#else
#define MS_TX(n)    _txe_##n
#define MS_CB_PARAM , UINT cb_size
#define MS_CB_ARG   , cb_size
#endif
#define MS_REAL(n) MS_CAT(__real_, MS_TX(n))
#define MS_WRAP(n) MS_CAT(__wrap_, MS_TX(n))

#define BLK_HDR ((ULONG)(sizeof(UCHAR *) + sizeof(ALIGN_TYPE)))  /* ThreadX's block header */

static ms_side_entry_t g_table[MS_THREADX_TABLE_ENTRIES];
static TX_BYTE_POOL   *g_pool;
static ULONG           g_min_available;   /* ThreadX keeps no low-water mark: we do */

/* ---- lock: interrupts off, nesting. tx_byte_allocate/release are thread-only in ThreadX
 * (the _txe_ shells refuse ISRs), so no ISR ever enters the table; a dump runs with
 * interrupts off (ticks that fall in it are late, as in AliOS' dump). Single core only. */
static UINT g_posture;
static int  g_depth;

static void tx_lock(void)
{
    UINT old = tx_interrupt_control(TX_INT_DISABLE);
    if (g_depth++ == 0) g_posture = old;
}

static void tx_unlock(void)
{
    if (--g_depth == 0) (void)tx_interrupt_control(g_posture);
}

/* ---- the pool's figures ------------------------------------------------------------------ */
typedef struct {
    ULONG size, available, fragments;
    ULONG largest, smallest, free_runs;
} pool_walk_t;

/* Walk the pool's block list (address order, ThreadX' layout: next pointer, then
 * TX_BYTE_BLOCK_FREE or the owning pool). Adjacent free blocks are counted as one run: ThreadX
 * merges them on the next search, so a run is what one allocation can get (its payload = run
 * minus one header). Interrupts off; bounded by the pool's fragment count. */
static void pool_walk(TX_BYTE_POOL *p, pool_walk_t *w)
{
    TX_INTERRUPT_SAVE_AREA
    TX_DISABLE
    w->size = p->tx_byte_pool_size;
    w->available = p->tx_byte_pool_available;
    w->fragments = p->tx_byte_pool_fragments;
    w->largest = w->smallest = w->free_runs = 0;
    UCHAR *start = p->tx_byte_pool_start;
    UCHAR *last = start + w->size - BLK_HDR;   /* the pool's end marker block */
    UCHAR *b = start, *run = 0, *run_end = 0;
    ULONG guard = w->fragments + 2u;
    while (b >= start && b < last && guard--) {
        UCHAR *next = *(UCHAR **)b;
        int is_free = *(ALIGN_TYPE *)(b + sizeof(UCHAR *)) == TX_BYTE_BLOCK_FREE;
        if (is_free) {
            if (!run) run = b;
            run_end = next;
        }
        if ((!is_free || next >= last || next <= b) && run) {
            ULONG pay = (ULONG)(run_end - run) - BLK_HDR;
            if (pay > w->largest) w->largest = pay;
            if (!w->free_runs || pay < w->smallest) w->smallest = pay;
            w->free_runs++;
            run = 0;
        }
        if (next <= b) break;
        b = next;
    }
    TX_RESTORE
}

static void pool_stats(ms_heap_stats_t *st)
{
    pool_walk_t w;
    if (!g_pool) return;
    pool_walk(g_pool, &w);
    st->total = w.size;
    st->free = w.available;
    st->used = w.size - w.available;
    st->max_used = w.size - (g_min_available < w.available ? g_min_available : w.available);
    st->max_free_blk = w.largest;
    st->min_free_blk = w.smallest;
    st->free_blocks = w.free_runs;
}

static void put_field(const char *name, unsigned long v, int last)
{
    ms_printf("%s=%lu%s", name, v, last ? "\n" : " ");
}

void ms_threadx_print_pool_stats(void)
{
    CHAR *name = 0;
    ULONG available = 0, fragments = 0, suspended = 0;
    TX_THREAD *first = 0;
    TX_BYTE_POOL *next = 0;
    pool_walk_t w;
    if (!g_pool || tx_byte_pool_info_get(g_pool, &name, &available, &fragments, &first,
                                         &suspended, &next) != TX_SUCCESS) {
        return;
    }
    pool_walk(g_pool, &w);
    /* Starts with the service's name: a reader keys on it. */
    ms_printf("tx_byte_pool_info_get name=%s ", name ? (const char *)name : "?");
    put_field("available_bytes", available, 0);
    put_field("fragments", fragments, 0);
    put_field("suspended_count", suspended, 0);
    put_field("largest_free_run", w.largest, 0);
    put_field("pool_size", w.size, 1);
}

/* ---- threads, for the dump's task table: ids 2.. per thread created through the wrapper;
 * 1 = "startup" (tx_application_define, and threads the wrapper did not see); 0 = an ISR. */
static struct {
    TX_THREAD *t;
    int prio, stack;
    uint8_t id;
} g_threads[MS_THREADX_MAX_THREADS];
static uint8_t g_next_id __attribute__((unused)) = 2;

static uint8_t tx_task_id(void)
{
    TX_THREAD *cur = tx_thread_identify();
    if (!cur) return 1;   /* initialisation (or an ISR with no thread: counted as startup) */
    for (int i = 0; i < MS_THREADX_MAX_THREADS; i++) {
        if (g_threads[i].t == cur) return g_threads[i].id;
    }
    return 1;
}

static int tx_task_at(unsigned idx, ms_task_info_t *out)
{
    if (idx == 0) {
        out->id = 1;
        out->name = "startup";
        out->prio = 0;
        out->stack_size = 0;
        return 1;
    }
    for (int i = 0; i < MS_THREADX_MAX_THREADS; i++) {
        if (!g_threads[i].t || --idx) continue;
        out->id = g_threads[i].id;
        out->name = g_threads[i].t->tx_thread_name ? g_threads[i].t->tx_thread_name : "?";
        out->prio = g_threads[i].prio;
        out->stack_size = g_threads[i].stack;   /* bytes, as ThreadX counts a stack */
        return 1;
    }
    return 0;
}

int ms_threadx_init_side(ms_write_fn write, TX_BYTE_POOL *pool)
{
    ms_agent_config_t cfg;
    ms_agent_config_default(&cfg);
    cfg.lock = tx_lock;
    cfg.unlock = tx_unlock;
    cfg.heap_stats = pool_stats;
    cfg.native_overview = ms_threadx_print_pool_stats;
    cfg.overview = MS_THREADX_OVERVIEW;
    cfg.task_id = tx_task_id;
    cfg.task_at = tx_task_at;
    g_pool = pool;
    g_min_available = pool ? pool->tx_byte_pool_available : 0;
    return ms_agent_init_side(write, g_table, sizeof g_table, &cfg);
}

/* ---- the byte pool ----------------------------------------------------------------------- */
#if !defined(MS_THREADX_NO_WRAP)   /* NO_WRAP: only the printers (a reference build) */
UINT MS_REAL(byte_allocate)(TX_BYTE_POOL *pool, VOID **mem, ULONG size, ULONG wait);
UINT MS_WRAP(byte_allocate)(TX_BYTE_POOL *pool, VOID **mem, ULONG size, ULONG wait);
UINT MS_REAL(byte_release)(VOID *mem);
UINT MS_WRAP(byte_release)(VOID *mem);

MS_GLUE UINT MS_WRAP(byte_allocate)(TX_BYTE_POOL *pool, VOID **mem, ULONG size, ULONG wait)
{
    UINT r = MS_REAL(byte_allocate)(pool, mem, size, wait);
    if (g_pool && pool != g_pool) return r;   /* another pool: not ours to describe */
    if (r == TX_SUCCESS) {
        tx_lock();
        if (g_pool && g_pool->tx_byte_pool_available < g_min_available) {
            g_min_available = g_pool->tx_byte_pool_available;
        }
        tx_unlock();
        /* ThreadX rounds the size up to ALIGN_TYPE; the table records that (what the block
         * holds at least). */
        ms_side_alloc(*mem, (size + sizeof(ALIGN_TYPE) - 1u) & ~(ULONG)(sizeof(ALIGN_TYPE) - 1u),
                      MS_CALLER());
    } else if (r == TX_NO_MEMORY) {
        ms_side_alloc(0, size, MS_CALLER());   /* the warning; the dump on the first one */
    }
    return r;
}

MS_GLUE UINT MS_WRAP(byte_release)(VOID *mem)
{
    /* Out of the table before the pool gets the block back (another thread may get the same
     * address right after). Frees of other pools' blocks are not in the table: ignored. */
    if (mem && g_pool) {
        UCHAR *blk = (UCHAR *)mem - BLK_HDR;
        TX_BYTE_POOL *owner = *(TX_BYTE_POOL **)(blk + sizeof(UCHAR *));
        if (owner == g_pool) ms_side_free(mem, MS_CALLER());
    }
    return MS_REAL(byte_release)(mem);
}

/* ---- kernel objects: [MSOBJ] lines (docs/object-trace.md) --------------------------------- */
#if !defined(MS_THREADX_NO_OBJ_WRAP)

UINT MS_REAL(timer_create)(TX_TIMER *t, CHAR *name, VOID (*fn)(ULONG), ULONG in, ULONG ticks,
                           ULONG resched, UINT activate MS_CB_PARAM);
UINT MS_WRAP(timer_create)(TX_TIMER *t, CHAR *name, VOID (*fn)(ULONG), ULONG in, ULONG ticks,
                           ULONG resched, UINT activate MS_CB_PARAM);
MS_GLUE UINT MS_WRAP(timer_create)(TX_TIMER *t, CHAR *name, VOID (*fn)(ULONG), ULONG in,
                                   ULONG ticks, ULONG resched, UINT activate MS_CB_PARAM)
{
    UINT r = MS_REAL(timer_create)(t, name, fn, in, ticks, resched, activate MS_CB_ARG);
    if (r == TX_SUCCESS) ms_obj_create_named("timer", t, name);
    return r;
}

UINT MS_REAL(timer_delete)(TX_TIMER *t);
UINT MS_WRAP(timer_delete)(TX_TIMER *t);
MS_GLUE UINT MS_WRAP(timer_delete)(TX_TIMER *t)
{
    UINT r = MS_REAL(timer_delete)(t);
    if (r == TX_SUCCESS) ms_obj_delete("timer", t);
    return r;
}

UINT MS_REAL(thread_create)(TX_THREAD *t, CHAR *name, VOID (*entry)(ULONG), ULONG in,
                            VOID *stack, ULONG stack_size, UINT prio, UINT thresh,
                            ULONG slice, UINT start MS_CB_PARAM);
UINT MS_WRAP(thread_create)(TX_THREAD *t, CHAR *name, VOID (*entry)(ULONG), ULONG in,
                            VOID *stack, ULONG stack_size, UINT prio, UINT thresh,
                            ULONG slice, UINT start MS_CB_PARAM);
MS_GLUE UINT MS_WRAP(thread_create)(TX_THREAD *t, CHAR *name, VOID (*entry)(ULONG), ULONG in,
                                    VOID *stack, ULONG stack_size, UINT prio, UINT thresh,
                                    ULONG slice, UINT start MS_CB_PARAM)
{
    /* Created suspended, then resumed after its line: a new thread of higher priority must not
     * run (and end) before the create line is out. */
    UINT r = MS_REAL(thread_create)(t, name, entry, in, stack, stack_size, prio, thresh, slice,
                                    TX_DONT_START MS_CB_ARG);
    if (r != TX_SUCCESS) return r;
    tx_lock();
    for (int i = 0; i < MS_THREADX_MAX_THREADS; i++) {
        if (g_threads[i].t) continue;
        g_threads[i].t = t;
        g_threads[i].prio = (int)prio;
        g_threads[i].stack = (int)stack_size;
        g_threads[i].id = g_next_id;
        /* ids wrap before 0xFF (the allocator's own); a reused id may mix two threads' rows */
        g_next_id = g_next_id >= 254u ? 2u : (uint8_t)(g_next_id + 1u);
        break;
    }   /* table full: this thread's blocks count under "startup" */
    tx_unlock();
    ms_obj_create_named("task", t, name);
    if (start == TX_AUTO_START) (void)tx_thread_resume(t);
    return r;
}

UINT MS_REAL(thread_delete)(TX_THREAD *t);
UINT MS_WRAP(thread_delete)(TX_THREAD *t);
MS_GLUE UINT MS_WRAP(thread_delete)(TX_THREAD *t)
{
    UINT r = MS_REAL(thread_delete)(t);
    if (r != TX_SUCCESS) return r;
    tx_lock();
    for (int i = 0; i < MS_THREADX_MAX_THREADS; i++) {
        if (g_threads[i].t == t) g_threads[i].t = 0;
    }
    tx_unlock();
    ms_obj_delete("task", t);
    return r;
}

UINT MS_REAL(queue_create)(TX_QUEUE *q, CHAR *name, UINT msg, VOID *start, ULONG size MS_CB_PARAM);
UINT MS_WRAP(queue_create)(TX_QUEUE *q, CHAR *name, UINT msg, VOID *start, ULONG size MS_CB_PARAM);
MS_GLUE UINT MS_WRAP(queue_create)(TX_QUEUE *q, CHAR *name, UINT msg, VOID *start,
                                   ULONG size MS_CB_PARAM)
{
    UINT r = MS_REAL(queue_create)(q, name, msg, start, size MS_CB_ARG);
    if (r == TX_SUCCESS) ms_obj_create_named("queue", q, name);
    return r;
}

UINT MS_REAL(queue_delete)(TX_QUEUE *q);
UINT MS_WRAP(queue_delete)(TX_QUEUE *q);
MS_GLUE UINT MS_WRAP(queue_delete)(TX_QUEUE *q)
{
    UINT r = MS_REAL(queue_delete)(q);
    if (r == TX_SUCCESS) ms_obj_delete("queue", q);
    return r;
}

UINT MS_REAL(semaphore_create)(TX_SEMAPHORE *s, CHAR *name, ULONG count MS_CB_PARAM);
UINT MS_WRAP(semaphore_create)(TX_SEMAPHORE *s, CHAR *name, ULONG count MS_CB_PARAM);
MS_GLUE UINT MS_WRAP(semaphore_create)(TX_SEMAPHORE *s, CHAR *name, ULONG count MS_CB_PARAM)
{
    UINT r = MS_REAL(semaphore_create)(s, name, count MS_CB_ARG);
    if (r == TX_SUCCESS) ms_obj_create_named("sem", s, name);
    return r;
}

UINT MS_REAL(semaphore_delete)(TX_SEMAPHORE *s);
UINT MS_WRAP(semaphore_delete)(TX_SEMAPHORE *s);
MS_GLUE UINT MS_WRAP(semaphore_delete)(TX_SEMAPHORE *s)
{
    UINT r = MS_REAL(semaphore_delete)(s);
    if (r == TX_SUCCESS) ms_obj_delete("sem", s);
    return r;
}

UINT MS_REAL(mutex_create)(TX_MUTEX *m, CHAR *name, UINT inherit MS_CB_PARAM);
UINT MS_WRAP(mutex_create)(TX_MUTEX *m, CHAR *name, UINT inherit MS_CB_PARAM);
MS_GLUE UINT MS_WRAP(mutex_create)(TX_MUTEX *m, CHAR *name, UINT inherit MS_CB_PARAM)
{
    UINT r = MS_REAL(mutex_create)(m, name, inherit MS_CB_ARG);
    if (r == TX_SUCCESS) ms_obj_create_named("mutex", m, name);
    return r;
}

UINT MS_REAL(mutex_delete)(TX_MUTEX *m);
UINT MS_WRAP(mutex_delete)(TX_MUTEX *m);
MS_GLUE UINT MS_WRAP(mutex_delete)(TX_MUTEX *m)
{
    UINT r = MS_REAL(mutex_delete)(m);
    if (r == TX_SUCCESS) ms_obj_delete("mutex", m);
    return r;
}

#endif /* !MS_THREADX_NO_OBJ_WRAP */
#endif /* !MS_THREADX_NO_WRAP */
