/* A vendor SDK's timer service and OS-abstraction layer, with the vendor's own names (none of
 * them in memsleuth's built-in wrapper list). */
#ifndef VSDK_H
#define VSDK_H
#include <stdint.h>

typedef struct vsdk_tmr vsdk_tmr_t;
typedef void (*vsdk_tmr_fn)(void *arg);

/* The SDK's constructor/destructor: the timer object is a heap block owned by the SDK. */
vsdk_tmr_t *vsdk_tmr_create(const char *name, uint32_t period_ms, vsdk_tmr_fn fn, void *arg);
void vsdk_tmr_destroy(vsdk_tmr_t *t);

/* The OS-abstraction wrapper the application calls; it carries the engineers' hand-added
 * "timer create %p caller %p" / "timer delete %p caller %p" prints. */
vsdk_tmr_t *osal_timer_new(const char *name, uint32_t period_ms, vsdk_tmr_fn fn, void *arg);
void osal_timer_free(vsdk_tmr_t *t);

void *osal_malloc(unsigned n);
void osal_free(void *p);

unsigned long vsdk_timers_created(void);
unsigned long vsdk_timers_deleted(void);
unsigned vsdk_tmr_size(void);
#endif
