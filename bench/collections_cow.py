"""Copy-on-write of collections written during a BGSAVE (issue 11), forkv against redis-server.

Each server holds N strings, a hash of N fields, a set of N members, a list of N elements and a
sorted set of N members. A BGSAVE is made slow (rdb-key-save-delay) so that the child lives while
a client sends W writes of one kind; the parent's minor page faults while the child lives (nearly
all copy-on-write copies) are divided by the writes. Kinds: SET of existing strings (forkv's save
overlay: no copy), HSET of existing fields, SADD of new members, LPUSH, ZADD of existing members
(collections are changed in place, so the pages a write touches are copied, as in Redis).

Usage: python bench/collections_cow.py [N] [W]   (defaults 200000 and 20000). Not part of make test.
"""

import os
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.persistence import Conn, has_child, minor_faults  # noqa: E402
from tests.servers import ServerProcess, command_bytes  # noqa: E402

KINDS = {
    "SET string": lambda i: ("SET", b"s:%d" % i, b"v2"),
    "HSET field": lambda i: ("HSET", b"h", b"f:%d" % i, b"v2"),
    "SADD member": lambda i: ("SADD", b"set", b"new:%d" % i),
    "LPUSH": lambda i: ("LPUSH", b"l", b"x"),
    "ZADD member": lambda i: ("ZADD", b"z", b"%d" % (i + 1), b"m:%d" % i),
}


def fill(conn: Conn, n: int, batch: int = 1000) -> None:
    for start in range(0, n, batch):
        idx = range(start, min(n, start + batch))
        cmds = [command_bytes("MSET", *[x for i in idx for x in (b"s:%d" % i, b"v")]),
                command_bytes("HSET", "h", *[x for i in idx for x in (b"f:%d" % i, b"v")]),
                command_bytes("SADD", "set", *[b"m:%d" % i for i in idx]),
                command_bytes("RPUSH", "l", *[b"e:%d" % i for i in idx]),
                command_bytes("ZADD", "z", *[x for i in idx for x in (b"%d" % i, b"m:%d" % i)])]
        conn.sock.sendall(b"".join(cmds))
        conn.replies(len(cmds))


def faults_per_write(server: ServerProcess, conn: Conn, kind: str, writes: int) -> float:
    conn.call("CONFIG", "SET", "rdb-key-save-delay", "20")
    conn.call("BGSAVE")
    while not has_child(server.proc.pid):
        time.sleep(0.001)
    before = minor_faults(server.proc.pid)
    rng = random.Random(1)
    make = KINDS[kind]
    sent = 0
    while sent < writes:
        cmds = [command_bytes(*make(rng.randrange(10**9 if kind == "SADD member" else N))) for _ in range(100)]
        conn.sock.sendall(b"".join(cmds))
        conn.replies(len(cmds))
        sent += len(cmds)
    after = minor_faults(server.proc.pid)
    alive = has_child(server.proc.pid)
    conn.call("CONFIG", "SET", "rdb-key-save-delay", "0")
    while has_child(server.proc.pid):
        time.sleep(0.01)
    if not alive:
        raise SystemExit(f"{server.kind}: the save ended before the writes did; raise rdb-key-save-delay")
    return (after - before) / writes


def main() -> int:
    global N
    N = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    writes = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
    rows = {}
    for kind_name in ("forkv", "redis"):
        with ServerProcess(kind_name, args=["--save", ""]) as server:
            conn = Conn(server.port)
            fill(conn, N)
            rows[kind_name] = {k: statistics.median(faults_per_write(server, conn, k, writes) for _ in range(3))
                               for k in KINDS}
            conn.close()
    print(f"Parent page faults per write during a BGSAVE ({N} elements per collection, {writes} writes):")
    print("| write | forkv | redis-server |")
    print("|---|---|---|")
    for k in KINDS:
        print(f"| {k} | {rows['forkv'][k]:.3f} | {rows['redis'][k]:.3f} |")
    return 0


N = 0

if __name__ == "__main__":
    sys.exit(main())
