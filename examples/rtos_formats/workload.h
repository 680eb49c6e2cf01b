/*
 * The workload every example runs, whatever RTOS format it prints: a network task that
 * reconnects CYCLES times; each reconnect allocates a 128-byte buffer (freed) and a 40-byte
 * session that is never freed (the leak). RTOS_MALLOC/RTOS_FREE are the RTOS' allocator.
 */
#ifndef RTOS_WORKLOAD_H
#define RTOS_WORKLOAD_H

#include <stdint.h>
#include <string.h>

#define CYCLES 40
#define SESSION_MAGIC 0x5E55u

struct session {
    uint32_t magic;
    uint8_t key[36];
};

static struct session *g_last_session;

__attribute__((noinline)) static struct session *session_open(int id)
{
    struct session *s = RTOS_MALLOC(sizeof *s);   /* LEAK SITE: never freed */
    s->magic = SESSION_MAGIC;
    memset(s->key, id & 0xFF, sizeof s->key);
    return s;
}

__attribute__((noinline)) static void net_reconnect(int id)
{
    uint8_t *buf = RTOS_MALLOC(128);              /* transient: freed below */
    memset(buf, 0, 128);
    g_last_session = session_open(id);
    RTOS_FREE(buf);
}

#endif
