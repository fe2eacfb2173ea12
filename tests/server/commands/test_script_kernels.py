"""redis.call of GET, SET and INCR through server/_fastpath.c's script_call against the same calls
through dispatch.call (the reference): the same replies, and the same counts afterwards (the
commands' stats, total commands, keyspace hits and misses, changes since the last save).
Skipped where the C module is not in use (pure mode); the kernel's own conditions (TTLs,
MONITOR, tracking, notifications, WATCH) send a call back to dispatch, as a client's commands."""

import pytest

from server import scripting
from tests.inprocess import InProcessServer

pytestmark = pytest.mark.skipif(scripting._script_call is None, reason="server/_fastpath.c not in use")

SCRIPT = """
local out = {}
out[#out + 1] = redis.call('get', KEYS[1])
out[#out + 1] = redis.call('set', KEYS[1], ARGV[1])['ok']
out[#out + 1] = redis.call('get', KEYS[1])
out[#out + 1] = redis.pcall('incr', KEYS[1])['err']
out[#out + 1] = redis.call('incr', KEYS[2])
out[#out + 1] = redis.call('incr', KEYS[2])
out[#out + 1] = redis.call('get', KEYS[2])
out[#out + 1] = tostring(redis.call('get', 'never'))
out[#out + 1] = redis.call('get', KEYS[3])
out[#out + 1] = redis.call('incr', KEYS[3])
return out
"""
STATS = ("cmdstat_get:calls", "cmdstat_set:calls", "cmdstat_incr:calls", "total_commands_processed",
         "keyspace_hits", "keyspace_misses", "rdb_changes_since_last_save", "total_error_replies")


def _counts(conn) -> dict:
    text = conn.call("INFO", "all").decode()
    found = {}
    for line in text.splitlines():
        for name in STATS:
            field = name.split(":")[-1]
            prefix = name.split(":")[0] + ":"
            if line.startswith(prefix):
                if ":" in name:  # cmdstat_x:calls=N,usec=...
                    found[name] = line.split(f"{field}=")[1].split(",")[0]
                else:
                    found[name] = line.split(":", 1)[1]
    return found


def _run(monkeypatch, kernel: bool, setup=(), proto=2) -> tuple:
    scripting._CALLABLE.clear()  # its entries hold the kernel (or None)
    if not kernel:
        monkeypatch.setattr(scripting, "_script_call", None)
    try:
        srv = InProcessServer()
        conn = srv.connect()
        conn.call("CONFIG", "RESETSTAT")  # the commands' stats live in the process's table
        conn.call("HELLO", proto)
        conn.call("SET", "ttl", "5")
        conn.call("PEXPIRE", "ttl", "100000")
        for argv in setup:
            conn.call(*argv)
        sha = conn.call("SCRIPT", "LOAD", SCRIPT).decode()
        replies = [conn.raw("EVALSHA", sha, "3", "s", "n", "ttl", "hello") for _ in range(3)]
        replies.append(conn.raw("EVAL", "return redis.call('incr', KEYS[1])", "1", "n"))
        replies.append(conn.raw("EVAL_RO", "return redis.call('get', KEYS[1])", "1", "n"))
        return replies, _counts(conn)
    finally:
        scripting._CALLABLE.clear()
        monkeypatch.undo()


@pytest.mark.parametrize("proto", [2, 3])
def test_same_replies_and_counts(monkeypatch, proto):
    with_kernel = _run(monkeypatch, True, proto=proto)
    assert with_kernel == _run(monkeypatch, False, proto=proto)
    counts = with_kernel[1]
    assert counts["cmdstat_incr:calls"] == "13"  # 4 per script, and EVAL's
    assert counts["cmdstat_get:calls"] == "16"


@pytest.mark.parametrize("setup", [
    [("CONFIG", "SET", "notify-keyspace-events", "KEA")],  # notifications: dispatch.call
    [("CONFIG", "SET", "notify-keyspace-events", "Em")],   # key misses notified
    [("CLIENT", "TRACKING", "on")],                       # tracking: the client is guarded
    [("SET", "n", "9223372036854775806")],                # INCR's overflow: the handler's error
    [("SET", "s", "x"), ("EXPIRE", "s", "1000")],         # a key with a TTL: the handler
])
def test_same_where_the_kernel_steps_aside(monkeypatch, setup):
    assert _run(monkeypatch, True, setup) == _run(monkeypatch, False, setup)


def test_slow_log_sees_the_inner_call():
    srv = InProcessServer("--slowlog-log-slower-than", "0")
    conn = srv.connect()
    conn.call("EVAL", "return redis.call('incr', KEYS[1])", "1", "k")
    names = [entry[3][0] for entry in conn.call("SLOWLOG", "GET", "10")]
    assert b"incr" in names and b"EVAL" in names
