/* Host shim (see FreeRTOS.h): queue API used by the port. */
#ifndef SHIM_QUEUE_H
#define SHIM_QUEUE_H
#include "FreeRTOS.h"
typedef struct QueueDefinition *QueueHandle_t;
#define queueQUEUE_TYPE_BASE               ((uint8_t)0U)
#define queueQUEUE_TYPE_MUTEX              ((uint8_t)1U)
#define queueQUEUE_TYPE_COUNTING_SEMAPHORE ((uint8_t)2U)
#define queueQUEUE_TYPE_BINARY_SEMAPHORE   ((uint8_t)3U)
#define queueQUEUE_TYPE_RECURSIVE_MUTEX    ((uint8_t)4U)
QueueHandle_t xQueueGenericCreate(const UBaseType_t uxQueueLength, const UBaseType_t uxItemSize,
                                  const uint8_t ucQueueType);
QueueHandle_t xQueueCreateMutex(const uint8_t ucQueueType);
QueueHandle_t xQueueCreateCountingSemaphore(const UBaseType_t uxMaxCount,
                                            const UBaseType_t uxInitialCount);
void    vQueueDelete(QueueHandle_t xQueue);
uint8_t ucQueueGetQueueType(QueueHandle_t xQueue);
#define xQueueCreate(n, size) xQueueGenericCreate((n), (size), queueQUEUE_TYPE_BASE)
#endif
