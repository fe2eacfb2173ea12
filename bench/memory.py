"""Memory benchmark: resident memory of forkv against Debian's redis-server holding the same data
(issues 11 and 12), each data set loaded into a fresh pair of servers.

Data sets (N = 1,000,000 by default; the sorted sets are N / 10 keys):
- strings: `string:<i>` -> a 10-byte value (reference: no target)
- hashes:  `hash:<i>` with 10 fields, 8-byte names shared by every key ("field:00".."field:09",
  as an application's record fields are) and 10-byte values       -> target RSS <= 3x Redis's
- sets:    `set:<i>` holding the integers 1..10 (Redis: an intset)  -> target RSS <= 3x Redis's
- zsets:   `zset:<i>` with 100 members of 10 bytes, distinct per key (so no sharing helps),
  integer scores 0..999999                                           -> target RSS <= 3x Redis's
- streams: one stream of N entries `XADD s * field value` (redis-benchmark's shape)
                                                                     -> target RSS <= 3x Redis's
- streams100: 100 streams of N / 100 entries each, 3 fields of 10-byte values, the keys
  appended to in turn                                                -> target RSS <= 3x Redis's

Loading is pipelined raw RESP (one write per 1000 commands). RSS is read from /proc after the
load (and after one PING, so both servers have handled their last batch); INFO's used_memory is
printed for information (forkv's is an estimate of what Redis would allocate, not its own heap).
RSS does not depend on timing, so the figures hold on a shared machine.

Usage: python bench/memory.py [keys] [--only strings,hashes,sets,zsets,streams,streams100]
(or FORKV_BENCH_KEYS)
"""

from __future__ import annotations

import os
import random
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


from bench import persistence  # noqa: E402
from tests.servers import ServerProcess, command_bytes, rss  # noqa: E402

BATCH = 1000  # commands per write
TARGET = 3.0  # forkv RSS / Redis RSS (issues 11 and 12)


# bench/persistence.py's raw socket + hiredis client: the load's cost is the servers', not a
# client library's
Conn = persistence.Conn


FIELDS = [b"field:%02d" % j for j in range(10)]  # 8 bytes each
INTS = [b"%d" % j for j in range(1, 11)]


def strings(n: int):
    for i in range(n):
        yield command_bytes(b"SET", b"string:%d" % i, b"v:%08d" % (i % 10**8))


def hashes(n: int):
    for i in range(n):
        args = [b"HSET", b"hash:%d" % i]
        for j, f in enumerate(FIELDS):
            args += [f, b"%04d:%05d" % (j, i % 100000)]  # 10 bytes
        yield command_bytes(*args)


def sets(n: int):
    for i in range(n):
        yield command_bytes(b"SADD", b"set:%d" % i, *INTS)


def zsets(n: int):
    rng = random.Random(11)
    for i in range(n // 10):
        args = [b"ZADD", b"zset:%d" % i]
        for j in range(100):
            args += [b"%d" % rng.randrange(1_000_000), b"%05d:%04d" % (i, j)]  # 10 bytes
        yield command_bytes(*args)


def streams(n: int):
    for _ in range(n):
        yield command_bytes(b"XADD", b"s", b"*", b"field", b"value")


STREAM_FIELDS = [b"field:%d" % j for j in range(3)]


def streams100(n: int):
    for i in range(n):
        args = [b"XADD", b"stream:%d" % (i % 100), b"*"]
        for j, f in enumerate(STREAM_FIELDS):
            args += [f, b"%04d:%05d" % (j, i // 100 % 100000)]  # 10 bytes
        yield command_bytes(*args)


DATASETS = {"strings": (strings, None), "hashes": (hashes, TARGET), "sets": (sets, TARGET),
            "zsets": (zsets, TARGET), "streams": (streams, TARGET), "streams100": (streams100, TARGET)}
ENCODING = {"strings": b"embstr", "hashes": b"listpack", "sets": b"intset", "zsets": b"listpack",
            "streams": b"stream", "streams100": b"stream"}
SAMPLE_KEY = {"strings": b"string:0", "hashes": b"hash:0", "sets": b"set:0", "zsets": b"zset:0",
              "streams": b"s", "streams100": b"stream:0"}
KEYS = {"zsets": lambda n: n // 10, "streams": lambda n: 1, "streams100": lambda n: 100}


def used_memory(conn: Conn) -> int:
    return int(conn.info("memory")["used_memory"])


def measure(kind: str, name: str, n: int, root: str) -> dict:
    """A fresh server of `kind`, loaded with data set `name`: RSS before and after, used_memory."""
    workdir = tempfile.mkdtemp(prefix=f"{kind}-", dir=root)
    server = ServerProcess(kind, workdir=workdir).start()
    conn = Conn(server.port)
    try:
        empty = rss(server.proc.pid)
        t0 = time.monotonic()
        conn.send_all(DATASETS[name][0](n), BATCH)
        took = time.monotonic() - t0
        expected = KEYS.get(name, lambda n: n)(n)
        assert conn.call("DBSIZE") == expected, (kind, name)
        encoding = conn.call("OBJECT", "ENCODING", SAMPLE_KEY[name])
        assert encoding == ENCODING[name], (kind, name, encoding)
        conn.call("PING")
        return {"empty": empty, "rss": rss(server.proc.pid), "used": used_memory(conn), "load_s": took}
    finally:
        conn.close()
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def run(n: int, names) -> list:
    root = tempfile.mkdtemp(prefix="forkv-bench-memory-")
    rows = ["| data set | forkv RSS | Redis RSS | forkv/Redis | target | met | forkv per key | "
            "Redis per key | used_memory forkv / Redis | load s forkv / Redis |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    try:
        for name in names:
            f = measure("forkv", name, n, root)
            r = measure("redis", name, n, root)
            keys = KEYS.get(name, lambda n: n)(n)
            per = n if name.startswith("streams") else keys  # per entry for streams
            ratio = f["rss"] / r["rss"]
            target = DATASETS[name][1]
            goal = f"<= {target}x" if target else ""
            met = "" if target is None else ("yes" if ratio <= target else "**no**")
            per_f = (f["rss"] - f["empty"]) / per
            per_r = (r["rss"] - r["empty"]) / per
            label = {"strings": f"{keys:,} strings (10 B)", "hashes": f"{keys:,} hashes x 10 fields",
                     "sets": f"{keys:,} sets x 10 ints", "zsets": f"{keys:,} zsets x 100 members",
                     "streams": f"1 stream x {n:,} entries (1 field)",
                     "streams100": f"100 streams x {n // 100:,} entries (3 fields)"}[name]
            rows.append(f"| {label} | {f['rss'] / 1e6:.0f} MB | {r['rss'] / 1e6:.0f} MB | {ratio:.2f} | "
                        f"{goal} | {met} | {per_f:.0f} B | {per_r:.0f} B | "
                        f"{f['used'] / 1e6:.0f} / {r['used'] / 1e6:.0f} MB | "
                        f"{f['load_s']:.1f} / {r['load_s']:.1f} |")
            print(rows[-1], file=sys.stderr, flush=True)  # progress: a full run takes minutes
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return rows + ["", "(per key: RSS after the load minus RSS of the empty server, over the keys; "
                   "per entry for the streams)"]


def main() -> int:
    args = sys.argv[1:]
    names = list(DATASETS)
    if "--only" in args:
        i = args.index("--only")
        names = args[i + 1].split(",")
        del args[i:i + 2]
        unknown = [x for x in names if x not in DATASETS]
        if unknown:
            print(f"unknown data set(s) {unknown}: choose from {', '.join(DATASETS)}")
            return 2
    n = persistence.keys_to_bench(args)
    if n is None:
        return 0
    print("\n".join(run(n, names)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
