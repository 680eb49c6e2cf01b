/*
 * memsleuth device agent, see memsleuth_agent.h and device/README.md.
 *
 * Heap layout (one region, like one AliOS k_mm region):
 *
 *   [region-info block: used, payload MS_ALIGN, owner 0]
 *   [block][block]...                      physical order, each = header + payload
 *   [sentinel: used, payload 0, owner MS_LAST_BLK_MAGIC]
 *
 * A block header keeps the payload size with two flag bits (FREE, PREVFREE) and a pointer to the
 * physically previous block that is only valid while that block is free (boundary tag), so
 * freeing coalesces with both neighbours in O(1). Free blocks sit on segregated doubly linked
 * lists, one per power-of-two level, with a bitmap of non-empty levels (the "freelist bitmap" the
 * dump prints). Allocation: first fit inside the request's level, else the first block of the
 * next non-empty level.
 *
 * All text goes through a line buffer and the user's write hook; numbers are formatted here
 * (like AliOS k_int2str) so nothing in the print path allocates.
 */
#include "memsleuth_agent.h"

#include <stdarg.h>

/* ------------------------------------------------------------------------------------------ */
/* Block header                                                                                 */

#define MS_ALIGN      (2u * sizeof(void *))          /* 8 on 32-bit, 16 on 64-bit */
#define MS_ALIGN_UP(x) (((x) + (MS_ALIGN - 1u)) & ~(size_t)(MS_ALIGN - 1u))

#define MS_FLAG_FREE      ((size_t)1u)
#define MS_FLAG_PREVFREE  ((size_t)2u)
#define MS_FLAG_MASK      ((size_t)3u)

typedef struct ms_blk {
    uint16_t       dye;       /* MS_DYE_USED / MS_DYE_FREE                               */
    uint8_t        owner_id;  /* task id at allocation, 0 = ISR, 0xFF = allocator        */
    uint8_t        tag;       /* mmlk tag at allocation                                  */
    uintptr_t      owner;     /* return address of the allocation call                   */
#if MS_AGENT_TRACE_DEPTH > 0
    uintptr_t      trace[MS_AGENT_TRACE_DEPTH];
#endif
    struct ms_blk *prev;      /* physically previous block, valid when PREVFREE is set  */
    size_t         size;      /* payload bytes | MS_FLAG_*                               */
} ms_blk_t;

/* Free-list links live in the first bytes of a free block's payload. */
typedef struct {
    ms_blk_t *prev;
    ms_blk_t *next;
} ms_link_t;

#define MS_HDR          MS_ALIGN_UP(sizeof(ms_blk_t))
#define MS_MIN_PAYLOAD  MS_ALIGN_UP(sizeof(ms_link_t))
#define BLK_SIZE(b)     ((b)->size & ~MS_FLAG_MASK)
#define BLK_PAYLOAD(b)  ((void *)((unsigned char *)(b) + MS_HDR))
#define BLK_FROM_PTR(p) ((ms_blk_t *)((unsigned char *)(p) - MS_HDR))
#define BLK_NEXT(b)     ((ms_blk_t *)((unsigned char *)(b) + MS_HDR + BLK_SIZE(b)))
#define BLK_LINK(b)     ((ms_link_t *)BLK_PAYLOAD(b))

/* Size levels: level 0 holds sizes < 2^MS_MIN_BIT, level i (i >= 1) sizes in
 * [2^(MS_MIN_BIT+i-1), 2^(MS_MIN_BIT+i)); the last level is open-ended. The same levels are the
 * buckets of the "[2^NN] bytes:" allocation statistic, labelled i + MS_MIN_BIT as AliOS does. */
#define MS_MIN_BIT    6
#define MS_BIT_LEVEL  14

/* ------------------------------------------------------------------------------------------ */
/* State                                                                                        */

static struct {
    ms_write_fn       write;
    ms_agent_config_t cfg;
    ms_blk_t         *first;     /* region-info block */
    ms_blk_t         *sentinel;
    ms_blk_t         *freelist[MS_BIT_LEVEL];
    uint32_t          free_bitmap;
    size_t            total, free_size, maxused;
    uint32_t          alloc_times[MS_BIT_LEVEL];
    size_t            alloc_fail;
    uint8_t           mmlk_cnt;     /* current tag; 0 = tagging never started */
    uint8_t           mmlk_started;
    uint8_t           fail_dumped;
    uint8_t           err_dumped;
    uint32_t          obj_seq;
    uint32_t          n_allocs, n_frees;   /* successful operations (FreeRTOS HeapStats_t) */
    uintptr_t         free_caller;         /* caller of the free in progress, for errors   */
} g_ms;

/* Allocations attempted before ms_agent_init(): reported loudly at init (they got NULL). Kept
 * outside g_ms because init clears g_ms. */
static uint32_t  g_preinit_allocs;
static uintptr_t g_preinit_caller;

/* Side-table mode state (ms_agent_init_side). */
static struct {
    ms_side_entry_t *tab;       /* NULL = side mode off */
    size_t           cap, count, bytes;
    size_t           table_full, preinit, unknown_frees;
    uintptr_t        full_caller;
} g_side;

static void ms_lock(void)   { if (g_ms.cfg.lock)   g_ms.cfg.lock(); }
static void ms_unlock(void) { if (g_ms.cfg.unlock) g_ms.cfg.unlock(); }

/* ------------------------------------------------------------------------------------------ */
/* Output: line buffer + a small printf subset                                                  */

static char   g_line[160];
static size_t g_line_len;

static void out_flush(void)
{
    if (g_line_len && g_ms.write) {
        g_ms.write(g_line, g_line_len);
    }
    g_line_len = 0;
}

static void out_char(char c)
{
    if (c == '\n') {
        /* Every "\n" in a format string is a line end: "\r\n" like AliOS, or "\n". */
        if (g_ms.cfg.crlf) {
            if (g_line_len + 2 > sizeof g_line) out_flush();
            g_line[g_line_len++] = '\r';
        } else if (g_line_len + 1 > sizeof g_line) {
            out_flush();
        }
        g_line[g_line_len++] = '\n';
        out_flush();
        return;
    }
    if (g_line_len == sizeof g_line) out_flush();
    g_line[g_line_len++] = c;
}

static void out_pad(int n, char c)
{
    while (n-- > 0) out_char(c);
}

/* Render an unsigned number; returns the digit count written into buf (reversed). */
static int utoa_rev(char *buf, unsigned long v, unsigned base, int upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int n = 0;
    do {
        buf[n++] = digits[v % base];
        v /= base;
    } while (v);
    return n;
}

static void out_field(const char *prefix, const char *body_rev, int body_len, int width,
                      int left, int zero)
{
    int plen = 0, i;
    while (prefix[plen]) plen++;
    int pad = width - plen - body_len;
    if (!left && !zero) out_pad(pad, ' ');
    for (i = 0; i < plen; i++) out_char(prefix[i]);
    if (!left && zero) out_pad(pad, '0');
    for (i = body_len - 1; i >= 0; i--) out_char(body_rev[i]);
    if (left) out_pad(pad, ' ');
}

static void ms_vprintf(const char *fmt, va_list ap)
{
    char num[24];
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            out_char(*fmt);
            continue;
        }
        int left = 0, zero = 0, width = 0, lng = 0;
        fmt++;
        for (;; fmt++) {
            if (*fmt == '-') left = 1;
            else if (*fmt == '0') zero = 1;
            else break;
        }
        while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l' || *fmt == 'z') lng = (*fmt++ == 'z') ? 2 : lng + 1;
        switch (*fmt) {
        case 'd': case 'i': {
            long v = lng == 2 ? (long)va_arg(ap, ptrdiff_t)
                   : lng     ? va_arg(ap, long) : (long)va_arg(ap, int);
            unsigned long u = v < 0 ? 0ul - (unsigned long)v : (unsigned long)v;
            int n = utoa_rev(num, u, 10, 0);
            out_field(v < 0 ? "-" : "", num, n, width, left, zero);
            break;
        }
        case 'u': case 'x': case 'X': {
            unsigned long v = lng == 2 ? (unsigned long)va_arg(ap, size_t)
                            : lng     ? va_arg(ap, unsigned long)
                                      : (unsigned long)va_arg(ap, unsigned int);
            int n = utoa_rev(num, v, *fmt == 'u' ? 10u : 16u, *fmt == 'X');
            out_field("", num, n, width, left, zero);
            break;
        }
        case 'p': {
            /* newlib-style %p: "0x" + lower-case hex, "0x0" for NULL (glibc would print
             * "(nil)"; the agent always prints 0x0 so parsers see one form). */
            uintptr_t v = (uintptr_t)va_arg(ap, void *);
            int n = utoa_rev(num, v, 16, 0);
            out_field("0x", num, n, width, left, 0);
            break;
        }
        case 's': {
            const char *s = va_arg(ap, const char *);
            int n = 0;
            if (!s) s = "(null)";
            while (s[n]) n++;
            if (!left) out_pad(width - n, ' ');
            for (int i = 0; i < n; i++) out_char(s[i]);
            if (left) out_pad(width - n, ' ');
            break;
        }
        case 'c':
            out_char((char)va_arg(ap, int));
            break;
        case '%':
            out_char('%');
            break;
        case '\0':
            return;
        default:
            out_char('%');
            out_char(*fmt);
            break;
        }
    }
}

void ms_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ms_vprintf(fmt, ap);
    va_end(ap);
    out_flush();
}

/* Internal print: no flush until end of line (each dump line reaches the hook in one write). */
static void pr(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ms_vprintf(fmt, ap);
    va_end(ap);
}

/* AliOS k_int2str(): 8 upper-case hex digits into a pre-filled template. */
static void int2str(uint32_t v, char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (int i = 7; i >= 0; i--) {
        s[i] = hex[v & 0xFu];
        v >>= 4;
    }
}

static void out_str(const char *s)
{
    while (*s) out_char(*s++);
}

/* ------------------------------------------------------------------------------------------ */
/* Free lists                                                                                   */

static unsigned size_level(size_t size)
{
    if (size < ((size_t)1 << MS_MIN_BIT)) return 0;
    /* floor(log2(size)) - (MS_MIN_BIT - 1), capped at the last level. */
    unsigned lg = (unsigned)(sizeof(unsigned long) * 8u - 1u) -
                  (unsigned)__builtin_clzl((unsigned long)size);
    unsigned lvl = lg - (MS_MIN_BIT - 1u);
    return lvl < MS_BIT_LEVEL ? lvl : MS_BIT_LEVEL - 1u;
}

static void fl_insert(ms_blk_t *b)
{
    unsigned lvl = size_level(BLK_SIZE(b));
    ms_link_t *l = BLK_LINK(b);
    l->prev = 0;
    l->next = g_ms.freelist[lvl];
    if (l->next) BLK_LINK(l->next)->prev = b;
    g_ms.freelist[lvl] = b;
    g_ms.free_bitmap |= 1u << lvl;
}

static void fl_remove(ms_blk_t *b)
{
    unsigned lvl = size_level(BLK_SIZE(b));
    ms_link_t *l = BLK_LINK(b);
    if (l->prev) BLK_LINK(l->prev)->next = l->next;
    else g_ms.freelist[lvl] = l->next;
    if (l->next) BLK_LINK(l->next)->prev = l->prev;
    if (!g_ms.freelist[lvl]) g_ms.free_bitmap &= ~(1u << lvl);
}

static ms_blk_t *fl_find(size_t size)
{
    unsigned lvl = size_level(size);
    for (ms_blk_t *b = g_ms.freelist[lvl]; b; b = BLK_LINK(b)->next) {
        if (BLK_SIZE(b) >= size) return b;
    }
    uint32_t above = g_ms.free_bitmap & ~((2u << lvl) - 1u);
    if (!above) return 0;
    lvl = 0;
    while (!(above & 1u)) {
        above >>= 1;
        lvl++;
    }
    return g_ms.freelist[lvl];
}

/* ------------------------------------------------------------------------------------------ */
/* Init                                                                                         */

void ms_agent_config_default(ms_agent_config_t *cfg)
{
    unsigned char *p = (unsigned char *)cfg;
    for (size_t i = 0; i < sizeof *cfg; i++) p[i] = 0;
    cfg->era = MS_ERA_ALIOS3;
    cfg->banner = 0;
    cfg->crlf = 1;
}

static void blk_clear_trace(ms_blk_t *b)
{
#if MS_AGENT_TRACE_DEPTH > 0
    for (int i = 0; i < MS_AGENT_TRACE_DEPTH; i++) b->trace[i] = 0;
#else
    (void)b;
#endif
}

static void print_ptr_padded(uintptr_t v);

/* The init-order rule made loud: anything that allocated before init is named at init. */
static void report_preinit(const char *consequence)
{
    if (!g_preinit_allocs) return;
    pr("[MSAGENT] WARNING %lu allocation(s) before init, first caller ",
       (unsigned long)g_preinit_allocs);
    print_ptr_padded(g_preinit_caller);
    pr(": %s\n", consequence);
    out_flush();
    g_preinit_allocs = 0;
    g_preinit_caller = 0;
}

static void note_preinit(uintptr_t caller)
{
    if (!g_preinit_allocs++) g_preinit_caller = caller;
}

int ms_agent_init(ms_write_fn write, void *arena, size_t arena_size,
                  const ms_agent_config_t *cfg)
{
    unsigned char *p = (unsigned char *)g_ms.freelist;
    for (size_t i = 0; i < sizeof g_ms.freelist; i++) p[i] = 0;
    g_ms.write = write;
    if (cfg) g_ms.cfg = *cfg;
    else ms_agent_config_default(&g_ms.cfg);
    g_ms.free_bitmap = 0;
    g_ms.alloc_fail = 0;
    g_ms.mmlk_cnt = 0;
    g_ms.mmlk_started = 0;
    g_ms.fail_dumped = 0;
    g_ms.err_dumped = 0;
    g_ms.obj_seq = 0;
    for (int i = 0; i < MS_BIT_LEVEL; i++) g_ms.alloc_times[i] = 0;
    g_line_len = 0;
    g_side.tab = 0;

    uintptr_t start = ((uintptr_t)arena + MS_ALIGN - 1u) & ~(uintptr_t)(MS_ALIGN - 1u);
    uintptr_t end = ((uintptr_t)arena + arena_size) & ~(uintptr_t)(MS_ALIGN - 1u);
    if (!arena || end <= start || end - start < 3u * MS_HDR + 2u * MS_MIN_PAYLOAD) {
        g_ms.first = g_ms.sentinel = 0;
        return -1;
    }

    /* Region-info block (AliOS: k_mm_region_info_t, "used 8 ... 0x0"). */
    ms_blk_t *info = (ms_blk_t *)start;
    info->dye = MS_DYE_USED;
    info->owner_id = MS_OWNER_ID_SELF;
    info->tag = 0;
    info->owner = 0;
    info->prev = 0;
    info->size = MS_MIN_PAYLOAD;
    blk_clear_trace(info);

    ms_blk_t *sent = (ms_blk_t *)(end - MS_HDR);
    ms_blk_t *fb = BLK_NEXT(info);
    fb->dye = MS_DYE_FREE;
    fb->owner_id = 0;
    fb->tag = 0;
    fb->owner = 0;
    fb->prev = 0;
    fb->size = ((size_t)((unsigned char *)sent - (unsigned char *)fb) - MS_HDR) | MS_FLAG_FREE;
    blk_clear_trace(fb);

    sent->dye = MS_DYE_USED;
    sent->owner_id = MS_OWNER_ID_SELF;
    sent->tag = 0;
    sent->owner = MS_LAST_BLK_MAGIC;
    sent->prev = fb;
    sent->size = 0 | MS_FLAG_PREVFREE;
    blk_clear_trace(sent);

    g_ms.first = info;
    g_ms.sentinel = sent;
    g_ms.total = (size_t)(end - start);
    g_ms.free_size = MS_HDR + BLK_SIZE(fb);
    g_ms.maxused = g_ms.total - g_ms.free_size;
    g_ms.n_allocs = g_ms.n_frees = 0;
    fl_insert(fb);
    report_preinit("they returned NULL");
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Allocation core                                                                              */

typedef struct {
    uintptr_t owner;
#if MS_AGENT_TRACE_DEPTH > 0
    uintptr_t trace[MS_AGENT_TRACE_DEPTH];
#endif
} ms_caller_t;

/*
 * Capture owner and trace in a public entry point. Must be expanded directly in the function
 * whose caller is the owner (not in a helper), and that function must not be inlined.
 */
#if MS_AGENT_TRACE_DEPTH > 0
#define MS_CAPTURE(c)                                                     \
    do {                                                                  \
        (c).owner = (uintptr_t)__builtin_return_address(0);               \
        for (int i_ = 0; i_ < MS_AGENT_TRACE_DEPTH; i_++) (c).trace[i_] = 0; \
        (void)ms_port_backtrace((c).trace, MS_AGENT_TRACE_DEPTH);         \
    } while (0)
#else
#define MS_CAPTURE(c) ((c).owner = (uintptr_t)__builtin_return_address(0))
#endif

/*
 * Owner-passing capture: `caller` is the owner; the trace continues above it. The raw walk
 * starts at the return address of the entry point, so it contains the glue frames first:
 * skip up to and including `caller`. If the entry point was called from `caller`'s function
 * itself (glue inlined or tail-called), nothing is skipped. If `caller` is not found, the trace
 * stays empty: a short trace is honest, a trace from the wrong frame is not.
 */
#if MS_AGENT_TRACE_DEPTH > 0
static void pick_trace(ms_caller_t *c, uintptr_t self_ret, const uintptr_t *raw, int n)
{
    int start = n;
    if (self_ret == c->owner) {
        start = -1;
    } else {
        for (int i = 0; i < n; i++) {
            if (raw[i] == c->owner) {
                start = i;
                break;
            }
        }
    }
    for (int i = 0; i < MS_AGENT_TRACE_DEPTH; i++) {
        int k = start + 1 + i;
        c->trace[i] = k < n ? raw[k] : 0;
    }
}
#define MS_CAPTURE_FROM(c, caller_)                                                  \
    do {                                                                             \
        uintptr_t self_ = (uintptr_t)__builtin_return_address(0);                    \
        uintptr_t raw_[MS_AGENT_TRACE_DEPTH + MS_AGENT_GLUE_MAX];                    \
        int n_ = ms_port_backtrace(raw_, MS_AGENT_TRACE_DEPTH + MS_AGENT_GLUE_MAX);  \
        (c).owner = (caller_) ? (caller_) : self_;                                   \
        pick_trace(&(c), self_, raw_, n_);                                           \
    } while (0)
#else
#define MS_CAPTURE_FROM(c, caller_)                                                  \
    ((c).owner = (caller_) ? (caller_) : (uintptr_t)__builtin_return_address(0))
#endif

#define MS_NOINLINE __attribute__((noinline))

static void ms_dump_locked(void);

static uint8_t cur_task_id(void)
{
    return g_ms.cfg.task_id ? g_ms.cfg.task_id() : 1u;
}

static void *alloc_locked(size_t req, const ms_caller_t *c)
{
    if (!g_ms.first) return 0;
    size_t size = req < MS_MIN_PAYLOAD ? MS_MIN_PAYLOAD : MS_ALIGN_UP(req);
    if (size < req) return 0;  /* overflow */

    ms_blk_t *b = fl_find(size);
    if (!b) return 0;
    fl_remove(b);

    size_t have = BLK_SIZE(b);
    ms_blk_t *next = BLK_NEXT(b);
    if (have >= size + MS_HDR + MS_MIN_PAYLOAD) {
        /* Split: the tail stays free. */
        ms_blk_t *rest = (ms_blk_t *)((unsigned char *)b + MS_HDR + size);
        rest->dye = MS_DYE_FREE;
        rest->owner_id = 0;
        rest->tag = 0;
        rest->owner = 0;
        blk_clear_trace(rest);
        rest->prev = 0;
        rest->size = (have - size - MS_HDR) | MS_FLAG_FREE;  /* prev (b) is used */
        next->prev = rest;                                   /* next already PREVFREE */
        fl_insert(rest);
        have = size;
    } else {
        next->size &= ~MS_FLAG_PREVFREE;
    }
    b->size = have | (b->size & MS_FLAG_PREVFREE);  /* FREE cleared */
    b->dye = MS_DYE_USED;
    b->owner = c->owner;
    b->owner_id = cur_task_id();
    b->tag = g_ms.mmlk_cnt;
#if MS_AGENT_TRACE_DEPTH > 0
    for (int i = 0; i < MS_AGENT_TRACE_DEPTH; i++) b->trace[i] = c->trace[i];
#endif
    g_ms.free_size -= MS_HDR + have;
    size_t used = g_ms.total - g_ms.free_size;
    if (used > g_ms.maxused) g_ms.maxused = used;
    g_ms.alloc_times[size_level(req)]++;
    g_ms.n_allocs++;
    return BLK_PAYLOAD(b);
}

static int in_heap(const void *p)
{
    return g_ms.first && (const unsigned char *)p > (const unsigned char *)g_ms.first &&
           (const unsigned char *)p < (const unsigned char *)g_ms.sentinel;
}

/* After an AliOS warning about a bad free: who freed (the AliOS text has no room for it). */
static void report_free_caller(void)
{
    if (!g_ms.free_caller) return;
    out_str("[MSAGENT] bad free by caller ");
    print_ptr_padded(g_ms.free_caller);
    out_char('\n');
}

/* An allocator error (double free, bad pointer, corrupt header): print the AliOS 3.x warning
 * with the header address, then the full dump once. The block is left alone. */
static void heap_error(const char *what, const ms_blk_t *b)
{
    pr("WARNING, %s!! 0x%lx\n", what, (unsigned long)(uintptr_t)b);
    report_free_caller();
    if (!g_ms.err_dumped) {
        g_ms.err_dumped = 1;
        ms_dump_locked();
    }
}

static void free_locked(void *ptr)
{
    if (!ptr) return;
    ms_blk_t *b = BLK_FROM_PTR(ptr);
    if (!in_heap(ptr) || ((uintptr_t)ptr & (MS_ALIGN - 1u))) {
        heap_error("memory maybe corrupt", b);
        return;
    }
    if (b->size & MS_FLAG_FREE) {
        if (b->dye == MS_DYE_FREE) heap_error("memory maybe double free", b);
        else heap_error("memory maybe corrupt", b);
        return;
    }
    if (b->dye != MS_DYE_USED || BLK_SIZE(b) == 0) {
        heap_error("memory maybe corrupt", b);
        return;
    }
    ms_blk_t *next = BLK_NEXT(b);
    if ((next->dye != MS_DYE_USED && next->dye != MS_DYE_FREE) ||
        (unsigned char *)next > (unsigned char *)g_ms.sentinel) {
        pr("WARNING, memory overwritten!! 0x%lx  0x%lx\n", (unsigned long)(uintptr_t)b,
           (unsigned long)(uintptr_t)next);
        report_free_caller();
        if (!g_ms.err_dumped) {
            g_ms.err_dumped = 1;
            ms_dump_locked();
        }
        return;
    }

    g_ms.free_size += MS_HDR + BLK_SIZE(b);
    b->dye = MS_DYE_FREE;
    b->size |= MS_FLAG_FREE;
    /* The owner and trace stay: AliOS prints a free block's last owner too ("If double free,
     * print last alloc trace maybe useful"); only coalesced-away headers disappear. */

    if (next->size & MS_FLAG_FREE) {             /* merge with the next block */
        fl_remove(next);
        b->size += MS_HDR + BLK_SIZE(next);
        next = BLK_NEXT(b);
    }
    if (b->size & MS_FLAG_PREVFREE) {            /* merge into the previous block */
        ms_blk_t *prev = b->prev;
        fl_remove(prev);
        prev->size += MS_HDR + BLK_SIZE(b);
        b = prev;
    }
    next->prev = b;
    next->size |= MS_FLAG_PREVFREE;
    fl_insert(b);
    g_ms.n_frees++;
}

static void alloc_failed(const char *what, size_t size)
{
    g_ms.alloc_fail++;
    /* AliOS 3.x k_mm.c; printed on every failure, the dump only on the first ("the first
     * scene of the crash": later dumps would only show the aftermath). */
    if (what[0] == 'm') {
        size_t fr = g_ms.free_size;
        if (g_side.tab) {
            ms_heap_stats_t st;
            fr = 0;
            if (g_ms.cfg.heap_stats) {
                g_ms.cfg.heap_stats(&st);
                fr = st.free;
            }
        }
        pr("WARNING, malloc failed!!!! need size:%d, but free size:%d\n", (int)size, (int)fr);
    } else {
        pr("WARNING, realloc failed!!!! newsize : %d\n", (int)size);
    }
    if (!g_ms.fail_dumped) {
        g_ms.fail_dumped = 1;
        ms_dump_locked();
        out_flush();
        if (g_ms.cfg.on_malloc_fail) g_ms.cfg.on_malloc_fail(size);
    }
}

static void *malloc_entry(size_t size, const ms_caller_t *c)
{
    if (!g_ms.first) {
        note_preinit(c->owner);
        return 0;
    }
    ms_lock();
    void *p = alloc_locked(size, c);
    if (!p && g_ms.first) alloc_failed("malloc", size);
    ms_unlock();
    return p;
}

static void *calloc_entry(size_t n, size_t size, const ms_caller_t *c)
{
    if (size && n > (size_t)-1 / size) return 0;
    size_t total = n * size;
    unsigned char *p = (unsigned char *)malloc_entry(total, c);
    if (p) {
        for (size_t i = 0; i < total; i++) p[i] = 0;
    }
    return p;
}

static void free_entry(void *ptr, uintptr_t caller);

static void *realloc_entry(void *ptr, size_t size, const ms_caller_t *c)
{
    if (!ptr) return malloc_entry(size, c);
    if (!size) {
        free_entry(ptr, c->owner);
        return 0;
    }
    ms_lock();
    g_ms.free_caller = c->owner;
    ms_blk_t *b = BLK_FROM_PTR(ptr);
    if (!in_heap(ptr) || b->dye != MS_DYE_USED || (b->size & MS_FLAG_FREE)) {
        heap_error("memory maybe corrupt", b);
        g_ms.free_caller = 0;
        ms_unlock();
        return 0;
    }
    size_t old = BLK_SIZE(b);
    if (old >= size) {            /* shrink in place (no split: keeps it simple and cheap) */
        g_ms.free_caller = 0;
        ms_unlock();
        return ptr;
    }
    void *np = alloc_locked(size, c);
    if (!np) {
        alloc_failed("realloc", size);
        g_ms.free_caller = 0;
        ms_unlock();
        return 0;
    }
    unsigned char *d = (unsigned char *)np;
    const unsigned char *s = (const unsigned char *)ptr;
    for (size_t i = 0; i < old; i++) d[i] = s[i];
    free_locked(ptr);
    g_ms.free_caller = 0;
    ms_unlock();
    return np;
}

/* Public entry points: each captures its own return address (the owner). */
MS_NOINLINE void *ms_malloc(size_t size)
{
    ms_caller_t c;
    MS_CAPTURE(c);
    return malloc_entry(size, &c);
}

static void free_entry(void *ptr, uintptr_t caller)
{
    ms_lock();
    g_ms.free_caller = caller;
    free_locked(ptr);
    g_ms.free_caller = 0;
    ms_unlock();
}

MS_NOINLINE void ms_free(void *ptr)
{
    free_entry(ptr, (uintptr_t)__builtin_return_address(0));
}

/* Owner-passing entry points (see memsleuth_agent.h). */
MS_NOINLINE void *ms_malloc_from(size_t size, uintptr_t caller)
{
    ms_caller_t c;
    MS_CAPTURE_FROM(c, caller);
    return malloc_entry(size, &c);
}

MS_NOINLINE void ms_free_from(void *ptr, uintptr_t caller)
{
    free_entry(ptr, caller ? caller : (uintptr_t)__builtin_return_address(0));
}

MS_NOINLINE void *ms_calloc_from(size_t nmemb, size_t size, uintptr_t caller)
{
    ms_caller_t c;
    MS_CAPTURE_FROM(c, caller);
    return calloc_entry(nmemb, size, &c);
}

MS_NOINLINE void *ms_realloc_from(void *ptr, size_t size, uintptr_t caller)
{
    ms_caller_t c;
    MS_CAPTURE_FROM(c, caller);
    return realloc_entry(ptr, size, &c);
}

MS_NOINLINE void *ms_calloc(size_t nmemb, size_t size)
{
    ms_caller_t c;
    MS_CAPTURE(c);
    return calloc_entry(nmemb, size, &c);
}

MS_NOINLINE void *ms_realloc(void *ptr, size_t size)
{
    ms_caller_t c;
    MS_CAPTURE(c);
    return realloc_entry(ptr, size, &c);
}

#if defined(MS_AGENT_WRAP_LIBC) && MS_AGENT_WRAP_LIBC
#define MS_LIBC(name) __wrap_##name
#elif defined(MS_AGENT_DEFINE_LIBC) && MS_AGENT_DEFINE_LIBC
#define MS_LIBC(name) name
#endif

#ifdef MS_LIBC
void *MS_LIBC(malloc)(size_t size);
void  MS_LIBC(free)(void *ptr);
void *MS_LIBC(calloc)(size_t nmemb, size_t size);
void *MS_LIBC(realloc)(void *ptr, size_t size);

MS_NOINLINE void *MS_LIBC(malloc)(size_t size)
{
    ms_caller_t c;
    MS_CAPTURE(c);
    return malloc_entry(size, &c);
}

MS_NOINLINE void MS_LIBC(free)(void *ptr)
{
    free_entry(ptr, (uintptr_t)__builtin_return_address(0));
}

MS_NOINLINE void *MS_LIBC(calloc)(size_t nmemb, size_t size)
{
    ms_caller_t c;
    MS_CAPTURE(c);
    return calloc_entry(nmemb, size, &c);
}

MS_NOINLINE void *MS_LIBC(realloc)(void *ptr, size_t size)
{
    ms_caller_t c;
    MS_CAPTURE(c);
    return realloc_entry(ptr, size, &c);
}
#endif

/* ------------------------------------------------------------------------------------------ */
/* Code range for trace validation                                                              */

static uintptr_t g_text_lo, g_text_hi;

void ms_agent_set_text_range(uintptr_t lo, uintptr_t hi)
{
    g_text_lo = lo;
    g_text_hi = hi;
}

int ms_agent_is_code(uintptr_t addr)
{
    if (g_text_hi) return addr >= g_text_lo && addr < g_text_hi;
#if defined(__arm__) && !defined(__aarch64__)
    return addr < 0xE0000000u;   /* Cortex-M: everything below the system region */
#else
    return addr != 0;
#endif
}

/* ------------------------------------------------------------------------------------------ */
/* Host frame-pointer backtrace (weak: a port file may replace it)                              */

#if MS_AGENT_TRACE_DEPTH > 0 && !defined(MS_AGENT_NO_FP_BACKTRACE) && \
    (defined(__x86_64__) || defined(__aarch64__) || defined(__riscv))
/*
 * Frame record layout shared by x86-64, AArch64 and RISC-V with frame pointers:
 * fp[0] = caller's frame pointer, fp[1] = return address. Frames: this function (return into
 * the API entry), the API entry (return into the owner's function = the owner), then the
 * owner's function, whose return address is out[0].
 */
__attribute__((weak, noinline)) int ms_port_backtrace(uintptr_t *out, int depth)
{
    uintptr_t *fp = (uintptr_t *)__builtin_frame_address(0);
    int n = 0, skip = 2;
    while (fp && n < depth) {
        uintptr_t *up = (uintptr_t *)fp[0];
        uintptr_t ret = fp[1];
        if (!ret || (!skip && !ms_agent_is_code(ret))) break;
        if (skip) skip--;
        else out[n++] = ret;
        /* Frames grow down: the caller's record must be above ours and not absurdly far. */
        if (up <= fp || (uintptr_t)up - (uintptr_t)fp > 0x100000u ||
            ((uintptr_t)up & (sizeof(void *) - 1u))) {
            break;
        }
        fp = up;
    }
    return n;
}
#elif MS_AGENT_TRACE_DEPTH > 0
/* No generic unwinder for this architecture: link a port (memsleuth_port_cortexm.c). */
__attribute__((weak)) int ms_port_backtrace(uintptr_t *out, int depth)
{
    (void)out;
    (void)depth;
    return 0;
}
#endif

/* ------------------------------------------------------------------------------------------ */
/* Statistics and overview                                                                      */

static size_t max_free_blk(void)
{
    size_t best = 0;
    /* Bounded walk: a corrupt link must not hang a fault handler. */
    size_t budget = g_ms.total / (MS_HDR + MS_MIN_PAYLOAD) + 1u;
    for (int lvl = MS_BIT_LEVEL - 1; lvl >= 0; lvl--) {
        for (ms_blk_t *b = g_ms.freelist[lvl]; b && budget; b = BLK_LINK(b)->next, budget--) {
            if (!in_heap(b) && b != g_ms.first) return best;
            if (BLK_SIZE(b) > best) best = BLK_SIZE(b);
        }
        if (best) break;  /* higher levels always hold bigger blocks */
    }
    return best;
}

void ms_heap_stats(ms_heap_stats_t *st)
{
    if (g_side.tab) {
        /* Side mode: the host allocator's figures; zeros when it gave no hook. */
        unsigned char *z = (unsigned char *)st;
        for (size_t i = 0; i < sizeof *st; i++) z[i] = 0;
        if (g_ms.cfg.heap_stats) g_ms.cfg.heap_stats(st);
        return;
    }
    ms_lock();
    st->total = g_ms.total;
    st->free = g_ms.free_size;
    st->used = g_ms.total - g_ms.free_size;
    st->max_used = g_ms.maxused;
    st->max_free_blk = max_free_blk();
    st->alloc_fail = g_ms.alloc_fail;
    /* Smallest free block and free-block count: a bounded walk of the free lists. */
    st->min_free_blk = 0;
    st->free_blocks = 0;
    size_t budget = g_ms.total / (MS_HDR + MS_MIN_PAYLOAD) + 1u;
    for (int lvl = 0; lvl < MS_BIT_LEVEL; lvl++) {
        for (ms_blk_t *b = g_ms.freelist[lvl]; b && budget; b = BLK_LINK(b)->next, budget--) {
            if (!in_heap(b)) break;
            if (!st->free_blocks || BLK_SIZE(b) < st->min_free_blk) st->min_free_blk = BLK_SIZE(b);
            st->free_blocks++;
        }
    }
    st->allocs = g_ms.n_allocs;
    st->frees = g_ms.n_frees;
    ms_unlock();
}

void ms_heap_reset_min_free(void)
{
    ms_lock();
    g_ms.maxused = g_ms.total - g_ms.free_size;
    ms_unlock();
}

static void overview_locked(void)
{
    uint32_t total = (uint32_t)g_ms.total, fr = (uint32_t)g_ms.free_size;
    uint32_t used = total - fr, minfree = total - (uint32_t)g_ms.maxused;
    uint32_t maxblk = 0;
    int h4 = g_ms.cfg.era == MS_ERA_ALIOS2;

    if (g_side.tab) {
        /* Side mode: the host allocator's own figures, or nothing (no way to know its size). */
        ms_heap_stats_t st;
        if (!g_ms.cfg.heap_stats) return;
        st.max_free_blk = MS_UNKNOWN;
        g_ms.cfg.heap_stats(&st);
        /* An allocator that cannot tell its largest free block gets the table without that
         * column (AliOS 2.0 H4) rather than a made-up 0 a reader would believe. */
        if (st.max_free_blk == MS_UNKNOWN) h4 = 1;
        total = (uint32_t)st.total;
        fr = (uint32_t)st.free;
        used = total - fr;
        minfree = total - (uint32_t)st.max_used;
        maxblk = (uint32_t)st.max_free_blk;
    } else if (g_ms.cfg.era != MS_ERA_ALIOS2) {
        maxblk = (uint32_t)max_free_blk();
    }

    if (g_ms.cfg.banner) out_str("========== Heap Info  ==========\n");
    if (h4) {
        /* H4 (1.x krhino_mm_overview / 2.0 debug_mm_overview): 59 dashes, 4 columns. */
        char row[] = "      | 0x         | 0x         | 0x         | 0x         |\n";
        int2str(total, &row[10]);
        int2str(fr, &row[23]);
        int2str(used, &row[36]);
        int2str(minfree, &row[49]);
        out_str("-----------------------------------------------------------\n");
        out_str("[HEAP]| TotalSz    | FreeSz     | UsedSz     | MinFreeSz  |\n");
        out_str(row);
        out_str("-----------------------------------------------------------\n");
    } else {
        /* H5b (3.x debug_mm_overview), no fixed-block pool: the [POOL] part is compiled out
         * in AliOS when RHINO_CONFIG_MM_BLK is 0, which is what this allocator is. */
        char row[] = "      | 0x         | 0x         | 0x         | 0x         | 0x            |\n";
        int2str(total, &row[10]);
        int2str(fr, &row[23]);
        int2str(used, &row[36]);
        int2str(minfree, &row[49]);
        int2str(maxblk, &row[62]);
        out_str("---------------------------------------------------------------------------\n");
        out_str("[HEAP]| TotalSz    | FreeSz     | UsedSz     | MinFreeSz  | MaxFreeBlkSz  |\n");
        out_str(row);
        out_str("---------------------------------------------------------------------------\n");
    }
}

void ms_heap_print_overview(void)
{
    if (!g_ms.first && !g_side.tab) return;
    if (g_ms.cfg.overview != MS_OVERVIEW_ALIOS && g_ms.cfg.native_overview) {
        g_ms.cfg.native_overview();
        if (g_ms.cfg.overview == MS_OVERVIEW_NATIVE) return;
    }
    overview_locked();
    out_flush();
}

/* ------------------------------------------------------------------------------------------ */
/* Block dump                                                                                   */

/* Header address: AliOS 3.x prints "0x%08x" (8 digits on 32-bit); 64-bit hosts get all digits. */
static void print_addr(const void *b)
{
    pr("0x%08lx ", (unsigned long)(uintptr_t)b);
}

static void print_block(const ms_blk_t *b)
{
    int is_free = (b->size & MS_FLAG_FREE) != 0;
    uint16_t want = is_free ? MS_DYE_FREE : MS_DYE_USED;
    int era2 = g_ms.cfg.era == MS_ERA_ALIOS2;

    if (era2) pr("%p ", (const void *)b);  /* 2.x: libc %p */
    else print_addr(b);
    out_str(b->dye != want ? "!" : " ");
    out_str(is_free ? "free " : "used ");
    if (BLK_SIZE(b)) pr(" %6lu ", (unsigned long)BLK_SIZE(b));
    else out_str(" sentinel ");

    if (era2) {
        /* 2.x dyes are 32-bit (0xFEFEFEFE / 0xABABABAB); show the 16-bit dye widened. */
        uint32_t d = b->dye;
        if (d == MS_DYE_USED || d == MS_DYE_FREE) d |= d << 16;
        pr(" %8lx ", (unsigned long)d);
        /* 2.x kept owner 0 in the sentinel; the 3.x magic is a 3.x thing. */
        pr(" 0x%-8lx ", (unsigned long)(BLK_SIZE(b) ? b->owner : 0u));
        if (b->size & MS_FLAG_PREVFREE) pr("pre-free [%8p];", (const void *)b->prev);
        else out_str("pre-used;");
        if (is_free) {
            pr(" free[%8p,%8p] ", (const void *)BLK_LINK(b)->prev,
               (const void *)BLK_LINK(b)->next);
        }
    } else {
        if (b->dye != want) pr(" %8x ", (unsigned)b->dye);
        else out_str("  OK ");
        pr(" 0x%-8lx ", (unsigned long)b->owner);
#if MS_AGENT_TRACE_DEPTH > 0
        /* 3.x prints the trace for every block, free ones included (their last allocation). */
        pr(" (%p", (const void *)b->trace[0]);
        for (int i = 1; i < MS_AGENT_TRACE_DEPTH; i++) pr(" <- %p", (const void *)b->trace[i]);
        out_str(")");
#endif
    }
    out_char('\n');
}

/* Walk all blocks in physical order; stops at the sentinel or at a header that cannot be a
 * block (corruption), printing what it could. */
#define FOR_EACH_BLOCK(b)                                                              \
    for (const ms_blk_t *b = g_ms.first; b;                                            \
         b = (b == g_ms.sentinel || BLK_SIZE(b) == 0 ||                                \
              (const unsigned char *)BLK_NEXT(b) > (const unsigned char *)g_ms.sentinel) \
                 ? 0 : BLK_NEXT(b))

static void dump_alloc_times(void)
{
    for (int i = 0; i < MS_BIT_LEVEL; i++) {
        if (i % 4 == 0 && i != 0) out_char('\n');
        pr("[2^%02d] bytes: %5d   |", i + MS_MIN_BIT, (int)g_ms.alloc_times[i]);
    }
    out_char('\n');
}

static int task_known(uint8_t id)
{
    ms_task_info_t ti;
    if (!g_ms.cfg.task_at) return id == 1;
    for (unsigned idx = 0; g_ms.cfg.task_at(idx, &ti); idx++) {
        if (ti.id == id) return 1;
    }
    return 0;
}

static void side_task_info(void);

static void dump_task_info(void)
{
    size_t isr = 0, unknown = 0;
    ms_task_info_t ti;

    if (g_side.tab) {
        side_task_info();
        return;
    }

    out_str("TaskName                 Prio  StackSize  HeapAllocSize\n");
    if (g_ms.cfg.task_at) {
        for (unsigned idx = 0; g_ms.cfg.task_at(idx, &ti); idx++) {
            size_t sum = 0;
            FOR_EACH_BLOCK(b) {
                if (b->dye == MS_DYE_USED && !(b->size & MS_FLAG_FREE) && b->owner_id == ti.id)
                    sum += BLK_SIZE(b);
            }
            if (sum) {
                pr("%-24s %-5d %-10d %-10d\n", ti.name ? ti.name : "anonym", ti.prio,
                   ti.stack_size, (int)sum);
            }
        }
    }
    FOR_EACH_BLOCK(b) {
        if (b->dye != MS_DYE_USED || (b->size & MS_FLAG_FREE)) continue;
        if (b->owner_id == 0) {
            isr += BLK_SIZE(b);
        } else if (b->owner_id != MS_OWNER_ID_SELF) {
            int known = 0;
            if (g_ms.cfg.task_at) {
                for (unsigned idx = 0; g_ms.cfg.task_at(idx, &ti); idx++) {
                    if (ti.id == b->owner_id) {
                        known = 1;
                        break;
                    }
                }
            } else if (b->owner_id == 1) {
                known = 1;
            }
            if (!known) unknown += BLK_SIZE(b);
        }
    }
    if (!g_ms.cfg.task_at) {
        size_t sum = 0;
        FOR_EACH_BLOCK(b) {
            if (b->dye == MS_DYE_USED && !(b->size & MS_FLAG_FREE) && b->owner_id == 1)
                sum += BLK_SIZE(b);
        }
        if (sum) pr("%-24s %-5d %-10d %-10d\n", "main", 0, 0, (int)sum);
    }
    pr("Allocated in ISR %d, Allocated by deleted task %d\n", (int)isr, (int)unknown);
}

static void dump_free_map(void)
{
    size_t budget = g_ms.total / (MS_HDR + MS_MIN_PAYLOAD) + 1u;
    pr("freelist bitmap: 0x%x\n", (unsigned)g_ms.free_bitmap);
    if (g_ms.cfg.era == MS_ERA_ALIOS2)
        out_str("address,  stat   size     dye     caller   pre-stat    point\n");
    else
        out_str("   Address  Stat     Len  Chk    Caller\n");
    for (int lvl = 0; lvl < MS_BIT_LEVEL; lvl++) {
        for (ms_blk_t *b = g_ms.freelist[lvl]; b && budget; b = BLK_LINK(b)->next, budget--) {
            if (!in_heap(b)) break;
            print_block(b);
        }
    }
}

static void side_dump_locked(void);

static void ms_dump_locked(void)
{
    int era2 = g_ms.cfg.era == MS_ERA_ALIOS2;
    if (g_side.tab) {
        side_dump_locked();
        return;
    }
    if (!g_ms.first) return;

    /* Section lines are AliOS' verbatim, trailing space and all; note the 2.x and 3.x dash
     * counts differ ("free memory blocks" and "allocation statistic" lines). */
    out_char('\n');
    out_str("------------------------------- all memory blocks --------------------------------- \n");
    pr("g_kmm_head = %8lx\n", (unsigned long)(uintptr_t)g_ms.first);
    out_str("ALL BLOCKS\n");
    if (era2) out_str("address,  stat   size     dye     caller   pre-stat    point\n");
    else out_str("Blk_Addr    Stat     Len  Chk      Caller    Point\n");
    FOR_EACH_BLOCK(b) print_block(b);

    out_char('\n');
    if (era2) {
        out_str("----------------------------- all free memory blocks ------------------------------- \n");
        dump_free_map();
        out_char('\n');
        out_str("------------------------- memory allocation statistic ------------------------------ \n");
        /* 2.1 dump_kmm_statistic_info(): debug_mm_overview(), blank line, alloc times. */
        overview_locked();
        out_char('\n');
        out_str("-----------------number of alloc times:-----------------\n");
        dump_alloc_times();
        out_flush();
        return;
    }
    out_str("----------------------------- all free memory blocks ------------------------------ \n");
    dump_free_map();
    out_char('\n');
    out_str("--------------------------- memory allocation statistic --------------------------- \n");
    dump_alloc_times();
    out_char('\n');
    out_str("-------------------------------[kernel] heap size overview -------------------------------- \n");
    {
        /* The nested overview never carries the banner (AliOS calls debug_mm_overview here). */
        uint8_t banner = g_ms.cfg.banner;
        g_ms.cfg.banner = 0;
        overview_locked();
        g_ms.cfg.banner = banner;
    }
    out_char('\n');
    out_str("--------------------------- task allocation statistic ----------------------------- \n");
    dump_task_info();
    out_char('\n');
    out_str("----------------------------------------------------------------------------------- \n");
    out_flush();
}

void ms_heap_dump(void)
{
    ms_lock();
    ms_dump_locked();
    ms_unlock();
}

/* ------------------------------------------------------------------------------------------ */
/* mmlk                                                                                         */

static void side_print_sorted(uint8_t tag);

static void mmlk_list(uint8_t tag)
{
    out_str("-----------------All new alloced blocks:----------------\n");
    out_str("Blk_Addr    Stat     Len  Chk      Caller    Point\n");
    if (tag != 0 && g_side.tab) {
        side_print_sorted(tag);
    } else if (tag != 0) {  /* AliOS dump_kmm_chk(): care_cnt 0 lists nothing */
        FOR_EACH_BLOCK(b) {
            if (b->tag == tag && !(b->size & MS_FLAG_FREE) && b->owner_id != MS_OWNER_ID_SELF)
                print_block(b);
        }
    }
    out_str("--------------New alloced blocks info ends.-------------\n");
    out_char('\n');
    out_flush();
}

unsigned ms_mmlk_tag(void)
{
    ms_lock();
    if (!g_ms.mmlk_started) {
        g_ms.mmlk_started = 1;
        out_str("memory leak check start.\n");
    }
    uint8_t prev = g_ms.mmlk_cnt;
    uint8_t next = (uint8_t)(prev + 1u);
    if (next == 0xFFu || next == 0u) next = 1u;  /* 0xFF is AliOS' MM_CHK, 0 = untagged */
    out_char('\n');
    pr("Add tag %d when malloc\n", (int)next);
    g_ms.mmlk_cnt = next;
    mmlk_list(prev);
    ms_unlock();
    return next;
}

void ms_mmlk_query(unsigned tag)
{
    ms_lock();
    if (tag > g_ms.mmlk_cnt) {
        pr("query_index should be less than %d\n", (int)g_ms.mmlk_cnt);
        out_flush();
    } else {
        mmlk_list((uint8_t)tag);
    }
    ms_unlock();
}

static int side_check(void);

int ms_heap_check(void)
{
    int bad = 0;
    size_t free_sum = 0, nfree_walk = 0, nfree_list = 0;
    int prev_free = 0;
    const ms_blk_t *prev = 0, *last = 0;

    if (g_side.tab) return side_check();
    if (!g_ms.first) return 1;
    ms_lock();
    FOR_EACH_BLOCK(b) {
        int is_free = (b->size & MS_FLAG_FREE) != 0;
        if (b->dye != (is_free ? MS_DYE_FREE : MS_DYE_USED)) bad++;
        if (((uintptr_t)b & (MS_ALIGN - 1u)) || (BLK_SIZE(b) & (MS_ALIGN - 1u))) bad++;
        if (!!(b->size & MS_FLAG_PREVFREE) != prev_free) bad++;
        if (prev_free && b->prev != prev) bad++;
        if (is_free && prev_free) bad++;          /* two free neighbours: missed coalescing */
        if (is_free) {
            free_sum += MS_HDR + BLK_SIZE(b);
            nfree_walk++;
        }
        prev_free = is_free;
        prev = b;
        last = b;
    }
    if (last != g_ms.sentinel || g_ms.sentinel->owner != MS_LAST_BLK_MAGIC) bad++;
    if (free_sum != g_ms.free_size) bad++;
    for (int lvl = 0; lvl < MS_BIT_LEVEL; lvl++) {
        const ms_blk_t *pb = 0;
        if (!!g_ms.freelist[lvl] != !!(g_ms.free_bitmap & (1u << lvl))) bad++;
        for (ms_blk_t *b = g_ms.freelist[lvl]; b; b = BLK_LINK(b)->next) {
            if (!in_heap(b) || !(b->size & MS_FLAG_FREE) || size_level(BLK_SIZE(b)) != (unsigned)lvl ||
                BLK_LINK(b)->prev != pb || ++nfree_list > nfree_walk) {
                bad++;
                break;
            }
            pb = b;
        }
    }
    if (nfree_list != nfree_walk) bad++;
    ms_unlock();
    return bad;
}

static const ms_side_entry_t *side_lookup(const void *ptr);

int ms_block_info(const void *ptr, uintptr_t *owner, size_t *size, unsigned *tag)
{
    if (g_side.tab) {
        const ms_side_entry_t *e = side_lookup(ptr);
        if (!e) return -1;
        if (owner) *owner = e->owner;
        if (size) *size = e->size;
        if (tag) *tag = e->tag;
        return 0;
    }
    if (!ptr || !in_heap(ptr)) return -1;
    const ms_blk_t *b = BLK_FROM_PTR(ptr);
    if (b->dye != MS_DYE_USED || (b->size & MS_FLAG_FREE)) return -1;
    if (owner) *owner = b->owner;
    if (size) *size = BLK_SIZE(b);
    if (tag) *tag = b->tag;
    return 0;
}

int ms_block_trace(const void *ptr, uintptr_t *out, int n)
{
    if (g_side.tab) {
        const ms_side_entry_t *e = side_lookup(ptr);
        if (!e) return -1;
        for (int i = 0; i < n; i++) {
#if MS_AGENT_TRACE_DEPTH > 0
            out[i] = i < MS_AGENT_TRACE_DEPTH ? e->trace[i] : 0;
#else
            out[i] = 0;
#endif
        }
        return MS_AGENT_TRACE_DEPTH;
    }
    if (!ptr || !in_heap(ptr)) return -1;
    const ms_blk_t *b = BLK_FROM_PTR(ptr);
    if (b->dye != MS_DYE_USED || (b->size & MS_FLAG_FREE)) return -1;
    for (int i = 0; i < n; i++) {
#if MS_AGENT_TRACE_DEPTH > 0
        out[i] = i < MS_AGENT_TRACE_DEPTH ? b->trace[i] : 0;
#else
        out[i] = 0;
#endif
    }
    return MS_AGENT_TRACE_DEPTH;
}

/* ------------------------------------------------------------------------------------------ */
/* Side-table mode                                                                              */
/*
 * Open addressing with linear probing keyed by the allocator's pointer; deletion shifts the
 * following run back (no tombstones, so lookups stay short however long the firmware runs).
 * One slot always stays empty so every probe ends.
 */

static size_t side_home(uintptr_t p)
{
    uint32_t h = (uint32_t)(p >> 3) * 2654435761u;
    return (size_t)(h % (uint32_t)g_side.cap);
}

static size_t side_find(uintptr_t p)
{
    size_t i = side_home(p);
    while (g_side.tab[i].ptr) {
        if (g_side.tab[i].ptr == p) return i;
        i = i + 1 == g_side.cap ? 0 : i + 1;
    }
    return g_side.cap;
}

static const ms_side_entry_t *side_lookup(const void *ptr)
{
    if (!ptr) return 0;
    size_t i = side_find((uintptr_t)ptr);
    return i == g_side.cap ? 0 : &g_side.tab[i];
}

int ms_agent_init_side(ms_write_fn write, void *table, size_t table_bytes,
                       const ms_agent_config_t *cfg)
{
    size_t pre = g_side.preinit;
    uintptr_t pre_caller = g_preinit_caller;
    if (ms_agent_init(write, 0, 0, cfg) != -1) return -1;  /* resets state; no arena */
    size_t cap = table_bytes / sizeof(ms_side_entry_t);
    if (!table || cap < 2 || ((uintptr_t)table & (sizeof(uintptr_t) - 1u))) return -1;
    g_side.tab = (ms_side_entry_t *)table;
    g_side.cap = cap;
    g_side.count = g_side.bytes = 0;
    g_side.table_full = g_side.unknown_frees = 0;
    g_side.full_caller = 0;
    for (size_t i = 0; i < cap; i++) g_side.tab[i].ptr = 0;
    if (pre) {
        g_preinit_allocs = (uint32_t)pre;
        g_preinit_caller = pre_caller;
        report_preinit("not tracked");
    }
    g_side.preinit = pre;
    return 0;
}

MS_NOINLINE void ms_side_alloc(void *ptr, size_t size, uintptr_t caller)
{
    ms_caller_t c;
    MS_CAPTURE_FROM(c, caller);
    if (!g_side.tab) {
        /* Before init: the allocator worked, the table did not exist. Said at init. */
        if (ptr && !g_side.preinit++) g_preinit_caller = c.owner;
        return;
    }
    ms_lock();
    if (!ptr) {
        alloc_failed("malloc", size);
        ms_unlock();
        return;
    }
    size_t i = side_find((uintptr_t)ptr);
    if (i == g_side.cap) {
        if (g_side.count + 1u >= g_side.cap) {
            if (!g_side.table_full++) {
                g_side.full_caller = c.owner;
                pr("[MSAGENT] WARNING side table full (%lu entries): blocks from now on are "
                   "not tracked, first caller ", (unsigned long)(g_side.cap - 1u));
                print_ptr_padded(c.owner);
                out_char('\n');
            }
            ms_unlock();
            return;
        }
        i = side_home((uintptr_t)ptr);
        while (g_side.tab[i].ptr) i = i + 1 == g_side.cap ? 0 : i + 1;
        g_side.count++;
    } else {
        /* The allocator handed out a pointer the table still holds: its free was missed
         * (a free path without the hook). The old entry is replaced. */
        g_side.bytes -= g_side.tab[i].size;
        g_side.unknown_frees++;
    }
    ms_side_entry_t *e = &g_side.tab[i];
    e->ptr = (uintptr_t)ptr;
    e->owner = c.owner;
    e->size = (uint32_t)size;
    e->owner_id = cur_task_id();
    e->tag = g_ms.mmlk_cnt;
    e->reserved = 0;
#if MS_AGENT_TRACE_DEPTH > 0
    for (int k = 0; k < MS_AGENT_TRACE_DEPTH; k++) e->trace[k] = c.trace[k];
#endif
    g_side.bytes += size;
    g_ms.alloc_times[size_level(size)]++;
    g_ms.n_allocs++;
    ms_unlock();
}

MS_NOINLINE void ms_side_free(void *ptr, uintptr_t caller)
{
    (void)caller;
    if (!ptr || !g_side.tab) return;
    ms_lock();
    size_t i = side_find((uintptr_t)ptr);
    if (i == g_side.cap) {
        g_side.unknown_frees++;   /* allocated before init or while the table was full */
        ms_unlock();
        return;
    }
    g_side.bytes -= g_side.tab[i].size;
    g_side.count--;
    g_ms.n_frees++;
    /* Backward-shift deletion. */
    size_t j = i;
    for (;;) {
        j = j + 1 == g_side.cap ? 0 : j + 1;
        if (!g_side.tab[j].ptr) break;
        size_t k = side_home(g_side.tab[j].ptr);
        int move = (j > i) ? (k <= i || k > j) : (k <= i && k > j);
        if (move) {
            g_side.tab[i] = g_side.tab[j];
            i = j;
        }
    }
    g_side.tab[i].ptr = 0;
    ms_unlock();
}

void ms_side_stats(ms_side_stats_t *st)
{
    ms_lock();
    st->entries = g_side.count;
    st->capacity = g_side.cap ? g_side.cap - 1u : 0u;
    st->tracked_bytes = g_side.bytes;
    st->table_full = g_side.table_full;
    st->preinit = g_side.preinit;
    st->unknown_frees = g_side.unknown_frees;
    ms_unlock();
}

/* B3 block line for a tracked block: the address is the allocator's pointer (the header, if
 * the allocator has one, is its business), the state always used, the check column OK. */
static void print_entry(const ms_side_entry_t *e)
{
    print_addr((const void *)e->ptr);
    pr("  used  %6lu   OK  0x%-8lx ", (unsigned long)e->size, (unsigned long)e->owner);
#if MS_AGENT_TRACE_DEPTH > 0
    pr(" (%p", (const void *)e->trace[0]);
    for (int i = 1; i < MS_AGENT_TRACE_DEPTH; i++) pr(" <- %p", (const void *)e->trace[i]);
    out_str(")");
#endif
    out_char('\n');
}

/* Tracked blocks in address order (like a physical walk), optionally only one mmlk tag
 * (tag 0 = all). Selection by "next address above the last one": O(n * capacity), no memory. */
static void side_print_sorted(uint8_t tag)
{
    uintptr_t last = 0;
    int first = 1;
    for (;;) {
        const ms_side_entry_t *best = 0;
        for (size_t i = 0; i < g_side.cap; i++) {
            const ms_side_entry_t *e = &g_side.tab[i];
            if (!e->ptr || (!first && e->ptr <= last)) continue;
            if (!best || e->ptr < best->ptr) best = e;
        }
        if (!best) return;
        if (!tag || best->tag == tag) print_entry(best);
        last = best->ptr;
        first = 0;
    }
}

static void side_task_info(void)
{
    size_t isr = 0, unknown = 0;
    ms_task_info_t ti;
    out_str("TaskName                 Prio  StackSize  HeapAllocSize\n");
    if (g_ms.cfg.task_at) {
        for (unsigned idx = 0; g_ms.cfg.task_at(idx, &ti); idx++) {
            size_t sum = 0;
            for (size_t i = 0; i < g_side.cap; i++) {
                if (g_side.tab[i].ptr && g_side.tab[i].owner_id == ti.id) sum += g_side.tab[i].size;
            }
            if (sum) {
                pr("%-24s %-5d %-10d %-10d\n", ti.name ? ti.name : "anonym", ti.prio,
                   ti.stack_size, (int)sum);
            }
        }
    } else {
        size_t sum = 0;
        for (size_t i = 0; i < g_side.cap; i++) {
            if (g_side.tab[i].ptr && g_side.tab[i].owner_id == 1) sum += g_side.tab[i].size;
        }
        if (sum) pr("%-24s %-5d %-10d %-10d\n", "main", 0, 0, (int)sum);
    }
    for (size_t i = 0; i < g_side.cap; i++) {
        const ms_side_entry_t *e = &g_side.tab[i];
        if (!e->ptr) continue;
        if (e->owner_id == 0) isr += e->size;
        else if (!task_known(e->owner_id)) unknown += e->size;
    }
    pr("Allocated in ISR %d, Allocated by deleted task %d\n", (int)isr, (int)unknown);
}

/* The B3 dump with the tracked blocks; the free-block section is empty (the free lists are
 * the allocator's), the overview is the allocator's own. Preceded by one line that says what
 * the table did not see, so a reader knows how complete the listing is. */
static void side_dump_locked(void)
{
    pr("[MSAGENT] side table %lu/%lu entries, %lu bytes tracked, untracked: %lu before init, "
       "%lu table full, %lu unknown frees\n",
       (unsigned long)g_side.count, (unsigned long)(g_side.cap - 1u), (unsigned long)g_side.bytes,
       (unsigned long)g_side.preinit, (unsigned long)g_side.table_full,
       (unsigned long)g_side.unknown_frees);
    out_char('\n');
    out_str("------------------------------- all memory blocks --------------------------------- \n");
    pr("g_kmm_head = %8lx\n", (unsigned long)(uintptr_t)g_side.tab);
    out_str("ALL BLOCKS\n");
    out_str("Blk_Addr    Stat     Len  Chk      Caller    Point\n");
    side_print_sorted(0);
    out_char('\n');
    out_str("----------------------------- all free memory blocks ------------------------------ \n");
    out_str("freelist bitmap: 0x0\n");
    out_str("   Address  Stat     Len  Chk    Caller\n");
    out_char('\n');
    out_str("--------------------------- memory allocation statistic --------------------------- \n");
    dump_alloc_times();
    out_char('\n');
    out_str("-------------------------------[kernel] heap size overview -------------------------------- \n");
    {
        uint8_t banner = g_ms.cfg.banner;
        g_ms.cfg.banner = 0;
        overview_locked();
        g_ms.cfg.banner = banner;
    }
    out_char('\n');
    out_str("--------------------------- task allocation statistic ----------------------------- \n");
    side_task_info();
    out_char('\n');
    out_str("----------------------------------------------------------------------------------- \n");
    out_flush();
}

static int side_check(void)
{
    int bad = 0;
    size_t n = 0, bytes = 0;
    ms_lock();
    for (size_t i = 0; i < g_side.cap; i++) {
        if (!g_side.tab[i].ptr) continue;
        n++;
        bytes += g_side.tab[i].size;
        if (side_find(g_side.tab[i].ptr) != i) bad++;
    }
    if (n != g_side.count || bytes != g_side.bytes || n + 1u > g_side.cap) bad++;
    ms_unlock();
    return bad;
}

/* ------------------------------------------------------------------------------------------ */
/* Object trace, docs/object-trace.md                                                           */

static void print_ptr_padded(uintptr_t v)
{
    /* Zero-padded to pointer width: 8 digits on 32-bit, 16 on 64-bit. */
    char num[24];
    int n = utoa_rev(num, v, 16, 0);
    out_field("0x", num, n, (int)(2 + 2 * sizeof(void *)), 0, 1);
}

void ms_obj_event(int op, const char *kind, const void *handle, uintptr_t caller,
                  const char *name)
{
    ms_lock();
    g_ms.obj_seq++;
    out_str(op == MS_OBJ_OP_CREATE ? "[MSOBJ] create " : "[MSOBJ] delete ");
    out_str(kind);
    out_char(' ');
    print_ptr_padded((uintptr_t)handle);
    out_str(" caller ");
    print_ptr_padded(caller);
    pr(" seq %lu", (unsigned long)g_ms.obj_seq);
    if (name && name[0]) {
        out_str(" name ");
        for (int i = 0; name[i] && i < 31; i++) out_char(name[i] > ' ' && name[i] < 127 ? name[i] : '_');
    }
    out_char('\n');
    ms_unlock();
}

void ms_cycle_mark(unsigned long n)
{
    ms_lock();
    pr("[MSCYCLE] %lu\n", n);
    ms_unlock();
}
