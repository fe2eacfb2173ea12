/* The ordered index of a big sorted set (server/zindex.py's ZIndex) in C: a skiplist with spans,
 * the idea of Redis's zskiplist (t_zset.c), so that insert, remove, rank, the rank of a score and
 * the entry at a rank cost O(log n) with a double comparison and a memcmp per step instead of
 * Python tuple comparisons. server/zindex.py holds the pure-Python reference of the same API
 * (PyZIndex, over sortedcontainers.SortedList); tests/server/test_zindex.py drives both with the
 * same operations and compares every result. No keyspace, no dict: the caller keeps the member ->
 * score dict beside it and in step.
 *
 * Order: score (a C double; -0.0 == 0.0, NaN never enters), then member bytes as Redis's sdscmp
 * (memcmp over the shorter length, then the shorter first) - the order of Python's bytes.
 *
 * Members are held as new references to exact bytes objects (normally the very objects the dict
 * holds as keys; a bytes subclass is copied to a plain bytes). Exact bytes reference nothing, so
 * an index can never be part of a reference cycle: the type does not take part in the cyclic GC.
 * The snapshot walker never reads the index (it serialises the dict). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#define MAXLEVEL 32

typedef struct znode {
    PyObject *member;  /* exact bytes, owned; NULL in the header */
    double score;
    struct znode *backward;
    struct zlevel {
        struct znode *forward;
        Py_ssize_t span;
    } level[];
} znode;

typedef struct {
    PyObject_HEAD
    znode *header;
    znode *tail;
    Py_ssize_t length;
    int level;
    uint64_t rng;
} ZIndex;

static znode *node_new(int level, double score, PyObject *member) {
    znode *x = PyMem_Malloc(sizeof(znode) + (size_t)level * sizeof(struct zlevel));
    if (x == NULL) return NULL;
    x->member = member;
    x->score = score;
    x->backward = NULL;
    for (int i = 0; i < level; i++) {
        x->level[i].forward = NULL;
        x->level[i].span = 0;
    }
    return x;
}

/* Redis's zslRandomLevel: each further level with probability 1/4. */
static int random_level(ZIndex *self) {
    int level = 1;
    for (;;) {
        uint64_t x = self->rng;  /* xorshift64 */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self->rng = x;
        if ((x & 3) != 0 || level >= MAXLEVEL) break;
        level++;
    }
    return level;
}

/* sdscmp: <0, 0, >0 as the node's member compares to (p, n). */
static inline int member_cmp(PyObject *member, const char *p, Py_ssize_t n) {
    Py_ssize_t mn = PyBytes_GET_SIZE(member);
    int c = memcmp(PyBytes_AS_STRING(member), p, (size_t)(mn < n ? mn : n));
    if (c != 0) return c;
    return mn < n ? -1 : (mn > n ? 1 : 0);
}

/* x < (score, p) */
static inline int node_lt(znode *x, double score, const char *p, Py_ssize_t n) {
    return x->score < score || (x->score == score && member_cmp(x->member, p, n) < 0);
}

/* x <= (score, p) */
static inline int node_le(znode *x, double score, const char *p, Py_ssize_t n) {
    return x->score < score || (x->score == score && member_cmp(x->member, p, n) <= 0);
}

/* -- argument helpers -------------------------------------------------------------------------- */

static int get_score(PyObject *o, double *out) {
    if (PyFloat_CheckExact(o)) {
        *out = PyFloat_AS_DOUBLE(o);
        return 0;
    }
    double d = PyFloat_AsDouble(o);
    if (d == -1.0 && PyErr_Occurred()) return -1;
    *out = d;
    return 0;
}

static int get_member(PyObject *o, const char **p, Py_ssize_t *n) {
    if (!PyBytes_Check(o)) {
        PyErr_Format(PyExc_TypeError, "a member must be bytes, not %.100s", Py_TYPE(o)->tp_name);
        return -1;
    }
    *p = PyBytes_AS_STRING(o);
    *n = PyBytes_GET_SIZE(o);
    return 0;
}

static Py_ssize_t get_index(PyObject *o) {
    Py_ssize_t i = PyNumber_AsSsize_t(o, PyExc_IndexError);
    return i;
}

static PyObject *pair_of(znode *x) {
    PyObject *score = PyFloat_FromDouble(x->score);
    if (score == NULL) return NULL;
    PyObject *t = PyTuple_New(2);
    if (t == NULL) {
        Py_DECREF(score);
        return NULL;
    }
    PyTuple_SET_ITEM(t, 0, score);
    Py_INCREF(x->member);
    PyTuple_SET_ITEM(t, 1, x->member);
    return t;
}

/* -- the skiplist ------------------------------------------------------------------------------ */

/* zslInsert: `member` is an owned reference the node takes. The caller ensures it is absent. */
static int zsl_insert(ZIndex *self, double score, PyObject *member) {
    znode *update[MAXLEVEL], *x = self->header;
    Py_ssize_t rank[MAXLEVEL];
    const char *p = PyBytes_AS_STRING(member);
    Py_ssize_t n = PyBytes_GET_SIZE(member);
    for (int i = self->level - 1; i >= 0; i--) {
        rank[i] = i == self->level - 1 ? 0 : rank[i + 1];
        while (x->level[i].forward && node_lt(x->level[i].forward, score, p, n)) {
            rank[i] += x->level[i].span;
            x = x->level[i].forward;
        }
        update[i] = x;
    }
    int level = random_level(self);
    if (level > self->level) {
        for (int i = self->level; i < level; i++) {
            rank[i] = 0;
            update[i] = self->header;
            update[i]->level[i].span = self->length;
        }
        self->level = level;
    }
    x = node_new(level, score, member);
    if (x == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (int i = 0; i < level; i++) {
        x->level[i].forward = update[i]->level[i].forward;
        update[i]->level[i].forward = x;
        x->level[i].span = update[i]->level[i].span - (rank[0] - rank[i]);
        update[i]->level[i].span = (rank[0] - rank[i]) + 1;
    }
    for (int i = level; i < self->level; i++) update[i]->level[i].span++;
    x->backward = update[0] == self->header ? NULL : update[0];
    if (x->level[0].forward)
        x->level[0].forward->backward = x;
    else
        self->tail = x;
    self->length++;
    return 0;
}

/* zslDeleteNode: unlinks x (update[] are its predecessors on every level); does not free it. */
static void zsl_unlink(ZIndex *self, znode *x, znode **update) {
    for (int i = 0; i < self->level; i++) {
        if (update[i]->level[i].forward == x) {
            update[i]->level[i].span += x->level[i].span - 1;
            update[i]->level[i].forward = x->level[i].forward;
        } else {
            update[i]->level[i].span -= 1;
        }
    }
    if (x->level[0].forward)
        x->level[0].forward->backward = x->backward;
    else
        self->tail = x->backward;
    while (self->level > 1 && self->header->level[self->level - 1].forward == NULL) self->level--;
    self->length--;
}

/* The predecessors of the node at 0-based rank `r` on every level; returns that node. */
static znode *zsl_find_rank(ZIndex *self, Py_ssize_t r, znode **update) {
    znode *x = self->header;
    Py_ssize_t traversed = 0;
    for (int i = self->level - 1; i >= 0; i--) {
        while (x->level[i].forward && traversed + x->level[i].span <= r) {
            traversed += x->level[i].span;
            x = x->level[i].forward;
        }
        update[i] = x;
    }
    return x->level[0].forward;
}

/* The node at 0-based rank r (0 <= r < length). */
static znode *zsl_at(ZIndex *self, Py_ssize_t r) {
    znode *x = self->header;
    Py_ssize_t traversed = 0, want = r + 1;
    for (int i = self->level - 1; i >= 0; i--) {
        while (x->level[i].forward && traversed + x->level[i].span <= want) {
            traversed += x->level[i].span;
            x = x->level[i].forward;
        }
        if (traversed == want) return x;
    }
    return NULL;
}

/* -- the type ---------------------------------------------------------------------------------- */

static PyObject *ZIndex_insert_pair(ZIndex *self, PyObject *score_obj, PyObject *member) {
    double score;
    if (get_score(score_obj, &score) < 0) return NULL;
    if (!PyBytes_Check(member)) {
        PyErr_Format(PyExc_TypeError, "a member must be bytes, not %.100s", Py_TYPE(member)->tp_name);
        return NULL;
    }
    if (PyBytes_CheckExact(member)) {
        Py_INCREF(member);
    } else {  /* a subclass could reference anything: hold a plain copy */
        member = PyBytes_FromStringAndSize(PyBytes_AS_STRING(member), PyBytes_GET_SIZE(member));
        if (member == NULL) return NULL;
    }
    if (zsl_insert(self, score, member) < 0) {
        Py_DECREF(member);
        return NULL;
    }
    Py_RETURN_NONE;
}

static int ZIndex_init(ZIndex *self, PyObject *args, PyObject *kwds) {
    PyObject *pairs = NULL;
    static char *kwlist[] = {"pairs", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:ZIndex", kwlist, &pairs)) return -1;
    if (self->length) {
        PyErr_SetString(PyExc_RuntimeError, "ZIndex already initialised");
        return -1;
    }
    if (pairs == NULL) return 0;
    PyObject *it = PyObject_GetIter(pairs), *item;
    if (it == NULL) return -1;
    while ((item = PyIter_Next(it)) != NULL) {
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
            Py_DECREF(item);
            Py_DECREF(it);
            PyErr_SetString(PyExc_TypeError, "ZIndex takes (score, member) pairs");
            return -1;
        }
        PyObject *r = ZIndex_insert_pair(self, PyTuple_GET_ITEM(item, 0), PyTuple_GET_ITEM(item, 1));
        Py_DECREF(item);
        if (r == NULL) {
            Py_DECREF(it);
            return -1;
        }
        Py_DECREF(r);
    }
    Py_DECREF(it);
    return PyErr_Occurred() ? -1 : 0;
}

static PyObject *ZIndex_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    (void)args;
    (void)kwds;
    ZIndex *self = (ZIndex *)type->tp_alloc(type, 0);
    if (self == NULL) return NULL;
    self->header = node_new(MAXLEVEL, 0.0, NULL);
    if (self->header == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    self->tail = NULL;
    self->length = 0;
    self->level = 1;
    self->rng = 0x9E3779B97F4A7C15ULL ^ (uint64_t)(uintptr_t)self;
    if (self->rng == 0) self->rng = 1;
    return (PyObject *)self;
}

static void ZIndex_dealloc(ZIndex *self) {
    if (self->header != NULL) {
        znode *x = self->header->level[0].forward;
        while (x != NULL) {
            znode *next = x->level[0].forward;
            Py_XDECREF(x->member);
            PyMem_Free(x);
            x = next;
        }
        PyMem_Free(self->header);
        self->header = NULL;
    }
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static Py_ssize_t ZIndex_len(ZIndex *self) { return self->length; }

static PyObject *ZIndex_insert(ZIndex *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "insert(score, member)");
        return NULL;
    }
    return ZIndex_insert_pair(self, args[0], args[1]);
}

static PyObject *ZIndex_remove(ZIndex *self, PyObject *const *args, Py_ssize_t nargs) {
    double score;
    const char *p;
    Py_ssize_t n;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "remove(score, member)");
        return NULL;
    }
    if (get_score(args[0], &score) < 0 || get_member(args[1], &p, &n) < 0) return NULL;
    znode *update[MAXLEVEL], *x = self->header;
    for (int i = self->level - 1; i >= 0; i--) {
        while (x->level[i].forward && node_lt(x->level[i].forward, score, p, n)) x = x->level[i].forward;
        update[i] = x;
    }
    x = x->level[0].forward;
    if (x == NULL || x->score != score || member_cmp(x->member, p, n) != 0) {
        PyErr_SetString(PyExc_ValueError, "(score, member) is not in the index");
        return NULL;
    }
    zsl_unlink(self, x, update);
    Py_DECREF(x->member);
    PyMem_Free(x);
    Py_RETURN_NONE;
}

/* How many entries are below (score, member): rank() is bisect_left, rank_after() bisect_right. */
static PyObject *count_pairs(ZIndex *self, PyObject *const *args, Py_ssize_t nargs, int inclusive) {
    double score;
    const char *p;
    Py_ssize_t n;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "expects (score, member)");
        return NULL;
    }
    if (get_score(args[0], &score) < 0 || get_member(args[1], &p, &n) < 0) return NULL;
    znode *x = self->header;
    Py_ssize_t rank = 0;
    for (int i = self->level - 1; i >= 0; i--) {
        if (inclusive) {
            while (x->level[i].forward && node_le(x->level[i].forward, score, p, n)) {
                rank += x->level[i].span;
                x = x->level[i].forward;
            }
        } else {
            while (x->level[i].forward && node_lt(x->level[i].forward, score, p, n)) {
                rank += x->level[i].span;
                x = x->level[i].forward;
            }
        }
    }
    return PyLong_FromSsize_t(rank);
}

static PyObject *ZIndex_rank(ZIndex *self, PyObject *const *args, Py_ssize_t nargs) {
    return count_pairs(self, args, nargs, 0);
}

static PyObject *ZIndex_rank_after(ZIndex *self, PyObject *const *args, Py_ssize_t nargs) {
    return count_pairs(self, args, nargs, 1);
}

/* How many entries score below `score` (ge) or at most `score` (gt): the rank where a range
 * starting there begins. */
static PyObject *count_scores(ZIndex *self, PyObject *arg, int inclusive) {
    double score;
    if (get_score(arg, &score) < 0) return NULL;
    znode *x = self->header;
    Py_ssize_t rank = 0;
    for (int i = self->level - 1; i >= 0; i--) {
        znode *f;
        while ((f = x->level[i].forward) != NULL && (f->score < score || (inclusive && f->score == score))) {
            rank += x->level[i].span;
            x = f;
        }
    }
    return PyLong_FromSsize_t(rank);
}

static PyObject *ZIndex_first_rank_ge(ZIndex *self, PyObject *arg) { return count_scores(self, arg, 0); }

static PyObject *ZIndex_first_rank_gt(ZIndex *self, PyObject *arg) { return count_scores(self, arg, 1); }

static PyObject *ZIndex_at(ZIndex *self, PyObject *arg) {
    Py_ssize_t i = get_index(arg);
    if (i == -1 && PyErr_Occurred()) return NULL;
    if (i < 0) i += self->length;
    if (i < 0 || i >= self->length) {
        PyErr_SetString(PyExc_IndexError, "ZIndex rank out of range");
        return NULL;
    }
    return pair_of(zsl_at(self, i));
}

static void clamp(ZIndex *self, Py_ssize_t *start, Py_ssize_t *stop) {
    if (*start < 0) *start = 0;
    if (*stop > self->length) *stop = self->length;
}

static PyObject *ZIndex_slice(ZIndex *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 2 || nargs > 3) {
        PyErr_SetString(PyExc_TypeError, "slice(start, stop, reverse=False)");
        return NULL;
    }
    Py_ssize_t start = get_index(args[0]), stop;
    if (start == -1 && PyErr_Occurred()) return NULL;
    stop = get_index(args[1]);
    if (stop == -1 && PyErr_Occurred()) return NULL;
    int reverse = 0;
    if (nargs == 3 && (reverse = PyObject_IsTrue(args[2])) < 0) return NULL;
    clamp(self, &start, &stop);
    if (start >= stop) return PyList_New(0);
    Py_ssize_t count = stop - start;
    PyObject *out = PyList_New(count);
    if (out == NULL) return NULL;
    znode *x = zsl_at(self, reverse ? stop - 1 : start);
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *pair = pair_of(x);
        if (pair == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, k, pair);
        x = reverse ? x->backward : x->level[0].forward;
    }
    return out;
}

static PyObject *ZIndex_pop_at(ZIndex *self, Py_ssize_t r) {
    znode *update[MAXLEVEL];
    if (self->length == 0) {
        PyErr_SetString(PyExc_IndexError, "pop from an empty ZIndex");
        return NULL;
    }
    znode *x;
    if (r == 0) {
        for (int i = 0; i < self->level; i++) update[i] = self->header;
        x = self->header->level[0].forward;
    } else {
        x = zsl_find_rank(self, r, update);
    }
    PyObject *pair = pair_of(x);
    if (pair == NULL) return NULL;
    zsl_unlink(self, x, update);
    Py_DECREF(x->member);
    PyMem_Free(x);
    return pair;
}

static PyObject *ZIndex_pop_first(ZIndex *self, PyObject *unused) {
    (void)unused;
    return ZIndex_pop_at(self, 0);
}

static PyObject *ZIndex_pop_last(ZIndex *self, PyObject *unused) {
    (void)unused;
    return ZIndex_pop_at(self, self->length - 1);
}

/* zslDeleteRangeByRank over 0-based [start, stop): the removed pairs in order. */
static PyObject *ZIndex_delete_range(ZIndex *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "delete_range(start, stop)");
        return NULL;
    }
    Py_ssize_t start = get_index(args[0]), stop;
    if (start == -1 && PyErr_Occurred()) return NULL;
    stop = get_index(args[1]);
    if (stop == -1 && PyErr_Occurred()) return NULL;
    clamp(self, &start, &stop);
    if (start >= stop) return PyList_New(0);
    Py_ssize_t count = stop - start;
    PyObject *out = PyList_New(count);
    if (out == NULL) return NULL;
    /* The pairs first (allocation may fail), then the unlinking (it cannot). */
    znode *update[MAXLEVEL];
    znode *x = zsl_find_rank(self, start, update), *y = x;
    for (Py_ssize_t k = 0; k < count; k++, y = y->level[0].forward) {
        PyObject *pair = pair_of(y);
        if (pair == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, k, pair);
    }
    for (Py_ssize_t k = 0; k < count; k++) {
        znode *next = x->level[0].forward;
        zsl_unlink(self, x, update);
        Py_DECREF(x->member);
        PyMem_Free(x);
        x = next;
    }
    return out;
}

static PyMethodDef ZIndex_methods[] = {
    {"insert", (PyCFunction)(void (*)(void))ZIndex_insert, METH_FASTCALL,
     "insert(score, member): add an entry (the caller ensures the member is not in the index)"},
    {"remove", (PyCFunction)(void (*)(void))ZIndex_remove, METH_FASTCALL,
     "remove(score, member): remove that entry; ValueError if it is not there"},
    {"rank", (PyCFunction)(void (*)(void))ZIndex_rank, METH_FASTCALL,
     "rank(score, member): how many entries order before (score, member)"},
    {"rank_after", (PyCFunction)(void (*)(void))ZIndex_rank_after, METH_FASTCALL,
     "rank_after(score, member): how many entries order before or at (score, member)"},
    {"first_rank_ge", (PyCFunction)ZIndex_first_rank_ge, METH_O,
     "first_rank_ge(score): how many entries have a score below `score`"},
    {"first_rank_gt", (PyCFunction)ZIndex_first_rank_gt, METH_O,
     "first_rank_gt(score): how many entries have a score at most `score`"},
    {"at", (PyCFunction)ZIndex_at, METH_O, "at(rank): the (score, member) at that rank (negative from the end)"},
    {"slice", (PyCFunction)(void (*)(void))ZIndex_slice, METH_FASTCALL,
     "slice(start, stop, reverse=False): the pairs at ranks [start, stop), clamped; last first if reverse"},
    {"pop_first", (PyCFunction)ZIndex_pop_first, METH_NOARGS, "remove and return the lowest pair"},
    {"pop_last", (PyCFunction)ZIndex_pop_last, METH_NOARGS, "remove and return the highest pair"},
    {"delete_range", (PyCFunction)(void (*)(void))ZIndex_delete_range, METH_FASTCALL,
     "delete_range(start, stop): remove the pairs at ranks [start, stop), clamped; returns them"},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods ZIndex_as_sequence = {
    .sq_length = (lenfunc)ZIndex_len,
};

static PyTypeObject ZIndexType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "server._zskiplist.ZIndex",
    .tp_doc = "ZIndex(pairs=()): (score, member) pairs in Redis's sorted-set order, a skiplist with spans",
    .tp_basicsize = sizeof(ZIndex),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = ZIndex_new,
    .tp_init = (initproc)ZIndex_init,
    .tp_dealloc = (destructor)ZIndex_dealloc,
    .tp_methods = ZIndex_methods,
    .tp_as_sequence = &ZIndex_as_sequence,
};

/* parse_score(arg) -> float, or None: a score as Redis 7.0's getDoubleFromObject reads it (ZADD,
 * ZINCRBY, weights): strtod over the whole argument, none of it left over, no leading space, not
 * NaN, no overflow and no underflow to zero (ERANGE with an infinite or zero result). None for
 * anything else, and for an argument that is not exact bytes; the caller raises its error.
 * server/types/zsets.py's parse_score_py is the reference. A short run of digits (the usual score)
 * is read with an integer loop: below 2**53 it is the double strtod gives, for a fraction of its
 * cost. */
static PyObject *
parse_score(PyObject *self, PyObject *arg)
{
    (void)self;
    if (!PyBytes_CheckExact(arg))
        Py_RETURN_NONE;
    const char *text = PyBytes_AS_STRING(arg);
    Py_ssize_t len = PyBytes_GET_SIZE(arg);
    if (len > 0 && len <= 15) {
        long long v = 0;
        Py_ssize_t i = 0;
        for (; i < len && text[i] >= '0' && text[i] <= '9'; i++)
            v = v * 10 + (text[i] - '0');
        if (i == len)
            return PyFloat_FromDouble((double)v);
    }
    if (len == 0 || isspace((unsigned char)text[0]))
        Py_RETURN_NONE;
    char *end;
    errno = 0;
    double value = strtod(text, &end);  /* the bytes object ends with a NUL */
    if (end - text != len || isnan(value)
        || (errno == ERANGE && (value == HUGE_VAL || value == -HUGE_VAL || value == 0.0)))
        Py_RETURN_NONE;
    return PyFloat_FromDouble(value);
}

static PyMethodDef module_methods[] = {
    {"parse_score", (PyCFunction)parse_score, METH_O,
     "parse_score(arg) -> float, or None if arg is not a score as Redis's ZADD reads one"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "server._zskiplist", NULL, -1,
                                    module_methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__zskiplist(void) {
    if (PyType_Ready(&ZIndexType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    Py_INCREF(&ZIndexType);
    if (PyModule_AddObject(m, "ZIndex", (PyObject *)&ZIndexType) < 0) {
        Py_DECREF(&ZIndexType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
