/* First-fit allocator over one region; see arena.h. */
#include "arena.h"

static uint8_t *g_base, *g_end;
static size_t g_min_free;
static unsigned long g_allocs, g_frees;
static uint32_t g_seq;

static arena_hdr_t *next_of(arena_hdr_t *h)
{
    return (arena_hdr_t *)((uint8_t *)h + ARENA_HDR + h->size);
}

void arena_init(void *mem, size_t len)
{
    g_base = (uint8_t *)(((uintptr_t)mem + 7u) & ~(uintptr_t)7u);
    g_end = g_base + ((len - (size_t)(g_base - (uint8_t *)mem)) & ~(size_t)7u);
    arena_hdr_t *h = (arena_hdr_t *)g_base;
    h->size = (uint32_t)(g_end - g_base) - ARENA_HDR;
    h->used = 0;
    g_min_free = h->size;
}

uintptr_t arena_base(void) { return (uintptr_t)g_base; }

static size_t free_now(void)
{
    size_t n = 0;
    for (arena_hdr_t *h = (arena_hdr_t *)g_base; (uint8_t *)h < g_end; h = next_of(h))
        if (!h->used) n += h->size;
    return n;
}

void *arena_alloc(size_t n, uintptr_t t0, uintptr_t t1, uint32_t pid)
{
    uint32_t want = (uint32_t)((n + 7u) & ~(size_t)7u);
    if (want == 0) want = 8;
    for (arena_hdr_t *h = (arena_hdr_t *)g_base; (uint8_t *)h < g_end; h = next_of(h)) {
        if (h->used || h->size < want) continue;
        if (h->size >= want + ARENA_HDR + 16u) {          /* split off the rest */
            arena_hdr_t *rest = (arena_hdr_t *)((uint8_t *)h + ARENA_HDR + want);
            rest->size = h->size - want - ARENA_HDR;
            rest->used = 0;
            h->size = want;
        }
        h->used = 1;
        h->seq = ++g_seq;
        h->pid = pid;
        h->trace[0] = t0;
        h->trace[1] = t1;
        g_allocs++;
        size_t f = free_now();
        if (f < g_min_free) g_min_free = f;
        return (uint8_t *)h + ARENA_HDR;
    }
    return NULL;
}

void arena_free(void *p)
{
    if (p == NULL) return;
    arena_hdr_t *h = (arena_hdr_t *)((uint8_t *)p - ARENA_HDR);
    h->used = 0;
    g_frees++;
    /* coalesce every run of free blocks */
    for (arena_hdr_t *a = (arena_hdr_t *)g_base; (uint8_t *)a < g_end; a = next_of(a)) {
        while (!a->used) {
            arena_hdr_t *b = next_of(a);
            if ((uint8_t *)b >= g_end || b->used) break;
            a->size += ARENA_HDR + b->size;
        }
    }
}

void arena_stats(arena_stats_t *st)
{
    *st = (arena_stats_t){0};
    st->total = (size_t)(g_end - g_base);
    st->smallest = (size_t)-1;
    for (arena_hdr_t *h = (arena_hdr_t *)g_base; (uint8_t *)h < g_end; h = next_of(h)) {
        if (h->used) {
            st->used += h->size;
            st->used_blocks++;
        } else {
            st->free += h->size;
            st->free_blocks++;
            if (h->size > st->largest) st->largest = h->size;
            if (h->size < st->smallest) st->smallest = h->size;
        }
    }
    if (st->free_blocks == 0) st->smallest = 0;
    st->min_free = g_min_free;
    st->allocs = g_allocs;
    st->frees = g_frees;
}

void arena_walk(int (*fn)(const arena_hdr_t *h, void *arg), void *arg)
{
    for (arena_hdr_t *h = (arena_hdr_t *)g_base; (uint8_t *)h < g_end; h = next_of(h))
        if (fn(h, arg)) return;
}
