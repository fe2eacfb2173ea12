"""Redis Functions: FUNCTION LOAD/LIST/DELETE/FLUSH/DUMP/RESTORE/STATS/KILL/HELP, FCALL and FCALL_RO.

Mostly differential: the same commands on a fresh connection to forkv and to Debian's
redis-server 7.0, compared byte for byte on the wire in RESP2 and RESP3 (error texts of a load,
the `script: <function>, on @user_function:N.` suffixes, LIST's shapes). Libraries hold one
function where a reply lists several, since Redis lists them in its hash table's order.
"""

import socket

import pytest
import redis

from tests.server.commands.test_scripting import wire
from tests.servers import command_bytes, wait_for

SETUP = [["FUNCTION", "FLUSH"], ["FLUSHALL"]]


def same(forkv_server, redis_server, commands: list, proto: int = 2) -> list:
    """Run `commands` (after FUNCTION FLUSH and FLUSHALL) on both servers: replies must be equal."""
    ours = wire(forkv_server.port, SETUP + commands, proto)[len(SETUP):]
    theirs = wire(redis_server.port, SETUP + commands, proto)[len(SETUP):]
    assert ours == theirs, commands
    return ours


def lib(name: str, *body: str, header: str = None) -> str:
    return (header if header is not None else f"#!lua name={name}") + "\n" + "\n".join(body)


ONE = lib("lib1", "redis.register_function('f1', function(keys, args) return {keys, args} end)")

LOAD_CASES = [
    "return 1",  # no metadata
    "#!lua name=x",  # no newline after the shebang
    "#!lua\n",
    "#!lu name=x\n",
    "#!LUA name=upper\nredis.register_function('up', function() return 1 end)",
    "#!lua name=a-b\n",
    "#!lua name=\n",
    "#!lua name=a name=b\n",
    "#!lua foo=bar\n",
    "#!lua NAME=x\nredis.register_function('x', function() return 1 end)",
    '#!lua name="quoted"\nredis.register_function(\'q\', function() return 1 end)',
    '#!lua name="unbalanced\n',
    lib("l", ""),
    lib("l", "local a = 1 +"),
    lib("l", "redis.call('ping')"),
    lib("l", "redis.pcall('ping')"),
    lib("l", "redis.setresp(3)"),
    lib("l", "local x = string.len('a')"),
    lib("l", "x = 5"),
    lib("l", "print(1)"),
    lib("l", "error('boom')"),
    lib("l", "error({err='my error'})"),
    lib("l", "redis.log(redis.LOG_WARNING, 'from a load')", "return redis.REDIS_VERSION"),
    lib("l", "redis.register_function('f', 1)"),
    lib("l", "redis.register_function(1, function() end)"),
    lib("l", "redis.register_function({}, function() end)"),
    lib("l", "redis.register_function('f-x', function() end)"),
    lib("l", "redis.register_function('a', function() end, 1)"),
    lib("l", "redis.register_function()"),
    lib("l", "redis.register_function('solo')"),
    lib("l", "redis.register_function{function_name='f', callback=function() end, flags={'bad'}}"),
    lib("l", "redis.register_function{function_name='f', callback=function() end, flags={1}}"),
    lib("l", "redis.register_function{function_name='f', callback=function() end, foo=1}"),
    lib("l", "redis.register_function{function_name='f', callback=function() end, flags='no-writes'}"),
    lib("l", "redis.register_function{function_name='f', callback=1}"),
    lib("l", "redis.register_function{function_name={}, callback=function() end}"),
    lib("l", "redis.register_function{function_name='f', description={}, callback=function() end}"),
    lib("l", "redis.register_function{callback=function() end}"),
    lib("l", "redis.register_function{function_name='f'}"),
    lib("l", "redis.register_function{[1]='f'}"),
    lib("l", "redis.register_function('h', function() return 1 end)",
        "redis.register_function('h', function() return 2 end)"),
    lib("l", "redis.register_function('h', redis.log)"),
    lib("l", "redis.register_function{function_name='F', callback=function() return 1 end, "
             "flags={'NO-WRITES', 'Allow-Oom'}, description=''}"),
    lib("l", "redis.register_function('t', function() return 1 end)", "error('after')"),
]


@pytest.mark.parametrize("code", LOAD_CASES)
def test_load_errors_and_results_are_redis(forkv_server, redis_server, code):
    same(forkv_server, redis_server, [["FUNCTION", "LOAD", code], ["FUNCTION", "LIST", "WITHCODE"]])


def test_load_conflicts_and_replace(forkv_server, redis_server):
    other = lib("lib2", "redis.register_function('f1', function() return 2 end)")
    renamed = lib("lib1", "redis.register_function('g1', function() return 3 end)")
    broken = lib("lib1", "redis.register_function('g1', function() return 3 end)", "error('no')")
    same(forkv_server, redis_server, [
        ["FUNCTION", "LOAD", ONE], ["FUNCTION", "LOAD", ONE], ["FUNCTION", "LOAD", other],
        ["FUNCTION", "LOAD", "REPLACE", other], ["FUNCTION", "LOAD", "REPLACE", broken],
        ["FCALL", "f1", "0"], ["FUNCTION", "LOAD", "replace", "REPLACE", renamed],
        ["FCALL", "f1", "0"], ["FCALL", "g1", "0"], ["FUNCTION", "LOAD", "bogus", ONE],
        ["FUNCTION", "LOAD", other], ["FCALL", "f1", "0"],
    ])


RUN = lib(
    "run",
    "redis.register_function('echo', function(keys, args) return {keys, args} end)",
    "redis.register_function('set', function(keys, args) return redis.call('set', keys[1], args[1]) end)",
    "redis.register_function{function_name='ro_set', callback=function(keys, args) "
    "return redis.call('set', keys[1], args[1]) end, flags={'no-writes'}}",
    "redis.register_function{function_name='ro_get', callback=function(keys, args) "
    "return redis.call('get', keys[1]) end, flags={'no-writes'}}",
    "redis.register_function('boom', function(keys, args) return error('boom') end)",
    "redis.register_function('nokeys', function(keys, args) return KEYS end)",
    "redis.register_function('global', function(keys, args) x = 1 end)",
    "redis.register_function('register', function() return redis.register_function('x', function() end) end)",
    "redis.register_function('strlen', function(keys, args) return string.len(args[1]) end)",
    "redis.register_function('nested', function() return redis.call('fcall', 'echo', '0') end)",
    "redis.register_function('flist', function() return redis.call('function', 'list') end)",
    "redis.register_function('unknown', function() return redis.call('nosuch') end)",
    "redis.register_function('pcall', function() return redis.pcall('incr', 'str') end)",
    "redis.register_function('resp3', function(keys, args) redis.setresp(3) "
    "redis.call('hset', 'h', 'a', '1') return redis.call('hgetall', 'h') end)",
    "redis.register_function('types', function() return {1, 'two', 3.7, true, false, {ok='fine'}, "
    "{double=1.5}, {map={a=1}}, {set={x=true}}} end)",
    "redis.register_function('db', function() redis.call('select', '5') return redis.call('set', 'k', 'v') end)",
    "local counter = 0",
    "redis.register_function('counter', function() counter = counter + 1 return counter end)",
)

RUN_COMMANDS = [
    ["FCALL", "echo", "2", "a", "b", "c", "d"], ["FCALL", "echo", "0"], ["FCALL", "echo", "-1"],
    ["FCALL", "echo", "5"], ["FCALL", "echo", "x"], ["FCALL", "echo", "1.5"], ["FCALL", "nope", "0"],
    ["FCALL", "nope", "x"], ["FCALL_RO", "echo", "1", "k"], ["FCALL", "set", "1", "k", "v"],
    ["FCALL_RO", "set", "1", "k", "v"], ["FCALL", "ro_set", "1", "k", "v"],
    ["FCALL_RO", "ro_get", "1", "k"], ["FCALL", "boom", "0"], ["FCALL", "nokeys", "0"],
    ["FCALL", "global", "0"], ["FCALL", "register", "0"], ["FCALL", "strlen", "0", "abcd"],
    ["FCALL", "nested", "0"], ["FCALL", "flist", "0"], ["FCALL", "unknown", "0"],
    ["SET", "str", "x"], ["FCALL", "pcall", "0"], ["FCALL", "resp3", "0"], ["FCALL", "types", "0"],
    ["FCALL", "db", "0"], ["GET", "k"], ["FCALL", "counter", "0"], ["FCALL", "counter", "0"],
    ["FCALL"], ["FCALL", "echo"],
]


@pytest.mark.parametrize("proto", [2, 3])
def test_fcall_is_redis(forkv_server, redis_server, proto):
    same(forkv_server, redis_server, [["FUNCTION", "LOAD", RUN]] + RUN_COMMANDS, proto)


def test_scripts_and_functions_are_apart(forkv_server, redis_server):
    same(forkv_server, redis_server, [
        ["FUNCTION", "LOAD", ONE], ["SCRIPT", "FLUSH"], ["FCALL", "f1", "0"],
        ["EVAL", "return redis.call('function', 'list')", "0"],
        ["EVAL", "return redis.call('fcall', 'f1', '0')", "0"],
        ["FUNCTION", "FLUSH"], ["EVAL", "return 1", "0"], ["FLUSHALL"], ["FUNCTION", "LOAD", ONE],
        ["FLUSHALL"], ["FCALL", "f1", "0"],
    ])


@pytest.mark.parametrize("proto", [2, 3])
def test_list_stats_delete_flush_help_are_redis(forkv_server, redis_server, proto):
    described = lib("other", "redis.register_function{function_name='g', description='says g', "
                             "callback=function() return 1 end, flags={'allow-stale', 'no-writes'}}")
    same(forkv_server, redis_server, [
        ["FUNCTION", "LIST"], ["FUNCTION", "STATS"], ["FUNCTION", "LOAD", ONE],
        ["FUNCTION", "LOAD", described], ["FUNCTION", "LIST", "LIBRARYNAME", "lib*"],
        ["FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "OTH*"],
        ["FUNCTION", "LIST", "libraryname", "other", "withcode"],
        ["FUNCTION", "LIST", "LIBRARYNAME", "nomatch"], ["FUNCTION", "LIST", "LIBRARYNAME"],
        ["FUNCTION", "LIST", "WITHCODE", "WITHCODE"], ["FUNCTION", "LIST", "bogus"],
        ["FUNCTION", "LIST", "LIBRARYNAME", "a", "LIBRARYNAME", "b"],
        ["FUNCTION", "STATS"], ["FUNCTION", "STATS", "x"], ["FUNCTION", "KILL"],
        ["FUNCTION", "DELETE", "nope"], ["FUNCTION", "DELETE", "lib1"], ["FCALL", "f1", "0"],
        ["FUNCTION", "DELETE"], ["FUNCTION", "DELETE", "a", "b"], ["FUNCTION", "STATS"],
        ["FUNCTION", "FLUSH", "bogus"], ["FUNCTION", "FLUSH", "async", "x"],
        ["FUNCTION", "FLUSH", "ASYNC"], ["FUNCTION", "FLUSH", "sync"], ["FUNCTION", "LIST"],
        ["FUNCTION", "HELP"], ["FUNCTION", "HELP", "x"], ["FUNCTION", "NOSUCH"], ["FUNCTION"],
    ], proto)


def test_dump_restore_policies_are_redis(forkv_server, redis_server):
    other = lib("lib2", "redis.register_function('f2', function() return 2 end)")
    clash = lib("lib3", "redis.register_function('f1', function() return 3 end)")
    for server in (forkv_server, redis_server):
        client = redis.Redis(port=server.port)
        client.function_flush()
        client.function_load(ONE)
        one = client.function_dump()
        client.function_load(other)
        client.function_load(clash.replace("'f1'", "'f3'"))
        client.function_delete("lib1")
        client.function_delete("lib2")
        lib3 = client.function_dump()
        client.close()
        commands = [
            ["FUNCTION", "DUMP"], ["FUNCTION", "RESTORE", one], ["FUNCTION", "RESTORE", one],
            ["FUNCTION", "RESTORE", one, "APPEND"], ["FUNCTION", "RESTORE", one, "replace"],
            ["FCALL", "f1", "0"], ["FUNCTION", "RESTORE", one, "bogus"],
            ["FUNCTION", "RESTORE", "garbage"], ["FUNCTION", "RESTORE", "garbage", "bogus"],
            ["FUNCTION", "RESTORE", one[:-1] + bytes([one[-1] ^ 1])], ["FUNCTION", "RESTORE", one, "FLUSH", "x"],
            ["FUNCTION", "LOAD", other], ["FUNCTION", "RESTORE", one, "FLUSH"], ["FCALL", "f2", "0"],
            ["FCALL", "f1", "0"], ["FUNCTION", "LOAD", clash.replace("lib3", "lib4")],
            ["FUNCTION", "RESTORE", one, "REPLACE"], ["FUNCTION", "DELETE", "lib1"],
            ["FUNCTION", "RESTORE", lib3], ["FUNCTION", "LIST"],
        ]
        if server is forkv_server:
            ours = wire(server.port, SETUP + commands)[len(SETUP):]
        else:
            theirs = wire(server.port, SETUP + commands)[len(SETUP):]
    assert ours == theirs


def _payload_items(body: bytes) -> bytes:
    """A FUNCTION DUMP payload of raw `body` records with a valid footer."""
    from persistence import rdb

    body += rdb.RDB_VERSION.to_bytes(2, "little")
    return body + rdb.crc64(body).to_bytes(8, "little")


def test_restore_payload_errors_are_redis(forkv_server, redis_server):
    code = ONE.encode()
    string = bytes([len(code)]) + code if len(code) < 64 else bytes([0x40 | (len(code) >> 8), len(code) & 0xFF]) + code
    same(forkv_server, redis_server, [
        ["FUNCTION", "RESTORE", _payload_items(b"")], ["FUNCTION", "LIST"],
        ["FUNCTION", "RESTORE", _payload_items(b"\x00\x01k\x01v")],
        ["FUNCTION", "RESTORE", _payload_items(b"\xf6" + string)],
        ["FUNCTION", "RESTORE", _payload_items(b"\xf5" + string + b"\xf5" + string)],
        ["FUNCTION", "LIST"],
        ["FUNCTION", "RESTORE", _payload_items(b"\xf5" + string)], ["FCALL", "f1", "0"],
        ["FUNCTION", "RESTORE", _payload_items(b"\xf5\x05#!lua")],
    ])


def test_dump_payloads_cross_between_servers(forkv_server, redis_server):
    both = [redis.Redis(port=s.port) for s in (forkv_server, redis_server)]
    try:
        code = lib("cross", "redis.register_function{function_name='c', description='crossing', "
                            "callback=function(keys, args) return 'x' .. string.rep('y', 40) end, flags={'no-writes'}}")
        for source, target in (both, both[::-1]):
            for client in both:
                client.function_flush()
            source.function_load(code)
            assert target.function_restore(source.function_dump()) is True
            assert target.fcall("c", 0) == b"x" + b"y" * 40
            assert target.function_list(withcode=True) == source.function_list(withcode=True)
    finally:
        for client in both:
            client.function_flush()
            client.close()


def test_load_timeout(any_r):
    with pytest.raises(redis.ResponseError, match="^Error registering functions: ERR FUNCTION LOAD timeout$"):
        any_r.function_load(lib("spin", "redis.register_function('s', function() end)", "while true do end"))
    assert any_r.function_list() == []


def test_function_commands_in_multi_and_dirty(any_r):
    any_r.function_flush()
    before = int(any_r.info("persistence")["rdb_changes_since_last_save"])
    pipe = any_r.pipeline(transaction=True)
    pipe.function_load(ONE)
    pipe.fcall("f1", 1, "k", "arg")
    pipe.function_delete("lib1")
    assert pipe.execute() == [b"lib1", [[b"k"], [b"arg"]], True]
    assert int(any_r.info("persistence")["rdb_changes_since_last_save"]) - before == 2
    any_r.function_flush()


def test_info_memory_counts_functions(any_r):
    any_r.function_flush()
    any_r.function_load(lib("a", "redis.register_function('x', function() end)",
                            "redis.register_function('y', function() end)"))
    fields = any_r.info("memory")
    assert fields["number_of_functions"] == 2
    assert fields["number_of_libraries"] == 1
    assert fields["used_memory_functions"] > 184
    assert fields["used_memory_scripts"] >= fields["used_memory_functions"]
    assert fields["used_memory_vm_total"] == fields["used_memory_vm_eval"] + fields["used_memory_vm_functions"]
    any_r.function_flush()
    assert any_r.info("memory")["number_of_functions"] == 0


def test_command_info_is_redis(forkv_server, redis_server):
    same(forkv_server, redis_server, [
        ["COMMAND", "INFO", "fcall", "fcall_ro"],
        ["COMMAND", "INFO", "function|load", "function|list", "function|restore", "function|dump",
         "function|stats", "function|kill", "function|flush", "function|delete", "function|help"],
    ])


def _read_until(sock, marker: bytes) -> bytes:
    buf = b""
    while marker not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        buf += chunk
    return buf


def test_monitor_shows_fcall_before_its_commands(any_server):
    r = redis.Redis(port=any_server.port)
    try:
        r.function_flush()
        r.function_load(RUN)
        with socket.create_connection(("127.0.0.1", any_server.port), timeout=10) as mon:
            mon.sendall(b"MONITOR\r\n")
            _read_until(mon, b"+OK\r\n")
            r.fcall("set", 1, "k", "v")
            r.execute_command("ECHO", "marker")
            lines = _read_until(mon, b'"marker"').decode().split("\r\n")
        shown = [line.split("] ", 1)[1] for line in lines if "] " in line]
        assert shown == ['"FCALL" "set" "1" "k" "v"', '"set" "k" "v"', '"ECHO" "marker"']
        assert "lua]" in lines[1]
    finally:
        r.function_flush()
        r.close()


def test_client_pause_write_holds_writing_functions_only(any_server):
    r = redis.Redis(port=any_server.port)
    try:
        r.function_flush()
        r.function_load(RUN)
        r.set("k", "v")
        r.execute_command("CLIENT", "PAUSE", "10000", "WRITE")
        try:
            assert r.fcall_ro("ro_get", 1, "k") == b"v"  # no-writes: runs at once
            assert r.fcall("ro_get", 1, "k") == b"v"
            with socket.create_connection(("127.0.0.1", any_server.port), timeout=10) as held:
                held.sendall(command_bytes("FCALL", "set", "1", "k", "w"))
                wait_for(lambda: r.info("clients")["blocked_clients"] == 1, what="FCALL held by the pause")
                r.execute_command("CLIENT", "UNPAUSE")
                assert _read_until(held, b"\r\n") == b"+OK\r\n"
        finally:
            r.execute_command("CLIENT", "UNPAUSE")
        assert r.get("k") == b"w"
    finally:
        r.function_flush()
        r.close()


def test_load_puts_back_the_engines_own_hook():
    """A library's load runs under its timeout hook, then the hook the engine keeps for running
    scripts (the busy-script count hook) is back in place."""
    from server.functions import Registry

    registry = Registry()
    lua = registry.engine.lua
    lua.execute("debug.sethook(function() end, '', 1000000)")
    registry.create(ONE.encode(), False)
    assert lua.eval("select(3, debug.gethook())") == 1000000
    with pytest.raises(Exception, match="FUNCTION LOAD timeout"):
        registry.create(lib("spin", "while true do end").encode(), False)
    assert lua.eval("select(3, debug.gethook())") == 1000000


def test_info_memory_counts_cached_scripts(any_r):
    any_r.script_flush()
    empty = any_r.info("memory")
    assert empty["number_of_cached_scripts"] == 0
    any_r.script_load("return 1")
    any_r.script_load("return 2")
    fields = any_r.info("memory")
    assert fields["number_of_cached_scripts"] == 2
    assert fields["used_memory_scripts_eval"] > 0
    assert fields["used_memory_scripts"] == fields["used_memory_scripts_eval"] + fields["used_memory_functions"]
    any_r.script_flush()
    assert any_r.info("memory")["number_of_cached_scripts"] == 0
