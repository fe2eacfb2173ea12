"""Fixtures for the persistence tests: a real Debian redis-server on a free port."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
REDIS_CHECK_RDB = shutil.which("redis-check-rdb") or "/usr/bin/redis-check-rdb"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RealRedis:
    """One redis-server process; `client` talks to it with redis-py."""

    def __init__(self, workdir: Path, dbfilename: str = "dump.rdb", *extra: str) -> None:
        self.dir = workdir
        self.dbfilename = dbfilename
        self.port = free_port()
        self.log = workdir / f"redis-{self.port}.log"
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(workdir), "--dbfilename", dbfilename, "--save", "",
             "--appendonly", "no", "--logfile", str(self.log), *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.client = redis.Redis(port=self.port)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                log = self.log.read_text() if self.log.exists() else ""
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}:\n{log}")
            try:
                # PING answers -LOADING while a file loads; only a clean PONG means ready.
                if self.client.ping():
                    return
            except (redis.ConnectionError, redis.BusyLoadingError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("redis-server did not become ready")
            time.sleep(0.02)

    @property
    def rdb_path(self) -> Path:
        return self.dir / self.dbfilename

    def stop(self) -> None:
        self.client.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def real_redis(tmp_path):
    """Factory: start_redis(dbfilename=..., *extra_args) -> RealRedis; all stopped at teardown."""
    started: list[RealRedis] = []

    def start(dbfilename: str = "dump.rdb", *extra: str, workdir: Path | None = None) -> RealRedis:
        server = RealRedis(workdir or tmp_path, dbfilename, *extra)
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()
