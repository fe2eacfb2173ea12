"""Helpers shared by the persistence tests (test_rdb_server.py, test_bgsave.py, each type's RDB
crossing with redis-server): servers in their own directories, file and reply inspection."""

from __future__ import annotations

import io
import os
import shutil
import subprocess

import pytest
import redis

from persistence import rdb
from tests.persistence._data import scan_server
from tests.servers import ServerProcess, raw_call, wait_for

REDIS_CHECK_RDB = shutil.which("redis-check-rdb")
SETPRIV = shutil.which("setpriv")
STRACE = shutil.which("strace")
READY = "Ready to accept connections"


class Unprivileged(ServerProcess):
    """A server that file permissions apply to even when the tests run as root: setpriv drops the
    capabilities that let root write into a read-only directory."""

    def command(self) -> list:
        cmd = super().command()
        if os.geteuid() == 0:
            if SETPRIV is None:
                pytest.skip("needs setpriv to make a directory read-only for root")
            cmd = [SETPRIV, "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--"] + cmd
        return cmd


def spawn_servers():
    """spawn(kind, *args, workdir=None, wait=True, unprivileged=False) -> a started server;
    every one is stopped (and its directory made writable again) when the test ends."""
    started = []

    def start(kind, *args, workdir=None, wait=True, unprivileged=False):
        cls = Unprivileged if unprivileged else ServerProcess
        server = cls(kind, list(args), workdir=workdir)
        started.append(server)
        server.start(wait=wait)
        return server

    try:
        yield start
    finally:
        for server in started:
            try:
                os.chmod(server.dir, 0o755)
            except OSError:
                pass
            server.cleanup()


def start_on_file(spawn, kind: str, source, directory, *args):
    """A `kind` server (forkv or Debian's redis-server) started by `spawn` in the new `directory`
    on a copy of the RDB file `source`: how a file crosses from one server to the other."""
    os.makedirs(directory)
    shutil.copy(source, os.path.join(directory, "dump.rdb"))
    return spawn(kind, *args, workdir=str(directory))


def client(server, db: int = 0) -> redis.Redis:
    return redis.Redis(port=server.port, db=db)


def dump_path(server, name: str = "dump.rdb") -> str:
    return os.path.join(server.dir, name)


def read_bytes(path) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def temp_files(directory) -> list:
    return sorted(n for n in os.listdir(directory) if n.startswith("temp-"))


def rdb_bytes(dbs, checksum: bool = True) -> bytes:
    buf = io.BytesIO()
    rdb.write_rdb(buf, dbs, checksum=checksum)
    return buf.getvalue()


def file_contents(path) -> dict:
    """{db: (data, expires)} of an RDB file, read with forkv's reader."""
    out: dict = {}
    with open(path, "rb") as f:
        for ev in rdb.read_rdb(f):
            if isinstance(ev, rdb.Record):
                data, expires = out.setdefault(ev.db, ({}, {}))
                data[ev.key] = ev.value
                if ev.expire_ms is not None:
                    expires[ev.key] = ev.expire_ms
    return out


def walk(port: int, dbs=range(16)) -> dict:
    """{db: (data, expires)} of a live server through SCAN + DUMP + PEXPIRETIME: reads every type
    forkv holds, including those whose own commands do not exist yet."""
    return scan_server(port, dbs, lambda r, key: rdb.load_payload(r.dump(key)))


def check_rdb(path) -> str:
    """Run Debian's redis-check-rdb; returns its output after asserting the file is OK."""
    if REDIS_CHECK_RDB is None:
        pytest.skip("redis-check-rdb is not installed")
    done = subprocess.run([REDIS_CHECK_RDB, str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "RDB looks OK" in done.stdout, done.stdout
    return done.stdout


def info(r, section: str = "persistence") -> dict:
    return r.info(section)


# -- observing a save ----------------------------------------------------------------------------

def children(pid: int) -> list:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def save_child(server, datadir=None) -> int:
    """The running save child's pid, once its temp file exists in `datadir` (the server's own
    directory unless given)."""
    directory = datadir or server.dir

    def found():
        for pid in children(server.proc.pid):
            if os.path.exists(os.path.join(directory, f"temp-{pid}.rdb")):
                return pid
        return None
    return wait_for(found, what="the save child's temp file")


def idle(r) -> bool:
    return info(r)["rdb_bgsave_in_progress"] == 0


def wait_idle(r, timeout: float = 30) -> dict:
    wait_for(lambda: idle(r), timeout, what="the background save to end")
    return info(r)


def same_reply(a, b) -> bool:
    """Replies from raw_call compared by value (errors by their text)."""
    if isinstance(a, Exception) or isinstance(b, Exception):
        return type(a) is type(b) and str(a) == str(b)
    return a == b


def call(port, *args):
    """One command on a fresh connection; an error reply comes back as a value, not raised."""
    return raw_call(port, *args)


# -- load at startup -----------------------------------------------------------------------------

