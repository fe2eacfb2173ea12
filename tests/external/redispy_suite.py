"""redis-py's own test suite as a differential judge: the test files of the installed redis-py's
source distribution (downloaded from the package index, never copied into this repository) run
against Debian's redis-server and against forkv, under RESP2 and RESP3. A test that passes on
redis-server and not on forkv is a difference; the ones forkv knows it has (KNOWN, with reasons)
are listed apart, any other one fails the run.

`make external` runs it (about 10 minutes on 2 cores; not part of `make test`: it needs the
package index and its length belongs with the long runs). Options: --files to pick test files,
--keep DIR to keep the logs."""

import argparse
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from tests.external._judge import known_reason, outcomes, run_on_both, start_pytest  # noqa: E402

FILES = [
    "tests/test_commands.py", "tests/test_scripting.py", "tests/test_function.py",
    "tests/test_pipeline.py", "tests/test_pubsub.py", "tests/test_lock.py", "tests/test_hash.py",
    "tests/test_encoding.py", "tests/test_monitor.py", "tests/test_asyncio/test_commands.py",
    "tests/test_asyncio/test_pubsub.py", "tests/test_asyncio/test_scripting.py",
    "tests/test_asyncio/test_lock.py", "tests/test_asyncio/test_pipeline.py",
]

# What forkv does not have yet, by test name pattern.
KNOWN = [
]



def fetch_sources(workdir: str) -> str:
    """The redis-py sdist of the installed version, extracted; returns its directory."""
    version = importlib.metadata.version("redis")
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", f"redis=={version}",
                    "--no-binary", ":all:", "--no-deps", "-d", workdir], check=True)
    archive = os.path.join(workdir, f"redis-{version}.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(workdir, filter="data")
    return os.path.join(workdir, f"redis-{version}")


def start_suite(src: str, files: list, port: int, protocol: int, log_path: str) -> subprocess.Popen:
    # The sdist's own `redis` package (the same version) comes first on its path, as in its CI.
    return start_pytest(sys.executable, [f"--protocol={protocol}",
                                         f"--redis-url=redis://127.0.0.1:{port}/0"] + files,
                        src, log_path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", default=",".join(FILES))
    parser.add_argument("--keep", help="keep the sources and logs in this directory")
    args = parser.parse_args()
    files = args.files.split(",")
    workdir = args.keep or tempfile.mkdtemp(prefix="redispy-suite-")
    os.makedirs(workdir, exist_ok=True)
    unexpected = 0
    try:
        src = fetch_sources(workdir)
        for protocol in (2, 3):
            logs = {kind: os.path.join(workdir, f"{kind}-resp{protocol}.log")
                    for kind in ("redis", "forkv")}
            run_on_both(lambda kind, port: start_suite(src, files, port, protocol, logs[kind]),
                        1800, ["--enable-debug-command", "yes"])
            ref, ours = (outcomes(logs[kind]) for kind in ("redis", "forkv"))
            differ = sorted(t for t, o in ref.items() if o == "PASSED" and ours.get(t) != "PASSED")
            by_reason: dict = {}
            for test in differ:
                by_reason.setdefault(known_reason(test, KNOWN), []).append(test)
            passed = sum(1 for o in ours.values() if o == "PASSED")
            print(f"RESP{protocol}: {len(ref)} tests ran; passed on redis-server "
                  f"{sum(1 for o in ref.values() if o == 'PASSED')}, on forkv {passed}; "
                  f"passed on redis-server only: {len(differ)}")
            for reason, tests in by_reason.items():
                if reason is not None:
                    print(f"  known ({len(tests)}): {reason}")
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
