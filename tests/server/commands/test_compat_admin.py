"""Commands of features forkv does not have (modules, cluster, replication) answer as Redis 7.0
answers them with the feature off, byte for byte in RESP2 and RESP3. Found by running redis-py's
own test suite against both servers (test_module_list, test_replicaof, test_acl_*); ACL users
themselves are tested in test_acl.py."""

import socket

import hiredis
import pytest

from tests.servers import command_bytes, session, wait_for

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
    ("WAIT", "0", "0"),
    ("WAIT", "a", "0"),
    ("WAIT", "1", "a"),
    ("WAIT", "1", "-1"),
    ("WAIT", "-1", "0"),
    ("WAIT", "1", "1.5"),
    ("WAIT", "1", "10"),
    ("ACL", "WHOAMI"),
    ("ACL", "USERS"),
    ("ACL", "LIST"),
    ("ACL", "CAT"),
    ("ACL", "CAT", "nosuch"),
    ("ACL", "CAT", "read", "write"),
    ("ACL", "GETUSER", "default"),
    ("ACL", "GETUSER", "nosuch"),
    ("ACL", "DELUSER", "nosuch"),
    ("ACL", "DELUSER", "nosuch", "default"),
    ("ACL", "DRYRUN", "default", "get", "x"),
    ("ACL", "DRYRUN", "default", "get"),
    ("ACL", "DRYRUN", "default", "nosuch"),
    ("ACL", "DRYRUN", "default", "config", "get", "x"),
    ("ACL", "DRYRUN", "default", "config"),
    ("ACL", "DRYRUN", "default", "config", "nosuch"),
    ("ACL", "DRYRUN", "nobody", "get", "x"),
    ("ACL", "GENPASS", "0"),
    ("ACL", "GENPASS", "4097"),
    ("ACL", "GENPASS", "abc"),
    ("ACL", "GENPASS", "1", "2"),
    ("ACL", "LOG", "abc"),
    ("ACL", "LOG", "1", "2"),
    ("ACL", "LOG", "-1"),
    ("ACL", "LOAD"),
    ("ACL", "SAVE"),
    ("ACL", "HELP"),
    ("ACL", "NOSUCH"),
    ("ACL",),
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


@pytest.mark.parametrize("category", ["read", "write", "admin", "list", "connection", "scripting"])
def test_acl_cat_lists_the_same_commands(both, category):
    ours, theirs = (set(client.acl_cat(category)) for client in both)
    assert ours - {"client|setinfo", "client|no-touch"} <= theirs  # Redis 7.2's, which redis-py sends
    missing = {name for name in theirs - ours if not name.startswith(UNSUPPORTED)}
    assert missing == set()


# Commands forkv does not have at all: streams, cluster, replication, AOF, ACL SETUSER's users.
UNSUPPORTED = ("x", "cluster", "failover", "migrate", "psync", "sync", "replconf", "wait",
               "bgrewriteaof", "restore-asking")


def test_acl_genpass_lengths(any_r):
    assert len(any_r.acl_genpass()) == 64
    assert len(any_r.acl_genpass(555)) == 139
    assert len(any_r.acl_genpass(1)) == 1
    assert all(c in "0123456789abcdef" for c in any_r.acl_genpass(4096))


def test_acl_list_and_getuser_show_the_password(any_r):
    import hashlib

    digest = hashlib.sha256(b"s3cret").hexdigest()
    any_r.config_set("requirepass", "s3cret")
    try:
        any_r.auth("s3cret")
        assert any_r.acl_list() == [f"user default on #{digest} ~* &* +@all"]
        user = any_r.acl_getuser("default")
        assert user["flags"] == ["on"] and user["passwords"] == [digest]
    finally:
        any_r.config_set("requirepass", "")
    assert any_r.acl_list() == ["user default on nopass ~* &* +@all"]
    assert any_r.acl_getuser("default")["flags"] == ["on", "nopass"]


def test_acl_log_records_failed_auth(any_r, any_server):
    any_r.acl_log_reset()
    any_r.config_set("requirepass", "s3cret")
    try:
        any_r.auth("s3cret")
        replies = session(any_server.port, ["AUTH", "wrong"], ["auth", "default", "wrong"],
                          ["HELLO", "2", "AUTH", "bob", "nope"])
        assert all(isinstance(reply, hiredis.ReplyError) for reply in replies)
        entries = any_r.acl_log()
        assert [(e["count"], e["reason"], e["context"], e["object"], e["username"]) for e in entries] == [
            (1, "auth", "toplevel", "HELLO", "bob"), (1, "auth", "toplevel", "auth", "default"),
            (1, "auth", "toplevel", "AUTH", "default")]  # the command as the client spelled it
        assert entries[1]["client-info"]["cmd"] == "auth" and entries[1]["age-seconds"] < 60
        assert len(any_r.acl_log(count=1)) == 1
        assert any_r.acl_log_reset()
        assert any_r.acl_log() == []
    finally:
        any_r.config_set("requirepass", "")


def test_wait_blocks_until_its_timeout_or_unblock(any_r, any_server):
    import threading
    import time

    import redis

    assert any_r.wait(0, 0) == 0
    started = time.monotonic()
    assert any_r.wait(1, 100) == 0  # no replica acknowledges: the timeout answers
    assert time.monotonic() - started >= 0.09
    pipe = any_r.pipeline(transaction=True)
    pipe.wait(1, 0)
    assert pipe.execute() == [0]  # inside MULTI it may not block

    waiter = redis.Redis(port=any_server.port)
    waiter_id = waiter.client_id()
    result = []
    thread = threading.Thread(target=lambda: result.append(waiter.wait(1, 0)))
    thread.start()
    try:
        wait_for(lambda: any(int(c["id"]) == waiter_id and "b" in c["flags"] for c in any_r.client_list()),
                 what="WAIT to block")
        assert any_r.client_unblock(waiter_id)
    finally:
        thread.join(10)
        waiter.close()
    assert result == [0]
