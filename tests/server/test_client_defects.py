"""Client bookkeeping defects (issue 15, items 4-6): the `d` flag of CLIENT LIST, commands after
one that closes the connection, and the rebind task's reference."""

import asyncio
import gc

import pytest

from server import dispatch
from tests.inprocess import InProcessServer
from tests.servers import command_bytes

try:
    from server import _fastpath
except ImportError:  # pragma: no cover
    _fastpath = None

IMPLEMENTATIONS = ["py"] + (["c"] if _fastpath is not None else [])


def _flags(conn) -> str:
    line = conn.call("CLIENT", "INFO").decode()
    return dict(f.split("=", 1) for f in line.split())["flags"]


def test_touched_watched_key_shows_d_flag():
    srv = InProcessServer()
    a, b = srv.connect(), srv.connect()
    assert a.call("WATCH", "k") == b"OK"
    assert _flags(a) == "N"  # watching alone sets no flag, as in Redis
    b.call("SET", "k", "1")
    assert _flags(a) == "d"
    a.call("MULTI")
    assert a.call("CLIENT", "INFO") == b"QUEUED"
    assert a.call("EXEC") is None  # the transaction was aborted by the touch
    assert _flags(a) == "N"


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("closer", [("QUIT",), ("CLIENT", "KILL", "ID", "1", "SKIPME", "no"), ("SHUTDOWN", "NOSAVE")])
def test_commands_after_a_closing_one_are_neither_run_nor_counted(implementation, closer, monkeypatch):
    impl = _fastpath.run_batch if implementation == "c" else dispatch.run_batch_py
    monkeypatch.setattr(dispatch, "run_batch", impl)
    srv = InProcessServer()
    conn = srv.connect()
    assert conn.client.id == 1
    before = srv.server.stats.commands
    conn.client.data_received(b"".join(command_bytes(*argv) for argv in
                                       [("SET", "a", "1"), closer, ("SET", "b", "2"), ("PING",)]))
    assert conn.transport.closed
    assert len(srv.keyspace.dbs[0].data) == 1  # only a: SET b never ran
    assert srv.server.stats.commands - before == 2  # SET and the closing command, as Redis counts


def test_rebind_task_is_kept_and_its_failure_logged(capsys):
    srv = InProcessServer()
    server = srv.server

    async def main():
        server.loop = asyncio.get_running_loop()

        async def broken(socks):
            for sock in socks:
                sock.close()
            raise OSError(98, "boom")

        server._serve_sockets = broken
        server.rebind(0, [])
        assert len(server._tasks) == 1
        gc.collect()
        for _ in range(5):
            await asyncio.sleep(0)

    asyncio.run(main())
    assert server._tasks == set()
    assert "Background task failed" in capsys.readouterr().out
