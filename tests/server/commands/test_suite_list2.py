"""Redis 7.0's tests/unit/type/list-2.tcl (LTRIM stress testing), ported to run on forkv and on
Debian's redis-server alike (`r` of _suite.py), once per encoding of tcl's largevalue array (a
small value keeps a listpack, an 8KB one makes a quicklist). Scaled down: 1000 -> 200 trims."""

import random

import pytest

from tests.server.commands._suite import config, encoding, r  # noqa: F401

LARGE = {"listpack": "hello", "quicklist": "x" * 8192}


@pytest.fixture(autouse=True)
def overrides(config):
    config("list-max-ziplist-size", -2)  # tcl: list-max-ziplist-value 16 / -entries 256 (pre-7.0 names)


@pytest.mark.parametrize("kind", sorted(LARGE))
def test_ltrim_stress(r, kind):
    rng = random.Random(kind)
    startlen = 32
    large = LARGE[kind]
    r.rpush("mylist", large)
    model = [large]
    for _ in range(startlen):
        s = str(rng.randrange(9223372036854775807))
        r.rpush("mylist", s)
        model.append(s)
    assert encoding(r, "mylist") == "quicklist"  # 7.0 has no listpack lists: the kinds differ in node size
    for _ in range(200):
        lo = rng.randrange(startlen)
        hi = lo + rng.randrange(startlen)
        model = model[lo:hi + 1]
        r.ltrim("mylist", lo, hi)
        assert r.lrange("mylist", 0, -1) == model
        for _ in range(r.llen("mylist"), startlen):
            s = str(rng.randrange(9223372036854775807))
            r.rpush("mylist", s)
            model.append(s)
