/*
 * Host shim of the FreeRTOS kernel objects for the port's tests (not FreeRTOS code): timers,
 * queues/semaphores/mutexes and tasks allocate through pvPortMalloc like the real kernel, so the
 * port's owners, traces and object lines can be checked against addr2line. The scheduler lock
 * is a nesting counter the tests check for balance.
 */
#include "FreeRTOS.h"
#include "queue.h"
#include "semphr.h"
#include "task.h"
#include "timers.h"

#include <string.h>

int g_shim_sched = taskSCHEDULER_NOT_STARTED;
int g_shim_suspended, g_shim_suspend_calls;

void vTaskSuspendAll(void)
{
    g_shim_suspended++;
    g_shim_suspend_calls++;
}

BaseType_t xTaskResumeAll(void)
{
    if (g_shim_suspended <= 0) g_shim_suspended = -1000;   /* unbalanced: the test sees it */
    g_shim_suspended--;
    return pdFALSE;
}

BaseType_t xTaskGetSchedulerState(void)
{
    return g_shim_suspended > 0 && g_shim_sched == taskSCHEDULER_RUNNING ? taskSCHEDULER_SUSPENDED
                                                                        : g_shim_sched;
}

struct tmrTimerControl {
    const char *name;
    TickType_t period;
    void *id;
    TimerCallbackFunction_t cb;
    BaseType_t reload;
};

TimerHandle_t xTimerCreate(const char *const pcTimerName, const TickType_t xTimerPeriodInTicks,
                           const BaseType_t xAutoReload, void *const pvTimerID,
                           TimerCallbackFunction_t pxCallbackFunction)
{
    struct tmrTimerControl *t = pvPortMalloc(sizeof *t);  /* SITE:ktimer */
    if (t) {
        t->name = pcTimerName;
        t->period = xTimerPeriodInTicks;
        t->id = pvTimerID;
        t->cb = pxCallbackFunction;
        t->reload = xAutoReload;
    }
    return t;
}

BaseType_t xTimerGenericCommandFromTask(TimerHandle_t xTimer, const BaseType_t xCommandID,
                                        const TickType_t xOptionalValue,
                                        BaseType_t *const pxHigherPriorityTaskWoken,
                                        const TickType_t xTicksToWait)
{
    (void)xOptionalValue;
    (void)pxHigherPriorityTaskWoken;
    (void)xTicksToWait;
    if (xCommandID == tmrCOMMAND_DELETE) vPortFree(xTimer);  /* the timer task's job */
    return pdPASS;
}

struct QueueDefinition {
    uint8_t type;
    UBaseType_t length, item;
};

QueueHandle_t xQueueGenericCreate(const UBaseType_t uxQueueLength, const UBaseType_t uxItemSize,
                                  const uint8_t ucQueueType)
{
    struct QueueDefinition *q = pvPortMalloc(sizeof *q + uxQueueLength * uxItemSize);  /* SITE:kqueue */
    if (q) {
        q->type = ucQueueType;
        q->length = uxQueueLength;
        q->item = uxItemSize;
    }
    return q;
}

QueueHandle_t xQueueCreateMutex(const uint8_t ucQueueType)
{
    QueueHandle_t q = xQueueGenericCreate(1, 0, ucQueueType);
    return q;
}

QueueHandle_t xQueueCreateCountingSemaphore(const UBaseType_t uxMaxCount,
                                            const UBaseType_t uxInitialCount)
{
    QueueHandle_t q = xQueueGenericCreate(uxMaxCount, 0, queueQUEUE_TYPE_COUNTING_SEMAPHORE);
    (void)uxInitialCount;
    return q;
}

void vQueueDelete(QueueHandle_t xQueue) { vPortFree(xQueue); }

uint8_t ucQueueGetQueueType(QueueHandle_t xQueue) { return xQueue->type; }

struct tskTaskControlBlock {
    void *stack;
    char name[12];
};
static struct tskTaskControlBlock g_main_task = {0, "main"};
TaskHandle_t g_shim_current = &g_main_task;   /* the "running" task, set by the test app */

TaskHandle_t xTaskGetCurrentTaskHandle(void) { return g_shim_current; }
char *pcTaskGetName(TaskHandle_t xTaskToQuery) { return xTaskToQuery->name; }

BaseType_t xTaskCreate(TaskFunction_t pxTaskCode, const char *const pcName,
                       const configSTACK_DEPTH_TYPE uxStackDepth, void *const pvParameters,
                       UBaseType_t uxPriority, TaskHandle_t *const pxCreatedTask)
{
    (void)pxTaskCode;
    (void)pvParameters;
    (void)uxPriority;
    void *stack = pvPortMalloc((size_t)uxStackDepth * sizeof(uintptr_t));  /* SITE:kstack */
    if (!stack) return pdFAIL;
    struct tskTaskControlBlock *tcb = pvPortMalloc(sizeof *tcb);  /* SITE:ktcb */
    if (!tcb) {
        vPortFree(stack);
        return pdFAIL;
    }
    tcb->stack = stack;
    strncpy(tcb->name, pcName, sizeof tcb->name - 1);
    tcb->name[sizeof tcb->name - 1] = 0;
    if (pxCreatedTask) *pxCreatedTask = tcb;
    return pdPASS;
}

void vTaskDelete(TaskHandle_t xTaskToDelete)
{
    if (!xTaskToDelete || xTaskToDelete == &g_main_task) return;
    vPortFree(xTaskToDelete->stack);
    vPortFree(xTaskToDelete);
}
