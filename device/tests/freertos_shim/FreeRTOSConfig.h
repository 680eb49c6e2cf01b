/* Host shim configuration: the FreeRTOS settings the port reads, then the port (last). */
#ifndef FREERTOS_CONFIG_H
#define FREERTOS_CONFIG_H
#define configTOTAL_HEAP_SIZE             (16 * 1024)
#define configUSE_TIMERS                  1
#define configUSE_MUTEXES                 1
#define configUSE_COUNTING_SEMAPHORES     1
#define configUSE_TRACE_FACILITY          1
#define configUSE_MALLOC_FAILED_HOOK      1
#define configAPPLICATION_ALLOCATED_HEAP  0
#define INCLUDE_vTaskDelete               1
#include "ms_freertos.h"
#endif
