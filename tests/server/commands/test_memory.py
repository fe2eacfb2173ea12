"""MEMORY and ROLE (issue 13), against both servers: replies' shapes and errors as Redis's, and
MEMORY USAGE's estimates within a factor of Redis's jemalloc figures."""

import pytest
import redis

from server.commands.memory import jemalloc_size


def test_memory_usage_shapes_and_errors(any_r):
    any_r.set("s", "bar")
    assert any_r.memory_usage("missing") is None
    assert isinstance(any_r.memory_usage("s"), int)
    assert any_r.memory_usage("s", samples=0) == any_r.memory_usage("s")
    for args, message in ((("s", "samples", "x"), "value is not an integer or out of range"),
                          (("s", "bar"), "syntax error")):
        with pytest.raises(redis.ResponseError, match=message):
            any_r.execute_command("MEMORY", "USAGE", *args)
    assert any_r.execute_command("MEMORY", "PURGE") == b"OK"
    assert any_r.execute_command("MEMORY", "HELP")[0].startswith(b"MEMORY <subcommand>")
    stats = any_r.execute_command("MEMORY", "STATS")
    assert b"keys.count" in stats and b"dataset.bytes" in stats
    assert any_r.execute_command("ROLE") == [b"master", 0, []]


def test_memory_usage_is_within_a_factor_of_redis(forkv_server, redis_server):
    sizes = {}
    for name, server in (("forkv", forkv_server), ("redis", redis_server)):
        r = redis.Redis(port=server.port)
        r.flushall()
        r.set("small", "x")
        r.set("big", "v" * 5000)
        r.incr("n")
        sizes[name] = {k: r.memory_usage(k) for k in ("small", "big", "n")}
        r.close()
    for key in ("small", "big", "n"):
        ratio = sizes["forkv"][key] / sizes["redis"][key]
        assert 0.5 <= ratio <= 2, (key, sizes)


def test_jemalloc_classes():
    assert [jemalloc_size(n) for n in (1, 8, 9, 16, 17, 24, 33, 48, 49, 100, 5000)] == \
        [8, 8, 16, 16, 32, 32, 48, 48, 64, 112, 5120]
