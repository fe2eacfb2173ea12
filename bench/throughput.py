"""Throughput: redis-benchmark against forkv and a real redis-server, same machine, same run.

Prints forkv/Redis throughput ratios for -P 1 and -P 16 with 50 clients, and each server's CPU time
per request (from /proc/<pid>/stat, so the benchmark client's own CPU is not counted).
"""

import csv
import io
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.servers import ServerProcess  # noqa: E402

TESTS = "set,get,incr"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def run_benchmark(port: int, pipeline: int, requests: int) -> dict:
    out = subprocess.run(["redis-benchmark", "-p", str(port), "-t", TESTS, "-n", str(requests),
                          "-c", "50", "-P", str(pipeline), "--csv"], capture_output=True,
                         text=True, check=True).stdout
    rows = list(csv.reader(io.StringIO(out)))
    return {row[0]: float(row[1]) for row in rows[1:]}


def main(requests: int = 200_000, rounds: int = 3) -> list:
    """Each (server, pipeline) run `rounds` times, alternating servers so both see the same
    background noise; the best run of each counts (noise only ever slows a run down)."""
    lines = []
    forkv = ServerProcess("forkv").start()
    redis_ = ServerProcess("redis").start()
    try:
        results = {}
        for pipeline in (1, 16):
            n = requests if pipeline == 1 else requests * 4
            for _ in range(rounds):
                for name, server in (("forkv", forkv), ("redis", redis_)):
                    before = cpu_seconds(server.proc.pid)
                    rps = run_benchmark(server.port, pipeline, n)
                    cpu = (cpu_seconds(server.proc.pid) - before) / (n * len(rps)) * 1e6
                    best_rps, best_cpu = results.get((name, pipeline), ({}, cpu))
                    merged = {t: max(rps[t], best_rps.get(t, 0.0)) for t in rps}
                    results[(name, pipeline)] = (merged, min(cpu, best_cpu))
        lines.append("| test | -P | forkv req/s | Redis req/s | forkv/Redis | forkv CPU us/req | Redis CPU us/req |")
        lines.append("|---|---|---|---|---|---|---|")
        for pipeline in (1, 16):
            f_rps, f_cpu = results[("forkv", pipeline)]
            r_rps, r_cpu = results[("redis", pipeline)]
            for test in f_rps:
                lines.append(f"| {test} | {pipeline} | {f_rps[test]:,.0f} | {r_rps[test]:,.0f} | "
                             f"{f_rps[test] / r_rps[test]:.2f} | {f_cpu:.2f} | {r_cpu:.2f} |")
        lines.append(f"\n50 clients; best of {rounds} runs each; {requests:,} requests per test at -P 1, "
                     f"{requests * 4:,} at -P 16; CPU is the server process's user+system time per request.")
    finally:
        forkv.cleanup()
        redis_.cleanup()
    return lines


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    print("\n".join(main(n)))
