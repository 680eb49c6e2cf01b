/*
 * MPS2-AN385 (Cortex-M3) under QEMU for the ThreadX app: vector table with ThreadX' PendSV and
 * a SysTick that calls _tx_timer_interrupt, _tx_initialize_low_level (what the kernel's
 * example_build/tx_initialize_low_level.S does, for this board), polled CMSDK UART0, exit
 * through semihosting SYS_EXIT_EXTENDED (QEMU returns the exit code).
 */
#include <stddef.h>
#include <stdint.h>

#include "memsleuth_agent.h"

#define UART0_BASE    0x40004000u
#define UART_DATA     (*(volatile uint32_t *)(UART0_BASE + 0x00u))
#define UART_STATE    (*(volatile uint32_t *)(UART0_BASE + 0x04u))
#define UART_CTRL     (*(volatile uint32_t *)(UART0_BASE + 0x08u))
#define UART_BAUDDIV  (*(volatile uint32_t *)(UART0_BASE + 0x10u))
#define SCB_VTOR      (*(volatile uint32_t *)0xE000ED08u)
#define SCB_SHPR2     (*(volatile uint32_t *)0xE000ED1Cu)
#define SCB_SHPR3     (*(volatile uint32_t *)0xE000ED20u)
#define SYST_CSR      (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR      (*(volatile uint32_t *)0xE000E014u)
#define CPU_HZ        25000000u   /* MPS2 AN385 */
#define TICK_HZ       100u        /* ThreadX' default TX_TIMER_TICKS_PER_SECOND */

extern uint32_t __etext_data, __data_start__, __data_end__, __bss_start__, __bss_end__;
extern uint32_t __stack_top__, __text_start__, __text_end__;
extern void *_tx_initialize_unused_memory;
extern void *_tx_thread_system_stack_ptr;
int main(void);
void board_init(void);
void board_write(const char *s, size_t n);
void board_exit(int code) __attribute__((noreturn));
void _tx_initialize_low_level(void);
void _tx_timer_interrupt(void);
void __tx_PendSVHandler(void);
void SysTick_Handler(void);

void board_init(void)
{
    UART_BAUDDIV = 16;
    UART_CTRL = 1u;
    ms_agent_set_text_range((uintptr_t)&__text_start__, (uintptr_t)&__text_end__);
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
    register int r0 __asm__("r0") = 0x20;
    register void *r1 __asm__("r1") = block;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    for (;;) {
    }
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

void SysTick_Handler(void) { _tx_timer_interrupt(); }

__attribute__((section(".vectors"), used)) static void (*const g_vectors[16])(void) = {
    (void (*)(void))(&__stack_top__),
    Reset_Handler,
    Default_Handler, /* NMI */
    Default_Handler, /* HardFault */
    Default_Handler, Default_Handler, Default_Handler,
    0, 0, 0, 0,
    Default_Handler, /* SVC: not used by the Cortex-M3 port */
    Default_Handler, 0,
    __tx_PendSVHandler,
    SysTick_Handler,
};

/* Called by tx_kernel_enter() with interrupts about to stay off until the scheduler runs. */
void _tx_initialize_low_level(void)
{
    __asm__ volatile("cpsid i");
    _tx_initialize_unused_memory = (void *)&__bss_end__;
    SCB_VTOR = (uint32_t)(uintptr_t)g_vectors;
    _tx_thread_system_stack_ptr = (void *)&__stack_top__;
    SYST_RVR = CPU_HZ / TICK_HZ - 1u;
    SYST_CSR = 7u;                 /* processor clock, interrupt, enable */
    SCB_SHPR2 = 0xFF000000u;       /* SVCall lowest */
    SCB_SHPR3 = 0x40FF0000u;       /* SysTick 0x40, PendSV lowest (0xFF) */
}
