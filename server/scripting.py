"""The Lua scripting engine behind EVAL & co. (Redis 7.0's eval.c / script_lua.c semantics).

One Lua 5.1 runtime (lupa's `lua51`) per server holds the script cache (SHA1 of the body -> the
compiled function) and a sandbox: scripts see a read-only global table and read-only libraries
(base, table, string, math, coroutine, bit and cjson's encoder in Lua; cjson.decode, cmsgpack and
struct in Python: server/lualibs.py), the `redis` API, KEYS and ARGV. API functions done in
Python are called as C functions are, so an error names the script line even after a tail call.
redis.call runs a command through the same command table as a client's, with Redis's script
checks (scriptCall), on the calling client's database (a SELECT lasts for the script only) and in
the script's own protocol (redis.setresp). Replies convert Lua <-> RESP as script_lua.c does.

Entering a script and redis.call cross into Lua through server/_luabridge.c when it is built
and chosen (protocol._loader.kernel): the same Lua runner and the same Python checks, without lupa's
per-call costs; lupa's own calls (`_execute`, `_redis_call`) are the reference path.

It must not: write to any transport (the EVAL handler returns the reply value), block (a script
runs to completion inside the one event loop), or let a script reach Python or the host (no io,
os, debug, require, loadfile, dofile, python).
"""

import hashlib
import math
import os
import struct as _struct
from itertools import count
from time import monotonic as _monotonic

from lupa import lua51

from protocol._loader import kernel
from protocol.reply import (
    NULL_ARRAY,
    BigNumber,
    Encoded,
    ErrorReply,
    Map,
    SetReply,
    Status,
    Verbatim,
    encode_reply,
    format_double,
)
from server import busy, errors, log, lualibs
from server.config import REDIS_VERSION
from server.errors import CommandError
from server.table import COMMANDS, Flag

LLONG_MIN = -(1 << 63)
_MAX_REPLY_DEPTH = 200  # nesting of a script's returned tables before "reached lua stack limit" (Redis: ~8000;
# here the bound keeps the reply encoder's recursion within Python's limit)
_LOG_LEVELS = {0: "debug", 1: "verbose", 2: "notice", 3: "warning"}
_SHEBANG_FLAGS = ("no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys")
_WRITE_OR_REPLICATE = Flag.WRITE | Flag.MAY_REPLICATE
_PUBLISHERS = ("publish", "spublish")  # replicated though not flagged so (as dispatch's CLIENT PAUSE)


def _version_num(version: str) -> int:
    """redis.REDIS_VERSION_NUM: 0x00MMmmpp."""
    major, minor, patch = (int(part) for part in version.split("."))
    return (major << 16) | (minor << 8) | patch


def sha1hex(body: bytes) -> str:
    return hashlib.sha1(body).hexdigest()


def parse_shebang(body: bytes):
    """(flags as a set, or None without a shebang, offset of the code) or raise CommandError as
    Redis's evalExtractShebangFlags. The shebang line is skipped but its newline kept, so line
    numbers stay the user's."""
    if not body.startswith(b"#!"):
        return None, 0
    end = body.find(b"\n")
    if end < 0:
        raise CommandError(errors.SCRIPT_INVALID_SHEBANG)
    parts = body[:end].decode("utf-8", "surrogateescape").split()
    if parts[0] != "#!lua":
        raise CommandError(errors.script_unexpected_engine(parts[0]))
    flags = set()
    for part in parts[1:]:
        if not part.startswith("flags="):
            raise CommandError(errors.script_unknown_option(part))
        for flag in part[6:].split(",") if part[6:] else ():
            if flag not in _SHEBANG_FLAGS:
                raise CommandError(errors.script_unexpected_flag(flag))
            flags.add(flag)
    return flags, end


class LuaRaise(Exception):
    """Raised by a Python callable to raise `value` as the Lua error (see Engine._take_error)."""

    def __init__(self, value):
        super().__init__("script error")
        self.value = value


def _no_attributes(obj, name, is_setting):
    """Scripts hold Python callables (redis.call): none of their attributes is reachable."""
    raise AttributeError(name)


def _number_arg(number) -> bytes:
    """A Lua number as a command argument: C's "%.17g", as Redis formats it."""
    if number != number:
        return b"-nan" if math.copysign(1.0, number) < 0 else b"nan"
    return b"%.17g" % number


class _Missing:
    """An argument Lua did not pass ("no value" in luaL's messages)."""


_MISSING = _Missing()


def _load_bridge():
    """server/_luabridge.c with Lua's API found in lupa's module, or None (not built, pure mode,
    or a lupa whose module does not export Lua's API)."""
    _luabridge = kernel("server._luabridge")
    if _luabridge is None:
        return None
    from lupa import LuaError, LuaMemoryError

    if not _luabridge.load(lua51.__file__, _number_arg, LuaError, LuaMemoryError, _CALL_NO_ARGUMENTS,
                           _CALL_BAD_ARGUMENT):
        return None
    return _luabridge


class Script:
    __slots__ = ("sha", "body", "function", "flags", "pin")

    def __init__(self, sha, body, function, flags):
        self.sha = sha
        self.body = body
        self.function = function
        self.flags = flags  # None: no shebang (eval compatibility mode); else the shebang's flags
        self.pin = None  # the _Pin of `function` for server/_luabridge.c, made on its first run


class _Pin:
    """A registry reference to a script's function (server/_luabridge.c runs it by that number).
    When the script goes (FUNCTION DELETE, a library replaced) the number goes to its engine's
    list, which the next run releases: no Lua call from a finalizer."""

    __slots__ = ("ref", "released")

    def __init__(self, ref: int, released: list):
        self.ref = ref
        self.released = released

    def __del__(self):
        self.released.append(self.ref)


class _Run(busy.ScriptRun):
    """What one running script needs: the client, whether it may write, its protocol (and, from
    busy.ScriptRun, what the busy-script machinery needs)."""

    __slots__ = ("read_only", "resp")

    def __init__(self, client, read_only, sha, eval_mode):
        # busy.ScriptRun's fields set here rather than through its __init__: one call less per script
        self.client = client
        self.started = _monotonic()
        self.eval_mode = eval_mode
        self.name = sha
        self.dirty = False
        self.killed = False
        self.timed_out = False
        self.read_only = read_only
        self.resp = 2


def _constant(value):
    """A function returning `value` (a frozen clock that does not read an int)."""
    return lambda: value


class Rand48:
    """Redis's redisLrand48/redisSrand48 (the drand48 recurrence) behind math.random, so a seed
    gives the same sequence as Redis on every platform."""

    __slots__ = ("x",)

    def __init__(self, seed: int = 0):
        self.seed(seed)

    def seed(self, value: int) -> None:
        self.x = ((value & 0xFFFFFFFF) << 16) | 0x330E

    def next_double(self) -> float:
        self.x = (0x5DEECE66D * self.x + 0xB) & 0xFFFFFFFFFFFF
        return ((self.x >> 17) % 0x7FFFFFFF) / 0x7FFFFFFF


def engine_for(server) -> "Engine":
    """The server's EVAL engine, made on first use. It lives in a plain attribute of the server
    (Server.scripting_engine): EVALSHA asks for it on every call."""
    engine = server.scripting_engine
    if engine is None:
        engine = server.scripting_engine = Engine()
    return engine


def _engine_of(server):
    """The server's EVAL engine if one was made (None for a stand-in server of the tests)."""
    return getattr(server, "scripting_engine", None)


def flush(server) -> None:
    """SCRIPT FLUSH: drop the cache and the Lua state with it (Redis's scriptingReset)."""
    server.scripting_engine = None


def memory(server) -> tuple:
    """INFO memory's EVAL figures: (the Lua heap, an estimate of the cached scripts' bytes, their
    number); Redis's empty-engine figures before the first script."""
    engine = _engine_of(server)
    if engine is None:
        return 31744, 0, 0
    heap = int(engine.lua.eval("collectgarbage('count')") * 1024)
    return heap, sum(len(script.body) + 104 for script in engine.scripts.values()), len(engine.scripts)


def script_writes(server, name: str, argv, for_pause: bool) -> bool:
    """Whether EVAL & co. count as a write (for_pause=False: MISCONF) or as replicating (True:
    CLIENT PAUSE WRITE holds them), as Redis's evalGetCommandFlags: a shebang's flags replace
    the command's (a write unless no-writes); without one, or for a script not known, EVAL and
    EVALSHA keep their own flags, which replicate but do not write (the _RO ones neither)."""
    flags = _script_flags(server, name, argv)
    if flags is None:
        return for_pause and not name.endswith("_ro")
    return "no-writes" not in flags


def _script_flags(server, name: str, argv):
    """The shebang flags of the script EVAL & co. name (None: no shebang, or not known)."""
    if len(argv) < 2:
        return None
    engine = _engine_of(server)
    script = None
    if name.startswith("evalsha"):
        if engine is not None and len(argv[1]) == 40:
            script = engine.scripts.get(argv[1].decode("latin-1").lower())
        return None if script is None else script.flags
    if engine is not None:
        script = engine.by_body.get(argv[1]) or engine.scripts.get(sha1hex(argv[1]))
    if script is not None:
        return script.flags
    try:
        return parse_shebang(bytes(argv[1]))[0]
    except CommandError:
        return None


def cached(server, sha: str) -> bool:
    engine = _engine_of(server)
    return engine is not None and sha in engine.scripts


def _count_nested(client, cmd, nested: list) -> None:
    """Error replies inside a script's reply, counted as Redis's afterErrorReply: one that a
    called command raised (already counted) is a failed call of the script's command each time;
    others count in the error stats, and the script's command failed (once, as call() sees)."""
    uncounted = False
    for text, counted in nested:
        if counted:
            cmd.stats.failed += 1
        else:
            _count_error(client.server, text)
            uncounted = True
    if uncounted:
        cmd.stats.failed += 1


def _rejected(client, cmd, error: bytes) -> bytes:
    """A command scriptCall refused: counted in the error stats and as the command's rejected
    call, as Redis's afterErrorReply and incrCommandStatsOnError."""
    _count_error(client.server, error.decode("utf-8", "surrogateescape"))
    cmd.stats.rejected += 1
    return error


def _count_error(server, message: str) -> None:
    """dispatch.count_error, bound on first use (as _dispatch_call)."""
    global _count_error
    from server.dispatch import count_error

    _count_error = count_error
    count_error(server, message)


def _dispatch_call(client, cmd, argv):
    """dispatch.call, bound on first use (dispatch imports the commands, which import this
    module); an import statement per redis.call would cost a microsecond each time."""
    global _dispatch_call
    from server.dispatch import call

    _dispatch_call = call
    return call(client, cmd, argv)


_CALL_NO_ARGUMENTS = errors.SCRIPT_CALL_NO_ARGUMENTS.encode()
_CALL_BAD_ARGUMENT = errors.SCRIPT_CALL_BAD_ARGUMENT.encode()
_UNKNOWN_COMMAND = b"ERR " + errors.SCRIPT_UNKNOWN_COMMAND.encode()
_WRONG_ARITY = b"ERR " + errors.SCRIPT_WRONG_ARITY.encode()
_NOSCRIPT_COMMAND = b"ERR " + errors.SCRIPT_NOSCRIPT_COMMAND.encode()
_READ_ONLY = b"ERR " + errors.SCRIPT_READ_ONLY.encode()
# redis.call's first argument as the script spells it -> (command, refused in scripts, refused in
# read-only scripts, its arity as min and max, a write), for commands without subcommands: the
# lookup and the flag arithmetic once.
_CALLABLE: dict = {}
_CALLABLE_MAX = 1024  # spellings kept (a script could make up any number of them)
# The same spellings, for the commands server/_luabridge.c's redis.call runs through the kernel
# itself (its fast_command): -> (command, a write, its arity as min and max, its handler and stats
# for the kernel). Only commands with a kernel, which scriptCall refuses for no reason but a write
# in a read-only script.
_FAST: dict = {}
# KEYS and ARGV together up to this many go to Lua as arguments through lupa; more as two tables
# (Lua 5.1's C stack holds at most 8000 values: LUAI_MAXCSTACK)
_MAX_VARARGS = 4000

_bridge = _load_bridge()
_fields_found = None  # whether server/_luabridge.c found every field it reads (asked once)


# redis.call's commands that script_call may run (it answers NotImplemented for any other case)
_KERNEL_COMMANDS = frozenset(("get", "set", "incr"))
# server/_fastpath.c's script_call (GET, SET and INCR for a script without their Python handlers,
# when its conditions hold), or None: the handlers serve every call
_script_call = kernel("server._fastpath", "script_call")


def _lookup(argv):
    """redis.call's command for `argv` as _CALLABLE holds it, or the error text for an unknown
    command or a wrong number of arguments."""
    cmd = COMMANDS.get(argv[0].lower())
    container = cmd is not None and cmd.subcommands
    if container and len(argv) >= 2:
        cmd = cmd.subcommands.get(argv[1].lower())
    if cmd is None:
        return _UNKNOWN_COMMAND
    if cmd.handler is None:  # a container named alone
        return _WRONG_ARITY
    found = (cmd, bool(cmd.flags & Flag.NOSCRIPT),
             bool(cmd.flags & _WRITE_OR_REPLICATE) or cmd.name in _PUBLISHERS,
             cmd.min_args, cmd.max_args, cmd.is_write,
             _script_call if cmd.name in _KERNEL_COMMANDS else None)
    if not container:
        if len(_CALLABLE) >= _CALLABLE_MAX:
            _CALLABLE.clear()
            _FAST.clear()
        _CALLABLE[argv[0]] = found
        kernel, noscript, writes, min_args, max_args, is_write = found[6], *found[1:6]
        if kernel is not None and not noscript and writes == is_write:
            _FAST[argv[0]] = (cmd, is_write, min_args, max_args, cmd.handler, cmd.stats)
    return found


class Engine:
    eval_mode = True  # EVAL & co.'s engine; False for the functions' (server/functions.py)

    def __init__(self):
        self.lua = lua51.LuaRuntime(encoding=None, unpack_returned_tuples=True, register_eval=False,
                                    register_builtins=False, attribute_filter=_no_attributes)
        self.scripts = {}  # sha (lower-case hex str) -> Script
        self.by_body = {}  # body -> Script, for EVAL
        self.by_sha = {}  # sha (lower-case hex bytes) -> Script, for EVALSHA
        self.run = None  # the _Run of the script running now
        self._spare = None  # a _Run no longer in use, for the next script (see execute)
        self.nested_errors = None  # (text, counted already) of errors inside the reply being made
        self.eval_mode = True  # EVAL's engine; False for functions' (FUNCTION KILL, their BUSY text)
        self.rand = Rand48(int.from_bytes(os.urandom(4), "little"))
        bridge = self.lua.table_from({
            b"call": self._redis_call, b"pcall": self._redis_pcall, b"raising": self._raising,
            b"take_error": self._take_error, b"sha1hex": lambda data: sha1hex(data).encode(),
            b"log": self._log, b"setresp": self._setresp, b"rand": self.rand.next_double,
            b"seed": self.rand.seed, b"json_decoder": self._json_decoder,
            b"msgpack_pack": self._msgpack_pack, b"msgpack_unpack": self._msgpack_unpack,
            b"msgpack_unpack_one": self._msgpack_unpack_one, b"msgpack_unpack_limit": self._msgpack_unpack_limit,
            b"struct_pack": self._struct_pack, b"struct_unpack": self._struct_unpack,
            b"struct_size": self._struct_size,
            b"acl_check": self._acl_check, b"version": REDIS_VERSION.encode(),
            b"version_num": _version_num(REDIS_VERSION),
            b"interrupt": self._interrupt, b"killed": errors.SCRIPT_KILLED.encode(),
            b"hook_count": busy.HOOK_INSTRUCTIONS,
        })
        self._open_bridge(bridge)
        self._api = self.lua.execute(PRELUDE, bridge, name="=forkv")
        self._arm = self._api[b"arm"]  # the count hook of server/busy.py
        self._arm()
        self._compile = self._api[b"compile"]
        self._execute = self._api[b"run"]
        self._execute_tables = self._api[b"run_c"]
        self._table = self.lua.table
        self._where = self._api[b"where"]
        self._null = self._api[b"null"]
        self._one_field = self._api[b"field"]
        self._fields = self._api[b"fields"]
        self._command_error = self._api[b"command_error"]
        self._rawget = self._api[b"rawget"]
        if self._c_state is not None:  # what server/_luabridge.c's run needs of this engine
            runner = int(self._c_pin(self._api[b"run_c"]))
            self._c_engine = (self._c_state, runner, self._c_slot, self._command, self._c_stash_value,
                              _FAST, _script_call, self._converted, _constant)

    def _open_bridge(self, bridge) -> None:
        """Load server/_luabridge.c into this runtime (package.loadlib of the module's own file):
        redis.call/pcall become its C functions; the state and its helpers are kept for execute."""
        self._c_state = self._c_engine = None
        self._c_released = []  # registry references of scripts gone (_Pin)
        if _bridge is None:
            return
        try:
            opener = self.lua.eval("package.loadlib(...)", _bridge.__file__.encode(), b"forkv_luabridge_open")
        except lua51.LuaError:  # no package library
            return
        if lua51.lua_type(opener) != "function":  # (nil, message, where): not loadable
            return
        global _fields_found
        if _fields_found is None:  # where run finds the client's and keyspace's fields
            from server.client import Client, Stats
            from server.keyspace import Keyspace

            _fields_found = _bridge.fields(Client, Keyspace, Stats, _Run)
        state, slot, call, pcall, self._c_pin, self._c_unpin, self._c_take, self._c_stash = opener()
        bridge[b"call"], bridge[b"pcall"] = call, pcall
        self._c_slot = int(slot)
        self._c_state = int(state)

    # -- the script cache ------------------------------------------------------------------------

    def load(self, body: bytes) -> Script:
        """The cached script for `body`, compiled and cached on first sight; CommandError for a bad
        shebang or a compile error, which are not cached."""
        script = self.by_body.get(body)  # hashing the body is cheaper than its SHA1
        if script is not None:
            return script
        sha = sha1hex(body)
        script = self.scripts.get(sha)
        if script is None:
            flags, offset = parse_shebang(body)
            function, error = self._compile(body[offset:] if offset else body)
            if function is None:
                raise CommandError(errors.script_compile_error(_text(error)))
            script = self.scripts[sha] = Script(sha, body, function, flags)
            self.by_sha[sha.encode()] = script
        self.by_body[body] = script
        return script

    # -- running ---------------------------------------------------------------------------------

    def execute(self, client, script: Script, keys: list, args: list, read_only: bool):
        """Run `script` for `client` and return its reply value (or raise CommandError)."""
        flags = script.flags
        if flags is not None:
            if "no-writes" in flags:
                read_only = True
            elif read_only:
                raise CommandError(errors.SCRIPT_WRITE_FLAG_RO)
            elif client.server.refuse_writes:
                raise CommandError(errors.SCRIPT_MISCONF)
        run = self._spare
        if run is None:
            run = _Run(client, read_only, script.sha, self.eval_mode)
        else:  # the last script's, reset when it ended: its fields written, not a new object
            self._spare = None
            run.client = client
            run.started = _monotonic()
            run.name = script.sha
            run.read_only = read_only
            run.dirty = False
            run.resp = 2
        outer, self.run = self.run, run
        try:
            in_c = self._c_engine
            if in_c is not None:  # server/_luabridge.c sets and puts back the context itself
                pin = script.pin
                if pin is None:
                    pin = self._pin(script)
                value = _bridge.run(in_c, pin.ref, keys, args, client, read_only, run)
            else:
                value = NotImplemented
            if value is NotImplemented:  # lupa's path: pure mode, or keys/args not all bytes
                ok, value = self._run_lupa(client, script, keys, args)
            elif value is _bridge.STASHED:
                ok, value = True, self._c_take(self._c_slot)
            elif value is _bridge.FAILED:
                ok, value = False, self._c_take(self._c_slot)
            else:
                ok = True
        finally:
            self.run = outer
            if run.timed_out:
                busy.ended(run)
                if run.killed:
                    self._arm()  # the kill left the every-line hook
            else:  # kept for the next script (busy.py holds on to a run past the threshold)
                run.client = None
                self._spare = run
        if not ok:
            raise CommandError(self._error_text(value, script.sha))
        self.nested_errors = None
        kind = type(value)
        if kind is int or kind is bytes:  # the reply as it is, for any protocol
            return value
        reply = self.to_reply(value, client.proto, run.resp)  # the client's protocol, put back
        if type(reply) is ErrorReply:
            raise CommandError(self._counted(value, reply.message))
        if self.nested_errors:
            _count_nested(client, client.last_command, self.nested_errors)
        return reply

    def _run_lupa(self, client, script: Script, keys: list, args: list) -> tuple:
        """Run the script through lupa (the reference path; server/_luabridge.c's run does the
        same): (ok, value), with the script's context set on the client
        and put back (its db, protocol and last command; the keyspace's clock frozen)."""
        saved_db, saved_proto, saved_cmd = client.db, client.proto, client.last_command
        client.in_script = True
        if saved_proto != 2:
            client.proto = 2
        # Keys expire as of the script's start while it runs (Redis's scriptTimeSnapshot), so a
        # key cannot vanish in the middle of a script. An int's __index__ returns the int: the
        # frozen clock without a new function per script.
        ks = client.server.keyspace
        clock = ks.clock
        started = clock()
        ks.clock = started.__index__ if type(started) is int else _constant(started)
        try:
            if len(keys) + len(args) < _MAX_VARARGS:
                ok, value = self._execute(script.function, len(keys), *keys, *args)
            else:  # more than Lua's C stack takes as arguments: as tables
                ok, value = self._execute_tables(script.function, self.lua.table_from(keys),
                                                 self.lua.table_from(args))
        finally:
            ks.clock = clock
            client.in_script = False
            client.last_command = saved_cmd
            if client.db is not saved_db:  # SELECT in the script
                client.db = saved_db
            if client.proto != saved_proto:  # redis.setresp, or the 2 set above
                client.proto = saved_proto
        return ok, value

    def _counted(self, value, text: str) -> str:
        """`text` as errors.Counted when the error table `value` came from redis.call/pcall, whose
        command already counted it in the error stats (Redis's ignore_error_stats_update)."""
        if lua51.lua_type(value) == "table" and self._rawget(value, b"ignore_error_stats_update") is True:
            return errors.Counted(text)
        return text

    def _pin(self, script: Script) -> "_Pin":
        """server/_luabridge.c's registry reference to the script's function, made on its first
        run; the references of scripts gone are released first."""
        while self._c_released:
            self._c_unpin(self._c_released.pop())
        pin = script.pin = _Pin(int(self._c_pin(script.function)), self._c_released)
        return pin

    def _c_stash_value(self, value) -> None:
        """server/_luabridge.c's way to hand Lua a reply converted to a table (by lupa)."""
        self._c_stash(self._c_slot, value)

    def _error_text(self, value, sha: str) -> str:
        """The reply for a script that raised: Redis's "<err> script: <sha>, on <source>:<line>."."""
        if lua51.lua_type(value) != "table":
            return "ERR " + _text(value)
        return self._counted(value, self._error_table_text(value, sha))

    def _error_table_text(self, value, sha: str) -> str:
        message = value[b"err"]
        if type(message) is int or type(message) is float:  # lua_tostring of a number: "%.14g"
            message = _number_arg(message) if message != message else b"%.14g" % message
        elif not isinstance(message, bytes):
            return errors.SCRIPT_UNKNOWN_ERROR
        text = _text(message)
        source, line = value[b"source"], value[b"line"]
        if source is not None and line is not None:
            line = int(line) if isinstance(line, float) and line.is_integer() else line
            text += f" script: {sha}, on {_text(source)}:{_text(line)}."
        return text

    # -- the redis API (called from the prelude's Lua wrappers) ----------------------------------

    def _redis_call(self, *args):
        """redis.call: the reply as Lua, or raise the error table.

        redis.call and redis.pcall are Python callables (or C functions: server/_luabridge.c),
        not Lua functions, so that `return redis.call(...)` keeps the script's frame (Lua 5.1
        replaces the frame only on a tail call to a Lua function) and an error names the script
        line as Redis's does."""
        value = self._run_command(args)
        if type(value) is tuple:
            raise LuaRaise(self._error_table(value[0]))
        return value

    def _redis_pcall(self, *args):
        """redis.pcall: the reply as Lua, or the error table."""
        value = self._run_command(args)
        if type(value) is tuple:
            return self._error_table(value[0])
        return value

    def _error_table(self, error: bytes):
        """redis.call/pcall's error table; flagged as counted unless the arguments were wrong
        (Redis raises those before it looks at the command)."""
        if error is _CALL_NO_ARGUMENTS or error is _CALL_BAD_ARGUMENT:
            return self._one_field(b"err", error)
        return self._command_error(error)

    def _raising(self, function):
        """A Lua function returning (true, value) or (false, error) as a callable that returns the
        value or raises the error (so it is raised from a C frame, as Redis's C functions)."""

        def call(*args):
            results = function(*args)
            if type(results) is not tuple:  # a lone `true`
                return None
            if results[0]:
                return results[1:] if len(results) > 2 else results[1]
            raise LuaRaise(results[1])

        return call

    def _take_error(self, exc):
        """The Lua error value for an exception raised by a Python callable."""
        if isinstance(exc, LuaRaise):
            return exc.value
        return str(exc).encode("utf-8", "surrogateescape")

    def _field(self, key: bytes, value):
        return self._one_field(key, value)  # built in Lua: cheaper than a table filled from Python

    def _run_command(self, args):
        """redis.call's arguments as lupa gives them, checked and converted, then `_command`."""
        if not args:
            return (_CALL_NO_ARGUMENTS,)
        argv = list(args)
        for i, arg in enumerate(args):
            kind = type(arg)
            if kind is not bytes:
                if kind is int or kind is float:
                    argv[i] = _number_arg(arg)
                else:
                    return (_CALL_BAD_ARGUMENT,)
        return self._command(argv)

    def _command(self, argv: list):
        """One command for the running script with Redis's scriptCall checks: the reply as Lua,
        or a 1-tuple of the error text for the error table. server/_luabridge.c's redis.call
        calls this with the arguments already converted (and their errors answered)."""
        run = self.run
        client = run.client
        found = _CALLABLE.get(argv[0])
        if found is None:
            found = _lookup(argv)
            if type(found) is bytes:
                _count_error(client.server, found.decode())
                return (found,)
        cmd, noscript, writes, min_args, max_args, is_write, kernel = found
        if not min_args <= len(argv) <= max_args:
            return (_rejected(client, cmd, _WRONG_ARITY),)
        if noscript and not client.server.script_disable_deny_script:
            return (_rejected(client, cmd, _NOSCRIPT_COMMAND),)
        if not client.user.unrestricted:  # with the caller's permissions (scriptVerifyACL)
            from server import acl

            denied = acl.check_client(client, cmd, argv, "lua")
            if denied is not None:
                return (_rejected(client, cmd, b"ERR " + errors.SCRIPT_ACL_DENIED[denied[0]].encode()),)
        if writes and run.read_only:
            return (_rejected(client, cmd, _READ_ONLY),)
        if is_write:
            # MISCONF sets every client's guard (Client.refresh_guard): the property only then
            if client.guarded and client.server.refuse_writes:
                return (_rejected(client, cmd, _lua_error(errors.MISCONF)),)
            if client.server.script_oom and not run.dirty and cmd.flags & Flag.DENYOOM:  # all are writes
                return (_rejected(client, cmd, _lua_error(errors.OOM)),)
            run.dirty = True  # SCRIPT KILL can no longer stop it (Redis's SCRIPT_WRITE_DIRTY)
        if kernel is None:
            reply = _dispatch_call(client, cmd, argv)
        else:
            reply = kernel(client, cmd, argv)
            if reply is NotImplemented:
                reply = _dispatch_call(client, cmd, argv)
            else:  # done in C, counted there but for the server's total
                client.server.stats.commands += 1
        kind = type(reply)
        if kind is int or kind is bytes:  # most replies: the same value in Lua
            return reply
        if kind is ErrorReply:
            return (_lua_error(reply.message),)
        return self.to_lua(reply, run.resp)

    def _converted(self, reply):
        """A kernel's reply that is not an int or bytes (SET's OK) as Lua gets it: the end of
        `_command`, for server/_luabridge.c's redis.call that ran the kernel itself."""
        return self.to_lua(reply, self.run.resp)

    def _interrupt(self):
        """The count hook's question: must the running script stop (busy.interrupt)?"""
        run = self.run
        return run is not None and busy.interrupt(run)

    def _setresp(self, resp):
        self.run.resp = resp
        self.run.client.proto = resp

    def _log(self, level, message):
        log.log(_LOG_LEVELS[level], _text(message))

    def _acl_check(self, *argv):
        """redis.acl_check_cmd: whether the script's caller may run this command line; None for an
        unknown command."""
        cmd = COMMANDS.get(argv[0].lower())
        if cmd is not None and cmd.subcommands and len(argv) >= 2:
            cmd = cmd.subcommands.get(argv[1].lower())
        if cmd is None:
            return None
        return self.run.client.user.check(cmd, list(argv))[0] == 0

    def _lib_error(self, exc: "lualibs.LibError", function: str):
        """A library's failure raised as luaL_error/luaL_argerror would: at the script's line."""
        message = exc.message
        if isinstance(exc, lualibs.StructArgError):
            message = f"bad argument #{exc.arg} to '{function}' ({message})"
        return LuaRaise(self._where() + message.encode("utf-8", "surrogateescape"))

    # cjson.decode

    def _json_decoder(self, cfg):
        """cjson.decode for the cjson instance whose settings are the Lua table `cfg`."""
        return lambda *args: self._json_decode(cfg, *args)

    def _json_decode(self, cfg, *args):
        if len(args) != 1:
            raise self._lib_error(lualibs.StructArgError(1, "expected 1 argument"), "decode")
        if _lua_string(args[0]) is None:
            got = _lua_type_name(args[0])
            raise self._lib_error(lualibs.StructArgError(1, f"string expected, got {got}"), "decode")
        try:
            value = lualibs.json_decode(_lua_string(args[0]), int(cfg[b"decode_max_depth"]),
                                        cfg[b"decode_invalid_numbers"] != 0)
        except lualibs.LibError as exc:
            raise self._lib_error(exc, "decode") from None
        except RecursionError:
            raise self._lib_error(lualibs.LibError("Found too many nested data structures"), "decode") from None
        return self._from_python(value)

    def _from_python(self, value):
        """Decoded JSON/MessagePack values as Lua values (lists and dicts as tables)."""
        kind = type(value)
        if kind is list:
            table = self._table()
            for i, item in enumerate(value, 1):
                table[i] = self._from_python(item)
            return table
        if kind is dict:
            table = self._table()
            for key, item in value.items():
                table[self._from_python(key)] = self._from_python(item)
            return table
        if value is lualibs.NULL:
            return self._null
        return value

    # cmsgpack

    def _msgpack_pack(self, *args):
        if not args:
            raise self._lib_error(lualibs.StructArgError(0, "MessagePack pack needs input."), "pack")
        out = []
        for arg in args:
            self._msgpack_value(arg, 0, out)
        return b"".join(out)

    def _msgpack_value(self, value, level: int, out: list) -> None:
        kind = type(value)
        if kind is bytes:
            out.append(lualibs.msgpack_bytes(value))
        elif kind is bool:
            out.append(b"\xc3" if value else b"\xc2")
        elif kind is int or kind is float:
            out.append(lualibs.msgpack_number(value))
        elif value is None or lua51.lua_type(value) != "table" or level >= lualibs.MSGPACK_MAX_NESTING:
            out.append(b"\xc0")
        else:
            items = list(value.items())
            count = len(items)
            top = 0
            array = True
            for key, _ in items:
                if type(key) not in (int, float) or key <= 0 or key != int(key):
                    array = False
                    break
                top = max(top, int(key))
            if array and top == count:
                out.append(lualibs.msgpack_array_header(count))
                for i in range(1, count + 1):
                    self._msgpack_value(value[i], level + 1, out)
            else:
                out.append(lualibs.msgpack_map_header(count))
                for key, item in items:
                    self._msgpack_value(key, level + 1, out)
                    self._msgpack_value(item, level + 1, out)

    def _msgpack_unpack(self, data=_MISSING, *_):
        return self._msgpack_decode(data, 0, 0)

    def _msgpack_unpack_one(self, data=_MISSING, offset=None, *_):
        return self._msgpack_decode(data, 1, 0 if offset is None else offset)

    def _msgpack_unpack_limit(self, data=_MISSING, limit=None, offset=None, *_):
        return self._msgpack_decode(data, 0 if limit is None else limit, 0 if offset is None else offset)

    def _msgpack_decode(self, data, limit, offset):
        """lua-cmsgpack's mp_unpack_full: limit 0 decodes everything (cmsgpack.unpack) and returns
        just the values; otherwise the next offset (-1 at the end) comes first."""
        text = _lua_string(data)
        if text is None:
            got = _lua_type_name(data)
            raise self._lib_error(lualibs.StructArgError(1, f"string expected, got {got}"), "unpack")
        limit, offset = int(_lua_number(limit) or 0), int(_lua_number(offset) or 0)
        data = text
        size = len(data)
        if offset < 0 or limit < 0:
            message = f"Invalid request to unpack with offset of {offset} and limit of {size}."
            raise self._lib_error(lualibs.LibError(message), "unpack")
        if offset > size:
            message = f"Start offset {offset} greater than input length {size}."
            raise self._lib_error(lualibs.LibError(message), "unpack")
        decoder = lualibs.MsgpackDecoder(data, offset, self.lua.table_from, self._pairs_table)
        values = []
        try:
            while decoder.pos < size and (limit == 0 or len(values) < limit):
                values.append(decoder.value())
        except lualibs.LibError as exc:
            raise self._lib_error(exc, "unpack") from None
        if limit == 0:
            return tuple(values)
        return (-1 if decoder.pos >= size else decoder.pos, *values)

    def _pairs_table(self, pairs):
        table = self._table()
        for key, item in pairs:
            if key is not None:
                table[key] = item
        return table

    # struct

    def _struct_fmt(self, args, function: str) -> bytes:
        if not args or type(args[0]) not in (bytes, int, float):
            got = _lua_type_name(args[0]) if args else "no value"
            raise self._lib_error(lualibs.StructArgError(1, f"string expected, got {got}"), function)
        fmt = args[0]
        return fmt if type(fmt) is bytes else _number_arg(fmt)

    def _struct_pack(self, *args):
        fmt = self._struct_fmt(args, "pack")
        out = bytearray()
        arg = 1
        try:
            for opt, size, align, little in lualibs.struct_items(fmt):
                out += b"\0" * lualibs.struct_padding(len(out), size, align, opt)
                if opt == "x":
                    out += b"\0"
                    continue
                arg += 1
                value = args[arg - 1] if arg - 1 < len(args) else None  # struct.c pushes a nil there
                if opt in "cs":
                    text = _lua_string(value)
                    if text is None:
                        raise lualibs.StructArgError(arg, f"string expected, got {_lua_type_name(value)}")
                    if opt == "s":
                        out += text + b"\0"
                        continue
                    if size == 0:
                        size = len(text)
                    if len(text) < size:  # struct.c names the argument after the string
                        raise lualibs.StructArgError(arg + 1, "string too short")
                    out += text[:size]
                    continue
                number = _lua_number(value)
                if number is None:
                    raise lualibs.StructArgError(arg, f"number expected, got {_lua_type_name(value)}")
                if opt == "f" or opt == "d":
                    out += _pack_float(number, opt, little)
                else:
                    out += lualibs.struct_pack_int(number, size, little)
        except lualibs.LibError as exc:
            raise self._lib_error(exc, "pack") from None
        return bytes(out)

    def _struct_unpack(self, *args):
        fmt = self._struct_fmt(args, "unpack")
        data = _lua_string(args[1]) if len(args) > 1 else None
        try:
            if data is None:
                got = _lua_type_name(args[1] if len(args) > 1 else _MISSING)
                raise lualibs.StructArgError(2, f"string expected, got {got}")
            init = _lua_number(args[2]) if len(args) > 2 and args[2] is not None else 1
            if init is None:
                raise lualibs.StructArgError(3, f"number expected, got {_lua_type_name(args[2])}")
            pos = int(init) - 1
            if pos < 0:  # a size_t in struct.c: far past the end
                pos = 1 << 62
            values = []
            for opt, size, align, little in lualibs.struct_items(fmt):
                pos += lualibs.struct_padding(pos, size, align, opt)
                if opt == "x":
                    pos += 1
                    continue
                if opt == "s":
                    end = data.find(b"\0", pos)
                    if end < 0:
                        raise lualibs.LibError("unfinished string in data")
                    values.append(data[pos:end])
                    pos = end + 1
                    continue
                if opt == "c" and size == 0:
                    if not values or type(values[-1]) not in (int, float):
                        raise lualibs.LibError("format 'c0' needs a previous size")
                    size = int(values.pop())
                if pos + size > len(data):
                    raise lualibs.StructArgError(2, "data string too short")
                raw = data[pos:pos + size]
                pos += size
                if opt == "c":
                    values.append(raw)
                elif opt == "f" or opt == "d":
                    values.append(_struct.unpack(("<" if little else ">") + opt, raw)[0])
                else:
                    number = lualibs.struct_unpack_int(raw, opt.islower(), little)
                    values.append(float(number) if abs(number) > 1 << 53 else number)
        except lualibs.LibError as exc:
            raise self._lib_error(exc, "unpack") from None
        return (*values, pos + 1)

    def _struct_size(self, *args):
        fmt = self._struct_fmt(args, "size")
        total = 0
        try:
            for opt, size, align, _ in lualibs.struct_items(fmt):
                if opt == "s" or (opt == "c" and size == 0):
                    name = "c0" if opt == "c" else opt
                    raise lualibs.StructArgError(1, f"option '{name}' has no fixed size")
                total += lualibs.struct_padding(total, size, align, opt) + size
        except lualibs.LibError as exc:
            raise self._lib_error(exc, "size") from None
        return total

    # -- conversions -----------------------------------------------------------------------------

    def to_lua(self, value, resp: int):
        """A command's reply value as Redis hands it to Lua (redisProtocolToLuaType) for a script
        speaking RESP `resp`."""
        kind = type(value)
        if kind is bytes or kind is int:
            return value
        if kind is Encoded:
            return self.to_lua(value.value, resp)
        if kind is bytearray or kind is memoryview:
            return bytes(value)
        if value is None or value is NULL_ARRAY:
            return False if resp == 2 else None
        if kind is Status:
            return self._field(b"ok", value.encode("utf-8", "surrogateescape"))
        if kind is ErrorReply:
            return self._field(b"err", _lua_error(value.message))
        if kind is bool:
            return value if resp == 3 else int(value)
        if kind is float:
            return format_double(value) if resp == 2 else self._field(b"double", value)
        if kind is BigNumber:
            return bytes(value) if resp == 2 else self._field(b"big_number", bytes(value))
        if kind is Verbatim:
            text = value.encode("utf-8", "surrogateescape")
            if resp == 2:
                return text
            inner = self.lua.table_from({b"format": b"txt", b"string": text})
            return self._field(b"verbatim_string", inner)
        if kind is str:
            return value.encode("utf-8", "surrogateescape")
        if isinstance(value, dict):
            if resp == 2:
                flat = []
                for key, item in value.items():
                    flat.append(key)
                    flat.append(item)
                return self.to_lua(flat, 2)
            table = self._table()
            for key, item in value.items():
                table[self.to_lua(key, resp)] = self.to_lua(item, resp)
            return self._field(b"map", table)
        if resp == 3 and isinstance(value, (set, frozenset, SetReply)):
            table = self._table()
            for item in value:
                table[self.to_lua(item, resp)] = True
            return self._field(b"set", table)
        if isinstance(value, (list, tuple, set, frozenset)):
            table = self._table()
            i = 0
            for item in value:
                i += 1
                table[i] = self.to_lua(item, resp)
            return table
        raise TypeError(f"no Lua conversion for {kind.__name__}")

    def to_reply(self, value, proto: int, resp: int, depth: int = 0):
        """A Lua value as the reply value Redis makes of it (luaReplyToRedisReply), for a client
        speaking `proto` from a script that last set RESP `resp`."""
        kind = type(value)
        if kind is bytes or kind is int:
            return value
        if kind is float:
            return _truncate(value)
        if kind is bool:
            if resp == 2:
                return 1 if value else None
            return value
        if value is None or lua51.lua_type(value) != "table":
            return None
        if depth >= _MAX_REPLY_DEPTH:  # Redis's lua_checkstack failing deep in a nested table
            return ErrorReply(errors.SCRIPT_STACK_LIMIT)
        # Read raw, as luaReplyToRedisReply's lua_rawget: a metatable neither runs nor answers.
        has_meta, err, ok, double, big, verbatim, mapping, members, minus_zero = self._fields(value)
        if type(err) is bytes:
            if depth:  # an error inside the reply: counted once the reply is made (_count_nested)
                if self.nested_errors is None:
                    self.nested_errors = []
                self.nested_errors.append((_text(err), self._rawget(value, b"ignore_error_stats_update") is True))
            return ErrorReply(_text(err))
        if type(ok) is bytes:
            return Status(_text(ok).replace("\r", " ").replace("\n", " "))
        if type(double) is int or type(double) is float:
            if minus_zero:  # lupa hands -0.0 over as the integer 0
                return -0.0
            if double != double and math.copysign(1.0, double) < 0:  # Lua's 0/0: printf says "-nan"
                return Encoded(b",-nan\r\n" if proto == 3 else b"$4\r\n-nan\r\n", float(double))
            return float(double)
        if type(big) is bytes:
            big = big.replace(b"\r", b" ").replace(b"\n", b" ")
            if proto == 2:
                return big
            return Encoded(b"(" + big + b"\r\n", big)
        if lua51.lua_type(verbatim) == "table":
            fmt, text = verbatim[b"format"], verbatim[b"string"]
            if type(fmt) is bytes and type(text) is bytes:
                if proto == 2:
                    return text
                body = fmt[:3].ljust(3) + b":" + text
                return Encoded(b"=%d\r\n%b\r\n" % (len(body), body), text)
        depth += 1
        if lua51.lua_type(mapping) == "table":
            result = Map()
            pairs = []
            for key, item in mapping.items():
                pairs.append((self.to_reply(key, proto, resp, depth), self.to_reply(item, proto, resp, depth)))
            try:
                result.update(pairs)
            except TypeError:  # a key Python cannot hash (a nested array): keep the pairs
                return _pairs_reply(pairs, proto)
            if len(result) != len(pairs):  # keys that became equal (1.2 and 1.7 both truncate to 1)
                return _pairs_reply(pairs, proto)
            return result
        if lua51.lua_type(members) == "table":
            return SetReply(self.to_reply(key, proto, resp, depth) for key in members.keys())
        out = []
        rawget = self._rawget
        for i in count(1):
            item = rawget(value, i) if has_meta else value[i]
            if item is None:
                break
            out.append(self.to_reply(item, proto, resp, depth))
        return out


def _pairs_reply(pairs: list, proto: int):
    """A map reply whose keys a dict cannot hold (unhashable, or repeated), for `proto`: RESP2's
    flat array, or RESP3's map header and the pairs as they are."""
    flat = [x for pair in pairs for x in pair]
    if proto == 2:
        return flat
    out = [b"%%%d\r\n" % len(pairs)]
    for x in flat:
        encode_reply(x, out, 3)
    return Encoded(b"".join(out), flat)


def _lua_type_name(value) -> str:
    kind = type(value)
    if value is _MISSING:
        return "no value"
    if value is None:
        return "nil"
    if kind is bytes:
        return "string"
    if kind is bool:
        return "boolean"
    if kind is int or kind is float:
        return "number"
    return lua51.lua_type(value) or "userdata"


def _lua_number(value):
    """luaL_checknumber's view of an argument: numbers, and strings that read as one."""
    kind = type(value)
    if kind is int or kind is float:
        return value
    if kind is bytes:
        try:
            text = value.strip()
            return float(int(text, 16)) if text.lower().startswith((b"0x", b"-0x")) else float(text)
        except ValueError:
            return None
    return None


def _lua_string(value):
    """luaL_checklstring's view: strings, and numbers as Lua prints them."""
    kind = type(value)
    if kind is bytes:
        return value
    if kind is int:
        return b"%d" % value
    if kind is float:
        return b"%.14g" % value
    return None


def _pack_float(number, opt: str, little: bool) -> bytes:
    fmt = ("<" if little else ">") + opt
    try:
        return _struct.pack(fmt, number)
    except OverflowError:  # C's double -> float conversion gives an infinity
        return _struct.pack(fmt, math.copysign(math.inf, number))


def _truncate(number: float) -> int:
    """A Lua number as Redis's (long long) cast of it (x86: out of range and NaN give LLONG_MIN)."""
    if number != number or not -9.223372036854776e18 <= number < 9.223372036854776e18:
        return LLONG_MIN
    return int(number)


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _lua_error(message: str) -> bytes:
    """A command's error as the `err` field Redis gives Lua (luaPushErrorBuff): "CODE message",
    with the ERR code added when the message has no space to split a code off."""
    message = message.strip("\r\n")
    if " " not in message:
        message = "ERR " + message
    return message.encode("utf-8", "surrogateescape")


# The Lua side: the sandbox and the redis API wrappers. Runs once per runtime with the Python
# bridge as its argument and returns the functions Python calls. Its chunk name "=forkv" lets the
# error handler skip these wrappers when it looks for the script line an error comes from.
PRELUDE = r"""
local B = ...
local type, error, select, pcall, tostring, tonumber, pairs, ipairs, next, rawget, rawset =
      type, error, select, pcall, tostring, tonumber, pairs, ipairs, next, rawget, rawset
local setmetatable, getmetatable, setfenv, loadstring, load, xpcall, unpack =
      setmetatable, getmetatable, setfenv, loadstring, load, xpcall, unpack
local format, floor, ceil, getinfo, concat = string.format, math.floor, math.ceil, debug.getinfo, table.concat
local sethook = debug.sethook
local py_call, py_rand = B.call, B.rand

local READONLY = "Attempt to modify a readonly table"
local real_of = setmetatable({}, {__mode = "k"})  -- read-only proxy -> the table it shows

local function ro_newindex() error(READONLY, 2) end

local function readonly(real)
  local proxy = setmetatable({}, {__index = real, __newindex = ro_newindex})
  real_of[proxy] = real
  return proxy
end

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

-- math with Redis's PRNG. random is called through a Python callable (B.raising) so that its
-- errors come from a C frame with the script's position, as luaL_error's from Redis's C function.
local function where(up)
  -- 1: where, 2: the implementation, 3: the Python callable, 4: its caller (`up` more levels
  -- when called from a helper of the implementation)
  local i = getinfo(4 + (up or 0), "Sl")
  if i and i.currentline > 0 then return i.short_src .. ":" .. i.currentline .. ": " end
  return ""
end
local function checkint(i, v)
  local n = tonumber(v)
  if n == nil then
    return nil, format("bad argument #%d to 'random' (number expected, got %s)", i,
                       v == nil and "no value" or type(v))
  end
  if n >= 0 then return floor(n) end
  return ceil(n)
end
local mathlib = copy(math)
mathlib.random = B.raising(function(...)
  local r = py_rand()
  local n = select("#", ...)
  if n == 0 then return true, r end
  if n == 1 then
    local u, e = checkint(1, (...))
    if not u then return false, where() .. e end
    if u < 1 then return false, where() .. "bad argument #1 to 'random' (interval is empty)" end
    return true, floor(r * u) + 1
  end
  if n == 2 then
    local a, b = ...
    local l, e = checkint(1, a)
    if not l then return false, where() .. e end
    local u, e2 = checkint(2, b)
    if not u then return false, where() .. e2 end
    if l > u then return false, where() .. "bad argument #2 to 'random' (interval is empty)" end
    return true, floor(r * (u - l + 1)) + l
  end
  return false, where() .. "wrong number of arguments"
end)
mathlib.randomseed = B.raising(function(seed)
  local n, e = checkint(1, seed)
  if not n then return false, where() .. e:gsub("'random'", "'randomseed'") end
  B.seed(n)
  return true, nil
end)

-- bit (LuaBitOp): 32-bit operations on numbers
local function tobit(x)
  x = tonumber(x)
  if x == nil then error("bad argument #1 to 'tobit' (number expected)", 2) end
  x = x % 4294967296
  if x >= 2147483648 then x = x - 4294967296 end
  return floor(x)
end
local function u32(x) return tobit(x) % 4294967296 end
local function bitop(combine)
  return function(a, ...)
    local r = u32(a)
    for i = 1, select("#", ...) do
      local b = u32((select(i, ...)))
      local out, bitv = 0, 1
      local x, y = r, b
      for _ = 1, 32 do
        local xb, yb = x % 2, y % 2
        if combine(xb, yb) then out = out + bitv end
        x, y, bitv = (x - xb) / 2, (y - yb) / 2, bitv * 2
      end
      r = out
    end
    return tobit(r)
  end
end
local bitlib = {
  tobit = tobit,
  band = bitop(function(a, b) return a == 1 and b == 1 end),
  bor = bitop(function(a, b) return a == 1 or b == 1 end),
  bxor = bitop(function(a, b) return a ~= b end),
  bnot = function(x) return tobit(4294967295 - u32(x)) end,
  lshift = function(x, n) n = u32(n) % 32 return tobit(u32(x) * 2 ^ n) end,
  rshift = function(x, n) n = u32(n) % 32 return tobit(floor(u32(x) / 2 ^ n)) end,
  arshift = function(x, n)
    n = u32(n) % 32
    local v = tobit(x)
    return tobit(floor(v / 2 ^ n))
  end,
  rol = function(x, n)
    n = u32(n) % 32
    local v = u32(x)
    return tobit((v * 2 ^ n) % 4294967296 + floor(v / 2 ^ (32 - n)))
  end,
  ror = function(x, n)
    n = u32(n) % 32
    local v = u32(x)
    return tobit(floor(v / 2 ^ n) + (v * 2 ^ (32 - n)) % 4294967296)
  end,
  bswap = function(x)
    local v = u32(x)
    local b0, b1, b2, b3 = v % 256, floor(v / 256) % 256, floor(v / 65536) % 256, floor(v / 16777216)
    return tobit(((b0 * 256 + b1) * 256 + b2) * 256 + b3)
  end,
  tohex = function(x, n)
    n = n or 8
    local upper = n < 0
    if upper then n = -n end
    local s = format(upper and "%08X" or "%08x", u32(x))
    return s:sub(9 - n)
  end,
}

-- cjson: encode here, decode in Python (server/lualibs.py)
local null = newproxy(false)
local escapes = {['"'] = '\\"', ['\\'] = '\\\\', ['/'] = '\\/', ['\b'] = '\\b', ['\f'] = '\\f',
                 ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t'}
local function escape_char(c)
  return escapes[c] or format("\\u%04x", c:byte())
end
-- The settings of the cjson instance encoding now (each cjson.new() has its own, as lua_cjson's).
local ecfg
local function encode_number(n)
  if n ~= n or n == math.huge or n == -math.huge then
    local mode = ecfg.encode_invalid_numbers
    if mode == 0 then error("Cannot serialise number: must not be NaN or Inf", 0) end
    if mode == 2 then return "null" end
    if n ~= n then return "nan" end
  end
  return format("%." .. ecfg.encode_number_precision .. "g", n)
end
local encode_value
local pyfuncs  -- (set below) the Python callables standing for functions
local function encode_table(t, depth, out)
  if depth > ecfg.encode_max_depth then error(format("Cannot serialise, excessive nesting (%d)", depth), 0) end
  local max, n, is_array = 0, 0, true
  for k in pairs(t) do
    if type(k) == "number" and k > 0 and floor(k) == k then
      if k > max then max = k end
      n = n + 1
    else
      is_array = false
      break
    end
  end
  local ratio = ecfg.encode_sparse_ratio
  if is_array and ratio > 0 and max > n * ratio and max > ecfg.encode_sparse_safe then
    if ecfg.encode_sparse_convert == 0 then error("Cannot serialise table: excessively sparse array", 0) end
    is_array = false  -- converted: encoded as an object
  end
  if is_array and n > 0 then
    out[#out + 1] = "["
    for i = 1, max do
      if i > 1 then out[#out + 1] = "," end
      encode_value(t[i], depth, out)
    end
    out[#out + 1] = "]"
    return
  end
  out[#out + 1] = "{"
  local first = true
  for k, v in pairs(t) do
    local kt = type(k)
    if kt == "number" then k = encode_number(k)
    elseif kt ~= "string" then error("Cannot serialise " .. kt .. ": table key must be a number or string", 0) end
    if not first then out[#out + 1] = "," end
    first = false
    out[#out + 1] = '"' .. k:gsub('[%c"\\/]', escape_char) .. '":'
    encode_value(v, depth, out)
  end
  out[#out + 1] = "}"
end
encode_value = function(v, depth, out)
  local t = type(v)
  if t == "string" then out[#out + 1] = '"' .. v:gsub('[%c"\\/]', escape_char) .. '"'
  elseif t == "number" then out[#out + 1] = encode_number(v)
  elseif t == "boolean" then out[#out + 1] = tostring(v)
  elseif t == "nil" or v == null then out[#out + 1] = "null"
  elseif t == "table" then encode_table(real_of[v] or v, depth + 1, out)
  else
    if t == "userdata" and pyfuncs[v] then t = "function" end
    error("Cannot serialise " .. t .. ": type not supported", 0)
  end
end
local function cjson_encode(cfg, ...)
  if select("#", ...) ~= 1 then return false, where(1) .. "bad argument #1 to 'encode' (expected 1 argument)" end
  local out = {}
  ecfg = cfg
  local ok, e = pcall(encode_value, (...), 0, out)
  if not ok then return false, where(1) .. e end
  return true, concat(out)
end
-- cjson's settings, checked and reported as lua_cjson's json_integer_option / json_enum_option
-- (whose range error always names argument #1). Enums are kept as lua_cjson's indexes.
local INT_MAX = 2147483647
local function cj_argerror(i, fname, msg)
  return false, where(2) .. format("bad argument #%d to '%s' (%s)", i, fname, msg)
end
local function lua_tointeger(v)  -- luaL_checkinteger's view of a number or numeric string
  local n = tonumber(v)
  if n == nil then return nil end
  return n >= 0 and floor(n) or ceil(n)
end
local function int_option(cfg, fname, key, i, v, min, max)
  if v ~= nil then
    local n = lua_tointeger(v)
    if n == nil then return cj_argerror(i, fname, "number expected, got " .. type(v)) end
    if n < min or n > max then return cj_argerror(1, fname, format("expected integer between %d and %d", min, max)) end
    cfg[key] = n
  end
  return true, cfg[key]
end
local function enum_option(cfg, fname, key, i, v, options)
  if v ~= nil then
    if type(v) == "boolean" then
      cfg[key] = v and 1 or 0
    else
      if type(v) ~= "string" and type(v) ~= "number" then
        return cj_argerror(i, fname, "string expected, got " .. type(v))
      end
      local found
      for index, name in ipairs(options) do
        if name == tostring(v) then found = index - 1 end
      end
      if found == nil then return cj_argerror(i, fname, "invalid option '" .. tostring(v) .. "'") end
      cfg[key] = found
    end
  end
  local value = cfg[key]
  if value <= 1 then return true, value == 1 end
  return true, options[value + 1]
end
local BOOL_OPTIONS, NUMBER_OPTIONS = {"off", "on"}, {"off", "on", "null"}
local function check_args(fname, n, ...)
  if select("#", ...) > n then return cj_argerror(n + 1, fname, "found too many arguments") end
  return true
end
local function make_cjson()
  local cfg = {encode_max_depth = 1000, decode_max_depth = 1000, encode_number_precision = 14,
               encode_keep_buffer = 1, encode_invalid_numbers = 0, decode_invalid_numbers = 1,
               encode_sparse_convert = 0, encode_sparse_ratio = 2, encode_sparse_safe = 10}
  local function int_setting(fname, min, max)
    return B.raising(function(...)
      local ok, e = check_args(fname, 1, ...)
      if not ok then return ok, e end
      return int_option(cfg, fname, fname, 1, (...), min, max)
    end)
  end
  local function enum_setting(fname, options)
    return B.raising(function(...)
      local ok, e = check_args(fname, 1, ...)
      if not ok then return ok, e end
      return enum_option(cfg, fname, fname, 1, (...), options)
    end)
  end
  local lib = {
    _NAME = "cjson", _VERSION = "2.1.0", null = null,
    encode = B.raising(function(...)
      local ok, v = cjson_encode(cfg, ...)  -- not a tail call: where() counts the levels
      return ok, v
    end),
    decode = B.json_decoder(cfg),
    encode_max_depth = int_setting("encode_max_depth", 1, INT_MAX),
    decode_max_depth = int_setting("decode_max_depth", 1, INT_MAX),
    encode_number_precision = int_setting("encode_number_precision", 1, 14),
    encode_keep_buffer = enum_setting("encode_keep_buffer", BOOL_OPTIONS),
    encode_invalid_numbers = enum_setting("encode_invalid_numbers", NUMBER_OPTIONS),
    decode_invalid_numbers = enum_setting("decode_invalid_numbers", BOOL_OPTIONS),
    encode_sparse_array = B.raising(function(...)
      local fname = "encode_sparse_array"
      local ok, e = check_args(fname, 3, ...)
      if not ok then return ok, e end
      local convert, ratio, safe = ...
      local ok1, c = enum_option(cfg, fname, "encode_sparse_convert", 1, convert, BOOL_OPTIONS)
      if not ok1 then return ok1, c end
      local ok2, r = int_option(cfg, fname, "encode_sparse_ratio", 2, ratio, 0, INT_MAX)
      if not ok2 then return ok2, r end
      local ok3, s = int_option(cfg, fname, "encode_sparse_safe", 3, safe, 0, INT_MAX)
      if not ok3 then return ok3, s end
      return true, c, r, s
    end),
  }
  return lib
end
local cjsonlib = make_cjson()
cjsonlib.new = function() return readonly(make_cjson()) end

-- cmsgpack and struct: in Python
local cmsgpacklib = {
  _NAME = "cmsgpack", _VERSION = "lua-cmsgpack 0.4.0",
  _COPYRIGHT = "Copyright (C) 2012, Salvatore Sanfilippo",
  _DESCRIPTION = "MessagePack C implementation for Lua",
  pack = B.msgpack_pack,
  unpack = B.msgpack_unpack, unpack_one = B.msgpack_unpack_one, unpack_limit = B.msgpack_unpack_limit,
}
local structlib = {pack = B.struct_pack, unpack = B.struct_unpack, size = B.struct_size}

-- the redis API
local function raise(msg) return false, {err = "ERR " .. msg} end
local function tointeger(v)  -- lua_tointeger: numbers truncated, anything else 0
  v = tonumber(v) or 0
  if v ~= v then return 0 end
  if v >= 0 then return floor(v) end
  return ceil(v)
end
local raising = B.raising
local redislib = {
  call = B.call,
  pcall = B.pcall,
  error_reply = function(...)
    local e = ...
    if select("#", ...) ~= 1 or type(e) ~= "string" then return {err = "ERR wrong number or type of arguments"} end
    if e:sub(1, 1) == "-" then e = e:sub(2) end
    if not e:find(" ", 1, true) then e = "ERR " .. e end
    return {err = e}
  end,
  status_reply = function(...)
    local s = ...
    if select("#", ...) ~= 1 or type(s) ~= "string" then return {err = "ERR wrong number or type of arguments"} end
    return {ok = s}
  end,
  sha1hex = raising(function(...)
    if select("#", ...) ~= 1 then return raise("wrong number of arguments") end
    local s = ...
    if type(s) ~= "string" and type(s) ~= "number" then s = "" end
    return true, B.sha1hex(tostring(s))
  end),
  log = raising(function(...)
    local n = select("#", ...)
    if n < 2 then return raise("redis.log() requires two arguments or more.") end
    local level = ...
    if type(level) ~= "number" then return raise("First argument must be a number (log level).") end
    if level < 0 or level > 3 then return raise("Invalid debug level.") end
    local parts = {}
    for i = 2, n do
      local v = select(i, ...)
      if type(v) == "string" or type(v) == "number" then parts[#parts + 1] = tostring(v) end
    end
    B.log(level, concat(parts, " "))
    return true, nil
  end),
  setresp = raising(function(...)
    if select("#", ...) ~= 1 then return raise("redis.setresp() requires one argument.") end
    local v = tointeger((...))
    if v ~= 2 and v ~= 3 then return raise("RESP version must be 2 or 3.") end
    B.setresp(v)
    return true, nil
  end),
  set_repl = raising(function(...)
    -- "two arguments" is Redis 7.0's own text
    if select("#", ...) ~= 1 then return raise("redis.set_repl() requires two arguments.") end
    local v = tointeger((...))
    if v < 0 or v > 3 then
      return raise("Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.")
    end
    return true, nil
  end),
  replicate_commands = function() return true end,
  breakpoint = function() return false end,
  debug = function() end,
  acl_check_cmd = raising(function(...)
    local n = select("#", ...)
    if n == 0 then return raise("Please specify at least one argument for this redis lib call") end
    local args = {...}
    for i = 1, n do
      local a = args[i]
      if type(a) == "number" then args[i] = format("%.17g", a)
      elseif type(a) ~= "string" then return raise("Lua redis lib command arguments must be strings or integers") end
    end
    local allowed = B.acl_check(unpack(args, 1, n))
    if allowed == nil then return raise("Invalid command passed to redis.acl_check_cmd()") end
    return true, allowed
  end),
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REPL_NONE = 0, REPL_AOF = 1, REPL_SLAVE = 2, REPL_REPLICA = 2, REPL_ALL = 3,
  REDIS_VERSION = B.version, REDIS_VERSION_NUM = B.version_num,
}

-- the globals a script sees: read-only, and reading an undefined one is an error
local G = {}
for _, name in ipairs({"assert", "collectgarbage", "error", "gcinfo", "ipairs",
                       "rawequal", "select", "tonumber", "tostring", "type", "unpack",
                       "_VERSION"}) do
  G[name] = _G[name]
end
local P = {}
local P_meta  -- (set below) a read-only view of P's metatable, for getmetatable(_G)
local stringmeta = readonly(getmetatable(""))
-- The wrappers check their arguments as the C functions would and are called through Python
-- (B.raising), so that their errors name the script's line even after a tail call, as the C
-- functions' do.
local function typename_at(i, ...)
  if select("#", ...) < i then return "no value" end
  return type((select(i, ...)))
end
local function argerror(i, fname, msg)
  return false, where(1) .. format("bad argument #%d to '%s' (%s)", i, fname, msg)
end
local raw_next = function(t, k) return next(real_of[t] or t, k) end
G.next = raising(function(...)
  local t, k = ...
  if type(t) ~= "table" then return argerror(1, "next", "table expected, got " .. typename_at(1, ...)) end
  return true, next(real_of[t] or t, k)
end)
G.pairs = raising(function(...)
  local t = ...
  if type(t) ~= "table" then return argerror(1, "pairs", "table expected, got " .. typename_at(1, ...)) end
  if real_of[t] then return true, raw_next, t, nil end
  return true, pairs(t)
end)
G.rawget = raising(function(...)
  local t, k = ...
  if type(t) ~= "table" then return argerror(1, "rawget", "table expected, got " .. typename_at(1, ...)) end
  if select("#", ...) < 2 then return argerror(2, "rawget", "value expected") end
  return true, rawget(real_of[t] or t, k)
end)
G.rawset = raising(function(...)
  local t, k, v = ...
  if type(t) ~= "table" then return argerror(1, "rawset", "table expected, got " .. typename_at(1, ...)) end
  if select("#", ...) < 3 then return argerror(select("#", ...) + 1, "rawset", "value expected") end
  if real_of[t] then return false, READONLY end
  if k == nil then return false, "table index is nil" end
  if k ~= k then return false, "table index is NaN" end
  rawset(t, k, v)
  return true, t
end)
G.setmetatable = raising(function(...)
  local t, m = ...
  if type(t) ~= "table" then return argerror(1, "setmetatable", "table expected, got " .. typename_at(1, ...)) end
  if m ~= nil and type(m) ~= "table" then return argerror(2, "setmetatable", "nil or table expected") end
  if real_of[t] then return false, READONLY end
  local old = getmetatable(t)
  if type(old) == "table" and rawget(old, "__metatable") ~= nil then
    return false, "cannot change a protected metatable"
  end
  return true, setmetatable(t, m)
end)
G.getmetatable = raising(function(...)
  if select("#", ...) == 0 then return argerror(1, "getmetatable", "value expected") end
  local v = ...
  if type(v) == "string" then return true, stringmeta end
  if v == P then return true, P_meta end  -- _G's protection, itself read-only
  if real_of[v] then return true, nil end
  return true, getmetatable(v)
end)
local function fix(e)
  if type(e) == "userdata" and e ~= null then return B.take_error(e) end
  return e
end
-- Redis 7.0's pcall hands back an error table's `err` text rather than the table
local function pcalled(ok, ...)
  if ok then return ok, ... end
  local e = fix((...))
  if type(e) == "table" and type(rawget(e, "err")) == "string" then e = rawget(e, "err") end
  return ok, e
end
G.pcall = function(...)
  if select("#", ...) == 0 then return false, "attempt to call a boolean value" end  -- as Redis's
  return pcalled(pcall(...))
end
G.xpcall = raising(function(...)
  if select("#", ...) < 2 then return argerror(2, "xpcall", "value expected") end
  local f, h = ...
  return true, xpcall(f, function(e) return h(fix(e)) end)
end)
G.loadstring = raising(function(...)
  local s, name = ...
  if type(s) ~= "string" and type(s) ~= "number" then
    return argerror(1, "loadstring", "string expected, got " .. typename_at(1, ...))
  end
  s = tostring(s)
  -- Redis's Lua refuses precompiled chunks: they are read as text (and fail as such)
  local text = s:byte(1) == 27 and " " .. s or s
  local f, e = loadstring(text, name or s)
  if f then setfenv(f, P) end
  return true, f, e
end)
G.load = function(fn, name)
  local first = true
  local reader = fn
  if type(fn) == "function" then
    reader = function()
      local piece = fn()
      if first and type(piece) == "string" and piece:byte(1) == 27 then piece = " " .. piece end
      if piece ~= nil and piece ~= "" then first = false end
      return piece
    end
  end
  local f, e = load(reader, name)
  if f then setfenv(f, P) end
  return f, e
end
G.string = readonly(string)
G.table = readonly(table)
G.math = readonly(mathlib)
-- Every HOOK_INSTRUCTIONS instructions Python looks at the clock (server/busy.py); once the
-- script is killed, every new line of the script raises again, so that pcall cannot keep it
-- alive (this prelude's own lines, run after the script, do not).
local py_interrupt, KILLED, HOOK_COUNT = B.interrupt, B.killed, B.hook_count
local function killed_hook()
  local info = getinfo(2, "S")
  if info and info.source ~= "=forkv" then error({err = KILLED}) end
end
local function count_hook()
  if py_interrupt() then
    sethook(killed_hook, "l")
    error({err = KILLED})
  end
end
local function arm() sethook(count_hook, "", HOOK_COUNT) end
-- Coroutines inherit the hook but not its Lua function (debug.sethook keeps one per thread): a
-- coroutine arms it first, so that a loop inside one is interrupted too, as in Redis.
local co_create, co_wrap = coroutine.create, coroutine.wrap
local function hooked(f) return function(...) arm() return f(...) end end
local function lua_function(f) return type(f) == "function" and getinfo(f, "S").what ~= "C" end
local corolib = copy(coroutine)
corolib.create = function(...)
  local f = ...
  if not lua_function(f) then error("bad argument #1 to 'create' (Lua function expected)", 2) end
  return co_create(hooked(f))
end
corolib.wrap = function(...)
  local f = ...
  if not lua_function(f) then error("bad argument #1 to 'wrap' (Lua function expected)", 2) end
  return co_wrap(hooked(f))
end
G.coroutine = readonly(corolib)
G.bit = readonly(bitlib)
G.cjson = readonly(cjsonlib)
G.cmsgpack = readonly(cmsgpacklib)
G.struct = readonly(structlib)
G.redis = readonly(redislib)
G._G = P
-- The API functions done in Python are userdata to Lua: type() and tostring() show them as the
-- functions they stand for.
pyfuncs = setmetatable({}, {__mode = "k"})
for _, lib in ipairs({G, redislib, mathlib, cjsonlib, cmsgpacklib, structlib}) do
  for _, v in pairs(lib) do
    if type(v) == "userdata" and v ~= null then pyfuncs[v] = tostring(function() end) end
  end
end
G.type = function(...)
  if select("#", ...) == 0 then error("bad argument #1 to 'type' (value expected)", 2) end
  local v = ...
  if pyfuncs[v] then return "function" end
  return type(v)
end
G.tostring = function(...)
  if select("#", ...) == 0 then error("bad argument #1 to 'tostring' (value expected)", 2) end
  local v = ...
  local s = pyfuncs[v]
  if s then return s end
  return tostring(v)
end
G.__redis__err__handler = function(e) return e end
setmetatable(P, {
  __index = function(_, k)
    local v = G[k]
    if v == nil then
      error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
    end
    return v
  end,
  __newindex = ro_newindex,
})
real_of[P] = G
P_meta = readonly(getmetatable(P))

-- the error handler: Redis's, skipping C functions and this prelude's wrappers
local function handler(err)
  local level = 2
  local info = getinfo(level, "nSl")
  while info and (info.what == "C" or info.source == "=forkv") do
    level = level + 1
    info = getinfo(level, "nSl")
  end
  err = fix(err)
  if type(err) ~= "table" then err = {err = "ERR " .. tostring(err)} end
  if info then
    err.source = info.source
    err.line = info.currentline
  end
  return err
end

local api = {null = null, rawget = rawget}
api.field = function(k, v) return {[k] = v} end
-- the error table of a command redis.call/pcall ran, which counted it in the error stats already
api.command_error = function(e) return {err = e, ignore_error_stats_update = true} end
-- a returned table's reply fields, read raw, whether it has a metatable (its items are then read
-- raw too) and whether its double is -0
api.fields = function(t)
  local d = rawget(t, "double")
  return getmetatable(t) ~= nil, rawget(t, "err"), rawget(t, "ok"), d, rawget(t, "big_number"),
         rawget(t, "verbatim_string"), rawget(t, "map"), rawget(t, "set"), d == 0 and 1 / d < 0
end
-- the position luaL_error gives from a Python callable called by Lua code: its caller's line
api.where = function()
  local i = getinfo(3, "Sl")
  if i and i.currentline > 0 then return i.short_src .. ":" .. i.currentline .. ": " end
  return ""
end
-- for the functions engine (server/functions.py), which builds its library environments on these
api.internals = {G = G, readonly = readonly, ro_newindex = ro_newindex, handler = handler}
api.compile = function(body)
  local f, e = loadstring(body, "@user_script")
  if not f then return nil, e end
  setfenv(f, P)
  return f, nil
end
-- server/_luabridge.c's entry (and lupa's for many keys): KEYS and ARGV come as tables
api.run_c = function(f, keys, argv)
  G.KEYS = keys
  G.ARGV = argv
  local ok, v = xpcall(f, handler)
  return ok, v
end
api.run = function(f, nkeys, ...)
  local keys, argv = {...}, {}
  for i = nkeys + 1, #keys do
    argv[i - nkeys] = keys[i]
    keys[i] = nil
  end
  G.KEYS = keys
  G.ARGV = argv
  local ok, v = xpcall(f, handler)
  return ok, v
end
api.arm = arm
return api
"""
