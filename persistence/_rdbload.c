/* persistence._rdbload: reads a run of plain string records of an RDB file straight into the
 * staging dicts of a load. The pure-Python reader (persistence.rdb.read_rdb) is the reference;
 * this kernel only does, faster, what it plus its consumer (server/wiring.py) do for the records
 * that dominate real files: type 0 strings, with their EXPIRETIME_MS / EXPIRETIME / IDLE / FREQ
 * opcodes in front.
 *
 * Contract: load_strings starts at a record boundary with no pending opcode state and consumes
 * whole record groups (opcodes + record) only. At the first thing it does not handle -- another
 * opcode or type, a group that does not lie wholly inside the buffer, any encoding it does not
 * know or data it finds wrong, a key already staged -- it stops at the start of that group and
 * returns its offset, so the Python reader reads the group again from scratch and produces the
 * same event or the same RDBError it always did. It never raises for bad input bytes.
 *
 * With an `access` dict and `keep` (1: IDLE, 2: FREQ), the value of that opcode when a record has
 * it goes to access[key], raw (seconds or counter), as read_rdb's stage[db][2] describes.
 *
 * It must not: report errors of its own, touch the file, or keep state between calls.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Opcodes and encodings (see persistence/rdb.py for the diagram). */
#define TYPE_STRING 0
#define OP_IDLE 248
#define OP_FREQ 249
#define OP_KEEP_IDLE 1  /* load_strings' `keep`: which of IDLE / FREQ goes to `access` */
#define OP_KEEP_FREQ 2
#define OP_EXPIRETIME_MS 252
#define OP_EXPIRETIME 253
#define LEN_32BIT 0x80
#define LEN_64BIT 0x81
#define ENC_INT8 0xC0
#define ENC_INT16 0xC1
#define ENC_INT32 0xC2
#define ENC_LZF 0xC3

/* ---- LZF decompression (liblzf's format, with every input and output check) -------------
 * Returns the number of bytes written, or 0 when the data is invalid or does not fit `out_len`
 * (the caller then hands the record back to Python, which reports it). Accepts exactly what
 * python-lzf's decompress accepts into a buffer of out_len bytes; tests compare the two. */
static size_t
lzf_unpack(const unsigned char *in, size_t in_len, unsigned char *out, size_t out_len)
{
    const unsigned char *ip = in, *in_end = in + in_len;
    unsigned char *op = out, *out_end = out + out_len;

    if (in_len == 0)
        return 0;
    do {
        unsigned int ctrl = *ip++;
        if (ctrl < (1 << 5)) {                      /* literal run of ctrl + 1 bytes */
            size_t n = (size_t)ctrl + 1;
            if (n > (size_t)(out_end - op) || n > (size_t)(in_end - ip))
                return 0;
            memcpy(op, ip, n);
            op += n;
            ip += n;
        } else {                                    /* back reference */
            size_t len = ctrl >> 5;
            size_t back = ((size_t)(ctrl & 0x1f) << 8) + 1;
            if (ip >= in_end)
                return 0;
            if (len == 7) {
                len += *ip++;
                if (ip >= in_end)
                    return 0;
            }
            back += *ip++;
            len += 2;
            if (len > (size_t)(out_end - op) || back > (size_t)(op - out))
                return 0;
            const unsigned char *ref = op - back;
            if (back == 1) {                        /* a run of one byte */
                memset(op, op[-1], len);
                op += len;
            } else {
                /* out[i] = out[i - back]: copied in pieces of at most `back` bytes, each
                 * of which lies wholly before its destination. */
                while (len) {
                    size_t n = len < back ? len : back;
                    memcpy(op, ref, n);
                    op += n;
                    ref += n;
                    len -= n;
                }
            }
        }
    } while (ip < in_end);
    return (size_t)(op - out);
}

/* ---- primitives: each returns 0 when the bytes are not (wholly) there or not understood ---- */

static int
read_length(const unsigned char **pp, const unsigned char *end, uint64_t *out)
{
    const unsigned char *p = *pp;
    if (p >= end)
        return 0;
    unsigned int b = *p++;
    if (b < 0x40) {
        *out = b;
    } else if (b < 0x80) {
        if (p >= end)
            return 0;
        *out = ((uint64_t)(b & 0x3F) << 8) | *p++;
    } else if (b == LEN_32BIT || b == LEN_64BIT) {
        int n = b == LEN_32BIT ? 4 : 8;
        if (end - p < n)
            return 0;
        uint64_t v = 0;
        for (int i = 0; i < n; i++)
            v = (v << 8) | p[i];
        p += n;
        *out = v;
    } else {
        return 0;
    }
    *pp = p;
    return 1;
}

/* A string as the Python reader decodes it. Sets either (*ptr, *len) to bytes inside the
 * buffer, or *obj to a new bytes object (integer and LZF encodings). 0: hand back; -1: a
 * Python error (memory). */
static int
read_string(const unsigned char **pp, const unsigned char *end, const unsigned char **ptr,
            size_t *len, PyObject **obj)
{
    const unsigned char *p = *pp;
    *obj = NULL;
    if (p >= end)
        return 0;
    unsigned int b = *p;
    if (b < 0x82) {
        uint64_t n;
        if (!read_length(&p, end, &n) || n > (uint64_t)(end - p))
            return 0;
        *ptr = p;
        *len = (size_t)n;
        *pp = p + n;
        return 1;
    }
    if (b >= ENC_INT8 && b <= ENC_INT32) {
        int width = b == ENC_INT8 ? 1 : b == ENC_INT16 ? 2 : 4;
        p++;
        if (end - p < width)
            return 0;
        long long v;
        if (width == 1) {
            v = (int8_t)p[0];
        } else if (width == 2) {
            v = (int16_t)(uint16_t)(p[0] | (p[1] << 8));
        } else {
            v = (int32_t)((uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
                          ((uint32_t)p[3] << 24));
        }
        char text[24];
        int n = snprintf(text, sizeof text, "%lld", v);
        *obj = PyBytes_FromStringAndSize(text, n);
        if (*obj == NULL)
            return -1;
        *pp = p + width;
        return 1;
    }
    if (b == ENC_LZF) {
        uint64_t clen, ulen;
        p++;
        if (!read_length(&p, end, &clen) || !read_length(&p, end, &ulen))
            return 0;
        /* The reference's own bounds: a back-reference of 3 bytes expands to at most 264. */
        if (clen == 0 || ulen == 0 || clen > (uint64_t)(end - p) || ulen > clen * 88 + 64)
            return 0;
        PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)ulen);
        if (out == NULL)
            return -1;
        if (lzf_unpack(p, (size_t)clen, (unsigned char *)PyBytes_AS_STRING(out), (size_t)ulen) !=
            ulen) {
            Py_DECREF(out);
            return 0;
        }
        *obj = out;
        *pp = p + clen;
        return 1;
    }
    return 0;  /* 0x82, 0x83 and 0xC4..: rare oddities, left to the reference */
}

static PyObject *
as_bytes(const unsigned char *ptr, size_t len, PyObject *obj)
{
    return obj != NULL ? obj : PyBytes_FromStringAndSize((const char *)ptr, (Py_ssize_t)len);
}

static PyObject *
as_key(const unsigned char *ptr, size_t len, PyObject *obj)
{
    /* The keyspace holds keys as the latin-1 decoding of their bytes. */
    if (obj == NULL)
        return PyUnicode_DecodeLatin1((const char *)ptr, (Py_ssize_t)len, NULL);
    PyObject *key = PyUnicode_DecodeLatin1(PyBytes_AS_STRING(obj), PyBytes_GET_SIZE(obj), NULL);
    Py_DECREF(obj);
    return key;
}

/* ---- load_strings ---------------------------------------------------------------------- */

static PyObject *
rdbload_load_strings(PyObject *self, PyObject *args)
{
    (void)self;
    Py_buffer view;
    Py_ssize_t pos;
    PyObject *data, *expires, *access = Py_None;
    long long now;
    int keep = 0;
    if (!PyArg_ParseTuple(args, "y*nO!O!L|Oi:load_strings", &view, &pos, &PyDict_Type, &data,
                          &PyDict_Type, &expires, &now, &access, &keep))
        return NULL;
    if (access != Py_None && !PyDict_CheckExact(access)) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_TypeError, "load_strings: access must be a dict or None");
        return NULL;
    }
    if (access == Py_None)
        keep = 0;
    if (pos < 0 || pos > view.len) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "load_strings: offset outside the buffer");
        return NULL;
    }
    const unsigned char *base = view.buf, *end = base + view.len;
    const unsigned char *p = base + pos;
    Py_ssize_t loaded = 0, expired = 0;
    int failed = 0;

    for (;;) {
        const unsigned char *group = p;
        int has_expire = 0, has_access = 0;
        int64_t expire_ms = 0;
        uint64_t access_value = 0;
        unsigned int op;
        for (;;) {                                  /* the opcodes in front of a record */
            if (p >= end)
                goto stop;
            op = *p;
            if (op == OP_EXPIRETIME_MS) {
                if (end - p < 9)
                    goto stop;
                uint64_t v = 0;
                for (int i = 8; i >= 1; i--)
                    v = (v << 8) | p[i];
                expire_ms = (int64_t)v;
                has_expire = 1;
                p += 9;
            } else if (op == OP_EXPIRETIME) {
                if (end - p < 5)
                    goto stop;
                int32_t s = (int32_t)((uint32_t)p[1] | ((uint32_t)p[2] << 8) |
                                      ((uint32_t)p[3] << 16) | ((uint32_t)p[4] << 24));
                expire_ms = (int64_t)s * 1000;
                has_expire = 1;
                p += 5;
            } else if (op == OP_IDLE) {
                uint64_t idle;
                p++;
                if (!read_length(&p, end, &idle))
                    goto stop;
                if (keep == OP_KEEP_IDLE) {
                    has_access = 1;
                    access_value = idle;
                }
            } else if (op == OP_FREQ) {
                if (end - p < 2)
                    goto stop;
                if (keep == OP_KEEP_FREQ) {
                    has_access = 1;
                    access_value = p[1];
                }
                p += 2;
            } else {
                break;
            }
        }
        if (op != TYPE_STRING)
            goto stop;
        p++;

        const unsigned char *kptr = NULL, *vptr = NULL;
        size_t klen = 0, vlen = 0;
        PyObject *kobj, *vobj;
        int rc = read_string(&p, end, &kptr, &klen, &kobj);
        if (rc <= 0) {
            failed = rc < 0;
            goto stop;
        }
        rc = read_string(&p, end, &vptr, &vlen, &vobj);
        if (rc <= 0) {
            Py_XDECREF(kobj);
            failed = rc < 0;
            goto stop;
        }
        PyObject *key = as_key(kptr, klen, kobj);
        if (key == NULL) {
            Py_XDECREF(vobj);
            failed = 1;
            goto stop;
        }
        /* The consumer's rules, in its order: a key seen before is its error to report (hand
         * the record back); a key whose deadline has passed is counted and dropped. */
        if (has_expire && expire_ms <= now) {
            int seen = PyDict_Contains(data, key);
            Py_DECREF(key);
            Py_XDECREF(vobj);
            if (seen != 0) {
                failed = seen < 0;
                goto stop;
            }
            expired++;
            continue;
        }
        PyObject *value = as_bytes(vptr, vlen, vobj);
        if (value == NULL) {
            Py_DECREF(key);
            failed = 1;
            goto stop;
        }
        /* One lookup for both the duplicate test and the store (the lookups are the cache
         * misses that dominate): setdefault leaves the dict as it was when the key is there. */
        Py_ssize_t before = PyDict_GET_SIZE(data);
        rc = PyDict_SetDefault(data, key, value) == NULL ? -1 : 0;
        Py_DECREF(value);
        if (rc == 0 && PyDict_GET_SIZE(data) == before) {
            Py_DECREF(key);
            goto stop;
        }
        if (rc == 0 && has_expire) {
            PyObject *deadline = PyLong_FromLongLong(expire_ms);
            rc = deadline == NULL ? -1 : PyDict_SetItem(expires, key, deadline);
            Py_XDECREF(deadline);
        }
        if (rc == 0 && has_access) {
            PyObject *v = PyLong_FromUnsignedLongLong(access_value);
            rc = v == NULL ? -1 : PyDict_SetItem(access, key, v);
            Py_XDECREF(v);
        }
        Py_DECREF(key);
        if (rc < 0) {
            failed = 1;  /* staged so far stays staged: the load fails as a whole anyway */
            goto stop;
        }
        loaded++;
        continue;
    stop:
        p = group;
        break;
    }
    PyBuffer_Release(&view);
    if (failed)
        return NULL;
    return Py_BuildValue("nnn", (Py_ssize_t)(p - base), loaded, expired);
}

static PyObject *
rdbload_lzf_unpack(PyObject *self, PyObject *args)
{
    (void)self;
    Py_buffer view;
    Py_ssize_t out_len;
    if (!PyArg_ParseTuple(args, "y*n:lzf_unpack", &view, &out_len))
        return NULL;
    if (out_len < 0) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "lzf_unpack: negative length");
        return NULL;
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, out_len);
    if (out == NULL) {
        PyBuffer_Release(&view);
        return NULL;
    }
    size_t n = lzf_unpack(view.buf, (size_t)view.len, (unsigned char *)PyBytes_AS_STRING(out),
                          (size_t)out_len);
    PyBuffer_Release(&view);
    if (n == 0) {
        Py_DECREF(out);
        Py_RETURN_NONE;
    }
    if (_PyBytes_Resize(&out, (Py_ssize_t)n) < 0)
        return NULL;
    return out;
}

static PyMethodDef rdbload_methods[] = {
    {"load_strings", rdbload_load_strings, METH_VARARGS,
     "load_strings(buffer, offset, data, expires, now_ms[, access, keep]) -> (offset, loaded, expired)\n\n"
     "Stage the run of plain string records starting at `offset` into `data` (latin-1 str key\n"
     "-> bytes) and `expires` (key -> deadline ms), dropping those whose deadline <= now_ms;\n"
     "with `keep` 1 / 2, a key's IDLE seconds / FREQ counter goes to `access` (key -> int).\n"
     "Stops at the start of the first record group it leaves to the Python reader."},
    {"lzf_unpack", rdbload_lzf_unpack, METH_VARARGS,
     "lzf_unpack(data, out_len) -> bytes or None: the kernel's LZF decoder (for tests)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef rdbload_module = {
    PyModuleDef_HEAD_INIT, "persistence._rdbload",
    "C kernel for loading plain string records of an RDB file (see persistence.rdb).", -1,
    rdbload_methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__rdbload(void)
{
    return PyModule_Create(&rdbload_module);
}
