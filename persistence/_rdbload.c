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
 * It also packs and reads the listpacks of small sorted sets held at rest (listpack_pack,
 * listpack_entries: persistence.rdb.listpack_blob / listpack_entries use them when built; its
 * element encoders are also server/_fastpath.c's for XADD, through the capsule lp_kernel), and
 * fills / packs the intsets of small sets held at rest (intset_fill, intset_pack: server/types/
 * sets.py's expand / pack, whose Python code is the reference).
 *
 * It must not: report errors of its own, touch the file, or keep state between calls.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
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

/* ---- listpacks of small sorted sets (server/types/zsets.py packs and expands them) ----------
 * persistence.rdb.listpack_blob and _listpack_entries are the reference; these do the same for
 * what the server packs at rest, ~20x faster. listpack_entries answers None for anything that is
 * not a well-formed listpack, so the reference reads it again and raises its own error. */

/* lpStringToInt64 / server.args.is_int: a canonical decimal integer that fits 64 bits. */
static int
canonical_int(const unsigned char *p, Py_ssize_t n, long long *out)
{
    if (n == 0 || n > 20)
        return 0;
    if (n == 1 && p[0] == '0') {
        *out = 0;
        return 1;
    }
    Py_ssize_t i = 0;
    int neg = p[0] == '-';
    if (neg)
        i = 1;
    if (i >= n || p[i] < '1' || p[i] > '9')
        return 0;
    unsigned long long v = 0;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return 0;
        unsigned long long d = (unsigned long long)(p[i] - '0');
        if (v > (ULLONG_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1)
            return 0;
        *out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
    } else {
        if (v > (unsigned long long)LLONG_MAX)
            return 0;
        *out = (long long)v;
    }
    return 1;
}

/* One entry's encoding + data into `out` (room for 9 + n bytes); returns its size. */
static size_t
lp_int_body(long long v, unsigned char *out)
{
    if (v >= 0 && v <= 127) {
        out[0] = (unsigned char)v;
        return 1;
    }
    if (v >= -4096 && v <= 4095) {
        unsigned long long u = v < 0 ? (unsigned long long)((1 << 13) + v) : (unsigned long long)v;
        out[0] = (unsigned char)((u >> 8) | 0xC0);
        out[1] = (unsigned char)(u & 0xFF);
        return 2;
    }
    int width;
    if (v >= -32768 && v <= 32767) {
        out[0] = 0xF1;
        width = 2;
    } else if (v >= -8388608 && v <= 8388607) {
        out[0] = 0xF2;
        width = 3;
    } else if (v >= -2147483648LL && v <= 2147483647LL) {
        out[0] = 0xF3;
        width = 4;
    } else {
        out[0] = 0xF4;
        width = 8;
    }
    unsigned long long u = (unsigned long long)v;
    for (int k = 0; k < width; k++)
        out[1 + k] = (unsigned char)((u >> (8 * k)) & 0xFF);
    return (size_t)(1 + width);
}

static size_t
lp_backlen(size_t l, unsigned char *out)
{
    if (l <= 127) {
        out[0] = (unsigned char)l;
        return 1;
    }
    if (l < 16383) {
        out[0] = (unsigned char)(l >> 7);
        out[1] = (unsigned char)((l & 127) | 128);
        return 2;
    }
    if (l < 2097151) {
        out[0] = (unsigned char)(l >> 14);
        out[1] = (unsigned char)(((l >> 7) & 127) | 128);
        out[2] = (unsigned char)((l & 127) | 128);
        return 3;
    }
    if (l < 268435455) {
        out[0] = (unsigned char)(l >> 21);
        out[1] = (unsigned char)(((l >> 14) & 127) | 128);
        out[2] = (unsigned char)(((l >> 7) & 127) | 128);
        out[3] = (unsigned char)((l & 127) | 128);
        return 4;
    }
    out[0] = (unsigned char)(l >> 28);
    out[1] = (unsigned char)(((l >> 21) & 127) | 128);
    out[2] = (unsigned char)(((l >> 14) & 127) | 128);
    out[3] = (unsigned char)(((l >> 7) & 127) | 128);
    out[4] = (unsigned char)((l & 127) | 128);
    return 5;
}

/* One integer element (encoding, data, backlen) at `out` (room for 10 bytes); its size. */
static size_t
lp_put_int(long long v, unsigned char *out)
{
    size_t body = lp_int_body(v, out);
    return body + lp_backlen(body, out + body);
}

/* One bytes element at `out` (room for n + 10 bytes): an integer when it is one in canonical
 * form (as lpAppend stores it), else a string; its size. */
static size_t
lp_put_bytes(const unsigned char *p, Py_ssize_t n, unsigned char *out)
{
    long long v;
    if (canonical_int(p, n, &v))
        return lp_put_int(v, out);
    size_t h;
    if (n < 64) {
        out[0] = (unsigned char)(0x80 | n);
        h = 1;
    } else if (n < 4096) {
        out[0] = (unsigned char)(0xE0 | (n >> 8));
        out[1] = (unsigned char)(n & 0xFF);
        h = 2;
    } else {
        out[0] = 0xF0;
        for (int k = 0; k < 4; k++)
            out[1 + k] = (unsigned char)(((size_t)n >> (8 * k)) & 0xFF);
        h = 5;
    }
    memcpy(out + h, p, (size_t)n);
    return h + (size_t)n + lp_backlen(h + (size_t)n, out + h + (size_t)n);
}

/* The two element encoders, for server/_fastpath.c's XADD (capsule "persistence._rdbload.lp_kernel"):
 * it appends a stream entry's elements to a node's bytes with the very encoders listpack_pack uses. */
typedef struct {
    size_t (*put_int)(long long v, unsigned char *out);
    size_t (*put_bytes)(const unsigned char *p, Py_ssize_t n, unsigned char *out);
} LpKernel;

static const LpKernel lp_kernel = {lp_put_int, lp_put_bytes};

/* listpack_pack(entries) -> bytes: entries a list of bytes or int (ints within 64 bits). */
static PyObject *
rdbload_listpack_pack(PyObject *self, PyObject *arg)
{
    (void)self;
    if (!PyList_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "listpack_pack() takes a list");
        return NULL;
    }
    Py_ssize_t count = PyList_GET_SIZE(arg);
    size_t cap = 7, len = 6;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *e = PyList_GET_ITEM(arg, i);
        cap += PyBytes_Check(e) ? (size_t)PyBytes_GET_SIZE(e) + 10 : 14;
    }
    unsigned char *buf = PyMem_Malloc(cap);
    if (buf == NULL)
        return PyErr_NoMemory();
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *e = PyList_GET_ITEM(arg, i);
        if (PyLong_Check(e)) {
            long long v = PyLong_AsLongLong(e);
            if (v == -1 && PyErr_Occurred()) {
                PyMem_Free(buf);
                return NULL;
            }
            len += lp_put_int(v, buf + len);
        } else if (PyBytes_Check(e)) {
            len += lp_put_bytes((const unsigned char *)PyBytes_AS_STRING(e), PyBytes_GET_SIZE(e), buf + len);
        } else {
            PyMem_Free(buf);
            PyErr_SetString(PyExc_TypeError, "listpack entries must be bytes or int");
            return NULL;
        }
    }
    buf[len++] = 0xFF;
    uint32_t total = (uint32_t)len;
    unsigned n16 = count < 65535 ? (unsigned)count : 65535;
    for (int k = 0; k < 4; k++)
        buf[k] = (unsigned char)((total >> (8 * k)) & 0xFF);
    buf[4] = (unsigned char)(n16 & 0xFF);
    buf[5] = (unsigned char)(n16 >> 8);
    PyObject *out = PyBytes_FromStringAndSize((const char *)buf, (Py_ssize_t)len);
    PyMem_Free(buf);
    return out;
}

static PyObject *
decimal_bytes(long long v)
{
    char text[24];
    int n = snprintf(text, sizeof text, "%lld", v);
    return PyBytes_FromStringAndSize(text, n);
}

/* A score entry's text as float() reads it (PyOS_string_to_double: "inf", "1.5e3", ...); NULL with
 * ValueError when it is not one. */
static PyObject *
text_score(const unsigned char *text, Py_ssize_t n)
{
    char buf[80];
    if (n <= 0 || n >= (Py_ssize_t)sizeof buf) {
        PyErr_SetString(PyExc_ValueError, "not a score");
        return NULL;
    }
    memcpy(buf, text, (size_t)n);
    buf[n] = 0;
    char *end;
    double d = PyOS_string_to_double(buf, &end, NULL);
    if (d == -1.0 && PyErr_Occurred())
        return NULL;
    if (end != buf + n) {
        PyErr_SetString(PyExc_ValueError, "not a score");
        return NULL;
    }
    return PyFloat_FromDouble(d);
}

/* The entries of a listpack: a list of bytes (integers as their decimal text), or None when it is
 * malformed. With `scores`, the entries at odd positions (a sorted set's scores) are floats
 * instead: an integer entry's value, a text entry read as float() reads it. */
static PyObject *
listpack_read(PyObject *arg, int scores)
{
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    const unsigned char *b = view.buf;
    Py_ssize_t size = view.len;
    PyObject *out = NULL;
    if (size < 7 || b[size - 1] != 0xFF ||
        ((size_t)b[0] | (size_t)b[1] << 8 | (size_t)b[2] << 16 | (size_t)b[3] << 24) != (size_t)size)
        goto bad;
    out = PyList_New(0);
    if (out == NULL)
        goto done;
    Py_ssize_t pos = 6, end = size - 1;
    while (pos < end) {
        Py_ssize_t start = pos;
        unsigned enc = b[pos];
        int odd = scores && (PyList_GET_SIZE(out) & 1);
        PyObject *item;
        long long v;
        Py_ssize_t n;
        if (enc < 0x80) {
            item = odd ? PyFloat_FromDouble((double)enc) : decimal_bytes((long long)enc);
            pos += 1;
        } else if (enc < 0xC0) {
            n = enc & 0x3F;
            if (pos + 1 + n > end)
                goto bad;
            item = odd ? text_score(b + pos + 1, n) : PyBytes_FromStringAndSize((const char *)b + pos + 1, n);
            pos += 1 + n;
        } else if (enc < 0xE0) {
            if (pos + 2 > end)
                goto bad;
            v = ((enc & 0x1F) << 8) | b[pos + 1];
            if (v >= 0x1000)
                v -= 0x2000;
            item = odd ? PyFloat_FromDouble((double)v) : decimal_bytes(v);
            pos += 2;
        } else if (enc < 0xF0) {
            if (pos + 2 > end)
                goto bad;
            n = (Py_ssize_t)(((enc & 0x0F) << 8) | b[pos + 1]);
            if (pos + 2 + n > end)
                goto bad;
            item = odd ? text_score(b + pos + 2, n) : PyBytes_FromStringAndSize((const char *)b + pos + 2, n);
            pos += 2 + n;
        } else if (enc == 0xF0) {
            if (pos + 5 > end)
                goto bad;
            n = (Py_ssize_t)((size_t)b[pos + 1] | (size_t)b[pos + 2] << 8 | (size_t)b[pos + 3] << 16 |
                             (size_t)b[pos + 4] << 24);
            if (n > end - pos - 5)
                goto bad;
            item = odd ? text_score(b + pos + 5, n) : PyBytes_FromStringAndSize((const char *)b + pos + 5, n);
            pos += 5 + n;
        } else if (enc >= 0xF1 && enc <= 0xF4) {
            int width = enc == 0xF1 ? 2 : enc == 0xF2 ? 3 : enc == 0xF3 ? 4 : 8;
            if (pos + 1 + width > end)
                goto bad;
            unsigned long long u = 0;
            for (int k = 0; k < width; k++)
                u |= (unsigned long long)b[pos + 1 + k] << (8 * k);
            if (width < 8 && (u >> (8 * width - 1)) & 1)
                u |= ~0ULL << (8 * width);  /* sign-extend */
            item = odd ? PyFloat_FromDouble((double)(long long)u) : decimal_bytes((long long)u);
            pos += 1 + width;
        } else {
            goto bad;
        }
        if (item == NULL)
            goto fail;
        int rc = PyList_Append(out, item);
        Py_DECREF(item);
        if (rc < 0)
            goto fail;
        Py_ssize_t l = pos - start;
        pos += l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
    }
    if (pos != end)
        goto bad;
    goto done;
bad:
    Py_XDECREF(out);
    out = Py_None;
    Py_INCREF(out);
    goto done;
fail:
    Py_CLEAR(out);
done:
    PyBuffer_Release(&view);
    return out;
}


/* listpack_entries(blob) -> list of bytes (integers as their decimal text), or None. */
static PyObject *
rdbload_listpack_entries(PyObject *self, PyObject *arg)
{
    (void)self;
    return listpack_read(arg, 0);
}

/* listpack_zset(blob) -> list of member, score, ... (scores as floats), or None when it is not a
 * well-formed listpack; ValueError for a score that is not a number. */
static PyObject *
rdbload_listpack_zset(PyObject *self, PyObject *arg)
{
    (void)self;
    return listpack_read(arg, 1);
}

/* zset_fill(blob, target) -> list of (score, member) pairs in the listpack's order, having set
 * target[member] = score for each; None when it is not a well-formed listpack of pairs (target
 * untouched). ValueError for a score that is not a number. */
static PyObject *
rdbload_zset_fill(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *blob, *target;
    if (!PyArg_ParseTuple(args, "OO!:zset_fill", &blob, &PyDict_Type, &target))
        return NULL;
    PyObject *items = listpack_read(blob, 1);
    if (items == NULL || items == Py_None)
        return items;
    Py_ssize_t n = PyList_GET_SIZE(items);
    if (n & 1) {
        Py_DECREF(items);
        Py_RETURN_NONE;
    }
    PyObject *pairs = PyList_New(n / 2);
    if (pairs == NULL)
        goto fail;
    for (Py_ssize_t i = 0; i < n; i += 2) {
        PyObject *member = PyList_GET_ITEM(items, i), *score = PyList_GET_ITEM(items, i + 1);
        PyObject *pair = PyTuple_Pack(2, score, member);
        if (pair == NULL)
            goto fail;
        PyList_SET_ITEM(pairs, i / 2, pair);
        if (PyDict_SetItem(target, member, score) < 0)
            goto fail;
    }
    Py_DECREF(items);
    return pairs;
fail:
    Py_DECREF(items);
    Py_XDECREF(pairs);
    return NULL;
}

/* intset_fill(blob, target, texts) -> bool: target[texts[n]] = None for every number n of the
 * intset `blob`, in its order; False (target partly filled: discard it) as soon as a number has
 * no text in `texts` (a dict int -> bytes). ValueError for a header that does not match. */
static PyObject *
rdbload_intset_fill(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *blob, *target, *texts;
    if (!PyArg_ParseTuple(args, "SO!O!:intset_fill", &blob, &PyDict_Type, &target, &PyDict_Type, &texts))
        return NULL;
    const unsigned char *b = (const unsigned char *)PyBytes_AS_STRING(blob);
    Py_ssize_t size = PyBytes_GET_SIZE(blob);
    if (size < 8)
        goto bad;
    uint32_t width = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    uint32_t count = (uint32_t)b[4] | (uint32_t)b[5] << 8 | (uint32_t)b[6] << 16 | (uint32_t)b[7] << 24;
    if ((width != 2 && width != 4 && width != 8) || (uint64_t)size != 8 + (uint64_t)width * count)
        goto bad;
    for (uint32_t i = 0; i < count; i++) {
        const unsigned char *p = b + 8 + (size_t)i * width;
        uint64_t u = 0;
        for (uint32_t k = 0; k < width; k++)
            u |= (uint64_t)p[k] << (8 * k);
        if (width < 8 && (u >> (8 * width - 1)) & 1)
            u |= ~0ULL << (8 * width);  /* sign-extend */
        PyObject *n = PyLong_FromLongLong((long long)u);
        if (n == NULL)
            return NULL;
        PyObject *text = PyDict_GetItemWithError(texts, n);  /* borrowed */
        Py_DECREF(n);
        if (text == NULL) {
            if (PyErr_Occurred())
                return NULL;
            Py_RETURN_FALSE;
        }
        if (PyDict_SetItem(target, text, Py_None) < 0)
            return NULL;
    }
    Py_RETURN_TRUE;
bad:
    PyErr_SetString(PyExc_ValueError, "intset header does not match its size");
    return NULL;
}

static int
cmp_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* intset_pack(members) -> bytes: the intset of an iterable of distinct canonical decimal
 * integers (bytes, each within a signed 64-bit integer), ascending, in the narrowest width;
 * ValueError for a member that is not one (the caller's set is then no intset). */
static PyObject *
rdbload_intset_pack(PyObject *self, PyObject *members)
{
    (void)self;
    Py_ssize_t cap = PyObject_Length(members);
    if (cap < 0)
        return NULL;
    int64_t small[64];
    int64_t *nums = cap <= 64 ? small : PyMem_Malloc(sizeof(int64_t) * (size_t)cap);
    if (nums == NULL)
        return PyErr_NoMemory();
    PyObject *out = NULL, *it = PyObject_GetIter(members), *item;
    Py_ssize_t count = 0;
    if (it == NULL)
        goto done;
    while ((item = PyIter_Next(it)) != NULL) {
        char *text;
        Py_ssize_t len;
        int ok = count < cap && PyBytes_AsStringAndSize(item, &text, &len) == 0 && len > 0 && len <= 20;
        long long v = 0;
        if (ok) {
            char *end;
            errno = 0;
            v = strtoll(text, &end, 10);
            /* canonical: all of it read, no overflow, no leading '+', space or zero ("0" alone) */
            ok = end == text + len && errno == 0 && (text[0] == '-' || (text[0] >= '0' && text[0] <= '9')) &&
                 !(text[0] == '0' && len > 1) && !(text[0] == '-' && (len == 1 || text[1] == '0'));
        }
        Py_DECREF(item);
        if (!ok) {
            PyErr_Clear();
            PyErr_SetString(PyExc_ValueError, "not an intset member");
            goto done;
        }
        nums[count++] = (int64_t)v;
    }
    if (PyErr_Occurred())
        goto done;
    qsort(nums, (size_t)count, sizeof(int64_t), cmp_int64);
    uint32_t width = 2;
    if (count && (nums[0] < -0x8000 || nums[count - 1] > 0x7FFF))
        width = (nums[0] >= -0x80000000LL && nums[count - 1] <= 0x7FFFFFFFLL) ? 4 : 8;
    out = PyBytes_FromStringAndSize(NULL, 8 + (Py_ssize_t)width * count);
    if (out == NULL)
        goto done;
    unsigned char *b = (unsigned char *)PyBytes_AS_STRING(out);
    for (int k = 0; k < 4; k++) {
        b[k] = (unsigned char)(width >> (8 * k));
        b[4 + k] = (unsigned char)((uint32_t)count >> (8 * k));
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        uint64_t u = (uint64_t)nums[i];
        for (uint32_t k = 0; k < width; k++)
            b[8 + i * width + k] = (unsigned char)(u >> (8 * k));
    }
done:
    Py_XDECREF(it);
    if (nums != small)
        PyMem_Free(nums);
    return out;
}

/* intset_add(blob, member, most) -> bytes, the blob itself, or None: SADD of one member written
 * straight into an intset (Redis's intsetAdd). The new intset when `member` (bytes) is a canonical
 * 64-bit integer not yet in it and the result holds at most `most` members, in the narrowest
 * width (what intset_pack of the grown set gives); `blob` itself when it already holds the
 * number; None when the set would stop being an intset (the caller takes the general path), or
 * for a blob that is not a well-formed intset. server/types/sets.py add_packed is the reference. */
static int64_t
intset_get(const unsigned char *b, uint32_t width, Py_ssize_t i)
{
    const unsigned char *p = b + 8 + (size_t)i * width;
    if (width == 2)
        return (int16_t)((uint16_t)p[0] | (uint16_t)p[1] << 8);
    if (width == 4)
        return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
    uint64_t u = 0;
    for (int k = 7; k >= 0; k--)
        u = u << 8 | p[k];
    return (int64_t)u;
}

static uint32_t
intset_width(int64_t v)
{
    if (v < -0x80000000LL || v > 0x7FFFFFFFLL)
        return 8;
    return (v < -0x8000 || v > 0x7FFF) ? 4 : 2;
}

static PyObject *
rdbload_intset_add(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *blob, *member;
    Py_ssize_t most;
    if (!PyArg_ParseTuple(args, "SSn", &blob, &member, &most))
        return NULL;
    long long v;
    if (!canonical_int((const unsigned char *)PyBytes_AS_STRING(member), PyBytes_GET_SIZE(member), &v))
        Py_RETURN_NONE;
    const unsigned char *b = (const unsigned char *)PyBytes_AS_STRING(blob);
    Py_ssize_t size = PyBytes_GET_SIZE(blob);
    if (size < 8)
        Py_RETURN_NONE;
    uint32_t width = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    uint32_t count = (uint32_t)b[4] | (uint32_t)b[5] << 8 | (uint32_t)b[6] << 16 | (uint32_t)b[7] << 24;
    if ((width != 2 && width != 4 && width != 8) || (Py_ssize_t)count * width != size - 8)
        Py_RETURN_NONE;
    /* binary search for v: lo = first position holding a number >= v */
    Py_ssize_t lo = 0, hi = (Py_ssize_t)count;
    while (lo < hi) {
        Py_ssize_t mid = lo + (hi - lo) / 2;
        int64_t m = intset_get(b, width, mid);
        if (m < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < (Py_ssize_t)count && intset_get(b, width, lo) == v) {
        Py_INCREF(blob);
        return blob;
    }
    if ((Py_ssize_t)count + 1 > most)
        Py_RETURN_NONE;
    /* the narrowest width for the result: its extremes are the old ones and v */
    uint32_t need = intset_width(v);
    if (count) {
        uint32_t w = intset_width(intset_get(b, width, 0));
        if (w > need)
            need = w;
        w = intset_width(intset_get(b, width, (Py_ssize_t)count - 1));
        if (w > need)
            need = w;
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, 8 + (Py_ssize_t)need * ((Py_ssize_t)count + 1));
    if (out == NULL)
        return NULL;
    unsigned char *o = (unsigned char *)PyBytes_AS_STRING(out);
    uint32_t n = count + 1;
    for (int k = 0; k < 4; k++) {
        o[k] = (unsigned char)(need >> (8 * k));
        o[4 + k] = (unsigned char)(n >> (8 * k));
    }
    if (need == width) {
        memcpy(o + 8, b + 8, (size_t)lo * width);
        memcpy(o + 8 + (size_t)(lo + 1) * width, b + 8 + (size_t)lo * width, (size_t)(count - lo) * width);
        uint64_t u = (uint64_t)v;
        for (uint32_t k = 0; k < width; k++)
            o[8 + (size_t)lo * width + k] = (unsigned char)(u >> (8 * k));
    } else {
        for (Py_ssize_t i = 0; i < (Py_ssize_t)n; i++) {
            uint64_t u = (uint64_t)(i < lo ? intset_get(b, width, i) : i == lo ? (int64_t)v
                                                                               : intset_get(b, width, i - 1));
            for (uint32_t k = 0; k < need; k++)
                o[8 + (size_t)i * need + k] = (unsigned char)(u >> (8 * k));
        }
    }
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
    {"listpack_entries", rdbload_listpack_entries, METH_O,
     "listpack_entries(blob) -> list of bytes, or None when it is not a well-formed listpack."},
    {"listpack_pack", rdbload_listpack_pack, METH_O,
     "listpack_pack(entries) -> bytes: the listpack of a list of bytes / int entries."},
    {"listpack_zset", rdbload_listpack_zset, METH_O,
     "listpack_zset(blob) -> list of member, score, ...: a sorted set's listpack, its scores as\n"
     "floats (as float() reads their text), or None when it is not a well-formed listpack."},
    {"zset_fill", rdbload_zset_fill, METH_VARARGS,
     "zset_fill(blob, target) -> [(score, member), ...] in order, target[member] = score set for\n"
     "each; None when it is not a well-formed listpack of pairs."},
    {"intset_fill", rdbload_intset_fill, METH_VARARGS,
     "intset_fill(blob, target, texts) -> bool: target[texts[n]] = None for each number n of\n"
     "the intset; False as soon as a number has no text (target is then partly filled)."},
    {"intset_pack", rdbload_intset_pack, METH_O,
     "intset_pack(members) -> bytes: the intset of distinct canonical decimal integers (bytes)."},
    {"intset_add", rdbload_intset_add, METH_VARARGS,
     "intset_add(blob, member, most) -> bytes, blob, or None: SADD of one member into an intset."},
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
    PyObject *m = PyModule_Create(&rdbload_module);
    if (m == NULL)
        return NULL;
    PyObject *capsule = PyCapsule_New((void *)&lp_kernel, "persistence._rdbload.lp_kernel", NULL);
    if (capsule == NULL || PyModule_AddObject(m, "lp_kernel", capsule) < 0) {
        Py_XDECREF(capsule);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
