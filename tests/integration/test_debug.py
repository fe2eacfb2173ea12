"""DEBUG and LOLWUT (issue 13), against forkv and Debian's redis-server: refused by default with
Redis 7.0's text, and with enable-debug-command yes the subcommands forkv supports answer as
Redis's (RELOAD keeps the data, SET-ACTIVE-EXPIRE 0 stops the background expiry)."""

import re
import socket

import pytest
import redis

from tests.servers import ServerProcess, raw_call, wait_for


def test_debug_refused_by_default(any_server):
    reply = raw_call(any_server.port, "DEBUG", "SLEEP", "0")
    assert str(reply).startswith('ERR DEBUG command not allowed. If the enable-debug-command option is set to "local"')
    assert str(raw_call(any_server.port, "DEBUG")) == "ERR wrong number of arguments for 'debug' command"
    assert raw_call(any_server.port, "LOLWUT") == b"Redis ver. 7.0.15\n"
    assert raw_call(any_server.port, "LOLWUT", "VERSION", "7") == b"Redis ver. 7.0.15\n"


def _schotter_rows(art: str) -> list:
    rows = art.split("\nGeorg Nees")[0].split("\n")
    return rows[:-1] if rows[-1] == "" else rows  # a canvas height that is a multiple of 4 ends in "\n"


@pytest.mark.parametrize("args", [(), ("40",), ("66", "8", "12"), ("3", "1", "1"), ("1",), ("100", "4", "2"),
                                  ("2000", "300", "1"), ("-5", "0", "-1")])
def test_lolwut_version5_as_redis(any_server, args):
    """Schotter: the same canvas size, the same (deterministic) top two rows of squares, the
    same caption; the rows below are random in Redis too."""
    art = raw_call(any_server.port, "LOLWUT", "VERSION", "5", *args).decode()
    assert art.endswith("\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. 7.0.15\n")
    rows = _schotter_rows(art)
    cols = min(max(int(args[0]), 1), 1000) if args else 66
    assert {len(row) for row in rows} == {cols}
    assert all(0x2800 <= ord(ch) <= 0x28FF for row in rows for ch in row)


def test_lolwut_schotter_equals_redis_where_it_is_not_random():
    with ServerProcess("forkv") as forkv, ServerProcess("redis") as real:
        for args in [(), ("40",), ("66", "8", "12"), ("30", "3", "2"), ("1",), ("3", "1", "1")]:
            mine = _schotter_rows(raw_call(forkv.port, "LOLWUT", "VERSION", "5", *args).decode())
            theirs = _schotter_rows(raw_call(real.port, "LOLWUT", "VERSION", "5", *args).decode())
            assert len(mine) == len(theirs), args
            per_row = int(args[1]) if len(args) > 1 else 8
            per_col = int(args[2]) if len(args) > 2 else 12
            # the first two rows of squares are drawn without randomness
            fixed = len(mine) if per_col <= 2 else max(1, len(mine) * 2 // per_col - 1)
            assert mine[:fixed] == theirs[:fixed], (args, per_row)


@pytest.mark.parametrize("args", [(), ("10", "5"), ("1", "1"), ("-3", "2000")])
def test_lolwut_version6_as_redis(any_server, args):
    art = raw_call(any_server.port, "LOLWUT", "VERSION", "6", *args).decode()
    caption = ("\nDedicated to the 8 bit game developers of past and present.\n"
               "Original 8 bit image from Plaguemon by hikikomori. Redis ver. 7.0.15\n")
    assert art.endswith(caption)
    rows = art[:-len(caption)].split("\n")
    cols = min(max(int(args[0]), 1), 1000) if args else 80
    height = min(max(int(args[1]), 1), 1000) if args else 20
    assert len(rows) == height
    for row in rows:
        cells = re.findall(r"\x1b\[0;(?:30;40|90;100|37;47|97;107)m \x1b\[0m", row)
        assert "".join(cells) == row and len(cells) == cols


def test_lolwut_arguments_as_redis(any_server):
    port = any_server.port
    assert raw_call(port, "LOLWUT", "VERSION", "4") == b"Redis ver. 7.0.15\n"
    assert raw_call(port, "LOLWUT", "VERSION", "59") == b"Redis ver. 7.0.15\n"
    assert raw_call(port, "LOLWUT", "VERSION", "-1") == b"Redis ver. 7.0.15\n"
    assert raw_call(port, "LOLWUT", "VERSION", "7", "x") == b"Redis ver. 7.0.15\n"
    assert raw_call(port, "LOLWUT", "10", "x") == b"Redis ver. 7.0.15\n"
    assert raw_call(port, "LOLWUT", "VERSION") == b"Redis ver. 7.0.15\n"
    for bad in (("VERSION", "x"), ("VERSION", "5", "x"), ("VERSION", "6", "1", "1.5"), ("version", "5", "1", "2", "z")):
        assert str(raw_call(port, "LOLWUT", *bad)) == "ERR value is not an integer or out of range", bad
    assert raw_call(port, "LOLWUT", "VERSION", "6", "1", "1", "junk")  # a third number is not read
    # RESP3: a verbatim string of format txt
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"HELLO 3\r\nLOLWUT\r\n")
        data = b""
        while not data.endswith(b"=22\r\ntxt:Redis ver. 7.0.15\n\r\n"):
            chunk = s.recv(65536)
            assert chunk, data
            data += chunk


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
