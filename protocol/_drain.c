/* protocol._drain: the parser's innermost loop in C.
 *
 * drain(gets, sentinel, commands) calls hiredis's Reader.gets() until it returns `sentinel`,
 * appending every request (a non-empty list of bytes) to `commands`. It returns (kind, value):
 * 0 when hiredis ran out of data; 1 for a non-bulk element `value` inside a request; 2 for a
 * top-level `value` that is not a request (the parser resynchronises on the bytes); 3 when gets()
 * raised `value`. protocol/parser.py's drain_py is the reference implementation, and tests check
 * that both agree.
 *
 * take_clean(data, max_bulk_len) is the parser's usual read. A read is clean when it is nothing
 * but complete requests in their one canonical form: each `*N\r\n` (N >= 1) followed by N
 * `$L\r\n<L bytes>\r\n` (L <= max_bulk_len), counts and lengths plain digits without leading
 * zeros, ending exactly at the end of `data`. Such a read holds no simple-string or big-number
 * element, no nested array, no inline command and no partial frame, so none of the
 * Redis-protocol checks the parser runs on any other read can apply (protocol/parser.py's
 * clean_py says the same in Python). When the read is clean, take_clean returns
 * data's requests itself (a list of bytes per request, as hiredis would give them), so such a read
 * never goes through hiredis (no copy into its buffer, no gets() per request, no object
 * callbacks). Otherwise it returns None. protocol/parser.py's take_clean_py is its reference.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *
result(int kind, PyObject *value)
{
    return Py_BuildValue("(iO)", kind, value);
}

static PyObject *
drain(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyList_CheckExact(args[2])) {
        PyErr_SetString(PyExc_TypeError, "drain(gets, sentinel, commands: list)");
        return NULL;
    }
    (void)module;
    PyObject *gets = args[0], *sentinel = args[1], *commands = args[2];
    for (;;) {
        PyObject *item = PyObject_CallNoArgs(gets);
        if (item == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_Exception))
                return NULL;  /* MemoryError, KeyboardInterrupt...: not the client's fault */
            PyObject *type, *exc, *tb;
            PyErr_Fetch(&type, &exc, &tb);
            PyErr_NormalizeException(&type, &exc, &tb);
            if (exc != NULL && tb != NULL)
                PyException_SetTraceback(exc, tb);
            PyObject *r = result(3, exc ? exc : Py_None);
            Py_XDECREF(type);
            Py_XDECREF(exc);
            Py_XDECREF(tb);
            return r;
        }
        if (item == sentinel) {
            Py_DECREF(item);
            return result(0, Py_None);
        }
        if (!PyList_CheckExact(item) || PyList_GET_SIZE(item) == 0) {
            PyObject *r = result(2, item);
            Py_DECREF(item);
            return r;
        }
        Py_ssize_t n = PyList_GET_SIZE(item);
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *arg = PyList_GET_ITEM(item, i);
            if (!PyBytes_CheckExact(arg)) {
                PyObject *r = result(1, arg);
                Py_DECREF(item);
                return r;
            }
        }
        int rc = PyList_Append(commands, item);
        Py_DECREF(item);
        if (rc < 0)
            return NULL;
    }
}

/* The digits of a count or length at buf[*pos] up to "\r\n": 0, or 1-9 then digits, at most 18
 * of them (no overflow). -1 if the line is anything else or not all there. */
static inline long long
header_number(const char *buf, Py_ssize_t n, Py_ssize_t *pos)
{
    const char *s = buf + *pos;
    Py_ssize_t room = n - *pos, i = 1;
    if (room < 3)
        return -1;
    unsigned d = (unsigned char)s[0] - '0';
    if (d > 9)
        return -1;
    long long v = d;
    if (d != 0) {  /* "0" is the only number that starts with a zero */
        for (; i < room; i++) {
            unsigned c = (unsigned char)s[i] - '0';
            if (c > 9)
                break;
            if (i == 18)
                return -1;
            v = v * 10 + c;
        }
    }
    if (i + 1 >= room || s[i] != '\r' || s[i + 1] != '\n')
        return -1;
    *pos += i + 2;
    return v;
}

/* max_bulk_len from a Python int; -2 with an exception set if it is not one. */
static long long
bulk_limit(PyObject *value)
{
    if (!PyLong_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "max_bulk_len must be an int");
        return -2;
    }
    long long max_bulk = PyLong_AsLongLong(value);
    if (max_bulk == -1 && PyErr_Occurred())
        return -2;
    return max_bulk;
}

/* The last command name take_clean made (a short argv[0]): a pipeline or a benchmark repeats the
 * same name, which is then shared instead of allocated and freed again (bytes are immutable; the
 * dispatcher's lookup by spelling also finds it by identity). */
static PyObject *last_name = NULL;
#define NAME_CACHE_MAX 32

/* take_clean(data, max_bulk_len): when `data` is clean, its requests as a list (each a list of
 * bytes, exactly what hiredis would return for them); otherwise None. One walk checks each
 * header (as parser.py's clean_py does) and makes the request's objects as it goes; a read found
 * not clean halfway drops what was made. A read that does not end in "\n" (the usual partial frame) is refused
 * before any is made. The requests are kept on the stack (up to REQUESTS_ON_STACK, then on the
 * heap) until the list is made at its size. */
#define REQUESTS_ON_STACK 64
static PyObject *
take_clean(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "take_clean(data, max_bulk_len: int)");
        return NULL;
    }
    long long max_bulk = bulk_limit(args[1]);
    if (max_bulk == -2)
        return NULL;
    PyObject *data = args[0];
    if (!PyBytes_CheckExact(data))
        Py_RETURN_NONE;
    const char *buf = PyBytes_AS_STRING(data);
    Py_ssize_t n = PyBytes_GET_SIZE(data), p = 0, requests = 0, room = REQUESTS_ON_STACK;
    if (n == 0 || buf[n - 1] != '\n')
        Py_RETURN_NONE;
    PyObject *stack[REQUESTS_ON_STACK], **made = stack, *commands = NULL;
    while (p < n) {
        if (buf[p] != '*')
            goto refuse;
        p++;
        long long count = header_number(buf, n, &p);
        if (count <= 0 || count > (n - p) / 6)  /* an argument takes 6 bytes or more ("$0\r\n\r\n") */
            goto refuse;
        PyObject *argv = PyList_New((Py_ssize_t)count);
        if (argv == NULL)
            goto fail;
        if (requests == room) {
            PyObject **more = PyMem_Malloc(2 * room * sizeof(PyObject *));
            if (more == NULL) {
                Py_DECREF(argv);
                PyErr_NoMemory();
                goto fail;
            }
            memcpy(more, made, requests * sizeof(PyObject *));
            if (made != stack)
                PyMem_Free(made);
            made = more;
            room *= 2;
        }
        made[requests++] = argv;
        for (Py_ssize_t i = 0; i < (Py_ssize_t)count; i++) {
            if (p >= n || buf[p] != '$')
                goto refuse;
            p++;
            long long size = header_number(buf, n, &p);
            if (size < 0 || size > max_bulk || size > n - p - 2
                    || buf[p + size] != '\r' || buf[p + size + 1] != '\n')
                goto refuse;
            PyObject *arg;
            if (i == 0 && last_name != NULL && PyBytes_GET_SIZE(last_name) == size
                    && memcmp(PyBytes_AS_STRING(last_name), buf + p, (size_t)size) == 0) {
                arg = Py_NewRef(last_name);
            } else {
                arg = PyBytes_FromStringAndSize(buf + p, (Py_ssize_t)size);
                if (arg == NULL)
                    goto fail;
                if (i == 0 && size <= NAME_CACHE_MAX)
                    Py_XSETREF(last_name, Py_NewRef(arg));
            }
            PyList_SET_ITEM(argv, i, arg);
            p += (Py_ssize_t)size + 2;
        }
    }
    if ((commands = PyList_New(requests)) == NULL)
        goto fail;
    for (Py_ssize_t r = 0; r < requests; r++)
        PyList_SET_ITEM(commands, r, made[r]);
    if (made != stack)
        PyMem_Free(made);
    return commands;
refuse:
    commands = Py_None;
fail:  /* list_dealloc skips the items not yet set */
    for (Py_ssize_t r = 0; r < requests; r++)
        Py_DECREF(made[r]);
    if (made != stack)
        PyMem_Free(made);
    return Py_XNewRef(commands);
}

static PyMethodDef methods[] = {
    {"drain", (PyCFunction)(void (*)(void))drain, METH_FASTCALL,
     "drain(gets, sentinel, commands) -> (kind, value)"},
    {"take_clean", (PyCFunction)(void (*)(void))take_clean, METH_FASTCALL,
     "take_clean(data, max_bulk_len) -> list | None: a clean read's requests, or None"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "protocol._drain",
    .m_doc = "The request parser's inner loop in C.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC
PyInit__drain(void)
{
    return PyModule_Create(&module);
}
