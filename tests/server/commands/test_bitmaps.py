"""Bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO.

Each subtle case runs against forkv and Debian's redis-server (`any_r`); a seeded random
comparison of both servers covers the range arithmetic more widely than hand-written cases can.
A few tests drive the handlers without sockets to check in-place mutation and write counting."""

import random

import pytest
import redis
import redis.asyncio

from server.app import Server
from server.client import Client
from server.config import Config
from server.dispatch import execute
from tests.server.commands._replies import err, make_list, raw

LLONG_MAX = 2**63 - 1
LLONG_MIN = -(2**63)
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
BIT_OFFSET = "bit offset is not an integer or out of range"
BIT_VALUE = "bit is not an integer or out of range"
NOT_INTEGER = "value is not an integer or out of range"
BAD_TYPE = ("Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported "
            "but i64 is.")


def same_reply(both, *args):
    replies = []
    for client in both:
        try:
            replies.append(raw(client, *args))
        except redis.ResponseError as exc:
            replies.append(("error", str(exc)))
    assert replies[0] == replies[1], args
    return replies[0]


# -- SETBIT / GETBIT ------------------------------------------------------------------------------

def test_setbit_getbit(any_r):
    assert any_r.setbit("k", 7, 1) == 0
    assert any_r.get("k") == b"\x01"
    assert any_r.setbit("k", 7, 1) == 1
    assert any_r.setbit("k", 0, 1) == 0
    assert any_r.get("k") == b"\x81"
    assert any_r.setbit("k", 7, 0) == 1
    assert any_r.get("k") == b"\x80"
    assert any_r.setbit("k", 100, 1) == 0
    assert any_r.strlen("k") == 13
    assert any_r.getbit("k", 100) == 1
    assert any_r.getbit("k", 101) == 0
    assert any_r.getbit("k", 0) == 1
    assert any_r.getbit("k", 10**6) == 0
    assert any_r.getbit("missing", 5) == 0
    assert any_r.setbit("z", 20, 0) == 0  # clearing a bit still creates the string
    assert any_r.get("z") == b"\x00\x00\x00"


def test_setbit_on_existing_string_keeps_ttl(any_r):
    any_r.set("k", "`", ex=100)  # 0b01100000
    assert any_r.setbit("k", 1, 0) == 1
    assert any_r.setbit("k", 7, 1) == 0
    assert any_r.get("k") == b"!"
    assert 99 <= any_r.ttl("k") <= 100
    assert any_r.append("k", "x") == 2
    assert any_r.setbit("k", 15, 1) == 0
    assert any_r.get("k") == b"!y"
    any_r.set("n", 10)
    assert any_r.getbit("n", 2) == 1 and any_r.getbit("n", 3) == 1  # "1" is 0b00110001


@pytest.mark.parametrize("offset", ["-1", "4294967296", "abc", "1.5", "", " 1", "#1",
                                    "18446744073709551616"])
def test_bit_offset_errors(any_r, offset):
    assert err(any_r, "SETBIT", "k", offset, "1") == BIT_OFFSET
    assert err(any_r, "GETBIT", "k", offset) == BIT_OFFSET
    assert any_r.exists("k") == 0


@pytest.mark.parametrize("value", ["2", "-1", "abc", "", "01", "1.0", "9223372036854775808"])
def test_setbit_value_errors(any_r, value):
    assert err(any_r, "SETBIT", "k", "0", value) == BIT_VALUE
    assert any_r.exists("k") == 0


def test_setbit_argument_errors_come_before_the_type_check(any_r):
    make_list(any_r, "l")
    assert err(any_r, "SETBIT", "l", "x", "1") == BIT_OFFSET
    assert err(any_r, "SETBIT", "l", "0", "2") == BIT_VALUE
    assert err(any_r, "SETBIT", "l", "0", "1") == WRONGTYPE
    assert err(any_r, "GETBIT", "l", "x") == BIT_OFFSET
    assert err(any_r, "GETBIT", "l", "0") == WRONGTYPE


def test_last_valid_offset(any_r, small_bulk_len):
    # The limit follows proto-max-bulk-len: with 1MB, bit 8*1MB-1 is the last one.
    last = small_bulk_len * 8 - 1
    assert any_r.setbit("k", last, 1) == 0
    assert any_r.strlen("k") == small_bulk_len
    assert any_r.getbit("k", last) == 1
    assert err(any_r, "SETBIT", "k", last + 1, "1") == BIT_OFFSET
    assert err(any_r, "GETBIT", "k", last + 1) == BIT_OFFSET


# -- BITCOUNT --------------------------------------------------------------------------------------

def test_bitcount(any_r):
    any_r.set("k", "foobar")
    assert any_r.bitcount("k") == 26
    assert raw(any_r, "BITCOUNT", "k", "0", "0") == 4
    assert raw(any_r, "BITCOUNT", "k", "1", "1") == 6
    assert raw(any_r, "BITCOUNT", "k", "1", "1", "BYTE") == 6
    assert raw(any_r, "BITCOUNT", "k", "1", "1", "bit") == 1
    assert raw(any_r, "BITCOUNT", "k", "5", "30", "BIT") == 17
    assert raw(any_r, "BITCOUNT", "k", "-5", "-1", "BIT") == 2
    assert raw(any_r, "BITCOUNT", "k", "0", "-1", "BIT") == 26
    assert raw(any_r, "BITCOUNT", "k", "-1", "-2") == 0
    assert raw(any_r, "BITCOUNT", "k", "-100", "-1") == 26
    assert raw(any_r, "BITCOUNT", "k", "2", "1") == 0
    assert raw(any_r, "BITCOUNT", "k", "0", str(LLONG_MAX)) == 26
    assert raw(any_r, "BITCOUNT", "k", str(LLONG_MIN), "0") == 4
    assert any_r.bitcount("missing") == 0
    any_r.set("e", "")
    assert any_r.bitcount("e") == 0
    assert raw(any_r, "BITCOUNT", "e", "0", "-1") == 0


def test_bitcount_errors(any_r):
    any_r.set("k", "foobar")
    assert err(any_r, "BITCOUNT", "k", "1") == "syntax error"
    assert err(any_r, "BITCOUNT", "k", "1", "1", "bits") == "syntax error"
    assert err(any_r, "BITCOUNT", "k", "1", "1", "BIT", "x") == "syntax error"
    assert err(any_r, "BITCOUNT", "k", "a", "1") == NOT_INTEGER
    assert err(any_r, "BITCOUNT", "k", "1", "a") == NOT_INTEGER
    # A missing key answers 0 before its arguments are even looked at.
    assert raw(any_r, "BITCOUNT", "missing", "a", "b") == 0
    assert raw(any_r, "BITCOUNT", "missing", "1") == 0
    make_list(any_r, "l")
    assert err(any_r, "BITCOUNT", "l", "a") == WRONGTYPE


# -- BITPOS ----------------------------------------------------------------------------------------

def test_bitpos(any_r):
    any_r.set("k", b"\xff\xf0\x00")
    assert any_r.bitpos("k", 0) == 12
    assert any_r.bitpos("k", 1) == 0
    assert raw(any_r, "BITPOS", "k", "1", "2") == -1
    assert raw(any_r, "BITPOS", "k", "0", "2") == 16
    assert raw(any_r, "BITPOS", "k", "1", "1", "-1") == 8
    assert raw(any_r, "BITPOS", "k", "1", "7", "15", "BIT") == 7
    assert raw(any_r, "BITPOS", "k", "0", "7", "15", "BIT") == 12
    assert raw(any_r, "BITPOS", "k", "1", "12", "-1", "bit") == -1
    assert raw(any_r, "BITPOS", "k", "0", "-3", "-1", "byte") == 12
    assert raw(any_r, "BITPOS", "k", "1", "5", "1") == -1
    assert raw(any_r, "BITPOS", "k", "1", "100") == -1


def test_bitpos_clear_bit_rules(any_r):
    any_r.set("ff", b"\xff\xff\xff")
    # No end given: the string counts as followed by zeros.
    assert any_r.bitpos("ff", 0) == 24
    assert raw(any_r, "BITPOS", "ff", "0", "1") == 24
    # An explicit end: no clear bit inside the range is -1.
    assert raw(any_r, "BITPOS", "ff", "0", "0", "-1") == -1
    assert raw(any_r, "BITPOS", "ff", "0", "0", "-1", "BIT") == -1
    assert raw(any_r, "BITPOS", "ff", "0", "3") == -1  # start past the end: empty range
    any_r.set("e", "")
    assert any_r.bitpos("e", 0) == -1
    assert any_r.bitpos("e", 1) == -1


def test_bitpos_missing_key_and_errors(any_r):
    assert any_r.bitpos("missing", 0) == 0
    assert any_r.bitpos("missing", 1) == -1
    assert raw(any_r, "BITPOS", "missing", "1", "a", "b") == -1
    assert err(any_r, "BITPOS", "missing", "2") == "The bit argument must be 1 or 0."
    assert err(any_r, "BITPOS", "missing", "x") == NOT_INTEGER
    any_r.set("k", "foobar")
    assert err(any_r, "BITPOS", "k", "1", "a") == NOT_INTEGER
    assert err(any_r, "BITPOS", "k", "1", "0", "a") == NOT_INTEGER
    assert err(any_r, "BITPOS", "k", "1", "0", "-1", "foo") == "syntax error"
    assert err(any_r, "BITPOS", "k", "1", "0", "a", "foo") == "syntax error"
    assert err(any_r, "BITPOS", "k", "1", "0", "-1", "BIT", "5") == "syntax error"
    make_list(any_r, "l")
    assert err(any_r, "BITPOS", "l", "2") == "The bit argument must be 1 or 0."
    assert err(any_r, "BITPOS", "l", "1") == WRONGTYPE


def test_ranges_same_as_redis(both):
    """BITCOUNT, BITPOS and GETRANGE over random values and ranges, compared with Redis."""
    rng = random.Random(11)
    for _ in range(600):
        size = rng.choice([0, 1, 2, 3, 5, 9])
        value = bytes(rng.choice([0, 255, rng.randrange(256)]) for _ in range(size))
        for client in both:
            client.set("k", value)
        bounds = [str(rng.choice([0, 1, -1, 2, -2, 7, 8, 9, -8, -9, 15, 16, 40, -40,
                                  rng.randint(-80, 80)])) for _ in range(2)]
        unit = rng.choice([[], ["BIT"], ["BYTE"]])
        same_reply(both, "BITCOUNT", "k", *bounds, *unit)
        bit = rng.choice("01")
        args = ["BITPOS", "k", bit, *bounds][:rng.randint(3, 5)]
        if len(args) == 5:
            args += unit
        same_reply(both, *args)
        same_reply(both, "GETRANGE", "k", *bounds)


# -- BITOP -----------------------------------------------------------------------------------------

def test_bitop(any_r):
    any_r.mset({"a": b"\xf0\x0f\xaa", "b": b"\xff\x00"})
    assert any_r.bitop("AND", "d", "a", "b") == 3
    assert any_r.get("d") == b"\xf0\x00\x00"
    assert any_r.bitop("or", "d", "a", "b") == 3
    assert any_r.get("d") == b"\xff\x0f\xaa"
    assert any_r.bitop("XOR", "d", "a", "b") == 3
    assert any_r.get("d") == b"\x0f\x0f\xaa"
    assert any_r.bitop("NOT", "d", "a") == 3
    assert any_r.get("d") == b"\x0f\xf0\x55"
    assert any_r.bitop("AND", "d", "a", "missing") == 3
    assert any_r.get("d") == b"\x00\x00\x00"
    assert any_r.bitop("OR", "d", "a") == 3
    assert any_r.get("d") == b"\xf0\x0f\xaa"
    # The destination may be a source, and loses its TTL.
    any_r.expire("a", 100)
    assert any_r.bitop("XOR", "a", "a", "b", "b") == 3
    assert any_r.get("a") == b"\xf0\x0f\xaa"
    assert any_r.ttl("a") == -1


def test_bitop_empty_result_deletes_destination(any_r):
    any_r.set("d", "x")
    assert any_r.bitop("OR", "d", "nope1", "nope2") == 0
    assert any_r.exists("d") == 0
    any_r.set("e", "")
    any_r.set("d", "x")
    assert any_r.bitop("NOT", "d", "e") == 0
    assert any_r.exists("d") == 0


def test_bitop_errors(any_r):
    any_r.set("a", "x")
    assert err(any_r, "BITOP", "NOT", "d", "a", "a") == \
        "BITOP NOT must be called with a single source key."
    assert err(any_r, "BITOP", "NAND", "d", "a") == "syntax error"
    assert err(any_r, "BITOP", "AND", "d") == "wrong number of arguments for 'bitop' command"
    make_list(any_r, "l")
    assert err(any_r, "BITOP", "AND", "d", "a", "l") == WRONGTYPE
    assert err(any_r, "BITOP", "NOT", "d", "l") == WRONGTYPE
    assert any_r.exists("d") == 0


# -- BITFIELD --------------------------------------------------------------------------------------

def test_bitfield_get_set_incrby(any_r):
    assert raw(any_r, "BITFIELD", "k", "SET", "i8", "0", "100", "GET", "i8", "0") == [0, 100]
    assert raw(any_r, "BITFIELD", "k", "INCRBY", "i8", "0", "100") == [-56]
    assert raw(any_r, "BITFIELD", "k", "GET", "u8", "0") == [200]
    assert raw(any_r, "BITFIELD", "k", "SET", "u4", "#1", "15", "GET", "u8", "0",
               "GET", "u4", "4", "GET", "i4", "#1") == [8, 207, 15, -1]
    assert raw(any_r, "BITFIELD", "k", "GET", "i5", "3", "GET", "u3", "13") == [15, 0]
    assert raw(any_r, "BITFIELD", "k", "GET", "u16", "100") == [0]
    assert any_r.strlen("k") == 1
    assert raw(any_r, "BITFIELD", "k", "SET", "u1", "20", "1") == [0]
    assert any_r.get("k") == b"\xcf\x00\x08"
    assert raw(any_r, "BITFIELD", "k") == []
    assert raw(any_r, "bitfield", "k", "get", "u8", "0", "incrby", "i8", "0", "1") == [207, -48]


def test_bitfield_widths(any_r):
    assert raw(any_r, "BITFIELD", "k", "SET", "i64", "0", str(LLONG_MIN), "GET", "i64", "0",
               "GET", "u63", "0", "GET", "u63", "1") == [0, LLONG_MIN, 2**62, 0]
    assert raw(any_r, "BITFIELD", "k", "SET", "u63", "3", str(LLONG_MAX),
               "GET", "u63", "3") == [0, LLONG_MAX]
    assert raw(any_r, "BITFIELD", "k", "SET", "i1", "0", "-1", "GET", "u1", "0",
               "GET", "i1", "0") == [-1, 1, -1]


def test_bitfield_overflow_modes(any_r):
    assert raw(any_r, "BITFIELD", "k", "SET", "u8", "0", "250",
               "INCRBY", "u8", "0", "10") == [0, 4]  # WRAP by default
    assert raw(any_r, "BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "300",
               "INCRBY", "u8", "0", "-300") == [255, 0]
    assert raw(any_r, "BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "256",
               "INCRBY", "u8", "0", "-1", "INCRBY", "u8", "0", "255") == [None, None, 255]
    assert raw(any_r, "BITFIELD", "k", "overflow", "fail", "SET", "u8", "0", "256",
               "OVERFLOW", "wrap", "SET", "u8", "0", "257", "GET", "u8", "0") == [None, 255, 1]
    assert raw(any_r, "BITFIELD", "s", "OVERFLOW", "SAT", "SET", "i8", "0", "200",
               "SET", "i8", "0", "-200", "INCRBY", "i8", "0", "-1000", "GET", "i8", "0") == \
        [0, 127, -128, -128]
    assert raw(any_r, "BITFIELD", "s", "OVERFLOW", "WRAP", "SET", "i8", "0", "200",
               "INCRBY", "i8", "0", "-200") == [-128, 0]
    assert raw(any_r, "BITFIELD", "w", "SET", "i64", "0", str(LLONG_MAX),
               "INCRBY", "i64", "0", "1", "OVERFLOW", "SAT", "INCRBY", "i64", "0", "-1",
               "OVERFLOW", "FAIL", "INCRBY", "i64", "0", "-1") == \
        [0, LLONG_MIN, LLONG_MIN, None]
    assert raw(any_r, "BITFIELD", "w", "SET", "u63", "0", str(LLONG_MAX),
               "OVERFLOW", "SAT", "INCRBY", "u63", "0", "1", "OVERFLOW", "WRAP",
               "INCRBY", "u63", "0", "1") == [2**62, LLONG_MAX, 0]


def test_bitfield_set_negative_into_unsigned(any_r):
    # SET reads its value as a 64-bit integer: -5 is 2**64-5, above any unsigned maximum.
    assert raw(any_r, "BITFIELD", "k", "OVERFLOW", "SAT", "SET", "u8", "0", "-5",
               "GET", "u8", "0") == [0, 255]
    assert raw(any_r, "BITFIELD", "k", "OVERFLOW", "WRAP", "SET", "u8", "0", "-5",
               "GET", "u8", "0") == [255, 251]
    assert raw(any_r, "BITFIELD", "k", "OVERFLOW", "FAIL", "SET", "u8", "0", "-5",
               "GET", "u8", "0") == [None, 251]


def test_bitfield_sat_quirk_near_llong_min(any_r):
    # Redis computes the room left with 64-bit wrapping: a SET of a value within 2**bits of
    # -2**63 counts as overflowing upwards, so SAT stores the field's maximum.
    assert raw(any_r, "BITFIELD", "k", "OVERFLOW", "SAT", "SET", "i8", "0", str(LLONG_MIN),
               "GET", "i8", "0", "SET", "i8", "0", str(LLONG_MIN + 200),
               "GET", "i8", "0") == [0, 127, 127, -128]


def test_bitfield_failed_writes_still_create_the_key(any_r):
    assert raw(any_r, "BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u2", "100", "10") == [None]
    assert any_r.get("k") == b"\x00" * 13
    assert raw(any_r, "BITFIELD", "r", "GET", "u8", "1000") == [0]
    assert any_r.exists("r") == 0


def test_bitfield_offsets(any_r):
    assert raw(any_r, "BITFIELD", "k", "SET", "u8", "#2", "255", "GET", "u8", "16") == [0, 255]
    assert raw(any_r, "BITFIELD", "k", "GET", "u8", "4294967288") == [0]
    assert err(any_r, "BITFIELD", "k", "GET", "u8", "4294967296") == BIT_OFFSET
    assert raw(any_r, "BITFIELD", "k", "GET", "u8", "#536870911") == [0]
    assert err(any_r, "BITFIELD", "k", "GET", "u8", "#536870912") == BIT_OFFSET
    assert err(any_r, "BITFIELD", "k", "GET", "u8", "-1") == BIT_OFFSET
    assert err(any_r, "BITFIELD", "k", "GET", "u8", "#-1") == BIT_OFFSET
    assert err(any_r, "BITFIELD", "k", "GET", "u8", "#") == BIT_OFFSET
    assert err(any_r, "BITFIELD", "k", "GET", "u8", "##1") == BIT_OFFSET
    assert err(any_r, "BITFIELD", "k", "GET", "u8", "1.5") == BIT_OFFSET


@pytest.mark.parametrize("args, error", [
    (("GET", "u64", "0"), BAD_TYPE),
    (("GET", "i65", "0"), BAD_TYPE),
    (("GET", "i0", "0"), BAD_TYPE),
    (("GET", "u0", "0"), BAD_TYPE),
    (("GET", "x8", "0"), BAD_TYPE),
    (("GET", "U8", "0"), BAD_TYPE),  # the type is case-sensitive
    (("GET", "I8", "0"), BAD_TYPE),
    (("GET", "i08", "0"), BAD_TYPE),
    (("GET", "i", "0"), BAD_TYPE),
    (("GET", "8", "0"), BAD_TYPE),
    (("SET", "i-8", "0", "1"), BAD_TYPE),
    (("GET",), "syntax error"),
    (("GET", "i8"), "syntax error"),
    (("SET", "i8", "0"), "syntax error"),
    (("INCRBY", "i8", "0"), "syntax error"),
    (("FOO", "i8", "0"), "syntax error"),
    (("OVERFLOW",), "syntax error"),
    (("OVERFLOW", "FOO"), "Invalid OVERFLOW type specified"),
    (("SET", "i8", "0", "x"), NOT_INTEGER),
    (("INCRBY", "i8", "0", "1.5"), NOT_INTEGER),
    (("SET", "i8", "0", "9223372036854775808"), NOT_INTEGER),
    (("GET", "i8", "0", "SET", "u64", "0", "1"), BAD_TYPE),
])
def test_bitfield_errors(any_r, args, error):
    assert err(any_r, "BITFIELD", "k", *args) == error
    assert any_r.exists("k") == 0


def test_bitfield_ro(any_r):
    any_r.set("k", b"\x80\xff")
    assert raw(any_r, "BITFIELD_RO", "k", "GET", "u8", "0", "GET", "i8", "#1") == [128, -1]
    assert raw(any_r, "BITFIELD_RO", "k") == []
    assert raw(any_r, "BITFIELD_RO", "missing", "GET", "u8", "100") == [0]
    assert err(any_r, "BITFIELD_RO", "k", "SET", "u8", "0", "1") == \
        "BITFIELD_RO only supports the GET subcommand"
    assert err(any_r, "BITFIELD_RO", "k", "GET", "u8", "0", "INCRBY", "u8", "0", "1") == \
        "BITFIELD_RO only supports the GET subcommand"
    # Arguments are parsed before the read-only check, so their errors come first.
    assert err(any_r, "BITFIELD_RO", "k", "SET", "x8", "0", "1") == BAD_TYPE
    assert raw(any_r, "BITFIELD_RO", "k", "GET", "u8", "0", "OVERFLOW", "SAT") == [128]
    assert any_r.get("k") == b"\x80\xff"


def test_bitfield_wrongtype(any_r):
    make_list(any_r, "l")
    assert err(any_r, "BITFIELD", "l", "GET", "u8", "0") == WRONGTYPE
    assert err(any_r, "BITFIELD", "l", "SET", "u8", "0", "1") == WRONGTYPE
    assert err(any_r, "BITFIELD_RO", "l", "GET", "u8", "0") == WRONGTYPE
    assert err(any_r, "BITFIELD", "l", "GET", "u64", "0") == BAD_TYPE
    assert err(any_r, "BITFIELD", "l") == WRONGTYPE  # even with no operation


def test_bitfield_same_as_redis(both):
    """Random BITFIELD programs on random values give the same replies and the same string."""
    rng = random.Random(3)
    for _ in range(400):
        value = bytes(rng.choice([0, 255, rng.randrange(256)]) for _ in range(rng.randint(0, 6)))
        for client in both:
            client.set("k", value)
        args = ["BITFIELD", "k"]
        for _ in range(rng.randint(1, 4)):
            field = rng.choice("iu") + str(rng.randint(1, 64))
            offset = rng.choice(["#", ""]) + str(rng.randint(0, 60))
            number = str(rng.choice([rng.randint(-300, 300), rng.randint(LLONG_MIN, LLONG_MAX),
                                     LLONG_MAX, LLONG_MIN, LLONG_MIN + rng.randint(0, 300)]))
            op = rng.choice(["GET", "SET", "INCRBY", "OVERFLOW"])
            if op == "GET":
                args += ["GET", field, offset]
            elif op == "OVERFLOW":
                args += ["OVERFLOW", rng.choice(["WRAP", "SAT", "FAIL"])]
            else:
                args += [op, field, offset, number]
        same_reply(both, *args)
        same_reply(both, "GET", "k")


# -- RESP2, asyncio ---------------------------------------------------------------------------------

def test_resp2_replies(any_server):
    r2 = redis.Redis(port=any_server.port, protocol=2)
    try:
        r2.flushall()
        assert raw(r2, "BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "300",
                   "GET", "u8", "0") == [None, 0]
        assert raw(r2, "SETBIT", "k", "3", "1") == 0
        assert raw(r2, "BITPOS", "k", "1") == 3
        assert raw(r2, "BITCOUNT", "k") == 1
    finally:
        r2.close()


async def test_asyncio_client(forkv_server):
    client = redis.asyncio.Redis(port=forkv_server.port)
    try:
        await client.flushall()
        assert await client.setbit("b", 9, 1) == 0
        assert await client.getbit("b", 9) == 1
        assert await client.bitcount("b") == 1
        assert await client.bitpos("b", 1) == 9
        assert await client.bitop("NOT", "n", "b") == 2
        assert await client.get("n") == b"\xff\xbf"
        bf = client.bitfield("c")
        assert await bf.set("u8", 0, 200).incrby("u8", 0, 100).execute() == [0, 44]
    finally:
        await client.aclose()


# -- without sockets: in-place mutation, write counting --------------------------------------------

class Harness:
    def __init__(self):
        self.server = Server(Config())
        self.client = Client(self.server)
        self.db = self.server.keyspace.dbs[0]

    def call(self, *args) -> bytes:
        out = []
        execute(self.client, [a if isinstance(a, bytes) else str(a).encode() for a in args], out)
        return b"".join(out)

    @property
    def dirty(self) -> int:
        return self.server.keyspace.dirty


def test_setbit_mutates_one_bytearray_in_place():
    h = Harness()
    h.call("SET", "k", b"\x00" * 1000)
    h.call("SETBIT", "k", 5, 1)
    buf = h.db.data["k"]
    assert type(buf) is bytearray
    for offset in range(0, 8000, 97):
        h.call("SETBIT", "k", offset, 1)
    h.call("SETBIT", "k", 9000, 1)  # growing keeps the same object too
    h.call("BITFIELD", "k", "INCRBY", "u16", "#3", 1000)
    assert h.db.data["k"] is buf
    assert len(buf) == 1126 and buf[1125] == 0x80


def test_setbit_write_counting():
    h = Harness()
    h.call("SET", "k", b"\x80")
    dirty = h.dirty
    assert h.call("SETBIT", "k", 0, 1) == b":1\r\n"  # unchanged: no write
    assert h.dirty == dirty
    h.call("SETBIT", "k", 1, 1)
    h.call("SETBIT", "k", 1, 0)
    h.call("SETBIT", "k", 20, 0)  # grows the string: a write even though the bit stays 0
    assert h.dirty == dirty + 3
    h.call("BITFIELD", "k", "SET", "u8", 0, 1, "INCRBY", "u8", 0, 1, "GET", "u8", 0)
    assert h.dirty == dirty + 5
    h.call("BITFIELD", "new", "SET", "u8", 0, 1, "SET", "u8", 8, 1)
    assert h.dirty == dirty + 7


def test_setbit_inside_exec_does_not_change_earlier_replies():
    h = Harness()
    h.call("SETBIT", "k", 0, 1)
    h.call("MULTI")
    h.call("GET", "k")
    h.call("SETBIT", "k", 7, 1)
    h.call("GET", "k")
    assert h.call("EXEC") == b"*3\r\n$1\r\n\x80\r\n:0\r\n$1\r\n\x81\r\n"
