/*
 * A small host shim of the FreeRTOS kernel API, written for the port's tests (not FreeRTOS
 * code): the types, constants and prototypes ms_freertos.c and heap_ms.c use, with the same
 * names and signatures as FreeRTOS-Kernel V11.1.
 */
#ifndef SHIM_FREERTOS_H
#define SHIM_FREERTOS_H
#include <stddef.h>
#include <stdint.h>

#include "FreeRTOSConfig.h"

typedef long          BaseType_t;
typedef unsigned long UBaseType_t;
typedef uint32_t      TickType_t;
#define pdFALSE 0
#define pdTRUE  1
#define pdPASS  1
#define pdFAIL  0
#define portMAX_DELAY 0xffffffffu
#ifndef configSTACK_DEPTH_TYPE
#define configSTACK_DEPTH_TYPE uint16_t
#endif

typedef struct xHeapStats {
    size_t xAvailableHeapSpaceInBytes;
    size_t xSizeOfLargestFreeBlockInBytes;
    size_t xSizeOfSmallestFreeBlockInBytes;
    size_t xNumberOfFreeBlocks;
    size_t xMinimumEverFreeBytesRemaining;
    size_t xNumberOfSuccessfulAllocations;
    size_t xNumberOfSuccessfulFrees;
} HeapStats_t;

void  *pvPortMalloc(size_t xWantedSize);
void   vPortFree(void *pv);
void  *pvPortCalloc(size_t xNum, size_t xSize);
size_t xPortGetFreeHeapSize(void);
size_t xPortGetMinimumEverFreeHeapSize(void);
void   xPortResetHeapMinimumEverFreeHeapSize(void);
void   vPortInitialiseBlocks(void);
void   vPortGetHeapStats(HeapStats_t *pxHeapStats);

#ifndef traceMALLOC
#define traceMALLOC(pvAddress, uiSize)
#endif
#ifndef traceFREE
#define traceFREE(pvAddress, uiSize)
#endif
#endif
