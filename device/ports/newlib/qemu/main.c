/*
 * Bare-metal newlib stress app with a slow leak (QEMU mps2-an385, Cortex-M3), for the
 * memsleuth newlib port. Known truth ([FACT] lines at the end):
 *   - every round: session_open() mallocs a session record that is never freed;
 *   - every 4th round: remember_peer() strdup()s a name that is never freed (newlib allocates
 *     it through _malloc_r: owner inside libc, the application line above it);
 *   - balanced every round: malloc + calloc + realloc + free;
 *   - not leaks: a 12-block warm-up cache over the first 12 rounds;
 * until an allocation fails. MS_MODE: 0 = newlib's malloc without hooks (the agent only
 * prints), 1 = side table beside newlib's malloc, 2 = the agent's heap replaces it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "memsleuth_agent.h"

void board_init(void);
void board_write(const char *s, size_t n);
void board_exit(int code) __attribute__((noreturn));
int  ms_newlib_init_side(ms_write_fn write, size_t heap_total);
int  ms_newlib_init(ms_write_fn write);
void ms_newlib_print_malloc_stats(void);

#define CACHE_MAX 12

struct session {
    char name[24];
    unsigned id;
    struct session *next;
};

static void    *g_cache[CACHE_MAX];
static unsigned g_cache_n, g_leaked_sessions, g_leaked_names, g_round, g_fail_round;
static int      g_line_session, g_line_peer;
static struct session *g_sessions;
static char    *g_last_peer;

static void cache_warm(void)
{
    if (g_cache_n < CACHE_MAX) g_cache[g_cache_n++] = malloc(96);
}

static __attribute__((noinline)) int session_open(unsigned id)
{
    struct session *s = malloc(sizeof *s); g_line_session = __LINE__;
    if (!s) return -1;
    s->id = id;
    s->next = g_sessions;   /* kept on a list nobody walks: the leak */
    g_sessions = s;
    g_leaked_sessions++;
    return 0;
}

static __attribute__((noinline)) int remember_peer(unsigned round)
{
    char *name = strdup("reconnect-peer-0000"); g_line_peer = __LINE__;
    if (!name) return -1;
    name[15] = (char)('0' + round % 10u);
    g_last_peer = name;     /* the previous one is never freed: the every-4th-round leak */
    g_leaked_names++;
    return 0;
}

static __attribute__((noinline)) int balanced_work(unsigned round)
{
    char *buf = malloc(200);
    uint32_t *tab = calloc(4, 16);
    if (!buf || !tab) {
        free(buf);
        free(tab);
        return -1;
    }
    char *bigger = realloc(buf, 300 + round % 8u);
    if (!bigger) {
        free(buf);
        free(tab);
        return -1;
    }
    bigger[0] = (char)tab[0];
    free(bigger);
    free(tab);
    return 0;
}

int main(void)
{
    board_init();
#if MS_MODE == 2
    ms_newlib_init(board_write);
#else
    ms_newlib_init_side(board_write, HEAP_BYTES);
#endif
    for (unsigned round = 1; round < 100000; round++) {
        g_round = round;
        ms_cycle_mark(round);
        cache_warm();
        int bad = balanced_work(round);
        bad |= session_open(round);
        if (round % 4 == 0) bad |= remember_peer(round);
        ms_heap_print_overview();
        if (round % 10 == 0) ms_newlib_print_malloc_stats();
#if MS_MODE != 0
        if (round % 100 == 0) ms_heap_dump();
#endif
        if (bad) {
            g_fail_round = round;
            break;
        }
    }
#if MS_MODE != 0
    ms_heap_dump();
#endif
    ms_newlib_print_malloc_stats();
    ms_printf("[FACT] mode %d trace_depth %d heap %d\n", MS_MODE, MS_AGENT_TRACE_DEPTH,
              (int)HEAP_BYTES);
    ms_printf("[FACT] first_failure_round %u\n", g_fail_round);
    ms_printf("[FACT] leak session main.c:%d per_round 1 leaked %u\n", g_line_session,
              g_leaked_sessions);
    ms_printf("[FACT] leak strdup main.c:%d every 4 leaked %u\n", g_line_peer, g_leaked_names);
    ms_printf("[FACT] cache_blocks %u\n", g_cache_n);
    (void)g_last_peer;
    board_exit(0);
}
