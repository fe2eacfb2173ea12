"""server.table.KeySpec: key positions as Redis's getKeysUsingKeySpecs finds them, including the
movable shapes (a keyword to search for, a numkeys count) that EVAL, ZUNION, XREAD and SORT need:
checked against Debian's redis-server's COMMAND GETKEYS for those commands, with the specs Redis
reports for them (forkv does not have the commands yet, only the machinery)."""

import pytest

from server.table import KS, Command, Flag, KeySpec
from tests.servers import ServerProcess, raw_call

# Redis 7.0's key specs for four commands with movable keys (COMMAND INFO).
SPECS = {
    "eval": (KeySpec(("RW", "access", "update"), ("index", 2), ("keynum", 0, 1, 1)),),
    "zunion": (KeySpec(("RO", "access"), ("index", 1), ("keynum", 0, 1, 1)),),
    "xread": (KeySpec(("RO", "access"), ("keyword", "STREAMS", 1), ("range", -1, 1, 2)),),
    "sort": (KS("RO access", 1), KeySpec(("OW", "update"), ("keyword", "STORE", 1), ("range", 0, 1, 0))),
    "zunionstore": (KS("OW update", 1), KeySpec(("RO", "access"), ("index", 2), ("keynum", 0, 1, 1))),
}

LINES = [
    ["EVAL", "return 1", "2", "k1", "k2", "a1"], ["EVAL", "return 1", "0"], ["EVAL", "s", "1", "k"],
    ["ZUNION", "3", "a", "b", "c", "WEIGHTS", "1", "2", "3"], ["ZUNION", "1", "z"],
    ["XREAD", "COUNT", "2", "STREAMS", "s1", "s2", "0", "0"], ["XREAD", "streams", "a", "$"],
    ["XREAD", "BLOCK", "0", "STREAMS", "x", "y", "z", "1", "2", "3"],
    ["SORT", "k"], ["SORT", "k", "BY", "w_*", "STORE", "dst"], ["SORT", "k", "store", "d", "LIMIT", "0", "1"],
    ["ZUNIONSTORE", "d", "2", "a", "b"],
]


def test_movable_specs_find_what_redis_finds():
    with ServerProcess("redis") as redis_:
        for line in LINES:
            name = line[0].lower()
            cmd = Command(name=name, handler=None, arity=-2, flags=Flag(0), key_specs=SPECS[name])
            argv = [a.encode() for a in line]
            want = raw_call(redis_.port, "COMMAND", "GETKEYS", *line)
            assert [argv[i] for i in cmd.key_positions(argv)] == want, line
            assert cmd.movable_keys and "movablekeys" in cmd.flag_names()


def test_the_default_spec_comes_from_the_key_range():
    write = Command(name="x", handler=None, arity=-2, flags=Flag.WRITE, first_key=1, last_key=-1, step=2)
    assert write.key_specs == (KS("RW access update", 1, lastkey=-1, step=2),)
    assert write.key_positions([b"x", b"a", b"1", b"b", b"2"]) == [1, 3]
    read = Command(name="y", handler=None, arity=2, flags=Flag.READONLY, first_key=1, last_key=1, step=1)
    assert read.key_specs == (KS("RO access", 1),) and not read.movable_keys
    assert Command(name="z", handler=None, arity=1, flags=Flag(0)).key_specs == ()


@pytest.mark.parametrize("argv", [[b"XREAD", b"COUNT", b"1"], [b"EVAL", b"s", b"x"], [b"EVAL", b"s", b"-1"]])
def test_a_spec_that_cannot_apply_finds_no_keys(argv):
    name = argv[0].decode().lower()
    cmd = Command(name=name, handler=None, arity=-2, flags=Flag(0), key_specs=SPECS[name])
    assert cmd.key_positions(argv) == []
