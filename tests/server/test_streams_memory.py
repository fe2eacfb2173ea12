"""Streams kept as their listpack bytes at rest (server/types/streams.py): the C decoder gives
the reference's decoded copy byte for byte; reads and writes after the decoded copies were
dropped (a ring far smaller than the nodes) give what they gave with every node decoded, and,
through a real forkv process against Debian's redis-server, the same replies and DUMP payloads
for XRANGE / XREVRANGE / XDEL / XTRIM / XREADGROUP / XCLAIM / XAUTOCLAIM / XPENDING / XINFO."""

import pytest
import redis

from server import values  # noqa: F401  # registers the types before streams is used alone
from server.types import streams
from tests.servers import ServerProcess

try:
    from server import _fastpath
except ImportError:  # pragma: no cover - the package builds it
    _fastpath = None

C_DECODE = getattr(_fastpath, "stream_decode", None)

# a value of every listpack encoding: 7-bit, 13-bit, 16/24/32/64-bit ints, non-canonical
# integer text, strings of 6-bit, 12-bit and 32-bit lengths, the empty string
VALUES = [b"v", b"12", b"-7", b"0", b"007", b"4095", b"-4096", b"32767", b"-32769", b"8388607",
          b"-8388609", b"2147483647", b"-2147483649", b"9223372036854775807", b"-9223372036854775808",
          b"9223372036854775808", b"x" * 63, b"y" * 64, b"z" * 4095, b"w" * 4096, b"", b"1.5"]


def _sid(i: int) -> tuple:
    """Ids whose deltas from a node's master take every integer width, negative ones too; two
    ids a millisecond."""
    k = i // 2
    return 1_700_000_000_000 + k ** 3 * 10000 + k, (k * 7919) % 100000 + i % 2


def _build(n: int, max_entries: int = 7) -> streams.Stream:
    """A stream of `n` entries over several nodes: master fields and others, every encoding,
    a few tombstones."""
    s = streams.Stream()
    for i in range(n):
        v = VALUES[i % len(VALUES)]
        pairs = (b"f", v, b"g", b"%d" % i) if i % 5 else (b"h", v)
        s.append(_sid(i), pairs, 4096, max_entries)
    for i in range(3, n, 11):
        assert s.delete(_sid(i))
    return s


def _model(s: streams.Stream) -> list:
    """Every live entry, read with the reference decoder only."""
    out = []
    for node in s.nodes:
        if node.rest is not None:
            buf, start, end = bytes(node.rest), 0, len(node.rest)
        else:
            buf = node.lp
            start = 6 + streams._int_size(node.count) + streams._int_size(node.deleted)
            end = len(buf) - 1
        ids, vals, dead, _ = streams._decode_py(buf, start, end, node.master, node.fields)
        out += [(i, v) for i, v, d in zip(ids, vals, dead) if not d]
    return out


@pytest.fixture
def tiny_ring(monkeypatch):
    monkeypatch.setattr(streams, "DECODED_SIZE", 1)
    streams.DECODED.clear()
    yield
    streams.DECODED.clear()


@pytest.mark.skipif(C_DECODE is None, reason="server._fastpath is not built")
def test_the_c_decoder_gives_the_references_lists():
    s = _build(120)
    s.settle()
    for node in s.nodes:
        forms = [(node.lp, 6 + streams._int_size(node.count) + streams._int_size(node.deleted), len(node.lp) - 1)]
        if node.rest is not None:
            forms.append((bytes(node.rest), 0, len(node.rest)))
        for buf, start, end in forms:
            want = streams._decode_py(buf, start, end, node.master, node.fields)
            got = C_DECODE(buf, start, end, node.master, node.fields)
            assert got == want
            assert [type(x) for x in got[2]] == [bool] * len(got[2])
    assert any(any(n.decoded()[2]) for n in s.nodes)  # tombstones were read too
    node = s.nodes[0]
    start = 6 + streams._int_size(node.count) + streams._int_size(node.deleted)
    with pytest.raises(ValueError):  # an element cut short
        C_DECODE(node.lp[:-5], start, len(node.lp) - 5, node.master, node.fields)


def test_at_rest_a_node_is_its_bytes_only():
    s = streams.Stream()
    for i in range(1, 500):
        s.append((i, 0), (b"f", b"v"), 4096, 10)
    assert len(s.nodes) == 50
    assert all(n.ids is None for n in s.nodes)  # appends alone decode nothing
    assert all(n.rest is None and n.lp is not None for n in s.nodes[:-1])
    assert s.nodes[-1].rest is not None  # the tail: appended to


def test_reads_and_writes_after_the_decoded_copies_were_dropped(tiny_ring):
    s = _build(200)
    model = _model(s)
    assert s.entries((0, 0), streams.MAX_ID) == model
    assert s.entries((0, 0), streams.MAX_ID, True, 17) == model[::-1][:17]
    assert list(s.range(model[40][0], model[90][0])) == model[40:91]
    assert list(s.range(model[40][0], model[90][0], True)) == model[40:91][::-1]
    assert len(streams.DECODED) == 1 and sum(n.ids is not None for n in s.nodes) <= 1
    assert s.get(model[77][0]) == model[77][1]
    assert (s.edge(True), s.edge(False)) == (model[0][0], model[-1][0])
    for sid, _ in model[5:60:4]:
        assert s.delete(sid)
    assert not s.delete(model[5][0])
    model = [e for e in model if e not in model[5:60:4]]
    assert s.entries((0, 0), streams.MAX_ID) == model == _model(s)
    assert s.trim(len(model) - 30, None, False, 0) == 30
    model = model[30:]
    assert s.entries((0, 0), streams.MAX_ID) == model == _model(s) and s.first_id == model[0][0]
    assert s.trim(None, model[50][0], False, 0) == 50
    model = model[50:]
    assert s.entries((0, 0), streams.MAX_ID) == model == _model(s)
    copy = streams._duplicate(s)
    assert copy == s and copy.entries((0, 0), streams.MAX_ID) == model
    loaded = streams.adopt(s)
    assert loaded == s and list(loaded.range((0, 0), streams.MAX_ID, True)) == model[::-1]


# -- through real servers -----------------------------------------------------------------------

STREAMS = 24


def _id(i: int) -> str:
    return f"{1000 + i * 7}-{i % 3}"


def _setup() -> list:
    out = [("CONFIG", "SET", "stream-node-max-entries", "8")]
    for i in range(60):  # one entry to each stream in turn: many nodes of many streams
        for k in range(STREAMS):
            v = VALUES[(i + k) % len(VALUES)].decode()[:300]
            fields = ("a", v, "b", str(i)) if (i + k) % 4 else ("c", v)
            out.append(("XADD", f"s{k}", _id(i), *fields))
    out += [("XGROUP", "CREATE", f"s{k}", "g", "0") for k in range(STREAMS)]
    return out


def _commands() -> list:
    out = []
    each = [
        lambda k: ("XRANGE", f"s{k}", "-", "+"),
        lambda k: ("XREVRANGE", f"s{k}", "+", "-", "COUNT", str(5 + k)),
        lambda k: ("XRANGE", f"s{k}", _id(10 + k), _id(40), "COUNT", "12"),
        lambda k: ("XDEL", f"s{k}", _id(k), _id(20 + k), _id(59), "1-1"),
        lambda k: ("DUMP", f"s{k}"),  # (later, the groups' delivery times make DUMPs differ)
        lambda k: ("XREADGROUP", "GROUP", "g", "c1", "COUNT", str(9 + k), "STREAMS", f"s{k}", ">"),
        lambda k: ("XCLAIM", f"s{k}", "g", "c2", "0", _id(1), _id(k + 2), _id(8)),
        lambda k: ("XAUTOCLAIM", f"s{k}", "g", "c3", "0", "0-0", "COUNT", "4"),
        lambda k: ("XPENDING", f"s{k}", "g"),
        lambda k: ("XTRIM", f"s{k}", "MAXLEN", str(50 - k)),
        lambda k: ("XTRIM", f"s{k}", "MINID", _id(12 + k % 5)),
        lambda k: ("XREADGROUP", "GROUP", "g", "c1", "COUNT", "3", "STREAMS", f"s{k}", "0"),
        lambda k: ("XREVRANGE", f"s{k}", _id(50), "-", "COUNT", "7"),
        lambda k: ("XINFO", "STREAM", f"s{k}"),
        lambda k: ("XLEN", f"s{k}"),
        lambda k: ("XADD", f"s{k}", "MAXLEN", "=", "30", _id(70), "a", "1", "b", "2"),
        lambda k: ("XRANGE", f"s{k}", "-", "+"),
        lambda k: ("XGROUP", "DESTROY", f"s{k}", "g"),
        lambda k: ("DUMP", f"s{k}"),
    ]
    for make in each:
        for k in range(STREAMS):
            out.append(make(k))
    return out


@pytest.fixture(scope="module")
def servers():
    forkv = ServerProcess("forkv", ["--enable-debug-command", "yes"], env={"FORKVPY_STREAM_RING": "2"})
    real = ServerProcess("redis")
    try:
        forkv.start()
        real.start()
        clients = [redis.Redis(port=forkv.port), redis.Redis(port=real.port)]
        for c in clients:
            c.response_callbacks.clear()
        yield clients
        for c in clients:
            c.close()
    finally:
        forkv.cleanup()
        real.cleanup()


def test_commands_over_dropped_copies_answer_as_redis(servers):
    forkv, real = servers
    for c in servers:
        c.flushall()
        for cmd in _setup():
            c.execute_command(*cmd)
    for cmd in _commands():
        assert forkv.execute_command(*cmd) == real.execute_command(*cmd), cmd
    for k in range(STREAMS):  # FULL, once the groups (their delivery times) are gone
        full = ("XINFO", "STREAM", f"s{k}", "FULL")
        assert forkv.execute_command(*full) == real.execute_command(*full)
    forkv.execute_command("DEBUG", "RELOAD")
    for k in range(STREAMS):
        assert forkv.execute_command("XRANGE", f"s{k}", "-", "+") == real.execute_command("XRANGE", f"s{k}", "-", "+")
        assert forkv.execute_command("DUMP", f"s{k}") == real.execute_command("DUMP", f"s{k}")
    for c in servers:
        c.execute_command("CONFIG", "SET", "stream-node-max-entries", "100")
