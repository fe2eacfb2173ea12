"""Blocking list commands with real waiting clients: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP.

Each test runs against a forkv process and against Debian's redis-server 7.0 (`any_server`), so
the order of replies, what a timeout answers and who gets served are Redis's own. Clients are raw
sockets, so a reply's exact bytes are compared; a test waits for a client to be blocked by
polling INFO's blocked_clients, never by sleeping.
"""

import select
import socket
import time

import pytest
import redis

from tests.server.commands._keys_wire import _encode, _read_reply
from tests.servers import wait_for


class Conn:
    """A raw connection: send without waiting, read one reply's exact bytes."""

    def __init__(self, port: int, proto: int = 2, db: int = 0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.f = self.sock.makefile("rb")
        if proto == 3:
            self.call("HELLO", "3")
        if db:
            self.call("SELECT", db)

    def send(self, *commands):
        self.sock.sendall(b"".join(_encode(c) for c in commands))

    def read(self) -> bytes:
        return _read_reply(self.f)

    def call(self, *args) -> bytes:
        self.send(args)
        return self.read()

    def quiet(self, seconds: float = 0.2) -> bool:
        """True when nothing arrives within `seconds` (for what must NOT have been sent yet)."""
        readable, _, _ = select.select([self.sock], [], [], seconds)
        return not readable

    def close(self):
        self.f.close()
        self.sock.close()


def bulk(*items) -> bytes:
    return b"*%d\r\n" % len(items) + b"".join(b"$%d\r\n%s\r\n" % (len(i), i) for i in items)


@pytest.fixture
def env(any_server):
    """(port, control client, open(proto=2, db=0) -> Conn); every Conn is closed at the end."""
    control = redis.Redis(port=any_server.port)
    control.flushall()
    conns = []

    def open_conn(proto: int = 2, db: int = 0) -> Conn:
        conn = Conn(any_server.port, proto, db)
        conns.append(conn)
        return conn

    try:
        yield any_server.port, control, open_conn
    finally:
        for conn in conns:
            conn.close()
        wait_for(lambda: control.info("clients")["blocked_clients"] == 0, what="no blocked clients")
        control.close()


def blocked(control, n: int):
    wait_for(lambda: control.info("clients")["blocked_clients"] == n, what=f"{n} blocked clients")


def test_fifo_fairness_and_serving_right_after_the_push(env):
    port, control, open_conn = env
    waiters = []
    for i in range(3):
        conn = open_conn()
        conn.send(("BLPOP", "q", "0"))
        blocked(control, i + 1)
        waiters.append(conn)
    pusher = open_conn()
    pusher.send(("RPUSH", "q", "a", "b"), ("LLEN", "q"))
    assert pusher.read() == b":2\r\n"
    assert pusher.read() == b":0\r\n"  # both taken already, before the next command ran
    assert waiters[0].read() == bulk(b"q", b"a")
    assert waiters[1].read() == bulk(b"q", b"b")
    blocked(control, 1)
    assert waiters[2].quiet()
    assert pusher.call("LPUSH", "q", "c") == b":1\r\n"
    assert waiters[2].read() == bulk(b"q", b"c")
    assert control.exists("q") == 0


def test_timeouts(env):
    port, control, open_conn = env
    for proto, null in ((2, b"*-1\r\n"), (3, b"_\r\n")):
        conn = open_conn(proto)
        for cmd in (("BLPOP", "a", "b", "0.15"), ("BRPOP", "a", "0.1"), ("BLMOVE", "a", "d", "LEFT", "RIGHT", "0.1"),
                    ("BRPOPLPUSH", "a", "d", ".1"), ("BLMPOP", "0.1", "2", "a", "b", "LEFT", "COUNT", "3")):
            started = time.monotonic()
            assert conn.call(*cmd) == null, cmd
            assert time.monotonic() - started >= 0.09
    assert control.info("clients")["blocked_clients"] == 0


def test_zero_waits_for_ever_and_tiny_timeouts_do_not(env):
    port, control, open_conn = env
    conn = open_conn()
    assert conn.call("BLPOP", "a", "0.0001") == b"*-1\r\n"  # rounded up to 1 ms, not to 0
    conn.send(("BLPOP", "a", "-0.0001"))  # rounds up to 0: waits for ever
    blocked(control, 1)
    assert conn.quiet()
    control.rpush("a", "x")
    assert conn.read() == bulk(b"a", b"x")


def test_several_keys(env):
    port, control, open_conn = env
    control.rpush("k2", "x")
    control.rpush("k3", "y")
    conn = open_conn()
    assert conn.call("BLPOP", "k1", "k2", "k3", "0") == bulk(b"k2", b"x")
    assert conn.call("BRPOP", "k1", "k2", "k3", "0") == bulk(b"k3", b"y")
    conn.send(("BLPOP", "k1", "k2", "k3", "0"))
    blocked(control, 1)
    control.rpush("k3", "z")
    assert conn.read() == bulk(b"k3", b"z")
    conn.send(("BLMPOP", "0", "3", "k1", "k2", "k3", "RIGHT", "COUNT", "2"))
    blocked(control, 1)
    control.rpush("k2", "1", "2", "3")
    assert conn.read() == b"*2\r\n$2\r\nk2\r\n" + bulk(b"3", b"2")
    assert control.lrange("k2", 0, -1) == [b"1"]


def test_multi_exec_never_blocks_and_a_push_in_exec_serves_after_it(env):
    port, control, open_conn = env
    waiter = open_conn()
    waiter.send(("BLPOP", "q", "0"))
    blocked(control, 1)
    tx = open_conn()
    tx.send(("MULTI",), ("RPUSH", "q", "a"), ("LLEN", "q"), ("BLPOP", "nokey", "0"),
            ("BLMOVE", "nokey", "x", "LEFT", "LEFT", "0"),
            ("EXEC",), ("LLEN", "q"))
    replies = [tx.read() for _ in range(7)]
    assert replies[:5] == [b"+OK\r\n"] + [b"+QUEUED\r\n"] * 4
    assert replies[5] == b"*4\r\n:1\r\n:1\r\n*-1\r\n$-1\r\n"  # served only once EXEC is over
    assert replies[6] == b":0\r\n"
    assert waiter.read() == bulk(b"q", b"a")


def test_pipeline_after_a_blocking_command_waits_for_it(env):
    port, control, open_conn = env
    conn = open_conn()
    conn.send(("BLPOP", "q", "0"), ("PING",), ("LLEN", "q"), ("RPUSH", "other", "z"))
    blocked(control, 1)
    assert conn.quiet()
    assert control.exists("other") == 0  # the pipelined write has not run either
    control.rpush("q", "a", "b")
    assert conn.read() == bulk(b"q", b"a")
    assert conn.read() == b"+PONG\r\n"
    assert conn.read() == b":1\r\n"
    assert conn.read() == b":1\r\n"


def test_client_unblock(env):
    port, control, open_conn = env
    conn = open_conn()
    cid = int(conn.call("CLIENT", "ID")[1:-2])
    assert control.execute_command("CLIENT", "UNBLOCK", cid) == 0
    conn.send(("BLPOP", "q", "0"))
    blocked(control, 1)
    assert control.execute_command("CLIENT", "UNBLOCK", cid, "TIMEOUT") == 1
    assert conn.read() == b"*-1\r\n"
    conn.send(("BLMOVE", "q", "d", "LEFT", "LEFT", "0"))
    blocked(control, 1)
    assert control.execute_command("CLIENT", "UNBLOCK", cid, "ERROR") == 1
    assert conn.read() == b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
    assert control.info("clients")["blocked_clients"] == 0


def test_blocked_client_is_listed_and_forgotten_when_it_leaves(env):
    port, control, open_conn = env
    conn = open_conn()
    conn.call("CLIENT", "SETNAME", "waiter")
    conn.send(("BRPOP", "q", "0"))
    blocked(control, 1)
    listed = [c for c in control.client_list() if c["name"] == "waiter"]
    assert listed[0]["flags"] == "b" and listed[0]["cmd"] == "brpop"
    conn.close()
    blocked(control, 0)
    control.rpush("q", "a")
    assert control.lrange("q", 0, -1) == [b"a"]


def test_swapdb_and_a_key_gone_again_before_serving(env):
    port, control, open_conn = env
    conn = open_conn()
    conn.send(("BLPOP", "q", "0"))
    blocked(control, 1)
    redis.Redis(port=port, db=1).rpush("q", "from-db1")
    control.swapdb(0, 1)
    assert conn.read() == bulk(b"q", b"from-db1")
    conn.send(("BLPOP", "q", "0"))
    blocked(control, 1)
    tx = control.pipeline(transaction=True)
    tx.rpush("q", "a").delete("q")
    tx.execute()
    assert conn.quiet()  # written and gone again within EXEC: still waiting
    control.rpush("q", "b")
    assert conn.read() == bulk(b"q", b"b")


def test_wrong_type_at_once_or_while_waiting(env):
    port, control, open_conn = env
    control.set("s", "v")
    conn = open_conn()
    assert conn.call("BLPOP", "s", "0").startswith(b"-WRONGTYPE")
    conn.send(("BLPOP", "k", "0"))
    blocked(control, 1)
    control.set("k", "now a string")
    assert conn.quiet()
    assert control.info("clients")["blocked_clients"] == 1
    control.delete("k")
    control.rpush("k", "z")
    assert conn.read() == bulk(b"k", b"z")


def test_blmove_serves_a_chain_and_refuses_a_wrong_destination(env):
    port, control, open_conn = env
    mover, popper = open_conn(), open_conn(proto=3)
    mover.send(("BLMOVE", "q1", "q2", "RIGHT", "LEFT", "0"))
    blocked(control, 1)
    popper.send(("BLPOP", "q2", "0"))
    blocked(control, 2)
    control.rpush("q1", "x", "y")
    assert mover.read() == b"$1\r\ny\r\n"
    assert popper.read() == bulk(b"q2", b"y")  # RESP3: still an array of two
    assert control.lrange("q1", 0, -1) == [b"x"]
    assert control.exists("q2") == 0
    control.delete("q1")
    control.set("dst", "string")
    mover.send(("BRPOPLPUSH", "q1", "dst", "0"))
    blocked(control, 1)
    control.rpush("q1", "v")
    assert mover.read().startswith(b"-WRONGTYPE")
    assert control.lrange("q1", 0, -1) == [b"v"]
    assert control.info("clients")["blocked_clients"] == 0


def test_info_and_client_list_while_blocked(env):
    port, control, open_conn = env
    conns = [open_conn() for _ in range(2)]
    conns[0].send(("BLMPOP", "0", "1", "a", "LEFT"))
    conns[1].send(("BRPOPLPUSH", "a", "b", "5"))
    blocked(control, 2)
    flags = sorted(c["flags"] for c in control.client_list())
    assert flags.count("b") == 2
    control.rpush("a", "1", "2")
    assert conns[0].read() == b"*2\r\n$1\r\na\r\n" + bulk(b"1")
    assert conns[1].read() == b"$1\r\n2\r\n"
    assert control.lrange("b", 0, -1) == [b"2"]


def test_served_clients_notify_as_redis_does(env):
    port, control, open_conn = env
    control.config_set("notify-keyspace-events", "KEA")
    pubsub = control.pubsub()
    try:
        pubsub.psubscribe("__keyevent@0__:*", "end")
        mover, popper = open_conn(), open_conn()
        mover.send(("BLMOVE", "q1", "q2", "LEFT", "LEFT", "0"))
        blocked(control, 1)
        popper.send(("BLPOP", "q2", "0"))
        blocked(control, 2)
        control.rpush("q1", "x")
        assert mover.read() == b"$1\r\nx\r\n"
        assert popper.read() == bulk(b"q2", b"x")
        control.publish("end", "x")
        got = []

        def ended():
            while (message := pubsub.get_message(timeout=0.01)) is not None:
                if message["type"] == "pmessage":
                    got.append((message["channel"], message["data"]))
            return bool(got) and got[-1] == (b"end", b"x")

        wait_for(ended, what="notifications")
        events = [(b"__keyevent@0__:" + e, k) for e, k in
                  ((b"rpush", b"q1"), (b"lpush", b"q2"), (b"lpop", b"q1"), (b"del", b"q1"),
                   (b"lpop", b"q2"), (b"del", b"q2"))]
        assert got == events + [(b"end", b"x")]
    finally:
        pubsub.close()
        control.config_set("notify-keyspace-events", "")


def test_keys_made_ready_in_one_exec_serve_in_the_order_they_were_written(env):
    port, control, open_conn = env
    first, second = open_conn(), open_conn()
    first.send(("BLPOP", "a", "b", "0"))
    blocked(control, 1)
    second.send(("BRPOP", "a", "b", "0"))
    blocked(control, 2)
    tx = control.pipeline(transaction=True)
    tx.rpush("b", "1").rpush("a", "2", "3")
    tx.execute()
    assert first.read() == bulk(b"b", b"1")
    assert second.read() == bulk(b"a", b"3")
    assert control.lrange("a", 0, -1) == [b"2"]
