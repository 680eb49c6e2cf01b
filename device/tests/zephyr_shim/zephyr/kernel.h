/*
 * A small host shim of the Zephyr kernel API for the port's tests (not Zephyr code): the
 * names and signatures ms_zephyr.c uses, as in Zephyr 3.6 (k_malloc & co in
 * kernel/mempool.c, k_timer_init in kernel/timer.c, irq_lock, k_is_in_isr).
 */
#ifndef SHIM_ZEPHYR_KERNEL_H
#define SHIM_ZEPHYR_KERNEL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zephyr/sys/sys_heap.h>

struct k_heap {
    struct sys_heap heap;
};
extern struct k_heap _system_heap;

void *k_malloc(size_t size);
void  k_free(void *ptr);
void *k_calloc(size_t nmemb, size_t size);
void *k_aligned_alloc(size_t align, size_t size);
void *k_realloc(void *ptr, size_t size);

struct k_timer;
typedef void (*k_timer_expiry_t)(struct k_timer *timer);
typedef void (*k_timer_stop_t)(struct k_timer *timer);
struct k_timer {
    k_timer_expiry_t expiry_fn;
    k_timer_stop_t stop_fn;
    uint32_t status;
};
void k_timer_init(struct k_timer *timer, k_timer_expiry_t expiry_fn, k_timer_stop_t stop_fn);
void k_timer_stop(struct k_timer *timer);

unsigned int irq_lock(void);
void irq_unlock(unsigned int key);
bool k_is_in_isr(void);
#endif
