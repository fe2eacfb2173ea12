"""Stream commands, differential: the same commands on forkv and on Debian's redis-server 7.0 give
the same replies (errors included) and the same DUMP bytes, in RESP2 and RESP3; the keyspace
commands (TYPE, OBJECT ENCODING, SCAN TYPE, COPY, RENAME, MOVE, DUMP/RESTORE, DEBUG RELOAD) keep
a stream whole."""

import redis

ADD = [
    ("XADD", "s", "1-1", "a", "1", "b", "2"), ("XADD", "s", "1-*", "a", "3", "b", "4"),
    ("XADD", "s", "2-0", "c", "5"), ("XADD", "s", "1-0", "a", "1"), ("XADD", "s", "0-0", "a", "1"),
    ("XADD", "s", "bad", "a", "1"), ("XADD", "s", "*", "a"), ("XADD", "s", "-", "a", "1"),
    ("XADD", "s", "3-18446744073709551616", "a", "1"), ("XADD", "s", "NOMKSTREAM", "4-1", "z", "9"),
    ("XADD", "n", "NOMKSTREAM", "*", "a", "1"), ("EXISTS", "n"),
    ("XADD", "s", "MAXLEN", "1", "MINID", "1", "*", "a", "1"), ("XADD", "s", "MAXLEN", "-1", "*", "a", "1"),
    ("XADD", "s", "LIMIT", "1", "*", "a", "1"), ("XADD", "s", "MAXLEN", "1", "LIMIT", "1", "*", "a", "1"),
    ("XADD", "s", "MAXLEN", "x", "*", "a", "1"), ("XADD", "s", "MINID", "+", "*", "a", "1"),
    ("XADD", "m", "18446744073709551615-18446744073709551615", "a", "1"), ("XADD", "m", "*", "a", "1"),
    ("XLEN", "s"), ("XLEN", "nokey"),
]
READ = [
    ("XRANGE", "s", "-", "+"), ("XREVRANGE", "s", "+", "-", "COUNT", "2"), ("XRANGE", "s", "(1-1", "+"),
    ("XRANGE", "s", "-", "(2"), ("XRANGE", "s", "-", "+", "COUNT", "0"), ("XRANGE", "s", "-", "+", "COUNT", "-3"),
    ("XRANGE", "nokey", "-", "+"), ("XRANGE", "s", "(-", "+"), ("XRANGE", "s", "-", "+", "COUNT"),
    ("XRANGE", "s", "(18446744073709551615-18446744073709551615", "+"), ("XREVRANGE", "s", "(0-0", "-"),
    ("XRANGE", "s", "1", "1"), ("XRANGE", "s", " 1", "+01"), ("XRANGE", "s", "1-", "+"),
    ("XINFO", "STREAM", "s"), ("XINFO", "STREAM", "s", "FULL"), ("XINFO", "STREAM", "s", "FULL", "COUNT", "1"),
    ("XINFO", "STREAM", "s", "FUL"), ("XINFO", "STREAM", "nokey"), ("XINFO", "HELP"),
]
WRITE = [
    ("XDEL", "s", "1-2", "9-9"), ("XDEL", "s", "bad"), ("XDEL", "nokey", "1-1"), ("XRANGE", "s", "-", "+"),
    ("XINFO", "STREAM", "s"), ("XTRIM", "s", "MAXLEN", "5"), ("XTRIM", "s", "MAXLEN", "~", "1", "LIMIT", "5"),
    ("XTRIM", "s", "LIMIT", "1"), ("XTRIM", "s"), ("XTRIM", "s", "NOMKSTREAM"), ("XTRIM", "s", "MAXLEN", "=", "1"),
    ("XSETID", "s", "1-1"), ("XSETID", "s", "5-5", "ENTRIESADDED", "10", "MAXDELETEDID", "3-3"),
    ("XSETID", "s", "5-5", "ENTRIESADDED", "-1"), ("XSETID", "s", "5-5", "MAXDELETEDID", "6-0"),
    ("XSETID", "s", "6-0", "ENTRIESADDED", "0"), ("XSETID", "nokey", "1-1"), ("XSETID", "s", "6-0", "BAD"),
    ("XINFO", "STREAM", "s"), ("TYPE", "s"), ("OBJECT", "ENCODING", "s"),
]
BIG = ([("XADD", "big", f"{i}-1", "f", f"v{i}", "g", str(i)) for i in range(1, 260)]
       + [("XADD", "big", "300-1", "x", "1"), ("XDEL", "big", "5-1", "150-1", "101-1"), ("DUMP", "big"),
          ("XINFO", "STREAM", "big"), ("XTRIM", "big", "MINID", "120"), ("DUMP", "big"),
          ("XTRIM", "big", "MAXLEN", "~", "10"), ("DUMP", "big"), ("XINFO", "STREAM", "big"),
          ("XRANGE", "big", "250", "+"), ("XADD", "big", "MAXLEN", "~", "5", "400-1", "f", "v"), ("XLEN", "big"),
          ("XADD", "large", "1-1", "f", "v" * 3000), ("XADD", "large", "1-2", "f", "w" * 3000), ("DUMP", "large"),
          ("CONFIG", "SET", "stream-node-max-entries", "3"), ("XADD", "small", "1-1", "a", "1"),
          ("XADD", "small", "1-2", "a", "1"), ("XADD", "small", "1-3", "a", "1"), ("XADD", "small", "1-4", "b", "1"),
          ("DUMP", "small"), ("XINFO", "STREAM", "small"), ("CONFIG", "SET", "stream-node-max-entries", "100")])
KEYSPACE = [
    ("XADD", "k", "1-1", "a", "1"), ("XADD", "k", "2-1", "b", "2"), ("COPY", "k", "k2"), ("XRANGE", "k2", "-", "+"),
    ("RENAME", "k2", "k3"), ("XINFO", "STREAM", "k3"), ("MOVE", "k3", "1"), ("EXISTS", "k3"),
    ("SCAN", "0", "TYPE", "stream"), ("LPUSH", "k", "x"), ("XADD", "l", "1-1", "a", "1"), ("LPUSH", "l2", "x"),
    ("XADD", "l2", "1-1", "a", "1"), ("XRANGE", "l2", "-", "+"), ("DEBUG", "RELOAD"), ("XRANGE", "k", "-", "+"),
    ("XINFO", "STREAM", "k"), ("XDEL", "k", "1-1", "2-1"), ("EXISTS", "k"), ("XINFO", "STREAM", "k"),
    ("DEBUG", "RELOAD"), ("XINFO", "STREAM", "k"),
]


def _run(client, commands):
    out = []
    for cmd in commands:
        try:
            reply = client.execute_command(*cmd)
        except redis.ResponseError as exc:
            reply = "ERR " + str(exc)
        if cmd[0] == "SCAN":
            reply = [reply[0], sorted(reply[1])]
        out.append(reply)
    return out


def _same(both, commands, protocol=2):
    """Run `commands` on both servers (replies as sent: no redis-py reply parsing) and compare."""
    forkv, real = (redis.Redis(port=c.connection_pool.connection_kwargs["port"], protocol=protocol)
                   for c in both)
    for c in (forkv, real):
        c.response_callbacks.clear()
    try:
        got, want = _run(forkv, commands), _run(real, commands)
    finally:
        forkv.close()
        real.close()
    for cmd, a, b in zip(commands, got, want):
        assert a == b, cmd


def test_add_and_errors(both):
    _same(both, ADD)


def test_ranges_and_info(both):
    _same(both, ADD + READ)


def test_ranges_and_info_resp3(both):
    _same(both, ADD + READ, protocol=3)


def test_delete_trim_setid(both):
    _same(both, ADD + WRITE)


def test_nodes_tombstones_and_dump_bytes(both):
    _same(both, BIG)


def test_keyspace_commands_keep_streams(both):
    _same(both, KEYSPACE)


def test_dump_restore_across_servers(both):
    forkv, real = both
    for c in both:
        _run(c, BIG[:262])
    assert forkv.dump("big") == real.dump("big")
    forkv.restore("from_redis", 0, real.dump("big"))
    real.restore("from_forkv", 0, forkv.dump("big"))
    assert forkv.xrange("from_redis") == real.xrange("from_forkv") == real.xrange("big")


def test_notifications(both):
    for c in both:
        c.config_set("notify-keyspace-events", "KEt")
    try:
        events = []
        for c in both:
            p = c.pubsub()
            p.psubscribe("__keyevent@0__:*")
            p.get_message(timeout=5)
            _run(c, [("XADD", "s", "1-1", "a", "1"), ("XADD", "s", "MAXLEN", "0", "2-1", "a", "1"),
                     ("XADD", "s", "3-1", "a", "1"), ("XDEL", "s", "3-1"), ("XSETID", "s", "9-9"),
                     ("XTRIM", "s", "MAXLEN", "0")])
            got = []
            while True:
                m = p.get_message(timeout=0.5)
                if m is None:
                    break
                got.append((m["channel"], m["data"]))
            p.close()
            events.append(got)
        assert events[0] == events[1]
        assert len(events[0]) == 6
    finally:
        for c in both:
            c.config_set("notify-keyspace-events", "")


def _wait_bgsave(client):
    from tests.servers import wait_for
    wait_for(lambda: client.info("persistence")["rdb_bgsave_in_progress"] == 0, timeout=20)
    assert client.info("persistence")["rdb_last_bgsave_status"] == "ok"


def test_bgsave_files_cross_both_ways(spawn, tmp_path):
    """forkv's BGSAVE (the fork child's C walker) with streams loads into redis-server, and
    redis-server's file with streams and groups loads into forkv, with the same content."""
    from tests.integration._persistence import start_on_file

    setup = BIG[:262] + [("XGROUP", "CREATE", "big", "grp", "0"),
                         ("XREADGROUP", "GROUP", "grp", "alice", "COUNT", "3", "STREAMS", "big", ">")]
    probe = [("XRANGE", "big", "-", "+"), ("XINFO", "STREAM", "big"), ("DUMP", "big"), ("XINFO", "GROUPS", "big")]
    real = spawn("redis")
    rc = redis.Redis(port=real.port)
    _run(rc, setup)
    want = _run(rc, probe)
    rc.bgsave()
    _wait_bgsave(rc)
    forkv = start_on_file(spawn, "forkv", f"{real.dir}/dump.rdb", tmp_path / "f")
    fc = redis.Redis(port=forkv.port)
    assert _run(fc, probe[:3]) == want[:3]
    fc.bgsave()
    _wait_bgsave(fc)
    back = start_on_file(spawn, "redis", f"{forkv.dir}/dump.rdb", tmp_path / "r")
    assert _run(redis.Redis(port=back.port), probe) == want


def _file_stream(path, key: bytes):
    from persistence.rdb import Record, read_rdb
    with open(path, "rb") as f:
        return next(ev.value for ev in read_rdb(f) if isinstance(ev, Record) and ev.key == key)


def _groups_shape(rec) -> list:
    """A record's groups without the delivery and seen times (the two servers' clocks)."""
    return [(g.name, g.last_id, g.entries_read, [(sid, n) for sid, _, n in g.pel],
             [(name, ids) for name, _, _, ids in g.consumers]) for g in rec.groups or []]


def test_group_changes_between_snapshots(spawn):
    """The groups are serialised lazily (when a snapshot or DUMP reads them): a BGSAVE, then
    changes to the groups, then a second BGSAVE and a SAVE write what Redis writes, and what
    the server's own DUMP holds (the file's record is DUMP's body, delivery times included)."""
    from persistence import rdb

    setup = ([("XADD", "q", f"{i}-1", "f", f"v{i}") for i in range(1, 51)]
             + [("XGROUP", "CREATE", "q", "g", "0"),
                ("XREADGROUP", "GROUP", "g", "alice", "COUNT", "20", "STREAMS", "q", ">")])
    changes = [
        [("XACK", "q", "g", "1-1", "2-1", "7-1"), ("XCLAIM", "q", "g", "bob", "0", "3-1", "4-1", "JUSTID"),
         ("XGROUP", "CREATE", "q", "h", "$"), ("XGROUP", "CREATECONSUMER", "q", "h", "carol")],
        [("XREADGROUP", "GROUP", "h", "dave", "STREAMS", "q", "0"), ("XGROUP", "SETID", "q", "h", "10-1"),
         ("XGROUP", "DELCONSUMER", "q", "g", "bob"), ("XACK", "q", "g", "20-1")],
    ]
    servers = [spawn("forkv"), spawn("redis")]
    clients = [redis.Redis(port=s.port) for s in servers]
    raw = [redis.Redis(port=s.port) for s in servers]  # replies as sent (XCLAIM JUSTID)
    for c, r in zip(clients, raw):
        r.response_callbacks.clear()
        _run(r, setup)
        c.bgsave()
        _wait_bgsave(c)
    for step, cmds in enumerate(changes):
        files = []
        for s, c, r in zip(servers, clients, raw):
            _run(r, cmds)
            if step == 0:
                c.bgsave()
                _wait_bgsave(c)
            else:
                assert c.save()
            files.append(_file_stream(f"{s.dir}/dump.rdb", b"q"))
        forkv_rec, redis_rec = files
        assert forkv_rec.rdb_nodes == redis_rec.rdb_nodes
        assert _groups_shape(forkv_rec) == _groups_shape(redis_rec), step
        assert rdb.dump_payload(forkv_rec) == clients[0].dump("q"), step
