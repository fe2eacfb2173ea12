"""Hashes (issue 11): HSET & co., HINCRBY/HINCRBYFLOAT, HRANDFIELD, HSCAN, OBJECT ENCODING's
listpack -> hashtable conversion, and a hash's life in the keyspace (WATCH, dirty counter, MULTI,
COPY/RENAME/DUMP/RESTORE, SAVE and files crossing between forkv and Debian's redis-server).

Where a reply is deterministic the same script runs against both servers and the decoded replies
(RESP2 and RESP3: hiredis keeps maps, arrays and error texts apart) or the raw bytes are compared,
so the expected values are Redis 7.0's own."""

import pytest

from tests.server.commands._keys_wire import raw
from tests.servers import session


def _plain(reply):
    """A decoded reply with errors turned into comparable values."""
    if isinstance(reply, Exception):
        return ("error", str(reply))
    if isinstance(reply, list):
        return [_plain(item) for item in reply]
    if isinstance(reply, dict):
        return {key: _plain(item) for key, item in reply.items()}
    return reply


def _run(server, commands, proto=2):
    prefix = [("HELLO", "3")] if proto == 3 else []
    replies = session(server.port, ("FLUSHALL",), *prefix, *commands)
    return [_plain(reply) for reply in replies[1 + len(prefix):]]


def same(forkv_server, redis_server, commands, proto=2):
    """Runs `commands` on a fresh database of each server; asserts the replies are the same and
    returns them."""
    theirs = _run(redis_server, commands, proto)
    mine = _run(forkv_server, commands, proto)
    for command, a, b in zip(commands, mine, theirs):
        assert a == b, command
    return theirs


BASICS = [
    ("HSET", "h", "f1", "v1", "f2", "v2"), ("HSET", "h", "f1", "new", "f3", "v3"), ("HGET", "h", "f1"),
    ("HGET", "h", "nope"), ("HGET", "nokey", "f"), ("HMGET", "h", "f1", "nope", "f3"),
    ("HMGET", "nokey", "a", "b"), ("HLEN", "h"), ("HLEN", "nokey"), ("HEXISTS", "h", "f2"),
    ("HEXISTS", "h", "zz"), ("HEXISTS", "nokey", "f"), ("HSTRLEN", "h", "f1"), ("HSTRLEN", "h", "zz"),
    ("HSTRLEN", "nokey", "f"), ("HKEYS", "h"), ("HVALS", "h"), ("HGETALL", "h"), ("HKEYS", "nokey"),
    ("HVALS", "nokey"), ("HGETALL", "nokey"), ("HSETNX", "h", "f1", "x"), ("HSETNX", "h", "f4", "x"),
    ("HSETNX", "fresh", "a", "b"), ("HMSET", "h", "f5", "5", "f6", "6"), ("HGETALL", "h"),
    ("HDEL", "h", "f5", "f5", "nope"), ("HDEL", "nokey", "a"), ("HDEL", "fresh", "a"), ("EXISTS", "fresh"),
    ("HSET", "bin", b"\x00\xff\r\n", b"\r\n\x00"), ("HGET", "bin", b"\x00\xff\r\n"), ("HGETALL", "bin"),
    ("HSET", "e", "", ""), ("HGET", "e", ""), ("HSTRLEN", "e", ""), ("HLEN", "e"),
    ("TYPE", "h"), ("OBJECT", "ENCODING", "h"),
    # arity and syntax
    ("HSET", "h"), ("HSET", "h", "f"), ("HSET", "h", "f", "v", "g"), ("HMSET", "h", "f", "v", "g"),
    ("HSETNX", "h", "f"), ("HGET", "h"), ("HMGET", "h"), ("HDEL", "h"), ("HLEN",), ("HKEYS", "h", "x"),
    ("HSTRLEN", "h"), ("HINCRBY", "h", "f"), ("HINCRBYFLOAT", "h", "f"), ("HRANDFIELD",), ("HSCAN", "h"),
    # WRONGTYPE everywhere
    ("SET", "s", "x"), ("HSET", "s", "f", "v"), ("HSETNX", "s", "f", "v"), ("HMSET", "s", "f", "v"),
    ("HGET", "s", "f"), ("HMGET", "s", "f"), ("HDEL", "s", "f"), ("HEXISTS", "s", "f"), ("HLEN", "s"),
    ("HSTRLEN", "s", "f"), ("HKEYS", "s"), ("HVALS", "s"), ("HGETALL", "s"), ("HINCRBY", "s", "f", "1"),
    ("HINCRBYFLOAT", "s", "f", "1"), ("HRANDFIELD", "s"), ("HRANDFIELD", "s", "0"),
    ("HRANDFIELD", "s", "1", "WITHVALUES"), ("HSCAN", "s", "0"), ("HSCAN", "s", "0", "BAD"),
    ("HSCAN", "s", "x"), ("GET", "h"), ("INCR", "h"),
]


@pytest.mark.parametrize("proto", [2, 3])
def test_basics_match_redis(forkv_server, redis_server, proto):
    same(forkv_server, redis_server, BASICS, proto)


def test_hgetall_bytes_resp2_and_resp3(forkv_server, redis_server):
    for server in (forkv_server, redis_server):
        session(server.port, ("FLUSHALL",), ("HSET", "h", "a", "1", "b", "22"))
    import redis

    clients = [redis.Redis(port=s.port) for s in (forkv_server, redis_server)]
    for args in (("HGETALL", "h"), ("HGETALL", "no"), ("HKEYS", "no"), ("HMGET", "no", "a"),
                 ("HRANDFIELD", "h", "5", "WITHVALUES"), ("HRANDFIELD", "no"), ("HSCAN", "no", "0"),
                 ("HSCAN", "h", "0"), ("HINCRBYFLOAT", "h", "a", "0.5")):
        for proto in (2, 3):
            assert raw(clients[0], *args, proto=proto) == raw(clients[1], *args, proto=proto), (args, proto)
    for c in clients:
        c.close()
