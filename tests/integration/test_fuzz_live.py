"""Differential fuzz of a live forkv against Debian's redis-server: random and mutated RESP, and
random arguments for every command in forkv's table (server/table.py), walked so that a command a
later change adds is fuzzed without new code here.

Each example runs on both servers from the same state (RESET, FLUSHALL, the same seed keys):
error vs non-error must agree and error texts must match exactly; other replies must be equal
unless the command is listed in NONDETERMINISTIC; afterwards the keyspaces must be equal. On
forkv, each example also checks: a second, pre-opened client still gets PONG and keeps its key;
no reply mentions a Python traceback or exception; the server log has no traceback. Commands
that must not run in a live fuzz are in DENY, each with its reason. FUZZ_EXAMPLES raises the
budget (`make fuzz`).
"""

import os
import re
import socket
import time

import hiredis
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from server.table import all_commands
from tests.fuzz import redis_model
from tests.protocol.test_fuzz_hypothesis import mutated, part
from tests.servers import ServerProcess, command_bytes

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
PER_COMMAND = max(4, EXAMPLES // 12)
SERVER_ARGS = ["--proto-max-bulk-len", "1mb"]  # huge offsets fail fast instead of taking 512MB


def fuzz_settings(n):
    return settings(max_examples=n, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


# Commands that must not run in a live fuzz, and why. "name" or "container|sub".
DENY = {
    "shutdown": "stops the server",
    "quit": "closes the fuzzing connection itself",
    "save": "slow: writes a snapshot each time",
    "bgsave": "forks a snapshot child each time; slow, and races with the next example",
    "config|set": "could move dir/dbfilename/port/bind or change limits for later examples",
    "config|rewrite": "would write a config file",
    "client|kill": "could kill the fuzzing or the observer connection",
    "client|setinfo": "Redis 7.2's, kept for clients that send it: Debian's 7.0.15 has no reference",
    "client|no-touch": "Redis 7.2's: Debian's 7.0.15 has no reference",
    # One message per channel, and RESP2's subscribed mode after: the fuzz reads one reply per
    # command. tests/integration/test_pubsub.py runs them against both servers instead.
    "subscribe": "several replies, subscribed mode", "unsubscribe": "several replies, subscribed mode",
    "psubscribe": "several replies, subscribed mode", "punsubscribe": "several replies, subscribed mode",
    "ssubscribe": "several replies, subscribed mode", "sunsubscribe": "several replies, subscribed mode",
    "client|tracking": "RESP3 pushes arrive between the fuzz's replies (test_tracking.py)",
    "client|pause": "would hold the fuzzing and observer connections (test_client_pause.py)",
    "monitor": "makes the fuzzing connection a monitor (tests/integration/test_monitor.py)",
    "client|reply": "OFF and SKIP leave the fuzz waiting for a reply (test_monitor.py covers it)",
    "script|debug": "YES/SYNC start Redis's Lua debugger (LDB) for the connection's next EVAL; forkv has none",
    # Would wait (timeout 0: for ever) on the fuzzing connection; the blocking tests cover them.
    "blpop": "blocks", "brpop": "blocks", "blmove": "blocks", "brpoplpush": "blocks", "blmpop": "blocks",
    "bzpopmin": "blocks", "bzpopmax": "blocks", "bzmpop": "blocks",
    "wait": "blocks (no replica acknowledges); test_compat_admin.py covers it",
    "replicaof": "would make redis-server a replica of a random host (forkv has no replication)",
    "slaveof": "would make redis-server a replica of a random host (forkv has no replication)",
    "acl|setuser": "random rules could lock the fuzzing connection out (test_acl.py covers it)",
}

# Replies that legitimately differ between two servers or two runs: only error-vs-not compares.
NONDETERMINISTIC = {
    "latency|histogram": "latencies and calls", "latency|latest": "latencies",
    "latency|history": "latencies", "latency|doctor": "latencies", "latency|graph": "latencies",
    "slowlog|get": "durations and times", "slowlog|len": "what was slow",
    "memory|stats": "the process's memory", "memory|doctor": "depends on memory",
    "memory|malloc-stats": "allocator text", "memory|usage": "estimates, not jemalloc's sizes",
    "randomkey": "random",
    "acl|genpass": "random", "acl|cat": "Redis lists a category's commands in its dict's order",
    "acl|log": "ages and client details",
    "time": "the clock",
    "info": "counters, versions, paths",
    "lastsave": "the clock",
    "hello": "server version and client id",
    "scan": "cursor values and order",
    "keys": "order (compared sorted)",
    "ttl": "a TTL set in the example may be at a second's boundary",
    "pttl": "the clock",
    "expiretime": "relative expires set in the example",
    "pexpiretime": "relative expires set in the example",
    "client|id": "connection ids",
    "client|list": "addresses, ids, ages",
    "client|info": "addresses, ids, ages",
    "client|help": "Redis lists subcommands forkv does not have",
    "object|idletime": "the clock",
    "object|freq": "the LFU counter",
    "object|help": "help text",
    "config|get": "paths, ports and defaults of two servers",
    "config|help": "help text",
    "command": "Redis has commands forkv does not",
    "command|count": "Redis has commands forkv does not",
    "command|list": "Redis has commands forkv does not",
    "command|info": "Redis has commands forkv does not",
    "command|docs": "Redis has commands forkv does not",
    "command|help": "help text",
    "dump": "RDB versions differ (the payload is checked by RESTORE round trips elsewhere)",
    "spop": "random", "srandmember": "random",
    "smembers": "a hashtable set's order", "sinter": "a hashtable set's order",
    "sunion": "a hashtable set's order", "sdiff": "a hashtable set's order",
    "sscan": "a hashtable set's order",
}


# Known forkv bugs: examples that hit them are set aside here, and each has a strict xfail test
# below (remove both when fixed).
KNOWN_BUGS: dict = {}

SEED = [
    ("set", "s", "hello world"),
    ("set", "n", "10"),
    ("set", "f", "3.5"),
    ("set", "b", b"\xff\x00\x0f\xf0"),
    ("set", "big", "x" * 3000),
    ("set", "neg", "-9223372036854775808"),
    ("set", "e", "expiring", "ex", "100000"),
    ("set", "z", ""),
    ("set", "u", "18446744073709551616"),
    ("set", "h", "7fffffffffffffff"),
]
KEYS = ["s", "n", "f", "b", "big", "neg", "e", "z", "u", "h", "missing", "new"]

NUMBERS = ["0", "1", "2", "3", "-1", "-2", "7", "10", "100", "-100", "4294967295", "4294967296",
           "2147483647", "2147483648", "-2147483649", "9223372036854775807", "9223372036854775808",
           "-9223372036854775808", "-9223372036854775809", "99999999999999999999", "1048575",
           "1048576", "8388607", "8388608", "536870911", "536870912", "1.5", "-0", "+1", "01",
           " 1", "1 ", "1e3", "0x10", "", "abc", "\x00", "inf", "-inf", "nan", "1e308", "-1e400",
           "5e-324", "0.1", "3.0", "17179869184"]
STRINGS = ["", "hello", "x", "\x00", "a\r\nb", "*1\r\n$4\r\nPING\r\n", "é", "x" * 100,
           "x" * 70000, "h?llo", "*", "[a-z]*", "\\", "-", "a b"]
ENCODINGS = ["i8", "u8", "i1", "u1", "i64", "u63", "u64", "i65", "i0", "u0", "x8", "i", "I8",
             "#0", "#1", "#-1"]
KEY_ARGS = {"key", "newkey", "source", "destination", "destkey", "key1", "key2"}
NUMBER_ARGS = {"seconds", "milliseconds", "unix-time-seconds", "unix-time-milliseconds", "ttl",
               "offset", "start", "end", "index", "index1", "index2", "db", "destination-db",
               "count", "increment", "decrement", "bit", "len", "cursor", "protover", "frequency",
               "numkeys", "value"}

TRACEBACK = re.compile(r"Traceback|\b[A-Z][a-zA-Z]*(Error|Exception)\b|internal error")


def _entries():
    out = []
    for cmd in all_commands().values():
        if cmd.subcommands:
            out += [(cmd, sub) for sub in cmd.subcommands.values()]
            if cmd.handler is not None:
                out.append((cmd, None))
        else:
            out.append((cmd, None))
    return out


def _entry_name(entry) -> str:
    cmd, sub = entry
    return sub.name if sub is not None else cmd.name


ENTRIES = [e for e in _entries() if _entry_name(e) not in DENY]


def _words_and_kinds(spec):
    text = " ".join(spec.arguments)
    words = sorted(set(re.findall(r"\b[A-Z][A-Z0-9_-]+\b", text)))
    kinds = re.findall(r"\b[a-z][a-z0-9-]*\b", text)
    return words, kinds


def arg_strategy(spec):
    words, kinds = _words_and_kinds(spec)
    options = [st.sampled_from(STRINGS), st.sampled_from(NUMBERS), st.sampled_from(KEYS),
               st.integers(-5, 40).map(str)]
    if words:
        options.append(st.sampled_from(words))
        options.append(st.sampled_from(words).map(str.lower))
    if "encoding" in kinds:
        options.append(st.sampled_from(ENCODINGS))
    if "operation" in kinds:
        options.append(st.sampled_from(["AND", "OR", "XOR", "NOT", "and", "nand"]))
    if any(k in KEY_ARGS for k in kinds):
        options.append(st.sampled_from(KEYS))
    if any(k in NUMBER_ARGS for k in kinds):
        options.append(st.sampled_from(NUMBERS))
    return st.one_of(*options)


def argv_strategy(entry):
    cmd, sub = entry
    spec = sub or cmd
    head = [cmd.name] + ([sub.name.split("|", 1)[1]] if sub is not None else [])
    need = max(abs(spec.arity) - len(head), 0)
    count = st.integers(max(need - 1, 0), need + (4 if spec.arity < 0 else 1))
    name_case = st.sampled_from([str.lower, str.upper, str.title])
    return st.tuples(name_case, count.flatmap(lambda n: st.lists(arg_strategy(spec), min_size=n,
                                                                  max_size=n))) \
        .map(lambda t: [t[0](w) for w in head] + t[1])


class Conn:
    """A raw RESP2 connection: send commands, read replies decoded by hiredis (errors as values)."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.reader = hiredis.Reader()

    def call(self, *commands):
        self.sock.sendall(b"".join(command_bytes(*c) for c in commands))
        return [self._reply() for _ in commands]

    def _reply(self):
        while True:
            reply = self.reader.gets()
            if reply is not False:
                return reply
            data = self.sock.recv(1 << 16)
            if not data:
                raise ConnectionError("server closed the connection")
            self.reader.feed(data)

    def close(self):
        self.sock.close()


def shape(reply):
    """A reply as a comparable value: errors as ("error", text)."""
    if isinstance(reply, hiredis.ReplyError):
        return ("error", str(reply))
    if isinstance(reply, list):
        return [shape(r) for r in reply]
    return reply


def flat_text(reply) -> str:
    if isinstance(reply, list):
        return " ".join(flat_text(r) for r in reply)
    if isinstance(reply, bytes):
        return reply.decode("latin-1")
    return str(reply)


class Pair:
    """forkv and redis-server side by side, a fuzzing connection to each, and an observer on forkv."""

    def __init__(self):
        self.forkv = ServerProcess("forkv", SERVER_ARGS)
        self.redis = ServerProcess("redis", SERVER_ARGS)
        self.servers = [self.forkv, self.redis]
        for server in self.servers:
            server.start()
        self.conns = [Conn(s.port) for s in self.servers]
        self.observer = Conn(self.forkv.port)
        self.redis_commands = set(self.conns[1].call(("command", "list"))[0])

    def reconnect(self, i):
        self.conns[i].close()
        self.conns[i] = Conn(self.servers[i].port)

    def setup(self):
        for i, conn in enumerate(self.conns):
            try:
                replies = conn.call(("reset",), ("flushall",), *SEED)
            except (ConnectionError, OSError):
                self.reconnect(i)
                replies = self.conns[i].call(("reset",), ("flushall",), *SEED)
            assert all(not isinstance(r, hiredis.ReplyError) for r in replies), replies
        assert self.observer.call(("select", "9"), ("set", "observer", "kept")) == [b"OK", b"OK"]

    def state(self, i):
        conn = self.conns[i]
        conn.call(("reset",))
        keys = sorted(conn.call(("keys", "*"))[0])
        out = []
        for key in keys:
            value, pttl = conn.call(("get", key), ("pttl", key))
            if pttl == -1 or pttl > 5000:  # keys that may expire while we look are left out
                out.append((key, shape(value), pttl == -1))
        return out

    def check_forkv_alive(self, argv, names=()):
        """`names`: the commands run, if more than argv's (FLUSHALL and SWAPDB may take the
        observer's key)."""
        start = time.monotonic()
        assert self.observer.call(("ping",)) == [b"PONG"], argv
        assert time.monotonic() - start < 5.0, argv  # generous on a shared machine; not a stall
        names = set(names) | {argv[0].lower() if argv and isinstance(argv[0], str) else ""}
        if not names & {"flushall", "swapdb"}:
            assert self.observer.call(("get", "observer")) == [b"kept"], argv
        log = self.forkv.log()
        assert "Traceback" not in log and "Internal error running" not in log, (argv, log[-3000:])

    def stop(self):
        for conn in self.conns + [self.observer]:
            conn.close()
        for server in self.servers:
            server.cleanup()


@pytest.fixture(scope="module")
def pair():
    p = Pair()
    try:
        yield p
    finally:
        p.stop()


def run_both(pair, argv):
    """The replies of forkv and redis-server to `argv`, as shapes ("closed" if the server closed
    the connection)."""
    out = []
    for i, conn in enumerate(pair.conns):
        try:
            out.append(shape(conn.call(argv)[0]))
        except (ConnectionError, OSError):
            pair.reconnect(i)
            out.append("closed")
    return out


def check_replies(name, argv, mine, theirs):
    text = flat_text(mine) if not isinstance(mine, tuple) else mine[1]
    their_text = flat_text(theirs) if not isinstance(theirs, tuple) else theirs[1]
    assert not TRACEBACK.search(text) or TRACEBACK.search(their_text), (argv, mine)
    mine_err = isinstance(mine, tuple) and mine[0] == "error"
    theirs_err = isinstance(theirs, tuple) and theirs[0] == "error"
    assert mine_err == theirs_err, (argv, mine, theirs)
    if mine_err:
        assert mine == theirs, argv
    elif name == "keys":
        assert sorted(mine) == sorted(theirs), argv
    elif name not in NONDETERMINISTIC:
        assert mine == theirs, argv


@pytest.mark.parametrize("entry", ENTRIES, ids=_entry_name)
def test_command_table_fuzz(pair, entry):
    name = _entry_name(entry)

    @fuzz_settings(PER_COMMAND)
    @given(argv_strategy(entry))
    def fuzz(argv):
        if name in KNOWN_BUGS:
            assume(not KNOWN_BUGS[name][0](argv))
        pair.setup()
        mine, theirs = run_both(pair, argv)
        check_replies(name, argv, mine, theirs)
        pair.check_forkv_alive(argv)
        assert pair.state(0) == pair.state(1), argv

    fuzz()


def _steps():
    return st.lists(st.sampled_from(ENTRIES).flatmap(
        lambda e: argv_strategy(e).map(lambda argv: (_entry_name(e), argv))), min_size=2, max_size=5)


def _short_ttls(pair) -> bool:
    """Whether a seed key on either server may expire within seconds (a race between them)."""
    for conn in pair.conns:
        for pttl in conn.call(*[("pttl", key) for key in KEYS]):
            if isinstance(pttl, int) and 0 <= pttl < 5000:
                return True
    return False


@fuzz_settings(EXAMPLES)
@given(st.sampled_from([2, 3]), _steps())
def test_command_sequences(pair, protover, steps):
    """A few random commands in a row from the same state, in RESP2 or RESP3: later commands
    see what earlier ones made (SETRANGE then BITFIELD, EXPIRE then TTL, ...)."""
    for name, argv in steps:
        assume(name not in KNOWN_BUGS or not KNOWN_BUGS[name][0](argv))
    pair.setup()
    for conn in pair.conns:
        conn.call(("hello", str(protover)))
    for name, argv in steps:
        mine, theirs = run_both(pair, argv)
        check_replies(name, argv, mine, theirs)
        if name in ("reset", "hello", "select", "swapdb", "multi", "exec"):
            break  # the rest would run in another protocol, database or transaction state
        assume(not _short_ttls(pair))
    pair.check_forkv_alive(steps[0][1], [name for name, _ in steps])
    assert pair.state(0) == pair.state(1), steps


@fuzz_settings(EXAMPLES // 3)
@given(st.binary(min_size=1, max_size=20) | st.text(min_size=1, max_size=12).map(str.encode),
       st.lists(st.sampled_from(STRINGS + NUMBERS + KEYS), max_size=4))
def test_random_command_names(pair, name, args):
    # Names Redis knows are the table fuzz's business (and some, like SYNC, must not run here).
    assume(name.lower() not in pair.redis_commands)
    pair.setup()
    argv = [name] + args
    mine, theirs = run_both(pair, argv)
    check_replies("?", argv, mine, theirs)
    pair.check_forkv_alive([name])


def raw_exchange(port, data: bytes) -> bytes:
    """Send `data`, half-close, and read everything the server sends until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server refused the bytes and closed first: read what it sent
        out = b""
        while True:
            try:
                chunk = sock.recv(1 << 16)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
        return out


@fuzz_settings(EXAMPLES)
@given(st.one_of(st.lists(part, min_size=1, max_size=5).map(b"".join), mutated()))
def test_malformed_resp_same_as_redis(pair, data):
    lax: list = []
    commands, _ = redis_model.parse(data, lax=lax)
    assume(not lax)  # known divergences: tests/protocol/test_fuzz_hypothesis.py's xfails
    # Command names are random here; a real one (SYNC, say) is the table fuzz's business.
    assume(not any(argv[0].lower() in pair.redis_commands for argv in commands))
    pair.setup()
    replies = [raw_exchange(server.port, data) for server in pair.servers]
    assert b"Traceback" not in replies[0]
    assert replies[0] == replies[1], data
    pair.check_forkv_alive([b"?"])


@pytest.mark.parametrize("argv, error", [
    (["select", "4294967296"], "ERR value is out of range, value must between -2147483648 and 2147483647"),
    (["swapdb", "4294967296", "x"], "ERR invalid first DB index"),
    (["hello", "2", "ab\x00c"], "ERR Syntax error in HELLO option 'ab'"),
], ids=["select-index-beyond-c-int", "swapdb-index-beyond-c-int", "hello-option-error-stops-at-nul"])
def test_edge_case_errors_same_as_redis(pair, argv, error):
    assert run_both(pair, argv) == [("error", error)] * 2


@pytest.mark.parametrize("data", [
    b"ECHO " + b"x" * (redis_model.INLINE_MAX - 10) + b"\r\n",
    b"x" * (redis_model.DECIDED + 100) + b"\r\nPING\r\n",
    b"*1\r\n$" + b"1" * (redis_model.DECIDED + 100) + b"\r\n",
    b"*" + b"1" * (redis_model.INLINE_MAX + 100),
    b"PING\x00" + b"x" * (redis_model.INLINE_MAX + 100),
], ids=["inline-under-limit", "inline-over", "bulk-count-over", "mbulk-count-over", "nul-hides-newline"])
def test_very_long_lines_same_as_redis(pair, data):
    pair.setup()
    replies = [raw_exchange(server.port, data) for server in pair.servers]
    assert replies[0] == replies[1]
    pair.check_forkv_alive([b"?"])
