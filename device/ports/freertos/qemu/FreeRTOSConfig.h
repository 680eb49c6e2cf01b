/* FreeRTOS configuration of the QEMU mps2-an385 (Cortex-M3) stress app. */
#ifndef FREERTOS_CONFIG_H
#define FREERTOS_CONFIG_H

#define configCPU_CLOCK_HZ                  25000000UL
#define configTICK_RATE_HZ                  1000
#define configUSE_PREEMPTION                1
#define configUSE_IDLE_HOOK                 0
#define configUSE_TICK_HOOK                 0
#define configMAX_PRIORITIES                5
#define configMINIMAL_STACK_SIZE            128
#define configMAX_TASK_NAME_LEN             12
#define configUSE_16_BIT_TICKS              0
#define configUSE_MUTEXES                   1
#define configUSE_RECURSIVE_MUTEXES         0
#define configUSE_COUNTING_SEMAPHORES       1
#define configUSE_TRACE_FACILITY            1
#define configQUEUE_REGISTRY_SIZE           0
#define configSUPPORT_DYNAMIC_ALLOCATION    1
#define configSUPPORT_STATIC_ALLOCATION     0
#ifndef configTOTAL_HEAP_SIZE
#define configTOTAL_HEAP_SIZE               (24 * 1024)
#endif
#define configUSE_MALLOC_FAILED_HOOK        1
/* The heap array is main.c's, 8-aligned: every variant's heap then starts at the same
 * alignment (a linker-placed array can make heap_4 trim a different 0..7 bytes per build). */
#define configAPPLICATION_ALLOCATED_HEAP    1
#define configCHECK_FOR_STACK_OVERFLOW      0
#define configUSE_TIMERS                    1
#define configTIMER_TASK_PRIORITY           3
#define configTIMER_QUEUE_LENGTH            16
#define configTIMER_TASK_STACK_DEPTH        256
#define configKERNEL_INTERRUPT_PRIORITY     255
#define configMAX_SYSCALL_INTERRUPT_PRIORITY 64
#define configPRIO_BITS                     3
#define INCLUDE_vTaskDelete                 1
#define INCLUDE_vTaskDelay                  1
#define INCLUDE_xTaskGetSchedulerState      1
#define INCLUDE_xTaskGetCurrentTaskHandle   1

#define configASSERT(x) do { if (!(x)) app_assert_failed(__FILE__, __LINE__); } while (0)
void app_assert_failed(const char *file, int line);

/* The memsleuth port: last, as its README says. MS_FREERTOS_BESIDE comes from the Makefile. */
#include "ms_freertos.h"

#endif
