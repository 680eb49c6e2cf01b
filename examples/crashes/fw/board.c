/*
 * MPS2-AN386 under QEMU: vectors (faults go to the memsleuth handler), reset, CMSDK UART0 at
 * 0x40004000, exit through semihosting SYS_EXIT_EXTENDED.
 */
#include <stdint.h>
#include <stddef.h>

#include "memsleuth_fault.h"

#define UART0_BASE    0x40004000u
#define UART_DATA     (*(volatile uint32_t *)(UART0_BASE + 0x00u))
#define UART_STATE    (*(volatile uint32_t *)(UART0_BASE + 0x04u))
#define UART_CTRL     (*(volatile uint32_t *)(UART0_BASE + 0x08u))
#define UART_BAUDDIV  (*(volatile uint32_t *)(UART0_BASE + 0x10u))

extern uint32_t __etext_data, __data_start__, __data_end__, __bss_start__, __bss_end__;
extern uint32_t __stack_top__;
int main(void);
void board_write(const char *s, size_t n);
void board_exit(int code);

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
void uart_rx_irq(void) __attribute__((weak, alias("Default_Handler")));

void Reset_Handler(void)
{
    uint32_t *src = &__etext_data, *dst = &__data_start__;
    while (dst < &__data_end__) *dst++ = *src++;
    for (dst = &__bss_start__; dst < &__bss_end__;) *dst++ = 0;
    UART_BAUDDIV = 16;
    UART_CTRL = 1u;
    board_exit(main());
}

void Default_Handler(void)
{
    static const char msg[] = "\r\nunexpected exception\r\n";
    board_write(msg, sizeof msg - 1);
    board_exit(2);
}

__attribute__((section(".vectors"), used)) static void (*const g_vectors[17])(void) = {
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
    uart_rx_irq,      /* IRQ0 */
};
