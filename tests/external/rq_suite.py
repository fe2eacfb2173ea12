"""python-rq's test suite as a differential judge: a library that leans on Redis (queues as lists
and sorted sets, Lua scripts, pipelines with WATCH, pub/sub) run from its sdist's tests against
Debian's redis-server and against forkv. A test that passes on redis-server and not on forkv is run
again on both servers by itself; if it still passes on redis-server only, it is a difference and
fails the run (rq's worker tests wait on forked workers, and a few miss under the load of both
runs at once).

rq's tests connect with redis-py's default port (and a few spell out 6379): each run gets a copy
of the tests with 6379 replaced by its server's port, and the throwaway venv's redis-py takes its
default port from SUITE_REDIS_PORT. `make external` runs it (about 25 minutes; not part of
`make test`). Options: --tests to pick test paths, --keep DIR."""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from tests.external._judge import run_on_both  # noqa: E402

VERSION = "3.0.0"
TESTS = ["tests"]
REQUIREMENTS = ["pytest", "psutil", "pytest-timeout"]
DEFAULT_PORT = re.compile(r"(?<!\d)6379(?!\d)")

# rq keeps job results in streams (XADD when a job finishes, XREAD/XREVRANGE to fetch results), often
# from inside a worker whose errors never reach the test's report: the report says how many of the
# differing tests used a stream command on redis-server.

# Loaded into the suite's pytest with -p: one JSON line per test, its outcome and the stream
# commands the server's INFO commandstats counted during it (reset before each test).
PLUGIN = """
import json, os
import pytest
import redis

_conn = redis.Redis(port=int(os.environ["SUITE_REDIS_PORT"]))
_out = open(os.environ["SUITE_RECORD"], "a")
_outcome = {}


def _stream_calls():
    try:
        stats = _conn.info("commandstats")
    except redis.RedisError:
        return []
    return sorted(k[8:] for k in stats if k.startswith("cmdstat_x"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    try:
        _conn.config_resetstat()
    except redis.RedisError:
        pass
    yield
    record = {"test": item.nodeid, "outcome": _outcome.pop(item.nodeid, "ERROR"),
              "streams": _stream_calls()}
    _out.write(json.dumps(record) + "\\n")
    _out.flush()


def pytest_runtest_logreport(report):
    if report.failed:
        _outcome[report.nodeid] = "FAILED" if report.when == "call" else "ERROR"
    elif report.when == "call" and report.nodeid not in _outcome:
        _outcome[report.nodeid] = "SKIPPED" if report.skipped else "PASSED"
    elif report.skipped:
        _outcome.setdefault(report.nodeid, "SKIPPED")
"""


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
    if "SUITE_REDIS_PORT" in text:  # a kept directory's venv, patched by an earlier run
        return os.path.join(workdir, f"rq-{VERSION}"), python
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


def records(path: str) -> dict:
    """test id -> (outcome, the stream commands the server counted during it)."""
    result = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                record = json.loads(line)
                result[record["test"]] = (record["outcome"], record["streams"])
    except OSError:
        pass
    return result


def run_both(src: str, python: str, workdir: str, tests: list, deadline_s: float, tag: str) -> tuple:
    """The tests run against a fresh redis-server and a fresh forkv at once; (redis's records,
    forkv's records), see records(). A run that outlives the deadline is cut off and judged on
    the tests it reached: a worker test whose job never finishes waits for ever (rq's own SIGALRM
    use defeats pytest-timeout), and a worker pool's children can keep pytest from exiting."""
    paths = {kind: os.path.join(workdir, f"{kind}{tag}.jsonl") for kind in ("redis", "forkv")}

    def launch(kind: str, port: int) -> subprocess.Popen:
        copy = copy_for_port(src, os.path.join(workdir, f"suite-{kind}"), port)
        if os.path.exists(paths[kind]):  # the plugin appends; a kept directory may hold an old run
            os.remove(paths[kind])
        # A test stuck on a worker that never finishes is cut off, not the whole run.
        cmd = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--timeout", "120",
               "-p", "suite_record"] + tests
        env = dict(os.environ, SUITE_REDIS_PORT=str(port), SUITE_RECORD=paths[kind],
                   PYTHONPATH=workdir)
        log = open(os.path.join(workdir, f"{kind}{tag}.log"), "wb")
        proc = subprocess.Popen(cmd, cwd=copy, stdout=log, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
        proc.log = log  # type: ignore[attr-defined]
        return proc

    run_on_both(launch, deadline_s)
    return records(paths["redis"]), records(paths["forkv"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", default=",".join(TESTS), help="test paths, comma-separated")
    parser.add_argument("--keep", help="keep the sources and logs in this directory")
    parser.add_argument("--deadline", type=float, default=2700,
                        help="seconds both runs may take before they are cut off")
    args = parser.parse_args()
    tests = args.tests.split(",")
    workdir = args.keep or tempfile.mkdtemp(prefix="rq-suite-")
    os.makedirs(workdir, exist_ok=True)
    unexpected = 0
    try:
        src, python = fetch(workdir)
        with open(os.path.join(workdir, "suite_record.py"), "w", encoding="utf-8") as f:
            f.write(PLUGIN)
        ref, ours = run_both(src, python, workdir, tests, args.deadline, "")
        differ = sorted(t for t, (o, _) in ref.items()
                        if o == "PASSED" and t in ours and ours[t][0] != "PASSED")
        unreached = [t for t, (o, _) in ref.items() if o == "PASSED" and t not in ours]
        print(f"{len(ref)} tests ran; passed on redis-server "
              f"{sum(1 for o, _ in ref.values() if o == 'PASSED')}, on forkv "
              f"{sum(1 for o, _ in ours.values() if o == 'PASSED')}; "
              f"passed on redis-server only: {len(differ)}"
              f" (of them using streams there: {sum(1 for t in differ if ref[t][1])})")
        if unreached:
            print(f"not reached on forkv (its run was cut off): {len(unreached)} tests that "
                  "passed on redis-server")
        again = differ + unreached
        if again:
            ref2, ours2 = run_both(src, python, workdir, again, args.deadline, "-again")
            for test in again:
                if ref2.get(test, ("",))[0] != "PASSED":
                    print(f"  failed on redis-server too when run again: {test}")
                elif ours2.get(test, ("",))[0] == "PASSED":
                    print(f"  passed on forkv when run again: {test}")
                else:
                    print(f"  DIFFERENT: {test}")
                    unexpected += 1
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print("no unexpected differences" if not unexpected else f"{unexpected} unexpected differences")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
