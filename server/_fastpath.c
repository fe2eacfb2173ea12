/* server._fastpath: dispatch's per-command loop in C.
 *
 * run_batch(client, commands, out) does exactly what server/dispatch.py's run_batch does in
 * Python (the reference, tested to give identical replies): for each command, a client with
 * nothing to check (`client.guarded` false) sending a command whose spelling is known and whose
 * arity fits gets its handler called here and its reply encoded here when it is a pre-encoded
 * constant, a bulk string, an integer, a list of bulk strings and nulls (one allocation for the
 * whole array: MGET and every command that replies with strings), a SetReply of bulk strings
 * (SMEMBERS) or a Map of them (HGETALL); anything else (unknown spelling, a guarded client, a bad
 * arity, other reply types) goes through the Python functions given to configure(), so every
 * rule still lives in one place. Stops after a command that marks the client as closing or blocks
 * it (server/blocking.py), or once the replies collected pass BATCH_OUT_BYTES, and returns where the caller should go on.
 *
 * GET of a plain string or a counter with no TTL, or of a missing key, is answered here without calling its
 * handler (server.commands.strings.get, which stays the reference and serves every other case):
 * the value is read through a borrowed reference and copied into the reply, so no reference
 * count of the stored value is written. During BGSAVE that is what keeps a GET from copying the
 * value's memory page away from the save child (a copy-on-write fault per GET otherwise). MGET
 * is the same read looped, served here only when every one of its keys is (checked before any
 * side effect), else its handler does it all. A miss is answered here unless keymiss
 * notifications are on. Plain `SET key value`, `MSET k v ...` and `INCR key` (of a counter or a
 * missing key) of keys without a TTL, with no WATCHes, tracking or notifications, are done here
 * too, as their handlers and Database.store do them (server.commands.strings.set_, mset and
 * _incr_by stay the reference): the hot paths of a cache and of counters, a Python frame and
 * two method calls shorter. `SETEX key seconds value` likewise (fast_setex, the handler's
 * Database.store_in path), a key with a live TTL included. A TTL on another key of the database
 * changes nothing: a key with a TTL is the handlers' (they expire it if its time has passed),
 * checked key by key. `XADD key * field value...` of an existing stream is done here too
 * (fast_xadd; the handler, server/commands/streams.py xadd, stays the reference and does every
 * other form). Each command
 * updates the key's access field (Database.lru, see server/keyspace.py) to the cached LRU clock
 * as the Python code does; under an LFU policy, whose counter needs computing, they leave the
 * work to the handlers.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <math.h>
#include <stdio.h>

#include <time.h>

/* CommandStats: one command's counters for INFO commandstats (calls, microseconds, failed and
 * rejected calls), bumped here without allocating; server.table.CommandStats is the Python
 * class with the same attributes, used when this module is not built. */
typedef struct {
    PyObject_HEAD
    long long calls, usec, failed, rejected;
    long long *hist;  /* HIST_BUCKETS counters of call durations (ns), allocated on first use */
} StatsObject;

/* Call durations in log-linear buckets: exact below 8 ns, then 8 per doubling (12.5 %
 * precision), as server.table.CommandStats (the Python reference) counts them; INFO
 * latencystats and LATENCY HISTOGRAM read them (Redis keeps an HDR histogram per command). */
#define HIST_BUCKETS 384
static int latency_tracking = 1;  /* latency-tracking */

static int
hist_index(long long ns)
{
    if (ns < 8)
        return ns < 0 ? 0 : (int)ns;
    int e = 63 - __builtin_clzll((unsigned long long)ns);
    int i = e * 8 + (int)((ns >> (e - 3)) & 7);
    return i < HIST_BUCKETS ? i : HIST_BUCKETS - 1;
}

static void
stats_add(StatsObject *s, long long ns)
{
    s->calls++;
    s->usec += ns / 1000;
    if (!latency_tracking)
        return;
    if (s->hist == NULL)
        s->hist = PyMem_Calloc(HIST_BUCKETS, sizeof(long long));
    if (s->hist != NULL)
        s->hist[hist_index(ns)]++;
}

static PyObject *
stats_record(StatsObject *self, PyObject *arg)
{
    long long ns = PyLong_AsLongLong(arg);
    if (ns == -1 && PyErr_Occurred())
        return NULL;
    stats_add(self, ns);
    Py_RETURN_NONE;
}

static PyObject *
stats_histogram(StatsObject *self, PyObject *unused)
{
    (void)unused;
    if (self->hist == NULL)
        Py_RETURN_NONE;
    PyObject *out = PyList_New(HIST_BUCKETS);
    if (out == NULL)
        return NULL;
    for (int i = 0; i < HIST_BUCKETS; i++) {
        PyObject *v = PyLong_FromLongLong(self->hist[i]);
        if (v == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, i, v);
    }
    return out;
}

static PyObject *
stats_reset(StatsObject *self, PyObject *unused)
{
    (void)unused;
    self->calls = self->usec = self->failed = self->rejected = 0;
    PyMem_Free(self->hist);
    self->hist = NULL;
    Py_RETURN_NONE;
}

static void
stats_dealloc(StatsObject *self)
{
    PyMem_Free(self->hist);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef stats_methods[] = {
    {"record", (PyCFunction)stats_record, METH_O, "record(ns): one call of ns nanoseconds"},
    {"histogram", (PyCFunction)stats_histogram, METH_NOARGS, "the duration buckets, or None"},
    {"reset", (PyCFunction)stats_reset, METH_NOARGS, "forget everything (CONFIG RESETSTAT)"},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef stats_members[] = {
    {"calls", T_LONGLONG, offsetof(StatsObject, calls), 0, "calls run"},
    {"usec", T_LONGLONG, offsetof(StatsObject, usec), 0, "microseconds spent in them"},
    {"failed", T_LONGLONG, offsetof(StatsObject, failed), 0, "calls that replied an error"},
    {"rejected", T_LONGLONG, offsetof(StatsObject, rejected), 0, "calls refused before running"},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject StatsType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "server._fastpath.CommandStats",
    .tp_basicsize = sizeof(StatsObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A command's counters for INFO commandstats and its latency buckets.",
    .tp_members = stats_members,
    .tp_methods = stats_methods,
    .tp_dealloc = (destructor)stats_dealloc,
    .tp_new = PyType_GenericNew,
};

static long long slowlog_threshold = -1;  /* slowlog-log-slower-than (µs); negative: off */
static PyObject *after_slow;  /* dispatch.slow_command(client, cmd, argv, usec) */
static PyObject *command_failed;  /* dispatch.command_failed(client, cmd, message) -> error bytes */

static long long
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static PyObject *by_spelling;   /* dict: name as sent -> (Command, handler, min_args, max_args, stats) */
static PyObject *execute;       /* dispatch.execute(client, argv, out) */
static PyObject *encode_reply;  /* protocol.reply.encode_reply(value, out, proto) */
static PyObject *encode_error;  /* protocol.reply.encode_error(message) -> bytes */
static PyObject *command_error; /* server.errors.CommandError */
static PyObject *encoded_type;  /* protocol.reply.Encoded */
static PyObject *internal_error; /* dispatch.internal_error(client, argv, exc) -> bytes */
static PyObject *s_guarded, *s_closing, *s_last_command, *s_proto, *s_message, *s_popitem;

/* The client class's slots, read and written by offset when a client is exactly of that class
 * (Client has __slots__, so these are plain object pointers at fixed offsets); any other object
 * goes through ordinary attribute access. */
static PyTypeObject *client_type;
static Py_ssize_t off_guarded = -1, off_closing = -1, off_last_command = -1, off_blocked = -1;

/* For GET, SET, INCR, MGET, MSET and SETEX: their handlers, and the slots of Client.db,
 * Database.data/expires/delta/delta_exp/ks/lru/delta_lru, Keyspace.hits/misses/events/dirty/plain/
 * lru_clock/lfu/clock/lru_new. */
static PyObject *setex_handler;  /* server.commands.strings.setex, see fast_setex */
static PyObject *get_handler, *set_handler, *incr_handler, *mget_handler, *mset_handler, *ok_reply,
                *int_one;
static PyTypeObject *database_type, *keyspace_type;
static Py_ssize_t off_db = -1, off_data = -1, off_expires = -1, off_delta = -1, off_delta_exp = -1,
                  off_clock = -1, off_lru_new = -1,
                  off_ks = -1, off_hits = -1, off_dirty = -1, off_plain = -1, off_lru = -1,
                  off_delta_lru = -1, off_lru_clock = -1, off_lfu = -1, off_misses = -1,
                  off_events = -1;

/* A fresh instance of `type` made without __init__ (Cython's tp_new sets every object field of
 * an extension type to None), or NULL with an exception set. */
static PyObject *
bare_instance(PyTypeObject *type)
{
    PyObject *args = PyTuple_New(0), *obj = NULL;
    if (args != NULL && type->tp_new != NULL)
        obj = type->tp_new(type, args, NULL);
    Py_XDECREF(args);
    return obj;
}

/* Where a field of an instance of `type` that holds an object pointer lives, found by writing a
 * fresh instance of `kind` to it through the ordinary attribute and looking for that pointer in
 * the instance's struct. For an extension type, whose fields are reached through getset
 * descriptors that say nothing of their offsets (server/keyspace.py's Database and Keyspace,
 * compiled by Cython). -1 if not found. */
static Py_ssize_t
field_offset(PyTypeObject *type, const char *name, PyTypeObject *kind)
{
    PyObject *obj = NULL, *probe = bare_instance(kind);
    Py_ssize_t off = -1;
    if (probe == NULL)
        goto done;
    obj = bare_instance(type);
    if (obj == NULL || PyObject_SetAttrString(obj, name, probe) < 0)
        goto done;
    for (Py_ssize_t at = sizeof(PyObject); at + (Py_ssize_t)sizeof(PyObject *) <= type->tp_basicsize;
         at += sizeof(PyObject *)) {
        if (*(PyObject **)((char *)obj + at) == probe) {
            off = at;
            break;
        }
    }
done:
    Py_XDECREF(obj);
    Py_XDECREF(probe);
    PyErr_Clear();
    return off;
}

/* The offset of the object field `name` of instances of `cls`: a __slots__ member's, or (an
 * extension type's field) found with a probe of type `kind` (see field_offset); -1 if neither. */
static Py_ssize_t
slot_offset_of(PyObject *cls, const char *name, PyTypeObject *kind)
{
    PyObject *descr = PyObject_GetAttrString(cls, name);
    Py_ssize_t off = -1;
    if (descr != NULL && Py_TYPE(descr) == &PyMemberDescr_Type) {
        PyMemberDef *member = ((PyMemberDescrObject *)descr)->d_member;
        if (member->type == T_OBJECT_EX)
            off = member->offset;
    } else if (descr != NULL && Py_TYPE(descr) == &PyGetSetDescr_Type && PyType_Check(cls)) {
        off = field_offset((PyTypeObject *)cls, name, kind);
    }
    Py_XDECREF(descr);
    PyErr_Clear();
    return off;
}

/* The same for a field that accepts a dict (every field read here but a typed one). */
static Py_ssize_t
slot_offset(PyObject *cls, const char *name)
{
    return slot_offset_of(cls, name, &PyDict_Type);
}

/* client.<name> as a truth value: 1, 0, or -1 with an exception set. */
static int
client_flag(PyObject *client, Py_ssize_t off, PyObject *name)
{
    if (off >= 0 && Py_TYPE(client) == client_type) {
        PyObject *v = *(PyObject **)((char *)client + off);
        if (v == Py_True)
            return 1;
        if (v == Py_False)
            return 0;
    }
    PyObject *v = PyObject_GetAttr(client, name);
    if (v == NULL)
        return -1;
    int r = PyObject_IsTrue(v);
    Py_DECREF(v);
    return r;
}

static int
set_last_command(PyObject *client, PyObject *cmd)
{
    if (off_last_command >= 0 && Py_TYPE(client) == client_type) {
        PyObject **slot = (PyObject **)((char *)client + off_last_command);
        Py_INCREF(cmd);
        Py_XSETREF(*slot, cmd);
        return 0;
    }
    return PyObject_SetAttr(client, s_last_command, cmd);
}

static int
append_steal(PyObject *out, PyObject *item)
{
    if (item == NULL)
        return -1;
    int rc = PyList_Append(out, item);
    Py_DECREF(item);
    return rc;
}

/* A RESP line "<type><v>\r\n" written at p (room for 24 bytes); returns its length. By hand:
 * snprintf costs a few hundred instructions per reply, more than the rest of a GET's encoding. */
static int
resp_line(char *p, char type, long long v)
{
    char digits[20];
    int n = 0, len = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        digits[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    p[len++] = type;
    if (v < 0)
        p[len++] = '-';
    while (n)
        p[len++] = digits[--n];
    p[len++] = '\r';
    p[len++] = '\n';
    return len;
}

/* The length of resp_line(_, _, v) for v >= 0: comparisons for the usual short lengths (an
 * array's sizing pass asks once per element), divisions only past them. */
static inline int
resp_line_len(long long v)
{
    if (v < 10)
        return 4;
    if (v < 100)
        return 5;
    if (v < 1000)
        return 6;
    int len = 7;
    for (v /= 1000; v >= 10; v /= 10)
        len++;
    return len;
}

/* "$<len>\r\n" at p (room for 24 bytes); returns its length. Lengths below 100 are written
 * inline: resp_line's digit loop costs ~50 instructions per element of an array reply. */
static inline int
bulk_head(char *p, Py_ssize_t len)
{
    p[0] = '$';
    if (len < 10) {
        p[1] = (char)('0' + len);
        p[2] = '\r';
        p[3] = '\n';
        return 4;
    }
    if (len < 100) {
        p[1] = (char)('0' + len / 10);
        p[2] = (char)('0' + len % 10);
        p[3] = '\r';
        p[4] = '\n';
        return 5;
    }
    return resp_line(p, '$', len);
}

/* The size of a bulk string reply ("$<len>\r\n<data>\r\n"). */
static inline Py_ssize_t
bulk_size(Py_ssize_t len)
{
    return resp_line_len(len) + len + 2;
}

/* n bytes from src to p: a byte loop for short payloads (a memcpy call costs more than copying
 * a few bytes), memcpy past them. */
static inline void
copy_bytes(char *p, const char *src, Py_ssize_t n)
{
    if (n <= 16) {
        for (Py_ssize_t i = 0; i < n; i++)
            p[i] = src[i];
    } else {
        memcpy(p, src, n);
    }
}

/* A batch's replies. The replies encoded here are copied one after another into `buf` (on the
 * stack until it outgrows OUT_STACK), which becomes one bytes object in the reply list `list`
 * when the batch ends: no bytes object, list append and join per reply. Python code called
 * during the batch (a handler, dispatch.execute, a client's send()) appends to `list` itself; the
 * bytes held in `buf` then go into the list first, at the place the list had before that call
 * (see settle), so the replies stay in order. A big bulk reply is its own list item (no second
 * copy). */
#define OUT_STACK 8192
#define OUT_BIG 16384

typedef struct {
    PyObject *list;
    char *buf;
    Py_ssize_t len, cap;
    char stack[OUT_STACK];
} Out;

static void
out_init(Out *o, PyObject *list)
{
    o->list = list;
    o->buf = o->stack;
    o->len = 0;
    o->cap = OUT_STACK;
}

static void
out_free(Out *o)
{
    if (o->buf != o->stack)
        PyMem_Free(o->buf);
    o->buf = o->stack;
    o->len = 0;
    o->cap = OUT_STACK;
}

static int out_flush(Out *o);

/* Room for n more bytes at the end of the buffer: where to write them, or NULL (MemoryError).
 * When they do not fit, what the buffer holds goes to the list first (its bytes come before
 * anything written after them, see settle), so a run of mid-sized replies fills the stack
 * buffer again instead of growing a heap one by doubling (a copy per growth); the buffer only
 * grows for one write bigger than itself. */
static char *
out_reserve(Out *o, Py_ssize_t n)
{
    if (o->len + n > o->cap && o->len > 0 && n <= OUT_STACK) {
        if (out_flush(o) < 0)
            return NULL;
    }
    if (o->len + n > o->cap) {
        Py_ssize_t cap = o->cap * 2;
        while (cap < o->len + n)
            cap *= 2;
        char *grown = PyMem_Malloc(cap);
        if (grown == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
        memcpy(grown, o->buf, o->len);
        if (o->buf != o->stack)
            PyMem_Free(o->buf);
        o->buf = grown;
        o->cap = cap;
    }
    char *p = o->buf + o->len;
    o->len += n;
    return p;
}

static int
out_write(Out *o, const char *data, Py_ssize_t n)
{
    char *p = out_reserve(o, n);
    if (p == NULL)
        return -1;
    memcpy(p, data, n);
    return 0;
}

/* The buffered bytes as a list item inserted at `at` (appended when `at` is the list's end). */
static int
out_flush_at(Out *o, Py_ssize_t at)
{
    if (o->len == 0)
        return 0;
    PyObject *b = PyBytes_FromStringAndSize(o->buf, o->len);
    if (b == NULL)
        return -1;
    int rc = at >= PyList_GET_SIZE(o->list) ? PyList_Append(o->list, b) : PyList_Insert(o->list, at, b);
    Py_DECREF(b);
    out_free(o);
    return rc;
}

static int
out_flush(Out *o)
{
    return out_flush_at(o, PyList_GET_SIZE(o->list));
}

/* After Python code that may have appended to the list (it had `mark` items before): what the
 * buffer held came first. 0, or -1 with an exception set. */
static int
settle(Out *o, Py_ssize_t mark)
{
    if (PyList_GET_SIZE(o->list) > mark && o->len > 0) {
        PyObject *exc_type, *exc, *tb;
        PyErr_Fetch(&exc_type, &exc, &tb);  /* a failed call may have appended first */
        int rc = out_flush_at(o, mark);
        if (rc < 0) {
            Py_XDECREF(exc_type);
            Py_XDECREF(exc);
            Py_XDECREF(tb);
            return -1;
        }
        PyErr_Restore(exc_type, exc, tb);
    }
    return 0;
}

/* One reply object (stolen) after the buffered bytes. */
static int
out_item(Out *o, PyObject *item)
{
    if (item == NULL)
        return -1;
    if (out_flush(o) < 0) {
        Py_DECREF(item);
        return -1;
    }
    return append_steal(o->list, item);
}

static int
slow(PyObject *client, PyObject *argv, Out *o)
{
    Py_ssize_t mark = PyList_GET_SIZE(o->list);
    PyObject *r = PyObject_CallFunctionObjArgs(execute, client, argv, o->list, NULL);
    if (settle(o, mark) < 0) {
        Py_XDECREF(r);
        return -1;
    }
    Py_XDECREF(r);
    return r == NULL ? -1 : 0;
}

/* A bulk string reply holding a copy of (data, size). */
static int
append_bulk(Out *o, const char *data, Py_ssize_t size)
{
    Py_ssize_t total = bulk_size(size);
    char *p;
    PyObject *b = NULL;
    if (size >= OUT_BIG) {
        b = PyBytes_FromStringAndSize(NULL, total);
        if (b == NULL)
            return -1;
        p = PyBytes_AS_STRING(b);
    } else if ((p = out_reserve(o, total)) == NULL) {
        return -1;
    }
    p += bulk_head(p, size);
    copy_bytes(p, data, size);
    p[size] = '\r';
    p[size + 1] = '\n';
    return b == NULL ? 0 : out_item(o, b);
}

/* client.proto as a C int: 2 or 3, or -1 with an exception set. */
static int
client_proto(PyObject *client)
{
    PyObject *proto = PyObject_GetAttr(client, s_proto);
    if (proto == NULL)
        return -1;
    long v = PyLong_AsLong(proto);
    Py_DECREF(proto);
    return v == -1 && PyErr_Occurred() ? -1 : (int)v;
}

/* An array reply ("*<n>", or `kind` <n>, then each item, `null` for NULL) of n items that are exact bytes or
 * NULL, whose encoded size is `total` (array_size), written to `o`: 0, or -1 with an
 * exception set. A reply that does not fit in the room left in the buffer and is not small
 * (LRANGE of a few hundred elements) is encoded straight into its own bytes object, a list
 * item: no growth of the buffer, no second copy. */
#define OUT_OWN 2048

/* Where to write a reply of `total` bytes: in the buffer, or (*own set) in a fresh bytes object
 * of its own, to hand to out_item once written; NULL with an exception set. */
static char *
out_room(Out *o, Py_ssize_t total, PyObject **own)
{
    *own = NULL;
    if (total >= OUT_BIG || (total >= OUT_OWN && o->len + total > o->cap)) {
        *own = PyBytes_FromStringAndSize(NULL, total);
        return *own == NULL ? NULL : PyBytes_AS_STRING(*own);
    }
    return out_reserve(o, total);
}

/* One bulk string item at p; returns the position after it. */
static inline char *
put_bulk(char *p, PyObject *item)
{
    Py_ssize_t len = PyBytes_GET_SIZE(item);
    p += bulk_head(p, len);
    copy_bytes(p, PyBytes_AS_STRING(item), len);
    p[len] = '\r';
    p[len + 1] = '\n';
    return p + len + 2;
}

static int
write_array(Out *o, char kind, PyObject *const *items, Py_ssize_t n, Py_ssize_t total,
            const char *null, int null_len)
{
    PyObject *b;
    char *p = out_room(o, total, &b);
    if (p == NULL)
        return -1;
    p += resp_line(p, kind, n);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = items[i];
        if (item == NULL) {
            copy_bytes(p, null, null_len);
            p += null_len;
            continue;
        }
        p = put_bulk(p, item);  /* room was counted by the caller */
    }
    return b == NULL ? 0 : out_item(o, b);
}

/* The null reply in protocol `proto`. */
static inline const char *
null_reply(int proto, int *len)
{
    *len = proto == 3 ? 3 : 5;
    return proto == 3 ? "_\r\n" : "$-1\r\n";
}

/* Room for the text of one double: "-1.2345678901234567e-308" is 24 bytes. */
#define DOUBLE_TEXT 32

/* Redis 7.0's text of a double (addReplyDouble; protocol.reply.format_double is the reference):
 * "inf", "-inf", "nan" for any NaN, else %.17g. An integral value below 1e17 in magnitude is
 * what %.17g prints without point or exponent, so its digits are written here: snprintf of a
 * double costs over a thousand instructions, and sorted-set scores are often integers. Writes
 * at most DOUBLE_TEXT bytes at p; returns the length. */
static int
double_text(char *p, double v)
{
    if (isnan(v)) {
        memcpy(p, "nan", 3);
        return 3;
    }
    if (isinf(v)) {
        memcpy(p, v > 0 ? "inf" : "-inf", v > 0 ? 3 : 4);
        return v > 0 ? 3 : 4;
    }
    if (v > -1e17 && v < 1e17 && v == (double)(long long)v) {
        long long i = (long long)v;
        char digits[20];
        int n = 0, len = 0;
        unsigned long long u = i < 0 ? 0ULL - (unsigned long long)i : (unsigned long long)i;
        if (i < 0 || (i == 0 && signbit(v)))  /* -0.0 prints as "-0" */
            p[len++] = '-';
        do {
            digits[n++] = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        while (n)
            p[len++] = digits[--n];
        return len;
    }
    return snprintf(p, DOUBLE_TEXT, "%.17g", v);
}

/* One double item at p, of text (text, len), in protocol `proto`: a RESP3 double ",<text>",
 * a RESP2 bulk string; returns the position after it. */
static inline char *
put_double(char *p, const char *text, int len, int proto)
{
    if (proto == 3)
        *p++ = ',';
    else
        p += bulk_head(p, len);
    copy_bytes(p, text, len);
    p[len] = '\r';
    p[len + 1] = '\n';
    return p + len + 2;
}

/* The size of put_double's item. */
static inline Py_ssize_t
double_size(int len, int proto)
{
    return proto == 3 ? len + 3 : bulk_size(len);
}

/* A double reply (ZSCORE, ZINCRBY), as encode_reply writes it. */
static int
append_double(PyObject *client, double v, Out *o)
{
    int proto = client_proto(client);
    if (proto < 0)
        return -1;
    char text[DOUBLE_TEXT];
    int len = double_text(text, v);
    char *p = out_reserve(o, double_size(len, proto));
    if (p == NULL)
        return -1;
    put_double(p, text, len, proto);
    return 0;
}

/* A list of exact bytes, None and at least one exact float (ZPOPMIN's [member, score], ZRANGE
 * WITHSCORES in RESP2, ZMSCORE), whose `floats` doubles are formatted once into a scratch area
 * for both the sizing and the writing pass: 1 done, -1 error. */
static int
encode_scored_array(PyObject *client, PyObject *list, Py_ssize_t floats, Out *o)
{
    int proto = client_proto(client), null_len;
    if (proto < 0)
        return -1;
    const char *null = null_reply(proto, &null_len);
    Py_ssize_t n = PyList_GET_SIZE(list), size = resp_line_len(n);
    PyObject **items = ((PyListObject *)list)->ob_item;
    char stack[16 * DOUBLE_TEXT];
    int stack_lens[16], *lens = stack_lens;
    char *texts = stack;
    if (floats > 16) {
        texts = PyMem_Malloc(floats * (DOUBLE_TEXT + sizeof(int)));
        if (texts == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        lens = (int *)(texts + floats * DOUBLE_TEXT);
    }
    Py_ssize_t f = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = items[i];
        if (PyBytes_CheckExact(item)) {
            size += bulk_size(PyBytes_GET_SIZE(item));
        } else if (item == Py_None) {
            size += null_len;
        } else {  /* a float: the caller checked */
            lens[f] = double_text(texts + f * DOUBLE_TEXT, PyFloat_AS_DOUBLE(item));
            size += double_size(lens[f], proto);
            f++;
        }
    }
    PyObject *b;
    char *p = out_room(o, size, &b);
    if (p != NULL) {
        p += resp_line(p, '*', n);
        f = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *item = items[i];
            if (PyBytes_CheckExact(item)) {
                p = put_bulk(p, item);
            } else if (item == Py_None) {
                copy_bytes(p, null, null_len);
                p += null_len;
            } else {
                p = put_double(p, texts + f * DOUBLE_TEXT, lens[f], proto);
                f++;
            }
        }
    }
    if (texts != stack)
        PyMem_Free(texts);
    if (p == NULL)
        return -1;
    return b == NULL ? 1 : (out_item(o, b) < 0 ? -1 : 1);
}

/* A list whose items are all exact bytes or None (MGET, and every command that replies with an
 * array of strings), or a protocol.reply.SetReply of exact bytes (SMEMBERS: "~<n>" in RESP3, an
 * array in RESP2), encoded as one bytes object appended to `out`: 1 done, 0 not such a list
 * (protocol.reply.encode_reply, the reference, does it), -1 error. A plain list may also hold
 * exact floats (scores): encode_scored_array does it. */
static PyObject *set_reply_type;  /* protocol.reply.SetReply */

static int
encode_bulk_array(PyObject *client, PyObject *list, Out *o)
{
    Py_ssize_t n = PyList_GET_SIZE(list), size = 0, nulls = 0, floats = 0;
    PyObject **items = ((PyListObject *)list)->ob_item;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = items[i];
        if (PyBytes_CheckExact(item))
            size += bulk_size(PyBytes_GET_SIZE(item));
        else if (item == Py_None)
            nulls++;
        else if (PyFloat_CheckExact(item))
            floats++;
        else
            return 0;
    }
    if (floats)
        return Py_TYPE(list) == &PyList_Type ? encode_scored_array(client, list, floats, o) : 0;
    int proto = 2, null_len;
    char kind = '*';
    if (Py_TYPE(list) != &PyList_Type) {  /* a SetReply */
        if (nulls || (proto = client_proto(client)) < 0)
            return nulls ? 0 : -1;
        kind = proto == 3 ? '~' : '*';
    }
    if (nulls == 0)
        return write_array(o, kind, items, n, resp_line_len(n) + size, NULL, 0) < 0 ? -1 : 1;
    if ((proto = client_proto(client)) < 0)
        return -1;
    const char *null = null_reply(proto, &null_len);
    /* None items become NULL in a copy of the item pointers (borrowed) */
    PyObject *stack[64], **copy = n <= 64 ? stack : PyMem_Malloc(n * sizeof(PyObject *));
    if (copy == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        copy[i] = items[i] == Py_None ? NULL : items[i];
    int rc = write_array(o, kind, copy, n, resp_line_len(n) + size + nulls * null_len, null, null_len);
    if (copy != stack)
        PyMem_Free(copy);
    return rc < 0 ? -1 : 1;
}

/* A protocol.reply.Map whose keys and values are all exact bytes (HGETALL), encoded as
 * encode_reply does it: "%<n>" then key, value, ... in RESP3, an array of 2n in RESP2. 1 done,
 * 0 not such a map (the reference does it), -1 error. */
static PyObject *map_type;  /* protocol.reply.Map */

static int
encode_bulk_map(PyObject *client, PyObject *map, Out *o)
{
    Py_ssize_t pos = 0, size = 0, n = PyDict_GET_SIZE(map);
    PyObject *k, *v;
    while (PyDict_Next(map, &pos, &k, &v)) {
        if (!PyBytes_CheckExact(k) || !PyBytes_CheckExact(v))
            return 0;
        size += bulk_size(PyBytes_GET_SIZE(k)) + bulk_size(PyBytes_GET_SIZE(v));
    }
    int proto = client_proto(client);
    if (proto < 0)
        return -1;
    Py_ssize_t count = proto == 3 ? n : 2 * n;
    PyObject *b;
    char *p = out_room(o, resp_line_len(count) + size, &b);
    if (p == NULL)
        return -1;
    p += resp_line(p, proto == 3 ? '%' : '*', count);
    pos = 0;
    while (PyDict_Next(map, &pos, &k, &v)) {  /* nothing ran since the sizing pass */
        p = put_bulk(p, k);
        p = put_bulk(p, v);
    }
    if (b == NULL)
        return 1;
    return out_item(o, b) < 0 ? -1 : 1;
}

/* The reply, encoded onto `o`. */
static int
encode(PyObject *client, PyObject *reply, Out *o)
{
    if ((PyObject *)Py_TYPE(reply) == encoded_type) {
        if (PyBytes_GET_SIZE(reply) >= OUT_BIG) {
            Py_INCREF(reply);
            return out_item(o, reply);
        }
        return out_write(o, PyBytes_AS_STRING(reply), PyBytes_GET_SIZE(reply));
    }
    if (PyBytes_CheckExact(reply))
        return append_bulk(o, PyBytes_AS_STRING(reply), PyBytes_GET_SIZE(reply));
    if (PyList_CheckExact(reply) || (PyObject *)Py_TYPE(reply) == set_reply_type) {
        int r = encode_bulk_array(client, reply, o);
        if (r != 0)
            return r < 0 ? -1 : 0;
    }
    if ((PyObject *)Py_TYPE(reply) == map_type) {
        int r = encode_bulk_map(client, reply, o);
        if (r != 0)
            return r < 0 ? -1 : 0;
    }
    if (PyFloat_CheckExact(reply))
        return append_double(client, PyFloat_AS_DOUBLE(reply), o);
    if (PyLong_CheckExact(reply)) {
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(reply, &overflow);
        if (!overflow && !(v == -1 && PyErr_Occurred())) {
            char buf[32];
            int n = resp_line(buf, ':', v);
            return out_write(o, buf, n);
        }
        PyErr_Clear();
    }
    PyObject *proto = PyObject_GetAttr(client, s_proto);
    if (proto == NULL)
        return -1;
    if (out_flush(o) < 0) {  /* encode_reply appends to the list */
        Py_DECREF(proto);
        return -1;
    }
    PyObject *r = PyObject_CallFunctionObjArgs(encode_reply, reply, o->list, proto, NULL);
    Py_DECREF(proto);
    Py_XDECREF(r);
    return r == NULL ? -1 : 0;
}

/* Whether the client waits on keys (server/blocking.py: its `blocked` slot is not None). */
static int
client_blocked(PyObject *client)
{
    if (off_blocked >= 0 && Py_TYPE(client) == client_type)
        return *(PyObject **)((char *)client + off_blocked) != Py_None;
    return 0;  /* only Client instances block */
}

/* A command run here: count it and its time, and hand it to the slow log when it took at
 * least slowlog-log-slower-than. 0, or -1 with an exception set. */
static int
account(PyObject *client, PyObject *cmd, PyObject *argv, StatsObject *stats, long long started, Out *o)
{
    long long ns = now_ns() - started;
    long long usec = ns / 1000;
    stats_add(stats, ns);
    if (slowlog_threshold >= 0 && usec >= slowlog_threshold && after_slow != NULL) {
        PyObject *d = PyLong_FromLongLong(usec);
        if (d == NULL)
            return -1;
        Py_ssize_t mark = PyList_GET_SIZE(o->list);
        PyObject *r = PyObject_CallFunctionObjArgs(after_slow, client, cmd, argv, d, NULL);
        Py_DECREF(d);
        if (settle(o, mark) < 0) {
            Py_XDECREF(r);
            return -1;
        }
        if (r == NULL)
            return -1;
        Py_DECREF(r);
    }
    return 0;
}

/* set_accounting(threshold, slow_command, command_failed): the slow log's threshold and the
 * Python functions for a slow and for a failed command (server/dispatch.py). */
static PyObject *
set_accounting(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "set_accounting(threshold, slow_command, command_failed, tracking)");
        return NULL;
    }
    latency_tracking = PyObject_IsTrue(args[3]);
    long long threshold = PyLong_AsLongLong(args[0]);
    if (threshold == -1 && PyErr_Occurred())
        return NULL;
    slowlog_threshold = threshold;
    Py_INCREF(args[1]);
    Py_XSETREF(after_slow, args[1]);
    Py_INCREF(args[2]);
    Py_XSETREF(command_failed, args[2]);
    Py_RETURN_NONE;
}

/* After a handler called from here: if the command wrote keys that blocked clients wait on
 * (Keyspace.ready is not empty), serve them now, as dispatch.execute does (server/blocking.py).
 * 0, or -1 with an exception set. */
static PyObject *serve_ready_fn;  /* blocking.serve_ready(keyspace) */
static Py_ssize_t off_ready = -1;
static PyObject *slot_get(PyObject *o, Py_ssize_t off);

static int
serve_if_ready(PyObject *client, Out *o)
{
    if (serve_ready_fn == NULL || off_ready < 0 || Py_TYPE(client) != client_type)
        return 0;
    PyObject *db = slot_get(client, off_db);
    if (db == NULL || Py_TYPE(db) != database_type)
        return 0;
    PyObject *ks = slot_get(db, off_ks);
    if (ks == NULL || Py_TYPE(ks) != keyspace_type)
        return 0;
    PyObject *ready = slot_get(ks, off_ready);
    if (ready == NULL || !PyList_Check(ready) || PyList_GET_SIZE(ready) == 0)
        return 0;
    Py_ssize_t mark = PyList_GET_SIZE(o->list);
    PyObject *r = PyObject_CallOneArg(serve_ready_fn, ks);
    if (settle(o, mark) < 0) {
        Py_XDECREF(r);
        return -1;
    }
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* The object in slot `off` of `o` (borrowed), or NULL. */
static PyObject *
slot_get(PyObject *o, Py_ssize_t off)
{
    return off < 0 ? NULL : *(PyObject **)((char *)o + off);
}

/* Whether `d` (a Database slot: None or a dict) is a dict holding str key `k`: 1, 0, or -1
 * with an exception set. */
static int
overlay_has(PyObject *d, PyObject *k)
{
    if (d == NULL || d == Py_None)
        return 0;
    if (!PyDict_CheckExact(d))
        return 1;  /* not what keyspace.py keeps there: let the handler decide */
    if (PyDict_GET_SIZE(d) == 0)
        return 0;
    if (PyDict_GetItemWithError(d, k) != NULL)
        return 1;
    return PyErr_Occurred() ? -1 : 0;
}

/* The client's database as keyspace.py lays it out: 1 with every field set, 0 when anything is
 * not exactly that (the handler then does the work). */
typedef struct {
    PyObject *data, *expires, *delta, *delta_exp, *ks, *lru, *delta_lru, *lru_clock;
} DbSlots;

static int
db_slots(PyObject *client, DbSlots *s)
{
    if (Py_TYPE(client) != client_type)
        return 0;
    PyObject *db = slot_get(client, off_db);
    if (db == NULL || Py_TYPE(db) != database_type)
        return 0;
    s->data = slot_get(db, off_data);
    s->expires = slot_get(db, off_expires);
    s->delta = slot_get(db, off_delta);
    s->delta_exp = slot_get(db, off_delta_exp);
    s->ks = slot_get(db, off_ks);
    s->lru = slot_get(db, off_lru);
    s->delta_lru = slot_get(db, off_delta_lru);
    /* Under an LFU policy each access computes a new counter: the handlers do that. */
    if (s->ks == NULL || Py_TYPE(s->ks) != keyspace_type || slot_get(s->ks, off_lfu) != Py_False)
        return 0;
    s->lru_clock = slot_get(s->ks, off_lru_clock);
    return s->lru != NULL && PyDict_CheckExact(s->lru) && s->delta_lru != NULL
           && (s->delta_lru == Py_None || PyDict_CheckExact(s->delta_lru))
           && s->lru_clock != NULL && PyLong_CheckExact(s->lru_clock)
           && s->data != NULL && PyDict_CheckExact(s->data) && s->expires != NULL
           && PyDict_CheckExact(s->expires) && s->delta != NULL
           && (s->delta == Py_None || PyDict_CheckExact(s->delta)) && s->delta_exp != NULL
           && (s->delta_exp == Py_None || PyDict_CheckExact(s->delta_exp)) && s->ks != NULL
           && Py_TYPE(s->ks) == keyspace_type;
}

/* *slot += n for an int slot: 0, or -1 with an exception set. */
static int
bump_by(PyObject **slot, Py_ssize_t n)
{
    PyObject *by = n == 1 ? (Py_INCREF(int_one), int_one) : PyLong_FromSsize_t(n);
    if (by == NULL)
        return -1;
    PyObject *bumped = PyNumber_Add(*slot, by);
    Py_DECREF(by);
    if (bumped == NULL)
        return -1;
    Py_SETREF(*slot, bumped);
    return 0;
}

static int
bump(PyObject **slot)
{
    return bump_by(slot, 1);
}

/* Whether the str key `k` has a TTL, or had its TTL changed since a save child forked (an entry
 * in the overlay, see keyspace.py): 1, 0, or -1 with an exception set. PFADD, PFCOUNT and XADD
 * send a key with a TTL to their handlers, which check whether it has passed (and expire it,
 * counting it, as Redis's lookups do); GET, MGET, SET, MSET and INCR ask deadline_state, which
 * serves a live TTL here too. */
static int
has_deadline(DbSlots *s, PyObject *k)
{
    int rc = overlay_has(s->delta_exp, k);
    if (rc != 0 || PyDict_GET_SIZE(s->expires) == 0)
        return rc;
    if (PyDict_GetItemWithError(s->expires, k) != NULL)
        return 1;
    return PyErr_Occurred() ? -1 : 0;
}

static int keyspace_now(PyObject *ks, long long *now);

/* The str key `k`'s TTL as a command served here meets it, Redis's expireIfNeeded: TTL_NONE (no
 * TTL), TTL_LIVE (one that has not passed: the key is read or written as any other; a write that
 * drops TTLs calls drop_deadline after its store), TTL_HANDLER (one that has passed, which the
 * handler expires first and counts as Redis's lookups do, or a case not settled here: a TTL
 * changed since a save child forked, a deadline that is not a plain int, a clock that does not
 * give unix ms), or -1 with an exception set. `*now` is the command's one clock reading
 * (Keyspace.clock, which a script freezes), taken at the first TTL met: -1 until then. */
enum { TTL_NONE, TTL_LIVE, TTL_HANDLER };

static int
deadline_state(DbSlots *s, PyObject *k, long long *now)
{
    if (s->delta_exp != Py_None) {
        int rc = has_deadline(s, k);
        return rc <= 0 ? rc : TTL_HANDLER;
    }
    if (PyDict_GET_SIZE(s->expires) == 0)
        return TTL_NONE;
    PyObject *when = PyDict_GetItemWithError(s->expires, k);  /* borrowed */
    if (when == NULL)
        return PyErr_Occurred() ? -1 : TTL_NONE;
    int overflow = 0;
    long long w = PyLong_CheckExact(when) ? PyLong_AsLongLongAndOverflow(when, &overflow) : -1;
    if (!PyLong_CheckExact(when) || overflow || w < 0) {
        PyErr_Clear();
        return TTL_HANDLER;
    }
    /* `when` is read before the clock, which may be Python code (an injected clock) */
    if (*now < 0) {
        int got = keyspace_now(s->ks, now);
        if (got <= 0) {
            *now = -1;
            return got < 0 ? -1 : TTL_HANDLER;
        }
    }
    return w < *now ? TTL_HANDLER : TTL_LIVE;  /* Redis: expired once now > when */
}

/* A write that replaces the key (SET, MSET) drops its TTL, after its store: Database._put's
 * _drop_deadline when no save child runs (deadline_state gives TTL_LIVE only then). A key
 * already without one (MSET naming it twice) is no error. 0, or -1 with an exception set. */
static int
drop_deadline(DbSlots *s, PyObject *k)
{
    if (PyDict_DelItem(s->expires, k) == 0)
        return 0;
    if (!PyErr_ExceptionMatches(PyExc_KeyError))
        return -1;
    PyErr_Clear();
    return 0;
}

/* Keyspace.misses's slot when a keyspace miss can be answered here: no keymiss notification to
 * send (Database.read sends one when notify-keyspace-events asks for it); else NULL. */
static long key_miss_bit;  /* config.NOTIFY_KEY_MISS */

static PyObject **
quiet_misses(DbSlots *s)
{
    if (off_misses < 0)
        return NULL;
    PyObject **misses = (PyObject **)((char *)s->ks + off_misses);
    PyObject *events = slot_get(s->ks, off_events);
    if (*misses == NULL || !PyLong_CheckExact(*misses) || events == NULL
        || !PyLong_CheckExact(events))
        return NULL;
    long bits = PyLong_AsLong(events);
    if (bits == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return NULL;
    }
    return bits & key_miss_bit ? NULL : misses;
}

/* Peeking into a dict's table, to overlap cache misses (memory-level parallelism).
 *
 * A key drawn at random from a keyspace larger than the caches costs a chain of dependent misses
 * per dict lookup: the index slot, then the entry it names, then the stored key (compared) and
 * the value. CPython's lookups run one after another, hundreds of instructions apart, so the
 * misses of MGET's ten keys (and of a key's `data` and `lru` lookups) are paid one at a time.
 * These helpers follow the same chain with prefetches only, a stage at a time over all keys,
 * so the misses of independent keys are in flight together; the lookups proper then run
 * through the public API as before and find their lines in cache. They read CPython's private
 * table layout (PyDictKeysObject, Include/internal/pycore_dict.h), identical from 3.11 to 3.13
 * in the default (GIL) build; on any other version they do nothing. Only the first probe is
 * followed (a collision just leaves a line unfetched) and nothing read here decides anything
 * but what to prefetch. */
/* Where one dict's table lies, worked out once per command: `indices` is NULL when the table is
 * not laid out as expected (a split table, sizes that break CPython's rule for the width of an
 * index) or on another version, and then nothing is prefetched. */
typedef struct {
    const char *indices, *entries;
    size_t mask;
    int shift;       /* log2 of an index's width in bytes */
    int stride;      /* bytes per entry */
    int key_at;      /* the entry's key, in pointers from its start (its hash comes first in a
                        table with non-str keys) */
    Py_ssize_t nentries;
} Peek;

#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030E0000 && !defined(Py_GIL_DISABLED)
typedef struct {
    Py_ssize_t refcnt;
    uint8_t log2_size, log2_index_bytes, kind;  /* kind 0: entries carry their hash */
    uint32_t version;
    Py_ssize_t usable, nentries;
    char indices[];  /* 1 << log2_index_bytes bytes, then the entries */
} PeekKeys;

static inline void
peek_init(Peek *pk, PyObject *d)
{
    PyDictObject *mp = (PyDictObject *)d;
    PeekKeys *dk = (PeekKeys *)mp->ma_keys;
    int s = dk->log2_size, shift = s < 8 ? 0 : s < 16 ? 1 : s < 32 ? 2 : 3;
    pk->indices = NULL;
    if (mp->ma_values != NULL || dk->kind > 1 || dk->log2_index_bytes != s + shift)
        return;
    pk->indices = dk->indices;
    pk->entries = dk->indices + ((size_t)1 << dk->log2_index_bytes);
    pk->mask = ((size_t)1 << s) - 1;
    pk->shift = shift;
    pk->stride = (dk->kind == 0 ? 3 : 2) * (int)sizeof(void *);
    pk->key_at = dk->kind == 0;
    pk->nentries = dk->nentries;
}
#else
static inline void
peek_init(Peek *pk, PyObject *d)
{
    (void)d;
    pk->indices = NULL;
}
#endif

/* Stage 1: prefetch the index slot of `h`'s first probe. */
static inline void
peek_slot(const Peek *pk, Py_hash_t h)
{
    if (pk->indices != NULL)
        __builtin_prefetch(pk->indices + (((size_t)h & pk->mask) << pk->shift));
}

/* Stage 2: the entry that slot names ({key, value}), prefetched; NULL when the slot is empty. */
static inline PyObject **
peek_entry(const Peek *pk, Py_hash_t h)
{
    if (pk->indices == NULL)
        return NULL;
    size_t i = (size_t)h & pk->mask;
    Py_ssize_t ix;
    switch (pk->shift) {
    case 0: ix = ((const int8_t *)pk->indices)[i]; break;
    case 1: ix = ((const int16_t *)pk->indices)[i]; break;
    case 2: ix = ((const int32_t *)pk->indices)[i]; break;
    default: ix = (Py_ssize_t)((const int64_t *)pk->indices)[i]; break;
    }
    if (ix < 0 || ix >= pk->nentries)
        return NULL;
    PyObject **e = (PyObject **)(pk->entries + ix * pk->stride) + pk->key_at;
    __builtin_prefetch(e);
    return e;
}

/* Stage 3: prefetch the key and the value an entry holds (a short str or bytes: its header
 * and, on the next line, the rest of its text). */
static inline void
peek_item(PyObject **e)
{
    if (e == NULL || e[0] == NULL || e[1] == NULL)
        return;
    __builtin_prefetch(e[0]);
    __builtin_prefetch((char *)e[0] + 63);
    __builtin_prefetch(e[1]);
    __builtin_prefetch((char *)e[1] + 32);
}

/* The `data` and `lru` tables of one database, peeked together: a key's read or store looks it
 * up in both. Without `lru` (a save child's overlay is in use: the access fields are not
 * written) only `data` is peeked. */
typedef struct {
    Peek data, lru;
} PeekDb;

static inline void
peekdb_init(PeekDb *p, DbSlots *s, int lru)
{
    peek_init(&p->data, s->data);
    if (lru)
        peek_init(&p->lru, s->lru);
    else
        p->lru.indices = NULL;
}

/* The str a key is looked up by (bytes read as Latin-1, as keyspace.py does), its hash computed
 * and cached in it, and stage 1 of its lookups begun: a new reference, or NULL with an
 * exception set. */
static PyObject *
peekdb_key(PeekDb *p, PyObject *key, Py_hash_t *hash)
{
    PyObject *k = PyUnicode_DecodeLatin1(PyBytes_AS_STRING(key), PyBytes_GET_SIZE(key), NULL);
    if (k == NULL)
        return NULL;
    Py_hash_t h = *hash = PyObject_Hash(k);  /* cached in the str: the lookups reuse it */
    if (h == -1) {
        Py_DECREF(k);
        return NULL;
    }
    peek_slot(&p->data, h);
    peek_slot(&p->lru, h);
    return k;
}

/* Stages 2 and 3 over the keys of `hashes` whose stage 1 peekdb_key began (a hash of -1, which
 * no str has, is skipped), a stage at a time over up to PEEK_RUN keys. */
#define PEEK_RUN 32
static void
peekdb_chase(const PeekDb *p, const Py_hash_t *hashes, Py_ssize_t n)
{
    if (p->data.indices == NULL)
        return;
    PyObject **entries[PEEK_RUN];
    for (Py_ssize_t from = 0; from < n; from += PEEK_RUN) {
        Py_ssize_t m = n - from < PEEK_RUN ? n - from : PEEK_RUN;
        for (Py_ssize_t i = 0; i < m; i++) {
            Py_hash_t h = hashes[from + i];
            entries[i] = h == -1 ? NULL : peek_entry(&p->data, h);
            if (h != -1)
                (void)peek_entry(&p->lru, h);
        }
        for (Py_ssize_t i = 0; i < m; i++)
            peek_item(entries[i]);
    }
}

/* A read of the str key `k` as Database.get does it, for the cases done here: 1 with *value the
 * plain bytes stored (borrowed) or NULL for a missing key, 0 for any other case (a key changed
 * since a save child forked, a TTL that has passed or that deadline_state leaves to the
 * handler, a value of another type: the handler decides), -1 with an exception set. `*now`: see
 * deadline_state. CPython compares str keys of an all-str dict without reference
 * counting, so nothing stored is written. */
static int
read_value(DbSlots *s, PyObject *k, PyObject **value, int counters, long long *now)
{
    int rc = overlay_has(s->delta, k);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    *value = PyDict_GetItemWithError(s->data, k);
    if (*value == NULL)
        return PyErr_Occurred() ? -1 : 1;
    if (!PyBytes_CheckExact(*value) && !(counters && PyLong_CheckExact(*value)))
        return 0;
    rc = deadline_state(s, k, now);
    return rc < 0 ? -1 : rc != TTL_HANDLER;
}

static int
read_plain(DbSlots *s, PyObject *k, PyObject **value, long long *now)
{
    return read_value(s, k, value, 0, now);
}

/* GET argv[1] answered without its handler when the key holds plain bytes or a counter (an int,
 * see fast_incr) and has no TTL or one that has not passed, or is missing: 1 done (reply
 * appended, keyspace hit or miss counted), 0 not this case (the handler decides), -1 error.
 * Writes nothing to the stored key or value (see read_plain). */
static int
fast_get(PyObject *client, PyObject *argv, Out *o, PyObject *pre)
{
    DbSlots s;
    if (!db_slots(client, &s))
        return 0;
    PyObject **hits = (PyObject **)((char *)s.ks + off_hits), **misses = NULL;
    PyObject *key = PyList_GET_ITEM(argv, 1), *value = NULL;
    if (!PyBytes_CheckExact(key) || *hits == NULL || !PyLong_CheckExact(*hits))
        return 0;
    PyObject *k = pre != NULL ? Py_NewRef(pre)
                              : PyUnicode_DecodeLatin1(PyBytes_AS_STRING(key), PyBytes_GET_SIZE(key), NULL);
    if (k == NULL)
        return -1;
    long long now = -1;
    int rc = read_value(&s, k, &value, 1, &now);
    if (rc <= 0)
        goto done;
    char digits[24];
    Py_ssize_t ndigits = 0;
    if (value != NULL && PyLong_CheckExact(value)) {
        /* a counter (INCR stores an int): its decimal text, as the handler's b"%d" */
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (overflow || (v == -1 && PyErr_Occurred())) {
            PyErr_Clear();
            rc = 0;
            goto done;
        }
        ndigits = resp_line(digits, ':', v) - 3;  /* ':' and "\r\n" off */
    }
    if (value == NULL) {
        int proto, null_len;
        if ((misses = quiet_misses(&s)) == NULL) {
            rc = 0;  /* a keymiss notification to send: the handler does it */
            goto done;
        }
        if ((proto = client_proto(client)) < 0 || bump(misses) < 0) {
            rc = -1;
            goto done;
        }
        const char *null = null_reply(proto, &null_len);
        rc = out_write(o, null, null_len) < 0 ? -1 : 1;
        goto done;
    }
    if (bump(hits) < 0) {
        rc = -1;
        goto done;
    }
    /* The access time, as Database.get touches it: not while a save child shares the dicts. */
    if (s.delta == Py_None && PyDict_SetItem(s.lru, k, s.lru_clock) < 0) {
        rc = -1;
        goto done;
    }
    if (PyLong_CheckExact(value))
        rc = append_bulk(o, digits + 1, ndigits) < 0 ? -1 : 1;
    else
        rc = append_bulk(o, PyBytes_AS_STRING(value), PyBytes_GET_SIZE(value)) < 0 ? -1 : 1;
done:
    Py_DECREF(k);
    return rc;
}

/* MGET and MSET decode up to this many keys into a stack array; more take the heap. */
#define BATCH_KEYS 32

/* Room on the heap for more than BATCH_KEYS keys: `per_key` pointers each (the key, maybe its
 * value) and, after them, `*hashes` for their hashes; one block, freed by freeing the result.
 * NULL with MemoryError set. */
static PyObject **
key_room(Py_ssize_t n, int per_key, Py_hash_t **hashes)
{
    PyObject **room = PyMem_Malloc(n * (per_key * sizeof(PyObject *) + sizeof(Py_hash_t)));
    if (room == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    *hashes = (Py_hash_t *)(room + per_key * n);
    return room;
}

/* MGET argv[1..] answered without its handler when every key is one GET serves here (plain
 * bytes without a TTL or with one that has not passed, or missing while no keymiss
 * notification is asked for), checked for all keys before anything is counted or touched: 1
 * done, 0 not this case (the handler, the reference, does it all), -1 error. As the handler does: a hit and the key's access field per
 * found key, a miss per missing one, the reply an array of bulk strings and nulls. */
static int
fast_mget(PyObject *client, PyObject *argv, Out *o)
{
    DbSlots s;
    if (!db_slots(client, &s))
        return 0;
    PyObject **hits = (PyObject **)((char *)s.ks + off_hits), **misses = NULL;
    if (*hits == NULL || !PyLong_CheckExact(*hits))
        return 0;
    Py_ssize_t n = PyList_GET_SIZE(argv) - 1, decoded = 0, found = 0, size = 0;
    PyObject *stack[2 * BATCH_KEYS], **keys = stack;
    Py_hash_t hstack[BATCH_KEYS], *hashes = hstack;
    if (n > BATCH_KEYS && (keys = key_room(n, 2, &hashes)) == NULL)
        return -1;
    PyObject **values = keys + n;  /* borrowed; NULL for a missing key */
    int rc = 0;
    /* The keys decoded and hashed, then their lookups' cache lines fetched a stage at a time
     * over all keys (see Peek); the lookups proper come after, through the API, and find those
     * lines in cache. The `lru` lines too: the access fields written below. */
    PeekDb pk;
    peekdb_init(&pk, &s, s.delta == Py_None);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *key = PyList_GET_ITEM(argv, i + 1);
        if (!PyBytes_CheckExact(key))
            goto done;
        if ((keys[decoded] = peekdb_key(&pk, key, &hashes[i])) == NULL) {
            rc = -1;
            goto done;
        }
        decoded++;
    }
    peekdb_chase(&pk, hashes, n);
    long long now = -1;  /* one clock reading for all keys, as Redis's per-command time */
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *k = keys[i];
        rc = read_plain(&s, k, &values[i], &now);
        if (rc <= 0)
            goto done;
        rc = 0;
        if (values[i] != NULL) {
            found++;
            size += bulk_size(PyBytes_GET_SIZE(values[i]));
        } else if (misses == NULL && (misses = quiet_misses(&s)) == NULL) {
            goto done;  /* a keymiss notification to send */
        }
    }
    /* Every key is served here: now the side effects, which nothing above has begun. Nothing
     * below runs Python code or frees a value, so the borrowed values stay valid. */
    rc = -1;
    if (found > 0 && bump_by(hits, found) < 0)
        goto done;
    if (found < n && bump_by(misses, n - found) < 0)
        goto done;
    if (s.delta == Py_None) {
        for (Py_ssize_t i = 0; i < n; i++) {
            if (values[i] != NULL && PyDict_SetItem(s.lru, keys[i], s.lru_clock) < 0)
                goto done;
        }
    }
    const char *null = NULL;
    int null_len = 0;
    if (found < n) {
        int proto = client_proto(client);
        if (proto < 0)
            goto done;
        null = null_reply(proto, &null_len);
    }
    if (write_array(o, '*', values, n, resp_line_len(n) + size + (n - found) * null_len, null,
                    null_len) < 0)
        goto done;
    rc = 1;
done:
    for (Py_ssize_t i = 0; i < decoded; i++)
        Py_DECREF(keys[i]);
    if (keys != stack)
        PyMem_Free(keys);
    return rc;
}

/* For a write done here: the database is laid out as keyspace.py does it and nobody observes
 * key writes (Keyspace.plain: no WATCH, no blocked client, no notifications, no tracking).
 * Fills `s` and `*dirty` (Keyspace.dirty's slot); 1 or 0. The key's TTL the caller checks once
 * it has the key's str form (deadline_state, has_deadline). */
static int
plain_write(PyObject *client, PyObject *key, DbSlots *s, PyObject ***dirty)
{
    if (!db_slots(client, s) || !PyBytes_CheckExact(key))
        return 0;
    *dirty = (PyObject **)((char *)s->ks + off_dirty);
    return slot_get(s->ks, off_plain) == Py_True && **dirty != NULL && PyLong_CheckExact(**dirty);
}

/* Store `value` under str key `k` as Database.store does (in the overlay while a save child
 * runs), with a fresh access field (the LRU clock: LFU never comes here, see db_slots), and
 * count the write: 0, or -1 with an exception set. */
static int
store_uncounted(DbSlots *s, PyObject *k, PyObject *value)
{
    int plain = s->delta == Py_None;
    if (PyDict_SetItem(plain ? s->data : s->delta, k, value) < 0)
        return -1;
    return PyDict_SetItem(plain ? s->lru : s->delta_lru, k, s->lru_clock);
}

static int
store(DbSlots *s, PyObject **dirty, PyObject *k, PyObject *value)
{
    return store_uncounted(s, k, value) < 0 ? -1 : bump(dirty);
}

/* SET argv[1] argv[2] (no options), see plain_write. 1 done, 0 not this case, -1 error. */
static int
fast_set(PyObject *client, PyObject *argv, Out *o, PyObject *pre)
{
    DbSlots s;
    PyObject **dirty;
    PyObject *key = PyList_GET_ITEM(argv, 1), *value = PyList_GET_ITEM(argv, 2);
    if (!PyBytes_CheckExact(value) || !plain_write(client, key, &s, &dirty))
        return 0;
    PyObject *k = pre != NULL ? Py_NewRef(pre)
                              : PyUnicode_DecodeLatin1(PyBytes_AS_STRING(key), PyBytes_GET_SIZE(key), NULL);
    if (k == NULL)
        return -1;
    long long now = -1;
    int rc = deadline_state(&s, k, &now);
    if (rc == TTL_NONE || rc == TTL_LIVE)  /* SET drops a live TTL */
        rc = store(&s, dirty, k, value) < 0 || (rc == TTL_LIVE && drop_deadline(&s, k) < 0) ? -1 : 1;
    else if (rc == TTL_HANDLER)
        rc = 0;  /* a passed TTL: the handler expires the key first */
    Py_DECREF(k);
    if (rc <= 0)
        return rc;
    return out_write(o, PyBytes_AS_STRING(ok_reply), PyBytes_GET_SIZE(ok_reply)) < 0 ? -1 : 1;
}

/* keyspace.short_count in C: the value of 1 to 15 ASCII digits without a leading zero, else -1. */
static long long
short_count(PyObject *raw)
{
    if (!PyBytes_CheckExact(raw))
        return -1;
    const char *b = PyBytes_AS_STRING(raw);
    Py_ssize_t n = PyBytes_GET_SIZE(raw);
    if (n == 0 || n > 15 || b[0] == '0')
        return -1;
    long long v = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (b[i] < '0' || b[i] > '9')
            return -1;
        v = v * 10 + (b[i] - '0');
    }
    return v;
}

/* The time as keyspace.wall_ms gives it, int(time.time() * 1000), computed as CPython's
 * time.time() does (nanoseconds as an int64, then one division as a double), so that both give
 * the same millisecond: what the clock call cost SETEX was most of a Python call (~540
 * instructions). -1 if the clock cannot be read. */
static long long
wall_ms_now(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return -1;
    long long ns = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    double seconds = ns % 1000000000LL == 0 ? (double)(ns / 1000000000LL) : (double)ns / 1e9;
    return (long long)(seconds * 1000.0);
}

static PyObject *wall_ms_fn;  /* server.keyspace.wall_ms, Keyspace.clock's usual value */

/* The time as Keyspace.clock gives it (keyspace.wall_ms read here, an injected clock called): 1
 * with *now set, 0 when it is not a unix-ms reading (the handler then), -1 with an exception. */
static int
keyspace_now(PyObject *ks, long long *now)
{
    PyObject *clock = slot_get(ks, off_clock);
    if (clock == NULL)
        return 0;
    if (clock == wall_ms_fn) {
        *now = wall_ms_now();
        return *now >= 0;
    }
    PyObject *now_obj = PyObject_CallNoArgs(clock);
    if (now_obj == NULL)
        return -1;
    int overflow = 0;
    *now = PyLong_CheckExact(now_obj) ? PyLong_AsLongLongAndOverflow(now_obj, &overflow) : -1;
    Py_DECREF(now_obj);
    if (*now < 0 || overflow) {
        PyErr_Clear();
        return 0;
    }
    return 1;
}

/* SETEX argv[1] argv[2] argv[3] as the handler's short path (Database.store_in) does it, when
 * the seconds are short_count's form, the value is bytes, no save child runs (no overlay) and
 * plain_write holds: one clock reading (Keyspace.clock, so an injected clock too); a key whose
 * TTL has passed goes to the handler (it expires it first, counting it); else the value, the
 * access field of a written key (Keyspace.lru_new; LFU never comes here) and the deadline
 * now + seconds * 1000 are stored, one write counted. The bench's SETEX overwrites keys that
 * already have a TTL, so unlike SET a live TTL stays here. 1 done, 0 not this case, -1 error. */
static int
fast_setex(PyObject *client, PyObject *argv, Out *o)
{
    DbSlots s;
    PyObject **dirty;
    PyObject *key = PyList_GET_ITEM(argv, 1), *value = PyList_GET_ITEM(argv, 3);
    long long seconds = short_count(PyList_GET_ITEM(argv, 2));
    if (seconds < 0 || !PyBytes_CheckExact(value) || !plain_write(client, key, &s, &dirty)
        || s.delta != Py_None || s.delta_exp != Py_None)
        return 0;
    PyObject *field = slot_get(s.ks, off_lru_new);
    if (field == NULL || !PyLong_CheckExact(field))
        return 0;
    long long now;
    int got = keyspace_now(s.ks, &now);
    if (got <= 0)
        return got;
    PyObject *k = PyUnicode_DecodeLatin1(PyBytes_AS_STRING(key), PyBytes_GET_SIZE(key), NULL);
    if (k == NULL)
        return -1;
    int rc = -1, overflow = 0;
    PyObject *deadline = NULL;
    if (PyDict_GET_SIZE(s.expires) > 0) {
        PyObject *when = PyDict_GetItemWithError(s.expires, k);  /* borrowed */
        if (when == NULL && PyErr_Occurred())
            goto done;
        if (when != NULL) {
            long long w = PyLong_CheckExact(when) ? PyLong_AsLongLongAndOverflow(when, &overflow) : 0;
            if (!PyLong_CheckExact(when) || overflow || (w == -1 && PyErr_Occurred()) || w < now) {
                PyErr_Clear();
                rc = 0;  /* passed (Redis: expired once now > when): the handler expires it */
                goto done;
            }
        }
    }
    if ((deadline = PyLong_FromLongLong(now + seconds * 1000)) == NULL)
        goto done;
    if (PyDict_SetItem(s.data, k, value) < 0 || PyDict_SetItem(s.lru, k, field) < 0
        || PyDict_SetItem(s.expires, k, deadline) < 0 || bump(dirty) < 0)
        goto done;
    rc = out_write(o, PyBytes_AS_STRING(ok_reply), PyBytes_GET_SIZE(ok_reply)) < 0 ? -1 : 1;
done:
    Py_XDECREF(deadline);
    Py_DECREF(k);
    return rc;
}

/* MSET argv[1] argv[2] ... (pairs of bytes), see plain_write: each key checked (no TTL, or one
 * that has not passed) before any is stored, then each pair stored in order as the handler's
 * loop does, a live TTL dropped (a repeated key: the last value wins; a write counted per key,
 * as Redis counts them). 1 done, 0 not this case (an odd argument count too: the handler
 * replies its error), -1 error. */
static int
fast_mset(PyObject *client, PyObject *argv, Out *o)
{
    DbSlots s;
    PyObject **dirty;
    Py_ssize_t argc = PyList_GET_SIZE(argv), n = (argc - 1) / 2, decoded = 0;
    if (argc % 2 == 0 || !plain_write(client, PyList_GET_ITEM(argv, 1), &s, &dirty))
        return 0;
    PyObject *stack[BATCH_KEYS], **keys = stack;
    Py_hash_t hstack[BATCH_KEYS], *hashes = hstack;
    if (n > BATCH_KEYS && (keys = key_room(n, 1, &hashes)) == NULL)
        return -1;
    int rc = 0;
    /* As fast_mget: every key decoded and hashed first, and the `data` and `lru` lines its
     * stores will touch (index slot, entry, the stored key and old value) fetched a stage at a
     * time over all keys, so that the cache misses of the keys overlap (see Peek). During a
     * save the stores go to the overlay instead: nothing to peek. */
    PeekDb pk;
    if (s.delta == Py_None)
        peekdb_init(&pk, &s, 1);
    else
        pk.data.indices = pk.lru.indices = NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *key = PyList_GET_ITEM(argv, 1 + 2 * i), *value = PyList_GET_ITEM(argv, 2 + 2 * i);
        if (!PyBytes_CheckExact(key) || !PyBytes_CheckExact(value))
            goto done;
        if ((keys[decoded] = peekdb_key(&pk, key, &hashes[i])) == NULL) {
            rc = -1;
            goto done;
        }
        decoded++;
    }
    peekdb_chase(&pk, hashes, n);
    /* Every key's TTL first: one that has passed sends the whole command to the handler (which
     * expires it first) before anything is stored. The hashes are spent: each now holds its
     * key's deadline_state, TTL_LIVE for a TTL the store drops. */
    long long now = -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        if ((rc = deadline_state(&s, keys[i], &now)) < 0 || rc == TTL_HANDLER) {
            rc = rc < 0 ? -1 : 0;
            goto done;
        }
        hashes[i] = rc;
    }
    /* The writes are counted once for all (one int object instead of one per key). */
    Py_ssize_t stored = 0;
    while (stored < n && store_uncounted(&s, keys[stored], PyList_GET_ITEM(argv, 2 + 2 * stored)) == 0
           && (hashes[stored] != TTL_LIVE || drop_deadline(&s, keys[stored]) == 0))
        stored++;
    rc = -1;
    if (stored < n) {  /* a store failed (no memory): its error stands, the writes done count */
        PyObject *exc_type, *exc, *tb;
        PyErr_Fetch(&exc_type, &exc, &tb);
        if (stored > 0 && bump_by(dirty, stored) < 0)
            PyErr_Clear();
        PyErr_Restore(exc_type, exc, tb);
        goto done;
    }
    if (bump_by(dirty, n) < 0)
        goto done;
    if (out_write(o, PyBytes_AS_STRING(ok_reply), PyBytes_GET_SIZE(ok_reply)) < 0)
        goto done;
    rc = 1;
done:
    for (Py_ssize_t i = 0; i < decoded; i++)
        Py_DECREF(keys[i]);
    if (keys != stack)
        PyMem_Free(keys);
    return rc;
}

/* INCR argv[1] of a missing key or of a counter (an int value), see plain_write; a string to
 * parse, another type, an overflow or a key deleted during a save go to the handler. */
static int
fast_incr(PyObject *client, PyObject *argv, Out *o, PyObject *pre)
{
    DbSlots s;
    PyObject **dirty;
    PyObject *key = PyList_GET_ITEM(argv, 1);
    if (!plain_write(client, key, &s, &dirty))
        return 0;
    PyObject *k = pre != NULL ? Py_NewRef(pre)
                              : PyUnicode_DecodeLatin1(PyBytes_AS_STRING(key), PyBytes_GET_SIZE(key), NULL);
    if (k == NULL)
        return -1;
    long long now = -1;
    int rc = deadline_state(&s, k, &now);  /* INCR keeps a live TTL */
    if (rc < 0 || rc == TTL_HANDLER) {  /* a passed TTL: the handler expires the key first */
        rc = rc < 0 ? -1 : 0;
        goto done;
    }
    rc = 0;  /* from here, "not this case" */
    PyObject *value = NULL;  /* borrowed */
    if (s.delta != Py_None && PyDict_GET_SIZE(s.delta) > 0)
        value = PyDict_GetItemWithError(s.delta, k);
    if (value == NULL && !PyErr_Occurred())
        value = PyDict_GetItemWithError(s.data, k);
    if (value == NULL && PyErr_Occurred()) {
        rc = -1;
        goto done;
    }
    long long n = 0;
    if (value != NULL) {
        if (!PyLong_CheckExact(value))
            goto done;
        int overflow = 0;
        n = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (overflow || (n == -1 && PyErr_Occurred()) || n == LLONG_MAX) {
            PyErr_Clear();
            goto done;
        }
    }
    PyObject *counter = PyLong_FromLongLong(n + 1);
    if (counter == NULL) {
        rc = -1;
        goto done;
    }
    rc = store(&s, dirty, k, counter);
    Py_DECREF(counter);
    if (rc == 0) {
        char buf[32];
        int len = resp_line(buf, ':', n + 1);
        rc = out_write(o, buf, len) < 0 ? -1 : 1;
    }
done:
    Py_DECREF(k);
    return rc;
}

/* ---- PFADD and PFCOUNT of one HLL (server/commands/hyperloglog.py pfadd/pfcount are the
 * reference and serve every other case) ---- */

/* server/_hll.c's PFADD loop, from its capsule "server._hll.add_kernel": registers changed, -1
 * corrupt, -2 with an exception set (the signature is _hll.c's add_elements). */
typedef long (*hll_add_fn)(PyObject *value, PyObject *const *items, Py_ssize_t n, Py_ssize_t max_bytes);
static hll_add_fn hll_add_kernel;  /* NULL: _hll not built, or FORKVPY_PURE (PFADD's handler) */
static PyObject *pfadd_handler, *pfcount_handler;

#define HLL_HDR 16
#define HLL_DENSE_SIZE (HLL_HDR + 16384 * 6 / 8)

/* Whether `value` is a string server/hll.py's is_hll accepts (Redis's isHLLObjectOrReply). */
static int
hll_header_ok(const uint8_t *s, Py_ssize_t size)
{
    return size >= HLL_HDR && memcmp(s, "HYLL", 4) == 0 && s[4] <= 1
           && (s[4] == 1 || size == HLL_DENSE_SIZE);
}

/* PFADD key element... of a dense HLL (a bytearray, as the handler leaves it once written) with
 * no TTL, see plain_write, and no save child running: what the handler does for it (its lookup
 * touches the access field; the registers change in place; if any did, the cached cardinality
 * goes stale and the writes are counted, one per register changed, as hllAdd's caller does).
 * A new key, a sparse or corrupt HLL, another type: the handler. 1 done, 0 not this case, -1
 * error. */
static int
fast_pfadd(PyObject *client, PyObject *argv, Out *o)
{
    DbSlots s;
    PyObject **dirty;
    PyObject *key = PyList_GET_ITEM(argv, 1);
    if (hll_add_kernel == NULL || !plain_write(client, key, &s, &dirty) || s.delta != Py_None)
        return 0;
    PyObject *k = PyUnicode_DecodeLatin1(PyBytes_AS_STRING(key), PyBytes_GET_SIZE(key), NULL);
    if (k == NULL)
        return -1;
    int rc = has_deadline(&s, k);
    if (rc != 0) {
        rc = rc < 0 ? -1 : 0;
        goto done;
    }
    PyObject *value = PyDict_GetItemWithError(s.data, k);  /* borrowed; the dict keeps it */
    if (value == NULL) {
        rc = PyErr_Occurred() ? -1 : 0;
        goto done;
    }
    if (!PyByteArray_CheckExact(value) || PyByteArray_GET_SIZE(value) != HLL_DENSE_SIZE
        || !hll_header_ok((const uint8_t *)PyByteArray_AS_STRING(value), HLL_DENSE_SIZE)
        || PyByteArray_AS_STRING(value)[4] != 0)
        goto done;  /* rc 0 */
    rc = -1;
    if (PyDict_SetItem(s.lru, k, s.lru_clock) < 0)
        goto done;
    /* A dense HLL is never resized nor found corrupt: the kernel only sets registers. Nothing
     * here runs Python code, so `value` stays the dict's. */
    long updated = hll_add_kernel(value, &PyList_GET_ITEM(argv, 2), PyList_GET_SIZE(argv) - 2, 0);
    if (updated < 0) {
        if (updated == -1)
            PyErr_SetString(PyExc_RuntimeError, "a dense HLL found corrupt");
        goto done;
    }
    if (updated > 0) {
        ((uint8_t *)PyByteArray_AS_STRING(value))[15] |= 0x80;
        if (bump_by(dirty, updated) < 0)
            goto done;
    }
    rc = out_write(o, updated ? ":1\r\n" : ":0\r\n", 4) < 0 ? -1 : 1;
done:
    Py_DECREF(k);
    return rc;
}

/* PFCOUNT key of an HLL whose cached cardinality is valid (or of a missing key: 0), with no TTL
 * and not changed since a save child forked: the cached number, a keyspace hit (or miss) counted
 * and the access field touched as the handler's read does. A stale cache (the handler computes
 * and stores it), a non-HLL string (WRONGTYPE), a TTL, a keymiss notification: the handler.
 * 1 done, 0 not this case, -1 error. */
static int
fast_pfcount(PyObject *client, PyObject *argv, Out *o)
{
    DbSlots s;
    if (!db_slots(client, &s))
        return 0;
    PyObject **hits = (PyObject **)((char *)s.ks + off_hits), **misses;
    PyObject *key = PyList_GET_ITEM(argv, 1), *value;
    if (!PyBytes_CheckExact(key) || *hits == NULL || !PyLong_CheckExact(*hits))
        return 0;
    PyObject *k = PyUnicode_DecodeLatin1(PyBytes_AS_STRING(key), PyBytes_GET_SIZE(key), NULL);
    if (k == NULL)
        return -1;
    int rc = overlay_has(s.delta, k);
    if (rc != 0) {
        rc = rc < 0 ? -1 : 0;
        goto done;
    }
    value = PyDict_GetItemWithError(s.data, k);  /* borrowed */
    if (value == NULL) {
        if (PyErr_Occurred()) {
            rc = -1;
        } else if ((misses = quiet_misses(&s)) != NULL) {
            rc = bump(misses) < 0 || out_write(o, ":0\r\n", 4) < 0 ? -1 : 1;
        }
        goto done;
    }
    const uint8_t *b;
    Py_ssize_t size;
    if (PyByteArray_CheckExact(value)) {
        b = (const uint8_t *)PyByteArray_AS_STRING(value);
        size = PyByteArray_GET_SIZE(value);
    } else if (PyBytes_CheckExact(value)) {
        b = (const uint8_t *)PyBytes_AS_STRING(value);
        size = PyBytes_GET_SIZE(value);
    } else {
        goto done;
    }
    if (!hll_header_ok(b, size) || b[15] & 0x80)
        goto done;  /* not an HLL (WRONGTYPE), or its cache is stale */
    if ((rc = has_deadline(&s, k)) != 0) {
        rc = rc < 0 ? -1 : 0;
        goto done;
    }
    long long card = 0;
    for (int i = 15; i >= 8; i--)
        card = (card << 8) | b[i];  /* little endian, the top bit clear */
    rc = -1;
    if (bump(hits) < 0 || (s.delta == Py_None && PyDict_SetItem(s.lru, k, s.lru_clock) < 0))
        goto done;
    char buf[32];
    int len = resp_line(buf, ':', card);
    rc = out_write(o, buf, len) < 0 ? -1 : 1;
done:
    Py_DECREF(k);
    return rc;
}

/* configure_hll(pfadd, pfcount, kernels): the two handlers served above, and server._hll (None
 * when it is not to be used: then PFADD always takes its handler; PFCOUNT's cached read needs
 * no kernel). */
static PyObject *
configure_hll(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "configure_hll(pfadd, pfcount, kernels)");
        return NULL;
    }
    hll_add_fn kernel = NULL;
    if (args[2] != Py_None) {
        PyObject *capsule = PyObject_GetAttrString(args[2], "add_kernel");
        if (capsule == NULL)
            return NULL;
        kernel = (hll_add_fn)PyCapsule_GetPointer(capsule, "server._hll.add_kernel");
        Py_DECREF(capsule);
        if (kernel == NULL)
            return NULL;
    }
    hll_add_kernel = kernel;
    Py_INCREF(args[0]);
    Py_XSETREF(pfadd_handler, args[0]);
    Py_INCREF(args[1]);
    Py_XSETREF(pfcount_handler, args[1]);
    Py_RETURN_NONE;
}

/* ---- XADD key * field value ... onto a stream's tail node (server/commands/streams.py xadd is
 * the reference and serves every other case; server/types/streams.py Stream.append the
 * node rule) ---- */

/* persistence/_rdbload.c's listpack element encoders, from its capsule "persistence._rdbload.
 * lp_kernel" (the struct is _rdbload.c's LpKernel): the same bytes its listpack_pack writes. */
typedef struct {
    size_t (*put_int)(long long v, unsigned char *out);
    size_t (*put_bytes)(const unsigned char *p, Py_ssize_t n, unsigned char *out);
} LpKernel;
static const LpKernel *lp_kernel;  /* NULL: not built, or FORKVPY_PURE (XADD's handler) */
static PyObject *xadd_handler, *stream_pending;  /* streams._pending: streams to settle */
static PyTypeObject *stream_type, *node_type;
static Py_ssize_t stream_pending_cap;
static Py_ssize_t off_s_keys = -1, off_s_nodes = -1, off_s_rdb_nodes = -1, off_s_length = -1, off_s_last_id = -1,
                  off_s_first_id = -1, off_s_entries_added = -1, off_s_queued = -1;
static Py_ssize_t off_n_master = -1, off_n_fields = -1, off_n_ids = -1, off_n_vals = -1,
                  off_n_dead = -1, off_n_at = -1, off_n_count = -1, off_n_deleted = -1,
                  off_n_rest = -1, off_n_nelems = -1, off_n_lp = -1, off_n_last = -1;
static Py_ssize_t off_server = -1;  /* Client.server */
/* The config values of the last server seen (Config.values is never rebound: CONFIG SET
 * updates it in place), to read stream-node-max-bytes / -entries without attribute lookups. */
static PyObject *cfg_server, *cfg_values, *s_config, *s_values, *s_node_max_bytes,
                *s_node_max_entries;

#define LISTPACK_MAX (1LL << 30)  /* STREAM_LISTPACK_MAX_SIZE */
#define U64_MAX 0xFFFFFFFFFFFFFFFFULL

/* `o`'s int slot as a long long >= 0: 1, or 0 when it is not one. */
static int
slot_count(PyObject *o, Py_ssize_t off, long long *v)
{
    PyObject *n = slot_get(o, off);
    if (n == NULL || !PyLong_CheckExact(n))
        return 0;
    int overflow = 0;
    *v = PyLong_AsLongLongAndOverflow(n, &overflow);
    if (overflow || *v < 0) {
        PyErr_Clear();
        return 0;
    }
    return 1;
}

/* An (ms, seq) tuple slot of `o` as two uint64: 1, or 0 when it is not one, or when a part is
 * past 2**63 - 1 (the handler then: PyLong_AsUnsignedLongLong costs ~200 instructions a call
 * for a millisecond time, its signed twin a few dozen). */
static int
slot_id(PyObject *o, Py_ssize_t off, unsigned long long *ms, unsigned long long *seq)
{
    PyObject *id = slot_get(o, off);
    if (id == NULL || !PyTuple_CheckExact(id) || PyTuple_GET_SIZE(id) != 2
        || !PyLong_CheckExact(PyTuple_GET_ITEM(id, 0)) || !PyLong_CheckExact(PyTuple_GET_ITEM(id, 1)))
        return 0;
    int o1 = 0, o2 = 0;
    long long a = PyLong_AsLongLongAndOverflow(PyTuple_GET_ITEM(id, 0), &o1);
    long long b = PyLong_AsLongLongAndOverflow(PyTuple_GET_ITEM(id, 1), &o2);
    if (o1 || o2 || a < 0 || b < 0) {
        PyErr_Clear();
        return 0;
    }
    *ms = (unsigned long long)a;
    *seq = (unsigned long long)b;
    return 1;
}

/* Set slot `off` of `o` to `v` (a new reference, stolen). */
static void
slot_set(PyObject *o, Py_ssize_t off, PyObject *v)
{
    Py_XSETREF(*(PyObject **)((char *)o + off), v);
}

/* The bytes an integer element takes in a listpack (streams.py's _int_size). */
static long long
lp_int_size(long long v)
{
    if (v >= 0 && v <= 127)
        return 2;
    if (v >= -4096 && v <= 4095)
        return 3;
    if (v >= -32768 && v <= 32767)
        return 4;
    if (v >= -8388608 && v <= 8388607)
        return 5;
    return v >= -2147483648LL && v <= 2147483647LL ? 6 : 10;
}

/* v in decimal at p (room for 20 bytes); its length. Two digits a division. */
static int
u64_text(char *p, unsigned long long v)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                "8081828384858687888990919293949596979899";
    char tmp[20];
    int n = 20;
    while (v >= 100) {
        unsigned d = (unsigned)(v % 100) * 2;
        v /= 100;
        tmp[--n] = pairs[d + 1];
        tmp[--n] = pairs[d];
    }
    if (v >= 10) {
        tmp[--n] = pairs[v * 2 + 1];
        tmp[--n] = pairs[v * 2];
    } else {
        tmp[--n] = (char)('0' + v);
    }
    memcpy(p, tmp + n, (size_t)(20 - n));
    return 20 - n;
}

/* An (ms, seq) id tuple, not tracked by the garbage collector: it holds two ints, no cycle can
 * go through it (CPython's collector untracks such tuples itself, later, at some cost). */
static PyObject *
id_tuple(unsigned long long ms, unsigned long long seq)
{
    PyObject *t = PyTuple_New(2), *a = NULL, *b = NULL;
    if (t == NULL || (a = PyLong_FromUnsignedLongLong(ms)) == NULL
        || (b = PyLong_FromUnsignedLongLong(seq)) == NULL) {
        Py_XDECREF(t);
        Py_XDECREF(a);
        return NULL;
    }
    PyTuple_SET_ITEM(t, 0, a);
    PyTuple_SET_ITEM(t, 1, b);
    PyObject_GC_UnTrack(t);
    return t;
}

/* stream-node-max-bytes and -entries of the client's server: 1, or 0 when not found. The two
 * are kept with the values dict's version tag (it changes with any change to the dict, CONFIG
 * SET's included): two lookups in a dict of some 200 directives cost ~370 instructions. */
static long long cfg_max_bytes, cfg_max_entries;
#if PY_VERSION_HEX < 0x030C0000
static uint64_t cfg_version;
#endif

static int
node_limits(PyObject *client, long long *max_bytes, long long *max_entries)
{
    PyObject *server = slot_get(client, off_server);
    if (server == NULL)
        return 0;
    if (server != cfg_server) {
        PyObject *config = PyObject_GetAttr(server, s_config);
        PyObject *values = config == NULL ? NULL : PyObject_GetAttr(config, s_values);
        Py_XDECREF(config);
        if (values == NULL || !PyDict_CheckExact(values)) {
            Py_XDECREF(values);
            PyErr_Clear();
            return 0;
        }
        Py_INCREF(server);
        Py_XSETREF(cfg_server, server);
        Py_XSETREF(cfg_values, values);
        cfg_max_bytes = -1;
    }
#if PY_VERSION_HEX < 0x030C0000
    if (cfg_max_bytes >= 0 && ((PyDictObject *)cfg_values)->ma_version_tag == cfg_version) {
        *max_bytes = cfg_max_bytes;
        *max_entries = cfg_max_entries;
        return 1;
    }
#endif
    PyObject *b = PyDict_GetItemWithError(cfg_values, s_node_max_bytes);
    PyObject *e = PyDict_GetItemWithError(cfg_values, s_node_max_entries);
    if (b == NULL || e == NULL || !PyLong_CheckExact(b) || !PyLong_CheckExact(e)) {
        PyErr_Clear();
        return 0;
    }
    *max_bytes = PyLong_AsLongLong(b);
    *max_entries = PyLong_AsLongLong(e);
    if (PyErr_Occurred() || *max_bytes < 0 || *max_entries < 0) {
        PyErr_Clear();
        return 0;
    }
    cfg_max_bytes = *max_bytes;
    cfg_max_entries = *max_entries;
#if PY_VERSION_HEX < 0x030C0000
    cfg_version = ((PyDictObject *)cfg_values)->ma_version_tag;
#endif
    return 1;
}

/* Node.seal in C: the listpack of a node from its counters, element count and `rest` (the
 * reference is server/types/streams.py's). A new reference, or NULL with an exception set. */
static PyObject *
sealed_listpack(long long count, long long deleted, long long nelems, PyObject *rest)
{
    unsigned char counters[20];
    size_t c = lp_kernel->put_int(count, counters);
    c += lp_kernel->put_int(deleted, counters + c);
    Py_ssize_t n = PyByteArray_GET_SIZE(rest), total = 6 + (Py_ssize_t)c + n + 1;
    PyObject *lp = PyBytes_FromStringAndSize(NULL, total);
    if (lp == NULL)
        return NULL;
    unsigned char *p = (unsigned char *)PyBytes_AS_STRING(lp);
    long long items = nelems + 2;
    unsigned n16 = items < 65535 ? (unsigned)items : 65535;
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(((unsigned long long)total >> (8 * i)) & 0xFF);
    p[4] = (unsigned char)(n16 & 0xFF);
    p[5] = (unsigned char)(n16 >> 8);
    memcpy(p + 6, counters, c);
    memcpy(p + 6 + c, PyByteArray_AS_STRING(rest), (size_t)n);
    p[total - 1] = 0xFF;
    return lp;
}

/* A new Node (Node.__init__ in C) whose master entry is `sid` with the fields of argv[3::2]:
 * its `rest` the master entry's elements (field count, fields, the 0 that ends them), no entry
 * yet, no decoded copy, `lp` None. A new reference, or NULL with an exception set. */
static PyObject *
new_node(PyObject *sid, PyObject *argv, Py_ssize_t nf)
{
    PyObject *node = bare_instance(node_type), *fields = PyTuple_New(nf), *rest = NULL;
    if (node == NULL || fields == NULL)
        goto fail;
    Py_ssize_t cap = 20;
    for (Py_ssize_t i = 0; i < nf; i++) {
        PyObject *f = PyList_GET_ITEM(argv, 3 + 2 * i);
        Py_INCREF(f);
        PyTuple_SET_ITEM(fields, i, f);
        cap += PyBytes_GET_SIZE(f) + 10;
    }
    PyObject_GC_UnTrack(fields);  /* bytes only */
    if ((rest = PyByteArray_FromStringAndSize(NULL, cap)) == NULL)
        goto fail;
    unsigned char *p = (unsigned char *)PyByteArray_AS_STRING(rest), *p0 = p;
    p += lp_kernel->put_int(nf, p);
    for (Py_ssize_t i = 0; i < nf; i++) {
        PyObject *f = PyTuple_GET_ITEM(fields, i);
        p += lp_kernel->put_bytes((const unsigned char *)PyBytes_AS_STRING(f), PyBytes_GET_SIZE(f), p);
    }
    p += lp_kernel->put_int(0, p);
    if (PyByteArray_Resize(rest, p - p0) < 0)
        goto fail;
    Py_ssize_t offs[] = {off_n_ids, off_n_vals, off_n_dead, off_n_at};
    for (int i = 0; i < 4; i++) {  /* no decoded copy: Node.decoded builds one on first use */
        Py_INCREF(Py_None);
        slot_set(node, offs[i], Py_None);
    }
    PyObject *zero = PyLong_FromLong(0), *zero2 = PyLong_FromLong(0), *elems = PyLong_FromSsize_t(nf + 2);
    if (zero == NULL || zero2 == NULL || elems == NULL) {
        Py_XDECREF(zero);
        Py_XDECREF(zero2);
        Py_XDECREF(elems);
        goto fail;
    }
    slot_set(node, off_n_count, zero);
    slot_set(node, off_n_deleted, zero2);
    slot_set(node, off_n_nelems, elems);
    Py_INCREF(sid);
    slot_set(node, off_n_master, sid);
    Py_INCREF(sid);
    slot_set(node, off_n_last, sid);
    slot_set(node, off_n_fields, fields);
    slot_set(node, off_n_rest, rest);
    Py_INCREF(Py_None);
    slot_set(node, off_n_lp, Py_None);
    return node;
fail:
    Py_XDECREF(node);
    Py_XDECREF(fields);
    Py_XDECREF(rest);
    return NULL;
}

/* XADD key * field value [field value ...] of an existing stream (exactly streams.Stream) with
 * no TTL, see plain_write, and no save child running: what the handler does for it. The id from
 * the keyspace clock as the handler computes it; Stream.append's node rule (a full tail is
 * sealed for good, its `rest` dropped, and a new node started, as Stream.append does); the
 * entry's listpack elements (Node.append's) appended to the node's `rest` with _rdbload.c's
 * encoders; the decoded copy (when the node has one), counters and ids updated; the tail's
 * `lp` left unsealed and the stream queued for settle_streams as Stream.append leaves them; the
 * access field touched (write_typed's lookup) and one write counted (Database.modified). A
 * missing key, an explicit id or an option, an id past 2**63 - 1, a tail kept as its listpack
 * alone (`rest` None), another type: the handler. Every check and allocation comes before the
 * first change. 1 done, 0 not this case, -1 error. */
static int
fast_xadd(PyObject *client, PyObject *argv, Out *o)
{
    DbSlots s;
    PyObject **dirty;
    Py_ssize_t argc = PyList_GET_SIZE(argv), nf = (argc - 3) / 2;
    PyObject *key = PyList_GET_ITEM(argv, 1), *star = PyList_GET_ITEM(argv, 2);
    if (lp_kernel == NULL || (argc - 3) % 2 || !PyBytes_CheckExact(star)
        || PyBytes_GET_SIZE(star) != 1 || PyBytes_AS_STRING(star)[0] != '*'
        || !plain_write(client, key, &s, &dirty) || s.delta != Py_None)
        return 0;
    long long size = 0, max_bytes, max_entries;
    for (Py_ssize_t i = 3; i < argc; i++) {
        PyObject *a = PyList_GET_ITEM(argv, i);
        if (!PyBytes_CheckExact(a))
            return 0;
        size += PyBytes_GET_SIZE(a);
    }
    if (size > LISTPACK_MAX || !node_limits(client, &max_bytes, &max_entries))
        return 0;  /* too large: the handler's error */
    PyObject *k = PyUnicode_DecodeLatin1(PyBytes_AS_STRING(key), PyBytes_GET_SIZE(key), NULL);
    if (k == NULL)
        return -1;
    int rc = has_deadline(&s, k);
    PyObject *sid = NULL, *pairs = NULL, *ints[5] = {NULL, NULL, NULL, NULL, NULL};
    PyObject *node = NULL, *sealed = NULL, *rec = NULL;  /* a new tail node, the old one's bytes */
    if (rc != 0) {
        rc = rc < 0 ? -1 : 0;
        goto done;
    }
    PyObject *st = PyDict_GetItemWithError(s.data, k);  /* borrowed; the dict keeps it */
    if (st == NULL) {
        rc = PyErr_Occurred() ? -1 : 0;
        goto done;
    }
    if (Py_TYPE(st) != stream_type)
        goto done;
    PyObject *queued = slot_get(st, off_s_queued), *nodes = slot_get(st, off_s_nodes);
    PyObject *rdb_nodes = slot_get(st, off_s_rdb_nodes);
    if (queued == NULL || (queued != Py_True && PyList_GET_SIZE(stream_pending) >= stream_pending_cap)
        || nodes == NULL || !PyList_CheckExact(nodes) || PyList_GET_SIZE(nodes) == 0
        || rdb_nodes == NULL || !PyList_CheckExact(rdb_nodes)
        || PyList_GET_SIZE(rdb_nodes) != PyList_GET_SIZE(nodes))
        goto done;
    PyObject *tail = PyList_GET_ITEM(nodes, PyList_GET_SIZE(nodes) - 1);
    PyObject *tail_rec = PyList_GET_ITEM(rdb_nodes, PyList_GET_SIZE(rdb_nodes) - 1);
    if (Py_TYPE(tail) != node_type || !PyTuple_CheckExact(tail_rec) || PyTuple_GET_SIZE(tail_rec) != 2)
        goto done;
    PyObject *fields = slot_get(tail, off_n_fields), *rest = slot_get(tail, off_n_rest);
    PyObject *lp = slot_get(tail, off_n_lp);
    PyObject *lists[4] = {slot_get(tail, off_n_ids), slot_get(tail, off_n_vals),
                          slot_get(tail, off_n_dead), slot_get(tail, off_n_at)};
    int decoded = lists[0] != Py_None;  /* the decoded copy: all four lists, or all four None */
    for (int i = 0; i < 4; i++)
        if (lists[i] == NULL || (decoded ? !PyList_CheckExact(lists[i]) : lists[i] != Py_None))
            goto done;
    long long count, deleted, nelems, length, added;
    unsigned long long mms, mseq, lms, lseq, ms, seq;
    if (fields == NULL || !PyTuple_CheckExact(fields) || rest == NULL || !PyByteArray_CheckExact(rest)
        || lp == NULL || (lp != Py_None && !PyBytes_CheckExact(lp))
        || !slot_count(tail, off_n_count, &count) || !slot_count(tail, off_n_deleted, &deleted)
        || !slot_count(tail, off_n_nelems, &nelems) || !slot_id(tail, off_n_master, &mms, &mseq)
        || !slot_count(st, off_s_length, &length) || !slot_count(st, off_s_entries_added, &added)
        || !slot_id(st, off_s_last_id, &lms, &lseq) || slot_get(st, off_s_first_id) == NULL)
        goto done;
    /* Stream.append's node rule, the node's size counted as Node.size does */
    long long node_bytes = lp != Py_None ? PyBytes_GET_SIZE(lp)
                         : 7 + lp_int_size(count) + lp_int_size(deleted) + PyByteArray_GET_SIZE(rest);
    long long limit = max_bytes == 0 || max_bytes > LISTPACK_MAX ? LISTPACK_MAX : max_bytes;
    int fresh = node_bytes + size >= limit || (max_entries && count + deleted >= max_entries);
    long long now;
    if ((rc = keyspace_now(s.ks, &now)) <= 0)
        goto done;
    rc = 0;
    if ((unsigned long long)now > lms) {
        ms = (unsigned long long)now;
        seq = 0;
    } else if (lseq != U64_MAX) {
        ms = lms;
        seq = lseq + 1;
    } else {
        goto done;  /* the next millisecond, or the exhausted error: the handler */
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(fields); i++)
        if (!PyBytes_CheckExact(PyTuple_GET_ITEM(fields, i)))
            goto done;  /* not what Node keeps: the handler compares them */
    PyObject *keys = slot_get(st, off_s_keys);
    if (fresh && (keys == NULL || !PyList_CheckExact(keys)))
        goto done;
    int same = PyTuple_GET_SIZE(fields) == nf;  /* the master entry's fields (Node.append) */
    for (Py_ssize_t i = 0; same && i < nf; i++) {
        PyObject *f = PyTuple_GET_ITEM(fields, i), *a = PyList_GET_ITEM(argv, 3 + 2 * i);
        same = PyBytes_GET_SIZE(f) == PyBytes_GET_SIZE(a)
               && memcmp(PyBytes_AS_STRING(f), PyBytes_AS_STRING(a), PyBytes_GET_SIZE(a)) == 0;
    }
    /* Everything allocated before the first change. */
    rc = -1;
    if ((sid = id_tuple(ms, seq)) == NULL)
        goto done;
    if (fresh) {  /* Stream.append's new node: the old tail sealed for good, the entry added to a new one */
        char master[16];
        for (int i = 0; i < 8; i++) {
            master[i] = (char)(ms >> (56 - 8 * i));
            master[8 + i] = (char)(seq >> (56 - 8 * i));
        }
        if ((lp == Py_None && (sealed = sealed_listpack(count, deleted, nelems, rest)) == NULL)
            || (node = new_node(sid, argv, nf)) == NULL
            || (rec = Py_BuildValue("(y#O)", master, (Py_ssize_t)16, Py_None)) == NULL)
            goto done;
        tail = node;
        fields = slot_get(node, off_n_fields);
        rest = slot_get(node, off_n_rest);
        decoded = 0;
        count = deleted = 0;
        nelems = nf + 2;
        mms = ms;
        mseq = seq;
        same = 1;
    }
    Py_ssize_t items = same ? 3 + nf + 1 : 4 + 2 * nf + 1;
    if ((ints[0] = PyLong_FromLongLong(count + 1)) == NULL
        || (ints[1] = PyLong_FromLongLong(nelems + items)) == NULL
        || (ints[2] = PyLong_FromLongLong(length + 1)) == NULL
        || (ints[3] = PyLong_FromLongLong(added + 1)) == NULL)
        goto done;
    if (decoded) {  /* the entry for the decoded copy too */
        if ((pairs = PyTuple_New(2 * nf)) == NULL
            || (ints[4] = PyLong_FromSsize_t(PyByteArray_GET_SIZE(rest))) == NULL)
            goto done;
        for (Py_ssize_t i = 0; i < 2 * nf; i++) {
            PyObject *a = PyList_GET_ITEM(argv, 3 + i);
            Py_INCREF(a);
            PyTuple_SET_ITEM(pairs, i, a);
        }
        PyObject_GC_UnTrack(pairs);  /* bytes only, as id_tuple's ints */
    }
    Py_ssize_t at = PyByteArray_GET_SIZE(rest);
    if (PyByteArray_Resize(rest, at + 10 * items + (Py_ssize_t)size) < 0)  /* 10: header, backlen */
        goto done;
    unsigned char *p = (unsigned char *)PyByteArray_AS_STRING(rest) + at, *p0 = p;
    p += lp_kernel->put_int(same ? 2 : 0, p);  /* the flags */
    p += lp_kernel->put_int((long long)(ms - mms), p);  /* the id's deltas, as int64 */
    p += lp_kernel->put_int((long long)(seq - mseq), p);
    if (!same)
        p += lp_kernel->put_int(nf, p);
    for (Py_ssize_t i = same ? 1 : 0; i < 2 * nf; i += same ? 2 : 1) {
        PyObject *a = PyList_GET_ITEM(argv, 3 + i);
        p += lp_kernel->put_bytes((const unsigned char *)PyBytes_AS_STRING(a), PyBytes_GET_SIZE(a), p);
    }
    p += lp_kernel->put_int(same ? nf + 3 : 2 * nf + 4, p);  /* the lp-count */
    if (PyByteArray_Resize(rest, at + (p - p0)) < 0)
        goto done;
    if (decoded && (PyList_Append(lists[0], sid) < 0 || PyList_Append(lists[1], pairs) < 0
                    || PyList_Append(lists[2], Py_False) < 0 || PyList_Append(lists[3], ints[4]) < 0))
        goto done;
    Py_INCREF(sid);
    slot_set(tail, off_n_last, sid);
    slot_set(tail, off_n_count, ints[0]);
    slot_set(tail, off_n_nelems, ints[1]);
    slot_set(st, off_s_length, ints[2]);
    slot_set(st, off_s_entries_added, ints[3]);
    ints[0] = ints[1] = ints[2] = ints[3] = NULL;
    Py_INCREF(sid);
    slot_set(st, off_s_last_id, sid);
    if (length == 0) {
        Py_INCREF(sid);
        slot_set(st, off_s_first_id, sid);
    }
    if (fresh) {  /* the old tail's bytes, then the new node linked in */
        PyObject *old = PyList_GET_ITEM(nodes, PyList_GET_SIZE(nodes) - 1);
        if (sealed != NULL) {
            PyObject *done_rec = PyTuple_Pack(2, PyTuple_GET_ITEM(tail_rec, 0), sealed);
            if (done_rec == NULL)
                goto done;
            Py_INCREF(sealed);
            slot_set(old, off_n_lp, sealed);
            if (PyList_SetItem(rdb_nodes, PyList_GET_SIZE(rdb_nodes) - 1, done_rec) < 0)
                goto done;
        }
        Py_INCREF(Py_None);
        slot_set(old, off_n_rest, Py_None);  /* sealed for good: its listpack the one copy */
        if (PyList_Append(nodes, node) < 0 || PyList_Append(keys, sid) < 0
            || PyList_Append(rdb_nodes, rec) < 0)
            goto done;
    } else if (lp != Py_None) {  /* unsealed from now on: Stream.settle seals it */
        PyObject *unsealed = PyTuple_Pack(2, PyTuple_GET_ITEM(tail_rec, 0), Py_None);
        if (unsealed == NULL)
            goto done;
        Py_INCREF(Py_None);
        slot_set(tail, off_n_lp, Py_None);
        if (PyList_SetItem(rdb_nodes, PyList_GET_SIZE(rdb_nodes) - 1, unsealed) < 0)
            goto done;
    }
    if (queued != Py_True) {
        if (PyList_Append(stream_pending, st) < 0)
            goto done;
        Py_INCREF(Py_True);
        slot_set(st, off_s_queued, Py_True);
    }
    if (PyDict_SetItem(s.lru, k, s.lru_clock) < 0 || bump(dirty) < 0)
        goto done;
    char buf[48];
    int len = u64_text(buf, ms);
    buf[len++] = '-';
    len += u64_text(buf + len, seq);
    rc = append_bulk(o, buf, len) < 0 ? -1 : 1;
done:
    for (int i = 0; i < 5; i++)
        Py_XDECREF(ints[i]);
    Py_XDECREF(node);
    Py_XDECREF(sealed);
    Py_XDECREF(rec);
    Py_XDECREF(pairs);
    Py_XDECREF(sid);
    Py_DECREF(k);
    return rc;
}

static PyObject *
xadd_served(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    return PyBool_FromLong(lp_kernel != NULL && xadd_handler != NULL);
}

/* ---- a stream node's decoded copy (server/types/streams.py _decode_py is the reference) ---- */

/* The listpack element at b[pos] (before `end`): an integer (*s NULL, *v its value) or a string
 * (*s, *n); the position after its backlen, or -1 when it overruns `end` or is no encoding. */
static Py_ssize_t
lp_element(const unsigned char *b, Py_ssize_t pos, Py_ssize_t end, long long *v,
           const unsigned char **s, Py_ssize_t *n)
{
    if (pos >= end)
        return -1;
    unsigned enc = b[pos];
    Py_ssize_t size;
    *s = NULL;
    if (enc < 0x80) {
        *v = enc;
        size = 1;
    } else if (enc < 0xC0) {
        *n = enc & 0x3F;
        *s = b + pos + 1;
        size = 1 + *n;
    } else if (enc < 0xE0) {
        if (pos + 2 > end)
            return -1;
        long long x = ((enc & 0x1F) << 8) | b[pos + 1];
        *v = x >= 0x1000 ? x - 0x2000 : x;
        size = 2;
    } else if (enc < 0xF0) {
        if (pos + 2 > end)
            return -1;
        *n = (Py_ssize_t)(((enc & 0x0F) << 8) | b[pos + 1]);
        *s = b + pos + 2;
        size = 2 + *n;
    } else if (enc == 0xF0) {
        if (pos + 5 > end)
            return -1;
        *n = (Py_ssize_t)((size_t)b[pos + 1] | (size_t)b[pos + 2] << 8 | (size_t)b[pos + 3] << 16
                          | (size_t)b[pos + 4] << 24);
        if (*n > end - pos - 5)
            return -1;
        *s = b + pos + 5;
        size = 5 + *n;
    } else if (enc >= 0xF1 && enc <= 0xF4) {
        int width = enc == 0xF1 ? 2 : enc == 0xF2 ? 3 : enc == 0xF3 ? 4 : 8;
        if (pos + 1 + width > end)
            return -1;
        unsigned long long u = 0;
        for (int k = 0; k < width; k++)
            u |= (unsigned long long)b[pos + 1 + k] << (8 * k);
        if (width < 8 && (u >> (8 * width - 1)) & 1)
            u |= ~0ULL << (8 * width);  /* sign-extend */
        *v = (long long)u;
        size = 1 + width;
    } else {
        return -1;
    }
    pos += size + (size <= 127 ? 1 : size < 16383 ? 2 : size < 2097151 ? 3 : size < 268435455 ? 4 : 5);
    return pos > end ? -1 : pos;
}

/* An element as the commands see a value: its string, or an integer's decimal text. */
static PyObject *
lp_text(long long v, const unsigned char *s, Py_ssize_t n)
{
    if (s != NULL)
        return PyBytes_FromStringAndSize((const char *)s, n);
    char buf[24];
    int len = 0;
    if (v < 0) {
        buf[len++] = '-';
        len += u64_text(buf + len, 0ULL - (unsigned long long)v);
    } else {
        len = u64_text(buf, (unsigned long long)v);
    }
    return PyBytes_FromStringAndSize(buf, len);
}

/* stream_decode(buf, start, end, master, fields) -> (ids, vals, dead, at): the entries of a
 * stream node's bytes buf[start:end] (its `rest`, or a sealed listpack's middle: the master
 * entry, then the entries), as _decode_py reads them; ValueError when they are not well formed. */
static PyObject *
stream_decode(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    Py_ssize_t start, end;
    if (nargs != 5 || !PyBytes_CheckExact(args[0]) || !PyTuple_CheckExact(args[3])
        || PyTuple_GET_SIZE(args[3]) != 2 || !PyTuple_CheckExact(args[4])) {
        PyErr_SetString(PyExc_TypeError, "stream_decode(buf: bytes, start, end, master: tuple, fields: tuple)");
        return NULL;
    }
    if ((start = PyLong_AsSsize_t(args[1])) == -1 && PyErr_Occurred())
        return NULL;
    if ((end = PyLong_AsSsize_t(args[2])) == -1 && PyErr_Occurred())
        return NULL;
    unsigned long long ms0 = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(args[3], 0));
    if (ms0 == (unsigned long long)-1 && PyErr_Occurred())
        return NULL;
    unsigned long long seq0 = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(args[3], 1));
    if (seq0 == (unsigned long long)-1 && PyErr_Occurred())
        return NULL;
    const unsigned char *b = (const unsigned char *)PyBytes_AS_STRING(args[0]);
    PyObject *fields = args[4];
    Py_ssize_t nf = PyTuple_GET_SIZE(fields);
    if (start < 0 || end > PyBytes_GET_SIZE(args[0]) || start > end)
        goto bad;
    PyObject *lists[4] = {PyList_New(0), PyList_New(0), PyList_New(0), PyList_New(0)};
    PyObject *out = NULL;
    PyObject *ms_obj = NULL;  /* the last id's ms, shared by the next ids of that millisecond */
    unsigned long long ms_prev = 0;
    if (lists[0] == NULL || lists[1] == NULL || lists[2] == NULL || lists[3] == NULL)
        goto fail;
    long long v;
    const unsigned char *s;
    Py_ssize_t n, pos = start;
    for (Py_ssize_t i = 0; i < nf + 2; i++)  /* the master entry: its field count, fields, the 0 */
        if ((pos = lp_element(b, pos, end, &v, &s, &n)) < 0)
            goto malformed;
    while (pos < end) {
        long long flags, dms, dseq, count;
        PyObject *at = PyLong_FromSsize_t(pos - start);
        if (at == NULL)
            goto fail;
        int rc = PyList_Append(lists[3], at);
        Py_DECREF(at);
        if (rc < 0)
            goto fail;
        if ((pos = lp_element(b, pos, end, &flags, &s, &n)) < 0 || s != NULL
            || (pos = lp_element(b, pos, end, &dms, &s, &n)) < 0 || s != NULL
            || (pos = lp_element(b, pos, end, &dseq, &s, &n)) < 0 || s != NULL)
            goto malformed;
        unsigned long long ms = ms0 + (unsigned long long)dms;
        if (ms_obj == NULL || ms != ms_prev) {
            Py_XDECREF(ms_obj);
            if ((ms_obj = PyLong_FromUnsignedLongLong(ms)) == NULL)
                goto fail;
            ms_prev = ms;
        }
        PyObject *id = PyTuple_New(2), *seq = PyLong_FromUnsignedLongLong(seq0 + (unsigned long long)dseq);
        if (id == NULL || seq == NULL) {
            Py_XDECREF(id);
            Py_XDECREF(seq);
            goto fail;
        }
        Py_INCREF(ms_obj);
        PyTuple_SET_ITEM(id, 0, ms_obj);
        PyTuple_SET_ITEM(id, 1, seq);
        PyObject_GC_UnTrack(id);  /* two ints, as id_tuple's */
        rc = PyList_Append(lists[0], id);
        Py_DECREF(id);
        if (rc < 0)
            goto fail;
        int same = (flags & 2) != 0;
        if (!same && ((pos = lp_element(b, pos, end, &count, &s, &n)) < 0 || s != NULL
                      || count < 0 || count > end - pos))
            goto malformed;
        Py_ssize_t npairs = same ? nf : (Py_ssize_t)count;
        PyObject *pairs = PyTuple_New(2 * npairs);
        if (pairs == NULL)
            goto fail;
        for (Py_ssize_t i = 0; i < 2 * npairs; i++) {
            PyObject *item;
            if (same && i % 2 == 0) {
                item = PyTuple_GET_ITEM(fields, i / 2);
                Py_INCREF(item);
            } else {
                if ((pos = lp_element(b, pos, end, &v, &s, &n)) < 0) {
                    Py_DECREF(pairs);
                    goto malformed;
                }
                if ((item = lp_text(v, s, n)) == NULL) {
                    Py_DECREF(pairs);
                    goto fail;
                }
            }
            PyTuple_SET_ITEM(pairs, i, item);
        }
        PyObject_GC_UnTrack(pairs);  /* bytes only */
        rc = PyList_Append(lists[1], pairs);
        Py_DECREF(pairs);
        if (rc < 0 || PyList_Append(lists[2], flags & 1 ? Py_True : Py_False) < 0)
            goto fail;
        if ((pos = lp_element(b, pos, end, &v, &s, &n)) < 0)  /* the entry's element count */
            goto malformed;
    }
    out = PyTuple_Pack(4, lists[0], lists[1], lists[2], lists[3]);
    goto fail;  /* the lists' own references go either way */
malformed:
    PyErr_SetString(PyExc_ValueError, "malformed stream node");
fail:
    for (int i = 0; i < 4; i++)
        Py_XDECREF(lists[i]);
    Py_XDECREF(ms_obj);
    return out;
bad:
    PyErr_SetString(PyExc_ValueError, "stream node bounds outside the buffer");
    return NULL;
}

/* configure_streams(xadd, Stream, Node, pending, cap, lp_kernel): XADD's handler, the stream
 * classes whose slots fast_xadd writes, streams._pending and its cap, and _rdbload's capsule
 * (None: XADD always takes its handler). */
static PyObject *
configure_streams(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 6 || !PyType_Check(args[1]) || !PyType_Check(args[2]) || !PyList_CheckExact(args[3])) {
        PyErr_SetString(PyExc_TypeError, "configure_streams(xadd, Stream, Node, pending: list, cap, lp_kernel)");
        return NULL;
    }
    Py_ssize_t cap = PyLong_AsSsize_t(args[4]);
    if (cap == -1 && PyErr_Occurred())
        return NULL;
    const LpKernel *kernel = NULL;
    if (args[5] != Py_None) {
        kernel = PyCapsule_GetPointer(args[5], "persistence._rdbload.lp_kernel");
        if (kernel == NULL)
            return NULL;
    }
    struct { PyObject **slot; const char *name; } names[] = {
        {&s_config, "config"}, {&s_values, "values"}, {&s_node_max_bytes, "stream-node-max-bytes"},
        {&s_node_max_entries, "stream-node-max-entries"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (*names[i].slot == NULL && (*names[i].slot = PyUnicode_InternFromString(names[i].name)) == NULL)
            return NULL;
    PyObject *st = args[1], *node = args[2];
    struct { Py_ssize_t *off; PyObject *cls; const char *name; } offs[] = {
        {&off_s_keys, st, "keys"}, {&off_s_nodes, st, "nodes"}, {&off_s_rdb_nodes, st, "rdb_nodes"}, {&off_s_length, st, "length"},
        {&off_s_last_id, st, "last_id"}, {&off_s_first_id, st, "first_id"},
        {&off_s_entries_added, st, "entries_added"}, {&off_s_queued, st, "queued"},
        {&off_n_master, node, "master"}, {&off_n_fields, node, "fields"}, {&off_n_ids, node, "ids"},
        {&off_n_vals, node, "vals"}, {&off_n_dead, node, "dead"}, {&off_n_at, node, "at"},
        {&off_n_count, node, "count"}, {&off_n_deleted, node, "deleted"}, {&off_n_rest, node, "rest"},
        {&off_n_nelems, node, "nelems"}, {&off_n_lp, node, "lp"}, {&off_n_last, node, "last"},
    };
    int found = client_type != NULL && off_clock >= 0;
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++)
        found &= (*offs[i].off = slot_offset(offs[i].cls, offs[i].name)) >= 0;
    off_server = client_type == NULL ? -1 : slot_offset((PyObject *)client_type, "server");
    found &= off_server >= 0;
    lp_kernel = found ? kernel : NULL;  /* not the classes this was written for: the handler */
    stream_pending_cap = cap;
    Py_INCREF(args[0]);
    Py_XSETREF(xadd_handler, args[0]);
    Py_INCREF(st);
    Py_XSETREF(stream_type, (PyTypeObject *)st);
    Py_INCREF(node);
    Py_XSETREF(node_type, (PyTypeObject *)node);
    Py_INCREF(args[3]);
    Py_XSETREF(stream_pending, args[3]);
    Py_CLEAR(cfg_server);
    Py_CLEAR(cfg_values);
    Py_RETURN_NONE;
}

/* The last table entry a batch looked up, for the next command spelled the same (a pipeline
 * mostly repeats one command): a length and memcmp instead of hashing a fresh bytes object.
 * A spelling's entry never changes once in the table, and the cache lives for one batch. */
typedef struct {
    PyObject *name, *entry;  /* strong references, or NULL */
    Py_ssize_t lo, hi;       /* the entry's argument counts */
} Last;

static void
last_clear(Last *last)
{
    Py_CLEAR(last->name);
    Py_CLEAR(last->entry);
}

/* argv[0]'s table entry (borrowed from `last`), NULL without an exception when it has none. */
static PyObject *
lookup(PyObject *name, Last *last)
{
    if (last->name != NULL && PyBytes_CheckExact(name)
        && PyBytes_GET_SIZE(name) == PyBytes_GET_SIZE(last->name)
        && memcmp(PyBytes_AS_STRING(name), PyBytes_AS_STRING(last->name), PyBytes_GET_SIZE(name)) == 0)
        return last->entry;
    PyObject *entry = PyDict_GetItemWithError(by_spelling, name);
    if (entry == NULL)
        return NULL;
    if (!PyTuple_CheckExact(entry) || PyTuple_GET_SIZE(entry) != 5
        || Py_TYPE(PyTuple_GET_ITEM(entry, 4)) != &StatsType) {
        PyErr_SetString(PyExc_TypeError, "bad fast-path table entry");
        return NULL;
    }
    Py_ssize_t lo = PyLong_AsSsize_t(PyTuple_GET_ITEM(entry, 2));
    Py_ssize_t hi = PyLong_AsSsize_t(PyTuple_GET_ITEM(entry, 3));
    if ((lo == -1 || hi == -1) && PyErr_Occurred())
        return NULL;
    Py_INCREF(name);
    Py_INCREF(entry);
    last_clear(last);
    last->name = name;
    last->entry = entry;
    last->lo = lo;
    last->hi = hi;
    return entry;
}

static int
run_one(PyObject *client, PyObject *argv, Out *o, Last *last, PyObject *pre)
{
    if (!PyList_CheckExact(argv) || PyList_GET_SIZE(argv) == 0)
        return slow(client, argv, o);
    PyObject *entry = lookup(PyList_GET_ITEM(argv, 0), last);
    if (entry == NULL) {
        if (PyErr_Occurred())
            return -1;
        return slow(client, argv, o);
    }
    Py_INCREF(entry);
    int rc = -1;
    PyObject *cmd = PyTuple_GET_ITEM(entry, 0), *handler = PyTuple_GET_ITEM(entry, 1);
    Py_ssize_t n = PyList_GET_SIZE(argv);
    int guarded = client_flag(client, off_guarded, s_guarded);
    if (guarded < 0)
        goto done;
    if (guarded || n < last->lo || n > last->hi) {
        rc = slow(client, argv, o);
        goto done;
    }
    if (set_last_command(client, cmd) < 0)
        goto done;
    StatsObject *stats = (StatsObject *)PyTuple_GET_ITEM(entry, 4);
    long long started = now_ns();
    int r = 0;
    if (handler == get_handler && n == 2)
        r = fast_get(client, argv, o, pre);
    else if (handler == set_handler && n == 3)
        r = fast_set(client, argv, o, pre);
    else if (handler == incr_handler && n == 2)
        r = fast_incr(client, argv, o, pre);
    else if (handler == mget_handler)
        r = fast_mget(client, argv, o);
    else if (handler == mset_handler)
        r = fast_mset(client, argv, o);
    else if (handler == setex_handler && n == 4)
        r = fast_setex(client, argv, o);
    else if (handler == pfadd_handler && n >= 3)
        r = fast_pfadd(client, argv, o);
    else if (handler == pfcount_handler && n == 2)
        r = fast_pfcount(client, argv, o);
    else if (handler == xadd_handler && n >= 5)
        r = fast_xadd(client, argv, o);
    if (r != 0) {
        rc = r < 0 ? -1 : account(client, cmd, argv, stats, started, o);
        goto done;
    }
    PyObject *argv_args[2] = {client, argv};
    Py_ssize_t mark = PyList_GET_SIZE(o->list);
    PyObject *reply = PyObject_Vectorcall(handler, argv_args, 2, NULL);
    if (settle(o, mark) < 0) {
        Py_XDECREF(reply);
        goto done;
    }
    if (reply == NULL) {
        if (!PyErr_ExceptionMatches(command_error)) {
            if (!PyErr_ExceptionMatches(PyExc_Exception))
                goto done;  /* KeyboardInterrupt, SystemExit...: not ours to swallow */
            PyObject *type, *exc, *tb;
            PyErr_Fetch(&type, &exc, &tb);
            PyErr_NormalizeException(&type, &exc, &tb);
            if (exc != NULL && tb != NULL)
                PyException_SetTraceback(exc, tb);
            mark = PyList_GET_SIZE(o->list);
            PyObject *err = exc ? PyObject_CallFunctionObjArgs(internal_error, client, argv, exc, NULL)
                                : NULL;
            Py_XDECREF(type);
            Py_XDECREF(exc);
            Py_XDECREF(tb);
            if (settle(o, mark) < 0) {
                Py_XDECREF(err);
                goto done;
            }
            rc = out_item(o, err);
            goto done;
        }
        PyObject *type, *exc, *tb;
        PyErr_Fetch(&type, &exc, &tb);
        PyErr_NormalizeException(&type, &exc, &tb);
        PyObject *message = exc ? PyObject_GetAttr(exc, s_message) : NULL;
        Py_XDECREF(type);
        Py_XDECREF(exc);
        Py_XDECREF(tb);
        if (message == NULL)
            goto done;
        mark = PyList_GET_SIZE(o->list);
        PyObject *err = PyObject_CallFunctionObjArgs(command_failed, client, cmd, message, NULL);
        Py_DECREF(message);
        if (settle(o, mark) < 0) {
            Py_XDECREF(err);
            goto done;
        }
        rc = out_item(o, err);
        if (rc == 0)
            rc = account(client, cmd, argv, stats, started, o);
        goto done;
    }
    rc = encode(client, reply, o);
    Py_DECREF(reply);
    if (rc == 0)
        rc = account(client, cmd, argv, stats, started, o);
    if (rc == 0)
        rc = serve_if_ready(client, o);
done:
    Py_DECREF(entry);
    return rc;
}

/* How many reply bytes a batch collects before it hands back to be written: a pipeline of big
 * replies is written (and flow control consulted) every so often instead of at the very end. */
#define BATCH_OUT_BYTES 65536

/* Pipelined GET, SET and INCR: their keys' cache misses overlapped (see Peek). Before running
 * a window of a batch's commands, the keys of those that look like GET key, SET key value or
 * INCR key are decoded and hashed, and their `data` and `lru` lookups' lines prefetched a stage
 * at a time over all of them (commands found by the fast table, as run_one finds them); each
 * command then runs as ever, handed its key's str so it is not decoded twice. A guess wrong (a
 * SELECT or MULTI within the window) only fetches a line for nothing: what a command does never
 * depends on this pass. */
#define PREP_WINDOW 32
#define PREP_MIN 4  /* fewer such commands in a window: nothing to overlap, no pass */
typedef struct {
    Py_ssize_t start, end;        /* commands[start:end] were looked at */
    PyObject *raw[PREP_WINDOW];   /* commands[start + j]'s key as it came (owned), or NULL */
    PyObject *keys[PREP_WINDOW];  /* and its str (owned), or NULL */
} Prep;

static void
prep_clear(Prep *p)
{
    for (Py_ssize_t j = 0; j < p->end - p->start; j++) {
        Py_CLEAR(p->raw[j]);
        Py_CLEAR(p->keys[j]);
    }
    p->end = p->start;
}

/* The key of argv when it is GET key, SET key value or INCR key as the fast table spells them
 * (renamed commands included), else NULL; borrowed. */
static PyObject *
batched_key(PyObject *argv, Last *last)
{
    if (!PyList_CheckExact(argv))
        return NULL;
    Py_ssize_t argc = PyList_GET_SIZE(argv);
    if (argc != 2 && argc != 3)
        return NULL;
    PyObject *entry = lookup(PyList_GET_ITEM(argv, 0), last), *key = PyList_GET_ITEM(argv, 1);
    if (entry == NULL) {
        PyErr_Clear();  /* a bad entry: the command's own lookup reports it */
        return NULL;
    }
    PyObject *handler = PyTuple_GET_ITEM(entry, 1);
    if (!PyBytes_CheckExact(key)
        || !(argc == 2 ? handler == get_handler || handler == incr_handler : handler == set_handler))
        return NULL;
    return key;
}

static void
prepare(PyObject *client, PyObject *commands, Py_ssize_t from, Prep *p, Last *last)
{
    Py_ssize_t end = PyList_GET_SIZE(commands), count = 0;
    if (end - from > PREP_WINDOW)
        end = from + PREP_WINDOW;
    p->start = from;
    p->end = end;
    Py_ssize_t n = end - from;
    for (Py_ssize_t j = 0; j < n; j++) {
        p->keys[j] = NULL;
        p->raw[j] = batched_key(PyList_GET_ITEM(commands, from + j), last);
        count += p->raw[j] != NULL;
    }
    DbSlots s;
    if (n < PREP_MIN || count < PREP_MIN || !db_slots(client, &s)) {
        for (Py_ssize_t j = 0; j < n; j++)
            p->raw[j] = NULL;
        return;
    }
    PeekDb pk;
    peekdb_init(&pk, &s, s.delta == Py_None);
    Py_hash_t hashes[PREP_WINDOW];
    for (Py_ssize_t j = 0; j < n; j++) {
        hashes[j] = -1;
        if (p->raw[j] == NULL)
            continue;
        p->keys[j] = peekdb_key(&pk, p->raw[j], &hashes[j]);
        if (p->keys[j] == NULL) {
            PyErr_Clear();  /* out of memory: the command decodes (and fails) itself */
            p->raw[j] = NULL;
            continue;
        }
        Py_INCREF(p->raw[j]);
    }
    peekdb_chase(&pk, hashes, n);
}

static PyObject *
run_batch(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (execute == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "server._fastpath.configure() was not called");
        return NULL;
    }
    if (nargs != 4 || !PyList_CheckExact(args[1]) || !PyList_CheckExact(args[2])) {
        PyErr_SetString(PyExc_TypeError, "run_batch(client, commands: list, out: list, start: int)");
        return NULL;
    }
    PyObject *client = args[0], *commands = args[1], *out = args[2];
    Py_ssize_t i = PyLong_AsSsize_t(args[3]);
    if (i == -1 && PyErr_Occurred())
        return NULL;
    Out o;
    out_init(&o, out);
    Last last = {NULL, NULL, 0, 0};
    PyObject *result = NULL;
    Py_ssize_t bytes = 0, seen = PyList_GET_SIZE(out);
    Prep p;
    p.start = p.end = i;
    while (i < PyList_GET_SIZE(commands)) {
        if (i >= p.end) {
            prep_clear(&p);
            prepare(client, commands, i, &p, &last);
        }
        PyObject *argv = PyList_GET_ITEM(commands, i), *pre = NULL;
        Py_ssize_t j = i - p.start;
        if (i < p.end && p.keys[j] != NULL && PyList_CheckExact(argv)
            && PyList_GET_SIZE(argv) >= 2 && PyList_GET_ITEM(argv, 1) == p.raw[j])
            pre = p.keys[j];  /* still the key it was decoded from */
        i++;
        Py_INCREF(argv);
        int rc = run_one(client, argv, &o, &last, pre);
        Py_DECREF(argv);
        if (rc < 0)
            goto fail;
        int closing = client_flag(client, off_closing, s_closing);
        if (closing < 0)
            goto fail;
        if (closing || client_blocked(client))
            break;
        for (; seen < PyList_GET_SIZE(out); seen++) {
            PyObject *piece = PyList_GET_ITEM(out, seen);
            if (PyBytes_Check(piece))
                bytes += PyBytes_GET_SIZE(piece);
        }
        if (bytes + o.len >= BATCH_OUT_BYTES)
            break;
    }
    if (out_flush(&o) == 0)
        result = PyLong_FromSsize_t(i);
fail:
    prep_clear(&p);
    out_free(&o);
    last_clear(&last);
    return result;
}

/* set_serve_ready(fn): what serve_if_ready calls (server/blocking.py's serve_ready). */
static PyObject *
set_serve_ready(PyObject *module, PyObject *fn)
{
    (void)module;
    Py_INCREF(fn);
    Py_XSETREF(serve_ready_fn, fn);
    Py_RETURN_NONE;
}

static PyObject *
configure(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 20 || !PyDict_CheckExact(args[0]) || !PyType_Check(args[6])
        || !PyType_Check(args[11]) || !PyType_Check(args[12]) || !PyBytes_Check(args[13])
        || !PyLong_Check(args[16]) || !PyType_Check(args[17])
        || !PyType_IsSubtype((PyTypeObject *)args[17], &PyList_Type) || !PyType_Check(args[18])
        || !PyType_IsSubtype((PyTypeObject *)args[18], &PyDict_Type)) {
        PyErr_SetString(PyExc_TypeError, "configure(fast_table: dict, execute, encode_reply, "
                                         "encode_error, CommandError, Encoded, Client, "
                                         "internal_error, get_handler, set_handler, "
                                         "incr_handler, Database, Keyspace, ok_reply: bytes, "
                                         "mget_handler, mset_handler, NOTIFY_KEY_MISS: int, "
                                         "SetReply: a list subclass, Map: a dict subclass, "
                                         "setex_handler)");
        return NULL;
    }
    long miss_bit = PyLong_AsLong(args[16]);
    if (miss_bit == -1 && PyErr_Occurred())
        return NULL;
    PyObject **slots[] = {&by_spelling, &execute, &encode_reply, &encode_error, &command_error,
                          &encoded_type};
    for (int i = 0; i < 6; i++) {
        Py_INCREF(args[i]);
        Py_XSETREF(*slots[i], args[i]);
    }
    Py_INCREF(args[6]);
    Py_XSETREF(client_type, (PyTypeObject *)args[6]);
    Py_INCREF(args[7]);
    Py_XSETREF(internal_error, args[7]);
    off_guarded = slot_offset(args[6], "guarded");
    off_closing = slot_offset(args[6], "closing");
    off_last_command = slot_offset(args[6], "last_command");
    off_blocked = slot_offset(args[6], "blocked");
    PyObject **more[] = {&get_handler, &set_handler, &incr_handler, (PyObject **)&database_type,
                         (PyObject **)&keyspace_type, &ok_reply};
    for (int i = 0; i < 6; i++) {
        Py_INCREF(args[8 + i]);
        Py_XSETREF(*more[i], args[8 + i]);
    }
    Py_INCREF(args[14]);
    Py_XSETREF(mget_handler, args[14]);
    Py_INCREF(args[15]);
    Py_XSETREF(mset_handler, args[15]);
    key_miss_bit = miss_bit;
    Py_INCREF(args[17]);
    Py_XSETREF(set_reply_type, args[17]);
    Py_INCREF(args[18]);
    Py_XSETREF(map_type, args[18]);
    Py_INCREF(args[19]);
    Py_XSETREF(setex_handler, args[19]);
    off_db = slot_offset(args[6], "db");
    off_data = slot_offset(args[11], "data");
    off_expires = slot_offset(args[11], "expires");
    off_delta = slot_offset(args[11], "delta");
    off_delta_exp = slot_offset(args[11], "delta_exp");
    off_ks = slot_offset_of(args[11], "ks", (PyTypeObject *)args[12]);
    off_hits = slot_offset(args[12], "hits");
    off_dirty = slot_offset(args[12], "dirty");
    off_plain = slot_offset(args[12], "plain");
    off_ready = slot_offset_of(args[12], "ready", &PyList_Type);
    off_lru = slot_offset(args[11], "lru");
    off_delta_lru = slot_offset(args[11], "delta_lru");
    off_lru_clock = slot_offset(args[12], "lru_clock");
    off_lfu = slot_offset(args[12], "lfu");
    off_misses = slot_offset(args[12], "misses");
    off_events = slot_offset(args[12], "events");
    off_clock = slot_offset(args[12], "clock");
    PyObject *keyspace_module = PyImport_ImportModule("server.keyspace");
    if (keyspace_module == NULL)
        return NULL;
    Py_XSETREF(wall_ms_fn, PyObject_GetAttrString(keyspace_module, "wall_ms"));
    Py_DECREF(keyspace_module);
    if (wall_ms_fn == NULL)
        return NULL;
    off_lru_new = slot_offset(args[12], "lru_new");
    if (off_clock < 0 || off_lru_new < 0)
        Py_CLEAR(setex_handler);
    if (off_db < 0 || off_data < 0 || off_expires < 0 || off_delta < 0 || off_delta_exp < 0
        || off_ks < 0 || off_hits < 0 || off_dirty < 0 || off_plain < 0 || off_lru < 0
        || off_delta_lru < 0 || off_lru_clock < 0 || off_lfu < 0 || off_misses < 0
        || off_events < 0) {
        /* not the classes this was written for: GET, SET, INCR, MGET, MSET take their handlers */
        Py_CLEAR(get_handler);
        Py_CLEAR(set_handler);
        Py_CLEAR(incr_handler);
        Py_CLEAR(mget_handler);
        Py_CLEAR(mset_handler);
        Py_CLEAR(setex_handler);
    }
    Py_RETURN_NONE;
}

/* ---- merging a save overlay back (server/keyspace.py's apply_changes is the reference) ---- */

/* Whether `old` (held only by the dict) can take `value`'s bytes in place: both exact bytes of
 * the same length, and nothing else can see `old` change. */
static int
reusable(PyObject *old, PyObject *value)
{
    return PyBytes_CheckExact(old) && PyBytes_CheckExact(value) && Py_REFCNT(old) == 1
           && PyBytes_GET_SIZE(old) == PyBytes_GET_SIZE(value) && PyBytes_GET_SIZE(old) > 1;
}

/* apply_changes(changes, target, budget, gone) -> applied
 * Pops up to `budget` items off `changes` into `target` (`gone`: delete the key), as the Python
 * reference does, with one difference nobody can observe: a string value overwritten by one of
 * the same length, and referenced by the dict alone, takes the new bytes in place and the new
 * object is freed instead. Why: freeing the old values would leave a free slot in each of their
 * scattered memory pages, and CPython's allocator fills such slots first, so the next save's new
 * values would land one per page in pages the next child shares (a copy-on-write fault per SET).
 * The new objects were allocated side by side during the save, so freeing them leaves whole free
 * pages, which the next save's values fill many to a page. */
static PyObject *
apply_changes(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 4 || !PyDict_CheckExact(args[0]) || !PyDict_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "apply_changes(changes: dict, target: dict, budget, gone)");
        return NULL;
    }
    PyObject *changes = args[0], *target = args[1], *gone = args[3];
    Py_ssize_t budget = PyLong_AsSsize_t(args[2]);
    if (budget == -1 && PyErr_Occurred())
        return NULL;
    Py_ssize_t done = 0;
    while (done < budget && PyDict_GET_SIZE(changes) > 0) {
        PyObject *item = PyObject_CallMethodNoArgs(changes, s_popitem);
        if (item == NULL)
            return NULL;
        PyObject *k = PyTuple_GET_ITEM(item, 0), *value = PyTuple_GET_ITEM(item, 1);
        int rc = 0;
        if (value == gone) {
            if (PyDict_DelItem(target, k) < 0) {
                if (PyErr_ExceptionMatches(PyExc_KeyError))
                    PyErr_Clear();
                else
                    rc = -1;
            }
        } else {
            PyObject *old = PyDict_GetItemWithError(target, k);  /* borrowed */
            if (old == NULL && PyErr_Occurred()) {
                rc = -1;
            } else if (old != NULL && reusable(old, value)) {
                memcpy(PyBytes_AS_STRING(old), PyBytes_AS_STRING(value), PyBytes_GET_SIZE(value));
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
                ((PyBytesObject *)old)->ob_shash = -1;  /* new contents: forget a cached hash */
#pragma GCC diagnostic pop
            } else {
                rc = PyDict_SetItem(target, k, value);
            }
        }
        Py_DECREF(item);
        if (rc < 0)
            return NULL;
        done++;
    }
    return PyLong_FromSsize_t(done);
}

/* random_key(d, seed) -> a key of the dict `d` picked at random, or None when it is empty.
 *
 * RANDOMKEY in O(1) expected, as Redis's dictGetFairRandomKey. PyDict_Next's position is the
 * index in the dict's entry array, which keeps holes where keys were deleted until the next
 * resize: a probe at a uniform random index that lands on a live entry is a uniform pick among
 * the live keys, and a probe that lands on a hole is retried. Only a dict that is mostly holes
 * (many deletes and no insert since) runs out of probes: False is returned then, and the caller
 * compacts the dict (as Redis shrinks a sparse table) or picks the slow way. `seed` (a Python int)
 * drives a splitmix64 sequence, so Python's `random` state decides the picks. No reference count
 * is written but the returned key's. The reference is keyspace.random_dict_key (uniform, O(n)). */
static uint64_t
splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static int
live_at_or_after(PyObject *d, Py_ssize_t pos)
{
    PyObject *k, *v;
    return PyDict_Next(d, &pos, &k, &v);
}

/* The smallest position after every live entry (0 for an empty dict): at least the number of
 * keys, found by doubling and then bisecting with PyDict_Next. */
static Py_ssize_t
entries_end(PyObject *d)
{
    Py_ssize_t n = PyDict_GET_SIZE(d);
    if (n == 0)
        return 0;
    Py_ssize_t lo = n - 1, hi = n;  /* a live entry at or after lo; is there one at or after hi? */
    while (live_at_or_after(d, hi)) {
        lo = hi;
        hi = hi > PY_SSIZE_T_MAX / 2 ? PY_SSIZE_T_MAX : hi * 2;
    }
    while (hi - lo > 1) {
        Py_ssize_t mid = lo + (hi - lo) / 2;
        if (live_at_or_after(d, mid))
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

/* SCAN's walk over a keyspace dict (keyspace.Database.scan says how cursors use these; the
 * reference is keyspace's scan_dict_py & co., exact for a dict without deleted slots).
 *
 * A position is an index in the dict's entry array, PyDict_Next's `pos`: keys keep their
 * position until the dict is resized, new keys go after every position in use, and a resize
 * compacts the array keeping the keys' order. So "the keys after this one" is stable whatever
 * happens, which is what a cursor needs; where "this one" now sits is found again after a resize.
 * Nothing here writes a reference count but those of the keys returned. These (and random_key)
 * accept dict subclasses too: the Hash and SetValue collections of server/types/. */

static PyObject *
dict_end(PyObject *module, PyObject *d)
{
    (void)module;
    if (!PyDict_Check(d)) {
        PyErr_SetString(PyExc_TypeError, "dict_end(d: dict)");
        return NULL;
    }
    return PyLong_FromSsize_t(entries_end(d));
}

/* dict_table(d) -> an int naming the dict's current entry array: it changes when a resize
 * moves the entries (PyDictObject.ma_keys, part of CPython's public, non-limited API). */
static PyObject *
dict_table(PyObject *module, PyObject *d)
{
    (void)module;
    if (!PyDict_Check(d)) {
        PyErr_SetString(PyExc_TypeError, "dict_table(d: dict)");
        return NULL;
    }
    return PyLong_FromVoidPtr((void *)((PyDictObject *)d)->ma_keys);
}

/* scan_dict(d, pos, end, count) -> (next, keys): the keys at positions pos..end-1, stopping
 * after `count` of them; `next` is the position after the last one taken (>= end: done). */
static PyObject *
scan_dict(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 4 || !PyDict_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "scan_dict(d: dict, pos, end, count)");
        return NULL;
    }
    PyObject *d = args[0];
    Py_ssize_t pos = PyLong_AsSsize_t(args[1]), end = PyLong_AsSsize_t(args[2]);
    Py_ssize_t count = PyLong_AsSsize_t(args[3]);
    if (PyErr_Occurred())
        return NULL;
    PyObject *keys = PyList_New(0);
    if (keys == NULL)
        return NULL;
    PyObject *k, *v;
    Py_ssize_t taken = 0, at = pos < 0 ? 0 : pos;
    while (taken < count && at < end) {
        Py_ssize_t next = at;
        if (!PyDict_Next(d, &next, &k, &v) || next > end) {
            at = end;  /* nothing live left before the end */
            break;
        }
        if (PyList_Append(keys, k) < 0) {
            Py_DECREF(keys);
            return NULL;
        }
        at = next;
        taken++;
    }
    return Py_BuildValue("(nN)", at, keys);
}

/* dict_index(d, key, hint) -> the position of the entry whose key is `key` (the same object),
 * or -1. Tries `hint` first (no resize since: O(1)), then walks from the start. */
static PyObject *
dict_index(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 3 || !PyDict_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "dict_index(d: dict, key, hint)");
        return NULL;
    }
    PyObject *d = args[0], *key = args[1], *k, *v;
    Py_ssize_t hint = PyLong_AsSsize_t(args[2]);
    if (hint == -1 && PyErr_Occurred())
        return NULL;
    Py_ssize_t pos = hint;
    if (hint >= 0 && PyDict_Next(d, &pos, &k, &v) && pos == hint + 1 && k == key)
        return PyLong_FromSsize_t(hint);
    pos = 0;
    while (PyDict_Next(d, &pos, &k, &v)) {
        if (k == key)
            return PyLong_FromSsize_t(pos - 1);
    }
    return PyLong_FromLong(-1);
}

/* dict_keys_bytes(d) -> every key of `d` (str, the latin-1 form keyspace.py keeps) as bytes, in
 * dict order. For KEYS: the keys' bytes are copied straight out of the str objects, so during a
 * save no key's reference count is written (a Python loop over the dict writes every one, a
 * copy-on-write fault per key page). The reference is Database.keys's list comprehension. */
static PyObject *
dict_keys_bytes(PyObject *module, PyObject *d)
{
    (void)module;
    if (!PyDict_CheckExact(d)) {
        PyErr_SetString(PyExc_TypeError, "dict_keys_bytes(d: dict)");
        return NULL;
    }
    PyObject *out = PyList_New(PyDict_GET_SIZE(d));
    if (out == NULL)
        return NULL;
    Py_ssize_t pos = 0, i = 0;
    PyObject *k, *v;
    while (PyDict_Next(d, &pos, &k, &v) && i < PyList_GET_SIZE(out)) {
        PyObject *b;
        if (PyUnicode_Check(k) && PyUnicode_KIND(k) == PyUnicode_1BYTE_KIND)
            b = PyBytes_FromStringAndSize((const char *)PyUnicode_1BYTE_DATA(k), PyUnicode_GET_LENGTH(k));
        else
            b = PyUnicode_AsLatin1String(k);
        if (b == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, i++, b);
    }
    return out;
}

static PyObject *
random_key(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 2 || !PyDict_Check(args[0]) || !PyLong_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "random_key(d: dict, seed: int)");
        return NULL;
    }
    PyObject *d = args[0];
    Py_ssize_t n = PyDict_GET_SIZE(d);
    if (n == 0)
        Py_RETURN_NONE;
    uint64_t state = (uint64_t)PyLong_AsUnsignedLongLongMask(args[1]);
    if (PyErr_Occurred())
        return NULL;
    Py_ssize_t end = entries_end(d);
    PyObject *k, *v;
    for (int probe = 0; probe < 64; probe++) {
        Py_ssize_t at = (Py_ssize_t)(splitmix64(&state) % (uint64_t)end), pos = at;
        if (PyDict_Next(d, &pos, &k, &v) && pos == at + 1) {
            Py_INCREF(k);  /* a live entry at the index drawn: a uniform pick */
            return k;
        }
    }
    Py_RETURN_FALSE;
}

/* fields_found() -> whether configure found every field read by offset: those GET, SET, INCR,
 * MGET and MSET read (else they take their handlers) and Keyspace.ready (else blocked clients are not served
 * from here). A test checks it for both the plain and the compiled classes. */
static PyObject *
fields_found(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    return PyBool_FromLong(get_handler != NULL && set_handler != NULL && incr_handler != NULL
                           && mget_handler != NULL && mset_handler != NULL && setex_handler != NULL
                           && off_ready >= 0 && off_guarded >= 0 && off_closing >= 0
                           && off_last_command >= 0 && off_blocked >= 0);
}

/* ---- redis.call's GET, SET and INCR (server/scripting.py's Engine._command) ---- */

/* script_call(client, cmd, argv[, handler, stats]): the reply of GET key / SET key value / INCR key run for a
 * script's client, as the command's handler would return it (bytes or None, the OK constant,
 * an int), when this module's kernels can do it (the same conditions as for a client: a
 * client without guards, so no MONITOR, tracking or MULTI; see plain_write for the writes);
 * else NotImplemented, and dispatch.call does it. Counts the call in the command's stats (and
 * the slow log) and sets the client's last command, as dispatch.call does; the caller counts
 * it in the server's total. Nothing here replies on the wire. `handler` and `stats`, when given,
 * are the command's own (cmd.handler, cmd.stats, which the caller keeps): not read again. */
static PyObject *
script_call(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 3 && nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "script_call(client, cmd, argv[, handler, stats])");
        return NULL;
    }
    PyObject *client = args[0], *cmd = args[1], *argv = args[2];
    if (get_handler == NULL || !PyList_CheckExact(argv) || Py_TYPE(client) != client_type)
        Py_RETURN_NOTIMPLEMENTED;
    Py_ssize_t n = PyList_GET_SIZE(argv);
    if (n < 2 || n > 3 || !PyBytes_CheckExact(PyList_GET_ITEM(argv, 1)))
        Py_RETURN_NOTIMPLEMENTED;
    int guarded = client_flag(client, off_guarded, s_guarded);
    if (guarded != 0)
        return guarded < 0 ? NULL : Py_NewRef(Py_NotImplemented);
    static PyObject *s_handler, *s_stats;
    if (s_handler == NULL && ((s_handler = PyUnicode_InternFromString("handler")) == NULL
                              || (s_stats = PyUnicode_InternFromString("stats")) == NULL))
        return NULL;
    PyObject *handler = nargs == 5 ? Py_NewRef(args[3]) : PyObject_GetAttr(cmd, s_handler);
    if (handler == NULL)
        return NULL;
    Py_DECREF(handler);  /* the command keeps it: compared by identity only */
    int kind = handler == get_handler && n == 2 ? 1 : handler == set_handler && n == 3 ? 2
               : handler == incr_handler && n == 2 ? 3 : 0;
    if (kind == 0)
        Py_RETURN_NOTIMPLEMENTED;
    PyObject *stats = nargs == 5 ? Py_NewRef(args[4]) : PyObject_GetAttr(cmd, s_stats);
    if (stats == NULL)
        return NULL;
    PyObject *result = NULL, *k = NULL, *key = PyList_GET_ITEM(argv, 1);
    DbSlots s;
    PyObject **dirty;
    if (Py_TYPE(stats) != &StatsType)
        goto pass;
    long long started = now_ns();
    if (kind == 1) {  /* GET: as fast_get */
        if (!db_slots(client, &s))
            goto pass;
        PyObject **hits = (PyObject **)((char *)s.ks + off_hits), **misses, *value = NULL;
        if (*hits == NULL || !PyLong_CheckExact(*hits))
            goto pass;
        if ((k = PyUnicode_DecodeLatin1(PyBytes_AS_STRING(key), PyBytes_GET_SIZE(key), NULL)) == NULL)
            goto fail;
        long long now = -1;
        int rc = read_value(&s, k, &value, 1, &now);
        if (rc < 0)
            goto fail;
        if (rc == 0)
            goto pass;
        if (value == NULL) {
            if ((misses = quiet_misses(&s)) == NULL)
                goto pass;  /* a keymiss notification to send */
            if (bump(misses) < 0)
                goto fail;
            result = Py_NewRef(Py_None);
        } else {
            if (PyLong_CheckExact(value)) {  /* a counter: its decimal text, as the handler's b"%d" */
                int overflow = 0;
                long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
                if (overflow || (v == -1 && PyErr_Occurred())) {
                    PyErr_Clear();
                    goto pass;
                }
                char digits[24];
                int len = resp_line(digits, ':', v) - 3;  /* ':' and "\r\n" off */
                result = PyBytes_FromStringAndSize(digits + 1, len);
            } else {
                result = Py_NewRef(value);
            }
            if (result == NULL || bump(hits) < 0)
                goto fail;
            if (s.delta == Py_None && PyDict_SetItem(s.lru, k, s.lru_clock) < 0)
                goto fail;
        }
    } else {  /* SET or INCR: as fast_set / fast_incr */
        if (!plain_write(client, key, &s, &dirty))
            goto pass;
        if ((k = PyUnicode_DecodeLatin1(PyBytes_AS_STRING(key), PyBytes_GET_SIZE(key), NULL)) == NULL)
            goto fail;
        long long now = -1;
        int rc = deadline_state(&s, k, &now);
        if (rc < 0)
            goto fail;
        if (rc == TTL_HANDLER)
            goto pass;  /* a passed TTL: the handler expires the key first */
        if (kind == 2) {
            PyObject *value = PyList_GET_ITEM(argv, 2);
            if (!PyBytes_CheckExact(value))
                goto pass;
            if (store(&s, dirty, k, value) < 0 || (rc == TTL_LIVE && drop_deadline(&s, k) < 0))
                goto fail;
            result = Py_NewRef(ok_reply);
        } else {
            PyObject *value = NULL;  /* borrowed */
            if (s.delta != Py_None && PyDict_GET_SIZE(s.delta) > 0)
                value = PyDict_GetItemWithError(s.delta, k);
            if (value == NULL && !PyErr_Occurred())
                value = PyDict_GetItemWithError(s.data, k);
            if (value == NULL && PyErr_Occurred())
                goto fail;
            long long v = 0;
            if (value != NULL) {
                if (!PyLong_CheckExact(value))
                    goto pass;
                int overflow = 0;
                v = PyLong_AsLongLongAndOverflow(value, &overflow);
                if (overflow || (v == -1 && PyErr_Occurred()) || v == LLONG_MAX) {
                    PyErr_Clear();
                    goto pass;
                }
            }
            if ((result = PyLong_FromLongLong(v + 1)) == NULL || store(&s, dirty, k, result) < 0)
                goto fail;
        }
    }
    /* done here: counted as dispatch.call counts it (the command's stats, the slow log) */
    if (set_last_command(client, cmd) < 0)
        goto fail;
    long long ns = now_ns() - started;
    stats_add((StatsObject *)stats, ns);
    if (slowlog_threshold >= 0 && ns / 1000 >= slowlog_threshold && after_slow != NULL) {
        PyObject *usec = PyLong_FromLongLong(ns / 1000);
        PyObject *r = usec ? PyObject_CallFunctionObjArgs(after_slow, client, cmd, argv, usec, NULL) : NULL;
        Py_XDECREF(usec);
        if (r == NULL)
            goto fail;
        Py_DECREF(r);
    }
    Py_XDECREF(k);
    Py_DECREF(stats);
    return result;
pass:
    Py_XDECREF(k);
    Py_DECREF(stats);
    Py_RETURN_NOTIMPLEMENTED;
fail:
    Py_XDECREF(result);
    Py_XDECREF(k);
    Py_DECREF(stats);
    return NULL;
}

static PyMethodDef methods[] = {
    {"configure_hll", (PyCFunction)(void (*)(void))configure_hll, METH_FASTCALL,
     "configure_hll(pfadd, pfcount, kernels): PFADD/PFCOUNT's handlers and server._hll or None"},
    {"configure_streams", (PyCFunction)(void (*)(void))configure_streams, METH_FASTCALL,
     "configure_streams(xadd, Stream, Node, pending, cap, lp_kernel): XADD's handler, the stream "
     "classes, streams._pending and its cap, and persistence._rdbload.lp_kernel or None"},
    {"stream_decode", (PyCFunction)(void (*)(void))stream_decode, METH_FASTCALL,
     "stream_decode(buf, start, end, master, fields) -> (ids, vals, dead, at): a stream node's "
     "decoded copy (server/types/streams.py _decode_py is the reference)"},
    {"xadd_served", (PyCFunction)xadd_served, METH_NOARGS,
     "xadd_served() -> whether XADD's common form is done in C (configure_streams found it all)"},
    {"fields_found", (PyCFunction)fields_found, METH_NOARGS,
     "fields_found() -> whether configure found every field of Client/Database/Keyspace it reads"},
    {"apply_changes", (PyCFunction)(void (*)(void))apply_changes, METH_FASTCALL,
     "apply_changes(changes, target, budget, gone) -> applied: merge a save overlay back"},
    {"random_key", (PyCFunction)(void (*)(void))random_key, METH_FASTCALL,
     "random_key(d, seed) -> a random key of d (O(1) expected), None if empty, False if too sparse"},
    {"dict_keys_bytes", (PyCFunction)dict_keys_bytes, METH_O, "dict_keys_bytes(d) -> every key as bytes"},
    {"dict_end", (PyCFunction)dict_end, METH_O, "dict_end(d) -> the position after the last live entry"},
    {"dict_table", (PyCFunction)dict_table, METH_O, "dict_table(d) -> an id of the dict's entry array"},
    {"scan_dict", (PyCFunction)(void (*)(void))scan_dict, METH_FASTCALL,
     "scan_dict(d, pos, end, count) -> (next, keys): up to count keys at positions pos..end-1"},
    {"dict_index", (PyCFunction)(void (*)(void))dict_index, METH_FASTCALL,
     "dict_index(d, key, hint) -> the position of the entry holding this very key object, or -1"},
    {"run_batch", (PyCFunction)(void (*)(void))run_batch, METH_FASTCALL,
     "run_batch(client, commands, out, start) -> next: run commands from start, replies appended to out"},
    {"set_accounting", (PyCFunction)(void (*)(void))set_accounting, METH_FASTCALL,
     "set_accounting(threshold, slow_command, command_failed): slow log threshold and hooks"},
    {"set_serve_ready", (PyCFunction)set_serve_ready, METH_O,
     "set_serve_ready(fn): called with the keyspace after a command that made blocked keys ready"},
    {"configure", (PyCFunction)(void (*)(void))configure, METH_FASTCALL,
     "configure(fast_table, execute, encode_reply, encode_error, CommandError, Encoded, Client, "
     "internal_error, get_handler, set_handler, incr_handler, Database, Keyspace, ok_reply, "
     "mget_handler, mset_handler, NOTIFY_KEY_MISS, SetReply, Map)"},
    {"script_call", (PyCFunction)(void (*)(void))script_call, METH_FASTCALL,
     "script_call(client, cmd, argv) -> a script's GET/SET/INCR reply, or NotImplemented"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "server._fastpath",
    .m_doc = "Dispatch's per-command loop in C, and merging a save overlay back.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC
PyInit__fastpath(void)
{
    struct { PyObject **slot; const char *name; } names[] = {
        {&s_guarded, "guarded"}, {&s_closing, "closing"}, {&s_last_command, "last_command"},
        {&s_proto, "proto"}, {&s_message, "message"}, {&s_popitem, "popitem"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        *names[i].slot = PyUnicode_InternFromString(names[i].name);
        if (*names[i].slot == NULL)
            return NULL;
    }
    int_one = PyLong_FromLong(1);
    if (int_one == NULL)
        return NULL;
    if (PyType_Ready(&StatsType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&StatsType);
    if (PyModule_AddObject(m, "CommandStats", (PyObject *)&StatsType) < 0) {
        Py_DECREF(&StatsType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
