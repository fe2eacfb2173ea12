"""Snapshot orchestration: the atomic file write, the forked save child, and reaping it.

Nothing here knows the server: callers hand in the databases as (index, data, expires) triples,
a log function and hooks. Files go temp -> flush -> fsync -> rename -> fsync dir; a failure at any
step removes the temp file and raises SaveError with the line Redis logs for that step. The child
never touches the event loop: it writes, reports through a pipe, and leaves with os._exit; it dies
with the server (PR_SET_PDEATHSIG). What a killed process could not clean up (its temp file) is
removed at the next start (remove_stale_temps).

Child -> parent report lines on the pipe (ASCII, one per line):
    P <keys done> <cow bytes>      progress, at most every PROGRESS_INTERVAL seconds
    D <keys> <cow bytes>           done, written and renamed into place
"""

import ctypes
import gc
import os
import re
import signal
import time
from typing import Any

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


TEMP_NAME = re.compile(r"temp-(\d+)\.rdb")


def temp_name(pid: int) -> str:
    """Redis's temp file name: the saving process's pid (the child's for a background save)."""
    return f"temp-{pid}.rdb"


def temp_path(directory: str, pid: int) -> str:
    return os.path.join(directory, temp_name(pid))


def fsync_dir(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SaveError(Exception):
    """A save that failed; `line` is what Redis 7.0's rdbSave logs for the same failure."""

    def __init__(self, line: str):
        super().__init__(line)
        self.line = line


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.errno:
        return os.strerror(exc.errno)  # C's strerror text, as Redis prints it
    return str(exc) or type(exc).__name__


def _write_error(op: str, exc: BaseException) -> SaveError:
    return SaveError(f"Write error saving DB on disk({op}): {_why(exc)}")


def save_atomic(directory: str, filename: str, dbs, *, compression: bool = True,
                checksum: bool = True, aux=None, progress=None, progress_every: int = 1024,
                use_c: bool = True, pid: int | None = None, layouts: dict | None = None,
                functions=(), access=None) -> int:
    """Write the snapshot (`functions`: the function libraries' codes) to temp-<pid>.rdb in
    `directory`, fsync it, rename it over `filename`, fsync the directory. Returns the number
    of keys written. On any failure the temp file is removed, the old file is untouched (unless
    only the directory's fsync failed: the new file is then in place, as in Redis), and
    SaveError says which step failed."""
    name = temp_name(os.getpid() if pid is None else pid)
    tmp = os.path.join(directory, name)
    try:
        f = open(tmp, "wb")
    except OSError as exc:
        raise SaveError(f"Failed opening the temp RDB file {name} (in server root dir {directory}) "
                        f"for saving: {_why(exc)}") from exc
    try:
        try:
            step = "rdbSaveRio"
            keys = rdb.write_rdb(f, dbs, compression=compression, checksum=checksum, aux=aux,
                                 progress=progress, progress_every=progress_every, use_c=use_c,
                                 layouts=layouts, functions=functions, access=access)
            step = "fflush"
            f.flush()
            step = "fsync"
            os.fsync(f.fileno())
            step = "fclose"
            f.close()
        except Exception as exc:  # noqa: BLE001 - an unsupported value fails the save, as a write error
            raise _write_error(step, exc) from exc
        finally:
            if not f.closed:
                try:
                    f.close()
                except OSError:
                    pass  # the write already failed; its error is the one to report
        try:
            os.rename(tmp, os.path.join(directory, filename))
        except OSError as exc:
            raise SaveError(f"Error moving temp DB file {name} on the final destination {filename} "
                            f"(in server root dir {directory}): {_why(exc)}") from exc
        try:
            fsync_dir(directory)
        except OSError as exc:
            raise _write_error("fsyncFileDir", exc) from exc
        return keys
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class SaveChild:
    """A background save in progress, seen from the parent."""

    def __init__(self, pid: int, read_fd: int, started: float, keys_total: int, directory: str = ""):
        self.pid = pid
        self.directory = directory  # where its temp file is, whatever `dir` becomes meanwhile
        self.read_fd = read_fd
        self.started = started  # time.time() at fork
        self.keys_total = keys_total
        self.keys_done = 0
        self.cow = 0
        self.cow_peak = 0
        self.cow_updated = started
        self.finished_ok = False
        self._buffer = b""
        self.status: int | None = None  # the raw waitpid status once reaped
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
              log, in_child=None, key_save_delay_us: int = 0, layouts: dict | None = None,
              functions=(), access=None) -> SaveChild:
    """Fork a child that writes the snapshot. Returns the SaveChild in the parent; raises OSError
    if fork fails. `dbs` is read in the child only (it holds the fork-time state of the data).
    `log(level, message)` is the server's logger; `in_child()` runs first in the child (close
    listeners, set the log role...)."""
    keys_total = sum(len(data) for _, data, _ in dbs)
    read_fd, write_fd = os.pipe()
    started = time.time()
    parent = os.getpid()
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
            _die_with(parent)
            os.close(read_fd)
            _child(directory, filename, dbs, compression, checksum, aux, log, in_child,
                   key_save_delay_us, write_fd, layouts, functions, access)
            code = 0
        except BaseException as exc:  # noqa: BLE001 - say why, never unwind into the parent's code
            try:
                log("warning", exc.line if isinstance(exc, SaveError)
                    else f"Write error saving DB on disk: {exc!r}")
            except BaseException:  # noqa: BLE001
                pass
        finally:
            os._exit(code)
    os.close(write_fd)
    os.set_blocking(read_fd, False)
    child = SaveChild(pid, read_fd, started, keys_total, directory)
    child.fork_usec = fork_usec
    return child


PR_SET_PDEATHSIG = 1
try:
    _prctl: Any = ctypes.CDLL(None, use_errno=True).prctl  # looked up before any fork
except (OSError, AttributeError):
    _prctl = None


def _die_with(parent: int) -> None:
    """The child is killed when the server dies (SIGKILL included). An orphan that went on
    saving would rename its snapshot, older than what a restarted server may have saved by
    then, over dump.rdb. Its temp file is left behind; the next start removes it."""
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, ctypes.c_ulong(signal.SIGKILL), ctypes.c_ulong(0),
               ctypes.c_ulong(0), ctypes.c_ulong(0))
    if os.getppid() != parent:  # the server died before the death signal was armed
        os._exit(1)


def _child(directory, filename, dbs, compression, checksum, aux, log, in_child, delay_us, out_fd,
           layouts=None, functions=(), access=None):
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

    keys = save_atomic(directory, filename, dbs, compression=compression, checksum=checksum,
                       aux=aux, progress=progress, progress_every=1 if delay_us else 1024,
                       layouts=layouts, functions=functions, access=access)
    cow = report("D", keys)
    log("notice", "DB saved on disk")
    if cow:
        log("notice", f"Fork CoW for RDB: current {cow // (1024 * 1024)} MB, peak "
            f"{cow // (1024 * 1024)} MB, average {cow // (1024 * 1024)} MB")


def describe_status(status: int):
    """(ok, exit code, signal) from a waitpid status."""
    if os.WIFSIGNALED(status):
        return False, None, os.WTERMSIG(status)
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1
    return code == 0, code, None


def remove_temp(directory: str, pid: int) -> None:
    """Remove a save's temp file if it is there. Never raises: a failed save must still be
    recorded as failed (a read-only or deleted directory fails the unlink too)."""
    try:
        os.unlink(temp_path(directory, pid))
    except OSError:
        pass


def remove_stale_temps(directory: str) -> list:
    """At startup: remove the temp-<pid>.rdb files that saves cut short left behind (a server
    or save child killed by SIGKILL cannot clean up). A file that the process named by its pid
    still has open is another live server's save in progress in a shared directory: kept.
    Returns [(name, error or None)]. Redis 7.0 leaves such files for ever."""
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    me = os.getpid()
    out: list[tuple[str, str | None]] = []
    for name in sorted(names):
        m = TEMP_NAME.fullmatch(name)
        if m is None:
            continue
        path = os.path.join(directory, name)
        pid = int(m.group(1))
        if pid != me and _has_open(pid, path):
            continue
        try:
            os.unlink(path)
            out.append((name, None))
        except FileNotFoundError:
            pass
        except OSError as exc:
            out.append((name, _why(exc)))
    return out


def _has_open(pid: int, path: str) -> bool:
    """Whether process `pid` has `path` open (False when there is no such process)."""
    fds = f"/proc/{pid}/fd"
    try:
        entries = os.listdir(fds)
    except FileNotFoundError:
        return False
    except OSError:
        return True  # someone else's process we may not look into: leave its file alone
    target = os.path.realpath(path)
    for fd in entries:
        try:
            if os.readlink(os.path.join(fds, fd)) == target:
                return True
        except OSError:
            continue
    return False
