/* The HyperLogLog kernels of server/hll.py in C: the register loops that would cost milliseconds
 * per call in Python (a dense histogram walks 16384 registers). Each function has its reference
 * in server/hll.py (the `_py_` functions, same names and results); tests/server/commands/
 * test_hyperloglog.py checks that both give the same bytes and numbers. No keyspace, no clients.
 *
 * Values are Python bytearrays changed in place (bytes are accepted where nothing is written).
 * Layout (see server/hll.py): a 16-byte header, then 12288 bytes of 6-bit registers (dense) or
 * the ZERO / XZERO / VAL opcodes (sparse). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define HLL_P 14
#define HLL_Q (64 - HLL_P)
#define HLL_REGISTERS (1 << HLL_P)
#define HLL_HDR 16
#define HLL_DENSE 0
#define HLL_SPARSE 1
#define HLL_DENSE_SIZE (HLL_HDR + HLL_REGISTERS * 6 / 8)
#define HLL_SEED 0xadc83b19ULL
#define SPARSE_VAL_MAX 32

#define IS_VAL(b) ((b) & 0x80)
#define IS_XZERO(b) (((b) & 0xc0) == 0x40)
#define VAL_VALUE(b) ((((b) >> 2) & 0x1f) + 1)
#define VAL_LEN(b) (((b) & 3) + 1)
#define ZERO_LEN(b) (((b) & 0x3f) + 1)
#define VAL_BYTE(v, len) ((uint8_t)(0x80 | (((v) - 1) << 2) | ((len) - 1)))

static uint64_t murmur64a(const uint8_t *data, Py_ssize_t len, uint64_t seed) {
    const uint64_t m = 0xc6a4a7935bd1e995ULL;
    uint64_t h = seed ^ ((uint64_t)len * m);
    Py_ssize_t blocks = len - (len & 7), i;
    for (i = 0; i < blocks; i += 8) {
        uint64_t k = 0;
        for (int b = 7; b >= 0; b--) k = (k << 8) | data[i + b];
        k *= m;
        k ^= k >> 47;
        k *= m;
        h ^= k;
        h *= m;
    }
    if (len & 7) {
        uint64_t k = 0;
        for (Py_ssize_t b = len - 1; b >= blocks; b--) k = (k << 8) | data[b];
        h ^= k;
        h *= m;
    }
    h ^= h >> 47;
    h *= m;
    h ^= h >> 47;
    return h;
}

static void pattern_of(const uint8_t *data, Py_ssize_t len, long *index, int *count) {
    uint64_t h = murmur64a(data, len, HLL_SEED);
    *index = (long)(h & (HLL_REGISTERS - 1));
    h >>= HLL_P;
    h |= (uint64_t)1 << HLL_Q;
    *count = __builtin_ctzll(h) + 1;
}

/* Register `i` of a dense register area that is followed by at least one byte or ends exactly
 * at `size` (the last register never needs the byte after it). */
static inline int dense_get(const uint8_t *regs, long i) {
    long byte = i * 6 / 8;
    int fb = (int)(i * 6 & 7);
    unsigned b0 = regs[byte];
    unsigned b1 = (fb > 2) ? regs[byte + 1] : 0;
    return (int)(((b0 >> fb) | (b1 << (8 - fb))) & 63);
}

static inline int dense_set(uint8_t *regs, long i, int count) {
    if (dense_get(regs, i) >= count) return 0;
    long byte = i * 6 / 8;
    int fb = (int)(i * 6 & 7);
    regs[byte] = (uint8_t)((regs[byte] & ~(63u << fb)) | ((unsigned)count << fb));
    if (fb > 2)
        regs[byte + 1] = (uint8_t)((regs[byte + 1] & ~(63u >> (8 - fb))) | ((unsigned)count >> (8 - fb)));
    return 1;
}

/* The opcode at p: registers covered, value, length (an XZERO cut short reads a zero byte). */
static inline void opcode(const uint8_t *p, const uint8_t *end, long *span, int *val, int *oplen) {
    uint8_t b = *p;
    if (IS_VAL(b)) {
        *span = VAL_LEN(b);
        *val = VAL_VALUE(b);
        *oplen = 1;
    } else if (b & 0x40) {
        *span = (((long)(b & 0x3f) << 8) | (p + 1 < end ? p[1] : 0)) + 1;
        *val = 0;
        *oplen = 2;
    } else {
        *span = ZERO_LEN(b);
        *val = 0;
        *oplen = 1;
    }
}

/* The header checks of Redis's isHLLObjectOrReply, which the commands make before calling in:
 * repeated here so that no call can write outside the value. */
static int is_mutable_hll(PyObject *value) {
    if (!PyByteArray_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "an HLL to change must be a bytearray");
        return 0;
    }
    Py_ssize_t size = PyByteArray_GET_SIZE(value);
    const uint8_t *s = (const uint8_t *)PyByteArray_AS_STRING(value);
    if (size < HLL_HDR || s[4] > HLL_SPARSE || (s[4] == HLL_DENSE && size != HLL_DENSE_SIZE)) {
        PyErr_SetString(PyExc_ValueError, "not an HLL");
        return 0;
    }
    return 1;
}

/* Promote a sparse HLL to dense in place: 1, or 0 (nothing changed) when corrupt; -1 error. */
static int to_dense_in(PyObject *value) {
    uint8_t *s = (uint8_t *)PyByteArray_AS_STRING(value);
    if (s[4] == HLL_DENSE) return 1;
    Py_ssize_t size = PyByteArray_GET_SIZE(value);
    uint8_t *dense = PyMem_Calloc(HLL_DENSE_SIZE + 1, 1);
    if (dense == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    const uint8_t *p = s + HLL_HDR, *end = s + size;
    long idx = 0, span;
    int val, oplen;
    while (p < end) {
        opcode(p, end, &span, &val, &oplen);
        if (val) {
            if (idx + span > HLL_REGISTERS) {  /* corrupt, even where the sum would end right */
                PyMem_Free(dense);
                return 0;
            }
            for (long j = 0; j < span; j++) dense_set(dense + HLL_HDR, idx + j, val);
        }
        idx += span;
        p += oplen;
    }
    if (idx != HLL_REGISTERS) {
        PyMem_Free(dense);
        return 0;
    }
    memcpy(dense, s, HLL_HDR);
    dense[4] = HLL_DENSE;
    if (PyByteArray_Resize(value, HLL_DENSE_SIZE) < 0) {
        PyMem_Free(dense);
        return -1;
    }
    memcpy(PyByteArray_AS_STRING(value), dense, HLL_DENSE_SIZE);
    PyMem_Free(dense);
    return 1;
}

static int promote_set(PyObject *value, long index, int count) {
    int ok = to_dense_in(value);
    if (ok <= 0) return ok < 0 ? -2 : -1;
    dense_set((uint8_t *)PyByteArray_AS_STRING(value) + HLL_HDR, index, count);
    return 1;
}

static Py_ssize_t put_zeros(uint8_t *n, long run) {
    if (run > 64) {
        n[0] = (uint8_t)(0x40 | ((run - 1) >> 8));
        n[1] = (uint8_t)((run - 1) & 0xff);
        return 2;
    }
    n[0] = (uint8_t)(run - 1);
    return 1;
}

/* Redis's hllSparseSet (see _py_sparse_set): 1 changed, 0 not, -1 corrupt, -2 Python error. */
static int sparse_set(PyObject *value, long index, int count, Py_ssize_t max_bytes) {
    if (count > SPARSE_VAL_MAX) return promote_set(value, index, count);
    Py_ssize_t size = PyByteArray_GET_SIZE(value);
    uint8_t *s = (uint8_t *)PyByteArray_AS_STRING(value);
    uint8_t *p = s + HLL_HDR, *end = s + size, *prev = NULL;
    long first = 0, span = 0;
    int val = 0, oplen = 1;
    while (p < end) {
        opcode(p, end, &span, &val, &oplen);
        if (index <= first + span - 1) break;
        prev = p;
        p += oplen;
        first += span;
    }
    if (span == 0 || p >= end) return -1;
    int is_val = IS_VAL(*p);
    if (is_val) {
        if (val >= count) return 0;
    }
    if ((is_val && span == 1) || (!is_val && oplen == 1 && span == 1)) {
        *p = VAL_BYTE(count, 1);
    } else {
        uint8_t seq[5];
        Py_ssize_t n = 0;
        long last = first + span - 1;
        if (is_val) {
            if (index != first) seq[n++] = VAL_BYTE(val, index - first);
            seq[n++] = VAL_BYTE(count, 1);
            if (index != last) seq[n++] = VAL_BYTE(val, last - index);
        } else {
            if (index != first) n += put_zeros(seq + n, index - first);
            seq[n++] = VAL_BYTE(count, 1);
            if (index != last) n += put_zeros(seq + n, last - index);
        }
        Py_ssize_t delta = n - oplen;
        if (delta > 0 && size + delta > max_bytes) return promote_set(value, index, count);
        Py_ssize_t at = p - s, prev_at = prev ? prev - s : -1;
        Py_ssize_t tail_from = at + oplen < size ? at + oplen : size;
        Py_ssize_t tail = size - tail_from;
        if (delta > 0 && PyByteArray_Resize(value, size + delta) < 0) return -2;
        s = (uint8_t *)PyByteArray_AS_STRING(value);
        /* the new sequence, then what followed the old opcode, cut at size + delta */
        Py_ssize_t new_size = size + delta;
        if (tail) memmove(s + at + n, s + tail_from, tail);
        memcpy(s + at, seq, (size_t)(at + n <= new_size ? n : new_size - at));
        if (delta < 0 && PyByteArray_Resize(value, new_size) < 0) return -2;
        s = (uint8_t *)PyByteArray_AS_STRING(value);
        size = new_size;
        end = s + size;
        prev = prev_at >= 0 ? s + prev_at : NULL;
    }
    /* merge neighbouring VAL opcodes of the same value (Redis's step 4) */
    size = PyByteArray_GET_SIZE(value);
    s = (uint8_t *)PyByteArray_AS_STRING(value);
    end = s + size;
    p = prev ? prev : s + HLL_HDR;
    int scan = 5;
    Py_ssize_t removed = 0;
    while (p < end && scan--) {
        if (IS_XZERO(*p)) {
            p += 2;
            continue;
        } else if (!IS_VAL(*p)) {
            p++;
            continue;
        }
        if (p + 1 < end && IS_VAL(p[1]) && VAL_VALUE(*p) == VAL_VALUE(p[1])) {
            int len = VAL_LEN(*p) + VAL_LEN(p[1]);
            if (len <= 4) {
                p[1] = VAL_BYTE(VAL_VALUE(*p), len);
                memmove(p, p + 1, (size_t)(end - p - 1));
                end--;
                removed++;
                continue;
            }
        }
        p++;
    }
    if (removed && PyByteArray_Resize(value, size - removed) < 0) return -2;
    ((uint8_t *)PyByteArray_AS_STRING(value))[15] |= 0x80;
    return 1;
}

static PyObject *hll_pattern(PyObject *self, PyObject *arg) {
    (void)self;
    Py_buffer b;
    if (PyObject_GetBuffer(arg, &b, PyBUF_SIMPLE) < 0) return NULL;
    long index;
    int count;
    pattern_of(b.buf, b.len, &index, &count);
    PyBuffer_Release(&b);
    return Py_BuildValue("(li)", index, count);
}

/* is_hll(value): server/hll.py's is_hll (the header test of Redis's isHLLObjectOrReply) for any
 * bytes-like value, without the generic slicing and comparisons the handlers paid for it. */
static PyObject *hll_is_hll(PyObject *self, PyObject *value) {
    (void)self;
    const uint8_t *s;
    Py_ssize_t size;
    if (PyByteArray_CheckExact(value)) {
        s = (const uint8_t *)PyByteArray_AS_STRING(value);
        size = PyByteArray_GET_SIZE(value);
    } else if (PyBytes_CheckExact(value)) {
        s = (const uint8_t *)PyBytes_AS_STRING(value);
        size = PyBytes_GET_SIZE(value);
    } else {
        Py_buffer b;
        if (PyObject_GetBuffer(value, &b, PyBUF_SIMPLE) < 0) return NULL;
        int ok = b.len >= HLL_HDR && memcmp(b.buf, "HYLL", 4) == 0 && ((uint8_t *)b.buf)[4] <= HLL_SPARSE
                 && (((uint8_t *)b.buf)[4] == HLL_SPARSE || b.len == HLL_DENSE_SIZE);
        PyBuffer_Release(&b);
        return PyBool_FromLong(ok);
    }
    return PyBool_FromLong(size >= HLL_HDR && memcmp(s, "HYLL", 4) == 0 && s[4] <= HLL_SPARSE
                           && (s[4] == HLL_SPARSE || size == HLL_DENSE_SIZE));
}

/* PFADD's loop over n elements: registers changed, -1 at the first corrupt step (what changed
 * before stays), -2 with an exception set. `value` must have passed is_mutable_hll. Also
 * server/_fastpath.c's kernel for PFADD of a dense HLL, reached through the capsule
 * "server._hll.add_kernel" (the signature is repeated there). */
static long add_elements(PyObject *value, PyObject *const *items, Py_ssize_t n,
                         Py_ssize_t max_bytes) {
    long updated = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = items[i];
        long index;
        int count;
        if (PyBytes_Check(item)) {
            pattern_of((const uint8_t *)PyBytes_AS_STRING(item), PyBytes_GET_SIZE(item), &index, &count);
        } else {
            Py_buffer b;
            if (PyObject_GetBuffer(item, &b, PyBUF_SIMPLE) < 0) return -2;
            pattern_of(b.buf, b.len, &index, &count);
            PyBuffer_Release(&b);
        }
        uint8_t *s = (uint8_t *)PyByteArray_AS_STRING(value);
        int changed;
        if (s[4] == HLL_DENSE) {
            changed = dense_set(s + HLL_HDR, index, count);
        } else {
            changed = sparse_set(value, index, count, max_bytes);
            if (changed < 0) return changed == -2 ? -2 : -1;
        }
        updated += changed;
    }
    return updated;
}

/* add(value, elements, start, max_bytes) -> registers changed, or -1 when corrupt */
static PyObject *hll_add(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "add(value, elements, start, max_bytes)");
        return NULL;
    }
    PyObject *value = args[0];
    Py_ssize_t start = PyLong_AsSsize_t(args[2]), max_bytes = PyLong_AsSsize_t(args[3]);
    if ((start == -1 || max_bytes == -1) && PyErr_Occurred()) return NULL;
    if (!is_mutable_hll(value)) return NULL;
    PyObject *seq = PySequence_Fast(args[1], "elements must be a sequence");
    if (seq == NULL) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    long updated = start < n ? add_elements(value, PySequence_Fast_ITEMS(seq) + (start < 0 ? 0 : start),
                                            n - (start < 0 ? 0 : start), max_bytes) : 0;
    Py_DECREF(seq);
    return updated == -2 ? NULL : PyLong_FromLong(updated);
}

/* histogram(value, raw=False) -> 64 counts, or None for a sparse HLL not covering 16384 */
static PyObject *hll_histogram(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *value;
    int raw = 0;
    if (!PyArg_ParseTuple(args, "O|p", &value, &raw)) return NULL;
    Py_buffer b;
    if (PyObject_GetBuffer(value, &b, PyBUF_SIMPLE) < 0) return NULL;
    const uint8_t *s = b.buf;
    long histo[64] = {0};
    int valid = 1;
    if (raw) {
        if (b.len < HLL_REGISTERS) goto short_value;
        for (long i = 0; i < HLL_REGISTERS; i++) histo[s[i] & 63]++;
    } else if (b.len < HLL_HDR) {
        goto short_value;
    } else if (s[4] == HLL_DENSE) {
        if (b.len < HLL_DENSE_SIZE) goto short_value;
        /* four tables, one per register of a 3-byte group: consecutive increments of the
         * same counter (runs of equal registers are the rule) do not wait on each other */
        long part[4][64] = {{0}};
        const uint8_t *r = s + HLL_HDR;
        for (long j = 0; j < HLL_REGISTERS / 4; j++, r += 3) {
            part[0][r[0] & 63]++;
            part[1][(r[0] >> 6 | r[1] << 2) & 63]++;
            part[2][(r[1] >> 4 | r[2] << 4) & 63]++;
            part[3][r[2] >> 2]++;
        }
        for (int v = 0; v < 64; v++) histo[v] = part[0][v] + part[1][v] + part[2][v] + part[3][v];
    } else {
        const uint8_t *p = s + HLL_HDR, *end = s + b.len;
        long idx = 0, span;
        int val, oplen;
        while (p < end) {
            opcode(p, end, &span, &val, &oplen);
            idx += span;
            histo[val] += span;
            p += oplen;
        }
        valid = idx == HLL_REGISTERS;
    }
    PyBuffer_Release(&b);
    if (!valid) Py_RETURN_NONE;
    PyObject *out = PyList_New(64);
    if (out == NULL) return NULL;
    for (int i = 0; i < 64; i++) {
        PyObject *n = PyLong_FromLong(histo[i]);
        if (n == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, i, n);
    }
    return out;
short_value:
    PyBuffer_Release(&b);
    PyErr_SetString(PyExc_ValueError, "value too short");
    return NULL;
}

/* merge(out, value) -> False when corrupt: out[i] = max(out[i], register i) */
static PyObject *hll_merge(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *out, *value;
    if (!PyArg_ParseTuple(args, "OO", &out, &value)) return NULL;
    if (!PyByteArray_Check(out) || PyByteArray_GET_SIZE(out) < HLL_REGISTERS) {
        PyErr_SetString(PyExc_TypeError, "out must be a bytearray of 16384 registers");
        return NULL;
    }
    Py_buffer b;
    if (PyObject_GetBuffer(value, &b, PyBUF_SIMPLE) < 0) return NULL;
    uint8_t *max = (uint8_t *)PyByteArray_AS_STRING(out);
    const uint8_t *s = b.buf;
    int ok = 1;
    if (b.len < HLL_HDR) {
        ok = 0;
    } else if (s[4] == HLL_DENSE) {
        if (b.len < HLL_DENSE_SIZE) {
            ok = 0;
        } else {
            const uint8_t *r = s + HLL_HDR;
            uint8_t *m = max;
            for (long j = 0; j < HLL_REGISTERS / 4; j++, r += 3, m += 4) {
                uint8_t v0 = r[0] & 63, v1 = (r[0] >> 6 | r[1] << 2) & 63;
                uint8_t v2 = (r[1] >> 4 | r[2] << 4) & 63, v3 = r[2] >> 2;
                if (v0 > m[0]) m[0] = v0;
                if (v1 > m[1]) m[1] = v1;
                if (v2 > m[2]) m[2] = v2;
                if (v3 > m[3]) m[3] = v3;
            }
        }
    } else {
        const uint8_t *p = s + HLL_HDR, *end = s + b.len;
        long i = 0, span;
        int val, oplen;
        while (p < end) {
            opcode(p, end, &span, &val, &oplen);
            if (val) {
                if (i + span > HLL_REGISTERS) {
                    i = -1;  /* corrupt, even where the sum would end right */
                    break;
                }
                for (long j = i; j < i + span; j++)
                    if (val > max[j]) max[j] = (uint8_t)val;
            }
            i += span;
            p += oplen;
        }
        ok = i == HLL_REGISTERS;
    }
    PyBuffer_Release(&b);
    return PyBool_FromLong(ok);
}

static PyObject *hll_to_dense(PyObject *self, PyObject *value) {
    (void)self;
    if (!is_mutable_hll(value)) return NULL;
    int ok = to_dense_in(value);
    if (ok < 0) return NULL;
    return PyBool_FromLong(ok);
}

/* write_registers(value, regs, max_bytes): raise register i to regs[i], in order (PFMERGE) */
static PyObject *hll_write_registers(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *value;
    Py_buffer regs;
    Py_ssize_t max_bytes;
    if (!PyArg_ParseTuple(args, "Oy*n", &value, &regs, &max_bytes)) return NULL;
    if (!is_mutable_hll(value) || regs.len < HLL_REGISTERS) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "16384 registers expected");
        PyBuffer_Release(&regs);
        return NULL;
    }
    const uint8_t *r = regs.buf;
    for (long i = 0; i < HLL_REGISTERS; i++) {
        if (!r[i]) continue;
        uint8_t *s = (uint8_t *)PyByteArray_AS_STRING(value);
        if (s[4] == HLL_DENSE) {
            dense_set(s + HLL_HDR, i, r[i]);
        } else if (s[4] == HLL_SPARSE) {
            if (sparse_set(value, i, r[i], max_bytes) == -2) {
                PyBuffer_Release(&regs);
                return NULL;
            }
        }
    }
    PyBuffer_Release(&regs);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"is_hll", hll_is_hll, METH_O, "is_hll(value): whether the string has an HLL's header"},
    {"pattern", hll_pattern, METH_O, "(register index, zero run + 1) of an element"},
    {"add", (PyCFunction)(void (*)(void))hll_add, METH_FASTCALL, "add(value, elements, start, max_bytes): PFADD's loop"},
    {"histogram", hll_histogram, METH_VARARGS, "histogram(value, raw=False): register counts"},
    {"merge", hll_merge, METH_VARARGS, "merge(out, value): raise out to the HLL's registers"},
    {"to_dense", hll_to_dense, METH_O, "promote a sparse HLL to dense in place"},
    {"write_registers", hll_write_registers, METH_VARARGS, "PFMERGE's write of the registers"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "server._hll", NULL, -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__hll(void) {
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    PyObject *kernel = PyCapsule_New((void *)add_elements, "server._hll.add_kernel", NULL);
    if (kernel == NULL || PyModule_AddObject(m, "add_kernel", kernel) < 0) {
        Py_XDECREF(kernel);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
