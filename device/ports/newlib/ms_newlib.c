/*
 * memsleuth agent, bare-metal newlib port (single thread, no RTOS; see README.md).
 *
 * beside  (MS_NEWLIB_BESIDE=1, link with MS_NEWLIB_WRAP_LDFLAGS): newlib's malloc stays; the
 *         linker's --wrap sends malloc/free/calloc/realloc and newlib's reentrant _malloc_r
 *         family through here, which record owner (and trace) in the agent's side table.
 *         A nesting guard keeps one record per block: malloc() calls _malloc_r() inside newlib.
 * replace (default): the agent's heap over a static arena; defines malloc & co and newlib's
 *         _malloc_r & co, so stdio buffers and strdup() land in the agent's heap too.
 * Both: ms_newlib_print_malloc_stats() prints newlib's own malloc_stats() text (nano-mallocr).
 */
#include <stddef.h>
#include <stdint.h>

#include "memsleuth_agent.h"

struct _reent;
void ms_newlib_print_malloc_stats(void);

/* What ms_heap_print_overview() prints: MS_OVERVIEW_ALIOS (default), MS_OVERVIEW_NATIVE
 * (malloc_stats() text only) or MS_OVERVIEW_BOTH. */
#ifndef MS_NEWLIB_OVERVIEW
#define MS_NEWLIB_OVERVIEW MS_OVERVIEW_ALIOS
#endif

#if defined(MS_NEWLIB_BESIDE) && MS_NEWLIB_BESIDE
#include <malloc.h>

/* Side-table entries: ~1.3x the peak number of live blocks (16 B each, 24 with 2 frames). */
#ifndef MS_NEWLIB_TABLE_ENTRIES
#define MS_NEWLIB_TABLE_ENTRIES 512
#endif
static ms_side_entry_t g_table[MS_NEWLIB_TABLE_ENTRIES];
static size_t g_heap_total;
static int g_inner;   /* inside a wrapped malloc/free: newlib's own _r call is not a new block */

void *__real_malloc(size_t n);
void  __real_free(void *p);
void *__real_calloc(size_t n, size_t s);
void *__real_realloc(void *p, size_t n);
void *__real__malloc_r(struct _reent *r, size_t n);
void  __real__free_r(struct _reent *r, void *p);
void *__real__calloc_r(struct _reent *r, size_t n, size_t s);
void *__real__realloc_r(struct _reent *r, void *p, size_t n);
void *__wrap_malloc(size_t n);
void  __wrap_free(void *p);
void *__wrap_calloc(size_t n, size_t s);
void *__wrap_realloc(void *p, size_t n);
void *__wrap__malloc_r(struct _reent *r, size_t n);
void  __wrap__free_r(struct _reent *r, void *p);
void *__wrap__calloc_r(struct _reent *r, size_t n, size_t s);
void *__wrap__realloc_r(struct _reent *r, void *p, size_t n);

/* newlib's figures: mallinfo() (nano: arena = bytes taken from sbrk, uordblks = in use).
 * newlib never gives sbrk'ed memory back, so arena is the high-water mark of the heap's
 * extent: MinFreeSz = total - arena is a true lower bound of the free space ever left. */
/* newlib-nano's free list (nano-mallocr.c: chunk = {long size; chunk *next}, size includes
 * the chunk header). Weak: with the full newlib it is absent and the largest free block is
 * not known (printed as 0, said in README.md). */
struct ms_nano_chunk {
    long size;
    struct ms_nano_chunk *next;
};
extern struct ms_nano_chunk *__malloc_free_list __attribute__((weak));

static size_t largest_free(size_t total, size_t arena)
{
    size_t best = total > arena ? total - arena : 0;   /* not yet taken from sbrk */
    if (!&__malloc_free_list) return 0;
    unsigned budget = 100000u;
    for (struct ms_nano_chunk *c = __malloc_free_list; c && budget; c = c->next, budget--) {
        if (c->size > 0 && (size_t)c->size > best) best = (size_t)c->size;
    }
    return best;
}

static void heap_stats(ms_heap_stats_t *st)
{
    struct mallinfo mi = mallinfo();
    st->total = g_heap_total;
    st->used = (size_t)mi.uordblks;
    st->free = g_heap_total - st->used;
    st->max_used = (size_t)mi.arena;
    st->max_free_blk = largest_free(g_heap_total, (size_t)mi.arena);
    st->free_blocks = (size_t)mi.ordblks;
    st->min_free_blk = st->allocs = st->frees = st->alloc_fail = 0;
}

int ms_newlib_init_side(ms_write_fn write, size_t heap_total)
{
    ms_agent_config_t cfg;
    ms_agent_config_default(&cfg);
    cfg.heap_stats = heap_stats;
    cfg.native_overview = ms_newlib_print_malloc_stats;
    cfg.overview = MS_NEWLIB_OVERVIEW;
    g_heap_total = heap_total;
    return ms_agent_init_side(write, g_table, sizeof g_table, &cfg);
}

static void *record(void *p, size_t n, uintptr_t caller)
{
    ms_side_alloc(p, n, caller);
    return p;
}

MS_GLUE void *__wrap_malloc(size_t n)
{
    g_inner++;
    void *p = __real_malloc(n);
    g_inner--;
    return record(p, n, MS_CALLER());
}

MS_GLUE void __wrap_free(void *p)
{
    ms_side_free(p, MS_CALLER());
    g_inner++;
    __real_free(p);
    g_inner--;
}

MS_GLUE void *__wrap_calloc(size_t n, size_t s)
{
    g_inner++;
    void *p = __real_calloc(n, s);
    g_inner--;
    return record(p, n * s, MS_CALLER());
}

MS_GLUE void *__wrap_realloc(void *old, size_t n)
{
    g_inner++;
    void *p = __real_realloc(old, n);
    g_inner--;
    if (p || !n) ms_side_free(old, MS_CALLER());
    if (p || n) ms_side_alloc(p, n, MS_CALLER());
    return p;
}

/* newlib-internal allocations (stdio buffers, strdup, ...): owner = the libc function. */
MS_GLUE void *__wrap__malloc_r(struct _reent *r, size_t n)
{
    void *p = __real__malloc_r(r, n);
    return g_inner ? p : record(p, n, MS_CALLER());
}

MS_GLUE void __wrap__free_r(struct _reent *r, void *p)
{
    if (!g_inner) ms_side_free(p, MS_CALLER());
    __real__free_r(r, p);
}

MS_GLUE void *__wrap__calloc_r(struct _reent *r, size_t n, size_t s)
{
    void *p = __real__calloc_r(r, n, s);
    return g_inner ? p : record(p, n * s, MS_CALLER());
}

MS_GLUE void *__wrap__realloc_r(struct _reent *r, void *old, size_t n)
{
    void *p = __real__realloc_r(r, old, n);
    if (!g_inner) {
        if (p || !n) ms_side_free(old, MS_CALLER());
        if (p || n) ms_side_alloc(p, n, MS_CALLER());
    }
    return p;
}

void ms_newlib_print_malloc_stats(void)
{
    struct mallinfo mi = mallinfo();
    /* newlib nano-mallocr.c nano_malloc_stats(), same text (it prints arena twice). */
    ms_printf("max system bytes = %10u\n", (unsigned)mi.arena);
    ms_printf("system bytes     = %10u\n", (unsigned)mi.arena);
    ms_printf("in use bytes     = %10u\n", (unsigned)mi.uordblks);
}

#else /* replace */

/* The heap: a static arena (newlib's sbrk is not used for malloc any more). */
#ifndef MS_NEWLIB_ARENA_BYTES
#define MS_NEWLIB_ARENA_BYTES (32 * 1024)
#endif
static unsigned char g_arena[MS_NEWLIB_ARENA_BYTES] __attribute__((aligned(8)));

int ms_newlib_init(ms_write_fn write)
{
    ms_agent_config_t cfg;
    ms_agent_config_default(&cfg);
    cfg.native_overview = ms_newlib_print_malloc_stats;
    cfg.overview = MS_NEWLIB_OVERVIEW;
    return ms_agent_init(write, g_arena, sizeof g_arena, &cfg);
}

void *malloc(size_t n);
void  free(void *p);
void *calloc(size_t n, size_t s);
void *realloc(void *p, size_t n);
void *_malloc_r(struct _reent *r, size_t n);
void  _free_r(struct _reent *r, void *p);
void *_calloc_r(struct _reent *r, size_t n, size_t s);
void *_realloc_r(struct _reent *r, void *p, size_t n);

MS_GLUE void *malloc(size_t n) { return ms_malloc_from(n, MS_CALLER()); }
MS_GLUE void free(void *p) { ms_free_from(p, MS_CALLER()); }
MS_GLUE void *calloc(size_t n, size_t s) { return ms_calloc_from(n, s, MS_CALLER()); }
MS_GLUE void *realloc(void *p, size_t n) { return ms_realloc_from(p, n, MS_CALLER()); }
MS_GLUE void *_malloc_r(struct _reent *r, size_t n)
{
    (void)r;
    return ms_malloc_from(n, MS_CALLER());
}
MS_GLUE void _free_r(struct _reent *r, void *p)
{
    (void)r;
    ms_free_from(p, MS_CALLER());
}
MS_GLUE void *_calloc_r(struct _reent *r, size_t n, size_t s)
{
    (void)r;
    return ms_calloc_from(n, s, MS_CALLER());
}
MS_GLUE void *_realloc_r(struct _reent *r, void *p, size_t n)
{
    (void)r;
    return ms_realloc_from(p, n, MS_CALLER());
}

void ms_newlib_print_malloc_stats(void)
{
    ms_heap_stats_t st;
    ms_heap_stats(&st);
    /* newlib's malloc_stats() text with the agent heap's figures: arena = the arena. */
    ms_printf("max system bytes = %10u\n", (unsigned)st.total);
    ms_printf("system bytes     = %10u\n", (unsigned)st.total);
    ms_printf("in use bytes     = %10u\n", (unsigned)st.used);
}
#endif

/* Linker flags for the beside mode. */
/* -Wl,--wrap=malloc,--wrap=free,--wrap=calloc,--wrap=realloc,--wrap=_malloc_r,--wrap=_free_r,
 *  --wrap=_calloc_r,--wrap=_realloc_r */
