/*
 * memsleuth fault handler for Cortex-M3/M4/M7 (ARMv7-M): prints the AliOS 2.0 / 3.x exception
 * dump (alios-formats.md §4) so `memsleuth crash` (and the original AliOS tools) can read it.
 *
 * - Install msf_fault_entry as the HardFault, MemManage, BusFault and UsageFault vector.
 * - No malloc, no printf: hex is formatted here, output goes through the write hook.
 * - Heap Info comes from the memsleuth agent (ms_heap_print_overview) when it is linked
 *   (weak reference); otherwise the section is left out.
 * - The Task Info table lists the tasks registered with msf_register_task; the crashed task is
 *   the one whose stack holds the faulting SP (the analysis finds it the same way).
 */
#ifndef MEMSLEUTH_FAULT_H
#define MEMSLEUTH_FAULT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*msf_write_fn)(const char *s, size_t n);

typedef struct {
    msf_write_fn write;     /* required: raw output (UART)                                */
    uintptr_t text_lo;      /* code range, to accept return addresses in the stack scan   */
    uintptr_t text_hi;
    uintptr_t ram_lo;       /* readable RAM: the dump never reads outside it              */
    uintptr_t ram_hi;
    uintptr_t msp_top;      /* top of the main stack (the interrupt stack)                */
    uint8_t era;            /* 2: AliOS 2.0 layout (default), 3: AliOS 3.x layout          */
    void (*on_done)(void);  /* called after `dump end` (reset, exit...); NULL = spin        */
} msf_config_t;

/* Remember the configuration (copied). */
void msf_init(const msf_config_t *cfg);

/* Register a task for the Task Info table; `stack` is its lowest address. The free-stack
 * high-water mark is the count of untouched (zero) words from the bottom, as AliOS does, so
 * zero the stack before the task runs. Returns the task index or -1 when the table is full. */
int msf_register_task(const char *name, void *stack, uint32_t stack_size, uint32_t prio,
                      const char *state);

/* Name printed by the 3.x `current task :` line (index from msf_register_task, -1 = none). */
void msf_set_current_task(int idx);

/* The vector: naked entry, picks MSP/PSP from EXC_RETURN, calls the C dump. */
void msf_fault_entry(void);

/* Print a `Fatal Error` dump (AliOS 2.0 debug_fatal_error layout) and stop. */
void msf_fatal_error(int err, const char *file, int line);

#ifdef __cplusplus
}
#endif

#endif /* MEMSLEUTH_FAULT_H */
