"""INFO commandstats / errorstats and the slow log (issue 13), the same sequences against forkv
and Debian's redis-server: call, rejected and failed counts per command, error counts by code,
slow log entries (ids, arguments cut as Redis cuts them, client name) with times masked."""

import re

from tests.integration.test_pubsub import Raw
from tests.servers import raw_call

SEQUENCE = [
    ("SET", "k", "v"), ("GET", "k"), ("GET", "k"), ("INCR", "k"), ("GET",), ("NOSUCH",),
    ("MULTI",), ("SET", "a", "1"), ("INCR", "a"), ("EXEC",), ("EXEC",),
    ("CLIENT", "SETNAME", "bad name"), ("CLIENT", "GETNAME"), ("SELECT", "99"), ("MSET", "a"),
    # An unknown subcommand names no command: an error, but no commandstats line for the container
    # (redis-py 8 probes CLIENT MAINT_NOTIFICATIONS on every connection).
    ("CLIENT", "MAINT_NOTIFICATIONS", "ON"), ("OBJECT", "NOPE", "k"),
]


def _stats(server):
    c = Raw(server.port)
    try:
        c.call("FLUSHALL")
        c.call("CONFIG", "RESETSTAT")
        for args in SEQUENCE:
            c.call(*args)
        _, (info,) = (c.send("INFO", "commandstats"), c.read())[1]
        _, (errors,) = (c.send("INFO", "errorstats"), c.read())[1]
        calls = {m.group(1): (int(m.group(2)), m.group(3)) for m in re.finditer(
            rb"cmdstat_(\S+?):calls=(\d+),usec=\d+,usec_per_call=[\d.]+,(rejected_calls=\d+,failed_calls=\d+)",
            info)}
        assert len(calls) == info.count(b"cmdstat_")
        calls.pop(b"info", None)
        calls.pop(b"config|resetstat", None)
        return calls, sorted(errors.split(b"\r\n")[1:])
    finally:
        c.close()


def test_commandstats_and_errorstats_match_redis(forkv_server, redis_server):
    mine, theirs = _stats(forkv_server), _stats(redis_server)
    assert mine[1] == theirs[1]
    assert mine[0] == theirs[0]


def _slowlog(server):
    c = Raw(server.port)
    try:
        c.call("SLOWLOG", "RESET")
        c.call("CONFIG", "SET", "slowlog-log-slower-than", "0")
        c.call("CLIENT", "SETNAME", "me")
        c.call("SET", "big", "x" * 200)
        c.call("DEL", *[f"k{i}" for i in range(40)])
        c.send("MULTI")
        c.send("GET", "big")
        c.send("EXEC")
        c.read(2)
        c.read()
        c.call("AUTH", "nopass")
        c.call("CONFIG", "SET", "slowlog-log-slower-than", "10000")
        _, (entries,) = (c.send("SLOWLOG", "GET", "-1"), c.read())[1]
        _, (length,) = (c.send("SLOWLOG", "LEN"), c.read())[1]
        # ids count every slow command the (shared) server ever logged, RESET does not rewind
        # them, and a loaded machine makes some earlier command slow: compare them relative
        first = entries[-1][0] if entries else 0
        masked = [(e[0] - first, e[3], e[5]) for e in entries]
        assert all(isinstance(e[1], int) and isinstance(e[2], int) for e in entries)
        assert c.call("SLOWLOG", "GET", "x") == b"-ERR count should be greater than or equal to -1\r\n"
        assert c.call("SLOWLOG", "GET", "-2") == b"-ERR count should be greater than or equal to -1\r\n"
        _, (two,) = (c.send("SLOWLOG", "GET", "2"), c.read())[1]
        assert len(two) == 2
        c.call("SLOWLOG", "RESET")
        return masked, length
    finally:
        c.close()


def test_slowlog_matches_redis(forkv_server, redis_server):
    assert _slowlog(forkv_server) == _slowlog(redis_server)


def test_latency_monitor_off_and_errors_match_redis(any_server):
    c = Raw(any_server.port)
    try:
        c.call("LATENCY", "RESET")
        assert c.call("LATENCY", "LATEST") == b"*0\r\n"
        assert c.call("LATENCY", "HISTORY", "command") == b"*0\r\n"
        assert c.call("LATENCY", "GRAPH", "command") == b"-ERR No samples available for event 'command'\r\n"
        assert c.call("LATENCY", "DOCTOR").startswith(b"$")
        assert b"Latency monitoring is disabled" in c.call("LATENCY", "DOCTOR")
        assert c.call("LATENCY", "RESET", "nothing") == b":0\r\n"
        assert c.call("LATENCY", "HELP").startswith(b"*17\r\n+LATENCY <subcommand>")
    finally:
        c.close()


def test_latency_monitor_records_slow_commands(forkv_server):
    c = Raw(forkv_server.port)
    try:
        c.call("LATENCY", "RESET")
        c.call("CONFIG", "SET", "latency-monitor-threshold", "1")
        pairs = [x for i in range(50000) for x in (f"k{i}", "v")]
        c.call("MSET", *pairs)  # 50,000 keys in one command: well over 1 ms
        _, (latest,) = (c.send("LATENCY", "LATEST"), c.read())[1]
        names = {entry[0] for entry in latest}
        assert b"command" in names
        entry = next(e for e in latest if e[0] == b"command")
        assert entry[2] >= 1 and entry[3] >= entry[2]
        _, (history,) = (c.send("LATENCY", "HISTORY", "command"), c.read())[1]
        assert history and history[-1][1] == entry[2]
        assert c.call("LATENCY", "GRAPH", "command").split(b"\r\n")[1].startswith(b"command - high ")
        assert b"1. command:" in c.call("LATENCY", "DOCTOR")
        assert c.call("LATENCY", "RESET", "command") == b":1\r\n"
    finally:
        c.call("CONFIG", "SET", "latency-monitor-threshold", "0")
        c.close()


def test_latencystats_and_histogram_shapes_match_redis(any_server):
    """The same shapes as Redis's: latency_percentiles_usec_<cmd>:p50=..,p99=..,p99.9=.. and
    LATENCY HISTOGRAM's calls with cumulative counts at 1, 2, 4, 8, 16, 32, 65... µs."""
    import redis as redis_py

    r = redis_py.Redis(port=any_server.port)
    try:
        r.config_resetstat()
        for _ in range(50):
            r.set("k", "v")
        info = raw_call(any_server.port, "INFO", "latencystats").decode()
        assert re.search(r"latency_percentiles_usec_set:p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}\r\n", info)
        r.config_set("latency-tracking-info-percentiles", "50 90")
        info = raw_call(any_server.port, "INFO", "latencystats").decode()
        assert re.search(r"latency_percentiles_usec_set:p50=\d+\.\d{3},p90=\d+\.\d{3}\r\n", info)
        r.config_set("latency-tracking-info-percentiles", "50 99 99.9")
        name, body = raw_call(any_server.port, "LATENCY", "HISTOGRAM", "set")
        assert name == b"set" and body[0] == b"calls" and body[1] == 50 and body[2] == b"histogram_usec"
        buckets = body[3]
        labels, counts = buckets[0::2], buckets[1::2]
        assert labels == sorted(set(labels)) and all(label >= 1 for label in labels)
        assert counts == sorted(counts) and counts[-1] == 50
        assert raw_call(any_server.port, "LATENCY", "HISTOGRAM", "nosuchcommand") == []
    finally:
        r.close()


def _last_command_after_unknown_subcommand(server):
    c, other = Raw(server.port), Raw(server.port)
    try:
        c.call("CLIENT", "SETNAME", "probe")
        c.call("CLIENT", "NOPE")
        _, (listing,) = (other.send("CLIENT", "LIST"), other.read())[1]
        return re.search(rb"name=probe .*?cmd=(\S+)", listing).group(1)
    finally:
        c.close()
        other.close()


def test_client_list_cmd_after_unknown_subcommand_matches_redis(forkv_server, redis_server):
    assert _last_command_after_unknown_subcommand(forkv_server) == b"NULL"
    assert _last_command_after_unknown_subcommand(redis_server) == b"NULL"
