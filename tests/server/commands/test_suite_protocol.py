"""Redis 7.0's tests/unit/protocol.tcl, ported: raw bytes go to forkv and to Debian's
redis-server 7.0 alike and what each writes back (the error reply, then whether it closes the
connection) must be the same bytes. Nothing skipped: the file is all wire-level."""

import select
import socket

import pytest

from tests.servers import command_bytes, read_until_closed, wait_for


def exchange(port: int, data: bytes, then: bytes = b"") -> bytes:
    """Send `data` (then `then`, then a PING) in one write on a fresh connection; everything the
    server writes until it closes the connection, or until the PING's +PONG, which shows it kept
    the connection open and is given as b"<open>"."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data + then + command_bytes("PING"))
        out = b""
        while not out.endswith(b"+PONG\r\n"):
            chunk = sock.recv(65536)
            if not chunk:
                return out
            out += chunk
        return out[:-len(b"+PONG\r\n")] + b"<open>"


def both_same(forkv_server, redis_server, data, then=b""):
    ours = exchange(forkv_server.port, data, then)
    theirs = exchange(redis_server.port, data, then)
    assert ours == theirs
    return theirs


def reply_then_ping(port: int, data: bytes) -> bytes:
    """`data`, then PING on the same connection: all the replies up to +PONG."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        sock.sendall(command_bytes("PING"))
        out = b""
        while not out.endswith(b"+PONG\r\n"):
            chunk = sock.recv(65536)
            assert chunk, out
            out += chunk
        return out


@pytest.mark.parametrize("data", [b"\r\n", b"*-10\r\n"], ids=["empty_query", "negative_multibulk_length"])
def test_ignored_queries_then_ping(forkv_server, redis_server, data):
    assert reply_then_ping(forkv_server.port, data) == reply_then_ping(redis_server.port, data) == b"+PONG\r\n"


@pytest.mark.parametrize("data, pattern", [
    (b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n", b"expected '$', got 'f'"),
    (b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n", b"invalid bulk length"),
    (b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$2000000000\r\n", b"invalid bulk length"),
    (b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$blabla\r\n", b"invalid bulk length"),
    (b"*1\r\nfoo\r\n", b"expected '$', got 'f'"),
], ids=["wrong_payload_header", "negative_payload_length",
        "out_of_range_payload_length", "non_number_payload_length", "multibulk_without_bulks"])
def test_protocol_errors_reply_and_close(forkv_server, redis_server, data, pattern):
    reply = both_same(forkv_server, redis_server, data)
    assert reply.startswith(b"-ERR Protocol error: ") and pattern in reply and not reply.endswith(b"<open>")


def test_out_of_range_multibulk_length(forkv_server, redis_server):
    # Newer Redis refuses *20000000 at once; 7.0 accepts counts up to INT_MAX and reads on (here
    # into exchange's PING, which is no bulk string).
    reply = both_same(forkv_server, redis_server, b"*20000000\r\n")
    assert reply == b"-ERR Protocol error: expected '$', got '*'\r\n"


def test_protocol_error_discards_the_rest(forkv_server, redis_server):
    # What follows the bad frame in the same write is never run.
    reply = both_same(forkv_server, redis_server, b"*1\r\nfoo\r\n", command_bytes("PING"))
    assert b"PONG" not in reply


def test_generic_wrong_number_of_args(forkv_server, redis_server):
    reply = both_same(forkv_server, redis_server, command_bytes("PING", "x", "y", "z"))
    assert reply == b"-ERR wrong number of arguments for 'ping' command\r\n<open>"


def desync(port: int, seq: bytes) -> bytes:
    """Protocol desync regression: `seq` then a stream of b"payload" with no newline, until the
    server gives up on the request and closes; what it sent. The stream is paced (a chunk, then a
    short wait for the reply) so the server has read everything when it closes; if it had not,
    the close would be a reset that loses the reply, and the attempt is made again."""
    for _ in range(5):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(seq)
                for _ in range(256):
                    sock.sendall(b"payload" * 147)
                    ready, _, _ = select.select([sock], [], [], 0.01)
                    if ready:
                        break
                return read_until_closed(sock)
        except ConnectionResetError:
            continue
    raise AssertionError("every attempt was reset")


@pytest.mark.parametrize("seq", [b"\x00", b"*\x00", b"$\x00"], ids=["nul", "star_nul", "dollar_nul"])
def test_protocol_desync_regression(forkv_server, redis_server, seq):
    ours, theirs = desync(forkv_server.port, seq), desync(redis_server.port, seq)
    assert ours == theirs
    assert theirs.startswith(b"-ERR Protocol error: ")


def test_blocking_ops_and_pipelining(any_server):
    proto = command_bytes("BLPOP", "nolist", "0")
    with socket.create_connection(("127.0.0.1", any_server.port), timeout=10) as sock, \
            socket.create_connection(("127.0.0.1", any_server.port), timeout=10) as other:
        other.sendall(command_bytes("DEL", "nolist"))
        assert other.recv(100) in (b":0\r\n", b":1\r\n")
        sock.sendall(proto + proto)
        for _ in range(2):
            def blocked():
                other.sendall(command_bytes("INFO", "clients"))
                return b"blocked_clients:1" in other.recv(65536)
            wait_for(blocked, what="the BLPOP blocked")
            other.sendall(command_bytes("RPUSH", "nolist", "a"))
            assert other.recv(100) == b":1\r\n"
        f = sock.makefile("rb")
        for _ in range(2):
            assert [f.readline() for _ in range(5)] == [b"*2\r\n", b"$6\r\n", b"nolist\r\n", b"$1\r\n", b"a\r\n"]


# The RESP-type blocks ("test big number parsing", "test bool parsing", ...): DEBUG PROTOCOL's
# replies, raw, on servers with DEBUG enabled, in RESP2 and RESP3.

@pytest.fixture(scope="module")
def debug_pair():
    from tests.servers import ServerProcess

    servers = [ServerProcess(kind, args=["--enable-debug-command", "yes"]) for kind in ("forkv", "redis")]
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.cleanup()


@pytest.mark.parametrize("proto", [2, 3])
def test_debug_protocol_types(debug_pair, proto):
    from tests.server.commands._suite_raw import run

    lines = [["DEBUG", "PROTOCOL", name] for name in (
        "string", "integer", "double", "bignum", "null", "array", "set", "map", "attrib", "verbatim",
        "true", "false", "nosuch", "push")]  # last: a push and then a reply (read as one here)
    ours, theirs = (run(server.port, lines, proto) for server in debug_pair)
    assert ours == theirs
    if proto == 3:
        assert theirs[3] == b"(1234567999999999999999999999999999999\r\n"
        assert b"#t\r\n" in theirs and b"#f\r\n" in theirs


@pytest.mark.parametrize("proto", [2, 3])
def test_large_number_of_args_and_argument_rewriting(debug_pair, proto):
    from tests.server.commands._suite_raw import run

    args = ["MSET"] + ["k", "v"] * 10000 + ["{k}2", "v2"]
    lines = [["FLUSHALL"], args, ["GET", "{k}2"], ["SET", "k", "0"], ["INCRBYFLOAT", "k", "1.0"],
             ["GET", "k"], ["INCRBYFLOAT", "k", "1.5"], ["GET", "k"]]
    ours, theirs = (run(server.port, lines, proto) for server in debug_pair)
    assert ours == theirs
    assert theirs[2] == b"$2\r\nv2\r\n"
