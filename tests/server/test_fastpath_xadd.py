"""XADD key * field value... in server/_fastpath.c against its reference (server/commands/
streams.py's handler, Stream.append's node rule): the same command stream run by the C loop and
by dispatch.run_batch_py on two fresh in-process servers (one injected clock) must give the same
bytes and the same keyspace state, the streams compared by their record (every node's listpack
sealed, the counters and ids), the dirty counter and the access fields included. Counting the
handler's calls of Stream.append shows which XADDs the C served itself; the snapshot and DUMP
paths read a tail the C left unsealed."""

import io

import pytest

from persistence import rdb
from server import values
from server.types import streams
from tests.server.test_fastpath_batch import _fastpath, both, later, run
from tests.servers import command_bytes as frame

pytestmark = pytest.mark.skipif(_fastpath is None, reason="the C extension is not built")

SERVED = _fastpath is not None and _fastpath.xadd_served()  # False under FORKVPY_PURE


def adds(key, n, start=0, fields=("f", "g")):
    """n XADDs of `key` with `fields`, their values of every listpack encoding by turns."""
    values = ["v", "12", "-7", "0", "007", "9223372036854775807", "9223372036854775808", "x" * 70,
              "y" * 5000, "-4096", "4095", "100000", "-2147483649", "", "1.5"]
    out = b""
    for i in range(start, start + n):
        row = []
        for j, f in enumerate(fields):
            row += [f, values[(i + j) % len(values)]]
        out += frame("XADD", key, "*", *row)
    return out


def stream():
    setup = frame("XADD", "s", "1-1", "f", "first", "g", "1") + frame("SET", "str", "x")
    bulk = adds("s", 230)  # past two node boundaries by entries (the handler starts a node)
    mixed = (adds("s", 5, fields=("f",)) + adds("s", 5, fields=("g", "f")) + adds("s", 3, fields=("f", "g", "h"))
             + adds("s", 4))
    reads = (frame("XLEN", "s") + frame("XRANGE", "s", "-", "+", "COUNT", "3")
             + frame("XREVRANGE", "s", "+", "-", "COUNT", "5") + frame("XINFO", "STREAM", "s")
             + frame("DUMP", "s") + frame("MEMORY", "USAGE", "s"))
    others = (frame("XADD", "new", "*", "a", "1") + adds("new", 3, fields=("a",))  # a new key: the handler
              + frame("XADD", "str", "*", "a", "1")  # WRONGTYPE
              + frame("XADD", "s", "*", "a") + frame("XADD", "s", "*", "a", "1", "b")  # arity
              + frame("XADD", "s", "MAXLEN", "~", "1000", "*", "f", "v", "g", "w") + adds("s", 2)
              + frame("XADD", "s", "99999999999999-0", "f", "v") + adds("s", 3)  # a clock behind last_id
              + frame("XDEL", "s", "99999999999999-2") + adds("s", 2)  # a tombstone in the tail
              + frame("XTRIM", "s", "MAXLEN", "50") + adds("s", 2) + frame("COPY", "s", "c")
              + adds("c", 3) + frame("DUMP", "c") + frame("XINFO", "STREAM", "c", "FULL"))
    ttl = frame("EXPIRE", "s", "1000") + adds("s", 2) + frame("PERSIST", "s") + adds("s", 2)
    small = (frame("CONFIG", "SET", "stream-node-max-bytes", "300") + adds("s", 20)
             + frame("CONFIG", "SET", "stream-node-max-entries", "0") + adds("s", 10)
             + frame("CONFIG", "SET", "stream-node-max-bytes", "0") + adds("s", 10)
             + frame("CONFIG", "SET", "stream-node-max-bytes", "4096")
             + frame("CONFIG", "SET", "stream-node-max-entries", "100") + frame("HELLO", "3") + adds("s", 3)
             + frame("DUMP", "s") + frame("XINFO", "STREAM", "s"))
    watched = (frame("WATCH", "s") + adds("s", 1) + frame("MULTI") + adds("s", 1) + frame("EXEC")
               + frame("UNWATCH"))
    notified = (frame("CONFIG", "SET", "notify-keyspace-events", "Kt") + adds("s", 2)
                + frame("CONFIG", "SET", "notify-keyspace-events", "") + adds("s", 2))
    # new nodes after a tail sealed by a DUMP and after an unsealed one
    sealed = (frame("CONFIG", "SET", "stream-node-max-entries", "3")
              + b"".join(adds("s", 1, i) + frame("DUMP", "s") for i in range(7)) + adds("s", 7)
              + frame("CONFIG", "SET", "stream-node-max-entries", "100") + frame("XINFO", "STREAM", "s"))
    tail = frame("XADD", "s", "*", "f", "v")  # the access field after XADDs alone, done in C
    return [setup, bulk, mixed, reads, others, ttl, small, watched, notified, adds("s", 120), sealed, tail]


HOOKS = {2: later(1), 4: later(2), 6: later(1), 11: later(3)}


def test_xadd_as_the_handler():
    data, _, state = both(stream(), hooks=HOOKS)
    assert b"WRONGTYPE" in data and b"wrong number of arguments for 'xadd'" in data
    dbs, dirty, *_ = state
    s = dbs[0][1]["s"]
    assert type(s) is streams.Stream and s.length > 200 and len(s.nodes) > 3
    assert dirty > 400


@pytest.fixture
def appends(monkeypatch):
    """How often a handler appended to a stream (Stream.append)."""
    count = [0]
    original = streams.Stream.append

    def wrapper(self, *args):
        count[0] += 1
        return original(self, *args)
    monkeypatch.setattr(streams.Stream, "append", wrapper)
    return count


def test_the_c_serves_the_common_form(appends):
    """500 XADD key * of one stream (five new nodes) never reach the handler (all of them do
    under FORKVPY_PURE, without persistence._rdbload's encoders)."""
    entries = b"".join(frame("XADD", "s", "*", "f", f"v{i}") for i in range(500))
    run([frame("XADD", "s", "1-1", "f", "v"), entries], _fastpath.run_batch, hooks={1: later(1)})
    assert appends[0] == (1 if SERVED else 501)


def test_a_lazy_tail_in_snapshots_dump_and_copies():
    """After XADDs done in C the tail node is unsealed: DUMP, the two RDB writers (after
    settle_streams, as the snapshot paths call it) and a COPY see it sealed, with the bytes the
    reference leaves."""
    chunks = [frame("XADD", "s", "1-1", "f", "v", "g", "w"), adds("s", 150)]
    probe = frame("DUMP", "s") + frame("COPY", "s", "c") + frame("DUMP", "c")
    replies = []
    files = []
    for impl in (_fastpath.run_batch, __import__("server.dispatch", fromlist=["x"]).run_batch_py):
        def save(server, now, files=files):
            streams.settle_streams()
            db = server.keyspace.dbs[0]
            for use_c in (True, False):
                buf = io.BytesIO()
                rdb.write_rdb(buf, [(0, db.data, db.expires)], use_c=use_c, aux={"ctime": 0},
                              layouts=values.LAYOUTS)
                files.append(buf.getvalue())
        data, _, _ = run(chunks + [b"", probe], impl, hooks={1: later(1), 2: save})
        replies.append(data)
    assert replies[0] == replies[1]
    assert len(set(files)) == 1
