"""String commands: GET/SET and variants, MGET/MSET(NX), APPEND/STRLEN, counters, INCRBYFLOAT's
text, GETRANGE/SETRANGE/SUBSTR, LCS.

Every subtle case runs against forkv and Debian's redis-server (`any_r`), so the expectation is
Redis's own. A few tests drive the handlers without sockets, on an injected clock, to check what
the wire cannot show (exact absolute expiry times, in-place mutation, write counting)."""

import random
import socket
import time

import pytest
import redis
import redis.asyncio

from server.app import Server
from server.client import Client
from server.config import Config
from server.dispatch import execute
from tests.server.commands._replies import err, make_list, raw
from tests.servers import command_bytes, read_until_closed, wait_for

LLONG_MAX = 2**63 - 1
LLONG_MIN = -(2**63)
FAR = 4_000_000_000  # a unix time (seconds) far in the future
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def now_ms() -> int:
    return int(time.time() * 1000)


# -- GET / SET ----------------------------------------------------------------------------------

def test_get_set_basics(any_r):
    assert any_r.get("k") is None
    assert any_r.set("k", "v") is True
    assert any_r.get("k") == b"v"
    assert any_r.set("k", b"\x00\xff\r\n") is True
    assert any_r.get("k") == b"\x00\xff\r\n"
    assert any_r.set("empty", "") is True
    assert any_r.get("empty") == b""
    assert any_r.exists("empty") == 1


def test_set_overwrites_ttl_and_type(any_r):
    any_r.set("k", "v", ex=100)
    any_r.set("k", "w")
    assert any_r.ttl("k") == -1
    try:
        make_list(any_r, "l")
    except pytest.skip.Exception:
        return
    assert any_r.set("l", "now a string") is True
    assert any_r.get("l") == b"now a string"


def test_set_expiry_options(any_r):
    assert raw(any_r, "SET", "a", "v", "EX", "100") == b"OK"
    assert 99 <= any_r.ttl("a") <= 100
    assert raw(any_r, "SET", "b", "v", "px", "100000") == b"OK"
    assert 99_000 <= any_r.pttl("b") <= 100_000
    assert raw(any_r, "SET", "c", "v", "EXAT", str(FAR)) == b"OK"
    assert any_r.expiretime("c") == FAR
    assert raw(any_r, "SET", "d", "v", "PXAT", str(FAR * 1000 + 7)) == b"OK"
    assert any_r.pexpiretime("d") == FAR * 1000 + 7
    # KEEPTTL keeps it; a plain SET drops it.
    assert raw(any_r, "SET", "d", "w", "KEEPTTL") == b"OK"
    assert any_r.pexpiretime("d") == FAR * 1000 + 7
    assert any_r.get("d") == b"w"
    # The same expiry option twice: the last one wins.
    assert raw(any_r, "SET", "e", "v", "EX", "10", "EX", "200") == b"OK"
    assert 199 <= any_r.ttl("e") <= 200
    # The largest PXAT is accepted.
    assert raw(any_r, "SET", "f", "v", "PXAT", str(LLONG_MAX)) == b"OK"
    assert any_r.get("f") == b"v"


def test_set_exat_in_the_past_leaves_an_expired_key(any_r):
    assert raw(any_r, "SET", "k", "v", "EXAT", "1") == b"OK"
    assert any_r.get("k") is None
    assert any_r.exists("k") == 0


def test_set_px_expires(any_r):
    any_r.set("k", "v", px=50)
    wait_for(lambda: any_r.get("k") is None, timeout=5, what="k to expire")


def test_set_nx_xx(any_r):
    assert raw(any_r, "SET", "k", "v", "XX") is None
    assert any_r.exists("k") == 0
    assert raw(any_r, "SET", "k", "v", "NX") == b"OK"
    assert raw(any_r, "SET", "k", "w", "NX") is None
    assert any_r.get("k") == b"v"
    assert raw(any_r, "SET", "k", "w", "XX") == b"OK"
    assert any_r.get("k") == b"w"
    assert raw(any_r, "SET", "k", "x", "nx", "NX") is None
    assert raw(any_r, "SET", "k", "x", "XX", "xx", "EX", "100") == b"OK"
    assert 99 <= any_r.ttl("k") <= 100


def test_set_get_option(any_r):
    assert raw(any_r, "SET", "k", "v", "GET") is None
    assert raw(any_r, "SET", "k", "w", "GET") == b"v"
    assert raw(any_r, "SET", "k", "x", "GET", "GET") == b"w"
    # With NX/XX the old value comes back whether or not the write happened (Redis 7.0).
    assert raw(any_r, "SET", "k", "y", "NX", "GET") == b"x"
    assert any_r.get("k") == b"x"
    assert raw(any_r, "SET", "n", "y", "XX", "GET") is None
    assert any_r.exists("n") == 0
    assert raw(any_r, "SET", "n", "y", "NX", "GET") is None
    assert any_r.get("n") == b"y"
    assert raw(any_r, "SET", "k", "z", "GET", "XX", "KEEPTTL") == b"x"


@pytest.mark.parametrize("options", [
    ("NX", "XX"), ("XX", "NX"), ("EX", "10", "PX", "100"), ("PX", "100", "EX", "10"),
    ("EX", "10", "EXAT", str(FAR)), ("PXAT", str(FAR * 1000), "PX", "5"),
    ("KEEPTTL", "EX", "10"), ("EX", "10", "KEEPTTL"), ("PXAT", "1", "KEEPTTL"),
    ("EX",), ("PX",), ("NX", "EXAT"), ("PERSIST",), ("GETT",), ("foo",), ("EX", "10", "bar"),
    ("N",),
])
def test_set_syntax_errors(any_r, options):
    assert err(any_r, "SET", "k", "v", *options) == "syntax error"
    assert any_r.exists("k") == 0


@pytest.mark.parametrize("option, value", [
    ("EX", "0"), ("EX", "-1"), ("PX", "0"), ("PX", "-100"), ("EXAT", "0"), ("EXAT", "-1"),
    ("PXAT", "0"), ("PXAT", "-5"), ("EX", str(LLONG_MIN)),
    # Overflowing: seconds beyond LLONG_MAX/1000, or a relative time beyond LLONG_MAX from now.
    ("EX", "9223372036854776"), ("EX", "9223372036854775"), ("PX", str(LLONG_MAX)),
    ("PX", str(LLONG_MAX - 1000)), ("EXAT", "9223372036854776"),
])
def test_set_invalid_expire_time(any_r, option, value):
    assert err(any_r, "SET", "k", "v", option, value) == "invalid expire time in 'set' command"
    assert any_r.exists("k") == 0


@pytest.mark.parametrize("value", ["abc", "1.5", "", " 1", "9223372036854775808"])
def test_set_expire_not_an_integer(any_r, value):
    assert err(any_r, "SET", "k", "v", "EX", value) == "value is not an integer or out of range"


def test_set_checks_expire_before_get(any_r):
    any_r.set("k", "v")
    assert err(any_r, "SET", "k", "w", "GET", "EX", "0") == "invalid expire time in 'set' command"
    assert any_r.get("k") == b"v"


def test_setnx_setex_psetex(any_r):
    assert raw(any_r, "SETNX", "k", "v") == 1
    assert raw(any_r, "SETNX", "k", "w") == 0
    assert any_r.get("k") == b"v"
    assert raw(any_r, "SETEX", "k", "100", "w") == b"OK"
    assert any_r.get("k") == b"w" and 99 <= any_r.ttl("k") <= 100
    assert raw(any_r, "PSETEX", "k", "100000", "x") == b"OK"
    assert any_r.get("k") == b"x" and 99_000 <= any_r.pttl("k") <= 100_000
    assert err(any_r, "SETEX", "k", "0", "v") == "invalid expire time in 'setex' command"
    assert err(any_r, "SETEX", "k", "-10", "v") == "invalid expire time in 'setex' command"
    assert err(any_r, "PSETEX", "k", "0", "v") == "invalid expire time in 'psetex' command"
    assert err(any_r, "PSETEX", "k", str(LLONG_MAX), "v") == \
        "invalid expire time in 'psetex' command"
    assert err(any_r, "SETEX", "k", "abc", "v") == "value is not an integer or out of range"
    assert err(any_r, "SETEX", "k", "10") == "wrong number of arguments for 'setex' command"
    assert any_r.get("k") == b"x"


def test_getset_getdel(any_r):
    assert raw(any_r, "GETSET", "k", "v") is None
    any_r.expire("k", 100)
    assert raw(any_r, "GETSET", "k", "w") == b"v"
    assert any_r.ttl("k") == -1  # GETSET drops the TTL, like SET
    assert raw(any_r, "GETDEL", "k") == b"w"
    assert any_r.exists("k") == 0
    assert raw(any_r, "GETDEL", "k") is None


def test_getex(any_r):
    assert raw(any_r, "GETEX", "missing") is None
    any_r.set("k", "v")
    assert raw(any_r, "GETEX", "k") == b"v"
    assert any_r.ttl("k") == -1
    assert raw(any_r, "GETEX", "k", "EX", "100") == b"v"
    assert 99 <= any_r.ttl("k") <= 100
    assert raw(any_r, "GETEX", "k", "px", "200000") == b"v"
    assert 199_000 <= any_r.pttl("k") <= 200_000
    assert raw(any_r, "GETEX", "k", "EXAT", str(FAR)) == b"v"
    assert any_r.expiretime("k") == FAR
    assert raw(any_r, "GETEX", "k", "PXAT", str(FAR * 1000 + 5)) == b"v"
    assert any_r.pexpiretime("k") == FAR * 1000 + 5
    assert raw(any_r, "GETEX", "k", "EX", "10", "EX", "300") == b"v"
    assert 299 <= any_r.ttl("k") <= 300
    assert raw(any_r, "GETEX", "k", "PERSIST") == b"v"
    assert any_r.ttl("k") == -1
    assert raw(any_r, "GETEX", "k", "PERSIST", "PERSIST") == b"v"


def test_getex_past_absolute_time_deletes(any_r):
    any_r.set("k", "v")
    assert raw(any_r, "GETEX", "k", "EXAT", "1") == b"v"
    assert any_r.exists("k") == 0
    any_r.set("k", "v")
    assert raw(any_r, "GETEX", "k", "PXAT", str(now_ms() - 1000)) == b"v"
    assert any_r.exists("k") == 0


@pytest.mark.parametrize("options", [
    ("PERSIST", "EX", "10"), ("EX", "10", "PERSIST"), ("EX", "10", "PX", "10"), ("KEEPTTL",),
    ("NX",), ("XX",), ("GET",), ("EX",), ("foo",),
])
def test_getex_syntax_errors(any_r, options):
    any_r.set("k", "v")
    assert err(any_r, "GETEX", "k", *options) == "syntax error"
    # Syntax is checked before the key is looked up.
    assert err(any_r, "GETEX", "missing", *options) == "syntax error"


def test_getex_invalid_expire(any_r):
    any_r.set("k", "v", ex=100)
    for option, value in (("EX", "0"), ("PX", "-1"), ("EXAT", "0"), ("PXAT", "-1"),
                          ("EX", "9223372036854776")):
        assert err(any_r, "GETEX", "k", option, value) == "invalid expire time in 'getex' command"
    assert err(any_r, "GETEX", "k", "EX", "x") == "value is not an integer or out of range"
    assert 99 <= any_r.ttl("k") <= 100
    # A missing key answers nil before the time is even parsed.
    assert raw(any_r, "GETEX", "missing", "EX", "0") is None
    assert raw(any_r, "GETEX", "missing", "EX", "abc") is None


def test_wrongtype(any_r):
    make_list(any_r, "l")
    for args in (("GET", "l"), ("SET", "l", "v", "GET"), ("GETSET", "l", "v"), ("GETDEL", "l"),
                 ("GETEX", "l"), ("GETEX", "l", "PERSIST"), ("APPEND", "l", "x"), ("STRLEN", "l"),
                 ("INCR", "l"), ("DECR", "l"), ("INCRBY", "l", "2"), ("DECRBY", "l", "2"),
                 ("INCRBYFLOAT", "l", "1.5"), ("GETRANGE", "l", "0", "-1"),
                 ("SUBSTR", "l", "0", "-1"), ("SETRANGE", "l", "0", "x"),
                 ("SETRANGE", "l", "0", "")):
        assert err(any_r, *args) == WRONGTYPE, args
    # Argument errors come first where Redis parses arguments before the lookup.
    assert err(any_r, "INCRBY", "l", "x") == "value is not an integer or out of range"
    assert err(any_r, "GETRANGE", "l", "x", "1") == "value is not an integer or out of range"
    assert err(any_r, "SETRANGE", "l", "-1", "x") == "offset is out of range"
    assert err(any_r, "GETEX", "l", "EX", "0") == WRONGTYPE
    assert err(any_r, "LCS", "l", "k") == "The specified keys must contain string values"
    assert any_r.mget("l", "nope") == [None, None]
    assert any_r.setnx("l", "v") is False
    assert any_r.msetnx({"l": "v", "x": "y"}) is False


# -- MGET / MSET / MSETNX -------------------------------------------------------------------------

def test_mget_mset(any_r):
    assert raw(any_r, "MSET", "a", "1", "b", "2", "a", "3") == b"OK"
    assert any_r.mget("a", "b", "c") == [b"3", b"2", None]
    assert err(any_r, "MSET", "a", "1", "b") == "wrong number of arguments for 'mset' command"
    assert err(any_r, "MSET", "a") == "wrong number of arguments for 'mset' command"
    assert err(any_r, "MGET") == "wrong number of arguments for 'mget' command"
    any_r.expire("a", 100)
    any_r.mset({"a": "x"})
    assert any_r.ttl("a") == -1


def test_msetnx(any_r):
    assert raw(any_r, "MSETNX", "a", "1", "b", "2") == 1
    assert raw(any_r, "MSETNX", "b", "3", "c", "4") == 0
    assert any_r.mget("a", "b", "c") == [b"1", b"2", None]
    assert raw(any_r, "MSETNX", "c", "1", "c", "2") == 1
    assert any_r.get("c") == b"2"
    assert err(any_r, "MSETNX", "a", "1", "b") == "wrong number of arguments for 'msetnx' command"


# -- APPEND / STRLEN / ranges ---------------------------------------------------------------------

def test_append_strlen(any_r):
    assert any_r.strlen("k") == 0
    assert any_r.append("k", "Hello") == 5
    any_r.expire("k", 100)
    assert any_r.append("k", " World") == 11
    assert any_r.append("k", "") == 11
    assert any_r.get("k") == b"Hello World"
    assert any_r.strlen("k") == 11
    assert 99 <= any_r.ttl("k") <= 100  # APPEND keeps the TTL
    assert any_r.append("e", "") == 0
    assert any_r.exists("e") == 1 and any_r.get("e") == b""
    for _ in range(50):
        any_r.append("many", "ab")
    assert any_r.get("many") == b"ab" * 50


@pytest.mark.parametrize("start, end", [
    (0, -1), (0, 3), (-3, -1), (5, 3), (-1, -5), (-100, 100), (100, 200), (0, 0), (-1, -1),
    (3, 100), (-100, -50), (-100, 2), (10, 10), (LLONG_MIN, LLONG_MAX), (LLONG_MAX, LLONG_MIN),
])
def test_getrange(any_r, start, end):
    any_r.set("k", "This is a string")
    expected = any_r.getrange("k", start, end)
    assert raw(any_r, "SUBSTR", "k", start, end) == expected
    # Redis's rules, written out independently.
    size = 16
    if start < 0 and end < 0 and start > end:
        want = b""
    else:
        s = max(0, size + start) if start < 0 else start
        e = max(0, size + end) if end < 0 else end
        e = min(e, size - 1)
        want = b"" if s > e else b"This is a string"[s:e + 1]
    assert expected == want


def test_getrange_edges(any_r):
    assert any_r.getrange("missing", 0, -1) == b""
    any_r.set("e", "")
    assert any_r.getrange("e", 0, -1) == b""
    assert any_r.getrange("e", 0, 0) == b""
    any_r.set("n", 12345)
    assert any_r.getrange("n", 1, 2) == b"23"
    assert err(any_r, "GETRANGE", "k", "a", "1") == "value is not an integer or out of range"
    assert err(any_r, "GETRANGE", "k", "0", "1.5") == "value is not an integer or out of range"
    assert err(any_r, "GETRANGE", "k", "0") == "wrong number of arguments for 'getrange' command"


def test_setrange(any_r):
    any_r.set("k", "Hello World")
    any_r.expire("k", 100)
    assert any_r.setrange("k", 6, "Redis") == 11
    assert any_r.get("k") == b"Hello Redis"
    assert 99 <= any_r.ttl("k") <= 100
    assert any_r.setrange("k", 15, "!") == 16
    assert any_r.get("k") == b"Hello Redis\x00\x00\x00\x00!"
    assert any_r.setrange("k", 0, "") == 16
    assert any_r.setrange("k", 1000, "") == 16  # an empty patch changes nothing
    assert any_r.setrange("new", 3, "abc") == 6
    assert any_r.get("new") == b"\x00\x00\x00abc"
    assert any_r.setrange("none", 5, "") == 0
    assert any_r.exists("none") == 0
    assert any_r.setrange("k", 2, "LLO REDIS! and more") == 21
    assert any_r.get("k") == b"HeLLO REDIS! and more"
    assert err(any_r, "SETRANGE", "k", "-1", "x") == "offset is out of range"
    assert err(any_r, "SETRANGE", "k", "x", "x") == "value is not an integer or out of range"
    # The size check applies to offset + patch, even for a patch inside the string.
    assert err(any_r, "SETRANGE", "k", "536870911", "xx") == \
        "string exceeds maximum allowed size (proto-max-bulk-len)"
    assert err(any_r, "SETRANGE", "none", "536870912", "x") == \
        "string exceeds maximum allowed size (proto-max-bulk-len)"
    assert any_r.exists("none") == 0


def test_size_limit_follows_proto_max_bulk_len(any_r, small_bulk_len):
    limit = small_bulk_len
    assert any_r.setrange("k", limit - 2, "ab") == limit
    assert err(any_r, "SETRANGE", "k", limit - 1, "ab") == \
        "string exceeds maximum allowed size (proto-max-bulk-len)"
    assert err(any_r, "APPEND", "k", "x") == \
        "string exceeds maximum allowed size (proto-max-bulk-len)"
    assert any_r.strlen("k") == limit
    any_r.set("j", "x" * (limit - 3))
    assert any_r.append("j", "abc") == limit
    assert err(any_r, "APPEND", "j", "d") == \
        "string exceeds maximum allowed size (proto-max-bulk-len)"


# -- counters -------------------------------------------------------------------------------------

def test_incr_decr(any_r):
    assert any_r.incr("n") == 1
    assert any_r.incrby("n", 10) == 11
    assert any_r.decr("n") == 10
    assert any_r.decrby("n", 15) == -5
    assert any_r.get("n") == b"-5"
    assert raw(any_r, "INCRBY", "n", "0") == -5
    assert any_r.decrby("fresh", 3) == -3
    any_r.expire("n", 100)
    any_r.incr("n")
    assert 99 <= any_r.ttl("n") <= 100  # counters keep the TTL
    any_r.set("big", LLONG_MAX - 1)
    assert any_r.incr("big") == LLONG_MAX
    assert err(any_r, "INCR", "big") == "increment or decrement would overflow"
    assert err(any_r, "INCRBY", "big", "1") == "increment or decrement would overflow"
    assert any_r.get("big") == str(LLONG_MAX).encode()
    any_r.set("small", LLONG_MIN + 1)
    assert any_r.decr("small") == LLONG_MIN
    assert err(any_r, "DECR", "small") == "increment or decrement would overflow"
    assert err(any_r, "INCRBY", "small", str(LLONG_MIN)) == "increment or decrement would overflow"
    assert any_r.incrby("small", LLONG_MAX) == -1
    assert err(any_r, "DECRBY", "n", str(LLONG_MIN)) == "decrement would overflow"
    assert any_r.decrby("n", str(LLONG_MIN + 1)) == -4 + LLONG_MAX


@pytest.mark.parametrize("value", [
    " 1", "1 ", "+1", "01", "-0", "1.5", "", "abc", "0x10", "1e3", "99999999999999999999",
    "9223372036854775808", "-9223372036854775809", "1\x00",
])
def test_incr_on_non_integer_value(any_r, value):
    any_r.set("k", value)
    for args in (("INCR", "k"), ("DECR", "k"), ("INCRBY", "k", "1"), ("DECRBY", "k", "1")):
        assert err(any_r, *args) == "value is not an integer or out of range"
    assert any_r.get("k") == value.encode()


@pytest.mark.parametrize("increment", ["1.5", "", " 1", "+1", "01", "abc", "9223372036854775808"])
def test_incrby_bad_increment(any_r, increment):
    assert err(any_r, "INCRBY", "k", increment) == "value is not an integer or out of range"
    assert err(any_r, "DECRBY", "k", increment) == "value is not an integer or out of range"
    assert any_r.exists("k") == 0


# (stored value or None, increment, reply): replies recorded from redis-server 7.0 on x86-64.
INCRBYFLOAT_CASES = [
    ("10.5", "0.1", "10.6"),
    ("5.0e3", "2.0e2", "5200"),
    (None, "1.5", "1.5"),
    (None, "-1.5", "-1.5"),
    ("3", "0x10", "19"),
    ("0.1", "0.2", "0.3"),
    ("0.1", "0.7", "0.8"),
    ("1", "1e-20", "1"),
    ("-1", "1e-20", "-1"),
    (None, "-1e-20", "0"),
    ("1e17", "1", "100000000000000001"),
    ("1.23456789012345678", "0", "1.23456789012345678"),
    ("100", "-100.5", "-0.5"),
    (None, "3.0e3", "3000"),
    (None, ".5", "0.5"),
    (None, "5.", "5"),
    ("1", "0.000003814697265625", "1.00000381469726562"),
    (None, "+7", "7"),
    ("-0", "0", "0"),
    ("9223372036854775807", "1", "9223372036854775808"),
    ("1e-17", "0", "0.00000000000000001"),
    ("5e-18", "0", "0"),
    ("2.5", "-2.5", "0"),
    (None, "1.0000000000000000000001", "1"),
    ("123456789.123456789", "0.000000001", "123456789.12345678999554366"),
    (None, "0X1.8P1", "3"),
    (None, "1e-4940", "0"),
    ("1e300", "1", "1000000000000000000008997324079559193870523944273290747938260082321265646596"
     "180935755849152083750497190350372508614274835903592556184672983913096260520748646287327135"
     "641843653294084255107606016789726652932370030551382947620994540294772781889620606179267611"
     "627097410650567187386105690089424915104006144"),
]


@pytest.mark.parametrize("stored, increment, reply", INCRBYFLOAT_CASES)
def test_incrbyfloat_text(any_r, stored, increment, reply):
    if stored is not None:
        any_r.set("f", stored)
    assert raw(any_r, "INCRBYFLOAT", "f", increment) == reply.encode()
    assert any_r.get("f") == reply.encode()


def test_incrbyfloat_huge_value_prints_every_digit(any_r):
    any_r.set("f", "1e4000")
    text = raw(any_r, "INCRBYFLOAT", "f", "0")
    # 1e4000 is not exact in binary: the nearest long double is just below it.
    assert len(text) == 4000 and text.startswith(b"99999999999999999999654638730996")


@pytest.mark.parametrize("stored, increment, error", [
    ("1e4932", "1e4932", "increment would produce NaN or Infinity"),
    (None, "inf", "increment would produce NaN or Infinity"),
    (None, "-Infinity", "increment would produce NaN or Infinity"),
    ("inf", "1", "increment would produce NaN or Infinity"),
    (None, "1e4933", "value is not a valid float"),
    (None, "1e-5000", "value is not a valid float"),
    (None, "nan", "value is not a valid float"),
    (None, " 1", "value is not a valid float"),
    (None, "1 ", "value is not a valid float"),
    (None, "", "value is not a valid float"),
    (None, "1e", "value is not a valid float"),
    (None, "0x", "value is not a valid float"),
    (None, "1_0", "value is not a valid float"),
    (None, "abc", "value is not a valid float"),
    ("abc", "1", "value is not a valid float"),
    ("", "1", "value is not a valid float"),
    ("1e" + "9" * 30, "1", "value is not a valid float"),
    ("1" * 5120, "1", "value is not a valid float"),
])
def test_incrbyfloat_errors(any_r, stored, increment, error):
    if stored is not None:
        any_r.set("f", stored, ex=100)
    assert err(any_r, "INCRBYFLOAT", "f", increment) == error
    if stored is None:
        assert any_r.exists("f") == 0
    else:
        assert any_r.get("f") == stored.encode()


def test_incrbyfloat_keeps_ttl(any_r):
    any_r.set("f", "1", ex=100)
    assert raw(any_r, "INCRBYFLOAT", "f", "0.5") == b"1.5"
    assert 99 <= any_r.ttl("f") <= 100


# -- LCS -------------------------------------------------------------------------------------------

def test_lcs(any_r):
    any_r.mset({"a": "ohmytext", "b": "mynewtext"})
    assert raw(any_r, "LCS", "a", "b") == b"mytext"
    assert raw(any_r, "LCS", "a", "b", "LEN") == 6
    # any_r speaks RESP3, where IDX's reply is a map (see test_resp2_replies for RESP2).
    assert raw(any_r, "LCS", "a", "b", "IDX") == \
        {b"matches": [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], b"len": 6}
    assert raw(any_r, "LCS", "a", "b", "IDX", "MINMATCHLEN", "4") == \
        {b"matches": [[[4, 7], [5, 8]]], b"len": 6}
    assert raw(any_r, "LCS", "a", "b", "idx", "withmatchlen") == \
        {b"matches": [[[4, 7], [5, 8], 4], [[2, 3], [0, 1], 2]], b"len": 6}
    assert raw(any_r, "LCS", "a", "b", "LEN", "MINMATCHLEN", "-5") == 6
    assert raw(any_r, "LCS", "a", "b", "WITHMATCHLEN") == b"mytext"
    assert raw(any_r, "LCS", "a", "missing") == b""
    assert raw(any_r, "LCS", "x", "y", "IDX") == {b"matches": [], b"len": 0}


@pytest.mark.parametrize("s1, s2", [
    ("abcabcab", "bcacbabc"), ("aaaa", "aa"), ("abab", "baba"), ("", "abc"), ("abc", "abc"),
    ("xyzabcxyz", "abcxyzabc"), ("a" * 30 + "b", "b" + "a" * 30), ("abcd", "dcba"),
])
def test_lcs_matches_redis_walk(any_r, s1, s2):
    any_r.mset({"a": s1, "b": s2})
    replies = [raw(any_r, "LCS", "a", "b", *opts) for opts in
               ((), ("LEN",), ("IDX", "WITHMATCHLEN"), ("IDX", "MINMATCHLEN", "2"))]
    lcs, length, idx, idx_min = replies
    assert len(lcs) == length == idx[b"len"] == idx_min[b"len"]
    # Every reported range is a real common substring.
    for (a_range, b_range, n) in idx[b"matches"]:
        assert s1[a_range[0]:a_range[1] + 1] == s2[b_range[0]:b_range[1] + 1]
        assert n == a_range[1] - a_range[0] + 1
    assert [m[:2] for m in idx[b"matches"] if m[2] >= 2] == idx_min[b"matches"]


def test_lcs_same_walk_as_redis(both):
    """Redis walks the table back from the end with a fixed tie-break; the chosen LCS and its
    ranges must be the same bytes, not just as long."""
    rng = random.Random(7)
    for _ in range(150):
        alphabet = rng.choice(["ab", "abc", "abcd"])
        s1 = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 16)))
        s2 = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 16)))
        for opts in ((), ("IDX", "WITHMATCHLEN"), ("IDX", "MINMATCHLEN", "2"), ("LEN",)):
            forkv, real = (raw(c, "MSET", "a", s1, "b", s2) and
                           raw(c, "LCS", "a", "b", *opts) for c in both)
            assert forkv == real, (s1, s2, opts)
    # Long strings too: the table is computed a row at a time, so this stays quick.
    s1 = "".join(rng.choice("acgt") for _ in range(3000))
    s2 = "".join(rng.choice("acgt") for _ in range(2500))
    forkv, real = (raw(c, "MSET", "a", s1, "b", s2) and raw(c, "LCS", "a", "b", "IDX")
                   for c in both)
    assert forkv == real


def test_lcs_errors(any_r):
    any_r.mset({"a": "abc", "b": "abd"})
    assert err(any_r, "LCS", "a", "b", "IDX", "LEN") == \
        "If you want both the length and indexes, please just use IDX."
    assert err(any_r, "LCS", "a", "b", "LEN", "IDX") == \
        "If you want both the length and indexes, please just use IDX."
    assert err(any_r, "LCS", "a", "b", "MINMATCHLEN") == "syntax error"
    assert err(any_r, "LCS", "a", "b", "MINMATCHLEN", "x") == \
        "value is not an integer or out of range"
    assert err(any_r, "LCS", "a", "b", "FOO") == "syntax error"
    assert err(any_r, "LCS", "a") == "wrong number of arguments for 'lcs' command"


def test_lcs_memory_limit(any_r, small_bulk_len):
    any_r.mset({"a": "x" * 600, "b": "y" * 600})
    assert err(any_r, "LCS", "a", "b") == \
        "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
    assert err(any_r, "LCS", "a", "b", "LEN") == \
        "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"


# -- transactions, RESP3, asyncio -----------------------------------------------------------------

def test_exec_replies_are_snapshots(any_r):
    """EXEC collects its replies; a value changed in place later in the same transaction must
    not change a reply already produced."""
    any_r.set("k", "ab")
    any_r.append("k", "cd")  # now changed in place from here on
    pipe = any_r.pipeline(transaction=True)
    pipe.get("k")
    pipe.getex("k", persist=True)
    pipe.mget("k")
    pipe.append("k", "ef")
    pipe.setrange("k", 0, "XY")
    pipe.set("k", "zz", nx=True, get=True)
    pipe.setbit("k", 7, 1)
    pipe.get("k")
    replies = pipe.execute()
    assert replies[:3] == [b"abcd", b"abcd", [b"abcd"]]
    assert replies[5] == b"XYcdef"
    assert replies[7] == b"YYcdef"


def test_resp2_replies(any_server):
    """The shared fixtures speak RESP3 (redis-py's default); the same commands in RESP2."""
    r2 = redis.Redis(port=any_server.port, protocol=2)
    try:
        r2.flushall()
        assert r2.get("missing") is None
        r2.mset({"a": "ohmytext", "b": "mynewtext"})
        assert raw(r2, "LCS", "a", "b", "IDX", "WITHMATCHLEN") == \
            [b"matches", [[[4, 7], [5, 8], 4], [[2, 3], [0, 1], 2]], b"len", 6]
        assert raw(r2, "SET", "a", "v", "NX") is None
        assert raw(r2, "SET", "a", "v", "XX", "GET") == b"ohmytext"
        assert raw(r2, "INCRBYFLOAT", "f", "1.5") == b"1.5"
        assert raw(r2, "MGET", "a", "zz") == [b"v", None]
        assert raw(r2, "GETDEL", "zz") is None
    finally:
        r2.close()


def _raw_resp3(port: int, *commands) -> bytes:
    with socket.create_connection(("127.0.0.1", port)) as s:
        payload = b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n"
        for cmd in commands:
            payload += command_bytes(*cmd)
        payload += b"*1\r\n$4\r\nQUIT\r\n"
        s.sendall(payload)
        data = read_until_closed(s)
    return data.split(b"modules\r\n*0\r\n", 1)[1]  # what follows HELLO's reply


def test_resp3_null_replies_on_the_wire(any_server):
    # Null bulk replies are "_" in RESP3, the same bytes from both servers.
    data = _raw_resp3(any_server.port, [b"FLUSHALL"], [b"GET", b"nope"],
                      [b"SET", b"k", b"v", b"XX"], [b"GETEX", b"nope", b"EX", b"0"])
    assert data.endswith(b"+OK\r\n_\r\n_\r\n_\r\n+OK\r\n")


async def test_asyncio_client(forkv_server):
    client = redis.asyncio.Redis(port=forkv_server.port)
    try:
        await client.flushall()
        assert await client.set("k", "v") is True
        assert await client.get("k") == b"v"
        assert await client.incr("n") == 1
        assert await client.incrbyfloat("n", 0.5) == 1.5
        async with client.pipeline(transaction=True) as pipe:
            pipe.mset({"a": "1", "b": "2"}).mget("a", "b", "c").append("a", "x").getdel("b")
            assert await pipe.execute() == [True, [b"1", b"2", None], 2, b"2"]
        assert await client.execute_command("LCS", "k", "a", "LEN") == 0
    finally:
        await client.aclose()


# -- without sockets: injected clock, in-place mutation, write counting ---------------------------

class Harness:
    """A forkv server with no sockets and a clock the test moves; `call` returns wire bytes."""

    def __init__(self):
        self.now = 1_700_000_000_000
        self.server = Server(Config(), clock=lambda: self.now)
        self.client = Client(self.server)
        self.db = self.server.keyspace.dbs[0]

    def call(self, *args) -> bytes:
        out = []
        argv = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        execute(self.client, argv, out)
        return b"".join(out)

    @property
    def dirty(self) -> int:
        return self.server.keyspace.dirty


class FakeList:
    redis_type = "list"


def test_expiry_times_on_an_injected_clock():
    h = Harness()
    assert h.call("SET", "a", "v", "EX", 10) == b"+OK\r\n"
    assert h.db.expires["a"] == h.now + 10_000
    h.call("SET", "b", "v", "PX", 1234)
    assert h.db.expires["b"] == h.now + 1234
    h.call("SET", "c", "v", "EXAT", 1_800_000_000)
    assert h.db.expires["c"] == 1_800_000_000_000
    h.call("SET", "d", "v", "PXAT", 1_800_000_000_123)
    assert h.db.expires["d"] == 1_800_000_000_123
    h.call("SETEX", "e", 5, "v")
    h.call("PSETEX", "f", 5, "v")
    assert h.db.expires["e"] == h.now + 5000 and h.db.expires["f"] == h.now + 5
    assert h.call("GETEX", "a", "PX", 1) == b"$1\r\nv\r\n"
    assert h.db.expires["a"] == h.now + 1
    h.now += 1
    assert h.call("GET", "a") == b"$1\r\nv\r\n"  # expired only once now > when, as Redis
    h.now += 1
    assert h.call("GET", "a") == b"$-1\r\n"
    # GETEX with an absolute time equal to now deletes at once.
    h.call("SET", "g", "v")
    assert h.call("GETEX", "g", "PXAT", h.now) == b"$1\r\nv\r\n"
    assert "g" not in h.db.data
    # Relative times that overflow LLONG_MAX once "now" is added.
    assert h.call("SET", "h", "v", "PX", LLONG_MAX - h.now + 1) == \
        b"-ERR invalid expire time in 'set' command\r\n"
    assert h.call("SET", "h", "v", "PX", LLONG_MAX - h.now) == b"+OK\r\n"


def test_wrongtype_without_sockets():
    h = Harness()
    h.db.store(b"l", FakeList())
    for args in (("GET", "l"), ("GETSET", "l", "v"), ("GETDEL", "l"), ("GETEX", "l"),
                 ("APPEND", "l", "x"), ("STRLEN", "l"), ("INCR", "l"), ("INCRBYFLOAT", "l", "1"),
                 ("GETRANGE", "l", 0, 1), ("SETRANGE", "l", 0, "x"), ("SET", "l", "v", "GET")):
        assert h.call(*args) == b"-" + WRONGTYPE.encode() + b"\r\n", args
    assert h.call("LCS", "l", "x") == b"-ERR The specified keys must contain string values\r\n"
    assert h.call("MGET", "l") == b"*1\r\n$-1\r\n"
    assert h.call("SET", "l", "v") == b"+OK\r\n"
    assert h.db.data["l"] == b"v"


def test_append_and_setrange_change_the_value_in_place():
    h = Harness()
    h.call("SET", "k", "abc")
    h.call("APPEND", "k", "d")
    first = h.db.data["k"]
    assert type(first) is bytearray
    dirty = h.dirty
    for _i in range(10):
        h.call("APPEND", "k", "x")
        h.call("SETRANGE", "k", 0, "Z")
    assert h.db.data["k"] is first
    assert first == bytearray(b"Zbcd" + b"x" * 10)
    assert h.dirty == dirty + 20  # every edit still counts as a write


def test_write_counting():
    h = Harness()
    dirty = h.dirty
    h.call("SET", "k", "1")
    h.call("INCR", "k")
    h.call("INCRBYFLOAT", "k", "1.5")
    h.call("SET", "k", "v", "NX")  # refused: no write
    h.call("GET", "k")
    h.call("SETRANGE", "k", 0, "")  # empty patch: no write
    h.call("GETEX", "k", "PERSIST")  # no TTL to remove: no write
    assert h.dirty == dirty + 3
    h.call("MSET", "a", 1, "b", 2)
    assert h.dirty == dirty + 5
