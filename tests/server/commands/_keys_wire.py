"""Helpers for the keyspace command tests: exact error texts, raw wire replies, other databases.

`raw` sends one command on its own socket and returns the reply bytes exactly as the server wrote
them (RESP2 or, after HELLO 3, RESP3), so tests can check the reply type and not only the value
redis-py turns it into."""

import socket

import pytest
import redis

from tests.servers import command_bytes


def port_of(client) -> int:
    return client.connection_pool.connection_kwargs["port"]


def other_db(client, index: int) -> redis.Redis:
    return redis.Redis(port=port_of(client), db=index)


def error_of(client, *args) -> str:
    """The error text (redis-py drops a leading "ERR ") that `args` gets."""
    with pytest.raises(redis.ResponseError) as info:
        client.execute_command(*args)
    return str(info.value)


def _encode(args) -> bytes:
    return command_bytes(*args)


def _read_reply(f) -> bytes:
    line = f.readline()
    kind = line[:1]
    if kind in b"$=!":
        n = int(line[1:-2])
        return line if n < 0 else line + f.read(n + 2)
    if kind in b"*~>%|":
        n = int(line[1:-2])
        items = 2 * n if kind in b"%|" else n
        return line + b"".join(_read_reply(f) for _ in range(max(items, 0)))
    return line  # + - : _ , # (


def raw(client, *args, proto: int = 2, db: int = 0) -> bytes:
    with socket.create_connection(("127.0.0.1", port_of(client)), timeout=10) as sock:
        f = sock.makefile("rb")
        if proto == 3:
            sock.sendall(_encode(("HELLO", "3")))
            _read_reply(f)
        if db:
            sock.sendall(_encode(("SELECT", db)))
            _read_reply(f)
        sock.sendall(_encode(args))
        return _read_reply(f)


def info_field(client, section: str, field: str) -> int:
    return int(client.info(section)[field])
