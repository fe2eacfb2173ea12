"""Redis 7.0's tests/unit/other.tcl, ported (the parts that are not DEBUG RELOAD, AOF or
replication): SAVE, fuzzed SET/GET and APPEND, SELECT out of range, pipelining, MULTI basics,
RESET, the coverage blocks (HELP, MEMORY, ECHO) and the subcommand syntax-error regression; on
forkv and on Debian's redis-server 7.0 (`r` of _suite.py).

Skipped: BGSAVE + DEBUG RELOAD, the reload/AOF consistency and EXPIRES-after-reload blocks
(persistence tests cover reloads), "Don't rehash if redis has child process" and the resize
blocks (dict internals), "Process title set as expected" (needs the tcl harness).
Scaled down: the FUZZ stresser (1000 -> 200 values per data model), PIPELINING (100000 -> 5000).
"""

import random
import socket

import pytest
import redis

from tests.server.commands._suite import Deferring, assert_error, cmd, r  # noqa: F401
from tests.servers import session


def randstring(rng, lo, hi, kind):
    n = rng.randint(lo, hi)
    if kind == "binary":
        return bytes(rng.randrange(256) for _ in range(n))
    if kind == "alpha":
        return bytes(rng.randrange(48, 123) for _ in range(n))
    return bytes(rng.choice(b"ABCD") for _ in range(n))  # compr


@pytest.fixture
def rb(r):
    client = redis.Redis(port=r.connection_pool.connection_kwargs["port"])
    yield client
    client.close()


def test_save_with_all_types_as_values(r):
    r.lpush("mysavelist", "hello")
    r.lpush("mysavelist", "world")
    r.set("myemptykey", "")
    r.set("mynormalkey", "blablablba")
    r.zadd("mytestzset", {"a": 10, "b": 20, "c": 30})
    assert r.save() is True


@pytest.mark.parametrize("kind", ["binary", "alpha", "compr"])
def test_fuzz_stresser(rb, kind):
    rng = random.Random(kind)
    for _ in range(200):
        fuzz = randstring(rng, 0, 512, kind)
        rb.set("foo", fuzz)
        assert rb.get("foo") == fuzz


def test_select_an_out_of_range_db(r):
    assert_error("ERR DB index is out of range", r, "SELECT", "1000000")  # newer Redis: "invalid"
    assert_error("ERR DB index is out of range", r, "SELECT", "16")
    assert_error("ERR value is not an integer or out of range", r, "SELECT", "x")


def test_pipelining_stresser(any_server):
    n = 5000
    with socket.create_connection(("127.0.0.1", any_server.port), timeout=20) as sock:
        f = sock.makefile("rb")
        sock.sendall(b"SELECT 9\r\n")
        assert f.readline() == b"+OK\r\n"
        sock.sendall(b"".join(b"SET key:%d 0000%d0000\r\nGET key:%d\r\n" % (i, i, i) for i in range(n)))
        for i in range(n):
            assert f.readline() == b"+OK\r\n"
            value = b"0000%d0000" % i
            assert f.readline() == b"$%d\r\n" % len(value)
            assert f.readline() == value + b"\r\n"
        sock.sendall(b"FLUSHDB\r\n")
        assert f.readline() == b"+OK\r\n"


def test_multi_exec_basics(r):
    r.rpush("mylist", "a", "b", "c")
    pipe = r.pipeline(transaction=True)
    pipe.lrange("mylist", 0, -1)
    pipe.ping()
    assert pipe.execute() == [["a", "b", "c"], True]


def test_discard(r):
    d = Deferring(r)
    try:
        r.rpush("mylist", "a", "b", "c")
        assert d.call("MULTI") == "OK"
        assert d.call("DEL", "mylist") == "QUEUED"
        assert d.call("DISCARD") == "OK"
        assert r.lrange("mylist", 0, -1) == ["a", "b", "c"]
    finally:
        d.close()


def test_nested_multi_and_watch_inside_multi(r):
    d = Deferring(r)
    try:
        d.call("MULTI")
        with pytest.raises(redis.ResponseError, match="MULTI calls can not be nested"):
            d.call("MULTI")
        with pytest.raises(redis.ResponseError, match="WATCH inside MULTI is not allowed"):
            d.call("WATCH", "x")
        assert d.call("EXEC") == []
    finally:
        d.close()


def test_multi_where_commands_alter_argv(r):
    r.sadd("myset", "a")
    pipe = r.pipeline(transaction=True)
    pipe.spop("myset")
    assert pipe.execute() == ["a"]
    assert r.exists("myset") == 0


def test_append_basics(r):
    assert r.append("foo", "bar") == 3
    assert r.get("foo") == "bar"
    assert r.append("foo", "100") == 6
    assert r.get("foo") == "bar100"


def test_append_integer_encoded_values(r):
    r.append("foo", 1)
    r.append("foo", 2)
    assert r.get("foo") == "12"
    r.set("foo", 1)
    r.append("foo", 2)
    assert r.get("foo") == "12"


def test_append_fuzzing(rb):
    rng = random.Random(7)
    for kind in ("binary", "alpha", "compr"):
        buf = b""
        rb.delete("x")
        for _ in range(300):
            piece = randstring(rng, 0, 10, kind)
            buf += piece
            rb.append("x", piece)
        assert rb.get("x") == buf


def test_flushdb(r):
    port = r.connection_pool.connection_kwargs["port"]
    for db in (9, 10):
        c = redis.Redis(port=port, db=db)
        c.set("k", "v")
        c.flushdb()
        assert c.dbsize() == 0
        c.close()


def test_reset_clears_client_state(r):
    d = Deferring(r)
    try:
        d.call("CLIENT", "SETNAME", "test-client")
        d.call("CLIENT", "TRACKING", "on")
        assert d.call("RESET") == "RESET"
        line = d.call("CLIENT", "LIST", "ID", d.call("CLIENT", "ID"))
        assert "name= " in line and "flags=N" in line
    finally:
        d.close()


def test_reset_clears_monitor_state(r):
    d = Deferring(r)
    try:
        assert d.call("MONITOR") == "OK"
        assert d.call("RESET") == "RESET"
        line = d.call("CLIENT", "LIST", "ID", d.call("CLIENT", "ID"))
        assert "flags=N" in line
    finally:
        d.close()


def test_reset_clears_and_discards_multi_state(r):
    d = Deferring(r)
    try:
        d.call("MULTI")
        d.call("SET", "key-a", "a")
        assert d.call("RESET") == "RESET"
        with pytest.raises(redis.ResponseError, match="EXEC without MULTI"):
            d.call("EXEC")
    finally:
        d.close()


def test_reset_clears_pubsub_state(r):
    d = Deferring(r)
    try:
        d.call("SUBSCRIBE", "channel-1")
        assert d.call("RESET") == "RESET"
        assert d.call("PING") == "PONG"  # not in subscribed mode any more
    finally:
        d.close()


def test_reset_clears_authenticated_state(r):
    port = r.connection_pool.connection_kwargs["port"]
    r.config_set("requirepass", "password")
    try:
        replies = session(port, ["AUTH", "password"], ["RESET"], ["SET", "x", "y"])
        assert replies[:2] == [b"OK", b"RESET"]
        assert str(replies[2]).startswith("NOAUTH")
    finally:
        session(port, ["AUTH", "password"], ["CONFIG", "SET", "requirepass", ""])


def test_subcommand_syntax_error_crash(r):
    # issue #10070
    for args in (["GET|", "SET"], ["GET|SET", "SET"], ["CONFIG|GET", "GET_XX"], ["CONFIG|GET_XX", "GET"]):
        assert_error(f"ERR unknown command '{args[0]}', with args beginning with: '{args[1]}' ", r, *args)


def test_coverage_help_commands(r):
    for name in ("OBJECT", "MEMORY", "PUBSUB", "SLOWLOG", "CLIENT", "COMMAND", "CONFIG", "FUNCTION", "MODULE"):
        lines = cmd(r, name, "HELP")
        assert lines[0].startswith(f"{name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"), lines[0]
        assert lines[-1] == "    Prints this help."


def test_coverage_memory(r):
    assert isinstance(cmd(r, "MEMORY", "MALLOC-STATS"), str)
    assert cmd(r, "MEMORY", "PURGE") == "OK"


def test_coverage_echo(r):
    assert r.echo("bang") == "bang"


# MIGRATE (added to forkv for introspection.tcl's MONITOR redaction block): the cases of
# dump.tcl's MIGRATE blocks, from each server to a target of the same kind.

@pytest.fixture(scope="module", params=["forkv", "redis"])
def migrate_pair(request):
    from tests.servers import ServerProcess

    source = request.getfixturevalue(f"{request.param}_server")
    target = ServerProcess(request.param)
    try:
        target.start()
        yield source, target
    finally:
        target.cleanup()


def test_migrate(migrate_pair):
    source, target = migrate_pair
    src = redis.Redis(port=source.port)
    src.response_callbacks.clear()
    dst = redis.Redis(port=target.port)
    dst3 = redis.Redis(port=target.port, db=3)
    src.flushall()
    dst.flushall()

    def call(*args):
        try:
            return src.execute_command("MIGRATE", "127.0.0.1", *args)
        except redis.ResponseError as exc:
            return "error: " + str(exc)

    try:
        src.set("k", "v")
        src.set("t", "x", px=100000)
        src.rpush("l", 1, 2, 3)
        assert call(target.port, "k", 0, 1000) == b"OK"
        assert (src.exists("k"), dst.get("k")) == (0, b"v")
        assert call(target.port, "nokey", 0, 1000) == b"NOKEY"
        assert call(target.port, "", 3, 1000, "COPY", "KEYS", "t", "l", "missing") == b"OK"
        assert src.exists("t", "l") == 2
        assert dst3.lrange("l", 0, -1) == [b"1", b"2", b"3"] and 90000 < dst3.pttl("t") <= 100000
        assert call(target.port, "", 3, 1000, "KEYS", "t", "l") == \
            "error: Target instance replied with error: BUSYKEY Target key name already exists."
        assert call(target.port, "", 3, 1000, "REPLACE", "KEYS", "t", "l") == b"OK"
        assert src.exists("t", "l") == 0
        assert call(target.port, "x", 3, 1000, "KEYS", "t") == \
            "error: When using MIGRATE KEYS option, the key argument must be set to the empty string"
        assert call(target.port, "x", 3, 1000, "BAD") == "error: syntax error"
        assert call(target.port, "x", 3, "abc") == "error: value is not an integer or out of range"
        src.set("k", "v")
        assert call(target.port, "k", 0, 1000, "AUTH", "pw").startswith(
            "error: Target instance replied with error: ERR AUTH <password> called without any password")
        assert src.exists("k") == 1  # a failed AUTH keeps every key
        assert src.execute_command("COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "1", "AUTH2", "u", "p",
                                   "KEYS", "a", "b") == [b"a", b"b"]
    finally:
        for c in (src, dst, dst3):
            c.close()
