/* memsleuth._scan: the optional C half of the scanning fast path (memsleuth/parse/scan.py).
 *
 * Two loops that cost a few microseconds per line in Python:
 *   obj_run   - a run of strict [MSOBJ] lines -> ObjectEvent records (or just their count);
 *   skip_inert - consecutive lines of printable ASCII that hold none of the readers' anchors.
 * Both accept exactly what the Python fast path accepts (the tests compare the two on every
 * committed log and on mutated ones); anything else stops the loop and Python decides.
 * Only 1-byte (latin-1/ASCII) strings are scanned; others return at once.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

static PyObject *str_create, *str_delete, *kind_cache;

static int is_hex(unsigned char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

/* Length of a run of lowercase hex digits at p (bounded by end). */
static Py_ssize_t hex_len(const unsigned char *p, const unsigned char *end) {
    const unsigned char *q = p;
    while (q < end && is_hex(*q)) q++;
    return q - p;
}

static unsigned long long hex_value(const unsigned char *p, Py_ssize_t n) {
    unsigned long long v = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        v = (v << 4) | (unsigned long long)(p[i] <= '9' ? p[i] - '0' : p[i] - 'a' + 10);
    return v;
}

static int lit(const unsigned char **p, const unsigned char *end, const char *s) {
    size_t n = strlen(s);
    if ((size_t)(end - *p) < n || memcmp(*p, s, n) != 0) return 0;
    *p += n;
    return 1;
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

static const unsigned char *obj_line(const unsigned char *p, const unsigned char *end, ObjLine *o) {
    if (!lit(&p, end, "[MSOBJ] ")) return NULL;
    if (lit(&p, end, "create ")) o->create = 1;
    else if (lit(&p, end, "delete ")) o->create = 0;
    else return NULL;
    o->kind = p;
    if (p >= end || *p < 'a' || *p > 'z') return NULL;
    p++;
    while (p < end && ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) p++;
    o->kind_len = p - o->kind;
    if (o->kind_len > 16) return NULL;
    if (!lit(&p, end, " 0x")) return NULL;
    o->handle = p;
    o->handle_len = hex_len(p, end);
    if (o->handle_len != 8 && o->handle_len != 16) return NULL;
    p += o->handle_len;
    if (!lit(&p, end, " caller 0x")) return NULL;
    o->caller = p;
    o->caller_len = hex_len(p, end);
    if (o->caller_len != 8 && o->caller_len != 16) return NULL;
    p += o->caller_len;
    if (!lit(&p, end, " seq ")) return NULL;
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
    char digits[64];
    while (p < end && (next = obj_line(p, end, &o)) != NULL) {
        lineno++;
        if (out != NULL) {
            PyObject *seq;
            if (o.seq_len < (Py_ssize_t)sizeof(digits)) {
                memcpy(digits, o.seq, (size_t)o.seq_len);
                digits[o.seq_len] = 0;
                seq = PyLong_FromString(digits, NULL, 10);
            } else {
                PyObject *s = PyUnicode_FromStringAndSize((const char *)o.seq, o.seq_len);
                seq = s ? PyLong_FromUnicodeObject(s, 10) : NULL;
                Py_XDECREF(s);
            }
            PyObject *kind = kind_str(o.kind, o.kind_len);
            PyObject *handle = PyLong_FromUnsignedLongLong(hex_value(o.handle, o.handle_len));
            PyObject *caller = PyLong_FromUnsignedLongLong(hex_value(o.caller, o.caller_len));
            PyObject *line = PyLong_FromSsize_t(lineno);
            PyObject *rec = NULL;
            if (seq && kind && handle && caller && line)
                rec = PyObject_CallFunctionObjArgs(factory, line, o.create ? str_create : str_delete,
                                                   kind, handle, caller, seq, Py_None, Py_None, NULL);
            Py_XDECREF(seq); Py_XDECREF(kind); Py_XDECREF(handle); Py_XDECREF(caller);
            Py_XDECREF(line);
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
    const char *a[64];
    Py_ssize_t alen[64];
    unsigned char first[256];
    memset(first, 0, sizeof first);
    if (na > 64) return Py_BuildValue("nn", pos, (Py_ssize_t)0);
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

static PyMethodDef methods[] = {
    {"obj_run", obj_run, METH_VARARGS, "A run of strict [MSOBJ] lines: (end, lineno, records)."},
    {"skip_inert", skip_inert, METH_VARARGS, "Skip lines no reader reads: (end, lines)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_scan",
    "C loops of the scanning fast path (optional; see memsleuth.accel).", -1, methods};

PyMODINIT_FUNC PyInit__scan(void) {
    str_create = PyUnicode_InternFromString("create");
    str_delete = PyUnicode_InternFromString("delete");
    kind_cache = PyDict_New();
    if (!str_create || !str_delete || !kind_cache) return NULL;
    return PyModule_Create(&module);
}
