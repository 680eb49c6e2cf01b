/* memsleuth._dwarf: the optional C half of the pure DWARF engine (memsleuth/symbols/lines.py
 * and inline.py).
 *
 * line_table() runs one unit's line-number program and merges its sequences exactly as
 * lines._run + lines._merge do (the tests compare the two on every unit of every committed
 * ELF and on mutated line programs). Decoding a 3 MB .debug_line takes ~0.35 s in Python
 * and a few ms here. Anything the Python loop would fail on (a read past the section) or
 * that does not fit the packed columns (values beyond int32 / 2^62) returns None, and
 * Python decodes that unit itself: so the answers, and the errors, are the same either way.
 * chain() (below) is the per-address DIE walk of inline.py, under the same rule.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DWARF_ABI 2
#define BIG ((int64_t)1 << 62)

typedef struct { uint64_t *a; int32_t *r; Py_ssize_t n, cap; } Col;   /* addrs + 3 ints per row */
typedef struct { Py_ssize_t start, n; uint64_t first, last; Py_ssize_t order; } Seq;

static int col_push(Col *c, uint64_t a, int64_t f, int64_t l, int64_t k) {
    if (f < INT32_MIN || f > INT32_MAX || l < INT32_MIN || l > INT32_MAX || k < INT32_MIN
        || k > INT32_MAX)
        return 1;                                  /* not packable: Python decodes it */
    if (c->n == c->cap) {
        Py_ssize_t cap = c->cap ? c->cap * 2 : 1024;
        uint64_t *a = PyMem_Realloc(c->a, (size_t)cap * sizeof *a);
        if (a == NULL) return -1;
        c->a = a;
        int32_t *r = PyMem_Realloc(c->r, (size_t)cap * 3 * sizeof *r);
        if (r == NULL) return -1;
        c->r = r;
        c->cap = cap;
    }
    c->a[c->n] = a;
    c->r[3 * c->n] = (int32_t)f;
    c->r[3 * c->n + 1] = (int32_t)l;
    c->r[3 * c->n + 2] = (int32_t)k;
    c->n++;
    return 0;
}

/* A LEB128 at *pos (``sign``: SLEB128); 1 when it reads past len or its value is beyond
 * +-2^62 (Python: IndexError, or a big int we do not pack). Redundant zero continuation
 * bytes are fine, as in Python. */
static int leb(const unsigned char *d, Py_ssize_t len, Py_ssize_t *pos, int64_t *out,
               int sign) {
    uint64_t v = 0;
    unsigned shift = 0, b;
    for (;;) {
        if (*pos >= len) return 1;
        b = d[(*pos)++];
        uint64_t bits = b & 0x7F;
        if (bits) {
            if (shift >= 62) return 1;
            v |= bits << shift;                    /* shift <= 56: no bit lost */
        }
        shift += 7;
        if (b < 0x80) break;
        if (shift > 4096) return 1;                /* absurd padding: let Python decide */
    }
    if (sign && (b & 0x40)) {
        if (shift >= 62) return 1;                 /* a huge negative number */
        int64_t r = (int64_t)v - ((int64_t)1 << shift);
        if (r <= -BIG) return 1;
        *out = r;
        return 0;
    }
    if (v >= (uint64_t)BIG) return 1;
    *out = (int64_t)v;
    return 0;
}

#define uleb(d, len, pos, out) leb(d, len, pos, out, 0)
#define sleb(d, len, pos, out) leb(d, len, pos, out, 1)

/* int.from_bytes(d[a:b], order) with Python's slice clipping; 1 if it does not fit 64 bits. */
static int from_bytes(const unsigned char *d, Py_ssize_t len, Py_ssize_t a, Py_ssize_t b,
                      int little, uint64_t *out) {
    if (a > len) a = len;
    if (b > len) b = len;
    uint64_t v = 0;
    for (Py_ssize_t i = 0; i < b - a; i++) {
        unsigned char c = little ? d[b - 1 - i] : d[a + i];   /* most significant first */
        if (v >> 56) return 1;
        v = (v << 8) | c;
    }
    *out = v;
    return 0;
}

static int seq_cmp(const void *x, const void *y) {
    const Seq *p = x, *q = y;
    if (p->first != q->first) return p->first < q->first ? -1 : 1;
    if (p->last != q->last) return p->last < q->last ? -1 : 1;
    return p->order < q->order ? -1 : p->order > q->order;   /* list.sort is stable */
}

/* 0 done; 1 fall back to Python; -1 a Python error (memory) is set. */
static int run(const unsigned char *d, Py_ssize_t len, Py_ssize_t pos, Py_ssize_t end,
               int64_t min_inst, int64_t max_ops, int64_t line_base, int64_t line_range,
               int64_t opcode_base, const unsigned char *std, Py_ssize_t nstd, int little,
               Col *rows, Seq **seqs_out, Py_ssize_t *nseq_out) {
    Seq *seqs = NULL;
    Py_ssize_t nseq = 0, capseq = 0, seq_start = 0;
    uint64_t address = 0;
    int64_t op_index = 0, file = 1, line = 1, col = 0, v;
    int vliw = max_ops > 1, rc = 1;
#define FAIL do { rc = 1; goto out; } while (0)
#define ADVANCE(n) do {                                                            \
        uint64_t step_;                                                            \
        if (vliw) {                                                                \
            int64_t adv_ = op_index + (n);                                         \
            step_ = (uint64_t)(adv_ / max_ops);                                    \
            op_index = adv_ % max_ops;                                             \
        } else {                                                                   \
            step_ = (uint64_t)(n);                                                 \
        }                                                                          \
        if (min_inst && step_ > UINT64_MAX / (uint64_t)min_inst) FAIL;            \
        step_ *= (uint64_t)min_inst;                                               \
        if (address + step_ < address) FAIL;       /* Python: past 2^64, a big int */ \
        address += step_;                                                          \
    } while (0)
#define EMIT() do {                                                                \
        if (rows->n > seq_start && rows->a[rows->n - 1] == address) {              \
            if (file < INT32_MIN || file > INT32_MAX || line < INT32_MIN           \
                || line > INT32_MAX || col < INT32_MIN || col > INT32_MAX) FAIL;   \
            int32_t *r_ = rows->r + 3 * (rows->n - 1);                             \
            r_[0] = (int32_t)file; r_[1] = (int32_t)line; r_[2] = (int32_t)col;    \
        } else {                                                                   \
            int e_ = col_push(rows, address, file, line, col);                     \
            if (e_) { rc = e_; goto out; }                                         \
        }                                                                          \
    } while (0)
#define CLOSE() do {                                                               \
        if (nseq == capseq) {                                                      \
            Py_ssize_t c_ = capseq ? capseq * 2 : 16;                              \
            Seq *s_ = PyMem_Realloc(seqs, (size_t)c_ * sizeof *s_);                \
            if (s_ == NULL) { PyErr_NoMemory(); rc = -1; goto out; }               \
            seqs = s_; capseq = c_;                                                \
        }                                                                          \
        seqs[nseq].start = seq_start;                                              \
        seqs[nseq].n = rows->n - seq_start;                                        \
        seqs[nseq].first = rows->a[seq_start];                                     \
        seqs[nseq].last = rows->a[rows->n - 1];                                    \
        seqs[nseq].order = nseq;                                                   \
        nseq++;                                                                    \
        seq_start = rows->n;                                                       \
    } while (0)

    while (pos < end) {
        if (pos >= len) FAIL;
        int64_t op = d[pos++];
        if (op >= opcode_base) {                   /* special opcode */
            int64_t adj = op - opcode_base;
            ADVANCE(adj / line_range);
            line += line_base + adj % line_range;
            if (line >= BIG || line <= -BIG) FAIL;
            EMIT();
        } else if (op == 5) {                      /* set_column */
            if (uleb(d, len, &pos, &col)) FAIL;
        } else if (op == 6) {                      /* negate_stmt */
        } else if (op == 1) {                      /* copy */
            EMIT();
        } else if (op == 3) {                      /* advance_line */
            if (sleb(d, len, &pos, &v)) FAIL;
            line += v;
            if (line >= BIG || line <= -BIG) FAIL;
        } else if (op == 4) {                      /* set_file */
            if (uleb(d, len, &pos, &file)) FAIL;
        } else if (op == 0) {                      /* extended */
            int64_t n;
            if (uleb(d, len, &pos, &n)) FAIL;
            if (n > PY_SSIZE_T_MAX - pos - 1) FAIL;
            int sub = 0;
            if (n) {
                if (pos >= len) FAIL;
                sub = d[pos];
            }
            if (sub == 1) {                        /* end_sequence */
                if (rows->n > seq_start && rows->a[rows->n - 1] == address) rows->n--;
                int e = col_push(rows, address, -1, 0, 0);
                if (e) { rc = e; goto out; }
                CLOSE();
                address = 0; op_index = 0; file = 1; line = 1; col = 0;
            } else if (sub == 2) {                 /* set_address */
                uint64_t a;
                if (from_bytes(d, len, pos + 1, pos + n, little, &a)) FAIL;
                address = a;
                op_index = 0;
            }
            pos += n;
        } else if (op == 2) {                      /* advance_pc */
            if (uleb(d, len, &pos, &v)) FAIL;
            ADVANCE(v);
        } else if (op == 8) {                      /* const_add_pc */
            ADVANCE((255 - opcode_base) / line_range);
        } else if (op == 9) {                      /* fixed_advance_pc */
            uint64_t a;
            if (from_bytes(d, len, pos, pos + 2, little, &a)) FAIL;
            if (address + a < address) FAIL;
            address += a;
            op_index = 0;
            pos += 2;
        } else if (op == 7 || op == 10 || op == 11) {
        } else if (op == 12) {                     /* set_isa */
            if (uleb(d, len, &pos, &v)) FAIL;
        } else {                                   /* a producer's opcode: skip its ulebs */
            if (op - 1 >= nstd) FAIL;              /* Python: IndexError */
            for (int i = 0; i < std[op - 1]; i++)
                if (uleb(d, len, &pos, &v)) FAIL;
        }
    }
    if (rows->n > seq_start) CLOSE();
    rc = 0;
out:
    if (rc) { PyMem_Free(seqs); seqs = NULL; nseq = 0; }
    *seqs_out = seqs;
    *nseq_out = nseq;
    return rc;
#undef FAIL
#undef ADVANCE
#undef EMIT
#undef CLOSE
}

/* bisect.bisect_right(a[lo:hi], last - 1) + lo, the same probes on unsorted input too. */
static Py_ssize_t bisect_before(const uint64_t *a, Py_ssize_t n, uint64_t last) {
    Py_ssize_t lo = 0, hi = n;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (last <= a[mid]) hi = mid;              /* last - 1 < a[mid] */
        else lo = mid + 1;
    }
    return lo;
}

static PyObject *line_table(PyObject *self, PyObject *args) {
    Py_buffer buf, stdb;
    Py_ssize_t pos, end;
    long long min_inst, max_ops, line_base, line_range, opcode_base;
    int little;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*nnLLLLLy*p", &buf, &pos, &end, &min_inst, &max_ops,
                          &line_base, &line_range, &opcode_base, &stdb, &little))
        return NULL;
    PyObject *result = NULL;
    Col rows = {0}, merged = {0};
    Seq *seqs = NULL;
    Py_ssize_t nseq = 0;
    if (pos < 0 || line_range <= 0 || opcode_base <= 0 || max_ops <= 0 || min_inst < 0
        || min_inst > 255 || max_ops > 255 || line_range > 255 || opcode_base > 255
        || line_base < -128 || line_base > 127) {
        result = Py_None;
        Py_INCREF(result);
        goto done;
    }
    int rc = run(buf.buf, buf.len, pos, end, min_inst, max_ops, line_base, line_range,
                 opcode_base, stdb.buf, stdb.len, little, &rows, &seqs, &nseq);
    if (rc < 0) {
        if (!PyErr_Occurred()) PyErr_NoMemory();
        goto done;
    }
    if (rc > 0) {
        result = Py_None;
        Py_INCREF(result);
        goto done;
    }
    qsort(seqs, (size_t)nseq, sizeof *seqs, seq_cmp);
    for (Py_ssize_t s = 0; s < nseq; s++) {
        const uint64_t *a = rows.a + seqs[s].start;
        const int32_t *r = rows.r + 3 * seqs[s].start;
        Py_ssize_t n = seqs[s].n;
        if (merged.n && a[0] < merged.a[merged.n - 1]) {
            Py_ssize_t k = bisect_before(a, n, merged.a[merged.n - 1]);
            if (k >= n) continue;
            a += k;
            r += 3 * k;
            n -= k;
        }
        if (merged.n && merged.a[merged.n - 1] == a[0] && merged.r[3 * (merged.n - 1)] < 0)
            merged.n--;
        for (Py_ssize_t i = 0; i < n; i++)
            if (col_push(&merged, a[i], r[3 * i], r[3 * i + 1], r[3 * i + 2]) < 0) {
                PyErr_NoMemory();
                goto done;
            }
    }
    result = Py_BuildValue("(y#y#)", (const char *)merged.a,
                           (Py_ssize_t)(merged.n * (Py_ssize_t)sizeof(uint64_t)),
                           (const char *)merged.r,
                           (Py_ssize_t)(merged.n * 3 * (Py_ssize_t)sizeof(int32_t)));
done:
    PyMem_Free(rows.a);
    PyMem_Free(rows.r);
    PyMem_Free(merged.a);
    PyMem_Free(merged.r);
    PyMem_Free(seqs);
    PyBuffer_Release(&buf);
    PyBuffer_Release(&stdb);
    return result;
}

/* ---- the inline-chain walk (symbols/inline.py FunctionIndex._descend) -------------------
 *
 * chain() walks one function's DIEs down to the inlined subroutines covering an address,
 * the way inline.FunctionIndex.chain does in Python: the same DIEs visited in the same
 * order, siblings jumped over via DW_AT_sibling, lexical/try/catch blocks entered only when
 * they cover the address or say nothing about what they cover. It reads a unit's
 * abbreviations as the plans forms.parse_abbrevs compiled (packed by inline.py). Every read
 * is bounds-checked; anything the Python walk would fail on (a read past a section, a DIE
 * outside its unit, a sibling pointing backwards, an unknown abbreviation, nesting deeper
 * than MAX_DEPTH) or that does not fit int64 arithmetic (values beyond +-2^62) returns
 * None, and Python walks that address itself: the answers, and the errors, are the same. */

#define MAX_DEPTH 200
enum { K_FIXED, K_ULEB, K_SLEB, K_CSTR, K_BLOCK, K_CONST, K_BLOCKN, K_INDIRECT };  /* forms.py */
enum { C_DATA, C_ADDR, C_ADDRX, C_STRP, C_LINE_STRP, C_STRX, C_STR, C_REF };       /* forms.py */
enum { C_RNGLISTX = 10 };
/* the attributes the walk reads, by slot (inline._SLOTS); from S_NAME on, what the name of a
 * scope is made of (NameResolver._die_info): handed back as a dict {attribute: (class,
 * value)} with the attributes a DIE has, for Python to name it without reading it again */
enum { S_SIB, S_LOW, S_HIGH, S_RANGES, S_CFILE, S_CLINE, S_CCOL, S_NAME, NSLOT = S_NAME + 5 };
static const long NAME_AT[] = {0x03, 0x6E, 0x2007, 0x31, 0x47};  /* name, linkage_name,
                                      MIPS_linkage_name, abstract_origin, specification */
#define TAG_lexical_block 0x0B
#define TAG_inlined_subroutine 0x1D
#define TAG_catch_block 0x25
#define TAG_try_block 0x32
#define TAG_module 0x1E
#define TAG_subprogram 0x2E
#define TAG_namespace 0x39

typedef struct { int has; int64_t cls, v; } Val;
typedef struct {
    const unsigned char *info, *rng, *rl, *ad;   /* .debug_info/ranges/rnglists/addr */
    Py_ssize_t ilen, rlen, rllen, alen;
    const int64_t *plan;
    Py_ssize_t nplan;
    int64_t uoff, lo, end, base, addr_base, rl_base, addr;
    int version, asz, osz, little;
    PyObject *out;
    PyObject *spans;        /* top(): every range is appended here as (lo, hi, die) */
    Py_ssize_t die;
} Walk;

/* unsigned int of n (1..8) bytes at pos of d; 1 if any byte is outside d. */
static int rd_raw(const unsigned char *d, Py_ssize_t len, int64_t pos, int64_t n, int little,
                  uint64_t *out) {
    if (pos < 0 || n < 1 || n > 8 || pos > (int64_t)len - n) return 1;
    uint64_t v = 0;
    for (int64_t i = 0; i < n; i++)
        v = (v << 8) | d[little ? pos + n - 1 - i : pos + i];
    *out = v;
    return 0;
}

/* the same, below 2^62 (so sums of two values never overflow) */
static int rd(const unsigned char *d, Py_ssize_t len, int64_t pos, int64_t n, int little,
              int64_t *out) {
    uint64_t v;
    if (rd_raw(d, len, pos, n, little, &v) || v >= (uint64_t)BIG) return 1;
    *out = (int64_t)v;
    return 0;
}

static int leb_skip(const unsigned char *d, Py_ssize_t len, Py_ssize_t *pos) {
    for (;;) {
        if (*pos >= len) return 1;
        if (d[(*pos)++] < 0x80) return 0;
    }
}

/* The plan of an abbreviation code: [tag, has_children, nsteps, (slot, kind, size, class)
 * * nsteps], or NULL (Python: KeyError). */
static const int64_t *plan_of(const Walk *w, int64_t code) {
    if (w->nplan < 1 || code < 1 || code > w->plan[0] || code >= w->nplan) return NULL;
    int64_t off = w->plan[code];
    if (off < 1 || off > w->nplan - 3) return NULL;
    const int64_t *e = w->plan + off;
    if (e[2] < 0 || e[2] > (w->nplan - off - 3) / 4) return NULL;
    return e;
}

/* forms.read_die: the DIE at *pos, its plan (NULL for a null entry) and the attributes the
 * walk reads (the last of each wins, as in Python's dict). */
static int read_die(const Walk *w, Py_ssize_t *pos, const int64_t **plan, Val *a) {
    const unsigned char *d = w->info;
    Py_ssize_t len = w->ilen;
    int64_t code;
    if (uleb(d, len, pos, &code)) return 1;
    if (code == 0) { *plan = NULL; return 0; }
    const int64_t *e = plan_of(w, code);
    if (e == NULL) return 1;
    memset(a, 0, NSLOT * sizeof *a);
    const int64_t *st = e + 3;
    for (int64_t i = 0; i < e[2]; i++, st += 4) {
        int64_t slot = st[0], kind = st[1], size = st[2], cls = st[3], n;
        Val *v = slot >= 0 && slot < NSLOT ? a + slot : NULL;
        switch (kind) {
        case K_FIXED:
            if (size < 0 || size > (int64_t)len - *pos) return 1;
            if (v) {
                if (rd(d, len, *pos, size, w->little, &v->v)) return 1;
                v->has = 1; v->cls = cls;
            }
            *pos += size;
            break;
        case K_ULEB:
        case K_SLEB:
            if (v) {
                if (leb(d, len, pos, &v->v, kind == K_SLEB)) return 1;
                v->has = 1; v->cls = cls;
            } else if (leb_skip(d, len, pos)) return 1;
            break;
        case K_CSTR: {
            if (*pos >= len) return 1;
            const unsigned char *z = memchr(d + *pos, 0, (size_t)(len - *pos));
            if (z == NULL) return 1;
            if (v) { v->has = 1; v->cls = C_STR; v->v = *pos; }
            *pos = z - d + 1;
            break;
        }
        case K_CONST:
            if (v) {
                if (size <= -BIG || size >= BIG) return 1;
                v->has = 1; v->cls = cls; v->v = size;
            }
            break;
        case K_BLOCK:
            if (uleb(d, len, pos, &n) || n > (int64_t)len - *pos) return 1;
            *pos += n;
            break;
        case K_BLOCKN: {
            uint64_t u;
            if (rd_raw(d, len, *pos, size, w->little, &u)) return 1;
            *pos += size;
            if (u > (uint64_t)(len - *pos)) return 1;
            *pos += (Py_ssize_t)u;
            break;
        }
        default:                                   /* DW_FORM_indirect: Python refuses it */
            return 1;
        }
    }
    *plan = e;
    return 0;
}

/* inline._sibling: the target must lie past the DIE's attributes and inside the unit */
static int sibling(const Walk *w, Py_ssize_t *pos, int64_t value) {
    int64_t target = w->uoff + value;
    if (target < *pos || target > w->end) return 1;
    *pos = (Py_ssize_t)target;
    return 0;
}

static int inside_unit(const Walk *w, Py_ssize_t pos) { return w->lo <= pos && pos < w->end; }

/* inline.FunctionIndex._skip_children */
static int skip_children(const Walk *w, Py_ssize_t *pos) {
    int depth = 1;
    Val a[NSLOT];
    const int64_t *e;
    while (depth) {
        if (!inside_unit(w, *pos)) return 1;
        if (read_die(w, pos, &e, a)) return 1;
        if (e == NULL) { depth--; continue; }
        if (!e[1]) continue;
        if (a[S_SIB].has && a[S_SIB].cls == C_REF) {
            if (sibling(w, pos, a[S_SIB].v)) return 1;
            continue;
        }
        if (++depth > MAX_DEPTH) return 1;
    }
    return 0;
}

/* inline.FunctionIndex._after: past the DIE (attributes read up to *pos) and its children */
static int after(const Walk *w, const int64_t *e, const Val *a, Py_ssize_t *pos) {
    if (!e[1]) return 0;
    if (a[S_SIB].has && a[S_SIB].cls == C_REF) return sibling(w, pos, a[S_SIB].v);
    return skip_children(w, pos);
}

/* Unit.address */
static int address(const Walk *w, const Val *v, int64_t *out) {
    if (v->cls != C_ADDRX) { *out = v->v; return 0; }
    if (v->v < 0 || v->v > w->alen) return 1;
    return rd(w->ad, w->alen, w->addr_base + v->v * w->asz, w->asz, w->little, out);
}

/* A [lo, hi) range of the DIE: noted (any, in), or appended to w->spans by top(). */
static int cover(const Walk *w, int64_t lo, int64_t hi, int *any, int *in) {
    if (hi <= lo) return 0;
    *any = 1;
    if (lo <= w->addr && w->addr < hi) *in = 1;
    if (w->spans != NULL) {
        PyObject *t = Py_BuildValue("(LLn)", (long long)lo, (long long)hi, w->die);
        if (t == NULL) return -1;
        int rc = PyList_Append(w->spans, t);
        Py_DECREF(t);
        if (rc < 0) return -1;
    }
    return 0;
}

/* Unit._rnglist, for "any range?" and "does one cover addr?" */
static int rnglist(const Walk *w, int64_t pos, int *any, int *in) {
    const unsigned char *d = w->rl;
    Py_ssize_t len = w->rllen;
    int64_t base = w->base, a, b, i, j, n = w->asz;
    if (pos < 0) return 1;
#define ADDRX(i_, out_) do {                                                       \
        if ((i_) > w->alen) return 1;                                              \
        if (rd(w->ad, w->alen, w->addr_base + (i_) * n, n, w->little, out_)) return 1; \
    } while (0)
    while (pos < len) {
        Py_ssize_t p = (Py_ssize_t)pos;
        int kind = d[p++];
        if (kind == 4) {                           /* offset_pair */
            if (uleb(d, len, &p, &a) || uleb(d, len, &p, &b)) return 1;
            a += base; b += base;
        } else if (kind == 0) {
            break;
        } else if (kind == 1) {                    /* base_addressx */
            if (uleb(d, len, &p, &i)) return 1;
            ADDRX(i, &base);
            pos = p;
            continue;
        } else if (kind == 2) {                    /* startx_endx */
            if (uleb(d, len, &p, &i) || uleb(d, len, &p, &j)) return 1;
            ADDRX(i, &a);
            ADDRX(j, &b);
        } else if (kind == 3) {                    /* startx_length */
            if (uleb(d, len, &p, &i) || uleb(d, len, &p, &j)) return 1;
            ADDRX(i, &a);
            b = a + j;
        } else if (kind == 5) {                    /* base_address */
            if (rd(d, len, p, n, w->little, &base)) return 1;
            p += n;
            pos = p;
            continue;
        } else if (kind == 6) {                    /* start_end */
            if (rd(d, len, p, n, w->little, &a) || rd(d, len, p + n, n, w->little, &b))
                return 1;
            p += 2 * n;
        } else if (kind == 7) {                    /* start_length */
            if (rd(d, len, p, n, w->little, &a)) return 1;
            p += n;
            if (uleb(d, len, &p, &j)) return 1;
            b = a + j;
        } else {
            break;
        }
        pos = p;
        if (cover(w, a, b, any, in)) return -1;
    }
#undef ADDRX
    return 0;
}

/* Unit._ranges_v4 */
static int ranges_v4(const Walk *w, int64_t pos, int *any, int *in) {
    int64_t n = w->asz, base = w->base;
    if (pos < 0 || (n != 1 && n != 2 && n != 4 && n != 8)) return 1;
    uint64_t top = n == 8 ? UINT64_MAX : ((uint64_t)1 << (8 * n)) - 1, a, b;
    while (pos + 2 * n <= w->rlen) {
        if (rd_raw(w->rng, w->rlen, pos, n, w->little, &a)
            || rd_raw(w->rng, w->rlen, pos + n, n, w->little, &b)) return 1;
        pos += 2 * n;
        if (a == 0 && b == 0) break;
        if (b >= (uint64_t)BIG) return 1;
        if (a == top) base = (int64_t)b;
        else if (b > a && cover(w, base + (int64_t)a, base + (int64_t)b, any, in)) return -1;
    }
    return 0;
}

/* Unit.extent: does the DIE cover any range, and one holding addr? 0 done, 1 leave it to
 * Python, -1 a Python error is set (as everywhere below). */
static int extent(const Walk *w, const Val *a, int *any, int *in) {
    *any = *in = 0;
    if (a[S_LOW].has) {
        int64_t lo, hi;
        if (!a[S_HIGH].has) return 0;
        if (address(w, a + S_LOW, &lo)) return 1;
        if (a[S_HIGH].cls == C_ADDR || a[S_HIGH].cls == C_ADDRX) {
            if (address(w, a + S_HIGH, &hi)) return 1;
        } else {
            hi = lo + a[S_HIGH].v;
        }
        return cover(w, lo, hi, any, in);
    }
    if (!a[S_RANGES].has) return 0;
    int64_t off = a[S_RANGES].v;
    if (w->version >= 5) {
        if (a[S_RANGES].cls == C_RNGLISTX) {
            int64_t rel;
            if (off < 0 || off > w->rllen) return 1;
            if (rd(w->rl, w->rllen, w->rl_base + off * w->osz, w->osz, w->little, &rel))
                return 1;
            off = w->rl_base + rel;
        }
        return rnglist(w, off, any, in);
    }
    return ranges_v4(w, off, any, in);
}

/* (die, call_file, call_line, call_column, naming attributes) appended to w->out */
static int scope(Walk *w, Py_ssize_t die, const Val *a, int inlined) {
    PyObject *names = PyDict_New();
    if (names == NULL) return -1;
    for (int s = 0; s < NSLOT - S_NAME; s++) {
        const Val *v = a + S_NAME + s;
        if (!v->has) continue;
        PyObject *k = PyLong_FromLong(NAME_AT[s]);
        PyObject *t = Py_BuildValue("(LL)", (long long)v->cls, (long long)v->v);
        int bad = k == NULL || t == NULL || PyDict_SetItem(names, k, t) < 0;
        Py_XDECREF(k);
        Py_XDECREF(t);
        if (bad) { Py_DECREF(names); return -1; }
    }
    /* attrs.get(AT_call_*, (0, 0))[1], whatever its class (a function: 0, 0, 0) */
    PyObject *t = Py_BuildValue("(nLLLN)", die,
                                (long long)(inlined && a[S_CFILE].has ? a[S_CFILE].v : 0),
                                (long long)(inlined && a[S_CLINE].has ? a[S_CLINE].v : 0),
                                (long long)(inlined && a[S_CCOL].has ? a[S_CCOL].v : 0), names);
    if (t == NULL) return -1;
    int rc = PyList_Append(w->out, t);
    Py_DECREF(t);
    return rc < 0 ? -1 : 0;
}

/* inline.FunctionIndex._descend: *next is the position after the children list, or -1
 * (Python: None) once the innermost scope at addr is found. */
static int descend(Walk *w, Py_ssize_t pos, int depth, Py_ssize_t *next) {
    Val a[NSLOT];
    const int64_t *e;
    if (depth > MAX_DEPTH) return 1;
    for (;;) {
        Py_ssize_t start = pos;
        if (!inside_unit(w, pos)) return 1;
        if (read_die(w, &pos, &e, a)) return 1;
        if (e == NULL) { *next = pos; return 0; }
        int64_t tag = e[0];
        int block = tag == TAG_lexical_block || tag == TAG_try_block || tag == TAG_catch_block;
        if (tag == TAG_inlined_subroutine || (block && e[1])) {
            int any, in;
            int rc = extent(w, a, &any, &in);
            if (rc) return rc;
            if (tag == TAG_inlined_subroutine) {
                if (in) {
                    if (scope(w, start, a, 1) < 0) return -1;
                    *next = -1;
                    if (e[1]) {
                        Py_ssize_t ignored;
                        return descend(w, pos, depth + 1, &ignored);
                    }
                    return 0;
                }
            } else if (in || !any) {
                Py_ssize_t nxt;
                int rc = descend(w, pos, depth + 1, &nxt);
                if (rc) return rc;
                if (nxt < 0 || in) { *next = -1; return 0; }
                pos = nxt;
                continue;
            }
        }
        if (after(w, e, a, &pos)) return 1;
    }
}

/* inline.FunctionIndex._walk_top: the concrete functions at the top of a unit (inside
 * namespaces and modules too) with their ranges, (lo, hi, die) in DIE order. */
static int walk_top(Walk *w, Py_ssize_t pos) {
    Val a[NSLOT];
    const int64_t *e;
    int depth = 1;
    while (depth && pos < w->end) {
        Py_ssize_t start = pos;
        if (read_die(w, &pos, &e, a)) return 1;
        if (e == NULL) { depth--; continue; }
        int64_t tag = e[0];
        if (tag == TAG_subprogram) {
            int any, in;
            w->die = start;
            int rc = extent(w, a, &any, &in);
            if (rc) return rc;
        } else if ((tag == TAG_namespace || tag == TAG_module) && e[1]) {
            if (++depth > MAX_DEPTH) return 1;
            continue;
        }
        if (after(w, e, a, &pos)) return 1;
    }
    return 0;
}

/* The arguments both entry points share: the sections, the unit's plans and numbers. */
#define UNIT_FORMAT "y*y*y*y*y*LLLiiipLLL"
#define UNIT_ARGS &info, &rng, &rl, &ad, &plan, &uoff, &lo, &end, &version, &asz, &osz, \
    &little, &base, &abase, &rlbase
#define UNIT_DECL Py_buffer info, rng, rl, ad, plan; \
    long long uoff, lo, end, base, abase, rlbase; \
    int version, asz, osz, little
#define UNIT_OK(w) ((uintptr_t)plan.buf % sizeof(int64_t) == 0                     \
    && plan.len % (Py_ssize_t)sizeof(int64_t) == 0 && uoff >= 0 && lo >= uoff       \
    && end >= lo && end <= info.len && base >= 0 && base < BIG && abase >= 0         \
    && abase < BIG && rlbase >= 0 && rlbase < BIG && asz >= 1 && asz <= 8 && osz >= 1 \
    && osz <= 8)
#define UNIT_WALK {info.buf, rng.buf, rl.buf, ad.buf, info.len, rng.len, rl.len, ad.len,    \
    plan.buf, plan.len / (Py_ssize_t)sizeof(int64_t), uoff, lo, end, base, abase, rlbase, \
    -1, version, asz, osz, little, NULL, NULL, 0}
#define UNIT_RELEASE do { PyBuffer_Release(&info); PyBuffer_Release(&rng);                \
    PyBuffer_Release(&rl); PyBuffer_Release(&ad); PyBuffer_Release(&plan); } while (0)

static PyObject *top(PyObject *self, PyObject *args) {
    UNIT_DECL;
    Py_ssize_t pos;
    (void)self;
    if (!PyArg_ParseTuple(args, UNIT_FORMAT "n", UNIT_ARGS, &pos)) return NULL;
    PyObject *result = NULL;
    Walk w = UNIT_WALK;
    if (!UNIT_OK(w) || pos < 0 || pos > info.len) {
        result = Py_None;
        Py_INCREF(result);
        goto done;
    }
    w.spans = PyList_New(0);
    if (w.spans == NULL) goto done;
    int rc = walk_top(&w, pos);
    if (rc == 0) {
        result = w.spans;
        w.spans = NULL;
    } else if (rc > 0) {
        result = Py_None;
        Py_INCREF(result);
    }
    Py_XDECREF(w.spans);
done:
    UNIT_RELEASE;
    return result;
}

static PyObject *chain(PyObject *self, PyObject *args) {
    UNIT_DECL;
    long long die, addr;
    int o1 = 0, o2 = 0;
    PyObject *die_o, *addr_o;
    (void)self;
    if (!PyArg_ParseTuple(args, UNIT_FORMAT "OO", UNIT_ARGS, &die_o, &addr_o)) return NULL;
    PyObject *result = NULL;
    Walk w = UNIT_WALK;
    die = PyLong_AsLongLongAndOverflow(die_o, &o1);
    addr = PyLong_AsLongLongAndOverflow(addr_o, &o2);
    if (PyErr_Occurred()) goto done;
    if (o1 || o2) die = addr = -1;                 /* beyond 64 bits: Python's */
    w.addr = addr;
    if (!UNIT_OK(w) || die < 0 || die >= info.len || addr < 0 || addr >= BIG) {
        result = Py_None;
        Py_INCREF(result);
        goto done;
    }
    w.out = PyList_New(0);
    if (w.out == NULL) goto done;
    Py_ssize_t pos = (Py_ssize_t)die, ignored;
    Val a[NSLOT];
    const int64_t *e;
    int rc = read_die(&w, &pos, &e, a);
    if (rc == 0) {
        if (e == NULL) memset(a, 0, sizeof a);  /* a null entry: a function without a name */
        rc = scope(&w, (Py_ssize_t)die, a, 0);
    }
    if (rc == 0 && e != NULL && e[1]) rc = descend(&w, pos, 1, &ignored);
    if (rc == 0) {
        result = w.out;
        w.out = NULL;
    } else if (rc > 0) {
        result = Py_None;
        Py_INCREF(result);
    }
    Py_XDECREF(w.out);
done:
    UNIT_RELEASE;
    return result;
}

static PyMethodDef methods[] = {
    {"line_table", line_table, METH_VARARGS,
     "line_table(data, pos, end, min_inst, max_ops, line_base, line_range, opcode_base, "
     "std_lengths, little) -> (addresses as uint64 bytes, rows as int32 (file, line, column) "
     "bytes), or None: decode this one in Python."},
    {"chain", chain, METH_VARARGS,
     "chain(info, ranges, rnglists, addr_section, plans, unit_offset, first_die, unit_end, "
     "version, addr_size, offset_size, little, base_address, addr_base, rnglists_base, "
     "function_die, addr) -> [(die, call_file, call_line, call_column, naming attributes)] "
     "of the function and the inlined subroutines covering addr, outermost first, or None: "
     "walk this one in Python."},
    {"top", top, METH_VARARGS,
     "top(<the unit arguments of chain>, pos) -> [(lo, hi, die)] of the functions at the top "
     "of the unit from pos, in DIE order, or None: walk this unit in Python."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_dwarf",
    "C loops of the pure DWARF engine (optional; see memsleuth.symbols.lines).", -1, methods};

PyMODINIT_FUNC PyInit__dwarf(void) {
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddIntConstant(m, "ABI", DWARF_ABI) < 0) { Py_DECREF(m); return NULL; }
    return m;
}
