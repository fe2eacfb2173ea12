"""Connection limits against real server processes: maxclients and the open files limit, idle
timeouts and TCP keepalive, query buffer and bulk length limits, output buffer limits and flow
control, protected mode. Where Redis's behaviour is the question, the same check runs against
Debian's redis-server too."""

import re
import resource
import shutil
import socket
import time

import pytest
import redis

from tests.servers import ServerProcess, command_bytes, read_line, read_until_closed, receive, rss, wait_for


def _log_lines(server, *needles: str) -> list:
    """Log lines containing one of `needles`, in order, without the pid/role/time/level prefix."""
    return [line.split(" ", 6)[6] for line in server.log().splitlines()
            if any(needle in line for needle in needles)]


class _Wrapped(ServerProcess):
    """A server started under a command prefix (prlimit, setpriv)."""

    def __init__(self, kind, prefix, args=()):
        super().__init__(kind, args)
        self.prefix = prefix

    def command(self):
        return self.prefix + super().command()


def _need_tool(name):
    if shutil.which(name) is None:
        pytest.skip(f"{name} is not installed")


def _without_sys_resource(nofile: str) -> list:
    """The command prefix that runs a server with RLIMIT_NOFILE `nofile` ("soft:hard") and without
    CAP_SYS_RESOURCE, so that it cannot raise the hard limit."""
    _need_tool("prlimit")
    _need_tool("setpriv")
    return ["setpriv", "--inh-caps=-sys_resource", "--bounding-set=-sys_resource",
            "prlimit", f"--nofile={nofile}", "--"]


def _clients(r) -> int:
    return r.info("clients")["connected_clients"]


# -- maxclients and the open files limit --------------------------------------------------------

def test_maxclients_holds_10000_idle_connections_and_refuses_the_next(capsys):
    n = 10000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = n + 256
    if hard != resource.RLIM_INFINITY and hard < need:
        pytest.skip(f"RLIMIT_NOFILE hard limit {hard} < {need}: cannot hold {n} connections in the test")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, need), hard))
    socks = []
    try:
        with ServerProcess("forkv", ["--maxclients", str(n + 1)]) as server:
            control = redis.Redis(port=server.port)
            assert _clients(control) == 1
            base = rss(server.proc.pid)
            for _ in range(n):
                socks.append(socket.create_connection(("127.0.0.1", server.port)))
            wait_for(lambda: _clients(control) == n + 1, 30, what=f"{n} idle clients")
            per_client = (rss(server.proc.pid) - base) / n
            with capsys.disabled():
                print(f"\nforkv: {per_client:.0f} bytes of RSS per idle connection ({n} connections)")
            assert per_client < 16384, per_client
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as extra:
                assert read_until_closed(extra) == b"-ERR max number of clients reached\r\n"
            stats = control.info("stats")
            assert stats["rejected_connections"] == 1
            # the readiness probe, the control client and the idle ones; not the refused one
            assert stats["total_connections_received"] == n + 2
            for s in socks:
                s.close()
            socks = []
            wait_for(lambda: _clients(control) == 1, 30, what="the idle clients to go")
            control.close()
    finally:
        for s in socks:
            s.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.parametrize("kind", ["forkv", "redis"])
def test_open_files_limit_is_raised_at_start(kind):
    _need_tool("prlimit")
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < 10032:
        pytest.skip(f"RLIMIT_NOFILE hard limit {hard} < 10032")
    with _Wrapped(kind, ["prlimit", f"--nofile=1024:{hard}", "--"], ["--maxclients", "10000"]) as server:
        assert _log_lines(server, "open files") == [
            "Increased maximum number of open files to 10032 (it was originally set to 1024)."]
        with open(f"/proc/{server.proc.pid}/limits") as f:
            line = next(line for line in f if line.startswith("Max open files"))
        assert line.split()[3:5] == ["10032", "10032"]


@pytest.mark.parametrize("kind", ["forkv", "redis"])
def test_maxclients_is_lowered_when_the_file_limit_cannot_be_raised(kind):
    prefix = _without_sys_resource("1000:1000")
    with _Wrapped(kind, prefix, ["--maxclients", "10000"]) as server:
        assert _log_lines(server, "maxclients", "open files") == [
            "You requested maxclients of 10000 requiring at least 10032 max file descriptors.",
            "Server can't set maximum open files to 10032 because of OS error: Operation not permitted.",
            "Current maximum open files is 1000. maxclients has been reduced to 968 to compensate "
            "for low ulimit. If you need higher maxclients increase 'ulimit -n'.",
        ]
        r = redis.Redis(port=server.port)
        assert r.config_get("maxclients") == {"maxclients": "968"}
        r.close()


# -- timeout and tcp-keepalive ------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["forkv", "redis"])
def test_timeout_closes_idle_clients_even_inside_multi(kind):
    with ServerProcess(kind, ["--timeout", "1", "--hz", "100"]) as server:
        idle = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        in_multi = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        in_multi.sendall(command_bytes("MULTI"))
        assert in_multi.recv(64) == b"+OK\r\n"
        busy = redis.Redis(port=server.port)
        # Redis compares whole seconds, so closing takes between 1 and 3 seconds; the busy client
        # keeps talking through all of it and stays.
        closed = []
        for sock in (idle, in_multi):
            sock.settimeout(0.05)

        def both_closed():
            assert busy.ping() is True
            for sock in (idle, in_multi):
                if sock in closed:
                    continue
                try:
                    if sock.recv(64) == b"":
                        closed.append(sock)
                except TimeoutError:
                    pass
            return len(closed) == 2

        wait_for(both_closed, 10, what="the idle clients to be closed")
        assert busy.ping() is True
        assert _clients(busy) == 1
        busy.close()
        idle.close()
        in_multi.close()


@pytest.mark.parametrize("kind", ["forkv", "redis"])
def test_tcp_keepalive_is_set_on_accepted_sockets(kind):
    _need_tool("ss")

    def settled(port, count):
        """The timers once the replies' retransmission timers are gone ('on' right after a write)."""
        timers = _keepalive_timers(port)
        return timers if len(timers) == count and not any("(on," in t for t in timers) else None

    with ServerProcess(kind, ["--tcp-keepalive", "300"]) as server:
        r = redis.Redis(port=server.port)
        r.ping()
        timers = wait_for(lambda: settled(server.port, 1), 10, what="a keepalive timer")
        assert timers[0].startswith("timer:(keepalive,4min"), timers
        r.config_set("tcp-keepalive", "0")  # applies to connections accepted from then on
        r2 = redis.Redis(port=server.port)
        r2.ping()
        # two connections, one keepalive timer: the new socket has none
        wait_for(lambda: settled(server.port, 1), 10, what="only the first connection's keepalive")
        r2.close()
        r.close()
    with ServerProcess(kind, ["--tcp-keepalive", "7"]) as server:
        r = redis.Redis(port=server.port)
        r.ping()
        timers = wait_for(lambda: settled(server.port, 1), 10, what="a keepalive timer")
        # ss prints a few seconds as e.g. "6.952ms" or "6.9sec": the leading number is seconds
        seconds = float(re.match(r"[\d.]+", timers[0].split(",")[1]).group())
        assert timers[0].startswith("timer:(keepalive,") and 0 < seconds <= 7, timers
        r.close()


def _keepalive_timers(port: int) -> list:
    """`ss -tnoe` timers of the server's side of established connections to `port`."""
    import subprocess

    out = subprocess.run(["ss", "-tnoeH", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True, check=True).stdout
    return [part for line in out.splitlines() for part in line.split() if part.startswith("timer:")]


# -- query buffer and bulk length ---------------------------------------------------------------

def _send_and_read_until_closed(port: int, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        try:
            s.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed first; what it wrote is still readable below
        try:
            return read_until_closed(s)
        except ConnectionResetError:
            return b"<reset>"


def test_huge_bulk_claim_allocates_nothing_and_others_go_on(forkv_server):
    r = redis.Redis(port=forkv_server.port)
    before = rss(forkv_server.proc.pid)
    with socket.create_connection(("127.0.0.1", forkv_server.port)) as s:
        s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$500000000\r\nxyz")  # claims 500 MB, under the limit
        assert r.ping() is True
        s.sendall(b"more")
        assert r.set("other", "1") is True
        held = [c for c in r.client_list() if c["cmd"] == "NULL"]
        assert [c["qbuf"] for c in held] == ["39"]  # the incomplete frame's bytes so far
        assert rss(forkv_server.proc.pid) - before < 32 * 1024 * 1024
    r.close()


@pytest.mark.parametrize("kind", ["forkv", "redis"])
@pytest.mark.parametrize("payload, reply", [
    (b"*2\r\n$4\r\nECHO\r\n$2000000\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"GET " + b"k" * 70000, b"-ERR Protocol error: too big inline request\r\n"),
    (b"*1\r\n$" + b"9" * 70000, b"-ERR Protocol error: too big bulk count string\r\n"),
])
def test_size_limits_reply_and_close(kind, payload, reply):
    with ServerProcess(kind, ["--proto-max-bulk-len", "1mb"]) as server:
        r = redis.Redis(port=server.port)
        assert _send_and_read_until_closed(server.port, payload) == reply
        assert r.ping() is True
        r.close()


@pytest.mark.parametrize("kind, shape", [
    ("forkv", "one big argument"), ("redis", "one big argument"),
    # Redis moves each complete element out of its query buffer into argv (not limited), so it
    # keeps reading this frame; forkv holds such a frame whole and counts it, keeping memory bounded.
    ("forkv", "many small arguments"),
])
def test_query_buffer_limit_closes_the_client_and_logs_it(kind, shape):
    with ServerProcess(kind, ["--client-query-buffer-limit", "1mb"]) as server:
        r = redis.Redis(port=server.port)
        base = rss(server.proc.pid)
        if shape == "one big argument":
            payload = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3000000\r\n" + b"x" * 1_500_000
        else:  # a frame that claims many elements (held back whole until complete)
            payload = b"*1000000\r\n" + b"$1\r\nx\r\n" * 200_000
        assert _send_and_read_until_closed(server.port, payload) in (b"", b"<reset>")
        wait_for(lambda: "Closing client that reached max query buffer length: id=" in server.log(),
                 10, what="the log line")
        line = next(x for x in server.log().splitlines() if "max query buffer" in x)
        # Redis shows the first bytes it still holds (past the headers it has consumed); forkv the
        # first bytes of the incomplete frame: the same form, not always the same bytes.
        assert re.search(r' \(qbuf initial bytes: "[^"]{1,256}"\)$', line), line
        assert r.ping() is True and r.dbsize() == 0
        if kind == "forkv":
            assert rss(server.proc.pid) - base < 32 * 1024 * 1024
        r.close()


# -- output buffer limits and flow control ------------------------------------------------------

OBUF_ERRORS = [
    ("normal 1mb", "Wrong number of arguments in buffer limit configuration."),
    ("normal 1 2 3 slave", "Wrong number of arguments in buffer limit configuration."),
    ("master 5 5 5", "Invalid client class specified in buffer limit configuration."),
    ("normal x 1 1", "Error in hard, soft or soft_seconds setting in buffer limit configuration."),
    ("normal 1 x 1", "Error in hard, soft or soft_seconds setting in buffer limit configuration."),
    ("normal 1 1 -1", "Error in hard, soft or soft_seconds setting in buffer limit configuration."),
    ("normal -1 5 5", "Error in hard, soft or soft_seconds setting in buffer limit configuration."),
]


@pytest.mark.parametrize("kind", ["forkv", "redis"])
def test_client_output_buffer_limit_config_get_and_set(kind):
    from tests.servers import session

    with ServerProcess(kind) as server:
        name = "client-output-buffer-limit"
        steps = [("CONFIG", "GET", name)]
        for value in ["normal 1mb 512kb 10", "slave 1k 2k 3 pubsub 0 0 0", "", "REPLICA 5 5 5",
                      "normal 10 20 30 normal 40 50 60"]:
            steps += [("CONFIG", "SET", name, value), ("CONFIG", "GET", name)]
        steps += [("CONFIG", "SET", name, value) for value, _ in OBUF_ERRORS]
        steps += [("CONFIG", "GET", name)]
        replies = session(server.port, *steps)
        gets = [r[1].decode() for r in replies if isinstance(r, list)]
        assert gets == [
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
            "normal 1048576 524288 10 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
            "normal 1048576 524288 10 slave 1000 2000 3 pubsub 0 0 0",
            "normal 1048576 524288 10 slave 1000 2000 3 pubsub 0 0 0",
            "normal 1048576 524288 10 slave 5 5 5 pubsub 0 0 0",
            "normal 40 50 60 slave 5 5 5 pubsub 0 0 0",
            "normal 40 50 60 slave 5 5 5 pubsub 0 0 0",
        ]
        errors = [str(r) for r in replies if isinstance(r, Exception)]
        assert errors == [f"ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"
                          for _, why in OBUF_ERRORS]


def _unread_pipeline(port: int, commands: bytes, rounds: int):
    """Send `commands` `rounds` times on a socket that never reads; returns it (still open) and
    how many rounds the server took before its socket buffer was full."""
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.setblocking(False)
    sent = 0
    for _ in range(rounds):
        try:
            s.sendall(commands)
            sent += 1
        except BlockingIOError:
            break
        except (BrokenPipeError, ConnectionResetError):
            break
    return s, sent


@pytest.mark.parametrize("kind", ["forkv", "redis"])
@pytest.mark.parametrize("reply", ["pipelined GETs", "KEYS *"])
def test_output_buffer_hard_limit_disconnects_a_client_that_does_not_read(kind, reply):
    with ServerProcess(kind) as server:
        r = redis.Redis(port=server.port)
        r.config_set("client-output-buffer-limit", "normal 4mb 0 0")
        if reply == "KEYS *":
            pipe = r.pipeline(transaction=False)
            for i in range(300_000):
                pipe.set(f"key:{i:012d}", "v")
            pipe.execute()
            one = command_bytes("KEYS", "*")  # ~6 MB of reply in one go
        else:
            r.set("k", b"v" * 1024)
            one = command_bytes("GET", "k") * 1000  # 1 MB of replies per round
        base = rss(server.proc.pid)
        s, sent = _unread_pipeline(server.port, one, 100)
        try:
            wait_for(lambda: "scheduled to be closed ASAP for overcoming of output buffer limits."
                     in server.log(), 20, what="the output buffer limit")
            wait_for(lambda: _clients(r) == 1, 10, what="the client to be closed")
            if kind == "forkv":
                assert rss(server.proc.pid) - base < 64 * 1024 * 1024
            assert r.ping() is True
        finally:
            s.close()
        r.close()


def test_without_a_limit_a_client_that_does_not_read_is_paused_not_run(forkv_server):
    r = redis.Redis(port=forkv_server.port)
    r.set("k", b"v" * 1024)
    before = r.info("stats")["total_commands_processed"]
    base = rss(forkv_server.proc.pid)
    rounds = 200
    one = command_bytes("GET", "k") * 100  # 1,300 bytes of requests, ~100 KB of replies
    s = socket.create_connection(("127.0.0.1", forkv_server.port))
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.sendall(one * rounds)  # all 20,000 GETs (260 KB) fit in the server's socket buffer
        # the server stops executing the pipeline once its write buffer is full
        info = lambda: r.info("stats")["total_commands_processed"] - before  # noqa: E731
        wait_for(lambda: info() > 0, 10, what="the pipeline to start")
        first = info()
        assert r.info("clients")["client_recent_max_output_buffer"] > 0
        listed = [c for c in r.client_list() if c["cmd"] == "get"]
        assert len(listed) == 1 and int(listed[0]["omem"]) > 0, listed
        assert int(listed[0]["oll"]) == (int(listed[0]["omem"]) + 16383) // 16384
        assert listed[0]["obl"] == "0"
        assert first < 100 * rounds // 2, first  # far from all 20,000 ran
        assert rss(forkv_server.proc.pid) - base < 32 * 1024 * 1024
        # once the client reads, the rest runs and every reply arrives
        expected = 100 * rounds * len(b"$1024\r\n" + b"v" * 1024 + b"\r\n")
        s.settimeout(10)
        assert receive(s, expected) == expected
        # every GET ran (and the few INFO / CLIENT LIST calls of this test)
        assert 100 * rounds < info() < 100 * rounds + 20
    finally:
        s.close()
    r.close()


@pytest.mark.parametrize("kind", ["forkv", "redis"])
def test_output_buffer_soft_limit_disconnects_after_its_seconds(kind):
    with ServerProcess(kind, ["--hz", "50"]) as server:
        r = redis.Redis(port=server.port)
        r.config_set("client-output-buffer-limit", "normal 0 1mb 1")
        r.set("k", b"v" * 1024)
        start = time.monotonic()
        s, _ = _unread_pipeline(server.port, command_bytes("GET", "k") * 1000, 20)  # 20 MB of replies
        try:
            wait_for(lambda: _clients(r) == 2, 10, what="the connection to be accepted")
            wait_for(lambda: _clients(r) == 1, 10, what="the soft limit's seconds to pass")
            assert time.monotonic() - start > 1  # not before the soft limit's second
            # found by the cron (no new reply crossed the limit): Redis's wording for that case
            assert " closed for overcoming of output buffer limits." in server.log()
        finally:
            s.close()
        r.close()


# -- protected mode -----------------------------------------------------------------------------

def _non_loopback_ipv4() -> list:
    """This host's own IPv4 addresses outside 127/8 (from `ip -4 addr`)."""
    import subprocess

    if shutil.which("ip") is None:
        return []
    out = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True).stdout
    found = []
    for line in out.splitlines():
        parts = line.split()
        if "inet" in parts:
            addr = parts[parts.index("inet") + 1].split("/")[0]
            if not addr.startswith("127."):
                found.append(addr)
    return found


def _connect_from(source: str, port: int, dest: str = "127.0.0.1") -> bytes:
    """Connect from `source` (bound before connecting), send PING, return all until closed or
    the first reply."""
    with socket.socket() as s:
        s.settimeout(10)
        s.bind((source, 0))
        s.connect((dest, port))
        s.sendall(command_bytes("PING"))
        return read_line(s)


@pytest.mark.parametrize("kind", ["forkv", "redis"])
def test_protected_mode_refuses_clients_that_are_not_local(kind):
    with ServerProcess(kind, ["--bind", "0.0.0.0"]) as server:
        r = redis.Redis(port=server.port)
        denied = _connect_from("127.0.0.2", server.port)  # in 127/8 but not 127.0.0.1: not local to Redis
        assert denied.startswith(b"-DENIED Redis is running in protected mode because protected mode is enabled")
        assert _connect_from("127.0.0.1", server.port) == b"+PONG\r\n"
        others = _non_loopback_ipv4()
        if others:
            assert _connect_from(others[0], server.port, others[0]) == denied
        stats = r.info("stats")
        assert stats["rejected_connections"] == 1 + bool(others)
        r.config_set("protected-mode", "no")
        assert _connect_from("127.0.0.2", server.port) == b"+PONG\r\n"
        r.config_set("protected-mode", "yes")
        r.config_set("requirepass", "pw")  # a password lifts it too
        assert _connect_from("127.0.0.2", server.port).startswith(b"-NOAUTH")
        r.close()


def test_protected_mode_reply_is_redis_text():
    texts = []
    for kind in ("forkv", "redis"):
        with ServerProcess(kind, ["--bind", "0.0.0.0"]) as server:
            texts.append(_connect_from("127.0.0.2", server.port))
    assert texts[0] == texts[1]


@pytest.mark.parametrize("kind", ["forkv", "redis"])
def test_config_set_maxclients_raises_the_file_limit_or_fails_like_redis(kind):
    # without CAP_SYS_RESOURCE the limit can rise up to the hard limit, and raising it (to 11032)
    # sets the hard limit too, as Redis's setrlimit does: 20000 clients cannot be had after that
    prefix = _without_sys_resource("1024:12000")
    with _Wrapped(kind, prefix, ["--maxclients", "900"]) as server:
        r = redis.Redis(port=server.port)
        r.config_set("maxclients", "11000")
        assert r.config_get("maxclients") == {"maxclients": "11000"}
        with pytest.raises(redis.ResponseError) as err:
            r.config_set("maxclients", "20000")
        assert str(err.value) == (
            "CONFIG SET failed (possibly related to argument 'maxclients') - The operating system "
            "is not able to handle the specified number of clients, try with 11000")
        assert r.config_get("maxclients") == {"maxclients": "11000"}
        assert _log_lines(server, "Restoring previous settings") == [
            "Failed applying new configuration. Possibly related to new maxclients setting. "
            "Restoring previous settings."]
        r.close()
