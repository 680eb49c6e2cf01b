/* Host shim (see FreeRTOS.h): semaphore macros as FreeRTOS defines them over queue.h. */
#ifndef SHIM_SEMPHR_H
#define SHIM_SEMPHR_H
#include "queue.h"
typedef QueueHandle_t SemaphoreHandle_t;
#define xSemaphoreCreateBinary() xQueueGenericCreate(1, 0, queueQUEUE_TYPE_BINARY_SEMAPHORE)
#define xSemaphoreCreateMutex()  xQueueCreateMutex(queueQUEUE_TYPE_MUTEX)
#define xSemaphoreCreateCounting(m, i) xQueueCreateCountingSemaphore((m), (i))
#define vSemaphoreDelete(s) vQueueDelete((QueueHandle_t)(s))
#endif
