"""The C kernel's listpack packer and reader (persistence/_rdbload.c listpack_pack /
listpack_entries, used for small sorted sets packed at rest) against the pure-Python reference
in persistence/rdb.py: the same bytes for random entries (integers at every width edge, strings
that almost look like integers, every string-length class), the same entries read back, and on
corrupted input either the reference's reading or None (the reference then raises)."""

import random

import pytest

from persistence import rdb
from server.args import is_int

_rdbload = pytest.importorskip("persistence._rdbload")

EDGES = [0, 1, 127, 128, -1, 4095, 4096, -4096, -4097, 32767, 32768, -32768, -32769, 2**23 - 1, 2**23,
         -2**23, -2**23 - 1, 2**31 - 1, 2**31, -2**31, -2**31 - 1, 2**63 - 1, -2**63]
ALMOST = [b"-0", b"01", b"+1", b"", b" 1", b"1 ", b"9223372036854775808", b"-9223372036854775809", b"1e3", b"-"]


def _entry(rng):
    k = rng.randrange(6)
    if k == 0:
        return rng.randrange(-2**63, 2**63)
    if k == 1:
        return rng.choice(EDGES)
    if k == 2:
        return b"%d" % rng.choice(EDGES + [rng.randrange(-10**12, 10**12)])
    if k == 3:
        return rng.choice(ALMOST)
    return bytes(rng.randrange(256) for _ in range(rng.choice([1, 10, 63, 64, 100, 4095, 4096, 5000])))


def test_kernel_packs_and_reads_as_the_reference(monkeypatch):
    monkeypatch.setattr(rdb, "_KERNEL", None)
    rng = random.Random(5)
    for _ in range(300):
        entries = [_entry(rng) for _ in range(rng.randrange(0, 12))]
        blob = rdb.listpack_blob(entries, is_int)
        assert _rdbload.listpack_pack(entries) == blob
        assert _rdbload.listpack_entries(blob) == rdb._listpack_entries(blob)
        for _ in range(3):
            bad = bytearray(blob)
            bad[rng.randrange(0, len(bad))] = rng.randrange(256)
            try:
                expected = rdb._listpack_entries(bytes(bad))
            except (ValueError, IndexError):
                expected = None
            assert _rdbload.listpack_entries(bytes(bad)) in (None, expected)
