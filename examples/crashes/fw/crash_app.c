/*
 * Crash scenarios for `memsleuth crash`: each build (-DSCENARIO=...) really faults under QEMU
 * mps2-an386 (Cortex-M4) and the memsleuth fault handler prints the AliOS exception dump.
 *
 * The crashing code runs as "app_task" on its own stack (PSP), registered with the handler,
 * so the crashed-task lookup is real; an MPU no-access region sits just below that stack as
 * a guard. main() runs on MSP and is registered as "main_task".
 */
#include <stdint.h>
#include <string.h>

#include "memsleuth_fault.h"
#ifdef WITH_AGENT
#include "memsleuth_agent.h"
#endif

#define SC_NULL      1
#define SC_BADFP     2
#define SC_UNDEF     3
#define SC_DIV0      4
#define SC_STACKOVF  5
#define SC_UAF       6
#define SC_ISR_NULL  7
#define SC_WILD      8

#ifndef SCENARIO
#define SCENARIO SC_NULL
#endif
#ifndef WILD_ADDR
#define WILD_ADDR 0x60000000u
#endif
#ifndef ERA
#define ERA 2
#endif

void board_write(const char *s, size_t n);
void board_exit(int code);
extern uint32_t __text_start__, __text_end__, __ram_start__, __stack_top__, __stack_limit__;

#define SCB_SHCSR (*(volatile uint32_t *)0xE000ED24u)
#define SCB_CCR   (*(volatile uint32_t *)0xE000ED14u)
#define MPU_CTRL  (*(volatile uint32_t *)0xE000ED94u)
#define MPU_RNR   (*(volatile uint32_t *)0xE000ED98u)
#define MPU_RBAR  (*(volatile uint32_t *)0xE000ED9Cu)
#define MPU_RASR  (*(volatile uint32_t *)0xE000EDA0u)
#define NVIC_ISER0 (*(volatile uint32_t *)0xE000E100u)
#define NVIC_ISPR0 (*(volatile uint32_t *)0xE000E200u)

/* app_task's stack, with a 256-byte no-access guard right below it (MPU region). */
#define APP_STACK_SIZE 2048u
static struct {
    uint8_t guard[256];
    uint32_t stack[APP_STACK_SIZE / 4u];
} g_app __attribute__((aligned(256)));

#ifdef WITH_AGENT
static uint8_t g_arena[8192] __attribute__((aligned(8)));
#endif

/* Values the compiler must not see through (so the crashes are not optimised away). */
volatile uintptr_t g_config_addr = 0;
volatile int g_sample_count = 0;
volatile uintptr_t g_handler_addr = 0x20001000u;  /* even: no Thumb bit */

static void done(void)
{
    board_exit(0);
}

/* ---- scenario code ----------------------------------------------------------------------- */

struct net_config {
    uint32_t magic;
    uint32_t flags;
    uint32_t retries;
    uint32_t port;
    uint32_t timeout_ms;  /* offset 0x10 */
};

static inline uint32_t config_timeout(const struct net_config *cfg)
{
    return cfg->timeout_ms * 2u;  /* NULL + 0x10 */
}

__attribute__((noinline)) uint32_t net_connect_timeout(void)
{
    const struct net_config *cfg = (const struct net_config *)g_config_addr;
    return config_timeout(cfg) + 1u;
}

typedef void (*event_cb)(int);

__attribute__((noinline)) void dispatch_event(int ev)
{
    event_cb cb = (event_cb)g_handler_addr;
    cb(ev);
    g_sample_count += ev;
}

__attribute__((noinline)) void parse_packet(const uint8_t *p)
{
    if (p[0] != 0x7E) __builtin_trap();  /* "can't happen": an undefined instruction */
    g_sample_count++;
}

__attribute__((noinline)) int average_rssi(int sum)
{
    return sum / g_sample_count;
}

__attribute__((noinline)) uint32_t checksum_recursive(const uint8_t *p, uint32_t n)
{
    volatile uint8_t scratch[64];
    scratch[0] = p[0];
    scratch[63] = (uint8_t)n;
    if (n == 0) return scratch[0];
    return scratch[63] + checksum_recursive(p + 1, n - 1);
}

struct session_ops {
    void (*on_rx)(void *s, int len);
    void (*on_close)(void *s);
};
struct session {
    const struct session_ops *ops;
    uint32_t id;
    uint8_t rx[40];
};

static void sess_rx(void *s, int len) { ((struct session *)s)->id += (uint32_t)len; }
static void sess_close(void *s) { (void)s; }
static const struct session_ops g_sess_ops = {sess_rx, sess_close};

#ifdef WITH_AGENT
__attribute__((noinline)) struct session *session_open(uint32_t id)
{
    struct session *s = ms_malloc(sizeof *s);
    s->ops = &g_sess_ops;
    s->id = id;
    return s;
}

__attribute__((noinline)) void session_free(struct session *s)
{
    /* debug build: fill freed objects so stale users crash early */
    uint32_t *w = (uint32_t *)s;
    for (unsigned i = 0; i < sizeof *s / 4u; i++) w[i] = 0xDEADBEEFu;
    ms_free(s);
}

__attribute__((noinline)) void session_deliver(struct session *s, int len)
{
    s->ops->on_rx(s, len);
}

static struct session *g_sessions[4];
#endif

/* ---- heap scenarios (agent heap) ----------------------------------------------------------
 * Compiled only into their own builds, and placed after the code the other scenarios fault
 * in, so those fixtures keep their addresses and lines. */
#define SC_HEAP_OVF  9   /* a frame copied past its heap block, the next block's user crashes */
#define SC_HEAP_OOM 10   /* a leak until malloc fails: RHINO_NO_MEM fatal error              */
#define RHINO_NO_MEM 105 /* kstat_t (k_err.h)                                                */

#if defined(WITH_AGENT) && SCENARIO == SC_HEAP_OVF
struct rx_frame {
    uint16_t len;
    uint16_t seq;
    uint8_t data[28];     /* a 32-byte block */
};

struct timer_ops {
    void (*expire)(void *arg);
};
struct retry_timer {
    const struct timer_ops *ops;  /* first payload word: right after the header */
    void *arg;
    uint32_t period_ms;
    uint32_t fired;
};

static void retry_expire(void *arg) { ((struct session *)arg)->id++; }
static const struct timer_ops g_retry_ops = {retry_expire};

/* What came over the wire: 48 bytes of JSON for a 28-byte data field. */
static const char g_wire[] = "{\"t\":21.5,\"h\":40,\"dev\":\"sensor-0042\",\"fw\":\"1.2\"}";
volatile uint16_t g_wire_len = sizeof g_wire - 1u;

__attribute__((noinline)) struct rx_frame *rx_frame_alloc(void)
{
    struct rx_frame *f = ms_malloc(sizeof *f);
    f->len = 0;
    f->seq = 0;
    return f;
}

__attribute__((noinline)) struct retry_timer *retry_timer_create(void *arg, uint32_t period_ms)
{
    struct retry_timer *t = ms_malloc(sizeof *t);
    t->ops = &g_retry_ops;
    t->arg = arg;
    t->period_ms = period_ms;
    t->fired = 0;
    return t;
}

__attribute__((noinline)) void rx_frame_fill(struct rx_frame *f, const void *wire, uint16_t n)
{
    f->len = n;
    f->seq++;
    memcpy(f->data, wire, n);  /* n comes from the wire: never checked against sizeof data */
}

__attribute__((noinline)) void rx_frame_release(struct rx_frame *f)
{
    ms_free(f);  /* the agent sees the next header overwritten: warning + block dump */
}

__attribute__((noinline)) void retry_timer_expire(struct retry_timer *t)
{
    t->fired++;
    t->ops->expire(t->arg);  /* ops was overwritten by the frame's tail */
}
#endif

#if defined(WITH_AGENT) && SCENARIO == SC_HEAP_OOM
struct sample {
    struct sample *next;
    uint32_t ts;
    int16_t values[44];   /* a 96-byte record */
};

static struct sample *g_backlog;  /* the uplink never drains it: a leak */
static uint32_t g_now;

__attribute__((noinline)) int telemetry_record(int16_t v)
{
    struct sample *s = ms_malloc(sizeof *s);
    if (!s) return -1;
    s->ts = ++g_now;
    for (unsigned i = 0; i < sizeof s->values / sizeof s->values[0]; i++) s->values[i] = v;
    s->next = g_backlog;
    g_backlog = s;
    return 0;
}

__attribute__((noinline)) char *log_line_dup(const char *text)
{
    size_t n = strlen(text) + 1u;
    char *p = ms_malloc(n);
    if (p) memcpy(p, text, n);
    return p;
}

/* The agent's malloc-failure hook: AliOS k_mm then calls k_err_proc(RHINO_NO_MEM). */
__attribute__((noinline)) void heap_exhausted(size_t need)
{
    (void)need;
    msf_fatal_error(RHINO_NO_MEM, __FILE__, __LINE__);
}
#endif

__attribute__((noinline)) void run_scenario(void)
{
    static const uint8_t pkt[4] = {0x55, 1, 2, 3};
    switch (SCENARIO) {
    case SC_NULL:
        g_sample_count = (int)net_connect_timeout();
        break;
    case SC_BADFP:
        dispatch_event(3);
        break;
    case SC_UNDEF:
        parse_packet(pkt);
        break;
    case SC_DIV0:
        SCB_CCR |= 1u << 4;  /* DIV_0_TRP */
        g_sample_count = average_rssi(-420);
        break;
    case SC_STACKOVF:
        g_sample_count = (int)checksum_recursive(pkt, 100000u);
        break;
#ifdef WITH_AGENT
    case SC_UAF:
        for (int i = 0; i < 4; i++) g_sessions[i] = session_open((uint32_t)i + 1u);
        session_free(g_sessions[1]);  /* closed, but the pointer stays in the table */
        ms_heap_dump();               /* "dumpsys mm_info" before the crash */
        session_deliver(g_sessions[1], 12);
        break;
#endif
#if defined(WITH_AGENT) && SCENARIO == SC_HEAP_OVF
    case SC_HEAP_OVF: {
        for (int i = 0; i < 2; i++) g_sessions[i] = session_open((uint32_t)i + 1u);
        struct rx_frame *f = rx_frame_alloc();
        struct retry_timer *t = retry_timer_create(g_sessions[0], 500u);
        rx_frame_fill(f, g_wire, g_wire_len);  /* 48 bytes into 28: 20 past the block */
        rx_frame_release(f);
        retry_timer_expire(t);
        break;
    }
#endif
#if defined(WITH_AGENT) && SCENARIO == SC_HEAP_OOM
    case SC_HEAP_OOM:
        for (int i = 0; i < 3; i++) g_sessions[i] = session_open((uint32_t)i + 1u);
        (void)log_line_dup("boot: telemetry uplink started");
        for (int16_t v = 0;; v++) {
            if (telemetry_record(v) != 0) break;  /* not reached: the hook stops the system */
            if ((v & 7) == 0) (void)log_line_dup("uplink: retry later");
        }
        break;
#endif
    case SC_WILD:
        g_config_addr = WILD_ADDR;
        g_sample_count = (int)net_connect_timeout();
        break;
    default:
        break;
    }
}

__attribute__((noreturn, noinline)) void app_task_entry(void)
{
    run_scenario();
    done();
    for (;;) {
    }
}

/* Interrupt with a NULL dereference: the fault happens in handler mode. */
void uart_rx_irq(void);
__attribute__((noinline)) void uart_rx_irq(void)
{
    g_sample_count = (int)net_connect_timeout();
}

/* ---- setup ------------------------------------------------------------------------------- */

static void mpu_guard(void)
{
    /* region 0: the 256-byte guard below app_task's stack, no access, XN */
    MPU_RNR = 0;
    MPU_RBAR = (uint32_t)(uintptr_t)g_app.guard;
    MPU_RASR = (1u << 28) | (0u << 24) | (7u << 1) | 1u;  /* XN, AP=000, SIZE=2^(7+1), EN */
    /* region 1: a NULL guard, the first 256 bytes (vector table reads bypass the MPU) */
    MPU_RNR = 1;
    MPU_RBAR = 0u;
    MPU_RASR = (1u << 28) | (0u << 24) | (7u << 1) | 1u;
    MPU_CTRL = (1u << 2) | 1u;                               /* PRIVDEFENA | ENABLE */
    __asm__ volatile("dsb\n isb" ::: "memory");
}

__attribute__((noreturn)) static void start_app_task(void)
{
    uint32_t top = (uint32_t)(uintptr_t)&g_app.stack[APP_STACK_SIZE / 4u];
    __asm__ volatile(
        "msr psp, %0     \n"
        "movs r0, #2     \n"
        "msr control, r0 \n"
        "isb             \n"
        "bl app_task_entry\n"
        : : "r"(top) : "r0", "lr", "memory");
    for (;;) {
    }
}

int main(void)
{
    msf_config_t cfg = {0};
    cfg.write = board_write;
    cfg.text_lo = (uintptr_t)&__text_start__;
    cfg.text_hi = (uintptr_t)&__text_end__;
    cfg.ram_lo = (uintptr_t)&__ram_start__;
    cfg.ram_hi = (uintptr_t)&__stack_top__;
    cfg.msp_top = (uintptr_t)&__stack_top__;
    cfg.era = ERA;
    cfg.on_done = done;
    msf_init(&cfg);
    msf_register_task("main_task", &__stack_limit__, 0x1000u, 32u, "SUS");
    int app = msf_register_task("app_task", g_app.stack, APP_STACK_SIZE, 20u, "RDY");
    msf_set_current_task(app);
#ifdef WITH_AGENT
    ms_agent_config_t acfg;
    ms_agent_config_default(&acfg);
#if SCENARIO == SC_HEAP_OOM
    acfg.on_malloc_fail = heap_exhausted;
#endif
    ms_agent_init(board_write, g_arena, sizeof g_arena, &acfg);
#endif
    SCB_SHCSR |= (1u << 16) | (1u << 17) | (1u << 18);  /* MemManage, BusFault, UsageFault */
    mpu_guard();
    if (SCENARIO == SC_ISR_NULL) {
        msf_set_current_task(0);
        NVIC_ISER0 = 1u;  /* IRQ0 -> uart_rx_irq (board vector table) */
        NVIC_ISPR0 = 1u;
        __asm__ volatile("dsb\n isb" ::: "memory");
        for (;;) {
        }
    }
    start_app_task();
}
