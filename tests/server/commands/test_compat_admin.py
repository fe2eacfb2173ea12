"""Commands of features forkv does not have (modules, cluster, replication) answer as Redis 7.0
answers them with the feature off, byte for byte in RESP2 and RESP3. Found by running redis-py's
own test suite against both servers (test_module_list, test_replicaof)."""

import socket

import hiredis
import pytest

from tests.servers import command_bytes

CASES = [
    ("MODULE", "LIST"),
    ("MODULE", "HELP"),
    ("MODULE", "LOAD", "/no/such/module.so"),
    ("MODULE", "LOAD", "/no/such/module.so", "arg1", "arg2"),
    ("MODULE", "LOADEX", "/no/such/module.so", "CONFIG", "a", "b", "ARGS", "x"),
    ("MODULE", "UNLOAD", "nosuch"),
    ("MODULE", "UNLOAD"),
    ("MODULE", "LIST", "extra"),
    ("MODULE", "NOSUCH"),
    ("MODULE",),
    ("REPLICAOF", "NO", "ONE"),
    ("REPLICAOF", "no", "one"),
    ("SLAVEOF", "NO", "ONE"),
    ("REPLICAOF", "NO ONE"),
    ("REPLICAOF", "NO", "TWO"),
    ("REPLICAOF", "localhost", "99999"),
    ("REPLICAOF", "localhost", "-1"),
    ("REPLICAOF", "localhost", "abc"),
    ("REPLICAOF", "localhost", "+5"),
    ("READONLY",),
    ("READWRITE",),
    ("ASKING",),
    ("READONLY", "x"),
]


def raw_reply(port: int, argv, proto: int) -> bytes:
    """The bytes of the reply to `argv` on a fresh connection (after HELLO 3 for RESP3)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        if proto == 3:
            s.sendall(command_bytes("HELLO", "3"))
            hello = hiredis.Reader()
            while True:
                hello.feed(s.recv(65536))
                if hello.gets() is not False:
                    break
        s.sendall(command_bytes(*argv))
        reader, data = hiredis.Reader(), b""
        while True:
            chunk = s.recv(65536)
            assert chunk, "connection closed"
            data += chunk
            reader.feed(chunk)
            if reader.gets() is not False:
                return data


@pytest.mark.parametrize("proto", [2, 3])
def test_replies_match_redis(forkv_server, redis_server, proto):
    differences = []
    for argv in CASES:
        ours = raw_reply(forkv_server.port, argv, proto)
        theirs = raw_reply(redis_server.port, argv, proto)
        if ours != theirs:
            differences.append((argv, ours, theirs))
    assert differences == []


def test_replicaof_no_one_keeps_the_data(any_r):
    any_r.set("k", "v")
    assert any_r.replicaof("NO", "ONE")
    assert any_r.get("k") == b"v"
    assert any_r.info("replication")["role"] == "master"


def test_module_list_is_empty_for_redis_py(any_r):
    assert any_r.module_list() == []
