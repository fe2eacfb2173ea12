"""Helpers for the ports of Redis's own tcl test suite (tests/server/commands/test_suite_*.py):
a script of commands runs on fresh databases of forkv and of Debian's redis-server 7.0 and every
raw reply must be the same bytes. Scripts are pipelined (one write, replies read in order), so a
blocking command belongs in `blocked`, never in a script."""

import shlex
import socket

import hiredis

from tests.server.commands._keys_wire import _read_reply
from tests.servers import command_bytes, wait_for

# Configuration the suites change, with the defaults both servers start with; `same` restores them.
DEFAULTS = {
    "zset-max-listpack-entries": "128", "zset-max-listpack-value": "64",
    "set-max-intset-entries": "512", "hash-max-listpack-entries": "512", "list-max-listpack-size": "-2",
    "lua-time-limit": "5000",
}


def args_of(line):
    """A script line: a list of words, or a shell-like string where \\xNN escapes give any byte."""
    if isinstance(line, (list, tuple)):
        return [a if isinstance(a, bytes) else str(a).encode() for a in line]
    return [w.encode("latin-1").decode("unicode_escape").encode("latin-1") for w in shlex.split(line)]


def run(port: int, lines, proto: int = 2) -> list:
    """The raw reply to each line, on one connection (after HELLO 3 when proto is 3)."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        f = sock.makefile("rb")
        if proto == 3:
            sock.sendall(command_bytes("HELLO", "3"))
            _read_reply(f)
        sock.sendall(b"".join(command_bytes(*args_of(line)) for line in lines))
        return [_read_reply(f) for _ in lines]


def reset(port: int) -> None:
    run(port, ["FLUSHALL", "SCRIPT FLUSH", "FUNCTION FLUSH"] + [["CONFIG", "SET", k, v] for k, v in DEFAULTS.items()])


def parsed(reply: bytes):
    """A raw reply as nested Python values (hiredis), for comparisons that ignore an order."""
    reader = hiredis.Reader(replyError=lambda e: ("error", e))
    reader.feed(reply)
    return reader.gets()


def same(forkv_server, redis_server, lines, proto: int = 2, normalize=None) -> list:
    """Run `lines` on fresh databases of both servers: the replies must be identical byte for byte
    (or, with `normalize(line, reply)`, the values it makes of them equal). Returns redis-server's
    replies (for extra checks on what is random)."""
    lines = list(lines)
    for server in (forkv_server, redis_server):
        reset(server.port)
    ours = run(forkv_server.port, lines, proto)
    theirs = run(redis_server.port, lines, proto)
    if normalize is None:
        diffs = [(line, a, b) for line, a, b in zip(lines, ours, theirs) if a != b]
    else:
        diffs = [(line, a, b) for line, a, b in zip(lines, ours, theirs)
                 if a != b and normalize(line, a) != normalize(line, b)]
    for server in (forkv_server, redis_server):
        reset(server.port)
    assert not diffs, "\n".join(f"{line!r}\n  forkv: {a!r}\n  redis: {b!r}" for line, a, b in diffs)
    return theirs


def blocked_clients(port: int) -> int:
    info = run(port, ["INFO clients"])[0].decode()
    return int(info.split("blocked_clients:")[1].split("\r\n")[0])


def blocked(server, setup, block, then, proto: int = 2) -> tuple:
    """`setup` lines, then `block` on a second connection, which must block; then `then` lines on
    the first. Returns (replies to setup+then, the blocked command's reply)."""
    first = run(server.port, setup, proto) if setup else []
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        f = sock.makefile("rb")
        if proto == 3:
            sock.sendall(command_bytes("HELLO", "3"))
            _read_reply(f)
        sock.sendall(command_bytes(*args_of(block)))
        wait_for(lambda: blocked_clients(server.port) >= 1, what="a blocked client")
        rest = run(server.port, then, proto)
        return first + rest, _read_reply(f)


def same_blocked(forkv_server, redis_server, setup, block, then, proto: int = 2):
    out = []
    for server in (forkv_server, redis_server):
        reset(server.port)
        out.append(blocked(server, setup, block, then, proto))
        reset(server.port)
    assert out[0] == out[1], f"forkv: {out[0]!r}\nredis: {out[1]!r}"
    return out[1]
