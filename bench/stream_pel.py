"""XACK's cost against the size of the group's pending entries list: the cliff the eager
serialisation of a stream's groups made (each XACK re-serialised the whole PEL) and the lazy one
removes. Server-side figures (INFO commandstats' usec_per_call), so the client's costs are out.

    python bench/stream_pel.py [--repo DIR] [--sizes 1000,100000] [--acks 2000]

`--repo` runs the server from another checkout (e.g. /work/main, for a before/after)."""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import redis  # noqa: E402

from tests.servers import ServerProcess  # noqa: E402


def measure(r, size: int, acks: int) -> tuple:
    r.flushall()
    pipe = r.pipeline(transaction=False)
    for i in range(1, size + 1):
        pipe.execute_command("XADD", "s", f"{i}-1", "f", "v")
        if i % 5000 == 0:
            pipe.execute()
    pipe.execute()
    r.execute_command("XGROUP", "CREATE", "s", "g", "0")
    r.execute_command("XREADGROUP", "GROUP", "g", "c", "COUNT", size, "STREAMS", "s", ">")
    r.config_resetstat()
    pipe = r.pipeline(transaction=False)
    acks = min(acks, size)
    for i in range(1, acks + 1):
        pipe.execute_command("XACK", "s", "g", f"{i}-1")
    assert sum(pipe.execute()) == acks
    xack = r.info("commandstats")["cmdstat_xack"]
    return xack["usec_per_call"], xack["calls"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", default=None)
    ap.add_argument("--sizes", default="1000,100000")
    ap.add_argument("--acks", type=int, default=2000)
    ap.add_argument("--redis", action="store_true", help="measure redis-server instead")
    a = ap.parse_args()
    env = {"PYTHONPATH": os.path.abspath(a.repo)} if a.repo else None
    with ServerProcess("redis" if a.redis else "forkv", env=env) as server:
        r = redis.Redis(port=server.port, socket_timeout=600)
        for size in map(int, a.sizes.split(",")):
            usec, calls = measure(r, size, a.acks)
            print(f"PEL {size:>7}: XACK {usec:8.2f} us per call ({calls} calls)")


if __name__ == "__main__":
    main()
