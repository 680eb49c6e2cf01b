/*
 * memsleuth agent, FreeRTOS port: side-table start-up, the kernel's heap figures for the
 * agent's overview, the kernel's lock, HeapStats_t printing, and the kernel-object wrappers.
 * See ms_freertos.h and README.md. Build with the kernel's include paths and FreeRTOSConfig.h
 * (which includes ms_freertos.h at its end).
 */
#include "FreeRTOS.h"
#include "queue.h"
#include "semphr.h"
#include "task.h"
#include "timers.h"

#include "memsleuth_agent.h"
#include "ms_freertos.h"

/* Side-table entries (live tracked blocks + 1). Size it ~1.3x the peak number of live blocks:
 * the agent says so on one [MSAGENT] line when it is too small. */
#ifndef MS_FREERTOS_TABLE_ENTRIES
#define MS_FREERTOS_TABLE_ENTRIES 512
#endif

/* What the overview prints as TotalSz (heap_5: set it to the sum of the regions). */
#ifndef MS_FREERTOS_HEAP_TOTAL
#define MS_FREERTOS_HEAP_TOTAL configTOTAL_HEAP_SIZE
#endif

static ms_freertos_write_fn g_write;

void ms_freertos_set_write(ms_freertos_write_fn write) { g_write = write; }

/* heap_ms.c's sink: whatever ms_freertos_set_write() gave, nothing before that. */
void ms_freertos_replace_write(const char *s, size_t n);
void ms_freertos_replace_write(const char *s, size_t n)
{
    if (g_write) g_write(s, n);
}

/* The kernel's lock for the agent: the scheduler suspended (what heap_4 itself takes; it
 * nests, and traceMALLOC already runs inside heap_4's suspended section). Not for ISRs:
 * FreeRTOS forbids pvPortMalloc/vPortFree from interrupts, and so does this port. */
static void ms_rtos_lock(void)
{
    if (xTaskGetSchedulerState() != taskSCHEDULER_NOT_STARTED) vTaskSuspendAll();
}

static void ms_rtos_unlock(void)
{
    if (xTaskGetSchedulerState() != taskSCHEDULER_NOT_STARTED) (void)xTaskResumeAll();
}

#if defined(__ARM_ARCH) && (__ARM_ARCH_PROFILE == 'M')
static int in_handler(void)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    return ipsr != 0u;
}
#else
static int in_handler(void) { return 0; }
#endif

/* The kernel heap's own figures. vPortGetHeapStats() takes a critical section, which asserts
 * in a handler (a fault handler printing the overview): there only the two lock-free getters. */
static void ms_rtos_heap_stats(ms_heap_stats_t *st)
{
    st->total = MS_FREERTOS_HEAP_TOTAL;
    st->alloc_fail = 0;
    if (in_handler()) {
        st->free = xPortGetFreeHeapSize();
        st->used = st->total - st->free;
        st->max_used = st->total - xPortGetMinimumEverFreeHeapSize();
        st->max_free_blk = st->min_free_blk = st->free_blocks = st->allocs = st->frees = 0;
        return;
    }
    HeapStats_t hs;
    vPortGetHeapStats(&hs);
    st->free = hs.xAvailableHeapSpaceInBytes;
    st->used = st->total - st->free;
    st->max_used = st->total - hs.xMinimumEverFreeBytesRemaining;
    st->max_free_blk = hs.xSizeOfLargestFreeBlockInBytes;
    st->min_free_blk = hs.xSizeOfSmallestFreeBlockInBytes;
    st->free_blocks = hs.xNumberOfFreeBlocks;
    st->allocs = hs.xNumberOfSuccessfulAllocations;
    st->frees = hs.xNumberOfSuccessfulFrees;
}

/* ------------------------------------------------------------------------------------------ */
/* Task table for the dump's "task allocation statistic": tasks created through the wrapped
 * xTaskCreate() get ids 2..; id 1 = "startup" (before the scheduler, and tasks the wrapper did
 * not see, e.g. the idle task); id 0 = an ISR. A deleted task's blocks count as "Allocated by
 * deleted task", as in AliOS. */
#ifndef MS_FREERTOS_MAX_TASKS
#define MS_FREERTOS_MAX_TASKS 16
#endif
static struct {
    TaskHandle_t h;
    int prio, stack;
    uint8_t id;
} g_tasks[MS_FREERTOS_MAX_TASKS];
static uint8_t g_next_task_id = 2;

static uint8_t ms_rtos_task_id(void)
{
    if (in_handler()) return 0;
    if (xTaskGetSchedulerState() == taskSCHEDULER_NOT_STARTED) return 1;
    TaskHandle_t cur = xTaskGetCurrentTaskHandle();
    for (int i = 0; i < MS_FREERTOS_MAX_TASKS; i++) {
        if (g_tasks[i].h && g_tasks[i].h == cur) return g_tasks[i].id;
    }
    return 1;
}

static int ms_rtos_task_at(unsigned idx, ms_task_info_t *out)
{
    if (idx == 0) {
        out->id = 1;
        out->name = "startup";
        out->prio = 0;
        out->stack_size = 0;
        return 1;
    }
    for (int i = 0; i < MS_FREERTOS_MAX_TASKS; i++) {
        if (!g_tasks[i].h || --idx) continue;
        out->id = g_tasks[i].id;
        out->name = pcTaskGetName(g_tasks[i].h);
        out->prio = g_tasks[i].prio;
        out->stack_size = g_tasks[i].stack;   /* words, as FreeRTOS counts a stack */
        return 1;
    }
    return 0;
}

__attribute__((unused)) static void task_created(TaskHandle_t h, int prio, int stack)
{
    for (int i = 0; i < MS_FREERTOS_MAX_TASKS; i++) {
        if (g_tasks[i].h) continue;
        g_tasks[i].h = h;
        g_tasks[i].prio = prio;
        g_tasks[i].stack = stack;
        g_tasks[i].id = g_next_task_id;
        /* ids wrap before 0xFF (the allocator's own); a reused id may mix two tasks' rows. */
        g_next_task_id = g_next_task_id >= 254u ? 2u : (uint8_t)(g_next_task_id + 1u);
        return;
    }
    /* Table full: this task's blocks count under "startup". */
}

__attribute__((unused)) static void task_deleted(TaskHandle_t h)
{
    for (int i = 0; i < MS_FREERTOS_MAX_TASKS; i++) {
        if (g_tasks[i].h == h) g_tasks[i].h = 0;
    }
}

/* What ms_heap_print_overview() prints: MS_OVERVIEW_ALIOS (default), MS_OVERVIEW_NATIVE (the
 * HeapStats_t line only) or MS_OVERVIEW_BOTH. */
#ifndef MS_FREERTOS_OVERVIEW
#define MS_FREERTOS_OVERVIEW MS_OVERVIEW_ALIOS
#endif

void ms_freertos_config(ms_agent_config_t *cfg, int side);
void ms_freertos_config(ms_agent_config_t *cfg, int side)
{
    ms_agent_config_default(cfg);
    cfg->lock = ms_rtos_lock;
    cfg->unlock = ms_rtos_unlock;
    if (side) cfg->heap_stats = ms_rtos_heap_stats;
    cfg->native_overview = ms_freertos_print_heap_stats;
    cfg->overview = MS_FREERTOS_OVERVIEW;
    cfg->task_id = ms_rtos_task_id;
    cfg->task_at = ms_rtos_task_at;
}

#if defined(MS_FREERTOS_BESIDE) && MS_FREERTOS_BESIDE
static ms_side_entry_t g_ms_table[MS_FREERTOS_TABLE_ENTRIES];

int ms_freertos_init_side(ms_freertos_write_fn write)
{
    ms_agent_config_t cfg;
    g_write = write;
    ms_freertos_config(&cfg, 1);
    return ms_agent_init_side(write, g_ms_table, sizeof g_ms_table, &cfg);
}
#endif

static void put_str(const char *s)
{
    size_t n = 0;
    while (s[n]) n++;
    if (g_write) g_write(s, n);
}

static void put_field(const char *name, size_t v, int last)
{
    char num[24];
    int n = 0;
    do {
        num[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    char out[24];
    for (int i = 0; i < n; i++) out[i] = num[n - 1 - i];
    out[n] = 0;
    put_str(name);
    put_str("=");
    put_str(out);
    put_str(last ? "\r\n" : " ");
}

void ms_freertos_print_heap_stats(void)
{
    HeapStats_t hs;
    if (in_handler()) {
        /* A fault handler: vPortGetHeapStats() would assert; the two lock-free getters only. */
        put_field("xAvailableHeapSpaceInBytes", xPortGetFreeHeapSize(), 0);
        put_field("xMinimumEverFreeBytesRemaining", xPortGetMinimumEverFreeHeapSize(), 0);
        put_field("configTOTAL_HEAP_SIZE", MS_FREERTOS_HEAP_TOTAL, 1);
        return;
    }
    vPortGetHeapStats(&hs);
    /* Starts with a field name (a PC reader keys on HeapStats_t's names, not on a prefix). */
    put_field("xAvailableHeapSpaceInBytes", hs.xAvailableHeapSpaceInBytes, 0);
    put_field("xSizeOfLargestFreeBlockInBytes", hs.xSizeOfLargestFreeBlockInBytes, 0);
    put_field("xSizeOfSmallestFreeBlockInBytes", hs.xSizeOfSmallestFreeBlockInBytes, 0);
    put_field("xNumberOfFreeBlocks", hs.xNumberOfFreeBlocks, 0);
    put_field("xMinimumEverFreeBytesRemaining", hs.xMinimumEverFreeBytesRemaining, 0);
    put_field("xNumberOfSuccessfulAllocations", hs.xNumberOfSuccessfulAllocations, 0);
    put_field("xNumberOfSuccessfulFrees", hs.xNumberOfSuccessfulFrees, 0);
    put_field("configTOTAL_HEAP_SIZE", MS_FREERTOS_HEAP_TOTAL, 1);
}

/* ------------------------------------------------------------------------------------------ */
/* Kernel-object trace through the linker's --wrap: each wrapper is called by the application
 * (the linker redirects its calls), so ms_obj_create()'s return address is the application's
 * call line at any -O. --wrap redirects every call between object files, so the kernel's own
 * cross-file creations show too (timer command queue, timer task: caller in timers.c/tasks.c);
 * calls inside one kernel file (the idle task) are not seen. */

#if !defined(MS_FREERTOS_NO_OBJ_WRAP)

#if configUSE_TIMERS == 1
TimerHandle_t __real_xTimerCreate(const char *pcTimerName, TickType_t xTimerPeriodInTicks,
                                  BaseType_t xAutoReload, void *pvTimerID,
                                  TimerCallbackFunction_t pxCallbackFunction);
TimerHandle_t __wrap_xTimerCreate(const char *pcTimerName, TickType_t xTimerPeriodInTicks,
                                  BaseType_t xAutoReload, void *pvTimerID,
                                  TimerCallbackFunction_t pxCallbackFunction);
MS_GLUE TimerHandle_t __wrap_xTimerCreate(const char *pcTimerName,
                                          TickType_t xTimerPeriodInTicks,
                                          BaseType_t xAutoReload, void *pvTimerID,
                                          TimerCallbackFunction_t pxCallbackFunction)
{
    TimerHandle_t t = __real_xTimerCreate(pcTimerName, xTimerPeriodInTicks, xAutoReload,
                                          pvTimerID, pxCallbackFunction);
    if (t) ms_obj_create("timer", t);
    return t;
}

BaseType_t __real_xTimerGenericCommandFromTask(TimerHandle_t xTimer, const BaseType_t xCommandID,
                                               const TickType_t xOptionalValue,
                                               BaseType_t *const pxHigherPriorityTaskWoken,
                                               const TickType_t xTicksToWait);
BaseType_t __wrap_xTimerGenericCommandFromTask(TimerHandle_t xTimer, const BaseType_t xCommandID,
                                               const TickType_t xOptionalValue,
                                               BaseType_t *const pxHigherPriorityTaskWoken,
                                               const TickType_t xTicksToWait);
MS_GLUE BaseType_t __wrap_xTimerGenericCommandFromTask(
    TimerHandle_t xTimer, const BaseType_t xCommandID, const TickType_t xOptionalValue,
    BaseType_t *const pxHigherPriorityTaskWoken, const TickType_t xTicksToWait)
{
    /* xTimerDelete() is a command to the timer task; the line is printed when the command is
     * queued (the memory goes back a little later, in the timer task). */
    if (xCommandID == tmrCOMMAND_DELETE) ms_obj_delete("timer", xTimer);
    return __real_xTimerGenericCommandFromTask(xTimer, xCommandID, xOptionalValue,
                                               pxHigherPriorityTaskWoken, xTicksToWait);
}
#endif

/* queueQUEUE_TYPE_* to the object-trace kind (docs/object-trace.md). */
static const char *queue_kind(uint8_t type)
{
    switch (type) {
    case queueQUEUE_TYPE_MUTEX:
    case queueQUEUE_TYPE_RECURSIVE_MUTEX: return "mutex";
    case queueQUEUE_TYPE_COUNTING_SEMAPHORE:
    case queueQUEUE_TYPE_BINARY_SEMAPHORE: return "sem";
    default: return "queue";
    }
}

QueueHandle_t __real_xQueueGenericCreate(const UBaseType_t uxQueueLength,
                                         const UBaseType_t uxItemSize, const uint8_t ucQueueType);
QueueHandle_t __wrap_xQueueGenericCreate(const UBaseType_t uxQueueLength,
                                         const UBaseType_t uxItemSize, const uint8_t ucQueueType);
MS_GLUE QueueHandle_t __wrap_xQueueGenericCreate(const UBaseType_t uxQueueLength,
                                                 const UBaseType_t uxItemSize,
                                                 const uint8_t ucQueueType)
{
    QueueHandle_t q = __real_xQueueGenericCreate(uxQueueLength, uxItemSize, ucQueueType);
    if (q) ms_obj_create(queue_kind(ucQueueType), q);
    return q;
}

#if configUSE_MUTEXES == 1
QueueHandle_t __real_xQueueCreateMutex(const uint8_t ucQueueType);
QueueHandle_t __wrap_xQueueCreateMutex(const uint8_t ucQueueType);
MS_GLUE QueueHandle_t __wrap_xQueueCreateMutex(const uint8_t ucQueueType)
{
    QueueHandle_t q = __real_xQueueCreateMutex(ucQueueType);
    if (q) ms_obj_create("mutex", q);
    return q;
}
#endif

#if configUSE_COUNTING_SEMAPHORES == 1
QueueHandle_t __real_xQueueCreateCountingSemaphore(const UBaseType_t uxMaxCount,
                                                   const UBaseType_t uxInitialCount);
QueueHandle_t __wrap_xQueueCreateCountingSemaphore(const UBaseType_t uxMaxCount,
                                                   const UBaseType_t uxInitialCount);
MS_GLUE QueueHandle_t __wrap_xQueueCreateCountingSemaphore(const UBaseType_t uxMaxCount,
                                                           const UBaseType_t uxInitialCount)
{
    QueueHandle_t q = __real_xQueueCreateCountingSemaphore(uxMaxCount, uxInitialCount);
    if (q) ms_obj_create("sem", q);
    return q;
}
#endif

void __real_vQueueDelete(QueueHandle_t xQueue);
void __wrap_vQueueDelete(QueueHandle_t xQueue);
MS_GLUE void __wrap_vQueueDelete(QueueHandle_t xQueue)
{
    /* The kind must match the create line: the queue's own type (needs the trace facility). */
#if configUSE_TRACE_FACILITY == 1
    ms_obj_delete(queue_kind(ucQueueGetQueueType(xQueue)), xQueue);
#else
#error "the FreeRTOS object trace needs configUSE_TRACE_FACILITY 1 (queue kinds on delete)"
#endif
    __real_vQueueDelete(xQueue);
}

BaseType_t __real_xTaskCreate(TaskFunction_t pxTaskCode, const char *const pcName,
                              const configSTACK_DEPTH_TYPE uxStackDepth, void *const pvParameters,
                              UBaseType_t uxPriority, TaskHandle_t *const pxCreatedTask);
BaseType_t __wrap_xTaskCreate(TaskFunction_t pxTaskCode, const char *const pcName,
                              const configSTACK_DEPTH_TYPE uxStackDepth, void *const pvParameters,
                              UBaseType_t uxPriority, TaskHandle_t *const pxCreatedTask);
MS_GLUE BaseType_t __wrap_xTaskCreate(TaskFunction_t pxTaskCode, const char *const pcName,
                                      const configSTACK_DEPTH_TYPE uxStackDepth,
                                      void *const pvParameters, UBaseType_t uxPriority,
                                      TaskHandle_t *const pxCreatedTask)
{
    /* Scheduler suspended across create + line: a new task of higher priority must not run
     * (and maybe delete itself) before its create line is out. */
    TaskHandle_t h = 0;
    int running = xTaskGetSchedulerState() == taskSCHEDULER_RUNNING;
    if (running) vTaskSuspendAll();
    BaseType_t r = __real_xTaskCreate(pxTaskCode, pcName, uxStackDepth, pvParameters,
                                      uxPriority, &h);
    if (pxCreatedTask) *pxCreatedTask = h;
    if (r == pdPASS) {
        task_created(h, (int)uxPriority, (int)uxStackDepth);
        ms_obj_create_named("task", h, pcName);
    }
    if (running) (void)xTaskResumeAll();
    return r;
}

#if INCLUDE_vTaskDelete == 1
void __real_vTaskDelete(TaskHandle_t xTaskToDelete);
void __wrap_vTaskDelete(TaskHandle_t xTaskToDelete);
MS_GLUE void __wrap_vTaskDelete(TaskHandle_t xTaskToDelete)
{
    TaskHandle_t h = xTaskToDelete ? xTaskToDelete : xTaskGetCurrentTaskHandle();
    ms_obj_delete("task", h);
    task_deleted(h);
    __real_vTaskDelete(xTaskToDelete);
}
#endif

#endif /* !MS_FREERTOS_NO_OBJ_WRAP */
