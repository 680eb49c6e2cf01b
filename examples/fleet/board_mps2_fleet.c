/*
 * MPS2-AN386 (Cortex-M4) board for fleet runs under QEMU: the example's board (CMSDK UART0,
 * semihosting exit) plus the memsleuth fault handler on the fault vectors, and the device's
 * parameters read from the semihosting command line ("seed=3 crash_at=80 ...").
 */
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "memsleuth_agent.h"
#include "memsleuth_fault.h"

const char    board_name[] = "cortex-m4";
const uint8_t board_crlf = 1;

#define UART0_BASE    0x40004000u
#define UART_DATA     (*(volatile uint32_t *)(UART0_BASE + 0x00u))
#define UART_STATE    (*(volatile uint32_t *)(UART0_BASE + 0x04u))
#define UART_CTRL     (*(volatile uint32_t *)(UART0_BASE + 0x08u))
#define UART_BAUDDIV  (*(volatile uint32_t *)(UART0_BASE + 0x10u))
#define SCB_SHCSR     (*(volatile uint32_t *)0xE000ED24u)

extern uint32_t __etext_data, __data_start__, __data_end__, __bss_start__, __bss_end__;
extern uint32_t __stack_top__, __text_start__, __text_end__;
int main(void);
const char *fleet_param(const char *name);
void fleet_reboot(void);

static int semihost(int op, void *arg)
{
    register int r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void board_write(const char *s, size_t n)
{
    while (n--) {
        while (UART_STATE & 1u) {
        }
        UART_DATA = (uint8_t)*s++;
    }
}

void board_exit(int code)
{
    uint32_t block[2] = {0x20026u, (uint32_t)code};
    semihost(0x20, block);
    for (;;) {
    }
}

static void fault_done(void) { board_exit(3); }

void board_init(void)
{
    msf_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    UART_BAUDDIV = 16;
    UART_CTRL = 1u;
    ms_agent_set_text_range((uintptr_t)&__text_start__, (uintptr_t)&__text_end__);
    cfg.write = board_write;
    cfg.text_lo = (uintptr_t)&__text_start__;
    cfg.text_hi = (uintptr_t)&__text_end__;
    cfg.ram_lo = 0x20000000u;
    cfg.ram_hi = (uintptr_t)&__stack_top__;
    cfg.msp_top = (uintptr_t)&__stack_top__;
    cfg.era = 2;
    cfg.on_done = fault_done;
    msf_init(&cfg);
    msf_set_current_task(msf_register_task("app_task", (char *)&__stack_top__ - 0x2000, 0x2000u,
                                           20u, "RDY"));
    SCB_SHCSR |= (1u << 16) | (1u << 17) | (1u << 18);  /* MemManage, BusFault, UsageFault */
}

/* SYS_GET_CMDLINE (0x15): "firmware key=value key=value" from -semihosting-config arg=... */
static char g_cmdline[256];
static int g_cmdline_read;

const char *fleet_param(const char *name)
{
    size_t len = strlen(name);
    const char *p;
    if (!g_cmdline_read) {
        struct { char *buf; uint32_t len; } blk = {g_cmdline, sizeof g_cmdline - 1};
        g_cmdline_read = 1;
        if (semihost(0x15, &blk) != 0) g_cmdline[0] = 0;
    }
    for (p = g_cmdline; *p; p++) {
        if ((p == g_cmdline || p[-1] == ' ') && !strncmp(p, name, len) && p[len] == '=') {
            static char value[24];
            size_t i = 0;
            p += len + 1;
            while (p[i] && p[i] != ' ' && i < sizeof value - 1) { value[i] = p[i]; i++; }
            value[i] = 0;
            return value;
        }
    }
    return NULL;
}

void fleet_reboot(void)
{
    ms_printf("fleet: reboot not simulated on this board\n");
}

void Reset_Handler(void);
void Default_Handler(void);

void Reset_Handler(void)
{
    uint32_t *src = &__etext_data, *dst = &__data_start__;
    while (dst < &__data_end__) *dst++ = *src++;
    for (dst = &__bss_start__; dst < &__bss_end__;) *dst++ = 0;
    board_exit(main());
}

void Default_Handler(void)
{
    static const char msg[] = "\r\nunexpected exception\r\n";
    board_write(msg, sizeof msg - 1);
    board_exit(2);
}

__attribute__((section(".vectors"), used)) static void (*const g_vectors[16])(void) = {
    (void (*)(void))(&__stack_top__),
    Reset_Handler,
    Default_Handler,  /* NMI */
    msf_fault_entry,  /* HardFault */
    msf_fault_entry,  /* MemManage */
    msf_fault_entry,  /* BusFault */
    msf_fault_entry,  /* UsageFault */
    0, 0, 0, 0,
    Default_Handler,  /* SVC */
    Default_Handler, 0,
    Default_Handler,  /* PendSV */
    Default_Handler,  /* SysTick */
};
