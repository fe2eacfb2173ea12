"""Regressions found by the fuzz suites (tests/integration/test_fuzz_live.py): each runs against
forkv and Debian's redis-server (any_r), so the expectation is Redis's."""

import socket

import pytest
import redis

from tests.servers import command_bytes, read_line


def raw(client, *args) -> bytes:
    """The bytes a server sends for one command (one line: an error or a status)."""
    port = client.connection_pool.connection_kwargs["port"]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(command_bytes(*args))
        return read_line(sock)


@pytest.mark.parametrize("option, shown", [
    (b"\x00", b""), (b"ab\x00cd", b"ab"),
    (b"*1\r\n$4\r\nPING\r\n", b"*1  $4  PING"),  # trailing CR/LF trimmed, the others spaces
    (b"\r\nx", b"  x"),  # inside the message: spaces
])
def test_unsupported_option_text_is_a_c_string(any_r, option, shown):
    any_r.set("k", "v")
    assert raw(any_r, "EXPIRE", "k", "10", option) == b"-ERR Unsupported option " + shown + b"\r\n"


@pytest.mark.parametrize("argv, shown", [
    ((b"\x00",), b"ERR unknown command '', with args beginning with: "),
    ((b"nosuch\x00x", b"a\x00b", b"c"), b"ERR unknown command 'nosuch', with args beginning with: 'a' 'c' "),
    ((b"nosuch", "é" * 100, "b" * 10),
     b"ERR unknown command 'nosuch', with args beginning with: '" + ("é" * 64).encode() + b"' "),
    ((b"nosuch", "a" * 100, "b" * 100),
     b"ERR unknown command 'nosuch', with args beginning with: '" + b"a" * 100 + b"' '"
     + b"b" * 25 + b"' "),
])
def test_unknown_command_arguments_as_redis_cuts_them(any_r, argv, shown):
    assert raw(any_r, *argv) == b"-" + shown + b"\r\n"


def test_unknown_subcommand_stops_at_nul(any_r):
    assert raw(any_r, "OBJECT", b"enc\x00oding", "k") == \
        b"-ERR unknown subcommand 'enc'. Try OBJECT HELP.\r\n"


@pytest.mark.parametrize("argv, shown", [
    (("CLIENT", "LIST", "TYPE", b"ab\x00c"), b"-ERR Unknown client type 'ab'\r\n"),
    (("CLIENT", "KILL", "TYPE", b"\xe9x"), b"-ERR Unknown client type '\xe9x'\r\n"),
    (("CLIENT", "KILL", "USER", b"no\x00body"), b"-ERR No such user 'no'\r\n"),
    (("HELLO", "2", b"ab\x00c"), b"-ERR Syntax error in HELLO option 'ab'\r\n"),
    (("SELECT", "4294967296"), b"-ERR value is out of range, value must between -2147483648 and 2147483647\r\n"),
    (("SWAPDB", "4294967296", "0"), b"-ERR invalid first DB index\r\n"),
])
def test_connection_errors_quote_client_bytes_as_c_strings(any_r, argv, shown):
    assert raw(any_r, *argv) == shown


# -- found by the grammar fuzz (tests/integration/test_fuzz_grammar.py) ---------------------------

@pytest.mark.parametrize("limit, expected", [
    (("0", "2"), [b"0", b"13"]),  # Redis sorts a LIMIT's range with pqsort: ties are not stable
    (("1", "-1"), [b"13", b"12", b"11", b"10", b"9", b"8", b"7", b"6", b"5", b"4", b"3", b"2", b"1", b"14"]),
    (("0", "-1"), [str(i).encode() for i in range(14, -1, -1)]),  # the whole: glibc's stable sort
])
def test_sort_alpha_by_ties_with_limit_follow_pqsort(any_r, limit, expected):
    any_r.lpush("l", *range(15))
    assert any_r.execute_command("SORT", "l", "BY", "nokey*", "LIMIT", *limit, "ALPHA") == expected


def test_sort_alpha_by_ties_desc_with_limit(any_r):
    any_r.lpush("l", *range(10))
    assert any_r.execute_command("SORT_RO", "l", "BY", "nokey*", "LIMIT", "1", "-1", "DESC", "ALPHA") == \
        [b"8", b"7", b"6", b"5", b"4", b"3", b"2", b"1", b"9"]


@pytest.mark.parametrize("op, sources", [("OR", ["a"]), ("NOT", ["a"]), ("AND", ["a", "a"])])
def test_bitop_result_is_raw(any_r, op, sources):
    any_r.set("a", b"\x00\x00\x01")
    any_r.execute_command("BITOP", op, "dest", *sources)
    assert any_r.object("encoding", "dest") == b"raw"


@pytest.mark.parametrize("value, offset, bit", [("foobar", 33, 1), ("5", 0, 0)])
def test_setbit_that_changes_nothing_still_unshares_the_string(any_r, value, offset, bit):
    any_r.set("k", value)
    assert any_r.setbit("k", offset, bit) == bit
    assert any_r.object("encoding", "k") == b"raw"
    assert any_r.get("k") == value.encode()


# Redis 7.0's DUMP of {Palermo: 1, a: 2} (a listpack sorted set, RDB type 17) and of the hash
# {Palermo: x, a: b} (a listpack hash, RDB type 16).
ZSET_LISTPACK = (b"\x11\x17\x17\x00\x00\x00\x04\x00\x87Palermo\x08\x01\x01\x81a\x02\x02\x01\xff\n\x00"
                 b"\x12\xe3\xf9wB\x84s$")
HASH_LISTPACK = b"\x10\x19\x19\x00\x00\x00\x04\x00\x87Palermo\x08\x81x\x02\x81a\x02\x81b\x02\xff\n\x00L\x00p<\xae\xbfYY"


@pytest.mark.parametrize("payload, directive, entries, encoding", [
    (ZSET_LISTPACK, "zset-max-listpack-value", None, b"listpack"),  # a long member stays
    (ZSET_LISTPACK, "zset-max-listpack-value", "zset-max-listpack-entries", b"skiplist"),
    (HASH_LISTPACK, "hash-max-listpack-value", None, b"listpack"),
    (HASH_LISTPACK, "hash-max-listpack-value", "hash-max-listpack-entries", b"hashtable"),
])
def test_restore_of_a_listpack_converts_by_length_only(any_r, payload, directive, entries, encoding):
    old = any_r.config_get(directive)[directive]
    old_entries = any_r.config_get(entries)[entries] if entries else None
    try:
        any_r.config_set(directive, 4)
        if entries:
            any_r.config_set(entries, 1)
        any_r.restore("k", 0, payload)
        assert any_r.object("encoding", "k") == encoding
    finally:
        any_r.config_set(directive, old)
        if entries:
            any_r.config_set(entries, old_entries)


def test_bitcount_empty_negative_range_wins_over_a_bad_unit(any_r):
    any_r.setbit("x", 10, 1)
    assert any_r.execute_command("BITCOUNT", "x", "-6", "-8", "-8") == 0
    with pytest.raises(redis.ResponseError, match="syntax error"):
        any_r.execute_command("BITCOUNT", "x", "0", "1", "-8")
