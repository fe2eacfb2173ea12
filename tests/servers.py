"""Start and stop real server processes for tests: forkv (`python -m server`) and Debian's
redis-server, each on a free port, each stopped even when the test fails. Readiness is a PING
that answers, polled with a deadline; nothing sleeps for luck."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def command_bytes(*args) -> bytes:
    """A request as clients send it: a RESP array of bulk strings (str and int arguments as text)."""
    argv = [a if isinstance(a, (bytes, bytearray)) else str(a).encode() for a in args]
    return b"*%d\r\n" % len(argv) + b"".join(b"$%d\r\n%b\r\n" % (len(a), a) for a in argv)


def rss(pid: int) -> int:
    """A process's resident memory in bytes (VmRSS)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.01, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def _pings(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            reply = s.recv(64)
            return reply.startswith(b"+PONG") or reply.startswith(b"-NOAUTH")
    except OSError:
        return False


class ServerProcess:
    """One server process. `argv` is the command line after the executable."""

    def __init__(self, kind: str, args=(), workdir: str = None, port: int = None, env=None):
        self.kind = kind
        self.port = port or free_port()
        self.own_dir = workdir is None
        self.dir = workdir or tempfile.mkdtemp(prefix=f"{kind}-")
        self.args = list(args)
        self.env = env
        self.proc = None
        self.log_path = os.path.join(self.dir, f"{kind}.log")
        self._log = None

    def command(self) -> list:
        if self.kind == "redis":
            exe = shutil.which("redis-server")
            if exe is None:
                pytest.skip("Debian's redis-server is not installed")
            program = [exe]
            options = ["--appendonly", "no"]
        else:
            program = [sys.executable, "-m", "server"]
            options = []
        options = ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                   "--save", ""] + options
        # A config file must come first, as for redis-server.
        has_file = bool(self.args) and not self.args[0].startswith("--")
        config_file, rest = (self.args[:1], self.args[1:]) if has_file else ([], self.args)
        return program + config_file + options + rest

    def start(self, wait: bool = True) -> "ServerProcess":
        self._log = open(self.log_path, "ab")
        env = dict(os.environ, PYTHONPATH=REPO)
        if self.env:
            env.update(self.env)
        self.proc = subprocess.Popen(self.command(), stdout=self._log, stderr=subprocess.STDOUT,
                                     cwd=self.dir, env=env, start_new_session=True)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 15.0) -> None:
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.kind} exited with {self.proc.returncode}:\n{self.log()}")
            return _pings(self.port)

        wait_for(ready, timeout, what=f"{self.kind} on port {self.port}")

    def log(self) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def signal(self, sig) -> None:
        self.proc.send_signal(sig)

    def wait_exit(self, timeout: float = 15.0) -> int:
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def cleanup(self) -> None:
        self.stop()
        if self.own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.cleanup()  # __exit__ does not run when __enter__ fails
            raise

    def __exit__(self, *exc):
        self.cleanup()


def session(port: int, *commands) -> list:
    """Several commands (argument lists) sent on one fresh connection; their raw decoded replies
    (hiredis: error replies come back as values), bypassing any client-side reply callbacks."""
    import hiredis

    reader = hiredis.Reader()
    replies = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"".join(command_bytes(*argv) for argv in commands))
        while len(replies) < len(commands):
            chunk = s.recv(1 << 20)
            if not chunk:
                raise ConnectionError("server closed the connection")
            reader.feed(chunk)
            while (reply := reader.gets()) is not False:
                replies.append(reply)
    return replies


def raw_call(port: int, *args, proto: int = 2):
    """One command on a fresh connection (after HELLO 3 for `proto=3`): its raw decoded reply."""
    return session(port, *([["HELLO", "3"]] if proto == 3 else []), args)[-1]


def read_line(sock) -> bytes:
    """What `sock` receives up to the end of a one-line reply (an error or a status), or until the
    server closes the connection."""
    data = b""
    while not data.endswith(b"\r\n"):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def receive(sock, size: int) -> int:
    """Read until `size` bytes have arrived, asserting the connection stays open; the number of
    bytes read (more than `size` when the server sent more)."""
    got = 0
    while got < size:
        chunk = sock.recv(1 << 20)
        assert chunk, f"closed after {got} of {size} bytes"
        got += len(chunk)
    return got


def read_until_closed(sock) -> bytes:
    """Everything the server sends on `sock` until it closes the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data
