"""XRANGE's and XREAD's pre-encoded entries (server/commands/streams.py entries_wire) against the
reference: the generic reply encoder's bytes for the same entries as reply objects (what a
script's call still gets), in RESP2 and RESP3, for short and long lengths and field counts."""

import random

import pytest

from protocol.reply import Encoded, encode_reply
from server.commands.streams import entries_reply, entries_wire, entry_reply


class _Client:
    def __init__(self, in_script: bool):
        self.in_script = in_script


def _entries(rng, n: int) -> list:
    out = []
    for i in range(n):
        nfields = rng.choice([1, 2, 3, 130])
        pairs = tuple(rng.randbytes(rng.choice([0, 1, 9, 1023, 1024, 5000])) for _ in range(2 * nfields))
        out.append(((rng.randrange(1 << 64), rng.randrange(1 << 64)) if i % 2 else (i, 0), pairs))
    return out


def _reference(entries, proto: int) -> bytes:
    out: list = []
    encode_reply([entry_reply(sid, pairs) for sid, pairs in entries], out, proto)
    return b"".join(out)


def test_wire_equals_the_generic_encoding():
    rng = random.Random(7)
    for n in (0, 1, 3, 10, 300):
        entries = _entries(rng, n)
        wire = entries_wire(entries)
        assert wire == _reference(entries, 2) == _reference(entries, 3), n


def test_c_kernel_equals_the_reference():
    """persistence/_walker.c resp_entries (the compiled server's) against entries_wire."""
    from persistence import _walker

    rng = random.Random(11)
    for n in (0, 1, 2, 10, 300):
        entries = _entries(rng, n)
        assert _walker.resp_entries(entries) == entries_wire(entries), n
    edge = [((0, 0), ()), (((1 << 64) - 1, (1 << 64) - 1), (b"", b"x" * 100_000))]
    assert _walker.resp_entries(edge) == entries_wire(edge)
    for bad in ([((1, 2), (b"f", "v"))], [((1,), ())], [((-1, 0), ())], (((1, 2), ()),)):
        with pytest.raises((TypeError, OverflowError)):
            _walker.resp_entries(bad)


def test_scripts_get_reply_objects():
    entries = [((1, 2), (b"f", b"v"))]
    assert entries_reply(_Client(True), entries) == [[b"1-2", [b"f", b"v"]]]
    reply = entries_reply(_Client(False), entries)
    assert type(reply) is Encoded and reply == _reference(entries, 2)


def test_entries_takes_what_range_yields():
    """Stream.entries (slices of the nodes without tombstones) against Stream.range, the
    reference: nodes with and without tombstones, both directions, counts across nodes."""
    from server.types.streams import MAX_ID, Stream

    rng = random.Random(3)
    s = Stream()
    for i in range(1, 400):
        s.append((i, i % 3), (b"f", b"%d" % i), 4096, 50)
    for i in rng.sample(range(100, 400), 40):  # tombstones in some nodes only
        s.delete((i, i % 3))
    bounds = [(0, 0), (1, 1), (49, 1), (50, 2), (120, 0), (250, 1), (399, 0), MAX_ID]
    for start in bounds:
        for end in bounds:
            for rev in (False, True):
                full = list(s.range(start, end, rev))
                for count in (-1, 0, 1, 7, 50, 51, 500):
                    want = full if count <= 0 else full[:count]
                    assert s.entries(start, end, rev, count) == want, (start, end, rev, count)
