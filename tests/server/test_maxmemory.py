"""maxmemory's OOM refusals (Redis 7.0's processCommand, scriptPrepareForRun, scriptVerifyOOM),
compared byte for byte with Debian's redis-server: `CONFIG SET maxmemory 1` puts both servers over
their limit at once (used memory is far more than a byte), so the very next DENYOOM command is
refused. Plain commands (the ones server/_fastpath.c serves too), MULTI/EXEC, EVAL with and without
shebang flags, FCALL, and the error and command stats. forkv evicts nothing: the one policy case
compared is one where Redis cannot evict either (volatile-lru with no key that has a TTL)."""

import contextlib
import hashlib
import socket

import pytest

from tests.server.commands._keys_wire import _read_reply
from tests.server.commands._suite_raw import run, same
from tests.servers import ServerProcess, command_bytes, wait_for

OOM = b"-OOM command not allowed when used memory > 'maxmemory'.\r\n"


@pytest.fixture
def check(forkv_server, redis_server):
    """`same` with maxmemory (and its policy) put back to the defaults whatever happens."""
    def check(lines, proto=2):
        return same(forkv_server, redis_server, lines, proto)
    try:
        yield check
    finally:
        for server in (forkv_server, redis_server):
            run(server.port, ["CONFIG SET maxmemory 0", "CONFIG SET maxmemory-policy noeviction",
                              "FLUSHALL", "CONFIG RESETSTAT"])


def _sha(body: str) -> str:
    return hashlib.sha1(body.encode()).hexdigest()


def _stats(lines):
    return ["CONFIG RESETSTAT"] + lines + ["INFO errorstats", "INFO commandstats"]


def _commandstats_free(replies):
    """INFO commandstats has timings: keep (command, calls, rejected, failed) of each line."""
    out = []
    for reply in replies:
        if reply.startswith(b"$") and b"# Commandstats" in reply:
            rows = []
            for line in reply.decode().split("\r\n"):
                if line.startswith("cmdstat_"):
                    name, fields = line.split(":", 1)
                    kv = dict(f.split("=") for f in fields.split(","))
                    rows.append((name, kv["calls"], kv["rejected_calls"], kv["failed_calls"]))
            out.append(sorted(rows))
        else:
            out.append(reply)
    return out


def test_plain_commands(check):
    """Writes that may grow memory are refused (the fast path's SET/INCR/MSET too); reads, DEL
    and the admin commands are not; CONFIG SET maxmemory 0 lets writes in again at once."""
    replies = check(["SET x 1", "RPUSH l a", "CONFIG SET maxmemory 1",
                     "SET x 2", "SET y 2", "INCR x", "MSET a 1 b 2", "APPEND x y", "LPUSH l b",
                     "HSET h f v", "SADD s m", "ZADD z 1 m", "SETRANGE x 0 a", "GET x", "MGET x y",
                     "LRANGE l 0 -1", "EXISTS x", "TTL x", "DECR x", "EXPIRE x 100",
                     "DEL l", "PING", "DBSIZE", "CONFIG SET maxmemory 0", "SET x 3", "INCR x", "GET x"])
    assert replies[3] == OOM


def test_stats(check, forkv_server, redis_server):
    """A refused command counts as a rejected call and an OOM error, as Redis's rejectCommand."""
    lines = ["CONFIG SET maxmemory 1"] + _stats(["SET x 1", "SET x 1", "INCR x", "GET x"]) + [
        "CONFIG SET maxmemory 0"]
    out = [_commandstats_free(run(server.port, ["FLUSHALL"] + lines)) for server in (forkv_server, redis_server)]
    assert out[0] == out[1]
    for server in (forkv_server, redis_server):
        run(server.port, ["CONFIG SET maxmemory 0", "CONFIG RESETSTAT"])


def test_other_connection(forkv_server, redis_server):
    """A connection that was already served by the fast path is refused once another one sets
    maxmemory, and served again once it is cleared."""
    for server in (forkv_server, redis_server):
        with contextlib.ExitStack() as stack:
            stack.callback(run, server.port, ["CONFIG SET maxmemory 0", "FLUSHALL"])
            sock = stack.enter_context(socket.create_connection(("127.0.0.1", server.port), timeout=20))
            f = sock.makefile("rb")

            def ask(*args):
                sock.sendall(command_bytes(*args))
                return _read_reply(f)

            assert ask("SET", "k", "1") == b"+OK\r\n"
            run(server.port, ["CONFIG SET maxmemory 1"])
            assert ask("SET", "k", "2") == OOM
            assert ask("INCR", "k") == OOM
            assert ask("MSET", "k", "3", "j", "4") == OOM
            assert ask("GET", "k") == b"$1\r\n1\r\n"
            run(server.port, ["CONFIG SET maxmemory 0"])
            assert ask("SET", "k", "2") == b"+OK\r\n"


def test_multi(check):
    """Inside MULTI every command but EXEC/DISCARD/QUIT/RESET is refused (queuing takes memory),
    so EXEC then aborts; DISCARD and an empty EXEC are allowed."""
    check(["SET x 1", "CONFIG SET maxmemory 1",
           "MULTI", "GET x", "SET x 2", "PING", "EXEC", "GET x",
           "MULTI", "DISCARD",
           "MULTI", "EXEC",
           "CONFIG SET maxmemory 0", "GET x"])


def _two_connections(server, steps) -> list:
    """(connection 0 or 1, line) steps in order, each reply read before the next step."""
    with contextlib.ExitStack() as stack:
        stack.callback(run, server.port, ["CONFIG SET maxmemory 0", "FLUSHALL", "SCRIPT FLUSH"])
        socks = [stack.enter_context(socket.create_connection(("127.0.0.1", server.port), timeout=20))
                 for _ in range(2)]
        files = [sock.makefile("rb") for sock in socks]
        out = []
        for which, line in steps:
            socks[which].sendall(command_bytes(*line.split()) if isinstance(line, str) else command_bytes(*line))
            out.append(_read_reply(files[which]))
        return out


def test_exec_of_what_was_queued_before(forkv_server, redis_server):
    """The limit reached while a transaction is open: EXEC of queued DENYOOM commands (a shebang
    script among them) is refused with EXECABORT and the reason; EXEC of reads runs."""
    steps = [(0, "SET x 1"), (0, "MULTI"), (0, "GET x"), (0, "SET x 5"), (1, "CONFIG SET maxmemory 1"),
             (0, "EXEC"), (0, "GET x"),
             (1, "CONFIG SET maxmemory 0"), (0, "MULTI"), (0, ["EVAL", "#!lua\n return 1", "0"]),
             (1, "CONFIG SET maxmemory 1"), (0, "EXEC"),
             (1, "CONFIG SET maxmemory 0"), (0, "MULTI"), (0, "GET x"), (0, ["EVAL", "return 1", "0"]),
             (0, ["EVAL", "#!lua flags=allow-oom\n return redis.call('set', KEYS[1], 6)", "1", "x"]),
             (0, "DEL x"), (1, "CONFIG SET maxmemory 1"), (0, "EXEC"), (0, "GET x")]
    ours, theirs = (_two_connections(server, steps) for server in (forkv_server, redis_server))
    assert ours == theirs
    assert theirs[5].startswith(b"-EXECABORT Transaction discarded because of: OOM")


def test_eval(check):
    """No shebang: the script runs and its first DENYOOM call before any write is refused (as
    an error raised in Lua, or the error table of pcall); a shebang without allow-oom or
    no-writes is refused before it runs; allow-oom lets it write; no-writes lets it read."""
    check(["SET x 1", "CONFIG SET maxmemory 1",
           ["EVAL", "return redis.call('set', KEYS[1], 2)", "1", "x"],
           ["EVAL", "return redis.pcall('incr', KEYS[1])", "1", "x"],
           ["EVAL", "local t = redis.pcall('set', KEYS[1], 2)\n return t['err']", "1", "x"],
           ["EVAL", "redis.call('del', KEYS[1])\n return redis.call('set', KEYS[1], 3)", "1", "x"],
           ["EVAL", "return redis.call('get', KEYS[1])", "1", "x"],
           ["EVAL", "#!lua\n return redis.call('get', KEYS[1])", "1", "x"],
           ["EVAL", "#!lua flags=no-writes\n return redis.call('get', KEYS[1])", "1", "x"],
           ["EVAL", "#!lua flags=no-writes\n return redis.call('set', KEYS[1], 4)", "1", "x"],
           ["EVAL", "#!lua flags=allow-oom\n return redis.call('set', KEYS[1], 5)", "1", "x"],
           ["EVAL_RO", "#!lua\n return 1", "0"],
           ["EVAL_RO", "return redis.call('get', KEYS[1])", "1", "x"],
           ["SCRIPT", "LOAD", "#!lua\n return 7"], ["EVALSHA", "4a3634a67fbe4a6f14dd392a56e0ef0bbacba00c", "0"],
           ["SCRIPT", "LOAD", "return redis.call('set', KEYS[1], 8)"],
           ["EVALSHA", "%s" % _sha("return redis.call('set', KEYS[1], 8)"), "1", "x"],
           "CONFIG SET maxmemory 0", "GET x", ["EVAL", "#!lua\n return redis.call('set', KEYS[1], 6)", "1", "x"]])


def test_eval_stats(forkv_server, redis_server):
    lines = ["CONFIG SET maxmemory 1"] + _stats(
        [["EVAL", "return redis.call('set', KEYS[1], 1)", "1", "x"],
         ["EVAL", "#!lua\n return 1", "0"],
         ["EVAL", "#!lua flags=allow-oom\n return redis.call('set', KEYS[1], 5)", "1", "x"]]) + [
        "CONFIG SET maxmemory 0"]
    try:
        out = [_commandstats_free(run(s.port, ["FLUSHALL"] + lines)) for s in (forkv_server, redis_server)]
        assert out[0] == out[1]
    finally:
        for server in (forkv_server, redis_server):
            run(server.port, ["CONFIG SET maxmemory 0", "FLUSHALL", "CONFIG RESETSTAT"])


LIBRARY = ("#!lua name=oomlib\n"
           "redis.register_function('w', function(keys) return redis.call('set', keys[1], 'w') end)\n"
           "redis.register_function{function_name='ro', callback=function(keys) "
           "return redis.call('get', keys[1]) end, flags={'no-writes'}}\n"
           "redis.register_function{function_name='big', callback=function(keys) "
           "return redis.call('set', keys[1], 'big') end, flags={'allow-oom'}}\n")


def test_fcall(check):
    """A function always has flags: without allow-oom or no-writes FCALL is refused; no-writes
    reads; allow-oom writes. FUNCTION LOAD is DENYOOM itself, FUNCTION DELETE not."""
    check([["FUNCTION", "LOAD", LIBRARY], "SET x 1", "CONFIG SET maxmemory 1",
           "FCALL w 1 x", "FCALL ro 1 x", "FCALL_RO ro 1 x", "FCALL big 1 x", "GET x",
           ["FUNCTION", "LOAD", "REPLACE", LIBRARY], "FCALL nosuch 0",
           "MULTI", "FCALL ro 1 x", "EXEC",
           "FUNCTION DELETE oomlib", "CONFIG SET maxmemory 0", "FUNCTION LIST"])


def test_policy_that_cannot_evict(check):
    """volatile-lru with no key that has a TTL: Redis cannot free anything either, so both refuse.
    (forkv evicts nothing under any policy: see server/app.py memory_check.)"""
    check(["SET x 1", "CONFIG SET maxmemory-policy volatile-lru", "CONFIG SET maxmemory 1",
           "SET x 2", "GET x", "CONFIG SET maxmemory 0", "SET x 3"])


@pytest.mark.parametrize("kind", ["forkv", "redis"])
def test_limit_from_the_command_line(kind):
    """--maxmemory 1 at startup: the first write is already refused."""
    server = ServerProcess(kind, ["--maxmemory", "1"])
    try:
        server.start()
        assert run(server.port, ["SET x 1", "GET x"]) == [OOM, b"$-1\r\n"]
    finally:
        server.cleanup()


def _used_memory(port: int) -> int:
    info = run(port, ["INFO memory"])[0].decode()
    return int(info.split("used_memory:")[1].split("\r\n")[0])


def test_limit_reached_by_growth(any_server):
    """Under the limit, a big write is allowed; the memory it takes puts the server over the limit
    (forkv's cron notices it within a tick), and the next write is refused."""
    port = any_server.port
    try:
        run(port, ["FLUSHALL", ["CONFIG", "SET", "maxmemory", str(_used_memory(port) + 16 * 1024 * 1024)]])
        # a 32 MB value from a small command (a big argument would be counted before it runs)
        assert run(port, [["SETRANGE", "big", str(32 * 1024 * 1024 - 1), "x"]]) == [b":33554432\r\n"]
        wait_for(lambda: run(port, ["SET y 1"]) == [OOM], what="writes refused")
        assert run(port, ["CONFIG SET maxmemory 0", "SET y 1"]) == [b"+OK\r\n", b"+OK\r\n"]
    finally:
        run(port, ["CONFIG SET maxmemory 0", "FLUSHALL"])
