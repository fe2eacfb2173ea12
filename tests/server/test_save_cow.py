"""While a save child shares the parent's memory, serving GET and SET must not write to the
pages holding the data set (each such write copies a 4 KiB page: a copy-on-write fault). The
keyspace's str keys, the C GET and the save overlay exist for this; here a real fork shares a
100,000-key data set and the parent's minor faults are counted over 20,000 GET/SET requests."""

import gc
import os
import random
import resource

import pytest

from server import dispatch
from tests.server.test_fastpath import (
    Client,
    Server,
    Transport,
    cfg,
    frame,
)

N_KEYS = 100_000
N_REQUESTS = 20_000


def serve(client, transport, requests) -> int:
    """Minor faults taken while the requests are served, one read each."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for request in requests:
        client.data_received(request)
        transport.data = b""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


@pytest.mark.skipif(dispatch.run_batch is dispatch.run_batch_py, reason="C fast path not built")
def test_get_and_set_during_a_save_copy_almost_no_pages():
    server = Server(cfg.load(["--save", ""], environ={}))
    client = Client(server)
    transport = Transport()
    client.connection_made(transport)
    for start in range(0, N_KEYS, 1000):
        client.data_received(frame("MSET", *[x for i in range(start, start + 1000)
                                             for x in (b"key:%08d" % i, b"v" * 100)]))
    rng = random.Random(5)
    requests = [frame("GET", b"key:%08d" % rng.randrange(N_KEYS)) if i % 2 else
                frame("SET", b"key:%08d" % rng.randrange(N_KEYS), b"w" * 100) for i in range(N_REQUESTS)]
    serve(client, transport, requests[:2000])  # warm up the allocator's pools for temporaries
    read_fd, write_fd = os.pipe()
    gc.freeze()  # as snapshot.fork_save does
    pid = os.fork()
    if pid == 0:  # the "save child": holds the pages until the parent is done
        os.close(write_fd)
        os.read(read_fd, 1)
        os._exit(0)
    try:
        os.close(read_fd)
        server.keyspace.begin_overlay()  # as Persistence.bgsave does after the fork
        faults = serve(client, transport, requests)
    finally:
        os.close(write_fd)
        os.waitpid(pid, 0)
        gc.unfreeze()
    server.keyspace.end_overlay()
    # Without the measures this is about 1 fault per GET and 2-3 per SET (~1.5 per request).
    print(f"{faults / N_REQUESTS:.3f} faults per request")
    assert faults / N_REQUESTS < 0.15, faults
