/*
 * MPS2-AN385 (Cortex-M3) under QEMU for the newlib stress app: vectors, reset, polled CMSDK
 * UART0, semihosting exit, and newlib's _sbrk over a fixed heap right after .bss
 * (HEAP_BYTES): when it is used up, malloc() returns NULL.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "memsleuth_agent.h"

#define UART0_BASE    0x40004000u
#define UART_DATA     (*(volatile uint32_t *)(UART0_BASE + 0x00u))
#define UART_STATE    (*(volatile uint32_t *)(UART0_BASE + 0x04u))
#define UART_CTRL     (*(volatile uint32_t *)(UART0_BASE + 0x08u))
#define UART_BAUDDIV  (*(volatile uint32_t *)(UART0_BASE + 0x10u))

extern uint32_t __etext_data, __data_start__, __data_end__, __bss_start__, __bss_end__;
extern uint32_t __stack_top__, __text_start__, __text_end__;
int main(void);
void board_init(void);
void board_write(const char *s, size_t n);
void board_exit(int code) __attribute__((noreturn));
void *_sbrk(ptrdiff_t incr);

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

static uintptr_t g_brk;

void *_sbrk(ptrdiff_t incr)
{
    uintptr_t base = ((uintptr_t)&__bss_end__ + 7u) & ~(uintptr_t)7u;
    if (!g_brk) g_brk = base;
    if (incr < 0 || g_brk + (uintptr_t)incr > base + HEAP_BYTES) {
        errno = ENOMEM;
        return (void *)-1;
    }
    uintptr_t old = g_brk;
    g_brk += (uintptr_t)incr;
    return (void *)old;
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
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    0, 0, 0, 0,
    Default_Handler, Default_Handler, 0, Default_Handler, Default_Handler,
};
