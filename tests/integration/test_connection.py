"""Connection and server commands through redis-py, against forkv and (any_r) real Redis."""

import socket
import threading

import pytest
import redis

from tests.servers import ServerProcess, raw_call, read_until_closed


def err(fn, *args):
    with pytest.raises(redis.RedisError) as info:
        fn(*args)
    return str(info.value)


def test_ping_echo(any_r):
    assert any_r.ping() is True
    port = any_r.get_connection_kwargs()["port"]
    assert raw_call(port, "PING", "hello") == b"hello"
    assert err(any_r.execute_command, "PING", "a", "b") == "wrong number of arguments for 'ping' command"
    assert any_r.echo("x\r\ny") == b"x\r\ny"


def test_select_and_errors(any_r):
    assert any_r.execute_command("SELECT", 15) is True
    assert err(any_r.execute_command, "SELECT", 16) == "DB index is out of range"
    assert err(any_r.execute_command, "SELECT", "x") == "value is not an integer or out of range"
    assert err(any_r.execute_command, "SELECT", -1) == "DB index is out of range"


def test_swapdb(any_r):
    any_r.set("a", "0")
    any_r.execute_command("SELECT", 1)
    any_r.set("b", "1")
    assert any_r.execute_command("SWAPDB", 0, 1) is True
    assert any_r.get("a") == b"0" and any_r.get("b") is None
    assert err(any_r.execute_command, "SWAPDB", "x", 1) == "invalid first DB index"
    assert err(any_r.execute_command, "SWAPDB", 0, "y") == "invalid second DB index"
    assert err(any_r.execute_command, "SWAPDB", 0, 99) == "DB index is out of range"


def test_unknown_and_arity(any_r):
    assert err(any_r.execute_command, "NOPE", "a", "b") == \
        "unknown command 'NOPE', with args beginning with: 'a' 'b' "
    assert err(any_r.execute_command, "GET") == "wrong number of arguments for 'get' command"
    assert err(any_r.execute_command, "CLIENT", "NOPE") == \
        "unknown subcommand 'NOPE'. Try CLIENT HELP."
    assert err(any_r.execute_command, "CONFIG", "GET") == \
        "wrong number of arguments for 'config|get' command"


def test_client_subcommands(any_r):
    cid = any_r.client_id()
    assert isinstance(cid, int)
    assert any_r.client_getname() is None
    assert any_r.client_setname("worker-1") is True
    assert any_r.client_getname() == "worker-1"
    assert err(any_r.execute_command, "CLIENT", "SETNAME", "a b") == \
        "Client names cannot contain spaces, newlines or special characters."
    info = any_r.execute_command("CLIENT", "INFO").decode()
    assert info.startswith(f"id={cid} addr=127.0.0.1:") and "name=worker-1" in info
    assert "cmd=client|info" in info and info.endswith("\n")
    fields = [kv.split("=")[0] for kv in info.split()]
    assert fields == ["id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db", "sub", "psub",
                      "ssub", "multi", "qbuf", "qbuf-free", "argv-mem", "multi-mem", "rbs", "rbp",
                      "obl", "oll", "omem", "tot-mem", "events", "cmd", "user", "redir", "resp"]
    assert any_r.execute_command("CLIENT", "NO-EVICT", "on") == b"OK"
    assert err(any_r.execute_command, "CLIENT", "NO-EVICT", "maybe") == "syntax error"
    assert err(any_r.execute_command, "CLIENT", "KILL", "1.2.3.4:5") == "No such client"


def test_client_kill_other(any_server):
    a = redis.Redis(port=any_server.port)
    with socket.create_connection(("127.0.0.1", any_server.port)) as s:
        s.sendall(b"CLIENT ID\r\n")
        b_id = int(s.recv(100)[1:-2])
        assert a.client_kill_filter(_id=b_id) == 1
        s.settimeout(5)
        assert s.recv(100) == b""
        assert a.client_kill_filter(_id=b_id) == 0
    a.close()


def test_hello_resp3_and_errors(any_server):
    r3 = redis.Redis(port=any_server.port, protocol=3)
    hello = r3.execute_command("HELLO", 3)
    assert hello[b"proto"] == 3 and hello[b"server"] == b"redis" and hello[b"version"] == b"7.0.15"
    assert hello[b"mode"] == b"standalone" and hello[b"role"] == b"master"
    r3.set("k", "v")
    assert r3.config_get("maxclients") == {"maxclients": "10000"} or \
        r3.config_get("maxclients") == {b"maxclients": b"10000"}
    r2 = redis.Redis(port=any_server.port)
    assert err(r2.execute_command, "HELLO", 4) == "NOPROTO unsupported protocol version"
    assert err(r2.execute_command, "HELLO", "x") == "Protocol version is not an integer or out of range"
    assert err(r2.execute_command, "HELLO", 3, "FOO") == "Syntax error in HELLO option 'FOO'"
    r3.close()
    r2.close()


def test_resp3_wire_types(any_server):
    with socket.create_connection(("127.0.0.1", any_server.port)) as s:
        def ask(payload, expect_prefix):
            s.sendall(payload)
            buf = b""
            while not buf.endswith(b"\r\n") or len(buf) < len(expect_prefix):
                buf += s.recv(65536)
            return buf
        ask(b"HELLO 3\r\n", b"%")
        assert ask(b"GET nosuchkey\r\n", b"_") == b"_\r\n"
        reply = ask(b"CONFIG GET maxclients\r\n", b"%1")
        assert reply == b"%1\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n"


def test_auth_flow():
    with ServerProcess("forkv", ["--requirepass", "s3cret"]) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
            def ask(line):
                s.sendall(line)
                return s.recv(65536)
            assert ask(b"GET k\r\n") == b"-NOAUTH Authentication required.\r\n"
            assert ask(b"AUTH wrong\r\n") == \
                b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
            assert ask(b"AUTH s3cret\r\n") == b"+OK\r\n"
            assert ask(b"SET k v\r\n") == b"+OK\r\n"
            assert ask(b"RESET\r\n") == b"+RESET\r\n"
            assert ask(b"GET k\r\n") == b"-NOAUTH Authentication required.\r\n"
            assert ask(b"HELLO 3\r\n").startswith(b"-NOAUTH HELLO must be called")
            assert ask(b"HELLO 3 AUTH default s3cret\r\n").startswith(b"%7\r\n")
            assert ask(b"GET k\r\n") == b"$1\r\nv\r\n"
        ok = redis.Redis(port=server.port, password="s3cret")
        assert ok.get("k") == b"v"
        ok.close()


def test_auth_without_password(any_r):
    with pytest.raises(redis.RedisError) as info:
        any_r.execute_command("AUTH", "x")
    assert str(info.value) == (
        "AUTH <password> called without any password configured for the default user. "
        "Are you sure your configuration is correct?")


def test_multi_exec_watch(any_server):
    r = redis.Redis(port=any_server.port)
    r.flushall()
    with r.pipeline() as p:
        p.set("a", 1).incr("a").get("a")
        assert p.execute() == [True, 2, b"2"]
    other = redis.Redis(port=any_server.port)
    with r.pipeline() as p:
        p.watch("w")
        other.set("w", "changed")
        p.multi()
        p.set("w", "mine")
        with pytest.raises(redis.WatchError):
            p.execute()
    assert r.get("w") == b"changed"
    conn = r.connection_pool.get_connection("MULTI")
    conn.send_command("MULTI")
    assert conn.read_response() == b"OK"
    conn.send_command("NOPE")
    with pytest.raises(redis.ResponseError):
        conn.read_response()
    conn.send_command("EXEC")
    with pytest.raises(redis.ResponseError) as info:
        conn.read_response()
    assert str(info.value).startswith("Transaction discarded because of previous errors")
    r.connection_pool.release(conn)
    assert err(r.execute_command, "EXEC") == "EXEC without MULTI"
    assert err(r.execute_command, "DISCARD") == "DISCARD without MULTI"
    other.close()
    r.close()


def test_dbsize_flush_time_lastsave(any_r):
    any_r.mset({"a": 1, "b": 2})
    assert any_r.dbsize() == 2
    assert any_r.flushdb() is True
    assert any_r.dbsize() == 0
    assert err(any_r.execute_command, "FLUSHALL", "NOW") == "syntax error"
    assert any_r.execute_command("FLUSHALL", "ASYNC") is True
    secs, usecs = any_r.time()
    assert secs > 1_700_000_000 and 0 <= usecs < 1_000_000
    assert abs(any_r.lastsave().timestamp() - secs) < 3600 * 24


def test_info_sections(any_r):
    text = raw_call(any_r.get_connection_kwargs()["port"], "INFO").decode()
    for section in ("# Server", "# Clients", "# Memory", "# Persistence", "# Stats",
                    "# Replication", "# CPU", "# Keyspace"):
        assert section in text
    info = any_r.info()
    assert info["redis_version"] == "7.0.15"
    for field in ("tcp_port", "uptime_in_seconds", "connected_clients", "used_memory",
                  "rdb_changes_since_last_save", "rdb_last_save_time", "total_commands_processed",
                  "keyspace_hits", "keyspace_misses", "expired_keys", "total_forks", "role",
                  "used_cpu_sys", "aof_enabled"):
        assert field in info, field
    any_r.set("x", 1)
    assert any_r.info("keyspace") == {"db0": {"keys": 1, "expires": 0, "avg_ttl": 0}}


def test_forkv_version_field(r):
    assert r.info("server")["forkv_version"] == "0.1.0"


def test_config_get_set(any_r):
    assert any_r.config_get("save") in ({"save": ""}, {"save": "3600 1 300 100 60 10000"})
    assert any_r.config_get("appendonly") == {"appendonly": "no"}
    port = any_r.get_connection_kwargs()["port"]
    got = raw_call(port, "CONFIG", "GET", "maxclients", "hz", "data*")
    assert dict(zip(got[::2], got[1::2])) == {b"maxclients": b"10000", b"hz": b"10", b"databases": b"16"}
    assert raw_call(port, "CONFIG", "SET", "hz", "20", "timeout", "0") == b"OK"
    assert any_r.config_get("hz") == {"hz": "20"}
    any_r.config_set("hz", 10)
    assert err(any_r.execute_command, "CONFIG", "SET", "foo", "bar") == \
        "Unknown option or number of arguments for CONFIG SET - 'foo'"
    assert err(any_r.execute_command, "CONFIG", "SET", "port", "abc") == \
        "CONFIG SET failed (possibly related to argument 'port') - argument couldn't be parsed into an integer"
    assert err(any_r.execute_command, "CONFIG", "SET", "loglevel", "foo") == (
        "CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be one of the following: "
        "debug, verbose, notice, warning")
    assert err(any_r.execute_command, "CONFIG", "SET", "databases", "3") == \
        "CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config"
    assert err(any_r.execute_command, "CONFIG", "SET", "save", "abc") == \
        "CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters"
    assert err(any_r.execute_command, "CONFIG", "SET", "hz", "1", "hz", "2") == \
        "CONFIG SET failed (possibly related to argument 'hz') - duplicate parameter"
    assert raw_call(port, "CONFIG", "RESETSTAT") == b"OK"


def test_command_table(any_r):
    port = any_r.get_connection_kwargs()["port"]
    count = raw_call(port, "COMMAND", "COUNT")
    assert count > 20
    info = raw_call(port, "COMMAND", "INFO", "get", "set", "nope")
    get = info[0]
    assert get[0] == b"get" and get[1] == 2 and get[3:6] == [1, 1, 1]
    assert set(get[2]) >= {b"readonly", b"fast"}
    assert info[1][1] == -3 and info[2] is None
    docs = raw_call(port, "COMMAND", "DOCS", "get")
    assert docs[0] == b"get" and b"summary" in docs[1]
    assert b"get" in raw_call(port, "COMMAND", "LIST")
    assert raw_call(port, "COMMAND", "GETKEYS", "SET", "k", "v") == [b"k"]


def test_pipeline_10000_in_one_write(forkv_server):
    payload = b"".join(b"*2\r\n$4\r\nECHO\r\n$%d\r\n%d\r\n" % (len(str(i)), i) for i in range(10000))
    expected = b"".join(b"$%d\r\n%d\r\n" % (len(str(i)), i) for i in range(10000))
    with socket.create_connection(("127.0.0.1", forkv_server.port)) as s:
        s.sendall(payload)
        got = b""
        while len(got) < len(expected):
            chunk = s.recv(1 << 20)
            assert chunk
            got += chunk
    assert got == expected


@pytest.mark.parametrize("garbage, message", [
    (b"*1\r\n$600000000\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*x\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*1\r\n:1\r\n", b"-ERR Protocol error: expected '$', got ':'\r\n"),
    (b"x" * 70000, b"-ERR Protocol error: too big inline request\r\n"),
])
def test_garbage_disconnects_only_that_client(any_server, garbage, message):
    good = redis.Redis(port=any_server.port)
    with socket.create_connection(("127.0.0.1", any_server.port)) as s:
        s.sendall(b"PING\r\n" + garbage)
        got = read_until_closed(s)
    assert got == b"+PONG\r\n" + message
    assert good.ping() is True
    good.close()


def test_huge_multibulk_claim_costs_no_memory(forkv_server):
    r = redis.Redis(port=forkv_server.port)
    before = r.info("memory")["used_memory_rss"]
    with socket.create_connection(("127.0.0.1", forkv_server.port)) as s:
        s.sendall(b"*2000000000\r\n$3\r\nSET\r\n")
        assert r.ping() is True
    after = r.info("memory")["used_memory_rss"]
    assert after - before < 50 * 1024 * 1024
    r.close()


async def test_asyncio_client(forkv_server):
    import redis.asyncio as aioredis

    client = aioredis.Redis(port=forkv_server.port)
    assert await client.ping() is True
    assert await client.echo("a") == b"a"
    async with client.pipeline(transaction=True) as p:
        p.execute_command("PING")
        p.execute_command("ECHO", "x")
        assert await p.execute() == [True, b"x"]
    await client.aclose()


def test_one_thread_per_process(forkv_server):
    with open(f"/proc/{forkv_server.proc.pid}/status") as f:
        threads = [line for line in f if line.startswith("Threads:")][0]
    assert threads.split()[1] == "1"


def test_concurrent_clients_keep_order(forkv_server):
    errors = []

    def worker(n):
        try:
            c = redis.Redis(port=forkv_server.port)
            for i in range(200):
                assert c.echo(f"{n}-{i}") == f"{n}-{i}".encode()
            c.close()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors


def test_quit_closes(any_server):
    with socket.create_connection(("127.0.0.1", any_server.port)) as s:
        s.sendall(b"QUIT\r\nPING\r\n")
        got = read_until_closed(s)
    assert got == b"+OK\r\n"


def test_no_multi_commands_abort_the_transaction(any_server):
    with socket.create_connection(("127.0.0.1", any_server.port), timeout=10) as s:
        s.sendall(b"MULTI\r\nSAVE\r\nEXEC\r\n")
        expected = (b"+OK\r\n-ERR Command not allowed inside a transaction\r\n"
                    b"-EXECABORT Transaction discarded because of previous errors.\r\n")
        got = b""
        while len(got) < len(expected):
            got += s.recv(1000)
        assert got == expected


def test_top_level_non_requests_as_redis(forkv_server, redis_server):
    payload = b"*1\r\n$4\r\nPING\r\n*-2\r\n*0\r\n_\r\n$-1\r\n+OK\r\nPING\r\n"

    def replies(port):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(payload)
            got = b""
            while got.count(b"\r\n") < 5:
                got += s.recv(65536)
            return got
    assert replies(forkv_server.port) == replies(redis_server.port)


def test_refused_exec_aborts_the_transaction_as_redis(forkv_server, redis_server):
    payload = b"EXEC x\r\nMULTI\r\nSET a 1\r\nEXEC x\r\nEXEC\r\nGET a\r\n"

    def replies(port):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"FLUSHALL\r\n" + payload)
            got = b""
            while got.count(b"\r\n") < 7:
                got += s.recv(65536)
            return got
    assert replies(forkv_server.port) == replies(redis_server.port)


def test_refused_exec_without_auth_as_redis():
    forkv = ServerProcess("forkv", ["--requirepass", "pw"])
    redis_ = ServerProcess("redis", ["--requirepass", "pw"])
    try:
        got = []
        for server in (forkv.start(), redis_.start()):
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
                s.sendall(b"EXEC\r\n")
                got.append(s.recv(200))
        assert got[0] == got[1] == b"-EXECABORT Transaction discarded because of: NOAUTH Authentication required.\r\n"
    finally:
        forkv.cleanup()
        redis_.cleanup()


def test_review_findings_match_redis(forkv_server, redis_server):
    """Replies that once differed from Redis 7.0.15, compared byte for byte."""
    from persistence.rdb import dump_payload

    payload = dump_payload(b"v")
    script = [
        (b"CONFIG", b"GET", b"\xff"), (b"CONFIG", b"GET", b"MAXMEMORY"), (b"CONFIG", b"SET", b"hz", b"1000"),
        (b"CONFIG", b"GET", b"hz"), (b"CONFIG", b"SET", b"hz", b"10"),
        (b"RESTORE", b"big", b"9223372036854775807", payload), (b"EXISTS", b"big"),
        (b"CLIENT", b"KILL", b"MAXAGE", b"10"), (b"CLIENT", b"KILL", b"USER", b"nosuch"),
        (b"CLIENT", b"LIST", b"ID", b"0"), (b"CLIENT", b"LIST", b"TYPE", b"normal", b"ID", b"1"),
        (b"SET", b"", b"x"), (b"KEYS", b"**"), (b"SET", b"]", b"1"), (b"KEYS", b"[a-]"),
    ]
    for argv in script:  # repr: hiredis's error objects compare by identity
        assert repr(raw_call(forkv_server.port, *argv)) == repr(raw_call(redis_server.port, *argv)), argv
    for port in (forkv_server.port, redis_server.port):  # CLIENT INFO is verbatim text in RESP3
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"HELLO 3\r\n")
            while not s.recv(65536).endswith(b"\r\n"):
                pass
            s.sendall(b"CLIENT INFO\r\n")
            assert s.recv(65536).startswith(b"=")


def test_config_set_port_rebinds():
    from tests.servers import free_port, wait_for

    with ServerProcess("forkv") as server:
        new_port = free_port()
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
            s.sendall(b"CONFIG SET port %d\r\n" % new_port)
            assert s.recv(100) == b"+OK\r\n"
            s.sendall(b"PING\r\n")  # the connection that asked stays
            assert s.recv(100) == b"+PONG\r\n"
        assert wait_for(lambda: raw_call(new_port, "PING") == b"PONG", 5, what="new port")
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
        taken = socket.socket()
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        try:
            reply = raw_call(new_port, "CONFIG", "SET", "port", taken.getsockname()[1])
            assert str(reply) == ("ERR CONFIG SET failed (possibly related to argument 'port') - "
                                  "Unable to listen on this port. Check server logs.")
            assert raw_call(new_port, "CONFIG", "GET", "port") == [b"port", b"%d" % new_port]
        finally:
            taken.close()
