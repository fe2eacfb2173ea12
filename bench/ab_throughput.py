"""Throughput of two forkv builds and redis-server in one run: a change against its base.

bench/throughput.py compares this tree's forkv with redis-server; on a shared machine two of its
runs, one per build, differ by more than a small change does. This starts three servers (the
base build, from another source tree given by --base, this tree's, and redis-server), pinned
as throughput.py pins them, and runs throughput.py's measure() over them, the three alternating
test by test; each forkv build's ratio to Redis and its CPU per request come from the same run.
The tests run in throughput.py's order, so reads find what the writes before them left (give
"SET,GET,MSET (10 keys),MGET (10 keys)" to measure GET and MGET hits).

    python bench/ab_throughput.py --base /tmp/base-tree --tests "SET,GET,MSET (10 keys),MGET (10 keys)"
"""

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.throughput import TESTS, measure, pinned, start_pinned  # noqa: E402
from tests.servers import ServerProcess  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True, help="source tree of the base build (built in place)")
    ap.add_argument("--requests", type=int, default=50_000, help="per test at -P 1 (x4 at -P 16)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--pipelines", default="1,16")
    ap.add_argument("--tests", default="SET,GET,MSET (10 keys),MGET (10 keys)")
    opts = ap.parse_args(argv)
    pipelines = [int(p) for p in opts.pipelines.split(",")]
    wanted = {t.strip().upper() for t in opts.tests.split(",") if t.strip()}
    tests = [t for t in TESTS if t[0].upper() in wanted]
    servers = {"base": ServerProcess("forkv", env={"PYTHONPATH": os.path.abspath(opts.base)}),
               "new": ServerProcess("forkv"), "redis": ServerProcess("redis")}
    try:
        start_pinned(servers)
        results = measure(servers, tests, pipelines, opts.requests, max(1, opts.rounds))
    finally:
        for server in servers.values():
            server.cleanup()
    print("| test | -P | base/Redis req/s | new/Redis req/s | CPU µs/req base / new / Redis | "
          "CPU ratio base / new |")
    print("|---|---|---|---|---|---|")
    for pipeline in pipelines:
        for test, _args, _kind in tests:
            med = {name: [statistics.median(x[i] for x in results[(name, test, pipeline)])
                          for i in range(2)] for name in servers}
            r = med["redis"]
            print(f"| {test} | {pipeline} | {med['base'][0] / r[0]:.2f} | **{med['new'][0] / r[0]:.2f}** | "
                  f"{med['base'][1]:.2f} / {med['new'][1]:.2f} / {r[1]:.2f} | "
                  f"{med['base'][1] / r[1]:.2f} / **{med['new'][1] / r[1]:.2f}** |")
    print(f"\n{'pinned' if pinned() else 'UNPINNED'}; {opts.requests:,} requests at -P 1, x4 at -P 16; "
          f"median of {opts.rounds} rounds, the three servers alternating test by test.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
