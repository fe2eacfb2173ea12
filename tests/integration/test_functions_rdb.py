"""Function libraries in RDB files, with real processes: SAVE and BGSAVE write them (FUNCTION2
records before the databases), a restart and DEBUG RELOAD read them back, and files cross between
forkv and Debian's redis-server 7.0 both ways (redis-check-rdb accepts forkv's).

Every test starts its own servers in their own directories and stops them even on failure.
"""


import redis

from tests.integration._persistence import check_rdb, client, dump_path, info, start_on_file
from tests.servers import wait_for

LIBS = [
    "#!lua name=greet\n"
    "redis.register_function{function_name='hello', description='says hello', flags={'no-writes'},\n"
    "  callback=function(keys, args) return 'hello ' .. args[1] end}\n",
    "#!lua name=store\n"
    "local prefix = 'stored:'\n"
    "redis.register_function('put', function(keys, args) return redis.call('set', keys[1], prefix .. args[1]) end)\n"
    "redis.register_function{function_name='peek', callback=function(keys) return redis.call('get', keys[1]) end,\n"
    "  flags={'no-writes', 'allow-stale'}}\n"
    "-- a long comment so that the code is compressed in the file: " + "x" * 200 + "\n",
]


def _listing(r: redis.Redis) -> list:
    """FUNCTION LIST WITHCODE in a stable order (Redis lists in its hash tables' order)."""
    libraries = []
    for entry in r.function_list(withcode=True):
        fields = dict(zip(entry[::2], entry[1::2]))
        functions = sorted(dict(zip(f[::2], f[1::2]))[b"name"] for f in fields[b"functions"])
        flags = sorted(tuple(dict(zip(f[::2], f[1::2]))[b"flags"]) for f in fields[b"functions"])
        libraries.append((fields[b"library_name"], fields[b"engine"], functions, flags, fields[b"library_code"]))
    return sorted(libraries)


def _load(r: redis.Redis) -> None:
    for code in LIBS:
        r.function_load(code)
    r.set("key", "value")


def _works(r: redis.Redis) -> None:
    assert r.fcall("hello", 0, "you") == b"hello you"
    assert r.fcall("put", 1, "k", "v") == b"OK"
    assert r.fcall_ro("peek", 1, "k") == b"stored:v"
    assert r.get("key") == b"value"


def test_forkv_file_with_functions_loads_into_redis_and_back(spawn, tmp_path):
    forkv = spawn("forkv")
    r = client(forkv)
    _load(r)
    want = _listing(r)
    assert r.save() is True
    check_rdb(dump_path(forkv))

    theirs = start_on_file(spawn, "redis", dump_path(forkv), tmp_path / "redis-from-file")
    rr = client(theirs)
    assert _listing(rr) == want
    _works(rr)
    assert rr.save() is True

    ours = start_on_file(spawn, "forkv", dump_path(theirs), tmp_path / "forkv-from-file")
    ro = client(ours)
    assert _listing(ro) == want
    _works(ro)
    assert info(ro, "memory")["number_of_libraries"] == 2


def test_bgsave_writes_functions_and_a_restart_reads_them(spawn, tmp_path):
    forkv = spawn("forkv")
    r = client(forkv)
    _load(r)
    want = _listing(r)
    r.bgsave()
    wait_for(lambda: info(r)["rdb_bgsave_in_progress"] == 0 and info(r)["rdb_changes_since_last_save"] == 0,
             what="the background save")
    assert info(r)["rdb_last_bgsave_status"] == "ok"
    check_rdb(dump_path(forkv))
    again = start_on_file(spawn, "forkv", dump_path(forkv), tmp_path / "forkv-from-file")
    assert _listing(client(again)) == want
    _works(client(again))


def test_debug_reload_keeps_libraries_as_redis(spawn):
    for kind in ("forkv", "redis"):
        server = spawn(kind, "--enable-debug-command", "yes")
        r = client(server)
        _load(r)
        want = _listing(r)
        assert r.execute_command("DEBUG", "RELOAD") == b"OK"
        assert _listing(r) == want, kind
        _works(r)
        # NOSAVE reloads the file as it is: a library loaded since is gone, one deleted is back
        r.function_delete("greet")
        r.function_load("#!lua name=later\nredis.register_function('later', function() return 1 end)")
        assert r.execute_command("DEBUG", "RELOAD", "NOSAVE") == b"OK"
        assert _listing(r) == want, kind
        # NOFLUSH keeps the current libraries: the file's clash with them unless MERGE
        try:
            r.execute_command("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH")
            clashed = False
        except redis.ResponseError:
            clashed = True
        assert clashed, kind


def test_functions_flushed_by_function_flush_are_not_saved(spawn, tmp_path):
    forkv = spawn("forkv")
    r = client(forkv)
    _load(r)
    r.function_flush()
    r.save()
    check_rdb(dump_path(forkv))
    again = start_on_file(spawn, "forkv", dump_path(forkv), tmp_path / "forkv-from-file")
    assert client(again).function_list() == []
    assert client(again).get("key") == b"value"


def test_bad_library_in_file_stops_the_load(spawn, tmp_path):
    from persistence import rdb

    directory = tmp_path / "bad"
    directory.mkdir()
    with open(directory / "dump.rdb", "wb") as f:
        rdb.write_rdb(f, [(0, {b"k": b"v"}, {})], functions=[b"#!lua name=bad\nerror('no')\n"])
    for kind in ("forkv", "redis"):
        server = spawn(kind, workdir=str(directory), wait=False)
        code = server.wait_exit(15)  # Redis runs its RDB check and exits with its status: 0
        assert code != 0 or kind == "redis"
        line = ("Failed loading library, Error registering functions: ERR user_function:2: "
                "Script attempted to access nonexistent global variable 'error'")
        assert line in server.log(), kind
