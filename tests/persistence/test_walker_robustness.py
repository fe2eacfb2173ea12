"""The C walker refuses misuse instead of crashing, and handles partial writes as the Python
writer does."""

import io

import pytest

from persistence import rdb

_walker = pytest.importorskip("persistence._walker")


def test_an_uninitialised_sink_refuses_to_work():
    for use in (lambda s: s.write(b"x"), lambda s: s.finish(True),
                lambda s: s.write_db({}, {}, None, 1, 0)):
        with pytest.raises(ValueError, match="not initialised"):
            use(_walker.Sink.__new__(_walker.Sink))


@pytest.mark.parametrize("fd", [-1, 2**32 + 1])
def test_file_descriptors_out_of_range_are_refused(fd):
    with pytest.raises(ValueError):
        _walker.Sink(fd, True, rdb._value_record, rdb.DEFAULT_LAYOUTS)


class Trickle(io.RawIOBase):
    """A raw file that takes at most 7 bytes per write()."""

    def __init__(self):
        self.data = bytearray()

    def writable(self):
        return True

    def write(self, b):
        chunk = bytes(b[:7])
        self.data += chunk
        return len(chunk)

    def fileno(self):
        raise io.UnsupportedOperation


@pytest.mark.parametrize("use_c", [True, False])
def test_partial_writes_are_completed(use_c):
    dbs = [(0, {b"k%d" % i: b"v" * i for i in range(50)}, {b"k3": 1_900_000_000_000})]
    expected = io.BytesIO()
    rdb.write_rdb(expected, dbs, aux={"ctime": 1, "used-mem": 0}, use_c=use_c)
    trickle = Trickle()
    rdb.write_rdb(trickle, dbs, aux={"ctime": 1, "used-mem": 0}, use_c=use_c)
    assert bytes(trickle.data) == expected.getvalue()
