/*
 * MPS2-AN386 (Cortex-M4) board under QEMU: vector table, reset, CMSDK APB UART0 at 0x40004000,
 * exit through semihosting SYS_EXIT_EXTENDED so QEMU returns the firmware's exit code.
 */
#include "board.h"

#include "memsleuth_agent.h"

const char    board_name[] = "cortex-m4";
const uint8_t board_crlf = 1;

#define UART0_BASE    0x40004000u
#define UART_DATA     (*(volatile uint32_t *)(UART0_BASE + 0x00u))
#define UART_STATE    (*(volatile uint32_t *)(UART0_BASE + 0x04u))
#define UART_CTRL     (*(volatile uint32_t *)(UART0_BASE + 0x08u))
#define UART_BAUDDIV  (*(volatile uint32_t *)(UART0_BASE + 0x10u))
#define UART_STATE_TXFULL 1u
#define UART_CTRL_TXEN    1u

extern uint32_t __etext_data, __data_start__, __data_end__, __bss_start__, __bss_end__;
extern uint32_t __stack_top__, __text_start__, __text_end__;
int main(void);

void board_init(void)
{
    UART_BAUDDIV = 16;
    UART_CTRL = UART_CTRL_TXEN;
    ms_agent_set_text_range((uintptr_t)&__text_start__, (uintptr_t)&__text_end__);
}

void board_write(const char *s, size_t n)
{
    while (n--) {
        while (UART_STATE & UART_STATE_TXFULL) {
        }
        UART_DATA = (uint8_t)*s++;
    }
}

static int semihost(int op, void *arg)
{
    register int r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void board_exit(int code)
{
    /* SYS_EXIT_EXTENDED (0x20): ADP_Stopped_ApplicationExit + exit code. */
    uint32_t block[2] = {0x20026u, (uint32_t)code};
    semihost(0x20, block);
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

__attribute__((section(".vectors"), used)) static void (*const g_vectors[16])(void) = {
    (void (*)(void))(&__stack_top__),
    Reset_Handler,
    Default_Handler, /* NMI */
    Default_Handler, /* HardFault */
    Default_Handler, Default_Handler, Default_Handler,
    0, 0, 0, 0,
    Default_Handler, /* SVC */
    Default_Handler, 0,
    Default_Handler, /* PendSV */
    Default_Handler, /* SysTick */
};
