"""Snapshot orchestration: the atomic file write, the forked save child, and reaping it.

Nothing here knows the server: callers hand in the databases as (index, data, expires) triples,
a log function and hooks. Files go temp -> flush -> fsync -> rename -> fsync dir. The child never
touches the event loop: it writes, reports through a pipe, and leaves with os._exit.

Child -> parent report lines on the pipe (ASCII, one per line):
    P <keys done> <cow bytes>      progress, at most every PROGRESS_INTERVAL seconds
    D <keys> <cow bytes>           done, written and renamed into place
"""

import errno
import gc
import os
import signal
import time

from persistence import rdb

PROGRESS_INTERVAL = 1.0  # seconds between copy-on-write samples (each read of smaps_rollup
                         # costs milliseconds on a large process)


def private_dirty_bytes() -> int:
    """Memory this process has copied since fork (Private_Dirty of smaps_rollup), as Redis's
    zmalloc_get_private_dirty reports it."""
    try:
        with open("/proc/self/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Private_Dirty:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def temp_path(directory: str, pid: int) -> str:
    return os.path.join(directory, f"temp-{pid}.rdb")


def fsync_dir(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_atomic(directory: str, filename: str, dbs, *, compression: bool = True,
                checksum: bool = True, aux=None, progress=None, progress_every: int = 1024,
                use_c: bool = True, pid: int = None) -> int:
    """Write the snapshot to temp-<pid>.rdb in `directory`, fsync it, rename it over `filename`,
    fsync the directory. Returns the number of keys written. On any failure the temp file is
    removed, the old file is untouched, and OSError (or the writer's error) propagates."""
    tmp = temp_path(directory, os.getpid() if pid is None else pid)
    try:
        with open(tmp, "wb") as f:
            keys = rdb.write_rdb(f, dbs, compression=compression, checksum=checksum, aux=aux,
                                 progress=progress, progress_every=progress_every, use_c=use_c)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(directory, filename))
        fsync_dir(directory)
        return keys
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class SaveChild:
    """A background save in progress, seen from the parent."""

    def __init__(self, pid: int, read_fd: int, started: float, keys_total: int):
        self.pid = pid
        self.read_fd = read_fd
        self.started = started  # time.time() at fork
        self.keys_total = keys_total
        self.keys_done = 0
        self.cow = 0
        self.cow_peak = 0
        self.cow_updated = started
        self.finished_ok = False
        self._buffer = b""
        self.status = None  # the raw waitpid status once reaped
        self.fork_usec = 0  # how long os.fork() took (Redis's latest_fork_usec)

    def read_reports(self) -> None:
        """Take whatever the child has reported so far (non-blocking)."""
        while True:
            try:
                chunk = os.read(self.read_fd, 4096)
            except BlockingIOError:
                break
            except OSError:
                break
            if not chunk:
                break
            self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            parts = line.split()
            if len(parts) != 3:
                continue
            kind, keys, cow = parts[0], int(parts[1]), int(parts[2])
            self.keys_done = keys
            self.cow = cow
            self.cow_peak = max(self.cow_peak, cow)
            self.cow_updated = time.time()
            if kind == b"D":
                self.finished_ok = True

    def reap(self) -> bool:
        """waitpid(WNOHANG) on this child only; True once it has ended."""
        if self.status is not None:
            return True
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            status = 0 if self.finished_ok else 1 << 8
            pid = self.pid
        if pid == 0:
            return False
        self.status = status
        return True

    def close(self) -> None:
        if self.read_fd >= 0:
            os.close(self.read_fd)
            self.read_fd = -1
            gc.unfreeze()

    def kill(self, sig=signal.SIGUSR1) -> None:
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            pass


def fork_save(directory: str, filename: str, dbs, *, compression: bool, checksum: bool, aux,
              log, in_child=None, key_save_delay_us: int = 0) -> SaveChild:
    """Fork a child that writes the snapshot. Returns the SaveChild in the parent; raises OSError
    if fork fails. `dbs` is read in the child only (it holds the fork-time state of the data).
    `in_child()` runs first in the child (close listeners, set the log role...)."""
    keys_total = sum(len(data) for _, data, _ in dbs)
    read_fd, write_fd = os.pipe()
    started = time.time()
    # Objects that exist now are frozen out of the parent's garbage collector while the child
    # lives: a collection walks (and writes to) every tracked object's header, which would copy
    # the whole heap. The parent unfreezes when it reaps the child.
    gc.freeze()
    before = time.perf_counter()
    try:
        pid = os.fork()
    except OSError:
        gc.unfreeze()
        os.close(read_fd)
        os.close(write_fd)
        raise
    fork_usec = int((time.perf_counter() - before) * 1_000_000)
    if pid == 0:  # the child: never returns
        code = 1
        try:
            os.close(read_fd)
            _child(directory, filename, dbs, compression, checksum, aux, log, in_child,
                   key_save_delay_us, write_fd)
            code = 0
        except _Reported:
            pass
        except BaseException as exc:  # noqa: BLE001 - say why, never unwind into the parent's code
            try:
                log(f"Write error saving DB on disk: {exc!r}")
            except BaseException:  # noqa: BLE001
                pass
        finally:
            os._exit(code)
    os.close(write_fd)
    os.set_blocking(read_fd, False)
    child = SaveChild(pid, read_fd, started, keys_total)
    child.fork_usec = fork_usec
    return child


def _child(directory, filename, dbs, compression, checksum, aux, log, in_child, delay_us, out_fd):
    gc.disable()  # the collector would write to every tracked object's header: copies pages
    signal.set_wakeup_fd(-1)  # the parent's loop owns that fd
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGUSR1, signal.SIG_DFL)
    if in_child is not None:
        in_child()
    last = [time.monotonic()]

    def report(kind: str, keys: int) -> int:
        cow = private_dirty_bytes()
        try:
            os.write(out_fd, f"{kind} {keys} {cow}\n".encode())
        except OSError:
            pass
        return cow

    def progress(keys: int) -> None:
        if delay_us:
            time.sleep(delay_us / 1_000_000)
        now = time.monotonic()
        if now - last[0] >= PROGRESS_INTERVAL:
            last[0] = now
            report("P", keys)

    try:
        keys = save_atomic(directory, filename, dbs, compression=compression, checksum=checksum,
                           aux=aux, progress=progress, progress_every=1 if delay_us else 1024)
    except OSError as exc:
        log(f"Write error saving DB on disk: {exc.strerror or exc}")
        raise _Reported() from exc
    cow = report("D", keys)
    log("DB saved on disk")
    if cow:
        log(f"Fork CoW for RDB: current {cow // (1024 * 1024)} MB, peak {cow // (1024 * 1024)} MB, "
            f"average {cow // (1024 * 1024)} MB")


class _Reported(Exception):
    """The child already logged why it failed."""


def describe_status(status: int):
    """(ok, exit code, signal) from a waitpid status."""
    if os.WIFSIGNALED(status):
        return False, None, os.WTERMSIG(status)
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1
    return code == 0, code, None


def remove_temp(directory: str, pid: int) -> None:
    try:
        os.unlink(temp_path(directory, pid))
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise
