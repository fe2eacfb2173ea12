"""docker/healthcheck.py without a container: finding the server in /proc, working out where it
listens, and the PING probe itself, run against forkv and against Debian's redis-server."""

import importlib.util
import os
import socket

import pytest

from tests.servers import ServerProcess, free_port

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _load_module():
    spec = importlib.util.spec_from_file_location(
        "forkv_healthcheck", os.path.join(REPO, "docker", "healthcheck.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hc = _load_module()
load = pytest.importorskip("server.config").load


@pytest.mark.parametrize("cmdline, expected", [
    (["/opt/forkv/bin/python3", "/opt/forkv/bin/forkv-server", "--port", "7000"], ["--port", "7000"]),
    (["forkv-server", "/etc/forkv/forkv.conf"], ["/etc/forkv/forkv.conf"]),
    (["python3", "-m", "server", "--save", "60 1"], ["--save", "60 1"]),
    (["python3", "-m", "http.server"], None),
    (["/sbin/catatonit", "--", "forkv-server"], []),
])
def test_recognises_the_server_command_line(cmdline, expected):
    assert hc.server_argv_from(cmdline) == expected


def _fake_process(proc, pid, cmdline, environ):
    os.makedirs(proc / str(pid))
    (proc / str(pid) / "cmdline").write_bytes(b"".join(a.encode() + b"\0" for a in cmdline))
    (proc / str(pid) / "environ").write_bytes(b"".join(e.encode() + b"\0" for e in environ))


def test_finds_the_server_process_and_its_environment(tmp_path):
    # With --init, PID 1 is the init process running forkv with the same arguments and environment.
    environ = ["FORKV_REQUIREPASS=a=b", "HOME=/data"]
    _fake_process(tmp_path, 1, ["/run/podman-init", "--", "forkv-server", "--port", "7000"], environ)
    _fake_process(tmp_path, 2, ["/opt/forkv/bin/python3", "/opt/forkv/bin/forkv-server", "--port", "7000"],
                  environ)
    (tmp_path / "3").mkdir()  # a process that is gone: no files to read
    (tmp_path / "self").mkdir()
    assert hc.find_server(str(tmp_path)) == (["--port", "7000"], {"FORKV_REQUIREPASS": "a=b", "HOME": "/data"})


def test_skips_processes_it_cannot_read(tmp_path):
    (tmp_path / "1").mkdir()
    _fake_process(tmp_path, 9, ["python3", "-m", "server"], ["FORKV_PORT=7000"])
    assert hc.find_server(str(tmp_path)) == ([], {"FORKV_PORT": "7000"})


def test_no_server_process_is_reported(tmp_path):
    _fake_process(tmp_path, 7, ["sleep", "60"], [])
    assert hc.find_server(str(tmp_path)) == (None, None)


def test_probes_loopback_for_a_wildcard_bind_with_the_configured_password(tmp_path):
    conf = tmp_path / "forkv.conf"
    conf.write_text('port 7001\nrequirepass "from file"\n')
    environ = {"FORKV_BIND": "0.0.0.0", "FORKV_PORT": "7002"}
    # Precedence is the server's: file < environment < command line.
    assert hc.probe_target(load([str(conf)], environ)) == (socket.AF_INET, ("127.0.0.1", 7002), "from file")
    assert hc.probe_target(load([str(conf), "--port", "7003", "--requirepass", "cli"], environ)) == (
        socket.AF_INET, ("127.0.0.1", 7003), "cli")
    assert hc.probe_target(load([], {"FORKV_BIND": "* -::*"}))[1] == ("127.0.0.1", 6379)
    assert hc.probe_target(load(["--bind", "::"], {}))[:2] == (socket.AF_INET6, ("::1", 6379))
    assert hc.probe_target(load(["--bind", "10.1.2.3", "127.0.0.1"], {}))[1] == ("10.1.2.3", 6379)


@pytest.fixture(params=["forkv", "redis"])
def server_with_password(request):
    server = ServerProcess(request.param, args=["--requirepass", "s3cret"])
    try:
        server.start(wait=False)
        yield server
    finally:
        server.cleanup()


def test_probe_is_healthy_only_with_pong(server_with_password):
    server = server_with_password
    address = ("127.0.0.1", server.port)
    from tests.servers import wait_for

    wait_for(lambda: hc.probe(socket.AF_INET, address, "s3cret")[0], what=f"{server.kind} answering")
    healthy, message = hc.probe(socket.AF_INET, address, "s3cret")
    assert healthy and "PONG" in message
    healthy, message = hc.probe(socket.AF_INET, address, "wrong")
    assert not healthy and "WRONGPASS" in message
    healthy, message = hc.probe(socket.AF_INET, address)
    assert not healthy and "NOAUTH" in message


def test_probe_reports_a_closed_port():
    healthy, message = hc.probe(socket.AF_INET, ("127.0.0.1", free_port()), timeout=1.0)
    assert not healthy and "unhealthy" in message
