"""python-rq's test suite as a differential judge: a library that leans on Redis (queues as lists
and sorted sets, Lua scripts, pipelines with WATCH, pub/sub) run from its sdist's tests against
Debian's redis-server and against forkv. A test that passes on redis-server and not on forkv is a
difference; the ones forkv knows it has (KNOWN) are listed apart, any other one fails the run.

rq's tests connect with redis-py's default port (and a few spell out 6379): each run gets a copy
of the tests with 6379 replaced by its server's port, and the throwaway venv's redis-py takes its
default port from SUITE_REDIS_PORT. `make external` runs it (a few minutes; not part of
`make test`). Options: --tests to pick test paths, --keep DIR."""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from tests.servers import ServerProcess  # noqa: E402

VERSION = "3.0.0"
TESTS = ["tests"]
REQUIREMENTS = ["pytest", "psutil", "pytest-timeout"]
DEFAULT_PORT = re.compile(r"(?<!\d)6379(?!\d)")

# rq keeps job results in streams (XADD on every finished job, XREAD/XREVRANGE to fetch them), so
# most of its worker tests need them; a failure is put down to streams only when its report names
# an X command that forkv refused.
KNOWN = [
    (re.compile(r"unknown command '(XADD|XREAD|XREVRANGE|XRANGE|XTRIM|XLEN|XINFO|XDEL)'", re.I),
     "streams (rq stores job results with XADD) are being implemented in parallel"),
]


def fetch(workdir: str) -> tuple:
    """rq's sdist extracted (returns its directory) and the python of a throwaway venv holding rq's
    requirements, its redis-py patched to take the default port from the environment."""
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", f"rq=={VERSION}",
                    "--no-binary", ":all:", "--no-deps", "-d", workdir], check=True)
    with tarfile.open(os.path.join(workdir, f"rq-{VERSION}.tar.gz")) as tar:
        tar.extractall(workdir, filter="data")
    venv = os.path.join(workdir, "venv")
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    python = os.path.join(venv, "bin", "python")
    subprocess.run([python, "-m", "pip", "install", "-q", f"rq=={VERSION}"] + REQUIREMENTS,
                   check=True)
    client = subprocess.run([python, "-c", "import redis.client; print(redis.client.__file__)"],
                            check=True, capture_output=True, text=True).stdout.strip()
    with open(client, encoding="utf-8") as f:
        text = f.read()
    default = "        port: int = 6379,\n"
    assert default in text, "redis-py's Redis() no longer spells its default port this way"
    with open(client, "w", encoding="utf-8") as f:
        f.write(text.replace(default, '        port: int = int(__import__("os").environ.get('
                                      '"SUITE_REDIS_PORT", "6379")),\n'))
    return os.path.join(workdir, f"rq-{VERSION}"), python


def copy_for_port(src: str, dest: str, port: int) -> str:
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(src, dest)
    for root, _, names in os.walk(dest):
        for name in names:
            if name.endswith(".py"):
                path = os.path.join(root, name)
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                patched = DEFAULT_PORT.sub(str(port), text)
                if patched != text:
                    with open(path, "w", encoding="utf-8") as f:
                        f.write(patched)
    return dest


def outcomes(junit_path: str) -> dict:
    """test id -> (outcome, the failure's report) from pytest's JUnit XML."""
    result = {}
    try:
        root = ET.parse(junit_path).getroot()
    except (OSError, ET.ParseError):
        return result
    for case in root.iter("testcase"):
        test = f"{case.get('classname')}::{case.get('name')}"
        outcome, report = "PASSED", ""
        for tag in ("failure", "error", "skipped"):
            node = case.find(tag)
            if node is not None:
                outcome = tag.upper()
                report = (node.get("message") or "") + "\n" + (node.text or "")
                break
        result[test] = (outcome, report)
    return result


def known_reason(report: str):
    for pattern, reason in KNOWN:
        if pattern.search(report):
            return reason
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", default=",".join(TESTS), help="test paths, comma-separated")
    parser.add_argument("--keep", help="keep the sources and logs in this directory")
    args = parser.parse_args()
    tests = args.tests.split(",")
    workdir = args.keep or tempfile.mkdtemp(prefix="rq-suite-")
    os.makedirs(workdir, exist_ok=True)
    unexpected = 0
    try:
        src, python = fetch(workdir)
        servers = {kind: ServerProcess(kind) for kind in ("redis", "forkv")}
        procs = {}
        try:
            for kind, server in servers.items():
                server.start()
                copy = copy_for_port(src, os.path.join(workdir, f"suite-{kind}"), server.port)
                log_path = os.path.join(workdir, f"{kind}.log")
                log = open(log_path, "wb")
                junit = os.path.join(workdir, f"{kind}.xml")
                # A test stuck on a worker that never finishes is cut off, not the whole run.
                cmd = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--timeout", "120",
                       f"--junitxml={junit}"] + tests
                env = dict(os.environ, SUITE_REDIS_PORT=str(server.port))
                proc = subprocess.Popen(cmd, cwd=copy, stdout=log, stderr=subprocess.STDOUT,
                                        env=env, start_new_session=True)
                procs[kind] = (proc, log, junit)
            for proc, log, _ in procs.values():
                proc.wait(timeout=1800)
                log.close()
        finally:
            for proc, _, _ in procs.values():
                if proc.poll() is None:
                    os.killpg(proc.pid, 9)
                    proc.wait()
            for server in servers.values():
                server.cleanup()
        ref, ours = (outcomes(procs[kind][2]) for kind in ("redis", "forkv"))
        differ = sorted(t for t, (o, _) in ref.items()
                        if o == "PASSED" and ours.get(t, ("MISSING",))[0] != "PASSED")
        by_reason: dict = {}
        for test in differ:
            by_reason.setdefault(known_reason(ours.get(test, ("", ""))[1]), []).append(test)
        print(f"{len(ref)} tests ran; passed on redis-server "
              f"{sum(1 for o, _ in ref.values() if o == 'PASSED')}, on forkv "
              f"{sum(1 for o, _ in ours.values() if o == 'PASSED')}; "
              f"passed on redis-server only: {len(differ)}")
        for reason, found in by_reason.items():
            if reason is not None:
                print(f"  known ({len(found)}): {reason}")
        for test in by_reason.get(None, []):
            print(f"  DIFFERENT: {test}")
            unexpected += 1
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print("no unexpected differences" if not unexpected else f"{unexpected} unexpected differences")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
