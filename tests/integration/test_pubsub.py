"""Pub/Sub (issue 13): the same exchanges against forkv and Debian's redis-server, compared byte for
byte where the order is defined (one channel at a time) and as sorted replies where Redis's order
comes from its hash tables; delivery, RESP2's subscribed mode, RESP3 pushes, RESET, disconnection,
the pubsub output-buffer limit, and redis-py's PubSub on forkv."""

import socket
import time

import hiredis
import pytest
import redis

from tests.servers import ServerProcess, command_bytes, rss, wait_for


class Raw:
    """A socket speaking RESP: send commands, read a number of replies with their exact bytes."""

    def __init__(self, port: int, proto: int = 2):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.reader = hiredis.Reader()
        self.pending = b""
        if proto == 3:
            self.call("HELLO", "3")

    def send(self, *args) -> None:
        self.sock.sendall(command_bytes(*args))

    def send_many(self, *commands) -> None:
        """Several commands in one write (so the server reads them together)."""
        self.sock.sendall(b"".join(command_bytes(*args) for args in commands))

    def read(self, n: int = 1) -> tuple:
        """(raw bytes, decoded replies) of the next `n` replies."""
        replies = []
        while True:
            while len(replies) < n and (reply := self.reader.gets()) is not False:
                replies.append(reply)
            if len(replies) == n:
                break
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("closed")
            self.pending += chunk
            self.reader.feed(chunk)
        # the exact bytes of these replies: re-encode from what arrived, reply by reply
        raw, self.pending = _split(self.pending, n)
        return raw, replies

    def call(self, *args, replies: int = 1) -> bytes:
        self.send(*args)
        return self.read(replies)[0]

    def close(self) -> None:
        self.sock.close()


def _split(data: bytes, n: int) -> tuple:
    """(the first `n` complete RESP replies of `data`, the rest), by walking their framing."""
    pos = 0
    for _ in range(n):
        pos = _skip(data, pos)
    return data[:pos], data[pos:]


def _skip(data: bytes, pos: int) -> int:
    end = data.index(b"\r\n", pos)
    kind, line = data[pos:pos + 1], data[pos + 1:end]
    pos = end + 2
    if kind in (b"$", b"=", b"!") and line != b"-1":
        return pos + int(line) + 2
    if kind in (b"*", b">", b"~", b"%", b"|") and line != b"-1":
        count = int(line) * (2 if kind in (b"%", b"|") else 1)
        for _ in range(count):
            pos = _skip(data, pos)
    return pos


@pytest.fixture
def raws(any_server):
    opened = []

    def make(proto: int = 2) -> Raw:
        conn = Raw(any_server.port, proto)
        opened.append(conn)
        return conn

    first = make()
    first.call("FLUSHALL")
    yield make
    for conn in opened:
        conn.close()


def test_subscribe_confirmations_and_counts(raws):
    a = raws()
    assert a.call("SUBSCRIBE", "a", "b", replies=2) == (
        b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n")
    assert a.call("SUBSCRIBE", "a") == b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:2\r\n"
    assert a.call("PSUBSCRIBE", "p*") == b"*3\r\n$10\r\npsubscribe\r\n$2\r\np*\r\n:3\r\n"
    assert a.call("SSUBSCRIBE", "s1") == b"*3\r\n$10\r\nssubscribe\r\n$2\r\ns1\r\n:1\r\n"
    raw, replies = (a.send("UNSUBSCRIBE"), a.read(2))[1]
    assert sorted(replies) == [[b"unsubscribe", b"a", 1], [b"unsubscribe", b"b", 2]] or sorted(
        r[1] for r in replies) == [b"a", b"b"]
    assert [r[2] for r in replies] == [2, 1]
    assert a.call("PUNSUBSCRIBE") == b"*3\r\n$12\r\npunsubscribe\r\n$2\r\np*\r\n:0\r\n"
    assert a.call("PING") == b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"  # still subscribed: a shard channel
    assert a.call("SUNSUBSCRIBE") == b"*3\r\n$12\r\nsunsubscribe\r\n$2\r\ns1\r\n:0\r\n"
    assert a.call("PING") == b"+PONG\r\n"
    for word in ("unsubscribe", "punsubscribe", "sunsubscribe"):
        assert a.call(word.upper()) == b"*3\r\n$%d\r\n%b\r\n$-1\r\n:0\r\n" % (len(word), word.encode())


def test_resp2_subscribed_mode_allows_only_the_pubsub_commands(raws):
    a = raws()
    a.call("SUBSCRIBE", "c")
    for args, name in ((("GET", "x"), "get"), (("CLIENT", "LIST"), "client|list"), (("MULTI",), "multi")):
        assert a.call(*args) == (f"-ERR Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / "
                                 "PING / QUIT / RESET are allowed in this context\r\n").encode()
    assert a.call("EXEC").startswith(b"-EXECABORT Transaction discarded because of: Can't execute 'exec'")
    assert a.call("NOSUCH").startswith(b"-ERR unknown command 'NOSUCH'")
    assert a.call("PING", "hi") == b"*2\r\n$4\r\npong\r\n$2\r\nhi\r\n"
    assert a.call("RESET") == b"+RESET\r\n"
    assert a.call("GET", "x") == b"$-1\r\n"


def test_publish_reaches_channel_pattern_and_shard_subscribers(raws):
    a, b, pub = raws(), raws(), raws()
    a.call("SUBSCRIBE", "news")
    b.call("PSUBSCRIBE", "n*")
    b.call("SSUBSCRIBE", "news")
    assert pub.call("PUBLISH", "news", "hello") == b":2\r\n"
    assert a.read()[0] == b"*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n"
    assert b.read()[0] == b"*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$5\r\nhello\r\n"
    assert pub.call("SPUBLISH", "news", "s") == b":1\r\n"
    assert b.read()[0] == b"*3\r\n$8\r\nsmessage\r\n$4\r\nnews\r\n$1\r\ns\r\n"
    assert pub.call("PUBLISH", "other", "x") == b":0\r\n"
    assert pub.call("PUBLISH", "nope", "x") == b":1\r\n"
    assert b.read()[1] == [[b"pmessage", b"n*", b"nope", b"x"]]
    assert pub.call("PUBSUB", "CHANNELS") == b"*1\r\n$4\r\nnews\r\n"
    assert pub.call("PUBSUB", "CHANNELS", "x*") == b"*0\r\n"
    assert pub.call("PUBSUB", "NUMSUB", "news", "none") == b"*4\r\n$4\r\nnews\r\n:1\r\n$4\r\nnone\r\n:0\r\n"
    assert pub.call("PUBSUB", "NUMPAT") == b":1\r\n"
    assert pub.call("PUBSUB", "SHARDCHANNELS") == b"*1\r\n$4\r\nnews\r\n"
    assert pub.call("PUBSUB", "SHARDNUMSUB", "news") == b"*2\r\n$4\r\nnews\r\n:1\r\n"
    assert pub.call("PUBSUB", "NUMSUB") == b"*0\r\n"
    assert pub.call("PUBSUB", "CHANNELS", "a", "b").startswith(
        b"-ERR unknown subcommand or wrong number of arguments for 'CHANNELS'")
    assert pub.call("PUBSUB", "NUMPAT", "x") == b"-ERR wrong number of arguments for 'pubsub|numpat' command\r\n"
    assert pub.call("PUBSUB", "FOO") == b"-ERR unknown subcommand 'FOO'. Try PUBSUB HELP.\r\n"
    assert pub.call("SUBSCRIBE") == b"-ERR wrong number of arguments for 'subscribe' command\r\n"


def test_resp3_pushes_and_commands_while_subscribed(raws):
    a = raws(proto=3)
    assert a.call("SUBSCRIBE", "a") == b">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
    a.call("PSUBSCRIBE", "a*")
    assert a.call("SET", "k", "v") == b"+OK\r\n"
    assert a.call("PING") == b"+PONG\r\n"
    # publishing to itself: the messages come before PUBLISH's own reply
    raw, _ = (a.send("PUBLISH", "a", "self"), a.read(3))[1]
    assert raw == (b">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$4\r\nself\r\n"
                   b">4\r\n$8\r\npmessage\r\n$2\r\na*\r\n$1\r\na\r\n$4\r\nself\r\n:2\r\n")
    # HELLO 2 while subscribed: RESP2's subscribed mode applies from then on
    a.call("HELLO", "2")
    assert a.call("GET", "k").startswith(b"-ERR Can't execute 'get'")


def test_reset_and_disconnect_drop_subscriptions(raws):
    a, b, pub = raws(), raws(), raws()
    a.call("SUBSCRIBE", "x")
    a.call("PSUBSCRIBE", "y*")
    assert pub.call("PUBSUB", "NUMSUB", "x") == b"*2\r\n$1\r\nx\r\n:1\r\n"
    assert a.call("RESET") == b"+RESET\r\n"
    assert pub.call("PUBSUB", "NUMSUB", "x") == b"*2\r\n$1\r\nx\r\n:0\r\n"
    assert pub.call("PUBSUB", "NUMPAT") == b":0\r\n"
    b.call("SUBSCRIBE", "x")
    b.close()
    wait_for(lambda: pub.call("PUBSUB", "NUMSUB", "x") == b"*2\r\n$1\r\nx\r\n:0\r\n", timeout=5,
             what="a closed subscriber to be forgotten")
    assert pub.call("PUBLISH", "x", "m") == b":0\r\n"


def test_client_list_shows_subscriptions(raws):
    a = raws()
    a.call("SUBSCRIBE", "c1", "c2", replies=2)
    a.call("PSUBSCRIBE", "p")
    a.call("SSUBSCRIBE", "s")
    other = raws()
    listing = other.call("CLIENT", "LIST", "TYPE", "pubsub")
    fields = dict(part.split(b"=", 1) for part in listing.split(b"\r\n")[1].split(b" ") if b"=" in part)
    assert (fields[b"flags"], fields[b"sub"], fields[b"psub"], fields[b"ssub"]) == (b"P", b"2", b"1", b"1")
    assert other.call("CLIENT", "LIST", "TYPE", "normal").count(b"flags=P") == 0


def test_redis_py_pubsub(forkv_server):
    r = redis.Redis(port=forkv_server.port)
    p = r.pubsub()
    try:
        p.subscribe("chan")
        p.psubscribe("ch*")
        assert p.get_message(timeout=5)["type"] == "subscribe"
        assert p.get_message(timeout=5)["type"] == "psubscribe"
        assert r.publish("chan", "hi") == 2
        got = [p.get_message(timeout=5) for _ in range(2)]
        assert {(m["type"], m["data"]) for m in got} == {("message", b"hi"), ("pmessage", b"hi")}
        assert r.pubsub_numsub("chan") == [(b"chan", 1)]
        p.unsubscribe()
        p.punsubscribe()
    finally:
        p.close()
        r.close()


def test_a_subscriber_that_stops_reading_is_closed_and_memory_stays_bounded():
    with ServerProcess("forkv", args=["--client-output-buffer-limit", "pubsub 1mb 256kb 60"]) as server:
        slow = socket.create_connection(("127.0.0.1", server.port))
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.sendall(command_bytes("SUBSCRIBE", "flood"))
        r = redis.Redis(port=server.port)
        try:
            wait_for(lambda: r.pubsub_numsub("flood") == [(b"flood", 1)], timeout=5, what="subscription")
            before = rss(server.proc.pid)
            message = b"x" * 10000
            deadline = time.monotonic() + 30
            while r.pubsub_numsub("flood") == [(b"flood", 1)] and time.monotonic() < deadline:
                pipe = r.pipeline(transaction=False)
                for _ in range(100):
                    pipe.publish("flood", message)
                pipe.execute()
            assert r.pubsub_numsub("flood") == [(b"flood", 0)], "the slow subscriber was not closed"
            assert rss(server.proc.pid) - before < 64 * 1024 * 1024
            wait_for(lambda: "for overcoming of output buffer limits" in server.log(), timeout=5,
                     what="the log line")
            assert r.ping()
        finally:
            r.close()
            slow.close()


def test_idle_timeout_spares_subscribers():
    with ServerProcess("forkv", args=["--timeout", "1"]) as server:
        sub = Raw(server.port)
        idle = Raw(server.port)
        try:
            sub.call("SUBSCRIBE", "c")
            idle.call("PING")

            def idle_closed():  # reads only: a command would count as activity
                idle.sock.settimeout(0.2)
                try:
                    return idle.sock.recv(1) == b""
                except TimeoutError:
                    return False
                except OSError:
                    return True

            wait_for(idle_closed, timeout=10, interval=0.5, what="the idle client to be closed")
            assert sub.call("PING") == b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"
        finally:
            sub.close()
            idle.close()
