"""Handlers return values, not wire bytes (issue 15): pre-encoded constants keep the value they
encode, EXEC returns its replies as values (frozen against later in-place writes), and nothing a
command module holds is wire bytes without its value."""

import importlib
import pkgutil

import pytest

import server.commands
from protocol.reply import NO_REPLY, Encoded, ErrorReply, Map, SetReply, Status, encode_reply, encoded, frozen


def _encode(value, proto):
    out = []
    encode_reply(value, out, proto)
    return b"".join(out)


def test_encoded_keeps_its_value_and_its_bytes():
    ok = encoded(Status("OK"))
    assert ok == b"+OK\r\n" and ok.value == Status("OK")
    assert encoded(7).value == 7 and encoded(7) == b":7\r\n"
    with pytest.raises(ValueError):
        encoded(None)  # $-1 in RESP2, _ in RESP3: not a constant
    assert NO_REPLY == b""


def test_every_constant_reply_of_the_command_modules_carries_its_value():
    found = 0
    for info in pkgutil.iter_modules(server.commands.__path__):
        module = importlib.import_module(f"server.commands.{info.name}")
        for name, value in vars(module).items():
            if type(value) is Encoded and value is not NO_REPLY:
                found += 1
                assert value.value is not None, (info.name, name)
                assert _encode(value.value, 2) == _encode(value.value, 3) == bytes(value), (info.name, name)
    assert found >= 6


def test_frozen_copies_bytearrays_and_keeps_shapes():
    b = bytearray(b"abc")
    reply = [b, [b, 1], Map({b"k": b}), SetReply([b"x"]), None, ErrorReply("ERR x")]
    out = frozen(reply)
    b.extend(b"def")
    assert out[0] == b"abc" and type(out[0]) is bytes
    assert out[1] == [b"abc", 1] and type(out[2]) is Map and out[2][b"k"] == b"abc"
    assert type(out[3]) is SetReply and out[5] is reply[5]


def test_exec_returns_values(inproc):
    server, c = inproc
    from server.commands.transactions import exec_

    c.call("MULTI")
    c.call("SET", "k", "v")
    c.call("APPEND", "k", "w")
    c.call("GET", "k")
    c.call("APPEND", "k", "x")  # in place: the GET reply before it must not change
    c.call("INCR", "k")
    replies = [r.value if type(r) is Encoded else r for r in exec_(c.client, [b"EXEC"])]
    assert replies[:4] == [Status("OK"), 2, b"vw", 3] and type(replies[0]) is Status
    assert isinstance(replies[4], ErrorReply) and replies[4].message == "ERR value is not an integer or out of range"
