"""COMMAND DOCS for every command forkv has is what Debian's redis-server 7.0 reports for it
(summary, since, complexity, doc flags, deprecation, history, argument trees), in RESP2 and RESP3;
COMMAND INFO and COMMAND DOCS in RESP3 carry sets where Redis sends sets, byte for byte."""

import socket

import pytest

from tests.servers import ServerProcess, command_bytes, raw_call, read_until_closed

# Redis 7.2 subcommands forkv has (redis-py sends CLIENT SETINFO): Redis 7.0 has no docs for them.
FORKV_ONLY = {"client|setinfo", "client|no-touch"}

# Commands whose docs still differ from Redis's: none. Add one here only with a reason; the test
# fails when a command outside it differs, and says so when one inside it no longer does.
STILL_DIFFERENT: set = set()


@pytest.fixture(scope="module")
def servers():
    """A forkv and a redis-server of this module's own: a few hundred COMMAND DOCS calls, each
    possibly slower than slowlog-log-slower-than, would move the shared servers' slow log ids."""
    with ServerProcess("forkv") as forkv, ServerProcess("redis") as redis_:
        yield forkv, redis_


def _docs(port: int, name: str, proto: int) -> dict:
    """COMMAND DOCS of `name`, decoded, with a container's subcommands sorted (Redis lists them in
    its dict's order, which changes from run to run) and forkv-only subcommands left out."""
    reply = raw_call(port, "COMMAND", "DOCS", name, proto=proto)
    pairs = reply.items() if isinstance(reply, dict) else zip(reply[::2], reply[1::2])
    out = {}
    for cmd, doc in pairs:
        fields = doc if isinstance(doc, dict) else dict(zip(doc[::2], doc[1::2]))
        subs = fields.get(b"subcommands")
        if subs is not None:
            subs = subs if isinstance(subs, dict) else dict(zip(subs[::2], subs[1::2]))
            fields[b"subcommands"] = {k: v for k, v in sorted(subs.items()) if k.decode() not in FORKV_ONLY}
        out[cmd] = fields
    return out


@pytest.mark.parametrize("proto", [2, 3])
def test_command_docs_match_redis(servers, proto):
    forkv_server, redis_server = servers
    names = [n.decode() for n in raw_call(forkv_server.port, "COMMAND", "LIST")]
    differ = []
    for name in names:
        if name in FORKV_ONLY:
            continue
        if _docs(forkv_server.port, name, proto) != _docs(redis_server.port, name, proto):
            differ.append(name)
    assert set(differ) <= STILL_DIFFERENT, sorted(set(differ) - STILL_DIFFERENT)
    assert set(differ) == STILL_DIFFERENT, f"fixed, drop from STILL_DIFFERENT: {STILL_DIFFERENT - set(differ)}"


def _resp3_bytes(port: int, *argv) -> bytes:
    """The raw RESP3 reply to one command (after HELLO 3, whose reply ends with its modules)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(command_bytes("HELLO", "3") + command_bytes(*argv) + command_bytes("QUIT"))
        data = read_until_closed(s)
    end = b"$7\r\nmodules\r\n*0\r\n"
    return data[data.index(end) + len(end):]


@pytest.mark.parametrize("argv", [
    ("COMMAND", "INFO", "get", "sort", "mset", "set", "bitcount", "zadd"),  # tips, key specs: sets
    ("COMMAND", "INFO", "client|list", "config|get", "no-such-command"),
    ("COMMAND", "DOCS", "set", "bitcount", "sort", "hmset", "georadius", "bitfield", "client|kill"),
])
def test_resp3_sets_match_redis(servers, argv):
    forkv_server, redis_server = servers
    assert _resp3_bytes(forkv_server.port, *argv) == _resp3_bytes(redis_server.port, *argv)
