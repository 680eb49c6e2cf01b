/*
 * Zephyr formats from firmware that really runs (Cortex-M4, QEMU mps2-an386): the 'kernel
 * heap' shell output after every reconnect, sys_heap_print_info(heap, true) at the end, then
 * a read from an unmapped address whose real BusFault is printed like Zephyr's Cortex-M
 * fault.c + fatal.c (logger with timestamps). Format strings follow lib/heap/heap_info.c,
 * subsys/shell/modules/kernel_service/heap.c, arch/arm/core/cortex_m/fault.c, kernel/fatal.c.
 */
#include "arena.h"
#include "board.h"
#include "board_cm.h"

#define CHUNK_UNIT 8u

__attribute__((noinline)) void *k_malloc(size_t n) { return arena_alloc(n, 0, 0, 0); }
__attribute__((noinline)) void k_free(void *p) { arena_free(p); }

#define RTOS_MALLOC(n) k_malloc(n)
#define RTOS_FREE(p) k_free(p)
#include "workload.h"

static uint8_t g_heap_mem[12 * 1024] __attribute__((aligned(8)));
static size_t g_max_allocated;
static unsigned g_ms = 10;
static struct { uint32_t dummy[4]; } g_main_thread;   /* 'Current thread: %p (main)' */

#define LOG_ERR(...) do { out("[00:00:%02u.%03u,000] <err> os: ", g_ms / 1000u, g_ms % 1000u); \
                          out(__VA_ARGS__); out("\n"); g_ms += 1; } while (0)

static void cmd_kernel_heap(void)
{
    arena_stats_t st;
    arena_stats(&st);
    if (st.used > g_max_allocated) g_max_allocated = st.used;
    out("free:           %u\n", (unsigned)st.free);
    out("allocated:      %u\n", (unsigned)st.used);
    out("max. allocated: %u\n", (unsigned)g_max_allocated);
}

static int bucket_of(uint32_t units)
{
    int b = 0;
    while (units >>= 1) b++;
    return b;
}

struct chunk_walk { uint32_t prev, end_chunk; int nb; uint32_t count[32], largest[32]; int print; };

static int chunk_row(const arena_hdr_t *h, void *arg)
{
    struct chunk_walk *w = arg;
    uint32_t c = (uint32_t)(((uintptr_t)h - arena_base()) / CHUNK_UNIT);
    uint32_t units = (ARENA_HDR + h->size) / CHUNK_UNIT;
    if (w->print)
        out("chunk %4u: [%c] size=%-4u left=%-4u right=%u\n", (unsigned)c,
            h->used ? '*' : '-', (unsigned)units, (unsigned)w->prev, (unsigned)(c + units));
    else if (!h->used) {
        int b = bucket_of(units);
        w->count[b]++;
        if (units > w->largest[b]) w->largest[b] = units;
    }
    w->prev = c;
    w->end_chunk = c + units;
    return 0;
}

static void sys_heap_print_info(void)
{
    struct chunk_walk w = {0};
    arena_stats_t st;
    arena_walk(chunk_row, &w);
    w.nb = bucket_of(w.end_chunk) + 1;
    out("Heap at 0x%08lx contains %u units in %d buckets\n\n", (unsigned long)arena_base(),
        (unsigned)w.end_chunk, w.nb);
    out("  bucket#    min units        total      largest      largest\n"
        "             threshold       chunks      (units)      (bytes)\n"
        "  -----------------------------------------------------------\n");
    for (int i = 0; i < w.nb; i++)
        if (w.count[i])
            out("%9d %12d %12u %12u %12u\n", i, (1 << i) - 1 + 1, (unsigned)w.count[i],
                (unsigned)w.largest[i], (unsigned)(w.largest[i] * CHUNK_UNIT));
    out("\nChunk dump:\n");
    struct chunk_walk p = {0};
    p.print = 1;
    arena_walk(chunk_row, &p);
    out("chunk %4u: [*] size=0    left=%-4u right=%u\n", (unsigned)p.end_chunk,
        (unsigned)p.prev, (unsigned)p.end_chunk);
    arena_stats(&st);
    unsigned total = (unsigned)st.total, overhead = total - (unsigned)(st.free + st.used);
    out("\n%u free bytes, %u allocated bytes, overhead = %u bytes (%u.%u%%)\n",
        (unsigned)st.free, (unsigned)st.used, overhead, (1000u * overhead + total / 2) / total / 10,
        (1000u * overhead + total / 2) / total % 10);
}

void fault_report(const cm_frame_t *f)
{
    const uint32_t *r = f->basic;
    if (f->cfsr & 0xFF00u) {
        LOG_ERR("***** BUS FAULT *****");
        if (f->cfsr & (1u << 9)) LOG_ERR("  Precise data bus error");
        if (f->cfsr & (1u << 10)) LOG_ERR("  Imprecise data bus error");
        if (f->cfsr & (1u << 15)) LOG_ERR("  BFAR Address: 0x%x", (unsigned)f->bfar);
    } else if (f->cfsr & 0xFFu) {
        LOG_ERR("***** MPU FAULT *****");
        if (f->cfsr & (1u << 1)) LOG_ERR("  Data Access Violation");
        if (f->cfsr & (1u << 7)) LOG_ERR("  MMFAR Address: 0x%x", (unsigned)f->mmfar);
    } else {
        LOG_ERR("***** USAGE FAULT *****");
    }
    LOG_ERR("r0/a1:  0x%08x  r1/a2:  0x%08x  r2/a3:  0x%08x", (unsigned)r[0], (unsigned)r[1],
            (unsigned)r[2]);
    LOG_ERR("r3/a4:  0x%08x r12/ip:  0x%08x r14/lr:  0x%08x", (unsigned)r[3], (unsigned)r[4],
            (unsigned)r[5]);
    LOG_ERR(" xpsr:  0x%08x", (unsigned)r[7]);
    LOG_ERR("Faulting instruction address (r15/pc): 0x%08x", (unsigned)r[6]);
    LOG_ERR(">>> ZEPHYR FATAL ERROR %d: %s on CPU %d", 0, "CPU exception", 0);
    LOG_ERR("Current thread: 0x%08lx (%s)", (unsigned long)(uintptr_t)&g_main_thread, "main");
    LOG_ERR("Halting system");
}

#define SENSOR_REG ((volatile uint32_t *)0x60000010u)   /* nothing is mapped there */

__attribute__((noinline)) static uint32_t sensor_read(void)
{
    return *SENSOR_REG;                                 /* CRASH SITE */
}

int main(void)
{
    board_init();
    arena_init(g_heap_mem, sizeof g_heap_mem);
    (void)k_malloc(40);                                 /* chunk 0: the heap's own header */
    out("*** Booting Zephyr OS build v3.5.0 ***\n");
    out("# FACT cycles %d\n# FACT session_bytes %u\n# FACT header_bytes %u\n", CYCLES,
        (unsigned)sizeof(struct session), (unsigned)ARENA_HDR);
    out("uart:~$ kernel heap\n");
    cmd_kernel_heap();
    for (int i = 1; i <= CYCLES; i++) {
        net_reconnect(i);
        out("uart:~$ kernel heap\n");
        cmd_kernel_heap();
    }
    out("uart:~$ heap info\n");
    sys_heap_print_info();
    out("uart:~$ sensor read\n");
    out("value %u\n", (unsigned)sensor_read());
    return 0;
}
