"""Faults in persistence, produced for real: save children killed by signals at each step of a
save (strace injects the signal at the syscall), a full filesystem (a small tmpfs) and a file-size
rlimit, a read-only or deleted `dir`, and SIGKILL of the server itself in the middle of SAVE,
BGSAVE and a write load.

In every case the previous dump.rdb is intact and loadable (or, when the child died after its
rename, the new one is complete), no temp-*.rdb survives the next start, a failed background
save shows in INFO and the log and brings MISCONF, and the server keeps answering. Where Redis
7.0 can take the same fault, the same steps run against Debian's redis-server and the replies are
compared. Mounting needs CAP_SYS_ADMIN and strace needs ptrace: without them those tests skip.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import hiredis
import pytest

from server import errors
from tests.integration._persistence import (
    STRACE,
    check_rdb,
    children,
    client,
    file_contents,
    info,
    read_bytes,
    save_child,
    temp_files,
    wait_idle,
    walk,
)
from tests.servers import ServerProcess, command_bytes, session, wait_for

PRLIMIT = shutil.which("prlimit")
MISCONF = ("error", errors.MISCONF)
SAVE_POINTS = "3600 1"  # MISCONF needs save points; none of them fires during a test


def texts(replies) -> list:
    return [("error", str(x)) if isinstance(x, Exception) else
            texts(x) if isinstance(x, list) else x for x in replies]


# -- servers and filesystems ----------------------------------------------------------------------

class Limited(ServerProcess):
    """A server started under prlimit (RLIMIT_FSIZE): writes past the limit fail with EFBIG."""

    fsize = 0

    def command(self) -> list:
        return [PRLIMIT, f"--fsize={self.fsize}", "--"] + super().command()


@pytest.fixture
def start():
    """start(kind, datadir, *args, fsize=0, wait=True) -> a server whose log and work directory
    are its own but whose `dir` is `datadir` (so a full, read-only or deleted `dir` leaves the
    log readable). Every server is stopped at the end, its save child with it."""
    started = []

    def run(kind, datadir, *args, fsize=0, wait=True):
        if fsize:
            if PRLIMIT is None:
                pytest.skip("needs prlimit (util-linux) to set RLIMIT_FSIZE")
            server = Limited(kind, ["--dir", str(datadir), *args])
            server.fsize = fsize
        else:
            server = ServerProcess(kind, ["--dir", str(datadir), *args])
        started.append(server)
        server.start(wait=wait)
        return server

    try:
        yield run
    finally:
        for server in started:
            if server.proc is not None:
                try:  # the server may be gone already; what it forked may not
                    os.killpg(server.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            server.cleanup()


@pytest.fixture
def mount_tmpfs():
    """mount_tmpfs(size) -> a fresh tmpfs of that size; remount(path, 'ro'|'rw'). Unmounted at
    the end whatever happens. Skips when this environment may not mount."""
    mounted = []

    def mount(size: str) -> str:
        path = tempfile.mkdtemp(prefix="forkv-tmpfs-")
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", path],
                              capture_output=True, text=True)
        if done.returncode != 0:
            os.rmdir(path)
            pytest.skip(f"cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN): {done.stderr.strip()}")
        mounted.append(path)
        return path

    try:
        yield mount
    finally:
        for path in mounted:
            subprocess.run(["umount", "-l", path], capture_output=True)
            shutil.rmtree(path, ignore_errors=True)


def remount(path: str, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", path], check=True, capture_output=True)


# -- observing a save ---------------------------------------------------------------------------

def alive(pid: int) -> bool:
    """A process that exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def group_alive(pgid: int) -> list:
    """Live processes of a process group (a server and what it forked share one)."""
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z" and int(fields[2]) == pgid:
                out.append(int(name))
    return out


def traced(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            return not re.search(r"^TracerPid:\s+0$", f.read(), re.M)
    except OSError:
        return False


def inject_kill(pid: int, syscall: str, when: int = 1, follow: bool = False) -> subprocess.Popen:
    """strace attached to `pid`, which SIGKILLs the traced process on entry to its `when`-th
    `syscall` (before the call does anything). Returns once attached."""
    if STRACE is None:
        pytest.skip("needs strace to kill a save child at a chosen syscall")
    cmd = [STRACE, "-qq", "-o", "/dev/null", "-e", f"trace={syscall}",
           "-e", f"inject={syscall}:signal=KILL:when={when}", "-p", str(pid)]
    if follow:
        cmd.insert(1, "-f")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: traced(pid) or proc.poll() is not None, 10, what="strace to attach")
    except BaseException:
        proc.kill()
        raise
    if proc.poll() is not None:
        pytest.skip(f"strace cannot attach here: {proc.stderr.read().decode().strip()}")
    return proc


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
    proc.wait(10)


def loaded_after_restart(start, kind, datadir, *args) -> tuple:
    """Start a fresh server on `datadir`: (its data set, temp files left after its start)."""
    server = start(kind, datadir, *args)
    return walk(server.port), temp_files(datadir), server


# -- the save child killed at each step ----------------------------------------------------------

# stage: (how to reach it, the syscall each kind makes there, which occurrence)
CHILD_STAGES = {
    "before-open": {"forkv": ("prctl", 1), "redis": ("rt_sigaction", 1)},  # its first own syscall
    "writing": None,  # a plain kill while the temp file grows (rdb-key-save-delay)
    "file-fsync": {"forkv": ("fsync", 1), "redis": ("fsync", 1)},
    "rename": {"forkv": ("rename", 1), "redis": ("rename", 1)},
    "after-rename": {"forkv": ("fsync", 2), "redis": ("fdatasync", 1)},  # the directory's fsync
}


def saved_once(start, kind, datadir):
    """A server of `kind` with save points, holding old=1 saved by SAVE: (server, client, the
    dump's path, the dump's bytes)."""
    server = start(kind, datadir, "--save", SAVE_POINTS)
    r = client(server)
    r.set("old", "1")
    assert r.save()
    dump = os.path.join(datadir, "dump.rdb")
    return server, r, dump, read_bytes(dump)


@pytest.mark.parametrize("stage", list(CHILD_STAGES))
def test_save_child_killed_at_each_step_leaves_a_whole_file_err_and_misconf(start, tmp_path, stage):
    transcripts = {}
    for kind in ("forkv", "redis"):
        datadir = tmp_path / kind
        datadir.mkdir()
        server, r, dump, old = saved_once(start, kind, datadir)
        r.mset({f"k{i}": i for i in range(20)})
        at_fork = {b"old": b"1", **{b"k%d" % i: b"%d" % i for i in range(20)}}
        r.config_set("rdb-key-save-delay", 20000)  # 0.4 s of writing: time to attach
        tracer = None
        how = CHILD_STAGES[stage]
        if stage == "before-open":  # follow the server's fork: the child is caught at once
            tracer = inject_kill(server.proc.pid, *how[kind], follow=True)
            assert r.bgsave()
        else:
            assert r.bgsave()
            child = save_child(server, datadir)
            if how is None:
                os.kill(child, signal.SIGKILL)
            else:
                tracer = inject_kill(child, *how[kind])
        try:
            fields = wait_idle(r)
        finally:
            if tracer is not None:
                stop(tracer)
        log = server.log()
        assert fields["rdb_last_bgsave_status"] == "err", kind
        assert "Background saving terminated by signal 9" in log, kind
        assert temp_files(datadir) == [], kind
        if stage == "after-rename":  # the child died after its rename: the new file, whole
            assert file_contents(dump)[0][0] == at_fork, kind
        else:
            assert read_bytes(dump) == old, kind
        check_rdb(dump)
        out = session(server.port, ["PING"], ["SET", "x", "1"], ["GET", "k1"], ["INCR", "k2"])
        # A good save lifts MISCONF.
        r.config_set("rdb-key-save-delay", 0)
        assert r.bgsave()
        assert wait_idle(r)["rdb_last_bgsave_status"] == "ok", kind
        out += session(server.port, ["SET", "x", "1"])
        transcripts[kind] = texts(out)
    # Redis 7.0 refuses PING too under MISCONF; reads are served.
    assert transcripts["forkv"] == transcripts["redis"] == [MISCONF, MISCONF, b"1", MISCONF, b"OK"]


def test_save_child_killed_at_random_moments(start, tmp_path):
    """SIGKILL at moments spread over the whole life of a save (no delay, a data set that takes
    some tens of milliseconds to write): whatever the moment, dump.rdb is the old file or the
    complete new one, and the outcome shows in INFO and the replies."""
    rng = random.Random(1234)
    datadir = tmp_path / "data"
    datadir.mkdir()
    server = start("forkv", datadir, "--save", SAVE_POINTS)
    r = client(server)
    dump = os.path.join(datadir, "dump.rdb")
    for start_at in range(0, 20000, 5000):
        r.mset({f"k{i}": os.urandom(40) for i in range(start_at, start_at + 5000)})
    assert r.save()
    outcomes = []
    for gen in range(12):
        before = file_contents(dump)[0][0]
        r.set("gen", gen)
        expected = {**before, b"gen": b"%d" % gen}
        assert r.bgsave()
        kids = children(server.proc.pid)  # empty only if the save is already over
        time.sleep(rng.uniform(0, 0.03))  # the moment of the kill is the variable under test
        for child in kids:
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass
        fields = wait_idle(r)
        assert temp_files(datadir) == []
        now = file_contents(dump)[0][0]
        assert now in (before, expected), gen  # never a mixture, never a torn file
        if fields["rdb_last_bgsave_status"] == "ok":
            assert now == expected
            outcomes.append("finished")
        else:
            outcomes.append("killed, new file in place" if now == expected else "killed, old file")
            assert texts(session(server.port, ["SET", "y", "1"], ["PING"])) == [MISCONF, MISCONF]
            assert r.save()  # the next round starts from a known file; a good save lifts MISCONF
        assert r.ping() and r.get("gen") == b"%d" % gen
    assert "killed, old file" in outcomes, outcomes


# -- the filesystem fails ------------------------------------------------------------------------

BIG = 24  # values of 64 KiB of random bytes (incompressible): 1.5 MiB of data


def _fill(r) -> None:
    r.mset({f"big{i}": os.urandom(64 * 1024) for i in range(BIG)})


def _saved_small(start, kind, datadir, *args, fsize=0) -> tuple:
    """A server of `kind` with save points (and `args`) whose dump holds small=1, saved by SAVE:
    (server, client)."""
    server = start(kind, datadir, "--save", SAVE_POINTS, *args, fsize=fsize)
    r = client(server)
    r.set("small", "1")
    assert r.save()
    return server, r


def _logged_by_both(log: str, line: str, what) -> None:
    """`line` (a pattern) logged as Redis logs a failed save: by the server (SAVE's, role M) and by
    the save child (BGSAVE's, role C)."""
    for role in "MC":
        assert re.search(rf"{role} .* # {line}", log), (what, role)


def _write_error(reason: str) -> str:
    return r"Write error saving DB on disk\(rdbSaveRio\): " + reason


def _open_error(root: str, reason: str) -> str:
    return rf"Failed opening the temp RDB file temp-\d+\.rdb \(in server root dir {root}\) for saving: {reason}"


def _failing_saves(server, r, datadir) -> list:
    """SAVE and BGSAVE on a `dir` that cannot take the file, checked as Redis 7.0 behaves: SAVE
    replies -ERR and changes no status; BGSAVE sets rdb_last_bgsave_status:err and MISCONF; the
    old file stays, no temp file stays, reads are served. Returns the replies seen."""
    dump = os.path.join(datadir, "dump.rdb")
    old = read_bytes(dump) if os.path.exists(dump) else None
    fields = info(r)
    out = session(server.port, ["SAVE"], ["SET", "after-save", "1"])
    after_save = info(r)
    assert after_save["rdb_last_bgsave_status"] == "ok"  # a failed SAVE is not a failed BGSAVE
    assert after_save["rdb_last_save_time"] == fields["rdb_last_save_time"]
    assert after_save["rdb_saves"] == fields["rdb_saves"] + 1
    assert r.bgsave()
    failed = wait_idle(r)
    assert failed["rdb_last_bgsave_status"] == "err"
    assert failed["rdb_changes_since_last_save"] == fields["rdb_changes_since_last_save"] + 1
    assert failed["rdb_last_save_time"] == fields["rdb_last_save_time"]
    out += session(server.port, ["SET", "x", "1"], ["GET", "after-save"], ["DBSIZE"], ["LASTSAVE"])
    out[-1] = out[-1] == fields["rdb_last_save_time"]
    assert (read_bytes(dump) if os.path.exists(dump) else None) == old
    assert not os.path.isdir(datadir) or temp_files(datadir) == []
    return out


def _recovered(server, r, datadir, expected_keys: int) -> list:
    """Once the filesystem takes the file again: a good BGSAVE lifts MISCONF and the file has
    everything."""
    assert r.bgsave()
    assert wait_idle(r)["rdb_last_bgsave_status"] == "ok"
    out = session(server.port, ["SET", "x", "1"])
    dump = os.path.join(datadir, "dump.rdb")
    assert len(file_contents(dump)[0][0]) == expected_keys
    check_rdb(dump)
    return out


FAILED_SAVES = [("error", "ERR"), b"OK", MISCONF, b"1", 2 + BIG, True]


def test_full_disk_fails_the_save_and_keeps_the_old_file(start, mount_tmpfs):
    transcripts, logs = {}, {}
    for kind in ("forkv", "redis"):
        datadir = mount_tmpfs("1m")
        server, r = _saved_small(start, kind, datadir)
        _fill(r)
        out = _failing_saves(server, r, datadir)
        assert shutil.disk_usage(datadir).used < 64 * 1024, kind  # the partial temp files are gone
        remount(datadir, "size=8m")
        out += _recovered(server, r, datadir, 2 + BIG)
        transcripts[kind], logs[kind] = texts(out), server.log()
    assert transcripts["forkv"] == transcripts["redis"] == FAILED_SAVES + [b"OK"]
    for kind, log in logs.items():
        _logged_by_both(log, _write_error("No space left on device"), kind)
        assert "Background saving error" in log, kind


def test_file_size_rlimit_fails_the_save_and_keeps_the_old_file(start, tmp_path):
    # RLIMIT_FSIZE: a write past the limit fails with EFBIG (Python ignores SIGXFSZ). Redis dies
    # of SIGXFSZ instead: its SAVE would take the server down, and its child ends by signal 25;
    # only forkv runs the whole sequence, Redis the background save.
    datadir = tmp_path / "forkv"
    datadir.mkdir()
    server, r = _saved_small(start, "forkv", datadir, fsize=256 * 1024)
    _fill(r)
    out = _failing_saves(server, r, datadir)
    assert texts(out) == FAILED_SAVES
    log = server.log()
    _logged_by_both(log, _write_error("File too large"), "forkv")
    assert "Background saving error" in log
    r.config_set("save", "")  # no save points, no MISCONF: drop the big values
    r.delete(*[f"big{i}" for i in range(BIG)])
    r.config_set("save", SAVE_POINTS)  # MISCONF again until a save succeeds
    assert texts(session(server.port, ["SET", "x", "1"])) == [MISCONF]
    assert texts(_recovered(server, r, datadir, 2)) == [b"OK"]

    datadir = tmp_path / "redis"
    datadir.mkdir()
    server, r = _saved_small(start, "redis", datadir, fsize=256 * 1024)
    old = read_bytes(os.path.join(datadir, "dump.rdb"))
    _fill(r)
    assert r.bgsave()
    assert wait_idle(r)["rdb_last_bgsave_status"] == "err"
    assert "Background saving terminated by signal 25" in server.log()
    assert read_bytes(os.path.join(datadir, "dump.rdb")) == old and temp_files(datadir) == []
    assert texts(session(server.port, ["SET", "x", "1"], ["GET", "small"])) == [MISCONF, b"1"]


def test_read_only_dir_fails_the_save_and_keeps_the_old_file(start, mount_tmpfs):
    # chmod does not stop root: the filesystem itself is remounted read-only (EROFS).
    transcripts, logs = {}, {}
    for kind in ("forkv", "redis"):
        datadir = mount_tmpfs("8m")
        server, r = _saved_small(start, kind, datadir)
        _fill(r)
        remount(datadir, "ro")
        out = _failing_saves(server, r, datadir)
        remount(datadir, "rw")
        out += _recovered(server, r, datadir, 2 + BIG)
        transcripts[kind], logs[kind] = texts(out), server.log()
    assert transcripts["forkv"] == transcripts["redis"] == FAILED_SAVES + [b"OK"]
    for kind, log in logs.items():
        _logged_by_both(log, _open_error(r"/\S+", "Read-only file system"), kind)


def test_deleted_dir_fails_the_save_until_there_is_a_dir_again(start, tmp_path):
    transcripts, logs = {}, {}
    for kind in ("forkv", "redis"):
        datadir = tmp_path / kind
        datadir.mkdir()
        server, r = _saved_small(start, kind, datadir, "--enable-protected-configs", "yes")
        _fill(r)
        shutil.rmtree(datadir)
        out = _failing_saves(server, r, datadir)
        # Redis's `dir` is its working directory, now a deleted inode: it fails on (logging the
        # root dir as "unknown") until CONFIG SET dir names the new directory. forkv saves by
        # absolute path and uses the new directory at once. CONFIG SET dir works for both.
        datadir.mkdir()
        assert r.bgsave()
        assert wait_idle(r)["rdb_last_bgsave_status"] == ("ok" if kind == "forkv" else "err"), kind
        assert r.config_set("dir", str(datadir))
        out += _recovered(server, r, datadir, 2 + BIG)
        transcripts[kind], logs[kind] = texts(out), server.log()
    assert transcripts["forkv"] == transcripts["redis"] == FAILED_SAVES + [b"OK"]
    for kind, log in logs.items():
        _logged_by_both(log, _open_error(r"\S+", "No such file or directory"), kind)


# -- the server killed ------------------------------------------------------------------------------

def _kill_server(server) -> None:
    """SIGKILL the server process alone (not its group): what it forked must go by itself."""
    os.kill(server.proc.pid, signal.SIGKILL)
    server.proc.wait(10)


@pytest.mark.parametrize("how", ["SAVE", "BGSAVE"])
def test_server_killed_in_the_middle_of_a_save_restarts_on_the_old_file(start, tmp_path, how):
    datadir = tmp_path / "data"
    datadir.mkdir()
    server = start("forkv", datadir, "--save", SAVE_POINTS)
    r = client(server)
    r.mset({"a": "1", "b": "2"})
    assert r.save()
    dump = os.path.join(datadir, "dump.rdb")
    old = read_bytes(dump)
    saved = walk(server.port)
    r.mset({f"k{i}": i for i in range(50)})
    r.config_set("rdb-key-save-delay", 20000)  # a second of writing
    if how == "SAVE":  # the server itself writes temp-<its pid>.rdb, blocked in the command
        conn = socket.create_connection(("127.0.0.1", server.port))
        conn.sendall(command_bytes("SAVE"))
        writer = server.proc.pid
        wait_for(lambda: os.path.exists(os.path.join(datadir, f"temp-{writer}.rdb")),
                 what="SAVE's temp file")
    else:
        assert r.bgsave()
        writer = save_child(server, datadir)
    _kill_server(server)
    if how == "SAVE":
        conn.close()
    # The save child dies with the server (PR_SET_PDEATHSIG): no orphan renames its snapshot
    # later over a newer one.
    wait_for(lambda: not alive(writer), 5, what="the writer to die with the server")
    assert read_bytes(dump) == old
    assert temp_files(datadir) == [f"temp-{writer}.rdb"]  # killed with no chance to clean up
    check_rdb(dump)

    data, temps, again = loaded_after_restart(start, "forkv", datadir, "--save", SAVE_POINTS)
    assert data == saved
    assert temps == []
    assert f"Removed temp-{writer}.rdb, left by a save that was cut short" in again.log()
    r = client(again)
    assert info(r)["rdb_last_bgsave_status"] == "ok" and r.set("c", "3")


def test_stale_temp_files_go_at_start_but_not_a_live_savers(start, tmp_path):
    """temp-<pid>.rdb of a process that is gone is removed; one that the live process of that
    pid has open is another server's save in progress in a shared directory, and stays; a name
    that is not temp-<pid>.rdb is not forkv's to remove."""
    datadir = tmp_path / "data"
    datadir.mkdir()
    gone = subprocess.Popen(["true"])
    gone.wait()
    growing = datadir / "growing"
    growing.write_bytes(b"REDIS0010")
    fd = os.open(growing, os.O_RDONLY)
    holder = subprocess.Popen(["sleep", "60"], pass_fds=(fd,))  # has the file open, as a saver
    os.close(fd)
    try:
        live = datadir / f"temp-{holder.pid}.rdb"
        growing.rename(live)
        (datadir / f"temp-{gone.pid}.rdb").write_bytes(b"partial")
        (datadir / "temp-notapid.rdb").write_bytes(b"not ours")
        server = start("forkv", datadir)
        assert temp_files(datadir) == sorted([live.name, "temp-notapid.rdb"])
        assert f"Removed temp-{gone.pid}.rdb" in server.log()
    finally:
        holder.kill()
        holder.wait()


class Load:
    """A deterministic write load on one connection: step i sets k<i mod SLOTS> to v<i> and
    `step` to i; every SAVE_EVERY steps it asks for a SAVE or a BGSAVE (alternately) and, just
    before, reads INFO to learn whether the last background save finished. A save therefore
    always holds state(s) for a step s where it was asked, and nothing else."""

    SLOTS = 300
    BATCH = 50
    SAVE_EVERY = 150

    def __init__(self, port: int, step: int):
        self.port = port
        self.step = step  # the state the server holds at the start
        self.started = []  # steps at which a save was started (replied or not)
        self.confirmed = step  # the newest step a save is known to have written completely
        self._bgsave_at = None
        self._kind = 0

    @classmethod
    def state(cls, s: int) -> dict:
        data = {b"k%d" % (i % cls.SLOTS): b"v%d" % i for i in range(max(1, s - cls.SLOTS + 1), s + 1)}
        if s:
            data[b"step"] = b"%d" % s
        return data

    def run(self) -> None:
        """Until the server dies under it."""
        reader = hiredis.Reader()
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as conn:
            while True:
                commands, last, save = [], self.step, None
                for _ in range(self.BATCH):
                    last += 1
                    commands += [["SET", f"k{last % self.SLOTS}", f"v{last}"], ["SET", "step", last]]
                    if last % self.SAVE_EVERY == 0:
                        self._kind ^= 1
                        save = (len(commands), last, "BGSAVE" if self._kind else "SAVE")
                        commands += [["INFO", "persistence"], [save[2]]]
                        break
                try:
                    conn.sendall(b"".join(command_bytes(*c) for c in commands))
                except OSError:
                    return
                if save is not None:  # asked for, so possibly written, whether it replies or not
                    self.started.append(last)
                replies = []
                while len(replies) < len(commands):
                    try:
                        chunk = conn.recv(1 << 16)
                    except OSError:
                        chunk = b""
                    if not chunk:
                        return
                    reader.feed(chunk)
                    while (reply := reader.gets()) is not False:
                        replies.append(reply)
                self.step = last
                if save is not None:
                    at, step, kind = save
                    self._saved(replies[at], replies[at + 1], step, kind)

    def _saved(self, info_text, reply, step: int, kind: str) -> None:
        fields = dict(line.split(":", 1) for line in info_text.decode().split("\r\n") if ":" in line)
        if (self._bgsave_at is not None and fields["rdb_bgsave_in_progress"] == "0"
                and fields["rdb_last_bgsave_status"] == "ok"):
            self.confirmed = max(self.confirmed, self._bgsave_at)  # the last BGSAVE finished
            self._bgsave_at = None
        if kind == "SAVE" and reply == b"OK":
            self.confirmed = step
        elif kind == "BGSAVE" and reply == b"Background saving started":
            self._bgsave_at = step


def test_sigkill_under_write_load_restarts_on_the_last_good_save_exactly(start, tmp_path):
    rng = random.Random(7)
    datadir = tmp_path / "data"
    datadir.mkdir()
    args = ("--save", "", "--rdb-key-save-delay", "100")  # saves take a while: kills land in them
    seen: list = []
    load = None
    for round_ in range(5):
        server = start("forkv", datadir, *args)
        assert temp_files(datadir) == [], round_
        data = walk(server.port).get(0, ({}, {}))[0]
        s = int(data.get(b"step", b"0"))
        assert data == Load.state(s), round_  # exactly one save's state: no mixture, no torn file
        seen.append(s)
        if round_:
            # The newest save that certainly completed, or a later one that was in flight.
            assert s in [load.confirmed] + [x for x in load.started if x > load.confirmed], \
                (round_, s, load.confirmed, load.started)
        if round_ == 4:
            break
        load = Load(server.port, s)
        worker = threading.Thread(target=load.run)
        worker.start()
        time.sleep(rng.uniform(0.3, 0.8))  # the moment of the kill is the variable under test
        pgid = server.proc.pid
        _kill_server(server)
        worker.join(10)
        assert not worker.is_alive()
        wait_for(lambda: not group_alive(pgid), 5, what="the save child to die with the server")
        assert load.step > s, "the load made no progress"
    assert seen[-1] > 0


# -- a step of SAVE fails -----------------------------------------------------------------------

# step: (the syscall each kind makes there, which occurrence, Redis's log line)
SAVE_STEPS = {
    "file-fsync": ({"forkv": ("fsync", 1), "redis": ("fsync", 1)},
                   r"Write error saving DB on disk\(fsync\): Input/output error"),
    "rename": ({"forkv": ("rename", 1), "redis": ("rename", 1)},
               r"Error moving temp DB file temp-{pid}\.rdb on the final destination dump\.rdb "
               r"\(in server root dir /\S+\): Input/output error"),
    "dir-fsync": ({"forkv": ("fsync", 2), "redis": ("fdatasync", 1)},
                  r"Write error saving DB on disk\(fsyncFileDir\): Input/output error"),
}


def inject_error(pid: int, syscall: str, when: int) -> subprocess.Popen:
    """strace attached to `pid` that makes its `when`-th `syscall` fail with EIO."""
    if STRACE is None:
        pytest.skip("needs strace to make a syscall fail")
    proc = subprocess.Popen([STRACE, "-qq", "-o", "/dev/null", "-e", f"trace={syscall}",
                             "-e", f"inject={syscall}:error=EIO:when={when}", "-p", str(pid)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for(lambda: traced(pid) or proc.poll() is not None, 10, what="strace to attach")
    if proc.poll() is not None:
        pytest.skip(f"strace cannot attach here: {proc.stderr.read().decode().strip()}")
    return proc


@pytest.mark.parametrize("step", list(SAVE_STEPS))
def test_save_failing_at_a_step_logs_redis_line_and_removes_its_temp_file(start, tmp_path, step):
    calls, line = SAVE_STEPS[step]
    replies = {}
    for kind in ("forkv", "redis"):
        datadir = tmp_path / kind
        datadir.mkdir()
        server, r, dump, old = saved_once(start, kind, datadir)
        r.set("new", "2")
        tracer = inject_error(server.proc.pid, *calls[kind])
        try:
            replies[kind] = texts(session(server.port, ["SAVE"], ["SET", "x", "1"]))
        finally:
            stop(tracer)
        pid = server.proc.pid
        assert re.search(rf"{pid}:M .* # " + line.format(pid=pid), server.log()), kind
        assert temp_files(datadir) == [], kind
        if step == "dir-fsync":  # the rename was done: the new file is in place, as in Redis
            assert file_contents(dump)[0][0] == {b"old": b"1", b"new": b"2"}, kind
        else:
            assert read_bytes(dump) == old, kind
        fields = info(r)
        assert fields["rdb_last_bgsave_status"] == "ok" and fields["rdb_changes_since_last_save"] == 2
    assert replies["forkv"] == replies["redis"] == [("error", "ERR"), b"OK"]


def test_no_misconf_when_stop_writes_on_bgsave_error_is_off(start, tmp_path):
    transcripts = {}
    for kind in ("forkv", "redis"):
        datadir = tmp_path / kind
        datadir.mkdir()
        server = start(kind, datadir, "--save", SAVE_POINTS, "--stop-writes-on-bgsave-error", "no",
                       "--rdb-key-save-delay", "100000")
        r = client(server)
        r.mset({f"k{i}": i for i in range(10)})
        assert r.bgsave()
        os.kill(save_child(server, datadir), signal.SIGKILL)
        assert wait_idle(r)["rdb_last_bgsave_status"] == "err", kind
        transcripts[kind] = texts(session(
            server.port, ["SET", "a", "1"], ["CONFIG", "SET", "stop-writes-on-bgsave-error", "yes"],
            ["SET", "b", "1"], ["CONFIG", "SET", "stop-writes-on-bgsave-error", "no"], ["SET", "c", "1"]))
    assert transcripts["forkv"] == transcripts["redis"] == [b"OK", b"OK", MISCONF, b"OK", b"OK"]
