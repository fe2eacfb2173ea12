"""Helpers shared by the command tests: raw replies (no redis-py conversions) and keys of a
non-string type for WRONGTYPE checks."""

import pytest
import redis

from persistence.rdb import dump_payload


def raw(client, *args):
    """The reply to `args` as the server sent it, without redis-py's per-command conversions
    (which turn SET's reply into a bool and INCRBYFLOAT's into a float)."""
    conn = client.connection_pool.get_connection()
    try:
        conn.send_command(*args)
        return conn.read_response()
    finally:
        client.connection_pool.release(conn)


def err(client, *args) -> str:
    """The error text `args` gets (redis-py drops a leading "ERR ")."""
    with pytest.raises(redis.ResponseError) as info:
        raw(client, *args)
    return str(info.value)


def make_list(client, key):
    """A list at `key`, made with RESTORE so it works on a server without list commands."""
    raw(client, "RESTORE", key, "0", dump_payload([b"a"]), "REPLACE")
