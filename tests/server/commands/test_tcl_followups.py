"""What Redis 7.0's own tcl suite (tests/external/redis_tcl_suite.py) still found against forkv,
each point as a differential test run on forkv and on Debian's redis-server with DEBUG enabled:
LATENCY HISTOGRAM of subcommands, the expire-cycle latency event, expiry held during CLIENT
PAUSE, DEBUG QUICKLIST-PACKED-THRESHOLD (plain nodes in DUMP), DEBUG SET-DISABLE-DENY-SCRIPTS,
CLUSTER without cluster mode, a blocked command's slow log entry, DEBUG OBJECT on a key past its
time, reply buffer resizing (CLIENT LIST rbs, DEBUG REPLYBUFFER).

Left out: the latency samples' durations (timing), replication-only pause cases.
"""

import socket

import hiredis
import pytest
import redis

from tests.server.commands._suite import debug_server  # noqa: F401  (fixture)
from tests.servers import command_bytes, wait_for


@pytest.fixture
def dr(debug_server):  # noqa: F811
    client = redis.Redis(port=debug_server.port)
    client.flushall()
    yield client
    client.execute_command("client", "unpause")
    client.config_set("latency-monitor-threshold", 0)
    client.config_set("slowlog-log-slower-than", 10000)
    client.close()


def test_latency_histogram_of_a_container_lists_its_subcommands(dr):
    dr.config_resetstat()
    dr.client_id()
    dr.client_list()
    histo = dr.execute_command("latency", "histogram", "client")
    assert sorted(histo) == [b"client|id", b"client|list"]
    for name in histo:
        assert histo[name][b"calls"] == 1
    histo = dr.execute_command("latency", "histogram", "client|id")
    assert list(histo) == [b"client|id"]
    assert dr.execute_command("latency", "histogram", "nosuchcommand", "client|nosuch") == {}


def test_latency_histogram_keeps_the_order_asked(dr):
    dr.config_resetstat()
    dr.set("a", "b")
    dr.get("a")
    assert list(dr.execute_command("latency", "histogram", "set", "get")) == [b"set", b"get"]


def test_expire_cycle_is_a_latency_event(dr):
    """A big key deleted by the active expiry cycle: its time is an "expire-cycle" sample."""
    dr.config_set("latency-monitor-threshold", 1)
    dr.execute_command("latency", "reset")
    pipe = dr.pipeline(transaction=False)
    for start in range(0, 300000, 10000):
        pipe.sadd("big", *[b"member:%d" % i for i in range(start, start + 10000)])
    pipe.execute()
    dr.pexpire("big", 20)
    wait_for(lambda: dr.dbsize() == 0, what="the big key's active expiry")
    latest = dr.execute_command("latency", "latest")
    assert b"expire-cycle" in [event[0] for event in latest]


def test_expiry_waits_for_the_end_of_a_client_pause(dr):
    """Neither lazy nor active expiry deletes a key during CLIENT PAUSE: the key reads as missing
    but stays (expired_keys unchanged) until the pause ends."""
    expired = dr.info("stats")["expired_keys"]
    pipe = dr.pipeline()
    pipe.set("foo{t}", "bar", px=10)
    pipe.set("bar{t}", "foo", px=10)
    pipe.execute_command("client", "pause", 50000, "write")
    pipe.execute()
    wait_for(lambda: dr.get("foo{t}") is None and dr.get("bar{t}") is None, what="logical expiry")
    assert dr.info("stats")["expired_keys"] == expired
    assert dr.dbsize() == 2
    dr.execute_command("client", "unpause")
    dr.get("foo{t}")
    dr.get("bar{t}")
    assert dr.info("stats")["expired_keys"] == expired + 2


@pytest.mark.parametrize("arg, ok", [
    (b"1b", True), (b"0", True), (b"100", True), (b"4kb", True), (b"KB", True), (b"4294967296", False),
    (b"4gb", False), (b"4095mb", True), (b"-1", False), (b"1x", False), (b"1.5", False), (b"", True),
])
def test_quicklist_packed_threshold_argument(dr, arg, ok):
    try:
        if ok:
            assert dr.execute_command("debug", "quicklist-packed-threshold", arg) == b"OK"
        else:
            with pytest.raises(redis.ResponseError) as err:
                dr.execute_command("debug", "quicklist-packed-threshold", arg)
            assert str(err.value) == "argument must be a memory value bigger than 1 and smaller than 4gb"
    finally:
        dr.execute_command("debug", "quicklist-packed-threshold", 0)


# redis-server 7.0.15's DUMP of that list with a threshold of 10 bytes: plain nodes for the
# elements of 10 bytes and more, the 90-byte one LZF-compressed as any long RDB string.
PLAIN_DUMP = (b"\x12\x05\x02\n\n\x00\x00\x00\x01\x00\x81a\x02\xff\x01\x14bbbbbbbbbbbbbbbbbbbb\x01"
              b"\xc3\t@Z\x01cc\xe0M\x00\x01cc\x02\n\n\x00\x00\x00\x01\x00\x81d\x02\xff\x01\neeeeeeeeee"
              b"\n\x00i(uP\xfb\xde\x8a\xbf")


def test_quicklist_packed_threshold_makes_plain_nodes_in_dump(dr):
    """Elements at least as long as the threshold are plain quicklist nodes in DUMP's payload."""
    dr.execute_command("debug", "quicklist-packed-threshold", "10b")
    try:
        dr.rpush("l", "a", "bb" * 10, "ccc" * 30, "d", "e" * 10)
        assert dr.lrange("l", 0, -1)[1] == b"bb" * 10
        payload = dr.dump("l")
    finally:
        dr.execute_command("debug", "quicklist-packed-threshold", 0)
    assert payload == PLAIN_DUMP


def test_scripts_may_call_noscript_commands_once_allowed(dr):
    script = "return redis.call('debug', 'set-active-expire', '1')"
    with pytest.raises(redis.ResponseError, match="This Redis command is not allowed from script"):
        dr.eval(script, 0)
    dr.execute_command("debug", "set-disable-deny-scripts", 1)
    try:
        assert dr.eval(script, 0) == b"OK"
    finally:
        dr.execute_command("debug", "set-disable-deny-scripts", 0)
    with pytest.raises(redis.ResponseError, match="This Redis command is not allowed from script"):
        dr.eval(script, 0)


@pytest.mark.parametrize("argv, message", [
    (("cluster", "info"), "This instance has cluster support disabled"),
    (("cluster", "help"), "This instance has cluster support disabled"),
    (("cluster", "keyslot", "a"), "This instance has cluster support disabled"),
    (("cluster", "info", "x"), "wrong number of arguments for 'cluster|info' command"),
    (("cluster",), "wrong number of arguments for 'cluster' command"),
    (("cluster", "nosuch"), "unknown subcommand 'nosuch'. Try CLUSTER HELP."),
])
def test_cluster_without_cluster_mode(both, argv, message):
    for client in both:
        with pytest.raises(redis.ResponseError) as err:
            client.execute_command(*argv)
        assert str(err.value) == message


def test_cluster_reset_is_not_allowed_from_a_script(both):
    for client in both:
        with pytest.raises(redis.ResponseError, match="This Redis command is not allowed from script"):
            client.eval("redis.call('cluster', 'reset', 'hard')", 0)


def test_slowlog_logs_a_blocked_command_when_it_is_served(both):
    """A blocked BLPOP goes to the slow log as itself once served, after what ran meanwhile."""
    for client in both:
        client.config_set("slowlog-log-slower-than", 0)
        waiter = redis.Redis(port=client.connection_pool.connection_kwargs["port"])
        try:
            conn = waiter.connection_pool.get_connection("blpop")
            conn.send_command("blpop", "l", 0)
            wait_for(lambda: client.info("clients")["blocked_clients"] == 1, what="BLPOP blocked")
            pipe = client.pipeline()
            pipe.lpush("l", "foo")
            pipe.slowlog_reset()
            pipe.execute()
            assert conn.read_response() == [b"l", b"foo"]
            waiter.connection_pool.release(conn)
            assert client.slowlog_get()[0]["command"] == b"blpop l 0"
        finally:
            client.config_set("slowlog-log-slower-than", 10000)
            waiter.close()


def test_debug_object_sees_an_expired_key_still_held(dr):
    """DEBUG OBJECT reads the dict as it is: a key past its time but not yet deleted (active
    expiry off) is still there for it, and a script's EXISTS then deletes it."""

    def server_ms():
        seconds, micros = dr.time()
        return seconds * 1000 + micros // 1000

    dr.execute_command("debug", "set-active-expire", 0)
    try:
        dr.set("key", "value", px=1)
        set_at = server_ms()
        wait_for(lambda: server_ms() > set_at + 2, what="the key's deadline")
        assert dr.debug_object("key")["encoding"] == "embstr"
        assert dr.eval("return redis.call('EXISTS', 'key')", 0) == 0
        assert dr.exists("key") == 0
        with pytest.raises(redis.ResponseError, match="no such key"):
            dr.debug_object("key")
    finally:
        dr.execute_command("debug", "set-active-expire", 1)


def _reply_buffer_size(client, name: bytes) -> int:
    for line in client.execute_command("client", "list").split(b"\n"):
        if b" name=" + name + b" " in line:
            return int(line.split(b" rbs=")[1].split(b" ")[0])
    raise AssertionError(f"no client named {name}")


def test_reply_buffer_shrinks_when_idle_and_grows_when_filled(dr, debug_server):  # noqa: F811
    """CLIENT LIST's rbs: an idle client's reply buffer shrinks to 1 KB, a client reading
    big replies has it doubled by the cron up to 16 KB (Redis's clientsCronResizeOutputBuffer)."""
    dr.execute_command("debug", "replybuffer", "peak-reset-time", 100)
    tc = redis.Redis(port=debug_server.port)
    try:
        tc.client_setname("test_client")
        wait_for(lambda: 1024 <= _reply_buffer_size(dr, b"test_client") < 2046, what="an idle shrink")
        dr.set("bigval", "x" * 32768)
        dr.execute_command("debug", "replybuffer", "peak-reset-time", "never")
        wait_for(lambda: tc.get("bigval") and 16384 <= _reply_buffer_size(dr, b"test_client") < 32768,
                 what="a busy client's growth")
        stats = dr.info("stats")
        assert stats["reply_buffer_shrinks"] >= 1 and stats["reply_buffer_expands"] >= 4
    finally:
        dr.execute_command("debug", "replybuffer", "peak-reset-time", "reset")
        tc.close()


@pytest.mark.parametrize("argv, message", [
    (("replybuffer", "nosuch", "1"), "unknown subcommand or wrong number of arguments for 'replybuffer'. "
                                       "Try DEBUG HELP."),
    (("REPLYBUFFER", "peak-reset-time", "x"), "value is not an integer or out of range"),
])
def test_debug_replybuffer_errors(dr, argv, message):
    with pytest.raises(redis.ResponseError) as err:
        dr.execute_command("debug", *argv)
    assert str(err.value) == message


def test_randomkey_during_a_pause_with_only_expired_keys_answers(r):
    """forkv only: with every key past its time and kept by CLIENT PAUSE, RANDOMKEY gives up
    after 100 expired picks and answers one (Redis 7.0.15 would loop for ever there)."""
    r.set("gone", "x", px=1)
    set_at = r.time()
    r.execute_command("client", "pause", 50000, "write")
    try:
        wait_for(lambda: r.time() > (set_at[0], set_at[1] + 2000) and r.get("gone") is None, what="expiry")
        assert r.randomkey() == b"gone"
        assert r.dbsize() == 1
    finally:
        r.execute_command("client", "unpause")
    assert r.get("gone") is None and r.dbsize() == 0


def _first_line(port: int, client_proto: int, script: str) -> bytes:
    """The first line of a script's reply, read raw on a connection speaking `client_proto`."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        f = sock.makefile("rb")
        if client_proto == 3:
            sock.sendall(command_bytes("HELLO", "3"))
            reader = hiredis.Reader()
            while reader.gets() is False:
                reader.feed(f.read1(65536))
        sock.sendall(command_bytes("EVAL", script, "0"))
        return f.readline().rstrip(b"\r\n")


@pytest.mark.parametrize("kind, resp2, resp3", [
    ("bignum", b"$37", b"(1234567999999999999999999999999999999"), ("map", b"*6", b"%3"),
    ("set", b"*3", b"~3"), ("double", b"$5", b",3.141"), ("verbatim", b"$25", b"=29"),
    ("true", b":1", b"#t"), ("false", b":0", b"#f"), ("null", b"$-1", b"_"),
])
def test_debug_protocol_types_through_a_script(dr, debug_server, kind, resp2, resp3):  # noqa: F811
    """scripting.tcl's "test RESP<lua>/<client> ... protocol parsing": DEBUG PROTOCOL called from
    a script comes back in RESP3 form only when both the script and the client speak RESP3 (null:
    whenever the client does)."""
    dr.execute_command("DEBUG", "SET-DISABLE-DENY-SCRIPTS", "1")
    try:
        for lua in (2, 3):
            for client in (2, 3):
                script = f"redis.setresp({lua}); return redis.call('debug', 'protocol', '{kind}')"
                both3 = client == 3 and (lua == 3 or kind == "null")
                assert _first_line(debug_server.port, client, script) == (resp3 if both3 else resp2)
    finally:
        dr.execute_command("DEBUG", "SET-DISABLE-DENY-SCRIPTS", "0")
