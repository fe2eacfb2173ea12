"""Writer and reader stream: memory stays bounded by the largest value, not by the file size."""

import io
import os
import tracemalloc

import pytest

from persistence import rdb

KEYS = 100_000
VALUE = os.urandom(100)  # incompressible: the file is ~12 MB, far above the bound


@pytest.fixture(scope="module")
def dataset():
    return [(0, {b"key:%08d" % i: VALUE for i in range(KEYS)}, {})]


class Sink(io.RawIOBase):
    """Counts what is written and keeps nothing."""

    def __init__(self):
        self.size = 0

    def writable(self):
        return True

    def write(self, b):
        self.size += len(b)
        return len(b)


@pytest.mark.parametrize("use_c", [True, False])
def test_writer_memory_is_bounded(dataset, use_c):
    sink = Sink()
    tracemalloc.start()
    try:
        rdb.write_rdb(sink, dataset, use_c=use_c)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sink.size > 10 * 1024 * 1024  # far larger than the bound below
    assert peak < 2 * 1024 * 1024, f"peak {peak} bytes for a {sink.size}-byte file"


def test_reader_memory_is_bounded(dataset, tmp_path):
    path = tmp_path / "big.rdb"
    with open(path, "wb") as f:
        rdb.write_rdb(f, dataset, compression=False)
    assert os.path.getsize(path) > 10 * 1024 * 1024
    tracemalloc.start()
    try:
        count = 0
        with open(path, "rb") as f:
            for event in rdb.read_rdb(f):
                count += isinstance(event, rdb.Record)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == KEYS
    assert peak < 2 * 1024 * 1024, f"peak {peak} bytes reading a {os.path.getsize(path)}-byte file"
