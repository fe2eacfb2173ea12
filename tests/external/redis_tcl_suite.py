"""Redis's own test suite as a differential judge: the tcl suite of the installed redis-server's
version (Debian's source tarball, fetched from the package archive, never copied into this
repository) run in its external-server mode (`./runtest --host --port`) against Debian's
redis-server and against forkv, one unit at a time, each unit on a fresh pair of servers. A test
that passes on redis-server and not on forkv is a difference; the ones forkv knows it has (KNOWN,
with reasons) are listed apart, any other one fails the run.

Tests tagged needs:repl (a replication stream) are left out for both servers, forkv has no
replication, and so are the few in SKIP that need eviction. `make external` runs it after
redis-py's suite. Options: --units to pick units (e.g. unit/type/list,unit/expire), --keep DIR to
keep the sources and logs, --src DIR to use an already extracted source tree."""

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from tests.servers import ServerProcess  # noqa: E402

# What forkv does not have yet, by a pattern over "unit: test name: forkv's first error line".
KNOWN = [
    (re.compile(r"unknown command 'SYNC'|NOREPLICAS|: Test special commands are paused by RO"),
     "replication (SYNC, min-replicas): forkv has no replication (tests not tagged needs:repl)"),
    (re.compile(r"'bgrewriteaof'|'loadaof'"), "AOF: forkv persists with RDB only"),
    (re.compile(r"MIGRATE"), "MIGRATE is not implemented"),
    (re.compile(r": trim on SET with big value: "),
     "runs only where INFO's mem_allocator is jemalloc (forkv reports libc)"),
    (re.compile(r": LATENCY of expire events are correctly collected: "),
     "compiled forkv frees the test's 1M-member set in under the 20 ms threshold the test sets, so "
     "no expire-cycle sample is recorded (the pure-Python run records one)"),
    (re.compile(r"^unit/querybuf: query buffer resized correctly"),
     "the query buffer's allocation: Redis shows the 16-32 KB it keeps allocated for an idle client "
     "(qbuf) until its cron shrinks it; forkv shows the unparsed bytes it holds (0)"),
    (re.compile(r": INCR can modify objects in-place: "),
     "DEBUG OBJECT's address: forkv's values are immutable Python objects, INCR stores a new one"),
]

# Tests left out on both servers: they need eviction, which forkv lacks (it refuses writes over
# maxmemory instead), and they leave maxmemory set, so every later test of their unit would fail
# for that reason alone (on forkv) or hang waiting for an eviction.
SKIP = [
    "Tracking invalidation message of eviction keys should be before response",
    "Keyspace notifications: evicted events",
]

RESULT = re.compile(r"^\[(ok|err|exception|ignore|skip)\]: (.*?)(?: \(\d+ ms\))?$")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
TIMEOUT_PER_UNIT = 600


def redis_version() -> str:
    out = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout
    return re.search(r"v=(\d+\.\d+\.\d+)", out).group(1)


def fetch_sources(workdir: str) -> str:
    """Debian's orig tarball of the installed redis-server's upstream version, extracted: it sits
    in the same pool directory as the installed package's .deb."""
    version = redis_version()
    uris = subprocess.run(["apt-get", "download", "--print-uris", "redis-server"],
                          capture_output=True, text=True).stdout
    pools = [m.group(1).rsplit("/", 1)[0] for m in re.finditer(r"'([^']+\.deb)'", uris)]
    pools += ["http://deb.debian.org/debian-security/pool/updates/main/r/redis",
              "http://deb.debian.org/debian/pool/main/r/redis"]
    archive = os.path.join(workdir, f"redis_{version}.orig.tar.gz")
    for pool in pools:
        try:
            urllib.request.urlretrieve(f"{pool}/redis_{version}.orig.tar.gz", archive)
            break
        except OSError:
            continue
    else:
        raise SystemExit(f"redis_{version}.orig.tar.gz not found in {pools}")
    with tarfile.open(archive) as tar:
        tar.extractall(workdir, filter="data")
    return os.path.join(workdir, f"redis-{version}")


def all_units(src: str) -> list:
    with open(os.path.join(src, "tests", "test_helper.tcl")) as f:
        body = re.search(r"set ::all_tests \{(.*?)\}", f.read(), re.S).group(1)
    return [u for u in body.split() if u.startswith("unit/")]


def run_unit(src: str, kind: str, unit: str, logdir: str) -> dict:
    """The unit's outcomes on a fresh server of this kind: test name -> (ok/err/exception/...,
    the first line of its error message)."""
    log_path = os.path.join(logdir, f"{kind}-{unit.replace('/', '_')}.log")
    for _ in range(5):  # the harness's own ports (test server, spawned servers) may be taken
        result = _run_unit_once(src, kind, unit, log_path)
        if result is not None:
            return result
    raise SystemExit(f"{unit} on {kind}: the tcl harness could not start (see {log_path})")


def _run_unit_once(src: str, kind: str, unit: str, log_path: str):
    baseport = random.randrange(21000, 60000, 64)
    with ServerProcess(kind, args=["--enable-debug-command", "yes"]) as server, \
            open(log_path, "w") as log:
        cmd = ["tclsh", "tests/test_helper.tcl", "--host", "127.0.0.1", "--port", str(server.port),
               "--single", unit, "--clients", "1", "--baseport", str(baseport), "--durable",
               "--timeout", "120", "--tags", "-needs:repl"]
        for name in SKIP:
            cmd += ["--skiptest", name]
        proc = subprocess.Popen(cmd, cwd=src, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            proc.wait(TIMEOUT_PER_UNIT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
            log.write("\n[exception]: unit timed out\n")
    result: dict = {}
    last = None
    with open(log_path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    if "[ready]" not in text:  # the harness could not start (its ports were taken): again
        return None
    for line in text.splitlines():
        line = ANSI.sub("", line)
        m = RESULT.match(line)
        if m:
            outcome, name = m.groups()
            name = name.rsplit(" in tests/", 1)[0]
            last = name if name not in result and outcome in ("err", "exception") else None
            result.setdefault(name, (outcome, ""))
        elif last is not None and line.strip():
            result[last] = (result[last][0], line.strip())
            last = None
    return result


def known_reason(unit: str, test: str, detail: str = ""):
    for pattern, reason in KNOWN:
        if pattern.search(f"{unit}: {test}: {detail}"):
            return reason
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", help="comma-separated units (default: every unit/ of the suite)")
    parser.add_argument("--keep", help="keep the sources and logs in this directory")
    parser.add_argument("--src", help="an extracted redis source tree to use instead of fetching one")
    args = parser.parse_args()
    workdir = args.keep or tempfile.mkdtemp(prefix="redis-tcl-suite-")
    os.makedirs(workdir, exist_ok=True)
    unexpected, ok_counts = 0, {"redis": 0, "forkv": 0}
    try:
        src = os.path.abspath(args.src) if args.src else fetch_sources(workdir)
        units = args.units.split(",") if args.units else all_units(src)
        with ThreadPoolExecutor(2) as pool:
            for unit in units:
                runs = {kind: pool.submit(run_unit, src, kind, unit, workdir)
                        for kind in ("redis", "forkv")}
                ref, ours = runs["redis"].result(), runs["forkv"].result()
                oks = {kind: sum(1 for o, _ in res.values() if o == "ok")
                       for kind, res in (("redis", ref), ("forkv", ours))}
                for kind in oks:
                    ok_counts[kind] += oks[kind]
                differ = [t for t, (o, _) in ref.items() if o == "ok" and ours.get(t, ("", ""))[0] != "ok"]
                reasons = {t: known_reason(unit, t, ours.get(t, ("", ""))[1]) for t in differ}
                known = sorted({r for r in reasons.values() if r})
                new = [t for t in differ if not reasons[t]]
                print(f"{unit}: ok on redis-server {oks['redis']}, on forkv {oks['forkv']}"
                      + (f"; known gaps {len(differ) - len(new)} ({'; '.join(known)})" if known else ""),
                      flush=True)
                for test in new:
                    outcome, detail = ours.get(test, ("not run", ""))
                    print(f"  DIFFERENT: {test} (forkv: {outcome}: {detail[:160]})", flush=True)
                unexpected += len(new)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"tests ok: redis-server {ok_counts['redis']}, forkv {ok_counts['forkv']}; "
          + ("no unexpected differences" if not unexpected else f"{unexpected} unexpected differences"))
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
