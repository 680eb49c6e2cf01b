/* memsleuth._scan: the optional C half of the scanning fast path (memsleuth/parse/scan.py).
 *
 * Loops that cost a few microseconds per line in Python:
 *   obj_run   - a run of strict [MSOBJ] lines -> ObjectEvent records (or just their count);
 *   skip_inert - consecutive lines of printable ASCII that hold none of the readers' anchors;
 *   run, blocks, dump_run - idle stretches and block-dump lines the scanner reads in bulk;
 *   prefix_count - the lines normalize() finds a prefix on (its prefixes, matched by hand).
 * Each accepts exactly what the Python fast path accepts (the tests compare the two on every
 * committed log and on mutated ones); anything else stops the loop and Python decides.
 * Only 1-byte (latin-1/ASCII) strings are scanned; others return at once.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdint.h>
#include <string.h>

/* The readers' anchors (scan.Plan.inert_words: 66 with every RTOS reader registered). */
#define MAX_ANCHORS 512

/* Bumped when parse/scan.py starts to rely on a new call (accel.ABI says which it needs). */
#define SCAN_ABI 5

static PyObject *str_create, *str_delete, *kind_cache;

static int is_hex(unsigned char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

static unsigned long long hex_value(const unsigned char *p, Py_ssize_t n) {
    unsigned long long v = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        v = (v << 4) | (unsigned long long)(p[i] <= '9' ? p[i] - '0' : p[i] - 'a' + 10);
    return v;
}

/* One strict line at p: "[MSOBJ] (create|delete) KIND 0xH caller 0xH seq D\n".
 * Fills the fields and returns the position after '\n', or NULL if the line is not strict. */
typedef struct {
    int create;
    const unsigned char *kind; Py_ssize_t kind_len;
    const unsigned char *handle; Py_ssize_t handle_len;
    const unsigned char *caller; Py_ssize_t caller_len;
    const unsigned char *seq; Py_ssize_t seq_len;
} ObjLine;

/* Whether p holds the n bytes of s (n a constant at each call: the compiler compares them
 * in a word or two, not through a memcmp call; ~9 million [MSOBJ] lines in a 1 GB log). */
static inline int at(const unsigned char *p, const char *s, size_t n) {
    return __builtin_memcmp(p, s, n) == 0;
}

/* Length of a run of lowercase hex digits at p, up to max (bounded by end). */
static inline Py_ssize_t hex_len_max(const unsigned char *p, const unsigned char *end,
                                     Py_ssize_t max) {
    Py_ssize_t n = 0, lim = end - p < max ? end - p : max;
    while (n < lim && is_hex(p[n])) n++;
    return n;
}

static const unsigned char *obj_line(const unsigned char *p, const unsigned char *end, ObjLine *o) {
    /* shorter than the shortest strict line ("[MSOBJ] create k 0x" 8 digits " caller 0x"
     * 8 digits " seq 0\n": 52 bytes): not one */
    if (end - p < 52 || !at(p, "[MSOBJ] ", 8)) return NULL;
    p += 8;
    if (at(p, "create ", 7)) o->create = 1;
    else if (at(p, "delete ", 7)) o->create = 0;
    else return NULL;
    p += 7;
    o->kind = p;
    if (*p < 'a' || *p > 'z') return NULL;
    p++;
    while (p < end && ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) p++;
    o->kind_len = p - o->kind;
    if (o->kind_len > 16 || end - p < 3 || !at(p, " 0x", 3)) return NULL;
    p += 3;
    o->handle = p;
    o->handle_len = hex_len_max(p, end, 17);
    if (o->handle_len != 8 && o->handle_len != 16) return NULL;
    p += o->handle_len;
    if (end - p < 10 || !at(p, " caller 0x", 10)) return NULL;
    p += 10;
    o->caller = p;
    o->caller_len = hex_len_max(p, end, 17);
    if (o->caller_len != 8 && o->caller_len != 16) return NULL;
    p += o->caller_len;
    if (end - p < 5 || !at(p, " seq ", 5)) return NULL;
    p += 5;
    o->seq = p;
    while (p < end && *p >= '0' && *p <= '9') p++;
    o->seq_len = p - o->seq;
    if (o->seq_len == 0 || p >= end || *p != '\n') return NULL;
    return p + 1;
}

static PyObject *kind_str(const unsigned char *s, Py_ssize_t n) {
    PyObject *key = PyUnicode_FromStringAndSize((const char *)s, n);
    if (key == NULL) return NULL;
    PyObject *hit = PyDict_GetItemWithError(kind_cache, key);
    if (hit != NULL) { Py_INCREF(hit); Py_DECREF(key); return hit; }
    if (PyErr_Occurred()) { Py_DECREF(key); return NULL; }
    /* bounded: a log with endless distinct kinds must not grow memory here */
    if (PyDict_GET_SIZE(kind_cache) < 1024 && PyDict_SetItem(kind_cache, key, key) < 0) {
        Py_DECREF(key);
        return NULL;
    }
    return key;
}


/* The decimal digits d[0..n) as a Python int (any length: object sequence numbers and cycle
 * indexes are printed by firmware, and may be longer than a C integer). */
static PyObject *decimal_long(const unsigned char *d, Py_ssize_t n) {
    if (n > 0 && n <= 18) {                 /* fits a long long: no string to parse */
        long long v = 0;
        for (Py_ssize_t i = 0; i < n; i++) v = v * 10 + (d[i] - '0');
        return PyLong_FromLongLong(v);
    }
    char digits[64];
    if (n >= (Py_ssize_t)sizeof digits) {
        PyObject *s = PyUnicode_FromStringAndSize((const char *)d, n);
        PyObject *v = s ? PyLong_FromUnicodeObject(s, 10) : NULL;
        Py_XDECREF(s);
        return v;
    }
    memcpy(digits, d, (size_t)n);
    digits[n] = 0;
    return PyLong_FromString(digits, NULL, 10);
}


static PyObject *make_obj(const ObjLine *o, Py_ssize_t lineno, PyObject *factory) {
    PyObject *seq = decimal_long(o->seq, o->seq_len);
    PyObject *kind = kind_str(o->kind, o->kind_len);
    PyObject *handle = PyLong_FromUnsignedLongLong(hex_value(o->handle, o->handle_len));
    PyObject *caller = PyLong_FromUnsignedLongLong(hex_value(o->caller, o->caller_len));
    PyObject *line = PyLong_FromSsize_t(lineno);
    PyObject *rec = NULL;
    if (seq && kind && handle && caller && line)
        rec = PyObject_CallFunctionObjArgs(factory, line, o->create ? str_create : str_delete,
                                           kind, handle, caller, seq, Py_None, Py_None, NULL);
    Py_XDECREF(seq); Py_XDECREF(kind); Py_XDECREF(handle); Py_XDECREF(caller);
    Py_XDECREF(line);
    return rec;
}

/* obj_run(text, pos, lineno, factory or None) -> (end, lineno, list or None) */
static PyObject *obj_run(PyObject *self, PyObject *args) {
    PyObject *text, *factory;
    Py_ssize_t pos, lineno;
    if (!PyArg_ParseTuple(args, "UnnO", &text, &pos, &lineno, &factory)) return NULL;
    if (PyUnicode_KIND(text) != PyUnicode_1BYTE_KIND || pos < 0)
        return Py_BuildValue("nnO", pos, lineno, Py_None);
    const unsigned char *base = PyUnicode_1BYTE_DATA(text);
    const unsigned char *end = base + PyUnicode_GET_LENGTH(text);
    const unsigned char *p = base + pos;
    PyObject *out = factory == Py_None ? NULL : PyList_New(0);
    if (factory != Py_None && out == NULL) return NULL;
    ObjLine o;
    const unsigned char *next;
    while (p < end && (next = obj_line(p, end, &o)) != NULL) {
        lineno++;
        if (out != NULL) {
            PyObject *rec = make_obj(&o, lineno, factory);
            if (rec == NULL || PyList_Append(out, rec) < 0) { Py_XDECREF(rec); Py_DECREF(out); return NULL; }
            Py_DECREF(rec);
        }
        p = next;
    }
    PyObject *res = Py_BuildValue("nnO", (Py_ssize_t)(p - base), lineno, out ? out : Py_None);
    Py_XDECREF(out);
    return res;
}

/* skip_inert(text, pos, anchors: tuple of lowercase ASCII str) -> (end, lines skipped)
 * Skips whole lines (each ending in '\n') of printable ASCII and tabs that contain none of
 * the anchors, ignoring case; stops at the first other line. */
static PyObject *skip_inert(PyObject *self, PyObject *args) {
    PyObject *text, *anchors;
    Py_ssize_t pos;
    if (!PyArg_ParseTuple(args, "UnO!", &text, &pos, &PyTuple_Type, &anchors)) return NULL;
    if (PyUnicode_KIND(text) != PyUnicode_1BYTE_KIND || pos < 0)
        return Py_BuildValue("nn", pos, (Py_ssize_t)0);
    Py_ssize_t na = PyTuple_GET_SIZE(anchors);
    const char *a[MAX_ANCHORS];
    Py_ssize_t alen[MAX_ANCHORS];
    unsigned char first[256];
    memset(first, 0, sizeof first);
    if (na > MAX_ANCHORS) return Py_BuildValue("nn", pos, (Py_ssize_t)0);
    for (Py_ssize_t i = 0; i < na; i++) {
        PyObject *s = PyTuple_GET_ITEM(anchors, i);
        if (!PyUnicode_Check(s) || PyUnicode_KIND(s) != PyUnicode_1BYTE_KIND
                || PyUnicode_GET_LENGTH(s) == 0)
            return Py_BuildValue("nn", pos, (Py_ssize_t)0);
        a[i] = (const char *)PyUnicode_1BYTE_DATA(s);
        alen[i] = PyUnicode_GET_LENGTH(s);
        first[(unsigned char)a[i][0]] = 1;
    }
    const unsigned char *base = PyUnicode_1BYTE_DATA(text);
    const unsigned char *end = base + PyUnicode_GET_LENGTH(text);
    const unsigned char *p = base + pos;
    Py_ssize_t lines = 0;
    while (p < end) {
        const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL) break;
        int inert = 1;
        for (const unsigned char *q = p; q < nl && inert; q++) {
            unsigned char c = *q;
            if (!((c >= 0x20 && c <= 0x7e) || c == '\t')) { inert = 0; break; }
            unsigned char lc = (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
            if (!first[lc]) continue;
            for (Py_ssize_t i = 0; i < na; i++) {
                if ((unsigned char)a[i][0] != lc || nl - q < alen[i]) continue;
                Py_ssize_t k = 1;
                while (k < alen[i]) {
                    unsigned char d = q[k];
                    if (d >= 'A' && d <= 'Z') d = (unsigned char)(d + 32);
                    if (d != (unsigned char)a[i][k]) break;
                    k++;
                }
                if (k == alen[i]) { inert = 0; break; }
            }
        }
        if (!inert) break;
        lines++;
        p = nl + 1;
    }
    return Py_BuildValue("nn", (Py_ssize_t)(p - base), lines);
}


/* ---- run: the whole idle stretch between lines Python must read ------------------------ */

/* The position after the ECMA-48 CSI sequence at p (ESC '[' [0-?]* [ -/]* [@-~]), or NULL
 * when p starts another escape (normalize.strip_escapes decides those in Python). */
static const unsigned char *past_csi(const unsigned char *p, const unsigned char *nl) {
    const unsigned char *q = p + 1;
    if (q >= nl || *q != '[') return NULL;
    q++;
    while (q < nl && *q >= 0x30 && *q <= 0x3f) q++;
    while (q < nl && *q >= 0x20 && *q <= 0x2f) q++;
    if (q >= nl || *q < 0x40 || *q > 0x7e) return NULL;
    return q + 1;
}

/* Copy the line [p, nl) into buf (lowercased), dropping ECMA-48 CSI sequences exactly as
 * normalize.strip_escapes does (ESC '[' [0-?]* [ -/]* [@-~]). Returns the length, or -1 when
 * the line holds anything else that normalize would change (another escape, a control
 * character other than TAB, non-ASCII) or is longer than the buffer. */
#define LINE_MAX_CLEAN 4096
static Py_ssize_t clean_line(const unsigned char *p, const unsigned char *nl, unsigned char *buf) {
    Py_ssize_t n = 0;
    while (p < nl) {
        unsigned char c = *p;
        if (c == 0x1b) {
            if ((p = past_csi(p, nl)) == NULL) return -1;
            continue;
        }
        if (!((c >= 0x20 && c <= 0x7e) || c == '\t')) return -1;
        if (n >= LINE_MAX_CLEAN) return -1;
        buf[n++] = (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
        p++;
    }
    return n;
}

typedef struct {
    Py_ssize_t n;
    const char *a[MAX_ANCHORS];
    Py_ssize_t len[MAX_ANCHORS];
    unsigned char first[256];          /* 2: a one-character anchor; 1: a longer one */
    unsigned char pair[65536 / 8];     /* bitmap of every longer anchor's first two bytes */
    unsigned char raw[256];            /* first[] of a raw byte (any case); 4: a byte that
                                        * is not printable ASCII or TAB */
    unsigned short head[65536];        /* per first two bytes: 1 + the first such anchor */
    unsigned short next[MAX_ANCHORS];  /* 1 + the next anchor with the same two bytes */
} Anchors;

/* The anchor table is built once per tuple (a parse passes the same tuple every call). */
static PyObject *anchors_for;
static Anchors anchors_cache;

static int load_anchors(PyObject *tuple, Anchors *an) {
    an->n = PyTuple_GET_SIZE(tuple);
    memset(an->first, 0, sizeof an->first);
    memset(an->pair, 0, sizeof an->pair);
    memset(an->head, 0, sizeof an->head);
    if (an->n > MAX_ANCHORS) return 0;
    for (Py_ssize_t i = 0; i < an->n; i++) {
        PyObject *s = PyTuple_GET_ITEM(tuple, i);
        if (!PyUnicode_Check(s) || PyUnicode_KIND(s) != PyUnicode_1BYTE_KIND
                || PyUnicode_GET_LENGTH(s) == 0)
            return 0;
        const unsigned char *a = PyUnicode_1BYTE_DATA(s);
        an->a[i] = (const char *)a;
        an->len[i] = PyUnicode_GET_LENGTH(s);
        if (an->len[i] == 1) {
            an->first[a[0]] = 2;
        } else {
            if (!an->first[a[0]]) an->first[a[0]] = 1;
            unsigned k = ((unsigned)a[0] << 8) | a[1];
            an->pair[k >> 3] |= (unsigned char)(1u << (k & 7));
            an->next[i] = an->head[k];        /* (the chain's order does not matter) */
            an->head[k] = (unsigned short)(i + 1);
        }
    }
    for (unsigned c = 0; c < 256; c++) {
        unsigned char lc = (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : (unsigned char)c;
        an->raw[c] = ((c >= 0x20 && c <= 0x7e) || c == '\t') ? an->first[lc] : 4;
    }
    return 1;
}

/* load_anchors, reusing the table when the tuple is the one seen last (the tuple is kept
 * alive by the reference held here). */
static const Anchors *cached_anchors(PyObject *tuple) {
    if (anchors_for == tuple) return &anchors_cache;
    Py_XDECREF(anchors_for);
    anchors_for = NULL;
    if (!load_anchors(tuple, &anchors_cache)) return NULL;
    Py_INCREF(tuple);
    anchors_for = tuple;
    return &anchors_cache;
}

/* Does the lowercased buf hold one of the anchors? */
static int has_anchor(const unsigned char *buf, Py_ssize_t n, const Anchors *an) {
    for (Py_ssize_t j = 0; j < n; j++) {
        unsigned char f = an->first[buf[j]];
        if (!f) continue;
        if (f == 2) return 1;
        if (j + 1 >= n) continue;
        unsigned k = ((unsigned)buf[j] << 8) | buf[j + 1];
        if (!(an->pair[k >> 3] & (1u << (k & 7)))) continue;
        for (unsigned i = an->head[k]; i; i = an->next[i - 1]) {   /* those two bytes only */
            Py_ssize_t L = an->len[i - 1];
            if (n - j >= L && memcmp(buf + j, an->a[i - 1], (size_t)L) == 0)
                return 1;
        }
    }
    return 0;
}

static unsigned char lower_of(unsigned char c) {
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* has_anchor on a raw line that is printable ASCII and TAB only (nothing for clean_line to
 * drop), any case: 1 or 0; -1 when the line holds another byte (clean_line decides). */
static int raw_anchor(const unsigned char *b, Py_ssize_t n, const Anchors *an) {
    int found = 0;
    for (Py_ssize_t j = 0; j < n; j++) {
        unsigned char f = an->raw[b[j]];
        if (!f || found) {
            if (f == 4) return -1;
            continue;
        }
        if (f == 4) return -1;
        if (f == 2) { found = 1; continue; }
        if (j + 1 >= n) continue;
        unsigned k = ((unsigned)lower_of(b[j]) << 8) | lower_of(b[j + 1]);
        if (!(an->pair[k >> 3] & (1u << (k & 7)))) continue;
        for (unsigned i = an->head[k]; i && !found; i = an->next[i - 1]) {
            Py_ssize_t L = an->len[i - 1], t = 0;
            const char *a = an->a[i - 1];
            if (n - j < L) continue;
            while (t < L && lower_of(b[j + t]) == (unsigned char)a[t]) t++;
            found = t == L;
        }
    }
    return found;
}

static int has_sub(const unsigned char *buf, Py_ssize_t n, const char *s) {
    Py_ssize_t L = (Py_ssize_t)strlen(s);
    if (n < L) return 0;                    /* (buf + n - L would point before buf) */
    const unsigned char *p = buf, *last = buf + n - L;
    while (p <= last) {                     /* memchr to each place the first byte is */
        p = memchr(p, s[0], (size_t)(last - p + 1));
        if (p == NULL) return 0;
        if (memcmp(p, s, (size_t)L) == 0) return 1;
        p++;
    }
    return 0;
}

/* anchors_in(text, start, end, anchors) -> the indexes (ascending) of the anchors that occur
 * in text[start:end], any case, as a tuple; None when that line holds a byte other than
 * printable ASCII and TAB, or the anchors cannot be tabled (Python decides then). For the
 * lines outside any section that the C loops leave: whether any reader's anchor is in one
 * (else nobody reads it), and whose (scan._Solo). */
static PyObject *anchors_in(PyObject *self, PyObject *args) {
    PyObject *text, *anchors;
    Py_ssize_t start, stop;
    if (!PyArg_ParseTuple(args, "UnnO!", &text, &start, &stop, &PyTuple_Type, &anchors))
        return NULL;
    if (PyUnicode_KIND(text) != PyUnicode_1BYTE_KIND || start < 0 || stop < start
            || stop > PyUnicode_GET_LENGTH(text))
        Py_RETURN_NONE;
    const Anchors *an = cached_anchors(anchors);
    if (an == NULL) Py_RETURN_NONE;
    const unsigned char *b = PyUnicode_1BYTE_DATA(text) + start;
    Py_ssize_t n = stop - start;
    unsigned char seen[MAX_ANCHORS / 8];
    memset(seen, 0, sizeof seen);
    int found = 0;
    for (Py_ssize_t j = 0; j < n; j++) {
        unsigned char f = an->raw[b[j]];
        if (f == 4) Py_RETURN_NONE;
        if (!f) continue;
        unsigned char c = lower_of(b[j]);
        if (f == 2) {                    /* a one-character anchor (longer ones may share it) */
            for (Py_ssize_t i = 0; i < an->n; i++)
                if (an->len[i] == 1 && (unsigned char)an->a[i][0] == c) {
                    seen[i >> 3] |= (unsigned char)(1u << (i & 7));
                    found = 1;
                }
        }
        if (j + 1 >= n) continue;
        unsigned k = ((unsigned)c << 8) | lower_of(b[j + 1]);
        if (!(an->pair[k >> 3] & (1u << (k & 7)))) continue;
        for (unsigned i = an->head[k]; i; i = an->next[i - 1]) {
            Py_ssize_t L = an->len[i - 1], t = 0;
            const char *a = an->a[i - 1];
            if (n - j < L) continue;
            while (t < L && lower_of(b[j + t]) == (unsigned char)a[t]) t++;
            if (t == L) {
                seen[(i - 1) >> 3] |= (unsigned char)(1u << ((i - 1) & 7));
                found = 1;
            }
        }
    }
    if (!found) return PyTuple_New(0);
    Py_ssize_t count = 0;
    for (Py_ssize_t i = 0; i < an->n; i++) count += (seen[i >> 3] >> (i & 7)) & 1;
    PyObject *out = PyTuple_New(count);
    if (out == NULL) return NULL;
    for (Py_ssize_t i = 0, k = 0; i < an->n; i++)
        if ((seen[i >> 3] >> (i & 7)) & 1) {
            PyObject *v = PyLong_FromSsize_t(i);
            if (v == NULL) { Py_DECREF(out); return NULL; }
            PyTuple_SET_ITEM(out, k++, v);
        }
    return out;
}

/* An inert line: after CSI removal only printable ASCII/TAB, and none of the anchors. */
static int inert_line(const unsigned char *p, const unsigned char *nl, const Anchors *an,
                      unsigned char *buf, Py_ssize_t *clean_len) {
    if (clean_len == NULL && nl - p <= LINE_MAX_CLEAN) {  /* no copy needed after: in place */
        int got = raw_anchor(p, nl - p, an);
        if (got >= 0) return !got;
    }
    Py_ssize_t n = clean_line(p, nl, buf);
    if (clean_len) *clean_len = n;
    return n >= 0 && !has_anchor(buf, n, an);
}

/* A foreign line inside an overview table that the overview reader SKIPs (the line path
 * counts it in skipped_in_sections and reads nothing from it): inert, and nothing the reader
 * could take for a row, a rule, a closing or another banner ('|', '=====', '!!!!!', dashes,
 * K_MM_STATISTIC). Whether it is blank after prefix stripping is left to Python. */
static int table_foreign(const unsigned char *p, const unsigned char *nl, const Anchors *an,
                         unsigned char *buf) {
    Py_ssize_t n;
    if (!inert_line(p, nl, an, buf, &n)) return 0;
    for (Py_ssize_t j = 0; j < n; j++)
        if (buf[j] == '|') return 0;
    if (has_sub(buf, n, "=====") || has_sub(buf, n, "!!!!!") || has_sub(buf, n, "--")
            || has_sub(buf, n, "k_mm_statistic"))
        return 0;
    return 1;
}

static int is_rule(const unsigned char *p, const unsigned char *nl) {   /* -{20,} */
    if (nl - p < 20) return 0;
    /* 8 bytes at a time (a table's rules are ~75 dashes, two a table: a byte loop here was
     * a fifth of run()'s own time) */
    const unsigned long long dashes = 0x2d2d2d2d2d2d2d2dULL;
    for (; nl - p >= 8; p += 8) {
        unsigned long long x;
        memcpy(&x, p, 8);
        if (x != dashes) return 0;
    }
    for (; p < nl; p++) if (*p != '-') return 0;
    return 1;
}

/* "=+ *Heap Info *=+" */
static int is_banner(const unsigned char *p, const unsigned char *nl) {
    if (p >= nl || *p != '=') return 0;
    while (p < nl && *p == '=') p++;
    while (p < nl && *p == ' ') p++;
    if (nl - p < 9 || memcmp(p, "Heap Info", 9) != 0) return 0;
    p += 9;
    while (p < nl && *p == ' ') p++;
    if (p >= nl || *p != '=') return 0;
    while (p < nl && *p == '=') p++;
    return p == nl;
}

/* "[HEAP]|[ -~]*" */
static int is_header(const unsigned char *p, const unsigned char *nl) {
    if (nl - p < 7 || memcmp(p, "[HEAP]|", 7) != 0) return 0;
    for (p += 7; p < nl; p++) if (*p < 0x20 || *p > 0x7e) return 0;
    return 1;
}

static int hex_run(const unsigned char **pp, const unsigned char *nl, unsigned long long *v);

static int is_hexd(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* " *|( *(0x[0-9A-Fa-f]+|[0-9]+) *|)+ *" with its values (what _row_values reads from it);
 * 0 also for cells too long for 64 bits or too many cells (Python reads those). */
#define MAX_CELLS 32
typedef struct { unsigned long long v[MAX_CELLS]; int n; int hex; } Row;

static int is_row(const unsigned char *p, const unsigned char *nl, Row *row) {
    while (p < nl && *p == ' ') p++;
    if (p >= nl || *p != '|') return 0;
    p++;
    row->n = 0;
    row->hex = 0;
    for (;;) {
        const unsigned char *q = p;
        while (q < nl && *q == ' ') q++;
        const unsigned char *v = q;
        unsigned long long x = 0;
        int hex = 0;
        if (nl - q >= 3 && q[0] == '0' && q[1] == 'x' && is_hexd(q[2])) {
            q += 2;
            if (!hex_run(&q, nl, &x)) return 0;       /* more than 16 digits */
            if (q < nl && is_hexd(*q)) return 0;
            hex = 1;
        } else {
            while (q < nl && *q >= '0' && *q <= '9') {
                if (q - v >= 18) return 0;
                x = x * 10 + (unsigned long long)(*q - '0');
                q++;
            }
            if (q == v) break;
        }
        while (q < nl && *q == ' ') q++;
        if (q >= nl || *q != '|') break;
        if (row->n >= MAX_CELLS) return 0;
        row->v[row->n++] = x;
        row->hex |= hex;
        p = q + 1;
    }
    if (row->n == 0) return 0;
    while (p < nl && *p == ' ') p++;
    return p == nl;
}

static const unsigned char *next_nl(const unsigned char *p, const unsigned char *end) {
    return memchr(p, '\n', (size_t)(end - p));
}

/* A whole overview table at p (banner optional, then rule, [HEAP]| header, one row, rule),
 * with foreign lines where the line path skips them (after a banner, up to the header; between
 * header and row; see OverviewReader.feed), and followed by a complete line that cannot be
 * its [POOL] part: parse_table() fills a Table and returns the position after the bottom
 * rule, or NULL when the table is not this shape. */
typedef struct {
    Py_ssize_t first, row_line, last;       /* first line, the row's line, the bottom rule's */
    const unsigned char *start, *hs, *he, *after;
    Row row;
    Py_ssize_t skips[16];                   /* (start, end) offsets of skipped foreign lines */
    int nskips;
    int tail;                               /* foreign lines after the row */
    const unsigned char *check_s, *check_e; /* the line after the table (when tail) */
} Table;

static const unsigned char *parse_table(const unsigned char *base, const unsigned char *p,
                                        const unsigned char *end, Py_ssize_t lineno,
                                        const Anchors *an, unsigned char *buf, Table *t) {
    const unsigned char *nl;
    Py_ssize_t line = lineno;
    int banner = 0;
    t->start = p;
    t->first = line + 1;
    t->nskips = 0;
    if ((nl = next_nl(p, end)) == NULL) return NULL;
    if (is_banner(p, nl)) {
        banner = 1;
        line++; p = nl + 1;
        for (;;) {
            if ((nl = next_nl(p, end)) == NULL) return NULL;
            if (is_rule(p, nl)) break;
            if (t->nskips >= 8 || !table_foreign(p, nl, an, buf)) return NULL;
            t->skips[2 * t->nskips] = p - base; t->skips[2 * t->nskips + 1] = nl - base;
            t->nskips++;
            line++; p = nl + 1;
        }
    } else if (!is_rule(p, nl)) {
        return NULL;
    }
    line++; p = nl + 1;                               /* top rule */
    for (;;) {   /* after a banner the reader skips foreign lines up to the header too */
        if ((nl = next_nl(p, end)) == NULL) return NULL;
        if (is_header(p, nl)) break;
        if (!banner || t->nskips >= 8 || !table_foreign(p, nl, an, buf)) return NULL;
        t->skips[2 * t->nskips] = p - base; t->skips[2 * t->nskips + 1] = nl - base;
        t->nskips++;
        line++; p = nl + 1;
    }
    t->hs = p; t->he = nl;
    line++; p = nl + 1;
    for (;;) {
        if ((nl = next_nl(p, end)) == NULL) return NULL;
        if (is_row(p, nl, &t->row)) break;
        if (t->nskips >= 8 || !table_foreign(p, nl, an, buf)) return NULL;
        t->skips[2 * t->nskips] = p - base; t->skips[2 * t->nskips + 1] = nl - base;
        t->nskips++;
        line++; p = nl + 1;
    }
    t->row_line = ++line; p = nl + 1;
    /* Foreign lines after the row end the table there (the reader says ENDED; the record is
     * the same); the bottom rule then opens an empty table that the line after it ends,
     * unless that line continues it: Python checks that line (check_s, check_e). */
    t->tail = 0;
    for (;;) {
        if ((nl = next_nl(p, end)) == NULL) return NULL;
        if (is_rule(p, nl)) break;
        if (t->tail >= 8 || !table_foreign(p, nl, an, buf)) return NULL;
        t->tail++;
        line++; p = nl + 1;
    }
    line++; p = nl + 1;
    t->after = p;
    t->last = line;
    /* the next line decides that the table is over: it must be complete and plainly not a
     * [POOL] header (normalize could only shorten it) */
    if ((nl = next_nl(p, end)) == NULL) return NULL;
    /* (a line that starts "[MSOBJ] " or "[MSCYCLE]" keeps that start once normalised: no
     * prefix is stripped from it, escapes only go; most tables are followed by one) */
    if (!(nl - p >= 9 && (memcmp(p, "[MSOBJ] ", 8) == 0 || memcmp(p, "[MSCYCLE]", 9) == 0))) {
        Py_ssize_t n = clean_line(p, nl, buf);
        if (n < 0 || has_sub(buf, n, "[pool]|")) return NULL;
    }
    t->check_s = p; t->check_e = nl;
    return t->after;
}

/* Appends (1, first_line, hs, he, values, is_hex, row_line, skips, start, end, check) for a
 * parsed table to out; 0 on error. */
static int table_item(const unsigned char *base, const Table *t, PyObject *out) {
    PyObject *sk = PyTuple_New(2 * t->nskips);
    if (sk == NULL) return 0;
    for (int i = 0; i < 2 * t->nskips; i++) {
        PyObject *v = PyLong_FromSsize_t(t->skips[i]);
        if (v == NULL) { Py_DECREF(sk); return 0; }
        PyTuple_SET_ITEM(sk, i, v);
    }
    PyObject *check = t->tail ? Py_BuildValue("(nn)", (Py_ssize_t)(t->check_s - base),
                                              (Py_ssize_t)(t->check_e - base))
                              : (Py_INCREF(Py_None), Py_None);
    if (check == NULL) { Py_DECREF(sk); return 0; }
    PyObject *vals = PyList_New(t->row.n);
    if (vals == NULL) { Py_DECREF(sk); Py_DECREF(check); return 0; }
    for (int i = 0; i < t->row.n; i++) {
        PyObject *v = PyLong_FromUnsignedLongLong(t->row.v[i]);
        if (v == NULL) { Py_DECREF(vals); Py_DECREF(sk); Py_DECREF(check); return 0; }
        PyList_SET_ITEM(vals, i, v);
    }
    PyObject *item = Py_BuildValue("(innnNONNnnN)", 1, t->first, (Py_ssize_t)(t->hs - base),
                                   (Py_ssize_t)(t->he - base), vals,
                                   t->row.hex ? Py_True : Py_False,
                                   PyLong_FromSsize_t(t->row_line), sk,
                                   (Py_ssize_t)(t->start - base), (Py_ssize_t)(t->after - base),
                                   check);
    if (item == NULL || PyList_Append(out, item) < 0) { Py_XDECREF(item); return 0; }
    Py_DECREF(item);
    return 1;
}

/* ---- heap stretches in columns (run(..., heap=True)) ------------------------------------
 * Consecutive cycle markers and overview tables (no other item between them) as one item:
 *   (3, seq, m_line, m_index, m_start, m_end, t_line, t_start, t_end, t_nskip, t_check_s,
 *    t_check_e, skips, values, hs, he, hex, width, packs)
 * seq: bytes, 0 per marker, 1 per table and 2 per pack of object events (when events are
 * packed: run(..., columns=True); packs: their (2, packed, names) items) in log order; every other field but hs, he (the
 * first table's header span), hex and width (its row's) is a bytes object of native int64:
 * per marker its line, index and line span; per table its first line, byte span, number of
 * skipped foreign lines, the line after it when foreign lines followed its row (else -1, -1),
 * the skipped lines' spans, and its row values (width each). Every table of a stretch has
 * the header text, width and hex-ness of the first; a marker index or row value beyond int64
 * is given as an ordinary item instead. Python checks the foreign lines as for a table item. */
typedef struct { long long *v; Py_ssize_t n, cap; } Vec;

static int vec_push(Vec *a, long long x) {
    if (a->n == a->cap) {
        Py_ssize_t cap = a->cap ? 2 * a->cap : 64;
        long long *v = PyMem_Realloc(a->v, (size_t)cap * sizeof *v);
        if (v == NULL) { PyErr_NoMemory(); return 0; }
        a->v = v; a->cap = cap;
    }
    a->v[a->n++] = x;
    return 1;
}

static PyObject *vec_bytes(const Vec *a) {
    return PyBytes_FromStringAndSize((const char *)a->v, (Py_ssize_t)(a->n * (Py_ssize_t)sizeof(long long)));
}

typedef struct {
    Vec seq, m_line, m_index, m_start, m_end, t_line, t_start, t_end, t_nskip, t_check_s,
        t_check_e, skips, values;
    const unsigned char *hs, *he;
    int hex, width, open;
    PyObject *packs;        /* object-event packs inside the stretch (seq 2), or NULL */
} HeapCols;

static void heap_free(HeapCols *h) {
    Vec *all[] = {&h->seq, &h->m_line, &h->m_index, &h->m_start, &h->m_end, &h->t_line,
                  &h->t_start, &h->t_end, &h->t_nskip, &h->t_check_s, &h->t_check_e,
                  &h->skips, &h->values};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        PyMem_Free(all[i]->v);
        all[i]->v = NULL; all[i]->n = all[i]->cap = 0;
    }
    Py_CLEAR(h->packs);
    h->open = 0;
}

/* Append the open stretch (if any) to out as one item; 0 on error. */
static int heap_flush(const unsigned char *base, HeapCols *h, PyObject *out) {
    if (!h->open) return 1;
    h->open = 0;
    PyObject *seq = PyBytes_FromStringAndSize(NULL, h->seq.n);
    if (seq == NULL) return 0;
    char *s = PyBytes_AS_STRING(seq);
    for (Py_ssize_t i = 0; i < h->seq.n; i++) s[i] = (char)h->seq.v[i];
    PyObject *packs = h->packs != NULL ? h->packs : PyList_New(0);
    h->packs = NULL;
    if (packs == NULL) { Py_DECREF(seq); return 0; }
    PyObject *item = Py_BuildValue(
        "(iNNNNNNNNNNNNNnniiN)", 3, seq, vec_bytes(&h->m_line), vec_bytes(&h->m_index),
        vec_bytes(&h->m_start), vec_bytes(&h->m_end), vec_bytes(&h->t_line),
        vec_bytes(&h->t_start), vec_bytes(&h->t_end), vec_bytes(&h->t_nskip),
        vec_bytes(&h->t_check_s), vec_bytes(&h->t_check_e), vec_bytes(&h->skips),
        vec_bytes(&h->values), (Py_ssize_t)(h->hs ? h->hs - base : -1),
        (Py_ssize_t)(h->he ? h->he - base : -1), h->hex, h->width, packs);
    Vec *all[] = {&h->seq, &h->m_line, &h->m_index, &h->m_start, &h->m_end, &h->t_line,
                  &h->t_start, &h->t_end, &h->t_nskip, &h->t_check_s, &h->t_check_e,
                  &h->skips, &h->values};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) all[i]->n = 0;
    h->hs = h->he = NULL;
    if (item == NULL) return 0;
    int rc = PyList_Append(out, item);
    Py_DECREF(item);
    return rc == 0;
}

/* A marker into the stretch: 1 taken, 0 not representable (caller gives an item), -1 error. */
static int heap_marker(HeapCols *h, Py_ssize_t line, const unsigned char *p,
                       const unsigned char *nl, const unsigned char *base) {
    const unsigned char *d = p + 9;
    if (*d == ' ') d++;
    if (nl - d > 18) return 0;
    long long v = 0;
    for (const unsigned char *q = d; q < nl; q++) v = v * 10 + (*q - '0');
    h->open = 1;
    return (vec_push(&h->seq, 0) && vec_push(&h->m_line, line) && vec_push(&h->m_index, v)
            && vec_push(&h->m_start, p - base) && vec_push(&h->m_end, nl - base)) ? 1 : -1;
}

/* A parsed table into the stretch: 1 taken, 0 not representable here (another header,
 * width or hex-ness: the caller flushes and tries again; or a value beyond int64), -1 error. */
static int heap_table(HeapCols *h, const Table *t, const unsigned char *base) {
    for (int i = 0; i < t->row.n; i++)
        if (t->row.v[i] > 0x7fffffffffffffffULL) return 0;
    if (h->hs != NULL) {
        if (t->row.n != h->width || t->row.hex != h->hex || t->he - t->hs != h->he - h->hs
                || memcmp(t->hs, h->hs, (size_t)(t->he - t->hs)) != 0)
            return 0;
    } else {
        h->hs = t->hs; h->he = t->he; h->hex = t->row.hex; h->width = t->row.n;
    }
    h->open = 1;
    if (!vec_push(&h->seq, 1) || !vec_push(&h->t_line, t->first)
            || !vec_push(&h->t_start, t->start - base) || !vec_push(&h->t_end, t->after - base)
            || !vec_push(&h->t_nskip, t->nskips)
            || !vec_push(&h->t_check_s, t->tail ? t->check_s - base : -1)
            || !vec_push(&h->t_check_e, t->tail ? t->check_e - base : -1))
        return -1;
    for (int i = 0; i < 2 * t->nskips; i++)
        if (!vec_push(&h->skips, t->skips[i])) return -1;
    for (int i = 0; i < t->row.n; i++)
        if (!vec_push(&h->values, (long long)t->row.v[i])) return -1;
    return 1;
}

/* "[MSCYCLE] ?[0-9]+" (the whole line) -> its index, or -1. */
static PyObject *cycle_index(const unsigned char *p, const unsigned char *nl) {
    if (nl - p < 10 || memcmp(p, "[MSCYCLE]", 9) != 0) return NULL;
    p += 9;
    if (*p == ' ') p++;
    const unsigned char *d = p;
    while (p < nl && *p >= '0' && *p <= '9') p++;
    if (p == d || p != nl) return NULL;
    return decimal_long(d, p - d);
}

/* run(text, pos, lineno, anchors, cycles, tables, factory or None)
 *   -> (end, lineno, items)
 * Steps over everything the idle parser would take without a reader's help: strict [MSOBJ]
 * lines (ObjectEvents via factory, or nothing), strict [MSCYCLE] lines (when ``cycles``:
 * (0, line, index, start, end)), whole overview tables (when ``tables``: see table()), and
 * inert lines; stops at the first other line. */
/* Object events packed (run(..., columns=True)): one item per stretch of events with no
 * other item between them: (2, packed, names). ``packed`` is a bytes object of PackedEvent
 * rows (struct format "=qQQQII": line, handle, caller, seq, kind id, 1 for create); the kind
 * id indexes ``names``, the module's list of kind names (append-only, bounded). A line whose
 * kind does not fit the table or whose seq does not fit 64 bits ends the stretch and comes
 * as an ObjectEvent (made by factory) of its own. The Ledger below pairs these rows without
 * a Python object per event. */
typedef struct {
    int64_t line;
    uint64_t handle, caller, seq;
    uint32_t kind, create;
} PackedEvent;

#define MAX_KINDS 1024
static PyObject *kind_names, *kind_ids;     /* list of str; dict str -> int */

typedef struct { PackedEvent *ev; Py_ssize_t n, cap; } Pack;

/* Append the open stretch (if any) to out as one item; 0 on error. */
static int pack_flush(Pack *pk, PyObject *out) {
    if (pk->n == 0) return 1;
    PyObject *bytes = PyBytes_FromStringAndSize((const char *)pk->ev,
                                                pk->n * (Py_ssize_t)sizeof(PackedEvent));
    pk->n = 0;
    if (bytes == NULL) return 0;
    PyObject *item = Py_BuildValue("(iNO)", 2, bytes, kind_names);
    if (item == NULL) return 0;
    int rc = PyList_Append(out, item);
    Py_DECREF(item);
    return rc == 0;
}

/* The open pack of events: into the open heap stretch as an entry (seq 2) when stretches
 * are kept (heap), else an item of its own. */
static int pack_to(Pack *pk, HeapCols *h, PyObject *out, int heap) {
    if (!heap || pk->n == 0 || !h->open) return pack_flush(pk, out);
    if (h->packs == NULL && (h->packs = PyList_New(0)) == NULL) return 0;
    if (!pack_flush(pk, h->packs)) return 0;
    h->open = 1;
    return vec_push(&h->seq, 2);
}

/* The kinds' bytes by id, and an open-addressing table of them (id + 1 per slot): a kind is
 * found without making a Python string per event (ids come only from kind_id below, so the
 * table and kind_names never disagree; a kind is at most 16 bytes, see obj_line). */
#define KIND_SLOTS 4096
static unsigned char kind_text[MAX_KINDS][16];
static unsigned char kind_tlen[MAX_KINDS];
static uint16_t kind_slot[KIND_SLOTS];

static size_t kind_hash(const unsigned char *s, Py_ssize_t n) {
    uint32_t h = 2166136261u;                           /* FNV-1a */
    for (Py_ssize_t i = 0; i < n; i++) h = (h ^ s[i]) * 16777619u;
    return h & (KIND_SLOTS - 1);
}

/* The kind's id in the module's table, -1 when it is full (-2 on error). */
static long kind_id(const unsigned char *s, Py_ssize_t n) {
    size_t slot = kind_hash(s, n);
    if (n <= 16) {
        for (uint16_t v; (v = kind_slot[slot]) != 0; slot = (slot + 1) & (KIND_SLOTS - 1)) {
            if (kind_tlen[v - 1] == n && memcmp(kind_text[v - 1], s, (size_t)n) == 0)
                return (long)(v - 1);
        }
    }
    PyObject *key = PyUnicode_FromStringAndSize((const char *)s, n);
    if (key == NULL) return -2;
    PyObject *hit = PyDict_GetItemWithError(kind_ids, key);
    if (hit != NULL) { Py_DECREF(key); return PyLong_AsLong(hit); }
    if (PyErr_Occurred()) { Py_DECREF(key); return -2; }
    Py_ssize_t id = PyList_GET_SIZE(kind_names);
    if (id >= MAX_KINDS) { Py_DECREF(key); return -1; }
    PyObject *v = PyLong_FromSsize_t(id);
    int bad = v == NULL || PyDict_SetItem(kind_ids, key, v) < 0 || PyList_Append(kind_names, key) < 0;
    Py_XDECREF(v);
    Py_DECREF(key);
    if (!bad && n <= 16) {              /* slot: the empty one the search above ended at */
        memcpy(kind_text[id], s, (size_t)n);
        kind_tlen[id] = (unsigned char)n;
        kind_slot[slot] = (uint16_t)(id + 1);
    }
    return bad ? -2 : (long)id;
}

/* 1: added; 0: the line does not fit a row (the caller makes an ObjectEvent); -1: error */
static int pack_add(Pack *pk, const ObjLine *o, Py_ssize_t lineno) {
    if (o->seq_len > 19) return 0;
    uint64_t seq = 0;
    for (Py_ssize_t i = 0; i < o->seq_len; i++) {
        uint64_t d = (uint64_t)(o->seq[i] - '0');
        if (seq > (UINT64_MAX - d) / 10) return 0;
        seq = seq * 10 + d;
    }
    long id = kind_id(o->kind, o->kind_len);
    if (id == -2) return -1;
    if (id < 0) return 0;
    if (pk->n == pk->cap) {
        Py_ssize_t cap = pk->cap ? pk->cap * 2 : 256;
        PackedEvent *ev = PyMem_Realloc(pk->ev, (size_t)cap * sizeof(PackedEvent));
        if (ev == NULL) { PyErr_NoMemory(); return -1; }
        pk->ev = ev;
        pk->cap = cap;
    }
    PackedEvent *e = &pk->ev[pk->n++];
    e->line = lineno;
    e->handle = hex_value(o->handle, o->handle_len);
    e->caller = hex_value(o->caller, o->caller_len);
    e->seq = seq;
    e->kind = (uint32_t)id;
    e->create = (uint32_t)o->create;
    return 1;
}

static PyObject *run(PyObject *self, PyObject *args) {
    PyObject *text, *anchors, *factory;
    Py_ssize_t pos, lineno;
    int cycles, tables, as_columns = 0, heap = 0;
    if (!PyArg_ParseTuple(args, "UnnO!ppO|pp", &text, &pos, &lineno, &PyTuple_Type, &anchors,
                          &cycles, &tables, &factory, &as_columns, &heap))
        return NULL;
    PyObject *out = PyList_New(0);
    if (out == NULL) return NULL;
    Pack pk = {NULL, 0, 0};
    HeapCols hc;
    memset(&hc, 0, sizeof hc);
    const Anchors *anp = NULL;
    if (PyUnicode_KIND(text) != PyUnicode_1BYTE_KIND || pos < 0
            || (anp = cached_anchors(anchors)) == NULL) {
        PyObject *r = Py_BuildValue("nnN", pos, lineno, out);
        return r;
    }
    static unsigned char buf[LINE_MAX_CLEAN + 1];
    const unsigned char *base = PyUnicode_1BYTE_DATA(text);
    const unsigned char *end = base + PyUnicode_GET_LENGTH(text);
    const unsigned char *p = base + pos;
    int err = 0;
    while (p < end) {
        unsigned char c = *p;
        /* a strict [MSOBJ] line is found without its newline searched for first (obj_line
         * reads it to its end): most of a stress log */
        ObjLine o;
        const unsigned char *next = c == '[' && end - p > 8 && p[1] == 'M' && p[2] == 'S'
            ? obj_line(p, end, &o) : NULL;
        const unsigned char *nl = next != NULL ? next - 1 : next_nl(p, end);
        if (nl == NULL) break;
        if (c == '[' && nl - p > 8 && p[1] == 'M' && p[2] == 'S') {
            if (next != NULL) {
                lineno++;
                int packed = as_columns ? pack_add(&pk, &o, lineno) : 0;
                if (packed < 0) { err = 1; break; }
                /* an event item follows the events packed and the heap stretch before it */
                if (!packed && (as_columns || factory != Py_None)
                        && (!pack_to(&pk, &hc, out, heap) || !heap_flush(base, &hc, out))) {
                    err = 1; break;
                }
                if (!packed && factory != Py_None) {
                    PyObject *rec = make_obj(&o, lineno, factory);
                    if (rec == NULL || PyList_Append(out, rec) < 0) { Py_XDECREF(rec); err = 1; break; }
                    Py_DECREF(rec);
                }
                p = next;
                continue;
            }
            if (cycles) {
                PyObject *idx = cycle_index(p, nl);
                if (idx != NULL) {
                    if (!pack_to(&pk, &hc, out, heap)) { Py_DECREF(idx); err = 1; break; }
                    lineno++;
                    int took = heap ? heap_marker(&hc, lineno, p, nl, base) : 0;
                    if (took < 0) { Py_DECREF(idx); err = 1; break; }
                    if (took) {
                        Py_DECREF(idx);
                        p = nl + 1;
                        continue;
                    }
                    if (!heap_flush(base, &hc, out)) { Py_DECREF(idx); err = 1; break; }
                    PyObject *item = Py_BuildValue("(inNnn)", 0, lineno, idx,
                                                   (Py_ssize_t)(p - base), (Py_ssize_t)(nl - base));
                    if (item == NULL || PyList_Append(out, item) < 0) { Py_XDECREF(item); err = 1; break; }
                    Py_DECREF(item);
                    p = nl + 1;
                    continue;
                }
                if (PyErr_Occurred()) { err = 1; break; }
            }
        } else if (tables && (c == '=' || c == '-')) {
            /* a table item must follow the events before it: flush them first (an empty
             * stretch costs nothing); if no table is there, nothing was appended */
            if (!pack_to(&pk, &hc, out, heap)) { err = 1; break; }
            Table t;
            const unsigned char *after = parse_table(base, p, end, lineno, anp, buf, &t);
            if (after != NULL) {
                int took = heap ? heap_table(&hc, &t, base) : 0;
                if (took == 0 && heap && hc.open) {     /* another header: a new stretch */
                    if (!heap_flush(base, &hc, out)) { err = 1; break; }
                    took = heap_table(&hc, &t, base);
                }
                if (took < 0) { err = 1; break; }
                if (!took && (!heap_flush(base, &hc, out) || !table_item(base, &t, out))) {
                    err = 1; break;
                }
                lineno = t.last;
                p = after;
                continue;
            }
        }
        if (!inert_line(p, nl, anp, buf, NULL)) break;
        lineno++;
        p = nl + 1;
    }
    if (!err && (!pack_to(&pk, &hc, out, heap) || !heap_flush(base, &hc, out))) err = 1;
    PyMem_Free(pk.ev);
    heap_free(&hc);
    if (err) { Py_DECREF(out); return NULL; }
    return Py_BuildValue("nnN", (Py_ssize_t)(p - base), lineno, out);
}

/* ---- blocks: a run of strict block-dump lines (BlockDumpReader's block or free list) ---- */

static int hex_run(const unsigned char **pp, const unsigned char *nl, unsigned long long *v) {
    const unsigned char *p = *pp;
    unsigned long long x = 0;
    int n = 0;
    while (p < nl && is_hexd(*p)) {
        unsigned char c = *p;
        x = (x << 4) | (unsigned long long)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
        p++;
        if (++n > 16) return 0;
    }
    if (n == 0) return 0;
    *pp = p; *v = x;
    return 1;
}

static int spaces(const unsigned char **pp, const unsigned char *nl) {
    const unsigned char *p = *pp;
    while (p < nl && *p == ' ') p++;
    int any = p > *pp;
    *pp = p;
    return any;
}

/* "0xADDR +(used|free) +(SIZE|sentinel) +OK +0xOWNER( +\(0xT( *<- *0xT)*\))?" and nothing else: the
 * shape B3 dumps print when the check column is OK (parse_block_line gives dye None,
 * dye_ok True, no pre-free or free links for it). */
/* HeapBlock made without its Python __init__ (~0.7 µs a block, ~700,000 blocks in a 1 GB
 * stress log): block_type(cls, names) registers the slots class when its fields are exactly
 * these, in this order, each a plain object slot (a member descriptor); block_line then
 * allocates it and fills every slot itself, the values __init__ would store. Any other
 * class, or a field list that changed, and block_line calls the class as before. */
static const char *const block_fields[] = {"line", "addr", "used", "size", "owner",
    "sentinel", "corrupted", "dye", "dye_ok", "trace", "prev_free", "free_links", "pid", "seq"};
#define N_BLOCK_FIELDS 14
static PyTypeObject *block_cls;
static Py_ssize_t block_off[N_BLOCK_FIELDS];

static PyObject *block_type(PyObject *self, PyObject *args) {
    PyObject *cls, *names;
    if (!PyArg_ParseTuple(args, "O!O!", &PyType_Type, &cls, &PyTuple_Type, &names)) return NULL;
    Py_CLEAR(block_cls);
    if (PyTuple_GET_SIZE(names) != N_BLOCK_FIELDS) Py_RETURN_FALSE;
    Py_ssize_t off[N_BLOCK_FIELDS];
    for (int i = 0; i < N_BLOCK_FIELDS; i++) {
        PyObject *name = PyTuple_GET_ITEM(names, i);
        if (!PyUnicode_Check(name) || PyUnicode_CompareWithASCIIString(name, block_fields[i]))
            Py_RETURN_FALSE;
        PyObject *d = PyDict_GetItemWithError(((PyTypeObject *)cls)->tp_dict, name);
        if (d == NULL) { if (PyErr_Occurred()) return NULL; Py_RETURN_FALSE; }
        if (!Py_IS_TYPE(d, &PyMemberDescr_Type)) Py_RETURN_FALSE;
        PyMemberDef *m = ((PyMemberDescrObject *)d)->d_member;
        if (m->type != T_OBJECT_EX || (m->flags & READONLY)) Py_RETURN_FALSE;
        off[i] = m->offset;
    }
    memcpy(block_off, off, sizeof off);
    Py_INCREF(cls);
    block_cls = (PyTypeObject *)cls;
    Py_RETURN_TRUE;
}

/* A registered HeapBlock of these values (references stolen, NULL on error). */
/* The block and its trace hold only ints, bools, None and that tuple: no reference cycle can
 * go through them, so they are taken off the cycle collector's lists (as CPython does with
 * such tuples and dicts itself; ~700,000 blocks a GB otherwise fill its young generation). */
static PyObject *new_block(PyObject *v[N_BLOCK_FIELDS]) {
    PyObject *obj = block_cls->tp_alloc(block_cls, 0);
    for (int i = 0; i < N_BLOCK_FIELDS; i++) {
        if (obj == NULL) { Py_DECREF(v[i]); continue; }
        *(PyObject **)((char *)obj + block_off[i]) = v[i];
    }
    if (obj != NULL && PyObject_GC_IsTracked(obj)) {
        for (int i = 0; i < N_BLOCK_FIELDS; i++)
            if (PyTuple_CheckExact(v[i]) && PyObject_GC_IsTracked(v[i]))
                PyObject_GC_UnTrack(v[i]);
        PyObject_GC_UnTrack(obj);
    }
    return obj;
}

static PyObject *block_line(const unsigned char *p, const unsigned char *nl, Py_ssize_t lineno,
                            PyObject *factory) {
    unsigned long long addr, size = 0, owner, t;
    if (nl - p < 3 || p[0] != '0' || p[1] != 'x') return NULL;
    p += 2;
    if (!hex_run(&p, nl, &addr) || !spaces(&p, nl)) return NULL;
    int used;
    if (nl - p >= 4 && memcmp(p, "used", 4) == 0) used = 1;
    else if (nl - p >= 4 && memcmp(p, "free", 4) == 0) used = 0;
    else return NULL;
    p += 4;
    if (!spaces(&p, nl)) return NULL;
    int nd = 0, sentinel = 0;
    if (nl - p >= 8 && memcmp(p, "sentinel", 8) == 0) {   /* the region's end: no size */
        sentinel = 1;
        p += 8;
    } else {
        while (p < nl && *p >= '0' && *p <= '9') { size = size * 10 + (unsigned long long)(*p - '0'); p++; nd++; }
        if (nd == 0 || nd > 18) return NULL;
    }
    if (!spaces(&p, nl)) return NULL;
    if (nl - p < 2 || p[0] != 'O' || p[1] != 'K') return NULL;
    p += 2;
    if (!spaces(&p, nl) || nl - p < 3 || p[0] != '0' || p[1] != 'x') return NULL;
    p += 2;
    if (!hex_run(&p, nl, &owner)) return NULL;
    unsigned long long tr[64];
    int ntr = 0;
    if (p < nl) {
        if (!spaces(&p, nl) || p >= nl || *p != '(') return NULL;
        p++;
        for (;;) {
            if (nl - p < 3 || p[0] != '0' || p[1] != 'x') return NULL;
            p += 2;
            if (!hex_run(&p, nl, &t) || ntr >= 64) return NULL;
            tr[ntr++] = t;
            spaces(&p, nl);
            if (p < nl && *p == ')') { p++; break; }
            if (nl - p < 2 || p[0] != '<' || p[1] != '-') return NULL;
            p += 2;
            spaces(&p, nl);
        }
        if (p != nl) return NULL;
    }
    PyObject *trace = PyTuple_New(ntr);
    if (trace == NULL) return NULL;
    for (int i = 0; i < ntr; i++) {
        PyObject *v = PyLong_FromUnsignedLongLong(tr[i]);
        if (v == NULL) { Py_DECREF(trace); return NULL; }
        PyTuple_SET_ITEM(trace, i, v);
    }
    PyObject *line = PyLong_FromSsize_t(lineno);
    PyObject *a = PyLong_FromUnsignedLongLong(addr);
    PyObject *sz = sentinel ? Py_NewRef(Py_None) : PyLong_FromUnsignedLongLong(size);
    PyObject *ow = PyLong_FromUnsignedLongLong(owner);
    PyObject *rec = NULL;
    if (line && a && sz && ow && factory == (PyObject *)block_cls) {
        PyObject *v[N_BLOCK_FIELDS] = {line, a, Py_NewRef(used ? Py_True : Py_False), sz, ow,
            Py_NewRef(sentinel ? Py_True : Py_False), Py_NewRef(Py_False), Py_NewRef(Py_None),
            Py_NewRef(Py_True), trace, Py_NewRef(Py_None), Py_NewRef(Py_None),
            Py_NewRef(Py_None), Py_NewRef(Py_None)};
        return new_block(v);             /* (it owns every reference now) */
    }
    if (line && a && sz && ow)
        rec = PyObject_CallFunctionObjArgs(factory, line, a, used ? Py_True : Py_False, sz, ow,
                                           sentinel ? Py_True : Py_False, Py_False, Py_None,
                                           Py_True, trace, NULL);
    Py_XDECREF(line); Py_XDECREF(a); Py_XDECREF(sz); Py_XDECREF(ow); Py_DECREF(trace);
    return rec;
}

/* blocks(text, pos, lineno, factory) -> (end, lineno, [HeapBlock...]): consecutive strict
 * block lines from pos; stops at the first other line (Python reads it). */
static PyObject *blocks(PyObject *self, PyObject *args) {
    PyObject *text, *factory;
    Py_ssize_t pos, lineno;
    if (!PyArg_ParseTuple(args, "UnnO", &text, &pos, &lineno, &factory)) return NULL;
    PyObject *out = PyList_New(0);
    if (out == NULL) return NULL;
    if (PyUnicode_KIND(text) != PyUnicode_1BYTE_KIND || pos < 0)
        return Py_BuildValue("nnN", pos, lineno, out);
    const unsigned char *base = PyUnicode_1BYTE_DATA(text);
    const unsigned char *end = base + PyUnicode_GET_LENGTH(text);
    const unsigned char *p = base + pos;
    while (p < end) {
        const unsigned char *nl = next_nl(p, end);
        if (nl == NULL) break;
        PyObject *rec = block_line(p, nl, lineno + 1, factory);
        if (rec == NULL) {
            if (PyErr_Occurred()) { Py_DECREF(out); return NULL; }
            break;
        }
        if (PyList_Append(out, rec) < 0) { Py_DECREF(rec); Py_DECREF(out); return NULL; }
        Py_DECREF(rec);
        lineno++;
        p = nl + 1;
    }
    return Py_BuildValue("nnN", (Py_ssize_t)(p - base), lineno, out);
}

/* ---- normalize in C: the prefixes of parse/normalize.py, for lines it can decide -------- */

/* Each matcher mirrors one pattern of normalize._PREFIXES (same order) on the cleaned line
 * b[i, n) (escape sequences and control characters gone, trailing blanks gone, printable
 * ASCII and TAB only): the length it matches there, 0 when it does not. Regex backtracking
 * is worked out by hand in each (see the comments); tests/parse/test_prefix_c.py compares
 * the whole normalize() with this on every committed log, the real corpus and mutated
 * lines. */
static int n_dig(unsigned char c) { return c >= '0' && c <= '9'; }
static int n_ws(unsigned char c) { return c == ' ' || c == '\t'; }
static int n_up(unsigned char c) { return c >= 'A' && c <= 'Z'; }
static int n_low(unsigned char c) { return c >= 'a' && c <= 'z'; }
static int n_word(unsigned char c) { return n_dig(c) || n_up(c) || n_low(c) || c == '_'; }

/* digits at j: how many (0 if none) */
static Py_ssize_t n_digits(const unsigned char *b, Py_ssize_t j, Py_ssize_t n) {
    Py_ssize_t k = j;
    while (k < n && n_dig(b[k])) k++;
    return k - j;
}

static int n_has(const unsigned char *b, Py_ssize_t j, Py_ssize_t n, const char *s) {
    size_t L = strlen(s);
    return (size_t)(n - j) >= L && memcmp(b + j, s, L) == 0;
}

/* "\d{2}" exactly two digits at j (a third digit may follow: the next literal decides) */
static int n_two(const unsigned char *b, Py_ssize_t j, Py_ssize_t n) {
    return j + 2 <= n && n_dig(b[j]) && n_dig(b[j + 1]);
}

/* (?:[.,]\d{1,9})? followed by something that is never a digit: the position after it (a
 * run of 10+ digits can only fail what follows, so it is reported as -1). */
static Py_ssize_t n_frac(const unsigned char *b, Py_ssize_t j, Py_ssize_t n) {
    if (j < n && (b[j] == '.' || b[j] == ',')) {
        Py_ssize_t d = n_digits(b, j + 1, n);
        if (d >= 1 && d <= 9) return j + 1 + d;
        if (d > 9) return -1;
    }
    return j;
}

/* (?:>|->|-->) at j: its length, 0 if none */
static Py_ssize_t n_arrow(const unsigned char *b, Py_ssize_t j, Py_ssize_t n) {
    if (j < n && b[j] == '>') return 1;
    if (n_has(b, j, n, "->")) return 2;
    if (n_has(b, j, n, "-->")) return 3;
    return 0;
}

/* ^\[\s*(\d+\.\d+)\] ?(?:<[A-Z]> ?)? */
static Py_ssize_t p_uptime(const unsigned char *b, Py_ssize_t i, Py_ssize_t n) {
    Py_ssize_t j = i;
    if (j >= n || b[j] != '[') return 0;
    j++;
    while (j < n && n_ws(b[j])) j++;
    Py_ssize_t d = n_digits(b, j, n);
    if (!d) return 0;
    j += d;
    if (j >= n || b[j] != '.') return 0;
    d = n_digits(b, j + 1, n);
    if (!d) return 0;
    j += 1 + d;
    if (j >= n || b[j] != ']') return 0;
    j++;
    if (j < n && b[j] == ' ') j++;
    if (j + 3 <= n && b[j] == '<' && n_up(b[j + 1]) && b[j + 2] == '>') {
        j += 3;
        if (j < n && b[j] == ' ') j++;
    }
    return j - i;
}

/* ^[EWIDV] \((\d+)\) [^\s:][^:]{0,40}?: ?  (the lazy run ends at the first ':') */
static Py_ssize_t p_esp(const unsigned char *b, Py_ssize_t i, Py_ssize_t n) {
    Py_ssize_t j = i;
    if (j + 3 > n || !strchr("EWIDV", b[j]) || b[j + 1] != ' ' || b[j + 2] != '(') return 0;
    j += 3;
    Py_ssize_t d = n_digits(b, j, n);
    if (!d) return 0;
    j += d;
    if (!n_has(b, j, n, ") ")) return 0;
    j += 2;
    if (j >= n || n_ws(b[j]) || b[j] == ':') return 0;
    j++;
    Py_ssize_t k = j;
    while (k < n && b[k] != ':' && k - j < 41) k++;
    if (k >= n || b[k] != ':' || k - j > 40) return 0;
    j = k + 1;
    if (j < n && b[j] == ' ') j++;
    return j - i;
}

/* ^\[?(\d{4}-\d{2}-\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?\]?
 *   (?:\s*(?:>|->|-->)\s?|\s?) */
static Py_ssize_t p_iso(const unsigned char *b, Py_ssize_t i, Py_ssize_t n) {
    Py_ssize_t j = i;
    if (j < n && b[j] == '[') j++;
    if (!(j + 10 <= n && n_dig(b[j]) && n_dig(b[j + 1]) && n_dig(b[j + 2]) && n_dig(b[j + 3])
          && b[j + 4] == '-' && n_two(b, j + 5, n) && b[j + 7] == '-' && n_two(b, j + 8, n)))
        return 0;
    j += 10;
    if (j >= n || (b[j] != ' ' && b[j] != 'T')) return 0;
    j++;
    if (!(j + 8 <= n && n_two(b, j, n) && b[j + 2] == ':' && n_two(b, j + 3, n)
          && b[j + 5] == ':' && n_two(b, j + 6, n)))
        return 0;
    j += 8;
    /* (?:[.,]\d{1,9})? : everything after is optional, so greedy wins (9 digits at most) */
    if (j < n && (b[j] == '.' || b[j] == ',') && j + 1 < n && n_dig(b[j + 1])) {
        Py_ssize_t d = n_digits(b, j + 1, n);
        j += 1 + (d > 9 ? 9 : d);
    }
    if (j < n && b[j] == ']') j++;
    Py_ssize_t k = j;
    while (k < n && n_ws(b[k])) k++;
    Py_ssize_t a = n_arrow(b, k, n);
    if (a) {
        k += a;
        if (k < n && n_ws(b[k])) k++;
        return k - i;
    }
    if (j < n && n_ws(b[j])) j++;
    return j - i;
}

/* ^(Jan|...|Dec) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) \S+ [\w.\-/]+(?:\[\d+\])?: ? */
static Py_ssize_t p_syslog(const unsigned char *b, Py_ssize_t i, Py_ssize_t n) {
    static const char *mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
                                "Sep", "Oct", "Nov", "Dec"};
    Py_ssize_t j = i;
    int ok = 0;
    for (int m = 0; m < 12 && !ok; m++) ok = n_has(b, j, n, mon[m]);
    if (!ok) return 0;
    j += 3;
    if (j >= n || b[j] != ' ') return 0;
    while (j < n && b[j] == ' ') j++;
    /* \d{1,2} then ' ': two digits if they are followed by ' ', else one */
    if (j + 2 < n && n_dig(b[j]) && n_dig(b[j + 1]) && b[j + 2] == ' ') j += 3;
    else if (j + 1 < n && n_dig(b[j]) && b[j + 1] == ' ') j += 2;
    else return 0;
    if (!(j + 8 <= n && n_two(b, j, n) && b[j + 2] == ':' && n_two(b, j + 3, n)
          && b[j + 5] == ':' && n_two(b, j + 6, n)))
        return 0;
    j += 8;
    if (j >= n || b[j] != ' ') return 0;
    j++;
    Py_ssize_t k = j;                       /* \S+ : the whole run, then exactly ' ' */
    while (k < n && !n_ws(b[k])) k++;
    if (k == j || k >= n || b[k] != ' ') return 0;
    j = k + 1;
    k = j;                                  /* [\w.\-/]+ */
    while (k < n && (n_word(b[k]) || b[k] == '.' || b[k] == '-' || b[k] == '/')) k++;
    if (k == j) return 0;
    j = k;
    if (j < n && b[j] == '[') {             /* (?:\[\d+\])? then ':' */
        Py_ssize_t d = n_digits(b, j + 1, n);
        if (d && j + 1 + d < n && b[j + 1 + d] == ']' && j + 2 + d < n && b[j + 2 + d] == ':')
            j += 2 + d;
    }
    if (j >= n || b[j] != ':') return 0;
    j++;
    if (j < n && b[j] == ' ') j++;
    return j - i;
}

/* ^(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?\s*(?:>|->|-->)\s? */
static Py_ssize_t p_clock(const unsigned char *b, Py_ssize_t i, Py_ssize_t n) {
    Py_ssize_t d = n_digits(b, i, n);
    if (d < 1 || d > 2) return 0;
    Py_ssize_t j = i + d;
    if (!(j + 6 <= n && b[j] == ':' && n_two(b, j + 1, n) && b[j + 3] == ':'
          && n_two(b, j + 4, n)))
        return 0;
    j += 6;
    if (j < n && n_dig(b[j])) return 0;    /* SS is exactly two digits before what follows */
    j = n_frac(b, j, n);
    if (j < 0) return 0;
    while (j < n && n_ws(b[j])) j++;
    Py_ssize_t a = n_arrow(b, j, n);
    if (!a) return 0;
    j += a;
    if (j < n && n_ws(b[j])) j++;
    return j - i;
}

/* ^[\[(](\d{1,3}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?[\])]\s? */
static Py_ssize_t p_clock_br(const unsigned char *b, Py_ssize_t i, Py_ssize_t n) {
    if (i >= n || (b[i] != '[' && b[i] != '(')) return 0;
    Py_ssize_t d = n_digits(b, i + 1, n);
    if (d < 1 || d > 3) return 0;
    Py_ssize_t j = i + 1 + d;
    if (!(j + 6 <= n && b[j] == ':' && n_two(b, j + 1, n) && b[j + 3] == ':'
          && n_two(b, j + 4, n)))
        return 0;
    j += 6;
    if (j < n && n_dig(b[j])) return 0;
    j = n_frac(b, j, n);
    if (j < 0 || j >= n || (b[j] != ']' && b[j] != ')')) return 0;
    j++;
    if (j < n && n_ws(b[j])) j++;
    return j - i;
}

/* ^\[(\d{2,3}):(\d{2}):(\d{2})\.(\d{3}),\d{3}\] ? */
static Py_ssize_t p_zephyr(const unsigned char *b, Py_ssize_t i, Py_ssize_t n) {
    if (i >= n || b[i] != '[') return 0;
    Py_ssize_t d = n_digits(b, i + 1, n);
    if (d < 2 || d > 3) return 0;
    Py_ssize_t j = i + 1 + d;
    if (!(j + 15 <= n && b[j] == ':' && n_two(b, j + 1, n) && b[j + 3] == ':'
          && n_two(b, j + 4, n) && b[j + 6] == '.' && n_digits(b, j + 7, n) >= 3
          && b[j + 10] == ',' && n_digits(b, j + 11, n) >= 3 && b[j + 14] == ']'))
        return 0;
    j += 15;
    if (j < n && b[j] == ' ') j++;
    return j - i;
}

/* ^<(?:err|wrn|inf|dbg)> [\w.\-]{1,32}: ? */
static Py_ssize_t p_zlevel(const unsigned char *b, Py_ssize_t i, Py_ssize_t n) {
    if (!(n_has(b, i, n, "<err> ") || n_has(b, i, n, "<wrn> ") || n_has(b, i, n, "<inf> ")
          || n_has(b, i, n, "<dbg> ")))
        return 0;
    Py_ssize_t j = i + 6, k = j;
    while (k < n && (n_word(b[k]) || b[k] == '.' || b[k] == '-')) k++;
    if (k == j || k - j > 32 || k >= n || b[k] != ':') return 0;
    k++;
    if (k < n && b[k] == ' ') k++;
    return k - i;
}

/* '[' then chars outside ']', blanks and '|' (1 to 32) then ']': the position after ']', or
 * 0. from: after '['. */
static Py_ssize_t n_tag(const unsigned char *b, Py_ssize_t from, Py_ssize_t n) {
    Py_ssize_t k = from;
    while (k < n && b[k] != ']' && !n_ws(b[k]) && b[k] != '|') k++;
    if (k == from || k - from > 32 || k >= n || b[k] != ']') return 0;
    return k + 1;
}

/* ^(?:\[\s*\d{1,5}\] )?\[\s*(?:EMERG|ALERT|CRIT|ERROR|WARN|NOTICE|INFO|DEBUG)\] 
 *   (?:\[[^\]\s|]{1,32}\] )? */
static Py_ssize_t nuttx_level(const unsigned char *b, Py_ssize_t j, Py_ssize_t n) {
    static const char *lv[] = {"EMERG] ", "ALERT] ", "CRIT] ", "ERROR] ", "WARN] ",
                               "NOTICE] ", "INFO] ", "DEBUG] "};
    if (j >= n || b[j] != '[') return 0;
    j++;
    while (j < n && n_ws(b[j])) j++;
    for (int k = 0; k < 8; k++)
        if (n_has(b, j, n, lv[k])) {
            j += (Py_ssize_t)strlen(lv[k]);
            if (j < n && b[j] == '[') {
                Py_ssize_t t = n_tag(b, j + 1, n);
                if (t && t < n && b[t] == ' ') j = t + 1;
            }
            return j;
        }
    return 0;
}

static Py_ssize_t p_nuttx(const unsigned char *b, Py_ssize_t i, Py_ssize_t n) {
    if (i < n && b[i] == '[') {
        Py_ssize_t j = i + 1;
        while (j < n && n_ws(b[j])) j++;
        Py_ssize_t d = n_digits(b, j, n);
        if (d >= 1 && d <= 5 && j + d + 1 < n && b[j + d] == ']' && b[j + d + 1] == ' ') {
            Py_ssize_t e = nuttx_level(b, j + d + 2, n);
            if (e) return e - i;
            /* without the group: '[' then \s* then a level word; a digit is none */
        }
    }
    Py_ssize_t e = nuttx_level(b, i, n);
    return e ? e - i : 0;
}

/* ^[EWID]:(?: |$) */
static Py_ssize_t p_minimal(const unsigned char *b, Py_ssize_t i, Py_ssize_t n) {
    if (i + 2 > n || !strchr("EWID", b[i]) || b[i + 1] != ':') return 0;
    if (i + 2 == n) return 2;
    return b[i + 2] == ' ' ? 3 : 0;
}

/* ^(?:\[(?:[VDIWEF]|INFO|WARN|WARNING|ERROR|ERR|DEBUG|DBG|TRACE|VERBOSE|FATAL)\]
 *      (?:\[(?!MS[A-Z]+\]|2\^)[^\]\s|]{1,32}\](?!\|))?|<[VDIWEF]>) ? */
static Py_ssize_t p_level(const unsigned char *b, Py_ssize_t i, Py_ssize_t n) {
    static const char *words[] = {"INFO", "WARN", "WARNING", "ERROR", "ERR", "DEBUG", "DBG",
                                  "TRACE", "VERBOSE", "FATAL"};
    Py_ssize_t j;
    if (i + 3 <= n && b[i] == '<' && b[i + 2] == '>' && b[i + 1] && strchr("VDIWEF", b[i + 1])) {
        j = i + 3;
    } else if (i < n && b[i] == '[') {
        Py_ssize_t k = i + 1;
        while (k < n && n_up(b[k])) k++;
        if (k >= n || b[k] != ']' || k == i + 1) return 0;
        Py_ssize_t L = k - (i + 1);
        int ok = L == 1 && strchr("VDIWEF", b[i + 1]) != NULL;
        for (int w = 0; w < 10 && !ok; w++)
            ok = (Py_ssize_t)strlen(words[w]) == L && memcmp(b + i + 1, words[w], (size_t)L) == 0;
        if (!ok) return 0;
        j = k + 1;
        if (j < n && b[j] == '[') {
            int ms = 0;
            if (n_has(b, j + 1, n, "MS")) {
                Py_ssize_t q = j + 3;
                while (q < n && n_up(b[q])) q++;
                ms = q > j + 3 && q < n && b[q] == ']';
            }
            if (!ms && !n_has(b, j + 1, n, "2^")) {
                Py_ssize_t t = n_tag(b, j + 1, n);
                if (t && !(t < n && b[t] == '|')) j = t;
            }
        }
    } else {
        return 0;
    }
    if (j < n && b[j] == ' ') j++;
    return j - i;
}

/* The protected AliOS shapes (normalize._PROTECTED) at i. */
static int n_protected(const unsigned char *b, Py_ssize_t i, Py_ssize_t n) {
    if (i >= n || b[i] != '[') return 0;
    if (n_has(b, i, n, "[HEAP]|") || n_has(b, i, n, "[POOL]|")) return 1;
    if (n_has(b, i, n, "[2^")) {
        Py_ssize_t d = n_digits(b, i + 3, n);
        if (d && i + 3 + d < n && b[i + 3 + d] == ']') return 1;
    }
    if (n_has(b, i, n, "[MS")) {
        Py_ssize_t q = i + 3;
        while (q < n && n_up(b[q])) q++;
        if (q > i + 3 && q < n && b[q] == ']') return 1;
    }
    Py_ssize_t j = i + 1;                         /* \[\s*\d+\s*\]: */
    while (j < n && n_ws(b[j])) j++;
    Py_ssize_t d = n_digits(b, j, n);
    if (d) {
        Py_ssize_t k = j + d;
        while (k < n && n_ws(b[k])) k++;
        if (k + 1 < n && b[k] == ']' && b[k + 1] == ':') return 1;
    }
    if (n_has(b, i, n, "[kernel")) {              /* \[kernel\s+task\] */
        Py_ssize_t k = i + 7;
        if (k < n && n_ws(b[k])) {
            while (k < n && n_ws(b[k])) k++;
            if (n_has(b, k, n, "task]")) return 1;
        }
    }
    d = n_digits(b, i + 1, n);                    /* \[\d+\]\[\d+\] */
    if (d && i + 2 + d < n && b[i + 1 + d] == ']' && b[i + 2 + d] == '[') {
        Py_ssize_t e = n_digits(b, i + 3 + d, n);
        if (e && i + 3 + d + e < n && b[i + 3 + d + e] == ']') return 1;
    }
    return 0;
}

/* normalize._STRIPPABLE at i: not protected, and a prefix could start here. */
static int n_strippable(const unsigned char *b, Py_ssize_t i, Py_ssize_t n) {
    if (i >= n) return 0;
    unsigned char c = b[i];
    int may = c == '[' || c == '(' || c == '<' || n_dig(c)
        || (strchr("EWIDV", c) && i + 2 < n && b[i + 1] == ' ' && b[i + 2] == '(')
        || (strchr("EWID", c) && i + 1 < n && b[i + 1] == ':' && (i + 2 == n || b[i + 2] == ' '))
        || (n_up(c) && i + 3 < n && n_low(b[i + 1]) && n_low(b[i + 2]) && b[i + 3] == ' ');
    return may && !n_protected(b, i, n);
}

typedef Py_ssize_t (*prefix_fn)(const unsigned char *, Py_ssize_t, Py_ssize_t);
/* normalize._PREFIXES' order: p_uptime, p_esp, p_iso, p_syslog, p_clock, p_clock_br,
 * p_zephyr, p_zlevel, p_nuttx, p_minimal, p_level. */

/* The matchers (in that order) that can match at a character (the
 * first that matches wins, so dropping the ones that cannot changes no answer): each
 * matcher's first test is on this character (see their comments). A stress log's lines
 * mostly start with '[' or a digit; trying all eleven cost a sixth of a chunk's count. */
static const prefix_fn fns_bracket[] = {p_uptime, p_iso, p_clock_br, p_zephyr, p_nuttx,
                                        p_level, NULL};
static const prefix_fn fns_paren[] = {p_clock_br, NULL};
static const prefix_fn fns_angle[] = {p_zlevel, p_level, NULL};
static const prefix_fn fns_digit[] = {p_iso, p_clock, NULL};
static const prefix_fn fns_upper[] = {p_esp, p_syslog, p_minimal, NULL};
static const prefix_fn fns_none[] = {NULL};

static const prefix_fn *fns_for(unsigned char c) {
    if (c == '[') return fns_bracket;
    if (c == '(') return fns_paren;
    if (c == '<') return fns_angle;
    if (n_dig(c)) return fns_digit;
    if (n_up(c)) return fns_upper;
    return fns_none;
}

/* normalize()'s prefix loop on the cleaned b[0, n): sets *start to where the firmware's text
 * begins; returns whether a prefix went (Normalized.prefixed). */
static int strip_prefixes(const unsigned char *b, Py_ssize_t n, Py_ssize_t *start) {
    Py_ssize_t i = 0;
    int prefixed = 0;
    for (int round = 0; round < 4; round++) {
        if (!n_strippable(b, i, n)) break;
        Py_ssize_t got = 0;
        for (const prefix_fn *f = fns_for(b[i]); *f != NULL && !got; f++)
            got = (*f)(b, i, n);
        if (!got) break;
        i += got;
        prefixed = 1;
    }
    *start = i;
    return prefixed;
}

/* normalize.strip_escapes + rstrip on the line [p, nl) into buf, case kept: CSI sequences
 * and control characters (but TAB) dropped. Returns the length, or -1 when the line holds
 * what only Python decides (another escape, non-ASCII) or is longer than the buffer. */
static Py_ssize_t clean_keep_case(const unsigned char *p, const unsigned char *nl,
                                  unsigned char *buf) {
    Py_ssize_t n = 0;
    while (p < nl) {
        unsigned char c = *p;
        if (c == 0x1b) {
            if ((p = past_csi(p, nl)) == NULL) return -1;
            continue;
        }
        p++;
        if (c >= 0x80) return -1;
        if ((c < 0x20 && c != '\t') || c == 0x7f) continue;     /* _CONTROL */
        if (n >= LINE_MAX_CLEAN) return -1;
        buf[n++] = c;
    }
    while (n > 0 && n_ws(buf[n - 1])) n--;
    return n;
}

/* Could a prefix start this plain line at all? (normalize._MAY_HAVE_PREFIX's first
 * characters) */
static int may_start(unsigned char c) {
    return c == '[' || c == '(' || c == '<' || n_dig(c) || n_up(c);
}

/* The end of the line at q ('\n' or end), 8 bytes at a time where no byte is below ' ' or
 * above '~'; *clean is cleared when the line holds a byte other than those and TAB. */
static const unsigned char *line_end(const unsigned char *q, const unsigned char *end,
                                     int *clean) {
    const unsigned long long ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    for (;;) {
        while (end - q >= 8) {
            unsigned long long x;
            memcpy(&x, q, 8);
            /* a byte < 0x20 (the borrow), >= 0x80 (its own bit) or 0x7f (+1 sets it) */
            if ((((x - 0x20 * ones) & ~x) | x | (x + ones)) & high) break;
            q += 8;
        }
        const unsigned char *stop = end - q >= 8 ? q + 8 : end;
        for (; q < stop; q++) {
            unsigned char c = *q;
            if (c >= 0x20 && c <= 0x7e) continue;
            if (c == '\n') return q;
            if (c != '\t') *clean = 0;
        }
        if (q >= end) return end;
    }
}

/* prefix_count(text) -> (plain, count, rest, lines): ``plain`` is normalize.is_plain(text);
 * ``count`` how many lines normalize() finds a prefix on, among those decided here; ``rest``
 * the other lines ('\n'-ended: non-ASCII text, escapes other than CSI, overlong lines), for
 * normalize.count_prefixed; ``lines`` how many '\n' it holds. None when the text is not
 * 1-byte. */
static PyObject *prefix_count(PyObject *self, PyObject *args) {
    PyObject *text;
    if (!PyArg_ParseTuple(args, "U", &text)) return NULL;
    if (PyUnicode_KIND(text) != PyUnicode_1BYTE_KIND) Py_RETURN_NONE;
    const unsigned char *base = PyUnicode_1BYTE_DATA(text);
    Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    const unsigned char *p = base, *end = base + len;
    static unsigned char buf[LINE_MAX_CLEAN + 1];
    PyObject *rest = NULL;
    unsigned char *keep = NULL;
    Py_ssize_t k = 0, count = 0, lines = 0;
    int plain = 1;
    while (p < end) {
        int clean = 1;
        const unsigned char *stop = line_end(p, end, &clean);
        const unsigned char *nl = stop < end ? stop : NULL;
        lines += nl != NULL;
        if (clean) {                                      /* printable ASCII and TAB */
            if (p < stop && may_start(*p)) {
                Py_ssize_t n = stop - p, s;
                while (n > 0 && n_ws(p[n - 1])) n--;
                count += strip_prefixes(p, n, &s);
            }
        } else {
            plain = 0;
            Py_ssize_t n = clean_keep_case(p, stop, buf), s;
            if (n >= 0) {
                count += n > 0 && may_start(buf[0]) && strip_prefixes(buf, n, &s);
            } else {
                if (keep == NULL) {
                    keep = PyMem_Malloc((size_t)len + 1);
                    if (keep == NULL) return PyErr_NoMemory();
                }
                memcpy(keep + k, p, (size_t)(stop - p));
                k += stop - p;
                keep[k++] = '\n';
            }
        }
        p = nl ? nl + 1 : end;
    }
    rest = PyUnicode_DecodeLatin1((const char *)(keep ? keep : (unsigned char *)""), k, NULL);
    PyMem_Free(keep);
    if (rest == NULL) return NULL;
    return Py_BuildValue("(OnNn)", plain ? Py_True : Py_False, count, rest, lines);
}

/* normalize_line(line) -> (prefixed, text) or None: normalize() of one line as this module
 * decides it (for the tests that compare the two). */
static PyObject *normalize_line(PyObject *self, PyObject *args) {
    PyObject *text;
    if (!PyArg_ParseTuple(args, "U", &text)) return NULL;
    if (PyUnicode_KIND(text) != PyUnicode_1BYTE_KIND) Py_RETURN_NONE;
    const unsigned char *p = PyUnicode_1BYTE_DATA(text);
    static unsigned char buf[LINE_MAX_CLEAN + 1];
    Py_ssize_t n = clean_keep_case(p, p + PyUnicode_GET_LENGTH(text), buf), s;
    if (n < 0) Py_RETURN_NONE;
    int prefixed = strip_prefixes(buf, n, &s);
    return Py_BuildValue("(Os#)", prefixed ? Py_True : Py_False, (const char *)buf + s, n - s);
}

/* normalize(line).text.strip() of the line [p, nl) as buf[*ts, *te); 0 when the line holds
 * what only Python decides (see clean_keep_case). */
static int norm_text(const unsigned char *p, const unsigned char *nl, unsigned char *buf,
                     Py_ssize_t *ts, Py_ssize_t *te) {
    Py_ssize_t n = clean_keep_case(p, nl, buf), s;
    if (n < 0) return 0;
    strip_prefixes(buf, n, &s);
    while (s < n && n_ws(buf[s])) s++;   /* (clean text: TAB and space are its only blanks) */
    *ts = s;
    *te = n;
    return 1;
}

static int has_ci(const unsigned char *s, Py_ssize_t n, const char *w);

/* heap_checks(text, skips, nskip, check_s, check_e) -> k: the checks scan._heap_run makes on
 * a HeapRun's tables (int64 columns as run() gives them), in C: the first table k whose
 * foreign lines inside normalise to nothing or whose next line could continue it (empty,
 * "[HEAP]|", a rule, the K_MM_STATISTIC notice), -1 when none, -2 when a line holds what only
 * Python decides (then Python checks them all). */
static PyObject *heap_checks(PyObject *self, PyObject *args) {
    PyObject *text;
    Py_buffer sk, ns, cs, ce;
    if (!PyArg_ParseTuple(args, "Uy*y*y*y*", &text, &sk, &ns, &cs, &ce)) return NULL;
    long result = -1;
    static unsigned char buf[LINE_MAX_CLEAN + 1];
    const int64_t *skips = sk.buf, *nskip = ns.buf, *c_s = cs.buf, *c_e = ce.buf;
    Py_ssize_t nsk = sk.len / 8, tables = ns.len / 8;
    Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    if (PyUnicode_KIND(text) != PyUnicode_1BYTE_KIND || cs.len / 8 < tables
            || ce.len / 8 < tables || ((uintptr_t)sk.buf | (uintptr_t)ns.buf
                                       | (uintptr_t)cs.buf | (uintptr_t)ce.buf) % 8) {
        result = -2;
        goto done;
    }
    const unsigned char *base = PyUnicode_1BYTE_DATA(text);
    Py_ssize_t s = 0, ts, te;
    for (Py_ssize_t k = 0; k < tables; k++) {
        int64_t n = nskip[k];
        if (n < 0 || n > nsk / 2 - s) { result = -2; goto done; }   /* (no overflow) */
        for (int64_t i = 0; i < n; i++) {
            int64_t a = skips[2 * (s + i)], b = skips[2 * (s + i) + 1];
            if (a < 0 || a > b || b > len || !norm_text(base + a, base + b, buf, &ts, &te)) {
                result = -2;
                goto done;
            }
            if (ts == te) { result = (long)k; goto done; }
        }
        int64_t a = c_s[k], b = c_e[k];
        if (a >= 0) {
            if (a > b || b > len || !norm_text(base + a, base + b, buf, &ts, &te)) {
                result = -2;
                goto done;
            }
            Py_ssize_t m = te - ts;
            const unsigned char *t = buf + ts;
            int rule = m >= 20;                               /* _DASHES: ^-{20,}$ */
            for (Py_ssize_t j = 0; rule && j < m; j++) rule = t[j] == '-';
            if (m == 0 || (m >= 7 && memcmp(t, "[HEAP]|", 7) == 0) || rule
                    || has_ci(t, m, "k_mm_statistic in k_config.h is closed")) {
                result = (long)k;
                goto done;
            }
        }
        s += n;
    }
done:
    PyBuffer_Release(&sk); PyBuffer_Release(&ns); PyBuffer_Release(&cs); PyBuffer_Release(&ce);
    return PyLong_FromLong(result);
}

/* ---- dump_run: a block dump's block lines, blank lines and foreign lines in bulk -------- */

static int has_ci(const unsigned char *s, Py_ssize_t n, const char *w) {   /* w lowercase */
    Py_ssize_t L = (Py_ssize_t)strlen(w);
    for (Py_ssize_t j = 0; j + L <= n; j++) {
        Py_ssize_t k = 0;
        while (k < L) {
            unsigned char c = s[j + k];
            if (c >= 'A' && c <= 'Z') c = (unsigned char)(c + 32);
            if (c != (unsigned char)w[k]) break;
            k++;
        }
        if (k == L) return 1;
    }
    return 0;
}

/* Would BlockDumpReader._feed return SKIPPED for the stripped text s (non-empty), changing
 * nothing but its skipped count, in this mode (BlockDumpReader.bulk_mode: 0 head/blocks/free,
 * 1 stat, 2 sizes, 3 tasks; no nested table open, the dump not complete)? Said only where
 * no test of _feed/_banner/_other can match: not a block line (a hex digit first and
 * used/free in it), no banner or rule ('-' first), no dots, none of the header, bitmap and
 * bucket words; in stat no '|' (its header and values), in tasks no task header, no ISR
 * line and no last digit (a task row ends in three numbers). */
/* Digits d[0, n) as a long long; 0 when there are more than 18 (Python decides those). */
static int small_int(const unsigned char *d, Py_ssize_t n, long long *v) {
    if (n < 1 || n > 18) return 0;
    long long x = 0;
    for (Py_ssize_t i = 0; i < n; i++) x = x * 10 + (d[i] - '0');
    *v = x;
    return 1;
}

/* _TASK_ROW on the stripped text s ("^(?P<name>.*?)\s+(\d+)\s+(\d+)\s+(\d+)$" with a name):
 * the last three blank-separated runs of digits, blanks before each, a name before them.
 * 1 (name s[0, *name_end), prio, stack, heap in v), 0 (no match), -1 (a number of more
 * than 18 digits: Python decides). Clean text: space and TAB are its only blanks. */
static int task_row(const unsigned char *s, Py_ssize_t n, Py_ssize_t *name_end,
                    long long v[3]) {
    Py_ssize_t i = n;
    int big = 0;
    for (int k = 2; k >= 0; k--) {
        Py_ssize_t j = i;
        while (j > 0 && n_dig(s[j - 1])) j--;
        if (j == i) return 0;
        if (!small_int(s + j, i - j, &v[k])) big = 1;
        Py_ssize_t w = j;
        while (w > 0 && n_ws(s[w - 1])) w--;
        if (w == j) return 0;
        i = w;
    }
    if (i == 0) return 0;
    *name_end = i;
    return big ? -1 : 1;
}

static int dump_foreign(const unsigned char *s, Py_ssize_t n, int mode);
static int ci_lit(const unsigned char **pp, const unsigned char *e, const char *w);

/* The alloc-size buckets of a line (_BUCKET.findall: "\[2\^(\d+)\]\s*bytes:\s*(\d+)") as a
 * list of (n, count); an empty list when none; NULL on error or a number of more than 18
 * digits (*big set: Python decides). */
static PyObject *buckets(const unsigned char *s, Py_ssize_t n, int *big) {
    PyObject *out = PyList_New(0);
    if (out == NULL) return NULL;
    const unsigned char *p = s, *e = s + n;
    while (e - p >= 3) {
        const unsigned char *q = memchr(p, '[', (size_t)(e - p));
        if (q == NULL || e - q < 3) break;
        p = q + 1;
        if (q[1] != '2' || q[2] != '^') continue;
        const unsigned char *r = q + 3, *d1 = r;
        while (r < e && n_dig(*r)) r++;
        if (r == d1 || r >= e || *r != ']') continue;
        const unsigned char *d1e = r++;
        while (r < e && n_ws(*r)) r++;
        if (e - r < 6 || memcmp(r, "bytes:", 6) != 0) continue;
        r += 6;
        while (r < e && n_ws(*r)) r++;
        const unsigned char *d2 = r;
        while (r < e && n_dig(*r)) r++;
        if (r == d2) continue;
        long long a, b;
        if (!small_int(d1, d1e - d1, &a) || !small_int(d2, r - d2, &b)) {
            *big = 1;
            Py_DECREF(out);
            return NULL;
        }
        PyObject *t = Py_BuildValue("(LL)", a, b);
        if (t == NULL || PyList_Append(out, t) < 0) { Py_XDECREF(t); Py_DECREF(out); return NULL; }
        Py_DECREF(t);
        p = r;
    }
    return out;
}

/* _ISR.search ("Allocated in ISR\s*(-?\d+),\s*Allocated by deleted task\s*(-?\d+)", any
 * case) on s: 1 with both numbers, 0 none, -1 a number Python must read. */
static int isr_line(const unsigned char *s, Py_ssize_t n, long long v[2]) {
    for (Py_ssize_t j = 0; j + 16 <= n; j++) {
        const unsigned char *p = s + j, *e = s + n;
        if (!ci_lit(&p, e, "allocated in isr")) continue;
        int big = 0;
        for (int k = 0; k < 2; k++) {
            while (p < e && n_ws(*p)) p++;
            int neg = p < e && *p == '-';
            const unsigned char *d = p + neg, *q = d;
            while (q < e && n_dig(*q)) q++;
            if (q == d) goto next;
            if (!small_int(d, q - d, &v[k])) big = 1;
            else if (neg) v[k] = -v[k];
            p = q;
            if (k == 0) {
                if (p >= e || *p != ',') goto next;
                p++;
                while (p < e && n_ws(*p)) p++;
                if (!ci_lit(&p, e, "allocated by deleted task")) goto next;
            }
        }
        return big ? -1 : 1;
    next:;
    }
    return 0;
}

/* A dump line BlockDumpReader._other reads a value from, in this mode (see dump_foreign),
 * on the stripped text s: g_kmm_head (any mode), a row of alloc-size buckets that starts with
 * '[' (modes 0-3; no earlier test of _feed/_other can match a line starting so), and in the
 * tasks phase a task row or the ISR line (lines that no earlier test can match: not a block
 * line, no banner, no header, bitmap or bucket). Returns the act as a tuple (0, line, value)
 * kmm head, (1, line, [(n, count)...]) buckets, (2, line, name, prio, stack, heap) task row,
 * (3, line, isr, deleted) ISR line; Py_None for none of these (the caller goes on as before),
 * NULL with *stop set when Python must read the line (or on error, with the exception set). */
static PyObject *dump_act(const unsigned char *s, Py_ssize_t n, int mode, Py_ssize_t line,
                          int *stop) {
    const unsigned char *p = s, *e = s + n;
    unsigned char c = s[0];
    if (c == '-' || (((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'))
                     && (has_ci(s, n, "used") || has_ci(s, n, "free"))))
        Py_RETURN_NONE;                                   /* a banner or a block: as before */
    if (ci_lit(&p, e, "g_kmm_head")) {                    /* _KMM_HEAD, _other's first test */
        ci_lit(&p, e, "_resv");
        while (p < e && n_ws(*p)) p++;
        if (p >= e || *p != '=') Py_RETURN_NONE;
        p++;
        while (p < e && n_ws(*p)) p++;
        const unsigned char *h = p;
        if (e - p > 2 && p[0] == '0' && (p[1] | 0x20) == 'x' && is_hexd(p[2])) h = p + 2;
        const unsigned char *q = h;
        while (q < e && is_hexd(*q)) q++;
        if (q == h) Py_RETURN_NONE;
        if (q - h > 16) { *stop = 1; return NULL; }
        unsigned long long v = 0;
        for (const unsigned char *r = h; r < q; r++)
            v = (v << 4) | (unsigned long long)(*r <= '9' ? *r - '0' : (*r | 0x20) - 'a' + 10);
        return Py_BuildValue("(inK)", 0, line, v);
    }
    if (c == '[') {                                       /* _BUCKET.findall */
        int big = 0;
        PyObject *b = buckets(s, n, &big);
        if (b == NULL) { if (big) *stop = 1; return NULL; }
        if (PyList_GET_SIZE(b) == 0) { Py_DECREF(b); Py_RETURN_NONE; }
        return Py_BuildValue("(inN)", 1, line, b);
    }
    if (mode != 3) Py_RETURN_NONE;
    p = s;
    if (has_ci(s, n, "[2^") || has_ci(s, n, "bitmap") || ci_lit(&p, e, "address")
            || (p = s, ci_lit(&p, e, "blk_addr")) || (p = s, ci_lit(&p, e, "taskname"))
            || (n >= 2 && s[0] == '-' && s[1] == '>'))
        Py_RETURN_NONE;
    long long v[3];
    int got = isr_line(s, n, v);
    if (got < 0) { *stop = 1; return NULL; }
    if (got) return Py_BuildValue("(inLL)", 3, line, v[0], v[1]);
    if (has_ci(s, n, "allocated")) Py_RETURN_NONE;
    Py_ssize_t name_end;
    got = task_row(s, n, &name_end, v);
    if (got < 0) { *stop = 1; return NULL; }
    if (got)
        return Py_BuildValue("(ins#LLL)", 2, line, (const char *)s, name_end, v[0], v[1], v[2]);
    Py_RETURN_NONE;
}

static int dump_foreign(const unsigned char *s, Py_ssize_t n, int mode) {
    unsigned char c = s[0];
    if (c == '-' || c == '.') return 0;
    if (((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'))
            && (has_ci(s, n, "used") || has_ci(s, n, "free")))
        return 0;
    if (has_ci(s, n, "g_kmm_head") || has_ci(s, n, "all blocks") || has_ci(s, n, "addr")
            || has_ci(s, n, "bitmap") || has_ci(s, n, "[2^"))
        return 0;
    if (mode == 1 && memchr(s, '|', (size_t)n) != NULL) return 0;
    if (mode == 3) {
        long long v[3];
        Py_ssize_t name_end;
        if (has_ci(s, n, "taskname") || has_ci(s, n, "allocated")
                || task_row(s, n, &name_end, v) != 0)
            return 0;
    }
    return mode >= 0 && mode <= 3;
}

static int ci_lit(const unsigned char **pp, const unsigned char *e, const char *w) {
    const unsigned char *p = *pp;
    for (; *w; w++, p++)
        if (p >= e || (unsigned char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p) != (unsigned char)*w)
            return 0;
    *pp = p;
    return 1;
}

static int blanks(const unsigned char **pp, const unsigned char *e) {   /* \s+ */
    const unsigned char *p = *pp;
    while (p < e && n_ws(*p)) p++;
    int any = p > *pp;
    *pp = p;
    return any;
}

/* A dump line that BlockDumpReader._feed consumes in this mode changing nothing (1), or
 * only setting _hint_b3 (2: a B3 column header, as _COLS_B3 reads it), or only its phase
 * (4 free, 5 stat, 6 tasks: the banners _ALL_FREE, _ALLOC_STAT, _TASK_STAT in their whole-
 * line shape, which no banner tested before them in _banner can match), on the stripped
 * text s (non-empty): "ALL BLOCKS" (any case), "freelist bitmap:? 0xHEX" (_FREELIST_BITMAP),
 * the tasks' column header in the tasks phase, a rule of 20+ dashes where _feed ends at
 * `_DASHES and not complete` (head, blocks, free, sizes, tasks; in stat a rule opens a
 * nested table). None of these can be a block line (no used/free after the first word),
 * and nothing _feed tests before them matches them. 0 for any other line. */
static int dump_consumed(const unsigned char *s, Py_ssize_t n, int mode) {
    const unsigned char *p = s, *e = s + n;
    if (n == 10 && ci_lit(&p, e, "all blocks")) return 1;
    p = s;
    if (ci_lit(&p, e, "freelist bitmap")) {
        if (p < e && *p == ':') p++;
        while (p < e && n_ws(*p)) p++;
        return ci_lit(&p, e, "0x") && p < e && is_hexd(*p);
    }
    p = s;
    if (ci_lit(&p, e, "blk_addr"))
        return blanks(&p, e) && ci_lit(&p, e, "stat") ? 2 : 0;
    p = s;
    if (ci_lit(&p, e, "address"))
        return blanks(&p, e) && ci_lit(&p, e, "stat") && blanks(&p, e) && ci_lit(&p, e, "len")
            && blanks(&p, e) && ci_lit(&p, e, "chk") ? 2 : 0;
    if (mode == 3 && ci_lit(&p, e, "taskname"))       /* _TASK_HEADER, in the tasks phase */
        return blanks(&p, e) && ci_lit(&p, e, "prio") && blanks(&p, e)
            && ci_lit(&p, e, "stacksize") && blanks(&p, e) && ci_lit(&p, e, "heapallocsize");
    p = s;
    if (s[0] == '-') {
        while (p < e && *p == '-') p++;
        if (p == e)
            return n >= 20 && (mode == 0 || mode == 2 || mode == 3);
        /* a sub-section banner "-+\s*WORDS\s*-+" that only moves the phase (_banner) */
        while (p < e && n_ws(*p)) p++;
        int phase = ci_lit(&p, e, "all free memory blocks") ? 4
            : ci_lit(&p, e, "memory allocation statistic") ? 5
            : ci_lit(&p, e, "task allocation statistic") ? 6 : 0;
        if (!phase) return 0;
        while (p < e && n_ws(*p)) p++;
        if (p == e || *p != '-') return 0;
        while (p < e && *p == '-') p++;
        return p == e ? phase : 0;
    }
    return 0;
}

/* _DASHES ("^-{20,}$") on stripped text. */
static int dashes_line(const unsigned char *s, Py_ssize_t n) {
    if (n < 20) return 0;
    for (Py_ssize_t j = 0; j < n; j++) if (s[j] != '-') return 0;
    return 1;
}

/* _HEAP_OV ("^-+\s*(?:\[\w+\]\s*)?heap size overview\s*-+$", any case) on stripped text:
 * the banner of a nested heap table (B3 'heap size overview'). No banner _banner tests
 * before it can match a line of this shape. */
static int heap_ov_banner(const unsigned char *s, Py_ssize_t n) {
    const unsigned char *p = s, *e = s + n;
    if (p >= e || *p != '-') return 0;
    while (p < e && *p == '-') p++;
    while (p < e && n_ws(*p)) p++;
    if (p < e && *p == '[') {
        const unsigned char *q = p + 1;
        while (q < e && n_word(*q)) q++;
        if (q > p + 1 && q < e && *q == ']') {
            p = q + 1;
            while (p < e && n_ws(*p)) p++;
        }
    }
    if (!ci_lit(&p, e, "heap size overview")) return 0;
    while (p < e && n_ws(*p)) p++;
    if (p >= e || *p != '-') return 0;
    while (p < e && *p == '-') p++;
    return p == e;
}

/* _MMLK_END ("^-+\s*New alloced blocks info ends\.?\s*-+$", any case) on stripped text:
 * _banner ends the dump there (no banner tested before it matches this shape). */
static int mmlk_end(const unsigned char *s, Py_ssize_t n) {
    const unsigned char *p = s, *e = s + n;
    if (p >= e || *p != '-') return 0;
    while (p < e && *p == '-') p++;
    while (p < e && n_ws(*p)) p++;
    if (!ci_lit(&p, e, "new alloced blocks info ends")) return 0;
    if (p < e && *p == '.') p++;
    while (p < e && n_ws(*p)) p++;
    if (p >= e || *p != '-') return 0;
    while (p < e && *p == '-') p++;
    return p == e;
}

/* dump_run3's own modes beside BlockDumpReader.bulk_mode's 0-3: the 'overview' phase with
 * its nested table read and closed (a foreign line is the dump's to skip, as in mode 0's
 * tests), and the 'end' phase after the ISR line (only blank lines and the closing rule). */
#define DM_NOOV 7
#define DM_END 8

/* The nested heap table after a 'heap size overview' banner, read from p (the line after
 * the banner) as BlockDumpReader._feed with an OverviewReader(nested=True) would read it:
 * blank lines (the dump consumes them), the top rule (or straight the [HEAP]| header), the
 * header, the row (is_row), the bottom rule, and foreign lines where the reader skips them
 * (before the row; inert, none of the shapes the readers test). The table is over at the
 * first other line after the row or the bottom rule that is not its [POOL] part: returns
 * that line's start with the counts at it, the record's line (*ov_line), header and row;
 * NULL for any other shape (Python then reads from the banner). */
typedef struct {
    Py_ssize_t lineno, skipped, run, last, ov_line;
    const unsigned char *hs, *he;       /* the header's stripped text (in hbuf) */
    Row row;
} NestedTable;

static const unsigned char *nested_table(const unsigned char *p, const unsigned char *end,
                                         const Anchors *anp, Py_ssize_t limit,
                                         unsigned char *buf, unsigned char *low,
                                         unsigned char *hbuf, NestedTable *t) {
    enum { W, START, ROW, AFTER, DASH } st = W;
    while (p < end) {
        const unsigned char *nl = next_nl(p, end);
        if (nl == NULL) return NULL;
        Py_ssize_t n = clean_keep_case(p, nl, buf), s;
        if (n < 0) return NULL;
        strip_prefixes(buf, n, &s);
        while (s < n && n_ws(buf[s])) s++;
        const unsigned char *u = buf + s;
        Py_ssize_t un = n - s;
        if (un == 0) {                                    /* consumed by the dump */
            t->lineno++; t->last = t->lineno; t->run = 0; p = nl + 1;
            continue;
        }
        int rule = dashes_line(u, un);
        if (st == AFTER || st == DASH) {
            if (un >= 7 && memcmp(u, "[POOL]|", 7) == 0) return NULL;
            if (st == AFTER && rule) {
                st = DASH;
                t->lineno++; t->last = t->lineno; t->run = 0; p = nl + 1;
                continue;
            }
            return p;                        /* the reader ends: the line is the dump's */
        }
        if (rule) {                          /* opens the table; in START, consumed */
            if (st == ROW) return NULL;      /* (the reader skips it there: Python) */
            if (st == W) { st = START; t->ov_line = t->lineno + 1; }
            t->lineno++; t->last = t->lineno; t->run = 0; p = nl + 1;
            continue;
        }
        if (has_ci(u, un, "[2^")) return NULL;           /* _is_dump_banner's buckets */
        if (un >= 7 && memcmp(u, "[HEAP]|", 7) == 0) {
            if (st == ROW) return NULL;
            if (st == W) t->ov_line = t->lineno + 1;
            memcpy(hbuf, u, (size_t)un);
            t->hs = hbuf; t->he = hbuf + un;
            st = ROW;
            t->lineno++; t->last = t->lineno; t->run = 0; p = nl + 1;
            continue;
        }
        if (u[0] == '|') {
            if (st != ROW || !is_row(u, u + un, &t->row)) return NULL;
            st = AFTER;
            t->lineno++; t->last = t->lineno; t->run = 0; p = nl + 1;
            continue;
        }
        /* a foreign line, skipped (W: by the dump, phase 'overview'; START, ROW: by the
         * table): no reader's anchor, nothing the dump or the table reader tests */
        for (Py_ssize_t j = 0; j < n; j++)
            low[j] = (buf[j] >= 'A' && buf[j] <= 'Z') ? (unsigned char)(buf[j] + 32) : buf[j];
        if (has_anchor(low, n, anp) || !dump_foreign(u, un, 0) || memchr(u, '|', (size_t)un)
                || has_sub(u, un, "=====") || has_sub(u, un, "!!!!!")
                || has_ci(u, un, "k_mm_statistic") || t->run + 1 > limit)
            return NULL;
        t->lineno++; t->skipped++; t->run++; p = nl + 1;
    }
    return NULL;
}

/* dump_run(text, pos, lineno, factory, anchors, mode, run, limit)
 *   -> (end, lineno, blocks, skipped, run, last, b3, phase)
 * The lines from pos that the open block dump reads as the line path would, with nothing
 * else to do: strict block lines (mode 0 only; as blocks()), lines that normalise to nothing
 * (the dump consumes them: ``last`` is the line of the last consumed one, 0 if none) and
 * foreign lines it skips (dump_foreign) that no reader's anchor is in (so no other reader
 * opens or reads them), while the run of skipped lines (``run`` on entry, as counted by
 * LogParser) stays within ``limit`` (LogParser.max_skipped), and the structural lines
 * dump_consumed names (``b3``: a B3 column header was among them). Stops at the first
 * other line, or after a banner that moves the dump's phase (``phase``: 1 free, 2 stat,
 * 3 tasks; 0 none), so that the blocks before it are added in the phase they were read
 * in. */
static PyObject *dump_run_impl(PyObject *args, int level) {
    int with_acts = level >= 1;
    PyObject *text, *factory, *anchors;
    Py_ssize_t pos, lineno, run, limit;
    int mode;
    if (!PyArg_ParseTuple(args, "UnnOO!inn", &text, &pos, &lineno, &factory, &PyTuple_Type,
                          &anchors, &mode, &run, &limit))
        return NULL;
    PyObject *out = PyList_New(0), *acts = with_acts ? PyList_New(0) : NULL;
    if (out == NULL || (with_acts && acts == NULL)) {
        Py_XDECREF(out); Py_XDECREF(acts);
        return NULL;
    }
    const Anchors *anp = NULL;
    if (PyUnicode_KIND(text) != PyUnicode_1BYTE_KIND || pos < 0
            || (anp = cached_anchors(anchors)) == NULL) {
        if (level >= 2)
            return Py_BuildValue("nnNnnniiNi", pos, lineno, out, (Py_ssize_t)0, run,
                                 (Py_ssize_t)0, 0, 0, acts, 0);
        if (with_acts)
            return Py_BuildValue("nnNnnniiN", pos, lineno, out, (Py_ssize_t)0, run,
                                 (Py_ssize_t)0, 0, 0, acts);
        return Py_BuildValue("nnNnnnii", pos, lineno, out, (Py_ssize_t)0, run, (Py_ssize_t)0, 0,
                             0);
    }
    static unsigned char buf[LINE_MAX_CLEAN + 1], low[LINE_MAX_CLEAN + 1],
        hbuf[LINE_MAX_CLEAN + 1];
    const unsigned char *base = PyUnicode_1BYTE_DATA(text);
    const unsigned char *end = base + PyUnicode_GET_LENGTH(text);
    const unsigned char *p = base + pos;
    Py_ssize_t skipped = 0, last = 0;
    int b3 = 0, phase = 0, done = 0;
    int cur = mode;          /* the phase as read so far (level 2 reads on across phases) */
#define FAIL do { Py_DECREF(out); Py_XDECREF(acts); return NULL; } while (0)
#define ADD_ACT(act) do { PyObject *a_ = (act); \
        if (a_ == NULL || PyList_Append(acts, a_) < 0) { Py_XDECREF(a_); FAIL; } \
        Py_DECREF(a_); } while (0)
    while (p < end) {
        const unsigned char *nl = next_nl(p, end);
        if (nl == NULL) break;
        if (cur == 0 && p < nl && *p == '0') {
            PyObject *rec = block_line(p, nl, lineno + 1, factory);
            if (rec != NULL) {
                if (PyList_Append(out, rec) < 0) { Py_DECREF(rec); FAIL; }
                Py_DECREF(rec);
                lineno++;
                last = lineno;
                run = 0;
                p = nl + 1;
                continue;
            }
            if (PyErr_Occurred()) FAIL;
        }
        Py_ssize_t n = clean_keep_case(p, nl, buf), s;
        if (n < 0) break;
        strip_prefixes(buf, n, &s);
        while (s < n && n_ws(buf[s])) s++;
        if (s == n) {                                     /* nothing left: consumed */
            lineno++;
            last = lineno;
            run = 0;
            p = nl + 1;
            continue;
        }
        if (cur == DM_END) {         /* after the ISR line: its closing rule ends the dump */
            if (dashes_line(buf + s, n - s)) {
                lineno++;
                last = lineno;
                run = 0;
                p = nl + 1;
                done = 1;
            }
            break;
        }
        int dmode = cur == DM_NOOV ? 0 : cur;
        int kind = cur >= 0 ? dump_consumed(buf + s, n - s, dmode) : 0;
        if (kind) {                      /* consumed: it reaches no other reader either */
            b3 |= kind == 2;
            lineno++;
            last = lineno;
            run = 0;
            p = nl + 1;
            if (kind >= 4) {
                /* the stat and tasks banners: no block line is read after them, so the
                 * phase can move in order among the acts (level 2); the free banner sends
                 * the blocks after it to the free list: Python moves the phase first */
                if (level >= 2 && kind >= 5) {
                    ADD_ACT(Py_BuildValue("(ini)", 5, lineno, kind - 3));
                    cur = kind == 5 ? 1 : 3;
                    continue;
                }
                phase = kind - 3;
                break;
            }
            continue;
        }
        if (level >= 2 && cur >= 0 && buf[s] == '-') {
            if (mmlk_end(buf + s, n - s)) {                /* _banner: DONE */
                lineno++;
                last = lineno;
                run = 0;
                p = nl + 1;
                ADD_ACT(Py_BuildValue("(in)", 6, lineno));
                done = 1;
                break;
            }
            if (heap_ov_banner(buf + s, n - s)) {
                /* phase 'overview' and its nested table: read whole, or left to Python */
                NestedTable t;
                t.lineno = lineno + 1; t.last = t.lineno; t.run = 0; t.skipped = 0;
                t.ov_line = 0; t.hs = t.he = NULL;
                const unsigned char *at = nested_table(nl + 1, end, anp, limit, buf, low,
                                                       hbuf, &t);
                if (at == NULL) break;
                PyObject *vals = PyList_New(t.row.n);
                if (vals == NULL) FAIL;
                for (int i = 0; i < t.row.n; i++) {
                    PyObject *v = PyLong_FromUnsignedLongLong(t.row.v[i]);
                    if (v == NULL) { Py_DECREF(vals); FAIL; }
                    PyList_SET_ITEM(vals, i, v);
                }
                /* (4, the record's line, header, values, is_hex) */
                ADD_ACT(Py_BuildValue("(ins#NO)", 4, t.ov_line, (const char *)t.hs,
                                      (Py_ssize_t)(t.he - t.hs), vals,
                                      t.row.hex ? Py_True : Py_False));
                p = at;
                lineno = t.lineno;
                last = t.last;
                run = t.run;
                skipped += t.skipped;
                cur = DM_NOOV;
                continue;
            }
        }
        if (with_acts && cur >= 0) {      /* a line the dump reads a value from */
            int stop = 0;
            PyObject *act = dump_act(buf + s, n - s, dmode, lineno + 1, &stop);
            if (act == NULL) {
                if (stop) break;
                FAIL;
            }
            if (act != Py_None) {
                int tag = (int)PyLong_AsLong(PyTuple_GET_ITEM(act, 0));
                if (PyList_Append(acts, act) < 0) { Py_DECREF(act); FAIL; }
                Py_DECREF(act);
                lineno++;
                last = lineno;
                run = 0;
                p = nl + 1;
                /* the phase moves (Python moves it): buckets out of head/blocks/free/stat
                 * (a B2 dump is then complete: Python decides what follows), the ISR line
                 * to the end */
                if (tag == 3 && level >= 2) { cur = DM_END; continue; }
                if (tag == 3 || (tag == 1 && cur <= 1)) break;
                continue;
            }
            Py_DECREF(act);
        }
        for (Py_ssize_t j = 0; j < n; j++)
            low[j] = (buf[j] >= 'A' && buf[j] <= 'Z') ? (unsigned char)(buf[j] + 32) : buf[j];
        if (has_anchor(low, n, anp) || !dump_foreign(buf + s, n - s, dmode) || run + 1 > limit)
            break;
        lineno++;
        skipped++;
        run++;
        p = nl + 1;
    }
#undef ADD_ACT
#undef FAIL
    if (level >= 2)
        return Py_BuildValue("nnNnnniiNi", (Py_ssize_t)(p - base), lineno, out, skipped, run,
                             last, b3, phase, acts, done);
    if (with_acts)
        return Py_BuildValue("nnNnnniiN", (Py_ssize_t)(p - base), lineno, out, skipped, run,
                             last, b3, phase, acts);
    return Py_BuildValue("nnNnnnii", (Py_ssize_t)(p - base), lineno, out, skipped, run, last, b3,
                         phase);
}

static PyObject *dump_run(PyObject *self, PyObject *args) { return dump_run_impl(args, 0); }

/* dump_run2(...) -> dump_run's tuple and ``acts``: the lines it also read a value from
 * (dump_act), in order, for BlockDumpReader.add_acts. Stops after an act that moves the
 * phase. */
static PyObject *dump_run2(PyObject *self, PyObject *args) { return dump_run_impl(args, 1); }

/* dump_run3(...) -> dump_run2's tuple and ``done``: reads on where dump_run2 stops for
 * Python to move the phase when no block line can follow (the stat and tasks banners:
 * act (5, line, 2 stat | 3 tasks)), the nested table after a 'heap size overview' banner
 * (act (4, line, header, values, is_hex): phase 'overview', the table read and closed with
 * this row; see nested_table), and the lines that end the dump: the rule after the ISR line
 * and the mmlk end banner (act (6, line): the dump's end seen); ``done``: the dump is
 * complete at ``end`` (BlockDumpReader.feed said DONE; the caller closes it). */
static PyObject *dump_run3(PyObject *self, PyObject *args) { return dump_run_impl(args, 2); }

/* ---- Ledger: analysis/objects.py's create/delete pairing, in C ------------------------ */

/* The same state as ObjectBalance (its docstring gives the rules), kept in C arrays and hash
 * tables so that an event costs no Python object: per kind and per create site the counters,
 * the live handles in an open-addressing table. Per-cycle patterns stay Python dicts (one
 * update per touched kind and site per cycle, in the order the Python ledger inserts them:
 * most_common breaks ties by insertion order). ``state()`` hands everything to Python, which
 * builds the results (or carries on pairing in Python) from it. */

typedef struct {
    PyObject *name;                        /* str */
    int64_t created, deleted, lost, unmatched, mismatch, cur_c, cur_d, net_sum, born;
    int64_t z_expected, z_first;           /* _Zeros; z_first -1: None */
    PyObject *pattern;                     /* dict (created, deleted) -> cycles */
} LKind;

typedef struct {
    uint32_t kind;
    uint64_t caller;
    int64_t created, deleted, lost, late, cur_c, lost_in_cycles, born, z_expected, z_first;
    PyObject *pattern;                     /* dict created -> cycles */
    PyObject *lost_recent;                 /* dict cycle -> lost objects, or NULL */
    int64_t *runs;                         /* lost_runs: start, end pairs, sorted */
    Py_ssize_t nruns, capruns;             /* pairs held, pairs allocated */
} LSite;

typedef struct {
    uint64_t handle;
    int64_t cycle, line;
    uint32_t site, used;
} LLive;

typedef struct {
    PyObject_HEAD
    int64_t grace, cycle, closed, events;
    int has_seq;
    uint64_t last_seq, gaps;
    PyObject *gaps_big;                    /* gaps carried over past 2**64 (a PyLong) */
    LKind *kinds; Py_ssize_t nkinds, capkinds;
    PyObject *kind_index;                  /* str -> kind index */
    int32_t gkind[MAX_KINDS];              /* the scanner's kind id -> kind index, -1 */
    PyObject *gnames;                      /* the names list gkind was filled from */
    LSite *sites; Py_ssize_t nsites, capsites;
    uint32_t *site_tab; size_t site_mask;  /* site index + 1; 0 empty */
    LLive *live; size_t live_mask, nlive;
    uint32_t *tk, *ts; Py_ssize_t ntk, nts, captk, capts;   /* touched in the open cycle */
} Ledger;

static uint64_t mix64(uint64_t x) {
    x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27; x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static int push_u32(uint32_t **a, Py_ssize_t *n, Py_ssize_t *cap, uint32_t v) {
    if (*n == *cap) {
        Py_ssize_t c = *cap ? *cap * 2 : 16;
        uint32_t *b = PyMem_Realloc(*a, (size_t)c * sizeof(uint32_t));
        if (b == NULL) { PyErr_NoMemory(); return 0; }
        *a = b; *cap = c;
    }
    (*a)[(*n)++] = v;
    return 1;
}

/* -- live handles: linear probing, deletion by backward shift (no tombstones) -- */
static LLive *live_find(Ledger *L, uint64_t h) {
    if (L->live == NULL) return NULL;
    size_t i = mix64(h) & L->live_mask;
    while (L->live[i].used) {
        if (L->live[i].handle == h) return &L->live[i];
        i = (i + 1) & L->live_mask;
    }
    return NULL;
}

static void live_remove(Ledger *L, LLive *e) {
    size_t mask = L->live_mask, i = (size_t)(e - L->live), j = i;
    L->live[i].used = 0;
    for (;;) {
        j = (j + 1) & mask;
        if (!L->live[j].used) break;
        size_t k = mix64(L->live[j].handle) & mask;
        /* move j back into the hole at i unless its home k lies cyclically in (i, j] */
        if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
            L->live[i] = L->live[j];
            L->live[j].used = 0;
            i = j;
        }
    }
    L->nlive--;
}

static int live_grow(Ledger *L) {
    size_t cap = L->live ? (L->live_mask + 1) * 2 : 1024;
    LLive *t = PyMem_Calloc(cap, sizeof(LLive));
    if (t == NULL) { PyErr_NoMemory(); return 0; }
    LLive *old = L->live;
    size_t oldcap = old ? L->live_mask + 1 : 0;
    L->live = t; L->live_mask = cap - 1;
    for (size_t i = 0; i < oldcap; i++) {
        if (!old[i].used) continue;
        size_t k = mix64(old[i].handle) & L->live_mask;
        while (t[k].used) k = (k + 1) & L->live_mask;
        t[k] = old[i];
    }
    PyMem_Free(old);
    return 1;
}

static int live_add(Ledger *L, uint64_t h, int64_t cycle, int64_t line, uint32_t site) {
    if (L->live == NULL || (L->nlive + 1) * 2 > L->live_mask + 1)
        if (!live_grow(L)) return 0;
    size_t i = mix64(h) & L->live_mask;
    while (L->live[i].used) i = (i + 1) & L->live_mask;
    L->live[i] = (LLive){h, cycle, line, site, 1};
    L->nlive++;
    return 1;
}

/* -- kinds and sites -- */
static Py_ssize_t kind_of(Ledger *L, PyObject *name) {     /* -1 on error */
    PyObject *hit = PyDict_GetItemWithError(L->kind_index, name);
    if (hit != NULL) return PyLong_AsSsize_t(hit);
    if (PyErr_Occurred()) return -1;
    if (L->nkinds == L->capkinds) {
        Py_ssize_t c = L->capkinds ? L->capkinds * 2 : 8;
        LKind *k = PyMem_Realloc(L->kinds, (size_t)c * sizeof(LKind));
        if (k == NULL) { PyErr_NoMemory(); return -1; }
        L->kinds = k; L->capkinds = c;
    }
    PyObject *pattern = PyDict_New();
    PyObject *v = PyLong_FromSsize_t(L->nkinds);
    if (pattern == NULL || v == NULL || PyDict_SetItem(L->kind_index, name, v) < 0) {
        Py_XDECREF(pattern); Py_XDECREF(v); return -1;
    }
    Py_DECREF(v);
    LKind *k = &L->kinds[L->nkinds];
    memset(k, 0, sizeof *k);
    Py_INCREF(name);
    k->name = name;
    k->pattern = pattern;
    k->born = L->closed;
    k->z_first = -1;
    return L->nkinds++;
}

static size_t site_hash(uint32_t kind, uint64_t caller) {
    return (size_t)mix64(caller ^ ((uint64_t)kind * 0x9e3779b97f4a7c15ULL));
}

static int site_grow(Ledger *L) {
    size_t cap = L->site_tab ? (L->site_mask + 1) * 2 : 64;
    uint32_t *t = PyMem_Calloc(cap, sizeof(uint32_t));
    if (t == NULL) { PyErr_NoMemory(); return 0; }
    PyMem_Free(L->site_tab);
    L->site_tab = t; L->site_mask = cap - 1;
    for (Py_ssize_t s = 0; s < L->nsites; s++) {
        size_t i = site_hash(L->sites[s].kind, L->sites[s].caller) & L->site_mask;
        while (t[i]) i = (i + 1) & L->site_mask;
        t[i] = (uint32_t)s + 1;
    }
    return 1;
}

static Py_ssize_t site_of(Ledger *L, uint32_t kind, uint64_t caller) {   /* -1 on error */
    if (L->site_tab != NULL) {
        size_t i = site_hash(kind, caller) & L->site_mask;
        uint32_t s;
        while ((s = L->site_tab[i]) != 0) {
            LSite *x = &L->sites[s - 1];
            if (x->kind == kind && x->caller == caller) return s - 1;
            i = (i + 1) & L->site_mask;
        }
    }
    if (L->nsites >= 0x7fffffff) { PyErr_SetString(PyExc_OverflowError, "too many sites"); return -1; }
    if (L->nsites == L->capsites) {
        Py_ssize_t c = L->capsites ? L->capsites * 2 : 16;
        LSite *x = PyMem_Realloc(L->sites, (size_t)c * sizeof(LSite));
        if (x == NULL) { PyErr_NoMemory(); return -1; }
        L->sites = x; L->capsites = c;
    }
    PyObject *pattern = PyDict_New();
    if (pattern == NULL) return -1;
    LSite *x = &L->sites[L->nsites];
    memset(x, 0, sizeof *x);
    x->kind = kind; x->caller = caller; x->pattern = pattern;
    x->born = L->closed; x->z_first = -1;
    Py_ssize_t s = L->nsites++;
    if ((size_t)L->nsites * 2 > (L->site_tab ? L->site_mask + 1 : 0)) {
        if (!site_grow(L)) return -1;           /* re-inserts every site, this one too */
    } else {
        size_t i = site_hash(kind, caller) & L->site_mask;
        while (L->site_tab[i]) i = (i + 1) & L->site_mask;
        L->site_tab[i] = (uint32_t)s + 1;
    }
    return s;
}

static int append_new(PyObject *list, PyObject *v) {   /* steals v */
    if (v == NULL) return 0;
    int rc = PyList_Append(list, v);
    Py_DECREF(v);
    return rc == 0;
}

static int dict_add(PyObject *d, PyObject *key, int64_t n) {    /* d[key] += n; steals key */
    if (key == NULL) return 0;
    long long cur = 0;
    PyObject *old = PyDict_GetItemWithError(d, key);
    if (old != NULL) cur = PyLong_AsLongLong(old);
    if (PyErr_Occurred()) { Py_DECREF(key); return 0; }
    PyObject *v = PyLong_FromLongLong(cur + n);
    int rc = v == NULL ? -1 : PyDict_SetItem(d, key, v);
    Py_XDECREF(v);
    Py_DECREF(key);
    return rc == 0;
}

/* Adds a cycle to a site's lost cycles, kept as sorted disjoint runs [start, end] (memory
 * grows with the runs, not with the cycle numbers as a bitmap did); mirrors objects._Runs. */
static int add_run(LSite *s, int64_t c) {
    int64_t *r = s->runs;
    Py_ssize_t n = s->nruns, i = n;
    if (n && c <= r[2 * n - 1] + 1) {
        if (c == r[2 * n - 1] + 1) { r[2 * n - 1] = c; return 1; }   /* extends the last */
        Py_ssize_t lo = 0, hi = n;               /* i: the first run starting after c */
        while (lo < hi) {
            Py_ssize_t mid = (lo + hi) / 2;
            if (r[2 * mid] > c) hi = mid; else lo = mid + 1;
        }
        i = lo;
        if (i && c <= r[2 * i - 1]) return 1;    /* already in run i - 1 */
        int left = i && r[2 * i - 1] == c - 1, right = i < n && r[2 * i] == c + 1;
        if (left && right) {                     /* fills the gap: runs i - 1 and i join */
            r[2 * i - 1] = r[2 * i + 1];
            memmove(r + 2 * i, r + 2 * i + 2, (size_t)(n - i - 1) * 2 * sizeof *r);
            s->nruns--;
            return 1;
        }
        if (left) { r[2 * i - 1] = c; return 1; }
        if (right) { r[2 * i] = c; return 1; }
    }
    if (n == s->capruns) {                       /* a new run [c, c] at i */
        Py_ssize_t cap = s->capruns ? s->capruns * 2 : 4;
        int64_t *x = PyMem_Realloc(r, (size_t)cap * 2 * sizeof *r);
        if (x == NULL) { PyErr_NoMemory(); return 0; }
        s->runs = r = x; s->capruns = cap;
    }
    memmove(r + 2 * i + 2, r + 2 * i, (size_t)(n - i) * 2 * sizeof *r);
    r[2 * i] = r[2 * i + 1] = c;
    s->nruns++;
    return 1;
}

/* _SiteCounts' lost bookkeeping for an object closed without a delete (handle reused). */
static int close_lost(Ledger *L, const LLive *old) {
    LSite *s = &L->sites[old->site];
    L->kinds[s->kind].lost++;
    s->lost++;
    if (old->cycle < 1) return 1;
    s->lost_in_cycles++;
    /* lost_recent only matters for cycles past the judged ones (result() subtracts those):
     * older entries are dropped here instead of at every marker */
    int64_t judged = L->cycle - 1 - L->grace;
    if (s->lost_recent == NULL && (s->lost_recent = PyDict_New()) == NULL) return 0;
    if (PyDict_GET_SIZE(s->lost_recent) > 0) {
        PyObject *keys = PyDict_Keys(s->lost_recent);
        if (keys == NULL) return 0;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(keys); i++) {
            PyObject *k = PyList_GET_ITEM(keys, i);
            long long c = PyLong_AsLongLong(k);
            if (c <= judged && PyDict_DelItem(s->lost_recent, k) < 0) { Py_DECREF(keys); return 0; }
        }
        Py_DECREF(keys);
    }
    if (old->cycle > judged && !dict_add(s->lost_recent, PyLong_FromLongLong(old->cycle), 1))
        return 0;
    return add_run(s, old->cycle);
}

static void add_gap(Ledger *L, uint64_t seq) {
    if (L->has_seq && seq > L->last_seq && seq - L->last_seq > 1) {
        uint64_t g = seq - L->last_seq - 1;
        if (g > UINT64_MAX - L->gaps) {            /* carry into a Python int */
            PyObject *a = PyLong_FromUnsignedLongLong(L->gaps);
            PyObject *s = a && L->gaps_big ? PyNumber_Add(L->gaps_big, a) : (Py_XINCREF(a), a);
            Py_XDECREF(a);
            if (s != NULL) { Py_XDECREF(L->gaps_big); L->gaps_big = s; L->gaps = 0; }
            else PyErr_Clear();
        }
        L->gaps += g;
    }
    L->last_seq = seq;
    L->has_seq = 1;
}

/* One event (ObjectBalance.event); 0 on error. */
static int ledger_event(Ledger *L, int create, uint32_t k, uint64_t handle, uint64_t caller,
                        int64_t line) {
    L->events++;
    LKind *K = &L->kinds[k];
    if (!(K->cur_c || K->cur_d) && !push_u32(&L->tk, &L->ntk, &L->captk, k)) return 0;
    LLive *e = live_find(L, handle);
    if (create) {
        if (e != NULL) {
            LLive old = *e;
            live_remove(L, e);
            if (!close_lost(L, &old)) return 0;
        }
        K->created++;
        K->cur_c++;
        Py_ssize_t s = site_of(L, k, caller);
        if (s < 0 || !live_add(L, handle, L->cycle, line, (uint32_t)s)) return 0;
        LSite *S = &L->sites[s];
        S->created++;
        if (!S->cur_c && !push_u32(&L->ts, &L->nts, &L->capts, (uint32_t)s)) return 0;
        S->cur_c++;
        return 1;
    }
    K->deleted++;
    K->cur_d++;
    if (e == NULL) { K->unmatched++; return 1; }
    LLive old = *e;
    live_remove(L, e);
    LSite *S = &L->sites[old.site];
    if (S->kind != k) K->mismatch++;
    S->deleted++;
    if (L->cycle - old.cycle > L->grace) S->late++;
    return 1;
}

static void zeros_touched(int64_t *expected, int64_t *first, int64_t closing, Py_ssize_t distinct) {
    if (*first < 0 && closing != *expected) *first = distinct;
    *expected = closing + 1;
}

/* marker(): ObjectBalance.marker's cycle closing */
static PyObject *ledger_marker(Ledger *L, PyObject *unused) {
    int64_t closing = L->closed;
    if (L->cycle >= 1) {
        for (Py_ssize_t i = 0; i < L->ntk; i++) {
            LKind *K = &L->kinds[L->tk[i]];
            zeros_touched(&K->z_expected, &K->z_first, closing - K->born, PyDict_GET_SIZE(K->pattern));
            if (!dict_add(K->pattern, Py_BuildValue("(LL)", (long long)K->cur_c, (long long)K->cur_d), 1))
                return NULL;
            K->net_sum += K->cur_c - K->cur_d;
        }
        for (Py_ssize_t i = 0; i < L->nts; i++) {
            LSite *S = &L->sites[L->ts[i]];
            zeros_touched(&S->z_expected, &S->z_first, closing - S->born, PyDict_GET_SIZE(S->pattern));
            if (!dict_add(S->pattern, PyLong_FromLongLong(S->cur_c), 1)) return NULL;
        }
        L->closed++;
    }
    for (Py_ssize_t i = 0; i < L->ntk; i++) L->kinds[L->tk[i]].cur_c = L->kinds[L->tk[i]].cur_d = 0;
    for (Py_ssize_t i = 0; i < L->nts; i++) L->sites[L->ts[i]].cur_c = 0;
    L->ntk = L->nts = 0;
    L->cycle++;
    Py_RETURN_NONE;
}

/* feed(packed, names): every row of a packed stretch (see PackedEvent) */
static PyObject *ledger_feed(Ledger *L, PyObject *args) {
    Py_buffer buf;
    PyObject *names;
    if (!PyArg_ParseTuple(args, "y*O!", &buf, &PyList_Type, &names)) return NULL;
    const PackedEvent *ev = buf.buf;
    Py_ssize_t n = buf.len / (Py_ssize_t)sizeof(PackedEvent);
    int ok = buf.len % (Py_ssize_t)sizeof(PackedEvent) == 0;
    if (!ok) PyErr_SetString(PyExc_ValueError, "not a packed event stretch");
    if (ok && names != L->gnames) {      /* ids of another table: forget the cached ones */
        for (int i = 0; i < MAX_KINDS; i++) L->gkind[i] = -1;
        Py_INCREF(names);
        Py_XSETREF(L->gnames, names);
    }
    for (Py_ssize_t i = 0; ok && i < n; i++) {
        uint32_t g = ev[i].kind;
        if (g >= MAX_KINDS || g >= (uint32_t)PyList_GET_SIZE(names)) {
            PyErr_SetString(PyExc_ValueError, "kind id out of range");
            ok = 0;
            break;
        }
        if (L->gkind[g] < 0) {
            Py_ssize_t k = kind_of(L, PyList_GET_ITEM(names, g));
            if (k < 0) { ok = 0; break; }
            L->gkind[g] = (int32_t)k;
        }
        add_gap(L, ev[i].seq);
        ok = ledger_event(L, (int)ev[i].create, (uint32_t)L->gkind[g], ev[i].handle,
                          ev[i].caller, ev[i].line);
    }
    PyBuffer_Release(&buf);
    if (!ok) return NULL;
    Py_RETURN_NONE;
}

/* event(create, kind, handle, caller, seq or None, line) -> True, or False (nothing done)
 * when a number does not fit 64 bits: the caller then pairs in Python from state(). */
static PyObject *ledger_event_py(Ledger *L, PyObject *args) {
    int create;
    PyObject *kind, *handle, *caller, *seq, *line;
    if (!PyArg_ParseTuple(args, "pUOOOO", &create, &kind, &handle, &caller, &seq, &line))
        return NULL;
    uint64_t h = PyLong_Check(handle) ? PyLong_AsUnsignedLongLong(handle) : (uint64_t)-1;
    if (PyErr_Occurred() || !PyLong_Check(handle)) { PyErr_Clear(); Py_RETURN_FALSE; }
    uint64_t c = PyLong_Check(caller) ? PyLong_AsUnsignedLongLong(caller) : (uint64_t)-1;
    if (PyErr_Occurred() || !PyLong_Check(caller)) { PyErr_Clear(); Py_RETURN_FALSE; }
    uint64_t sq = 0;
    if (seq != Py_None) {
        sq = PyLong_Check(seq) ? PyLong_AsUnsignedLongLong(seq) : (uint64_t)-1;
        if (PyErr_Occurred() || !PyLong_Check(seq)) { PyErr_Clear(); Py_RETURN_FALSE; }
    }
    long long ln = PyLong_Check(line) ? PyLong_AsLongLong(line) : -1;
    if (PyErr_Occurred() || !PyLong_Check(line)) { PyErr_Clear(); Py_RETURN_FALSE; }
    Py_ssize_t k = kind_of(L, kind);
    if (k < 0) return NULL;
    if (seq != Py_None) add_gap(L, sq);
    if (!ledger_event(L, create, (uint32_t)k, h, c, (int64_t)ln)) return NULL;
    Py_RETURN_TRUE;
}

/* walk(seq, packs) -> markers: a HeapRun's markers (0 in seq) and packed event runs (2, the
 * next of packs: objects with .packed bytes and .names, or run()'s (2, packed, names) items)
 * in order; tables (1) are not ours. */
static PyObject *ledger_walk(Ledger *L, PyObject *args) {
    Py_buffer seq;
    PyObject *packs;
    if (!PyArg_ParseTuple(args, "y*O!", &seq, &PyList_Type, &packs)) return NULL;
    const unsigned char *s = seq.buf;
    Py_ssize_t e = 0, markers = 0;
    int ok = 1;
    for (Py_ssize_t i = 0; ok && i < seq.len; i++) {
        if (s[i] == 0) {
            PyObject *r = ledger_marker(L, NULL);
            if (r == NULL) ok = 0;
            Py_XDECREF(r);
            markers++;
        } else if (s[i] == 2) {
            if (e >= PyList_GET_SIZE(packs)) {
                PyErr_SetString(PyExc_ValueError, "more event runs in seq than packs");
                ok = 0;
                break;
            }
            PyObject *pack = PyList_GET_ITEM(packs, e++), *packed, *names;
            if (PyTuple_Check(pack) && PyTuple_GET_SIZE(pack) == 3) {  /* run()'s item */
                packed = PyTuple_GET_ITEM(pack, 1);
                names = PyTuple_GET_ITEM(pack, 2);
                Py_INCREF(packed);
                Py_INCREF(names);
            } else {
                packed = PyObject_GetAttrString(pack, "packed");
                names = packed ? PyObject_GetAttrString(pack, "names") : NULL;
            }
            PyObject *a = names ? PyTuple_Pack(2, packed, names) : NULL;
            PyObject *r = a ? ledger_feed(L, a) : NULL;
            if (r == NULL) ok = 0;
            Py_XDECREF(r); Py_XDECREF(a); Py_XDECREF(names); Py_XDECREF(packed);
        }
    }
    PyBuffer_Release(&seq);
    if (!ok) return NULL;
    return PyLong_FromSsize_t(markers);
}

static PyObject *zfirst(int64_t z) {
    if (z < 0) Py_RETURN_NONE;
    return PyLong_FromLongLong(z);
}

/* state() -> dict: everything ObjectBalance keeps, for its results (see objects.py). */
static PyObject *ledger_state(Ledger *L, PyObject *unused) {
    PyObject *kinds = PyList_New(0), *sites = PyList_New(0), *live = PyList_New(0);
    PyObject *gaps = NULL, *res = NULL;
    if (!kinds || !sites || !live) goto done;
    for (Py_ssize_t i = 0; i < L->nkinds; i++) {
        LKind *K = &L->kinds[i];
        if (!append_new(kinds, Py_BuildValue("(OLLLLLLLOLLLN)", K->name, (long long)K->created,
                (long long)K->deleted, (long long)K->lost, (long long)K->unmatched,
                (long long)K->mismatch, (long long)K->cur_c, (long long)K->cur_d, K->pattern,
                (long long)K->net_sum, (long long)K->born, (long long)K->z_expected,
                zfirst(K->z_first))))
            goto done;
    }
    for (Py_ssize_t i = 0; i < L->nsites; i++) {
        LSite *S = &L->sites[i];
        if (!append_new(sites, Py_BuildValue("(OKLLLLLOLONLLN)", L->kinds[S->kind].name,
                (unsigned long long)S->caller, (long long)S->created, (long long)S->deleted,
                (long long)S->lost, (long long)S->late, (long long)S->cur_c, S->pattern,
                (long long)S->lost_in_cycles, S->lost_recent ? S->lost_recent : Py_None,
                PyBytes_FromStringAndSize((const char *)S->runs,
                                          S->nruns * 2 * (Py_ssize_t)sizeof *S->runs),
                (long long)S->born, (long long)S->z_expected, zfirst(S->z_first))))
            goto done;
    }
    for (size_t i = 0; L->live && i <= L->live_mask; i++) {
        LLive *e = &L->live[i];
        if (!e->used) continue;
        LSite *S = &L->sites[e->site];
        if (!append_new(live, Py_BuildValue("(KOKL)", (unsigned long long)e->handle,
                L->kinds[S->kind].name, (unsigned long long)S->caller, (long long)e->cycle)))
            goto done;
    }
    gaps = PyLong_FromUnsignedLongLong(L->gaps);
    if (gaps != NULL && L->gaps_big != NULL) {
        PyObject *s = PyNumber_Add(gaps, L->gaps_big);
        Py_DECREF(gaps);
        gaps = s;
    }
    if (gaps == NULL) goto done;
    PyObject *last = L->has_seq ? PyLong_FromUnsignedLongLong(L->last_seq) : (Py_INCREF(Py_None), Py_None);
    res = Py_BuildValue("{sLsLsLsNsOsOsOsO}", "cycle", (long long)L->cycle, "closed",
                        (long long)L->closed, "events", (long long)L->events, "last_seq", last,
                        "seq_gaps", gaps, "kinds", kinds, "sites", sites, "live", live);
done:
    Py_XDECREF(kinds); Py_XDECREF(sites); Py_XDECREF(live); Py_XDECREF(gaps);
    return res;
}

static int ledger_init(Ledger *L, PyObject *args, PyObject *kw) {
    long long grace = 1, cycle = 0, closed = 0;
    static char *names[] = {"grace", "cycle", "closed", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|LLL", names, &grace, &cycle, &closed)) return -1;
    if (L->kind_index != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Ledger already initialised");
        return -1;
    }
    L->grace = grace < 0 ? 0 : grace;
    L->cycle = cycle;
    L->closed = closed;
    for (int i = 0; i < MAX_KINDS; i++) L->gkind[i] = -1;
    L->kind_index = PyDict_New();
    return L->kind_index == NULL ? -1 : 0;
}

static void ledger_dealloc(Ledger *L) {
    for (Py_ssize_t i = 0; i < L->nkinds; i++) {
        Py_XDECREF(L->kinds[i].name);
        Py_XDECREF(L->kinds[i].pattern);
    }
    for (Py_ssize_t i = 0; i < L->nsites; i++) {
        Py_XDECREF(L->sites[i].pattern);
        Py_XDECREF(L->sites[i].lost_recent);
        PyMem_Free(L->sites[i].runs);
    }
    PyMem_Free(L->kinds); PyMem_Free(L->sites); PyMem_Free(L->site_tab); PyMem_Free(L->live);
    PyMem_Free(L->tk); PyMem_Free(L->ts);
    Py_XDECREF(L->kind_index);
    Py_XDECREF(L->gnames);
    Py_XDECREF(L->gaps_big);
    Py_TYPE(L)->tp_free((PyObject *)L);
}

static PyObject *ledger_events(Ledger *L, void *unused) { return PyLong_FromLongLong(L->events); }

static PyMethodDef ledger_methods[] = {
    {"feed", (PyCFunction)ledger_feed, METH_VARARGS, "Pair a packed stretch of events."},
    {"event", (PyCFunction)ledger_event_py, METH_VARARGS,
     "Pair one event: True, or False when its numbers do not fit (nothing done)."},
    {"marker", (PyCFunction)ledger_marker, METH_NOARGS, "Close the open cycle."},
    {"walk", (PyCFunction)ledger_walk, METH_VARARGS,
     "A HeapRun's markers and packed event runs, in order: the markers walked."},
    {"walk_raw", (PyCFunction)ledger_walk, METH_VARARGS,
     "walk() given the HeapRun's raw_packs (run()'s (2, packed, names) items)."},
    {"state", (PyCFunction)ledger_state, METH_NOARGS, "Everything the ledger keeps, as a dict."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef ledger_getset[] = {
    {"events", (getter)ledger_events, NULL, "events paired", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject LedgerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "memsleuth._scan.Ledger",
    .tp_basicsize = sizeof(Ledger),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Create/delete pairing of object events (analysis/objects.py's ObjectBalance).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)ledger_init,
    .tp_dealloc = (destructor)ledger_dealloc,
    .tp_methods = ledger_methods,
    .tp_getset = ledger_getset,
};

static PyMethodDef methods[] = {
    {"obj_run", obj_run, METH_VARARGS, "A run of strict [MSOBJ] lines: (end, lineno, records)."},
    {"skip_inert", skip_inert, METH_VARARGS, "Skip lines no reader reads: (end, lines)."},
    {"prefix_count", prefix_count, METH_VARARGS,
     "(is_plain(text), lines found prefixed here, the lines left to count_prefixed, "
     "line count)."},
    {"normalize_line", normalize_line, METH_VARARGS,
     "normalize() of one line as the C scanner decides it: (prefixed, text) or None."},
    {"heap_checks", heap_checks, METH_VARARGS, "The checks on a HeapRun's tables' foreign "
     "lines, in C: the first table that fails, -1 for none, -2 when Python must decide."},
    {"block_type", block_type, METH_VARARGS, "Register the HeapBlock class (cls, field names): "
     "block lines then fill its slots directly; False when its fields are not the known ones."},
    {"anchors_in", anchors_in, METH_VARARGS, "The anchors (indexes) in one plain line, or "
     "None."},
    {"dump_run3", dump_run3, METH_VARARGS, "dump_run2, reading on across phases, nested "
     "tables and the dump's end: ..., acts, done."},
    {"dump_run2", dump_run2, METH_VARARGS, "dump_run, and the lines it read values from "
     "(kmm head, alloc-size buckets, task rows, the ISR line): (..., phase, acts)."},
    {"dump_run", dump_run, METH_VARARGS, "An open block dump's block, blank and foreign lines: "
     "(end, lineno, blocks, skipped, run, last, b3, phase)."},
    {"blocks", blocks, METH_VARARGS, "A run of strict block-dump lines: (end, lineno, blocks)."},
    {"run", run, METH_VARARGS, "Object events, cycle markers, overview tables and inert lines "
     "in one loop: (end, lineno, items)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_scan",
    "C loops of the scanning fast path (optional; see memsleuth.accel).", -1, methods};

PyMODINIT_FUNC PyInit__scan(void) {
    str_create = PyUnicode_InternFromString("create");
    str_delete = PyUnicode_InternFromString("delete");
    kind_cache = PyDict_New();
    kind_names = PyList_New(0);
    kind_ids = PyDict_New();
    if (!str_create || !str_delete || !kind_cache || !kind_names || !kind_ids) return NULL;
    if (PyType_Ready(&LedgerType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    /* what parse/scan.py may ask of this build (an older .so left in a checkout must not be
     * called with arguments it does not take): 2 = run(..., columns);
     * 3 = run(..., columns) packs object events (see PackedEvent), Ledger; 4 = prefix_count
     * gives (plain, counted, rest, lines) (a build of 3 gave (plain, kept, counted)). Calls
     * added apart (dump_run) are looked up by name: an older build without them leaves
     * that work to Python. */
    if (m != NULL && PyModule_AddIntConstant(m, "ABI", SCAN_ABI) < 0) { Py_DECREF(m); return NULL; }
    /* run(..., heap=True): markers and tables in columns (a feature flag, not an ABI step, so
     * that it composes with other additions) */
    if (m != NULL && PyModule_AddIntConstant(m, "HEAP_COLUMNS", 1) < 0) { Py_DECREF(m); return NULL; }
    Py_INCREF(&LedgerType);
    if (m != NULL && PyModule_AddObject(m, "Ledger", (PyObject *)&LedgerType) < 0) {
        Py_DECREF(&LedgerType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
