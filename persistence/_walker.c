/* persistence._walker: writes RDB records for a keyspace without touching reference counts.
 *
 * Why it exists: in a forked BGSAVE child, CPython code that merely reads an object writes
 * its reference count, so copy-on-write duplicates nearly every page of the dataset. This
 * walker reads dicts with PyDict_Next (borrowed references), sets through their table,
 * string bytes in place and ints by value, and writes through its own buffer to a file
 * descriptor, computing Redis's CRC64 as it goes. A value's serialiser is picked by its exact
 * class from the `layouts` table (persistence.rdb's LAYOUT_* codes, assigned by the server's
 * value registry): strings, counters kept as ints, lists, sets, hashes and sorted sets are all
 * walked here with borrowed references, and a small set or sorted set packed at rest (a bytes
 * subclass holding Redis's intset / listpack) is written as its blob, as RDB type 11 / 17, and a
 * stream from the record slots it keeps current (RDB type 19). A value whose class is in no layout goes to the Python
 * fallback, which writes it (reference counts and all) or raises TypeError, and Sink.fallbacks
 * counts it (tests hold it at zero for every type the registry declares).
 * The byte layout must stay identical to persistence.rdb's pure-Python writer, the reference.
 *
 * It must not: call back into Python for keyspace values, create references to data objects,
 * look keys up in a dict with CPython's lookup (it writes to the stored key; see the expires
 * index), or allocate per key (an int beyond 64 bits, which no command stores, is the one
 * exception: its decimal text is a fresh object).
 *
 * CPython's private iterators (_PyDict_Next, _PySet_NextEntry) are gone from 3.13's headers;
 * this file uses only PyDict_Next and the set table that Include/cpython/setobject.h
 * documents, both the same from 3.11 to 3.13 (checked below at compile time).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#if PY_VERSION_HEX < 0x030B0000 || PY_VERSION_HEX >= 0x030E0000
#error "persistence._walker is verified on CPython 3.11 to 3.13 only: check PyDict_Next and the \
PySetObject table layout (Include/cpython/setobject.h) of a newer CPython before widening this"
#endif
#ifdef Py_GIL_DISABLED
#error "persistence._walker reads set tables and dicts without locks: not for free-threaded CPython"
#endif

#include <structmember.h>  /* T_OBJECT_EX: the slots of a stream record */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define BUF_SIZE (1 << 16)  /* flushed when this full; same figure as the Python writer */

/* ---- CRC64, Jones polynomial (Redis), reflected, init 0, no final xor -----------------
 * Slicing-by-8: table[k][b] is the CRC of byte b followed by k zero bytes. */

#define CRC64_JONES_REFLECTED 0x95ac9329ac4bc9b5ULL

static uint64_t crc_table[8][256];

static void
crc64_init(void)
{
    for (int b = 0; b < 256; b++) {
        uint64_t c = (uint64_t)b;
        for (int i = 0; i < 8; i++)
            c = (c & 1) ? (c >> 1) ^ CRC64_JONES_REFLECTED : c >> 1;
        crc_table[0][b] = c;
    }
    for (int b = 0; b < 256; b++)
        for (int k = 1; k < 8; k++)
            crc_table[k][b] = (crc_table[k - 1][b] >> 8) ^ crc_table[0][crc_table[k - 1][b] & 0xff];
}

static uint64_t
crc64_update(uint64_t crc, const unsigned char *p, size_t n)
{
    while (n >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);  /* little-endian hosts only; checked at import */
        crc ^= word;
        crc = crc_table[7][crc & 0xff] ^ crc_table[6][(crc >> 8) & 0xff] ^
              crc_table[5][(crc >> 16) & 0xff] ^ crc_table[4][(crc >> 24) & 0xff] ^
              crc_table[3][(crc >> 32) & 0xff] ^ crc_table[2][(crc >> 40) & 0xff] ^
              crc_table[1][(crc >> 48) & 0xff] ^ crc_table[0][crc >> 56];
        p += 8;
        n -= 8;
    }
    while (n--)
        crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}

/* ---- LZF --------------------------------------------------------------------------------
 * The Python writer compresses with python-lzf, so we call the very same lzf_compress that
 * python-lzf's extension exports (found with dlsym) and get identical bytes. If it cannot be
 * found, we copy the value into a fresh bytes object and call lzf.compress: slower, but it
 * still never touches the data object itself.
 * Caveat: liblzf leaves its hash table uninitialised (INIT_HTAB 0), so in principle a stale
 * slot can change which equally valid back-reference it emits. A stale slot only matters at
 * a position that no earlier position of the same input has claimed, and it still has to
 * point at matching bytes; tests and the benchmark have never seen the paths differ. */

typedef unsigned int (*lzf_compress_fn)(const void *in, unsigned int in_len,
                                        void *out, unsigned int out_len);

static lzf_compress_fn lzf_compress_ptr = NULL;
static PyObject *lzf_compress_py = NULL;  /* lzf.compress, for the fallback path */

/* ---- the sink ---------------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    int fd;                 /* -1: write through `writer` instead */
    PyObject *writer;       /* bound .write of a file object without a descriptor */
    PyObject *fallback;     /* fallback(value, compression) -> bytes: type byte + body */
    PyObject *layouts;      /* dict: value class -> layout code (persistence.rdb LAYOUT_*) */
    int compression;
    unsigned char *buf;
    size_t len;
    uint64_t crc;
    unsigned long long total;
    unsigned long long fallbacks; /* values handed to `fallback` (each touches refcounts) */
    unsigned char *scratch; /* LZF output */
    size_t scratch_cap;
    int ready;              /* __init__ succeeded: the other fields are usable */
} Sink;

static int
sink_ready(Sink *s)
{
    if (!s->ready)
        PyErr_SetString(PyExc_ValueError, "Sink is not initialised");
    return s->ready;
}

/* Write out the buffer as is (sink_commit folds it into the CRC first). */
static int
sink_drain(Sink *s)
{
    size_t off = 0;
    if (s->fd >= 0) {
        while (off < s->len) {
            ssize_t n = write(s->fd, s->buf + off, s->len - off);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                PyErr_SetFromErrno(PyExc_OSError);
                return -1;
            }
            off += (size_t)n;
        }
    } else {
        /* As rdb._write_all: a raw file may take part of the data; None means "all of it". */
        size_t off = 0;
        while (off < s->len) {
            PyObject *chunk = PyBytes_FromStringAndSize((const char *)s->buf + off,
                                                        (Py_ssize_t)(s->len - off));
            if (chunk == NULL)
                return -1;
            PyObject *r = PyObject_CallOneArg(s->writer, chunk);
            Py_DECREF(chunk);
            if (r == NULL)
                return -1;
            if (r == Py_None) {
                Py_DECREF(r);
                break;
            }
            Py_ssize_t took = PyLong_AsSsize_t(r);
            Py_DECREF(r);
            if (took == -1 && PyErr_Occurred())
                return -1;
            if (took <= 0) {
                PyErr_SetString(PyExc_OSError, "write() to the snapshot file made no progress");
                return -1;
            }
            off += (size_t)took;
        }
    }
    s->total += s->len;
    s->len = 0;
    return 0;
}

static int
sink_commit(Sink *s)
{
    s->crc = crc64_update(s->crc, s->buf, s->len);
    return sink_drain(s);
}

static int
sink_put(Sink *s, const void *p, size_t n)
{
    const unsigned char *src = p;
    while (n > 0) {
        size_t room = BUF_SIZE - s->len;
        size_t take = n < room ? n : room;
        memcpy(s->buf + s->len, src, take);
        s->len += take;
        src += take;
        n -= take;
        if (s->len == BUF_SIZE && sink_commit(s) < 0)
            return -1;
    }
    return 0;
}

static int
sink_byte(Sink *s, unsigned char b)
{
    return sink_put(s, &b, 1);
}

static int
put_length(Sink *s, uint64_t n)
{
    unsigned char out[9];
    size_t len;
    if (n < 0x40) {
        out[0] = (unsigned char)n;
        len = 1;
    } else if (n < 0x4000) {
        out[0] = (unsigned char)(0x40 | (n >> 8));
        out[1] = (unsigned char)(n & 0xff);
        len = 2;
    } else if (n <= 0xffffffffULL) {
        out[0] = 0x80;
        for (int i = 0; i < 4; i++)
            out[1 + i] = (unsigned char)(n >> (24 - 8 * i));
        len = 5;
    } else {
        out[0] = 0x81;
        for (int i = 0; i < 8; i++)
            out[1 + i] = (unsigned char)(n >> (56 - 8 * i));
        len = 9;
    }
    return sink_put(s, out, len);
}

/* Redis's rdbTryIntegerEncoding: a canonical decimal integer (no sign but '-', no leading
 * zeros, no "-0") that fits 32 bits. Returns the encoded length written to out, or 0. */
static size_t
int_encoding(const unsigned char *p, size_t n, unsigned char *out)
{
    if (n == 0 || n > 11)
        return 0;
    size_t i = 0;
    int neg = 0;
    if (p[0] == '-') {
        neg = 1;
        i = 1;
        if (n == 1)
            return 0;
    }
    if (p[i] == '0' && (n - i > 1 || neg))
        return 0;
    long long v = 0;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return 0;
        v = v * 10 + (p[i] - '0');
    }
    if (neg)
        v = -v;
    if (v >= -128 && v <= 127) {
        out[0] = 0xc0;
        out[1] = (unsigned char)(int8_t)v;
        return 2;
    }
    if (v >= -32768 && v <= 32767) {
        uint16_t u = (uint16_t)(int16_t)v;
        out[0] = 0xc1;
        out[1] = u & 0xff;
        out[2] = u >> 8;
        return 3;
    }
    if (v >= -2147483648LL && v <= 2147483647LL) {
        uint32_t u = (uint32_t)(int32_t)v;
        out[0] = 0xc2;
        for (int k = 0; k < 4; k++)
            out[1 + k] = (u >> (8 * k)) & 0xff;
        return 5;
    }
    return 0;
}

/* Compress into s->scratch with room n - 4 (Redis's rule). Returns the compressed size,
 * 0 when it does not fit, -1 on a Python error. */
static Py_ssize_t
lzf_try(Sink *s, const unsigned char *p, size_t n)
{
    if (lzf_compress_ptr != NULL) {
        if (s->scratch_cap < n) {
            unsigned char *grown = PyMem_RawRealloc(s->scratch, n);
            if (grown == NULL) {
                PyErr_NoMemory();
                return -1;
            }
            s->scratch = grown;
            s->scratch_cap = n;
        }
        return (Py_ssize_t)lzf_compress_ptr(p, (unsigned int)n, s->scratch, (unsigned int)(n - 4));
    }
    /* A fresh copy: the data object's own header is never written. */
    PyObject *copy = PyBytes_FromStringAndSize((const char *)p, (Py_ssize_t)n);
    if (copy == NULL)
        return -1;
    PyObject *r = PyObject_CallFunction(lzf_compress_py, "On", copy, (Py_ssize_t)(n - 5));
    Py_DECREF(copy);
    if (r == NULL)
        return -1;
    if (r == Py_None) {
        Py_DECREF(r);
        return 0;
    }
    Py_ssize_t clen = PyBytes_GET_SIZE(r);
    if (s->scratch_cap < (size_t)clen) {
        unsigned char *grown = PyMem_RawRealloc(s->scratch, (size_t)clen);
        if (grown == NULL) {
            Py_DECREF(r);
            PyErr_NoMemory();
            return -1;
        }
        s->scratch = grown;
        s->scratch_cap = (size_t)clen;
    }
    memcpy(s->scratch, PyBytes_AS_STRING(r), (size_t)clen);
    Py_DECREF(r);
    return clen;
}

/* Redis's rdbSaveRawString. */
static int
put_string(Sink *s, const unsigned char *p, size_t n)
{
    if (n <= 11) {
        unsigned char enc[5];
        size_t elen = int_encoding(p, n, enc);
        if (elen)
            return sink_put(s, enc, elen);
    } else if (s->compression && n > 20 && n <= 0xffffffffULL) {
        Py_ssize_t clen = lzf_try(s, p, n);
        if (clen < 0)
            return -1;
        if (clen > 0) {
            if (sink_byte(s, 0xc3) < 0 || put_length(s, (uint64_t)clen) < 0 ||
                put_length(s, n) < 0)
                return -1;
            return sink_put(s, s->scratch, (size_t)clen);
        }
    }
    if (put_length(s, n) < 0)
        return -1;
    return sink_put(s, p, n);
}

/* Borrowed view of a bytes or bytearray object; 0 when it is neither. */
static int
string_view(PyObject *o, const unsigned char **p, size_t *n)
{
    if (PyBytes_Check(o)) {
        *p = (const unsigned char *)PyBytes_AS_STRING(o);
        *n = (size_t)PyBytes_GET_SIZE(o);
        return 1;
    }
    if (PyByteArray_Check(o)) {
        *p = (const unsigned char *)PyByteArray_AS_STRING(o);
        *n = (size_t)PyByteArray_GET_SIZE(o);
        return 1;
    }
    return 0;
}

/* Borrowed view of a key: bytes, bytearray, or a str whose characters are all below 256 (the
 * server's keyspace holds each key as the latin-1 decoding of its bytes); 0 for anything else. */
static int
key_view(PyObject *o, const unsigned char **p, size_t *n)
{
    if (PyUnicode_CheckExact(o) && PyUnicode_KIND(o) == PyUnicode_1BYTE_KIND) {
        *p = (const unsigned char *)PyUnicode_1BYTE_DATA(o);
        *n = (size_t)PyUnicode_GET_LENGTH(o);
        return 1;
    }
    return string_view(o, p, n);
}

/* A counter kept as an exact int (INCR stores them so): the bytes its decimal text gets, as
 * persistence.rdb._value_body writes it and as Redis's rdbSaveLongLongAsStringObject does for
 * its int encoding: INT8/16/32 when the value fits 32 bits, else the text (at most 20 bytes,
 * so never LZF). PyLong_AsLongLongAndOverflow reads an exact int in place, with no
 * reference taken. An int beyond 64 bits (no command stores one) gets its text from int's
 * own tp_repr, a fresh str: the value is still only read, and put_string may LZF the text as
 * the Python writer does; past sys.set_int_max_str_digits both raise ValueError. */
static int
put_int(Sink *s, PyObject *value)
{
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (!overflow) {
        char text[24];
        int n = snprintf(text, sizeof text, "%lld", v);
        return put_string(s, (const unsigned char *)text, (size_t)n);
    }
    PyObject *text = PyLong_Type.tp_repr(value);
    if (text == NULL)
        return -1;
    Py_ssize_t n;
    const char *p = PyUnicode_AsUTF8AndSize(text, &n);  /* ASCII: its own buffer, no copy */
    int rc = p == NULL ? -1 : put_string(s, (const unsigned char *)p, (size_t)n);
    Py_DECREF(text);
    return rc;
}

/* ---- collections: the same layouts as persistence.rdb._value_body, element by element -- */

#define RDB_TYPE_STRING 0
#define RDB_TYPE_LIST 1
#define RDB_TYPE_SET 2
#define RDB_TYPE_HASH 4
#define RDB_TYPE_ZSET_2 5
#define RDB_TYPE_SET_INTSET 11
#define RDB_TYPE_ZSET_LISTPACK 17

/* An element that is not bytes/bytearray: Python raises TypeError for it too. */
static int
element_error(PyObject *key, PyObject *item)
{
    PyErr_Format(PyExc_TypeError, "value of key %R holds a %.100s, not bytes", key,
                 Py_TYPE(item)->tp_name);
    return -1;
}

static int
put_element(Sink *s, PyObject *key, PyObject *item)
{
    const unsigned char *p;
    size_t n;
    if (!string_view(item, &p, &n))
        return element_error(key, item);
    return put_string(s, p, n);
}

/* collections.deque's layout (Modules/_collectionsmodule.c, the same in CPython 3.11 to 3.13):
 * elements in a doubly linked chain of 64-slot blocks, from leftblock[leftindex] to
 * rightblock[rightindex]. Only the fields read here are declared; the module init checks this
 * reading against the deque's own iterator before anything relies on it. */
#define DEQUE_BLOCKLEN 64
typedef struct deque_block {
    struct deque_block *leftlink;
    PyObject *data[DEQUE_BLOCKLEN];
    struct deque_block *rightlink;
} deque_block;

typedef struct {
    PyObject_VAR_HEAD
    deque_block *leftblock;
    deque_block *rightblock;
    Py_ssize_t leftindex;
    Py_ssize_t rightindex;
} deque_head;

static PyTypeObject *deque_type;  /* collections.deque */

/* Call `visit(s, key, element)` for each element of a deque, left to right, by reading its blocks
 * (the deque iterator would write the deque's reference count). */
static int
walk_deque(Sink *s, PyObject *key, PyObject *deque, int (*visit)(Sink *, PyObject *, PyObject *))
{
    deque_head *d = (deque_head *)deque;
    deque_block *b = d->leftblock;
    Py_ssize_t index = d->leftindex, n = Py_SIZE(deque);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (visit(s, key, b->data[index]) < 0)
            return -1;
        if (++index == DEQUE_BLOCKLEN) {
            b = b->rightlink;
            index = 0;
        }
    }
    return 0;
}

static int
put_list(Sink *s, PyObject *key, PyObject *list)
{
    if (!PyList_Check(list)) {  /* a deque (checked by the caller) */
        if (put_length(s, (uint64_t)Py_SIZE(list)) < 0)
            return -1;
        return walk_deque(s, key, list, put_element);
    }
    Py_ssize_t n = PyList_GET_SIZE(list);
    if (put_length(s, (uint64_t)n) < 0)
        return -1;
    for (Py_ssize_t i = 0; i < n; i++)
        if (put_element(s, key, PyList_GET_ITEM(list, i)) < 0)
            return -1;
    return 0;
}

/* The members in the order Python's set iterator yields them: table slot by slot, skipping
 * unused slots (key NULL) and dummies (hash -1, which no live entry has: CPython turns a hash
 * of -1 into -2). Include/cpython/setobject.h documents this layout for 3.11 to 3.13; it
 * replaces _PySet_NextEntry, which 3.13 no longer exports. Nothing is written to the set. */
static int
put_set(Sink *s, PyObject *key, PyObject *set)
{
    if (PyDict_Check(set)) {  /* a set held as a dict of members (server/types/sets.py) */
        Py_ssize_t pos = 0;
        PyObject *member, *unused;
        if (put_length(s, (uint64_t)PyDict_GET_SIZE(set)) < 0)
            return -1;
        while (PyDict_Next(set, &pos, &member, &unused))
            if (put_element(s, key, member) < 0)
                return -1;
        return 0;
    }
    PySetObject *so = (PySetObject *)set;
    if (put_length(s, (uint64_t)PySet_GET_SIZE(set)) < 0)
        return -1;
    Py_ssize_t seen = 0;
    for (Py_ssize_t i = 0; i <= so->mask && seen < so->used; i++) {
        const setentry *entry = &so->table[i];
        if (entry->key == NULL || entry->hash == -1)
            continue;
        seen++;
        if (put_element(s, key, entry->key) < 0)
            return -1;
    }
    return 0;
}

static int
put_hash(Sink *s, PyObject *key, PyObject *dict)
{
    Py_ssize_t pos = 0;
    PyObject *field, *val;
    if (put_length(s, (uint64_t)PyDict_GET_SIZE(dict)) < 0)
        return -1;
    while (PyDict_Next(dict, &pos, &field, &val))
        if (put_element(s, key, field) < 0 || put_element(s, key, val) < 0)
            return -1;
    return 0;
}

static int
put_zset(Sink *s, PyObject *key, PyObject *zset)
{
    Py_ssize_t pos = 0;
    PyObject *member, *score;
    if (put_length(s, (uint64_t)PyDict_GET_SIZE(zset)) < 0)
        return -1;
    while (PyDict_Next(zset, &pos, &member, &score)) {
        double d;
        if (PyFloat_CheckExact(score))
            d = PyFloat_AS_DOUBLE(score);
        else {
            d = PyFloat_AsDouble(score);  /* ints and the like, as struct.pack("<d") */
            if (d == -1.0 && PyErr_Occurred())
                return -1;
        }
        uint64_t bits;
        memcpy(&bits, &d, 8);
        unsigned char le[8];
        for (int k = 0; k < 8; k++)
            le[k] = (bits >> (8 * k)) & 0xff;
        if (put_element(s, key, member) < 0 || sink_put(s, le, 8) < 0)
            return -1;
    }
    return 0;
}

/* How a value is laid out, by its exact class (persistence.rdb's LAYOUT_* codes, which the
 * server's value registry assigns to the classes it stores), or 0 when the class is not in the
 * table (the fallback's business). The lookup finds the type object by identity: no reference
 * count of a stored object is written. */
enum { LAYOUT_STRING = 1, LAYOUT_INT, LAYOUT_LIST, LAYOUT_SET, LAYOUT_ZSET, LAYOUT_HASH,
       LAYOUT_INTSET, LAYOUT_ZSET_LISTPACK, LAYOUT_STREAM = 11 };

/* ---- streams ------------------------------------------------------------------------------
 * A stream (persistence.rdb.StreamRecord, or the server's subclass of it) keeps its record's
 * parts current in slots: the nodes as a list of (16-byte key, listpack bytes) tuples, the
 * counters as ints, the ids as (ms, seq) tuples and the groups part already serialised. The
 * slots are read in place at the offsets their member descriptors give (found once per class
 * with _PyType_Lookup, which returns a borrowed reference): no attribute lookup, no reference. */

#define RDB_TYPE_STREAM_LISTPACKS_2 19
#define STREAM_FIELDS 7
static const char *stream_field_names[STREAM_FIELDS] = {
    "rdb_nodes", "length", "last_id", "first_id", "max_deleted", "entries_added", "rdb_groups"};
static PyObject *stream_field_strs[STREAM_FIELDS];
static PyTypeObject *stream_offsets_of;  /* the class stream_offsets belong to */
static Py_ssize_t stream_offsets[STREAM_FIELDS];

static int
stream_fields(PyObject *value, PyObject **out)
{
    PyTypeObject *t = Py_TYPE(value);
    if (t != stream_offsets_of) {
        for (int i = 0; i < STREAM_FIELDS; i++) {
            if (stream_field_strs[i] == NULL) {
                stream_field_strs[i] = PyUnicode_InternFromString(stream_field_names[i]);
                if (stream_field_strs[i] == NULL)
                    return -1;
            }
            PyObject *d = _PyType_Lookup(t, stream_field_strs[i]);  /* borrowed */
            if (d == NULL || !Py_IS_TYPE(d, &PyMemberDescr_Type) ||
                ((PyMemberDescrObject *)d)->d_member->type != T_OBJECT_EX) {
                PyErr_Format(PyExc_TypeError, "%.100s has no slot %s", t->tp_name,
                             stream_field_names[i]);
                return -1;
            }
            stream_offsets[i] = ((PyMemberDescrObject *)d)->d_member->offset;
        }
        stream_offsets_of = t;
    }
    for (int i = 0; i < STREAM_FIELDS; i++) {
        out[i] = *(PyObject **)((char *)value + stream_offsets[i]);
        if (out[i] == NULL) {
            PyErr_Format(PyExc_TypeError, "stream slot %s is not set", stream_field_names[i]);
            return -1;
        }
    }
    return 0;
}

static int
put_u64(Sink *s, PyObject *n)
{
    unsigned long long v = PyLong_AsUnsignedLongLong(n);
    if (v == (unsigned long long)-1 && PyErr_Occurred())
        return -1;
    return put_length(s, (uint64_t)v);
}

static int
put_stream(Sink *s, PyObject *key, PyObject *value)
{
    PyObject *f[STREAM_FIELDS];
    if (stream_fields(value, f) < 0)
        return -1;
    PyObject *nodes = f[0];
    if (!PyList_Check(nodes) || !PyBytes_Check(f[6])) {
        PyErr_Format(PyExc_TypeError, "stream at key %R: bad record slots", key);
        return -1;
    }
    Py_ssize_t n = PyList_GET_SIZE(nodes);
    if (put_length(s, (uint64_t)n) < 0)
        return -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *node = PyList_GET_ITEM(nodes, i);
        if (!PyTuple_Check(node) || PyTuple_GET_SIZE(node) != 2) {
            PyErr_Format(PyExc_TypeError, "stream at key %R: a node is not a (key, listpack) pair", key);
            return -1;
        }
        if (put_element(s, key, PyTuple_GET_ITEM(node, 0)) < 0 ||
            put_element(s, key, PyTuple_GET_ITEM(node, 1)) < 0)
            return -1;
    }
    if (put_u64(s, f[1]) < 0)
        return -1;
    for (int i = 2; i <= 4; i++) {
        PyObject *id = f[i];
        if (!PyTuple_Check(id) || PyTuple_GET_SIZE(id) != 2) {
            PyErr_Format(PyExc_TypeError, "stream at key %R: an id is not a (ms, seq) pair", key);
            return -1;
        }
        if (put_u64(s, PyTuple_GET_ITEM(id, 0)) < 0 || put_u64(s, PyTuple_GET_ITEM(id, 1)) < 0)
            return -1;
    }
    if (put_u64(s, f[5]) < 0)
        return -1;
    return sink_put(s, PyBytes_AS_STRING(f[6]), (size_t)PyBytes_GET_SIZE(f[6]));
}

static int
layout_of(Sink *s, PyObject *value)
{
    PyObject *code = PyDict_GetItemWithError(s->layouts, (PyObject *)Py_TYPE(value));  /* borrowed */
    if (code == NULL)
        return PyErr_Occurred() ? -1 : 0;
    long c = PyLong_AsLong(code);
    return c == -1 && PyErr_Occurred() ? -1 : (int)c;
}

static int
put_collection(Sink *s, int type, PyObject *key, PyObject *value)
{
    switch (type) {
    case RDB_TYPE_LIST:
        return put_list(s, key, value);
    case RDB_TYPE_SET:
        return put_set(s, key, value);
    case RDB_TYPE_ZSET_2:
        return put_zset(s, key, value);
    default:
        return put_hash(s, key, value);
    }
}

static int
Sink_init(Sink *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"target", "compression", "fallback", "layouts", NULL};
    PyObject *target, *fallback, *layouts;
    int compression;
    self->ready = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OpOO!:Sink", kwlist, &target, &compression,
                                     &fallback, &PyDict_Type, &layouts))
        return -1;
    if (!PyCallable_Check(fallback)) {
        PyErr_SetString(PyExc_TypeError, "fallback must be callable");
        return -1;
    }
    if (PyLong_Check(target) && !PyBool_Check(target)) {
        long fd = PyLong_AsLong(target);
        if (fd == -1 && PyErr_Occurred())
            return -1;
        if (fd < 0 || fd > INT_MAX) {
            PyErr_SetString(PyExc_ValueError, "file descriptor out of range");
            return -1;
        }
        self->fd = (int)fd;
    } else {
        self->fd = -1;
        Py_XSETREF(self->writer, PyObject_GetAttrString(target, "write"));
        if (self->writer == NULL)
            return -1;
    }
    Py_INCREF(fallback);
    Py_XSETREF(self->fallback, fallback);
    Py_INCREF(layouts);
    Py_XSETREF(self->layouts, layouts);
    self->compression = compression;
    if (self->buf == NULL) {
        self->buf = PyMem_RawMalloc(BUF_SIZE);
        if (self->buf == NULL) {
            PyErr_NoMemory();
            return -1;
        }
    }
    self->len = 0;
    self->crc = 0;
    self->total = 0;
    self->fallbacks = 0;
    self->ready = 1;
    return 0;
}

static void
Sink_dealloc(Sink *self)
{
    Py_XDECREF(self->writer);
    Py_XDECREF(self->fallback);
    Py_XDECREF(self->layouts);
    PyMem_RawFree(self->buf);
    PyMem_RawFree(self->scratch);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
Sink_write(Sink *self, PyObject *arg)
{
    if (!sink_ready(self))
        return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    int rc = sink_put(self, view.buf, (size_t)view.len);
    PyBuffer_Release(&view);
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* One record for a value of a type the walker does not know, serialised by the Python
 * fallback: today it raises TypeError for every such value (the format holds nothing else).
 * Counted in s->fallbacks, since a record written this way touches reference counts. */
static int
put_fallback_record(Sink *s, PyObject *key, const unsigned char *kp, size_t kn, PyObject *value)
{
    s->fallbacks++;
    PyObject *rec = PyObject_CallFunctionObjArgs(s->fallback, value,
                                                 s->compression ? Py_True : Py_False, NULL);
    if (rec == NULL)
        return -1;
    if (!PyBytes_Check(rec) || PyBytes_GET_SIZE(rec) < 1) {
        Py_DECREF(rec);
        PyErr_Format(PyExc_TypeError, "fallback returned no record for key %R", key);
        return -1;
    }
    const unsigned char *rp = (const unsigned char *)PyBytes_AS_STRING(rec);
    size_t rn = (size_t)PyBytes_GET_SIZE(rec);
    int rc = (sink_byte(s, rp[0]) < 0 || put_string(s, kp, kn) < 0 ||
              sink_put(s, rp + 1, rn - 1) < 0) ? -1 : 0;
    Py_DECREF(rec);
    return rc;
}

/* ---- the expires index -----------------------------------------------------------------
 * Why not PyDict_GetItem(expires, key): for keys that are not str, CPython's dict lookup
 * increfs (writes) the stored key it compares against unless it is the very object passed in.
 * The keyspace often holds a key in `expires` as a different, equal object than in `data`
 * (EXPIRE on an existing key, or SET ... EX over one, inserts the command's own argument), so
 * every such lookup would copy the page of that key object in a fork child: about 48 bytes
 * copied per key with a TTL. Instead we index `expires` by content once, reading only: an
 * open-addressing table (linear probing, load <= 1/2) of entry positions in the dict, as
 * PyDict_Next walks them, so a hit yields the stored key and deadline without a lookup.
 * Hashes come from the key objects' own caches (key_hash), never from the dict's entries,
 * whose layout 3.13 keeps private.
 * Each 32-bit slot holds the position + 1 in its low POS_BITS and a few hash bits above them,
 * which reject most wrong slots without reading the dict's entry.
 * Cost: 8-16 bytes of fresh memory per key with a TTL, allocated in the child only. */

#define POS_BITS 26
#define POS_MASK ((1u << POS_BITS) - 1)
#define SLOT_TAG(h) ((uint32_t)((uint64_t)(h) >> (64 - (32 - POS_BITS))) << POS_BITS)

/* A dict key's hash, read from the cache that str and bytes objects fill when they first
 * enter a dict, so in practice nothing is computed or written; -1 with an exception set. */
static Py_hash_t
key_hash(PyObject *key)
{
    return PyObject_Hash(key);
}

typedef struct {
    uint32_t *slots;   /* 0 is empty */
    size_t mask;
} ExpireIndex;

/* 0 ready, 1 not usable (too many entries: use dict lookups), -1 error. */
static int
expire_index_build(ExpireIndex *ix, PyObject *expires)
{
    size_t n = (size_t)PyDict_GET_SIZE(expires);
    size_t cap = 16;
    while (cap < 2 * n)
        cap <<= 1;
    ix->slots = NULL;
    ix->mask = cap - 1;
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    Py_hash_t h;
    uint32_t *slots = PyMem_RawCalloc(cap, sizeof(uint32_t));
    if (slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    while (PyDict_Next(expires, &pos, &k, &v)) {
        if ((size_t)pos > POS_MASK) {
            PyMem_RawFree(slots);
            return 1;
        }
        if ((h = key_hash(k)) == -1) {
            PyMem_RawFree(slots);
            return -1;
        }
        size_t i = (size_t)h & ix->mask;
        while (slots[i] != 0)
            i = (i + 1) & ix->mask;
        slots[i] = SLOT_TAG(h) | (uint32_t)pos;  /* PyDict_Next left pos one past the entry */
    }
    ix->slots = slots;
    return 0;
}

/* The deadline stored for a key equal to (kp, kn) with hash h, or NULL (with an exception
 * set only if a key's hash failed); never writes to the dict or its objects. */
static PyObject *
expire_index_find(ExpireIndex *ix, PyObject *expires, PyObject *key, Py_hash_t h,
                  const unsigned char *kp, size_t kn)
{
    uint32_t tag = SLOT_TAG(h);
    for (size_t i = (size_t)h & ix->mask;; i = (i + 1) & ix->mask) {
        uint32_t slot = ix->slots[i];
        if (slot == 0)
            return NULL;
        if ((slot & ~POS_MASK) != tag)
            continue;
        Py_ssize_t pos = (Py_ssize_t)(slot & POS_MASK) - 1;
        PyObject *k, *v;
        Py_hash_t kh;
        if (!PyDict_Next(expires, &pos, &k, &v))
            continue;
        if ((kh = key_hash(k)) == -1)
            return NULL;
        if (kh != h)
            continue;
        if (k == key)
            return v;
        const unsigned char *p;
        size_t n;
        if (key_view(k, &p, &n) && n == kn && memcmp(p, kp, kn) == 0)
            return v;
    }
}

/* The IDLE or FREQ opcode of one key whose 24-bit access field is `field` (NULL: none kept),
 * as persistence.rdb.access_opcode writes it (Redis's rdbSaveKeyValuePair): 0 or -1. */
#define ACCESS_IDLE 1
#define ACCESS_FREQ 2
#define LRU_CLOCK_MAX ((1LL << 24) - 1)
static int
put_access(Sink *s, int mode, long long clock, long long decay, PyObject *field)
{
    long long f = 0;
    if (field != NULL) {
        f = PyLong_AsLongLong(field);
        if (f == -1 && PyErr_Occurred())
            return -1;
    }
    if (mode == ACCESS_IDLE) {
        long long idle = field == NULL ? 0 : clock >= f ? clock - f : clock + (LRU_CLOCK_MAX - f);
        if (sink_byte(s, 0xf8) < 0)
            return -1;
        return put_length(s, (uint64_t)idle);
    }
    long long counter = field == NULL ? 5 : (f & 255);
    if (field != NULL && decay) {
        long long last = f >> 8;
        long long periods = (clock >= last ? clock - last : 65535 - last + clock) / decay;
        if (periods)
            counter = periods > counter ? 0 : counter - periods;
    }
    unsigned char rec[2] = {0xf9, (unsigned char)counter};
    return sink_put(s, rec, 2);
}

/* The value stored under a key equal to (kp, kn) in `d`, found through its index when there
 * is one (see above), else by a plain lookup; NULL if none (an exception set on error). */
static PyObject *
indexed_find(ExpireIndex *ix, PyObject *d, PyObject *key, const unsigned char *kp, size_t kn)
{
    if (ix->slots != NULL) {
        Py_hash_t hash = key_hash(key);
        if (hash == -1)
            return NULL;
        return expire_index_find(ix, d, key, hash, kp, kn);
    }
    return PyDict_GetItemWithError(d, key);  /* a dict too large for the index (borrowed) */
}

/* write_db(data, expires, progress, every, done[, fields, mode, clock, decay]) -> done
 * Records for every key of one database, in dict order, EXPIRETIME_MS first when the key
 * has a TTL in `expires`, then with `mode` ACCESS_IDLE / ACCESS_FREQ the key's IDLE / FREQ
 * opcode from its access field in `fields` (found through an index like the deadlines). */
static PyObject *
Sink_write_db(Sink *self, PyObject *args)
{
    PyObject *data, *expires, *progress, *fields = Py_None;
    Py_ssize_t every, count;
    int mode = 0;
    long long clock = 0, decay = 0;
    if (!sink_ready(self))
        return NULL;
    if (!PyArg_ParseTuple(args, "O!O!Onn|OiLL:write_db", &PyDict_Type, &data, &PyDict_Type,
                          &expires, &progress, &every, &count, &fields, &mode, &clock, &decay))
        return NULL;
    if (every < 1)
        every = 1;
    if (mode != 0 && mode != ACCESS_IDLE && mode != ACCESS_FREQ) {
        PyErr_SetString(PyExc_ValueError, "write_db: unknown access mode");
        return NULL;
    }
    if (mode && fields != Py_None && !PyDict_Check(fields)) {
        PyErr_SetString(PyExc_TypeError, "write_db: fields must be a dict or None");
        return NULL;
    }
    int has_progress = progress != Py_None;
    int has_expires = PyDict_GET_SIZE(expires) > 0;
    int has_fields = mode && fields != Py_None && PyDict_GET_SIZE(fields) > 0;
    ExpireIndex index = {NULL, 0}, field_index = {NULL, 0};
    if (has_expires && expire_index_build(&index, expires) < 0)
        return NULL;
    if (has_fields && expire_index_build(&field_index, fields) < 0) {
        PyMem_RawFree(index.slots);
        return NULL;
    }
    PyObject *result = NULL;

    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(data, &pos, &key, &value)) {
        const unsigned char *kp, *vp;
        size_t kn, vn;
        if (!key_view(key, &kp, &kn)) {
            PyErr_Format(PyExc_TypeError, "keys must be bytes or latin-1 str, not %.100s",
                         Py_TYPE(key)->tp_name);
            goto done;
        }
        if (has_expires) {
            PyObject *when;
            if (index.slots != NULL) {
                Py_hash_t hash = key_hash(key);
                if (hash == -1)
                    goto done;
                when = expire_index_find(&index, expires, key, hash, kp, kn);
                if (when == NULL && PyErr_Occurred())
                    goto done;
            } else {  /* a dict too large for the index: plain lookups (borrowed result) */
                when = PyDict_GetItemWithError(expires, key);
                if (when == NULL && PyErr_Occurred())
                    goto done;
            }
            if (when != NULL) {
                long long ms = PyLong_AsLongLong(when);
                if (ms == -1 && PyErr_Occurred())
                    goto done;
                unsigned char rec[9];
                uint64_t u = (uint64_t)ms;
                rec[0] = 0xfc;
                for (int k = 0; k < 8; k++)
                    rec[1 + k] = (u >> (8 * k)) & 0xff;
                if (sink_put(self, rec, sizeof rec) < 0)
                    goto done;
            }
        }
        if (mode) {
            PyObject *field = NULL;
            if (has_fields) {
                field = indexed_find(&field_index, fields, key, kp, kn);
                if (field == NULL && PyErr_Occurred())
                    goto done;
            }
            if (put_access(self, mode, clock, decay, field) < 0)
                goto done;
        }
        int layout = layout_of(self, value), type = -1;
        if (layout < 0)
            goto done;
        switch (layout) {
        case LAYOUT_LIST: type = RDB_TYPE_LIST; break;
        case LAYOUT_SET: type = PyAnySet_Check(value) || PyDict_Check(value) ? RDB_TYPE_SET : -1; break;
        case LAYOUT_ZSET: type = PyDict_Check(value) ? RDB_TYPE_ZSET_2 : -1; break;
        case LAYOUT_HASH: type = PyDict_Check(value) ? RDB_TYPE_HASH : -1; break;
        }
        if (layout == LAYOUT_LIST && !PyList_Check(value) && !PyObject_TypeCheck(value, deque_type))
            type = -1;
        if ((layout == LAYOUT_INTSET || layout == LAYOUT_ZSET_LISTPACK) && PyBytes_Check(value)) {
            /* a packed set / sorted set: Redis's own blob, written as one string */
            vp = (const unsigned char *)PyBytes_AS_STRING(value);
            vn = (size_t)PyBytes_GET_SIZE(value);
            if (sink_byte(self, layout == LAYOUT_INTSET ? RDB_TYPE_SET_INTSET : RDB_TYPE_ZSET_LISTPACK) < 0
                || put_string(self, kp, kn) < 0 || put_string(self, vp, vn) < 0)
                goto done;
        } else if (layout == LAYOUT_STRING && string_view(value, &vp, &vn)) {
            if (sink_byte(self, RDB_TYPE_STRING) < 0 || put_string(self, kp, kn) < 0 ||
                put_string(self, vp, vn) < 0)
                goto done;
        } else if (layout == LAYOUT_INT && PyLong_Check(value)) {
            if (sink_byte(self, RDB_TYPE_STRING) < 0 || put_string(self, kp, kn) < 0 ||
                put_int(self, value) < 0)
                goto done;
        } else if (layout == LAYOUT_STREAM) {
            if (sink_byte(self, RDB_TYPE_STREAM_LISTPACKS_2) < 0 || put_string(self, kp, kn) < 0 ||
                put_stream(self, key, value) < 0)
                goto done;
        } else if (type >= 0) {
            if (sink_byte(self, (unsigned char)type) < 0 || put_string(self, kp, kn) < 0 ||
                put_collection(self, type, key, value) < 0)
                goto done;
        } else if (put_fallback_record(self, key, kp, kn, value) < 0) {
            goto done;
        }
        count++;
        if (has_progress && count % every == 0) {
            PyObject *r = PyObject_CallFunction(progress, "n", count);
            if (r == NULL)
                goto done;
            Py_DECREF(r);
        }
    }
    result = PyLong_FromSsize_t(count);
done:
    PyMem_RawFree(index.slots);
    PyMem_RawFree(field_index.slots);
    return result;
}

/* finish(checksum) -> total bytes: drain, then the 8-byte CRC64 (or zeros). */
static PyObject *
Sink_finish(Sink *self, PyObject *arg)
{
    if (!sink_ready(self))
        return NULL;
    int checksum = PyObject_IsTrue(arg);
    if (checksum < 0)
        return NULL;
    if (sink_commit(self) < 0)
        return NULL;
    unsigned char tail[8] = {0};
    if (checksum)
        for (int k = 0; k < 8; k++)
            tail[k] = (self->crc >> (8 * k)) & 0xff;
    memcpy(self->buf, tail, 8);
    self->len = 8;
    if (sink_drain(self) < 0)
        return NULL;
    return PyLong_FromUnsignedLongLong(self->total);
}

static PyObject *
Sink_get_crc(Sink *self, void *closure)
{
    return PyLong_FromUnsignedLongLong(crc64_update(self->crc, self->buf, self->len));
}

static PyMethodDef Sink_methods[] = {
    {"write", (PyCFunction)Sink_write, METH_O, "write(data): raw bytes into the file."},
    {"write_db", (PyCFunction)Sink_write_db, METH_VARARGS,
     "write_db(data, expires, progress, every, done[, fields, mode, clock, decay]) -> done: "
     "one database's records."},
    {"finish", (PyCFunction)Sink_finish, METH_O,
     "finish(checksum) -> total bytes: flush and append the CRC64 (or 8 zero bytes)."},
    {NULL, NULL, 0, NULL},
};

static PyObject *
Sink_get_fallbacks(Sink *self, void *closure)
{
    return PyLong_FromUnsignedLongLong(self->fallbacks);
}

static PyGetSetDef Sink_getset[] = {
    {"crc", (getter)Sink_get_crc, NULL, "CRC64 of everything written so far.", NULL},
    {"fallbacks", (getter)Sink_get_fallbacks, NULL,
     "How many values went to the Python fallback (each one touched reference counts).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject SinkType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "persistence._walker.Sink",
    .tp_basicsize = sizeof(Sink),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Sink(target, compression, fallback, layouts): RDB writer over an fd or a .write().",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Sink_init,
    .tp_dealloc = (destructor)Sink_dealloc,
    .tp_methods = Sink_methods,
    .tp_getset = Sink_getset,
};

static PyObject *
walker_crc64(PyObject *self, PyObject *args)
{
    Py_buffer view;
    unsigned long long crc = 0;
    if (!PyArg_ParseTuple(args, "y*|K:crc64", &view, &crc))
        return NULL;
    uint64_t out = crc64_update(crc, view.buf, (size_t)view.len);
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLongLong(out);
}

/* ---- stream entries as a reply ------------------------------------------------------------
 * XRANGE's and XREAD's entries in RESP (the same bytes in RESP2 and RESP3): the server's
 * reference is server/commands/streams.py entries_wire, which this matches byte for byte (tested).
 * It lives beside the stream serialiser as the one piece of C the stream type has: formatting
 * ids and lengths in Python costs about a thousand instructions each. */

static char *
put_u64_text(char *p, unsigned long long v)
{
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

static char *
put_head(char *p, char kind, unsigned long long n)
{
    *p++ = kind;
    p = put_u64_text(p, n);
    *p++ = '\r';
    *p++ = '\n';
    return p;
}

static PyObject *
walker_resp_entries(PyObject *self, PyObject *entries)
{
    if (!PyList_Check(entries)) {
        PyErr_SetString(PyExc_TypeError, "resp_entries: a list of (id, pairs)");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(entries);
    size_t size = 24;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *e = PyList_GET_ITEM(entries, i);
        if (!PyTuple_Check(e) || PyTuple_GET_SIZE(e) != 2 || !PyTuple_Check(PyTuple_GET_ITEM(e, 0)) ||
            PyTuple_GET_SIZE(PyTuple_GET_ITEM(e, 0)) != 2 || !PyTuple_Check(PyTuple_GET_ITEM(e, 1))) {
            PyErr_SetString(PyExc_TypeError, "resp_entries: a list of ((ms, seq), pairs)");
            return NULL;
        }
        PyObject *pairs = PyTuple_GET_ITEM(e, 1);
        Py_ssize_t np = PyTuple_GET_SIZE(pairs);
        size += 4 + 24 + 41 + 2 + 24;
        for (Py_ssize_t j = 0; j < np; j++) {
            PyObject *x = PyTuple_GET_ITEM(pairs, j);
            if (!PyBytes_Check(x)) {
                PyErr_SetString(PyExc_TypeError, "resp_entries: pairs of bytes");
                return NULL;
            }
            size += 24 + 2 + (size_t)PyBytes_GET_SIZE(x);
        }
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)size);
    if (out == NULL)
        return NULL;
    char *start = PyBytes_AS_STRING(out), *p = start;
    p = put_head(p, '*', (unsigned long long)n);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *e = PyList_GET_ITEM(entries, i);
        PyObject *sid = PyTuple_GET_ITEM(e, 0), *pairs = PyTuple_GET_ITEM(e, 1);
        unsigned long long ms = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(sid, 0));
        unsigned long long seq = ms == (unsigned long long)-1 && PyErr_Occurred()
            ? 0 : PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(sid, 1));
        if (PyErr_Occurred()) {
            Py_DECREF(out);
            return NULL;
        }
        char idb[41], *q = put_u64_text(idb, ms);
        *q++ = '-';
        q = put_u64_text(q, seq);
        memcpy(p, "*2\r\n", 4);
        p = put_head(p + 4, '$', (unsigned long long)(q - idb));
        memcpy(p, idb, (size_t)(q - idb));
        p += q - idb;
        *p++ = '\r';
        *p++ = '\n';
        Py_ssize_t np = PyTuple_GET_SIZE(pairs);
        p = put_head(p, '*', (unsigned long long)np);
        for (Py_ssize_t j = 0; j < np; j++) {
            PyObject *x = PyTuple_GET_ITEM(pairs, j);
            Py_ssize_t len = PyBytes_GET_SIZE(x);
            p = put_head(p, '$', (unsigned long long)len);
            memcpy(p, PyBytes_AS_STRING(x), (size_t)len);
            p += len;
            *p++ = '\r';
            *p++ = '\n';
        }
    }
    if (_PyBytes_Resize(&out, p - start) < 0)
        return NULL;
    return out;
}

static PyObject *
walker_lzf_mode(PyObject *self, PyObject *noargs)
{
    return PyUnicode_FromString(lzf_compress_ptr ? "dlsym" : "copy");
}

static PyMethodDef walker_methods[] = {
    {"crc64", walker_crc64, METH_VARARGS, "crc64(data, crc=0): Redis's CRC64 (for tests)."},
    {"resp_entries", walker_resp_entries, METH_O,
     "resp_entries([((ms, seq), pairs), ...]): the RESP array of stream entries XRANGE replies."},
    {"lzf_mode", walker_lzf_mode, METH_NOARGS,
     "How LZF is reached: 'dlsym' (python-lzf's own function) or 'copy' (via lzf.compress)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef walker_module = {
    PyModuleDef_HEAD_INIT, "persistence._walker",
    "Reference-count-free RDB writer for fork children (see persistence.rdb).", -1,
    walker_methods,
};

/* Find python-lzf's lzf_compress in the already-loaded extension. */
static int
find_lzf(PyObject *lzf)
{
    lzf_compress_py = PyObject_GetAttrString(lzf, "compress");
    if (lzf_compress_py == NULL)
        return -1;
    PyObject *path = PyObject_GetAttrString(lzf, "__file__");
    if (path == NULL) {
        PyErr_Clear();
        return 0;
    }
    PyObject *encoded = PyUnicode_EncodeFSDefault(path);
    Py_DECREF(path);
    if (encoded == NULL) {
        PyErr_Clear();
        return 0;
    }
    void *handle = dlopen(PyBytes_AS_STRING(encoded), RTLD_NOW | RTLD_NOLOAD);
    Py_DECREF(encoded);
    if (handle != NULL)
        lzf_compress_ptr = (lzf_compress_fn)dlsym(handle, "lzf_compress");
    /* The handle stays open: the module it refers to lives as long as the process. */
    return 0;
}

/* Collects the elements walk_deque visits, to check its reading of the layout. */
static int
collect(Sink *s, PyObject *key, PyObject *element)
{
    (void)s;
    return PyList_Append(key, element);
}

/* Find collections.deque and check that walk_deque reads it as its iterator does, on a deque
 * spanning several blocks with both ends moved; refuse to import otherwise (setup.py then fails
 * loudly rather than saving lists wrongly). */
static int
find_deque(void)
{
    PyObject *collections = PyImport_ImportModule("collections");
    if (collections == NULL)
        return -1;
    PyObject *type = PyObject_GetAttrString(collections, "deque");
    Py_DECREF(collections);
    if (type == NULL)
        return -1;
    if (!PyType_Check(type)) {
        Py_DECREF(type);
        PyErr_SetString(PyExc_ImportError, "collections.deque is not a type");
        return -1;
    }
    deque_type = (PyTypeObject *)type;
    int ok = 0;
    PyObject *probe = PyObject_CallNoArgs(type), *seen = PyList_New(0), *expected = NULL;
    if (probe == NULL || seen == NULL)
        goto done;
    for (long i = 0; i < 300; i++) {
        PyObject *v = PyLong_FromLong(i), *r;
        if (v == NULL)
            goto done;
        r = PyObject_CallMethod(probe, i % 3 ? "append" : "appendleft", "O", v);
        Py_DECREF(v);
        if (r == NULL)
            goto done;
        Py_DECREF(r);
    }
    PyObject *r = PyObject_CallMethod(probe, "popleft", NULL);
    if (r == NULL)
        goto done;
    Py_DECREF(r);
    expected = PySequence_List(probe);
    if (expected == NULL || walk_deque(NULL, seen, probe, collect) < 0)
        goto done;
    ok = PyObject_RichCompareBool(seen, expected, Py_EQ);
    if (ok == 0)
        PyErr_SetString(PyExc_ImportError, "persistence._walker: this CPython's deque layout differs "
                        "from the one walk_deque reads (see _walker.c)");
done:
    Py_XDECREF(probe);
    Py_XDECREF(seen);
    Py_XDECREF(expected);
    return ok == 1 ? 0 : -1;
}

PyMODINIT_FUNC
PyInit__walker(void)
{
    const uint16_t probe = 1;
    if (*(const unsigned char *)&probe != 1) {
        PyErr_SetString(PyExc_ImportError, "persistence._walker needs a little-endian host");
        return NULL;
    }
    crc64_init();
    PyObject *lzf = PyImport_ImportModule("lzf");
    if (lzf == NULL)
        return NULL;
    int rc = find_lzf(lzf);
    Py_DECREF(lzf);
    if (rc < 0)
        return NULL;
    if (find_deque() < 0)
        return NULL;
    if (PyType_Ready(&SinkType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&walker_module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&SinkType);
    if (PyModule_AddObject(m, "Sink", (PyObject *)&SinkType) < 0) {
        Py_DECREF(&SinkType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
