"""fakeredis's test suite as a differential judge: the tests of fakeredis's source distribution
(from the package index, never copied into this repository) in their real-server mode (`-m real`:
each test's "real" parametrization), run against Debian's redis-server and against forkv. A test
that passes on redis-server and not on forkv is a difference; the ones forkv knows it has (KNOWN,
with reasons) are listed apart, any other one fails the run.

The suite's conftest connects to localhost:6390; each run gets its own copy of the tests with that
port replaced by its server's. The suite runs in a throwaway venv with its own requirements (the
project's venv has newer pytest-asyncio and redis-py, which the suite predates). A second stage
runs the suite's hypothesis state machines with forkv in the fake's seat (see `patch_fuzz`). `make external` runs it
(a few minutes; not part of `make test`). Options: --tests to pick test paths, --keep DIR."""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from tests.external._judge import known_reason, outcomes, run_on_both, start_pytest  # noqa: E402
from tests.servers import ServerProcess  # noqa: E402

VERSION = "2.26.2"
PORT_IN_SUITE = "6390"
TESTS = ["test"]
# The suite's test requirements (its pyproject's test group), pinned to what was current at its
# release: pytest-asyncio 1.x refuses its session-scoped `real_redis_version` fixture.
REQUIREMENTS = ["redis==5.2.1", "pytest~=8.3.0", "pytest-asyncio~=0.24.0", "pytest-mock~=3.14",
                "hypothesis~=6.111"]

# What forkv does not have yet, by test name pattern. Module commands (JSON, Bloom, Cuckoo, CMS,
# TopK, t-digest, TimeSeries) fail on Redis 7.0 as well, so they never show up as differences.
KNOWN: list = [
]

# Skips are left out: -rA reports them by file and line, not by test.


def fetch(workdir: str) -> tuple:
    """fakeredis's sdist extracted (returns its directory) and the python of a throwaway venv
    holding the suite's requirements at the versions of its release (Dec 2024)."""
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", f"fakeredis=={VERSION}",
                    "--no-binary", ":all:", "--no-deps", "-d", workdir], check=True)
    with tarfile.open(os.path.join(workdir, f"fakeredis-{VERSION}.tar.gz")) as tar:
        tar.extractall(workdir, filter="data")
    venv = os.path.join(workdir, "venv")
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    python = os.path.join(venv, "bin", "python")
    subprocess.run([python, "-m", "pip", "install", "-q", f"fakeredis[lua,json,probabilistic]=={VERSION}"]
                   + REQUIREMENTS, check=True)
    return os.path.join(workdir, f"fakeredis-{VERSION}"), python


def copy_for_port(src: str, dest: str, port: int) -> str:
    """A copy of the sdist whose tests connect to `port` instead of 6390."""
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(src, dest)
    for root, _, names in os.walk(os.path.join(dest, "test")):
        for name in names:
            if name.endswith(".py"):
                path = os.path.join(root, name)
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                if PORT_IN_SUITE in text:
                    with open(path, "w", encoding="utf-8") as f:
                        f.write(text.replace(PORT_IN_SUITE, str(port)))
    return dest


def start_suite(src: str, python: str, tests: list, log_path: str) -> subprocess.Popen:
    return start_pytest(python, ["-m", "real"] + tests, src, log_path)


def patch_fuzz(suite: str, forkv_port: int, examples: int) -> None:
    """fakeredis's hypothesis state machines (test/test_hypothesis.py) send the same random command
    sequences to the fake and to the real server and compare the raw replies. Here forkv takes the
    fake's seat, error replies must match word for word (the suite compares only their types), and
    each machine runs `examples` sequences."""
    path = os.path.join(suite, "test", "test_hypothesis.py")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    fake = re.compile(r"self\.fake = fakeredis\.FakeStrictRedis\(server=fakeredis\.FakeServer\("
                      r"version=redis_ver\), port=\d+, db=2\)")
    assert fake.search(text), "test_hypothesis.py changed: no FakeStrictRedis to replace"
    text = fake.sub(f'self.fake = redis.StrictRedis("localhost", port={forkv_port}, db=2)\n'
                    "        self.fake.flushall()", text)
    edits = [
        ("        return True\n        # return self.wrapped.args == other.wrapped.args",
         "        return self.wrapped.args == other.wrapped.args"),
        ("max_examples=10,", f"max_examples={examples},"),
    ]
    for old, new in edits:
        assert old in text, f"test_hypothesis.py changed: {old!r}"
        text = text.replace(old, new)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def fuzz(src: str, python: str, workdir: str, examples: int) -> list:
    """The hypothesis machines with redis-server as the real side and forkv as the other; the
    machines (test ids) that found a discrepancy, each with its report."""
    servers = {kind: ServerProcess(kind) for kind in ("redis", "forkv")}
    try:
        for server in servers.values():
            server.start()
        suite = copy_for_port(src, os.path.join(workdir, "suite-fuzz"), servers["redis"].port)
        patch_fuzz(suite, servers["forkv"].port, examples)
        log_path = os.path.join(workdir, "fuzz.log")
        with open(log_path, "wb") as log:
            subprocess.run([python, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", "-o",
                            "addopts=", "--hypothesis-seed=0", "test/test_hypothesis.py"],
                           cwd=suite, stdout=log, stderr=subprocess.STDOUT, timeout=1800)
    finally:
        for server in servers.values():
            server.cleanup()
    found = outcomes(log_path)
    with open(log_path, encoding="utf-8", errors="replace") as f:
        reports = re.findall(r"Discrepancy when running command .*|Expected exception .*", f.read())
    return [t for t, o in found.items() if o != "PASSED"] + reports


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", default=",".join(TESTS), help="test paths, comma-separated")
    parser.add_argument("--keep", help="keep the sources and logs in this directory")
    parser.add_argument("--fuzz-examples", type=int, default=25,
                        help="sequences per hypothesis machine (0: skip that stage)")
    args = parser.parse_args()
    tests = args.tests.split(",")
    workdir = args.keep or tempfile.mkdtemp(prefix="fakeredis-suite-")
    os.makedirs(workdir, exist_ok=True)
    unexpected = 0
    try:
        src, python = fetch(workdir)
        logs = {kind: os.path.join(workdir, f"{kind}.log") for kind in ("redis", "forkv")}
        run_on_both(lambda kind, port: start_suite(
            copy_for_port(src, os.path.join(workdir, f"suite-{kind}"), port), python, tests,
            logs[kind]), 1800)
        ref, ours = (outcomes(logs[kind]) for kind in ("redis", "forkv"))
        differ = sorted(t for t, o in ref.items() if o == "PASSED" and ours.get(t) != "PASSED")
        by_reason: dict = {}
        for test in differ:
            by_reason.setdefault(known_reason(test, KNOWN), []).append(test)
        print(f"{len(ref)} tests ran; passed on redis-server "
              f"{sum(1 for o in ref.values() if o == 'PASSED')}, on forkv "
              f"{sum(1 for o in ours.values() if o == 'PASSED')}; "
              f"passed on redis-server only: {len(differ)}")
        for reason, found in by_reason.items():
            if reason is not None:
                print(f"  known ({len(found)}): {reason}")
        # Mostly module commands (JSON, Bloom, TimeSeries...) that Redis 7.0 does not have.
        failing = {}
        for test, outcome in ref.items():
            if outcome in ("FAILED", "ERROR"):
                failing[test.split("::")[0]] = failing.get(test.split("::")[0], 0) + 1
        if failing:
            print(f"  failing on redis-server too ({sum(failing.values())}): "
                  + ", ".join(f"{name} {count}" for name, count in sorted(failing.items())))
        for test in by_reason.get(None, []):
            print(f"  DIFFERENT: {test}")
            unexpected += 1
        if args.fuzz_examples:
            found = fuzz(src, python, workdir, args.fuzz_examples)
            print(f"hypothesis machines, {args.fuzz_examples} sequences each, forkv against "
                  f"redis-server: {len(found) or 'no'} discrepancies")
            for item in found:
                print(f"  DIFFERENT: {item}")
                unexpected += 1
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print("no unexpected differences" if not unexpected else f"{unexpected} unexpected differences")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
