"""Startup configuration: file, environment and command line, and how bad input is reported."""

import subprocess
import sys

import pytest

from server import config as cfg
from tests.servers import REPO, ServerProcess, raw_call


def run_server(*args, env=None):
    return subprocess.run([sys.executable, "-m", "server", *args], capture_output=True, text=True,
                          timeout=30, cwd=REPO, env=env)


def test_defaults_are_redis_7():
    c = cfg.load([], environ={})
    assert c["port"] == 6379 and c["bind"] == ["127.0.0.1", "-::1"] and c["databases"] == 16
    assert c["hz"] == 10 and c["dbfilename"] == "dump.rdb" and c["maxclients"] == 10000
    assert c["save"] == [(3600, 1), (300, 100), (60, 10000)]


def test_sources_in_order(tmp_path):
    conf = tmp_path / "forkv.conf"
    conf.write_text("# comment\nport 7001\nhz 20\nsave 900 1\nsave 300 10\nrequirepass \"a b\"\n")
    c = cfg.load([str(conf), "--hz", "30"], environ={"FORKV_PORT": "7002", "FORKV_SAVE": "60 1"})
    assert c["port"] == 7002 and c["hz"] == 30 and c["requirepass"] == "a b"
    # As in redis-server, save lines add up across the file and later sources; "" resets.
    assert c["save"] == [(900, 1), (300, 10), (60, 1)]
    assert cfg.load([str(conf), "--save", ""], environ={})["save"] == []
    c = cfg.load([str(conf)], environ={})
    assert c["save"] == [(900, 1), (300, 10)]
    assert cfg.load(["--save", ""], environ={})["save"] == []
    assert cfg.load(["--bind", "127.0.0.1", "::1"], environ={})["bind"] == ["127.0.0.1", "::1"]


@pytest.mark.parametrize("args, needle", [
    (["--nosuch", "1"], ">>> 'nosuch \"1\"'\nBad directive or wrong number of arguments"),
    (["--port", "abc"], ">>> 'port \"abc\"'\nargument couldn't be parsed into an integer"),
    (["--port", "70000"], "argument must be between 0 and 65535 inclusive"),
    (["--loglevel", "loud"], "argument(s) must be one of the following"),
])
def test_bad_command_line_exits_1(args, needle):
    proc = run_server(*args)
    assert proc.returncode == 1
    assert needle in proc.stderr
    assert "Reading the configuration command line" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_config_file_names_file_and_line(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("port 7000\n\nmaxclients lots\n")
    proc = run_server(str(conf))
    assert proc.returncode == 1
    assert f"Reading the configuration file {conf}, at line 3" in proc.stderr
    assert ">>> 'maxclients lots'" in proc.stderr and "Traceback" not in proc.stderr


def test_missing_config_file(tmp_path):
    proc = run_server(str(tmp_path / "nope.conf"))
    assert proc.returncode == 1 and "can't open config file" in proc.stderr


def test_bad_environment_variable():
    import os

    proc = run_server(env=dict(os.environ, FORKV_HZ="fast", PYTHONPATH=REPO))
    assert proc.returncode == 1 and "FORKV_HZ=fast" in proc.stderr


def test_log_format_and_config_file_server(tmp_path):
    conf = tmp_path / "forkv.conf"
    conf.write_text("databases 4\n")
    with ServerProcess("forkv", [str(conf)]) as server:
        assert raw_call(server.port, "CONFIG", "GET", "databases") == [b"databases", b"4"]
        lines = server.log().splitlines()
        ready = [line for line in lines if line.endswith("* Ready to accept connections tcp")]
        assert ready
        pid, rest = ready[0].split(":", 1)
        assert pid.isdigit() and rest.startswith("M ")
        import re

        assert re.match(r"M \d\d \w{3} \d{4} \d\d:\d\d:\d\d\.\d{3} \* ", rest)
