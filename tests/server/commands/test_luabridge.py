"""server/_luabridge.c against lupa's path: the same scripts through an engine that crosses into
Lua with the C module and one that crosses with lupa only (the reference, as in pure mode) give
the same bytes. Skipped where the C module is not built or FORKVPY_PURE is set; the rest of
test_scripting.py and test_functions.py run through whichever path the build has."""

import pytest

from server import scripting
from tests.inprocess import InProcessServer

pytestmark = pytest.mark.skipif(scripting._bridge is None, reason="server/_luabridge.c not in use")

SCRIPTS = [
    ("return redis.call('incr', KEYS[1])", ["k"], []),
    ("return redis.call('set', KEYS[1], ARGV[1])", ["s"], ["v"]),
    ("return redis.call('get', KEYS[1])", ["s"], []),
    ("return redis.call('get', 'missing')", [], []),
    ("return {redis.call('get', 'missing')}", [], []),
    ("return redis.pcall('incr', 's')", [], []),
    ("return redis.call('incr', 's')", [], []),
    ("local ok, e = pcall(redis.call, 'incr', 's') return {tostring(ok), e}", [], []),
    ("return redis.pcall('nosuch')", [], []),
    ("return redis.call('nosuch')", [], []),
    ("return redis.call()", [], []),
    ("return redis.pcall()", [], []),
    ("return redis.call('get', {})", [], []),
    ("return redis.pcall('get', true)", [], []),
    ("return redis.call('echo', 1.5, 2)", [], []),
    ("return {redis.call('echo', 1e20), redis.call('echo', -0.0), redis.call('echo', 0/0),"
     " redis.call('echo', 1/0), redis.call('echo', 2^53), redis.call('echo', 1e15)}", [], []),
    ("return redis.call('rpush', 'l', 'a', 'b', 'c')", [], []),
    ("return redis.call('lrange', 'l', 0, -1)", [], []),
    ("redis.call('hset', 'h', 'f', 'v') return redis.call('hgetall', 'h')", [], []),
    ("redis.setresp(3) return redis.call('hgetall', 'h')", [], []),
    ("redis.setresp(3) return redis.call('get', 'missing')", [], []),
    ("return redis.call('ping')", [], []),
    ("return redis.call('type', 'l')", [], []),
    ("return {KEYS[1], KEYS[2], ARGV[1], #KEYS, #ARGV}", ["a", "b"], ["c"]),
    ("return 3.7", [], []),
    ("return true", [], []),
    ("return false", [], []),
    ("return nil", [], []),
    ("return {1, 2, {3, 'x'}, false, 'y'}", [], []),
    ("return redis.error_reply('MY fault')", [], []),
    ("return redis.status_reply('FINE')", [], []),
    ("error('plain')", [], []),
    ("error({err = 'CODE table'})", [], []),
    ("local t = setmetatable({}, {__index = function() return redis.call('nosuch') end}) return t.x", [], []),
    ("return type(redis.call) .. type(redis.pcall)", [], []),
    ("local co = coroutine.wrap(function() return redis.call('incr', 'k') end) return co()", [], []),
    ("local co = coroutine.create(function() local t = redis.call('lrange', 'l', 0, -1)"
     " coroutine.yield(t) return redis.pcall('hgetall', 'h') end)"
     " local _, a = coroutine.resume(co) local _, b = coroutine.resume(co) return {a, b}", [], []),
    ("local co = coroutine.wrap(function() return redis.call('nosuch') end) return co()", [], []),
    ("return redis.call('eval', 'return 1', 0)", [], []),
    ("for i = 1, 100 do redis.call('incr', KEYS[1]) end return redis.call('get', KEYS[1])", ["n"], []),
    ("return #KEYS + #ARGV", ["k%d" % i for i in range(9000)], ["a"] * 100),
]


def _lupa_only(server):
    """`server` with an EVAL engine that crosses into Lua with lupa only."""
    bridge, scripting._bridge = scripting._bridge, None
    try:
        server.scripting_engine = scripting.Engine()
    finally:
        scripting._bridge = bridge
    assert server.scripting_engine._c_state is None
    return server


def _replies(conn, scripts):
    out = []
    for body, keys, args in scripts:
        out.append(conn.raw("EVAL", body, len(keys), *keys, *args))
        out.append(conn.raw("EVALSHA", scripting.sha1hex(body.encode()), len(keys), *keys, *args))
    return out


def test_eval_replies_match_lupa_path():
    c_conn = InProcessServer().connect()
    lupa_srv = InProcessServer()
    lupa_conn = lupa_srv.connect()
    _lupa_only(lupa_srv.server)
    got = _replies(c_conn, SCRIPTS)
    assert c_conn.client.server.scripting_engine._c_state is not None
    assert got == _replies(lupa_conn, SCRIPTS)


def test_read_only_and_resp3_client_match():
    scripts = [("return redis.call('set', 'x', 1)", [], []), ("return redis.call('get', 'x')", [], [])]
    c_conn = InProcessServer().connect()
    lupa_srv = InProcessServer()
    lupa_conn = lupa_srv.connect()
    _lupa_only(lupa_srv.server)
    for conn in (c_conn, lupa_conn):
        conn.raw("HELLO", "3")
    for body, _keys, _args in scripts:
        assert c_conn.raw("EVAL_RO", body, 0) == lupa_conn.raw("EVAL_RO", body, 0)
        assert c_conn.raw("EVAL", body, 0) == lupa_conn.raw("EVAL", body, 0)


def test_functions_through_the_bridge():
    conn = InProcessServer().connect()
    conn.raw("FUNCTION", "LOAD", "#!lua name=lib\n"
             "redis.register_function('f', function(keys, args) return redis.call('incr', keys[1]) end)\n"
             "redis.register_function('g', function(keys, args) return redis.call('nosuch') end)")
    assert conn.raw("FCALL", "f", 1, "k") == b":1\r\n"
    assert conn.raw("FCALL", "f", 1, "k") == b":2\r\n"
    assert conn.raw("FCALL", "g", 0).startswith(b"-ERR Unknown Redis command called from script")
    engine = conn.client.server.functions_registry.engine
    assert engine._c_state is not None
    # replacing the library releases the old functions' registry references on the next run
    conn.raw("FUNCTION", "LOAD", "REPLACE", "#!lua name=lib\n"
             "redis.register_function('f', function(keys, args) return redis.call('decr', keys[1]) end)")
    assert conn.raw("FCALL", "f", 1, "k") == b":1\r\n"
    assert engine._c_released == []


def test_stash_is_emptied():
    conn = InProcessServer().connect()
    conn.raw("EVAL", "return {1, 2}", 0)
    engine = conn.client.server.scripting_engine
    assert engine._c_take(engine._c_slot) is None


# What the C path of redis.call (fast_command) and run's context must do as lupa's path does:
# replies, the client's state after the script, INFO's counts. Each entry: (command, arguments).
STATEFUL = [
    ("EVAL", "return redis.call('set', KEYS[1], ARGV[1])", 1, "a", "1"),
    ("EVAL", "local r = redis.call('set', KEYS[1], ARGV[1]) return {type(r), r.ok}", 1, "a", "2"),
    ("EVAL", "return {redis.call('incr', 'a'), redis.call('get', 'a'), redis.call('get', 'none')}", 0),
    ("EVAL", "return redis.call('incr', 'a', 'b')", 0),  # arity: Python answers it
    ("EVAL", "return redis.pcall('get')", 0),
    ("EVAL_RO", "return redis.call('incr', 'a')", 0),  # a write in a read-only script
    ("EVAL_RO", "return redis.pcall('set', 'a', 1)", 0),
    ("EVAL_RO", "return redis.call('get', 'a')", 0),
    ("EVAL", "#!lua flags=no-writes\nreturn redis.pcall('incr', 'a')", 0),
    ("EVAL", "redis.call('select', 3) return redis.call('incr', 'a')", 0),  # SELECT put back after
    ("GET", "a"),
    ("EVAL", "redis.setresp(3) return redis.call('get', 'none')", 0),
    ("EVAL", "return redis.call('set', 'a', 'x', 'EX', 100)", 0),  # SET with options: the handler
    ("EVAL", "return redis.call('incr', 'a')", 0),  # a key with a TTL: the kernel steps aside
    ("EVAL", "return redis.pcall('incr', 'a')", 0),
    ("EVAL", "return redis.call('incr', 'big')", 0),
    ("SET", "big", "9223372036854775807"),
    ("EVAL", "return redis.pcall('incr', 'big')", 0),  # overflow: the handler's error
    ("EVAL", "return {redis.call('GET', 'a'), redis.call('Incr', 'n')}", 0),
    ("EVAL", "return redis.call('get', KEYS[1])", 1, "a"),
    ("HELLO", "3"),
    ("EVAL", "return redis.call('set', 'r3', 1)", 0),
    ("EVAL", "return redis.call('get', 'r3')", 0),
    ("HELLO", "2"),
]


def _stats(conn) -> bytes:
    """INFO's counts the scripts move (commandstats, the totals), without the times."""
    lines = []
    for section in ("commandstats", "stats", "errorstats"):
        for line in conn.raw("INFO", section).split(b"\r\n"):
            if line.startswith(b"cmdstat_"):
                line = b",".join(f for f in line.split(b",") if not f.startswith((b"usec", b"cmdstat_hello:usec")))
                line = b",".join(f for f in line.split(b",") if b"usec" not in f)
            elif not line.startswith((b"total_commands_processed", b"keyspace_", b"total_error_replies",
                                      b"errorstat_")):
                continue
            lines.append(line)
    return b"\n".join(lines)


def _db(conn) -> int:
    """The client's database number (Database objects differ per server)."""
    return conn.client.db.index


def _run_stateful(srv, conn) -> tuple:
    """STATEFUL's replies with the client's state after each, and INFO's counts after all. The
    command table's stats are shared by the servers of one process: the counts start from
    CONFIG RESETSTAT and are read before another server runs anything."""
    conn.raw("CONFIG", "RESETSTAT")
    clock = srv.server.keyspace.clock
    seen = []
    for argv in STATEFUL:
        seen.append((argv, conn.raw(*argv), conn.client.proto, conn.client.in_script, _db(conn),
                     conn.client.last_command))
        assert srv.server.keyspace.clock is clock  # put back after the script
    return seen, _stats(conn)


def test_fast_redis_call_and_context_match_lupa_path():
    c_srv = InProcessServer()
    got = _run_stateful(c_srv, c_srv.connect())
    lupa_srv = InProcessServer()
    lupa_conn = lupa_srv.connect()
    _lupa_only(lupa_srv.server)
    expected = _run_stateful(lupa_srv, lupa_conn)
    for one, other in zip(got[0], expected[0]):
        assert one == other
    assert got[1] == expected[1]
    if scripting._script_call is not None:  # the kernel is built: redis.call's C path was taken
        assert b"incr" in scripting._FAST and b"get" in scripting._FAST


def test_fast_write_makes_the_script_unkillable():
    """A write done by redis.call's C path marks the run dirty, as the Python side does."""
    conn = InProcessServer().connect()
    engine = scripting.engine_for(conn.client.server)
    seen = []
    real = engine._interrupt

    def interrupt():
        seen.append(engine.run.dirty)
        return real()

    engine._interrupt = interrupt
    conn.raw("EVAL", "return redis.call('incr', 'k')", 0)
    assert engine._spare.dirty is True
    conn.raw("EVAL", "return redis.call('get', 'k')", 0)
    assert engine._spare.dirty is False


def test_context_put_back_after_an_error():
    c_conn = InProcessServer().connect()
    lupa_srv = InProcessServer()
    lupa_conn = lupa_srv.connect()
    _lupa_only(lupa_srv.server)
    for conn in (c_conn, lupa_conn):
        conn.raw("HELLO", "3")
        conn.raw("SELECT", "2")
    for body in ("redis.call('select', 5) redis.setresp(2) error('boom')",
                 "redis.call('select', 5) return redis.call('nosuch')"):
        assert c_conn.raw("EVAL", body, 0) == lupa_conn.raw("EVAL", body, 0)
        for conn in (c_conn, lupa_conn):
            assert conn.client.proto == 3
            assert conn.client.in_script is False
            assert _db(conn) == 2
