"""XADD key * (the id from the clock, forkv's C fast path for it: server/_fastpath.c fast_xadd,
whose tail node is sealed lazily) against Debian's redis-server 7.0: a BGSAVE and a SAVE taken
right after such XADDs, and DUMP payloads, load into redis-server with the same content and give
back the same DUMP bytes; DEBUG RELOAD keeps it all; a client blocked in XREAD wakes on it."""

import redis

from tests.integration._persistence import start_on_file
from tests.server.commands._suite import blocked, deferring, r  # noqa: F401
from tests.server.commands.test_streams import _run, _wait_bgsave


def _adds(n, start=0):
    """n XADD s * with values of every listpack encoding, fields changing now and then."""
    values = ["v", "12", "-7", "007", "9223372036854775808", "x" * 70, "y" * 900, "", "-4096"]
    out = []
    for i in range(start, start + n):
        fields = ("f", "g") if i % 17 else ("h",)
        row = []
        for j, f in enumerate(fields):
            row += [f, values[(i + j) % len(values)]]
        out.append(("XADD", "s", "*", *row))
    return out


PROBE = [("XRANGE", "s", "-", "+"), ("XINFO", "STREAM", "s"), ("XLEN", "s")]


def _raw(server):
    client = redis.Redis(port=server.port)
    client.response_callbacks.clear()  # replies as sent
    return client


def test_snapshots_and_dump_of_a_lazy_tail_load_into_redis(spawn, tmp_path):
    forkv = spawn("forkv", "--enable-debug-command", "yes")
    fc, control = _raw(forkv), redis.Redis(port=forkv.port)
    _run(fc, _adds(250))
    first = _run(fc, PROBE)  # no settling read: the tail stays unsealed until the fork
    control.bgsave()
    _wait_bgsave(control)
    with open(f"{forkv.dir}/dump.rdb", "rb") as f:
        first_file = f.read()
    _run(fc, _adds(130, 250))
    assert fc.save()
    second = _run(fc, PROBE)
    payload = fc.dump("s")
    back = _raw(start_on_file(spawn, "redis", f"{forkv.dir}/dump.rdb", tmp_path / "second"))
    assert _run(back, PROBE) == second
    assert back.dump("s") == payload
    (tmp_path / "first.rdb").write_bytes(first_file)
    old = _raw(start_on_file(spawn, "redis", tmp_path / "first.rdb", tmp_path / "first"))
    assert _run(old, PROBE) == first
    old.restore("s2", 0, payload)
    assert old.xrange("s2") == back.xrange("s") and old.dump("s2") == payload
    _run(fc, _adds(3, 380))
    third = _run(fc, PROBE)
    assert fc.execute_command("DEBUG", "RELOAD") == b"OK"
    assert _run(fc, PROBE) == third


def test_blocked_xread_wakes_on_xadd_star(r, deferring):  # noqa: F811
    for i in range(5):
        r.xadd("s", {"f": i})
    d = deferring()
    d.send("XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    blocked(r, 1)
    sid = r.xadd("s", {"f": "woke"})
    assert d.read() == [["s", [[sid, ["f", "woke"]]]]]
    assert r.xadd("s", {"f": "after"}) > sid
