"""Debian's redis-cli and redis-benchmark against forkv, compared with what they print against Redis."""

import shutil
import subprocess

import pytest

needs_cli = pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-tools not installed")


def cli(port, *args, stdin=None):
    proc = subprocess.run(["redis-cli", "-p", str(port), *args], input=stdin, capture_output=True,
                          text=True, timeout=30)
    return proc.stdout


@needs_cli
def test_one_shot_matches_redis(forkv_server, redis_server):
    script = [("SET", "a", "1"), ("GET", "a"), ("PING",), ("ECHO", "hi there"), ("GET", "missing"),
              ("NOPE", "x"), ("GET",), ("CONFIG", "GET", "maxclients"), ("DBSIZE",),
              ("CLIENT", "GETNAME"), ("SELECT", "99")]
    for server in (forkv_server, redis_server):
        cli(server.port, "FLUSHALL")
    for argv in script:
        assert cli(forkv_server.port, *argv) == cli(redis_server.port, *argv), argv


@needs_cli
def test_interactive_stdin_matches_redis(forkv_server, redis_server):
    session = "FLUSHALL\nSET k v\nGET k\nINCR k\nMULTI\nPING\nEXEC\nECHO done\nCONFIG GET hz\nQUIT\n"
    assert cli(forkv_server.port, stdin=session) == cli(redis_server.port, stdin=session)


@pytest.mark.skipif(shutil.which("redis-benchmark") is None, reason="redis-tools not installed")
def test_redis_benchmark_completes(forkv_server):
    proc = subprocess.run(["redis-benchmark", "-p", str(forkv_server.port), "-t", "ping,set,get,incr,mset",
                           "-n", "20000", "-q"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for test in ("PING_INLINE: ", "PING_MBULK: ", "SET: ", "GET: ", "INCR: ", "MSET (10 keys): "):
        assert test in out, out
    assert "ERR" not in out and "error" not in (out + proc.stderr).lower()
