"""EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (NX/XX/GT/LT), TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST,
and expiry as these commands show it: lazy on lookup, active from the server's cron. Each case runs
against forkv and Debian's redis-server (`any_r`)."""

import time

import pytest
import redis.asyncio

from tests.server.commands._keys_wire import error_of, info_field, raw
from tests.servers import wait_for

LLONG_MAX = 2**63 - 1
FAR = 4_000_000_000  # a unix time (seconds) far in the future


def now_ms() -> int:
    return int(time.time() * 1000)


# -- setting a TTL ---------------------------------------------------------------------------------

def test_expire_and_ttls(any_r):
    any_r.set("k", "v")
    assert any_r.ttl("k") == -1 and any_r.pttl("k") == -1
    assert any_r.expiretime("k") == -1 and any_r.pexpiretime("k") == -1
    assert any_r.expire("k", 100) is True
    assert 99 <= any_r.ttl("k") <= 100
    assert 99_000 <= any_r.pttl("k") <= 100_000
    assert abs(any_r.pexpiretime("k") - (now_ms() + 100_000)) < 2000
    assert any_r.pexpire("k", 50_000) is True
    assert 49_000 <= any_r.pttl("k") <= 50_000


def test_ttls_of_missing_key(any_r):
    for cmd in ("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"):
        assert any_r.execute_command(cmd, "missing") == -2


def test_expireat_and_expiretime(any_r):
    any_r.set("k", "v")
    assert any_r.expireat("k", FAR) is True
    assert any_r.expiretime("k") == FAR
    assert any_r.pexpiretime("k") == FAR * 1000
    assert any_r.pexpireat("k", FAR * 1000 + 1234) is True
    assert any_r.pexpiretime("k") == FAR * 1000 + 1234
    assert any_r.expiretime("k") == FAR + 1  # seconds are rounded, not truncated
    any_r.pexpireat("k", FAR * 1000 + 499)
    assert any_r.expiretime("k") == FAR


def test_ttl_rounds_to_nearest_second(any_r):
    any_r.set("k", "v")
    any_r.pexpire("k", 100_900)
    # 100.9 s left rounds to 101 (truncation would say 100) for the first ~400 ms.
    assert any_r.ttl("k") == 101


def test_expire_on_missing_key(any_r):
    for cmd in ("EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"):
        assert any_r.execute_command(cmd, "missing", "100") == 0
        assert any_r.execute_command(cmd, "missing", "-100") == 0
    assert any_r.exists("missing") == 0


@pytest.mark.parametrize("cmd, when", [
    ("EXPIRE", "-1"), ("EXPIRE", "0"), ("PEXPIRE", "-1"), ("PEXPIRE", "0"),
    ("EXPIREAT", "1"), ("EXPIREAT", "0"), ("PEXPIREAT", "1000"), ("PEXPIREAT", "-5"),
    ("EXPIRE", "-9223372036854775"), ("PEXPIRE", "-9223372036854775808"),
])
def test_time_in_the_past_deletes(any_r, cmd, when):
    any_r.set("k", "v", ex=100)
    assert any_r.execute_command(cmd, "k", when) == 1
    assert any_r.exists("k") == 0
    assert any_r.ttl("k") == -2


def test_past_time_deletes_even_with_gt(any_r):
    # GT compares with the current TTL; the key had none, so GT refuses: nothing deleted.
    any_r.set("k", "v")
    assert any_r.expire("k", 0, gt=True) is False
    assert any_r.exists("k") == 1
    # LT with no TTL accepts anything, and a past time then deletes.
    assert any_r.expire("k", 0, lt=True) is True
    assert any_r.exists("k") == 0


@pytest.mark.parametrize("cmd, when", [
    ("EXPIRE", "9223372036854775807"),
    ("EXPIRE", "9223372036854776"),  # overflows when turned into ms
    ("EXPIRE", "-9223372036854776"),
    ("EXPIRE", "9223372036854775"),  # fits in ms, overflows when now is added
    ("PEXPIRE", "9223372036854775807"),
    ("EXPIREAT", "9223372036854776"),
    ("EXPIREAT", "-9223372036854776"),
])
def test_expire_overflow(any_r, cmd, when):
    any_r.set("k", "v")
    assert error_of(any_r, cmd, "k", when) == f"invalid expire time in '{cmd.lower()}' command"
    # Checked before the key is looked up.
    assert error_of(any_r, cmd, "missing", when) == f"invalid expire time in '{cmd.lower()}' command"
    assert any_r.ttl("k") == -1


def test_expire_at_the_limits(any_r):
    any_r.set("k", "v")
    assert any_r.pexpireat("k", LLONG_MAX) is True
    assert any_r.pexpiretime("k") == LLONG_MAX
    assert any_r.expireat("k", 9223372036854775) is True
    assert any_r.expiretime("k") == 9223372036854775
    assert any_r.ttl("k") > 9_000_000_000_000_000


@pytest.mark.parametrize("cmd", ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"])
@pytest.mark.parametrize("args, message", [
    (("k", "x"), "value is not an integer or out of range"),
    (("k", "1.5"), "value is not an integer or out of range"),
    (("k", " 1"), "value is not an integer or out of range"),
    (("k", "100", "foo"), "Unsupported option foo"),
    (("k", "x", "FOO"), "Unsupported option FOO"),  # options are checked before the time
    (("k", "100", "nx", "xx"), "NX and XX, GT or LT options at the same time are not compatible"),
    (("k", "100", "NX", "GT"), "NX and XX, GT or LT options at the same time are not compatible"),
    (("k", "100", "lt", "nx"), "NX and XX, GT or LT options at the same time are not compatible"),
    (("k", "100", "gt", "lt"), "GT and LT options at the same time are not compatible"),
    (("k", "100", "xx", "gt", "lt"), "GT and LT options at the same time are not compatible"),
    (("k", "100", "gt", "lt", "nx"), "NX and XX, GT or LT options at the same time are not compatible"),
    (("k", "x", "gt", "lt"), "GT and LT options at the same time are not compatible"),
    (("missing", "100", "bar"), "Unsupported option bar"),
    (("k",), "wrong number of arguments for '{cmd}' command"),
])
def test_expire_errors(any_r, cmd, args, message):
    any_r.set("k", "v")
    assert error_of(any_r, cmd, *args) == message.format(cmd=cmd.lower())
    assert any_r.ttl("k") == -1


# -- NX, XX, GT, LT -------------------------------------------------------------------------------

def test_nx_xx(any_r):
    any_r.set("k", "v")
    assert any_r.expire("k", 100, xx=True) is False
    assert any_r.ttl("k") == -1
    assert any_r.expire("k", 100, nx=True) is True
    assert any_r.expire("k", 200, nx=True) is False
    assert any_r.ttl("k") in (99, 100)
    assert any_r.expire("k", 200, xx=True) is True
    assert any_r.ttl("k") in (199, 200)


def test_gt_lt(any_r):
    any_r.set("k", "v")
    # No TTL counts as infinite: GT never beats it, LT always does.
    assert any_r.expire("k", 100, gt=True) is False
    assert any_r.expire("k", 100, lt=True) is True
    assert any_r.expire("k", 50, gt=True) is False
    current = any_r.pexpiretime("k")
    assert any_r.pexpireat("k", current, gt=True) is False  # equal is not greater
    assert any_r.pexpireat("k", current, lt=True) is False  # nor less
    assert any_r.expire("k", 200, gt=True) is True
    assert any_r.ttl("k") in (199, 200)
    assert any_r.expire("k", 300, lt=True) is False
    assert any_r.expire("k", 150, lt=True) is True
    assert any_r.ttl("k") in (149, 150)
    # XX combines with GT / LT.
    assert any_r.execute_command("EXPIRE", "k", "500", "XX", "GT") == 1
    assert any_r.execute_command("EXPIRE", "k", "400", "xx", "gt") == 0
    any_r.persist("k")
    assert any_r.execute_command("EXPIRE", "k", "10", "XX", "LT") == 0
    assert any_r.ttl("k") == -1


def test_options_repeat_and_mix_case(any_r):
    any_r.set("k", "v")
    assert any_r.execute_command("EXPIRE", "k", "100", "nX", "Nx") == 1
    assert any_r.execute_command("PEXPIRE", "k", "1000000", "gt", "GT") == 1
    assert any_r.ttl("k") in (999, 1000)


# -- PERSIST ---------------------------------------------------------------------------------------

def test_persist(any_r):
    any_r.set("k", "v", ex=100)
    assert any_r.persist("k") is True
    assert any_r.ttl("k") == -1
    assert any_r.persist("k") is False
    assert any_r.persist("missing") is False
    assert error_of(any_r, "PERSIST") == "wrong number of arguments for 'persist' command"
    assert error_of(any_r, "PERSIST", "a", "b") == "wrong number of arguments for 'persist' command"


@pytest.mark.parametrize("cmd", ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"])
def test_ttl_arity(any_r, cmd):
    assert error_of(any_r, cmd) == f"wrong number of arguments for '{cmd.lower()}' command"
    assert error_of(any_r, cmd, "a", "b") == f"wrong number of arguments for '{cmd.lower()}' command"


# -- expiry as the commands see it -----------------------------------------------------------------

def test_lazy_expiry_on_lookup(any_r):
    any_r.set("k", "v", px=30)
    wait_for(lambda: any_r.pttl("k") == -2, timeout=5, what="k to expire")
    assert any_r.exists("k") == 0
    assert any_r.expire("k", 100) == 0
    assert any_r.persist("k") is False


def test_active_expiry_removes_untouched_keys_within_a_second(any_r):
    before = info_field(any_r, "stats", "expired_keys")
    any_r.set("stays", "1")
    for i in range(20):
        any_r.set(f"k{i}", "v", px=100)
    assert any_r.dbsize() == 21
    # Only DBSIZE and INFO from here on: nothing looks the keys up, so only the cron removes them.
    wait_for(lambda: any_r.dbsize() == 1, timeout=1.0, interval=0.02, what="active expiry")
    assert info_field(any_r, "stats", "expired_keys") - before == 20
    assert any_r.keys("*") == [b"stays"]


def test_expired_key_counts_in_expired_keys(any_r):
    before = info_field(any_r, "stats", "expired_keys")
    any_r.set("k", "v", px=20)
    wait_for(lambda: any_r.exists("k") == 0, timeout=5, what="k to expire")
    assert info_field(any_r, "stats", "expired_keys") - before == 1


def test_set_expiry_in_the_past_is_not_an_expiry(any_r):
    # EXPIRE with a past time is a delete, not an expiry: expired_keys does not move.
    before = info_field(any_r, "stats", "expired_keys")
    any_r.set("k", "v")
    any_r.expire("k", -1)
    assert info_field(any_r, "stats", "expired_keys") == before


# -- RESP3 and asyncio -----------------------------------------------------------------------------

def test_resp3_replies(any_r):
    any_r.set("k", "v")
    assert raw(any_r, "EXPIRE", "k", "100", proto=3) == b":1\r\n"
    assert raw(any_r, "TTL", "k", proto=3) in (b":100\r\n", b":99\r\n")
    assert raw(any_r, "PERSIST", "k", proto=3) == b":1\r\n"
    assert raw(any_r, "PTTL", "missing", proto=3) == b":-2\r\n"
    assert raw(any_r, "EXPIRE", "k", "1", "foo", proto=3) == b"-ERR Unsupported option foo\r\n"


async def test_async_expire(any_server):
    client = redis.asyncio.Redis(port=any_server.port)
    try:
        await client.flushall()
        await client.set("k", "v")
        assert await client.expire("k", 100) is True
        assert await client.ttl("k") in (99, 100)
        assert await client.expireat("k", FAR) is True
        assert await client.expiretime("k") == FAR
        assert await client.persist("k") is True
        assert await client.pttl("k") == -1
        assert await client.pexpire("k", -1) is True
        assert await client.exists("k") == 0
    finally:
        await client.aclose()
