"""Helpers for the real-application tests (test_apps_*.py): one server per test module and kind
(forkv or Debian's redis-server), the application's own worker processes started in a temporary
directory and always stopped, and the server's error counters, so a test can show that the
library got no error reply the real Redis would not have given it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import redis

from tests.servers import REPO, ServerProcess

KINDS = ["forkv", "redis"]


def start_server(kind: str) -> ServerProcess:
    server = ServerProcess(kind)
    try:
        return server.start()
    except BaseException:
        server.cleanup()
        raise


def url(server: ServerProcess, db: int = 0) -> str:
    return f"redis://127.0.0.1:{server.port}/{db}"


def refused_commands(server: ServerProcess) -> set:
    """The commands (INFO commandstats names) that failed or were refused at least once so far.
    An unknown command or subcommand has no line, as in Redis: redis-py 8 probes CLIENT
    MAINT_NOTIFICATIONS (and CLIENT SETINFO, which Redis 7.0 lacks) on every connection and ignores
    the error; those probes are the only errors the libraries here should cause besides NOSCRIPT."""
    with redis.Redis(port=server.port) as r:
        return {name.removeprefix("cmdstat_") for name, value in r.info("commandstats").items()
                if value["failed_calls"] or value["rejected_calls"]}


def write_module(directory: str, name: str, source: str) -> str:
    path = os.path.join(directory, name + ".py")
    with open(path, "w") as f:
        f.write(textwrap.dedent(source))
    return path


class AppProcess:
    """A library's own process (a Celery or RQ worker) run with this interpreter in `cwd`, with
    `cwd` and the worktree importable, its output kept in a log shown when a test fails. stop()
    asks it to finish (SIGTERM) and kills its whole process group if it does not in time."""

    def __init__(self, argv: list, cwd: str, env: dict | None = None):
        self.log_path = os.path.join(cwd, "process.log")
        self._log = open(self.log_path, "ab")
        environ = dict(os.environ, PYTHONPATH=os.pathsep.join([cwd, REPO]), PYTHONUNBUFFERED="1")
        environ.update(env or {})
        self.proc = subprocess.Popen([sys.executable, "-m", *argv], cwd=cwd, env=environ,
                                     stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def log(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.proc.args} still running after {timeout}s:\n{self.log()}") from None

    def kill(self) -> None:
        """End the process and its children at once (SIGKILL), as a crash would."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)

    def stop(self, timeout: float = 10.0) -> int | None:
        try:
            if self.proc.poll() is None:
                try:
                    os.killpg(self.proc.pid, signal.SIGTERM)
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    pass
            # The process may have left children (an RQ work horse): end the whole group.
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            return self.proc.wait(timeout)
        finally:
            self._log.close()
