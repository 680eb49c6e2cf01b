/* A tiny stand-in for the AliOS Rhino kernel API the mock Wi-Fi driver uses. */
#ifndef EXAMPLE_KERNEL_H
#define EXAMPLE_KERNEL_H

#include <stddef.h>
#include <stdint.h>

typedef int32_t kstat_t;
#define RHINO_SUCCESS 0
#define RHINO_NO_MEM  105

typedef void (*timer_cb_t)(void *timer, void *arg);

/* Same spirit as ktimer_t: list links, callback, timing fields, state. */
typedef struct ktimer {
    struct ktimer *next, *prev;
    const char    *name;
    timer_cb_t     cb;
    void          *arg;
    uint32_t       first, round, remain, match;
    uint8_t        state, type, pad[2];
    uint32_t       priv[4];
    uintptr_t      create_caller;   /* for the example's facts only */
} ktimer_t;

kstat_t krhino_timer_dyn_create(ktimer_t **timer, const char *name, timer_cb_t cb,
                                uint32_t first, uint32_t round, void *arg, uint8_t auto_run);
kstat_t krhino_timer_dyn_del(ktimer_t *timer);
unsigned krhino_timer_live_count(void);
unsigned long krhino_timer_created(void);
unsigned long krhino_timer_deleted(void);
uintptr_t krhino_timer_block_owner(void);

/* Current task id for the agent (1 = app_task, 2 = wifi_task). */
extern uint8_t g_cur_task;

#endif
