/* Shared declarations of the owner tests (glue.c = the port layer, app.c = the application). */
#ifndef OWNERS_H
#define OWNERS_H
#include <stddef.h>

struct ktimer {
    unsigned period;
    struct ktimer *next;
};

void *glue_malloc_tail(size_t n);
void *glue_malloc_work(size_t n);
void *glue_calloc(size_t n, size_t s);
void *glue_realloc(void *p, size_t n);
void  glue_free(void *p);
struct ktimer *kernel_timer_create(unsigned period);
extern unsigned g_glue_failures;
#endif
