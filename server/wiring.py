"""Connects `persistence/` to the server: load at startup, SAVE/BGSAVE, save points, the SIGCHLD
handler, MISCONF, the final save at shutdown and the INFO persistence fields.

The SIGCHLD handler is installed with `signal.signal` (uvloop refuses SIGCHLD in
add_signal_handler) and stays minimal: it reaps forkv's own save child with waitpid(pid, WNOHANG),
never waitpid(-1), and schedules the bookkeeping on the loop. The cron checks the child too, as
Redis's checkChildrenDone does, in case a signal was missed.
"""

import os
import signal
import time

from persistence import rdb, snapshot
from server import functions, log, values
from server.errors import CommandError
from server.info import rss_bytes
from server.types import streams

BGSAVE_RETRY_DELAY = 5  # seconds before a failed background save is retried (Redis's value)
MERGE_SLICE = 100  # overlay changes applied per loop iteration after a save: each may take a
# page fault (the first write to a page the child shared), so about 0.1-0.3 ms a slice


class Persistence:
    """Built by the Server itself (server/app.py): every server has one, so nothing checks for
    its absence."""

    def __init__(self, server):
        self.server = server
        self.child = None  # snapshot.SaveChild while a background save runs
        self.merging = False  # the keyspace overlay of the last save is being merged
        self.dirty_at_fork = 0
        self.last_bgsave_ok = True
        self.last_bgsave_time_sec = -1
        self.last_bgsave_try = 0.0
        self.bgsave_scheduled = False
        self.saves = 0
        self.last_cow = 0
        self.loaded_keys = 0
        self.expired_on_load = 0

    # -- configuration ---------------------------------------------------------------------------

    @property
    def config(self):
        return self.server.config

    def save_points(self) -> list:
        return self.config["save"]

    def update_misconf(self) -> None:
        """Redis's writeCommandsDeniedByDiskError: refuse writes after a failed background save
        while save points exist and stop-writes-on-bgsave-error is on."""
        self.server.refuse_writes = bool(
            self.config["stop-writes-on-bgsave-error"] and self.save_points() and not self.last_bgsave_ok)

    def config_changed(self, names) -> None:
        self.update_misconf()

    # -- startup ---------------------------------------------------------------------------------

    def load_at_startup(self) -> bool:
        """Remove the temp files of saves cut short, then load dir/dbfilename if it exists. False
        (after logging why) if the file is bad: the server must not start; nothing of a bad file
        is kept, and the file is left as it is."""
        for name, error in snapshot.remove_stale_temps(self.config["dir"]):
            if error is None:
                log.notice(f"Removed {name}, left by a save that was cut short")
            else:
                log.warning(f"Can't remove {name}, left by a save that was cut short: {error}")
        path = os.path.join(self.config["dir"], self.config["dbfilename"])
        if not os.path.exists(path):
            return True
        read = self._read(path)
        if read is None:
            return False
        staged, codes = read
        if not self._load_functions(codes, flush=True, replace=False):
            return False
        ks = self.server.keyspace
        for db, (data, expires, fields) in zip(ks.dbs, staged):
            db.data, db.expires, db.lru = data, expires, fields
        return True

    def _load_functions(self, codes: list, flush: bool, replace: bool) -> bool:
        """Create the function libraries of a file (after dropping the current ones with `flush`,
        as Redis's emptyData); False, after logging why, if one fails (Redis aborts the load)."""
        if not codes:
            registry = functions.peek(self.server)  # none made for a server without functions
            if flush and registry is not None:
                registry.flush()
            return True
        registry = functions.registry_for(self.server)
        if flush:
            registry.flush()
        for code in codes:
            try:
                registry.create(code, replace)
            except CommandError as exc:
                log.warning(f"Failed loading library, {exc.message.removeprefix('ERR ')}")
                return False
        return True

    def reload(self, path: str, flush: bool, merge: bool) -> bool:
        """DEBUG RELOAD: read `path` into the databases, after emptying them (`flush`) or over
        them (keys in the file win with `merge`; a key in both is an error without it)."""
        read = self._read(path) if os.path.exists(path) else (
            [({}, {}, {}) for _ in self.server.keyspace.dbs], [])
        if read is None:
            return False
        staged, codes = read
        ks = self.server.keyspace
        if flush:
            ks.flushall()
        if not self._load_functions(codes, flush, merge):
            return False
        for db, (data, expires, fields) in zip(ks.dbs, staged):
            db.settle()
            if not merge and any(k in db.data for k in data):
                log.warning("DEBUG RELOAD NOFLUSH: a key of the file is already in the database")
                return False
            for k in data:
                db.expires.pop(k, None)
            db.data.update(data)
            db.expires.update(expires)
            db.lru.update(fields)
            db.scans.clear()
        return True

    def _read(self, path: str):
        """The databases' (data, expires, access fields) staged from the RDB file at `path` and
        the codes of its function libraries, or None (after logging why) if it is bad. A key gets
        a fresh access field unless its IDLE or FREQ opcode applies under the policy (Redis's
        objectSetLRUOrLFU)."""
        started = time.monotonic()
        ks = self.server.keyspace
        ks.tick()
        # (data, expires, raw IDLE seconds or FREQ counters: whichever the policy applies)
        staged = [({}, {}, {}) for _ in ks.dbs]
        codes = []
        lfu = ks.lfu
        keep = rdb.ACCESS_FREQ if lfu else rdb.ACCESS_IDLE
        now = ks.clock()
        loaded = expired = 0
        try:
            with open(path, "rb") as f:
                # Plain string records may be staged by the reader's C kernel (same rules as
                # below, Strings events carry its counts); the rest arrive here as Records.
                for event in rdb.read_rdb(f, stage=staged, now=now, keep=keep, packed=True):
                    kind = type(event)
                    if kind is rdb.Strings:
                        loaded += event.loaded
                        expired += event.expired
                    elif kind is rdb.Record:
                        if event.db >= len(staged):
                            log.warning("FATAL: Data file was created with a Redis server configured "
                                        f"to handle more than {len(staged)} databases. Exiting")
                            return None
                        data, expires, access = staged[event.db]
                        k = event.key.decode("latin-1")  # the keyspace's key form
                        if k in data:
                            log.warning(f"RDB has duplicated key '{_show(event.key)}' in DB {event.db}")
                            return None
                        if event.expire_ms is not None and event.expire_ms <= now:
                            expired += 1
                            continue
                        data[k] = values.adopt(event.value, self.config)
                        if event.expire_ms is not None:
                            expires[k] = event.expire_ms
                        raw = event.freq if lfu else event.idle
                        if raw is not None:
                            access[k] = raw
                        loaded += 1
                    elif kind is rdb.Function:
                        codes.append(event.code)
                    elif kind is rdb.SelectDB:
                        if event.index >= len(staged):
                            log.warning("FATAL: Data file was created with a Redis server configured "
                                        f"to handle more than {len(staged)} databases. Exiting")
                            return None
                    elif kind is rdb.End and not event.checksum_checked:
                        log.warning("RDB file was saved with checksum disabled: no check performed.")
        except rdb.RDBError as exc:
            log.warning(f"Error loading the RDB file {path}: {exc}")
            log.warning(_fatal_line(exc))
            return None
        except OSError as exc:
            log.warning(f"Fatal error loading the DB: {exc.strerror}. Exiting.")
            return None
        self.loaded_keys, self.expired_on_load = loaded, expired
        result = []
        shared: dict = {}  # one int object per distinct field, not one per key
        for data, expires, access in staged:
            fields = dict.fromkeys(data, ks.lru_new)  # the data's own key objects: no copies
            for k, raw in access.items():
                field = ks.loaded_field(-1, raw) if lfu else ks.loaded_field(raw, -1)
                fields[k] = shared.setdefault(field, field)
            result.append((data, expires, fields))
        log.notice(f"DB loaded from disk: {time.monotonic() - started:.3f} seconds")
        log.notice(f"Done loading RDB, keys loaded: {loaded}, keys expired: {expired}.")
        return result, codes

    def started(self) -> None:
        signal.signal(signal.SIGCHLD, self._on_sigchld)

    # -- saving ----------------------------------------------------------------------------------

    def _dbs(self) -> list:
        """What a snapshot holds: the plain dicts, with any overlay merged into them first."""
        ks = self.server.keyspace
        ks.end_overlay()
        self.merging = False
        streams.settle_streams()  # tails and groups changed since the last snapshot, serialised here
        return [(db.index, db.data, db.expires) for db in ks.dbs if db.data]

    def _access(self):
        """What a snapshot saves of the keys' access fields (call after _dbs, which settles
        them): IDLE opcodes under an LRU policy, FREQ under an LFU one, as Redis does."""
        ks = self.server.keyspace
        policy = self.config["maxmemory-policy"]
        if "lru" not in policy and "lfu" not in policy:
            return None
        ks.tick()
        fields = {db.index: db.lru for db in ks.dbs if db.data}
        if ks.lfu:
            return rdb.Access(rdb.ACCESS_FREQ, ks.lfu_minutes, ks.lfu_decay_time, fields)
        return rdb.Access(rdb.ACCESS_IDLE, ks.lru_clock, 0, fields)

    def _aux(self) -> dict:
        return {"used-mem": rss_bytes()}

    def save_command(self) -> bool:
        """The SAVE command: like Redis, rdb_saves counts every attempt, failed ones too (the
        saves of FLUSHALL and shutdown are not counted)."""
        self.saves += 1
        return self.save()

    def save(self) -> bool:
        """A synchronous save, through the same atomic path as the background save."""
        directory, name = self.config["dir"], self.config["dbfilename"]
        delay = self.config["rdb-key-save-delay"]
        progress = None
        if delay > 0:  # as in Redis, the debugging delay applies to every save, SAVE included
            def progress(keys, pause=delay / 1_000_000):
                time.sleep(pause)
        try:
            snapshot.save_atomic(directory, name, self._dbs(), compression=self.config["rdbcompression"],
                                 checksum=self.config["rdbchecksum"], aux=self._aux(),
                                 progress=progress, progress_every=1 if progress else 1024,
                                 layouts=values.LAYOUTS, functions=functions.library_codes(self.server),
                                 access=self._access())
        except snapshot.SaveError as exc:
            # As Redis's SAVE: logged and replied -ERR, but rdb_last_bgsave_status and MISCONF
            # are left alone (only a background save's failure sets them).
            log.warning(exc.line)
            return False
        log.notice("DB saved on disk")
        self.server.keyspace.dirty = 0
        self.server.lastsave = int(time.time())
        self.last_bgsave_ok = True
        self.update_misconf()
        return True

    def bgsave(self) -> bool:
        """Fork the save child. False if fork failed (logged)."""
        server = self.server
        self.last_bgsave_try = time.time()
        self.dirty_at_fork = server.keyspace.dirty
        self.saves += 1  # Redis counts a background save when it forks, whatever its outcome
        try:
            self.child = snapshot.fork_save(
                self.config["dir"], self.config["dbfilename"], self._dbs(),
                compression=self.config["rdbcompression"], checksum=self.config["rdbchecksum"],
                aux=self._aux(), log=log.log, in_child=self._in_child,
                key_save_delay_us=max(0, self.config["rdb-key-save-delay"]), layouts=values.LAYOUTS,
                functions=functions.library_codes(self.server), access=self._access())
        except OSError as exc:
            self.last_bgsave_ok = False
            self.update_misconf()
            log.warning(f"Can't save in background: fork: {exc.strerror}")
            return False
        # From now on the parent leaves the dicts the child shares alone (keyspace.py).
        server.keyspace.begin_overlay()
        server.stats.latest_fork_usec = self.child.fork_usec
        server.latency.add("fork", self.child.fork_usec // 1000)
        server.stats.total_forks += 1
        log.notice(f"Background saving started by pid {self.child.pid}")
        return True

    def _in_child(self) -> None:
        log.set_role("C")
        for sock in self.server.listening_sockets():
            try:
                os.close(sock.fileno())  # uvloop's socket wrappers have no close()
            except OSError:
                pass

    # -- the child's end -------------------------------------------------------------------------

    def _on_sigchld(self, signum, frame) -> None:
        child = self.child
        if child is not None and child.reap():
            loop = self.server.loop
            if loop is not None:
                loop.call_soon_threadsafe(self._child_done)

    def check_child(self) -> None:
        """The cron's safety net (Redis's checkChildrenDone)."""
        child = self.child
        if child is None:
            return
        child.read_reports()
        if child.reap():
            self._child_done()

    def _child_done(self) -> None:
        child = self.child
        if child is None or child.status is None:
            return
        child.read_reports()
        child.close()
        self.child = None
        ok, code, sig = snapshot.describe_status(child.status)
        now = time.time()
        self.last_bgsave_time_sec = int(now) - int(child.started)  # whole seconds, as Redis
        if child.finished_ok:  # a child that died before its last report leaves the old figure
            self.last_cow = child.cow
        if ok:
            log.notice("Background saving terminated with success")
            ks = self.server.keyspace
            ks.dirty = max(0, ks.dirty - self.dirty_at_fork)
            self.server.lastsave = int(now)
            self.last_bgsave_ok = True
        elif sig is not None:
            log.warning(f"Background saving terminated by signal {sig}")
            snapshot.remove_temp(child.directory, child.pid)
            # SIGUSR1 is how forkv itself stops a child (shutdown, FLUSHALL): not an error.
            if sig != signal.SIGUSR1:
                self.last_bgsave_ok = False
        else:
            log.warning("Background saving error")
            snapshot.remove_temp(child.directory, child.pid)
            self.last_bgsave_ok = False
        self.update_misconf()
        self._merge_overlay()

    def _merge_overlay(self) -> None:
        """The child is gone: apply the changes recorded meanwhile, a slice per loop iteration
        so that clients are served in between (lookups read through the overlay until then)."""
        loop = self.server.loop
        if loop is None:
            self.server.keyspace.end_overlay()
            return
        self.merging = True
        loop.call_soon(self._merge_step)

    def _merge_step(self) -> None:
        if not self.merging or self.child is not None:
            return  # a new save ended the overlay itself (see _dbs)
        if self.server.keyspace.merge_some(MERGE_SLICE):
            self.merging = False
        else:
            self.server.loop.call_soon(self._merge_step)

    def kill_child(self) -> None:
        child = self.child
        if child is None:
            return
        log.warning("There is a child saving an .rdb. Killing it!")
        child.kill(signal.SIGUSR1)
        try:
            os.waitpid(child.pid, 0)
        except ChildProcessError:
            pass
        child.close()
        snapshot.remove_temp(child.directory, child.pid)
        self.child = None
        self._merge_overlay()

    # -- cron ------------------------------------------------------------------------------------

    def cron(self) -> None:
        self.check_child()
        if self.child is not None:
            return
        now = time.time()
        can_retry = self.last_bgsave_ok or now - self.last_bgsave_try > BGSAVE_RETRY_DELAY
        if self.bgsave_scheduled and can_retry:
            if self.bgsave():
                self.bgsave_scheduled = False
            return
        dirty = self.server.keyspace.dirty
        elapsed = int(now) - self.server.lastsave  # whole seconds, as Redis's server.unixtime
        for seconds, changes in self.save_points():
            if dirty >= changes and elapsed > seconds and can_retry:
                log.notice(f"{changes} changes in {seconds} seconds. Saving...")
                self.bgsave()
                break

    # -- FLUSHALL and shutdown ------------------------------------------------------------------

    def after_flushall(self) -> None:
        """As Redis 7.0.15: kill a running save, and with save points write the (empty) snapshot
        at once. That save resets the dirty count like any other (Redis 7.0 no longer keeps it);
        it is not counted in rdb_saves."""
        self.kill_child()
        if self.save_points():
            self.save()

    def prepare_shutdown(self, save) -> bool:
        """Kill a running child; save when save points exist (or SAVE), unless NOSAVE."""
        self.kill_child()
        if save is False or (save is None and not self.save_points()):
            return True
        log.notice("Saving the final RDB snapshot before exiting.")
        if self.save():
            return True
        log.warning("Error trying to save the DB, can't exit.")
        return False

    # -- INFO ------------------------------------------------------------------------------------

    def info_fields(self) -> list:
        child = self.child
        now = time.time()
        if child is not None:
            child.read_reports()
        in_progress = child is not None
        total = child.keys_total if child else 0
        done = child.keys_done if child else 0
        return [
            ("loading", 0),
            ("async_loading", 0),
            ("current_cow_peak", child.cow_peak if child else 0),
            ("current_cow_size", child.cow if child else 0),
            ("current_cow_size_age", int(now - child.cow_updated) if child else 0),
            ("current_fork_perc", f"{100.0 * done / total if total else 0:.2f}"),
            ("current_save_keys_processed", done),
            ("current_save_keys_total", total),
            ("rdb_changes_since_last_save", self.server.keyspace.dirty),
            ("rdb_bgsave_in_progress", int(in_progress)),
            ("rdb_last_save_time", self.server.lastsave),
            ("rdb_last_bgsave_status", "ok" if self.last_bgsave_ok else "err"),
            ("rdb_last_bgsave_time_sec", self.last_bgsave_time_sec),
            ("rdb_current_bgsave_time_sec", int(now) - int(child.started) if child else -1),
            ("rdb_saves", self.saves),
            ("rdb_last_cow_size", self.last_cow),
            ("rdb_last_load_keys_expired", self.expired_on_load),
            ("rdb_last_load_keys_loaded", self.loaded_keys),
        ]


def _show(key: bytes) -> str:
    return key.decode("utf-8", "backslashreplace")


def _fatal_line(exc) -> str:
    kind = getattr(exc, "kind", "")
    if kind == "truncated":
        return "Short read or OOM loading DB. Unrecoverable error, aborting now."
    if kind == "checksum":
        return "Wrong RDB checksum. Aborting now."
    if kind == "magic":
        return "Wrong signature trying to load DB from file"
    if kind == "version":
        return "Can't handle RDB format version"
    return "Unrecoverable error loading the RDB file, aborting now."
