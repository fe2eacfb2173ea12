"""Redis 7.0's tests/unit/introspection.tcl, ported: each block runs on forkv and on Debian's
redis-server 7.0 (`r` of _suite.py, database 0 where the tcl uses 9).

Skipped: "CONFIG save params special case" and every CONFIG REWRITE / restart block (they need the
tcl harness's config files and restarts; tests/integration/test_config_rewrite.py covers rewrite),
"config during loading" (DEBUG loading delays), the oom-score-adj blocks (they read /proc of the server and need privileges),
"CONFIG SET rollback on apply error" (binds a busy port: covered by
tests/integration/test_connection.py), CLIENT SETINFO / no-touch / CLIENT KILL MAXAGE (7.2+),
the --replicaof command-line cases (forkv has no replication).
"""

import fnmatch
import socket

import pytest
import redis

from tests.server.commands._suite import assert_error, cmd, config, deferring, error_of, r, xfail_on_forkv  # noqa: F401
from tests.servers import command_bytes, wait_for

CLIENT_LINE = ("id=* addr=*:* laddr=*:* fd=* name=* age=* idle=* flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 "
               "qbuf=26 qbuf-free=* argv-mem=* multi-mem=0 rbs=* rbp=* obl=0 oll=0 omem=0 tot-mem=* events=r "
               "cmd=client|%s user=* redir=-1 resp=2*")


def match(pattern, text):
    """tcl's string match, ignoring case (redis-py sends command names in capitals)."""
    assert fnmatch.fnmatchcase(text.lower(), pattern.lower()), text


def test_client_list(r):
    match(CLIENT_LINE % "list", cmd(r, "CLIENT", "LIST"))


def test_client_list_with_ids(r):
    myid = r.client_id()
    match(f"id={myid}*", cmd(r, "CLIENT", "LIST", "ID", myid).split("\r\n")[0])


def test_client_info(r):
    match(CLIENT_LINE % "info", cmd(r, "CLIENT", "INFO"))


def test_client_kill_with_illegal_arguments(r):
    assert_error("ERR wrong number of arguments for 'client|kill' command", r, "CLIENT", "KILL")
    assert_error("ERR syntax error*", r, "CLIENT", "KILL", "id", "10", "wrong_arg")
    assert_error("ERR *greater than 0*", r, "CLIENT", "KILL", "id", "str")
    assert_error("ERR *greater than 0*", r, "CLIENT", "KILL", "id", "-1")
    assert_error("ERR *greater than 0*", r, "CLIENT", "KILL", "id", "0")
    assert_error("ERR Unknown client type*", r, "CLIENT", "KILL", "type", "wrong_type")
    assert_error("ERR No such user*", r, "CLIENT", "KILL", "user", "wrong_user")
    assert_error("ERR syntax error*", r, "CLIENT", "KILL", "skipme", "yes_or_no")


def addr_of(line: str) -> str:
    return line.split("addr=")[1].split(" ")[0]


def test_client_kill_skipme(r, deferring):
    # Filters combine (AND): ADDR keeps the kills to these two connections on a shared server.
    rd = deferring()
    rd.call("CLIENT", "SETNAME", "victim")
    mine = addr_of(cmd(r, "CLIENT", "INFO"))
    victim = addr_of([line for line in cmd(r, "CLIENT", "LIST").split("\n") if "name=victim" in line][0])
    # SKIPME yes (the default) spares the caller even when it matches.
    assert cmd(r, "CLIENT", "KILL", "ADDR", mine, "SKIPME", "yes") == 0
    assert cmd(r, "CLIENT", "KILL", "ADDR", mine) == 0
    assert cmd(r, "CLIENT", "KILL", "TYPE", "normal", "ADDR", victim, "SKIPME", "yes") == 1
    wait_for(lambda: "victim" not in cmd(r, "CLIENT", "LIST"), what="the victim gone")
    assert cmd(r, "PING") == "PONG"


def test_client_kill_skipme_no_kills_the_caller(any_server):
    with socket.create_connection(("127.0.0.1", any_server.port), timeout=10) as sock:
        f = sock.makefile("rb")
        sock.sendall(command_bytes("CLIENT", "ID"))
        my_id = f.readline()[1:-2]
        sock.sendall(command_bytes("CLIENT", "KILL", "ID", my_id, "TYPE", "normal", "SKIPME", "no"))
        assert f.readline() == b":1\r\n"  # the reply, then the close
        assert f.read() == b""


def test_client_kill_close_the_connection(r, deferring):
    rd = deferring()
    rd.call("CLIENT", "SETNAME", "killme")
    line = [line for line in cmd(r, "CLIENT", "LIST").split("\n") if "name=killme" in line][0]
    client_id = line.split("id=")[1].split(" ")[0]
    assert cmd(r, "CLIENT", "KILL", "ID", client_id) == 1
    with pytest.raises((redis.ConnectionError, OSError)):
        rd.call("PING")


def test_client_command_unhappy_path(r):
    assert_error("ERR *wrong number of arguments*", r, "CLIENT", "CACHING", "maybe", "more")
    assert_error("ERR Unknown client type*", r, "CLIENT", "LIST", "TYPE", "wrong")
    assert_error("ERR *Invalid client ID*", r, "CLIENT", "LIST", "ID", "x")
    assert_error("ERR *unknown subcommand*", r, "CLIENT", "nosuch")
    assert_error("ERR *syntax*", r, "CLIENT", "REPLY", "wrong")
    assert_error("ERR *syntax*", r, "CLIENT", "NO-EVICT", "wrong")
    assert_error("ERR CLIENT PAUSE mode must be WRITE or ALL", r, "CLIENT", "PAUSE", "100", "wrong")
    assert_error("ERR *timeout is not an integer*", r, "CLIENT", "PAUSE", "x")
    assert_error("ERR *", r, "CLIENT", "UNBLOCK", "x")
    assert_error("ERR *", r, "CLIENT", "UNBLOCK", "1", "wrong")
    assert_error("ERR *", r, "CLIENT", "TRACKING", "wrong")
    assert_error("ERR *", r, "CLIENT", "CACHING", "yes")


def test_client_reply_off_on_skip(any_server):
    with socket.create_connection(("127.0.0.1", any_server.port), timeout=10) as sock:
        sock.sendall(b"".join(command_bytes(*c) for c in (
            ("CLIENT", "REPLY", "OFF"), ("PING",), ("CLIENT", "REPLY", "SKIP"), ("PING",), ("PING", "a"),
            ("CLIENT", "REPLY", "ON"), ("PING", "b"))))
        data = b""
        while not data.endswith(b"$1\r\nb\r\n"):
            chunk = sock.recv(1000)
            assert chunk
            data += chunk
    assert data == b"+OK\r\n$1\r\nb\r\n" or data == b"$1\r\nb\r\n"


def test_client_no_evict(r):
    assert cmd(r, "CLIENT", "NO-EVICT", "on") == "OK"
    assert "flags=e" in cmd(r, "CLIENT", "INFO")
    assert cmd(r, "CLIENT", "NO-EVICT", "off") == "OK"
    assert "flags=N" in cmd(r, "CLIENT", "INFO")


def monitor(r):
    """A deferring connection in MONITOR mode."""
    from tests.server.commands._suite import Deferring

    d = Deferring(r)
    assert d.call("MONITOR") == "OK"
    return d


def test_monitor_logs_executed_commands(r):
    rd = monitor(r)
    try:
        r.set("foo", "bar")
        r.get("foo")
        match('*"set" "foo"*', rd.read())
        match('*"get" "foo"*', rd.read())
    finally:
        rd.close()


def test_monitor_logs_commands_of_the_scripting_engine(r):
    rd = monitor(r)
    try:
        r.eval("redis.call('set',KEYS[1],ARGV[1])", 1, "foo", "bar")
        match("*eval*", rd.read())
        match('*lua*"set"*"foo"*"bar"*', rd.read())
    finally:
        rd.close()


def test_monitor_logs_commands_of_functions(r):
    r.function_load("#!lua name=test\nredis.register_function('test', function() return redis.call('set', 'foo', 'bar') end)",
                    replace=True)
    rd = monitor(r)
    try:
        r.fcall("test", 0)
        match("*fcall*test*", rd.read())
        match('*lua*"set"*"foo"*"bar"*', rd.read())
    finally:
        rd.close()
        r.function_flush()


def test_monitor_redacts_command_arguments(r):
    rd = monitor(r)
    port = r.connection_pool.connection_kwargs["port"]
    try:
        r.auth_attempts = None
        for extra in ([], ["AUTH", "user"], ["AUTH2", "user", "password"]):
            try:
                cmd(r, "MIGRATE", "127.0.0.1", port, "key", 9, 5000, *extra)
            except redis.ResponseError:
                pass
        match('*"key"*"9"*"5000"*', rd.read())
        match('*"key"*"9"*"5000"*"(redacted)"*', rd.read())
        match('*"key"*"9"*"5000"*"(redacted)"*"(redacted)"*', rd.read())
    finally:
        rd.close()


def test_monitor_handles_multi_exec(r):
    rd = monitor(r)
    try:
        with socket.create_connection(("127.0.0.1", r.connection_pool.connection_kwargs["port"])) as s:
            f = s.makefile("rb")
            for c in (("MULTI",), ("SET", "foo", "bar"), ("EXEC",)):
                s.sendall(command_bytes(*c))
                f.readline()
            f.readline()  # EXEC's *1 then +OK
            match('*"multi"*', rd.read())
            match('*"set"*"foo"*"bar"*', rd.read())
            match('*"exec"*', rd.read())
            for c in (("MULTI",), ("SYNTAX", "ERROR"), ("EXEC",)):
                s.sendall(command_bytes(*c))
                f.readline()
            match('*"multi"*', rd.read())
            match('*"exec"*', rd.read())
    finally:
        rd.close()


def next_line(rd, *skip):
    """The next MONITOR line that is not of a command in `skip` (the helpers' own INFO, HELLO...)."""
    while True:
        line = rd.read()
        if not any(f'"{name}"' in line.lower() for name in skip):
            return line


def test_monitor_logs_a_blocked_command_once(r):
    rd = monitor(r)
    try:
        with socket.create_connection(("127.0.0.1", r.connection_pool.connection_kwargs["port"]), timeout=10) as s:
            s.sendall(command_bytes("BLPOP", "mylist", "0"))
            wait_for(lambda: r.info("clients")["blocked_clients"] == 1, what="BLPOP blocked")
            r.lpush("mylist", 1)
            assert s.makefile("rb").readline() == b"*2\r\n"
        match('*"blpop"*"mylist"*"0"*', next_line(rd, "info"))
        match('*"lpush"*"mylist"*"1"*', next_line(rd, "info"))
    finally:
        rd.close()


def test_client_getname_is_nil_without_a_name(r):
    assert r.client_getname() is None


def test_client_list_shows_empty_fields_for_unassigned_names(r):
    match("*name= *", cmd(r, "CLIENT", "LIST"))


def test_client_setname_does_not_accept_spaces(r):
    match("ERR*", error_of(r, "CLIENT", "SETNAME", "foo bar"))


def test_client_setname_assigns_and_changes(r):
    assert r.client_setname("myname") is True
    match("*name=myname*", cmd(r, "CLIENT", "LIST"))
    assert r.client_setname("someothername") is True
    match("*name=someothername*", cmd(r, "CLIENT", "LIST"))


def test_after_client_setname_connection_can_be_closed(r, deferring):
    rd = deferring()
    assert rd.call("CLIENT", "SETNAME", "foobar") == "OK"
    assert "foobar" in cmd(r, "CLIENT", "LIST")
    rd.close()
    wait_for(lambda: "foobar" not in cmd(r, "CLIENT", "LIST"), what="the client gone")


SKIP_CONFIGS = {
    "rdbchecksum", "daemonize", "io-threads-do-reads", "tcp-backlog", "always-show-logo", "syslog-enabled",
    "cluster-enabled", "disable-thp", "aclfile", "unixsocket", "pidfile", "syslog-ident", "appendfilename",
    "appenddirname", "supervised", "syslog-facility", "databases", "io-threads", "logfile", "unixsocketperm",
    "replicaof", "slaveof", "requirepass", "server_cpulist", "bio_cpulist", "aof_rewrite_cpulist",
    "bgsave_cpulist", "set-proc-title", "cluster-config-file", "cluster-port", "oom-score-adj",
    "oom-score-adj-values", "enable-protected-configs", "enable-debug-command", "enable-module-command",
    "dbfilename", "dir", "socket-mark-id", "port", "bind",
}


def test_config_sanity(r):
    # Set every config to the value it already has: nothing changes.
    before = {k: v for k, v in r.config_get("*").items() if k not in SKIP_CONFIGS and not k.startswith("tls-")}
    for k, v in before.items():
        r.config_set(k, v)
    after = r.config_get("*")
    assert {k: after[k] for k in before} == before


def test_config_set_rollback_on_set_error(r, config):
    config("maxmemory", "0")
    # One bad value: none of the others is set.
    assert_error("ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy')*", r,
                 "CONFIG", "SET", "maxmemory", "10000001", "maxmemory-policy", "wrong")
    assert r.config_get("maxmemory")["maxmemory"] == "0"


def test_config_set_port_and_bind_to_their_own_values(r):
    # The tcl's CONFIG sanity sets port and bind too: an unchanged value is not applied again.
    got = r.config_get("port")
    assert cmd(r, "CONFIG", "SET", "port", got["port"]) == "OK"
    assert cmd(r, "CONFIG", "SET", "bind", r.config_get("bind")["bind"]) == "OK"
    assert r.ping()


def test_config_set_rollback_on_percentage_error(r, config):
    # The tcl block as 7.0 has it: the first bad value in argument order is the one reported.
    config("maxmemory", "10000002")
    mmc, qbl = (r.config_get(k)[k] for k in ("maxmemory-clients", "client-query-buffer-limit"))
    assert_error("ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage "
                 "argument must be less or equal to 100", r, "CONFIG", "SET", "maxmemory", "10000001",
                 "maxmemory-clients", "200%", "client-query-buffer-limit", "invalid")
    assert r.config_get("maxmemory")["maxmemory"] == "10000002"
    assert r.config_get("maxmemory-clients")["maxmemory-clients"] == mmc
    assert r.config_get("client-query-buffer-limit")["client-query-buffer-limit"] == qbl
    assert cmd(r, "CONFIG", "SET", "maxmemory-clients", "100%") == "OK"
    assert cmd(r, "CONFIG", "SET", "maxmemory-clients", mmc) == "OK"


def test_config_set_multiple_args(r, config):
    config("maxmemory", "0")
    config("maxmemory-policy", "noeviction")
    config("hz", "10")
    assert cmd(r, "CONFIG", "SET", "maxmemory", "10000001", "maxmemory-policy", "allkeys-lru", "hz", "11") == "OK"
    got = r.config_get("maxmemory*")
    assert got["maxmemory"] == "10000001" and got["maxmemory-policy"] == "allkeys-lru"
    assert r.config_get("hz")["hz"] == "11"


def test_config_set_duplicate_configs(r):
    assert_error("ERR *duplicate*", r, "CONFIG", "SET", "maxmemory", "10000001", "maxmemory", "10000002")


def test_config_set_immutable(r):
    assert_error("ERR *immutable*", r, "CONFIG", "SET", "daemonize", "yes")


def test_config_get_hidden_configs(r):
    # Hidden configs are not in CONFIG GET *, only when named.
    assert "key-load-delay" not in r.config_get("*")
    assert "key-load-delay" in r.config_get("key-load-delay")


def test_config_get_multiple_args(r):
    got = r.execute_command("CONFIG", "GET", "maxmemory", "maxmemory*", "port")
    names = sorted(got[0::2] if isinstance(got, list) else got)
    assert names == sorted(set(names))
    assert {"maxmemory", "maxmemory-policy", "maxmemory-samples", "port"} <= set(names)


def test_cannot_modify_protected_configuration(r):
    assert_error("ERR *protected*", r, "CONFIG", "SET", "dir", "somedir")
    assert_error("ERR *protected*", r, "CONFIG", "SET", "dbfilename", "somename")


def test_config_set_client_output_buffer_limit(r, config):
    config("client-output-buffer-limit", r.config_get("client-output-buffer-limit")["client-output-buffer-limit"])
    for value, pattern in (("wrong number", "*Wrong*arguments*"), ("invalid_class 10mb 10mb 60", "*Invalid*client*class*"),
                           ("master 10mb 10mb 60", "*Invalid*client*class*"), ("normal 10mbs 10mb 60", "*Error*hard*"),
                           ("replica 10mb 10mbs 60", "*Error*soft*"), ("pubsub 10mb 10mb 60s", "*Error*soft_seconds*")):
        assert_error(pattern, r, "CONFIG", "SET", "client-output-buffer-limit", value)
    r.config_set("client-output-buffer-limit", "normal 1mb 2mb 60 replica 3mb 4mb 70 pubsub 5mb 6mb 80")
    assert r.config_get("client-output-buffer-limit")["client-output-buffer-limit"] == \
        "normal 1048576 2097152 60 slave 3145728 4194304 70 pubsub 5242880 6291456 80"


# redis-server command line arguments (run as processes; each server kind started as Redis's
# harness would, with the options after a config file where the tcl gives one).

def run_exe(kind, *args):
    import shutil
    import subprocess
    import sys

    from tests.servers import REPO

    if kind == "redis":
        command = [shutil.which("redis-server"), *args]
    else:
        command = [sys.executable, "-m", "server", *args]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=30, cwd=REPO,
                          env=dict(__import__("os").environ, PYTHONPATH=REPO))
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.parametrize("args, pattern", [
    (["--port"], "*'port'*wrong number of arguments*"),
    (["--port", "6380", "--loglevel"], "*'loglevel'*wrong number of arguments*"),
    (["--port", "6379", "6380"], "*'port \"6379\" \"6380\"'*wrong number of arguments*"),
    (["--port", "--loglevel", "verbose"], "*'port \"--loglevel\" \"verbose\"'*wrong number of arguments*"),
    (["--port", "--bla", "--loglevel", "verbose"], "*'port \"--bla\"'*argument couldn't be parsed into an integer*"),
    (["--logfile", "--my--log--file", "--loglevel", "--bla"],
     "*'loglevel \"--bla\"'*argument(s) must be one of the following*"),
    (["--shutdown-on-sigterm"], "*'shutdown-on-sigterm'*argument(s) must be one of the following*"),
    (["--shutdown-on-sigterm", "now force", "--shutdown-on-sigint"],
     "*'shutdown-on-sigint'*argument(s) must be one of the following*"),
])
@pytest.mark.parametrize("kind", ["forkv", "redis"])
def test_command_line_arguments_error_cases(kind, args, pattern):
    code, output = run_exe(kind, *args)
    assert code == 1
    assert fnmatch.fnmatchcase(output, pattern), output


@pytest.mark.parametrize("args, expected", [
    (["--maxmemory 700mb", "--maxmemory-policy volatile-lru"],
     {"maxmemory": "734003200", "maxmemory-policy": "volatile-lru"}),
    (["loglevel", "verbose", "--maxmemory '700mb'", "--maxmemory-policy 'volatile-lru'"],
     {"loglevel": "verbose", "maxmemory": "734003200", "maxmemory-policy": "volatile-lru"}),
    (["--proc-title-template", "--my--title--template", "--loglevel", "verbose"],
     {"proc-title-template": "--my--title--template", "loglevel": "verbose"}),
    (["--proc-title-template", "--save", "--save", "", "--loglevel", "verbose", "--save"],
     {"proc-title-template": "--save", "save": "", "loglevel": "verbose"}),
    (["--shutdown-on-sigint", "nosave", "force", "now", "--shutdown-on-sigterm", "nosave force"],
     {"shutdown-on-sigint": "nosave now force", "shutdown-on-sigterm": "nosave force"}),
], ids=["name_and_value_in_one_arg", "wrong_usage_supported_anyway", "value_with_dashes", "save_empty",
        "multi_arg_configs"])
@pytest.mark.parametrize("kind", ["forkv", "redis"])
def test_command_line_arguments_accepted(kind, args, expected, tmp_path):
    from tests.servers import ServerProcess

    conf = tmp_path / "default.conf"
    conf.write_text("")
    class Process(ServerProcess):
        def command(self):  # the tcl's `args` right after the config file, the harness's after
            full = super().command()
            at = full.index(str(conf)) + 1
            return full[:at] + args + full[at:len(full) - len(args)]

    server = Process(kind, args=[str(conf), *args])
    try:
        server.start()
        client = redis.Redis(port=server.port, decode_responses=True)
        for name, value in expected.items():
            assert client.config_get(name)[name] == value, name
        client.close()
    finally:
        server.cleanup()
