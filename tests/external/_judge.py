"""What the external judges (redispy_suite.py, fakeredis_suite.py) share: starting another
project's pytest run in its own session with its output in a log, reading each test's outcome back
from pytest's `-rA` summary, and naming the known gap a difference belongs to. No server logic."""

import re
import subprocess

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
