"""Redis's tests/unit/functions.tcl (7.0, FUNCTION LOAD with a `#!lua name=` shebang), ported:
scripts of commands run on forkv and on Debian's redis-server 7.0 and the raw replies must be the
same bytes (tests/server/commands/_suite_raw.py); FUNCTION DUMP payloads are fed back to the server
that made them.

Skipped: FUNCTION KILL / SCRIPT KILL on a busy function (timing; tests/integration/
test_busy_scripts.py), DEBUG RELOAD blocks (tests/integration/test_functions_rdb.py covers RDB),
replication and `debug loadaof` blocks (needs:repl, no AOF in forkv), "async function flush
rebuilds Lua VM" (lazyfree counters), allow-stale (needs a replica link), and the maxmemory/OOM
blocks (tests/server/test_maxmemory.py test_fcall compares FCALL under maxmemory with Redis)."""

import pytest

from tests.server.commands._suite_raw import parsed, reset, run, same


def code(name, body, engine="LUA", library=None):
    return (f"#!{engine} name={library or name}\nredis.register_function('{name}', function(KEYS, ARGV)\n"
            f" {body} \nend)")


def no_writes_code(name, body):
    return (f"#!lua name={name}\nredis.register_function{{function_name='{name}', callback=function(KEYS, ARGV)\n"
            f" {body} \nend, flags={{'no-writes'}}}}")


def unordered_lists(line, reply):
    """FUNCTION LIST's libraries and their functions come in dict order (random in Redis): sorted."""
    if not (isinstance(line, str) and line.upper().startswith("FUNCTION LIST")) or not reply.startswith(b"*"):
        return reply
    libraries = []
    for library in parsed(reply):
        fields = dict(zip(library[::2], library[1::2]))
        fields[b"functions"] = sorted(map(repr, fields[b"functions"]))
        libraries.append(repr(sorted(fields.items())))
    return sorted(libraries)


@pytest.fixture
def check(forkv_server, redis_server):
    def check(lines, proto=2):
        return same(forkv_server, redis_server, lines, proto, normalize=unordered_lists)
    return check


def test_function_basics(check):
    check([
        ["FUNCTION", "LOAD", code("test", "return 'hello'")], "FCALL test 0",
        ["FUNCTION", "LOAD", "foo", "bar", code("test", "return 'hello'")],
        ["FUNCTION", "LOAD", code("test", "return 'hello1'")],
        ["FUNCTION", "LOAD", code("test", "return 'hello1'", library="bad\x00foramat")],
        ["FUNCTION", "LOAD", code("test", "return 'hello1'", engine="bad_engine")],
        ["FUNCTION", "LOAD", "replace", code("test", "bad script")],
        ["FUNCTION", "LOAD", "REPLACE", code("test", "return 'hello1'")], "FCALL test 0", "FCALL TEST 0",
        "FCALL_RO tESt 0", ["FUNCTION", "LOAD", code("TEST", "return 1", library="lib2")],
        ["FUNCTION", "LOAD", code("x", "return 1", library="TEST")], "FUNCTION DELETE Test", "FUNCTION DELETE TEST",
        ["FUNCTION", "LOAD", "#!lua name=lib3\nredis.register_function('f1', function() return 1 end)\n"
                             "redis.register_function('F1', function() return 2 end)"],
        "FUNCTION LIST LIBRARYNAME lib3", "FUNCTION FLUSH",
        # (not FCALL f1: which of f1 and F1 Redis links depends on its dict's hash order; and not
        # FUNCTION DELETE lib3: redis-server 7.0.15 crashes on it)
        ["FUNCTION", "LOAD", code("test", "return 'hello1'", library="bad\\0foramat")],
        ["FUNCTION", "LOAD", "REPLACE", code("test", "error")], "FCALL test 0",
        "FUNCTION DELETE test", "FCALL test 0",
        ["FUNCTION", "LOAD", code("test", "return 'hello'")], "FCALL test bad_arg", "FCALL test 10 key1",
        "FCALL test -1 key1", "FUNCTION DELETE test1", "FUNCTION KILL", "FUNCTION bad_subcommand",
        "FUNCTION FLUSH", ["FUNCTION", "LOAD", "REPLACE", code("test", "return redis.call('set', 'x', '1')")],
        "FLUSHALL", "FLUSHDB", "FUNCTION LIST",
    ])


def test_function_dump_and_restore(forkv_server, redis_server):
    """The tcl's dump/restore blocks: each server restores its own payload."""
    def flow(port):
        out = run(port, ["FUNCTION FLUSH", ["FUNCTION", "LOAD", code("test", "return 'hello'")]])
        dump = run(port, ["FUNCTION DUMP"])[0]
        payload = dump.split(b"\r\n", 1)[1][:-2]
        out += run(port, [
            "FUNCTION DELETE test", "FUNCTION LIST", ["FUNCTION", "RESTORE", payload], "FUNCTION LIST",
            "FUNCTION FLUSH", ["FUNCTION", "RESTORE", payload, "FLUSH"], "FUNCTION LIST",
            "FUNCTION FLUSH", ["FUNCTION", "LOAD", code("test", "return 'hello1'")],
            ["FUNCTION", "RESTORE", payload, "APPEND"], "FUNCTION FLUSH",
            ["FUNCTION", "LOAD", code("test1", "return 'hello1'")], ["FUNCTION", "RESTORE", payload, "APPEND"],
            "FCALL test 0", "FCALL test1 0",
            "FUNCTION FLUSH", ["FUNCTION", "LOAD", code("test", "return 'hello1'")], "FCALL test 0",
            ["FUNCTION", "RESTORE", payload, "REPLACE"], "FCALL test 0",
            ["FUNCTION", "RESTORE", payload, "BADPOLICY"],
            "FUNCTION RESTORE bad_payload", "FUNCTION LIST", "FUNCTION RESTORE arg1 args2 arg3",
            ["FUNCTION", "RESTORE", payload[:-1] + bytes([payload[-1] ^ 1])],
        ])
        return out, dump
    results = []
    for server in (forkv_server, redis_server):
        reset(server.port)
        results.append(flow(server.port))
        reset(server.port)
    assert results[0][0] == results[1][0]
    assert results[0][1] == results[1][1]  # the same payload bytes


def test_function_restore_with_function_name_collision(forkv_server, redis_server):
    lib1 = ("#!lua name=lib1\nlocal function add1(a)\n return a + 1\nend\n"
            "redis.register_function('f1', function(keys, args) return add1(1) end)\n"
            "redis.register_function('f2', function(keys, args) return add1(2) end)\n"
            "redis.register_function('f3', function(keys, args) return add1(3) end)")
    other1 = "#!lua name=lib1\nredis.register_function('f6', function(keys, args) return 7 end)"
    lib2 = ("#!lua name=lib2\nlocal function add1(a)\n return a + 1\nend\n"
            "redis.register_function('f4', function(keys, args) return add1(4) end)\n"
            "redis.register_function('f5', function(keys, args) return add1(5) end)\n"
            "redis.register_function('f3', function(keys, args) return add1(3) end)")
    results = []
    for server in (forkv_server, redis_server):
        reset(server.port)
        run(server.port, [["FUNCTION", "LOAD", lib1]])
        payload = run(server.port, ["FUNCTION DUMP"])[0].split(b"\r\n", 1)[1][:-2]
        results.append(run(server.port, [
            "FUNCTION FLUSH", ["FUNCTION", "LOAD", other1], ["FUNCTION", "LOAD", lib2],
            ["FUNCTION", "RESTORE", payload], "FCALL f3 0", "FCALL f4 0", "FCALL f5 0", "FCALL f6 0",
            ["FUNCTION", "RESTORE", payload, "replace"], "FCALL f3 0", "FCALL f4 0", "FCALL f5 0", "FCALL f6 0",
            "FUNCTION LIST"]))
        reset(server.port)
    results = [out[:-1] + [unordered_lists("FUNCTION LIST", out[-1])] for out in results]
    assert results[0] == results[1]


@pytest.mark.parametrize("proto", [2, 3])
def test_fcall_ro_keys_argv_getkeys_flush(check, proto):
    check([
        ["FUNCTION", "LOAD", "REPLACE", no_writes_code("test", "return redis.call('set', 'x', '1')")],
        "FCALL_RO test 1 x",
        ["FUNCTION", "LOAD", "REPLACE", no_writes_code("test", "return redis.call('get', 'x')")],
        "SET x 1", "FCALL_RO test 1 x",
        ["FUNCTION", "LOAD", "REPLACE", code("test", "return redis.call('set', KEYS[1], ARGV[1])")],
        "FCALL test 1 x foo", "GET x",
        "COMMAND GETKEYS fcall test 1 x foo", "COMMAND GETKEYS fcall_ro test 1 x foo",
        "FUNCTION LIST", "FUNCTION FLUSH", "FUNCTION LIST",
        ["FUNCTION", "LOAD", "REPLACE", code("test", "return 1")], "FUNCTION FLUSH ASYNC", "FUNCTION LIST",
        ["FUNCTION", "LOAD", "REPLACE", code("test", "return 1")], "FUNCTION FLUSH SYNC", "FUNCTION LIST",
        "FUNCTION FLUSH bad_arg", "FUNCTION FLUSH sync extra_arg",
    ], proto)


LIB1 = ("#!lua name=lib1\nlocal function add1(a)\n return a + 1\nend\n"
        "redis.register_function('f1', function(keys, args) return add1(1) end)\n"
        "redis.register_function('f2', function(keys, args) return add1(2) end)")


def load(body, replace=True):
    return ["FUNCTION", "LOAD"] + (["REPLACE"] if replace else []) + [body]


def test_libraries(check):
    check([
        load("#!lua name=lib1\nlocal function ping()\n return redis.call('ping')\nend\n"
             "redis.register_function('f1', function(keys, args) return ping() end)", replace=False),
        "FCALL f1 0", load(LIB1), "FCALL f1 0", "FCALL f2 0", "FUNCTION LIST",
        load("#!lua name=lib1\nlocal function add1(a)\n return a + 2\nend\n"
             "redis.register_function('f1', function(keys, args) return add1(1) end)\n"
             "redis.register_function('f2', 'not a function')"), "FCALL f1 0", "FCALL f2 0",
        load("#!lua name=lib2\nredis.register_function('f1', function(keys, args) return 1 end)"),
        "FCALL f1 0", "FCALL f2 0",
        load("#!lua name=lib2\nredis.register_function('f1', function(keys, args) return 1 end)\n"
             "redis.register_function('f1', function(keys, args) return 1 end)"),
        load("#!lua name=lib2\nredis.register_function()"),
        load("#!lua name=lib2\nredis.register_function('f1')"),
        load("#!lua name=lib2\nredis.register_function('f1', function() return 1 end, {}, 'description', 'extra arg')"),
        load("#!lua name=lib2\nredis.register_function(nil, function() return 1 end)"),
        load("#!lua name=lib2\nredis.register_function('test\\0test', function() return 1 end)"),
        load("#!lua name=lib2\nredis.register_function('', function() return 1 end)"),
        load("#!lua name=lib2\nreturn math.random()"),
        load("#!lua name=lib2\nreturn redis.call('ping')"),
        load("#!lua name=lib2\nreturn redis.setresp(3)"),
        load("#!lua name=lib2\nreturn redis.set_repl(redis.REPL_NONE)"),
        load("#!lua name=lib2\nreturn redis.acl_check_cmd('set','xx',1)"),
        load("#!lua name=lib2\nredis.log(redis.LOG_NOTICE, 'hello')\nredis.register_function('g', function() return 1 end)"),
        "FCALL g 0",
    ])


def test_libraries_malicious_access(check):
    check([
        load("#!lua name=lib1\nlocal lib = redis\n"
             "lib.register_function('f1', function ()\n lib.redis = redis\n lib.math = math\n return {ok='OK'}\nend)\n"
             "lib.register_function('f2', function ()\n lib.register_function('f1', function ()\n"
             " lib.redis = redis\n lib.math = math\n return {ok='OK'}\n end)\nend)"),
        "FCALL f1 0",
        load("#!lua name=lib2\nredis.math.random()", replace=False),
        load("#!lua name=lib2\nredis.redis.call('ping')", replace=False),
        "FCALL f2 0", "FUNCTION DELETE lib1", "FUNCTION LIST",
        load("#!lua name=lib\nredis.register_function('f1', function(keys, args)\n"
             " redis.register_function('f2', function(key, args) return 2 end)\n return 1\nend)", replace=False),
        "FCALL f1 0", "FUNCTION FLUSH",
        load("#!lua name=lib\nreturn 1", replace=False),
        load("#!lua name=lib\na = 1", replace=False),
    ])


def test_libraries_named_arguments(check):
    check([
        load("#!lua name=lib\nredis.register_function{function_name='f1', callback=function() return 'hello' end,"
             " description='some desc'}", replace=False),
        "FUNCTION LIST",
        load("#!lua name=lib\nredis.register_function{function_name=function() return 1 end,"
             " callback=function() return 'hello' end, description='some desc'}"),
        load("#!lua name=lib\nredis.register_function{function_name='f1', callback='bad', description='some desc'}"),
        load("#!lua name=lib\nredis.register_function{function_name='f1', callback=function() return 'hello' end,"
             " description=function() return 1 end}"),
        load("#!lua name=lib\nredis.register_function{function_name='f1', callback=function() return 'hello' end,"
             " description='desc', some_unknown='unknown'}"),
        load("#!lua name=lib\nredis.register_function{callback=function() return 'hello' end, description='desc'}"),
        load("#!lua name=lib\nredis.register_function{function_name='f1', description='desc'}"),
        load("#!lua name=test\nredis.register_function{function_name = 'f1', callback = function() return 1 end,"
             " flags = 'bad flags type'}"),
        load("#!lua name=test\nredis.register_function{function_name = 'f1', callback = function() return 1 end,"
             " flags = {function() return 1 end}}"),
        load("#!lua name=test\nredis.register_function{function_name = 'f1', callback = function() return 1 end,"
             " flags = {'unknown'}}"),
        load("#!lua name=test\nredis.register_function{function_name = 'f1',"
             " callback = function() return redis.call('set', 'x', 1) end}"),
        "FCALL_RO f1 1 x",
        load("#!lua name=test\nredis.register_function{function_name = 'f1',"
             " callback = function() return redis.call('set', 'x', 1) end, flags = {'no-writes'}}"),
        "FCALL f1 1 x", "FUNCTION LIST",
    ])


def test_function_list_options(check):
    check([
        load("#!lua name=library1\nredis.register_function('f6', function(keys, args) return 7 end)", replace=False),
        "FUNCTION LIST WITHCODE",
        load("#!lua name=lib1\nredis.register_function('f7', function(keys, args) return 7 end)", replace=False),
        "FUNCTION LIST LIBRARYNAME library*", "FUNCTION LIST LIBRARYNAME *1 WITHCODE", "FUNCTION LIST bad_argument",
        "FUNCTION LIST libraryname", "FUNCTION LIST withcode withcode",
        "FUNCTION LIST withcode libraryname foo libraryname foo",
    ])
    check([
        load("#!lua name=library1\nredis.register_function('f6', function(keys, args) return 7 end)", replace=False),
        "FUNCTION LIST WITHCODE", "FUNCTION LIST LIBRARYNAME lib*",
    ], proto=3)


def test_function_stats_version_and_metadata(check):
    check([
        load("#!lua name=test\nlocal version = redis.REDIS_VERSION_NUM\n"
             "redis.register_function{function_name='get_version_v1', callback=function()\n"
             " return string.format('%s.%s.%s', bit.band(bit.rshift(version, 16), 0x000000ff),"
             " bit.band(bit.rshift(version, 8), 0x000000ff), bit.band(version, 0x000000ff))\nend}\n"
             "redis.register_function{function_name='get_version_v2', callback=function() return redis.REDIS_VERSION end}"),
        "FCALL f1 0", "FUNCTION FLUSH",
        load("#!lua name=test1\nredis.register_function('f1', function() return 1 end)\n"
             "redis.register_function('f2', function() return 1 end)", replace=False),
        load("#!lua name=test2\nredis.register_function('f3', function() return 1 end)", replace=False),
        "FUNCTION STATS", "FUNCTION DELETE test1", "FUNCTION STATS", "FUNCTION FLUSH",
        load("#!lua name=test1\nredis.register_function('f1', function() return 1 end)\n"
             "redis.register_function('f2', function() return 1 end)", replace=False),
        load("#!lua name=test1\nredis.register_function('f3', function() return 1 end)", replace=False),
        "FUNCTION STATS", "FUNCTION FLUSH", "FUNCTION STATS",
        load("#! name=test\nredis.register_function('foo', function() return 1 end)"),
        load("#!lua name=test foo=bar\nredis.register_function('foo', function() return 1 end)"),
        load("#!lua\nredis.register_function('foo', function() return 1 end)"),
        load("#!lua name=foo name=bar\nredis.register_function('foo', function() return 1 end)"),
        load('#!lua name="foo"\nredis.register_function(\'foo\', function() return 1 end)'),
        "FUNCTION FLUSH",
        load("#!lua name=test1\nredis.register_function('f1', function()\n mt = getmetatable(_G)\n"
             " original_globals = mt.__index\n original_globals['redis'] = function() return 1 end\nend)",
             replace=False),
        "FCALL f1 0", "FUNCTION FLUSH",
        load("#!lua name=test1\nmt = getmetatable(_G)", replace=False),
        load("#!lua name=test1\nlocal a = getmetatable(_G)", replace=False),
    ])
    check(["FUNCTION STATS", load("#!lua name=t\nredis.register_function('f', function() return 1 end)"),
           "FUNCTION STATS"], proto=3)


def test_fcall_version_api_agrees(forkv_server):
    out = run(forkv_server.port, [
        load("#!lua name=test\nlocal version = redis.REDIS_VERSION_NUM\n"
             "redis.register_function{function_name='get_version_v1', callback=function()\n"
             " return string.format('%s.%s.%s', bit.band(bit.rshift(version, 16), 0x000000ff),"
             " bit.band(bit.rshift(version, 8), 0x000000ff), bit.band(version, 0x000000ff))\nend}\n"
             "redis.register_function{function_name='get_version_v2', callback=function() return redis.REDIS_VERSION end}"),
        "FCALL get_version_v1 0", "FCALL get_version_v2 0", "FUNCTION FLUSH"])
    assert out[1] == out[2]
