"""ACL users (server/acl.py), each test run against forkv and Debian's redis-server 7.0: the
parts of Redis's unit/acl.tcl and unit/acl-v2.tcl that matter most, plus the rule texts ACL LIST
and GETUSER write back. Every test leaves the server with the default user alone."""

import hashlib

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.server.commands._suite import r  # noqa: F401  (the fixture)
from tests.servers import wait_for


@pytest.fixture(autouse=True)
def clean_users(r):  # noqa: F811
    yield
    for name in r.acl_users():
        if name != "default":
            r.acl_deluser(name)
    r.execute_command("ACL", "SETUSER", "default", "on", "nopass", "~*", "&*", "+@all", "clearselectors")
    r.acl_log_reset()


def connect(r, user=None, password=None, **kw):  # noqa: F811
    port = r.connection_pool.connection_kwargs["port"]
    # no CLIENT SETINFO (Redis 7.2's, unknown to 7.0): it would be denied and logged on forkv only
    return redis.Redis(port=port, username=user, password=password, decode_responses=True, lib_name=None,
                       lib_version=None, retry=NO_RETRY, **kw)


NO_RETRY = Retry(NoBackoff(), 0)  # a refused AUTH or a closed connection is the answer, not a hiccup


def error(fn, *args):
    try:
        fn(*args)
    except redis.ResponseError as exc:
        return str(exc)
    raise AssertionError(f"no error from {args}")


def acl(r, *args):  # noqa: F811
    return r.execute_command("ACL", *args)


def test_new_users_start_disabled_with_nothing(r):  # noqa: F811
    assert r.acl_whoami() == "default"
    assert acl(r, "SETUSER", "newuser") == "OK"
    assert "user newuser off resetchannels -@all" in acl(r, "LIST")
    assert error(acl, r, "SETUSER", "a b") == "Usernames can't contain spaces or null characters"
    with pytest.raises(redis.AuthenticationError):
        connect(r, "newuser", "x").ping()
    acl(r, "SETUSER", "newuser", "on", ">passwd1", ">passwd2")
    c = connect(r, "newuser", "passwd2")
    assert error(c.get, "x") == "this user has no permissions to run the 'get' command"
    c.close()


def test_passwords_hashes_and_removal(r):  # noqa: F811
    acl(r, "SETUSER", "u", "on", ">p1", ">p2", "+acl", "+ping")
    assert connect(r, "u", "p1").ping()
    acl(r, "SETUSER", "u", "<p1")
    with pytest.raises(redis.AuthenticationError):
        connect(r, "u", "p1").ping()
    digest = hashlib.sha256(b"p3").hexdigest()
    acl(r, "SETUSER", "u", "#" + digest)
    assert connect(r, "u", "p3").ping()
    assert acl(r, "GETUSER", "u")[3] == [hashlib.sha256(b"p2").hexdigest(), digest]
    assert error(acl, r, "SETUSER", "u", "#abc").endswith(
        "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters")
    assert error(acl, r, "SETUSER", "u", "<nope").endswith(
        "The password you are trying to remove from the user does not exist")
    acl(r, "SETUSER", "u", "!" + digest)
    with pytest.raises(redis.AuthenticationError):
        connect(r, "u", "p3").ping()
    acl(r, "SETUSER", "u", "nopass")
    assert connect(r, "u", "anything").ping()


def test_rule_texts_match(r):  # noqa: F811
    """ACL LIST and GETUSER, whose single commands come in Redis's (random) dict order: one
    single command per line here."""
    cases = [
        ["on", ">p", "~obj:*", "%R~read:*", "%W~write:*", "%RW~both", "&chan*", "+@string", "-set"],
        ["on", "nopass", "+@all", "-@dangerous", "~*", "(+get ~foo)", "(%W~bar +set &x)"],
        ["+@read", "+@write", "-@keyspace"],
        ["allkeys", "allchannels", "allcommands", "-flushall"],
        ["resetchannels", "&a", "&b", "&a", "~k1", "%R~k1", "nocommands", "+client|id"],
        ["+@all", "-client", "+client|id"],
        ["-@all", "+select|0", "+select|1"],
        ["skip-sanitize-payload", "on", "off"],
        ["reset", "+@hash", "-hget", "(+ping)", "clearselectors"],
    ]
    for i, rules in enumerate(cases):
        assert acl(r, "SETUSER", f"u{i}", *rules) == "OK"
    listed = {line.split()[1]: line for line in acl(r, "LIST")}
    assert listed["u0"] == ("user u0 on #148de9c5a7a44d19e56cd9ae1a554bf67847afb0c58f6e12fa29ac7ddfca9940 "
                            "~obj:* %R~read:* %W~write:* ~both resetchannels &chan* -@all +@string -set")
    assert listed["u1"] == ("user u1 on nopass ~* resetchannels +@all -@dangerous "
                            "(~foo resetchannels -@all +get) (%W~bar resetchannels &x -@all +set)")
    assert listed["u2"].startswith("user u2 off resetchannels -@all ")
    assert listed["u3"] == "user u3 off ~* &* +@all -flushall"
    assert listed["u4"] == "user u4 off ~k1 resetchannels &a &b -@all +client|id"
    assert listed["u5"] == "user u5 off resetchannels +@all -client +client|id"
    assert listed["u6"] == "user u6 off resetchannels -@all +select|0 +select|1"
    assert listed["u7"] == "user u7 off skip-sanitize-payload resetchannels -@all"
    assert listed["u8"] in ("user u8 off sanitize-payload resetchannels -@all +@hash -hget",)
    getuser = acl(r, "GETUSER", "u1")
    assert getuser == ["flags", ["on", "nopass"], "passwords", [], "commands", "+@all -@dangerous",
                       "keys", "~*", "channels", "", "selectors",
                       [["commands", "-@all +get", "keys", "~foo", "channels", ""],
                        ["commands", "-@all +set", "keys", "%W~bar", "channels", "&x"]]]
    assert acl(r, "GETUSER", "nosuch") is None


def test_setuser_errors(r):  # noqa: F811
    cases = [["bad"], ["+nosuch"], ["-@nosuch"], ["+get|"], ["+config|get|x"], ["~a", "allkeys", "~b"],
             ["&*", "&x"], ["(+get", "~x"], ["%X~a"], ["-get|x"], ["+nosuch|x"], ["~a b"]]
    texts = [error(acl, r, "SETUSER", "e", *rules) for rules in cases]
    assert texts == [
        "Error in ACL SETUSER modifier 'bad': Syntax error",
        "Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL",
        "Error in ACL SETUSER modifier '-@nosuch': Unknown command or category name in ACL",
        "Error in ACL SETUSER modifier '+get|': Syntax error",
        "Error in ACL SETUSER modifier '+config|get|x': Allowing first-arg of a subcommand is not supported",
        "Error in ACL SETUSER modifier '~b': Adding a pattern after the * pattern (or the 'allkeys' flag) is "
        "not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
        "Error in ACL SETUSER modifier '&x': Adding a pattern after the * pattern (or the 'allchannels' flag) "
        "is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
        "Unmatched parenthesis in acl selector starting at '(+get'.",
        "Error in ACL SETUSER modifier '%X~a': Syntax error",
        "Error in ACL SETUSER modifier '-get|x': Unknown command or category name in ACL",
        "Error in ACL SETUSER modifier '+nosuch|x': Unknown command or category name in ACL",
        "Error in ACL SETUSER modifier '~a b': Syntax error",
    ]
    assert acl(r, "USERS") == ["default"]  # a failed SETUSER creates nothing


def test_command_key_and_channel_permissions(r):  # noqa: F811
    acl(r, "SETUSER", "alice", "on", ">p", "~obj:*", "%R~ro:*", "%W~wo:*", "&news*", "+@string", "+@pubsub",
        "-@dangerous", "+select|0", "+config|get", "-hset")
    c = connect(r, "alice", "p")
    assert c.set("obj:1", "v") and c.get("obj:1") == "v"
    assert error(c.get, "other") == "this user has no permissions to access one of the keys used as arguments"
    assert c.get("ro:1") is None
    assert error(c.set, "ro:1", "v") == "this user has no permissions to access one of the keys used as arguments"
    assert c.set("wo:1", "v")
    assert error(c.get, "wo:1") == "this user has no permissions to access one of the keys used as arguments"
    assert c.append("wo:1", "x") == 2  # APPEND's key is "RW insert": no read access needed
    assert error(c.hset, "obj:1", "a", "b") == "this user has no permissions to run the 'hset' command"
    assert c.select(0) and error(c.select, 1) == "this user has no permissions to run the 'select' command"
    assert c.config_get("maxmemory") and error(c.config_set, "maxmemory", "0").startswith(
        "this user has no permissions to run the 'config|set' command")
    assert c.publish("news.1", "x") == 0
    assert error(c.publish, "sport", "x") == ("this user has no permissions to access one of the channels "
                                              "used as arguments")
    assert error(c.mset, {"obj:1": "a", "other": "b"}).startswith("this user has no permissions to access")
    assert error(c.execute_command, "COPY", "obj:1", "wo:2").startswith("this user has no permissions to run")
    assert error(c.execute_command, "PSUBSCRIBE", "news*x").startswith(
        "this user has no permissions to access one of the channels")
    c.close()
    dry = [acl(r, "DRYRUN", "alice", *args) for args in (
        ("get", "obj:1"), ("get", "zz"), ("set", "ro:1", "x"), ("publish", "news", "m"), ("publish", "x", "m"),
        ("hset", "obj:1", "a", "b"), ("subscribe", "news", "x"), ("psubscribe", "news*"),
        ("config", "get", "x"), ("config", "set", "x", "y"))]
    assert dry == ["OK", "This user has no permissions to access the 'zz' key",
                   "This user has no permissions to access the 'ro:1' key", "OK",
                   "This user has no permissions to access the 'x' channel",
                   "This user has no permissions to run the 'hset' command",
                   "This user has no permissions to access the 'x' channel",
                   "OK", "OK",  # a pattern needs the very same pattern: &news* has it
                   "This user has no permissions to run the 'config|set' command"]
    assert error(acl, r, "DRYRUN", "nobody", "get", "x") == "User 'nobody' not found"


def test_selectors_pick_the_best_denial(r):  # noqa: F811
    acl(r, "SETUSER", "sel", "on", "nopass", "+get", "~read*", "(+set ~write*)", "(+@hash %R~h*)")
    c = connect(r, "sel", "x")
    assert c.get("read1") is None and c.set("write1", "v")
    assert error(c.get, "write1").startswith("this user has no permissions to access one of the keys")
    assert error(c.set, "read1", "v").startswith("this user has no permissions to access one of the keys")
    assert c.hget("h1", "f") is None
    assert error(c.hset, "h1", "f", "v").startswith("this user has no permissions to access one of the keys")
    assert error(c.lpush, "l", "v") == "this user has no permissions to run the 'lpush' command"
    c.close()


def test_first_args_and_subcommands(r):  # noqa: F811
    acl(r, "SETUSER", "f", "on", "nopass", "-@all", "+select|0", "+client|id", "+debug|digest", "+acl")
    c = connect(r, "f", "x")
    assert c.client_id() > 0
    assert error(c.client_getname) == "this user has no permissions to run the 'client|getname' command"
    assert c.acl_whoami() == "f"
    c.close()
    acl(r, "SETUSER", "g", "reset", "+@all", "~*", "-@string", "+incr", "-debug", "+debug|digest")
    cmds = acl(r, "GETUSER", "g")[5]
    assert cmds.startswith("+@all -@string") and "+incr" in cmds and "-debug +debug|digest" in cmds


def test_auth_forms_log_and_whoami(r):  # noqa: F811
    acl(r, "SETUSER", "u", "on", ">pw", "+acl", "+auth")
    with pytest.raises(redis.RedisError, match="AUTH <password> called without any password configured for the "
                       "default user. Are you sure your configuration is correct?"):
        connect(r).execute_command("AUTH", "onlyone")
    c = connect(r)
    assert c.execute_command("AUTH", "u", "pw")
    assert c.acl_whoami() == "u"
    with pytest.raises(redis.AuthenticationError):
        c.execute_command("AUTH", "u", "bad")
    c.execute_command("HELLO", "2", "AUTH", "default", "x")
    assert c.acl_whoami() == "default"
    entries = r.acl_log()
    assert [(e["reason"], e["context"], e["object"], e["username"]) for e in entries] == [
        ("auth", "toplevel", "AUTH", "u")]
    c.close()


def test_acl_log_commands_keys_channels_and_contexts(r):  # noqa: F811
    acl(r, "SETUSER", "antirez", "on", "nopass", "~obj:*", "&chan", "+set", "+get", "+multi", "+exec",
        "+eval", "+publish")
    c = connect(r, "antirez", "x")
    for _ in range(3):
        error(c.execute_command, "INCR", "obj:1")
    error(c.get, "foo")
    error(c.publish, "other", "m")
    pipe = c.pipeline(transaction=True)
    pipe.incr("obj:1")
    with pytest.raises(redis.ResponseError):
        pipe.execute()
    assert error(c.eval, "return redis.call('incr', 'obj:1')", 0).startswith(
        "The user executing the script can't run this command or subcommand")
    assert error(c.eval, "return redis.call('get', 'nope')", 0).startswith(
        "The user executing the script can't access at least one of the keys")
    got = [(e["count"], e["reason"], e["context"], e["object"], e["username"]) for e in r.acl_log()]
    assert got == [(1, "key", "lua", "nope", "antirez"), (1, "command", "lua", "incr", "antirez"),
                   (1, "command", "multi", "incrby", "antirez"), (1, "channel", "toplevel", "other", "antirez"),
                   (1, "key", "toplevel", "foo", "antirez"), (3, "command", "toplevel", "incr", "antirez")]
    assert len(r.acl_log(2)) == 2
    assert "antirez" in str(r.acl_log()[0]["client-info"])
    c.close()


def test_exec_rechecks_permissions(r):  # noqa: F811
    acl(r, "SETUSER", "m", "on", "nopass", "~*", "+multi", "+exec", "+set", "+get")
    c = connect(r, "m", "x")
    # the rules change while the transaction is queued: redis-py sends it at once, so by hand
    conn = c.connection_pool.get_connection()
    conn.send_command("MULTI")
    assert conn.read_response() == "OK"
    conn.send_command("SET", "k", "v")
    assert conn.read_response() == "QUEUED"
    acl(r, "SETUSER", "m", "-set")
    conn.send_command("EXEC")
    reply = conn.read_response()
    assert str(reply[0]) == ("ACLs rules changed between the moment the transaction was accumulated and the "
                             "EXEC call. This command is no longer allowed for the following reason: no "
                             "permission to execute the command or subcommand")
    c.connection_pool.release(conn)
    c.close()


def test_deleting_a_user_closes_its_clients(r):  # noqa: F811
    acl(r, "SETUSER", "gone", "on", "nopass", "+@all", "~*")
    other = connect(r, "gone", "x")
    assert other.ping()
    me = connect(r, "gone", "x")
    assert me.execute_command("ACL", "DELUSER", "gone") == 1
    with pytest.raises(redis.ConnectionError):  # closed after its reply (a reconnection cannot log in)
        me.ping()
    assert "user=gone" not in r.execute_command("CLIENT", "LIST")
    assert error(acl, r, "DELUSER", "default") == "The 'default' user cannot be removed"
    other.close()
    me.close()


def test_client_kill_user_and_client_list(r):  # noqa: F811
    acl(r, "SETUSER", "k", "on", "nopass", "+@all", "~*")
    c = connect(r, "k", "x")
    c.ping()
    assert "user=k" in r.execute_command("CLIENT", "LIST")
    assert r.execute_command("CLIENT", "KILL", "USER", "k") == 1
    assert error(r.execute_command, "CLIENT", "KILL", "USER", "nosuch") == "No such user 'nosuch'"
    wait_for(lambda: "user=k" not in r.execute_command("CLIENT", "LIST"), what="the killed client gone")
    c.close()


def test_subscribers_killed_when_channels_revoked(r):  # noqa: F811
    acl(r, "SETUSER", "psub", "on", "nopass", "+@all", "~*", "resetchannels", "&foo", "&bar")
    c = connect(r, "psub", "x")
    p = c.pubsub()
    p.subscribe("foo")
    wait_for(lambda: p.get_message(timeout=0.1) is not None, what="subscribed")
    acl(r, "SETUSER", "psub", "resetchannels", "&foo")  # foo kept: pardoned
    assert r.pubsub_numsub("foo") == [("foo", 1)]
    acl(r, "SETUSER", "psub", "resetchannels", "&bar")
    wait_for(lambda: r.pubsub_numsub("foo") == [("foo", 0)], what="the subscriber killed")
    p.close()
    c.close()


def test_default_user_off_and_requirepass(r):  # noqa: F811
    r.config_set("requirepass", "secret")
    try:
        assert acl(r, "LIST")[0].startswith("user default on #")
        c = connect(r)
        with pytest.raises(redis.AuthenticationError):
            c.ping()
        assert connect(r, "default", "secret").ping()
    finally:
        r.config_set("requirepass", "")
    assert acl(r, "LIST") == ["user default on nopass ~* &* +@all"]


def test_script_acl_check_cmd(r):  # noqa: F811
    acl(r, "SETUSER", "s", "on", "nopass", "+eval", "+get", "~k*")
    c = connect(r, "s", "x")
    check = "return {redis.acl_check_cmd('get','k1') and 1 or 0, redis.acl_check_cmd('get','z') and 1 or 0," \
            " redis.acl_check_cmd('set','k1','v') and 1 or 0}"
    assert c.eval(check, 0) == [1, 0, 0]
    c.close()


def test_acl_file_save_and_load(spawn, tmp_path):
    for kind in ("forkv", "redis"):
        workdir = tmp_path / kind
        workdir.mkdir()
        path = workdir / "users.acl"
        path.write_text("user alice on >pw ~x* +get\nuser default on nopass ~* &* +@all\n")
        server = spawn(kind, "--aclfile", str(path), workdir=str(workdir))
        r = redis.Redis(port=server.port, decode_responses=True)  # noqa: F811
        assert r.acl_list() == ["user alice on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 "
                                "~x* resetchannels -@all +get", "user default on nopass ~* &* +@all"]
        acl(r, "SETUSER", "bob", "on", "nopass", "(+set ~y)")
        assert acl(r, "SAVE") == "OK"
        assert path.read_text().splitlines()[1] == (
            "user bob on nopass resetchannels -@all (~y resetchannels -@all +set)")
        alice = redis.Redis(port=server.port, username="alice", password="pw", retry=NO_RETRY)
        assert alice.get("x1") is None
        path.write_text("user carol on nopass +@all\nuser default on nopass ~* &* +@all\n")
        assert acl(r, "LOAD") == "OK"
        assert r.acl_users() == ["carol", "default"]
        with pytest.raises(redis.ConnectionError):
            alice.get("x1")  # alice's clients went with her
        path.write_text("user carol on nopass +nosuch\nbad line\n")
        assert error(acl, r, "LOAD") == (
            f"{path}:1: Error in applying operation '+nosuch': Unknown command or category name in ACL. "
            f"{path}:2 should start with user keyword followed by the username. "
            "WARNING: ACL errors detected, no change to the previously active ACL rules was performed")
        assert r.acl_users() == ["carol", "default"]
        r.close()
        alice.close()


def test_single_categories_describe_as_themselves(r):  # noqa: F811
    """acl.tcl's "ACL GETUSER provides reasonable results": every category alone, added to -@all
    or taken from +@all, is described as just that (so each category's members match Redis's)."""
    for category in acl(r, "CAT"):
        if not acl(r, "CAT", category):  # @stream, until forkv has streams
            continue
        acl(r, "SETUSER", "additive", "reset", "+@all", f"-@{category}")
        acl(r, "SETUSER", "restrictive", "reset", "-@all", f"+@{category}")
        assert acl(r, "GETUSER", "additive")[5] == f"+@all -@{category}"
        assert acl(r, "GETUSER", "restrictive")[5] == f"-@all +@{category}"


def test_subcommands_engulfed_by_their_container(r):  # noqa: F811
    acl(r, "SETUSER", "bob", "+memory|doctor")
    assert acl(r, "GETUSER", "bob")[5] == "-@all +memory|doctor"
    acl(r, "SETUSER", "bob", "+memory")
    assert acl(r, "GETUSER", "bob")[5] == "-@all +memory"
    acl(r, "SETUSER", "bob", "+@all", "+client|id")
    assert acl(r, "GETUSER", "bob")[5] == "+@all"
    acl(r, "SETUSER", "alice", "+@all", "-memory|doctor", "on", "nopass")
    assert acl(r, "GETUSER", "alice")[5] == "+@all -memory|doctor"
    c = connect(r, "alice", "x")
    assert error(c.execute_command, "MEMORY", "DOCTOR").endswith("'memory|doctor' command")
    assert c.execute_command("MEMORY", "STATS")
    acl(r, "SETUSER", "alice", "+@all", "-memory")
    assert acl(r, "GETUSER", "alice")[5] == "+@all -memory"
    assert error(c.execute_command, "MEMORY", "STATS").endswith("'memory|stats' command")
    c.close()


def test_denied_inside_multi_flags_the_transaction(r):  # noqa: F811
    acl(r, "SETUSER", "psuser", "on", ">pspass", "+multi", "+discard", "+exec", "+publish", "+subscribe",
        "+psubscribe", "+set", "~*", "resetchannels", "&foo:1")
    c = connect(r, "psuser", "pspass")
    conn = c.connection_pool.get_connection()
    replies = []
    for args in (("MULTI",), ("PUBLISH", "notexits", "hi"), ("SUBSCRIBE", "notexits", "foo:1"),
                 ("PSUBSCRIBE", "foo:*"), ("SET", "k", "v"), ("EXEC",)):
        conn.send_command(*args)
        try:
            replies.append(conn.read_response())
        except redis.ResponseError as exc:
            replies.append(str(exc))
    assert replies == [
        "OK", "this user has no permissions to access one of the channels used as arguments",
        "this user has no permissions to access one of the channels used as arguments",
        "this user has no permissions to access one of the channels used as arguments", "QUEUED",
        "Transaction discarded because of previous errors."]
    c.connection_pool.release(conn)
    c.close()


# acl-v2.tcl's key and channel permission cases, as (rules, command line); each DRYRUN reply
# (and each SETUSER reply) is compared between the two servers.
_DRYRUNS = [
    (["+@all", "%R~read*", "%W~write*", "%RW~rw*"], [
        "SORT read STORE write", "SORT read STORE read", "SORT write STORE write",
        "EVAL x 1 rw1", "EVAL x 1 read", "EVAL_RO x 1 rw1", "EVAL_RO x 1 read", "EVAL x 0 read",
        "EVAL x -1 read", "EVAL x 3 rw rw", "EVAL x 3 rw read",
        "GEORADIUS read 1 2 3 M STOREDIST write", "GEORADIUS read 1 2 3 M", "GEORADIUS read1 1 2 3 M STOREDIST read2",
        "GEORADIUS write1 1 2 3 M STOREDIST write2", "GEORADIUS read 1 2 3 M STORE write",
        "HEXISTS read foo", "HEXISTS write foo", "HEXISTS nothing foo", "HSTRLEN write foo",
        "SISMEMBER write foo", "SINTERCARD 2 read read", "SINTERCARD 2 write read", "SINTERCARD 2 nothing read",
        "ZCOUNT read 0 1", "ZCOUNT write 0 1", "PFCOUNT read read", "PFCOUNT write read", "ZINTERCARD 2 read read",
        "ZINTERCARD 2 write read", "touch write", "exists write", "MEMORY USAGE write", "MEMORY USAGE nothing",
        "TYPE write", "TYPE nothing", "ttl write", "pttl write", "expiretime write", "pexpiretime write",
        "scard write", "llen write", "strlen write", "zcard write", "hlen write", "object encoding write",
        "SET read x", "SET write x", "SET rw x GET", "SET write x GET", "GETDEL read", "GETDEL rw", "GETEX read",
        "BITFIELD read GET u4 0", "BITFIELD write SET u4 0 1", "BITFIELD read SET u4 0 1", "BITFIELD rw INCRBY u4 0 1",
        "BITFIELD_RO read GET u4 0", "LMOVE read write LEFT RIGHT", "LMOVE write read LEFT RIGHT",
        "COPY read write", "COPY write read", "RENAME rw rw2", "RENAME read rw", "DEL write", "DEL read",
        "APPEND write x", "APPEND read x", "SETRANGE write 0 x", "INCR write", "INCR rw",
        "LPUSH write x", "LPOP write", "SUNIONSTORE write read read", "SUNIONSTORE write read nothing",
        "ZRANGESTORE write read 0 1", "ZADD read 1 a", "MSET write 1 read 2", "MGET read rw write",
        "SET v", "SET", "nosuch x", "CONFIG nosuch",
    ]),
    (["+@all", "resetchannels", "&channel"], [
        "spublish channel foo", "ssubscribe channel", "sunsubscribe", "sunsubscribe otherchannel",
        "spublish otherchannel foo", "ssubscribe otherchannel foo", "publish channel x", "publish chan x",
        "subscribe channel x", "psubscribe chan*", "psubscribe channel", "punsubscribe x", "unsubscribe x",
    ]),
    (["-@all", "+get", "~a*", "(+set ~b*)", "(+@hash ~c* %R~d*)"], [
        "get a1", "get b1", "set b1 x", "set a1 x", "hset c1 f v", "hset d1 f v", "hget d1 f", "lpush a x",
        "set b1", "client id",
    ]),
    (["+@all", "-@dangerous", "+config|get", "-config|get", "+debug|digest", "+select|0", "+select|x"], [
        "config get x", "debug digest", "debug object x", "select 0", "select 1", "select X", "flushall",
        "keys *", "info", "acl whoami", "acl setuser x",
    ]),
]


def test_dryrun_cases_match_redis(both):
    results = []
    for client in both:
        out = []
        for i, (rules, lines) in enumerate(_DRYRUNS):
            name = f"dry{i}"
            out.append(client.execute_command("ACL", "SETUSER", name, "reset", *rules))
            for line in lines:
                try:
                    out.append(client.execute_command("ACL", "DRYRUN", name, *line.split()))
                except redis.ResponseError as exc:
                    out.append(f"error: {exc}")
            out.append(client.execute_command("ACL", "GETUSER", name))
            client.execute_command("ACL", "DELUSER", name)
        results.append(out)
    assert results[0] == results[1]


def test_sort_by_and_get_need_full_read_access(r):  # noqa: F811
    r.set("v1", 1)
    r.lpush("mylist", 1)
    replies = []
    for rules in (["(+sort ~mylist)"], ["(+sort ~mylist ~v*)"], ["(+sort ~mylist %W~*)"], ["(+sort ~mylist %R~*)"]):
        acl(r, "SETUSER", "sorter", "on", "nopass", *rules)
        c = connect(r, "sorter", "x")
        for args in (("by", "v*"), ("get", "v*"), ("by", "nosort")):
            try:
                replies.append(c.sort("mylist", **{args[0]: args[1]}))
            except redis.ResponseError as exc:
                replies.append(str(exc))
        c.close()
    assert replies == [
        "BY option of SORT denied due to insufficient ACL permissions.",
        "GET option of SORT denied due to insufficient ACL permissions.", ["1"],
        "BY option of SORT denied due to insufficient ACL permissions.",
        "GET option of SORT denied due to insufficient ACL permissions.", ["1"],
        "BY option of SORT denied due to insufficient ACL permissions.",
        "GET option of SORT denied due to insufficient ACL permissions.", ["1"],
        ["1"], ["1"], ["1"]]


def test_users_in_the_config_file_and_config_rewrite(tmp_path):
    """`user` lines in the config file make users at startup; CONFIG REWRITE writes every user
    back as a `user` line (the default one too), in place of the old ones."""
    from tests.servers import ServerProcess, free_port

    results = []
    for kind in ("forkv", "redis"):
        folder = tmp_path / kind
        folder.mkdir()
        port = free_port()
        path = folder / "server.conf"
        path.write_text(f"port {port}\nuser alice on nopass ~a* +get\nuser default on nopass ~* &* +@all -flushall\n"
                        "# a comment\nuser carol off\n")
        with ServerProcess(kind, args=[str(path), "--dir", str(folder)], port=port) as server:
            r = redis.Redis(port=server.port, decode_responses=True)  # noqa: F811
            listed = r.acl_list()
            acl(r, "SETUSER", "bob", "on", ">pw", "(+set ~b)")
            acl(r, "DELUSER", "carol")
            assert r.execute_command("CONFIG", "REWRITE") == "OK"
            r.close()
        lines = [line for line in path.read_text().splitlines() if line.startswith(("user", "#"))]
        results.append((listed, lines))
    assert results[0] == results[1]


def raw(port: int, *commands) -> list:
    """Each command's reply on one new connection, with no handshake of a client library."""
    import socket

    import hiredis

    from tests.servers import command_bytes

    replies = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        reader = hiredis.Reader()
        for argv in commands:
            sock.sendall(command_bytes(*argv))
            reply = reader.gets()
            while reply is False:
                reader.feed(sock.recv(65536))
                reply = reader.gets()
            replies.append(str(reply) if isinstance(reply, hiredis.ReplyError) else reply)
    return replies


def test_default_user_off_and_hello_for_other_users(r):  # noqa: F811
    port = r.connection_pool.connection_kwargs["port"]
    acl(r, "SETUSER", "other", "on", "nopass", "+@all", "~*")
    acl(r, "SETUSER", "default", "off")
    try:
        got = raw(port, ("PING",), ("HELLO", "2"), ("HELLO", "2", "AUTH", "other", "x"), ("ACL", "WHOAMI"))
    finally:
        acl(r, "SETUSER", "default", "on")
    assert got[0] == "NOAUTH Authentication required."
    assert got[1].startswith("NOAUTH HELLO must be called")
    assert got[2][:2] == [b"server", b"redis"] and got[3] == b"other"
    admin = connect(r, "other", "x")  # the default user locks itself out
    acl(admin, "SETUSER", "default", "-@all")
    try:
        got = raw(port, ("PING",), ("HELLO", "2", "AUTH", "other", "x"), ("PING",))
    finally:
        acl(admin, "SETUSER", "default", "+@all")
        admin.close()
    assert got[0] == "NOPERM this user has no permissions to run the 'ping' command"
    assert got[2] == b"PONG"
