"""DEBUG and LOLWUT (issue 13), against forkv and Debian's redis-server: refused by default with
Redis 7.0's text, and with enable-debug-command yes the subcommands forkv supports answer as
Redis's (RELOAD keeps the data, SET-ACTIVE-EXPIRE 0 stops the background expiry)."""

import re

import pytest
import redis

from tests.servers import ServerProcess, raw_call, wait_for


def test_debug_refused_by_default(any_server):
    reply = raw_call(any_server.port, "DEBUG", "SLEEP", "0")
    assert str(reply).startswith('ERR DEBUG command not allowed. If the enable-debug-command option is set to "local"')
    assert str(raw_call(any_server.port, "DEBUG")) == "ERR wrong number of arguments for 'debug' command"
    assert raw_call(any_server.port, "LOLWUT") == b"Redis ver. 7.0.15\n"
    assert raw_call(any_server.port, "LOLWUT", "VERSION", "7") == b"Redis ver. 7.0.15\n"


@pytest.fixture(params=["forkv", "redis"])
def debug_server(request):
    with ServerProcess(request.param, args=["--enable-debug-command", "yes"]) as server:
        yield server


def test_debug_subcommands(debug_server):
    r = redis.Redis(port=debug_server.port)
    try:
        r.set("s", "bar")
        r.set("t", "x", ex=100)
        r.incr("n")
        text = r.execute_command("DEBUG", "OBJECT", "s").decode()
        assert re.fullmatch(r"Value at:0x[0-9a-f]+ refcount:\d+ encoding:embstr serializedlength:4 "
                            r"lru:\d+ lru_seconds_idle:\d+", text), text
        with pytest.raises(redis.ResponseError, match="no such key"):
            r.execute_command("DEBUG", "OBJECT", "missing")
        assert r.execute_command("DEBUG", "SLEEP", "0") == b"OK"
        assert r.execute_command("DEBUG", "LOG", "hello") == b"OK"
        assert r.execute_command("DEBUG", "RELOAD") == b"OK"
        assert r.get("s") == b"bar" and r.get("n") == b"1" and 0 < r.ttl("t") <= 100
        with pytest.raises(redis.ResponseError, match="only supports the MERGE, NOFLUSH and NOSAVE"):
            r.execute_command("DEBUG", "RELOAD", "foo")
        with pytest.raises(redis.ResponseError, match="unknown subcommand or wrong number of arguments for 'NOSUCH'"):
            r.execute_command("DEBUG", "NOSUCH")
        assert r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0") == b"OK"
        r.set("gone", "v", px=1)
        assert r.execute_command("DBSIZE") == 4
        assert r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1") == b"OK"
        wait_for(lambda: r.execute_command("DBSIZE") == 3, timeout=5, what="active expiry to delete it")
    finally:
        r.close()
