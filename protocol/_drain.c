/* protocol._drain: the parser's innermost loop in C.
 *
 * drain(gets, sentinel, commands) calls hiredis's Reader.gets() until it returns `sentinel`,
 * appending every request (a non-empty list of bytes) to `commands`. It returns (kind, value):
 * 0 when hiredis ran out of data; 1 for a non-bulk element `value` inside a request; 2 for a
 * top-level `value` that is not a request (the parser resynchronises on the bytes); 3 when gets()
 * raised `value`. protocol/parser.py's drain_py is the reference implementation, and tests check
 * that both agree.
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

static PyMethodDef methods[] = {
    {"drain", (PyCFunction)(void (*)(void))drain, METH_FASTCALL,
     "drain(gets, sentinel, commands) -> (kind, value)"},
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
