"""Issue 4 at the server level: BGSAVE's fork child, its replies, failures and MISCONF, save
points, SHUTDOWN/SIGTERM/SIGINT saves, FLUSHALL, INFO persistence and the SIGCHLD handler.

Real server processes only, each in its own temp dir; where Redis 7.0 is the specification the
same steps run against Debian's redis-server and the outcomes are compared. A save in progress is
made slow with `rdb-key-save-delay` (microseconds per key, as in Redis), never waited out by sleep.
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

from server import errors
from tests.integration._persistence import (
    check_rdb,
    children,
    client,
    dump_path,
    file_contents,
    idle,
    info,
    read_bytes,
    save_child,
    start_on_file,
    temp_files,
    wait_idle,
)
from tests.persistence._data import read_back
from tests.servers import command_bytes, read_line, session, wait_for

REDIS_CLI = shutil.which("redis-cli")


def threads(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"^Threads:\s+(\d+)", f.read(), re.M).group(1))


COARSE_CLOCK_LAG = 0.05


def next_second(r) -> None:
    """LASTSAVE has one-second resolution: let the clock pass the last save's second."""
    last = r.lastsave().timestamp()
    # Redis reads time(NULL), the kernel's coarse clock, which lags the precise one by up to a
    # clock tick (10 ms at HZ=100): wait until even the coarse clock has passed the second.
    wait_for(lambda: time.time() > last + 1 + COARSE_CLOCK_LAG, 2, what="the next second")


def shutdown(port: int, *args):
    """SHUTDOWN on a fresh connection (no client-side retries): None when the server closes the
    connection without a reply, as it does when it exits; else the raw reply bytes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(command_bytes("SHUTDOWN", *args))
        return read_line(s) or None


def texts(replies) -> list:
    """Replies made comparable: errors by their text, nested arrays too."""
    out = []
    for reply in replies:
        if isinstance(reply, Exception):
            out.append(("error", str(reply)))
        elif isinstance(reply, list):
            out.append(texts(reply))
        else:
            out.append(reply)
    return out


def log_times(server, text: str) -> list:
    """Timestamps (datetime) of the log lines containing `text`."""
    out = []
    for line in server.log().splitlines():
        if text in line:
            stamp = re.search(r"(\d+ \w{3} \d{4} \d\d:\d\d:\d\d\.\d{3})", line).group(1)
            out.append(datetime.datetime.strptime(stamp, "%d %b %Y %H:%M:%S.%f"))
    return out


def listening_inode(port: int) -> str:
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if int(fields[1].split(":")[1], 16) == port and fields[3] == "0A":
                return fields[9]
    raise AssertionError(f"no listening socket on {port}")


def fd_targets(pid: int) -> set:
    out = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            out.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            pass
    return out


MISCONF = ("error", errors.MISCONF)


# -- point in time -------------------------------------------------------------------------------

def test_bgsave_is_a_point_in_time_snapshot_while_clients_write(spawn, tmp_path):
    server = spawn("forkv", "--rdb-key-save-delay", "300")
    r = client(server)
    writers, old = 2, 1000
    for w in range(writers):
        r.mset({f"old:{w}:{i}": i for i in range(old)})
        r.set(f"count:{w}", 0)
    done = [0] * writers
    stop = threading.Event()
    failures = []

    def writer(w):
        # One transaction per step, so a fork always falls between whole steps.
        c = client(server)
        try:
            for i in range(old):
                if stop.is_set():
                    break
                p = c.pipeline(transaction=True)
                p.set(f"new:{w}:{i}", i)
                p.delete(f"old:{w}:{i}")
                p.set(f"count:{w}", i + 1)
                p.execute()
                done[w] = i + 1
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
        finally:
            c.close()

    pool = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    for t in pool:
        t.start()
    try:
        wait_for(lambda: min(done) >= 20 or failures, what="the writers to get going")
        acked_before = list(done)
        assert r.bgsave()
        acked_at_reply = list(done)
        fields = wait_idle(r)
        acked_after_save = list(done)
    finally:
        stop.set()
        for t in pool:
            t.join(30)
    assert not failures, failures
    assert fields["rdb_last_bgsave_status"] == "ok"

    snap = file_contents(dump_path(server))[0][0]
    at_fork = []
    for w in range(writers):
        c = int(snap[b"count:%d" % w])
        at_fork.append(c)
        # Everything acknowledged before BGSAVE is in; at most one step in flight at the reply.
        assert acked_before[w] <= c <= acked_at_reply[w] + 1
        assert acked_after_save[w] > c  # this writer kept writing during the save
        for i in range(old):
            if i < c:
                assert snap.get(b"new:%d:%d" % (w, i)) == b"%d" % i and b"old:%d:%d" % (w, i) not in snap
            else:  # written after the fork: absent; deleted after the fork: present
                assert b"new:%d:%d" % (w, i) not in snap and snap[b"old:%d:%d" % (w, i)] == b"%d" % i
    # Writes made during the save still count: 3 per step taken after the fork.
    assert info(r)["rdb_changes_since_last_save"] == 3 * sum(done[w] - at_fork[w] for w in range(writers))

    # The file passes redis-check-rdb and a real redis-server loads the same snapshot.
    check_rdb(dump_path(server))
    real = start_on_file(spawn, "redis", dump_path(server), tmp_path / "redis")
    assert read_back(real.port, dbs=[0]) == {0: (snap, {})}


# -- replies while a save runs ---------------------------------------------------------------------

def test_second_save_schedule_multi_and_syntax_replies_match_redis(spawn):
    transcripts = {}
    for kind in ("forkv", "redis"):
        server = spawn(kind, "--rdb-key-save-delay", "100000")
        r = client(server)
        r.mset({f"k{i}": i for i in range(20)})  # 2 s of saving unless stopped
        out = [session(server.port, ["BGSAVE", "x"], ["BGSAVE", "SCHEDULE", "x"], ["BGSAVE"])]
        child = save_child(server)
        if kind == "forkv":  # the child closed the listening socket it inherited
            listener = f"socket:[{listening_inode(server.port)}]"
            assert listener in fd_targets(server.proc.pid) and listener not in fd_targets(child)
        out.append(session(server.port, ["BGSAVE"], ["bgsave", "schedule"], ["SAVE"],
                           ["MULTI"], ["BGSAVE"], ["EXEC"], ["BGSAVE", "x"]))
        assert info(r)["rdb_bgsave_in_progress"] == 1
        os.kill(child, signal.SIGUSR1)  # how both servers stop their own child: not an error
        fields = wait_idle(r)
        assert fields["rdb_last_bgsave_status"] == "ok"
        assert temp_files(server.dir) == []
        forks = info(r, "stats")["total_forks"]
        r.config_set("rdb-key-save-delay", 0)
        # Inside MULTI/EXEC the save is only scheduled; the cron starts it.
        out.append(session(server.port, ["MULTI"], ["BGSAVE"], ["EXEC"]))
        wait_for(lambda: info(r, "stats")["total_forks"] == forks + 1, what="the scheduled save")
        fields = wait_idle(r)
        assert fields["rdb_last_bgsave_status"] == "ok"
        assert len(file_contents(dump_path(server))[0][0]) == 20
        out.append(session(server.port, ["BGSAVE", "SCHEDULE"]))  # nothing running: starts now
        wait_idle(r)
        transcripts[kind] = texts(out)
    assert transcripts["forkv"] == transcripts["redis"]
    assert transcripts["forkv"] == [
        [("error", "ERR syntax error"), ("error", "ERR syntax error"), b"Background saving started"],
        [("error", "ERR Background save already in progress")] * 3
        + [b"OK", b"QUEUED", [("error", "ERR Background save already in progress")],
           ("error", "ERR syntax error")],
        [b"OK", b"QUEUED", [b"Background saving scheduled"]],
        [b"Background saving started"],
    ]


# -- failures and MISCONF ------------------------------------------------------------------------

def test_child_killed_by_sigkill_sets_err_and_misconf_until_a_good_save(spawn):
    transcripts = {}
    for kind in ("forkv", "redis"):
        server = spawn(kind, "--save", "3600 1", "--rdb-key-save-delay", "100000")
        r = client(server)
        r.set("before", "1")
        r.config_set("rdb-key-save-delay", 0)
        assert r.save()
        old = read_bytes(dump_path(server))
        r.config_set("rdb-key-save-delay", 100000)
        r.mset({f"k{i}": i for i in range(20)})
        assert r.bgsave()
        child = save_child(server)
        os.kill(child, signal.SIGKILL)
        fields = wait_idle(r)
        assert fields["rdb_last_bgsave_status"] == "err", kind
        assert temp_files(server.dir) == [], kind
        assert read_bytes(dump_path(server)) == old, kind
        assert "Background saving terminated by signal 9" in server.log(), kind
        out = [session(server.port, ["PING"], ["SET", "x", "1"], ["GET", "k1"], ["DEL", "k1"],
                       ["MULTI"], ["SET", "y", "1"], ["GET", "k2"], ["EXEC"], ["PING", "hello"])]
        assert r.dbsize() == 21, kind  # nothing was written
        r.config_set("rdb-key-save-delay", 0)
        assert r.bgsave()  # a manual BGSAVE is not held back by the retry delay
        fields = wait_idle(r)
        assert fields["rdb_last_bgsave_status"] == "ok", kind
        out.append(session(server.port, ["PING"], ["SET", "x", "1"]))
        assert len(file_contents(dump_path(server))[0][0]) == 21, kind
        transcripts[kind] = texts(out)
    assert transcripts["forkv"] == transcripts["redis"]
    assert transcripts["forkv"] == [
        [MISCONF, MISCONF, b"1", MISCONF, b"OK", MISCONF, b"QUEUED",
         ("error", "EXECABORT Transaction discarded because of previous errors."), MISCONF],
        [b"PONG", b"OK"],
    ]


def _unprivileged(spawn, kind) -> tuple:
    """A `kind` server that chmod can lock out of its directory, with a save point and a=1 written:
    (server, client)."""
    server = spawn(kind, "--save", "3600 1", unprivileged=True)
    r = client(server)
    r.set("a", "1")
    return server, r


def test_write_error_in_child_sets_err_like_redis(spawn):
    logs = {}
    for kind in ("forkv", "redis"):
        server, r = _unprivileged(spawn, kind)
        assert r.save()
        old = read_bytes(dump_path(server))
        r.set("b", "2")
        os.chmod(server.dir, 0o555)
        assert r.bgsave()
        fields = wait_idle(r)
        assert fields["rdb_last_bgsave_status"] == "err", kind
        assert fields["rdb_changes_since_last_save"] == 1, kind
        assert read_bytes(dump_path(server)) == old and temp_files(server.dir) == [], kind
        assert texts(session(server.port, ["SET", "c", "3"], ["PING"])) == [MISCONF, MISCONF], kind
        os.chmod(server.dir, 0o755)
        assert r.save()  # a good SAVE clears the error too (Redis's rdbSave sets the status)
        assert info(r)["rdb_last_bgsave_status"] == "ok", kind
        assert r.set("c", "3") and r.ping(), kind
        assert file_contents(dump_path(server))[0][0] == {b"a": b"1", b"b": b"2"}, kind
        logs[kind] = server.log()
    for kind in logs:  # the child's line, then the parent's: Redis's words
        assert re.search(r"C .* # Failed opening the temp RDB file temp-\d+\.rdb \(in server root "
                         r"dir /\S+\) for saving: Permission denied", logs[kind]), kind
        assert "Background saving error" in logs[kind], kind


# -- save points ---------------------------------------------------------------------------------

def test_save_points_fire_and_a_failed_save_is_retried_no_sooner_than_5s(spawn):
    server = spawn("forkv", "--save", "1 1", unprivileged=True)
    r = client(server)
    assert r.config_get("save") == {"save": "1 1"}
    r.set("a", "1")
    # Fires once a change is older than the last save by more than one whole second.
    wait_for(lambda: info(r)["rdb_saves"] == 1 and idle(r), 5, what="the save point")
    fields = info(r)
    assert fields["rdb_last_bgsave_status"] == "ok" and fields["rdb_changes_since_last_save"] == 0
    assert "1 changes in 1 seconds. Saving..." in server.log()
    assert file_contents(dump_path(server))[0][0] == {b"a": b"1"}
    assert idle(r) and info(r)["rdb_saves"] == 1  # no further save without changes

    os.chmod(server.dir, 0o555)
    r.set("b", "2")
    wait_for(lambda: info(r)["rdb_last_bgsave_status"] == "err", 5, what="the failed save")
    wait_for(lambda: len(log_times(server, "Background saving started")) == 3, 10,
             what="the retry")
    first, failed, retry = log_times(server, "Background saving started")
    assert (retry - failed).total_seconds() >= 5.0
    assert info(r)["rdb_last_bgsave_status"] == "err"  # still read-only: failed again
    # MISCONF needs save points: CONFIG SET save "" lifts it, setting them again brings it back.
    assert texts(session(server.port, ["SET", "x", "1"])) == [MISCONF]
    assert r.config_set("save", "") and r.set("x", "1")
    assert r.config_set("save", "1 1")
    assert texts(session(server.port, ["SET", "x", "1"])) == [MISCONF]
    os.chmod(server.dir, 0o755)
    wait_idle(r)
    assert r.bgsave()
    assert wait_idle(r)["rdb_last_bgsave_status"] == "ok"
    assert r.set("c", "3")


# -- shutdown --------------------------------------------------------------------------------------

SHUTDOWNS = {
    # name: (save points, how, saves)
    "shutdown-with-save-points": ("3600 1", ["SHUTDOWN"], True),
    "shutdown-nosave": ("3600 1", ["SHUTDOWN", "NOSAVE"], False),
    "shutdown-save-without-save-points": ("", ["SHUTDOWN", "SAVE"], True),
    "shutdown-without-save-points": ("", ["SHUTDOWN"], False),
    "sigterm-with-save-points": ("3600 1", signal.SIGTERM, True),
    "sigint-with-save-points": ("3600 1", signal.SIGINT, True),
    "sigterm-without-save-points": ("", signal.SIGTERM, False),
}


@pytest.mark.parametrize("case", list(SHUTDOWNS))
def test_shutdown_and_signals_save_and_exit_0(spawn, case):
    save, how, saves = SHUTDOWNS[case]
    for kind in ("forkv", "redis"):
        server = spawn(kind, "--save", save)
        r = client(server)
        r.mset({"a": "1", "b": "2"})
        if isinstance(how, list):
            assert shutdown(server.port, *how[1:]) is None, kind  # closed without a reply
        else:
            server.signal(how)
        assert server.wait_exit(15) == 0, f"{kind}:\n{server.log()}"
        path = dump_path(server)
        if saves:
            assert file_contents(path)[0][0] == {b"a": b"1", b"b": b"2"}, kind
            assert "Saving the final RDB snapshot before exiting." in server.log(), kind
        else:
            assert not os.path.exists(path), kind
        assert temp_files(server.dir) == [], kind


def test_shutdown_kills_a_running_child_and_saves(spawn):
    server = spawn("forkv", "--save", "3600 1", "--rdb-key-save-delay", "100000")
    r = client(server)
    r.mset({f"k{i}": i for i in range(20)})
    assert r.bgsave()
    child = save_child(server)
    r.set("after-fork", "1")
    r.config_set("rdb-key-save-delay", 0)
    assert shutdown(server.port) is None
    assert server.wait_exit(15) == 0
    assert not os.path.exists(f"/proc/{child}") or children(server.proc.pid) == []
    assert "There is a child saving an .rdb. Killing it!" in server.log()
    assert temp_files(server.dir) == []
    data = file_contents(dump_path(server))[0][0]
    assert len(data) == 21 and data[b"after-fork"] == b"1"  # the final save is synchronous


def test_shutdown_that_cannot_save_replies_error_and_keeps_serving(spawn):
    transcripts = {}
    for kind in ("forkv", "redis"):
        server, r = _unprivileged(spawn, kind)
        os.chmod(server.dir, 0o555)
        out = session(server.port, ["SHUTDOWN"], ["SHUTDOWN", "SAVE"], ["PING"], ["GET", "a"])
        # One signal at a time: Redis exits at once on a SIGINT that finds a shutdown pending.
        for n, sig in ((3, signal.SIGTERM), (4, signal.SIGINT)):
            server.signal(sig)
            wait_for(lambda: server.log().count("Error trying to save the DB, can't exit.") == n, 10,
                     what=f"{sig.name} to be handled")
        assert server.proc.poll() is None, kind
        out.append(r.ping())
        assert not os.path.exists(dump_path(server)), kind
        assert shutdown(server.port, "NOSAVE") is None, kind
        assert server.wait_exit(15) == 0, kind
        transcripts[kind] = texts(out)
    assert transcripts["forkv"] == transcripts["redis"]
    assert transcripts["forkv"][:2] == [("error", "ERR Errors trying to SHUTDOWN. Check logs.")] * 2


# -- FLUSHALL --------------------------------------------------------------------------------------

def test_flushall_with_save_points_writes_the_empty_snapshot(spawn):
    seen = {}
    for kind in ("forkv", "redis"):
        server = spawn(kind, "--save", "3600 1", "--rdb-key-save-delay", "100000")
        r = client(server)
        r.mset({f"k{i}": i for i in range(20)})
        assert r.bgsave()
        save_child(server)
        before = r.lastsave()
        next_second(r)
        saves = info(r)["rdb_saves"]
        assert r.flushall()  # kills the running child, then saves the empty data set at once
        path = dump_path(server)
        assert file_contents(path) == {}, kind
        check_rdb(path)
        fields = wait_idle(r)
        assert temp_files(server.dir) == [], kind
        assert fields["rdb_last_bgsave_status"] == "ok", kind  # a child stopped by us: no error
        assert r.lastsave() > before and r.lastsave().timestamp() == fields["rdb_last_save_time"]
        assert fields["rdb_saves"] == saves, kind  # FLUSHALL's own save is not counted
        seen[kind] = r.dbsize()
    assert seen == {"forkv": 0, "redis": 0}
    for kind in ("forkv", "redis"):  # without save points, no file
        server = spawn(kind)
        r = client(server)
        r.set("a", "1")
        assert r.flushall()
        assert not os.path.exists(dump_path(server)), kind


def test_flushall_dirty_count_matches_redis(spawn):
    seen = {}
    for kind in ("forkv", "redis"):
        for save in ("3600 1", ""):
            server = spawn(kind, "--save", save)
            r = client(server)
            r.mset({f"k{i}": i for i in range(5)})
            r.flushall()
            r.flushall()
            seen[kind, save] = info(r)["rdb_changes_since_last_save"]
    assert seen[("redis", "3600 1")] == 0 and seen[("redis", "")] == 10
    assert seen[("forkv", "3600 1")] == 0 and seen[("forkv", "")] == 10


# -- INFO and LASTSAVE -----------------------------------------------------------------------------

# Fields that hold timings or memory figures: compared by rule, not by value.
NOISY = {"current_cow_peak", "current_cow_size", "current_cow_size_age", "current_fork_perc",
         "current_save_keys_processed", "rdb_last_cow_size", "rdb_last_save_time",
         "rdb_last_bgsave_time_sec", "rdb_current_bgsave_time_sec", "latest_fork_usec", "LASTSAVE"}


def _info_sequence(server) -> list:
    r = client(server)

    def snap(step):
        fields = info(r)
        stats = info(r, "stats")
        fields["latest_fork_usec"] = stats["latest_fork_usec"]
        fields["total_forks"] = stats["total_forks"]
        fields["LASTSAVE"] = int(r.lastsave().timestamp())
        return step, fields

    steps = [snap("start")]
    r.mset({f"k{i}": i for i in range(30)})
    steps.append(snap("writes"))
    next_second(r)
    r.config_set("rdb-key-save-delay", 20000)
    assert r.bgsave()
    save_child(server)
    r.set("during", "1")
    steps.append(snap("during"))
    wait_idle(r)
    steps.append(snap("done"))
    next_second(r)
    r.config_set("rdb-key-save-delay", 0)
    assert r.save()
    steps.append(snap("save"))
    r.config_set("rdb-key-save-delay", 100000)
    r.set("x", "1")
    assert r.bgsave()
    os.kill(save_child(server), signal.SIGKILL)
    wait_idle(r)
    steps.append(snap("killed"))
    r.config_set("rdb-key-save-delay", 0)
    assert r.bgsave()
    wait_idle(r)
    steps.append(snap("recovered"))
    return steps


def test_info_persistence_fields_change_as_in_redis(spawn):
    forkv, real = spawn("forkv"), spawn("redis")
    assert list(info(client(forkv))) == list(info(client(real)))  # same fields, same order
    ours, theirs = _info_sequence(forkv), _info_sequence(real)
    for (step, a), (_, b) in zip(ours, theirs):
        for field in b:
            if field not in NOISY:
                assert a[field] == b[field], (step, field, a[field], b[field])
    for seq in (ours, theirs):
        steps = dict(seq)
        for step, fields in seq:
            assert fields["LASTSAVE"] == fields["rdb_last_save_time"]
            saving = step == "during"
            assert (fields["rdb_current_bgsave_time_sec"] >= 0) == saving, step
            if not saving:
                for field in ("current_cow_peak", "current_cow_size", "current_save_keys_processed"):
                    assert fields[field] == 0, (step, field)
        # LASTSAVE moves with each good save (each started in a later second), not otherwise.
        assert steps["writes"]["LASTSAVE"] == steps["start"]["LASTSAVE"]
        assert steps["during"]["LASTSAVE"] == steps["start"]["LASTSAVE"]
        assert steps["done"]["LASTSAVE"] > steps["during"]["LASTSAVE"]
        assert steps["save"]["LASTSAVE"] > steps["done"]["LASTSAVE"]
        assert steps["killed"]["LASTSAVE"] == steps["save"]["LASTSAVE"]
        assert steps["start"]["rdb_last_bgsave_time_sec"] == -1
        assert steps["done"]["rdb_last_bgsave_time_sec"] >= 0
        assert steps["start"]["latest_fork_usec"] == 0 < steps["during"]["latest_fork_usec"]
        assert steps["done"]["rdb_last_cow_size"] > 0
        # A killed child reports no copy-on-write figure: the last one stays.
        assert steps["killed"]["rdb_last_cow_size"] == steps["save"]["rdb_last_cow_size"]


def test_redis_cli_bgsave_and_lastsave_print_what_they_print_against_redis(spawn):
    if REDIS_CLI is None:
        pytest.skip("redis-cli is not installed")
    outputs = {}
    for kind in ("forkv", "redis"):
        server = spawn(kind, "--rdb-key-save-delay", "100000")
        client(server).mset({"a": "1", "b": "2"})

        def cli(*args):
            done = subprocess.run([REDIS_CLI, "-p", str(server.port), *args], capture_output=True,
                                  timeout=10)
            return done.returncode, done.stdout, done.stderr

        got = [cli("BGSAVE"), cli("BGSAVE"), cli("SAVE"), cli("BGSAVE", "SCHEDULE"),
               cli("BGSAVE", "now")]
        os.kill(save_child(server), signal.SIGUSR1)
        wait_idle(client(server))
        code, out, err = cli("LASTSAVE")
        assert out == b"%d\n" % client(server).lastsave().timestamp(), kind
        got.append((code, re.sub(rb"\d+", b"N", out), err))
        outputs[kind] = got
    assert outputs["forkv"] == outputs["redis"]
    assert outputs["forkv"][0] == (0, b"Background saving started\n", b"")
    assert outputs["forkv"][1] == (0, b"ERR Background save already in progress\n\n", b"")


# -- the SIGCHLD handler and the single thread ----------------------------------------------------

def test_completion_is_recorded_promptly_with_hz_1(spawn):
    # With hz 1 the cron looks at the child once a second; the SIGCHLD handler records the end at
    # once. Log timestamps show it without any client traffic waking the server in between.
    server = spawn("forkv", "--hz", "1")
    r = client(server)
    assert r.config_get("hz") == {"hz": "1"}
    r.set("a", "1")
    for n in range(1, 4):
        assert r.bgsave()
        wait_for(lambda: len(log_times(server, "Background saving terminated with success")) == n,
                 5, interval=0.005, what="the save to end")
        saved = log_times(server, "DB saved on disk")[-1]
        recorded = log_times(server, "Background saving terminated with success")[-1]
        assert (recorded - saved).total_seconds() < 0.25, (saved, recorded)
        assert idle(r)


def test_progress_and_copy_on_write_are_reported_while_saving(spawn):
    # The child reports keys written and its Private_Dirty through the pipe while it works.
    server = spawn("forkv", "--rdb-key-save-delay", "50000")
    r = client(server)
    r.mset({f"k{i}": "v" * 100 for i in range(40)})  # 2 s of saving unless stopped
    assert r.bgsave()
    child = save_child(server)
    fields = wait_for(lambda: (f := info(r))["current_save_keys_processed"] > 0
                      and f["current_cow_size"] > 0 and f, 5, what="a progress report")
    assert fields["rdb_bgsave_in_progress"] == 1 and fields["current_save_keys_total"] == 40
    assert 0 < float(fields["current_fork_perc"]) < 100
    assert fields["current_cow_peak"] >= fields["current_cow_size"]
    os.kill(child, signal.SIGUSR1)
    fields = wait_idle(r)
    assert fields["current_save_keys_processed"] == fields["current_cow_size"] == 0


def test_server_process_has_one_thread(spawn):
    server = spawn("forkv", "--rdb-key-save-delay", "100000")
    r = client(server)
    pid = server.proc.pid
    assert threads(pid) == 1
    r.mset({f"k{i}": i for i in range(10)})
    r.config_set("rdb-key-save-delay", 0)
    assert r.save()
    r.restore("copy", 0, r.dump("k1"))
    r.config_set("rdb-key-save-delay", 100000)
    assert r.bgsave()
    child = save_child(server)
    assert threads(pid) == 1 and threads(child) == 1
    os.kill(child, signal.SIGUSR1)
    wait_idle(r)
    assert threads(pid) == 1


def test_changes_made_during_a_save_are_seen_at_once_kept_after_it_and_in_the_next_file(spawn):
    """While a child saves, forkv records changes beside the dicts the child shares and merges
    them afterwards (server/keyspace.py). Every kind of change made during a save must read back
    at once, through every kind of read, and stay after the merge and in the next file: the same
    replies as Redis's, step by step."""
    far = int(time.time() * 1000) + 3_600_000
    before = [("MSET",) + tuple(x for i in range(40) for x in (f"k{i}", f"v{i}")),
              ("PEXPIREAT", "k1", far), ("PEXPIREAT", "k2", far), ("SET", "n", "10"),
              ("SELECT", "3"), ("SET", "d3", "x"), ("SELECT", "0")]
    during = [
        ("SET", "k0", "new0"), ("GET", "k0"), ("SET", "k11", "w11"), ("DEL", "k3"), ("GET", "k3"), ("EXISTS", "k3"),
        ("SET", "fresh", "f"), ("DEL", "fresh"), ("SET", "fresh2", "f2"), ("SET", "k3", "back"),
        ("PERSIST", "k1"), ("PTTL", "k1"), ("PEXPIREAT", "k4", far + 5), ("PEXPIRETIME", "k4"),
        ("SET", "k2", "keepttl", "KEEPTTL"), ("PEXPIRETIME", "k2"), ("SET", "k5", "ex", "PX", 3_600_000),
        ("SET", "k5", "noex"), ("PTTL", "k5"), ("INCR", "n"), ("INCRBY", "n", 5), ("APPEND", "k6", "+"),
        ("GET", "k6"), ("RENAME", "k7", "k7r"), ("EXISTS", "k7", "k7r"), ("MOVE", "k8", "3"),
        ("COPY", "k9", "k9c"), ("DBSIZE",), ("KEYS", "k3*"), ("RANDOMKEY",), ("SET", "late", "1"),
        ("MGET", "k0", "k3", "fresh", "fresh2", "late"), ("PEXPIREAT", "k10", 1), ("GET", "k10"),
        ("SWAPDB", "0", "3"), ("GET", "d3"), ("SWAPDB", "0", "3"), ("DBSIZE",),
    ]
    check = [("MGET",) + tuple(f"k{i}" for i in range(12)) + ("k7r", "k9c", "fresh", "fresh2", "late", "n"),
             ("PEXPIRETIME", "k1"), ("PEXPIRETIME", "k2"), ("PEXPIRETIME", "k4"), ("PTTL", "k5"),
             ("DBSIZE",), ("SELECT", "3"), ("KEYS", "*"), ("SELECT", "0")]

    def run(port, commands):  # KEYS replies sorted: the order of a hash table is not specified
        replies = texts(session(port, *commands))
        return [sorted(x) if c[0] == "KEYS" else x for c, x in zip(commands, replies)]

    seen = {}
    for kind in ("forkv", "redis"):
        server = spawn(kind, "--save", "", "--rdb-key-save-delay", "20000")
        r = client(server)
        session(server.port, *before)
        assert r.bgsave()
        replies = run(server.port, during)
        assert not idle(r), f"{kind}: the save ended before the changes were made; slow it down"
        after = run(server.port, check)
        wait_idle(r)
        merged = run(server.port, check)
        assert merged == after, kind
        assert r.save()
        contents = file_contents(dump_path(server))
        random_key = replies.pop(during.index(("RANDOMKEY",)))
        assert isinstance(random_key, bytes), (kind, random_key)
        seen[kind] = (replies, after, contents)
    assert seen["forkv"] == seen["redis"]
