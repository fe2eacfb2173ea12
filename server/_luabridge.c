/* The two hot crossings of scripting in C: entering a script (EVALSHA, FCALL) and redis.call /
 * redis.pcall, on the Lua 5.1 state that lupa's `lua51` module owns. server/scripting.py uses
 * them when this module is built and FORKVPY_PURE is unset; its lupa-driven path is the
 * reference and does the same (tests/server/commands/test_scripting.py runs both).
 *
 * Why: lupa's call of a Lua function takes its runtime lock, looks up debug.traceback, drops and
 * re-takes the GIL, and returns results as Python tuples; its call of a Python function from Lua
 * re-takes the GIL and builds the argument tuple by concatenation. Here the script runs with the
 * GIL held (a script blocks the event loop anyway), KEYS and ARGV are built straight from the
 * Python lists, and redis.call hands its arguments to Python as one list of bytes.
 *
 * Also the hot part of what Python did around them: the script's context on its client (db,
 * protocol, last command, in_script, the frozen keyspace clock; see Context) is set and put back
 * here, and redis.call of a command that server/_fastpath.c's kernel runs (GET, SET, INCR) calls
 * that kernel directly (fast_command), the checks and the table of such commands being Python's.
 *
 * It must not: know commands or replies (Python does: this file moves strings, numbers and
 * booleans only, and anything else through a stash slot that Python reads with lupa), or keep a
 * Python object past the call that gave it. Lua's API is not linked in: its functions are looked
 * up in lupa's own module (which exports them), and the lua_State arrives through Lua's
 * package.loadlib of this very file (forkv_luabridge_open). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <structmember.h>

typedef struct lua_State lua_State;
typedef double lua_Number;
typedef int (*lua_CFunction)(lua_State *L);

/* Lua 5.1's constants (lua.h) */
#define LUA_REGISTRYINDEX (-10000)
#define LUA_GLOBALSINDEX (-10002)
#define UPVALUE(i) (LUA_GLOBALSINDEX - (i))
#define LUA_TNIL 0
#define LUA_TBOOLEAN 1
#define LUA_TNUMBER 3
#define LUA_TSTRING 4
#define LUA_ERRMEM 4

static struct {
    int (*gettop)(lua_State *);
    void (*settop)(lua_State *, int);
    void (*pushvalue)(lua_State *, int);
    int (*type)(lua_State *, int);
    lua_Number (*tonumber)(lua_State *, int);
    int (*toboolean)(lua_State *, int);
    const char *(*tolstring)(lua_State *, int, size_t *);
    void (*pushnil)(lua_State *);
    void (*pushnumber)(lua_State *, lua_Number);
    void (*pushlstring)(lua_State *, const char *, size_t);
    void (*pushboolean)(lua_State *, int);
    void (*pushcclosure)(lua_State *, lua_CFunction, int);
    void (*rawgeti)(lua_State *, int, int);
    void (*rawseti)(lua_State *, int, int);
    void (*createtable)(lua_State *, int, int);
    void (*setfield)(lua_State *, int, const char *);
    int (*pcall)(lua_State *, int, int, int);
    int (*error)(lua_State *);
    int (*checkstack)(lua_State *, int);
    int (*ref)(lua_State *, int);
    void (*unref)(lua_State *, int, int);
} lua;

static int loaded = 0;
/* The Python side of redis.call for the script running now, and how it hands over a table
 * (borrowed: set by run() for the duration of the script, restored after). NULL outside one. */
static PyObject *current_command = NULL, *current_stasher = NULL;
/* redis.call's C path (see fast_command), set by run() like the two above: the running script's
 * client, whether it is read-only, its _Run (whose `dirty` a write sets), the server's INFO
 * counters, the engine's table of kernel commands, the kernel (server/_fastpath.c's script_call)
 * and the engine's conversion of a reply that is not an int or bytes. */
static PyObject *current_client = NULL, *current_run = NULL, *current_stats = NULL;
static PyObject *current_fast = NULL, *current_kernel = NULL, *current_convert = NULL;
static int current_read_only = 0;
static PyObject *no_arguments, *bad_argument; /* redis.call's own error texts (bytes) */
static PyObject *STASHED;    /* a value left in the stash slot (not a string/number/boolean/nil) */
static PyObject *FAILED;     /* the script raised: its error value is in the stash slot */
static PyObject *number_arg; /* scripting._number_arg, for numbers that are not small integers */
static PyObject *lua_error_class, *lua_memory_error_class;

/* -- Lua values -> Python ---------------------------------------------------------------------- */

/* A Lua number as lupa gives it: an int when it is integral (and fits a C long long), else a
 * float. */
static PyObject *number_to_py(lua_Number n) {
    if (n >= -9223372036854775808.0 && n < 9223372036854775808.0 && n == (lua_Number)(long long)n)
        return PyLong_FromLongLong((long long)n);
    return PyFloat_FromDouble(n);
}

/* The value at `idx` if it is nil, a boolean, a number or a string (new reference; NULL with an
 * exception on failure); `*other` set when it is none of those (nothing returned then). */
static PyObject *simple_to_py(lua_State *L, int idx, int *other) {
    size_t size;
    const char *s;
    *other = 0;
    switch (lua.type(L, idx)) {
    case LUA_TNIL:
        Py_RETURN_NONE;
    case LUA_TBOOLEAN:
        return PyBool_FromLong(lua.toboolean(L, idx));
    case LUA_TNUMBER:
        return number_to_py(lua.tonumber(L, idx));
    case LUA_TSTRING:
        s = lua.tolstring(L, idx, &size);
        return PyBytes_FromStringAndSize(s, (Py_ssize_t)size);
    default:
        *other = 1;
        return NULL;
    }
}

/* -- entering a script ------------------------------------------------------------------------ */

/* A table of the bytes in `list` on the stack; -1 (nothing pushed) when an item is not bytes. */
static int push_strings(lua_State *L, PyObject *list) {
    Py_ssize_t n = PyList_GET_SIZE(list), i;
    for (i = 0; i < n; i++)
        if (!PyBytes_CheckExact(PyList_GET_ITEM(list, i)))
            return -1;
    lua.createtable(L, n > 0x7fffffff ? 0x7fffffff : (int)n, 0);
    for (i = 0; i < n; i++) {
        PyObject *item = PyList_GET_ITEM(list, i);
        lua.pushlstring(L, PyBytes_AS_STRING(item), (size_t)PyBytes_GET_SIZE(item));
        lua.rawseti(L, -2, (int)(i + 1));
    }
    return 0;
}

/* -- the script's context on its client (Engine.execute's, for the C path) ------------------ */

/* What a script changes on its client and keyspace while it runs, saved by enter() and put back
 * by leave(), as Engine.execute's lupa path does in Python: the client's db, protocol (2 while
 * the script runs) and last command, its in_script mark, and the keyspace's clock, frozen at
 * the script's start (Redis's scriptTimeSnapshot: an int clock becomes its own __index__, any
 * other value the engine's `constant` function of it). */
typedef struct {
    PyObject *client, *db, *proto, *last, *ks, *clock, *stats;
    Py_ssize_t db_at, proto_at, last_at, in_script_at, clock_at; /* -1: by attribute */
} Context;

static PyObject *s_db, *s_proto, *s_last_command, *s_in_script, *s_server, *s_keyspace, *s_clock,
    *s_stats, *s_index, *two;

/* Where Client's and Keyspace's fields live in their instances (found once by fields(); -1: not
 * found, the attribute is used), so that the context costs pointer loads and stores rather than
 * generic attribute lookups (~230 instructions a load through a Cython getset descriptor). */
static PyTypeObject *client_type, *keyspace_type, *stats_type, *run_type;
static Py_ssize_t off_db = -1, off_proto = -1, off_last = -1, off_in_script = -1, off_server = -1,
                  off_stats = -1, off_clock = -1, off_commands = -1, off_dirty = -1;

/* obj.<name>, from its field at `off` when the caller knows obj's type has it there (new ref). */
static PyObject *get_field(PyObject *obj, Py_ssize_t off, PyObject *name) {
    if (off >= 0) {
        PyObject *v = *(PyObject **)((char *)obj + off);
        if (v != NULL)
            return Py_NewRef(v);
    }
    return PyObject_GetAttr(obj, name);
}

/* obj.<name> = value, as get_field. */
static int set_field(PyObject *obj, Py_ssize_t off, PyObject *name, PyObject *value) {
    if (off >= 0) {
        PyObject **slot = (PyObject **)((char *)obj + off), *old = *slot;
        *slot = Py_NewRef(value);
        Py_XDECREF(old);
        return 0;
    }
    return PyObject_SetAttr(obj, name, value);
}

/* The offset of the object field `name` in instances of `type`: a __slots__ member's, or, for
 * an extension type's field behind a getset descriptor, found by setting it to a fresh object
 * on an instance made without __init__ and looking for that pointer in the instance. -1. */
static Py_ssize_t find_field(PyTypeObject *type, const char *name) {
    PyObject *descr = PyObject_GetAttrString((PyObject *)type, name), *obj = NULL, *probe = NULL, *none;
    Py_ssize_t off = -1, at;
    if (descr != NULL && Py_TYPE(descr) == &PyMemberDescr_Type) {
        PyMemberDef *member = ((PyMemberDescrObject *)descr)->d_member;
        if (member->type == T_OBJECT_EX)
            off = member->offset;
    } else if (descr != NULL && Py_TYPE(descr) == &PyGetSetDescr_Type && type->tp_new != NULL &&
               (none = PyTuple_New(0)) != NULL) {
        obj = type->tp_new(type, none, NULL);
        Py_DECREF(none);
        probe = PyDict_New();
        if (obj != NULL && probe != NULL && PyObject_SetAttrString(obj, name, probe) == 0)
            for (at = sizeof(PyObject); at + (Py_ssize_t)sizeof(PyObject *) <= type->tp_basicsize;
                 at += sizeof(PyObject *))
                if (*(PyObject **)((char *)obj + at) == probe) {
                    off = at;
                    break;
                }
    }
    Py_XDECREF(obj);
    Py_XDECREF(probe);
    Py_XDECREF(descr);
    PyErr_Clear();
    return off;
}

/* fields(Client, Keyspace, Stats, _Run): finds the fields the context and fast_command use; True
 * if all were found (the attributes are used for any not found, and for instances of other
 * types). */
static PyObject *fields(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 4 || !PyType_Check(args[0]) || !PyType_Check(args[1]) || !PyType_Check(args[2]) ||
        !PyType_Check(args[3])) {
        PyErr_SetString(PyExc_TypeError, "fields(Client, Keyspace, Stats, _Run)");
        return NULL;
    }
    Py_XSETREF(client_type, (PyTypeObject *)Py_NewRef(args[0]));
    Py_XSETREF(keyspace_type, (PyTypeObject *)Py_NewRef(args[1]));
    Py_XSETREF(stats_type, (PyTypeObject *)Py_NewRef(args[2]));
    Py_XSETREF(run_type, (PyTypeObject *)Py_NewRef(args[3]));
    off_commands = find_field(stats_type, "commands");
    off_dirty = find_field(run_type, "dirty");
    off_db = find_field(client_type, "db");
    off_proto = find_field(client_type, "proto");
    off_last = find_field(client_type, "last_command");
    off_in_script = find_field(client_type, "in_script");
    off_server = find_field(client_type, "server");
    off_stats = -1; /* a typed field (Stats): read by its attribute */
    off_clock = find_field(keyspace_type, "clock");
    return PyBool_FromLong(off_db >= 0 && off_proto >= 0 && off_last >= 0 && off_in_script >= 0 &&
                           off_server >= 0 && off_clock >= 0 && off_commands >= 0 && off_dirty >= 0);
}

static int intern_names(void) {
    if (two != NULL)
        return 0;
#define NAME(var, text)                                  \
    if ((var = PyUnicode_InternFromString(text)) == NULL) \
        return -1;
    NAME(s_db, "db")
    NAME(s_proto, "proto")
    NAME(s_last_command, "last_command")
    NAME(s_in_script, "in_script")
    NAME(s_server, "server")
    NAME(s_keyspace, "keyspace")
    NAME(s_clock, "clock")
    NAME(s_stats, "stats")
    NAME(s_index, "__index__")
#undef NAME
    return (two = PyLong_FromLong(2)) == NULL ? -1 : 0;
}

static void context_clear(Context *c) {
    Py_CLEAR(c->db);
    Py_CLEAR(c->proto);
    Py_CLEAR(c->last);
    Py_CLEAR(c->ks);
    Py_CLEAR(c->clock);
    Py_CLEAR(c->stats);
}

/* Puts back what enter() changed; keeps an exception already set (the script's failure), else
 * returns -1 with one if a step failed (every step is tried). */
static int leave(Context *c) {
    PyObject *type, *value, *tb, *now;
    int failed = 0, same;
    PyErr_Fetch(&type, &value, &tb);
    if (set_field(c->ks, c->clock_at, s_clock, c->clock) < 0)
        failed = 1, PyErr_Clear();
    if (set_field(c->client, c->in_script_at, s_in_script, Py_False) < 0)
        failed = 1, PyErr_Clear();
    if (set_field(c->client, c->last_at, s_last_command, c->last) < 0)
        failed = 1, PyErr_Clear();
    if ((now = get_field(c->client, c->db_at, s_db)) == NULL ||
        (now != c->db && set_field(c->client, c->db_at, s_db, c->db) < 0)) /* SELECT in the script */
        failed = 1, PyErr_Clear();
    Py_XDECREF(now);
    if ((now = get_field(c->client, c->proto_at, s_proto)) == NULL ||
        (same = now == c->proto ? 1 : PyObject_RichCompareBool(now, c->proto, Py_EQ)) < 0 ||
        (!same && set_field(c->client, c->proto_at, s_proto, c->proto) < 0)) /* redis.setresp, or the 2 */
        failed = 1, PyErr_Clear();
    Py_XDECREF(now);
    context_clear(c);
    if (type != NULL) {
        PyErr_Restore(type, value, tb);
        return -1;
    }
    if (failed) {
        PyErr_SetString(PyExc_RuntimeError, "a script's client could not be restored");
        return -1;
    }
    return 0;
}

/* Saves and sets the script's context on `client` (see Context); -1 with an exception (nothing
 * changed, or everything put back). */
static int enter(Context *c, PyObject *client, PyObject *constant) {
    PyObject *server, *started, *frozen;
    int known = Py_TYPE(client) == client_type;
    memset(c, 0, sizeof *c);
    c->client = client;
    c->db_at = known ? off_db : -1;
    c->proto_at = known ? off_proto : -1;
    c->last_at = known ? off_last : -1;
    c->in_script_at = known ? off_in_script : -1;
    c->clock_at = -1;
    if (intern_names() < 0 || (c->db = get_field(client, c->db_at, s_db)) == NULL ||
        (c->proto = get_field(client, c->proto_at, s_proto)) == NULL ||
        (c->last = get_field(client, c->last_at, s_last_command)) == NULL ||
        (c->stats = get_field(client, known ? off_stats : -1, s_stats)) == NULL)
        goto failed;
    if ((server = get_field(client, known ? off_server : -1, s_server)) == NULL)
        goto failed;
    c->ks = PyObject_GetAttr(server, s_keyspace);
    Py_DECREF(server);
    if (c->ks == NULL)
        goto failed;
    if (Py_TYPE(c->ks) == keyspace_type)
        c->clock_at = off_clock;
    if ((c->clock = get_field(c->ks, c->clock_at, s_clock)) == NULL ||
        (started = PyObject_CallNoArgs(c->clock)) == NULL)
        goto failed;
    frozen = PyLong_CheckExact(started) ? PyObject_GetAttr(started, s_index) : PyObject_CallOneArg(constant, started);
    Py_DECREF(started);
    if (frozen == NULL)
        goto failed;
    if (set_field(c->ks, c->clock_at, s_clock, frozen) < 0) {
        Py_DECREF(frozen);
        goto failed;
    }
    Py_DECREF(frozen);
    if (set_field(client, c->in_script_at, s_in_script, Py_True) < 0 ||
        (!(PyLong_CheckExact(c->proto) && PyLong_AsLong(c->proto) == 2) &&
         set_field(client, c->proto_at, s_proto, two) < 0)) {
        leave(c);
        return -1;
    }
    return 0;
failed:
    context_clear(c);
    return -1;
}

/* -- entering a script (continued) ------------------------------------------------------------ */

/* run(engine, function, keys, args[, client, read_only, run]), `engine` a tuple (state, runner,
 * stash, command, stasher, fast, kernel, convert, constant) made once per engine: the Lua
 * `runner` (registry reference) called as runner(function, KEYS, ARGV), which returns (ok,
 * value) as xpcall does. With the last three (the script's client, whether it runs read-only,
 * its _Run) the script's context on the client is set and put back here (see Context), and
 * redis.call of the commands in `fast` takes fast_command's C path; without them the caller
 * does that.
 * Returns the value if ok and simple, STASHED if ok and left in the stash slot, FAILED if not ok
 * (the error value stashed), or NotImplemented when keys or args hold anything but bytes (the
 * caller then takes lupa's path; nothing was done). `command(argv)` is called for each
 * redis.call the C path does not do; when it returns anything but an int, bytes, a boolean,
 * None or a 1-tuple of an error text, `stasher(value)` must leave that value in the stash slot. */
static PyObject *run(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    lua_State *L;
    int runner, function, stash, top, status, other, with_context;
    Py_ssize_t i;
    PyObject *engine, *keys, *argv, *saved, *saved_stasher, *value;
    PyObject *saved_client, *saved_run, *saved_stats, *saved_fast, *saved_kernel, *saved_convert;
    int saved_read_only;
    Context context;
    (void)self;
    if ((nargs != 4 && nargs != 7) || !PyTuple_CheckExact(args[0]) || PyTuple_GET_SIZE(args[0]) != 9) {
        PyErr_SetString(PyExc_TypeError, "run((state, runner, stash, command, stasher, fast, kernel, convert, "
                                         "constant), function, keys, args[, client, read_only, run])");
        return NULL;
    }
    if (!PyList_CheckExact(args[2]) || !PyList_CheckExact(args[3]))
        Py_RETURN_NOTIMPLEMENTED;
    for (i = 0; i < PyList_GET_SIZE(args[2]); i++)
        if (!PyBytes_CheckExact(PyList_GET_ITEM(args[2], i)))
            Py_RETURN_NOTIMPLEMENTED;
    for (i = 0; i < PyList_GET_SIZE(args[3]); i++)
        if (!PyBytes_CheckExact(PyList_GET_ITEM(args[3], i)))
            Py_RETURN_NOTIMPLEMENTED;
    engine = args[0];
    L = (lua_State *)PyLong_AsVoidPtr(PyTuple_GET_ITEM(engine, 0));
    runner = (int)PyLong_AsLong(PyTuple_GET_ITEM(engine, 1));
    stash = (int)PyLong_AsLong(PyTuple_GET_ITEM(engine, 2));
    function = (int)PyLong_AsLong(args[1]);
    if (PyErr_Occurred())
        return NULL;
    keys = args[2];
    argv = args[3];
    if (!lua.checkstack(L, 8))
        Py_RETURN_NOTIMPLEMENTED;
    with_context = nargs == 7;
    if (with_context && enter(&context, args[4], PyTuple_GET_ITEM(engine, 8)) < 0)
        return NULL;
    top = lua.gettop(L);
    lua.rawgeti(L, LUA_REGISTRYINDEX, runner);
    lua.rawgeti(L, LUA_REGISTRYINDEX, function);
    push_strings(L, keys);
    push_strings(L, argv);
    saved = current_command;
    saved_stasher = current_stasher;
    saved_client = current_client;
    saved_run = current_run;
    saved_stats = current_stats;
    saved_fast = current_fast;
    saved_kernel = current_kernel;
    saved_convert = current_convert;
    saved_read_only = current_read_only;
    current_command = PyTuple_GET_ITEM(engine, 3);
    current_stasher = PyTuple_GET_ITEM(engine, 4);
    current_fast = NULL;
    if (with_context && PyDict_CheckExact(PyTuple_GET_ITEM(engine, 5)) && PyTuple_GET_ITEM(engine, 6) != Py_None) {
        current_fast = PyTuple_GET_ITEM(engine, 5);
        current_kernel = PyTuple_GET_ITEM(engine, 6);
        current_convert = PyTuple_GET_ITEM(engine, 7);
        current_client = args[4];
        current_read_only = PyObject_IsTrue(args[5]) == 1;
        current_run = args[6];
        current_stats = context.stats;
    }
    status = lua.pcall(L, 3, 2, 0);
    current_command = saved;
    current_stasher = saved_stasher;
    current_client = saved_client;
    current_run = saved_run;
    current_stats = saved_stats;
    current_fast = saved_fast;
    current_kernel = saved_kernel;
    current_convert = saved_convert;
    current_read_only = saved_read_only;
    if (status != 0) { /* the runner itself failed (out of memory): as lupa raises it */
        size_t size = 0;
        const char *s = lua.tolstring(L, -1, &size);
        PyObject *text = PyUnicode_DecodeLatin1(s ? s : "", s ? (Py_ssize_t)size : 0, NULL);
        lua.settop(L, top);
        if (text != NULL) {
            PyErr_SetObject(status == LUA_ERRMEM ? lua_memory_error_class : lua_error_class, text);
            Py_DECREF(text);
        }
        if (with_context)
            leave(&context);
        return NULL;
    }
    if (!lua.toboolean(L, top + 1)) {
        lua.pushvalue(L, top + 2);
        lua.rawseti(L, LUA_REGISTRYINDEX, stash);
        lua.settop(L, top);
        value = Py_NewRef(FAILED);
    } else {
        value = simple_to_py(L, top + 2, &other);
        if (other) {
            lua.pushvalue(L, top + 2);
            lua.rawseti(L, LUA_REGISTRYINDEX, stash);
            value = Py_NewRef(STASHED);
        }
        lua.settop(L, top);
    }
    if (with_context && leave(&context) < 0)
        Py_CLEAR(value);
    return value;
}

/* -- redis.call and redis.pcall --------------------------------------------------------------- */

/* Pushes {err = text}, with ignore_error_stats_update = true when `counted`: the command's
 * error, already in the error stats (Redis's flag; the lupa path's api.command_error). Errors
 * in redis.call's own arguments are not counted (Redis raises them before the command). */
static void push_error_table(lua_State *L, PyObject *text, int counted) {
    lua.createtable(L, 0, counted ? 2 : 1);
    lua.pushlstring(L, PyBytes_AS_STRING(text), (size_t)PyBytes_GET_SIZE(text));
    lua.setfield(L, -2, "err");
    if (counted) {
        lua.pushboolean(L, 1);
        lua.setfield(L, -2, "ignore_error_stats_update");
    }
}

/* redis.call's argument `idx` as bytes: strings as they are, numbers as Redis formats them
 * ("%.17g"; small integers printed directly, the rest by scripting._number_arg). NULL without an
 * exception when it is neither. */
static PyObject *argument(lua_State *L, int idx) {
    size_t size;
    const char *s;
    lua_Number n;
    int kind = lua.type(L, idx);
    if (kind == LUA_TSTRING) {
        s = lua.tolstring(L, idx, &size);
        return PyBytes_FromStringAndSize(s, (Py_ssize_t)size);
    }
    if (kind != LUA_TNUMBER)
        return NULL;
    n = lua.tonumber(L, idx);
    if (n > -1e15 && n < 1e15 && n == (lua_Number)(long long)n) {
        char buf[32];
        int len = snprintf(buf, sizeof buf, "%lld", (long long)n);
        return PyBytes_FromStringAndSize(buf, len);
    }
    PyObject *number = number_to_py(n), *text;
    if (number == NULL)
        return NULL;
    text = PyObject_CallOneArg(number_arg, number);
    Py_DECREF(number);
    return text;
}

/* What the Python side returned, pushed for Lua: 1 (values pushed), 0 when the error table was
 * pushed to be raised, -1 when the Python side failed (its message pushed, to be raised; a
 * Python exception set). */
static int push_result(lua_State *L, PyObject *result, int stash, int protected) {
    if (PyLong_CheckExact(result)) {
        int overflow;
        long long v = PyLong_AsLongLongAndOverflow(result, &overflow);
        lua.pushnumber(L, overflow ? PyLong_AsDouble(result) : (lua_Number)v);
    } else if (PyBytes_CheckExact(result)) {
        lua.pushlstring(L, PyBytes_AS_STRING(result), (size_t)PyBytes_GET_SIZE(result));
    } else if (result == Py_None) {
        lua.pushnil(L);
    } else if (PyBool_Check(result)) {
        lua.pushboolean(L, result == Py_True);
    } else if (PyTuple_CheckExact(result) && PyTuple_GET_SIZE(result) == 1 &&
               PyBytes_CheckExact(PyTuple_GET_ITEM(result, 0))) {
        push_error_table(L, PyTuple_GET_ITEM(result, 0), 1);
        return protected ? 1 : 0;
    } else { /* a table (converted by lupa): through the stash slot */
        PyObject *done = PyObject_CallOneArg(current_stasher, result);
        if (done == NULL)
            return -1;
        Py_DECREF(done);
        lua.rawgeti(L, LUA_REGISTRYINDEX, stash);
        lua.pushnil(L);
        lua.rawseti(L, LUA_REGISTRYINDEX, stash);
    }
    return 1;
}

/* The message of the Python exception being raised, as the lupa path's take_error makes it
 * (str(exc) in UTF-8 with surrogateescape), pushed; the exception cleared. */
static void push_exception(lua_State *L) {
    PyObject *type, *value, *tb, *text = NULL, *raw = NULL;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value != NULL)
        text = PyObject_Str(value);
    if (text != NULL)
        raw = PyUnicode_AsEncodedString(text, "utf-8", "surrogateescape");
    if (raw != NULL)
        lua.pushlstring(L, PyBytes_AS_STRING(raw), (size_t)PyBytes_GET_SIZE(raw));
    else
        lua.pushlstring(L, "error during Python call", 24);
    PyErr_Clear();
    Py_XDECREF(raw);
    Py_XDECREF(text);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
}

/* redis.call's C path for the engine's kernel commands (GET, SET, INCR: `fast` maps the
 * command's spelling to (command, writes, min args, max args), filled by scripting._lookup only
 * for commands that scriptCall never refuses but in a read-only script). What the Python side
 * (Engine._command, the reference) does for them, in its order: the arity, a write refused in
 * a read-only script (left to Python, which answers it), then the kernel. MISCONF and OOM need
 * no check here: either sets every client's guard, and the kernel steps aside for a guarded
 * client. A write the kernel did marks the run dirty (SCRIPT KILL can no longer stop it); the
 * call is counted in the server's total. Returns a new reference: the reply as Python gives it
 * to Lua; NotImplemented (Python must do it all: nothing was done) or NULL with an exception. */
static PyObject *fast_command(PyObject *argv) {
    static PyObject *s_dirty, *s_commands, *one;
    PyObject *found, *result, *count, *more;
    Py_ssize_t n = PyList_GET_SIZE(argv);
    int writes;
    found = PyDict_GetItemWithError(current_fast, PyList_GET_ITEM(argv, 0));
    if (found == NULL)
        return PyErr_Occurred() ? NULL : Py_NewRef(Py_NotImplemented);
    if (!PyTuple_CheckExact(found) || PyTuple_GET_SIZE(found) != 6 ||
        n < PyLong_AsSsize_t(PyTuple_GET_ITEM(found, 2)) || n > PyLong_AsSsize_t(PyTuple_GET_ITEM(found, 3)))
        return PyErr_Occurred() ? NULL : Py_NewRef(Py_NotImplemented);
    writes = PyTuple_GET_ITEM(found, 1) == Py_True;
    if (writes && current_read_only)
        return Py_NewRef(Py_NotImplemented);
    if (s_dirty == NULL && ((s_dirty = PyUnicode_InternFromString("dirty")) == NULL ||
                            (s_commands = PyUnicode_InternFromString("commands")) == NULL ||
                            (one = PyLong_FromLong(1)) == NULL))
        return NULL;
    PyObject *call[5] = {current_client, PyTuple_GET_ITEM(found, 0), argv, PyTuple_GET_ITEM(found, 4),
                         PyTuple_GET_ITEM(found, 5)};
    result = PyObject_Vectorcall(current_kernel, call, 5, NULL);
    if (result == NULL || result == Py_NotImplemented)
        return result;
    if (writes && set_field(current_run, Py_TYPE(current_run) == run_type ? off_dirty : -1, s_dirty, Py_True) < 0)
        goto failed;
    Py_ssize_t at = Py_TYPE(current_stats) == stats_type ? off_commands : -1;
    count = get_field(current_stats, at, s_commands);
    if (count == NULL)
        goto failed;
    more = PyNumber_Add(count, one);
    Py_DECREF(count);
    if (more == NULL)
        goto failed;
    if (set_field(current_stats, at, s_commands, more) < 0) {
        Py_DECREF(more);
        goto failed;
    }
    Py_DECREF(more);
    if (!PyLong_CheckExact(result) && !PyBytes_CheckExact(result))
        Py_SETREF(result, PyObject_CallOneArg(current_convert, result));
    return result;
failed:
    Py_DECREF(result);
    return NULL;
}

/* redis.call (upvalue 1 false) and redis.pcall (true); upvalue 2 is the stash slot. The
 * arguments go to the Python side as a list of bytes, checked here as the lupa path's
 * _run_command checks them. No Python reference is held across lua_error. */
static int command(lua_State *L) {
    int protected = lua.toboolean(L, UPVALUE(1));
    int stash = (int)lua.tonumber(L, UPVALUE(2));
    int n = lua.gettop(L), i, pushed;
    PyObject *argv, *result;
    if (current_command == NULL) {
        static const char message[] = "ERR redis.call outside a script";
        lua.pushlstring(L, message, sizeof message - 1);
        return lua.error(L);
    }
    if (n == 0) {
        push_error_table(L, no_arguments, 0);
        return protected ? 1 : lua.error(L);
    }
    argv = PyList_New(n);
    if (argv == NULL)
        goto failed;
    for (i = 0; i < n; i++) {
        PyObject *arg = argument(L, i + 1);
        if (arg == NULL) {
            Py_DECREF(argv);
            if (PyErr_Occurred())
                goto failed;
            push_error_table(L, bad_argument, 0);
            return protected ? 1 : lua.error(L);
        }
        PyList_SET_ITEM(argv, i, arg);
    }
    /* Python may call into Lua through lupa, which empties this frame's stack: the arguments
     * are all read by now. */
    result = current_fast != NULL ? fast_command(argv) : Py_NewRef(Py_NotImplemented);
    if (result == Py_NotImplemented) {
        Py_DECREF(result);
        result = PyObject_CallOneArg(current_command, argv);
    }
    Py_DECREF(argv);
    if (result == NULL)
        goto failed;
    pushed = push_result(L, result, stash, protected);
    Py_DECREF(result);
    if (pushed > 0)
        return 1;
    if (pushed < 0)
        goto failed;
    return lua.error(L);
failed:
    push_exception(L);
    return lua.error(L);
}

/* -- registry references, the stash ------------------------------------------------------------ */

static int pin(lua_State *L) { /* pin(value) -> a registry reference to it */
    lua.settop(L, 1);
    lua.pushnumber(L, (lua_Number)lua.ref(L, LUA_REGISTRYINDEX));
    return 1;
}

static int unpin(lua_State *L) { /* unpin(reference) */
    lua.unref(L, LUA_REGISTRYINDEX, (int)lua.tonumber(L, 1));
    return 0;
}

static int take(lua_State *L) { /* take(slot) -> the value stashed there, the slot emptied */
    int slot = (int)lua.tonumber(L, 1);
    lua.rawgeti(L, LUA_REGISTRYINDEX, slot);
    lua.pushnil(L);
    lua.rawseti(L, LUA_REGISTRYINDEX, slot);
    return 1;
}

static int stash_value(lua_State *L) { /* stash(slot, value) */
    lua.settop(L, 2);
    lua.rawseti(L, LUA_REGISTRYINDEX, (int)lua.tonumber(L, 1));
    return 0;
}

/* Called by package.loadlib's function: returns the state (its address as a number), the stash
 * slot, redis.call, redis.pcall, pin, unpin, take and stash. */
__attribute__((visibility("default"))) int forkv_luabridge_open(lua_State *L) {
    int slot;
    if (!loaded)
        return 0;
    lua.pushboolean(L, 1);
    slot = lua.ref(L, LUA_REGISTRYINDEX);
    lua.settop(L, 0);
    lua.pushnumber(L, (lua_Number)(size_t)L);
    lua.pushnumber(L, (lua_Number)slot);
    lua.pushboolean(L, 0);
    lua.pushnumber(L, (lua_Number)slot);
    lua.pushcclosure(L, command, 2);
    lua.pushboolean(L, 1);
    lua.pushnumber(L, (lua_Number)slot);
    lua.pushcclosure(L, command, 2);
    lua.pushcclosure(L, pin, 0);
    lua.pushcclosure(L, unpin, 0);
    lua.pushcclosure(L, take, 0);
    lua.pushcclosure(L, stash_value, 0);
    return 8;
}

/* -- the module --------------------------------------------------------------------------------- */

/* load(lupa_lua51_path, number_arg, LuaError, LuaMemoryError, no_arguments, bad_argument): finds
 * Lua's API in lupa's module (already imported); False when a function is missing. The last two
 * are redis.call's error texts (bytes). */
static PyObject *load(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    const char *path;
    void *handle;
    (void)self;
    if (nargs != 6 || !PyUnicode_Check(args[0]) || !PyBytes_CheckExact(args[4]) || !PyBytes_CheckExact(args[5])) {
        PyErr_SetString(PyExc_TypeError, "load(path, number_arg, LuaError, LuaMemoryError, bytes, bytes)");
        return NULL;
    }
    path = PyUnicode_AsUTF8(args[0]);
    if (path == NULL)
        return NULL;
    handle = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
    if (handle == NULL)
        Py_RETURN_FALSE;
#define FIND(field, name)                                  \
    *(void **)(&lua.field) = dlsym(handle, name);          \
    if (lua.field == NULL)                                 \
        Py_RETURN_FALSE;
    FIND(gettop, "lua_gettop")
    FIND(settop, "lua_settop")
    FIND(pushvalue, "lua_pushvalue")
    FIND(type, "lua_type")
    FIND(tonumber, "lua_tonumber")
    FIND(toboolean, "lua_toboolean")
    FIND(tolstring, "lua_tolstring")
    FIND(pushnil, "lua_pushnil")
    FIND(pushnumber, "lua_pushnumber")
    FIND(pushlstring, "lua_pushlstring")
    FIND(pushboolean, "lua_pushboolean")
    FIND(pushcclosure, "lua_pushcclosure")
    FIND(rawgeti, "lua_rawgeti")
    FIND(rawseti, "lua_rawseti")
    FIND(createtable, "lua_createtable")
    FIND(setfield, "lua_setfield")
    FIND(pcall, "lua_pcall")
    FIND(error, "lua_error")
    FIND(checkstack, "lua_checkstack")
    FIND(ref, "luaL_ref")
    FIND(unref, "luaL_unref")
#undef FIND
    Py_XSETREF(number_arg, Py_NewRef(args[1]));
    Py_XSETREF(lua_error_class, Py_NewRef(args[2]));
    Py_XSETREF(lua_memory_error_class, Py_NewRef(args[3]));
    Py_XSETREF(no_arguments, Py_NewRef(args[4]));
    Py_XSETREF(bad_argument, Py_NewRef(args[5]));
    loaded = 1;
    Py_RETURN_TRUE;
}

static PyMethodDef methods[] = {
    {"load", (PyCFunction)(void (*)(void))load, METH_FASTCALL, "Find Lua's API in lupa's module."},
    {"run", (PyCFunction)(void (*)(void))run, METH_FASTCALL, "Run a script's function with KEYS and ARGV."},
    {"fields", (PyCFunction)(void (*)(void))fields, METH_FASTCALL, "Find the fields of Client and Keyspace run uses."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "server._luabridge", NULL, -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__luabridge(void) {
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    STASHED = PyObject_CallNoArgs((PyObject *)&PyBaseObject_Type);
    FAILED = PyObject_CallNoArgs((PyObject *)&PyBaseObject_Type);
    if (STASHED == NULL || FAILED == NULL || PyModule_AddObjectRef(m, "STASHED", STASHED) < 0 ||
        PyModule_AddObjectRef(m, "FAILED", FAILED) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
