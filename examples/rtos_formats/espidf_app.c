/*
 * ESP-IDF formats from a program that really runs (host x86-64): heap_caps_print_heap_info()
 * after every reconnect, heap_trace_dump() (leaks mode, v5 layout) of the reconnects, then
 * a session check that aborts through a panic-handler style 'abort() ... Backtrace:' print.
 * Format strings follow ESP-IDF's components/heap and components/esp_system printers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "board.h"

#define MALLOC_CAP_8BIT 0x00000004u

__attribute__((noinline)) void *heap_caps_malloc(size_t n, uint32_t caps)
{
    (void)caps;
    /* heap tracing records the caller chain: the caller of malloc first */
    return arena_alloc(n, (uintptr_t)__builtin_return_address(0),
                       (uintptr_t)__builtin_return_address(1), 0);
}

__attribute__((noinline)) void heap_caps_free(void *p) { arena_free(p); }

#define RTOS_MALLOC(n) heap_caps_malloc((n), MALLOC_CAP_8BIT)
#define RTOS_FREE(p) heap_caps_free(p)
#include "workload.h"

static uint8_t g_heap[24 * 1024];
static uint32_t g_trace_from;       /* heap_trace_start(): records after this sequence */
static unsigned long g_trace_allocs, g_trace_frees;
extern char __executable_start, etext;

static void heap_caps_print_heap_info(uint32_t caps)
{
    arena_stats_t st;
    arena_stats(&st);
    out("Heap summary for capabilities 0x%08X:\n", caps);
    out("  At 0x%08lx len %d free %d allocated %d min_free %d\n", (unsigned long)arena_base(),
        (int)st.total, (int)st.free, (int)st.used, (int)st.min_free);
    out("    largest_free_block %d alloc_blocks %d free_blocks %d total_blocks %d\n",
        (int)st.largest, (int)st.used_blocks, (int)st.free_blocks,
        (int)(st.used_blocks + st.free_blocks));
    out("  Totals:\n");
    out("    free %d allocated %d min_free %d largest_free_block %d\n", (int)st.free,
        (int)st.used, (int)st.min_free, (int)st.largest);
}

struct dump_acc { unsigned n; size_t bytes; int print; };

static int trace_row(const arena_hdr_t *h, void *arg)
{
    struct dump_acc *acc = arg;
    if (!h->used || h->seq <= g_trace_from) return 0;
    acc->n++;
    acc->bytes += h->size;
    if (acc->print) {
        out("%6d bytes (@ 0x%08lx, Internal) allocated CPU %d ccount 0x%08x caller ",
            (int)h->size, (unsigned long)((uintptr_t)h + ARENA_HDR), 0,
            (unsigned)(h->seq * 0x1000u) & ~3u);
        out("0x%08lx:0x%08lx\n", (unsigned long)h->trace[0], (unsigned long)h->trace[1]);
    }
    return 0;
}

static void heap_trace_dump(void)
{
    struct dump_acc acc = {0, 0, 0};
    arena_walk(trace_row, &acc);
    out("====== Heap Trace: %u records (%u capacity) ======\n", acc.n, 100u);
    acc = (struct dump_acc){0, 0, 1};
    arena_walk(trace_row, &acc);
    out("====== Heap Trace Summary ======\n");
    out("Mode: Heap Trace Leaks\n");
    out("%u bytes 'leaked' in trace (%u allocations)\n", (unsigned)acc.bytes, acc.n);
    out("records: %u (%u capacity, %u high water mark)\n", acc.n, 100u, acc.n + 1u);
    out("total allocations: %lu\n", g_trace_allocs);
    out("total frees: %lu\n", g_trace_frees);
    out("================================\n");
}

static void elf_sha256(char *hex, size_t n)
{
    /* /proc/self/exe inside popen() would be the shell's own binary: name our pid */
    char cmd[64];
    snprintf(cmd, sizeof cmd, "sha256sum /proc/%ld/exe", (long)getpid());
    FILE *p = popen(cmd, "r");
    hex[0] = '\0';
    if (p != NULL) {
        if (fgets(hex, (int)n, p) == NULL) hex[0] = '\0';
        pclose(p);
    }
    hex[n - 1] = '\0';
}

/* The panic handler's backtrace: every PC moved back to its call (return address - 3). */
__attribute__((noinline, noreturn)) static void app_abort(void)
{
    uintptr_t *fp = __builtin_frame_address(0);
    out("abort() was called at PC 0x%08lx on core 0\n",
        (unsigned long)((uintptr_t)__builtin_return_address(0) - 3u));
    out("\n\nBacktrace:");
    while (fp != NULL) {
        uintptr_t ret = fp[1];
        if (ret < (uintptr_t)&__executable_start || ret >= (uintptr_t)&etext) break;
        out(" 0x%08lx:0x%08lx", (unsigned long)(ret - 3u), (unsigned long)(uintptr_t)(fp + 2));
        fp = (uintptr_t *)fp[0];
    }
    out("\n\n\n\nELF file SHA256: ");
    char hex[80];
    elf_sha256(hex, 17);
    out("%s\n\nRebooting...\n", hex);
    board_exit(1);
}

__attribute__((noinline)) static void session_check(const struct session *s)
{
    if (s->magic != SESSION_MAGIC) app_abort();   /* CRASH SITE */
}

int main(void)
{
    char hex[80];
    board_init();
    arena_init(g_heap, sizeof g_heap);
    elf_sha256(hex, 17);
    out("I (312) app_init: ELF file SHA256:  %s...\n", hex);
    out("# FACT cycles %d\n# FACT session_bytes %u\n# FACT header_bytes %u\n", CYCLES,
        (unsigned)sizeof(struct session), (unsigned)ARENA_HDR);
    heap_caps_print_heap_info(MALLOC_CAP_8BIT);
    arena_stats_t before;
    arena_stats(&before);
    g_trace_from = (uint32_t)before.allocs;          /* heap_trace_start(HEAP_TRACE_LEAKS) */
    for (int i = 1; i <= CYCLES; i++) {
        net_reconnect(i);
        heap_caps_print_heap_info(MALLOC_CAP_8BIT);
    }
    arena_stats_t after;
    arena_stats(&after);
    g_trace_allocs = after.allocs - before.allocs;
    g_trace_frees = after.frees - before.frees;
    heap_trace_dump();
    g_last_session->magic = 0;                        /* a stray write */
    session_check(g_last_session);
    return 0;
}
