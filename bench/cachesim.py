"""Instructions and simulated cache misses per request, forkv or redis-server, per command.

bench/instructions.py counts instructions only, and an instruction count hides what a read of a
large keyspace mostly costs: cache misses. This runs the server (forkv, or Debian's redis-server
for comparison) under callgrind with its cache simulation (`--cache-sim=yes`), fills the
100,000 keys redis-benchmark -r draws, and for each command chosen zeroes the counters, runs
redis-benchmark, dumps, and prints per request: instructions (Ir), data reads and writes (Dr,
Dw), first-level data misses (D1mr + D1mw) and last-level ones (DLmr + DLmw). Valgrind simulates
two levels; `--LL` sizes the second (default 2 MiB, 16-way: this machine's private L2, the
level whose misses a 20 MB keyspace pays on every random key; the shared L3 is not modelled).

    python bench/cachesim.py [--server forkv|redis] [--tree DIR] [-n 4000] [-P 1] [-r 100000]
                             [--only MGET,GET] [--keep DIR]
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.instructions import TESTS, count_callgrind, populate  # noqa: E402
from bench.throughput import SETUP  # noqa: E402
from tests.servers import ServerProcess, session  # noqa: E402

EVENTS = ("Ir", "Dr", "Dw", "D1mr", "D1mw", "DLmr", "DLmw")


class CacheSimServer(ServerProcess):
    """A server (forkv or redis) run under callgrind with its cache simulation."""

    def __init__(self, kind: str, ll: str, **kw):
        super().__init__(kind, **kw)
        self.ll = ll

    def command(self) -> list:
        out = os.path.join(self.dir, "callgrind.out")
        return ["valgrind", "--tool=callgrind", "--cache-sim=yes", f"--LL={self.ll}",
                f"--callgrind-out-file={out}", "--vgdb=yes", "--dump-line=no"] + super().command()


def events_of(path: str) -> dict:
    """The dump's `summary:` as {event: count}."""
    names = values = None
    with open(path) as f:
        for line in f:
            if line.startswith("events:"):
                names = line.split()[1:]
            elif line.startswith("summary:"):
                values = [int(v) for v in line.split()[1:]]
                break
    if names is None or values is None:
        raise RuntimeError(f"no events/summary in {path}")
    return dict(zip(names, values))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", choices=("forkv", "redis"), default="forkv")
    ap.add_argument("-n", type=int, default=4000, help="requests per command")
    ap.add_argument("-P", type=int, default=1, help="pipeline depth")
    ap.add_argument("-c", type=int, default=50, help="connections")
    ap.add_argument("--only", default="MGET,GET", help="comma-separated names (SET always runs first)")
    ap.add_argument("--LL", default="2097152,16,64", help="simulated last level: size,assoc,line")
    ap.add_argument("--keep", default="/tmp/cachesim", help="directory for the profiles")
    ap.add_argument("-r", type=int, default=100_000, help="redis-benchmark's keyspace (-r)")
    ap.add_argument("--tree", default="", help="forkv: run this source tree's build instead")
    args = ap.parse_args()
    only = {n.strip().upper() for n in args.only.split(",") if n.strip()}
    env = {"PYTHONPATH": os.path.abspath(args.tree)} if args.tree else None
    server = CacheSimServer(args.server, args.LL, env=env).start(wait=False)
    server.wait_ready(300)
    try:
        populate(server.port)
        for command in SETUP:
            session(server.port, command)
        print(f"{args.server} {args.tree} pid {server.proc.pid}, -c {args.c} -P {args.P} -n {args.n} -r {args.r}, "
              f"LL {args.LL}; per request")
        print(f"{'':20s} " + " ".join(f"{e:>8s}" for e in ("Ir", "Dr", "Dw", "D1miss", "LLmiss")))
        for name, cmd in TESTS:
            if only and name.upper() not in only and name != "SET":
                continue
            bench = ["redis-benchmark", "-p", str(server.port), "-c", str(args.c), "-P", str(args.P),
                     "-n", str(args.n), "-r", str(args.r), "-q"] + cmd
            tag = f"{args.server}_{name}"
            count_callgrind(server, bench, args.keep, tag)
            safe = "".join(c if c.isalnum() else "_" for c in tag)
            ev = events_of(os.path.join(args.keep, "callgrind." + safe))
            per = [ev.get(e, 0) / args.n for e in EVENTS]
            row = per[:3] + [per[3] + per[4], per[5] + per[6]]
            print(f"{name:20s} " + " ".join(f"{v:8.1f}" for v in row), flush=True)
    finally:
        server.cleanup()


if __name__ == "__main__":
    main()
