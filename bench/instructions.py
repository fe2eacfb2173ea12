"""User-space instructions per request on forkv's command path, per command.

Starts one forkv server (tests/servers.py ServerProcess), then for each command runs
redis-benchmark (-c 50 -P 16 by default, keys drawn from 100,000) while the server's user-space
instructions are counted, and prints instructions per request. Instructions, unlike time, hardly
move on a shared, noisy machine, so before/after figures of a change to the command path can be
compared run to run (bench/NOTES.md).

Two counters: `--tool perf` (`perf stat -e instructions:u` attached to the server; needs a CPU
whose counters the kernel exposes, which a VM often does not) and `--tool callgrind` (the
default: the server runs under valgrind's callgrind, counters zeroed before and dumped after each
command with callgrind_control; exact and repeatable, about 50x slower, so keep -n small). With
callgrind, `--keep DIR` keeps each command's profile for callgrind_annotate.

    python bench/instructions.py [-n 20000] [-P 16] [--only GET,TTL] [--tool perf|callgrind]
"""

import argparse
import glob
import os
import shutil
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.throughput import INCR_SHA, SETUP  # noqa: E402
from tests.servers import ServerProcess, session  # noqa: E402

K = "key:__rand_int__"
# (name, redis-benchmark arguments). In order: the reads find what the writes before them left.
TESTS = [
    ("SET", ["-t", "set"]),
    ("GET", ["-t", "get"]),
    ("INCR", ["-t", "incr"]),
    # the counters INCR left: 4 % of the 100,000 keys drawn with -n 4000, so mostly misses
    ("GET_COUNTER", ["GET", "counter:__rand_int__"]),
    ("INCR_1KEY", ["INCR", "one:counter"]),
    ("GET_1COUNTER", ["GET", "one:counter"]),  # a counter's hits
    ("EXISTS", ["EXISTS", K]),
    ("STRLEN", ["STRLEN", K]),
    ("MSET", ["-t", "mset"]),
    ("MGET", ["MGET"] + [K] * 10),
    # half of these keys are never written: misses (answered with nulls) beside hits
    ("MGET_MISSES", ["MGET"] + [K, "nokey:__rand_int__"] * 5),
    ("GETRANGE", ["GETRANGE", K, "0", "1"]),
    ("LPUSH", ["-t", "lpush"]),
    ("RPUSH", ["-t", "rpush"]),
    # mylist holds the 2n elements LPUSH and RPUSH left: LRANGE reads 600, the pops take them.
    ("LRANGE_100", ["LRANGE", "mylist", "0", "99"]),
    ("LRANGE_600", ["LRANGE", "mylist", "0", "599"]),
    ("LPOP", ["-t", "lpop"]),
    ("RPOP", ["-t", "rpop"]),
    ("HSET", ["-t", "hset"]),
    ("HGET", ["HGET", "myhash", "element:__rand_int__"]),
    # a hash of 10 short fields, and its reply (a RESP3 map / RESP2 array)
    ("HSET_10", ["HSET", "hash10"] + [x for i in range(10) for x in (f"field:{i}", f"v{i}")]),
    ("HGETALL_10", ["HGETALL", "hash10"]),
    ("SADD", ["-t", "sadd"]),
    ("SISMEMBER", ["SISMEMBER", "myset", "element:__rand_int__"]),
    # a set of 20 short members, and its reply (a RESP3 set / RESP2 array of short strings)
    ("SADD_20", ["SADD", "set20"] + [f"member:{i:02d}" for i in range(20)]),
    ("SMEMBERS_20", ["SMEMBERS", "set20"]),
    ("ZADD", ["-t", "zadd"]),
    ("ZRANK", ["ZRANK", "myzset", "element:__rand_int__"]),
    ("ZRANGEBYSCORE", ["ZRANGEBYSCORE", "myzset", "__rand_int__", "+inf", "LIMIT", "0", "10"]),
    ("ZPOPMIN", ["-t", "zpopmin"]),
    ("PING", ["-t", "ping_mbulk"]),
    # issue 14: a script of one redis.call, loaded by bench/throughput.py's SETUP
    ("EVALSHA", ["EVALSHA", INCR_SHA, "1", "ev:__rand_int__"]),
    # issue 12: HyperLogLog (one key, as bench/throughput.py's rows)
    ("PFADD", ["PFADD", "hll", "element:__rand_int__"]),
    # the same once the HLL is dense (PFADD's row promotes it): bench/throughput.py's steady state
    ("PFADD_DENSE", ["PFADD", "hll", "element:__rand_int__"]),
    ("PFCOUNT", ["PFCOUNT", "hll"]),
    # Streams: XADD fills one stream (-n entries, all in the same fields), the reads take its
    # head (-P 16 of XRANGE ... COUNT 10 is the throughput row of bench/NOTES.md).
    ("XADD", ["XADD", "stream", "*", "f", "v", "g", "__rand_int__"]),
    ("XRANGE_10", ["XRANGE", "stream", "-", "+", "COUNT", "10"]),
    ("XREVRANGE_10", ["XREVRANGE", "stream", "+", "-", "COUNT", "10"]),
    ("XREAD_3", ["XREAD", "COUNT", "3", "STREAMS", "stream", "0"]),
    # TTLs last: the rows "(TTLs in db)" run the same commands in a database where SETEX left
    # keys with a TTL (each key with a TTL goes to the handlers; the others should not).
    ("SETEX", ["SETEX", "ttl:__rand_int__", "100000", "xxx"]),
    ("TTL", ["TTL", "ttl:__rand_int__"]),
    ("EXPIRE", ["EXPIRE", K, "100000"]),
    ("GET (TTLs in db)", ["-t", "get"]),
    ("SET (TTLs in db)", ["-t", "set"]),
    ("INCR (TTLs in db)", ["-t", "incr"]),
    ("MSET (TTLs in db)", ["-t", "mset"]),
    ("MGET (TTLs in db)", ["MGET"] + [K] * 10),
]


class CallgrindServer(ServerProcess):
    """A forkv server run under callgrind, counting nothing until the first zeroing."""

    def command(self) -> list:
        out = os.path.join(self.dir, "callgrind.out")
        return ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--vgdb=yes",
                "--dump-line=no"] + super().command()


def count_callgrind(server: ServerProcess, bench: list, keep: str, name: str) -> int:
    """User-space instructions the server runs while `bench` runs (the dump's total Ir)."""
    pid = str(server.proc.pid)
    ctl = ["callgrind_control"]
    name = "".join(c if c.isalnum() else "_" for c in name)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run(ctl + ["-z", pid], check=True, **quiet)
    subprocess.run(bench, check=True, stdout=subprocess.DEVNULL)
    before = set(glob.glob(os.path.join(server.dir, "callgrind.out*")))
    subprocess.run(ctl + ["-d", name, pid], check=True, **quiet)
    dumps = sorted(set(glob.glob(os.path.join(server.dir, "callgrind.out*"))) - before,
                   key=os.path.getmtime)
    if not dumps:
        raise RuntimeError("callgrind_control wrote no dump")
    # "summary:" is the count since the zeroing. Not "totals:": in a process's first dump it
    # also held work from before the zeroing (the SET row read ~2x its summary; bench/NOTES.md).
    total = None
    with open(dumps[-1]) as f:
        for line in f:
            if line.startswith("summary:"):
                total = int(line.split()[1])
                break
    if keep:
        os.makedirs(keep, exist_ok=True)
        shutil.copy(dumps[-1], os.path.join(keep, "callgrind." + name))
    os.unlink(dumps[-1])
    if total is None:
        raise RuntimeError(f"no total in {dumps[-1]}")
    return total


def count_perf(pid: int, bench: list) -> int:
    """User-space instructions the process `pid` runs while `bench` runs."""
    out = f"/tmp/forkv-instructions-{os.getpid()}.txt"
    perf = subprocess.Popen(["perf", "stat", "-x", ",", "-e", "instructions:u", "-p", str(pid),
                             "-o", out], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        subprocess.run(bench, check=True, stdout=subprocess.DEVNULL)
    finally:
        perf.send_signal(signal.SIGINT)
        perf.wait(30)
    with open(out) as f:
        for line in f:
            fields = line.strip().split(",")
            if len(fields) > 2 and fields[2].startswith("instructions"):
                os.unlink(out)
                if not fields[0].isdigit():  # "<not supported>": no hardware counters (a VM)
                    raise SystemExit(f"perf cannot count instructions here ({fields[0]}): "
                                     "use --tool callgrind")
                return int(fields[0])
    raise RuntimeError(f"no count in {out}")


def populate(port: int) -> None:
    """key:000000000000 .. key:000000099999 (the keys redis-benchmark -r 100000 draws), so that
    reads of them hit: a miss takes a different (the handler's) path."""
    keys = 100_000
    payload = b"".join(b"*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$3\r\nxxx\r\n" % i for i in range(keys))
    subprocess.run(["redis-cli", "-p", str(port), "--pipe"], input=payload, check=True,
                   stdout=subprocess.DEVNULL)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=20_000, help="requests per command")
    ap.add_argument("-P", type=int, default=16, help="pipeline depth")
    ap.add_argument("-c", type=int, default=50, help="connections")
    ap.add_argument("--only", default="", help="comma-separated names to run (SET always runs first)")
    ap.add_argument("--tool", choices=("callgrind", "perf"), default="callgrind")
    ap.add_argument("--keep", default="", help="callgrind: keep each command's profile in this directory")
    args = ap.parse_args()
    only = {n.strip().upper() for n in args.only.split(",") if n.strip()}
    if args.tool == "callgrind":
        server = CallgrindServer("forkv").start(wait=False)
        server.wait_ready(300)
    else:
        server = ServerProcess("forkv").start()
    try:
        populate(server.port)
        for command in SETUP:  # SCRIPT LOAD of INCR_SCRIPT, as bench/throughput.py's rounds
            session(server.port, command)
        print(f"forkv pid {server.proc.pid}, -c {args.c} -P {args.P} -n {args.n}; "
              "user-space instructions per request")
        for name, cmd in TESTS:
            if only and name.upper() not in only and name != "SET":
                continue
            bench = ["redis-benchmark", "-p", str(server.port), "-c", str(args.c), "-P", str(args.P),
                     "-n", str(args.n), "-r", "100000", "-q"] + cmd
            if args.tool == "callgrind":
                n = count_callgrind(server, bench, args.keep, name)
            else:
                n = count_perf(server.proc.pid, bench)
            print(f"{name:20s} {n / args.n:10.0f}", flush=True)
    finally:
        server.cleanup()


if __name__ == "__main__":
    main()
