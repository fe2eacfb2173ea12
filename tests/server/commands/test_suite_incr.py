"""Redis 7.0's tests/unit/type/incr.tcl, ported to run on forkv and on Debian's redis-server alike
(`r` of _suite.py), one test per tcl block.

Skipped, and why: "INCR can modify objects in-place" (DEBUG OBJECT addresses: internals). The
shared-integer refcount block is kept as OBJECT REFCOUNT's visible answer.
"""

import pytest

from tests.server.commands._suite import assert_error, cmd, encoding, r  # noqa: F401


def test_incr_basics(r):
    assert r.incr("novar") == 1
    assert r.get("novar") == "1"
    assert r.incr("novar") == 2
    r.set("novar", 100)
    assert r.incr("novar") == 101
    r.set("novar", 17179869184)
    assert r.incr("novar") == 17179869185
    r.set("novar", 17179869184)
    assert r.incrby("novar", 17179869184) == 34359738368
    r.set("novar", 17179869184)
    assert r.decrby("novar", 17179869185) == -1
    assert r.decr("newvar") == -1


@pytest.mark.parametrize("value", ["    11", "11    ", "    11    ", "1\x002", "", "0x10", "1e3",
                                   "+1", "01", "-0", "9223372036854775808", "1.0"])
def test_incr_fails_against_non_canonical_integers(r, value):
    r.set("novar", value)
    for command in (("INCR", "novar"), ("DECR", "novar"), ("INCRBY", "novar", 1),
                    ("DECRBY", "novar", 1)):
        assert_error("ERR value is not an integer or out of range", r, *command)
    assert r.get("novar") == value


def test_incr_accepts_canonical_edge_values(r):
    r.set("n", "-9223372036854775807")
    assert r.decr("n") == -9223372036854775808
    assert_error("ERR increment or decrement would overflow", r, "DECR", "n")
    r.set("n", "9223372036854775807")
    assert_error("ERR increment or decrement would overflow", r, "INCR", "n")
    assert_error("ERR increment or decrement would overflow", r, "INCRBY", "n", 1)
    r.set("n", "-1")
    assert_error("ERR increment or decrement would overflow", r, "INCRBY", "n",
                 "-9223372036854775808")


def test_decrby_negation_overflow(r):
    r.set("x", 0)
    assert_error("ERR decrement would overflow", r, "DECRBY", "x", "-9223372036854775808")


def test_incr_bad_increment_arguments(r):
    for command in (("INCRBY", "x", "a"), ("INCRBY", "x", "1.5"), ("DECRBY", "x", " 1"),
                    ("INCRBY", "x", "9223372036854775808")):
        assert_error("ERR value is not an integer or out of range", r, *command)
    for command in (("INCRBYFLOAT", "x", "a"), ("INCRBYFLOAT", "x", "1.5x"),
                    ("INCRBYFLOAT", "x", "")):
        assert_error("ERR value is not a valid float", r, *command)
    assert r.exists("x") == 0


def test_incr_against_a_list(r):
    r.rpush("mylist", 1)
    assert_error("WRONGTYPE Operation against a key holding the wrong kind of value", r,
                 "INCR", "mylist")
    assert_error("WRONGTYPE Operation against a key holding the wrong kind of value", r,
                 "INCRBYFLOAT", "mylist", "1.0")
    assert r.lrange("mylist", 0, -1) == ["1"]


def test_incr_uses_shared_objects_in_the_0_9999_range(r):
    r.set("foo", -1)
    r.incr("foo")
    assert r.object("refcount", "foo") > 1
    r.set("foo", 9998)
    r.incr("foo")
    assert r.object("refcount", "foo") > 1
    r.incr("foo")
    assert r.object("refcount", "foo") == 1


def test_incr_updates_encoding_from_raw_to_int(r):
    r.set("foo", 1)
    assert encoding(r, "foo") == "int"
    r.append("foo", 2)
    assert encoding(r, "foo") == "raw"
    assert r.incr("foo") == 13
    assert encoding(r, "foo") == "int"
    r.set("foo", "12345678901234567890123")
    assert encoding(r, "foo") == "embstr"
    r.set("foo", 1)
    r.append("foo", 2)
    assert r.decr("foo") == 11
    assert encoding(r, "foo") == "int"


def test_incrbyfloat(r):
    assert cmd(r, "INCRBYFLOAT", "novar", 1) == "1"
    assert r.get("novar") == "1"
    assert cmd(r, "INCRBYFLOAT", "novar", 0.25) == "1.25"
    assert r.get("novar") == "1.25"
    r.set("novar", 1.5)
    assert cmd(r, "INCRBYFLOAT", "novar", 1.5) == "3"
    r.set("novar", 17179869184)
    assert cmd(r, "INCRBYFLOAT", "novar", 1.5) == "17179869185.5"
    r.set("novar", 17179869184)
    assert cmd(r, "INCRBYFLOAT", "novar", 17179869184) == "34359738368"
    r.set("foo", 1)
    assert cmd(r, "INCRBYFLOAT", "foo", -1.1) == "-0.1"
    assert cmd(r, "INCRBYFLOAT", "big", "1e17") == "100000000000000000"
    assert cmd(r, "INCRBYFLOAT", "small", "5.0e-3") == "0.005"
    assert cmd(r, "INCRBYFLOAT", "hex", "0x10") == "16"


def test_incrbyfloat_result_is_a_string_object(r):
    r.set("novar", 17179869184)
    r.incrbyfloat("novar", 17179869184)
    assert encoding(r, "novar") == "embstr"


@pytest.mark.parametrize("value", ["    11", "11    ", " 11 ", "1\x002", "abc", ""])
def test_incrbyfloat_fails_against_non_floats(r, value):
    r.set("novar", value)
    assert_error("ERR value is not a valid float", r, "INCRBYFLOAT", "novar", "1.0")


def test_incrbyfloat_does_not_allow_nan_or_infinity(r):
    r.set("foo", 0)
    assert_error("ERR increment would produce NaN or Infinity", r, "INCRBYFLOAT", "foo", "+inf")


def test_string_to_double_with_null_terminator(r):
    r.set("foo", 1)
    r.setrange("foo", 2, 2)
    assert_error("ERR value is not a valid float", r, "INCRBYFLOAT", "foo", 1)


def test_no_negative_zero(r):
    r.incrbyfloat("foo", 1 / 41)
    r.incrbyfloat("foo", -1 / 41)
    assert r.get("foo") == "0"


def test_incr_family_arity(r):
    assert_error("ERR wrong number of arguments for 'incr' command", r, "INCR")
    assert_error("ERR wrong number of arguments for 'incrby' command", r, "INCRBY", "x")
    assert_error("ERR wrong number of arguments for 'incrbyfloat' command", r, "INCRBYFLOAT", "x",
                 1, 2)
