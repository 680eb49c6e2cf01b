/*
 * memsleuth device agent: a debug heap that prints AliOS Things compatible heap logs.
 *
 * - Its own allocator over a caller-supplied static arena (segregated free lists with boundary
 *   tags, O(1) coalescing), every block carrying a header with dye, owner (return address of the
 *   allocation call), optional backtrace, mmlk tag and owner task id.
 * - Output only through the user's write hook, formatted by the agent itself (no printf, no
 *   malloc), so it keeps working when the heap is exhausted or corrupt.
 * - Formats (see device/README.md): AliOS 3.x heap overview H5b and block dump B3 (default) or
 *   AliOS 2.0 H4 / B2, the 3.x malloc-failure warning, the 3.x `mmlk` listing, plus the
 *   memsleuth object-trace lines documented in docs/object-trace.md.
 *
 * Portable C99 plus two GCC builtins (__builtin_return_address, __builtin_frame_address).
 * Not reentrant by itself: pass lock/unlock hooks when several tasks or ISRs allocate.
 */
#ifndef MEMSLEUTH_AGENT_H
#define MEMSLEUTH_AGENT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Backtrace depth stored per block (compile time: it sizes the block header). 0 = owner only. */
#ifndef MS_AGENT_TRACE_DEPTH
#define MS_AGENT_TRACE_DEPTH 0
#endif

/* Header magic values, as AliOS 3.x (k_mm.h). */
#define MS_DYE_USED        0xFEFEu
#define MS_DYE_FREE        0xABABu
#define MS_OWNER_ID_SELF   0xFFu        /* blocks owned by the allocator itself */
#define MS_LAST_BLK_MAGIC  0x11224433u  /* owner of the sentinel (last) block */

/* Which AliOS release's text formats to emit. */
typedef enum {
    MS_ERA_ALIOS3 = 0,  /* 3.x: overview H5b, dump B3 ("OK" dye column, traces)          */
    MS_ERA_ALIOS2 = 2   /* 2.0: overview H4,  dump B2 (raw dye, pre-used/pre-free links)  */
} ms_era_t;

typedef void (*ms_write_fn)(const char *s, size_t n);

/* One row of the "task allocation statistic" table. */
typedef struct {
    uint8_t     id;          /* the id task_id() returns while this task runs (1..254) */
    const char *name;
    int         prio;
    int         stack_size;  /* printed as given (AliOS prints cpu_stack_t words)      */
} ms_task_info_t;


/* Heap statistics (what the overview prints). */
#define MS_UNKNOWN ((size_t)-1)
typedef struct {
    size_t total;         /* arena bytes managed (free + used)                        */
    size_t free;          /* bytes in free blocks, headers included                   */
    size_t used;          /* total - free (block headers, region info, sentinel incl.) */
    size_t max_used;      /* high-water mark of used                                  */
    size_t max_free_blk;  /* largest free block payload; MS_UNKNOWN from a heap_stats
                           * hook that cannot tell (the overview then omits the column) */
    size_t alloc_fail;    /* number of failed allocations                             */
    size_t min_free_blk;  /* smallest free block payload (0 when none is free)         */
    size_t free_blocks;   /* number of free blocks                                    */
    size_t allocs;        /* successful allocations since init                        */
    size_t frees;         /* successful frees since init                              */
} ms_heap_stats_t;

typedef struct {
    ms_era_t era;
    uint8_t  banner;   /* 1: print "========== Heap Info  ==========" before the overview */
    uint8_t  crlf;     /* 1: lines end in "\r\n" (AliOS), 0: "\n"                     */
    /* Optional hooks (NULL = default). */
    uint8_t (*task_id)(void);                         /* current task, 0 = ISR; default 1  */
    int     (*task_at)(unsigned idx, ms_task_info_t *out); /* enumerate tasks, 0 = no more */
    void    (*lock)(void);
    void    (*unlock)(void);
    void    (*on_malloc_fail)(size_t need);           /* after the first failure's dump    */
    /* Side-table mode: the host allocator's own figures (total, free, max_used, max_free_blk,
     * ...) for the overview and the failure warning. Without it the side mode prints no
     * overview (it cannot know the heap's size). */
    void    (*heap_stats)(ms_heap_stats_t *st);
    /* Native format (issue: keep a team's habits): a port's printer of the host RTOS' own heap
     * text (FreeRTOS HeapStats_t fields, Zephyr `kernel heap`, newlib malloc_stats()), and what
     * ms_heap_print_overview() prints: MS_OVERVIEW_ALIOS (the AliOS table, default),
     * MS_OVERVIEW_NATIVE (only the native text) or MS_OVERVIEW_BOTH. Dumps keep the AliOS
     * table inside (it is part of the dump format). */
    void    (*native_overview)(void);
    uint8_t overview;
} ms_agent_config_t;

#define MS_OVERVIEW_ALIOS  0
#define MS_OVERVIEW_NATIVE 1
#define MS_OVERVIEW_BOTH   2

/* Defaults: era 3.x, banner off, "\r\n", no hooks. */
void ms_agent_config_default(ms_agent_config_t *cfg);

/*
 * Initialise the agent. `arena` is a static buffer the agent manages (it is aligned up
 * internally; a few hundred bytes go to the region-info and sentinel blocks). `cfg` may be NULL.
 * Returns 0, or -1 when the arena is too small.
 */
int ms_agent_init(ms_write_fn write, void *arena, size_t arena_size,
                  const ms_agent_config_t *cfg);

/*
 * Side-table mode: owners (and traces) recorded beside an existing allocator that stays in
 * charge (FreeRTOS heap_4/heap_5, newlib malloc, Zephyr sys_heap). Nothing is added to the
 * heap's blocks, so the heap's own statistics and its failure point stay what they were; the
 * cost moves into `table` (static RAM, sizeof(ms_side_entry_t) per live block: 16 bytes on
 * 32-bit, 24 with two trace frames). Call ms_side_alloc() after every allocation (ptr NULL =
 * it failed; size = what was asked) and ms_side_free() for every free, from glue or from the
 * allocator's trace hooks. The dump/overview/mmlk printers work as in heap mode (the dump lists
 * tracked blocks by the address the allocator returned). Allocations the table misses (before
 * init, table full) are counted and reported on `[MSAGENT]` lines, never dropped silently.
 */
typedef struct {
    uintptr_t ptr;        /* the allocator's pointer; 0 = empty slot */
    uintptr_t owner;
    uint32_t  size;
    uint8_t   owner_id;
    uint8_t   tag;
    uint16_t  reserved;
#if MS_AGENT_TRACE_DEPTH > 0
    uintptr_t trace[MS_AGENT_TRACE_DEPTH];
#endif
} ms_side_entry_t;
/* Table bytes for n live blocks (the table keeps one slot empty; size it ~1.3x the peak). */
#define MS_SIDE_TABLE_BYTES(n) ((size_t)(n) * sizeof(ms_side_entry_t))

int  ms_agent_init_side(ms_write_fn write, void *table, size_t table_bytes,
                        const ms_agent_config_t *cfg);
void ms_side_alloc(void *ptr, size_t size, uintptr_t caller);
void ms_side_free(void *ptr, uintptr_t caller);
/* Side-table counters (also printed before each side-mode dump). */
typedef struct {
    size_t entries, capacity;   /* live tracked blocks, table slots usable          */
    size_t tracked_bytes;       /* sum of tracked sizes                             */
    size_t table_full;          /* allocations not tracked because the table was full */
    size_t preinit;             /* allocations before ms_agent_init_side            */
    size_t unknown_frees;       /* frees of pointers the table did not know          */
} ms_side_stats_t;
void ms_side_stats(ms_side_stats_t *st);

/* Allocation API. The owner recorded in the block is the return address of the call to
 * these functions (so it points into the code that called ms_malloc/malloc). */
void *ms_malloc(size_t size);
void  ms_free(void *ptr);
void *ms_calloc(size_t nmemb, size_t size);
void *ms_realloc(void *ptr, size_t size);

/*
 * Owner-passing entry points, for glue that sits between the code that allocates and the agent
 * (an RTOS' pvPortMalloc/k_malloc, a C++ operator new, a pool wrapper). The glue passes its own
 * return address, MS_CALLER(), so the owner is the glue's caller at every optimisation level
 * (-O0 to -Os: a glue function that is not a tail call would otherwise become the owner of every
 * block). With MS_AGENT_TRACE_DEPTH > 0 the trace continues above `caller` (the walk skips the
 * glue's frames, up to MS_AGENT_GLUE_MAX of them; when `caller` is not on the stack, e.g. the
 * glue was reached by a tail call, the trace is left empty rather than wrong).
 * caller == 0 means "the return address of this call" (same as ms_malloc).
 * ms_free_from: `caller` is printed after an AliOS free warning (double free, corrupt pointer)
 * as `[MSAGENT] bad free by caller 0x...`, so the bad free can be found; it is not stored.
 * ms_free() does the same with its own return address.
 */
#define MS_CALLER() ((uintptr_t)__builtin_return_address(0))
/* Put on every glue function that uses MS_CALLER(): an inlined glue would report its
 * caller's caller (GCC inlines a static or same-file glue at -O2, and any glue under LTO). */
#define MS_GLUE __attribute__((noinline))
#ifndef MS_AGENT_GLUE_MAX
#define MS_AGENT_GLUE_MAX 4
#endif
void *ms_malloc_from(size_t size, uintptr_t caller);
void  ms_free_from(void *ptr, uintptr_t caller);
void *ms_calloc_from(size_t nmemb, size_t size, uintptr_t caller);
void *ms_realloc_from(void *ptr, size_t size, uintptr_t caller);

/*
 * libc-compatible entry points. Build memsleuth_agent.c with -DMS_AGENT_WRAP_LIBC=1 to get
 * __wrap_malloc/__wrap_free/__wrap_calloc/__wrap_realloc (link the firmware with
 * -Wl,--wrap=malloc,--wrap=free,--wrap=calloc,--wrap=realloc), or with
 * -DMS_AGENT_DEFINE_LIBC=1 to define malloc/free/calloc/realloc themselves (bare metal only).
 */

/* Takes the lock (the overview printer does not: it is for fault handlers). */
void ms_heap_stats(ms_heap_stats_t *st);
/* Forget the high-water mark (FreeRTOS xPortResetHeapMinimumEverFreeHeapSize). */
void ms_heap_reset_min_free(void);

/*
 * Heap overview table (H5b or H4, with the optional banner). Takes no lock and does not touch
 * the heap contents except a bounded walk of the free lists, so a fault handler may call it.
 */
void ms_heap_print_overview(void);

/* Full block dump (B3 or B2), including free list, statistics, overview and task table. */
void ms_heap_dump(void);

/* mmlk: advance the allocation tag and list blocks still alive from the previous tag
 * (AliOS 3.x `mmlk` with no argument). Returns the new tag. */
unsigned ms_mmlk_tag(void);
/* mmlk N: list blocks still alive that were allocated under tag N. */
void ms_mmlk_query(unsigned tag);

/* Consistency check of the whole heap (headers, dyes, boundary tags, free lists, counters).
 * Returns 0 when consistent, else the number of problems found; prints nothing. */
int ms_heap_check(void);

/* Block introspection (for tests and for firmware that wants to print facts); in side mode
 * `ptr` is the allocator's pointer and the answer comes from the table. */
int ms_block_info(const void *ptr, uintptr_t *owner, size_t *size, unsigned *tag);
/* The block's stored trace (up to n entries, 0 = none); returns MS_AGENT_TRACE_DEPTH, or -1. */
int ms_block_trace(const void *ptr, uintptr_t *out, int n);

/* Kernel-object lifecycle trace, docs/object-trace.md. The macros capture the return address
 * of the function they are written in (the kernel API), i.e. the code that called it. */
#define MS_OBJ_OP_CREATE 0
#define MS_OBJ_OP_DELETE 1
void ms_obj_event(int op, const char *kind, const void *handle, uintptr_t caller,
                  const char *name);
#define ms_obj_create(kind, handle) \
    ms_obj_event(MS_OBJ_OP_CREATE, (kind), (handle), (uintptr_t)__builtin_return_address(0), 0)
#define ms_obj_create_named(kind, handle, name) \
    ms_obj_event(MS_OBJ_OP_CREATE, (kind), (handle), (uintptr_t)__builtin_return_address(0), (name))
#define ms_obj_delete(kind, handle) \
    ms_obj_event(MS_OBJ_OP_DELETE, (kind), (handle), (uintptr_t)__builtin_return_address(0), 0)
void ms_cycle_mark(unsigned long n);

/* Small formatted print through the agent's sink (no heap, no libc). Supports %s %c %d %i %u
 * %x %X %p %% with flags '-' '0', a width and the l/z length modifiers; "\n" becomes the
 * configured line ending. */
void ms_printf(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/*
 * Port hook: write up to `depth` return addresses of the frames above the caller of the
 * function that calls ms_port_backtrace(), i.e. called from ms_malloc() it fills
 * out[0] = return address into the caller of the function that called ms_malloc, and so on.
 * Returns the number written. The agent provides a frame-pointer walk for hosts
 * (x86-64, AArch64, RISC-V with -fno-omit-frame-pointer); memsleuth_port_cortexm.c provides a
 * Cortex-M prologue-analysis unwinder. Only used when MS_AGENT_TRACE_DEPTH > 0.
 */
int ms_port_backtrace(uintptr_t *out, int depth);

/* Code address range used to validate unwound return addresses (a trace stops at the first
 * address outside it, e.g. in a libc without frame pointers). Default: no check on hosts, below
 * 0xE0000000 on Cortex-M. Returns 1 when `addr` may be a code address. */
void ms_agent_set_text_range(uintptr_t lo, uintptr_t hi);
int  ms_agent_is_code(uintptr_t addr);

#ifdef __cplusplus
}
#endif

#endif /* MEMSLEUTH_AGENT_H */
