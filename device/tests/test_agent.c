/*
 * Host unit tests for the memsleuth agent. Built twice by `make -C device test`:
 * MS_AGENT_TRACE_DEPTH=0 and =2. Tiny harness: CHECK() counts failures and keeps going.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memsleuth_agent.h"

static int g_checks, g_failures;
#define CHECK(cond)                                                                   \
    do {                                                                              \
        g_checks++;                                                                   \
        if (!(cond)) {                                                                \
            g_failures++;                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                             \
    } while (0)

/* ---- captured output ---- */
static char   g_out[1 << 20];
static size_t g_out_len;
static void cap_write(const char *s, size_t n)
{
    if (g_out_len + n >= sizeof g_out) n = sizeof g_out - 1 - g_out_len;
    memcpy(g_out + g_out_len, s, n);
    g_out_len += n;
    g_out[g_out_len] = 0;
}
static void cap_reset(void) { g_out_len = 0; g_out[0] = 0; }

static int count_substr(const char *hay, const char *needle)
{
    int n = 0;
    size_t l = strlen(needle);
    for (const char *p = strstr(hay, needle); p; p = strstr(p + l, needle)) n++;
    return n;
}

/* Append printf output to an expected-text buffer. */
static char   g_exp[1 << 16];
static size_t g_exp_len;
static void exp_reset(void) { g_exp_len = 0; g_exp[0] = 0; }
static void exp_add(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_exp_len += (size_t)vsnprintf(g_exp + g_exp_len, sizeof g_exp - g_exp_len, fmt, ap);
    va_end(ap);
}

static unsigned char g_arena[64 * 1024] __attribute__((aligned(16)));
static int g_fail_hook;
static void fail_hook(size_t need) { (void)need; g_fail_hook++; }

static void init(ms_era_t era, int crlf, int banner, size_t arena)
{
    ms_agent_config_t cfg;
    ms_agent_config_default(&cfg);
    cfg.era = era;
    cfg.crlf = (uint8_t)crlf;
    cfg.banner = (uint8_t)banner;
    cfg.on_malloc_fail = fail_hook;
    g_fail_hook = 0;
    CHECK(ms_agent_init(cap_write, g_arena, arena, &cfg) == 0);
    cap_reset();
}

/* ---------------------------------------------------------------------------------------- */

/* Must run first: nothing initialised yet. An allocation before init returns NULL and is named
 * loudly by the init that follows. */
static void test_preinit_is_loud(void)
{
    CHECK(ms_malloc(24) == NULL);
    CHECK(ms_malloc_from(24, 0x1234u) == NULL);
    ms_agent_config_t cfg;
    ms_agent_config_default(&cfg);
    cfg.crlf = 0;
    cap_reset();
    CHECK(ms_agent_init(cap_write, g_arena, sizeof g_arena, &cfg) == 0);
    CHECK(strstr(g_out, "[MSAGENT] WARNING 2 allocation(s) before init, first caller 0x") == g_out);
    CHECK(strstr(g_out, ": they returned NULL\n") != NULL);
    cap_reset();
    CHECK(ms_agent_init(cap_write, g_arena, sizeof g_arena, &cfg) == 0);
    CHECK(g_out_len == 0);  /* said once */
}

static void test_stats_counts(void)
{
    ms_heap_stats_t st;
    init(MS_ERA_ALIOS3, 0, 0, 8192);
    void *a = ms_malloc(100), *b = ms_malloc(30), *c = ms_malloc(200), *d = ms_malloc(50);
    ms_free(b);
    ms_heap_stats(&st);
    CHECK(st.allocs == 4 && st.frees == 1);
    CHECK(st.free_blocks == 2);                     /* b's hole and the tail */
    CHECK(st.min_free_blk == 32);                   /* b's payload, aligned */
    CHECK(st.max_free_blk > 7000);
    ms_free(c);
    ms_heap_stats(&st);
    CHECK(st.free_blocks == 2 && st.frees == 2);    /* b and c are not adjacent to the tail */
    size_t minfree = st.total - st.max_used;
    ms_free(a);
    ms_free(d);
    ms_heap_stats(&st);
    CHECK(st.free_blocks == 1 && st.total - st.max_used == minfree);
    ms_heap_reset_min_free();
    ms_heap_stats(&st);
    CHECK(st.max_used == st.used);
}

/* ---- side-table mode beside libc malloc ---- */
static ms_side_entry_t g_table[64];
static ms_heap_stats_t g_fake_stats;
static void fake_stats(ms_heap_stats_t *st) { *st = g_fake_stats; }

static __attribute__((noinline)) void *side_glue_malloc(size_t n)
{
    void *p = malloc(n);
    ms_side_alloc(p, n, MS_CALLER());
    return p;
}

static void test_side_table(void)
{
    ms_agent_config_t cfg;
    ms_side_stats_t ss;
    ms_agent_config_default(&cfg);
    cfg.crlf = 0;
    cfg.heap_stats = fake_stats;
    g_fake_stats.total = 0x8000;
    g_fake_stats.free = 0x6000;
    g_fake_stats.max_used = 0x3000;
    g_fake_stats.max_free_blk = 0x5000;

    /* Before init: the allocation works (libc), the table cannot see it: said at init. */
    void *early = side_glue_malloc(10);
    cap_reset();
    CHECK(ms_agent_init_side(cap_write, g_table, sizeof g_table, &cfg) == 0);
    CHECK(strstr(g_out, "[MSAGENT] WARNING 1 allocation(s) before init, first caller 0x") == g_out);
    CHECK(strstr(g_out, ": not tracked\n") != NULL);

    /* Random churn against a model: every live pointer findable, counts exact. */
    void *live[40] = {0};
    size_t sizes[40] = {0};
    unsigned seed = 7;
    for (int step = 0; step < 5000; step++) {
        seed = seed * 1103515245u + 12345u;
        int k = (int)((seed >> 16) % 40u);
        if (live[k]) {
            ms_side_free(live[k], 0);
            free(live[k]);
            live[k] = NULL;
        } else {
            sizes[k] = 1 + (seed >> 8) % 300u;
            live[k] = side_glue_malloc(sizes[k]);
        }
        if (step % 97 == 0) CHECK(ms_heap_check() == 0);
    }
    size_t n = 0, bytes = 0;
    for (int k = 0; k < 40; k++) {
        if (live[k]) {
            n++;
            bytes += sizes[k];
        }
    }
    ms_side_stats(&ss);
    CHECK(ss.entries == n && ss.tracked_bytes == bytes && ss.capacity == 63);
    CHECK(ss.table_full == 0 && ss.preinit == 1);
    ms_side_free(early, 0);
    free(early);
    ms_side_stats(&ss);
    CHECK(ss.unknown_frees == 1);

    /* The dump: one B3 line per live block, in address order, owner in side_glue_malloc's
     * caller... i.e. here (test_side_table). Overview from the host allocator's figures. */
    cap_reset();
    ms_heap_dump();
    CHECK(strstr(g_out, "[MSAGENT] side table ") == g_out);
    CHECK(count_substr(g_out, "  used  ") == (int)n);
    CHECK(strstr(g_out, "      | 0x00008000 | 0x00006000 | 0x00002000 | 0x00005000 | 0x00005000    |\n")
          != NULL);
    uintptr_t prev = 0;
    for (const char *l = strstr(g_out, "Point\n"); l && (l = strchr(l, '\n')) && l[1] == '0'; ) {
        unsigned long a = strtoul(l + 1, NULL, 16);
        CHECK(a > prev);
        prev = a;
        const char *o = strstr(l, "OK  0x");
        unsigned long owner = o ? strtoul(o + 4, NULL, 16) : 0;
        CHECK(owner > (uintptr_t)test_side_table && owner < (uintptr_t)test_side_table + 4096);
        l++;
    }
    CHECK(prev != 0);

    /* A failure (NULL from the allocator): AliOS warning with the allocator's free size,
     * first one with the dump and the hook. */
    cap_reset();
    g_fail_hook = 0;
    ms_side_alloc(NULL, 5000, 0);
    CHECK(strstr(g_out, "WARNING, malloc failed!!!! need size:5000, but free size:24576\n") == g_out);
    CHECK(count_substr(g_out, "all memory blocks") == 1);

    /* Table full: said once, counted, nothing overwritten. */
    cap_reset();
    void *extra[80];
    int m = 0;
    for (; m < 80; m++) extra[m] = side_glue_malloc(8);
    ms_side_stats(&ss);
    CHECK(ss.entries == 63 && ss.table_full == n + 80 - 63);
    CHECK(count_substr(g_out, "[MSAGENT] WARNING side table full (63 entries)") == 1);
    CHECK(ms_heap_check() == 0);
    for (int i = 0; i < m; i++) {
        ms_side_free(extra[i], 0);
        free(extra[i]);
    }
    for (int k = 0; k < 40; k++) {
        ms_side_free(live[k], 0);
        free(live[k]);
    }
    ms_side_stats(&ss);
    CHECK(ss.entries == 0 && ss.tracked_bytes == 0);
    CHECK(ms_heap_check() == 0);
}

static void test_init_and_check(void)
{
    ms_heap_stats_t st;
    init(MS_ERA_ALIOS3, 1, 0, sizeof g_arena);
    ms_heap_stats(&st);
    CHECK(st.total == sizeof g_arena);  /* arena is aligned already */
    CHECK(st.free + st.used == st.total);
    CHECK(st.max_free_blk > st.total - 256);
    CHECK(ms_heap_check() == 0);
    CHECK(ms_agent_init(cap_write, g_arena, 16, NULL) == -1);
    init(MS_ERA_ALIOS3, 1, 0, sizeof g_arena);
}

/* Random alloc/free/realloc against a shadow table; invariants after every step. */
static void test_random_invariants(void)
{
    enum { N = 200 };
    unsigned char *p[N] = {0};
    size_t sz[N] = {0};
    uint32_t rng = 12345;
    init(MS_ERA_ALIOS3, 1, 0, sizeof g_arena);
    int bad_steps = 0, overlap = 0, corrupt = 0;
    for (int step = 0; step < 20000; step++) {
        rng = rng * 1103515245u + 12345u;
        unsigned i = (rng >> 8) % N;
        unsigned op = (rng >> 20) % 4;
        if (p[i] && op != 3) {
            for (size_t k = 0; k < sz[i]; k++) {
                if (p[i][k] != (unsigned char)(i + k)) { corrupt++; break; }
            }
            ms_free(p[i]);
            p[i] = NULL;
        } else if (p[i]) {
            size_t ns = 1 + (rng >> 4) % 900;
            unsigned char *q = ms_realloc(p[i], ns);
            if (q) {
                size_t keep = ns < sz[i] ? ns : sz[i];
                for (size_t k = 0; k < keep; k++)
                    if (q[k] != (unsigned char)(i + k)) { corrupt++; break; }
                p[i] = q;
                sz[i] = ns;
                for (size_t k = 0; k < ns; k++) p[i][k] = (unsigned char)(i + k);
            }
        } else {
            size_t ns = 1 + (rng >> 3) % 1500;
            p[i] = ms_malloc(ns);
            if (p[i]) {
                sz[i] = ns;
                CHECK(((uintptr_t)p[i] & (2 * sizeof(void *) - 1)) == 0);
                for (size_t k = 0; k < ns; k++) p[i][k] = (unsigned char)(i + k);
            }
        }
        if (ms_heap_check() != 0) bad_steps++;
        if (step % 997 == 0) {
            for (int a = 0; a < N; a++)
                for (int b = a + 1; b < N; b++)
                    if (p[a] && p[b] && p[a] < p[b] + sz[b] && p[b] < p[a] + sz[a]) overlap++;
        }
    }
    CHECK(bad_steps == 0);
    CHECK(overlap == 0);
    CHECK(corrupt == 0);
    for (int i = 0; i < N; i++) ms_free(p[i]);
    ms_heap_stats_t st;
    ms_heap_stats(&st);
    /* Everything freed: one free block again (full coalescing). */
    CHECK(st.max_free_blk + 2 * sizeof(void *) * 0 <= st.free);
    CHECK(st.free > st.total - 512);
    cap_reset();
    ms_heap_dump();
    CHECK(count_substr(g_out, " free  ") == 2);  /* once in ALL BLOCKS, once in the free list */
}

static void test_coalescing_and_sentinel(void)
{
    init(MS_ERA_ALIOS3, 0, 0, 4096);
    ms_heap_stats_t st0, st;
    ms_heap_stats(&st0);
    void *a = ms_malloc(100), *b = ms_malloc(100), *c = ms_malloc(100);
    CHECK(a && b && c);
    CHECK((char *)a < (char *)b && (char *)b < (char *)c);
    ms_free(a);
    ms_free(c);
    ms_free(b);  /* merges with both neighbours and the tail */
    ms_heap_stats(&st);
    CHECK(st.free == st0.free);
    CHECK(st.max_free_blk == st0.max_free_blk);
    CHECK(ms_heap_check() == 0);
    cap_reset();
    ms_heap_dump();
    CHECK(strstr(g_out, "  used  sentinel   OK  0x11224433 ") != NULL);
}

static __attribute__((noinline)) void *alloc_here(size_t n) { return ms_malloc(n); }
static __attribute__((noinline)) void *alloc_outer(size_t n) { void *p = alloc_here(n); return p; }

static void test_owner_and_trace(void)
{
    init(MS_ERA_ALIOS3, 0, 0, sizeof g_arena);
    void *p = alloc_outer(40);
    uintptr_t owner = 0;
    size_t size = 0;
    unsigned tag = 9;
    CHECK(ms_block_info(p, &owner, &size, &tag) == 0);
    /* Owner = return address inside alloc_here. */
    CHECK(owner > (uintptr_t)alloc_here && owner < (uintptr_t)alloc_here + 64);
    CHECK(size == 48 || size == 40);
    CHECK(tag == 0);
    CHECK(ms_block_info((char *)p + 8, NULL, NULL, NULL) == -1);
#if MS_AGENT_TRACE_DEPTH > 0 && defined(__x86_64__)
    cap_reset();
    ms_heap_dump();
    /* trace[0] must be the return address inside alloc_outer. */
    const char *line = strstr(g_out, "  used      48   OK  ");
    if (!line) line = strstr(g_out, "  used      40   OK  ");
    CHECK(line != NULL);
    if (line) {
        const char *t = strstr(line, " (0x");
        CHECK(t != NULL);
        if (t) {
            unsigned long t0 = strtoul(t + 2, NULL, 16);
            CHECK(t0 > (uintptr_t)alloc_outer && t0 < (uintptr_t)alloc_outer + 64);
        }
    }
#endif
    ms_free(p);
}

static void test_exhaustion(void)
{
    init(MS_ERA_ALIOS3, 1, 0, 4096);
    void *v[200];
    int n = 0;
    while (n < 200 && (v[n] = ms_malloc(200)) != NULL) n++;
    CHECK(n > 5 && n < 200);
    CHECK(g_fail_hook == 1);
    ms_heap_stats_t st;
    ms_heap_stats(&st);
    char line[128];
    snprintf(line, sizeof line, "WARNING, malloc failed!!!! need size:200, but free size:%d\r\n",
             (int)st.free);
    CHECK(strncmp(g_out, line, strlen(line)) == 0);
    CHECK(count_substr(g_out, "all memory blocks") == 1);
    CHECK(st.alloc_fail == 1);
    /* Second failure: warning only, no second dump, no second hook. */
    CHECK(ms_malloc(100000) == NULL);
    CHECK(g_fail_hook == 1);
    CHECK(count_substr(g_out, "WARNING, malloc failed!!!!") == 2);
    CHECK(count_substr(g_out, "all memory blocks") == 1);
    CHECK(ms_heap_check() == 0);
    for (int i = 0; i < n; i++) ms_free(v[i]);
    CHECK(ms_heap_check() == 0);
}

static void test_overview_format(void)
{
    ms_heap_stats_t st;
    init(MS_ERA_ALIOS3, 1, 1, sizeof g_arena);
    void *p = ms_malloc(1000);
    ms_heap_stats(&st);
    cap_reset();
    ms_heap_print_overview();
    exp_reset();
    exp_add("========== Heap Info  ==========\r\n");
    exp_add("---------------------------------------------------------------------------\r\n");
    exp_add("[HEAP]| TotalSz    | FreeSz     | UsedSz     | MinFreeSz  | MaxFreeBlkSz  |\r\n");
    exp_add("      | 0x%08X | 0x%08X | 0x%08X | 0x%08X | 0x%08X    |\r\n", (unsigned)st.total,
            (unsigned)st.free, (unsigned)st.used, (unsigned)(st.total - st.max_used),
            (unsigned)st.max_free_blk);
    exp_add("---------------------------------------------------------------------------\r\n");
    CHECK(strcmp(g_out, g_exp) == 0);
    if (strcmp(g_out, g_exp)) fprintf(stderr, "got:\n%s\nwant:\n%s\n", g_out, g_exp);

    init(MS_ERA_ALIOS2, 0, 0, sizeof g_arena);
    ms_free(ms_malloc(3000));
    ms_heap_stats(&st);
    cap_reset();
    ms_heap_print_overview();
    exp_reset();
    exp_add("-----------------------------------------------------------\n");
    exp_add("[HEAP]| TotalSz    | FreeSz     | UsedSz     | MinFreeSz  |\n");
    exp_add("      | 0x%08X | 0x%08X | 0x%08X | 0x%08X |\n", (unsigned)st.total, (unsigned)st.free,
            (unsigned)st.used, (unsigned)(st.total - st.max_used));
    exp_add("-----------------------------------------------------------\n");
    CHECK(strcmp(g_out, g_exp) == 0);
    if (strcmp(g_out, g_exp)) fprintf(stderr, "got:\n%s\nwant:\n%s\n", g_out, g_exp);
    (void)p;
}

/* The whole B3 dump of a small known heap, rebuilt here with libc printf. */
static void test_dump_b3_exact(void)
{
    init(MS_ERA_ALIOS3, 1, 1, 4096);
    char *a = alloc_here(24), *b = alloc_here(300), *c = alloc_here(64);
    ms_free(b);
    uintptr_t oa, oc;
    size_t sa, sc;
    ms_block_info(a, &oa, &sa, NULL);
    ms_block_info(c, &oc, &sc, NULL);
    ms_heap_stats_t st;
    ms_heap_stats(&st);
    /* Layout: [info: header H + payload 2P][a][b (free)][c][free tail][sentinel: header H]. */
    const size_t P = sizeof(void *);
    uintptr_t base = ((uintptr_t)g_arena + 2 * P - 1) & ~(uintptr_t)(2 * P - 1);
    size_t H = ((uintptr_t)a - base - 2 * P) / 2;
    uintptr_t ha = (uintptr_t)a - H, hb = (uintptr_t)b - H, hc = (uintptr_t)c - H;
    uintptr_t hf = (uintptr_t)c + sc, hs = base + st.total - H;
    size_t fb = 304, ff = hs - hf - H;

    cap_reset();
    ms_heap_dump();
    exp_reset();
    exp_add("\r\n");
    exp_add("------------------------------- all memory blocks --------------------------------- \r\n");
    exp_add("g_kmm_head = %8lx\r\n", (unsigned long)base);
    exp_add("ALL BLOCKS\r\n");
    exp_add("Blk_Addr    Stat     Len  Chk      Caller    Point\r\n");
    /* Lines are compared up to the trace part, which is checked by test_owner_and_trace. */
    char *got = g_out;
    CHECK(strncmp(got, g_exp, g_exp_len) == 0);
    char want[256];
    snprintf(want, sizeof want, "0x%08lx  used  %6lu   OK  0x%-8lx ", (unsigned long)base,
             (unsigned long)(2 * P), 0ul);
    CHECK(strstr(got, want) != NULL);
    snprintf(want, sizeof want, "\n0x%08lx  used  %6lu   OK  0x%-8lx ", (unsigned long)ha,
             (unsigned long)sa, (unsigned long)oa);
    CHECK(strstr(got, want) != NULL);
    snprintf(want, sizeof want, "\n0x%08lx  free  %6lu   OK  0x%-8lx ", (unsigned long)hb,
             (unsigned long)fb, (unsigned long)oa);  /* a free block keeps its last owner */
    CHECK(strstr(got, want) != NULL);
    snprintf(want, sizeof want, "\n0x%08lx  used  %6lu   OK  0x%-8lx ", (unsigned long)hc,
             (unsigned long)sc, (unsigned long)oc);
    CHECK(strstr(got, want) != NULL);
    snprintf(want, sizeof want, "\n0x%08lx  free  %6lu   OK  0x%-8lx ", (unsigned long)hf,
             (unsigned long)ff, 0ul);
    CHECK(strstr(got, want) != NULL);
    snprintf(want, sizeof want, "\n0x%08lx  used  sentinel   OK  0x11224433 ", (unsigned long)hs);
    CHECK(strstr(got, want) != NULL);
#if MS_AGENT_TRACE_DEPTH == 0
    /* Without traces every block line ends right after the owner column. */
    snprintf(want, sizeof want, "0x%08lx  used  sentinel   OK  0x11224433 \r\n", (unsigned long)hs);
    CHECK(strstr(got, want) != NULL);
#else
    CHECK(strstr(got, "  0x11224433  (0x0 <- 0x0)\r\n") != NULL);
#endif
    CHECK(strstr(got, "\r\n\r\n----------------------------- all free memory blocks ------------------------------ \r\nfreelist bitmap: 0x") != NULL);
    CHECK(strstr(got, "   Address  Stat     Len  Chk    Caller\r\n") != NULL);
    CHECK(strstr(got, "\r\n\r\n--------------------------- memory allocation statistic --------------------------- \r\n"
                      "[2^06] bytes:     1   |[2^07] bytes:     1   |[2^08] bytes:     0   |[2^09] bytes:     1   |\r\n"
                      "[2^10] bytes:     0   |") != NULL);
    CHECK(strstr(got, "|\r\n\r\n-------------------------------[kernel] heap size overview -------------------------------- \r\n"
                      "---------------------------------------------------------------------------\r\n"
                      "[HEAP]| TotalSz") != NULL);
    CHECK(count_substr(got, "Heap Info") == 0);  /* nested overview has no banner */
    CHECK(strstr(got, "\r\n\r\n--------------------------- task allocation statistic ----------------------------- \r\n"
                      "TaskName                 Prio  StackSize  HeapAllocSize\r\n") != NULL);
    snprintf(want, sizeof want, "%-24s %-5d %-10d %-10d\r\nAllocated in ISR 0, Allocated by deleted task 0\r\n"
             "\r\n----------------------------------------------------------------------------------- \r\n",
             "main", 0, 0, (int)(sa + sc));
    CHECK(strstr(got, want) != NULL);
    /* Suffix check: the dump ends with the closing rule. */
    CHECK(g_out_len > strlen(want) && strcmp(got + g_out_len - strlen(want), want) == 0);
}

static void test_dump_b2(void)
{
    init(MS_ERA_ALIOS2, 1, 0, 4096);
    char *a = alloc_here(96);
    char *b = alloc_here(96);
    ms_free(a);
    cap_reset();
    ms_heap_dump();
    CHECK(strstr(g_out, "address,  stat   size     dye     caller   pre-stat    point\r\n") != NULL);
    CHECK(strstr(g_out, "  used      96  fefefefe  0x") != NULL);
    CHECK(strstr(g_out, "  free      96  abababab  0x") != NULL);
    CHECK(strstr(g_out, "pre-free [0x") != NULL);
    CHECK(strstr(g_out, "pre-used; free[     0x0,") != NULL);
    CHECK(strstr(g_out, "  used  sentinel  fefefefe  0x0        pre-free") != NULL);
    CHECK(strstr(g_out, "----------------------------- all free memory blocks ------------------------------- \r\n") != NULL);
    CHECK(strstr(g_out, "------------------------- memory allocation statistic ------------------------------ \r\n"
                        "-----------------------------------------------------------\r\n[HEAP]|") != NULL);
    CHECK(strstr(g_out, "-----------------number of alloc times:-----------------\r\n[2^06] bytes:") != NULL);
    CHECK(strstr(g_out, "  OK  ") == NULL);
    (void)b;
}

static void test_double_free(void)
{
    init(MS_ERA_ALIOS3, 0, 0, 4096);
    char *a = ms_malloc(32), *b = ms_malloc(32);
    size_t H = (size_t)(b - a) - 32;   /* header size */
    ms_free(a);
    cap_reset();
    ms_free(a);
    char want[96];
    snprintf(want, sizeof want, "WARNING, memory maybe double free!! 0x%lx\n",
             (unsigned long)((uintptr_t)a - H));   /* 3.x prints the header address */
    CHECK(strncmp(g_out, want, strlen(want)) == 0);
    CHECK(count_substr(g_out, "all memory blocks") == 1);
    CHECK(ms_heap_check() == 0);
}

static void test_corrupt_dye_shows_bang(void)
{
    init(MS_ERA_ALIOS3, 0, 0, 4096);
    char *a = ms_malloc(48);
    char *b = ms_malloc(48);
    size_t H = (size_t)(b - a) - 48;   /* header size (48 is aligned on every target) */
    uint16_t *dye = (uint16_t *)(b - H);
    *dye = 0x5678;
    cap_reset();
    ms_heap_dump();
    CHECK(strstr(g_out, " !used      48      5678  0x") != NULL);
    CHECK(ms_heap_check() != 0);
    cap_reset();
    ms_free(b);
    CHECK(strncmp(g_out, "WARNING, memory maybe corrupt!! 0x", 34) == 0);
    *dye = MS_DYE_USED;
    CHECK(ms_heap_check() == 0);
}

static void test_mmlk(void)
{
    init(MS_ERA_ALIOS3, 0, 0, sizeof g_arena);
    void *before = ms_malloc(50);
    CHECK(ms_mmlk_tag() == 1);
    CHECK(strcmp(g_out, "memory leak check start.\n\nAdd tag 1 when malloc\n"
                        "-----------------All new alloced blocks:----------------\n"
                        "Blk_Addr    Stat     Len  Chk      Caller    Point\n"
                        "--------------New alloced blocks info ends.-------------\n\n") == 0);
    void *kept = alloc_here(64), *gone = ms_malloc(90);
    ms_free(gone);
    cap_reset();
    CHECK(ms_mmlk_tag() == 2);
    CHECK(strncmp(g_out, "\nAdd tag 2 when malloc\n-----------------All new alloced blocks:", 62) == 0);
    CHECK(count_substr(g_out, "  used      64   OK  ") == 1);
    CHECK(count_substr(g_out, "  used  ") == 1);
    cap_reset();
    ms_mmlk_query(1);
    CHECK(count_substr(g_out, "  used      64   OK  ") == 1);
    cap_reset();
    ms_mmlk_query(7);
    CHECK(strcmp(g_out, "query_index should be less than 2\n") == 0);
    (void)before;
    (void)kept;
}

static void test_object_trace(void)
{
    init(MS_ERA_ALIOS3, 1, 0, sizeof g_arena);
    void *h = (void *)(uintptr_t)0x1234abcdu;
    ms_obj_event(MS_OBJ_OP_CREATE, "timer", h, 0x800a3c5u, NULL);
    ms_obj_event(MS_OBJ_OP_DELETE, "timer", h, 0x800b001u, NULL);
    ms_obj_event(MS_OBJ_OP_CREATE, "sem", h, 0, "wifi evt");
    ms_cycle_mark(12);
    exp_reset();
    if (sizeof(void *) == 8) {
        exp_add("[MSOBJ] create timer 0x000000001234abcd caller 0x000000000800a3c5 seq 1\r\n");
        exp_add("[MSOBJ] delete timer 0x000000001234abcd caller 0x000000000800b001 seq 2\r\n");
        exp_add("[MSOBJ] create sem 0x000000001234abcd caller 0x0000000000000000 seq 3 name wifi_evt\r\n");
    } else {
        exp_add("[MSOBJ] create timer 0x1234abcd caller 0x0800a3c5 seq 1\r\n");
        exp_add("[MSOBJ] delete timer 0x1234abcd caller 0x0800b001 seq 2\r\n");
        exp_add("[MSOBJ] create sem 0x1234abcd caller 0x00000000 seq 3 name wifi_evt\r\n");
    }
    exp_add("[MSCYCLE] 12\r\n");
    CHECK(strcmp(g_out, g_exp) == 0);
    if (strcmp(g_out, g_exp)) fprintf(stderr, "got:\n%s\nwant:\n%s\n", g_out, g_exp);
    /* The macro captures the return address of the function it is written in. */
    cap_reset();
    ms_obj_create("queue", h);
    uintptr_t ra = (uintptr_t)__builtin_return_address(0);
    char want[64];
    snprintf(want, sizeof want, " caller 0x%0*lx seq 4", (int)(2 * sizeof(void *)), (unsigned long)ra);
    CHECK(strstr(g_out, want) != NULL);
}

static void test_printf_subset(void)
{
    init(MS_ERA_ALIOS3, 0, 0, sizeof g_arena);
    ms_printf("[%5d|%-5d|%05d|%x|%X|%8x|%-8x|%s|%-6s|%c|%%|%lu|%zu|%p|%d]\n", 42, 42, 42, 0xbeefu,
              0xbeefu, 0xabu, 0xabu, "hi", "ab", 'z', 123456789ul, (size_t)7, (void *)0, -17);
    char want[200];
    snprintf(want, sizeof want, "[%5d|%-5d|%05d|%x|%X|%8x|%-8x|%s|%-6s|%c|%%|%lu|%zu|0x0|%d]\n", 42, 42,
             42, 0xbeefu, 0xbeefu, 0xabu, 0xabu, "hi", "ab", 'z', 123456789ul, (size_t)7, -17);
    CHECK(strcmp(g_out, want) == 0);
    if (strcmp(g_out, want)) fprintf(stderr, "got:  %swant: %s", g_out, want);
}

static void test_calloc_realloc(void)
{
    init(MS_ERA_ALIOS3, 0, 0, sizeof g_arena);
    unsigned char *p = ms_malloc(64);
    memset(p, 0xCC, 64);
    ms_free(p);
    unsigned char *q = ms_calloc(16, 4);
    int zero = 1;
    for (int i = 0; i < 64; i++) zero &= q[i] == 0;
    CHECK(zero);
    CHECK(ms_calloc((size_t)-1, 16) == NULL);
    q = ms_realloc(q, 32);     /* shrink stays in place */
    CHECK(q != NULL);
    unsigned char *r = ms_realloc(q, 2000);
    CHECK(r != NULL);
    CHECK(ms_realloc(r, 0) == NULL);
    CHECK(ms_heap_check() == 0);
    ms_free(NULL);
    CHECK(strlen(g_out) == 0);
}

int main(void)
{
    test_preinit_is_loud();
    test_stats_counts();
    test_init_and_check();
    test_random_invariants();
    test_coalescing_and_sentinel();
    test_owner_and_trace();
    test_exhaustion();
    test_overview_format();
    test_dump_b3_exact();
    test_dump_b2();
    test_double_free();
    test_corrupt_dye_shows_bang();
    test_mmlk();
    test_object_trace();
    test_printf_subset();
    test_calloc_realloc();
    test_side_table();
    printf("memsleuth agent tests (trace depth %d): %d checks, %d failures\n",
           MS_AGENT_TRACE_DEPTH, g_checks, g_failures);
    return g_failures ? 1 : 0;
}
