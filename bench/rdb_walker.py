"""RDB writer benchmark: forkv's C walker and Python writer against a real redis-server SAVE of the
same 1,000,000 keys (Redis's `DEBUG POPULATE n key 100`), plus the copy-on-write memory a forked
child copies while writing. Usage: python bench/rdb_walker.py [keys]. Needs /usr/bin/redis-server.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis  # noqa: E402

from persistence.rdb import Record, ZSetValue, read_rdb, write_rdb  # noqa: E402


def populate_like_redis(n: int, size: int = 100) -> dict:
    # DEBUG POPULATE: key "key:<i>", value "value:<i>" zero-padded to `size` bytes.
    return {b"key:%d" % i: (b"value:%d" % i).ljust(size, b"\0") for i in range(n)}


def mixed(n: int) -> dict:
    """Every type, one in five keys each; collections of five 10-20 byte elements."""
    data: dict = {}
    for i in range(n):
        kind = i % 5
        if kind == 0:
            data[b"key:%d" % i] = (b"value:%d" % i).ljust(100, b"\0")
        elif kind == 1:
            data[b"key:%d" % i] = [b"item:%d:%d" % (i, j) for j in range(5)]
        elif kind == 2:
            data[b"key:%d" % i] = {b"member:%d:%d" % (i, j) for j in range(5)}
        elif kind == 3:
            data[b"key:%d" % i] = {b"field:%d" % j: b"value:%d:%d" % (i, j) for j in range(5)}
        else:
            data[b"key:%d" % i] = ZSetValue({b"m:%d:%d" % (i, j): j + i / 7 for j in range(5)})
    return data


def smaps(field: str) -> int:
    with open("/proc/self/smaps_rollup") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def save_to(path: Path, data: dict, use_c: bool, progress=None) -> float:
    t0 = time.perf_counter()
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        # Reading smaps_rollup walks every page table (milliseconds at this size): sample rarely.
        write_rdb(f, [(0, data, {})], use_c=use_c, progress=progress, progress_every=100_000)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return time.perf_counter() - t0


def cow(data: dict, path: Path, use_c: bool) -> tuple[int, int, float]:
    """(parent RSS, child's peak Private_Dirty, child's write seconds)."""
    rss = smaps("Rss")
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            gc.disable()
            peak = smaps("Private_Dirty")

            def sample(_done: int) -> None:
                nonlocal peak
                peak = max(peak, smaps("Private_Dirty"))

            secs = save_to(path, data, use_c, sample)
            sample(0)
            os.write(w, json.dumps([peak, secs]).encode())
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as pipe:
        peak, secs = json.loads(pipe.read())
    os.waitpid(pid, 0)
    return rss, peak, secs


def redis_save(n: int, workdir: Path) -> tuple[float, int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                             "--dir", str(workdir), "--save", "", "--appendonly", "no",
                             "--enable-debug-command", "yes", "--logfile", ""],
                            stdout=subprocess.DEVNULL)
    try:
        client = redis.Redis(port=port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        client.execute_command("DEBUG", "POPULATE", n, "key", 100)
        assert client.get(b"key:7") == (b"value:7").ljust(100, b"\0")
        timings = []
        for incremental_fsync in ("yes", "no"):   # yes (the default) fsyncs every 4 MB
            client.config_set("rdb-save-incremental-fsync", incremental_fsync)
            best = float("inf")
            for _ in range(3):
                t0 = time.perf_counter()
                client.save()
                best = min(best, time.perf_counter() - t0)
            timings.append(best)
        return timings[0], timings[1], (workdir / "dump.rdb").stat().st_size
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    work = Path(tempfile.mkdtemp(prefix="forkv-bench-"))
    try:
        redis_secs, redis_secs_nosync, redis_size = redis_save(n, work)
        data = populate_like_redis(n)
        out = work / "forkv.rdb"
        c_secs = min(save_to(out, data, True) for _ in range(3))
        c_size = out.stat().st_size
        py_secs = save_to(out, data, False)
        t0 = time.perf_counter()
        with open(out, "rb") as f:
            loaded = sum(1 for ev in read_rdb(f) if isinstance(ev, Record))
        read_secs = time.perf_counter() - t0
        assert loaded == n
        print(f"{n} keys, 100-byte values (DEBUG POPULATE data)")
        print(f"  redis-server SAVE   {redis_secs:7.3f} s  {redis_size / 1e6:7.1f} MB")
        print(f"    (rdb-save-incremental-fsync no: {redis_secs_nosync:.3f} s; forkv C walker"
              f" ratio to that {c_secs / redis_secs_nosync:.2f}x)")
        print(f"  forkv C walker      {c_secs:7.3f} s  {c_size / 1e6:7.1f} MB"
              f"  ratio {c_secs / redis_secs:5.2f}x")
        print(f"  forkv Python writer {py_secs:7.3f} s  ratio {py_secs / redis_secs:5.2f}x")
        print(f"  forkv reader        {read_secs:7.3f} s  (events only, no keyspace inserts)")
        for label, use_c in (("C walker", True), ("Python writer", False)):
            rss, peak, secs = cow(data, out, use_c)
            print(f"  fork child, strings, {label:13s}: copied {peak / 1e6:6.1f} MB of"
                  f" {rss / 1e6:6.1f} MB RSS ({100 * peak / rss:4.1f}%), write {secs:.3f} s")
        del data
        data = mixed(n)
        for label, use_c in (("C walker", True), ("Python writer", False)):
            rss, peak, secs = cow(data, out, use_c)
            print(f"  fork child, mixed,   {label:13s}: copied {peak / 1e6:6.1f} MB of"
                  f" {rss / 1e6:6.1f} MB RSS ({100 * peak / rss:4.1f}%), write {secs:.3f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
