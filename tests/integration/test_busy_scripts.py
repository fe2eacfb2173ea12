"""Long-running scripts (issue 14), the same exchanges against forkv and Debian's redis-server:
past busy-reply-threshold other clients get BUSY (except the ALLOW_BUSY commands), SCRIPT KILL
stops a script that has not written (pcall cannot keep it alive), UNKILLABLE once it wrote, then
SHUTDOWN NOSAVE exits without saving; new connections are served while busy and keep working
afterwards; MULTI/EXEC around a slow script. Every wait is on a condition (PING answering BUSY)."""

import contextlib
import os

import hiredis
import pytest
import redis

from tests.integration.test_pubsub import Raw
from tests.servers import ServerProcess, wait_for

BUSY = b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"
UNKILLABLE = (b"-UNKILLABLE Sorry the script already executed write commands against the dataset. You "
              b"can either wait the script termination or kill the server in a hard way using the "
              b"SHUTDOWN NOSAVE command.\r\n")
LOOP = "while true do end"


@pytest.fixture(scope="module", params=["forkv", "redis"])
def busy_server(request):
    with ServerProcess(request.param) as server:
        yield server


@pytest.fixture
def port(busy_server):
    r = redis.Redis(port=busy_server.port)
    r.config_set("busy-reply-threshold", 100)
    r.flushall()
    yield busy_server.port
    # a test that failed half-way must not leave a script running for the next one
    try:
        Raw(busy_server.port).call("SCRIPT", "KILL")
    except (OSError, ConnectionError):
        pass
    wait_for(lambda: _answer(busy_server.port, "PING") == b"+PONG\r\n", what="the server idle again")
    r.config_set("busy-reply-threshold", 5000)


def _answer(port: int, *args) -> bytes:
    client = Raw(port)
    try:
        return client.call(*args)
    finally:
        client.close()


def _start(port: int, body: str, *extra) -> Raw:
    """A client running EVAL `body` (its reply is read later), returned once other clients get
    BUSY. The probe connects (and is answered) first: a connection the server accepts in the very
    loop iteration the script starts in is only served after the script."""
    probe = Raw(port)
    try:
        assert probe.call("PING") == b"+PONG\r\n"
        client = Raw(port)
        client.send("EVAL", body, 0, *extra)
        wait_for(lambda: probe.call("PING") == BUSY, what="PING answering BUSY")
    finally:
        probe.close()
    return client


@contextlib.contextmanager
def _busy(port: int, body: str):
    """(the client running EVAL `body`, another client), once the server is busy with it; both
    closed on the way out."""
    runner = _start(port, body)
    other = Raw(port)
    try:
        yield runner, other
    finally:
        runner.close()
        other.close()


def _sha(body: str) -> str:
    import hashlib

    return hashlib.sha1(body.encode()).hexdigest()


def test_busy_reply_then_script_kill(port):
    body = "local x = 0\nwhile true do\n  x = x + 1\nend"
    with _busy(port, body) as (runner, other):
        for args in (("GET", "x"), ("INFO",), ("CLIENT", "LIST"), ("SHUTDOWN",), ("SHUTDOWN", "SAVE"),
                     ("SCRIPT", "FLUSH"), ("EVAL", "return 1", "0")):
            assert other.call(*args) == BUSY, args
        # the checks before Redis's busy check still come first
        assert other.call("NOSUCH") == b"-ERR unknown command 'NOSUCH', with args beginning with: \r\n"
        assert other.call("GET") == b"-ERR wrong number of arguments for 'get' command\r\n"
        assert other.call("SHUTDOWN", "ABORT") == b"-ERR No shutdown in progress.\r\n"
        assert other.call("SCRIPT", "KILL") == b"+OK\r\n"
        error = f"-ERR Script killed by user with SCRIPT KILL... script: {_sha(body)}, on @user_script:3.\r\n"
        assert runner.read()[0] == error.encode()
        assert other.call("PING") == b"+PONG\r\n"
        assert other.call("SCRIPT", "KILL") == b"-NOTBUSY No scripts in execution right now.\r\n"
        assert runner.call("PING") == b"+PONG\r\n"  # the script's own client carries on


def test_pipeline_while_busy_is_answered_in_order(port):
    with _busy(port, LOOP) as (runner, other):
        other.send_many(("PING",), ("SET", "k", "v"), ("MULTI",), ("INCR", "n"), ("EXEC",), ("SCRIPT", "KILL"))
        raw, _ = other.read(6)
        execabort = (b"-EXECABORT Transaction discarded because of: BUSY Redis is busy running a script. "
                     b"You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n")
        assert raw == BUSY + BUSY + b"+OK\r\n" + BUSY + execabort + b"+OK\r\n"
        assert runner.read()[0].startswith(b"-ERR Script killed by user with SCRIPT KILL...")
        assert other.call("MGET", "k", "n") == b"*2\r\n$-1\r\n$-1\r\n"  # nothing refused ran later


def test_allowed_commands_while_busy(port):
    with _busy(port, LOOP) as (runner, other):
        assert other.call("HELLO", "3").startswith(b"%7\r\n")
        assert other.call("HELLO", "2").startswith(b"*14\r\n")
        assert other.call("AUTH", "nopass").startswith(b"-ERR AUTH <password> called without any password")
        assert other.call("WATCH", "w") == b"+OK\r\n"
        assert other.call("UNWATCH") == b"+OK\r\n"
        assert other.call("MULTI") == b"+OK\r\n"
        assert other.call("DISCARD") == b"+OK\r\n"
        assert other.call("SCRIPT", "KILL") == b"+OK\r\n"
        runner.read()
        assert other.call("QUIT") == b"+OK\r\n"


def test_new_connection_while_busy_keeps_working_after(port):
    before = _answer(port, "CLIENT", "LIST").count(b"\n")
    runner = _start(port, LOOP)
    fresh = Raw(port)  # connected while busy: redis-cli does this to send SCRIPT KILL
    gone = Raw(port)
    try:
        assert fresh.call("CLIENT", "SETNAME", "late") == BUSY
        assert fresh.call("PING") == BUSY
        assert gone.call("PING") == BUSY
        gone.close()  # closed while busy
        assert fresh.call("SCRIPT", "KILL") == b"+OK\r\n"
        assert runner.read()[0].startswith(b"-ERR Script killed by user with SCRIPT KILL...")
        # the connection accepted while busy is an ordinary client now
        assert fresh.call("CLIENT", "SETNAME", "late") == b"+OK\r\n"
        assert fresh.call("SET", "k", "v") == b"+OK\r\n"
        assert fresh.call("GET", "k") == b"$1\r\nv\r\n"
        listing = fresh.call("CLIENT", "LIST")
        assert listing.count(b"name=late ") == 1
        wait_for(lambda: _answer(port, "CLIENT", "LIST").count(b"\n") == before + 2, what="the closed client gone")
    finally:
        runner.close()
        fresh.close()


def test_pcall_cannot_keep_a_killed_script_alive(port):
    body = ("local ok, err = pcall(function() while true do end end)\n"
            "redis.call('SET', 'after', err)\n"
            "return 1")
    runner = _start(port, body)
    try:
        assert _answer(port, "SCRIPT", "KILL") == b"+OK\r\n"
        error = f"-ERR Script killed by user with SCRIPT KILL... script: {_sha(body)}, on @user_script:2.\r\n"
        assert runner.read()[0] == error.encode()
        assert _answer(port, "EXISTS", "after") == b":0\r\n"  # the call on the next line never ran
    finally:
        runner.close()


def test_multi_exec_with_a_slow_script(port):
    probe, a = Raw(port), Raw(port)
    try:
        assert probe.call("PING") == b"+PONG\r\n"
        a.send_many(("MULTI",), ("SET", "m", "1"), ("EVAL", LOOP, "0"), ("GET", "m"), ("EXEC",))
        wait_for(lambda: probe.call("PING") == BUSY, what="PING answering BUSY")
        assert probe.call("SCRIPT", "KILL") == b"+OK\r\n"
        raw, replies = a.read(5)
        error = f"-ERR Script killed by user with SCRIPT KILL... script: {_sha(LOOP)}, on @user_script:1.\r\n"
        assert raw == b"+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n" + error.encode() + b"$1\r\n1\r\n"
    finally:
        probe.close()
        a.close()


def test_waiting_clients_run_after_the_script_in_order(port):
    """A client whose commands arrive before the threshold waits: its commands run after the
    script, in order, and never see the script half done."""
    r = redis.Redis(port=port)
    r.config_set("busy-reply-threshold", 60000)
    body = ("redis.call('SET', 'k', 'during')\n"
            "local t0 = redis.call('TIME')\n"
            "while true do\n"
            "  local t = redis.call('TIME')\n"
            "  if (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) > 300000 then break end\n"
            "end\n"
            "redis.call('SET', 'k', 'after')\n"
            "return 'done'")
    runner = Raw(port)
    other = Raw(port)
    try:
        runner.send("EVAL", body, "0")
        other.send_many(("GET", "k"), ("APPEND", "k", "+"), ("GET", "k"))
        assert runner.read()[0] == b"$4\r\ndone\r\n"
        _, (first, length, last) = other.read(3)
        assert (first, length, last) in ((None, 1, b"+"), (b"after", 6, b"after+"))
    finally:
        runner.close()
        other.close()


def test_busy_reply_threshold_config(port):
    r = redis.Redis(port=port)
    assert r.config_get("busy-reply-threshold") == {"busy-reply-threshold": "100"}
    r.config_set("lua-time-limit", 250)
    assert r.config_get("busy-reply-threshold") == {"busy-reply-threshold": "250"}
    assert r.config_get("lua-time-limit") == {"lua-time-limit": "250"}


def test_allow_busy_flag_in_command_info(port):
    raw = _answer(port, "COMMAND", "INFO", "multi", "exec", "watch", "reset", "shutdown", "auth", "hello")
    reader = hiredis.Reader()
    reader.feed(raw)
    table = {entry[0]: entry[2] for entry in reader.gets()}
    assert {name for name, f in table.items() if b"allow_busy" in f} == {
        b"multi", b"watch", b"reset", b"shutdown", b"auth", b"hello"}


def _unkillable_then_shutdown_nosave(server) -> None:
    port = server.port
    r = redis.Redis(port=port)
    r.config_set("busy-reply-threshold", 100)
    r.set("kept", "1")  # a save point is due: a plain SHUTDOWN would save it
    runner = _start(port, "redis.call('SET', 'w', '1')\n" + LOOP)
    try:
        other = Raw(port)
        assert other.call("SCRIPT", "KILL") == UNKILLABLE
        assert other.call("SHUTDOWN") == BUSY
        other.send("SHUTDOWN", "NOSAVE")
        other.sock.settimeout(10)
        assert other.sock.recv(100) == b""  # no reply: the server is gone
        assert server.wait_exit(10) == 0
        assert not os.path.exists(os.path.join(server.dir, "dump.rdb"))
        try:
            data = runner.sock.recv(100)
        except ConnectionResetError:
            data = b""
        assert data == b""  # the script's caller gets no reply either
    finally:
        runner.close()


@pytest.mark.parametrize("kind", ["forkv", "redis"])
def test_unkillable_script_then_shutdown_nosave(kind):
    with ServerProcess(kind, ["--save", "3600 1"]) as server:
        _unkillable_then_shutdown_nosave(server)


def test_new_connection_sends_script_kill_with_redis_cli(port):
    import shutil
    import subprocess

    cli = shutil.which("redis-cli")
    if cli is None:
        pytest.skip("redis-cli is not installed")
    runner = _start(port, LOOP)
    try:
        out = subprocess.run([cli, "-p", str(port), "SCRIPT", "KILL"], capture_output=True, timeout=10)
        assert out.stdout == b"OK\n"
        assert runner.read()[0].startswith(b"-ERR Script killed by user with SCRIPT KILL...")
    finally:
        runner.close()


def test_script_client_disconnecting_while_busy(port):
    runner = _start(port, LOOP)
    runner.close()  # the script's own client goes away: the script still runs
    assert _answer(port, "PING") == BUSY
    assert _answer(port, "SCRIPT", "KILL") == b"+OK\r\n"
    wait_for(lambda: _answer(port, "PING") == b"+PONG\r\n", what="the server idle again")



@pytest.mark.parametrize("body", [
    "local co = coroutine.create(function() while true do end end)\nreturn {coroutine.resume(co)}",
    "local f = coroutine.wrap(function() while true do end end)\nreturn f()",
])
def test_a_loop_inside_a_coroutine_is_killed_too(port, body):
    runner = _start(port, body)
    try:
        assert _answer(port, "SCRIPT", "KILL") == b"+OK\r\n"
        raw = runner.read()[0]
        if raw.startswith(b"*"):  # resume hands back the error (a table): the script returns it
            assert raw == b"*2\r\n$-1\r\n-ERR Script killed by user with SCRIPT KILL...\r\n"
        else:
            assert raw.startswith(b"-ERR Script killed by user with SCRIPT KILL... script: ")
    finally:
        runner.close()


def test_coroutine_argument_errors(port):
    r = redis.Redis(port=port)
    for name in ("create", "wrap"):
        with pytest.raises(redis.ResponseError) as exc:
            r.eval(f"local co = coroutine.{name}(string.len)\nreturn 1", 0)
        assert str(exc.value).startswith(f"user_script:1: bad argument #1 to '{name}' (Lua function expected)")
    assert r.eval("local co = coroutine.create(function(a) coroutine.yield(a) return 2 end)\n"
                  "local _, a = coroutine.resume(co, 1)\nlocal _, b = coroutine.resume(co)\n"
                  "return {a, b, coroutine.status(co)}", 0) == [1, 2, b"dead"]


FUNCTION_BUSY = b"-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n"


def test_function_kill_stops_a_busy_function(port):
    """A function past the threshold: BUSY with the FUNCTION KILL text, SCRIPT KILL refused,
    FUNCTION KILL stops it and its caller gets the kill error; then NOTBUSY."""
    code = "#!lua name=busylib\nredis.register_function('spin', function() while true do end end)"
    assert _answer(port, "FUNCTION", "LOAD", "REPLACE", code) == b"$7\r\nbusylib\r\n"
    probe = Raw(port)
    runner = Raw(port)
    other = Raw(port)
    try:
        # each connection answered once first: one the server accepts in the very loop iteration
        # the function starts in is served only after it (see _start)
        for c in (probe, runner, other):
            assert c.call("PING") == b"+PONG\r\n"
        runner.send("FCALL", "spin", 0)
        wait_for(lambda: probe.call("PING") == FUNCTION_BUSY, what="PING answering BUSY")
        assert other.call("GET", "x") == FUNCTION_BUSY
        assert other.call("SCRIPT", "KILL") == FUNCTION_BUSY
        assert other.call("FUNCTION", "KILL") == b"+OK\r\n"
        reply = runner.read()[0]
        assert reply == b"-ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:2.\r\n"
        assert other.call("PING") == b"+PONG\r\n"
        assert other.call("FUNCTION", "KILL") == b"-NOTBUSY No scripts in execution right now.\r\n"
    finally:
        for c in (probe, runner, other):
            c.close()
        _answer(port, "FUNCTION", "FLUSH")


def test_function_kill_refuses_an_eval_script(port):
    with _busy(port, LOOP) as (runner, other):
        assert other.call("FUNCTION", "KILL") == BUSY
        assert other.call("SCRIPT", "KILL") == b"+OK\r\n"
        runner.read()
