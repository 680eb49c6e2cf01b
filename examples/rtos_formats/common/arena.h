/*
 * A small first-fit heap over one static region, the stand-in for each RTOS' allocator in
 * these examples: every block has a header with its size, state, sequence number, task id
 * and the two return addresses of its allocation, so each example can print the heap in
 * its RTOS' own format from the heap's real state.
 */
#ifndef RTOS_ARENA_H
#define RTOS_ARENA_H

#include <stddef.h>
#include <stdint.h>

typedef struct arena_hdr {
    uint32_t size;        /* payload bytes (multiple of 8) */
    uint32_t used;
    uint32_t seq;         /* allocation sequence number */
    uint32_t pid;
    uintptr_t trace[2];   /* return addresses: [0] innermost */
} arena_hdr_t;

#define ARENA_HDR ((uint32_t)sizeof(arena_hdr_t))

typedef struct {
    size_t total;         /* region bytes */
    size_t free;          /* free payload bytes */
    size_t used;          /* used payload bytes */
    size_t min_free;      /* lowest 'free' ever */
    size_t largest;       /* largest free payload */
    size_t smallest;      /* smallest free payload */
    size_t free_blocks, used_blocks;
    unsigned long allocs, frees;
} arena_stats_t;

void arena_init(void *mem, size_t len);
void *arena_alloc(size_t n, uintptr_t t0, uintptr_t t1, uint32_t pid);
void arena_free(void *p);
void arena_stats(arena_stats_t *st);
uintptr_t arena_base(void);
/* Visit every block in address order (headers included); stops when fn returns non-zero. */
void arena_walk(int (*fn)(const arena_hdr_t *h, void *arg), void *arg);

#endif
