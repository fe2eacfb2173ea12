"""Redis's tests/unit/scripting.tcl, ported: every block runs as EVAL and as a Redis Function
(the tcl's `foreach is_eval {0 1}`: the body is wrapped in `redis.register_function('test', ...)`
and called with FCALL), on forkv and on Debian's redis-server 7.0, raw replies compared byte for byte
(tests/server/commands/_suite_raw.py). Expectations are 7.0.15's, not the newer tcl's, where they differ.

Skipped: the SCRIPT KILL / FUNCTION KILL / busy-script blocks (timing; tests/integration/
test_busy_scripts.py covers them), everything tagged needs:repl (propagation of SPOP/EXPIRE/
INCRBYFLOAT, replicas, set_repl effects, "no-writes shebang flag on replica", allow-stale,
min-replicas), the Lua debugger (SCRIPT DEBUG), DEBUG PROTOCOL/SLEEP/set-active-expire/
set-disable-deny-scripts blocks, "EVAL does not leak in the Lua stack" (used_memory_lua is
allocator-specific), "LUA test trim string as expected" (jemalloc-specific)."""

import os
import socket

import pytest

from tests.server.commands._suite_raw import run, same
from tests.servers import command_bytes, wait_for

FUNCTION = "#!lua name=test\nredis.register_function('test', function(KEYS, ARGV)\n %s \nend)"
FUNCTION_RO = ("#!lua name=test\nredis.register_function{function_name='test', callback=function(KEYS, ARGV)\n"
               " %s \nend, flags={'no-writes'}}")

modes = pytest.mark.parametrize("is_eval", [1, 0], ids=["eval", "function"])


def script(is_eval, body, *args, ro=False):
    """run_script: the lines that run `body` with `args` (numkeys first) as EVAL or as FCALL."""
    args = [str(a) for a in args]
    if is_eval:
        return [["EVAL_RO" if ro else "EVAL", body] + args]
    return [["FUNCTION", "LOAD", "REPLACE", (FUNCTION_RO if ro else FUNCTION) % body],
            ["FCALL_RO" if ro else "FCALL", "test"] + args]


@pytest.fixture
def check(forkv_server, redis_server):
    def check(lines, proto=2):
        return same(forkv_server, redis_server, lines, proto)
    return check


def scripts(is_eval, *items):
    """Lines from a mix of plain command lines and (body, args...) tuples to run as scripts."""
    out = []
    for item in items:
        if isinstance(item, tuple):
            out += script(is_eval, *item)
        else:
            out.append(item)
    return out


@modes
def test_lua_to_redis_conversions(check, is_eval):
    check(scripts(is_eval,
                  ("return 'hello'", 0), ("return _G", 0),
                  ("local a = {}; setmetatable(a,{__index=function() foo() end}) return a", 0),
                  ("local a = {}; setmetatable(a,{__index=function() redis.call('set', 'x', '1') end}) return a",
                   1, "x"), "GET x",
                  ("return 100.5", 0), ("return 'hello world'", 0), ("return true", 0), ("return false", 0),
                  ("return {ok='fine'}", 0), ("return {err='ERR this is an error'}", 0),
                  ("return {err='this is an error'}", 0),
                  ("return {1,2,3,'ciao',{1,2}}", 0),
                  ("return {KEYS[1],KEYS[2],ARGV[1],ARGV[2]}", 2, "a{t}", "b{t}", "c{t}", "d{t}"),
                  "SET mykey myval", ("return redis.call('get',KEYS[1])", 1, "mykey")))


@modes
@pytest.mark.parametrize("proto", [2, 3])
def test_lua_to_redis_conversions_resp3(check, is_eval, proto):
    check(scripts(is_eval, ("return 100.5", 0), ("return true", 0), ("return false", 0), ("return nil", 0),
                  ("return {1,2,3,'ciao',{1,2}}", 0), ("return {ok='fine'}", 0), ("return {double=3.14}", 0),
                  ("return {map={a=1}}", 0), ("return {set={a=true}}", 0), ("return {big_number='123'}", 0),
                  ("return {double=0/0}", 0), ("return {double=-(0/0)}", 0), ("return {double=1/0}", 0),
                  ("return {double=-1/0}", 0), ("return {double=1e300*1e10}", 0), ("return {double=-0.0}", 0),
                  ("return {big_number='123\\r\\n123'}", 0)), proto)


def test_evalsha(check):
    check(["SET mykey myval", ["EVAL", "return redis.call('get',KEYS[1])", "1", "mykey"],
           "EVALSHA fd758d1589d044dd850a6f05d52f2eefd27f033f 1 mykey",
           "EVALSHA_RO fd758d1589d044dd850a6f05d52f2eefd27f033f 1 mykey",
           "EVALSHA FD758D1589D044DD850A6F05D52F2EEFD27F033F 1 mykey",
           "EVALSHA NotValidShaSUM 0", "EVALSHA ffd632c7d33e571e9f24556ebed26c3479a87130 0"])


@modes
def test_redis_to_lua_conversions(check, is_eval):
    check(scripts(is_eval,
                  "SET x 0", ("local foo = redis.pcall('incr',KEYS[1])\n return {type(foo),foo}", 1, "x"),
                  "SET mykey myval", ("local foo = redis.pcall('get',KEYS[1])\n return {type(foo),foo}", 1, "mykey"),
                  "RPUSH mylist a b c",
                  ("local foo = redis.pcall('lrange',KEYS[1],0,-1)\n return {type(foo),foo[1],foo[2],foo[3],# foo}",
                   1, "mylist"),
                  ("local foo = redis.pcall('set',KEYS[1],'myval')\n return {type(foo),foo['ok']}", 1, "mykey"),
                  ("local foo = redis.pcall('incr',KEYS[1])\n return {type(foo),foo['err']}", 1, "mykey"),
                  "DEL mykey",
                  ("local foo = redis.pcall('get',KEYS[1])\n return {type(foo),foo == false}", 1, "mykey")))


@modes
def test_lua_client_uses_the_selected_db(check, is_eval):
    check(["SET mykey 'this is DB 9'", "SELECT 10", "SET mykey 'this is DB 10'"]
          + script(is_eval, "return redis.pcall('get',KEYS[1])", 1, "mykey")
          + ["SET mykey 'original value'"] + script(is_eval, "return redis.pcall('select','9')", 0)
          + ["GET mykey", "SELECT 9", "GET mykey", "FLUSHALL"])


@modes
def test_scripts_cant_run_blocking_commands(check, is_eval):
    check(scripts(is_eval,
                  ("return redis.pcall('blpop','x',0)", 1, "x"),
                  ("return redis.pcall('brpop','empty_list',0)", 1, "empty_list"),
                  ("return redis.pcall('brpoplpush','empty_list1{t}', 'empty_list2{t}',0)", 2, "empty_list1{t}",
                   "empty_list2{t}"),
                  ("return redis.pcall('blmove','empty_list1{t}', 'empty_list2{t}', 'LEFT', 'LEFT', 0)", 2,
                   "empty_list1{t}", "empty_list2{t}"),
                  ("return redis.pcall('bzpopmin','empty_zset', 0)", 1, "empty_zset"),
                  ("return redis.pcall('bzpopmax','empty_zset', 0)", 1, "empty_zset"),
                  ("return redis.pcall('blmpop', 0, 1, 'empty_list', 'left')", 1, "empty_list"),
                  ("return redis.pcall('bzmpop', 0, 1, 'empty_zset', 'min')", 1, "empty_zset"),
                  ("return redis.pcall('bzpopmin','empty_zset', 0)", 1, "empty_zset")))


@modes
def test_redis_call_errors(check, is_eval):
    check(scripts(is_eval,
                  ("redis.pcall('randomkey'); return redis.pcall('set','x','ciao')", 1, "x"),
                  ("return redis.call()", 0), ("return redis.pcall()", 0),
                  ("redis.call('nosuchcommand')", 0), ("redis.call('get','a','b','c')", 0),
                  "SET foo bar", ("redis.call('lpush',KEYS[1],'val')", 1, "foo"),
                  ("return redis.pcall('lpush',KEYS[1],'val')", 1, "foo"),
                  ("redis.call('set','invalid')", 0), ("redis.call('incr')", 0),
                  ("redis.sha1hex()", 0),
                  ("return redis.call('select',99)", 0),
                  ("local x={}\n return redis.call('ping', x)", 0), ("return redis.call('ping', 'asdf')", 0)))


@modes
def test_cjson_cmsgpack_and_bit(check, is_eval):
    check(scripts(is_eval,
                  ('return table.concat(cjson.decode("[0.0, -5e3, -1, 0.3e-3, 1023.2, 0e10]"), " ")', 0),
                  ("local decoded = cjson.decode('{\"keya\": \"a\", \"keyb\": \"b\"}')\n"
                   " return {decoded.keya, decoded.keyb}", 0),
                  ("local encoded = cmsgpack.pack(0.1)\n local h = ''\n for i = 1, #encoded do\n"
                   " h = h .. string.format('%02x',string.byte(encoded,i))\n end\n return h", 0),
                  ("local encoded = cmsgpack.pack(-1099511627776)\n local h = ''\n for i = 1, #encoded do\n"
                   " h = h .. string.format('%02x',string.byte(encoded,i))\n end\n return h", 0),
                  ("local a = {x=nil,y=5}\n local b = {x=a}\n a['x'] = b\n local encoded = cmsgpack.pack(a)\n"
                   " local h = ''\n for i = 1, #encoded do\n h = h .. string.format('%02x',string.byte(encoded,i))\n"
                   " end\n local re = cmsgpack.unpack(encoded)\n assert(re)\n assert(re.x)\n"
                   " assert(re.x.x.y == re.y)\n assert(re.x.x.x.x.x.x.x.x.x.x.x.x.x.x.y == re.y)\n"
                   " assert(re.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x)\n assert(re.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x == nil)\n"
                   " return {h, re.x.x.x.x.x.x.x.x.y == re.y, re.y == 5}", 0),
                  ('assert(0x7fffffff == 2147483647, "broken hex literals");\n'
                   ' assert(0xffffffff == -1 or 0xffffffff == 2^32-1, "broken hex literals");\n'
                   ' assert(tostring(-1) == "-1", "broken tostring()");\n'
                   ' assert(tostring(0xffffffff) == "-1" or tostring(0xffffffff) == "4294967295", "broken tostring()")',
                   0),
                  ("assert(bit.tobit(1) == 1);\n assert(bit.band(1) == 1);\n assert(bit.bxor(1,2) == 3);\n"
                   " assert(bit.bor(1,2,4,8,16,32,64,128) == 255)", 0),
                  ("return 'hello' --trailing comment", 0)))


@modes
def test_read_only_scripts(check, is_eval):
    check(["SET foo bar"] + script(is_eval, "return redis.call('get', KEYS[1]);", 1, "foo", ro=True)
          + script(is_eval, "redis.call('del', KEYS[1]);", 1, "foo", ro=True)
          + script(is_eval, "return redis.pcall('del', KEYS[1]);", 1, "foo", ro=True) + ["GET foo"])


def test_script_flush_exists_load(check):
    check(["SET mykey myval", ["EVAL", "return redis.call('get',KEYS[1])", "1", "mykey"],
           "EVALSHA fd758d1589d044dd850a6f05d52f2eefd27f033f 1 mykey", "SCRIPT FLUSH",
           "EVALSHA fd758d1589d044dd850a6f05d52f2eefd27f033f 1 mykey"]
          + [["SCRIPT", "LOAD", f"return {j}"] for j in range(100)]
          + ["SCRIPT FLUSH ASYNC", ["SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"],
             ["EVAL", "return 1+1", "0"],
             "SCRIPT EXISTS a27e7e8a43702b7046d4f6a7ccf5b60cef6b9bd9 a27e7e8a43702b7046d4f6a7ccf5b60cef6b9bda",
             ["SCRIPT", "LOAD", "return 'loaded'"], "EVALSHA b534286061d4b9e4026607613b95c06c06015ae8 0",
             "SCRIPT FLUSH SYNC", "SCRIPT FLUSH BAD", "SCRIPT EXISTS", "SCRIPT LOAD"])


def test_script_flush_async_empties_cache_counters(forkv_server, redis_server):
    for server in (forkv_server, redis_server):
        run(server.port, ["SCRIPT FLUSH"] + [["SCRIPT", "LOAD", f"return {j}"] for j in range(100)])
        assert b"number_of_cached_scripts:100\r\n" in run(server.port, ["INFO memory"])[0]
        run(server.port, ["SCRIPT FLUSH ASYNC"])
        assert b"number_of_cached_scripts:0\r\n" in run(server.port, ["INFO memory"])[0]


def test_sort_ordering_for_scripting(check):
    check(["SADD myset 1 2 3 4 10", ["EVAL", "return redis.call('sort',KEYS[1],'desc')", "1", "myset"],
           "DEL myset", "SADD myset a b c d e f g h i l m n o p q r s t u v z aa aaa azz",
           ["EVAL", "return redis.call('sort',KEYS[1],'by','_')", "1", "myset"],
           "DEL myset", "SADD myset a b c",
           ["EVAL", "return redis.call('sort',KEYS[1],'by','_','get','#','get','_:*')", "1", "myset"]])


@modes
def test_sha1hex_and_globals_protection(check, is_eval):
    check(scripts(is_eval,
                  ("return redis.sha1hex('')", 0), ("return redis.sha1hex('Pizza & Mandolino')", 0),
                  ("return a", 0), ("a=10", 0),
                  ("setmetatable(_G, {})", 0), ("local g = getmetatable(_G)\n g.__index = {}", 0),
                  ("redis = function() return 1 end", 0), ("_G = {}", 0),
                  ("redis.call = function() return 1 end", 0), ("cjson.encode = function() return 1 end", 0),
                  ("cmsgpack.pack = function() return 1 end", 0), ("bit.lshift = function() return 1 end", 0),
                  ("loadfile('some file')", 0), ("dofile('some file')", 0), ("print('some data')", 0),
                  ("return loadstring(string.dump(function() return 1 end))()", 0)))


@modes
def test_decr_if_gt_example(check, is_eval):
    body = ("local current\n current = redis.call('get',KEYS[1])\n if not current then return nil end\n"
            " if current > ARGV[1] then\n return redis.call('decr',KEYS[1])\n else\n"
            " return redis.call('get',KEYS[1])\n end")
    check(["SET foo 5"] + [line for _ in range(5) for line in script(is_eval, body, 1, "foo", 2)])


def test_prng_can_be_seeded(forkv_server, redis_server):
    body = "math.randomseed(ARGV[1]); return tostring(math.random())"
    out = same(forkv_server, redis_server, [["EVAL", body, "0", "10"], ["EVAL", body, "0", "10"],
                                           ["EVAL", body, "0", "20"]])
    assert out[0] == out[1] != out[2]


@modes
def test_lua_stack_use_with_many_calls(check, is_eval):
    lines = ["SET x 0"]
    for _ in range(300):
        lines += script(is_eval, 'return redis.call("incr",KEYS[1])', 1, "x")
    check(lines + ["GET x"])


@modes
def test_many_args_and_number_precision(check, is_eval):
    check(scripts(is_eval,
                  ("local i\n local x={}\n redis.call('del','mylist')\n for i=1,100 do\n table.insert(x,i)\n end\n"
                   " redis.call('rpush','mylist',unpack(x))\n return redis.call('lrange','mylist',0,-1)", 1, "mylist"),
                  ('local value = 9007199254740991\n redis.call("set","foo",value)\n return redis.call("get","foo")',
                   1, "foo"),
                  ('redis.call("set", "key", "12039611435714932082")\n return redis.call("get", "key")', 1, "key"),
                  ('return "hello"', -12),
                  ("for i = 0, 10 do\n redis.call('SET', 'a{t}', '1')\n redis.call('MGET', 'a{t}', 'b{t}', 'c{t}')\n"
                   " redis.call('EXPIRE', 'a{t}', 0)\n redis.call('GET', 'a{t}')\n"
                   " redis.call('MGET', 'a{t}', 'b{t}', 'c{t}')\n end", 3, "a{t}", "b{t}", "c{t}"),
                  ('local a = {}\n for i=1,7900 do\n a[i] = 1\n end\n return redis.call("lpush", "l", unpack(a))',
                   1, "l")))


@pytest.mark.xfail(os.environ.get("FORKVPY_PURE", "") not in ("", "0"), strict=True,
                   reason="lupa passes fewer than 7999 arguments to a Python callable (redis.call); "
                          "server/_luabridge.c, used when built, passes them all")
@modes
def test_script_check_unpack_with_massive_arguments(check, is_eval):
    check(script(is_eval, 'local a = {}\n for i=1,7999 do\n a[i] = 1\n end\n return redis.call("lpush", "l", unpack(a))',
                 1, "l"))


@modes
def test_cluster_reset_cannot_be_invoked_from_a_script(check, is_eval):
    check(script(is_eval, "redis.call('cluster', 'reset', 'hard')", 0))


@modes
def test_script_with_resp3_map(check, is_eval):
    for proto in (2, 3):
        check(scripts(is_eval, "HSET hash field value", "HGETALL hash",
                      ("redis.setresp(3); return redis.call('hgetall', KEYS[1])", 1, "hash"),
                      ("redis.setresp(2); return redis.call('hgetall', KEYS[1])", 1, "hash"),
                      ("redis.setresp(3); return redis.call('smembers', KEYS[1])", 1, "nokey"),
                      ("redis.setresp(3); return redis.call('zscore', KEYS[1], 'a')", 1, "nokey"),
                      ("redis.setresp(3); return redis.call('get', KEYS[1])", 1, "nokey"),
                      ("redis.setresp(3); local r = redis.call('hgetall', KEYS[1]); return {type(r), r['map']['field']}",
                       1, "hash"),
                      ("redis.setresp(4)", 0)), proto)


@modes
def test_script_return_recursive_object(forkv_server, redis_server, is_eval):
    """Nested one-element arrays down to an error (how deep is the server's own), then the
    connection still works."""
    lines = script(is_eval, "local a = {}; local b = {a}; a[1] = b; return a", 0) + [["PING"]]
    for server in (forkv_server, redis_server):
        with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
            f = sock.makefile("rb")
            sock.sendall(b"".join(command_bytes(*line) for line in lines))
            if not is_eval:
                assert f.readline() == b"$4\r\n" and f.readline() == b"test\r\n"
            depth = 0
            while (line := f.readline()) == b"*1\r\n":
                depth += 1
            assert line == b"-ERR reached lua stack limit\r\n" and depth > 100
            assert f.readline() == b"+PONG\r\n"


@modes
def test_script_read_and_del_key_with_expiration(check, is_eval):
    check(scripts(is_eval, "SET key value EX 10",
                  ('if redis.call("EXISTS", "key") then\n return redis.call("GET", "key")\n else\n'
                   ' return redis.call("EXISTS", "key")\n end', 1, "key"),
                  ('redis.call("DEL", "key")\n return redis.call("EXISTS", "key")', 1, "key")))


@modes
def test_script_acl_check(check, is_eval):
    """redis.acl_check_cmd as the default user (test_acl.py checks it as a restricted one)."""
    check(scripts(is_eval, ("return redis.acl_check_cmd('set','xx',1)", 1, "xx"),
                  ("return redis.acl_check_cmd('hset','xx','f',1)", 1, "xx"),
                  ("return redis.acl_check_cmd('invalid-cmd','arg')", 0),
                  ("return redis.acl_check_cmd()", 0), ("return redis.acl_check_cmd('get', {})", 0)))


def test_shebang_flags(check):
    check([["EVAL", "#!not-lua\n return 1", "0"], ["EVAL", "#!lua\n return 1", "0"],
           ["EVAL", "#!lua badger=data\n return 1", "0"], ["EVAL", "#!lua flags=allow-oom,what?\n return 1", "0"],
           ["EVAL", "#!lua flags=no-writes\n redis.call('set','x',1)\n return 1", "1", "x"],
           ["EVAL", "#!lua flags=no-writes\n return redis.call('get','x')", "1", "x"],
           ["EVAL", "#!lua flags=no-writes,allow-oom,allow-stale,no-cluster,allow-cross-slot-keys\n return 2", "0"],
           ["EVAL", "#!lua name=foo\n return 1", "0"], ["EVAL", "#!lua flags=\n return 1", "0"],
           ["EVAL", "#!lua\n return redis.call('get', 'undeclared')", "0"],
           ["EVAL", "#!lua flags=allow-cross-slot-keys\n return redis.call('get', 'undeclared')", "0"]])


def test_allow_oom_shebang_flag(forkv_server, redis_server):
    lines = ["SET x 123", "CONFIG SET maxmemory 1",
             ["EVAL", "redis.call('set','x',1)\n return 1", "1", "x"],
             ["EVAL", "return redis.call('get','x')", "1", "x"],
             ["EVAL", "#!lua flags=\n return 1", "0"],
             ["EVAL", "#!lua flags=allow-oom\n redis.call('set','x',1)\n return 1", "1", "x"],
             ["EVAL", "#!lua flags=no-writes\n redis.call('get','x')\n return 1", "0"],
             ["EVAL_RO", "#!lua flags=no-writes\n redis.call('get','x')\n return 1", "1", "x"],
             ["EVAL", "redis.call('get','x')\n return 1", "1", "x"],
             ["EVAL_RO", "redis.call('get','x')\n return 1", "1", "x"],
             ["EVAL", "return redis.pcall('set','x','y')", "1", "x"],
             ["EVAL", "local t = redis.pcall('set','x','y')\n return t['err']", "1", "x"]]
    lines += [["EVAL", "#!lua\n return 1", "0"] for _ in range(5)]
    lines += ["CONFIG SET maxmemory 0", ["EVAL", "#!lua\n return 1", "0"]]
    try:
        same(forkv_server, redis_server, lines)
    finally:
        for server in (forkv_server, redis_server):
            run(server.port, ["CONFIG SET maxmemory 0"])


def _stats(lines):
    return ["CONFIG RESETSTAT"] + lines + ["INFO errorstats", "INFO commandstats"]


OOM_ERROR_REPORTING = ["CONFIG SET maxmemory 1"] + _stats(
    [["EVAL", "return redis.call('set','x','y')", "1", "x"]]) + _stats(
    [["EVAL", "local t = redis.pcall('set','x','y')\n return t['err']", "1", "x"]]) + _stats(
    [["EVAL", "return redis.pcall('set','x','y')", "1", "x"]]) + ["CONFIG SET maxmemory 0"]

ERROR_REPORTING = _stats([["EVAL", "return redis.call('select',99)", "0"]]) + _stats(
    [["EVAL", "local t = redis.pcall('select',99)\n return t['err']", "0"]]) + _stats(
    [["EVAL_RO", "return redis.call('set','x','y')", "1", "x"]]) + _stats(
    [["EVAL_RO", "local t = redis.pcall('set','x','y')\n return t['err']", "1", "x"]]) + ["SET Sicily 1"] + _stats(
    [["EVAL", "return redis.call('GEOADD', 'Sicily', '13.361389', '38.115556', 'Palermo', '15.087269', '37.502669', "
              "'Catania')", "1", "x"]]) + _stats(
    [["EVAL", 'return redis.error_reply("MY_ERR_CODE custom msg")', "0"]]) + _stats(
    [["EVAL", 'return redis.error_reply("")', "0"]]) + _stats(
    [["EVAL", 'return redis.status_reply("MY_OK_CODE custom msg")', "0"]]) + _stats(
    [["EVAL", "return redis.pcall('select',99)", "0"]]) + _stats(
    [["EVAL", "local t = redis.pcall('lpush','Sicily','x') return {t['err'], t['ignore_error_stats_update']}", "0"]]
    ) + _stats([["EVAL", "return redis.call('nosuchcommand')", "0"]]) + _stats(
    [["EVAL", "return redis.pcall('nosuchcommand')", "0"]]) + _stats(
    [["EVAL", "return redis.call('get')", "0"]]) + _stats(
    [["EVAL", "return redis.pcall('get', 'a', 'b')", "0"]]) + _stats(
    [["EVAL", "return redis.call('multi')", "0"]]) + _stats(
    [["EVAL", "return redis.call('config')", "0"]]) + _stats(
    [["EVAL", "return redis.call()", "0"]]) + _stats(
    [["EVAL", "return redis.pcall('get', {})", "0"]]) + _stats(
    [["EVAL", "return {err='BOOM here'}", "0"]]) + _stats(
    [["EVAL", "error('raw')", "0"]]) + _stats(
    [["EVAL", "return {1, redis.pcall('lpush','Sicily','x')}", "0"]]) + _stats(
    [["EVAL", "return {redis.pcall('lpush','Sicily','x'), redis.pcall('lpush','Sicily','x')}", "0"]]) + _stats(
    [["EVAL", "return {1, {err='BOOM x'}, {err='BOOM y'}}", "0"]]) + _stats(
    [["MULTI"], ["EVAL", "return redis.call('lpush','Sicily','x')", "0"], ["EXEC"]])


@pytest.mark.parametrize("oom", [False, True])
def test_consistent_eval_error_reporting(forkv_server, redis_server, oom):
    """The replies, the error stats and the per-command calls/rejected_calls/failed_calls counters."""
    lines = OOM_ERROR_REPORTING if oom else ERROR_REPORTING
    try:
        out = []
        for server in (forkv_server, redis_server):
            run(server.port, ["FLUSHALL"])
            replies = run(server.port, lines)
            out.append([_commandstats(r) if r.startswith(b"$") and b"# Commandstats" in r else r for r in replies])
        assert out[0] == out[1]
    finally:
        for server in (forkv_server, redis_server):
            run(server.port, ["CONFIG SET maxmemory 0", "FLUSHALL", "CONFIG RESETSTAT"])


def _commandstats(reply: bytes) -> list:
    """INFO commandstats without the timing fields: (command, calls, rejected_calls, failed_calls)."""
    out = []
    for line in reply.decode().split("\r\n"):
        if line.startswith("cmdstat_"):
            name, fields = line.split(":", 1)
            kv = dict(f.split("=") for f in fields.split(","))
            if name not in ("cmdstat_config", "cmdstat_info", "cmdstat_flushall"):
                out.append((name, kv["calls"], kv["rejected_calls"], kv["failed_calls"]))
    return sorted(out)


def test_lua_pcall(check):
    check([["EVAL", "local status, res = pcall(function() return 1 end); "
                    "return 'status: ' .. tostring(status) .. ' result: ' .. res", "0"],
           ["EVAL", "local status, res = pcall(function() return foo end); "
                    "return 'status: ' .. tostring(status) .. ' result: ' .. res", "0"]])


@modes
def test_script_blocks_the_time_during_execution(forkv_server, redis_server, is_eval):
    """"Script block the time ...": a key with a 1 ms TTL set by the script still exists after the
    script spins for a while (DEBUG SLEEP is not allowed in scripts: a Lua loop stands for it), and
    TIME answers the same inside one script; the key is gone once the script is over."""
    spin = "local n = 0 for i = 1, 3000000 do n = n + i end "
    lines = script(is_eval, 'redis.call("SET", "key", "value", "PX", "1") ' + spin +
                   'return redis.call("EXISTS", "key")', 1, "key")
    lines += script(is_eval, "local a = redis.call('TIME') " + spin + "local b = redis.call('TIME') "
                    "return {a[1] == b[1] and a[2] == b[2]}", 0)
    out = same(forkv_server, redis_server, lines)
    assert out[0 if is_eval else 1] == b":1\r\n"
    for server in (forkv_server, redis_server):
        run(server.port, lines[:2 - is_eval])
        wait_for(lambda: run(server.port, ["EXISTS key"]) == [b":0\r\n"], what="the key to expire")


def test_replicate_commands_and_set_repl(check):
    check([["EVAL", "redis.call('set','foo','bar'); return redis.replicate_commands();", "0"],
           ["EVAL", "redis.set_repl(redis.REPL_ALL);", "0"], ["EVAL", "redis.set_repl(12345);", "0"],
           ["EVAL", "redis.set_repl();", "0"], ["EVAL", "redis.set_repl(redis.REPL_NONE); redis.call('set','b','2')", "0"],
           "GET b", ["EVAL", "return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, "
                             "redis.REPL_ALL}", "0"]])


def test_random_numbers_are_random_now(forkv_server, redis_server):
    for server in (forkv_server, redis_server):
        out = run(server.port, [["EVAL", "return tostring(math.random())", "0"] for _ in range(5)])
        assert len(set(out)) > 1
