"""GEOSEARCH throughput over a 100K-member geo set: forkv against a real redis-server, same run.

Both servers get the same 100,000 points (uniform over longitudes -180..180 and latitudes -85..85,
named m:000000000000 .. m:000000099999 as redis-benchmark's -r spells __rand_int__), loaded with
pipelined GEOADDs; then redis-benchmark sends `GEOSEARCH geo FROMMEMBER m:__rand_int__ BYRADIUS
200 km` (no COUNT: every match is sorted out and returned, ~35 on average) with the server pinned
to core 0 and redis-benchmark to core 1, servers alternating, median of the rounds, as
bench/throughput.py does (its helpers are reused). Target: forkv >= 0.2x Redis's rate.

Run: `python bench/geo.py [--requests N] [--rounds R]` (bench/run.py runs it too).
"""

import argparse
import os
import random
import socket
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from throughput import cpu_seconds, pin, pinned, run_one  # noqa: E402

from tests.servers import ServerProcess, command_bytes  # noqa: E402

MEMBERS = 100_000
BATCH = 1_000
TARGET = 0.2
QUERY = ["GEOSEARCH", "geo", "FROMMEMBER", "m:__rand_int__", "BYRADIUS", "200", "km"]


def load(port: int) -> None:
    """GEOADD the points, BATCH members per command, all commands pipelined on one connection."""
    rng = random.Random(1)
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        sent = 0
        for first in range(0, MEMBERS, BATCH):
            args = ["GEOADD", "geo"]
            for i in range(first, min(MEMBERS, first + BATCH)):
                args += ["%.6f" % rng.uniform(-180, 180), "%.6f" % rng.uniform(-85, 85), "m:%012d" % i]
            sock.sendall(command_bytes(*args))
            sent += 1
        replies = b""
        while replies.count(b"\r\n") < sent:
            chunk = sock.recv(65536)
            if not chunk:
                raise RuntimeError("connection closed while loading")
            replies += chunk
        if any(not line.startswith(b":") for line in replies.split(b"\r\n")[:-1]):
            raise RuntimeError(f"GEOADD failed: {replies[:200]!r}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000, help="per round and server")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pipeline", type=int, default=1)
    opts, _ = parser.parse_known_args(argv)  # bench/run.py passes its own arguments on
    servers = {"forkv": ServerProcess("forkv"), "redis": ServerProcess("redis")}
    results = {name: [] for name in servers}
    try:
        for server in servers.values():
            server.start()
            if pinned():
                pin(server.proc.pid, 0)
            load(server.port)
        for r in range(max(1, opts.rounds)):
            order = list(servers) if r % 2 == 0 else list(reversed(servers))
            for name in order:
                server = servers[name]
                before = cpu_seconds(server.proc.pid)
                row = run_one(server.port, QUERY, opts.pipeline, opts.requests)
                cpu = (cpu_seconds(server.proc.pid) - before) / opts.requests * 1e6
                results[name].append((row["rps"], cpu, row.get("p50_latency_ms", 0.0)))
            print(f"  round {r + 1}/{opts.rounds} done", file=sys.stderr, flush=True)
    finally:
        for server in servers.values():
            server.cleanup()
    med = {name: [statistics.median(x[i] for x in rows) for i in range(3)] for name, rows in results.items()}
    ratio = med["forkv"][0] / med["redis"][0]
    cpu_ratio = med["forkv"][1] / med["redis"][1] if med["redis"][1] else float("inf")
    print("| test | -P | forkv/Redis req/s | forkv req/s | Redis req/s | CPU µs/req forkv | Redis | CPU ratio | "
          "p50 ms forkv / Redis | target |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(f"| GEOSEARCH FROMMEMBER BYRADIUS 200 km (100K members) | {opts.pipeline} | **{ratio:.2f}** | "
          f"{med['forkv'][0]:,.0f} | {med['redis'][0]:,.0f} | {med['forkv'][1]:.1f} | {med['redis'][1]:.1f} | "
          f"{cpu_ratio:.2f} | {med['forkv'][2]:.3f} / {med['redis'][2]:.3f} | "
          f"≥{TARGET}: {'met' if ratio >= TARGET else 'NOT met'} |")
    where = ("server pinned to core 0, redis-benchmark to core 1" if pinned()
             else "ONE core: unpinned, the benchmark client competes with the server")
    print(f"\n{where}; 50 clients, -r {MEMBERS}; {opts.requests:,} requests per round; median of "
          f"{opts.rounds} rounds, servers alternating.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
