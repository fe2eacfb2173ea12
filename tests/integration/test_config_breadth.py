"""CONFIG GET * / CONFIG SET cover Redis 7.0's directives (issue 13): the same names as Debian's
redis-server, each one set back to its own value with the same answer (OK, or the same
immutable-config error), and a few invalid values refused with the same texts."""

import redis

from tests.servers import raw_call

HIDDEN_IN_REDIS = {"rdb-key-save-delay"}  # a debug config: Redis leaves it out of CONFIG GET *
# Differ by design between the two processes (ports, paths, the tests' own settings).
SKIP_SET = {"port", "dir", "bind", "dbfilename", "logfile", "pidfile", "daemonize", "save",
            "unixsocket", "requirepass", "maxclients", "enable-protected-configs", "enable-debug-command"}


def _answer(server, *args):
    reply = raw_call(server.port, *args)
    return ("error", str(reply)) if isinstance(reply, Exception) else reply


def _config(server) -> dict:
    r = redis.Redis(port=server.port)
    try:
        return r.config_get("*")
    finally:
        r.close()


def test_config_get_star_has_redis_names(forkv_server, redis_server):
    mine, theirs = _config(forkv_server), _config(redis_server)
    assert set(mine) - HIDDEN_IN_REDIS == set(theirs)


def test_config_set_each_directive_as_redis_answers(forkv_server, redis_server):
    theirs = _config(redis_server)
    for name, value in sorted(theirs.items()):
        if name in SKIP_SET:
            continue
        answers = [_answer(s, "CONFIG", "SET", name, value) for s in (forkv_server, redis_server)]
        assert answers[0] == answers[1], (name, value, answers)


def test_invalid_values_refused_alike(forkv_server, redis_server):
    for name, value in (("activedefrag", "maybe"), ("maxmemory-samples", "0"), ("repl-diskless-load", "x"),
                        ("hll-sparse-max-bytes", "-1"), ("cluster-enabled", "yes"), ("timeout", "9" * 20),
                        ("lfu-log-factor", "-1"), ("hash-max-listpack-value", "x"),
                        ("latency-tracking-info-percentiles", "50 101"), ("maxmemory-clients", "x"),
                        ("oom-score-adj-values", "1 2"), ("tls-auth-clients", "maybe"),
                        ("appendfsync", "sometimes"), ("socket-mark-id", "1")):
        answers = [_answer(s, "CONFIG", "SET", name, value) for s in (forkv_server, redis_server)]
        assert answers[0] == answers[1], (name, value, answers)
