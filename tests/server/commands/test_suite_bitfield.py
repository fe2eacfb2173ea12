"""Redis's tests/unit/bitfield.tcl (BITFIELD, BITFIELD_RO), ported to run on forkv and on Debian's
redis-server alike (`r` of _suite.py), one test per tcl block.

Skipped, and why: the blocks run against a read-only replica (need a replica; BITFIELD_RO's
refusal of writes is checked on the master). The fuzzing loops are scaled down (1000 -> 300 cases
each, pipelined).
"""

import random

import pytest

from tests.server.commands._suite import assert_error, r  # noqa: F401
from tests.server.commands._suite_raw import same


def bf(r, *args):
    return r.execute_command("BITFIELD", "bits", *args)


def test_signed_set_and_get(r):
    assert [bf(r, "SET", "i8", 0, -100), bf(r, "SET", "i8", 0, 101), bf(r, "GET", "i8", 0)] == [[0], [-100], [101]]


def test_unsigned_set_and_get(r):
    assert [bf(r, "SET", "u8", 0, 255), bf(r, "SET", "u8", 0, 100), bf(r, "GET", "u8", 0)] == [[0], [255], [100]]


def test_hash_index_form(r):
    for i, v in enumerate((65, 66, 67)):
        bf(r, "SET", "u8", f"#{i}", v)
    assert r.get("bits") == "ABC"


def test_basic_incrby(r):
    bf(r, "SET", "u8", "#0", 10)
    assert [bf(r, "INCRBY", "u8", "#0", 100), bf(r, "INCRBY", "u8", "#0", 100)] == [[110], [210]]


def test_chaining(r):
    bf(r, "SET", "u8", "#0", 10)
    assert bf(r, "INCRBY", "u8", "#0", 100, "INCRBY", "u8", "#0", 100) == [110, 210]


@pytest.mark.parametrize("kind,set_type,mode,incrs,expected", [
    ("unsigned wrap", "u8", "WRAP", (257, 255), [101, 101, 100, 100]),
    ("unsigned sat", "u8", "SAT", (257, -255), [255, 255, 0, 0]),
    ("signed wrap", "i8", "WRAP", (257, 255), [101, 101, 100, 100]),
    ("signed sat", "u8", "SAT", (257, -255), [127, 127, -128, -128]),
])
def test_overflow_modes(r, kind, set_type, mode, incrs, expected):
    field = "i8" if kind.startswith("signed") else "u8"
    bf(r, "SET", set_type, "#0", 100)
    got = []
    for incr in incrs:
        got += bf(r, "OVERFLOW", mode, "INCRBY", field, "#0", incr)
        got += bf(r, "GET", field, "#0")
    assert got == expected


def _cases(seed, n):
    rng = random.Random(seed)
    for _ in range(n):
        bits = rng.randrange(64) + 1
        sign = 1 if bits == 64 else rng.randrange(2)  # u64 is not supported
        span = 2 ** bits
        lo = -(span // 2) if sign else 0
        hi = lo + span - 1
        clamp = lambda v: max(-2 ** 63, min(2 ** 63 - 1, v))  # noqa: E731
        value = clamp(lo * 2 + rng.randrange(span * 2))
        incr = clamp(lo * 2 + rng.randrange(span * 2))
        yield ("i" if sign else "u") + str(bits), sign, lo, hi, span, value, incr


def test_overflow_detection_fuzzing(r):
    cases = list(_cases(7, 300))
    pipe = r.pipeline(transaction=False)
    for type_, _s, _lo, _hi, _sp, value, incr in cases:
        pipe.delete("bits")
        pipe.execute_command("BITFIELD", "bits", "OVERFLOW", "FAIL", "SET", type_, 0, value)
        pipe.execute_command("BITFIELD", "bits", "OVERFLOW", "FAIL", "INCRBY", type_, 0, incr)
    out = pipe.execute()
    for i, (type_, _s, lo, hi, _sp, value, incr) in enumerate(cases):
        res1, res2 = out[3 * i + 1][0], out[3 * i + 2][0]
        overflow = not (lo <= value <= hi) or not (lo <= value + incr <= hi)
        if overflow:
            assert res1 is None or res2 is None, f"overflow not detected: {type_} {value}+{incr}"
        else:
            assert res1 is not None and res2 is not None, f"overflow wrongly detected: {type_} {value}+{incr}"


def test_overflow_wrap_fuzzing(r):
    cases = list(_cases(8, 300))
    pipe = r.pipeline(transaction=False)
    for type_, _s, _lo, _hi, _sp, value, incr in cases:
        pipe.delete("bits")
        pipe.execute_command("BITFIELD", "bits", "OVERFLOW", "WRAP", "SET", type_, 0, value)
        pipe.execute_command("BITFIELD", "bits", "OVERFLOW", "WRAP", "INCRBY", type_, 0, incr)
        pipe.execute_command("BITFIELD", "bits", "GET", type_, 0)
    out = pipe.execute()
    for i, (type_, sign, lo, hi, span, value, incr) in enumerate(cases):
        expected = ((hi + 1 if sign else 0) + value + incr) % span + (lo if sign else 0)
        assert out[4 * i + 3][0] == expected, f"{type_} {value}+{incr}"


def test_regression_3221(r):
    r.set("bits", 1)
    assert bf(r, "GET", "u1", 0) == [0]


def test_regression_3564(r):
    for _ in range(10):
        r.delete("mystring")
        assert r.execute_command("BITFIELD", "mystring", "SET", "i8", 0, 10, "SET", "i8", 64, 10,
                                 "INCRBY", "i8", 10, 99900) == [0, 0, 60]


def test_bitfield_ro_with_only_key(r):
    assert r.execute_command("BITFIELD_RO", "bits") == []
    assert r.execute_command("BITFIELD", "bits") == []
    assert r.exists("bits") == 0


def test_bitfield_ro_refuses_writes(r):
    assert_error("ERR BITFIELD_RO only supports the GET subcommand", r,
                 "BITFIELD_RO", "bits", "SET", "u8", 0, 255)
    assert_error("ERR BITFIELD_RO only supports the GET subcommand", r,
                 "BITFIELD_RO", "bits", "GET", "u8", 0, "INCRBY", "u8", 0, 1)
    assert r.execute_command("BITFIELD_RO", "bits", "GET", "u8", 0) == [0]


def test_bitfield_errors(forkv_server, redis_server):
    same(forkv_server, redis_server, [
        "BITFIELD bits GET u64 0", "BITFIELD bits GET i65 0", "BITFIELD bits GET i0 0",
        "BITFIELD bits GET x8 0", "BITFIELD bits GET u8 -1", "BITFIELD bits GET u8 #-1",
        "BITFIELD bits GET u8 4294967296", "BITFIELD bits SET u8 0 notanint",
        "BITFIELD bits OVERFLOW NOPE GET u8 0", "BITFIELD bits FOO u8 0", "BITFIELD bits GET u8",
        "BITFIELD bits SET u8 0", "BITFIELD bits OVERFLOW", "EXISTS bits",
        "BITFIELD bits OVERFLOW FAIL INCRBY u2 0 5 GET u2 0", "GET bits",
        "SET bits abc", "BITFIELD bits GET u8 0 GET i4 4 GET u16 #1 GET i63 0",
        "BITFIELD bits SET u8 #100 1", "STRLEN bits", "LPUSH l a", "BITFIELD l GET u8 0",
        "BITFIELD_RO l GET u8 0", "BITFIELD_RO nokey GET u8 0",
    ])


def test_random_bitfield_calls_match_redis(forkv_server, redis_server):
    """Random chains of GET/SET/INCRBY/OVERFLOW on random field types, byte for byte."""
    rng = random.Random(12)
    lines = []
    for _ in range(150):
        args = ["BITFIELD", "bits"]
        for _ in range(rng.randrange(1, 5)):
            if rng.randrange(4) == 0:
                args += ["OVERFLOW", rng.choice(["WRAP", "SAT", "FAIL", "wrap", "sat", "fail"])]
            signed = rng.randrange(2)
            bits = rng.randrange(1, 65 if signed else 64)
            t = ("i" if signed else "u") + str(bits)
            off = rng.choice([str(rng.randrange(0, 100)), "#" + str(rng.randrange(0, 10))])
            op = rng.choice(["GET", "SET", "INCRBY"])
            if op == "GET":
                args += ["GET", t, off]
            else:
                v = rng.choice([rng.randrange(-2 ** 63, 2 ** 63), rng.randrange(-300, 300),
                                2 ** bits, -(2 ** (bits - 1)) - 1, 2 ** 63 - 1, -(2 ** 63)])
                args += [op, t, off, v]
        lines.append(args)
        if rng.randrange(10) == 0:
            lines.append(["GET", "bits"])
    lines.append(["GET", "bits"])
    same(forkv_server, redis_server, lines)
