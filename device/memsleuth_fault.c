/*
 * memsleuth fault handler: AliOS-format exception dump for ARMv7-M. See memsleuth_fault.h.
 *
 * The dump is printed from the stacked exception frame: R0-R3, R12, LR, PC, xPSR come from the
 * frame on the stack the faulting code used (MSP or PSP, told by EXC_RETURN bit 2), R4-R11 are
 * pushed by the entry stub before anything can change them. Call-stack lines are call sites,
 * as AliOS prints them: the return address minus the size of the call instruction before it
 * (4 for BL / BLX imm, 2 for BLX Rm), found by a scan of the stack for words that are Thumb
 * return addresses into the code range and that follow a call instruction.
 */
#include "memsleuth_fault.h"
#include "memsleuth_build_id.h"

#define MSF_MAX_TASKS 8
#define MSF_SCAN_WORDS 512u  /* stack words scanned for return addresses */
#define MSF_MAX_FRAMES 16

#define SCB_CFSR  (*(volatile uint32_t *)0xE000ED28u)
#define SCB_HFSR  (*(volatile uint32_t *)0xE000ED2Cu)
#define SCB_MMFAR (*(volatile uint32_t *)0xE000ED34u)
#define SCB_BFAR  (*(volatile uint32_t *)0xE000ED38u)
#define SCB_AFSR  (*(volatile uint32_t *)0xE000ED3Cu)
#define SCB_ICSR  (*(volatile uint32_t *)0xE000ED04u)
#define MPU_CTRL  (*(volatile uint32_t *)0xE000ED94u)

typedef struct {
    const char *name;
    const char *state;
    uint32_t base, size, prio;
} msf_task_t;

static msf_config_t g_cfg;
static msf_task_t g_tasks[MSF_MAX_TASKS];
static int g_ntasks;
static int g_current = -1;
static volatile int g_in_dump;

/* Weak: present when the memsleuth heap agent is linked in. */
extern void ms_heap_print_overview(void) __attribute__((weak));

/* ---- output, no printf ------------------------------------------------------------------ */

static void out(const char *s)
{
    size_t n = 0;
    while (s[n]) n++;
    if (g_cfg.write) g_cfg.write(s, n);
}

static void hex8(uint32_t v, char *dst)
{
    static const char digits[] = "0123456789ABCDEF";
    for (int i = 7; i >= 0; i--) {
        dst[i] = digits[v & 0xFu];
        v >>= 4;
    }
}

static void out_hex(uint32_t v)
{
    char b[11] = "0x";
    hex8(v, b + 2);
    b[10] = 0;
    out(b);
}

static void out_dec(int v)
{
    char b[12];
    int i = 11;
    unsigned u = v < 0 ? (unsigned)-v : (unsigned)v;
    b[i] = 0;
    do {
        b[--i] = (char)('0' + u % 10u);
        u /= 10u;
    } while (u);
    if (v < 0) b[--i] = '-';
    out(b + i);
}

static void out_reg(const char *name, uint32_t v)
{
    /* 7-char name, one space, 0x%08X (AliOS panic_c.c) */
    char line[24];
    int i = 0;
    for (; name[i] && i < 7; i++) line[i] = name[i];
    for (; i < 7; i++) line[i] = ' ';
    line[7] = ' ';
    line[8] = '0';
    line[9] = 'x';
    hex8(v, line + 10);
    line[18] = '\r';
    line[19] = '\n';
    line[20] = 0;
    out(line);
}

/* ---- public setup ----------------------------------------------------------------------- */

void msf_init(const msf_config_t *cfg)
{
    g_cfg = *cfg;
    if (g_cfg.era != 3) g_cfg.era = 2;
}

int msf_register_task(const char *name, void *stack, uint32_t stack_size, uint32_t prio,
                      const char *state)
{
    if (g_ntasks >= MSF_MAX_TASKS) return -1;
    g_tasks[g_ntasks].name = name;
    g_tasks[g_ntasks].state = state ? state : "RDY";
    g_tasks[g_ntasks].base = (uint32_t)(uintptr_t)stack;
    g_tasks[g_ntasks].size = stack_size;
    g_tasks[g_ntasks].prio = prio;
    return g_ntasks++;
}

void msf_set_current_task(int idx)
{
    g_current = idx;
}

/* ---- helpers ---------------------------------------------------------------------------- */

static int readable(uint32_t a)
{
    return a >= g_cfg.ram_lo && a + 4u <= g_cfg.ram_hi && !(a & 3u);
}

static int in_text(uint32_t a)
{
    return a >= g_cfg.text_lo && a < g_cfg.text_hi;
}

/* Size of the call instruction that returns to `ra` (Thumb), or 0 when it is not a call. */
static uint32_t call_size(uint32_t ra)
{
    uint32_t a;
    if (!(ra & 1u)) return 0;
    a = ra & ~1u;
    if (a < g_cfg.text_lo + 4u || !in_text(a)) return 0;
    {
        uint16_t h1 = *(const uint16_t *)(uintptr_t)(a - 4u);
        uint16_t h2 = *(const uint16_t *)(uintptr_t)(a - 2u);
        if ((h1 & 0xF800u) == 0xF000u && ((h2 & 0xD000u) == 0xD000u || (h2 & 0xD000u) == 0xC000u))
            return 4;  /* BL / BLX imm */
        if ((h2 & 0xFF87u) == 0x4780u) return 2;  /* BLX Rm */
    }
    return 0;
}

static int task_of(uint32_t sp)
{
    for (int i = 0; i < g_ntasks; i++)
        if (sp >= g_tasks[i].base && sp < g_tasks[i].base + g_tasks[i].size) return i;
    return -1;
}

static uint32_t min_free(const msf_task_t *t)
{
    uint32_t n = 0;
    const uint32_t *p = (const uint32_t *)(uintptr_t)t->base;
    while (n < t->size / 4u && p[n] == 0u) n++;
    return n * 4u;
}

static void stack_rows_20(uint32_t sp)
{
    /* 2.0: "stack(0x%08X): 0x.. 0x.. 0x.. 0x.. " 16 rows from SP */
    uint32_t a = sp & ~3u;
    out("========== Stack info ==========\r\n");
    for (int r = 0; r < 16; r++, a += 16u) {
        if (!readable(a) || !readable(a + 12u)) break;
        out("stack(");
        out_hex(a);
        out("): ");
        for (int i = 0; i < 4; i++) {
            out_hex(*(const uint32_t *)(uintptr_t)(a + 4u * (uint32_t)i));
            out(" ");
        }
        out("\r\n");
    }
}

static void stack_rows_3x(uint32_t lo, uint32_t hi)
{
    /* 3.x stack_dump(): "(0x%08X): 0x%08X 0x%08X 0x%08X 0x%08X", zero rows collapsed */
    int zeros = 0;
    out("========== Stack info ==========\r\n");
    for (uint32_t a = lo & ~15u; a + 16u <= hi; a += 16u) {
        const uint32_t *w = (const uint32_t *)(uintptr_t)a;
        if (!readable(a) || !readable(a + 12u)) break;
        if (!(w[0] | w[1] | w[2] | w[3])) {
            if (!zeros) out(".........................( All Zeros ).........................\r\n");
            zeros = 1;
            continue;
        }
        zeros = 0;
        out("(");
        out_hex(a);
        out("): ");
        for (int i = 0; i < 4; i++) {
            out_hex(w[i]);
            out(i < 3 ? " " : "\r\n");
        }
    }
}

static void backtrace_line(uint32_t addr)
{
    out("backtrace : ");
    out_hex(addr);
    out(" \r\n");
}

/* Call stack: first the faulting PC, then LR, then return addresses found on the stack. */
static void call_stack(uint32_t pc, uint32_t lr, uint32_t sp, uint32_t top, int in_isr)
{
    uint32_t n = 0, cs;
    out("========== Call stack ==========\r\n");
    backtrace_line(pc);
    if ((cs = call_size(lr)) != 0u) {
        backtrace_line((lr & ~1u) - cs);
        n++;
    }
    for (uint32_t a = sp & ~3u, i = 0; a < top && i < MSF_SCAN_WORDS && n < MSF_MAX_FRAMES;
         a += 4u, i++) {
        uint32_t w;
        if (!readable(a)) break;
        w = *(const uint32_t *)(uintptr_t)a;
        if (w == lr && i < 8u) continue;  /* the LR the faulting function itself pushed */
        if ((cs = call_size(w)) == 0u) continue;
        backtrace_line((w & ~1u) - cs);
        n++;
    }
    out(in_isr ? "backtrace : ^interrupt^\r\n" : "backtrace : ^task entry^\r\n");
    out("==========    End     ==========\r\n");
}

static void heap_info(void)
{
    if (ms_heap_print_overview) {
        out("========== Heap Info  ==========\r\n");
        ms_heap_print_overview();
    }
}

static void task_info(void)
{
    static const char dashes[] =
        "--------------------------------------------------------------------------\r\n";
    out("========== Task Info  ==========\r\n");
    out(dashes);
    out("TaskName             State    Prio       Stack      StackSize (MinFree)\r\n");
    out(dashes);
    for (int t = 0; t < g_ntasks; t++) {
        char row[78];
        const msf_task_t *k = &g_tasks[t];
        int i;
        for (i = 0; i < 74; i++) row[i] = ' ';
        for (i = 0; k->name[i] && i < 20; i++) row[i] = k->name[i];
        for (i = 0; k->state[i] && i < 8; i++) row[21 + i] = k->state[i];
        row[30] = '0'; row[31] = 'x'; hex8(k->prio, row + 32);
        row[41] = '0'; row[42] = 'x'; hex8(k->base, row + 43);
        row[52] = '0'; row[53] = 'x'; hex8(k->size, row + 54);
        row[62] = '('; row[63] = '0'; row[64] = 'x'; hex8(min_free(k), row + 65);
        row[73] = ')';
        row[74] = '\r'; row[75] = '\n'; row[76] = 0;
        out(row);
    }
}

static void finish(void)
{
    out("!!!!!!!!!! dump end   !!!!!!!!!!\r\n");
    if (g_cfg.on_done) g_cfg.on_done();
    for (;;) {
    }
}

/* ---- the exception dump ----------------------------------------------------------------- */

void msf_fault_c(uint32_t *frame, uint32_t exc_return, uint32_t *r4_r11, uint32_t msp);
void msf_fault_c(uint32_t *frame, uint32_t exc_return, uint32_t *r4_r11, uint32_t msp)
{
    static const char *const names[8] = {"R4", "R5", "R6", "R7", "R8", "R9", "R10", "R11"};
    uint32_t cfsr = SCB_CFSR, hfsr = SCB_HFSR, mmfar = SCB_MMFAR, bfar = SCB_BFAR;
    uint32_t afsr = SCB_AFSR, psp, primask, faultmask, basepri, sp, top;
    uint32_t f[8];
    int task, in_isr = !(exc_return & 8u);

    /* A guard-region fault: let the dump read the stack the MPU protected. */
    MPU_CTRL = 0;
    __asm__ volatile("dsb\n isb" ::: "memory");
    __asm__ volatile("mrs %0, psp" : "=r"(psp));
    __asm__ volatile("mrs %0, primask" : "=r"(primask));
    __asm__ volatile("mrs %0, faultmask" : "=r"(faultmask));
    __asm__ volatile("mrs %0, basepri" : "=r"(basepri));

    if (g_in_dump++) {
        out("......\r\n");  /* re-entered: AliOS prints this and goes on */
        finish();
    }
    for (int i = 0; i < 8; i++) f[i] = 0;
    if (readable((uint32_t)(uintptr_t)frame) && readable((uint32_t)(uintptr_t)(frame + 7)))
        for (int i = 0; i < 8; i++) f[i] = frame[i];
    /* SP of the faulting context: above the basic (8 words) or FPU (26 words) frame, plus the
     * alignment word when xPSR bit 9 says the frame was realigned. */
    sp = (uint32_t)(uintptr_t)frame + ((exc_return & 0x10u) ? 32u : 104u);
    if (f[7] & (1u << 9)) sp += 4u;

    if (g_cfg.era == 3) out("\r\n");
    MS_BUILD_ID_PRINT(g_cfg.write, 1);  /* which build crashed (memsleuth checks --elf) */
    out("!!!!!!!!!! Exception  !!!!!!!!!!\r\n");
    task = task_of(sp);
    if (g_cfg.era == 3) {
        int cur = g_current >= 0 ? g_current : task;
        if (cur >= 0) {
            out("current task : ");
            out(g_tasks[cur].name);
            out("\r\n");
        } else {
            out("cur task name is NULL\r\n");
        }
    }
    out("========== Regs info  ==========\r\n");
    out_reg("R0", f[0]);
    out_reg("R1", f[1]);
    out_reg("R2", f[2]);
    out_reg("R3", f[3]);
    for (int i = 0; i < 8; i++) out_reg(names[i], r4_r11[i]);
    out_reg("R12", f[4]);
    out_reg("LR", f[5]);
    out_reg("PC", f[6]);
    out_reg("xPSR", f[7]);
    out_reg("SP", sp);
    if (g_cfg.era == 3) {
        out_reg("MSP", msp);
        out_reg("PSP", psp);
    }
    out_reg("EXC_RET", exc_return);
    out_reg("EXC_NUM", SCB_ICSR & 0x1FFu);
    out_reg("PRIMASK", primask);
    out_reg("FLTMASK", faultmask);
    out_reg("BASEPRI", basepri);
    out_reg("CFSR", cfsr);
    out_reg("HFSR", hfsr);
    out_reg("MMFAR", mmfar);
    out_reg("BFAR", bfar);
    out_reg("AFSR", afsr);

    top = task >= 0 ? g_tasks[task].base + g_tasks[task].size : g_cfg.msp_top;
    if (task < 0 && (exc_return & 4u)) top = sp + 4u * MSF_SCAN_WORDS;  /* unknown PSP stack */
    if (g_cfg.era == 2) stack_rows_20(sp);
    call_stack(f[6], f[5], sp, top, in_isr);
    heap_info();
    task_info();
    if (g_cfg.era == 3) {
        int cur = g_current >= 0 ? g_current : task;
        if (cur >= 0) stack_rows_3x(g_tasks[cur].base, g_tasks[cur].base + g_tasks[cur].size);
    }
    finish();
}

__attribute__((naked)) void msf_fault_entry(void)
{
    __asm__ volatile(
        "mrs   r3, msp          \n"
        "tst   lr, #4           \n"
        "ite   eq               \n"
        "mrseq r0, msp          \n"
        "mrsne r0, psp          \n"
        "mov   r1, lr           \n"
        "push  {r4-r11}         \n"
        "mov   r2, sp           \n"
        "b     msf_fault_c      \n");
}

/* ---- fatal error (k_err_proc → debug_fatal_error, 2.0 layout) --------------------------- */

void msf_fatal_error(int err, const char *file, int line)
{
    uint32_t sp, top;
    int task;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    out("!!!!!!!!!! Fatal Error !!!!!!!!!!\r\n");
    out("errno:");
    out_dec(err);
    out(" , file:");
    out(file);
    out(", line:");
    out_dec(line);
    out("\r\n");
    stack_rows_20(sp);
    heap_info();
    task_info();
    task = task_of(sp);
    top = task >= 0 ? g_tasks[task].base + g_tasks[task].size : g_cfg.msp_top;
    call_stack((uint32_t)(uintptr_t)__builtin_return_address(0) & ~1u, 0, sp, top, 0);
    if (g_cfg.on_done) g_cfg.on_done();
    for (;;) {
    }
}
