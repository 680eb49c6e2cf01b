/*
 * memsleuth agent, Zephyr port (beside the system heap; see README.md). Link with
 *   -Wl,--wrap=k_malloc,--wrap=k_free,--wrap=k_calloc,--wrap=k_aligned_alloc,--wrap=k_realloc,
 *   --wrap=k_timer_init
 * (Zephyr: zephyr_ld_options() in the application's CMakeLists.txt; not with CONFIG_LTO).
 * k_malloc & co stay Zephyr's (sys_heap); owners go into the agent's side table. k_timer_init()
 * prints an [MSOBJ] create line; k_free() of an initialised timer prints its delete line
 * (Zephyr has no timer destructor: a dynamic timer dies with its memory).
 * Needs CONFIG_SYS_HEAP_RUNTIME_STATS=y for the overview (sys_heap_runtime_stats_get()).
 * Lock: irq_lock() with nesting (single core; k_malloc is ISR-safe in Zephyr, so the table
 * must be too). Not for SMP.
 */
#include <zephyr/kernel.h>
#include <zephyr/sys/sys_heap.h>

#include "memsleuth_agent.h"

#ifndef MS_ZEPHYR_TABLE_ENTRIES
#define MS_ZEPHYR_TABLE_ENTRIES 512
#endif
#ifndef MS_ZEPHYR_MAX_TIMERS
#define MS_ZEPHYR_MAX_TIMERS 64
#endif

int  ms_zephyr_init(ms_write_fn write);
void ms_zephyr_print_heap_stats(void);

static ms_side_entry_t g_table[MS_ZEPHYR_TABLE_ENTRIES];
static unsigned g_irq_key;
static int g_irq_depth;

static void zlock(void)
{
    unsigned k = irq_lock();
    if (g_irq_depth++ == 0) g_irq_key = k;
}

static void zunlock(void)
{
    if (--g_irq_depth == 0) irq_unlock(g_irq_key);
}

/* sys_heap's runtime statistics: free/allocated/max allocated; no largest free block. */
static void heap_stats(ms_heap_stats_t *st)
{
    struct sys_memory_stats s;
    if (sys_heap_runtime_stats_get(&_system_heap.heap, &s) != 0) return;
    st->total = s.free_bytes + s.allocated_bytes;
    st->free = s.free_bytes;
    st->used = s.allocated_bytes;
    st->max_used = s.max_allocated_bytes;
    st->max_free_blk = MS_UNKNOWN;   /* the overview then omits the column */
}

static uint8_t task_id(void) { return k_is_in_isr() ? 0u : 1u; }

/* What ms_heap_print_overview() prints: MS_OVERVIEW_ALIOS (default), MS_OVERVIEW_NATIVE (the
 * `kernel heap` text only) or MS_OVERVIEW_BOTH. */
#ifndef MS_ZEPHYR_OVERVIEW
#define MS_ZEPHYR_OVERVIEW MS_OVERVIEW_ALIOS
#endif

int ms_zephyr_init(ms_write_fn write)
{
    ms_agent_config_t cfg;
    ms_agent_config_default(&cfg);
    cfg.native_overview = ms_zephyr_print_heap_stats;
    cfg.overview = MS_ZEPHYR_OVERVIEW;
    cfg.lock = zlock;
    cfg.unlock = zunlock;
    cfg.heap_stats = heap_stats;
    cfg.task_id = task_id;
    return ms_agent_init_side(write, g_table, sizeof g_table, &cfg);
}

/* The Zephyr shell's `kernel heap` text (subsys/shell/modules/kernel_service), same three
 * lines, from the same sys_heap_runtime_stats_get(). */
void ms_zephyr_print_heap_stats(void)
{
    struct sys_memory_stats s;
    if (sys_heap_runtime_stats_get(&_system_heap.heap, &s) != 0) return;
    ms_printf("free:           %zu\n", s.free_bytes);
    ms_printf("allocated:      %zu\n", s.allocated_bytes);
    ms_printf("max. allocated: %zu\n", s.max_allocated_bytes);
}

/* Timers seen by k_timer_init(): k_free() of a block that contains one prints its delete line
 * (a timer inside a bigger heap object dies with it). Static timers stay in the set. */
static const void *g_timers[MS_ZEPHYR_MAX_TIMERS];
static int g_timer_overflow;

static int timer_slot(const void *h)
{
    for (int i = 0; i < MS_ZEPHYR_MAX_TIMERS; i++) {
        if (g_timers[i] == h) return i;
    }
    return -1;
}

void *__real_k_malloc(size_t size);
void  __real_k_free(void *ptr);
void *__real_k_calloc(size_t nmemb, size_t size);
void *__real_k_aligned_alloc(size_t align, size_t size);
void *__real_k_realloc(void *ptr, size_t size);
void  __real_k_timer_init(struct k_timer *t, k_timer_expiry_t e, k_timer_stop_t s);
void *__wrap_k_malloc(size_t size);
void  __wrap_k_free(void *ptr);
void *__wrap_k_calloc(size_t nmemb, size_t size);
void *__wrap_k_aligned_alloc(size_t align, size_t size);
void *__wrap_k_realloc(void *ptr, size_t size);
void  __wrap_k_timer_init(struct k_timer *t, k_timer_expiry_t e, k_timer_stop_t s);

MS_GLUE void *__wrap_k_malloc(size_t size)
{
    void *p = __real_k_malloc(size);
    ms_side_alloc(p, size, MS_CALLER());
    return p;
}

MS_GLUE void *__wrap_k_calloc(size_t nmemb, size_t size)
{
    void *p = __real_k_calloc(nmemb, size);
    ms_side_alloc(p, nmemb * size, MS_CALLER());
    return p;
}

MS_GLUE void *__wrap_k_aligned_alloc(size_t align, size_t size)
{
    void *p = __real_k_aligned_alloc(align, size);
    ms_side_alloc(p, size, MS_CALLER());
    return p;
}

/* Before `ptr` is freed: delete lines for the timers inside its block. */
static void forget_timers(void *ptr, uintptr_t caller)
{
    size_t size = 0;
    if (ms_block_info(ptr, NULL, &size, NULL) != 0) return;
    for (int i = 0; i < MS_ZEPHYR_MAX_TIMERS; i++) {
        const unsigned char *t = (const unsigned char *)g_timers[i];
        if (t && t >= (const unsigned char *)ptr && t < (const unsigned char *)ptr + size) {
            g_timers[i] = 0;
            ms_obj_event(MS_OBJ_OP_DELETE, "timer", t, caller, 0);
        }
    }
}

MS_GLUE void __wrap_k_free(void *ptr)
{
    if (!ptr) return;
    forget_timers(ptr, MS_CALLER());
    ms_side_free(ptr, MS_CALLER());
    __real_k_free(ptr);
}

MS_GLUE void *__wrap_k_realloc(void *ptr, size_t size)
{
    void *p = __real_k_realloc(ptr, size);
    if (p || !size) {
        if (ptr) forget_timers(ptr, MS_CALLER());
        ms_side_free(ptr, MS_CALLER());
    }
    if (p || size) ms_side_alloc(p, size, MS_CALLER());
    return p;
}

MS_GLUE void __wrap_k_timer_init(struct k_timer *t, k_timer_expiry_t e, k_timer_stop_t s)
{
    __real_k_timer_init(t, e, s);
    if (timer_slot(t) >= 0) return;          /* re-initialised: still the same object */
    int slot = timer_slot(0);
    if (slot >= 0) {
        g_timers[slot] = t;
    } else if (!g_timer_overflow++) {
        ms_printf("[MSAGENT] WARNING timer set full (%d): deletes of timers from now on are "
                  "not seen\n", MS_ZEPHYR_MAX_TIMERS);
    }
    ms_obj_create("timer", t);
}
