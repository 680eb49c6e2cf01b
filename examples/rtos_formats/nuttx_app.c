/*
 * NuttX formats from firmware that really runs (Cortex-M4, QEMU mps2-an386): 'free' after
 * every reconnect, 'echo used > /proc/memdump' at the end (pid, size, sequence, address and
 * the allocation backtrace), then a failed DEBUGASSERT printed like NuttX's _assert():
 * version, assertion, up_dump_register's registers and the task's backtrace. Format strings
 * follow fs/procfs/fs_procfsmeminfo.c, mm/mm_heap/mm_memdump.c, sched/misc/assert.c,
 * arch/arm/src/common/arm_registerdump.c and sched_dumpstack (CONFIG_DEBUG_FUNCNAME on).
 */
#include "arena.h"
#include "board.h"
#include "board_cm.h"

#define NET_PID 3

/* mm_malloc records the allocation backtrace: its caller (kmm_malloc), then the caller's. */
__attribute__((noinline)) static void *mm_malloc(size_t n, uintptr_t caller)
{
    return arena_alloc(n, (uintptr_t)__builtin_return_address(0), caller, NET_PID);
}

__attribute__((noinline)) void *kmm_malloc(size_t n)
{
    return mm_malloc(n, (uintptr_t)__builtin_return_address(0));
}

__attribute__((noinline)) void kmm_free(void *p) { arena_free(p); }

#define RTOS_MALLOC(n) kmm_malloc(n)
#define RTOS_FREE(p) kmm_free(p)
#include "workload.h"

static uint8_t g_heap_mem[12 * 1024] __attribute__((aligned(8)));

#define _alert(fn, ...) do { out("%s: ", fn); out(__VA_ARGS__); } while (0)

static void nsh_free(void)
{
    arena_stats_t st;
    arena_stats(&st);
    out("%11s%11s%11s%11s%11s%7s%7s%s\n", "total", "used", "free", "maxused", "maxfree",
        "nused", "nfree", " name");
    out("%11lu%11lu%11lu%11lu%11lu%7lu%7lu %s\n", (unsigned long)st.total,
        (unsigned long)(st.total - st.free), (unsigned long)st.free,
        (unsigned long)(st.total - st.min_free), (unsigned long)st.largest,
        (unsigned long)st.used_blocks, (unsigned long)st.free_blocks, "Umem");
}

struct md { unsigned n; unsigned long bytes; };

static int memdump_row(const arena_hdr_t *h, void *arg)
{
    struct md *m = arg;
    if (!h->used) return 0;
    unsigned long nodesize = ARENA_HDR + h->size;
    out("%6d%12lu%12lu 0x%08lx 0x%08lx 0x%08lx\n", (int)h->pid, nodesize, (unsigned long)h->seq,
        (unsigned long)((uintptr_t)h + ARENA_HDR), (unsigned long)h->trace[0],
        (unsigned long)h->trace[1]);
    m->n++;
    m->bytes += nodesize;
    return 0;
}

static void proc_memdump_used(void)
{
    struct md m = {0, 0};
    out("Dump all used memory node info:\n");
    out("%6s%12s%12s%11s %s\n", "PID", "Size", "Sequence", "Address", "Backtrace");
    arena_walk(memdump_row, &m);
    out("%12s%12s\n", "Total Blks", "Total Size");
    out("%12u%12lu\n", m.n, m.bytes);
}

/* _assert with regs == NULL: save this context (up_saveusercontext), then dump it. */
__attribute__((noinline)) static void _assert(const char *file, int line, const char *msg,
                                                uintptr_t caller_ra)
{
    uint32_t r[13], sp, lr, pc, xpsr;
    __asm__ volatile("stmia %0, {r0-r12}" : : "r"(r) : "memory");
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    __asm__ volatile("mrs %0, xpsr" : "=r"(xpsr));
    lr = (uint32_t)(uintptr_t)__builtin_return_address(0);
    __asm__ volatile("1: adr %0, 1b" : "=r"(pc));
    _alert("dump_assert_info", "Current Version: NuttX  12.4.0 memsleuth-example arm\n");
    _alert("dump_assert_info", "Assertion failed %s: at file: %s:%d task: %s process: %s "
           "0x%08lx\n", msg, file, line, "net", "net", (unsigned long)(uintptr_t)net_reconnect);
    _alert("up_dump_register", "R0: %08x R1: %08x R2: %08x  R3: %08x\n", (unsigned)r[0],
           (unsigned)r[1], (unsigned)r[2], (unsigned)r[3]);
    _alert("up_dump_register", "R4: %08x R5: %08x R6: %08x  FP: %08x\n", (unsigned)r[4],
           (unsigned)r[5], (unsigned)r[6], (unsigned)r[7]);
    _alert("up_dump_register", "R8: %08x SB: %08x SL: %08x R11: %08x\n", (unsigned)r[8],
           (unsigned)r[9], (unsigned)r[10], (unsigned)r[11]);
    _alert("up_dump_register", "IP: %08x SP: %08x LR: %08x  PC: %08x\n", (unsigned)r[12],
           (unsigned)sp, (unsigned)lr, (unsigned)pc);
    _alert("up_dump_register", "xPSR: %08x PRIMASK: %08x CONTROL: %08x\n", (unsigned)xpsr,
           0u, 0u);
    /* sched_dumpstack: return addresses, innermost first */
    out("sched_dumpstack: backtrace|%2d: 0x%08lx 0x%08lx\n", NET_PID, (unsigned long)lr,
        (unsigned long)caller_ra);
    board_exit(4);
}

#define DEBUGASSERT(f) do { if (!(f)) _assert(__FILE__, __LINE__, #f, \
                                  (uintptr_t)__builtin_return_address(0)); } while (0)

__attribute__((noinline)) static void session_check(const struct session *s)
{
    DEBUGASSERT(s->magic == SESSION_MAGIC);             /* CRASH SITE */
}

void fault_report(const cm_frame_t *f)
{
    out("unexpected fault, pc %08x\n", (unsigned)f->basic[6]);
}

int main(void)
{
    board_init();
    arena_init(g_heap_mem, sizeof g_heap_mem);
    out("NuttShell (NSH) NuttX-12.4.0\n");
    out("# FACT cycles %d\n# FACT session_bytes %u\n# FACT header_bytes %u\n", CYCLES,
        (unsigned)sizeof(struct session), (unsigned)ARENA_HDR);
    out("nsh> free\n");
    nsh_free();
    for (int i = 1; i <= CYCLES; i++) {
        net_reconnect(i);
        out("nsh> free\n");
        nsh_free();
    }
    out("nsh> echo used > /proc/memdump\n");
    proc_memdump_used();
    g_last_session->magic = 0;                          /* a stray write */
    session_check(g_last_session);
    return 0;
}
