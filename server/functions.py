"""Redis Functions (Redis 7.0's functions.c and function_lua.c): the library registry, loading a
library's code, and running one of its functions for FCALL.

Every library of a server lives in one Lua runtime of its own (a scripting.Engine apart from
EVAL's, so SCRIPT FLUSH leaves functions alone), and a function runs through that Engine's
machinery: the sandbox, redis.call with the script checks, the conversions, the error texts. A
library's code runs once, at load, in a restricted environment (only redis.register_function,
redis.log and the constants); its functions then see the scripting globals, without KEYS and
ARGV (they get keys and args as their two arguments).

It must not: reply to clients (server/commands/functions.py does) or know the RDB bytes
(persistence/rdb.py does); it hands out and takes library codes.
"""

import re
import time

from protocol.parser import ProtocolError, split_inline
from server import errors, scripting
from server.errors import CommandError

ENGINE_NAME = "LUA"
LOAD_TIMEOUT = 0.5  # seconds a library's code may run at load (Redis's LOAD_TIMEOUT_MS)
_HOOK_EVERY = 100000  # Lua instructions between two looks at the clock during a load
# Redis's scripts_flags_def, in its order (FUNCTION LIST shows them so)
FLAG_NAMES = ("no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys")
_NAME_RE = re.compile(rb"[A-Za-z0-9_]+\Z")

# Lua run in the functions engine's runtime: the library environment (whose globals are the load
# API while a library loads, the scripting globals otherwise, as Redis swaps the globals'
# __index) and redis.register_function. Its chunk is named "=forkv" so that the error handler
# skips its frames, as it skips the prelude's.
FUNCTIONS_PRELUDE = r"""
local I, B = ...
local G, readonly, ro_newindex, handler = I.G, I.readonly, I.ro_newindex, I.handler
local luatype = G.type  -- the API's Python callables are functions too, as Redis's C functions
local type, tostring, select, pairs, error, setfenv, loadstring, xpcall, lower, sethook, gethook =
      type, tostring, select, pairs, error, setfenv, loadstring, xpcall, string.lower, debug.sethook,
      debug.gethook

local function missing(k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 3)
end
local function strict(t)  -- a read-only table where reading an undefined field is an error
  return setmetatable({}, {__index = function(_, k)
    local v = t[k]
    if v == nil then missing(k) end
    return v
  end, __newindex = ro_newindex})
end

local FLAGS = {}
for i, name in ipairs(B.flag_names) do FLAGS[name] = i end
local loading  -- the registrations of the library loading now (nil: none loads)
local function fail(msg) return false, {err = "ERR " .. msg} end
local RF = "redis.register_function"
local function isstring(v) local t = type(v) return t == "string" or t == "number" end
local function read_flags(t)
  local out, j = {}, 1
  while true do
    local v = t[j]
    if v == nil then return out end
    if not isstring(v) then return nil end
    local f = FLAGS[lower(tostring(v))]
    if not f then return nil end
    out[f] = true
    j = j + 1
  end
end
local register = B.raising(function(...)
  if not loading then return fail(B.not_in_load) end
  local n = select("#", ...)
  if n < 1 or n > 2 then return fail("wrong number of arguments to redis.register_function") end
  local name, f, desc, flags
  if n == 1 then
    local t = ...
    if type(t) ~= "table" then
      return fail("calling redis.register_function with a single argument is only applicable to Lua table " ..
                  "(representing named arguments).")
    end
    for k, v in pairs(t) do
      if not isstring(k) then return fail("named argument key given to redis.register_function is not a string") end
      local key = lower(tostring(k))
      if key == "function_name" then
        if not isstring(v) then return fail("function_name argument given to " .. RF .. " must be a string") end
        name = tostring(v)
      elseif key == "description" then
        if not isstring(v) then return fail("description argument given to " .. RF .. " must be a string") end
        desc = tostring(v)
      elseif key == "callback" then
        if luatype(v) ~= "function" then return fail("callback argument given to " .. RF .. " must be a function") end
        f = v
      elseif key == "flags" then
        if type(v) ~= "table" then
          return fail("flags argument to " .. RF .. " must be a table representing function flags")
        end
        flags = read_flags(v)
        if not flags then return fail("unknown flag given") end
      else
        return fail("unknown argument given to redis.register_function")
      end
    end
    if not name then return fail("redis.register_function must get a function name argument") end
    if not f then return fail("redis.register_function must get a callback argument") end
  else
    name, f = ...
    if not isstring(name) then return fail("first argument to redis.register_function must be a string") end
    name = tostring(name)
    if luatype(f) ~= "function" then return fail("second argument to redis.register_function must be a function") end
  end
  if not name:match("^[%w_]+$") then
    return fail(B.bad_name)
  end
  if loading.seen[name] then return fail("Function already exists in the library") end
  loading.seen[name] = true
  local names = {}
  for i = 1, #B.flag_names do
    if flags and flags[i] then names[#names + 1] = B.flag_names[i] end
  end
  -- the callback gets KEYS and ARGV, which the runner set as globals, as its two arguments
  local function run()
    local keys, argv = G.KEYS, G.ARGV
    G.KEYS, G.ARGV = nil, nil
    return f(keys, argv)
  end
  loading[#loading + 1] = {name, run, desc or false, names}
  return true, nil
end)

local R = G.redis
local load_redis = strict({
  register_function = register, log = R.log,
  LOG_DEBUG = R.LOG_DEBUG, LOG_VERBOSE = R.LOG_VERBOSE, LOG_NOTICE = R.LOG_NOTICE,
  LOG_WARNING = R.LOG_WARNING, REDIS_VERSION = R.REDIS_VERSION, REDIS_VERSION_NUM = R.REDIS_VERSION_NUM,
})
local load_globals = {redis = load_redis}
local current = G
local env = setmetatable({}, {__index = function(_, k)
  local v = current[k]
  if v == nil then error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2) end
  return v
end, __newindex = ro_newindex})

local function hook()
  if B.timed_out() then error({err = "ERR " .. B.load_timeout}) end
end

-- (true, registrations) | (false, error table from the run) | (nil, compile error text)
return function(code)
  local f, e = loadstring(code, "@user_function")
  if not f then return nil, e end
  setfenv(f, env)
  loading = {seen = {}}
  current = load_globals
  -- the load's own timeout hook, in place of any the engine keeps for running scripts
  local old_hook, old_mask, old_count = gethook()
  sethook(hook, "", B.hook_every)
  local ok, err = xpcall(f, handler)
  if old_hook then sethook(old_hook, old_mask, old_count) else sethook() end
  current = G
  local regs = loading
  loading = nil
  regs.seen = nil
  if not ok then return false, err end
  return true, regs
end
"""


class Function:
    __slots__ = ("name", "library", "description", "flags", "script")

    def __init__(self, name: bytes, library: "Library", description, flags: tuple, runner):
        self.name = name
        self.library = library
        self.description = description  # bytes, or None when not given
        self.flags = flags  # names from FLAG_NAMES, in that order
        # What the scripting Engine runs: errors name the function as EVAL's name the SHA
        self.script = scripting.Script(name.decode("utf-8", "surrogateescape"), None, runner, set(flags))


class Library:
    __slots__ = ("name", "code", "functions")

    def __init__(self, name: bytes, code: bytes):
        self.name = name
        self.code = code  # the whole payload given to FUNCTION LOAD, shebang included
        self.functions = {}  # name -> Function, in registration order


class Libraries:
    """A set of libraries and the index of their functions (Redis's functionsLibCtx)."""

    def __init__(self):
        self.libraries = {}  # name -> Library
        self.functions = {}  # function name, lower-cased (Redis's are case-insensitive) -> Function

    def link(self, library: Library) -> None:
        self.libraries[library.name] = library
        for name, function in library.functions.items():
            self.functions.setdefault(name.lower(), function)  # f1 and F1 of one library: the first

    def unlink(self, library: Library) -> None:
        del self.libraries[library.name]
        for name, function in library.functions.items():
            if self.functions.get(name.lower()) is function:
                del self.functions[name.lower()]


def _text(name: bytes) -> str:
    return name.decode("utf-8", "surrogateescape")


def parse_metadata(code: bytes):
    """(engine, library name, offset of the code after the shebang line) from `#!<engine>
    name=<name>`, or CommandError as Redis's functionExtractLibMetaData and the checks after it."""
    if not code.startswith(b"#!"):
        raise CommandError(errors.FUNCTION_MISSING_METADATA)
    end = code.find(b"\n")
    if end < 0 or b"\0" in code[:end]:  # Redis looks for the newline with strchr: a NUL ends the search
        raise CommandError(errors.FUNCTION_INVALID_METADATA)
    try:
        parts = split_inline(code[:end])
    except ProtocolError:
        parts = []
    if not parts:
        raise CommandError(errors.FUNCTION_INVALID_METADATA)
    engine = parts[0][2:]
    name = None
    for part in parts[1:]:
        if part[:5].lower() == b"name=":
            if name is not None:
                raise CommandError(errors.FUNCTION_NAME_TWICE)
            name = part[5:]
            continue
        raise CommandError(errors.function_invalid_metadata(_text(part)))
    if name is None:
        raise CommandError(errors.FUNCTION_NO_LIBRARY_NAME)
    if not _NAME_RE.match(name):
        raise CommandError(errors.FUNCTION_BAD_LIBRARY_NAME)
    if engine.upper() != ENGINE_NAME.encode():
        raise CommandError(errors.function_engine_not_found(_text(engine)))
    return engine, name, end


class Registry:
    """A server's libraries and the Lua runtime that holds them (created on first load)."""

    def __init__(self):
        self.current = Libraries()
        self.running = None  # (Function, the FCALL's argv, monotonic start) while one runs
        self._engine = None
        self._load = None
        self._deadline = 0.0

    @property
    def engine(self) -> scripting.Engine:
        if self._engine is None:
            engine = scripting.Engine()
            engine.eval_mode = False  # its runs are functions: FUNCTION KILL's, not SCRIPT KILL's
            lua = engine.lua
            bridge = lua.table_from({
                b"raising": engine._raising, b"timed_out": self._timed_out,
                b"flag_names": lua.table_from([name.encode() for name in FLAG_NAMES]),
                b"not_in_load": errors.FUNCTION_NOT_IN_LOAD.encode(),
                b"bad_name": errors.FUNCTION_BAD_LIBRARY_NAME.removeprefix("ERR ").encode(),
                b"load_timeout": errors.FUNCTION_LOAD_TIMEOUT.encode(), b"hook_every": _HOOK_EVERY,
            })
            self._load = lua.execute(FUNCTIONS_PRELUDE, engine._api[b"internals"], bridge, name="=forkv")
            self._engine = engine
        return self._engine

    def _timed_out(self) -> bool:
        return time.monotonic() > self._deadline

    # -- loading ---------------------------------------------------------------------------------

    def compile(self, code: bytes) -> Library:
        """Run a library's code and return the Library it registers (linked nowhere yet), or raise
        CommandError as Redis's FUNCTION LOAD (metadata, compile and registration errors)."""
        _, name, offset = parse_metadata(code)
        return self._build(name, code, offset)

    def _build(self, name: bytes, code: bytes, offset: int) -> Library:
        self.engine  # noqa: B018 - creates the runtime and self._load
        self._deadline = time.monotonic() + LOAD_TIMEOUT
        ok, result = self._load(code[offset:])
        if ok is None:
            raise CommandError(errors.function_compile_error(scripting._text(result)))
        if not ok:
            message = result[b"err"] if scripting.lua51.lua_type(result) == "table" else result
            if not isinstance(message, bytes):
                message = errors.SCRIPT_UNKNOWN_ERROR.encode()
            raise CommandError(errors.function_register_error(scripting._text(message)))
        library = Library(name, code)
        for i in range(1, len(result) + 1):
            fname, runner, desc, flags = result[i][1], result[i][2], result[i][3], result[i][4]
            flag_names = tuple(_text(flags[j]) for j in range(1, len(flags) + 1))
            library.functions[fname] = Function(fname, library, None if desc is False else desc, flag_names, runner)
        if not library.functions:
            raise CommandError(errors.FUNCTION_NONE_REGISTERED)
        return library

    def create(self, code: bytes, replace: bool, into: Libraries = None) -> bytes:
        """FUNCTION LOAD [REPLACE] (and each library of a RESTORE payload or an RDB file, into
        `into`): the library's name, or CommandError with nothing changed."""
        ctx = self.current if into is None else into
        _, name, offset = parse_metadata(code)
        old = ctx.libraries.get(name)
        if old is not None and not replace:
            raise CommandError(errors.function_library_exists(_text(name)))
        if old is not None:
            ctx.unlink(old)
        try:
            library = self._build(name, code, offset)
            for fname in library.functions:
                if fname.lower() in ctx.functions:
                    raise CommandError(errors.function_exists(_text(fname)))
        except BaseException:
            if old is not None:
                ctx.link(old)
            raise
        ctx.link(library)
        return name

    def join(self, source: Libraries, replace: bool) -> None:
        """Add the libraries of a RESTORE payload to the current ones (Redis's libraryJoin): a
        library already there is an error, or is replaced with `replace`; a function name
        held by another library is an error. Nothing changes on error."""
        ctx = self.current
        replaced = []
        try:
            for name in source.libraries:
                old = ctx.libraries.get(name)
                if old is not None:
                    if not replace:
                        raise CommandError(errors.function_library_exists(_text(name), quoted=False))
                    ctx.unlink(old)
                    replaced.append(old)
            for fname, function in source.functions.items():
                if fname in ctx.functions:
                    raise CommandError(errors.function_exists(_text(function.name)))
        except CommandError:
            for old in replaced:
                ctx.link(old)
            raise
        for library in source.libraries.values():
            ctx.link(library)

    def delete(self, name: bytes) -> None:
        library = self.current.libraries.get(name)
        if library is None:
            raise CommandError(errors.FUNCTION_LIBRARY_NOT_FOUND)
        self.current.unlink(library)

    def flush(self) -> None:
        self.current = Libraries()

    def codes(self) -> list:
        """Each library's code, for FUNCTION DUMP and the RDB file."""
        return [library.code for library in self.current.libraries.values()]

    def load_codes(self, codes, replace: bool = False) -> Libraries:
        """The libraries of a payload or an RDB file as a Libraries apart (CommandError for the
        first that fails)."""
        ctx = Libraries()
        for code in codes:
            self.create(code, replace, into=ctx)
        return ctx

    # -- running ---------------------------------------------------------------------------------

    def call(self, client, argv: list, keys: list, args: list, read_only: bool):
        """FCALL/FCALL_RO `argv` of `client`: run the function it names with `keys` and `args`."""
        function = self.current.functions.get(bytes(argv[1]).lower())
        if function is None:
            raise CommandError(errors.FUNCTION_NOT_FOUND)
        outer = self.running
        self.running = (function, argv, time.monotonic())  # for FUNCTION STATS while busy
        try:
            return self.engine.execute(client, function.script, keys, args, read_only)
        finally:
            self.running = outer

    def memory(self) -> int:
        """An estimate of the bytes the libraries take outside the Lua heap (Redis's
        functionsMemory: names, codes, descriptions and their dict entries)."""
        total = 0
        for library in self.current.libraries.values():
            total += 64 + len(library.name) + len(library.code)
            for function in library.functions.values():
                total += 96 + len(function.name) + len(function.description or b"")
        return total

    def lua_memory(self) -> int:
        """Bytes used by the functions' Lua runtime (Redis's functionsMemoryVM)."""
        if self._engine is None:
            return 0
        return int(self._engine.lua.eval("collectgarbage('count')") * 1024)


def registry_for(server) -> Registry:
    """The server's functions, made on first use, in a plain attribute of the server
    (Server.functions_registry): FCALL asks for it on every call."""
    registry = server.functions_registry
    if registry is None:
        registry = server.functions_registry = Registry()
    return registry


def peek(server):
    """The server's Registry if functions were ever used, else None (for INFO, loads and saves)."""
    return getattr(server, "functions_registry", None)  # a stand-in server of the tests has none


def library_codes(server) -> list:
    """The codes of the server's libraries, for the RDB writer (libraries first, as Redis)."""
    registry = peek(server)
    return [] if registry is None else registry.codes()


def function_writes(server, name: str, argv, for_pause: bool) -> bool:
    """Whether FCALL/FCALL_RO count as a write (MISCONF) or as replicating (CLIENT PAUSE WRITE),
    as Redis's fcallGetCommandFlags: a known function's flags decide (a write unless no-writes);
    an unknown one keeps the command's own flags (FCALL may replicate, FCALL_RO not)."""
    registry = peek(server)
    function = None
    if registry is not None and len(argv) >= 2:
        function = registry.current.functions.get(bytes(argv[1]).lower())
    if function is None:
        return for_pause and not name.endswith("_ro")
    return "no-writes" not in function.flags


def function_flags(server, argv):
    """The flags of the function FCALL/FCALL_RO `argv` names (None: not known)."""
    registry = peek(server)
    if registry is None or len(argv) < 2:
        return None
    function = registry.current.functions.get(bytes(argv[1]).lower())
    return None if function is None else function.flags


def kill(client) -> None:
    """FUNCTION KILL: stops a running function that has not written (server/busy.py); NOTBUSY
    when none runs, BUSY's text when the running script is an EVAL one, as Redis's scriptKill."""
    from server import busy

    busy.kill(client.server, False)
