/* Host shim (see FreeRTOS.h): timer API used by the port. */
#ifndef SHIM_TIMERS_H
#define SHIM_TIMERS_H
#include "FreeRTOS.h"
typedef struct tmrTimerControl *TimerHandle_t;
typedef void (*TimerCallbackFunction_t)(TimerHandle_t xTimer);
#define tmrCOMMAND_DELETE ((BaseType_t)5)
TimerHandle_t xTimerCreate(const char *const pcTimerName, const TickType_t xTimerPeriodInTicks,
                           const BaseType_t xAutoReload, void *const pvTimerID,
                           TimerCallbackFunction_t pxCallbackFunction);
BaseType_t xTimerGenericCommandFromTask(TimerHandle_t xTimer, const BaseType_t xCommandID,
                                        const TickType_t xOptionalValue,
                                        BaseType_t *const pxHigherPriorityTaskWoken,
                                        const TickType_t xTicksToWait);
#define xTimerDelete(t, wait) xTimerGenericCommandFromTask((t), tmrCOMMAND_DELETE, 0U, NULL, (wait))
#endif
