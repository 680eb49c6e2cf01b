/*
 * MPS2-AN386 (Cortex-M4) under QEMU: vectors, reset, CMSDK UART0 at 0x40004000, exit through
 * semihosting SYS_EXIT_EXTENDED. Faults go to fault_entry, which hands the example's
 * fault_report() the stacked exception frame and the callee-saved registers.
 */
#include <stdarg.h>
#include <stdio.h>

#include "board.h"
#include "board_cm.h"

#define UART0_BASE    0x40004000u
#define UART_DATA     (*(volatile uint32_t *)(UART0_BASE + 0x00u))
#define UART_STATE    (*(volatile uint32_t *)(UART0_BASE + 0x04u))
#define UART_CTRL     (*(volatile uint32_t *)(UART0_BASE + 0x08u))
#define UART_BAUDDIV  (*(volatile uint32_t *)(UART0_BASE + 0x10u))
#define SCB_SHCSR     (*(volatile uint32_t *)0xE000ED24u)

extern uint32_t __etext_data, __data_start__, __data_end__, __bss_start__, __bss_end__;
extern uint32_t __stack_top__;
int main(void);

static void uart_write(const char *s, size_t n)
{
    while (n--) {
        while (UART_STATE & 1u) {
        }
        UART_DATA = (uint8_t)*s++;
    }
}

void board_init(void)
{
    UART_BAUDDIV = 16;
    UART_CTRL = 1u;
    SCB_SHCSR |= (1u << 16) | (1u << 17) | (1u << 18);   /* MemManage, BusFault, UsageFault */
}

void out(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n >= sizeof buf) n = sizeof buf - 1;
    for (int i = 0; i < n; i++) {               /* the UART sends CRLF, like a device */
        if (buf[i] == '\n') uart_write("\r", 1);
        uart_write(&buf[i], 1);
    }
}

void board_exit(int code)
{
    uint32_t block[2] = {0x20026u, (uint32_t)code};
    register int r0 __asm__("r0") = 0x20;
    register void *r1 __asm__("r1") = block;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    for (;;) {
    }
}

void Reset_Handler(void);
void Default_Handler(void);
void fault_entry(void);
void fault_c(uint32_t *frame, uint32_t *callee, uint32_t exc_return);

void Reset_Handler(void)
{
    uint32_t *src = &__etext_data, *dst = &__data_start__;
    while (dst < &__data_end__) *dst++ = *src++;
    for (dst = &__bss_start__; dst < &__bss_end__;) *dst++ = 0;
    board_exit(main());
}

void Default_Handler(void)
{
    out("\nunexpected exception\n");
    board_exit(2);
}

/* Push r4-r11, pass (stacked frame, callee regs, EXC_RETURN) to fault_c. */
__attribute__((naked)) void fault_entry(void)
{
    __asm__ volatile(
        "tst lr, #4\n"
        "ite eq\n"
        "mrseq r0, msp\n"
        "mrsne r0, psp\n"
        "push {r4-r11}\n"
        "mov r1, sp\n"
        "mov r2, lr\n"
        "b fault_c\n");
}

void fault_c(uint32_t *frame, uint32_t *callee, uint32_t exc_return)
{
    cm_frame_t f;
    for (int i = 0; i < 8; i++) f.basic[i] = frame[i];
    for (int i = 0; i < 8; i++) f.callee[i] = callee[i];
    f.exc_return = exc_return;
    f.psp = (uint32_t)(uintptr_t)frame + 32u;
    f.cfsr = *(volatile uint32_t *)0xE000ED28u;
    f.bfar = *(volatile uint32_t *)0xE000ED38u;
    f.mmfar = *(volatile uint32_t *)0xE000ED34u;
    fault_report(&f);
    board_exit(3);
}

__attribute__((section(".vectors"), used)) static void (*const g_vectors[16])(void) = {
    (void (*)(void))(&__stack_top__),
    Reset_Handler,
    Default_Handler,  /* NMI */
    fault_entry,      /* HardFault */
    fault_entry,      /* MemManage */
    fault_entry,      /* BusFault */
    fault_entry,      /* UsageFault */
    0, 0, 0, 0,
    Default_Handler,  /* SVC */
    Default_Handler, 0,
    Default_Handler,  /* PendSV */
    Default_Handler,  /* SysTick */
};

/* newlib's reentrancy glue links _sbrk; these examples never use newlib's malloc. */
void *_sbrk(int incr);
void *_sbrk(int incr)
{
    (void)incr;
    return (void *)-1;
}
