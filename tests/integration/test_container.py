"""The container image, built and run for real with podman, as an operator would use it.

Builds docker/Dockerfile unmodified (`--pull=never --format docker`) on the base that
docker/local-base.sh provides, then checks running containers: PING on a published port, the
HEALTHCHECK, a non-root server, SIGTERM with a final snapshot on the volume that a new container
serves, BGSAVE, redis-server style arguments and a mounted config file.

Run through docker/test-container.sh (`make test-container`), which installs podman first. Every
container, volume and image made here carries this run's label or name and is removed at the end,
pass or fail. Clients connect only to ports published on 127.0.0.1, never to a bridge address.
"""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest

from tests.servers import free_port, wait_for

pytestmark = pytest.mark.container

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CA_BUNDLE = os.environ.get("FORKV_PIP_CA", "/etc/ssl/certs/ca-certificates.crt")
SERVER_UID = 999  # the Dockerfile's USER
STOP_TIMEOUT = 10  # Docker's and podman's default grace period before SIGKILL


class Podman:
    """podman with this machine's containers.conf, and a record of what this run made."""

    def __init__(self):
        self.run_id = uuid.uuid4().hex[:8]
        self.label = f"forkv-test={self.run_id}"
        self.labels = [self.label]  # compose projects add theirs
        self.images = []
        conf = os.environ.get("CONTAINERS_CONF") or os.path.join(REPO, "docker", "containers.conf")
        self.env = dict(os.environ, CONTAINERS_CONF=conf)

    def __call__(self, *args, timeout=120, check=True):
        result = subprocess.run(["podman", *args], capture_output=True, text=True, env=self.env,
                                timeout=timeout, cwd=REPO)
        if check and result.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)} exited {result.returncode}:\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result

    def name(self, what):
        return f"forkv-test-{self.run_id}-{what}"

    def inspect(self, container, template):
        return self("inspect", "--format", template, container).stdout.strip()

    def cleanup(self):
        for label in self.labels:
            ids = self("ps", "-aq", "--filter", f"label={label}", check=False).stdout.split()
            if ids:
                self("rm", "-f", "-v", "-t", "0", *ids, check=False)
            volumes = self("volume", "ls", "-q", "--filter", f"label={label}", check=False).stdout.split()
            if volumes:
                self("volume", "rm", "-f", *volumes, check=False)
        for image in self.images:
            self("rmi", "-f", image, check=False)


@pytest.fixture(scope="module")
def podman():
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed and could not be installed here (docker/test-container.sh "
                    "installs it with apt-get as root): the container image was NOT built or tested")
    tool = Podman()
    try:
        yield tool
    finally:
        tool.cleanup()


@pytest.fixture(scope="module")
def image(podman):
    """The image, built from the repository as `docker build -f docker/Dockerfile .` would."""
    base = subprocess.run([os.path.join(REPO, "docker", "local-base.sh")], capture_output=True,
                          text=True, env=podman.env, timeout=900)
    assert base.returncode == 0, f"docker/local-base.sh failed:\n{base.stdout}\n{base.stderr}"
    tag = f"localhost/forkv-test:{podman.run_id}"
    podman.images.append(tag)
    args = ["build", "--pull=never", "--format", "docker", "--layers=false", "-f", "docker/Dockerfile",
            "-t", tag]
    if os.path.isfile(CA_BUNDLE):
        # Only for a TLS-intercepting proxy; a build secret is never stored in the image.
        args += ["--secret", f"id=pip_ca,src={CA_BUNDLE}"]
    podman(*args, ".", timeout=1200)
    return tag


class Container:
    def __init__(self, podman, name, port, password=None):
        self.podman, self.name, self.port, self.password = podman, name, port, password

    def cli(self, *args, check=True):
        auth = ["--no-auth-warning", "-a", self.password] if self.password else []
        result = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(self.port), *auth, *args],
                                capture_output=True, text=True, timeout=30)
        if check:
            assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def pid(self):
        return int(self.podman.inspect(self.name, "{{.State.Pid}}"))

    def logs(self):
        result = self.podman("logs", self.name, check=False)
        return result.stdout + result.stderr

    def exited(self):
        return self.podman.inspect(self.name, "{{.State.Status}}") in ("exited", "stopped")

    def wait_ready(self, timeout=30):
        def answers():
            if self.exited():
                raise AssertionError(f"container {self.name} exited:\n{self.logs()}")
            return self.cli("PING", check=False) == "PONG"

        wait_for(answers, timeout, interval=0.1, what=f"PONG from {self.name} on 127.0.0.1:{self.port}")
        return self

    def healthcheck(self):
        """`podman healthcheck run`: the image's HEALTHCHECK, run now (no systemd timers here)."""
        result = self.podman("healthcheck", "run", self.name, check=False)
        status = self.podman.inspect(self.name, "{{.State.Healthcheck.Status}}")
        return result.returncode, status


@pytest.fixture
def start(podman, image):
    """start(*server_args, container_port=6379, volume=None, env={}, run_options=()) -> Container"""
    count = iter(range(1000))

    def start(*server_args, container_port=6379, volume=None, env=None, run_options=(), password=None):
        name = podman.name(f"c{next(count)}-{uuid.uuid4().hex[:4]}")
        port = free_port()
        args = ["run", "-d", "--name", name, "--label", podman.label, "--health-interval=disable",
                "-p", f"127.0.0.1:{port}:{container_port}", *run_options]
        if volume:
            args += ["-v", f"{volume}:/data"]
        for key, value in (env or {}).items():
            args += ["-e", f"{key}={value}"]
        podman(*args, image, *server_args)
        return Container(podman, name, port, password).wait_ready()

    return start


@pytest.fixture
def volume(podman):
    name = podman.name(f"data-{uuid.uuid4().hex[:4]}")
    podman("volume", "create", "--label", podman.label, name)
    return name


def host_status(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(line.split(":", 1) for line in f.read().splitlines())


def test_answers_ping_and_is_healthy_as_non_root(start):
    c = start()
    assert c.cli("PING") == "PONG"
    assert c.healthcheck() == (0, "healthy")
    # The process podman started is the server itself (PID 1 in the container), not a shell.
    pid = c.pid()
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        assert b"forkv-server" in f.read()
    status = host_status(pid)
    assert status["Uid"].split() == [str(SERVER_UID)] * 4
    assert status["Gid"].split() == [str(SERVER_UID)] * 4
    # No password, reachable from outside: served (protected mode off), with a warning in the log.
    assert re.search(r"WARNING.*without a password", c.logs())


def test_password_from_the_environment(start):
    c = start(env={"FORKV_REQUIREPASS": "s3cret word"}, password="s3cret word")
    assert c.cli("PING") == "PONG"
    c.password = None
    assert "NOAUTH" in c.cli("PING")
    # The probe finds the password the same way the server did.
    assert c.healthcheck() == (0, "healthy")
    assert "without a password" not in c.logs()


@pytest.mark.parametrize("init", [False, True], ids=["pid1", "init"])
def test_sigterm_saves_to_the_volume_and_a_new_container_serves_it(start, podman, volume, init):
    options = ["--init"] if init else []
    first = start("--save", "3600 1", volume=volume, run_options=options)
    assert first.cli("SET", "greeting", "hello from the old container") == "OK"
    assert first.cli("SET", "session", "expires later", "EX", "3600") == "OK"
    began = time.monotonic()
    podman("stop", "-t", str(STOP_TIMEOUT), first.name, timeout=STOP_TIMEOUT + 30)
    elapsed = time.monotonic() - began
    # 137 would mean podman gave up waiting and sent SIGKILL.
    assert podman.inspect(first.name, "{{.State.ExitCode}}") == "0", first.logs()
    assert elapsed < STOP_TIMEOUT, f"stop took {elapsed:.1f}s"

    mountpoint = podman("volume", "inspect", "--format", "{{.Mountpoint}}", volume).stdout.strip()
    snapshot = os.path.join(mountpoint, "dump.rdb")
    assert os.path.getsize(snapshot) > 0, first.logs()
    assert os.stat(snapshot).st_uid == SERVER_UID

    second = start(volume=volume, run_options=options)
    assert second.cli("GET", "greeting") == "hello from the old container"
    assert second.cli("GET", "session") == "expires later"
    assert 0 < int(second.cli("TTL", "session")) <= 3600


def test_bgsave_completes_and_lastsave_advances(start, podman):
    c = start()
    before = int(c.cli("LASTSAVE"))
    # LASTSAVE counts whole seconds: let one pass so that a save can show up as later.
    wait_for(lambda: time.time() >= before + 1, 5, what="the next second")
    assert c.cli("SET", "k", "v") == "OK"
    assert c.cli("BGSAVE") == "Background saving started"
    wait_for(lambda: int(c.cli("LASTSAVE")) > before, 30, interval=0.1, what="LASTSAVE to advance")
    info = dict(line.split(":", 1) for line in c.cli("INFO", "persistence").splitlines() if ":" in line)
    assert info["rdb_bgsave_in_progress"] == "0"
    assert info["rdb_last_bgsave_status"] == "ok"
    # The forked child was reaped: the server, PID 1 here, is left with no children, zombie or not.
    pid = c.pid()
    wait_for(lambda: open(f"/proc/{pid}/task/{pid}/children").read().strip() == "", 10,
             what="the snapshot child to be reaped")
    assert podman("exec", c.name, "test", "-s", "/data/dump.rdb", check=False).returncode == 0


def test_redis_server_style_arguments(start):
    c = start("--port", "7000", "--save", "60 1", container_port=7000)
    assert c.cli("CONFIG", "GET", "port").split() == ["port", "7000"]
    assert c.cli("CONFIG", "GET", "save").splitlines() == ["save", "60 1"]
    # The HEALTHCHECK follows the server to its port.
    assert c.healthcheck() == (0, "healthy")


def test_mounted_config_file(start, tmp_path):
    with open(os.path.join(REPO, "docker", "forkv.conf")) as f:
        sample = f.read()
    conf = tmp_path / "forkv.conf"
    conf.write_text(sample + "\nport 7001\nrequirepass from-the-file\nloglevel verbose\n")
    conf.chmod(0o644)
    c = start("/etc/forkv/forkv.conf", container_port=7001, password="from-the-file",
              run_options=["-v", f"{conf}:/etc/forkv/forkv.conf:ro"])
    got = c.cli("CONFIG", "GET", "*").splitlines()
    config = dict(zip(got[::2], got[1::2]))
    assert config["port"] == "7001"
    assert config["loglevel"] == "verbose"
    assert config["dir"] == "/data"
    assert config["save"] == "3600 1 300 100 60 10000"
    assert c.healthcheck() == (0, "healthy")


@pytest.fixture(scope="module")
def exporter_image(podman):
    """compose.yaml's exporter image, built here so that compose finds it and builds nothing."""
    tag = f"localhost/forkv-test-exporter:{podman.run_id}"
    podman.images.append(tag)
    podman("build", "--pull=never", "--format", "docker", "--layers=false", "-f", "docker/exporter.Dockerfile",
           "-t", tag, "docker", timeout=900)
    return tag


def test_compose_service_with_the_monitoring_profile(podman, image, exporter_image):
    assert importlib.util.find_spec("podman_compose"), "podman-compose is missing: install the test extras"
    project = podman.name("compose")
    podman.labels.append(f"io.podman.compose.project={project}")
    port, metrics_port = free_port(), free_port()
    env = dict(podman.env, FORKV_IMAGE=image, FORKV_EXPORTER_IMAGE=exporter_image, FORKV_HOST_PORT=str(port),
               FORKV_EXPORTER_PORT=str(metrics_port), FORKV_REQUIREPASS="compose secret")
    command = [sys.executable, "-m", "podman_compose", "-p", project, "-f", "docker/compose.yaml",
               "--profile", "monitoring"]

    def compose(*args, check=True):
        result = subprocess.run(command + list(args), env=env, cwd=REPO, capture_output=True, text=True,
                                timeout=300)
        assert result.returncode == 0 or not check, \
            f"podman-compose {' '.join(args)}:\n{result.stdout}\n{result.stderr}"

    try:
        compose("up", "-d")
        name = podman("ps", "-q", "--filter", f"label=io.podman.compose.project={project}",
                      "--filter", "label=io.podman.compose.service=forkv").stdout.strip()
        c = Container(podman, name, port, password="compose secret").wait_ready()
        # The sample config file is mounted and used; the password comes from the environment.
        assert c.cli("CONFIG", "GET", "save").splitlines() == ["save", "3600 1 300 100 60 10000"]
        assert c.cli("CONFIG", "GET", "dir").splitlines() == ["dir", "/data"]
        assert c.healthcheck() == (0, "healthy")
        assert podman.inspect(name, "{{.HostConfig.RestartPolicy.Name}}") == "unless-stopped"
        assert podman.inspect(name, "{{range .Mounts}}{{.Name}}:{{.Destination}} {{end}}").split()[0] == (
            f"{project}_data:/data")

        def exporter_sees_forkv():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as reply:
                    return "\nredis_up 1\n" in reply.read().decode()
            except OSError:
                return False

        wait_for(exporter_sees_forkv, 30, interval=0.2, what="redis_up 1 from the exporter")
    finally:
        compose("down", "-v", "-t", str(STOP_TIMEOUT), check=False)  # podman.cleanup() is the backstop
