/* memsleuth._dwarf: the optional C half of the pure DWARF engine (memsleuth/symbols/lines.py).
 *
 * line_table() runs one unit's line-number program and merges its sequences exactly as
 * lines._run + lines._merge do (the tests compare the two on every unit of every committed
 * ELF and on mutated line programs). Decoding a 3 MB .debug_line takes ~0.35 s in Python
 * and a few ms here. Anything the Python loop would fail on (a read past the section) or
 * that does not fit the packed columns (values beyond int32 / 2^62) returns None, and
 * Python decodes that unit itself: so the answers, and the errors, are the same either way.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DWARF_ABI 1
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

/* ULEB128 at *pos; 1 when it reads past len or its value is >= 2^62 (Python: IndexError,
 * or a big int we do not pack). Redundant zero continuation bytes are fine, as in Python. */
static int uleb(const unsigned char *d, Py_ssize_t len, Py_ssize_t *pos, int64_t *out) {
    uint64_t v = 0;
    unsigned shift = 0;
    for (;;) {
        if (*pos >= len) return 1;
        unsigned b = d[(*pos)++];
        uint64_t bits = b & 0x7F;
        if (bits) {
            if (shift >= 62 || (bits << shift) >> shift != bits) return 1;
            v |= bits << shift;
            if (v >= (uint64_t)BIG) return 1;
        }
        if (b < 0x80) { *out = (int64_t)v; return 0; }
        shift += 7;
        if (shift > 4096) return 1;               /* absurd padding: let Python decide */
    }
}

static int sleb(const unsigned char *d, Py_ssize_t len, Py_ssize_t *pos, int64_t *out) {
    uint64_t v = 0;
    unsigned shift = 0;
    for (;;) {
        if (*pos >= len) return 1;
        unsigned b = d[(*pos)++];
        uint64_t bits = b & 0x7F;
        if (shift < 62) v |= bits << shift;
        else if (bits) return 1;
        shift += 7;
        if (b < 0x80) {
            if (b & 0x40) {
                if (shift >= 62) return 1;         /* a huge negative number */
                int64_t r = (int64_t)v - ((int64_t)1 << shift);
                if (r <= -BIG) return 1;
                *out = r;
            } else {
                if (v >= (uint64_t)BIG) return 1;
                *out = (int64_t)v;
            }
            return 0;
        }
        if (shift > 4096) return 1;
    }
}

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

static PyMethodDef methods[] = {
    {"line_table", line_table, METH_VARARGS,
     "line_table(data, pos, end, min_inst, max_ops, line_base, line_range, opcode_base, "
     "std_lengths, little) -> (addresses as uint64 bytes, rows as int32 (file, line, column) "
     "bytes), or None: decode this one in Python."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_dwarf",
    "C loops of the pure DWARF engine (optional; see memsleuth.symbols.lines).", -1, methods};

PyMODINIT_FUNC PyInit__dwarf(void) {
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddIntConstant(m, "ABI", DWARF_ABI) < 0) { Py_DECREF(m); return NULL; }
    return m;
}
