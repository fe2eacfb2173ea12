"""SCAN: cursor parsing, MATCH / COUNT / TYPE, and the iteration guarantee (every key that exists
for the whole iteration is returned, whatever is added or deleted meanwhile). Checked against
forkv and Debian's redis-server (`any_r`)."""

import pytest
import redis.asyncio

from tests.server.commands._keys_wire import error_of, raw
from tests.servers import wait_for


def full_scan(client, **kw) -> list:
    """Every key one whole iteration returns, duplicates kept."""
    found, cursor = [], 0
    while True:
        cursor, keys = client.scan(cursor, **kw)
        found += keys
        if cursor == 0:
            return found


def test_scan_empty_db(any_r):
    assert any_r.scan(0) == (0, [])
    assert raw(any_r, "SCAN", "0") == b"*2\r\n$1\r\n0\r\n*0\r\n"
    assert raw(any_r, "SCAN", "0", proto=3) == b"*2\r\n$1\r\n0\r\n*0\r\n"


def test_scan_returns_every_key(any_r):
    keys = {f"key:{i}".encode() for i in range(500)}
    any_r.mset({k: b"v" for k in keys})
    for count in (1, 7, 10, 100, 1000):
        assert set(full_scan(any_r, count=count)) == keys


def test_scan_cursor_is_a_bulk_string(any_r):
    any_r.mset({f"k{i}": i for i in range(100)})
    reply = raw(any_r, "SCAN", "0", "COUNT", "5")
    assert reply.startswith(b"*2\r\n$")
    cursor = reply.split(b"\r\n")[2]
    assert int(cursor) > 0


def test_scan_match(any_r):
    any_r.mset({"user:1": 1, "user:2": 2, "order:1": 3, "user:10": 4})
    assert sorted(full_scan(any_r, match="user:?")) == [b"user:1", b"user:2"]
    assert sorted(full_scan(any_r, match="*:1*")) == [b"order:1", b"user:1", b"user:10"]
    assert full_scan(any_r, match="nothing") == []
    assert len(full_scan(any_r, match="*")) == 4


def test_scan_type(any_r):
    any_r.mset({"a": 1, "b": 2})
    assert sorted(full_scan(any_r, _type="string")) == [b"a", b"b"]
    assert sorted(full_scan(any_r, _type="STRING")) == [b"a", b"b"]
    # Types with no keys (even ones forkv has no values of yet) and unknown names match nothing.
    for name in ("list", "hash", "set", "zset", "stream", "none", "nosuchtype"):
        assert full_scan(any_r, _type=name) == []


def test_scan_type_and_match_together(any_r):
    any_r.mset({"a1": 1, "a2": 2, "b1": 3})
    assert sorted(full_scan(any_r, match="a*", _type="string", count=2)) == [b"a1", b"a2"]


def test_scan_skips_expired_keys(any_r):
    any_r.set("stays", "1")
    for i in range(50):
        any_r.set(f"gone:{i}", "1", px=20)
    wait_for(lambda: full_scan(any_r) == [b"stays"], timeout=5, what="expired keys to leave SCAN")


@pytest.mark.parametrize("cursor", ["0", "+0", "-0", "", "00", "\x00", "\x00abc", "0\x00 x"])
def test_cursor_spellings_of_zero_start_over(any_r, cursor):
    any_r.mset({"a": 1, "b": 2})
    cursor_out, keys = any_r.execute_command("SCAN", cursor, "COUNT", "100")
    assert cursor_out == 0
    assert sorted(keys) == [b"a", b"b"]


@pytest.mark.parametrize("cursor", ["-1", "18446744073709551615", "-18446744073709551615", "12345"])
def test_odd_cursors_are_accepted(any_r, cursor):
    # What these return is unspecified, but they are valid cursors (strtoul accepts them).
    any_r.set("a", "1")
    reply = raw(any_r, "SCAN", cursor)
    assert reply.startswith(b"*2\r\n$")


@pytest.mark.parametrize("cursor", [" 0", "0 ", "0x", "abc", "1.5", "-", "+", "--1",
                                    "18446744073709551616", "-18446744073709551616",
                                    "99999999999999999999999"])
def test_invalid_cursor(any_r, cursor):
    assert error_of(any_r, "SCAN", cursor) == "invalid cursor"
    # The cursor is checked before the options.
    assert error_of(any_r, "SCAN", cursor, "COUNT", "0") == "invalid cursor"


@pytest.mark.parametrize("args, message", [
    (("COUNT", "0"), "syntax error"),
    (("COUNT", "-1"), "syntax error"),
    (("COUNT",), "syntax error"),
    (("COUNT", "x"), "value is not an integer or out of range"),
    (("COUNT", "99999999999999999999"), "value is not an integer or out of range"),
    (("COUNT", "1.5"), "value is not an integer or out of range"),
    (("MATCH",), "syntax error"),
    (("TYPE",), "syntax error"),
    (("FOO",), "syntax error"),
    (("FOO", "bar"), "syntax error"),
    (("MATCH", "a", "TYPE"), "syntax error"),
    (("COUNT", "0", "FOO"), "syntax error"),
    (("COUNT", "x", "FOO"), "value is not an integer or out of range"),
    (("FOO", "bar", "COUNT", "x"), "syntax error"),
])
def test_scan_option_errors(any_r, args, message):
    any_r.set("a", "1")
    assert error_of(any_r, "SCAN", "0", *args) == message


def test_scan_arity(any_r):
    assert error_of(any_r, "SCAN") == "wrong number of arguments for 'scan' command"


def test_scan_options_repeat_last_wins(any_r):
    any_r.mset({"a": 1, "b": 2})
    assert full_scan(any_r, match="zzz") == []
    cursor, keys = any_r.execute_command("SCAN", "0", "MATCH", "zzz", "MATCH", "a", "COUNT", "1",
                                         "COUNT", "100", "type", "list", "TYPE", "string")
    assert (cursor, keys) == (0, [b"a"])


def test_scan_huge_count(any_r):
    any_r.mset({"a": 1, "b": 2})
    cursor, keys = any_r.scan(0, count=2**62)
    assert cursor == 0 and sorted(keys) == [b"a", b"b"]


# -- the iteration guarantee -----------------------------------------------------------------------

def test_scan_returns_every_original_key_while_keys_are_added(any_r):
    originals = {f"orig:{i}".encode() for i in range(2000)}
    any_r.mset({k: b"v" for k in originals})
    seen, cursor, added = set(), 0, 0
    while True:
        cursor, keys = any_r.scan(cursor, count=20)
        seen.update(keys)
        # Grow the keyspace a lot during the iteration (Redis rehashes to bigger tables meanwhile).
        with any_r.pipeline(transaction=False) as pipe:
            for _ in range(40):
                pipe.set(f"new:{added}", "v")
                added += 1
            pipe.execute()
        if cursor == 0:
            break
    assert added > 2000
    assert originals <= seen
    assert all(k.startswith(b"new:") for k in seen - originals)


def test_scan_while_keys_are_deleted(any_r):
    keys = [f"k:{i}".encode() for i in range(1000)]
    any_r.mset({k: b"v" for k in keys})
    kept = set(keys[::2])
    doomed = keys[1::2]
    seen, cursor, step = set(), 0, 0
    deleted = set()
    while True:
        cursor, batch = any_r.scan(cursor, count=25)
        assert not deleted & set(batch), "a key deleted earlier came back"
        seen.update(batch)
        if step < len(doomed) // 50:
            chunk = doomed[step * 50:(step + 1) * 50]
            any_r.delete(*chunk)
            deleted.update(chunk)
        step += 1
        if cursor == 0:
            break
    assert kept <= seen


def test_forkv_scan_returns_each_key_exactly_once(r):
    originals = [f"orig:{i}".encode() for i in range(1500)]
    r.mset({k: b"v" for k in originals})
    found, cursor, n = [], 0, 0
    while True:
        cursor, keys = r.scan(cursor, count=15)
        found += keys
        r.mset({f"new:{n + j}": b"v" for j in range(30)})
        n += 30
        if cursor == 0:
            break
    assert len(found) == len(set(found))
    assert set(originals) <= set(found)


def test_independent_iterations_interleave(any_r):
    keys = {f"k:{i}".encode() for i in range(300)}
    any_r.mset({k: b"v" for k in keys})
    seen_a, seen_b = set(), set()
    ca = cb = None
    while ca != 0 or cb != 0:
        if ca != 0:
            ca, batch = any_r.scan(ca or 0, count=10)
            seen_a.update(batch)
        if cb != 0:
            cb, batch = any_r.scan(cb or 0, count=17)
            seen_b.update(batch)
    assert seen_a == keys and seen_b == keys


# -- RESP3 and asyncio -----------------------------------------------------------------------------

def test_scan_resp3(any_r):
    any_r.set("only", "1")
    assert raw(any_r, "SCAN", "0", "COUNT", "100", proto=3) == b"*2\r\n$1\r\n0\r\n*1\r\n$4\r\nonly\r\n"
    assert raw(any_r, "SCAN", "0", "COUNT", "0", proto=3) == b"-ERR syntax error\r\n"


async def test_async_scan_iter(any_server):
    client = redis.asyncio.Redis(port=any_server.port)
    try:
        await client.flushall()
        await client.mset({f"k{i}": i for i in range(250)})
        found = [key async for key in client.scan_iter(match="k1*", count=30)]
        assert sorted(found) == sorted({f"k{i}".encode() for i in range(250) if str(i).startswith("1")})
        typed = [key async for key in client.scan_iter(_type="string", count=50)]
        assert len(set(typed)) == 250
    finally:
        await client.aclose()
