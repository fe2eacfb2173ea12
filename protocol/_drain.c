/* protocol._drain: the parser's innermost loop in C.
 *
 * drain(gets, sentinel, commands) calls hiredis's Reader.gets() until it returns `sentinel`,
 * appending every request (a non-empty list of bytes) to `commands`. It returns a tuple
 * (skipped, kind, value): `skipped` counts the bytes of the *-1 / *0 frames Redis ignores; kind 0
 * means all went well, 1 that `value` is a non-bulk element inside a request, 2 that `value` is a
 * top-level reply that is not an array, 3 that gets() raised `value` (hiredis's protocol error;
 * `skipped` still counts what came before it). protocol/parser.py's drain_py is the reference
 * implementation, and tests check that both agree.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *
result(Py_ssize_t skipped, int kind, PyObject *value)
{
    return Py_BuildValue("(niO)", skipped, kind, value);
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
    Py_ssize_t skipped = 0;
    for (;;) {
        PyObject *item = PyObject_CallNoArgs(gets);
        if (item == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_Exception))
                return NULL;  /* MemoryError, KeyboardInterrupt...: not the client's fault */
            PyObject *type, *exc, *tb;
            PyErr_Fetch(&type, &exc, &tb);
            PyErr_NormalizeException(&type, &exc, &tb);
            PyObject *r = result(skipped, 3, exc ? exc : Py_None);
            Py_XDECREF(type);
            Py_XDECREF(exc);
            Py_XDECREF(tb);
            return r;
        }
        if (item == sentinel) {
            Py_DECREF(item);
            return result(skipped, 0, Py_None);
        }
        if (item == Py_None) {
            Py_DECREF(item);
            skipped += 5;  /* "*-1\r\n" */
            continue;
        }
        if (!PyList_CheckExact(item)) {
            PyObject *r = result(skipped, 2, item);
            Py_DECREF(item);
            return r;
        }
        Py_ssize_t n = PyList_GET_SIZE(item);
        if (n == 0) {
            Py_DECREF(item);
            skipped += 4;  /* "*0\r\n" */
            continue;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *arg = PyList_GET_ITEM(item, i);
            if (!PyBytes_CheckExact(arg)) {
                PyObject *r = result(skipped, 1, arg);
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

static PyMethodDef methods[] = {
    {"drain", (PyCFunction)(void (*)(void))drain, METH_FASTCALL,
     "drain(gets, sentinel, commands) -> (skipped, kind, value)"},
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
