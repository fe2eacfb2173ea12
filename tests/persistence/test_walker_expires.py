"""The C walker's TTL lookups: `expires` may hold a key as a different object than `data`
does (EXPIRE on an existing key stores the command's own argument). Files stay byte-identical
to the Python writer's, and a forked child writing them copies no page of those key objects."""

from __future__ import annotations

import io
import os
import random

import pytest

from persistence import _walker, rdb
from persistence.rdb import write_rdb

from .test_rdb_walker import cow_in_child, mixed_dbs


def test_the_extension_under_test_is_this_checkout():
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert _walker.__file__.startswith(os.path.join(here, "persistence"))


def _equal_copy(key: bytes) -> bytes:
    copy = bytes(bytearray(key))
    assert copy == key and copy is not key
    return copy


def _distinct_key_dbs(seed: int):
    """mixed_dbs with every TTL re-keyed by an equal but distinct object, plus TTLs for keys
    that are absent from `data` (ignored by both writers when walking `data`)."""
    rnd = random.Random(seed)
    dbs = []
    for index, data, expires in mixed_dbs(seed):
        rekeyed = {_equal_copy(k) if rnd.random() < 0.7 else k: ms for k, ms in expires.items()}
        rekeyed[b"absent:%d" % index] = 1_700_000_000_000
        dbs.append((index, data, rekeyed))
    return dbs


@pytest.mark.parametrize("seed", [1, 2])
def test_byte_identical_when_expires_keys_are_other_objects(seed):
    dbs = _distinct_key_dbs(seed)
    files = []
    for use_c in (False, True):
        f = io.BytesIO()
        write_rdb(f, dbs, use_c=use_c, aux={"ctime": 1700000000})
        files.append(f.getvalue())
    assert files[0] == files[1]
    ttls = {e.key: e.expire_ms for e in rdb.read_rdb(io.BytesIO(files[1]))
            if isinstance(e, rdb.Record) and e.expire_ms is not None and e.db == 0}
    _, data, expires = dbs[0]
    assert ttls == {k: ms for k, ms in expires.items() if k in data}


def test_hash_collisions_in_the_index_still_find_every_ttl():
    # Many keys, every one with a TTL under another object: long probe runs in the index.
    data = {b"k%d" % i: b"v" for i in range(20_000)}
    expires = {_equal_copy(k): 1_800_000_000_000 + i for i, k in enumerate(data) if i % 3}
    f_c, f_py = io.BytesIO(), io.BytesIO()
    write_rdb(f_c, [(0, data, expires)], use_c=True, aux={"ctime": 1})
    write_rdb(f_py, [(0, data, expires)], use_c=False, aux={"ctime": 1})
    assert f_c.getvalue() == f_py.getvalue()


def test_forked_child_does_not_copy_expires_key_objects(tmp_path):
    n = 200_000
    data = {b"key:%d" % i: (b"value:%d" % i).ljust(100, b"\0") for i in range(n)}
    # Every key has a TTL, held under an equal but distinct object: a dict lookup per key
    # would write 200,000 key objects' refcounts (about 10 MB of pages).
    expires = {_equal_copy(k): 1_900_000_000_000 + i for i, k in enumerate(data)}
    out = cow_in_child(data, expires, str(tmp_path / "ttl.rdb"), use_c=True)
    assert out["keys"] == n
    # The index itself is 4 bytes x 2^19 slots = 2 MiB; allow for the child's own pages.
    assert out["peak"] < 5 * 1024 * 1024, out
