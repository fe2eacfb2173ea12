"""Persistence benchmark: SAVE, startup load, BGSAVE (fork time, save time, copied memory) and a
steady client's latency during a BGSAVE, forkv against Debian's redis-server in the same run.

Both servers hold the same data: N string keys `key:<i>` with 100-byte values (Redis's
`DEBUG POPULATE N key 100`: "value:<i>" padded with zero bytes; forkv gets the same pairs through
pipelined MSETs), then a mixed data set (every type, built in Redis, loaded by forkv from Redis's
own RDB file), then N counters made by INCRBY (int-encoded in both servers). Timings are medians
of a few runs; the machine is small and noisy.

Usage: python bench/persistence.py [--only load|latency|collections] [keys]   (or
FORKV_BENCH_KEYS=keys; default 1,000,000). Prints a markdown table of forkv/Redis ratios and the
targets of issues 3, 4 and 9. `--only load` runs the startup-load measurements alone (see
run_load); `--only latency` the GET/SET latency around a BGSAVE of the strings alone (see
run_latency: a bisect's probe); `--only collections` the BGSAVE figures of issues 11 and 12 on a
data set of strings and small collections with a writer of every type running (see
run_collections).
This file also holds the latency client, run as a separate process (`--latency-client`), so that
the benchmark's own bookkeeping never shares an interpreter with the timed loop.
"""

from __future__ import annotations

import array
import os
import random
import re
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import hiredis  # noqa: E402

from tests.servers import ServerProcess, _pings, command_bytes, rss  # noqa: E402

VALUE_SIZE = 100
REPEATS = 3              # SAVE and startup-load runs per server (medians reported)
BGSAVE_REPEATS = 5       # quiet BGSAVEs per server: fork times vary most
LATENCY_RUNS = 8         # client runs per server, each IDLE_WINDOW alone and then one BGSAVE
IDLE_WINDOW = 2.0        # seconds of latency samples before the BGSAVE starts
MIXED_REPEATS = 3


# -- a minimal RESP client (raw socket + hiredis: no client library cost in the timings) ---------

encode = command_bytes


class Conn:
    def __init__(self, port: int, timeout: float = 600.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = hiredis.Reader()

    def replies(self, n: int) -> list:
        out = []
        while len(out) < n:
            reply = self.reader.gets()
            if reply is False:
                chunk = self.sock.recv(1 << 20)
                if not chunk:
                    raise ConnectionError("server closed the connection")
                self.reader.feed(chunk)
                continue
            if isinstance(reply, hiredis.ReplyError):
                raise RuntimeError(f"server error: {reply}")
            out.append(reply)
        return out

    def call(self, *args):
        self.sock.sendall(encode(*args))
        return self.replies(1)[0]

    def send_all(self, commands, depth: int = 1000) -> None:
        """Send `commands` (an iterable of RESP requests) `depth` at a time in one write, reading
        each batch's replies before the next batch is sent."""
        batch = []
        for cmd in commands:
            batch.append(cmd)
            if len(batch) == depth:
                self.sock.sendall(b"".join(batch))
                self.replies(len(batch))
                batch = []
        if batch:
            self.sock.sendall(b"".join(batch))
            self.replies(len(batch))

    def info(self, section: str) -> dict:
        text = self.call("INFO", section).decode()
        return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)

    def close(self) -> None:
        self.sock.close()


def key(i: int) -> bytes:
    return b"key:%d" % i


def value(i: int) -> bytes:
    # What DEBUG POPULATE stores: "value:<i>" in a zero-filled buffer of VALUE_SIZE bytes.
    return (b"value:%d" % i).ljust(VALUE_SIZE, b"\0")


def fill_strings(conn: Conn, n: int, batch: int = 1000, depth: int = 16) -> None:
    """MSET the DEBUG POPULATE pairs, `batch` keys a command, `depth` commands in flight."""
    pending = 0
    for start in range(0, n, batch):
        stop = min(n, start + batch)
        body = b"".join(b"$%d\r\n%b\r\n$%d\r\n%b\r\n" % (len(k), k, VALUE_SIZE, value(i))
                        for i in range(start, stop) for k in (key(i),))
        conn.sock.sendall(b"*%d\r\n$4\r\nMSET\r\n" % (1 + 2 * (stop - start)) + body)
        pending += 1
        if pending == depth:
            conn.replies(pending)
            pending = 0
    conn.replies(pending)


def mixed_command(i: int) -> bytes:
    """The command that creates key(i) of the mixed set: one key in five of each type, collections
    of five 10-20 byte elements (small enough that Redis keeps them as listpacks), the same shape
    as bench/rdb_walker.py's mixed set."""
    k = key(i)
    kind = i % 5
    if kind == 0:
        return encode(b"SET", k, value(i))
    if kind == 1:
        return encode(b"RPUSH", k, *[b"item:%d:%d" % (i, j) for j in range(5)])
    if kind == 2:
        return encode(b"SADD", k, *[b"member:%d:%d" % (i, j) for j in range(5)])
    if kind == 3:
        return encode(b"HSET", k, *[x for j in range(5) for x in (b"field:%d" % j, b"value:%d:%d" % (i, j))])
    return encode(b"ZADD", k, *[x for j in range(5) for x in (repr(j + i / 7).encode(), b"m:%d:%d" % (i, j))])


def fill_mixed(conn: Conn, n: int, depth: int = 2000) -> None:
    conn.send_all((mixed_command(i) for i in range(n)), depth)


COLLECTION_FIELDS = [b"field:%02d" % j for j in range(10)]


def collection_kind(i: int) -> int:
    """The type of key(i) in run_collections' data set: 0 string (60 % of the keys), 1 hash,
    2 set, 3 list, 4 sorted set (10 % each)."""
    return max(0, i % 10 - 5)


def collection_fill_command(i: int) -> bytes:
    """The command that creates key(i) of run_collections' data set: a 100-byte string, or a
    collection of 10 elements of about 10 bytes (hash fields of 8 bytes, set members the integers
    1..10, list items and sorted set members distinct per key, integer scores): sizes Redis keeps
    as listpacks / intsets."""
    k, kind = key(i), collection_kind(i)
    if kind == 0:
        return encode(b"SET", k, value(i))
    if kind == 1:
        return encode(b"HSET", k, *[x for j, f in enumerate(COLLECTION_FIELDS)
                                    for x in (f, b"%04d:%05d" % (j, i % 100000))])
    if kind == 2:
        return encode(b"SADD", k, *[b"%d" % j for j in range(1, 11)])
    if kind == 3:
        return encode(b"RPUSH", k, *[b"i%04d:%04d" % (i % 10000, j) for j in range(10)])
    return encode(b"ZADD", k, *[x for j in range(10)
                                for x in (b"%d" % ((i * 7 + j * 13) % 100000), b"m%04d:%04d" % (i % 10000, j))])


def collection_write_command(i: int, rng: random.Random) -> bytes:
    """A write to the existing key(i) that changes it: SET, HSET of an existing field, SADD of a
    random integer 1..1000 (the set stays an intset), LPUSH, ZADD moving a member."""
    k, kind = key(i), collection_kind(i)
    if kind == 0:
        return encode(b"SET", k, value(i))
    if kind == 1:
        return encode(b"HSET", k, COLLECTION_FIELDS[rng.randrange(10)], b"w%09d" % rng.randrange(10**9))
    if kind == 2:
        return encode(b"SADD", k, b"%d" % rng.randrange(1, 1001))
    if kind == 3:
        return encode(b"LPUSH", k, b"w%09d" % rng.randrange(10**9))
    return encode(b"ZADD", k, b"%d" % rng.randrange(100000), b"m%04d:%04d" % (i % 10000, rng.randrange(10)))


def fill_collections(conn: Conn, n: int, depth: int = 1000) -> None:
    conn.send_all((collection_fill_command(i) for i in range(n)), depth)


def fill_counters(conn: Conn, n: int, depth: int = 2000) -> None:
    """INCRBY counter:<i> by i * 1000 + 1000: counters Redis keeps int-encoded and forkv as Python
    ints, the values the save child must write without touching their reference counts."""
    conn.send_all((encode(b"INCRBY", b"counter:%d" % i, i * 1000 + 1000) for i in range(n)), depth)


# -- process and log helpers ----------------------------------------------------------------------

def minor_faults(pid: int) -> int:
    """Minor page faults so far: after a fork, nearly all are copy-on-write copies."""
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[7])


def has_child(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return bool(f.read().split())
    except OSError:
        return False


def faults_while_child_lives(pid: int, interval: float = 0.005) -> int:
    """The parent's minor fault count at the last poll that still saw its save child: what the
    parent took while sharing memory with the child (not what it does after the child ends)."""
    last = minor_faults(pid)
    while has_child(pid):
        last = minor_faults(pid)
        time.sleep(interval)
    return last


class LogTail:
    """Lines a server appends to its log from now on (polled; both servers flush every line).

    Times come from the lines' own millisecond timestamps (wall clock, mapped onto the monotonic
    clock through a pair of readings taken when the tail starts), so polling rarely costs no
    accuracy and keeps the benchmark from competing with the servers for the two cores."""

    def __init__(self, path: str):
        self.path = path
        self.offset = os.path.getsize(path) if os.path.exists(path) else 0
        self._partial = b""
        self.wall0, self.mono0 = time.time(), time.monotonic()

    def poll(self) -> list:
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            chunk = f.read()
        self.offset += len(chunk)
        *new, self._partial = (self._partial + chunk).split(b"\n")
        return [line.decode("utf-8", "replace") for line in new]

    def monotonic(self, line: str) -> float:
        """When the line was logged, on time.monotonic()'s scale (both servers truncate to ms)."""
        m = LOG_STAMP.search(line)
        wall = time.mktime(time.strptime(m.group(1), "%d %b %Y %H:%M:%S")) + int(m.group(2)) / 1000
        return self.mono0 + (wall - self.wall0)

    def wait_for(self, needle: str, timeout: float = 120.0, interval: float = 0.01) -> float:
        """time.monotonic() at which the first line containing `needle` was logged."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.poll():
                if needle in line:
                    return self.monotonic(line)
            if time.monotonic() > deadline:
                raise AssertionError(f"no log line {needle!r} in {self.path}")
            time.sleep(interval)


LOG_STAMP = re.compile(r"^\d+:[A-Z] (\d+ \w+ \d+ \d+:\d+:\d+)\.(\d{3}) ")


def start_server(kind: str, workdir: str, port: int, extra=()) -> ServerProcess:
    args = ["--enable-debug-command", "yes"] if kind == "redis" else []
    return ServerProcess(kind, args=args + list(extra), workdir=workdir, port=port)


def timed_start(kind: str, workdir: str, port: int) -> tuple:
    """Start a server on the dump in `workdir`: (server, seconds to the first PONG, seconds the
    server logged for the load)."""
    server = start_server(kind, workdir, port)
    tail = LogTail(server.log_path)
    t0 = time.monotonic()
    server.start(wait=False)
    while not _pings(port):
        if server.proc.poll() is not None:
            raise AssertionError(f"{kind} exited:\n{server.log()}")
        time.sleep(0.005)
    ready = time.monotonic() - t0
    logged = None
    for line in tail.poll():
        m = re.search(r"DB loaded from disk: ([0-9.]+) seconds", line)
        if m:
            logged = float(m.group(1))
    return server, ready, logged


def bgsave(server: ServerProcess, conn: Conn) -> dict:
    """One BGSAVE with nobody else talking to the server. Save time runs from sending the command
    to the child's own "DB saved on disk" line (written after fsync and rename in both servers);
    `done` is when INFO first shows the save finished (Redis's parent notices in its cron, up to
    1/hz later; forkv's from SIGCHLD)."""
    before = int(conn.info("persistence")["rdb_saves"])
    parent_rss = rss(server.proc.pid)
    tail = LogTail(server.log_path)
    t0 = time.monotonic()
    reply = conn.call("BGSAVE")
    assert reply == b"Background saving started", reply
    saved = tail.wait_for("DB saved on disk") - t0
    while True:
        p = conn.info("persistence")
        if p["rdb_bgsave_in_progress"] == "0" and int(p["rdb_saves"]) > before:
            break
        time.sleep(0.005)
    done = time.monotonic() - t0
    assert p["rdb_last_bgsave_status"] == "ok", p
    return {"fork_us": int(conn.info("stats")["latest_fork_usec"]), "saved": saved, "done": done,
            "cow": int(p["rdb_last_cow_size"]), "rss": parent_rss}


# -- latency --------------------------------------------------------------------------------------

def latency_client(port: int, out_path: str, nkeys: int, mode: str = "strings") -> None:
    """GET/SET of random existing keys (mode "strings"), or collection_write_command's writes of
    every type (mode "collections"), one connection, one command in flight, until stdin has
    something to say. Writes the start times and latencies (monotonic ns) to out_path."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    reader = hiredis.Reader()
    rng = random.Random(7)
    cmds, kinds = [], []
    for j in range(8192):
        i = rng.randrange(nkeys)
        if mode == "collections":
            cmds.append(collection_write_command(i, rng))
            kinds.append(collection_kind(i))
        else:
            cmds.append(encode(b"GET", key(i)) if j % 2 == 0 else encode(b"SET", key(i), value(i)))
            kinds.append(j % 2)
    starts, lats, sent = array.array("q"), array.array("q"), array.array("b")
    stdin = sys.stdin.fileno()
    now = time.monotonic_ns
    recv, feed, gets, send = sock.recv, reader.feed, reader.gets, sock.sendall
    print("ready", flush=True)
    j = 0
    while True:
        if j & 255 == 0 and select.select([stdin], [], [], 0)[0]:
            break
        cmd = cmds[j & 8191]
        t0 = now()
        send(cmd)
        while True:
            feed(recv(65536))
            if gets() is not False:
                break
        t1 = now()
        starts.append(t0)
        lats.append(t1 - t0)
        sent.append(kinds[j & 8191])
        j += 1
    with open(out_path, "wb") as f:
        array.array("q", [len(starts)]).tofile(f)
        starts.tofile(f)
        lats.tofile(f)
        sent.tofile(f)


def slow_times(starts, lats, idle_from: int, bg_from: int, bg_to: int) -> dict:
    """Where the slowest 1 % of requests of each phase fall in time: the largest share of them in
    one tenth of a 100 ms period (their send times modulo 100 ms, in 10 bins: about 10 % when
    unrelated to anything periodic; far more if the cron, at hz 10, set the tail) and, during the
    save, their share in the first 100 ms after BGSAVE (the fork and the first copies)."""
    out = {}
    for phase, lo, hi in (("idle", idle_from, bg_from), ("during", bg_from, bg_to)):
        samples = [(t, lat) for t, lat in zip(starts, lats) if lo <= t < hi]
        if len(samples) < 100:
            continue
        cut = sorted(lat for _, lat in samples)[int(0.99 * len(samples))]
        slow = [t for t, lat in samples if lat >= cut]
        bins = [0] * 10
        for t in slow:
            bins[t % 100_000_000 // 10_000_000] += 1
        out[phase] = {"n": len(slow), "early": sum(1 for t in slow if t - lo < 100_000_000) / len(slow),
                      "phase10": max(bins) / len(slow)}
    return out


def percentiles(lats: list) -> dict:
    if not lats:
        return {"n": 0, "p50": float("nan"), "p99": float("nan"), "max": float("nan")}
    s = sorted(lats)
    pick = lambda q: s[min(len(s) - 1, int(q * len(s)))] / 1e6  # noqa: E731 - ms
    return {"n": len(s), "p50": pick(0.50), "p90": pick(0.90), "p99": pick(0.99), "max": s[-1] / 1e6}


def latency_run(server: ServerProcess, conn: Conn, nkeys: int, workdir: str, span: float,
                mode: str = "strings") -> dict:
    """IDLE_WINDOW seconds of the client alone, then a BGSAVE, until the child logs "DB saved on
    disk" and at least `span` seconds have passed. Samples are split by the time each request
    was sent (monotonic ns): idle, during the save, and the first `span` seconds after BGSAVE."""
    out = os.path.join(workdir, "latency.bin")
    client = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--latency-client",
                               str(server.port), out, str(nkeys), mode],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert client.stdout.readline().strip() == b"ready"
        time.sleep(0.3)  # warm-up, discarded
        idle_from = time.monotonic_ns()
        time.sleep(IDLE_WINDOW)
        parent_rss = rss(server.proc.pid)
        tail = LogTail(server.log_path)
        faults = minor_faults(server.proc.pid)
        bg_from = time.monotonic_ns()
        reply = conn.call("BGSAVE")
        assert reply == b"Background saving started", reply
        faults = faults_while_child_lives(server.proc.pid) - faults
        bg_to = int(tail.wait_for("DB saved on disk", interval=0.01) * 1e9)
        while conn.info("persistence")["rdb_bgsave_in_progress"] != "0":
            time.sleep(0.02)
        time.sleep(max(0.0, bg_from / 1e9 + span - time.monotonic()))
        fork_us = int(conn.info("stats")["latest_fork_usec"])
        cow = int(conn.info("persistence")["rdb_last_cow_size"])
        client.stdin.write(b"stop\n")
        client.stdin.flush()
        client.wait(30)
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
    with open(out, "rb") as f:
        count = array.array("q")
        count.fromfile(f, 1)
        starts, lats = array.array("q"), array.array("q")
        starts.fromfile(f, count[0])
        lats.fromfile(f, count[0])
        kinds = array.array("b")
        kinds.fromfile(f, count[0])
    idle = [lat for t, lat in zip(starts, lats) if idle_from <= t < bg_from]
    by_kind = {"idle": {}, "during": {}}
    for t, lat, kd in zip(starts, lats, kinds):
        phase = "idle" if idle_from <= t < bg_from else "during" if bg_from <= t < bg_to else None
        if phase is not None:
            by_kind[phase].setdefault(kd, []).append(lat)
    window = [(t, lat) for t, lat in zip(starts, lats) if bg_from <= t < bg_to]
    span_end = bg_from + int(span * 1e9)
    fixed = [lat for t, lat in zip(starts, lats) if bg_from <= t < span_end]
    # The slowest request of the save, and whether it was in flight while the parent forked.
    worst_t, worst = max(window, key=lambda tl: tl[1]) if window else (bg_from, 0)
    return {"idle": idle, "during": [lat for _, lat in window], "span": fixed,
            "after": [(t - bg_from, lat) for t, lat in zip(starts, lats) if bg_from <= t < span_end],
            "fork_us": fork_us, "cow": cow, "faults_per_request": faults / max(1, len(window)),
            "by_kind": by_kind, "slow_at": slow_times(starts, lats, idle_from, bg_from, bg_to),
            "rss": parent_rss, "save_s": (bg_to - bg_from) / 1e9, "worst_ms": worst / 1e6,
            "worst_at_ms": (worst_t - bg_from) / 1e6}


# -- the run --------------------------------------------------------------------------------------

KINDS = ("redis", "forkv")  # the order each round visits the servers in


def med(xs):
    return statistics.median(xs)


class Pair:
    """A redis-server and a forkv side by side, each in `root`/<kind> with a Conn; what every part
    of the benchmark does to both, in KINDS order, round after round so that slow spells of the
    shared machine fall on both."""

    def __init__(self, prefix: str):
        root = self.root = tempfile.mkdtemp(prefix=prefix)
        self.dirs = {kind: os.path.join(root, kind) for kind in KINDS}
        self.servers: dict = {}
        self.conns: dict = {}
        self.ports: dict = {}

    def start(self) -> Pair:
        for kind in KINDS:
            os.mkdir(self.dirs[kind])
            self.servers[kind] = start_server(kind, self.dirs[kind], None).start()
            self.ports[kind] = self.servers[kind].port
            self.conns[kind] = Conn(self.ports[kind])
        return self

    def restart(self, kind: str) -> tuple:
        """Stop `kind` and start it again on its dump, on the same port: (seconds to the first
        PONG, seconds the server logged for the load)."""
        self.conns.pop(kind).close()
        self.servers.pop(kind).stop()
        server, ready, logged = timed_start(kind, self.dirs[kind], self.ports[kind])
        self.servers[kind] = server
        self.conns[kind] = Conn(server.port)
        return ready, logged

    def bgsaves(self, repeats: int) -> dict:
        """`repeats` quiet BGSAVEs of each server: {kind: [bgsave's dict, ...]}."""
        bg: dict = {kind: [] for kind in KINDS}
        for _ in range(repeats):
            for kind in KINDS:
                bg[kind].append(bgsave(self.servers[kind], self.conns[kind]))
        return bg

    def latency_runs(self, nkeys: int, runs: int, span: float, mode: str = "strings") -> dict:
        """`runs` latency_runs of each server: {kind: [latency_run's dict, ...]}."""
        lat: dict = {kind: [] for kind in KINDS}
        for _ in range(runs):
            for kind in KINDS:
                lat[kind].append(latency_run(self.servers[kind], self.conns[kind], nkeys, self.dirs[kind],
                                             span, mode=mode))
        return lat

    def close(self) -> None:
        for c in self.conns.values():
            c.close()
        for s in self.servers.values():
            s.stop()
        shutil.rmtree(self.root, ignore_errors=True)


GOAL_HEADER = ["| metric | forkv | Redis | forkv/Redis | target | met |", "|---|---|---|---|---|---|"]


def row_adder(rows: list):
    """The `add(metric, forkv, redis, unit, fmt, target=, limit=)` that appends one row of
    GOAL_HEADER's table to `rows`; `target` bounds the forkv/Redis ratio, `limit` forkv's own figure."""

    def add(metric, f, r, unit, fmt="{:.3f}", target=None, limit=None):
        ratio = f / r if r else float("inf")
        if target is not None:
            goal, met = f"ratio <= {target}", ratio <= target
        elif limit is not None:
            goal, met = f"forkv <= {limit} {unit}", f <= limit
        else:
            goal, met = "", None
        shown = "" if met is None else ("yes" if met else "**no**")
        rows.append(f"| {metric} | {fmt.format(f)} {unit}".rstrip() + f" | {fmt.format(r)} {unit}".rstrip()
                    + f" | {ratio:.2f} | {goal} | {shown} |")

    return add


def fill_strings_both(pair: Pair, n: int) -> tuple:
    """The n DEBUG POPULATE strings in both servers (Redis's own command, forkv's pipelined MSETs):
    the seconds each took."""
    t0 = time.monotonic()
    pair.conns["redis"].call("DEBUG", "POPULATE", n, "key", VALUE_SIZE)
    redis_fill = time.monotonic() - t0
    t0 = time.monotonic()
    fill_strings(pair.conns["forkv"], n)
    forkv_fill = time.monotonic() - t0
    for kind in KINDS:
        assert pair.conns[kind].call("DBSIZE") == n, kind
    return redis_fill, forkv_fill


def run(n: int) -> list:
    pair = Pair("forkv-bench-persistence-")
    conns = pair.conns
    rows: list = []
    notes: list = []
    add = row_adder(rows)
    try:
        pair.start()

        # -- fill ---------------------------------------------------------------------------------
        redis_fill, forkv_fill = fill_strings_both(pair, n)
        for i in (0, n // 2, n - 1):
            assert conns["forkv"].call("GET", key(i)) == conns["redis"].call("GET", key(i)) == value(i)
        notes.append(f"fill: Redis DEBUG POPULATE {redis_fill:.2f} s, forkv pipelined MSET {forkv_fill:.2f} s")
        data_mb = sum(len(key(i)) for i in range(n)) / 1e6 + n * VALUE_SIZE / 1e6

        # -- SAVE -------------------------------------------------------------------------------
        save = {kind: [] for kind in KINDS}
        for _ in range(REPEATS):
            for kind in KINDS:
                t0 = time.monotonic()
                assert conns[kind].call("SAVE") == b"OK"
                save[kind].append(time.monotonic() - t0)
        size = {kind: os.path.getsize(os.path.join(pair.dirs[kind], "dump.rdb")) for kind in KINDS}

        # -- startup load -------------------------------------------------------------------------
        ready = {kind: [] for kind in KINDS}
        logged = {kind: [] for kind in KINDS}
        for _ in range(REPEATS):
            for kind in KINDS:
                r, logged_s = pair.restart(kind)
                ready[kind].append(r)
                logged[kind].append(logged_s)
                assert conns[kind].call("DBSIZE") == n, kind

        add(f"SAVE, {n:,} strings (median of {REPEATS})", med(save["forkv"]), med(save["redis"]), "s",
            target=1.5)
        add("SAVE throughput (key+value bytes)", data_mb / med(save["forkv"]),
            data_mb / med(save["redis"]), "MB/s", "{:.0f}")
        add("RDB file size", size["forkv"] / 1e6, size["redis"] / 1e6, "MB", "{:.1f}")
        add("startup load (logged 'DB loaded from disk')", med(logged["forkv"]),
            med(logged["redis"]), "s")
        add("startup load (process start to first PONG)", med(ready["forkv"]), med(ready["redis"]),
            "s")
        add("load throughput (key+value bytes, logged time)", data_mb / med(logged["forkv"]),
            data_mb / med(logged["redis"]), "MB/s", "{:.0f}")

        # -- BGSAVE, strings ----------------------------------------------------------------------
        bg = pair.bgsaves(BGSAVE_REPEATS)
        bgsave_rows(add, bg, f"{n:,} strings", notes, fork_target=2)

        # -- latency ------------------------------------------------------------------------------
        # Besides "during the save", compare both servers over one span of time after BGSAVE:
        # Redis's save time (forkv's save is shorter, so its window holds mostly the post-fork
        # phase, when the parent takes its copy-on-write faults).
        span = med([x["saved"] for x in bg["redis"]])
        latency_rows(add, pair.latency_runs(n, LATENCY_RUNS, span), notes, span)

        # -- mixed data set -----------------------------------------------------------------------
        conns["redis"].call("FLUSHALL")
        t0 = time.monotonic()
        fill_mixed(conns["redis"], n)
        notes.append(f"mixed fill (Redis, pipelined SET/RPUSH/SADD/HSET/ZADD): {time.monotonic() - t0:.2f} s")
        assert conns["redis"].call("SAVE") == b"OK"
        shutil.copy(os.path.join(pair.dirs["redis"], "dump.rdb"), os.path.join(pair.dirs["forkv"], "dump.rdb"))
        _, mixed_load = pair.restart("forkv")
        assert conns["forkv"].call("DBSIZE") == n
        for i in range(5):
            assert conns["forkv"].call("TYPE", key(i)) == conns["redis"].call("TYPE", key(i))
        notes.append(f"mixed set: forkv loaded Redis's file in {mixed_load:.2f} s (logged)")
        bgsave_rows(add, pair.bgsaves(MIXED_REPEATS), f"{n:,} mixed", notes)

        # -- counters (INCRBY) --------------------------------------------------------------------
        for kind in KINDS:
            conns[kind].call("FLUSHALL")
            fill_counters(conns[kind], n)
            assert conns[kind].call("DBSIZE") == n
            assert conns[kind].call("OBJECT", "ENCODING", b"counter:%d" % (n - 1)) == b"int"
        bgsave_rows(add, pair.bgsaves(MIXED_REPEATS), f"{n:,} counters", notes)
    finally:
        pair.close()
    return GOAL_HEADER + rows + [""] + [f"- {note}" for note in notes]


def run_latency(n: int, runs: int = LATENCY_RUNS) -> list:
    """The strings' fill, BGSAVE_REPEATS quiet BGSAVEs (Redis's median save time is the span) and
    the latency runs of `run`, nothing else: what a bisect of the p99-during-BGSAVE row needs."""
    pair = Pair("forkv-bench-latency-")
    rows: list = []
    notes: list = []

    def add(metric, f, r, unit, fmt="{:.3f}", target=None, limit=None):
        ratio = f / r if r else float("inf")
        rows.append(f"| {metric} | {fmt.format(f)} {unit} | {fmt.format(r)} {unit} | {ratio:.2f} |")

    try:
        pair.start()
        fill_strings_both(pair, n)
        span = med([x["saved"] for x in pair.bgsaves(BGSAVE_REPEATS)["redis"]])
        latency_rows(add, pair.latency_runs(n, runs, span), notes, span)
    finally:
        pair.close()
    header = ["| metric | forkv | Redis | forkv/Redis |", "|---|---|---|---|"]
    return header + rows + [""] + [f"- {note}" for note in notes]


def run_collections(n: int, runs: int = LATENCY_RUNS // 2) -> list:
    """Issues 11 and 12: BGSAVE of n keys, 60 % strings and 10 % each hashes, sets, lists and
    sorted sets of 10 elements (collection_fill_command), loaded into both servers by the same
    pipelined commands. Rows: quiet BGSAVEs (copied % of the parent's RSS: target <= 10 %), then
    `runs` latency runs per server with a writer of every type (collection_write_command) before
    and during a BGSAVE (target: p99 during the save <= 1.5x the p99 without one, forkv's own)."""
    pair = Pair("forkv-bench-collections-")
    rows: list = []
    notes: list = []
    add = row_adder(rows)
    try:
        pair.start()
        for kind in KINDS:
            t0 = time.monotonic()
            fill_collections(pair.conns[kind], n)
            notes.append(f"{kind}: filled in {time.monotonic() - t0:.1f} s")
            assert pair.conns[kind].call("DBSIZE") == n, kind
        for i in range(10):
            assert pair.conns["forkv"].call("TYPE", key(i)) == pair.conns["redis"].call("TYPE", key(i))
            assert (pair.conns["forkv"].call("OBJECT", "ENCODING", key(i))
                    == pair.conns["redis"].call("OBJECT", "ENCODING", key(i))), i

        label = f"{n:,} keys, 40 % collections"
        bg = pair.bgsaves(MIXED_REPEATS)
        bgsave_rows(add, bg, label, notes)
        span = med([x["saved"] for x in bg["redis"]])
        lat = pair.latency_runs(n, runs, span, mode="collections")
        latency_rows(add, lat, notes, span, label="SET/HSET/SADD/LPUSH/ZADD")
        # Issue 11's latency target compares forkv with itself: p99 during the save over p99 idle.
        for kind in KINDS:
            idle = percentiles([x for run in lat[kind] for x in run["idle"]])["p99"]
            during = percentiles([x for run in lat[kind] for x in run["during"]])["p99"]
            verdict = ("met" if during <= 1.5 * idle else "**not met**") if kind == "forkv" else "(reference)"
            notes.append(f"{kind}: writer p99 during BGSAVE / without = {during:.3f} / {idle:.3f} ms "
                         f"= {during / idle:.2f}x; target <= 1.5x: {verdict}")
    finally:
        pair.close()
    return GOAL_HEADER + rows + [""] + [f"- {note}" for note in notes]


def run_load(n: int) -> list:
    """Startup load alone (issue 9's target: forkv within 1.2x of Redis, process start to the first
    PONG). Each round starts, in turn: Redis on its own SAVE of the strings, forkv on its own SAVE
    of the same pairs, forkv on a copy of Redis's file, and both servers with no file at all (the
    floor: interpreter or binary start, imports, event loop). Medians of REPEATS rounds."""
    from tests.servers import free_port

    root = tempfile.mkdtemp(prefix="forkv-bench-load-")
    cases = {"redis": "redis", "forkv": "forkv", "forkv on Redis's file": "forkv",
             "redis, no file": "redis", "forkv, no file": "forkv"}
    dirs = {case: os.path.join(root, str(i)) for i, case in enumerate(cases)}
    for d in dirs.values():
        os.mkdir(d)
    ready = {case: [] for case in cases}
    logged = {case: [] for case in cases}
    notes: list = []
    try:
        for kind in ("redis", "forkv"):
            with start_server(kind, dirs[kind], None) as server:
                conn = Conn(server.port)
                t0 = time.monotonic()
                if kind == "redis":
                    conn.call("DEBUG", "POPULATE", n, "key", VALUE_SIZE)
                else:
                    fill_strings(conn, n)
                assert conn.call("DBSIZE") == n
                assert conn.call("SAVE") == b"OK"
                notes.append(f"{kind}: filled and saved in {time.monotonic() - t0:.2f} s")
                conn.close()
        shutil.copy(os.path.join(dirs["redis"], "dump.rdb"),
                    os.path.join(dirs["forkv on Redis's file"], "dump.rdb"))
        for _ in range(REPEATS):
            for case, kind in cases.items():
                server, r, logged_s = timed_start(kind, dirs[case], free_port())
                try:
                    conn = Conn(server.port)
                    assert conn.call("DBSIZE") == (0 if "no file" in case else n), case
                    conn.close()
                finally:
                    server.stop()
                ready[case].append(r)
                logged[case].append(logged_s)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    rows = [f"| startup, {n:,} strings x {VALUE_SIZE} B | start to PONG (median) | ratio to Redis | logged load "
            "(median) | ratio to Redis |", "|---|---|---|---|---|"]
    base_ready = {"": med(ready["redis"]), "no file": med(ready["redis, no file"])}
    base_logged = med(logged["redis"])
    for case in cases:
        r = med(ready[case])
        ratio = r / base_ready["no file" if "no file" in case else ""]
        if "no file" in case:
            shown_logged = ratio_logged = "-"
        else:
            lg = med(logged[case])
            shown_logged, ratio_logged = f"{lg:.3f} s", f"{lg / base_logged:.2f}"
        rows.append(f"| {case} | {r:.3f} s | {ratio:.2f} | {shown_logged} | {ratio_logged} |")
        notes.append(f"{case}: start to PONG {', '.join(f'{x:.3f}' for x in ready[case])} s")
    notes.append("target (issue 9): forkv start to PONG <= 1.2x Redis's: "
                 + ("met" if med(ready["forkv"]) <= 1.2 * base_ready[""] else "**not met**"))
    return rows + [""] + [f"- {note}" for note in notes]


def bgsave_rows(add, bg: dict, label: str, notes: list, fork_target=None) -> None:
    """`fork_target`: issue 4 bounds the fork time of the string data set (about the size of
    Redis's); the mixed set is 2.2 times larger in forkv, so its row reports fork time per GB."""
    f, r = bg["forkv"], bg["redis"]
    add(f"BGSAVE {label}: fork (latest_fork_usec, median)", med([x["fork_us"] for x in f]),
        med([x["fork_us"] for x in r]), "us", "{:.0f}", target=fork_target)
    add(f"BGSAVE {label}: fork per GB of parent RSS", med([x["fork_us"] / x["rss"] * 1e6 for x in f]),
        med([x["fork_us"] / x["rss"] * 1e6 for x in r]), "ms", "{:.1f}")
    add(f"BGSAVE {label}: save time (to the child's 'DB saved on disk')",
        med([x["saved"] for x in f]), med([x["saved"] for x in r]), "s", target=1.5)
    add(f"BGSAVE {label}: until INFO shows it done", med([x["done"] for x in f]),
        med([x["done"] for x in r]), "s")
    add(f"BGSAVE {label}: parent RSS", med([x["rss"] for x in f]) / 1e6,
        med([x["rss"] for x in r]) / 1e6, "MB", "{:.1f}")
    add(f"BGSAVE {label}: child copied (rdb_last_cow_size)", med([x["cow"] for x in f]) / 1e6,
        med([x["cow"] for x in r]) / 1e6, "MB", "{:.1f}")
    add(f"BGSAVE {label}: child copied / parent RSS", med([100 * x["cow"] / x["rss"] for x in f]),
        med([100 * x["cow"] / x["rss"] for x in r]), "%", "{:.2f}", limit=10)
    notes.append(f"BGSAVE {label}: latest_fork_usec forkv {[x['fork_us'] for x in f]}, "
                 f"Redis {[x['fork_us'] for x in r]}")


def latency_rows(add, lat: dict, notes: list, span: float, label: str = "GET/SET") -> None:
    """Percentiles over the pooled samples of every run; max is the worst single request."""
    stats = {(kind, phase): percentiles([x for run in runs for x in run[phase]])
             for kind, runs in lat.items() for phase in ("idle", "during", "span")}
    runs = len(lat["forkv"])
    for phase, title in (("idle", "no BGSAVE"), ("during", "during BGSAVE")):
        f, r = stats[("forkv", phase)], stats[("redis", phase)]
        add(f"{label} latency, {title}: p50", f["p50"], r["p50"], "ms")
        add(f"{label} latency, {title}: p99", f["p99"], r["p99"], "ms",
            target=1.5 if phase == "during" else None)
        add(f"{label} latency, {title}: max ({runs} runs)", f["max"], r["max"], "ms")
    # Like for like: the same span after BGSAVE, as long as forkv's save, so both servers are
    # saving throughout (the "during" row compares forkv's short save with Redis's whole save,
    # whose later part is calmer than the first few hundred milliseconds after a fork).
    short = med([run["save_s"] for run in lat["forkv"]])
    f, r = (percentiles([x for run in lat[kind] for t, x in run["after"] if t < short * 1e9])
            for kind in ("forkv", "redis"))
    add(f"{label} latency, first {short:.2f} s after BGSAVE (forkv's save time; both saving): p99",
        f["p99"], r["p99"], "ms")
    f, r = stats[("forkv", "span")], stats[("redis", "span")]
    add(f"{label} latency, first {span:.2f} s after BGSAVE (Redis's save time): p99", f["p99"],
        r["p99"], "ms")
    # Which requests set the tail: percentiles per command, pooled over the runs.
    names = KIND_NAMES.get(label, ("GET", "SET"))
    for phase, title in (("idle", "no BGSAVE"), ("during", "during BGSAVE")):
        for kd, name in enumerate(names):
            f, r = (percentiles([x for run in lat[kind] for x in run["by_kind"][phase].get(kd, ())])
                    for kind in ("forkv", "redis"))
            if f["n"] and r["n"]:
                add(f"{name} requests alone, {title}: p99", f["p99"], r["p99"], "ms")
                notes.append(f"{name}, {title}: p50 / p90 / p99 forkv {f['p50']:.3f} / {f['p90']:.3f} / "
                             f"{f['p99']:.3f} ms, Redis {r['p50']:.3f} / {r['p90']:.3f} / {r['p99']:.3f} ms "
                             f"({f['n']} / {r['n']} samples)")
    for kind in ("forkv", "redis"):
        for phase in ("idle", "during"):
            slow = [run["slow_at"][phase] for run in lat[kind] if phase in run["slow_at"]]
            if slow:
                notes.append(f"{kind} {phase}: slowest 1 % of requests, largest share in one tenth of the cron's "
                             f"100 ms period {100 * med([x['phase10'] for x in slow]):.0f} % (about 10 % if unrelated "
                             f"to it)"
                             + (f", in the first 100 ms after BGSAVE {100 * med([x['early'] for x in slow]):.0f} %"
                                if phase == "during" else "") + " (medians of the runs)")
    add("parent page faults per request while the save child lives (copy-on-write)",
        med([run["faults_per_request"] for run in lat["forkv"]]),
        med([run["faults_per_request"] for run in lat["redis"]]), "", "{:.2f}")
    for kind in ("forkv", "redis"):
        parts = []
        for run in lat[kind]:
            fork_ms = run["fork_us"] / 1000
            # In flight during the fork: sent at most 1 ms before BGSAVE or before the fork ended.
            at_fork = -1.0 <= run["worst_at_ms"] <= fork_ms + 1.0
            parts.append(f"{run['worst_ms']:.2f} ms at +{run['worst_at_ms']:.0f} ms "
                         f"(fork {fork_ms:.2f} ms{', the fork' if at_fork else ''})")
        counts = "/".join(str(len(run["during"])) for run in lat[kind])
        cows = ", ".join(f"{100 * run['cow'] / run['rss']:.1f}%" for run in lat[kind])
        notes.append(f"{kind} during BGSAVE with the client writing: slowest request per run "
                     f"{'; '.join(parts)}; samples {counts}; copied {cows} of RSS")


KIND_NAMES = {"SET/HSET/SADD/LPUSH/ZADD": ("SET", "HSET", "SADD", "LPUSH", "ZADD")}


def keys_to_bench(args: list) -> int | None:
    """The number of keys a benchmark loads (its first argument, else FORKV_BENCH_KEYS, else
    1,000,000), or None, having said why it is skipped, when Debian's redis-server is missing."""
    if shutil.which("redis-server") is None:
        print("skipped: Debian's redis-server is not installed (apt-get install redis-server)")
        return None
    return int(args[0]) if args else int(os.environ.get("FORKV_BENCH_KEYS", 1_000_000))


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--latency-client":
        latency_client(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), *sys.argv[5:6])
        return 0
    args = sys.argv[1:]
    only = None
    if args[:1] == ["--only"]:
        only, args = args[1], args[2:]
        if only not in ("load", "latency", "collections"):
            print(f"unknown part {only!r}: --only takes 'load', 'latency' or 'collections'")
            return 2
    n = keys_to_bench(args)
    if n is None:
        return 0
    t0 = time.monotonic()
    load = os.getloadavg()[0]
    lines = {"load": run_load, "latency": run_latency, "collections": run_collections}.get(only, run)(n)
    print("\n".join(lines))
    # The machine may be shared: say how busy it was, since latency tails depend on it.
    print(f"\n(benchmark took {time.monotonic() - t0:.0f} s; 1-minute load average "
          f"{load:.2f} before, {os.getloadavg()[0]:.2f} after, on {os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
