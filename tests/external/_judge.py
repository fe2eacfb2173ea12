"""What the external judges (redispy_suite.py, fakeredis_suite.py, rq_suite.py) share: running
another project's pytest against a fresh redis-server and a fresh forkv side by side, each run in
its own session with its output in a log, reading each test's outcome back from pytest's `-rA`
summary, and naming the known gap a difference belongs to."""

import os
import re
import subprocess
import time

from tests.servers import ServerProcess

OUTCOME = re.compile(r"^(PASSED|FAILED|ERROR|XFAIL|XPASS) (\S+)")


def start_pytest(python: str, args: list, cwd: str, log_path: str) -> subprocess.Popen:
    """`python -m pytest -q -rA` with `args` in `cwd`, its own process group, output to the log
    (the returned process carries the open log as `.log`)."""
    log = open(log_path, "wb")
    cmd = [python, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", "-o", "addopts="] + args
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    proc.log = log  # type: ignore[attr-defined]
    return proc


def run_on_both(launch, deadline_s: float, server_args=()) -> None:
    """A fresh redis-server and a fresh forkv (started with `server_args`), and for each
    `launch(kind, port)`, which starts a run against it and returns its process (carrying its open
    log as `.log`, see start_pytest; its own session). Waits for both runs until `deadline_s`
    from now; a run still going then is cut off (its whole process group killed), and so is every
    run and server when anything fails."""
    servers = {kind: ServerProcess(kind, args=list(server_args)) for kind in ("redis", "forkv")}
    procs = []
    try:
        for kind, server in servers.items():
            server.start()
            procs.append(launch(kind, server.port))
        deadline = time.monotonic() + deadline_s
        for proc in procs:
            try:
                proc.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, 9)
                proc.wait()
            proc.log.close()
        for server in servers.values():
            server.cleanup()


def outcomes(log_path: str) -> dict:
    """test id -> PASSED / FAILED / ERROR / XFAIL / XPASS, from the -rA summary in the log."""
    result = {}
    with open(log_path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = OUTCOME.match(line)
            if m:
                result[m.group(2)] = m.group(1)
    return result


def known_reason(test: str, known: list):
    """The reason of the first (pattern, reason) in `known` whose pattern matches `test`, or None."""
    for pattern, reason in known:
        if pattern.search(test):
            return reason
    return None
