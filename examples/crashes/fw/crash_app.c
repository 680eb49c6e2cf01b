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
