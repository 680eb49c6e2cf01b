/*
 * The ThreadX port's host test (tests/device/test_threadx_port.py): an application on the
 * ThreadX shim, at -O0/-Og/-O2/-Os. Marked lines: SITE (block owner), OBJ ([MSOBJ] caller),
 * PRE (first allocation before init). Prints BLOCK/EXPECT/LOCK lines and the agent's output.
 */
#include <stdint.h>
#include <stdio.h>

#include "tx_api.h"

#include "memsleuth_agent.h"
#include "ms_threadx.h"

extern int g_shim_int_disabled, g_shim_int_calls, g_shim_int_bad;
extern TX_THREAD *g_shim_current;

#define HDR (sizeof(UCHAR *) + sizeof(ALIGN_TYPE))

static TX_BYTE_POOL g_pool, g_other;
static ALIGN_TYPE g_pool_mem[2048 / sizeof(ALIGN_TYPE)];
static ALIGN_TYPE g_other_mem[512 / sizeof(ALIGN_TYPE)];
static TX_THREAD g_worker;
static TX_SEMAPHORE g_sem;
static TX_QUEUE g_queue;
static TX_MUTEX g_mutex;
static ULONG g_qmem[16];
static volatile int g_sink;

static void out_write(const char *s, size_t n) { fwrite(s, 1, n, stdout); }
static void timer_cb(ULONG id) { (void)id; }
static void entry(ULONG in) { (void)in; }

static void report(const char *name, const void *p)
{
    uintptr_t owner = 0;
    size_t size = 0;
    if (ms_block_info(p, &owner, &size, NULL) != 0) {
        printf("BLOCK %s missing\n", name);
        return;
    }
    printf("BLOCK %s owner 0x%lx size %lu\n", name, (unsigned long)owner, (unsigned long)size);
}

__attribute__((noinline)) static void objects(void)
{
    TX_TIMER *t = 0;
    tx_byte_allocate(&g_pool, (VOID **)&t, sizeof *t, TX_NO_WAIT);  /* SITE:timer_mem */
    g_sink++;
    tx_timer_create(t, "retry", timer_cb, 0, 10, 0, TX_AUTO_ACTIVATE);  /* OBJ:timer_create */
    g_sink++;
    report("timer_mem", t);
    tx_timer_delete(t);  /* OBJ:timer_delete */
    g_sink++;
    tx_byte_release(t);
    g_sink++;
    report("timer_mem_released", t);
    tx_thread_create(&g_worker, "worker", entry, 0, g_qmem, sizeof g_qmem, 5, 5, TX_NO_TIME_SLICE, TX_AUTO_START);  /* OBJ:thread_create */
    g_sink++;
    tx_semaphore_create(&g_sem, "sem", 0);  /* OBJ:sem_create */
    g_sink++;
    tx_queue_create(&g_queue, "q", 1, g_qmem, sizeof g_qmem);  /* OBJ:queue_create */
    g_sink++;
    tx_mutex_create(&g_mutex, "mutex", 0);  /* OBJ:mutex_create */
    g_sink++;
    tx_mutex_delete(&g_mutex);  /* OBJ:mutex_delete */
    g_sink++;
    tx_queue_delete(&g_queue);  /* OBJ:queue_delete */
    g_sink++;
    tx_semaphore_delete(&g_sem);  /* OBJ:sem_delete */
    g_sink++;
}

/* Four blocks A B C D back to back; B and C released: one free run from B's header to D's,
 * what one allocation can get once ThreadX merges them. The tail after D is smaller. */
__attribute__((noinline)) static void fragment(void)
{
    VOID *a = 0, *b = 0, *c = 0, *d = 0;
    tx_byte_allocate(&g_pool, &a, 64, TX_NO_WAIT);  /* SITE:a */
    g_sink++;
    tx_byte_allocate(&g_pool, &b, 400, TX_NO_WAIT);
    tx_byte_allocate(&g_pool, &c, 400, TX_NO_WAIT);
    g_shim_current = &g_worker;   /* D is allocated by the worker thread */
    tx_byte_allocate(&g_pool, &d, 900, TX_NO_WAIT);  /* SITE:d */
    g_sink++;
    g_shim_current = 0;
    tx_byte_release(b);
    tx_byte_release(c);
    report("a", a);
    report("d", d);
    unsigned long run = (unsigned long)((UCHAR *)d - (UCHAR *)b) - HDR;
    UCHAR *end = (UCHAR *)g_pool_mem + sizeof g_pool_mem - HDR;
    unsigned long tail = (unsigned long)(end - ((UCHAR *)d + 900)) - HDR;
    printf("EXPECT largest %lu available %lu\n", run > tail ? run : tail,
           (unsigned long)g_pool.tx_byte_pool_available);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    VOID *early = 0, *other = 0;
    tx_byte_pool_create(&g_pool, "app", g_pool_mem, sizeof g_pool_mem);
    tx_byte_pool_create(&g_other, "other", g_other_mem, sizeof g_other_mem);
    tx_byte_allocate(&g_pool, &early, 24, TX_NO_WAIT);  /* PRE:early */
    g_sink++;
    ms_threadx_init_side(out_write, &g_pool);
    objects();
    fragment();
    tx_byte_allocate(&g_other, &other, 32, TX_NO_WAIT);   /* another pool: not tracked */
    report("other", other);
    ms_heap_print_overview();
    ms_threadx_print_pool_stats();
    for (int i = 0; i < 2; i++) {
        VOID *big = 0;
        if (tx_byte_allocate(&g_pool, &big, 1ul << 20, TX_NO_WAIT) == TX_SUCCESS) {
            printf("BIG allocation succeeded?\n");
        }
    }
    ms_heap_dump();
    tx_byte_release(other);
    tx_byte_release(early);
    printf("LOCK disabled %d calls %d bad %d\n", g_shim_int_disabled, g_shim_int_calls,
           g_shim_int_bad);
    return 0;
}
